"""What the examples share: ``--port`` (a real device) or the emulator (default), opening the
device, and waiting for events with deadlines.  Not part of the library."""

from __future__ import annotations

import argparse
import signal
import sys
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
from cashdevice.emulator import MODELS, Emulator

FAST = {"read_time": 0.05, "stack_time": 0.05, "reject_time": 0.05, "payout_step": 0.05, "coin_step": 0.02}


def address(text: str) -> int:
    """An SSP address: decimal, or hex with 0x."""
    return int(text, 0)


def parser(description: str | None, model: str, *, payout: bool = False) -> argparse.ArgumentParser:
    """The common options; ``--model`` takes the models that handle what ``model`` handles (notes
    or coins; with ``payout``, only those that pay out), by the emulator's names (``SMART_PAYOUT``
    opens as ``DeviceModel.SPECTRAL_DEVICE``)."""
    kind = MODELS[model].kind
    models = [n for n, spec in MODELS.items() if spec.kind == kind and (spec.facts.payout or not payout)]
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", help="a real device's port (/dev/ttyACM0, COM5); default: the emulator")
    p.add_argument(
        "--model",
        default=model,
        type=str.upper,
        choices=models,
        metavar="MODEL",
        help=f"device model, any case: {', '.join(models)} (default {model})",
    )
    p.add_argument("--address", type=address, help="SSP address (default 16 coin devices, else 0)")
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
        """:func:`wait_until` on the recorded events."""
        return wait_until(self._cond, predicate, timeout)


def wait_until(cond: threading.Condition, predicate: Callable[[], bool], timeout: float) -> bool:
    """True once ``predicate()`` holds (``cond`` is notified when it may), False after ``timeout``
    seconds; raises KeyboardInterrupt here, outside the lock, once Ctrl-C was pressed (:func:`run`)."""
    deadline = time.monotonic() + timeout
    with cond:
        while not predicate() and not _INTERRUPTED.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            cond.wait(min(remaining, 0.1))
        held = predicate()
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt
    return held


def open_device(
    args: argparse.Namespace, **emulator_options: Any
) -> tuple[CashDevice, Emulator | None, Events]:
    """Open ``args.port`` or, without one, a fresh emulator of ``args.model``; exits on failure."""
    emulator = None
    port = args.port
    facts = MODELS[args.model].facts
    ssp_address = args.address if args.address is not None else facts.address
    if port is None:
        options = dict(FAST) if args.fast else {}
        options.update(emulator_options)
        try:
            emulator = Emulator(args.model, currency=args.currency, address=ssp_address, **options)
        except ValueError as exc:
            print(f"{args.model} {args.currency}: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        port = emulator.url
    device = CashDevice()
    events = Events(device)
    model: DeviceModel = facts.model
    result = device.Open(port, ssp_address, model)
    events.say(f"Open({port!r}, {ssp_address}, DeviceModel.{model.name}) -> {result.name}")
    if result != CashSystemOpenResult.OK:
        if emulator is not None:
            emulator.stop()
        raise SystemExit(1)
    return device, emulator, events


_INTERRUPTED = threading.Event()
"""Ctrl-C was pressed: the next :meth:`Events.wait_for` raises KeyboardInterrupt."""


def run(main: Callable[[], int]) -> int:
    """``main()``; Ctrl-C (or SIGTERM) ends it quietly with exit status 130, its ``finally`` closing
    the device.  The signal only sets a flag, which the script's next wait turns into
    KeyboardInterrupt at a safe point (raised from inside a lock's wait it could leave the lock
    broken); a second Ctrl-C interrupts at once."""

    def on_signal(signum: int, frame: object) -> None:
        if _INTERRUPTED.is_set():
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        _INTERRUPTED.set()

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, on_signal)
    try:
        return main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def close_device(device: CashDevice, emulator: Emulator | None, events: Events) -> None:
    """Close the device and, for an emulated one, say whether its ledger balances and stop it."""
    device.Close()
    if emulator is not None:
        events.say(f"emulator ledger balanced: {emulator.ledger.balanced()}")
        emulator.stop()
