"""Helpers for CashDevice tests: fast emulator timings and an event recorder to wait on
(conditions with deadlines, never bare sleeps)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from support import emulator_url

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel
from cashdevice.emulator import Emulator


class Recorder:
    """Collects every event of a CashDevice, in order, and lets a test wait for a condition."""

    def __init__(self, device: CashDevice) -> None:
        self.events: list[tuple[str, Any]] = []
        self._cond = threading.Condition()
        for name in (
            "DeviceStateChangedEvent",
            "CashEvent",
            "DispenserTransactionEvent",
            "DeviceModuleStateChangedEvent",
            "ReplenishEvent",
            "SetDenominationRouteFinishedEvent",
        ):
            getattr(device, name).connect(self._receiver(name))

    def _receiver(self, name: str) -> Callable[..., None]:
        def receive(sender: Any, e: Any) -> None:
            with self._cond:
                self.events.append((name, e))
                self._cond.notify_all()

        return receive

    def of(self, name: str) -> list[Any]:
        with self._cond:
            return [e for n, e in self.events if n == name]

    def states(self) -> list[str]:
        return [e.state.name for e in self.of("DeviceStateChangedEvent")]

    def cash(self) -> list[tuple[str, int, str]]:
        return [(e.eventType.name, e.value, e.countryCode) for e in self.of("CashEvent")]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
        """Wait until ``predicate()`` holds: checked again at each event and every 0.1 s.

        The predicate runs without this recorder's lock.  It may call the device
        (``GetAllLevels``), which waits for the device's link; the poll thread holds the link
        while it delivers an event to :meth:`_receiver`, which takes this lock.  Holding the
        lock around the predicate deadlocked the two (seen once in CI)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                seen = len(self.events)
            if predicate():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}; events: {self.summary()}")
            with self._cond:
                if len(self.events) == seen:  # (an event since the check: check again at once)
                    self._cond.wait(min(remaining, 0.1))

    def wait_state(self, state: str, timeout: float = 10.0) -> None:
        self.wait_for(lambda: state in self.states(), timeout, f"state {state}")

    def wait_cash(self, kind: str, count: int = 1, timeout: float = 10.0) -> None:
        self.wait_for(lambda: [c[0] for c in self.cash()].count(kind) >= count, timeout, f"{count} x {kind}")

    def summary(self) -> str:
        out = []
        for name, e in self.events:
            if name == "DeviceStateChangedEvent":
                out.append(e.state.name)
            elif name == "CashEvent":
                out.append(f"cash:{e.eventType.name}:{e.value}")
            else:
                out.append(f"{name}:{getattr(e, 'state', '')}")
        return " ".join(out)


@contextmanager
def wire(emu: Emulator) -> Iterator[list[bytes]]:
    """Every command DATA the emulator executes while the block runs (POLLs left out)."""
    seen: list[bytes] = []
    device = emu.device
    original = device.execute

    def execute(data: bytes, encrypted: bool) -> bytes:
        if data[0] not in (0x07, 0x56, 0x57, 0x11):
            seen.append(bytes(data))
        return original(data, encrypted)

    with emu._lock:
        device.execute = execute  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        with emu._lock:
            del device.execute


def open_emulated(
    emulators: Callable[..., Emulator],
    devices: Callable[..., CashDevice],
    model: str,
    device_options: dict[str, Any] | None = None,
    transport: str = "inproc",
    **emu_options: Any,
) -> tuple[Emulator, CashDevice, Recorder]:
    """An emulated ``model`` opened by a fresh CashDevice (its DeviceModel as the hint) over
    ``transport`` (``support.TRANSPORTS``), a Recorder on it, once the device has reached IDLE."""
    emu = emulators(model, **emu_options)
    device = devices(**(device_options or {}))
    rec = Recorder(device)
    port = emulator_url(emu, transport)
    assert device.Open(port, emu.address, DeviceModel[model]) == CashSystemOpenResult.OK
    rec.wait_state("IDLE")
    return emu, device, rec
