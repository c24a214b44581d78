"""A C# integration ports literally (issue 12): events with += / -= and any handler names,
enums that print their names, truthy results, C#-style data classes, seed facts."""

from __future__ import annotations

import dataclasses
import enum
import pydoc
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import blinker
import pytest
from device_helpers import Recorder, wire

from cashdevice import (
    CashDevice,
    CashSystemOpenResult,
    DeviceModel,
    DeviceState,
    DispenseTransactionRequestResult,
    ValueCountryCode,
    enums,
)
from cashdevice.records import EVENT_ARGS, CashEventResponse

Make = Callable[..., Any]
DTRR = DispenseTransactionRequestResult
ROOT = Path(__file__).resolve().parents[2]
EVENTS = list(EVENT_ARGS)


def opened(emulators: Make, devices: Make, model: str = "SPECTRAL_PAYOUT") -> tuple[Any, CashDevice]:
    emu = emulators(model)
    device = devices()
    rec = Recorder(device)
    assert device.Open(emu.url, emu.address, DeviceModel[model]) == CashSystemOpenResult.OK
    rec.wait_for(lambda: device.deviceState == DeviceState.IDLE, what="IDLE")
    return emu, device


# ------------------------------------------------------------------------------ 1. events


@pytest.mark.parametrize("name", EVENTS)
def test_plus_equals_minus_equals_and_connect_on_every_event(name: str) -> None:
    device = CashDevice()
    got: list[tuple[str, Any, Any]] = []

    def positional(sender: Any, args: Any) -> None:  # C#: (object sender, XxxEventArgs args)
        got.append(("positional", sender, args))

    def blinker_style(sender: Any, **kw: Any) -> None:
        got.append(("kw", sender, kw["e"]))

    signal = getattr(device, name)
    assert isinstance(signal, blinker.Signal)
    before = signal
    signal += positional
    setattr(device, name, signal)  # what `device.X += f` does after __iadd__
    exec(f"device.{name} += blinker_style", {"device": device, "blinker_style": blinker_style})
    getattr(device, name).connect(lambda s, e: got.append(("lambda", s, e)))
    assert getattr(device, name) is before  # still the same per-instance signal
    device._fire(getattr(device, name), "args-1")
    assert sorted(g[0] for g in got) == ["kw", "lambda", "positional"]
    assert all(g[1] is device and g[2] == "args-1" for g in got)
    exec(f"device.{name} -= positional", {"device": device, "positional": positional})
    got.clear()
    device._fire(getattr(device, name), "args-2")
    assert sorted(g[0] for g in got) == ["kw", "lambda"]
    assert getattr(CashDevice(), name) is not before  # one signal per instance


def test_an_event_cannot_be_replaced_by_assignment() -> None:
    device = CashDevice()
    with pytest.raises(AttributeError, match=r"\+="):
        device.CashEvent = lambda s, e: None  # type: ignore[assignment]
    with pytest.raises(AttributeError):
        del device.CashEvent


def test_blinker_send_reaches_every_handler_style() -> None:
    device = CashDevice()
    got = []
    device.CashEvent += lambda sender, args: got.append(args)
    device.CashEvent += lambda sender, *, e: got.append(e)
    device.CashEvent.send(device, e="x")
    assert got == ["x", "x"]


def test_a_handler_signature_is_read_once_and_weak_handlers_stay_weak() -> None:
    """Each signal remembers per receiver whether it takes keyword ``e`` (reading a signature costs
    tens of microseconds per event); the memory never keeps a weakly connected receiver alive."""
    import gc

    from cashdevice._signals import DeviceEvent

    signal = DeviceEvent()
    got: list[tuple[str, Any]] = []

    def by_keyword(sender: Any, e: Any) -> None:
        got.append(("e", e))

    def positional(sender: Any, args: Any) -> None:
        got.append(("args", args))

    signal += by_keyword
    signal += positional
    for n in (1, 2):
        signal.send("device", e=n)
    assert got == [("e", 1), ("args", 1), ("e", 2), ("args", 2)]
    assert dict(signal.signatures) == {by_keyword: True, positional: False}

    class Weak:
        def handler(self, sender: Any, e: Any) -> None:
            got.append(("weak", e))

    obj = Weak()
    signal.connect(obj.handler, weak=True)
    signal.send("device", e=3)
    assert ("weak", 3) in got
    del obj
    gc.collect()
    assert len(signal.signatures) == 2 and len(list(signal.receivers_for("device"))) == 2


def test_events_show_in_help() -> None:
    text = pydoc.plain(pydoc.render_doc(CashDevice))
    for name in EVENTS:
        assert name in text
        assert f"args {EVENT_ARGS[name].__name__}" in text, name


