"""Fixtures for CashDevice tests: emulators (in-process or pty) and devices, all closed after
each test."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from device_helpers import FAST

from cashdevice import CashDevice
from cashdevice.emulator import Emulator


@pytest.fixture
def emulators() -> Iterator[Callable[..., Emulator]]:
    made: list[Emulator] = []

    def make(model: str, **options: Any) -> Emulator:
        opts = dict(FAST)
        opts.update(options)
        emu = Emulator(model, **opts)
        made.append(emu)
        return emu

    yield make
    for emu in made:
        emu.stop()


@pytest.fixture
def devices() -> Iterator[Callable[..., CashDevice]]:
    made: list[CashDevice] = []

    def make(**options: Any) -> CashDevice:
        options.setdefault("poll_interval", 0.05)
        options.setdefault("timeout", 0.3)
        options.setdefault("reconnect_interval", 0.2)
        device = CashDevice(**options)
        made.append(device)
        return device

    yield make
    for device in made:
        device.Close()
