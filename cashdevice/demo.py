"""``python -m cashdevice demo``: an emulated device, opened with CashDevice, taking a few notes.

Starts the in-process emulator (no hardware, no pty), opens it exactly as a C# integration
would (``Open`` with the port string), inserts notes and prints every event as it fires.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from typing import Any

from .cash_device import CashDevice
from .enums import CashEventType, CashSystemOpenResult, DeviceModel, DeviceState


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cashdevice demo", description=__doc__)
    parser.add_argument("--model", default="SPECTRAL_PAYOUT", help="emulated model (default SPECTRAL_PAYOUT)")
    parser.add_argument("--currency", default="EUR", help="dataset currency (default EUR)")
    parser.add_argument(
        "--notes", default="500,2000,1000", help="comma-separated note values to insert, minor units"
    )
    parser.add_argument("--fast", action="store_true", help="shorten the emulated mechanical timings")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .emulator import Emulator

    try:
        notes = [int(v) for v in args.notes.split(",") if v.strip()]
    except ValueError:
        print(f"--notes: not a list of integers: {args.notes!r}", file=sys.stderr)
        return 2
    options: dict[str, Any] = {"read_time": 0.2, "stack_time": 0.3} if args.fast else {}
    emulator = Emulator(args.model, currency=args.currency, **options)
    device = CashDevice()
    credited = threading.Semaphore(0)

    def on_state(sender: CashDevice, e: Any) -> None:
        print(f"DeviceStateChangedEvent: {e.message}")

    def on_cash(sender: CashDevice, e: Any) -> None:
        print(f"CashEvent: {e.message}")
        if e.eventType in (CashEventType.STACKED, CashEventType.STORED):
            credited.release()

    device.DeviceStateChangedEvent.connect(on_state)
    device.CashEvent.connect(on_cash)
    try:
        model = DeviceModel.__members__.get(args.model, DeviceModel.NOTE_VALIDATOR)
        address = emulator.address
        print(f"Open({emulator.url!r}, sspAddress={address}, devModel=DeviceModel.{model.name})")
        result = device.Open(emulator.url, address, model)
        print(f"-> CashSystemOpenResult.{result.name}")
        if result != CashSystemOpenResult.OK:
            return 1
        print(
            f"deviceModel={device.deviceModel.name} firmware={device.firmware} dataset={device.dataset} "
            f"serial={device.mainSerialNumber} protocol={device.sspProtocolVersion}"
        )
        channels = ", ".join(f"{c.Value} {c.CountryCode}" for c in device.currencyAssignment)
        print(f"currencyAssignment: {channels}")
        for value in notes:
            print(f"-- customer inserts {value} {args.currency}")
            emulator.insert_note(value)
            if not credited.acquire(timeout=30):
                print("note was not credited within 30 s", file=sys.stderr)
                return 1
        if device.deviceState != DeviceState.NOT_CONNECTED:
            print(f"stored value: {sum(c.Value * c.Stored for c in device.currencyAssignment)}")
        return 0
    finally:
        device.Close()
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
