"""NV4000 replenishment cassette: REPLENISH and GET RC MODE, with the REPLENISH_* events.

ITL has not published these bytes (ssp-coin-nv4000.md §2): the commands are the unverified
rows NV4000_REPLENISH (``6C`` + u32 notes) and NV4000_GET_RC_MODE (``6D`` -> mode byte) of
:mod:`cashdevice.commands`, the events the test-only codes of
:data:`cashdevice.events.UNPUBLISHED_EVENTS`.  Behaviour (ours): REPLENISH n moves n notes
from the cassette, one per ``payout_step``, into the recyclers (REPLENISH_STORED with the
note's value) or, when the recycler is full, to the RC tray (REPLENISH_SENT_TO_RC_TRAY).  It is
refused with ``F5 01`` when the cassette holds fewer than n notes or is removed, ``F5 03`` while
a payout or replenish runs.  Notes stored count as ``loaded`` in the ledger (operator-sourced).
"""

from __future__ import annotations

from ..events import UNPUBLISHED_EVENTS, Amount, DeviceFamily, Event
from ..ssp import Response
from .core import OK, DeviceCore, Handler, reply
from .datasets import UNVERIFIED_COMMANDS, Denomination

__all__ = ["CassetteMixin"]

F5 = Response.COMMAND_CANNOT_BE_PROCESSED


class CassetteMixin(DeviceCore):
    """The NV4000's replenishment cassette (NV4000 only)."""

    def power_on_state(self) -> None:
        super().power_on_state()
        self.replenish_left = 0
        self.replenish_due = 0.0

    def _register(self, table: dict[int, Handler]) -> None:
        super()._register(table)
        if self.family != DeviceFamily.NV4000:
            return
        u = UNVERIFIED_COMMANDS
        table[u["NV4000_REPLENISH"][0]] = self._cmd_replenish
        table[u["NV4000_GET_RC_MODE"][0]] = lambda data: self.row_reply(
            "NV4000_GET_RC_MODE", self.persistent.rc_mode
        )

    def payout_busy(self) -> bool:
        return super().payout_busy() or self.replenish_left > 0

    # ---------------------------------------------------------------------- operator

    def load_cassette(self, d: Denomination, count: int) -> None:
        cassette = self.persistent.cassette
        cassette[d] = cassette.get(d, 0) + count

    def remove_cassette(self) -> None:
        self.persistent.cassette_present = False
        self.emit(Event(UNPUBLISHED_EVENTS["REPLENISH_CASSETTE_REMOVED"]))

    def replace_cassette(self) -> None:
        self.persistent.cassette_present = True
        self.emit(Event(UNPUBLISHED_EVENTS["REPLENISH_CASSETTE_REPLACED"]))

    # ---------------------------------------------------------------------- command and mechanics

    def _cmd_replenish(self, data: bytes) -> bytes:
        args = self.row_args("NV4000_REPLENISH", data)  # u32 notes
        if args is None:
            return reply(Response.WRONG_NO_PARAMETERS)
        count = args[0]
        if count == 0:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        if self.payout_busy():
            return reply(F5, 3)
        if not self.persistent.cassette_present or sum(self.persistent.cassette.values()) < count:
            return reply(F5, 1)
        self.replenish_left = count
        self.replenish_due = self.clock() + self.timing.payout_step
        return OK

    def tick(self, now: float) -> None:
        super().tick(now)
        if not self.replenish_left or now < self.replenish_due:
            return
        cassette = self.persistent.cassette
        d = min(k for k, n in cassette.items() if n > 0)
        cassette[d] -= 1
        amount = (Amount(d.value, d.country),)
        if self.capacity_left(d) > 0:
            self.load(d, 1)
            self.emit(Event(UNPUBLISHED_EVENTS["REPLENISH_STORED"], amounts=amount))
        else:
            self.emit(Event(UNPUBLISHED_EVENTS["REPLENISH_SENT_TO_RC_TRAY"], amounts=amount))
        self.replenish_left -= 1
        self.replenish_due = now + self.timing.payout_step
