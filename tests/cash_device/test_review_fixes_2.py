"""A second review of the merged fixes (payouts cut by a reset,
NOTE INTO STORE AT RESET, port claims that follow their holder's name)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cashdevice._port_claims import PortClaims

Make = Callable[..., Any]


class Holder:  # (a stand-in for a CashDevice: claims hold their devices weakly)
    pass


def test_a_claim_on_a_link_to_a_link_follows_the_inner_link(tmp_path: Path) -> None:
    """A opens ``/opt/kiosk/cash`` (the application's stable name), a link to udev's by-id link,
    which names ttyACM0.  A's unit is unplugged and comes back as ttyACM1: udev re-creates the by-id
    link; the application's own link is untouched.  A claim is where its holder's name resolves
    *now* (f73ae8a), but e54dc14 resolves a name again only when the name's own ``lstat`` changed,
    and the outer link's never does: A's claim stayed on ttyACM0, so a second instance opened
    ttyACM1 (A's unit, which A reconnects to) and a third was refused the unit now on ttyACM0."""
    acm0, acm1 = tmp_path / "ttyACM0", tmp_path / "ttyACM1"
    acm0.touch()
    acm1.touch()
    by_id = tmp_path / "by-id-a"
    by_id.symlink_to(acm0)
    mine = tmp_path / "cash"
    mine.symlink_to(by_id)
    claims, a, b = PortClaims(), Holder(), Holder()
    assert claims.claim(str(mine), a) is None  # type: ignore[arg-type]
    by_id.unlink()  # A unplugged ...
    by_id.symlink_to(acm1)  # ... and back as ttyACM1
    assert claims.claim(str(acm1), b) is a  # type: ignore[arg-type]
    assert claims.claim(str(acm0), b) is None  # type: ignore[arg-type]  # (ttyACM0 is free)


# ------------------------------------------------------------------------------ (a) the settle window

import logging  # noqa: E402

import pytest  # noqa: E402
from device_helpers import Recorder, open_emulated  # noqa: E402
from support import settle  # noqa: E402

from cashdevice import CashSystemOpenResult, DeviceModel, DeviceState, ValueCountryCode  # noqa: E402
from cashdevice.enums import DispenserTransactionState  # noqa: E402
from cashdevice.enums import DispenseTransactionRequestResult as DTRR  # noqa: E402


def ends(rec: Recorder) -> list[tuple[str, int, str]]:
    return [
        (e.state.name, e.value, e.countryCode)
        for e in rec.of("DispenserTransactionEvent")
        if e.state != DispenserTransactionState.IN_PROGRESS
    ]


def cut_after_a_finished_payout(emu: Any, inserted: list[bool]) -> None:
    """A 3.00 payout finished, its DISPENSED lost with the power (no INCOMPLETE PAYOUT); at power-up
    a customer drops a 1.00 coin as soon as the unit takes an ENABLE."""
    with emu._lock:
        assert settle(emu, lambda e: e.ledger.dispensed_total() == 300 and e.status()["job"] is None, 5)
        emu.power_off()
        assert emu.device.persistent.interrupted is None
        emu.power_on()
        unit = emu.device
        original = unit.execute

        def execute(data: bytes, encrypted: bool) -> bytes:
            answer = original(data, encrypted)
            if data[0] == 0x0A and answer[:1] == b"\xf0" and not inserted:
                inserted.append(unit.insert_coin(100, None))
            return answer

        unit.execute = execute


@pytest.mark.virtual_clock
@pytest.mark.parametrize("how", ["EnableAcceptor", "stopRunning-startRunning"])
def test_the_application_enabling_the_unit_while_a_cut_payout_is_settled_does_not_shrink_it(
    emulators: Make, devices: Make, how: str
) -> None:
    """da58b4e leaves the unit disabled after a reset until a payout it cut is settled from the
    levels, so that no customer's coin counts in them.  An application that (re-)enables the acceptor
    when the device comes back, as a C# port does on CONNECTED (EnableAcceptor), or that stops and
    starts the poll thread (startRunning's ENABLE after stopRunning's DISABLE), sent ENABLE at once:
    the coin taken meanwhile counted as money that did not leave, and the 3.00 payout was reported
    ERROR 2.00 (an application that pays the rest pays the customer twice)."""
    emu, device, rec = open_emulated(emulators, devices, "SMART_HOPPER", levels={100: 10})
    inserted: list[bool] = []
    connected = len([s for s in rec.states() if s == "CONNECTED"])

    def on_state(sender: Any, e: Any) -> None:
        if e.state == DeviceState.CONNECTED and how == "EnableAcceptor":
            device.EnableAcceptor()

    device.DeviceStateChangedEvent.connect(on_state)
    assert device.DispenseValue(ValueCountryCode(300, "EUR")) == DTRR.OK
    cut_after_a_finished_payout(emu, inserted)
    rec.wait_for(lambda: rec.states().count("CONNECTED") > connected, timeout=15, what="reconnected")
    if how != "EnableAcceptor" and not ends(rec):
        device.stopRunning()
        device.startRunning()
    rec.wait_for(lambda: bool(ends(rec)), timeout=15, what="the payout's end")
    assert emu.wait_for(lambda e: bool(inserted), 5) and inserted == [True]
    rec.wait_for(lambda: ("COIN_CREDIT", 100, "EUR") in rec.cash(), what="the coin")
    assert emu.ledger.dispensed_total() == 300
    assert ends(rec) == [("COMPLETED", 300, "EUR")], rec.summary()
    emu.ledger.check()


# ------------------------------------------------------------------------------ (b) deciding in the receiver

TICKET = "123456789012345678"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("what", ["ticket", "note"])
def test_a_receiver_that_turns_auto_accept_off_and_accepts_at_once_is_not_held_again(
    emulators: Make, devices: Make, what: str
) -> None:
    """dde2136: a receiver of BAR_CODE_TICKET_VALIDATED (as one of a note's ESCROW) that turns
    auto-accept off holds the ticket for the application's decision.  A receiver that turns it off
    and decides in the same breath (``SetAutoAccept(False); AcceptFromEscrow()``, True) had its
    decision undone when it returned: the hold was set again, and the ticket (or note) sat in escrow
    under HOLD for ever, the application believing it taken."""
    emu, device, rec = open_emulated(emulators, devices, "NOTE_VALIDATOR")
    accepted: list[bool] = []
    if what == "ticket":
        assert device.SetBarcodeReaderConfiguration(3, 1, 18)
        assert device.SetBarcodeInhibit(0xFC)

        def on_state(sender: Any, e: Any) -> None:
            if e.state == DeviceState.BAR_CODE_TICKET_VALIDATED:
                device.SetAutoAccept(False)
                accepted.append(device.AcceptFromEscrow())

        device.DeviceStateChangedEvent.connect(on_state)
        assert emu.insert_ticket(TICKET)
        rec.wait_for(lambda: bool(accepted), what="the receiver's decision")
        assert accepted == [True]
        rec.wait_for(lambda: "BAR_CODE_TICKET_ACKNOWLEDGE" in rec.states(), what="the ticket stacked")
    else:

        def on_cash(sender: Any, e: Any) -> None:
            if e.eventType.name == "ESCROW":
                device.SetAutoAccept(False)
                accepted.append(device.AcceptFromEscrow())

        device.CashEvent.connect(on_cash)
        assert emu.insert_note(500)
        rec.wait_for(lambda: bool(accepted), what="the receiver's decision")
        assert accepted == [True]
        rec.wait_for(lambda: ("STACKED", 500, "EUR") in rec.cash(), what="the note stacked")
        emu.ledger.check()


def test_a_start_up_step_the_unit_refuses_is_tried_again_not_a_poll_loop_error(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    """A storm soak of 40 grouped devices met ``SET GENERATOR refused: 0xE0`` while a unit came back
    (a reply garbled past its CRC, or a unit still powering up): it surfaced as "poll loop error",
    with a traceback at ERROR.  A refused start-up step is link trouble: the session is tried again,
    and the credit that follows is reported once, as the ledger has it."""
    emu = emulators("SPECTRAL_PAYOUT")
    device = devices()
    rec = Recorder(device)
    assert device.Open(emu.url, 0, DeviceModel.SPECTRAL_PAYOUT) == CashSystemOpenResult.OK
    refused: list[bytes] = []
    with emu._lock:
        handlers = emu.device.handlers
        setup = handlers[0x05]  # SETUP REQUEST, a step of every start-up

        def refuse_once(data: bytes) -> bytes:
            if not refused:
                refused.append(data)
                return bytes([0xF5])  # COMMAND CANNOT BE PROCESSED
            return setup(data)

        handlers[0x05] = refuse_once
    with caplog.at_level(logging.WARNING, logger="cashdevice"):
        emu.power_cycle()
        rec.wait_for(lambda: bool(refused), timeout=15, what="SETUP REQUEST refused once")
        rec.wait_for(lambda: rec.states().count("CONNECTED") >= 2, timeout=15, what="reconnected")
        assert emu.insert_note(1000, wait=10)
        rec.wait_for(lambda: ("STORED", 1000, "EUR") in rec.cash(), timeout=15, what="STORED")
    assert not [r for r in caplog.records if "poll loop error" in r.getMessage()]
    assert [c for c in rec.cash() if c[0] == "STORED"] == [("STORED", 1000, "EUR")]
    assert emu.ledger.get(1000, "EUR").stored == 1
