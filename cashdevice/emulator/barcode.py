"""Barcode tickets on NV200-class validators (NOTE_VALIDATOR, SMART / Spectral Payout, NV4000).

Commands (GA138; ssp-protocol.md §4.2, GA138's assignment 0x23 = GET, 0x24 = SET): GET / SET
BARCODE READER CONFIGURATION (hardware status, readers enabled 0-3, format 1 = interleaved 2
of 5, characters 6-24), GET / SET BARCODE INHIBIT (bit0 currency, bit1 barcode; 0 = enabled;
power-up 0xFE), GET BARCODE DATA (status 0 none, 1 in escrow, 2 stacked, 3 rejected, length,
ASCII).  A ticket (``Emulator.insert_ticket``) is read only while barcode reading is enabled
by both the inhibit byte and the reader configuration; it waits in escrow reporting BARCODE
TICKET VALIDATED (0xE5) until the next POLL accepts it (then BARCODE TICKET ACK 0xD1, ack-able)
or REJECT returns it.  Tickets are not money: the ledger does not see them.  Inhibit bit 0
(currency disabled: 0xFD, 0xFF) makes the unit return every note (LAST REJECT CODE 0x0C).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..events import DeviceFamily, Event
from ..ssp import Command, PollEvent, Response
from .core import OK, DeviceCore, Handler, reply

__all__ = ["BarcodeMixin", "Ticket"]

HARDWARE_BOTH = 3
_FAMILIES = frozenset({DeviceFamily.VALIDATOR, DeviceFamily.SMART_PAYOUT, DeviceFamily.NV4000})
STATUS_NONE, STATUS_ESCROW, STATUS_STACKED, STATUS_REJECTED = 0, 1, 2, 3


@dataclass
class Ticket:
    data: str
    status: int = STATUS_ESCROW
    reported: bool = False


class BarcodeMixin(DeviceCore):
    """Barcode reader configuration, inhibit and ticket escrow."""

    def power_on_state(self) -> None:
        super().power_on_state()
        self.barcode_readers = 0  # volatile: host enables
        self.barcode_format = 1
        self.barcode_chars = 18
        self.barcode_inhibit = 0xFE
        self.ticket: Ticket | None = None

    @property
    def has_barcode(self) -> bool:
        return self.family in _FAMILIES

    def _register(self, table: dict[int, Handler]) -> None:
        super()._register(table)
        if not self.has_barcode:
            return
        note_reject = table.get(Command.REJECT)
        table.update(
            {
                Command.GET_BARCODE_READER_CONFIGURATION: lambda data: self.row_reply(
                    "GET_BARCODE_READER_CONFIGURATION",
                    (HARDWARE_BOTH, self.barcode_readers, self.barcode_format, self.barcode_chars),
                ),
                Command.SET_BARCODE_READER_CONFIGURATION: self._cmd_set_config,
                Command.GET_BARCODE_INHIBIT: lambda data: self.row_reply(
                    "GET_BARCODE_INHIBIT", self.barcode_inhibit
                ),
                Command.SET_BARCODE_INHIBIT: self._cmd_set_inhibit,
                Command.GET_BARCODE_DATA: self._cmd_data,
            }
        )

        def reject(data: bytes) -> bytes:
            ticket = self.ticket
            if ticket is not None and ticket.status == STATUS_ESCROW:
                ticket.status = STATUS_REJECTED
                self.emit(Event(PollEvent.REJECTED))
                return OK
            return note_reject(data) if note_reject else reply(Response.COMMAND_CANNOT_BE_PROCESSED)

        table[Command.REJECT] = reject
        note_hold = table.get(Command.HOLD)

        def hold(data: bytes) -> bytes:
            # GA138 HOLD: keeps the item in escrow (a POLL would accept it); a ticket as a note
            if self.ticket_in_path():
                return OK
            return note_hold(data) if note_hold else reply(Response.COMMAND_NOT_KNOWN)

        table[Command.HOLD] = hold

    def ticket_in_path(self) -> bool:
        return self.ticket is not None and self.ticket.status == STATUS_ESCROW

    def currency_enabled(self) -> bool:
        # GA138 GET / SET BARCODE INHIBIT: bit 0 "currency read enable (0 = enabled)"; GA973: it says
        # "whether the validator can accept only currency, only barcodes, both or neither"
        return not (self.has_barcode and self.barcode_inhibit & 0x01)

    def barcode_enabled(self) -> bool:
        return bool(self.barcode_readers) and not self.barcode_inhibit & 0x02

    def insert_ticket(self, data: str) -> bool:
        """A customer inserts a barcode ticket; False when the unit does not read it now."""
        # one note path: not while a note or another ticket is in it, nor while the unit takes no
        # item (disabled, jammed, cashbox out, stacker full, paying, an event awaiting its ACK)
        if not self.has_barcode or not self.barcode_enabled() or not self.accepting_notes():
            return False
        self.ticket = Ticket(data)
        return True

    def status_events(self) -> list[Event]:
        ticket = self.ticket
        out = [Event(PollEvent.BARCODE_TICKET_VALIDATED)] if ticket and ticket.status == STATUS_ESCROW else []
        return out + super().status_events()

    def after_poll(self, reported: list[Event]) -> None:
        super().after_poll(reported)
        if self.ticket is not None and any(e.code == PollEvent.BARCODE_TICKET_VALIDATED for e in reported):
            self.ticket.reported = True

    def before_poll(self) -> None:
        super().before_poll()
        ticket = self.ticket
        if ticket is not None and ticket.status == STATUS_ESCROW and ticket.reported:
            ticket.status = STATUS_STACKED
            self.emit(Event(PollEvent.BARCODE_TICKET_ACK))

    def _cmd_set_config(self, data: bytes) -> bytes:
        args = self.row_args("SET_BARCODE_READER_CONFIGURATION", data)  # readers, format, characters
        if args is None or len(args) != 3:
            return reply(Response.WRONG_NO_PARAMETERS)
        readers, fmt, chars = args
        if readers > 3 or fmt > 1 or not 6 <= chars <= 24:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        self.barcode_readers, self.barcode_format, self.barcode_chars = readers, fmt, chars
        return OK

    def _cmd_set_inhibit(self, data: bytes) -> bytes:
        args = self.row_args("SET_BARCODE_INHIBIT", data)
        if args is None or len(args) != 1:
            return reply(Response.WRONG_NO_PARAMETERS)
        self.barcode_inhibit = args[0] | 0xFC
        return OK

    def _cmd_data(self, data: bytes) -> bytes:
        ticket = self.ticket
        if ticket is None:
            return self.row_reply("GET_BARCODE_DATA", (STATUS_NONE, ""))
        return self.row_reply("GET_BARCODE_DATA", (ticket.status, ticket.data))
