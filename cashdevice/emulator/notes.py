"""Note path: reading -> escrow -> accept / hold / reject -> stacking -> credit -> stacked / stored.

GA973 §8 flows (ssp-protocol.md §5.5): ``EF 00`` (reading, repeats) -> ``EF ch`` (escrow;
the next POLL accepts, HOLD keeps, REJECT returns) -> ``CC`` (repeats) -> ``EE ch`` + ``CC``
-> ``EB`` (or ``DB`` when routed to the recycler).  Rejections: ``ED`` (repeats) -> ``EC``
and LAST REJECT CODE.  Escrow is rejected with code 0x13 when no command at all arrives for
``escrow_timeout``; any command but POLL restarts that timer.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..events import Event
from ..models import UnitType
from ..ssp import Command, PollEvent, Response
from .core import OK, DeviceCore, Handler, reply
from .datasets import NOTES, Denomination

__all__ = ["NoteInPath", "NoteMixin", "RejectCode"]


class RejectCode:
    """LAST REJECT CODE values used by the emulator (ssp-protocol.md §6.1)."""

    ACCEPTED = 0x00
    AVERAGE_FAIL = 0x02
    CHANNEL_INHIBITED = 0x06
    REJECTED_BY_HOST = 0x08
    DISABLED_BY_HOST = 0x0C
    FRAUD = 0x0F
    ESCROW_TIMEOUT = 0x13
    UNABLE_TO_STACK = 0x1D


READING, ESCROW, STACKING, CREDITED, REJECTING, JAMMED = (
    "reading",
    "escrow",
    "stacking",
    "credited",
    "rejecting",
    "jammed",
)


@dataclass
class NoteInPath:
    denomination: Denomination
    stage: str
    due: float
    reject_code: int = 0
    fraud: bool = False
    escrow_reported: bool = False
    escrow_since: float = 0.0
    credited: bool = False
    fraud_stacking: bool = False  # GA973 FRAUD ATTEMPT flow: ``E6 ch CC`` at the credit point, then ``EB``


class NoteMixin(DeviceCore):
    """Validator behaviour (all note models)."""

    def power_on_state(self) -> None:
        super().power_on_state()
        self.inhibits = 0  # bit n-1 set = channel n accepted; all inhibited at power-up
        self.note: NoteInPath | None = None
        self.last_reject = RejectCode.ACCEPTED
        self.jam: str | None = None  # "safe" / "unsafe"
        self.cashbox_present = True
        self.note_path_open = False
        self.stacker_full = False

    def _register(self, table: dict[int, Handler]) -> None:
        super()._register(table)
        if self.spec.kind != NOTES:
            return
        table.update(
            {
                Command.SET_INHIBITS: self._cmd_inhibits,
                Command.DISPLAY_ON: lambda data: OK,
                Command.DISPLAY_OFF: lambda data: OK,
                Command.REJECT: self._cmd_reject,
                Command.UNIT_DATA: self._cmd_unit_data,
                Command.CHANNEL_VALUE_REQUEST: self._cmd_channel_values,
                Command.CHANNEL_SECURITY_DATA: lambda data: (
                    OK + bytes((len(self.channels),)) + bytes((2,) * len(self.channels))
                ),
                Command.LAST_REJECT_CODE: lambda data: self.row_reply("LAST_REJECT_CODE", self.last_reject),
                Command.HOLD: self._cmd_hold,
                Command.CONFIGURE_BEZEL: self._cmd_bezel,
            }
        )

    # ---------------------------------------------------------------------- physical actions

    def accepting_notes(self) -> bool:
        return (
            self.enabled
            and self.note is None
            and not self.ticket_in_path()
            and self.jam is None
            and self.cashbox_present
            and not self.note_path_open
            and not self.stacker_full
            and not self.payout_busy()
            and not self.awaiting_ack()
        )

    def insert_note(self, value: int, country: str | None, reject_code: int | None, fraud: bool) -> bool:
        d = Denomination(value, country or self.currencies[0])
        if not self.accepting_notes():
            self.ledger.record("refused", d, detail="unit not accepting")
            return False
        self.ledger.record("inserted", d)
        code = 0
        if reject_code is not None:
            code = reject_code
        elif d not in self.channels:
            code = RejectCode.AVERAGE_FAIL
        elif not self.inhibits & (1 << (self.channel_of(d) - 1)):
            code = RejectCode.CHANNEL_INHIBITED
        elif not self.currency_enabled():
            code = RejectCode.DISABLED_BY_HOST
        self.note = NoteInPath(d, READING, self.clock() + self.timing.read_time, code, fraud)
        return True

    def currency_enabled(self) -> bool:
        """Hook: False while the host has disabled currency reading (SET BARCODE INHIBIT bit 0 on
        barcode models: the unit then validates no note, it returns it)."""
        return True

    def set_jam(self, kind: str) -> None:
        if kind not in ("safe", "unsafe"):
            raise ValueError("jam kind is 'safe' or 'unsafe'")
        self.jam = kind
        if self.note is not None:
            self.note.stage = JAMMED
        self.enabled = False

    def clear_jam(self) -> None:
        """The operator clears the jam: a note not yet credited goes back to the customer,
        a credited one into the cashbox."""
        self.jam = None
        note, self.note = self.note, None
        if note is None:
            return
        if note.credited:
            self._land(note.denomination, to_store=False)
        else:
            self.ledger.record("rejected", note.denomination, detail="jam cleared")
            self.emit(
                Event(PollEvent.NOTE_CLEARED_FROM_FRONT, channel=self._channel_or_zero(note.denomination))
            )

    def enable_refused(self) -> bool:
        return self.jam is not None or super().enable_refused()

    def power_cut(self) -> None:
        super().power_cut()
        note, self.note = self.note, None
        if note is None:
            return
        channel = self._channel_or_zero(note.denomination)
        d = note.denomination
        if note.credited and self.route_to_store(d):
            # finished its way into the recycler: NOTE INTO STORE AT RESET (v8)
            self.store[d] = self.store.get(d, 0) + 1
            self.persistent.float_order.append(d)
            self.ledger.record("stored", d, detail="power loss after credit")
            self.persistent.reset_events.append(
                Event(PollEvent.NOTE_INTO_STORE_AT_RESET, amounts=self.amounts(d.value, d.country))
            )
        elif note.credited:
            box = self.persistent.cashbox
            box[d] = box.get(d, 0) + 1
            self.ledger.record("stacked", d, detail="power loss after credit")
            self.persistent.reset_events.append(Event(PollEvent.NOTE_CLEARED_INTO_CASHBOX, channel=channel))
        else:
            self.ledger.record("rejected", note.denomination, detail="power loss before credit")
            self.persistent.reset_events.append(Event(PollEvent.NOTE_CLEARED_FROM_FRONT, channel=channel))

    def remove_cashbox(self) -> None:
        self.cashbox_present = False

    def replace_cashbox(self, emptied: bool) -> None:
        if emptied:
            for d, n in list(self.persistent.cashbox.items()):
                self.ledger.record("collected", d, n)
            self.persistent.cashbox.clear()
            self.stacker_full = False
        if not self.cashbox_present:
            self.cashbox_present = True
            self.emit(Event(PollEvent.CASHBOX_REPLACED))

    # ---------------------------------------------------------------------- events

    def _channel_or_zero(self, d: Denomination) -> int:
        return self.channel_of(d) if d in self.channels else 0

    def status_events(self) -> list[Event]:
        out: list[Event] = []
        note = self.note
        if self.jam is not None:
            out.append(Event(PollEvent.SAFE_JAM if self.jam == "safe" else PollEvent.UNSAFE_JAM))
        elif note is not None:
            if note.stage == READING:
                out.append(Event(PollEvent.READ, channel=0))
            elif note.stage == ESCROW:
                out.append(Event(PollEvent.READ, channel=self.channel_of(note.denomination)))
            elif note.stage in (STACKING, CREDITED):
                out.append(Event(PollEvent.STACKING))
            elif note.stage == REJECTING:
                out.append(Event(PollEvent.REJECTING))
        if not self.cashbox_present:
            out.append(Event(PollEvent.CASHBOX_REMOVED))
        if self.note_path_open:
            out.append(Event(PollEvent.NOTE_PATH_OPEN))
        return out + super().status_events()

    def on_command(self, code: int) -> None:
        super().on_command(code)
        note = self.note
        if note is not None and note.stage == ESCROW and code not in (Command.POLL, Command.POLL_WITH_ACK):
            note.escrow_since = self.clock()

    def before_poll(self) -> None:
        super().before_poll()
        note = self.note
        if note is not None and note.stage == ESCROW and note.escrow_reported:
            note.stage = STACKING
            note.due = self.clock() + self.timing.stack_time / 2

    def after_poll(self, reported: list[Event]) -> None:
        super().after_poll(reported)
        note = self.note
        if note is not None and note.stage == ESCROW:
            if any(e.code == PollEvent.READ and e.channel for e in reported):
                note.escrow_reported = True

    # ---------------------------------------------------------------------- mechanics

    def tick(self, now: float) -> None:
        super().tick(now)
        note = self.note
        if note is None or note.stage == JAMMED or self.awaiting_ack():
            return
        if note.stage == ESCROW:
            if now - note.escrow_since > self.timing.escrow_timeout:
                self._start_reject(note, RejectCode.ESCROW_TIMEOUT, now)
            return
        if now < note.due:
            return
        if note.stage == READING:
            if note.fraud:
                self.emit(Event(PollEvent.FRAUD_ATTEMPT, channel=self._channel_or_zero(note.denomination)))
                self.count("fraud")
                self._start_reject(note, note.reject_code or RejectCode.FRAUD, now)
            elif note.reject_code:
                self._start_reject(note, note.reject_code, now)
            else:
                note.stage = ESCROW
                note.escrow_since = now
        elif note.stage == REJECTING:
            self.last_reject = note.reject_code
            self.ledger.record("rejected", note.denomination, detail=f"reject code 0x{note.reject_code:02X}")
            self.count("rejected")
            self.emit(Event(PollEvent.REJECTED))
            self.note = None
        elif note.stage == STACKING and note.fraud_stacking:
            # GA973 FRAUD ATTEMPT: "During the note transport and stacking process if the validator
            # detects a potential fraud event no credit event will be given, instead 0xEB will be
            # reported": FRAUD ATTEMPT with the channel, then STACKED; the note is in the cashbox
            note.stage = CREDITED
            note.due = now + self.timing.stack_time / 2
            self.count("fraud")
            self.emit(Event(PollEvent.FRAUD_ATTEMPT, channel=self.channel_of(note.denomination)))
        elif note.stage == STACKING:
            note.stage = CREDITED
            note.credited = True
            note.due = now + self.timing.stack_time / 2
            self.last_reject = RejectCode.ACCEPTED
            self.ledger.record("credited", note.denomination)
            self.emit(Event(PollEvent.CREDIT, channel=self.channel_of(note.denomination)))
        elif note.stage == CREDITED:
            self.note = None
            to_store = not note.fraud_stacking and self.route_to_store(note.denomination)
            self._land(note.denomination, to_store=to_store)

    def _start_reject(self, note: NoteInPath, code: int, now: float) -> None:
        note.stage = REJECTING
        note.reject_code = code
        note.due = now + self.timing.reject_time

    def _land(self, d: Denomination, *, to_store: bool) -> None:
        if to_store:
            self.store_note(d)
            return
        box = self.persistent.cashbox
        box[d] = box.get(d, 0) + 1
        self.ledger.record("stacked", d)
        self.count("stacked")
        self.emit(Event(PollEvent.STACKED))
        if sum(box.values()) >= self.spec.cashbox_capacity:
            self.stacker_full = True
            self.emit(Event(PollEvent.STACKER_FULL))

    # ---------------------------------------------------------------------- commands

    def _cmd_inhibits(self, data: bytes) -> bytes:
        args = self.row_args("SET_INHIBITS", data)  # mask, its length in bytes
        if args is None or args[1] > 3:
            return reply(Response.WRONG_NO_PARAMETERS)
        self.inhibits = args[0]
        self._channel_disable_check()
        return OK

    def _cmd_enable(self, data: bytes) -> bytes:
        answer = super()._cmd_enable(data)
        if answer == OK:
            self._channel_disable_check()
        return answer

    def _channel_disable_check(self) -> None:
        """CHANNEL DISABLE (v7): the unit is enabled but every channel is inhibited."""
        if self.spec.kind == NOTES and self.enabled and not self.inhibits & ((1 << len(self.channels)) - 1):
            self.emit(Event(PollEvent.CHANNEL_DISABLE))

    def _cmd_reject(self, data: bytes) -> bytes:
        note = self.note
        if note is None or note.stage != ESCROW:
            return reply(Response.COMMAND_CANNOT_BE_PROCESSED)
        self._start_reject(note, RejectCode.REJECTED_BY_HOST, self.clock())
        return OK

    def _cmd_hold(self, data: bytes) -> bytes:
        note = self.note
        if note is None or note.stage != ESCROW:
            return reply(Response.COMMAND_CANNOT_BE_PROCESSED)
        note.escrow_since = self.clock()
        return OK

    def _cmd_bezel(self, data: bytes) -> bytes:
        if self.spec.unit_type == UnitType.NV11:  # no RGB bezel
            return reply(Response.COMMAND_NOT_KNOWN)
        if len(data) not in (5, 6):
            return reply(Response.WRONG_NO_PARAMETERS)
        return OK

    def _cmd_unit_data(self, data: bytes) -> bytes:
        majors = [d.value // 100 for d in self.channels]
        multiplier = 1 if all(v <= 255 for v in majors) else 0
        return (
            OK
            + bytes((self.spec.unit_type,))
            + self.spec.firmware_short.encode("ascii")
            + self.currencies[0].encode("ascii")
            + multiplier.to_bytes(3, "big")
            + bytes((self.level,))
        )

    def _cmd_channel_values(self, data: bytes) -> bytes:
        majors = [d.value // 100 for d in self.channels]
        n = bytes((len(majors),))
        if self.level < 6:
            return OK + n + bytes(min(v, 255) for v in majors)
        small = all(v <= 255 for v in majors)
        legacy = bytes(majors) if small else bytes(len(majors))
        countries = b"".join(d.country.encode("ascii") for d in self.channels)
        return OK + n + legacy + countries + b"".join(v.to_bytes(4, "little") for v in majors)
