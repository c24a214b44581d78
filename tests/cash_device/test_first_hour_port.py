"""A first-hour port of a C# program: what a literal port runs into.

1. A handler that raises (a typo in a property name, the commonest first-hour mistake) is logged by
   the library, but a script that configured no logging (the README's own side-by-side example)
   has only the library's NullHandler: the error vanished, and the handler silently did nothing.
   C# would have surfaced it (an unhandled exception on the raising thread).  It now goes to
   stderr when no handler of the application's would show it, and still only once to the log
   when one would.
2. ``GetDeviceStatus()`` returns the REST queue's objects, and the README says each answers to
   the REST JSON's camelCase keys; the seed's JSON carries ``"type"`` on every one (L2626, L2663),
   which a REST client switches on.  ``e.type`` raised AttributeError.
3. A payout's DispenserTransactionEvent (IN_PROGRESS, COMPLETED with the amount, ERROR) is logged
   at INFO like the CashEvents and state changes, so the log shows how each payout ended.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from device_helpers import Recorder

from cashdevice import (
    CashDevice,
    CashEventType,
    CashSystemOpenResult,
    DeviceModel,
    DispenserTransactionState,
    DispenseTransactionRequestResult,
    ValueCountryCode,
)
from cashdevice.records import (
    EVENT_ARGS,
    CashEventResponse,
    DeviceStatusResponse,
    DispenserTransactionEventResponse,
)

Make = Callable[..., Any]
COMPLETED = DispenserTransactionState.COMPLETED
ROOT = Path(__file__).resolve().parents[2]

# A C# handler ported literally, with the typo a first-hour port makes (`e.Amount`: there is no
# such member).  The second receiver counts the credits the host reported, for the ledger check.
SCRIPT = textwrap.dedent(
    """
    import sys, threading
    {logging_setup}
    from cashdevice import CashDevice, CashEventType, DeviceModel
    from cashdevice.emulator import Emulator

    FAST = dict(read_time=0.05, stack_time=0.05)
    emu = Emulator("SPECTRAL_PAYOUT", currency="EUR", **FAST)
    device = CashDevice(poll_interval=0.05)
    raised = threading.Event()
    stored = []

    def OnCashEvent(sender, e):
        if e.EventType == CashEventType.STORED:
            raised.set()
            print("credit", e.Amount)          # AttributeError: the C# port's typo

    def count(sender, e):
        if e.EventType == CashEventType.STORED:
            stored.append(e.Value)

    device.CashEvent += OnCashEvent
    device.CashEvent += count
    assert device.Open(emu.url, 0, DeviceModel.SPECTRAL_PAYOUT).name == "OK"
    assert emu.insert_note(2000, wait=10)
    assert raised.wait(10)
    assert emu.wait_for(lambda e: e.ledger.count("stored") == 1, timeout=10)
    device.Close()                              # joins the poll thread: its log line is out
    credited = sum(d.value * c.stored for d, c in emu.ledger.counts.items())
    print("host", sum(stored), "ledger", credited)
    emu.stop()
    """
)


def run_script(logging_setup: str) -> subprocess.CompletedProcess[str]:
    script = SCRIPT.format(logging_setup=logging_setup)
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_a_raising_handler_is_not_silent_in_a_script_without_logging() -> None:
    out = run_script("")
    assert out.returncode == 0, out.stderr
    assert "host 2000 ledger 2000" in out.stdout  # the other receiver still got the credit
    assert "a CashEventResponse receiver raised" in out.stderr, out.stderr
    assert "AttributeError" in out.stderr and "Amount" in out.stderr


def test_with_logging_configured_the_error_is_shown_once() -> None:
    out = run_script("import logging; logging.basicConfig(level=logging.WARNING)")
    assert out.returncode == 0, out.stderr
    assert "host 2000 ledger 2000" in out.stdout
    assert out.stderr.count("a CashEventResponse receiver raised") == 1, out.stderr
    assert out.stderr.count("Traceback (most recent call last)") == 1, out.stderr


def test_an_application_that_silenced_the_library_stays_silent() -> None:
    out = run_script("import logging; logging.getLogger('cashdevice').setLevel(logging.CRITICAL)")
    assert out.returncode == 0, out.stderr
    assert "host 2000 ledger 2000" in out.stdout
    assert out.stderr == ""


@pytest.mark.parametrize("cls", [c for c in EVENT_ARGS.values() if hasattr(c, "TYPE")])
def test_every_event_payload_answers_to_the_rest_type_key(cls: type) -> None:
    assert getattr(cls, "type", None) is not None, f"{cls.__name__} has no .type"


def test_get_device_status_objects_switch_on_type_as_rest_clients_do(emulators: Make, devices: Make) -> None:
    """A REST client ported to the Python API: ``for ev in GetDeviceStatus(): if ev.type == ...``
    (the seed's JSON, L2626-L2681), compared with the emulator's ledger."""
    emu = emulators("SPECTRAL_PAYOUT")
    device = devices()
    rec = Recorder(device)
    assert device.Open(emu.url, 0, DeviceModel.SPECTRAL_PAYOUT) == CashSystemOpenResult.OK
    assert emu.insert_note(2000, wait=10)
    rec.wait_for(lambda: ("STORED", 2000, "EUR") in rec.cash(), what="STORED")
    credited: list[int] = []
    states: list[str] = []
    for e in device.GetDeviceStatus():
        if e.type == "CashEventResponse" and e.eventTypeAsString == "STORED":
            credited.append(e.value)
        elif e.type == "DeviceStatusResponse":
            states.append(e.stateAsString)
        assert e.type == e.to_json()["type"] == e.Type
    assert credited == [emu.ledger.get(2000, "EUR").stored * 2000]
    assert states[:2] == ["CONNECTING", "CONNECTED"]
    assert CashEventResponse(CashEventType.STORED, 500).type == "CashEventResponse"
    assert DeviceStatusResponse.type == "DeviceStatusResponse"


def test_payout_transaction_is_logged_at_info(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    emu = emulators("SPECTRAL_PAYOUT", levels={500: 4}, auto_take=0.05)
    device = devices()
    rec = Recorder(device)
    assert device.Open(emu.url, 0, DeviceModel.SPECTRAL_PAYOUT) == CashSystemOpenResult.OK
    with caplog.at_level(logging.INFO, logger="cashdevice"):
        assert device.DispenseValue(ValueCountryCode(1000, "EUR")) == DispenseTransactionRequestResult.OK
        rec.wait_for(
            lambda: any(e.state == COMPLETED for e in rec.of("DispenserTransactionEvent")), what="COMPLETED"
        )
    ends: list[DispenserTransactionEventResponse] = [
        e for e in rec.of("DispenserTransactionEvent") if e.state != DispenserTransactionState.IN_PROGRESS
    ]
    paid = emu.ledger.get(500, "EUR").dispensed * 500
    assert [e.value for e in ends] == [paid] == [1000]
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(line.startswith("Dispenser transaction: IN_PROGRESS - Type: PAYOUT") for line in lines), lines
    end = f"Dispenser transaction: COMPLETED - Type: PAYOUT - Value: {paid} Requested: 1000"
    assert f"{end} - CountryCode: EUR" in lines


def test_the_handler_port_of_the_readme_side_by_side_example(emulators: Make, devices: Make) -> None:
    """The README's C# side by side, with a DispenserTransactionEvent handler using the names the
    .NET spelling gives (``e.State``, ``e.Value``, ``e.RequestedValue``, ``e.TransactionType``)."""
    emu = emulators("SPECTRAL_PAYOUT", levels={500: 4}, auto_take=0.05)
    device: CashDevice = devices()
    seen: list[tuple[str, str, int, int]] = []

    def OnDispenserTransaction(sender: Any, e: Any) -> None:  # the C# name
        seen.append((e.State.name, e.TransactionType.name, e.Value, e.RequestedValue))

    device.DispenserTransactionEvent += OnDispenserTransaction
    rec = Recorder(device)
    assert device.Open(emu.url, 0, DeviceModel.SPECTRAL_PAYOUT)
    assert device.DispenseValue(ValueCountryCode(Value=1500, CountryCode="EUR"))
    rec.wait_for(lambda: len(seen) == 2, what="two transaction events")
    assert seen == [("IN_PROGRESS", "PAYOUT", 0, 1500), ("COMPLETED", "PAYOUT", 1500, 1500)]
    assert emu.ledger.get(500, "EUR").dispensed * 500 == 1500


def test_a_jam_is_logged_with_its_error_once(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    """The state says only ERROR; the log names which (``deviceError``), once while it lasts."""
    emu = emulators("SPECTRAL_PAYOUT")
    device = devices()
    rec = Recorder(device)
    assert device.Open(emu.url, 0, DeviceModel.SPECTRAL_PAYOUT) == CashSystemOpenResult.OK
    with caplog.at_level(logging.INFO, logger="cashdevice"):
        emu.jam("safe")
        rec.wait_for(lambda: device.deviceError.name == "SAFE_JAM", what="SAFE_JAM")
        polls = emu.exchanges
        assert emu.wait_for(lambda e: e.exchanges >= polls + 5, timeout=10)  # the jam repeated
        emu.clear_jam()
        rec.wait_for(lambda: device.deviceError.name == "NONE", what="the jam cleared")
    errors = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Device error:")]
    assert errors == ["Device error: SAFE_JAM"]


def test_a_refused_single_denomination_names_the_method_called(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    emu = emulators("SPECTRAL_PAYOUT")
    device = devices()
    assert device.Open(emu.url, 0, DeviceModel.SPECTRAL_PAYOUT) == CashSystemOpenResult.OK
    with caplog.at_level(logging.ERROR, logger="cashdevice"):
        assert device.SetDenominationInhibit(ValueCountryCode(777, "EUR"), True) is False
        assert device.SetDenominationInhibitSingleCurrency(777, True) is False
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert lines == [
        "SetDenominationInhibit: not in the dataset: 777 EUR",
        "SetDenominationInhibitSingleCurrency: not in the dataset: 777 EUR",
    ]


def test_smart_empty_in_progress_names_the_only_currency(emulators: Make, devices: Make) -> None:
    emu = emulators("SPECTRAL_PAYOUT", levels={500: 3})
    device = devices()
    rec = Recorder(device)
    assert device.Open(emu.url, 0, DeviceModel.SPECTRAL_PAYOUT) == CashSystemOpenResult.OK
    assert device.SmartEmpty() == DispenseTransactionRequestResult.OK
    rec.wait_for(lambda: any(e.state == COMPLETED for e in rec.of("DispenserTransactionEvent")), what="end")
    events = rec.of("DispenserTransactionEvent")
    assert [(e.state.name, e.countryCode) for e in events] == [("IN_PROGRESS", "EUR"), ("COMPLETED", "EUR")]
    assert emu.ledger.get(500, "EUR").emptied == 3


def test_a_wrong_fixed_key_is_hinted_at(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    emu = emulators("SPECTRAL_PAYOUT")
    device = devices()
    with caplog.at_level(logging.ERROR, logger="cashdevice"):
        result = device.Open(emu.url, 0, DeviceModel.SPECTRAL_PAYOUT, 0x1122334455667788)
    assert result == CashSystemOpenResult.PORT_ERROR
    assert any("KEY NOT SET" in r.getMessage() and "check encKey" in r.getMessage() for r in caplog.records)