def test_a_csharp_handler_gets_the_credit(emulators: Make, devices: Make) -> None:
    """``cashDevice.CashEvent += OnCashEvent`` with ``OnCashEvent(object sender, CashEventResponse args)``."""
    emu, device = opened(emulators, devices)
    seen: list[CashEventResponse] = []
    rec = Recorder(device)

    def OnCashEvent(sender: Any, args: CashEventResponse) -> None:
        seen.append(args)

    device.CashEvent += OnCashEvent
    emu.insert_note(2000)
    rec.wait_cash("STORED")
    assert any(e.value == 2000 and str(e.eventType) == "STORED" for e in seen)
    device.CashEvent -= OnCashEvent
    count = len(seen)
    emu.insert_note(500)
    rec.wait_cash("STORED", 2)
    assert len(seen) == count


def test_a_handler_written_with_dotnet_spellings_gets_the_credit(emulators: Make, devices: Make) -> None:
    """``e.Value``, ``e.CountryCode``, ``e.EventType``: the .NET spelling of each member reads the same
    value as the REST JSON's camelCase one.  Without the aliases such a handler raised AttributeError
    in the receiver (logged), and the application never counted the credit."""
    emu, device = opened(emulators, devices)
    rec = Recorder(device)
    credits: list[tuple[Any, Any, str]] = []

    def OnCashEvent(sender: Any, e: Any) -> None:
        if e.EventType == enums.CashEventType.STORED:
            credits.append((e.Value, e.CountryCode, e.Message))

    device.CashEvent += OnCashEvent
    emu.insert_note(2000)
    rec.wait_cash("STORED")
    assert credits == [(2000, "EUR", "Cash event: STORED - Value: 2000 Value2: 0 - CountryCode: EUR")]


def _sample(cls: type[Any]) -> Any:
    """An instance of an event payload with a non-default value in every field."""
    values: dict[str, Any] = {}
    namespace = vars(sys.modules[cls.__module__])
    for f in dataclasses.fields(cls):
        # each member of the postponed "X | None" on its own: Python 3.9 cannot evaluate X | None
        name, kinds = f.name, [eval(k, namespace) for k in str(f.type).split(" | ")]
        kind = next(k for k in kinds if k is not None)
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            values[name] = list(kind)[-1]
        elif kind is bool:
            values[name] = True
        elif kind is int:
            values[name] = 7 + len(values)
        elif kind is str:
            values[name] = "EUR"
        else:
            values[name] = kind(500, "EUR")
    return cls(**values)


@pytest.mark.parametrize("name", EVENTS)
def test_every_event_payload_member_reads_the_same_in_its_dotnet_spelling(name: str) -> None:
    cls = EVENT_ARGS[name]
    sample = _sample(cls)
    members = [f.name for f in dataclasses.fields(cls)]
    members += [n for n, member in vars(cls).items() if isinstance(member, property) and n[:1].islower()]
    for member in members:
        assert getattr(sample, member[0].upper() + member[1:]) == getattr(sample, member), member
    assert all(f"{k}=" in repr(sample) for k in (f.name for f in dataclasses.fields(cls)))
    assert all(k[:1].islower() for k in sample.to_json())  # the REST JSON keeps its spelling


# ------------------------------------------------------------------------------ 2. / 3. enums

ALL_ENUMS = [
    obj
    for obj in vars(enums).values()
    if isinstance(obj, type) and issubclass(obj, enum.Enum) and obj.__module__ == enums.__name__ and len(obj)
]


@pytest.mark.parametrize("cls", ALL_ENUMS, ids=lambda c: c.__name__)
def test_every_enum_prints_its_name_and_keeps_its_number(cls: type[enum.IntEnum]) -> None:
    for member in cls:
        assert str(member) == f"{member}" == format(member) == member.ToString() == member.name
        assert f"{member:>40}".strip() == member.name
        assert f"{member:d}" == str(member.value) == member.ToString("D")
        assert int(member) == member.value and member == member.value


def test_flag_combinations_print_like_csharp() -> None:
    reg = enums.HopperOptionsReg0.FREE_PAY | enums.HopperOptionsReg0.LEVEL_CHECK
    assert str(reg) == "FREE_PAY, LEVEL_CHECK" and int(reg) == 3
    assert str(enums.HopperOptionsReg0(0)) == "NONE"
    assert enums.DeviceState.IDLE.ToString("X") == "00000005"


