"""Barcode tickets on NV200-class validators (GA138 0x23-0x27, BARCODE TICKET VALIDATED 0xE5,
BARCODE TICKET ACK 0xD1) under faults.  Synchronised on events and emulator hooks, never bare sleeps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from device_helpers import Recorder, open_emulated

from cashdevice import DeviceState
from cashdevice.emulator import Emulator

Make = Callable[..., Any]
TICKET = "123456789012345678"


def enable_tickets(device: Any) -> None:
    assert device.SetBarcodeReaderConfiguration(3, 1, 18)
    assert device.SetBarcodeInhibit(0xFC)


class SilenceAfterTicket:
    """From the reply that carries the ticket's BARCODE TICKET VALIDATED on, no reply gets back
    (the cable out, the port open) until :meth:`end`."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.original = emu.engine.reply_filter
        self.carried = threading.Event()
        self.ended = threading.Event()
        emu.engine.reply_filter = self._filter

    def _filter(self, code: int) -> bool:
        if not self.ended.is_set():
            ticket = self.emu.device.ticket
            if ticket is not None and ticket.reported:
                self.carried.set()
                return False
        return self.original(code) if self.original is not None else True

    def end(self) -> None:
        self.ended.set()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("model", ["NOTE_VALIDATOR", "SPECTRAL_PAYOUT", "NV4000"])
def test_a_ticket_whose_validated_reply_is_lost_is_still_reported(
    emulators: Make, devices: Make, model: str
) -> None:
    """The reply that carries BARCODE TICKET VALIDATED is lost (every retry); the host gives the
    session up and reconnects: its resent poll gets the cached E5, the start-up poll then the
    ticket's BARCODE TICKET ACK (the unit stacked it at that poll).  The application must learn of
    the ticket: at least the BAR_CODE_TICKET_ACKNOWLEDGE state (the ticket was taken)."""
    emu, device, rec = open_emulated(emulators, devices, model)
    enable_tickets(device)
    silence = SilenceAfterTicket(emu)
    assert emu.insert_ticket(TICKET)
    assert silence.carried.wait(5), "no poll carried the ticket"
    rec.wait_state("NOT_CONNECTED", timeout=10)
    silence.end()
    rec.wait_for(
        lambda: emu.device.ticket is not None and emu.device.ticket.status == 2, what="the ticket stacked"
    )
    rec.wait_for(lambda: device.deviceState == DeviceState.IDLE and rec.states()[-1] == "IDLE", what="IDLE")
    states = rec.states()
    after = states[states.index("NOT_CONNECTED") :]
    ticket = [s for s in states if s.startswith("BAR_CODE_TICKET")]
    assert ticket == ["BAR_CODE_TICKET_VALIDATED", "BAR_CODE_TICKET_ACKNOWLEDGE"], (
        f"the ticket the unit took was not reported once: {after}"
    )
    assert after.index("BAR_CODE_TICKET_VALIDATED") < after.index("BAR_CODE_TICKET_ACKNOWLEDGE")
    assert device.GetBarcodeData()
    assert (device.ticketStatus, device.barcode_ascii_data) == ("Ticket stacked", TICKET)
    assert emu.ledger.credited_total() == 0 and rec.cash() == []  # a ticket is not money to the unit


