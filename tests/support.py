"""Helpers shared by every test directory (on ``sys.path`` through setup.cfg's ``pythonpath``).

One set of fast mechanical timings for every emulator a test makes, one ``emulators`` fixture
factory, and the download timings.  Tests wait on conditions with deadlines, never bare sleeps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Final

from cashdevice.download import DownloadTiming
from cashdevice.emulator import Emulator, VirtualClock

FAST: Final[Mapping[str, float]] = MappingProxyType(
    {"read_time": 0.05, "stack_time": 0.05, "reject_time": 0.05, "payout_step": 0.05, "coin_step": 0.02}
)
"""Mechanical timings that keep the suite fast (the emulator's defaults are real-world seconds)."""

FAST_DOWNLOAD: Final = DownloadTiming(
    baud_settle=0.0,
    ram_start=0.02,
    reply_timeout=0.5,
    ssp_timeout=0.2,
    ssp_retries=2,
    reset_timeout=3.0,
    reopen_interval=0.05,
)
"""Short download pauses for tests (the manual's are 0.5 s / 2.5 s / 1 s / 10 s)."""


TRANSPORTS: Final = ("inproc", "pty", "tcp")
"""The ways a host reaches an emulator: the in-process URL, a pseudo-terminal, a TCP socket."""


def emulator_url(emu: Emulator, transport: str) -> str:
    """The port string a host opens to reach ``emu`` over ``transport`` (one of :data:`TRANSPORTS`)."""
    if transport == "pty":
        return emu.start_pty()
    if transport == "tcp":
        return f"socket://127.0.0.1:{emu.start_tcp()}"
    assert transport == "inproc", transport
    return emu.url


def emulator_factory(virtual: bool = False) -> Iterator[Callable[..., Emulator]]:
    """Body of the ``emulators`` fixture: ``make(model, **options)`` with :data:`FAST` timings
    unless overridden; every emulator made is stopped afterwards.  ``virtual``: each emulator
    gets its own :class:`~cashdevice.emulator.VirtualClock` (mechanical time passes only in
    ``emu.advance`` / :func:`settle`), unless the test passes ``clock=``."""
    made: list[Emulator] = []

    def make(model: str, **options: Any) -> Emulator:
        if virtual:
            options.setdefault("clock", VirtualClock())
        emu = Emulator(model, **{**FAST, **options})
        made.append(emu)
        return emu

    yield make
    for emu in made:
        emu.stop()


def assert_no_new_threads(before: set[threading.Thread], timeout: float = 5.0) -> None:
    """Join every thread started since ``before`` was taken, with one deadline; fail naming the
    ones still running (a test or module must not leave threads behind)."""
    deadline = time.monotonic() + timeout
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra or time.monotonic() > deadline:
            break
        extra[0].join(0.05)
    assert not extra, f"threads left running: {[t.name for t in extra]}"


def settle(emu: Emulator, predicate: Callable[[Emulator], bool], seconds: float, step: float = 0.01) -> bool:
    """Let up to ``seconds`` of the emulator's virtual mechanical time pass, ``step`` at a time,
    until ``predicate(emu)`` holds; return whether it did (no real time is waited: the answer
    is the same on a loaded machine)."""
    passed = 0.0
    while not predicate(emu):
        if passed >= seconds:
            return False
        emu.advance(step)
        passed += step
    return True
