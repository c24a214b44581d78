"""NV11 (note float) commands: GET NOTE POSITIONS, PAYOUT NOTE, STACK NOTE, SET VALUE
REPORTING TYPE (GA138 §NV11; ssp-protocol.md §4.3).  The float is last-in first-out:
``persistent.float_order`` keeps the stored notes, the last entry comes out next."""

from __future__ import annotations

from ..events import DeviceFamily, Event
from ..ssp import Command, PollEvent, Response
from .core import OK, Handler, reply
from .payout import PayoutMixin

__all__ = ["NV11Mixin"]

F5 = Response.COMMAND_CANNOT_BE_PROCESSED
EMPTY, BUSY, DISABLED = 2, 3, 4


class NV11Mixin(PayoutMixin):
    """NV11-only commands."""

    def power_on_state(self) -> None:
        super().power_on_state()
        self.report_by_channel = False

    def _register(self, table: dict[int, Handler]) -> None:
        super()._register(table)
        if self.family != DeviceFamily.NV11:
            return
        table.update(
            {
                Command.GET_NOTE_POSITIONS: self._cmd_positions,
                Command.PAYOUT_NOTE: self._cmd_payout_note,
                Command.STACK_NOTE: self._cmd_stack_note,
                Command.SET_VALUE_REPORTING_TYPE: self._cmd_reporting,
            }
        )

    def _nv11_refusal(self) -> int | None:
        if self.payout_busy() or getattr(self, "note", None) is not None:
            return BUSY
        if not self.payout_enabled:
            return DISABLED
        if not self.persistent.float_order:
            return EMPTY
        return None

    def _cmd_positions(self, data: bytes) -> bytes:
        order = self.persistent.float_order
        if self.report_by_channel:
            return OK + bytes((len(order),)) + bytes(self.channel_of(d) for d in order)
        return OK + bytes((len(order),)) + b"".join(d.value.to_bytes(4, "little") for d in order)

    def _cmd_payout_note(self, data: bytes) -> bytes:
        refusal = self._nv11_refusal()
        if refusal is not None:
            return reply(F5, refusal)
        d = self.persistent.float_order[-1]
        self.start_job("payout", d.country, [d], d.value)
        return OK

    def _cmd_stack_note(self, data: bytes) -> bytes:
        refusal = self._nv11_refusal()
        if refusal is not None:
            return reply(F5, refusal)
        d = self.persistent.float_order[-1]
        self.take_from_store(d)
        box = self.persistent.cashbox
        box[d] = box.get(d, 0) + 1
        self.ledger.record("transferred", d, detail="STACK NOTE")
        self.count("transferred")
        self.emit(Event(PollEvent.NOTE_TRANSFERRED_TO_STACKER, amounts=self.amounts(d.value, d.country)))
        return OK

    def _cmd_reporting(self, data: bytes) -> bytes:
        if len(data) != 2 or data[1] > 1:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        self.report_by_channel = bool(data[1])
        return OK
