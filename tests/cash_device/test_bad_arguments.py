"""Every public CashDevice method: bad arguments give the documented failure value, one log line
and nothing on the wire, never an exception; before Open every device method gives its failure
value with a log line saying the device is not open (issue 10 defect 7, issue 12 item 6)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

import pytest
from device_helpers import Recorder, wire

from cashdevice import (
    CashDevice,
    CashSystemOpenResult,
    DenominationRoute,
    DeviceModel,
    DeviceState,
    DispenseTransactionRequestResult,
    SetDenominationRouteRequestResult,
    SetSorterRouteRequestResult,
    ValueCountryCode,
)
from cashdevice._html import DeviceStatusList
from cashdevice._signals import EventSlot

Make = Callable[..., Any]
DTRR = DispenseTransactionRequestResult
SDRRR = SetDenominationRouteRequestResult
SSRRR = SetSorterRouteRequestResult
VCC = ValueCountryCode

# Each public method: its C# overloads, each a list of parameter kinds (see GOOD / BAD below).
SIGNATURES: dict[str, list[list[str]]] = {
    # lifecycle and host side
    "Open": [["str", "addr", "model", "u64", "optpath", "bool"]],
    "Connect": [[]],
    "startRunning": [[]],
    "stopRunning": [[]],
    "Close": [[]],
    "Disconnect": [[]],
    "GetUnitInfo": [[]],
    "DownloadFirmware": [["str", "addr", "path", "bool", "int32", "u64"]],
    "LoadCommandTable": [["path"]],
    "KeyExchangelimit32bit": [[]],
    "logRawPackets": [["bool"]],
    "comPortReadError": [[]],
    "DeviceState_StartupReady": [["state"]],
    "DeviceState_LimpMode": [["state"]],
    "DeviceError_LimpMode": [["error"]],
    "SetAutoAccept": [["bool"]],
    "AcceptFromEscrow": [[]],
    "ReturnFromEscrow": [[]],
    "EnableAcceptor": [[]],
    "DisableAcceptor": [[]],
    "GetCompleteCashDevice": [[]],
    "GetDeviceStatus": [[]],
    # notes
    "SetDenominationInhibitsSingleCurrency": [["u32list", "bool"]],
    "SetDenominationInhibits": [["vcclist", "bool"]],
    "SetDenominationInhibitSingleCurrency": [["u32", "bool"]],
    "SetDenominationInhibit": [["u32", "bool"], ["vcc", "bool"]],
    "SetDenominationRouteSingleCurrency": [["u32", "route"]],
    "SetDenominationRoute": [["vcc", "route"], ["int32", "route"]],
    "DispenseValueSingleCurrency": [["u32"]],
    "DispenseValue": [["vcc"]],
    "PayoutByDenomination": [["vcc", "u32"], ["u32list"]],
    "PayoutbyDenomination": [["u32list"]],
    "Float": [["u32list"]],
    "SetCashBoxPayoutLimit": [["u32list"]],
    "SmartEmpty": [["byte", "bool"]],
    "HaltPayout": [[]],
    "EnablePayout": [[]],
    "EnablePayoutDevice": [["optbyte"]],
    "DisablePayout": [[]],
    "GetAllLevels": [[]],
    "GetStoredValue": [["str"]],
    "SetDenominationLevel": [["u16"]],
    "Replenish": [["u32"]],
    "GetRCMode": [[]],
    "RefillMode": [["bool"]],
    "ResetDevice": [[]],
    "SendCustomCommand": [["bytes", "byte"]],
    "GetCounters": [[]],
    "GetLastRejectCode": [[]],
    "ExtendedGetDatasetVersion": [[]],
    "ExtendedGetFirmwareVersion": [[]],
    "GetBarcodeReaderConfiguration": [[]],
    "SetBarcodeReaderConfiguration": [["byte", "byte", "byte"]],
    "GetBarcodeInhibit": [[]],
    "SetBarcodeInhibit": [["byte"]],
    "GetBarcodeData": [[]],
    # coins and service
    "GetHopperOptions": [[]],
    "SetHopperOptions": [["byte", "byte"]],
    "Set_Denomination_Level": [["vcc", "u32"]],
    "EnableCoinMechOrFeeder": [[]],
    "SetCoinMechInhibits": [["coinlist", "bool"]],
    "Purge": [[], ["byte"], ["byte", "byte"]],
    "CoinStir": [["byte"], ["byte", "byte"]],
    "GetCoinsExit": [[]],
    "GetCoinAcceptance": [["byte"]],
    "SetNoPayinCount": [["byte"]],
    "SetPayoutLimit": [["u16"]],
    "GetPayoutCount": [[]],
    "Get_Lifter_Status": [[]],
    "SetCashboxLevels": [["u16", "u32", "str"]],
    "ClearCashboxLevels": [[]],
    "GetCashboxLevels": [[]],
    "SetTwinMode": [["byte"]],
    "SetSorterRoute": [["vcc", "byte"]],
    "GetServiceInformation": [["byte"], ["byte", "byte"]],
    "SetServiceInformation": [["byte", "byte", "byte", "byte"]],
    "SetServiceInformation_MaintenanceReset": [["byte", "byte", "byte", "byte"]],
    "GetGlobalErrorCode": [[]],
    "SetRealTimeClock": [["byte"] * 6],
    "GetRealTimeClock": [[]],
}

# Host-side methods: they work without an open device (Open itself, closing, configuration,
# state reads, static predicates, a firmware download on its own port).
HOST_SIDE = {
    "Open",
    "Close",
    "Disconnect",
    "DownloadFirmware",
    "LoadCommandTable",
    "logRawPackets",
    "comPortReadError",
    "SetAutoAccept",
    "GetDeviceStatus",
    "GetCompleteCashDevice",
    "DeviceState_StartupReady",
    "DeviceState_LimpMode",
    "DeviceError_LimpMode",
}

GOOD: dict[str, Any] = {
    "str": "EUR",
    "addr": 0,
    "model": DeviceModel.SPECTRAL_PAYOUT,
    "u64": 1,
    "optpath": None,
    "path": "/nonexistent/cashdevice-test",
    "bool": True,
    "int32": 0,
    "state": DeviceState.IDLE,
    "error": 0,
    "u32list": [0],
    "vcclist": [VCC(500, "EUR")],
    "coinlist": [VCC(500, "EUR")],
    "u32": 1,
    "u16": 1,
    "byte": 1,
    "optbyte": None,
    "vcc": VCC(500, "EUR"),
    "route": DenominationRoute.CASHBOX,
    "bytes": b"\x07",
}

_NOT_AN_INT: list[Any] = [None, "1", 1.0, True, False, [1], b"\x01", object()]
BAD: dict[str, list[Any]] = {
    "str": [None, 5, b"EUR", ["EUR"], True],
    "addr": [*_NOT_AN_INT, -1, 0x7E, 2**40],
    "model": [None, "NV4000", True, 999, -1, 1.5],
    "u64": [*_NOT_AN_INT, -1, 2**64],
    "optpath": [5, ["x"], True],
    "path": [None, 5, ["x"], True],
    "bool": [None, "yes", "no", "", 0, 1, 1.0, [True]],
    "int32": [*_NOT_AN_INT, 2**31, -(2**31) - 1, 2**40],
    "state": [None, "IDLE", True, 999, -1, 1.5],
    "error": [None, "NONE", True, 999, -1, 1.5],
    "u32list": [None, 5, "123", b"\x01", [-1], [1.5], [True], [2**32], [None], {0: 1}],
    "vcclist": [None, VCC(500, "EUR"), "500 EUR", [None], [500], [VCC(-1, "EUR")], [VCC(500, 5)]],  # type: ignore[arg-type]
    "coinlist": [None, 5, "500", [None], [-1], ["x"], [VCC(-1, "EUR")], [True]],
    "u32": [*_NOT_AN_INT, -1, 2**32, 2**40],
    "u16": [*_NOT_AN_INT, -1, 2**16],
    "byte": [*_NOT_AN_INT, -1, 256, 2**40],
    "optbyte": ["1", True, -1, 256, 1.5],
    "vcc": [
        None,
        500,
        "500 EUR",
        (500, "EUR"),
        VCC(-1, "EUR"),
        VCC(2**32, "EUR"),
        VCC(True, "EUR"),  # type: ignore[arg-type]
        VCC(500, 5),  # type: ignore[arg-type]
        VCC(500, "EURO"),
        VCC(500, ""),
        VCC(),
    ],
    "route": [None, "CASHBOX", True, 99, -1, 1.5],
    "bytes": [None, 5, 2**40, "abc", [256], [-1], [1.5], [None]],
}


def public_methods() -> list[str]:
    names = []
    for name in dir(CashDevice):
        if name.startswith("_"):
            continue
        static = inspect.getattr_static(CashDevice, name)
        if isinstance(static, (property, EventSlot)) or not callable(getattr(CashDevice, name)):
            continue
        names.append(name)
    return sorted(names)


def failure(name: str) -> Any:
    """The documented failure value for bad input, from the method's return type."""
    if name in ("Replenish", "SmartEmpty"):  # documented: NOT_SUPPORTED, (BUSY,) OK (L12426, L12104)
        return DTRR.NOT_SUPPORTED
    returns = str(inspect.signature(getattr(CashDevice, name)).return_annotation)
    return {
        "bool": False,
        "None": None,
        "int": 0,
        "DispenseTransactionRequestResult": DTRR.INVALID_INPUT,
        "SetDenominationRouteRequestResult": SDRRR.INVALID_INPUT,
        "SetSorterRouteRequestResult": SSRRR.INVALID_INPUT,
        "CashSystemOpenResult": CashSystemOpenResult.PORT_ERROR,
        "list[EventArgs]": [],
        "_html.DeviceStatusList": DeviceStatusList(),
        "dict[str, Any]": {},
    }[returns]