@pytest.mark.timeout(60)
def test_a_replenish_cut_by_a_power_loss_ends_and_payouts_work_again(emulators: Make, devices: Make) -> None:
    """NV4000 Replenish(3); the power goes after the first note was stored.  The unit forgets the
    job (its REPLENISH events never come).  The host must not keep the REPLENISH transaction open for
    ever: it ends (as other transactions cut by a reset do), and a payout is accepted again."""
    from cashdevice import CashSystemOpenResult, DeviceModel
    from cashdevice import DispenseTransactionRequestResult as DTRR

    emu = emulators("NV4000")
    emu.load_cassette(1000, 3)
    d = devices(allow_unverified=True)
    rec = Recorder(d)
    stored: list[Any] = []
    d.ReplenishEvent.connect(lambda s, e: stored.append(e))
    assert d.Open(emu.url, 0, DeviceModel.NV4000) == CashSystemOpenResult.OK
    rec.wait_state("IDLE")
    assert d.Replenish(3) == DTRR.OK
    rec.wait_for(lambda: len(stored) >= 1, what="first note replenished")
    emu.power_cycle()
    rec.wait_for(lambda: rec.states().count("CONNECTED") >= 2, what="reconnected")
    rec.wait_for(
        lambda: [e.state.name for e in rec.of("DispenserTransactionEvent")][-1:] != ["IN_PROGRESS"],
        timeout=5,
        what="the replenish ended",
    )
    ends = [(e.state.name, e.transactionType.name) for e in rec.of("DispenserTransactionEvent")]
    assert ends == [("IN_PROGRESS", "REPLENISH"), ("ERROR", "REPLENISH")]
    # the host reported no note the unit did not move (one moved just before the cut may have had its
    # event lost with the power), and its levels, read at the end, hold every note the unit moved
    moved = [e for e in stored if e.eventType.name == "REPLENISH_STORED"]
    loaded = emu.ledger.count("loaded")
    assert 1 <= len(moved) <= loaded < 3
    rec.wait_for(lambda: d.GetStoredValue("EUR") == 1000 * loaded, what="levels refreshed")
    assert d.DispenseValueSingleCurrency(1000) == DTRR.OK
    rec.wait_cash("NOTE_IN_BEZEL_HOLD")
    assert emu.take_notes() == 1
    rec.wait_for(
        lambda: [e.state.name for e in rec.of("DispenserTransactionEvent")][-1] == "COMPLETED",
        what="the payout completed",
    )
    assert emu.ledger.dispensed_total("EUR") == 1000
    emu.ledger.check()


@pytest.mark.timeout(60)
def test_a_ticket_taken_in_the_first_poll_after_an_unplug_is_reported(emulators: Make, devices: Make) -> None:
    """The host saw BARCODE TICKET VALIDATED; the cable comes out before the next poll (the unit
    keeps the ticket in escrow).  Back on line, the first poll the unit gets accepts the ticket:
    its BARCODE TICKET ACK must reach the application (the state), once."""
    emu, device, rec = open_emulated(emulators, devices, "NOTE_VALIDATOR")
    enable_tickets(device)
    unplugged = threading.Event()

    def on_state(sender: Any, e: Any) -> None:
        if e.state == DeviceState.BAR_CODE_TICKET_VALIDATED and not unplugged.is_set():
            emu.unplug()  # (on the poll thread, before its next poll)
            unplugged.set()

    device.DeviceStateChangedEvent.connect(on_state)
    assert emu.insert_ticket(TICKET)
    assert unplugged.wait(5)
    rec.wait_state("NOT_CONNECTED")
    ticket = emu.device.ticket
    assert ticket is not None and ticket.status == 1  # still in escrow: no poll reached the unit
    emu.replug()
    rec.wait_for(lambda: ticket.status == 2, what="the ticket stacked")
    rec.wait_for(lambda: rec.states()[-1] == "IDLE", what="IDLE")
    states = [s for s in rec.states() if s.startswith("BAR_CODE_TICKET")]
    assert states == ["BAR_CODE_TICKET_VALIDATED", "BAR_CODE_TICKET_ACKNOWLEDGE"], rec.summary()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("inhibit", [0xFD, 0xFF])
