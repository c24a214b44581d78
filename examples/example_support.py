"""What the examples share: ``--port`` (a real device) or the emulator (default), opening the
device, and waiting for events with deadlines.  Not part of the library."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from typing import Any

from cashdevice import (
    CashDevice,
    CashEventType,
    CashSystemOpenResult,
    DeviceModel,
    DispenserTransactionState,
)
from cashdevice.emulator import Emulator

FAST = {"read_time": 0.05, "stack_time": 0.05, "reject_time": 0.05, "payout_step": 0.05, "coin_step": 0.02}
COIN_MODELS = {"SMART_HOPPER", "SMART_COIN_SYSTEM", "TWIN_SMART_COIN_SYSTEM", "SMART_HOPPER_4"}


def parser(description: str | None, model: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--port", help="a real device's port (/dev/ttyACM0, COM5); default: the emulator")
    p.add_argument("--model", default=model, type=str.upper, help=f"device model (default {model})")
    p.add_argument(
        "--address", type=lambda s: int(s, 0), help="SSP address (default 16 coin devices, else 0)"
    )
    p.add_argument("--currency", default="EUR", help="emulated dataset currency (default EUR)")
    p.add_argument("--fast", action="store_true", help="emulator: shorten the mechanical timings")
    return p


class Events:
    """Records a device's events; ``wait_for`` blocks until a condition holds or a deadline passes."""

    def __init__(self, device: CashDevice, echo: bool = True) -> None:
        self.log: list[tuple[str, Any]] = []
        self._cond = threading.Condition(threading.RLock())
        self._print = threading.Lock()
        self._echo = echo
        for name in ("DeviceStateChangedEvent", "CashEvent", "DispenserTransactionEvent"):
            getattr(device, name).connect(self._receiver(name))

    def _receiver(self, name: str) -> Callable[..., None]:
        def receive(sender: Any, e: Any) -> None:
            with self._cond:
                self.log.append((name, e))
                self._cond.notify_all()
            if self._echo:
                self.say(f"  [{name}] {e.message}")

        return receive

    def say(self, text: str) -> None:
        """Print whole lines from any thread (the poll thread prints events)."""
        with self._print:
            print(text, flush=True)

    def paid(self) -> int:
        """Value credited so far (notes stored / stacked, coins credited)."""
        kinds = (CashEventType.STORED, CashEventType.STACKED, CashEventType.COIN_CREDIT)
        with self._cond:
            return sum(e.value for n, e in self.log if n == "CashEvent" and e.eventType in kinds)

    def finished(self) -> bool:
        """A dispenser transaction (payout, float, empty) has completed or failed."""
        with self._cond:
            return any(
                n == "DispenserTransactionEvent" and e.state != DispenserTransactionState.IN_PROGRESS
                for n, e in self.log
            )

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True


def open_device(
    args: argparse.Namespace, **emulator_options: Any
) -> tuple[CashDevice, Emulator | None, Events]:
    """Open ``args.port`` or, without one, a fresh emulator of ``args.model``; exits on failure."""
    emulator = None
    port = args.port
    address = args.address if args.address is not None else (16 if args.model in COIN_MODELS else 0)
    if port is None:
        options = dict(FAST) if args.fast else {}
        options.update(emulator_options)
        emulator = Emulator(args.model, currency=args.currency, address=address, **options)
        port = emulator.url
    device = CashDevice()
    events = Events(device)
    model = DeviceModel.__members__.get(args.model, DeviceModel.NOTE_VALIDATOR)
    result = device.Open(port, address, model)
    events.say(f"Open({port!r}, {address}, DeviceModel.{model.name}) -> {result.name}")
    if result != CashSystemOpenResult.OK:
        if emulator is not None:
            emulator.stop()
        raise SystemExit(1)
    return device, emulator, events


def close_device(device: CashDevice, emulator: Emulator | None, events: Events) -> None:
    """Close the device and, for an emulated one, say whether its ledger balances and stop it."""
    device.Close()
    if emulator is not None:
        events.say(f"emulator ledger balanced: {emulator.ledger.balanced()}")
        emulator.stop()