def closed_failure(name: str) -> Any:
    """The documented failure value when the device is not open."""
    value = failure(name)
    if isinstance(value, DTRR) and name != "Replenish":
        return DTRR.BUSY  # "The device is busy and not able to pay-out" (L11928)
    if isinstance(value, SSRRR):
        return SSRRR.FAILED  # "Failed to set sorter route" (L13060)
    return value  # routes: INVALID_INPUT, "CashDevice objects have not been initialised" (L12153)


def bad_calls(name: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """One bad argument at a time (the others good), a wrong argument count, an unknown keyword."""
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    overloads = SIGNATURES[name]
    for kinds in overloads:
        good = [GOOD[k] for k in kinds]
        for i, kind in enumerate(kinds):
            for bad in BAD[kind]:
                if any(len(o) == len(kinds) and fits(o[i], bad) for o in overloads):
                    continue  # fits another overload (e.g. a VCC in place of an index)
                calls.append(((*good[:i], bad, *good[i + 1 :]), {}))
    longest = max(overloads, key=len)
    calls.append(((*(GOOD[k] for k in longest), 1), {}))  # one argument too many
    calls.append(((), {"notAParameter": 1}))
    return calls


def fits(kind: str, value: Any) -> bool:
    """Whether ``value`` is a good argument of ``kind`` (bad for one overload, good for another)."""
    if kind in ("u32", "int32"):
        low, high = (0, 2**32) if kind == "u32" else (-(2**31), 2**31)
        return isinstance(value, int) and not isinstance(value, bool) and low <= value < high
    return kind == "vcc" and isinstance(value, VCC) and value.problem() is None


def test_the_table_lists_every_public_method() -> None:
    assert set(SIGNATURES) == set(public_methods())
    assert len(SIGNATURES) == 80


@pytest.mark.parametrize("model", ["SPECTRAL_PAYOUT", "SMART_COIN_SYSTEM"])
def test_bad_arguments_fail_with_one_log_line_and_nothing_on_the_wire(
    emulators: Make, devices: Make, model: str, caplog: pytest.LogCaptureFixture
) -> None:
    emu = emulators(model)
    d = devices()
    rec = Recorder(d)
    assert d.Open(emu.url, emu.address, DeviceModel[model])
    rec.wait_for(lambda: d.deviceState in (DeviceState.IDLE, DeviceState.DISABLED), what="IDLE")
    d.stopRunning()  # no polls and no re-enabling while we watch the wire
    problems = []
    with wire(emu) as seen, caplog.at_level(logging.INFO, logger="cashdevice"):
        for name in public_methods():
            for args, kwargs in bad_calls(name):
                caplog.clear()
                sent = len(seen)
                try:
                    result = getattr(d, name)(*args, **kwargs)
                except Exception as exc:
                    problems.append(f"{name}{args!r} {kwargs!r} raised {exc!r}")
                    continue
                expected = failure(name)
                if result != expected or type(result) is not type(expected):
                    problems.append(f"{name}{args!r} {kwargs!r} -> {result!r}, expected {expected!r}")
                if len(seen) != sent:
                    problems.append(f"{name}{args!r} {kwargs!r} sent {[b.hex() for b in seen[sent:]]}")
                lines = [r.getMessage() for r in caplog.records]
                if len(lines) != 1 or name not in lines[0] or "invalid argument" not in lines[0]:
                    problems.append(f"{name}{args!r} {kwargs!r} logged {lines!r}")
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} problems)"
    assert seen == []
    assert d.isOpen  # nothing above broke the session