def test_a_note_is_not_credited_while_the_host_has_disabled_currency(
    emulators: Make, devices: Make, inhibit: int
) -> None:
    """SetBarcodeInhibit(0xFD) "Barcode Enabled and Currency Disabled" (seed L13431) / 0xFF "Both
    Currency and Barcode Disabled": GA138 GET / SET BARCODE INHIBIT bit 0 is "currency read enable
    (0 = enabled)" (GA973: the unit "can accept only currency, only barcodes, both or neither").  A
    note offered then must be returned, not credited; with currency enabled again it is credited."""
    emu, device, rec = open_emulated(emulators, devices, "NOTE_VALIDATOR")
    value = device.currencyAssignment[0].Value
    assert device.SetBarcodeInhibit(inhibit)
    texts = {0xFD: "Barcode Enabled and Currency Disabled", 0xFF: "Both Currency and Barcode Disabled"}
    assert device.GetBarcodeInhibit() and device.barCodeInhibit == texts[inhibit]
    assert emu.insert_note(value, wait=5)
    rec.wait_cash("REJECTED")
    assert emu.ledger.credited_total() == 0
    assert [c for c in rec.cash() if c[0] in ("STACKED", "STORED")] == []
    assert device.SetBarcodeInhibit(0xFE)
    assert emu.insert_note(value, wait=5)
    rec.wait_cash("STACKED")
    assert emu.ledger.credited_total() == value
    assert [c[:2] for c in rec.cash() if c[0] in ("STACKED", "STORED")] == [("STACKED", value)]
    emu.ledger.check()


@pytest.mark.timeout(60)
def test_one_note_path_a_ticket_and_a_note_are_not_in_it_together(emulators: Make, devices: Make) -> None:
    """The emulated validator has one note path: a note is not drawn in while a ticket waits in
    escrow, nor a ticket while a note is on its way (nor while the cashbox is out).  The note then
    offered patiently is credited once, after the ticket was taken."""
    emu, device, rec = open_emulated(emulators, devices, "NOTE_VALIDATOR")
    enable_tickets(device)
    value = device.currencyAssignment[0].Value
    with emu._lock:  # (atomic: no poll between the ticket and the note)
        assert emu.device.insert_ticket(TICKET)
        assert not emu.device.accepting_notes()
        assert not emu.device.insert_ticket("999999999999999999")
    assert emu.insert_note(value, wait=5)  # taken only once the ticket has gone
    rec.wait_cash("STACKED")
    ticket = emu.device.ticket
    assert ticket is not None and ticket.status == 2 and ticket.data == TICKET
    with emu._lock:
        assert emu.insert_note(value)
        assert not emu.device.insert_ticket("999999999999999999")  # the note is in the path
    rec.wait_cash("STACKED", 2)
    emu.remove_cashbox()
    assert not emu.insert_ticket("999999999999999999")
    assert emu.ledger.credited_total() == 2 * value
    assert [c[:2] for c in rec.cash() if c[0] == "STACKED"] == [("STACKED", value)] * 2
    emu.ledger.check()


@pytest.mark.timeout(60)
def test_a_ticket_can_be_returned_from_escrow(emulators: Make, devices: Make) -> None:
    """GA138 BARCODE TICKET VALIDATED: "The host can send the Get Barcode Data command to retrieve the
    number of the ticket scanned. The host can then send a Reject or Poll command to reject or accept
    the ticket as required."  An application that finds the ticket invalid (its receiver of the
    validated state, before the next poll) returns it with ReturnFromEscrow: True, the unit gives
    it back (status "Ticket rejected"), no BARCODE TICKET ACK."""
    emu, device, rec = open_emulated(emulators, devices, "NOTE_VALIDATOR")
    enable_tickets(device)
    seen: list[tuple[str | None, str | None, bool]] = []

    def on_state(sender: Any, e: Any) -> None:
        if e.state == DeviceState.BAR_CODE_TICKET_VALIDATED:
            assert device.GetBarcodeData()
            seen.append((device.ticketStatus, device.barcode_ascii_data, device.ReturnFromEscrow()))

    device.DeviceStateChangedEvent.connect(on_state)
    assert emu.insert_ticket(TICKET)
    rec.wait_for(lambda: bool(seen), what="the validated state")
    assert seen == [("Ticket in escrow", TICKET, True)]
    ticket = emu.device.ticket
    assert ticket is not None
    rec.wait_for(lambda: ticket.status == 3, what="the ticket returned")
    rec.wait_for(lambda: rec.states()[-1] == "IDLE", what="IDLE")
    assert "BAR_CODE_TICKET_ACKNOWLEDGE" not in rec.states()
    assert device.GetBarcodeData() and device.ticketStatus == "Ticket rejected"
    assert emu.ledger.credited_total() == 0


