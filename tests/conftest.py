"""Shared fixtures: a leak check that every test leaves no stray threads behind, and ``emulators``
(:func:`support.emulator_factory`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from support import emulator_factory

from cashdevice.emulator import Emulator


@pytest.fixture
def emulators() -> Iterator[Callable[..., Emulator]]:
    """``emulators(model, **options)``: an emulator with fast mechanics, stopped after the test."""
    yield from emulator_factory()


@pytest.fixture(autouse=True)
def _no_stray_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra or time.monotonic() > deadline:
            break
        extra[0].join(0.05)
    assert not extra, f"threads left running: {[t.name for t in extra]}"