def test_every_device_method_before_open_says_so(devices: Make, caplog: pytest.LogCaptureFixture) -> None:
    d = devices()
    problems = []
    with caplog.at_level(logging.INFO, logger="cashdevice"):
        for name in public_methods():
            if name in HOST_SIDE:
                continue
            for kinds in SIGNATURES[name]:
                caplog.clear()
                args = [GOOD[k] for k in kinds]
                result = getattr(d, name)(*args)
                expected = closed_failure(name)
                if result != expected or type(result) is not type(expected):
                    problems.append(f"{name}{args!r} -> {result!r}, expected {expected!r}")
                lines = [r.getMessage() for r in caplog.records]
                if len(lines) != 1 or "not open" not in lines[0] or name not in lines[0]:
                    problems.append(f"{name}{args!r} logged {lines!r}")
    assert not problems, "\n".join(problems)
    assert not d.isOpen and d.deviceState == DeviceState.NOT_CONNECTED


def test_host_side_methods_work_before_open(devices: Make) -> None:
    d = devices()
    assert d.GetDeviceStatus() == [] and d.GetCompleteCashDevice()["isOpen"] is False
    assert not d.comPortReadError()
    d.SetAutoAccept(False)
    assert not d.autoAcceptEscrowEnabled
    d.logRawPackets(True)
    d.Close()
    d.Disconnect()
    assert not CashDevice.DeviceState_StartupReady(DeviceState.NOT_CONNECTED)