@pytest.mark.timeout(60)
def test_with_auto_accept_off_a_ticket_waits_in_escrow_for_the_application(
    emulators: Make, devices: Make
) -> None:
    """SetAutoAccept(False): a note in escrow is held until AcceptFromEscrow / ReturnFromEscrow.  A
    ticket in escrow (GA138: accepted by the next POLL, returned by REJECT) must wait for the
    application as well, not be taken by the next poll: held while the host polls on, then
    accepted by AcceptFromEscrow (True), reported BARCODE TICKET ACK once."""
    from device_helpers import wire

    emu, device, rec = open_emulated(emulators, devices, "NOTE_VALIDATOR")
    enable_tickets(device)
    device.SetAutoAccept(False)
    with wire(emu) as sent:
        assert emu.insert_ticket(TICKET)
        ticket = emu.device.ticket
        assert ticket is not None
        rec.wait_state("BAR_CODE_TICKET_VALIDATED")
        # the host keeps talking to the unit (at least five more commands) and the ticket stays
        rec.wait_for(lambda: len(sent) >= 5 or ticket.status != 1, what="the host goes on")
    assert ticket.status == 1, "the ticket was taken without the application"
    assert "BAR_CODE_TICKET_ACKNOWLEDGE" not in rec.states()
    assert device.AcceptFromEscrow()
    rec.wait_for(lambda: ticket.status == 2, what="the ticket stacked")
    rec.wait_for(lambda: rec.states()[-1] == "IDLE", what="IDLE")
    states = [s for s in rec.states() if s.startswith("BAR_CODE_TICKET")]
    assert states == ["BAR_CODE_TICKET_VALIDATED", "BAR_CODE_TICKET_ACKNOWLEDGE"]
    assert not device.AcceptFromEscrow() and not device.ReturnFromEscrow()  # nothing waits now


@pytest.mark.parametrize("data", ["12345é", "9" * 300, "12345", "ABCDEF"])
def test_the_emulator_refuses_a_ticket_its_reader_cannot_hold(emulators: Make, data: str) -> None:
    """A ticket whose data GET BARCODE DATA cannot carry (not ASCII, over 255 bytes) was taken, and
    every GET BARCODE DATA then failed inside the emulator (UnicodeEncodeError, no answer): the
    harness refuses such a ticket (GA138: interleaved 2 of 5, 6 to 24 characters)."""
    emu = emulators("NOTE_VALIDATOR")
    with pytest.raises(ValueError):
        emu.insert_ticket(data)


@pytest.mark.timeout(60)
def test_a_tickets_ack_in_a_reply_that_ends_in_another_state_is_reported(
    emulators: Make, devices: Make
) -> None:
    """The cashbox is taken out while a ticket waits in escrow (after the host saw it, before the next
    poll).  That poll's reply is BARCODE TICKET ACK, then CASHBOX REMOVED (a status): the reply's
    state is CASHBOX_REMOVED, and the ticket's ACK, its only report, must not be hidden by it."""
    emu, device, rec = open_emulated(emulators, devices, "NOTE_VALIDATOR")
    enable_tickets(device)
    removed = threading.Event()

    def on_state(sender: Any, e: Any) -> None:
        if e.state == DeviceState.BAR_CODE_TICKET_VALIDATED and not removed.is_set():
            emu.remove_cashbox()  # (on the poll thread, before its next poll)
            removed.set()

    device.DeviceStateChangedEvent.connect(on_state)
    assert emu.insert_ticket(TICKET)
    rec.wait_state("CASHBOX_REMOVED")
    ticket = emu.device.ticket
    assert ticket is not None and ticket.status == 2
    emu.replace_cashbox()
    rec.wait_for(lambda: rec.states()[-1] == "IDLE", what="IDLE")
    states = [s for s in rec.states() if s.startswith("BAR_CODE_TICKET")]
    assert states == ["BAR_CODE_TICKET_VALIDATED", "BAR_CODE_TICKET_ACKNOWLEDGE"], rec.summary()


