"""Rich display (``_repr_html_``) of CashDevice, the emulator's ledger view and the list
GetDeviceStatus() returns, compared with the HTML kept in ``fixtures/``; values are escaped and
plain ``repr`` is unchanged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import FAST

from cashdevice import CashDevice, CashEventResponse, CashEventType, DeviceState, DeviceStatusResponse
from cashdevice._html import DeviceStatusList
from cashdevice.emulator import Emulator

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def opened() -> Iterator[tuple[Emulator, CashDevice]]:
    emu = Emulator("SPECTRAL_PAYOUT", currency="EUR", levels={500: 3}, **FAST)
    device = CashDevice(poll_interval=0.05, timeout=0.3)
    idle = threading.Event()
    device.DeviceStateChangedEvent += lambda s, e: idle.set() if e.state == DeviceState.IDLE else None
    try:
        assert device.Open(emu.url, 0).name == "OK"
        assert idle.wait(10), "the device never reached IDLE"
        yield emu, device
    finally:
        device.Close()
        emu.stop()


def test_device_html_shows_identity_state_and_levels(opened: tuple[Emulator, CashDevice]) -> None:
    emu, device = opened
    before = repr(device)
    html = device._repr_html_().replace(emu.url, "cashdevice://ID")
    assert html == fixture("device.html")
    assert repr(device) == before and not before.startswith("<")


def test_ledger_html_after_a_note(opened: tuple[Emulator, CashDevice]) -> None:
    emu, device = opened
    stored = threading.Event()
    device.CashEvent.connect(lambda s, e: stored.set() if e.eventType == CashEventType.STORED else None)
    assert emu.insert_note(2000, wait=5)
    assert stored.wait(10)
    device.Close()
    assert emu.ledger._repr_html_() == fixture("ledger.html")


def test_status_list_renders_escaped_and_keeps_plain_repr(opened: tuple[Emulator, CashDevice]) -> None:
    _, device = opened
    status = device.GetDeviceStatus()
    assert isinstance(status, DeviceStatusList) and isinstance(status, list)
    events = DeviceStatusList(
        [
            DeviceStatusResponse(DeviceState.IDLE, True),
            CashEventResponse(CashEventType.STORED, 2000, 0, "EUR"),
            CashEventResponse(CashEventType.ESCROW, 500, 0, "<b>&"),
        ]
    )
    assert repr(events) == repr(list(events))
    html = events._repr_html_()
    assert html == fixture("status.html")
    assert "<b>&" not in html and "&lt;b&gt;&amp;" in html
