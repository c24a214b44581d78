"""Coin-device and service methods of CashDevice against the SMART Hopper, SMART Coin System,
Twin SCS and SMART Hopper 4 emulators (and NV4000 for the service commands)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from device_helpers import Recorder, open_emulated, wire

from cashdevice import (
    CashDevice,
    CashSystemOpenResult,
    DenominationRoute,
    DeviceModel,
)
from cashdevice import (
    DispenseTransactionRequestResult as DTRR,
)
from cashdevice import (
    SetSorterRouteRequestResult as SSRRR,
)
from cashdevice import (
    ValueCountryCode as VCC,
)
from cashdevice.commands import DEFAULT_COMMANDS
from cashdevice.emulator import Emulator
from cashdevice.enums import DeviceError, SorterRoute

Make = Callable[..., Any]
COIN_MODELS = ["SMART_HOPPER", "SMART_COIN_SYSTEM", "TWIN_SMART_COIN_SYSTEM", "SMART_HOPPER_4"]
SYSTEMS = ["SMART_COIN_SYSTEM", "TWIN_SMART_COIN_SYSTEM", "SMART_HOPPER_4"]
UNVERIFIED = {row.name: row.prefix for row in DEFAULT_COMMANDS.values() if not row.verified}


def opened(
    emulators: Make, devices: Make, model: str = "SMART_COIN_SYSTEM", unverified: bool = True, **emu: Any
) -> tuple[Emulator, CashDevice, Recorder]:
    return open_emulated(emulators, devices, model, {"allow_unverified": unverified}, **emu)


def unverified_sent(seen: list[bytes]) -> list[bytes]:
    single = {p for p in UNVERIFIED.values() if p not in (b"\x5d", b"\x52")}
    return [d for d in seen if any(d.startswith(p) for p in single)]


def completed(rec: Recorder) -> Callable[[], bool]:
    return lambda: any(e.state.name in ("COMPLETED", "ERROR") for e in rec.of("DispenserTransactionEvent"))


# ------------------------------------------------------------------------------ hopper options, levels


@pytest.mark.parametrize("model", COIN_MODELS)
def test_hopper_options_levels_and_inhibits(emulators: Make, devices: Make, model: str) -> None:
    emu, d, rec = opened(emulators, devices, model, levels={100: 4})
    assert d.GetHopperOptions()
    assert (d.reg_0, d.reg_1, d.reg_0_hex_string, d.reg_1_hex_string) == (0x26, 0x00, "26", "00")
    assert d.SetHopperOptions(0x04, 0x00)
    assert (d.reg_0_hex_string, d.reg_1_hex_string) == ("04", "00")
    assert d.GetHopperOptions() and d.reg_0 == 4
    with wire(emu) as seen:
        assert not d.SetHopperOptions(256, 0)
        assert not d.Set_Denomination_Level(VCC(7, "EUR"), 1)
        assert not d.Set_Denomination_Level(VCC(100, "EUR"), 70000)
        assert not d.SetCoinMechInhibits([], True)
        assert not d.SetCoinMechInhibits([VCC(3, "EUR")], True)
    assert seen == []
    assert d.Set_Denomination_Level(VCC(200, "EUR"), 5)
    assert {(e.Value, e.Stored) for e in d.currencyAssignment} >= {(200, 5), (100, 4)}
    assert d.Set_Denomination_Level(VCC(100, "EUR"), 0)  # 0 clears
    assert next(e.Stored for e in d.currencyAssignment if e.Value == 100) == 0
    assert d.SetCoinMechInhibits([VCC(50, "EUR")], True)
    assert next(e.IsInhibited for e in d.currencyAssignment if e.Value == 50)
    assert emu.insert_coin(50) and emu.insert_coin(20)
    rec.wait_cash("COIN_CREDIT")
    assert d.SetCoinMechInhibits([50], False)  # plain values on a single-currency dataset
    assert emu.insert_coin(50)
    rec.wait_cash("COIN_CREDIT", 2)
    assert [c for c in rec.cash() if c[0] == "COIN_CREDIT"] == [
        ("COIN_CREDIT", 20, "EUR"),
        ("COIN_CREDIT", 50, "EUR"),
    ]
    assert d.EnableCoinMechOrFeeder() and emu.device.mech_enabled
    emu.ledger.check()
    assert emu.ledger.get(50, "EUR").rejected == 1


def test_coin_methods_refuse_note_models(emulators: Make, devices: Make) -> None:
    emu, d, _ = opened(emulators, devices, "NOTE_VALIDATOR")
    with wire(emu) as seen:
        assert not d.GetHopperOptions()
        assert not d.SetHopperOptions(4, 0)
        assert not d.EnableCoinMechOrFeeder()
        assert not d.Purge()
        assert not d.CoinStir(5)
        assert not d.GetCashboxLevels()
        assert d.SetSorterRoute(VCC(500, "EUR"), 0) == SSRRR.NOT_SUPPORTED
        assert not d.GetServiceInformation(0, 0)
    assert seen == []


# ------------------------------------------------------------------------------ purge, stir


@pytest.mark.parametrize("model", SYSTEMS)
def test_purge_clears_a_stuck_coin(emulators: Make, devices: Make, model: str) -> None:
    emu, d, rec = opened(emulators, devices, model)
    with emu._lock:
        emu.device.coin_stuck(0, 0)
    rec.wait_state("CALIBRATION_FAILED")
    assert ("CALIBRATION_FAILED", 1, "") in rec.cash() and d.deviceError == DeviceError.CALIBRATION_FAILED
    assert d.Purge() is True
    assert emu.device.stuck == set()
    assert d.GetCashboxLevels() and d.unknown_stored_in_cashbox == 1
    has_feeder = model != "SMART_HOPPER_4"
    assert d.Purge(1) is has_feeder
    assert d.Purge(0, 1) is (model == "TWIN_SMART_COIN_SYSTEM")
    assert d.Purge(device=0, hopper=0)
    with wire(emu) as seen:
        assert not d.Purge(2)
        assert not d.Purge(0, 2)
        assert not d.Purge(-1)
    assert seen == []


def test_coin_stir_with_and_without_mode(emulators: Make, devices: Make) -> None:
    emu, d, _ = opened(emulators, devices, "SMART_COIN_SYSTEM", levels={200: 3, 100: 2})
    with wire(emu) as seen:
        assert d.CoinStir(5)
        assert d.CoinStir(5, 0)
        assert emu.levels != {}
    assert seen == [b"\x5d\x05", b"\x5d\x05\x00"]
    assert d.SetDenominationRoute(VCC(200, "EUR"), DenominationRoute.CASHBOX).name == "OK"
    assert d.CoinStir(3, 1)  # cashbox-routed coins go to the cashbox
    assert {(k.value, v) for k, v in emu.levels.items()} == {(100, 2)}
    assert {(k.value, v) for k, v in emu.cashbox.items()} == {(200, 3)}
    with wire(emu) as seen:
        assert not d.CoinStir(0)
        assert not d.CoinStir(256)
        assert not d.CoinStir(5, 2)
    assert seen == []
    emu.ledger.check()
    _emu2, sh3, _ = opened(emulators, devices, "SMART_HOPPER")
    assert not sh3.CoinStir(5)


# ------------------------------------------------------------------------------ cashbox levels


def test_cashbox_levels_string(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices, "SMART_COIN_SYSTEM", currency="MXN")
    assert d.SetCashboxLevels(10, 100, "MXN")
    assert d.SetCashboxLevels(3, 500, "MXN")
    assert d.GetCashboxLevels()
    assert d.cashbox_levels_string == (
        "Number of denominations in device: 4\n10 x 100 MXN\n0 x 200 MXN\n3 x 500 MXN\n0 x 1000 MXN\n"
        "Quantity of unknown coins: 0\n"
    )
    assert d.unknown_stored_in_cashbox == 0
    assert d.SetCashboxLevels(0, 100, "MXN")  # 0 clears one denomination
    assert d.GetCashboxLevels() and d.cashbox_levels_string.startswith(
        "Number of denominations in device: 4\n0 x 100 MXN\n0 x 200 MXN\n3 x 500 MXN\n"
    )
    assert d.SetDenominationRoute(VCC(1000, "MXN"), DenominationRoute.CASHBOX).name == "OK"
    assert emu.insert_coin(1000)
    rec.wait_cash("COIN_CREDIT")
    assert d.GetCashboxLevels() and "1 x 1000 MXN\n" in d.cashbox_levels_string
    assert d.ClearCashboxLevels()
    assert d.GetCashboxLevels()
    assert re.findall(r"^(\d+) x", d.cashbox_levels_string, re.M) == ["0", "0", "0", "0"]
    with wire(emu) as seen:
        assert not d.SetCashboxLevels(1, 100, "EUR")
        assert not d.SetCashboxLevels(70000, 100, "MXN")
    assert seen == []


# ------------------------------------------------------------------------------ payout helpers


def test_payout_limit_count_and_coins_exit(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices, "SMART_COIN_SYSTEM", levels={100: 10, 50: 10})
    assert d.SetPayoutLimit(3)
    assert d.DispenseValue(VCC(350, "EUR")) == DTRR.CANNOT_PAY_EXACT_AMOUNT  # needs 4 coins
    assert d.GetPayoutCount() and d.payout_count == 4
    assert d.DispenseValue(VCC(250, "EUR")) == DTRR.OK
    rec.wait_for(completed(rec), what="payout done")
    assert d.GetPayoutCount() and d.payout_count == 3
    assert d.GetCoinsExit()
    assert (d.coins_payout_request, d.coins_seen_at_exit_sensor) == (3, 3)
    assert d.SetPayoutLimit(0)
    assert d.DispenseValue(VCC(350, "EUR")) == DTRR.OK
    with wire(emu) as seen:
        assert not d.SetPayoutLimit(-1)
        assert not d.SetPayoutLimit(65536)
    assert seen == []
    rec.wait_for(
        lambda: len([e for e in rec.of("DispenserTransactionEvent") if e.state.name == "COMPLETED"]) == 2
    )
    emu.ledger.check()
    assert emu.ledger.dispensed_total() == 600


def test_coin_acceptance_no_payin_and_maintenance(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices, "SMART_COIN_SYSTEM")
    assert d.GetCoinAcceptance(0) and d.coinAcceptance_string == "100"
    assert d.SetCoinMechInhibits([VCC(20, "EUR")], True)
    for value in (20, 100, 100, 50):
        assert emu.insert_coin(value)
    rec.wait_cash("COIN_CREDIT", 3)
    assert d.GetCoinAcceptance(1) and d.coinAcceptance_string == "75"
    assert not d.GetCoinAcceptance(2)  # no secondary hopper: the device refuses
    with wire(emu) as seen:
        assert not d.GetCoinAcceptance(3)
        assert not d.SetNoPayinCount(256)
    assert seen == []
    assert d.SetNoPayinCount(2) and d.noPayinCount == 2
    with emu._lock:
        emu.device.coin_sensed_no_payin()
    with emu._lock:
        emu.device.coin_sensed_no_payin()
    rec.wait_state("MAINTENANCE_REQUIRED")
    assert d.maintenanceRequiredDetailsString == "Maintenance required"
    assert d.deviceError == DeviceError.MAINTENANCE_REQUIRED


def test_lifter_status(emulators: Make, devices: Make) -> None:
    emu, d, _ = opened(emulators, devices, "SMART_COIN_SYSTEM")
    assert d.Get_Lifter_Status()
    assert (d.lifterConnected, d.lifterOptoClear, d.lifterJammed) == (True, True, False)
    with emu._lock:
        emu.device.lifter = [True, False, True]
    assert d.Get_Lifter_Status()
    assert (d.lifterConnected, d.lifterOptoClear, d.lifterJammed) == (True, False, True)
    emu4, d4, _ = opened(emulators, devices, "SMART_HOPPER_4")
    with wire(emu4) as seen:
        assert not d4.Get_Lifter_Status()
    assert seen == []


# ------------------------------------------------------------------------------ Twin SCS


def test_twin_mode_and_sorter_routes(emulators: Make, devices: Make) -> None:
    emu, d, _ = opened(emulators, devices, "TWIN_SMART_COIN_SYSTEM")
    assert d.SetTwinMode(1) and emu.device.twin_mode == 1
    assert not d.SetTwinMode(1)  # already active: the device refuses
    assert d.SetTwinMode(3) and emu.device.twin_mode == 3
    with wire(emu) as seen:
        assert not d.SetTwinMode(4)
        assert d.SetSorterRoute(VCC(7, "EUR"), 0) == SSRRR.INVALID_INPUT
        assert d.SetSorterRoute(VCC(100, "EUR"), 2) == SSRRR.INVALID_INPUT
    assert seen == []
    assert d.SetSorterRoute(VCC(100, "EUR"), 1) == SSRRR.OK
    routes = [e.CurrentSorterRoute for e in d.sorterRouteAssignment]
    values = [e.Value for e in d.currencyAssignment]
    assert len(routes) == len(values) and routes[values.index(100)] == SorterRoute.SECONDARY
    assert routes.count(SorterRoute.PRIMARY) == len(values) - 1
    assert [(k.value, v) for k, v in emu.device.sorter_routes.items()] == [(100, 1)]
    assert d.SetSorterRoute(VCC(100, "EUR"), 0) == SSRRR.OK
    assert all(e.CurrentSorterRoute == SorterRoute.PRIMARY for e in d.sorterRouteAssignment)
    _e2, scs, _ = opened(emulators, devices, "SMART_COIN_SYSTEM")
    assert scs.SetSorterRoute(VCC(100, "EUR"), 1) == SSRRR.NOT_SUPPORTED
    assert not scs.SetTwinMode(1)


# ------------------------------------------------------------------------------ service, RTC, counters


def test_service_information_strings(emulators: Make, devices: Make) -> None:
    emu, d, _ = opened(emulators, devices, "TWIN_SMART_COIN_SYSTEM")
    assert d.SetServiceInformation(2, 1, 11, 24)
    assert d.GetServiceInformation(2, 2)
    assert d.service_information_string == (
        "(Last Service Information) \nService 1 Type: 1\nService 1 Month: 11\nService 1 Year: 24\n"
        "Service 2 Type: 0\nService 2 Month: 0\nService 2 Year: 0\n"
        "Service 3 Type: 0\nService 3 Month: 0\nService 3 Year: 0\n"
    )
    assert d.GetServiceInformation(0, 5)
    assert re.fullmatch(
        r"\(Lifetime Counts\) \nTotal cycles: \d+\nPower on count: 1\nPower on time: \d+\n",
        d.service_information_string,
    )
    for _ in range(3):
        assert emu.insert_coin(100)
    assert d.GetServiceInformation(module=1, subCommand=3)
    assert d.service_information_string.startswith(
        "(Performance Since Last Service) \nCoins Processed: 3\nAcceptance Percentage: 100\n"
    )
    assert d.SetServiceInformation_MaintenanceReset(0x34, 0x37, 0x32, 0x34)
    assert emu.device.persistent.maintenance_stamp == b"4724"
    assert d.GetServiceInformation(1, 3) and "Coins Processed: 0\n" in d.service_information_string
    with wire(emu) as seen:
        assert not d.GetServiceInformation(4, 0)  # module 4 is undocumented
        assert not d.GetServiceInformation(0, 6)
        assert not d.SetServiceInformation(0, 1, 13, 24)
        assert not d.SetServiceInformation_MaintenanceReset(0x34, 0x37, 0x32, 0x41)
    assert seen == []
    assert not d.GetServiceInformation(5, 0)  # NV4000 module: the SCS refuses it
    with emu._lock:
        emu.device.global_error = (0x12, 0x00)
    assert d.GetGlobalErrorCode() and (d.globalErrorCode_0, d.globalErrorCode_1) == (0x12, 0)


def test_nv4000_service_information(emulators: Make, devices: Make) -> None:
    _emu, d, _ = opened(emulators, devices, "NV4000")
    assert d.GetServiceInformation(1)
    assert re.fullmatch(
        r"\(Note Information\) \nNotes Since Maintenance Reset: \d+\nNotes Since Last Download: \d+\n"
        r"Notes Since Power On: \d+\nNotes Since Last Jam: \d+\n",
        d.service_information_string,
    )
    assert d.GetServiceInformation(5, 0)  # module 5 = lifetime counts whatever the sub-command
    assert d.service_information_string.startswith("(Lifetime Counts) \nTotal cycles: ")
    assert d.SetServiceInformation_MaintenanceReset(0x30, 0x31, 0x32, 0x35)
    assert d.GetGlobalErrorCode() and d.globalErrorCode_0 == 0
    assert d.ExtendedGetFirmwareVersion() and d.extendedFirmware == "NV40000101000000_14.03.24_10:22:31"
    assert d.SetRealTimeClock(28, 10, 24, 16, 24, 38)  # the seed's examples are NV4000's
    assert d.GetRealTimeClock() and d.real_time_clock_string == "28 October 2024 16:24:38"


@pytest.mark.parametrize("model", SYSTEMS)
def test_real_time_clock(emulators: Make, devices: Make, model: str) -> None:
    emu, d, _ = opened(emulators, devices, model)
    assert d.SetRealTimeClock(27, 11, 24, 14, 9, 30)
    assert emu.device.persistent.rtc == bytes((27, 11, 24, 14, 9, 30))
    assert d.GetRealTimeClock() and d.real_time_clock_string == "27 November 2024 14:09:30"
    assert d.SetRealTimeClock(1, 3, 25, 8, 5, 0)
    assert d.GetRealTimeClock() and d.real_time_clock_string == "1 March 2025 08:05:00"
    with wire(emu) as seen:
        assert not d.SetRealTimeClock(32, 11, 24, 14, 9, 30)
        assert not d.SetRealTimeClock(1, 13, 24, 14, 9, 30)
        assert not d.SetRealTimeClock(1, 1, 100, 0, 0, 0)
        assert not d.SetRealTimeClock(1, 1, 24, 24, 0, 0)
    assert seen == []
    assert d.ExtendedGetDatasetVersion() and d.extendedDataset == "EUR01056_14.03.24_10:22:31"


def test_counters_coin_forms(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices, "SMART_HOPPER")
    assert emu.insert_coin(100) and emu.insert_coin(200)
    rec.wait_cash("COIN_CREDIT", 2)
    assert d.GetCounters()
    assert d.counters_string == (
        "Number of counters in set: 6\nCoins paid out, including to cashbox: 0\nCoins paid in: 2\n"
        "Feeder rejects: 0\nHopper jams: 0\nFeeder jams: 0\nFraud attempts: 0\n"
    )
    assert not d.GetRealTimeClock()  # SMART Hopper 3 has no clock: the device answers F2
    _e, scs, _ = opened(emulators, devices, "SMART_COIN_SYSTEM")
    assert scs.GetCounters()
    lines = scs.counters_string.splitlines()
    assert lines[0] == "Number of counters in set: 9" and lines[-1] == "Coins sent to cashbox: 0"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "Coins paid out, including to cashbox",
        "Coins paid in",
        "Feeder rejects",
        "Hopper jams",
        "Feeder jams",
        "Fraud attempts",
        "Calibration Fails",
        "Resets",
        "Coins sent to cashbox",
    ]


# ------------------------------------------------------------------------------ events


@pytest.mark.parametrize("model", COIN_MODELS)
def test_coin_credit_once_per_coin(emulators: Make, devices: Make, model: str) -> None:
    emu, d, rec = opened(emulators, devices, model)
    for value in (100, 50, 200):
        assert emu.insert_coin(value)
    rec.wait_cash("COIN_CREDIT", 3)
    rec.wait_for(lambda: d.deviceState.name == "IDLE", what="idle again")
    assert [c for c in rec.cash() if c[0] == "COIN_CREDIT"] == [
        ("COIN_CREDIT", 100, "EUR"),
        ("COIN_CREDIT", 50, "EUR"),
        ("COIN_CREDIT", 200, "EUR"),
    ]
    assert len(rec.cash()) == 3
    emu.ledger.check()
    assert emu.ledger.credited_total() == 350


def test_value_added_and_coin_rejected(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices, "SMART_COIN_SYSTEM")
    assert d.SetHopperOptions(0x80 | 0x26, 0x03)  # VALUE ADDED; COIN REJECTED with the value
    assert d.SetCoinMechInhibits([VCC(10, "EUR")], True)
    assert emu.insert_coin(200) and emu.insert_coin(10)
    rec.wait_cash("VALUE_ADDED")
    rec.wait_cash("REJECTED")
    assert ("VALUE_ADDED", 200, "EUR") in rec.cash() and ("REJECTED", 10, "EUR") in rec.cash()
    assert not any(c[0] == "COIN_CREDIT" for c in rec.cash())
    assert "REJECTED" in rec.states()


def test_coin_state_events(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices, "SMART_COIN_SYSTEM")
    steps: list[tuple[Callable[[], None], str]] = [
        (emu.device.pay_in_active, "PAY_IN_ACTIVE"),
        (emu.device.device_full, "DEVICE_FULL"),
        (lambda: emu.device.coin_mech_error(0x14), "ERROR"),
        (emu.device.coin_mech_jam, "COIN_MECH_JAMMED"),
    ]
    for trigger, state in steps:
        with emu._lock:
            trigger()
        rec.wait_state(state)
    assert d.deviceError == DeviceError.COIN_MECH_JAMMED
    emu.clear_jam()
    emu.press_coin_return()
    with emu._lock:
        emu.device.calibration_failed(3)
    rec.wait_cash("CALIBRATION_FAILED")
    assert ("CALIBRATION_FAILED", 3, "") in rec.cash()
    emu.hopper_fraud()
    rec.wait_state("FRAUD_ATTEMPT")
    rec.wait_cash("FRAUD_ATTEMPT")
    assert ("FRAUD_ATTEMPT", 0, "EUR") in rec.cash()
    assert d.GetCounters() and "Fraud attempts: 1\n" in d.counters_string


@pytest.mark.parametrize("model", COIN_MODELS)
def test_coin_payout_events_and_ledger(emulators: Make, devices: Make, model: str) -> None:
    emu, d, rec = opened(emulators, devices, model, levels={100: 5, 50: 5, 20: 5}, coin_step=0.1)
    assert d.GetAllLevels() and d.GetStoredValue("EUR") == 850
    assert d.DispenseValue(VCC(270, "EUR")) == DTRR.OK
    rec.wait_for(completed(rec), what="payout done")
    tx = [(e.state.name, e.transactionType.name) for e in rec.of("DispenserTransactionEvent")]
    assert tx == [("IN_PROGRESS", "PAYOUT"), ("COMPLETED", "PAYOUT")]
    kinds = [c[0] for c in rec.cash()]
    assert kinds[-1] == "DISPENSED" and set(kinds) <= {"DISPENSING", "DISPENSED"}
    assert rec.cash()[-1] == ("DISPENSED", 270, "EUR")
    rec.wait_for(lambda: d.GetStoredValue("EUR") == 580, what="levels refreshed")
    assert emu.ledger.dispensed_total() == 270
    assert not d.HaltPayout()  # nothing to halt: the device refuses
    assert d.DispenseValue(VCC(300, "EUR")) == DTRR.OK
    assert d.HaltPayout()
    rec.wait_for(lambda: rec.of("DispenserTransactionEvent")[-1].state.name == "ERROR", what="halted")
    assert rec.cash()[-1][0] == "HALTED" and emu.ledger.dispensed_total() < 570
    emu.ledger.check()


def test_coin_payout_variants(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices, "SMART_HOPPER_4", levels={100: 6, 50: 4, 200: 2})
    n = len(d.currencyAssignment)
    counts = [1 if e.Value == 50 else 0 for e in d.currencyAssignment]
    assert d.PayoutByDenomination(VCC(100, "EUR"), 2) == DTRR.OK
    rec.wait_for(completed(rec), what="by denomination")
    assert d.PayoutbyDenomination(counts) == DTRR.OK
    rec.wait_for(
        lambda: len([e for e in rec.of("DispenserTransactionEvent") if e.state.name == "COMPLETED"]) == 2
    )
    assert emu.ledger.dispensed_total() == 250
    # cashbox payout limit: keep at most 1 coin of 1.00 in the hopper after a payout (CASHBOX PAID)
    limits = [1 if e.Value == 100 else 100 for e in d.currencyAssignment]
    assert d.SetCashBoxPayoutLimit(limits) == DTRR.OK
    assert d.DispenseValue(VCC(100, "EUR")) == DTRR.OK
    rec.wait_for(
        lambda: len([e for e in rec.of("DispenserTransactionEvent") if e.state.name == "COMPLETED"]) == 3
    )
    assert ("MOVED_TO_CASHBOX", 200, "EUR") in rec.cash()
    keep = [1 if e.Value == 200 else 0 for e in d.currencyAssignment]
    assert d.Float(keep) == DTRR.OK
    rec.wait_for(
        lambda: len([e for e in rec.of("DispenserTransactionEvent") if e.state.name == "COMPLETED"]) == 4
    )
    assert {(k.value, v) for k, v in emu.levels.items()} == {(200, 1)}
    assert d.SmartEmpty() == DTRR.OK
    rec.wait_for(
        lambda: len([e for e in rec.of("DispenserTransactionEvent") if e.state.name == "COMPLETED"]) == 5
    )
    assert emu.levels == {}
    types = [
        e.transactionType.name for e in rec.of("DispenserTransactionEvent") if e.state.name == "COMPLETED"
    ]
    assert types == ["PAYOUT_BY_DENOMINATION", "PAYOUT_BY_DENOMINATION", "PAYOUT", "FLOAT", "EMPTY"]
    assert d.PayoutbyDenomination([0] * n) == DTRR.INVALID_INPUT
    emu.ledger.check()


# ------------------------------------------------------------------------------ unverified rows


def test_unverified_rows_refused_by_default(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    emu, d, _ = opened(emulators, devices, "TWIN_SMART_COIN_SYSTEM", unverified=False)
    calls: list[tuple[Callable[[], Any], Any, str]] = [
        (lambda: d.Purge(), False, "PURGE"),
        (lambda: d.Purge(1), False, "PURGE"),
        (lambda: d.Purge(0, 1), False, "PURGE"),
        (lambda: d.CoinStir(5, 1), False, "COIN_STIR_WITH_MODE"),
        (lambda: d.GetCoinsExit(), False, "GET_COINS_EXIT"),
        (lambda: d.GetCoinAcceptance(0), False, "GET_COIN_ACCEPTANCE"),
        (lambda: d.SetNoPayinCount(3), False, "SET_NO_PAYIN_COUNT"),
        (lambda: d.SetPayoutLimit(5), False, "SET_PAYOUT_LIMIT"),
        (lambda: d.GetPayoutCount(), False, "GET_PAYOUT_COUNT"),
        (lambda: d.Get_Lifter_Status(), False, "GET_LIFTER_STATUS"),
        (lambda: d.SetCashboxLevels(1, 100, "EUR"), False, "SET_CASHBOX_LEVELS"),
        (lambda: d.ClearCashboxLevels(), False, "CLEAR_CASHBOX_LEVELS"),
        (lambda: d.GetCashboxLevels(), False, "GET_CASHBOX_LEVELS"),
        (lambda: d.SetTwinMode(1), False, "SET_TWIN_MODE"),
        (lambda: d.SetSorterRoute(VCC(100, "EUR"), 1), SSRRR.NOT_SUPPORTED, "SET_SORTER_ROUTE"),
        (lambda: d.GetServiceInformation(0, 0), False, "GET_SERVICE_INFORMATION"),
        (lambda: d.SetServiceInformation(0, 1, 11, 24), False, "SET_SERVICE_INFORMATION"),
        (
            lambda: d.SetServiceInformation_MaintenanceReset(0x34, 0x37, 0x32, 0x34),
            False,
            "SERVICE_MAINTENANCE_RESET",
        ),
        (lambda: d.GetGlobalErrorCode(), False, "GET_GLOBAL_ERROR_CODE"),
        (lambda: d.ExtendedGetFirmwareVersion(), False, "EXTENDED_GET_FIRMWARE_VERSION"),
        (lambda: d.ExtendedGetDatasetVersion(), False, "EXTENDED_GET_DATASET_VERSION"),
    ]
    with wire(emu) as seen:
        for call, failure, row in calls:
            caplog.clear()
            assert call() == failure, row
            lines = [r.getMessage() for r in caplog.records if "ITL has not published" in r.getMessage()]
            assert len(lines) == 1 and row in lines[0] and "allow_unverified=True" in lines[0], (row, lines)
    assert seen == []
    assert d.cashbox_levels_string is None and d.payout_count == 0
    # published rows still work
    assert d.GetHopperOptions() and d.CoinStir(5)


def test_unverified_override_file_and_switch(emulators: Make, devices: Make, tmp_path: Path) -> None:
    emu, d, _ = opened(emulators, devices, "SMART_COIN_SYSTEM", unverified=False, levels={100: 3})
    assert not d.GetCashboxLevels()
    # the user supplies the row (here: the emulator's code) -> it is verified and sent
    spec = d.commands.override("GET_PAYOUT_COUNT", prefix="1f")
    assert spec.verified and spec.source == "user override"
    assert d.GetPayoutCount()
    # a file for another row
    path = tmp_path / "commands.json"
    path.write_text(json.dumps({"GET_CASHBOX_LEVELS": {"prefix": "1d"}, "PURGE": {"prefix": "7b"}}))
    assert d.LoadCommandTable(str(path))
    assert d.GetCashboxLevels() and d.cashbox_levels_string.startswith(
        "Number of denominations in device: 6\n"
    )
    with wire(emu) as seen:
        assert not d.Purge()  # the supplied bytes are sent as given: the emulator does not know 7B
    assert seen == [b"\x7b"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"PURGE": {"code": "1a"}}))
    assert not d.LoadCommandTable(str(bad))
    assert not d.GetCoinsExit()  # still refused
    d.commands.allow_unverified = True  # the switch enables every shipped row
    assert d.GetCoinsExit() and d.Get_Lifter_Status()
    other = devices()
    assert not other.commands.row("GET_PAYOUT_COUNT").verified  # per-device tables


def test_unpublished_lifter_and_purge_events(emulators: Any, devices: Any) -> None:
    """LIFTER_EVENT / PURGING / PURGED have no published codes: decoded only with allow_unverified."""
    emu = emulators("SMART_COIN_SYSTEM")
    device = devices(allow_unverified=True)
    rec = Recorder(device)
    assert device.Open(emu.url, emu.address, DeviceModel.SMART_COIN_SYSTEM) == CashSystemOpenResult.OK
    rec.wait_state("IDLE")
    assert device.Purge()
    rec.wait_state("PURGED")
    states = rec.states()
    assert states.index("PURGING") < states.index("PURGED")
    with emu._lock:
        emu.device.lifter_event(connected=True, opto_clear=False, jammed=True)
    rec.wait_state("LIFTER_EVENT")
    assert device.lifterEventString == "Lifter connected: True, Lifter opto clear: False, Lifter jammed: True"
    assert (device.lifterConnected, device.lifterOptoClear, device.lifterJammed) == (True, False, True)
    rec.wait_for(lambda: rec.states()[-1] == "IDLE", what="back to IDLE")


def test_unpublished_event_ignored_with_a_log_line_by_default(
    emulators: Any, devices: Any, caplog: pytest.LogCaptureFixture
) -> None:
    emu = emulators("SMART_COIN_SYSTEM")
    device = devices()
    rec = Recorder(device)
    assert device.Open(emu.url, emu.address, DeviceModel.SMART_COIN_SYSTEM) == CashSystemOpenResult.OK
    rec.wait_state("IDLE")
    with emu._lock:
        emu.device.lifter_event(connected=False)
    rec.wait_for(lambda: "unknown poll event 0x84" in caplog.text, what="log line")
    assert "LIFTER_EVENT" not in rec.states() and device.lifterEventString is None
    assert device.isRunning


def _story(rec: Recorder) -> list[str]:
    """The events in the order the receivers got them (:meth:`Recorder.summary`), amounts left out."""
    return [re.sub(r":\d+$", "", word) for word in rec.summary().split()]


def test_a_step_is_announced_before_its_events_and_idle_after_them(emulators: Make, devices: Make) -> None:
    """As the seed's GetDeviceStatus example lists them (ACCEPTING, ESCROW, STORED, IDLE): the state a
    reply shows goes before that reply's events, the return to IDLE after them.  A payout done
    before the first poll saw it (DISPENSED in that reply) read DISPENSING after its COMPLETED."""
    emu, d, rec = opened(emulators, devices, "SMART_HOPPER", levels={50: 10, 100: 10}, coin_step=0.0)
    start = len(rec.events)
    assert d.DispenseValue(VCC(150, "EUR")) == DTRR.OK
    rec.wait_for(
        lambda: _story(rec)[-1:] == ["IDLE"] and "DispenserTransactionEvent:COMPLETED" in _story(rec),
        what="IDLE",
    )
    story = [s for s in _story(rec)[start:] if s != "cash:DISPENSING"]
    assert story == [
        "DispenserTransactionEvent:IN_PROGRESS",
        "DISPENSING",
        "cash:DISPENSED",
        "DispenserTransactionEvent:COMPLETED",
        "IDLE",
    ]
    emu, d, rec = opened(emulators, devices, "NOTE_VALIDATOR")
    start = len(rec.events)
    assert emu.insert_note(1000, wait=5)
    rec.wait_for(lambda: _story(rec)[-1:] == ["IDLE"] and "cash:STACKED" in _story(rec), what="IDLE")
    story = _story(rec)[start:]
    assert story[0] == "ACCEPTING" and story.index("ACCEPTING") < story.index("cash:ESCROW")
    assert story[-2:] == ["cash:STACKED", "IDLE"]