def test_interpreter_announces_each_ticket_whatever_else_the_replies_show() -> None:
    """Replies as a unit may send them (no link): a ticket's VALIDATED or ACK beside a status that
    is a state of its own (CASHBOX REMOVED, last in the reply), and the ACK of one ticket with the
    VALIDATED of the next in one reply: each ticket's two states are announced, in order, once."""
    from cashdevice.events import Event
    from cashdevice.ssp import PollEvent as P

    device = CashDevice_never_opened()
    states: list[str] = []
    device.DeviceStateChangedEvent += lambda s, e: states.append(e.state.name)
    e5, d1, out = Event(P.BARCODE_TICKET_VALIDATED), Event(P.BARCODE_TICKET_ACK), Event(P.CASHBOX_REMOVED)
    for reply in ([e5, out], [d1, out], [e5], [d1, e5], [d1], []):
        device._handle_events(reply)
    tickets = [s for s in states if s.startswith("BAR_CODE_TICKET")]
    assert tickets == ["BAR_CODE_TICKET_VALIDATED", "BAR_CODE_TICKET_ACKNOWLEDGE"] * 3, states
    assert states[-1] == "IDLE"


def CashDevice_never_opened() -> Any:
    from cashdevice import CashDevice, DeviceModel

    device = CashDevice()
    device._set(deviceModel=DeviceModel.NOTE_VALIDATOR, sspProtocolVersion=7, currencyAssignment=[])
    return device


@pytest.mark.timeout(60)
@pytest.mark.parametrize("auto_accept", [True, False])
def test_tickets_on_a_device_lent_to_a_poll_group(emulators: Make, devices: Make, auto_accept: bool) -> None:
    """A device lent to a PollGroup (pty): the group hands the ticket's reply back; the ticket is
    announced once (held for the application with auto-accept off), and a note after it is credited
    once; the device is lent again."""
    from support import emulator_url

    from cashdevice import CashSystemOpenResult, DeviceModel, PollGroup

    group = PollGroup("tickets")
    emu = emulators("SPECTRAL_PAYOUT")
    device = devices(poll_group=group)
    rec = Recorder(device)
    assert device.Open(emulator_url(emu, "pty"), emu.address, DeviceModel.SPECTRAL_PAYOUT) == (
        CashSystemOpenResult.OK
    )
    rec.wait_state("IDLE")
    rec.wait_for(lambda: device._lent, what="lent")
    enable_tickets(device)
    device.SetAutoAccept(auto_accept)
    rec.wait_for(lambda: device._lent, what="lent again")
    assert emu.insert_ticket(TICKET)
    ticket = emu.device.ticket
    assert ticket is not None
    rec.wait_state("BAR_CODE_TICKET_VALIDATED")
    if not auto_accept:
        assert ticket.status == 1 and device.AcceptFromEscrow()
    rec.wait_state("BAR_CODE_TICKET_ACKNOWLEDGE")
    assert ticket.status == 2
    value = device.currencyAssignment[0].Value
    device.SetAutoAccept(True)
    assert emu.insert_note(value, wait=5)
    rec.wait_for(lambda: [c for c in rec.cash() if c[0] in ("STACKED", "STORED")] != [], what="credit")
    rec.wait_for(lambda: device._lent, what="lent after the note")
    tickets = [s for s in rec.states() if s.startswith("BAR_CODE_TICKET")]
    assert tickets == ["BAR_CODE_TICKET_VALIDATED", "BAR_CODE_TICKET_ACKNOWLEDGE"]
    assert [c[1] for c in rec.cash() if c[0] in ("STACKED", "STORED")] == [value]
    assert emu.ledger.credited_total() == value
    emu.ledger.check()
