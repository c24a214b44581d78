"""First-hour fixes outside the CLI: patient scripted customers (``insert_note(wait=)``), the
library's NullHandler, logger names that read as ports, and the coin-address hint."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

import pytest
from support import FAST

from cashdevice import CashDevice, CashEventType
from cashdevice.emulator import Emulator


def test_insert_note_wait_feeds_every_note_in_turn() -> None:
    with Emulator("SPECTRAL_PAYOUT", currency="EUR", **FAST) as emu, CashDevice(poll_interval=0.05) as device:
        credited: list[int] = []
        done = threading.Condition()

        def on_cash(sender: CashDevice, e: object) -> None:
            if getattr(e, "eventType", None) == CashEventType.STORED:
                with done:
                    credited.append(getattr(e, "value", 0))
                    done.notify_all()

        device.CashEvent.connect(on_cash)
        assert device.Open(emu.url).name == "OK"
        assert emu.insert_note(500)
        assert not emu.insert_note(1000)  # busy with the first: the impatient customer is refused
        for value in (2000, 1000, 500):
            assert emu.insert_note(value, wait=10)
        with done:
            assert done.wait_for(lambda: len(credited) == 4, timeout=10), credited
        assert credited == [500, 2000, 1000, 500]
        assert emu.ledger.get(1000, "EUR").refused == 1  # one refusal, not one per retry


def test_insert_wait_gives_up_when_nobody_enables_the_unit() -> None:
    with Emulator("SMART_HOPPER", currency="EUR", **FAST) as emu:
        assert not emu.insert_coin(100, wait=0.2)
        assert emu.ledger.get(100, "EUR").refused == 1
    with Emulator("NOTE_VALIDATOR", currency="EUR", **FAST) as emu:
        assert not emu.insert_note(500, wait=0.1)


def test_coin_insert_wait_against_a_host() -> None:
    with Emulator("SMART_HOPPER", currency="EUR", **FAST) as emu, CashDevice(poll_interval=0.05) as device:
        assert device.Open(emu.url, 16).name == "OK"
        assert all(emu.insert_coin(v, wait=10) for v in (100, 200, 50))
        assert emu.wait_for(lambda e: e.ledger.count("credited") == 3, timeout=10)


def test_library_adds_a_null_handler_and_scripts_stay_quiet() -> None:
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("cashdevice").handlers)
    script = "import cashdevice; cashdevice.CashDevice().Open('/nonexistent/tty')"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr == ""


def test_logger_names_read_as_ports() -> None:
    with Emulator("NOTE_VALIDATOR", **FAST) as emu, CashDevice() as device:
        assert device.Open(emu.url).name == "OK"
        assert device.log.name == f"cashdevice.device.[{emu.url}@0x00]"
    with CashDevice() as device:
        device.Open("socket://127.0.0.1:9", 16)
        assert device.log.name == "cashdevice.device.[socket://127·0·0·1:9@0x10]"
        assert device.log.parent is not None and device.log.parent.name in ("cashdevice.device", "cashdevice")


def test_coin_device_at_address_zero_names_address_16(caplog: pytest.LogCaptureFixture) -> None:
    with Emulator("SMART_HOPPER", **FAST) as emu, CashDevice(timeout=0.05, retries=0) as device:
        with caplog.at_level(logging.ERROR, logger="cashdevice"):
            assert device.Open(emu.url).name == "PORT_ERROR"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "no reply from address 0x00" in text
    assert "SMART Hopper and SMART Coin System answer at address 16 (0x10)" in text
