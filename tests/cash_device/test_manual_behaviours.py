"""Behaviours ITL's manuals allow a real unit to show, which the emulator did not show before (found by
a probe that read GA138 and GA973 for them): the host reports each payout and credit once, as the
unit means it.  The emulator now shows each of them; each test names the manual's text."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from device_helpers import Recorder, open_emulated

from cashdevice import ValueCountryCode
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


def test_a_payout_in_the_second_currency_of_the_dataset_is_reported_in_it(
    emulators: Make, devices: Make
) -> None:
    """GA138 DISPENSED (protocol >= 6): "An array of data giving the total dispensed for each of the
    countries supported in the dataset"; DISPENSING's example is ``DA 02 FC080000 EUR B0040000 GBP``.
    A EUR+GBP unit paying 10.00 GBP reports ``D2 02 [0 EUR] [1000 GBP]``.  (Before: COMPLETED 0 EUR,
    and a DISPENSED CashEvent of 0 EUR beside the GBP one.)"""
    emu, device, rec = open_emulated(
        emulators,
        devices,
        "SPECTRAL_PAYOUT",
        currency="EUR,GBP",
        levels={(500, "GBP"): 10, (500, "EUR"): 10},
        auto_take=0.0,
        payout_step=0.05,
    )
    assert device.DispenseValue(ValueCountryCode(1000, "GBP")) == DTRR.OK
    rec.wait_for(lambda: bool(ends(rec)), timeout=15, what="payout end")
    assert emu.ledger.dispensed_total() == 1000
    assert ends(rec) == [("COMPLETED", 1000, "GBP")]
    assert [c for c in rec.cash() if c[0] == "DISPENSED"] == [("DISPENSED", 1000, "GBP")]
    assert all(c[2] == "GBP" for c in rec.cash() if c[0] == "DISPENSING")


def test_a_jam_repeated_on_every_poll_ends_the_payout_once(emulators: Make, devices: Make) -> None:
    """GA138 JAMMED: "Repeat: yes"; GA973: the JAMMED poll response "will persist until action is
    taken by the user".  One payout, one end, one JAMMED CashEvent.  (Before: every poll ended the
    payout again, ERROR with the amount paid, 7 or more times.)"""
    emu, device, rec = open_emulated(
        emulators, devices, "SPECTRAL_PAYOUT", levels={500: 10}, auto_take=0.0, payout_step=0.1
    )
    assert device.DispenseValue(ValueCountryCode(1500, "EUR")) == DTRR.OK
    assert emu.wait_for(lambda e: e.ledger.dispensed_total() >= 500, 10)
    emu.jam()
    rec.wait_cash("JAMMED")
    start = emu.exchanges
    assert emu.wait_for(lambda e: e.exchanges >= start + 20, 10)  # the jam lasts 20 exchanges
    paid = emu.ledger.dispensed_total()
    assert ends(rec) == [("ERROR", paid, "EUR")]
    assert [c for c in rec.cash() if c[0] == "JAMMED"] == [("JAMMED", paid, "EUR")]


def test_an_error_during_payout_reported_again_after_a_power_cycle_ends_the_payout_once(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    """GA973, "Note transport error during dispense": ``B1 01 <paid> EUR 01`` with JAM RECOVERY, then
    after the start-up sequence ``F1 DC 01 <paid> <requested> EUR``: the same payout, ended by ERROR
    DURING PAYOUT and reported again as INCOMPLETE PAYOUT.  (Before: two ERROR ends.)"""
    caplog.set_level(logging.INFO, logger="cashdevice")
    emu, device, rec = open_emulated(
        emulators, devices, "SPECTRAL_PAYOUT", levels={500: 10}, auto_take=0.0, payout_step=0.1
    )
    assert device.DispenseValue(ValueCountryCode(1500, "EUR")) == DTRR.OK
    assert emu.wait_for(lambda e: e.ledger.dispensed_total() >= 500, 10)
    emu.payout_error(1)
    rec.wait_for(lambda: bool(ends(rec)), timeout=10, what="payout end")
    paid = emu.ledger.dispensed_total()
    assert ends(rec) == [("ERROR", paid, "EUR")]
    emu.power_cycle()
    rec.wait_for(lambda: rec.states().count("CONNECTED") >= 2, timeout=15, what="reconnected")
    rec.wait_for(lambda: rec.states()[-1] in ("IDLE", "DISABLED"), timeout=15, what="running again")
    start = emu.exchanges
    assert emu.wait_for(lambda e: e.exchanges >= start + 10, 10)
    assert ends(rec) == [("ERROR", paid, "EUR")]
    assert not [c for c in rec.cash() if c[0] == "INCOMPLETE_PAYOUT"]
    # (the unit did report it: the host logged it as the last end again)
    assert f"INCOMPLETE_PAYOUT {paid} EUR repeats the end of the last transaction" in caplog.text


def test_a_hopper_fraud_attempt_shown_until_reset_is_reported_once(emulators: Make, devices: Make) -> None:
    """GA973 (SMART Hopper FRAUD ATTEMPT, ``E6 01 <paid> EUR``): "The Fraud Event response is
    persistent and can only be cleared by resetting the device".  (Before: one FRAUD_ATTEMPT
    CashEvent per poll, each with the amount paid so far.)"""
    emu, device, rec = open_emulated(emulators, devices, "SMART_HOPPER", levels={100: 20}, coin_step=0.05)
    assert device.DispenseValue(ValueCountryCode(1500, "EUR")) == DTRR.OK
    assert emu.wait_for(lambda e: e.ledger.dispensed_total() >= 300, 10)
    emu.hopper_fraud()
    rec.wait_cash("FRAUD_ATTEMPT")
    start = emu.exchanges
    assert emu.wait_for(lambda e: e.exchanges >= start + 20, 10)
    assert len([c for c in rec.cash() if c[0] == "FRAUD_ATTEMPT"]) == 1
    assert ends(rec) == [("ERROR", emu.ledger.dispensed_total(), "EUR")]


def test_a_coin_credit_below_protocol_6_carries_the_dataset_currency(emulators: Make, devices: Make) -> None:
    """GA138 COIN CREDIT at protocol 5: "Data gives 4 byte value of the coin added" (no country; a
    SMART Hopper before firmware 6.03 stops at protocol 5, GA973 appendix E).  The CashEvent carries
    the dataset's currency.  (Before: an empty currency.)"""
    emu, device, rec = open_emulated(emulators, devices, "SMART_HOPPER", protocol_max=5, levels={100: 5})
    assert device.sspProtocolVersion == 5
    assert emu.insert_coin(100, wait=5)
    rec.wait_cash("COIN_CREDIT")
    assert [c for c in rec.cash() if c[0] == "COIN_CREDIT"] == [("COIN_CREDIT", 100, "EUR")]
