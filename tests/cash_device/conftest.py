"""Fixtures for CashDevice tests: devices, all closed after each test (``emulators`` comes from
the top-level conftest)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cashdevice import CashDevice


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