def test_enums_print_names_on_every_python() -> None:
    """The same output on each interpreter 3.9-3.13 that this machine has (enums.py needs only the stdlib)."""
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('e', {str(ROOT / 'cashdevice' / 'enums.py')!r})\n"
        "m = importlib.util.module_from_spec(spec); sys.modules['e'] = m; spec.loader.exec_module(m)\n"
        "R = m.DispenseTransactionRequestResult; F = m.HopperOptionsReg0\n"
        "print(str(R.OK), f'{R.BUSY}', format(m.CashEventType(7)), R.OK.ToString(), f'{R.BUSY:d}',"
        " bool(R.OK), bool(R.BUSY), str(F(3)), m.DeviceState(3), int(m.DeviceState.IDLE))\n"
    )
    expected = "OK BUSY REJECTED OK 3 True False FREE_PAY, LEVEL_CHECK STARTED 5"
    candidates = [shutil.which(f"python{v}") for v in ("3.9", "3.10", "3.11", "3.12", "3.13")]
    candidates += [str(p) for p in Path(sys.base_prefix).parent.glob("3.*/bin/python3")]  # pyenv layout
    ran = set()
    for exe in filter(None, candidates):
        probe = subprocess.run(
            [exe, "-c", "import sys; print(sys.version_info >= (3, 9))"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if probe.returncode != 0 or probe.stdout.strip() != "True":
            continue  # a shim without its interpreter, or a Python older than 3.9
        out = subprocess.run([exe, "-c", script], capture_output=True, text=True, timeout=60, check=True)
        assert out.stdout.strip() == expected, (exe, out.stdout, out.stderr)
        ran.add(exe)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == expected


@pytest.mark.parametrize(
    "cls",
    [
        enums.CashSystemOpenResult,
        enums.DispenseTransactionRequestResult,
        enums.SetDenominationRouteRequestResult,
        enums.SetSorterRouteRequestResult,
    ],
)
def test_results_are_truthy_exactly_on_success(cls: type[enum.IntEnum]) -> None:
    assert [m.name for m in cls if m] == ["OK"]
    assert int(cls.OK) == 0  # the number is kept


def test_if_open_and_if_dispense_read_as_csharp(emulators: Make, devices: Make) -> None:
    emu, device = opened(emulators, devices)
    emu.insert_note(2000)
    Recorder(device).wait_for(lambda: device.GetStoredValue("EUR") >= 2000, what="a stored note")
    assert device.Open(emu.url) == CashSystemOpenResult.ALREADY_OPEN
    assert not device.Open(emu.url)  # ALREADY_OPEN is a failure
    result = device.DispenseValue(ValueCountryCode(2000, "EUR"))
    assert result and f"{result}" == "OK"


# ------------------------------------------------------------------------------ 4. data classes


def test_object_initialiser_style_reaches_the_device(emulators: Make, devices: Make) -> None:
    emu, device = opened(emulators, devices)
    v = ValueCountryCode()
    v.Value = 1000
    v.CountryCode = "EUR"
    assert device.SetDenominationInhibit(v, True)
    assert device.currencyAssignment[1].IsInhibited
    assert device.SetDenominationInhibit(ValueCountryCode(Value=1000, CountryCode="EUR"), False)
    bad = ValueCountryCode()
    bad.Value = -5
    bad.CountryCode = "EUR"
    device.stopRunning()
    with wire(emu) as seen:
        assert device.DispenseValue(bad) == DTRR.INVALID_INPUT  # checked where used
        assert device.DispenseValue(ValueCountryCode()) == DTRR.INVALID_INPUT
    assert seen == []


def test_mutable_records_handed_out_are_copies(emulators: Make, devices: Make) -> None:
    """The records are mutable now; changing one a property returned leaves the device's state alone."""
    _emu, device = opened(emulators, devices)
    entry = device.currencyAssignment[0]
    entry.ValueCountryCode.Value = 1
    entry.IsInhibited = True
    assert device.currencyAssignment[0].Value != 1 and not device.currencyAssignment[0].IsInhibited


# ------------------------------------------------------------------------------ 7. seed facts


def test_startup_ready_answers_false_for_3_as_the_seed_shows() -> None:
    assert CashDevice.DeviceState_StartupReady(3) is False  # type: ignore[arg-type]  # L10387, L10407
    assert CashDevice.DeviceState_StartupReady(DeviceState.STARTED) is False
    assert CashDevice.DeviceState_StartupReady(DeviceState.CONNECTED) is True
    assert CashDevice.DeviceState_StartupReady(DeviceState.STOPPED) is True
    assert CashDevice.DeviceState_StartupReady(DeviceState.IDLE) is False


def test_seed_variable_aliases(emulators: Make, devices: Make) -> None:
    _emu, device = opened(emulators, devices, "NV4000")
    assert device.modules == device.cashDeviceModules and device.modules
    assert device.GetBarcodeReaderConfiguration()
    assert device.readerEnabled == device.readersEnabled is not None
    assert device.barcodeFormat == device.barCodeFormat is not None
    json = device.GetCompleteCashDevice()
    assert "modules" not in json and "readerEnabled" not in json  # aliases, not variables
