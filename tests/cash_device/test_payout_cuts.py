"""Payouts cut at the worst moments (a power cut with a note in the bezel, a jam).  Each test drives
CashDevice against the in-process emulator and compares the DispenserTransactionEvents with the
emulator's ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from device_helpers import Recorder, open_emulated

from cashdevice import ValueCountryCode
from cashdevice.emulator import Emulator
from cashdevice.enums import DispenserTransactionState
from cashdevice.enums import DispenseTransactionRequestResult as DTRR

Make = Callable[..., Any]


def ends(rec: Recorder) -> list[tuple[str, int, str]]:
    """The DispenserTransactionEvents that end a transaction: (state, value, country)."""
    return [
        (e.state.name, e.value, e.countryCode)
        for e in rec.of("DispenserTransactionEvent")
        if e.state != DispenserTransactionState.IN_PROGRESS
    ]


def in_bezel(emu: Emulator) -> bool:
    return emu.status()["bezel"] is not None


def test_an_nv11_payout_cut_with_a_note_in_the_bezel_is_not_reported_with_that_note(
    emulators: Make, devices: Make
) -> None:
    """GA138's NV11 event table (L1322-L1345) has no INCOMPLETE PAYOUT (0xDC); what an NV11 did with
    a payout's note at power-up it says with NOTE INTO STACKER AT RESET / INTO STORE AT RESET / NOTE
    DISPENSED AT RESET, and GA973 ("Power removed during payout") reports such a note in the poll
    AFTER the one with SLAVE RESET.  A 15.00 payout: the customer took one 5.00, the second waits in
    the bezel (DISPENSING 10.00 reported, as GA973's NV11 "Dispensing notes" counts a note once it is
    payable); the power goes; at power-up the unit puts the bezel note in its cashbox (CA 5.00).  Paid:
    5.00.  (Before: the host settled the payout from the levels right after the start-up poll, before
    the CA came, and reported ERROR 10.00: the note in the cashbox counted as paid.)"""
    emu, device, rec = open_emulated(emulators, devices, "NV11", levels={500: 4}, payout_step=0.05)
    assert device.DispenseValue(ValueCountryCode(1500, "EUR")) == DTRR.OK
    assert emu.wait_for(in_bezel, 10)
    assert emu.take_notes() == 1
    assert emu.wait_for(in_bezel, 10)
    rec.wait_for(lambda: ("DISPENSING", 1000, "EUR") in rec.cash(), what="DISPENSING 10.00")
    with emu._lock:
        emu.power_off()
        emu.device.persistent.interrupted = None  # (an NV11 as GA138 lists it: no INCOMPLETE PAYOUT)
        emu.power_on()
    rec.wait_for(lambda: bool(ends(rec)), timeout=15, what="the payout's end")
    rec.wait_for(lambda: rec.states()[-1] == "IDLE", what="IDLE again")
    ledger = emu.ledger
    assert ledger.dispensed_total() == 500 and ledger.count("cleared") == 1
    assert ends(rec) == [("ERROR", 500, "EUR")], rec.summary()
    assert ("NOTE_CLEARED_TO_CASHBOX", 500, "EUR") in rec.cash()
    five = next(e for e in device.currencyAssignment if e.Value == 500)
    assert (five.Stored, five.StoredInCashbox) == (2, 1)
    assert device.DispenseValue(ValueCountryCode(500, "EUR")) == DTRR.OK  # (not BUSY: it ended)
    assert emu.wait_for(in_bezel, 10)
    assert emu.take_notes() == 1
    rec.wait_for(lambda: len(ends(rec)) == 2, timeout=15, what="the next payout's end")
    assert ends(rec)[1] == ("COMPLETED", 500, "EUR")
    assert emu.ledger.dispensed_total() == 1000


@pytest.mark.parametrize("model", ["SPECTRAL_PAYOUT", "SMART_HOPPER", "NV11"])
def test_a_jammed_payout_is_reported_once_through_clearing_and_a_power_cycle(
    emulators: Make, devices: Make, model: str
) -> None:
    """GA138 JAMMED: "the value paid/floated up to that jam" (Repeat: yes); GA973: the jam lasts
    until the unit is powered down, after which the host may send a new command.  The host ends
    the payout at the first JAMMED (ERROR with the value so far); clearing the jam leaves the unit
    JAMMED; the power-up's INCOMPLETE PAYOUT repeats that end.  One end, the ledger's amount.
    (Before: the emulator resumed the job after ``clear_jam()``, and the host reported its DISPENSED
    total as a second transaction: 20.00 reported for 15.00 paid.)"""
    coins = model == "SMART_HOPPER"
    emu, device, rec = open_emulated(
        emulators,
        devices,
        model,
        levels={100: 30} if coins else {500: 10},
        **({"coin_step": 0.1} if coins else {"auto_take": 0.0, "payout_step": 0.1}),
    )
    assert device.DispenseValue(ValueCountryCode(1500, "EUR")) == DTRR.OK
    assert emu.wait_for(lambda e: e.ledger.dispensed_total() >= 500, 10)
    emu.jam()
    rec.wait_cash("JAMMED")
    emu.clear_jam()
    start = emu.exchanges
    assert emu.wait_for(lambda e: e.exchanges >= start + 10, 10)
    assert emu.status()["job"] is not None  # (still JAMMED: it does not resume)
    emu.power_cycle()
    rec.wait_for(lambda: rec.states().count("CONNECTED") >= 2, timeout=15, what="reconnected")
    rec.wait_for(lambda: rec.states()[-1] in ("IDLE", "DISABLED"), timeout=15, what="running again")
    start = emu.exchanges
    assert emu.wait_for(lambda e: e.exchanges >= start + 10, 10)
    paid = emu.ledger.dispensed_total()
    assert 0 < paid < 1500
    assert ends(rec) == [("ERROR", paid, "EUR")], rec.summary()
    emu.ledger.check()


@pytest.mark.parametrize("model", ["NV11", "SPECTRAL_PAYOUT"])
@pytest.mark.parametrize("incomplete", [True, False], ids=["incomplete-payout", "no-incomplete-payout"])
def test_a_payout_note_put_back_into_the_store_at_power_up_is_neither_paid_nor_credited(
    emulators: Make, devices: Make, model: str, incomplete: bool
) -> None:
    """GA138 NOTE INTO STORE AT RESET (0xCB, NV11 and SMART Payout): "a bill was moved into the
    payout storage as part of the power-up proceedure".  A 15.00 payout: the customer took one 5.00,
    the second waits in the bezel when the power goes, and the unit puts it back into its store at
    power-up.  Paid: 5.00; no credit.  (Before: a CashEvent STORED 5.00, which an application counts
    as a customer's credit, and, without INCOMPLETE PAYOUT, the payout reported as 10.00.)"""
    emu, device, rec = open_emulated(emulators, devices, model, levels={500: 4}, payout_step=0.05)
    emu.timing.bezel_at_reset = "store"
    assert device.DispenseValue(ValueCountryCode(1500, "EUR")) == DTRR.OK
    assert emu.wait_for(in_bezel, 10)
    assert emu.take_notes() == 1
    assert emu.wait_for(in_bezel, 10)
    rec.wait_for(lambda: ("DISPENSING", 1000, "EUR") in rec.cash(), what="DISPENSING 10.00")
    with emu._lock:
        emu.power_off()
        if not incomplete:
            emu.device.persistent.interrupted = None
        emu.power_on()
    rec.wait_for(lambda: bool(ends(rec)), timeout=15, what="the payout's end")
    rec.wait_for(lambda: rec.states()[-1] == "IDLE", what="IDLE again")
    start = emu.exchanges
    assert emu.wait_for(lambda e: e.exchanges >= start + 5, 10)
    assert emu.ledger.dispensed_total() == 500
    emu.ledger.check()
    assert ends(rec) == [("ERROR", 500, "EUR")], rec.summary()
    assert not [c for c in rec.cash() if c[0] == "STORED"], rec.cash()
    five = next(e for e in device.currencyAssignment if e.Value == 500)
    assert five.Stored == emu.status()["levels"]["500 EUR"] == 3