def test_the_issue_examples(emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 10 defect 7 / issue 12 item 6, one by one."""
    d = devices()
    with caplog.at_level(logging.ERROR, logger="cashdevice"):
        assert d.Open(None) == CashSystemOpenResult.PORT_ERROR  # type: ignore[arg-type]
    assert any("Open" in r.getMessage() and "comPort" in r.getMessage() for r in caplog.records)
    emu = emulators("SPECTRAL_PAYOUT")
    assert d.Open(emu.url, 0, DeviceModel.SPECTRAL_PAYOUT) == CashSystemOpenResult.OK
    Recorder(d).wait_for(lambda: d.deviceState == DeviceState.IDLE, what="IDLE")
    d.stopRunning()
    with wire(emu) as seen:
        assert d.SetDenominationInhibit(0, "yes") is False  # type: ignore[call-overload]
        assert d.Float(-1) == DTRR.INVALID_INPUT  # type: ignore[arg-type]
        assert d.SetDenominationInhibits(-1, True) is False  # type: ignore[arg-type]
        assert d.SendCustomCommand(2**40, 1) is False  # type: ignore[arg-type]
        assert d.SendCustomCommand(5, 1) is False  # type: ignore[arg-type]  # was: a zero buffer, command 0x00
        assert d.RefillMode("no") is None  # type: ignore[arg-type]  # was: refill mode on
    assert seen == []
    assert not d.currencyAssignment[0].IsInhibited


@pytest.mark.parametrize(
    "option,bad,kept",
    [
        ("timeout", "x", 1.0),
        ("timeout", 0, 1.0),
        ("retries", -5, 3),
        ("retries", 2.5, 3),
        ("poll_interval", 0, 0.2),
        ("poll_interval", -1, 0.2),
        ("poll_interval", float("nan"), 0.2),
        ("moving_poll_interval", -0.1, 0.02),
        ("reconnect_interval", True, 1.0),
        ("deadline", 0, None),
        ("abandoned_poll_patience", "long", 300.0),
    ],
)
def test_a_bad_option_is_logged_and_keeps_its_value(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture, option: str, bad: Any, kept: Any
) -> None:
    """``CashDevice(timeout="x")`` raised TypeError out of ``Open`` later, ``retries=-5`` a
    ValueError, and ``poll_interval=0`` spun the poll loop at full speed.  A bad value, in the
    constructor or set later, is logged (naming the option) and the option keeps its value; the
    device opens and works."""
    device = devices(**{option: bad})
    assert getattr(device, option) == kept
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(m.startswith(f"{option}={bad!r} ignored") for m in said), said
    emu = emulators("NOTE_VALIDATOR")
    assert device.Open(emu.url, 0, DeviceModel.NOTE_VALIDATOR) == CashSystemOpenResult.OK
    caplog.clear()
    setattr(device, option, bad)  # later, on an open device: the same
    assert getattr(device, option) == kept
    assert any(f"{option}={bad!r} ignored" in r.getMessage() for r in caplog.records)


def test_good_options_are_taken(devices: Make) -> None:
    device = devices(timeout=0.5, retries=0, poll_interval=1, moving_poll_interval=0, deadline=2.0)
    assert (device.timeout, device.retries, device.poll_interval) == (0.5, 0, 1)
    assert (device.moving_poll_interval, device.deadline) == (0, 2.0)
    device.deadline = None
    assert device.deadline is None
