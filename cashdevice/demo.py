"""``python -m cashdevice demo``: an emulated device, opened with CashDevice, taking a few notes
(or coins, for the coin models).

Starts the in-process emulator (no hardware, no pty), opens it exactly as a C# integration
would (``Open`` with the port string), inserts notes or coins and prints every event as it fires.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any

from .cash_device import CashDevice
from .enums import CashEventType, DeviceModel, DeviceState
from .run_cli import open_and_identify

_MODELS = (
    "NOTE_VALIDATOR",
    "SPECTRAL_PAYOUT",
    "SMART_PAYOUT",
    "NV11",
    "NV4000",
    "SMART_HOPPER",
    "SMART_COIN_SYSTEM",
    "TWIN_SMART_COIN_SYSTEM",
    "SMART_HOPPER_4",
)
_CREDITED = (CashEventType.STACKED, CashEventType.STORED, CashEventType.COIN_CREDIT)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cashdevice demo", description=__doc__)
    parser.add_argument(
        "--model",
        default="SPECTRAL_PAYOUT",
        type=str.upper,
        choices=_MODELS,
        metavar="MODEL",
        help=f"emulated model, any case: {', '.join(_MODELS)} (default SPECTRAL_PAYOUT)",
    )
    parser.add_argument("--currency", default="EUR", type=str.upper, help="dataset currency (default EUR)")
    parser.add_argument(
        "--notes",
        default=None,
        help="comma-separated values to insert, minor units (default 500,2000,1000 notes; 100,200,50 coins)",
    )
    parser.add_argument("--fast", action="store_true", help="shorten the emulated mechanical timings")
    return parser


class _Printer:
    """Whole lines from several threads (the caller and the poll thread), never glued together."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __call__(self, text: str, error: bool = False) -> None:
        with self._lock:
            stream = sys.stderr if error else sys.stdout
            stream.write(text + "\n")
            stream.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .emulator import Emulator

    say = _Printer()
    try:
        values = [int(v) for v in (args.notes or "").split(",") if v.strip()]
    except ValueError:
        say(f"--notes: not a list of integers: {args.notes!r}", error=True)
        return 2
    options: dict[str, Any] = (
        {"read_time": 0.2, "stack_time": 0.3, "coin_step": 0.05, "payout_step": 0.2} if args.fast else {}
    )
    try:
        emulator = Emulator(args.model, currency=args.currency, **options)
    except ValueError as exc:
        say(f"--currency {args.currency}: {exc}", error=True)
        return 2
    coins = emulator.spec.kind == "coins"
    item = "coin" if coins else "note"
    if args.notes is None:
        values = [100, 200, 50] if coins else [500, 2000, 1000]
    known = [d.value for d in emulator.denominations if d.country == emulator.currencies[0]]
    unknown = [v for v in values if v not in known]
    if unknown:
        emulator.stop()
        say(
            f"--notes: {', '.join(map(str, unknown))} is not a {item} of {emulator.currencies[0]} "
            f"({', '.join(map(str, known))})",
            error=True,
        )
        return 2
    device = CashDevice()
    credited = threading.Semaphore(0)

    def on_state(sender: CashDevice, e: Any) -> None:
        say(f"DeviceStateChangedEvent: {e.message}")

    def on_cash(sender: CashDevice, e: Any) -> None:
        say(f"CashEvent: {e.message}")
        if e.eventType in _CREDITED:
            credited.release()

    device.DeviceStateChangedEvent.connect(on_state)
    device.CashEvent.connect(on_cash)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # a flag, turned into KeyboardInterrupt between waits (raised inside a lock's wait it
        # could leave the lock broken); a second Ctrl-C stops at once
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {number: signal.signal(number, on_signal) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        model: DeviceModel = emulator.spec.facts.model  # (the emulator's SMART_PAYOUT: SPECTRAL_DEVICE)
        if not open_and_identify(device, say, emulator.url, emulator.address, model):
            return 1
        channels = ", ".join(f"{c.Value} {c.CountryCode}" for c in device.currencyAssignment)
        say(f"currencyAssignment: {channels}")
        for value in values:
            # (values are in minor units; every emulated dataset's currency has two decimals)
            say(f"-- customer inserts a {value / 100:.2f} {args.currency} {item} ({value})")
            insert = emulator.insert_coin if coins else emulator.insert_note
            if not insert(value, wait=30):
                say(f"the unit did not take the {item} within 30 s", error=True)
                return 1
            deadline = time.monotonic() + 30
            while not credited.acquire(timeout=0.1):  # (in slices: Ctrl-C is seen between them)
                if stop.is_set():
                    raise KeyboardInterrupt
                if time.monotonic() > deadline:
                    say(f"{item} was not credited within 30 s", error=True)
                    return 1
        if device.deviceState != DeviceState.NOT_CONNECTED:
            if coins:
                device.GetAllLevels()  # coin credits do not report where each coin went
            say(f"stored value: {sum(c.Value * c.Stored for c in device.currencyAssignment)}")
        return 0
    except KeyboardInterrupt:
        say("interrupted", error=True)
        return 130
    finally:
        device.Close()
        emulator.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)


if __name__ == "__main__":
    sys.exit(main())
