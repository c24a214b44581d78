"""What a review of the merged fixes found (payouts cut by a reset, tickets, raising receivers).
Each test drives CashDevice against the in-process emulator and compares what the host reported
with the emulator's ledger."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from device_helpers import Recorder, open_emulated
from support import settle

from cashdevice import DeviceState, ValueCountryCode
from cashdevice.enums import DispenserTransactionState
from cashdevice.enums import DispenseTransactionRequestResult as DTRR

Make = Callable[..., Any]


def ends(rec: Recorder) -> list[tuple[str, int, str]]:
    return [
        (e.state.name, e.value, e.countryCode)
        for e in rec.of("DispenserTransactionEvent")
        if e.state != DispenserTransactionState.IN_PROGRESS
    ]


@pytest.mark.virtual_clock
def test_a_coin_taken_while_a_payout_cut_by_a_reset_is_settled_does_not_shrink_the_payout(
    emulators: Make, devices: Make
) -> None:
    """A payout open when the unit reset, with no INCOMPLETE PAYOUT at power-up (the job had
    finished and its DISPENSED was lost with the power, or a unit that does not send it), is settled
    from the levels after two quiet polls (7073bcb).  Meanwhile the start-up sequence ENABLEd the
    unit, and a customer's coin went into the hopper: the levels read to settle the payout count it,
    so the payout was reported as paying a coin less than it did (ERROR 2.00 for 3.00 paid: an
    application that pays the rest pays the customer twice).  Before 7073bcb the payout was settled
    in the start-up, before the ENABLE."""
    emu, device, rec = open_emulated(emulators, devices, "SMART_HOPPER", levels={100: 10})
    inserted: list[bool] = []
    assert device.DispenseValue(ValueCountryCode(300, "EUR")) == DTRR.OK
    with emu._lock:  # (the host polls nothing meanwhile: the power goes before it polls DISPENSED)
        assert settle(emu, lambda e: e.ledger.dispensed_total() == 300 and e.status()["job"] is None, 5)
        emu.power_off()
        assert emu.device.persistent.interrupted is None  # (the job finished: no INCOMPLETE PAYOUT)
        emu.power_on()
        unit = emu.device
        original = unit.execute

        def execute(data: bytes, encrypted: bool) -> bytes:
            answer = original(data, encrypted)
            if data[0] == 0x0A and answer[:1] == b"\xf0" and not inserted:
                inserted.append(unit.insert_coin(100, None))  # a customer's coin, at once
            return answer

        unit.execute = execute  # type: ignore[method-assign]
    rec.wait_for(lambda: bool(ends(rec)), timeout=15, what="the payout's end")
    assert emu.wait_for(lambda e: bool(inserted), 5) and inserted == [True]
    rec.wait_for(lambda: ("COIN_CREDIT", 100, "EUR") in rec.cash(), what="the coin")
    ledger = emu.ledger
    assert ledger.dispensed_total() == 300
    assert ends(rec) == [("COMPLETED", 300, "EUR")], rec.summary()
    emu.ledger.check()


TICKET = "123456789012345678"


def enable_tickets(device: Any) -> None:
    assert device.SetBarcodeReaderConfiguration(3, 1, 18)
    assert device.SetBarcodeInhibit(0xFC)


@pytest.mark.timeout(60)
def test_auto_accept_turned_off_by_the_ticket_states_receiver_holds_the_ticket(
    emulators: Make, devices: Make
) -> None:
    """A note: a receiver of its ESCROW may turn auto-accept off to decide on that very note (the
    poll thread then holds it: _handle_event READ).  A ticket in escrow is "held/returned like a
    note" (e680c4c), but its hold was decided before the BAR_CODE_TICKET_VALIDATED receivers ran:
    one that turns auto-accept off to look at the ticket found it taken by the next poll, and its
    ReturnFromEscrow answered False."""
    emu, device, rec = open_emulated(emulators, devices, "NOTE_VALIDATOR")
    enable_tickets(device)
    decided = threading.Event()

    def on_state(sender: Any, e: Any) -> None:
        if e.state == DeviceState.BAR_CODE_TICKET_VALIDATED:
            device.SetAutoAccept(False)  # (decide on this ticket)
            decided.set()

    device.DeviceStateChangedEvent.connect(on_state)
    assert emu.insert_ticket(TICKET)
    ticket = emu.device.ticket
    assert ticket is not None
    assert decided.wait(5)
    start = emu.exchanges
    assert emu.wait_for(lambda e: e.exchanges >= start + 5 or ticket.status != 1, 5)
    assert ticket.status == 1, "the ticket was taken though the application turned auto-accept off"
    assert device.ReturnFromEscrow()
    rec.wait_for(lambda: ticket.status == 3, what="the ticket returned")
    assert "BAR_CODE_TICKET_ACKNOWLEDGE" not in rec.states()


@pytest.mark.parametrize("setup", ["sys.stderr = None  # (pythonw.exe)", "sys.stderr.close()"])
def test_a_raising_handler_under_pythonw_does_not_cost_the_other_receivers_their_event(setup: str) -> None:
    """81de113 writes a raising receiver's traceback to ``sys.stderr`` when logging is not
    configured.  Under pythonw.exe (a Windows kiosk or service, where a C# port runs) ``sys.stderr``
    is None: ``sys.stderr.write`` raised AttributeError from the ``except`` in ``_fire``, so the
    other receivers of that CashEvent never got it (the credit went uncounted) and the rest of the
    poll reply was not handled.  Python's own thread excepthook skips the print when stderr is
    None.  A closed stderr (ValueError) did the same."""
    from test_first_hour_port import run_script

    out = run_script(setup)
    assert out.returncode == 0, out.stdout
    assert "host 2000 ledger 2000" in out.stdout, out.stdout
