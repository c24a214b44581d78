"""Issue 12 items 7 (rest), 8 and 9 through the public API against the emulator: isRunning during
Open, IsRecyclable as a capability, mainSerialNumberValid, GetStoredValue, StoredInCashbox,
commandFailedDetailsString, variables that cannot be known, and one DISPENSING per new value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from device_helpers import Recorder, open_emulated

from cashdevice import (
    CashDevice,
    DenominationRoute,
    DispenseTransactionRequestResult,
    SetDenominationRouteRequestResult,
    ValueCountryCode,
)
from cashdevice.variables import HOW_FILLED, VARIABLES_BY_NAME

Make = Callable[..., Any]
DTRR = DispenseTransactionRequestResult
VCC = ValueCountryCode


def opened(
    emulators: Make, devices: Make, model: str = "SPECTRAL_PAYOUT", **emu: Any
) -> tuple[Any, Any, Recorder]:
    return open_emulated(emulators, devices, model, **emu)


def test_is_running_true_from_open_until_close(emulators: Make, devices: Make) -> None:
    """Seed L2626-L2645: CONNECTING and CONNECTED during OpenConnection carry isRunning true."""
    _e, d, rec = opened(emulators, devices)
    first = {
        e.stateAsString: e.isRunning for _, e in rec.events if type(e).__name__ == "DeviceStatusResponse"
    }
    assert first["CONNECTING"] is True and first["CONNECTED"] is True and first["IDLE"] is True
    d.stopRunning()
    d.Close()
    last = [e for name, e in rec.events if name == "DeviceStateChangedEvent"][-2:]
    assert [(e.stateAsString, e.isRunning) for e in last] == [("STOPPED", False), ("NOT_CONNECTED", False)]


def test_is_recyclable_is_a_capability_not_the_route(emulators: Make, devices: Make) -> None:
    """Seed L2338-L2340: IsRecyclable true with AcceptRoute CASHBOX."""
    _e, d, _rec = opened(emulators, devices)
    assert (
        d.SetDenominationRoute(VCC(500, "EUR"), DenominationRoute.CASHBOX)
        == SetDenominationRouteRequestResult.OK
    )
    entry = d.currencyAssignment[0]
    assert entry.AcceptRoute == DenominationRoute.CASHBOX and entry.IsRecyclable
    assert all(e.IsRecyclable for e in d.currencyAssignment)
    _e2, validator, _ = opened(emulators, devices, "NOTE_VALIDATOR")
    assert not any(e.IsRecyclable for e in validator.currencyAssignment)  # no payout: nothing recyclable


def test_serial_valid_and_stored_value(emulators: Make, devices: Make) -> None:
    """mainSerialNumberValid follows its description (L1981), not the dump's false (L2168);
    GetStoredValue sums the payout levels (Stored), not the cashbox (L12535-L12536)."""
    e, d, rec = opened(emulators, devices, levels={500: 2, 1000: 1})
    assert d.mainSerialNumber and d.mainSerialNumberValid
    assert d.GetStoredValue("EUR") == 2000
    d.SetDenominationRoute(VCC(2000, "EUR"), DenominationRoute.CASHBOX)
    assert e.insert_note(2000, wait=5)
    rec.wait_cash("STACKED")
    assert d.GetStoredValue("EUR") == 2000  # the 20 in the cashbox is not "stored value"


def test_stored_in_cashbox_counts_every_note_that_went_there(emulators: Make, devices: Make) -> None:
    e, d, rec = opened(emulators, devices, levels={500: 3, 1000: 2})
    assert (
        d.SetDenominationRoute(VCC(2000, "EUR"), DenominationRoute.CASHBOX)
        == SetDenominationRouteRequestResult.OK
    )
    for _ in range(2):
        assert e.insert_note(2000, wait=5)
    rec.wait_cash("STACKED", 2)
    by_value = {x.Value: x.StoredInCashbox for x in d.currencyAssignment}
    assert by_value[2000] == 2 and by_value[500] == 0
    assert d.SmartEmpty(0) == DTRR.OK
    rec.wait_for(
        lambda: [(x.Stored, x.StoredInCashbox) for x in d.currencyAssignment][:2] == [(0, 3), (0, 2)],
        what="emptied and counted",
    )
    counts = {x.Value: (x.Stored, x.StoredInCashbox) for x in d.currencyAssignment}
    assert counts[500] == (0, 3) and counts[1000] == (0, 2) and counts[2000] == (0, 2)
    assert sum(e.cashbox.values()) == 7  # the emulator's own count agrees


def test_command_failed_details_and_never_known_variables(emulators: Make, devices: Make) -> None:
    _e, d, _rec = opened(emulators, devices)  # an empty store
    assert d.commandFailedDetailsString is None
    assert d.DispenseValue(VCC(500, "EUR")) == DTRR.NOT_ENOUGH_VALUE
    assert d.commandFailedDetailsString == "DispenseValue: device answered COMMAND_CANNOT_BE_PROCESSED 01"
    for name in HOW_FILLED:
        doc = " ".join((getattr(CashDevice, name).__doc__ or "").split())  # 3.13 strips docstring indents
        assert HOW_FILLED[name] in doc, name
        if HOW_FILLED[name].startswith("Never known"):
            assert getattr(d, name) == VARIABLES_BY_NAME[name].default, name


def test_dispensing_once_per_value_while_the_note_waits_in_the_bezel(emulators: Make, devices: Make) -> None:
    """Seed L2655-L2694: GetDeviceStatus lists each change once, no repeats."""
    e, d, rec = opened(emulators, devices, levels={500: 1})
    assert d.DispenseValue(VCC(500, "EUR")) == DTRR.OK
    rec.wait_cash("NOTE_IN_BEZEL_HOLD")
    polls = e.exchanges
    rec.wait_for(lambda: e.exchanges >= polls + 30, what="30 more polls with the note in the bezel")
    e.take_notes()
    rec.wait_cash("DISPENSED")
    dispensing = [v for kind, v, _ in rec.cash() if kind == "DISPENSING"]
    assert len(dispensing) == len(set(dispensing)) and len(dispensing) <= 2, dispensing
    queued = [x for x in d.GetDeviceStatus() if getattr(x, "eventTypeAsString", "") == "DISPENSING"]
    assert len(queued) == len(dispensing)
