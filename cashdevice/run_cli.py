"""``python -m cashdevice run PORT --model MODEL``: open a device and print its events.

Opens ``PORT`` (any pyserial URL) with :meth:`CashDevice.Open`, prints the unit's identity, then
every event as it fires, one whole line each, until Ctrl-C or SIGTERM; then closes the device
(DISABLE, port released) and exits 0.  Exit 1 when Open fails.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from .cash_device import CashDevice
from .enums import CashSystemOpenResult, DeviceModel
from .models import MODELS
from .ssp import DEFAULT_FIXED_KEY

__all__ = ["EVENTS", "build_parser", "main"]

EVENTS = (
    "DeviceStateChangedEvent",
    "DeviceModuleStateChangedEvent",
    "CashEvent",
    "ReplenishEvent",
    "DispenserTransactionEvent",
    "SetDenominationRouteFinishedEvent",
)


def build_parser() -> argparse.ArgumentParser:
    models = [m.name for m in DeviceModel]
    parser = argparse.ArgumentParser(prog="python -m cashdevice run", description=__doc__)
    parser.add_argument("port", metavar="PORT", help="serial port or pyserial URL (/dev/ttyACM0, COM5, ...)")
    parser.add_argument(
        "--model",
        required=True,
        type=str.upper,
        choices=models,
        metavar="MODEL",
        help=f"device model, any case: {', '.join(models)}",
    )
    parser.add_argument(
        "--address",
        type=lambda s: int(s, 0),
        help="SSP address (default: 16 for SMART Hopper / SMART Coin System models, else 0)",
    )
    parser.add_argument(
        "--key", type=lambda s: int(s, 16), default=DEFAULT_FIXED_KEY, help="eSSP fixed key in hex"
    )
    parser.add_argument("--log-raw", action="store_true", help="log wire packets (logRawPackets)")
    return parser


def open_and_identify(
    device: CashDevice,
    say: Callable[[str], None],
    port: str,
    address: int,
    model: DeviceModel,
    *args: Any,
    **kw: Any,
) -> bool:
    """``device.Open(port, address, model, *args, **kw)``, saying the call, its result and, once
    open, the unit's identity (model, firmware, dataset, serial, protocol); True when open."""
    say(f"Open({port!r}, sspAddress={address}, devModel=DeviceModel.{model.name})")
    result = device.Open(port, address, model, *args, **kw)
    say(f"-> CashSystemOpenResult.{result.name}")
    if result != CashSystemOpenResult.OK:
        return False
    say(
        f"deviceModel={device.deviceModel.name} firmware={device.firmware} dataset={device.dataset} "
        f"serial={device.mainSerialNumber} protocol={device.sspProtocolVersion}"
    )
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    address = args.address if args.address is not None else MODELS[DeviceModel[args.model]].address
    lock = threading.Lock()
    stop = threading.Event()

    def say(text: str) -> None:
        with lock:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    device = CashDevice()
    for name in EVENTS:
        getattr(device, name).connect(_printer(name, say))
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        model = DeviceModel[args.model]
        raw = args.log_raw
        if not open_and_identify(device, say, args.port, address, model, args.key, logRawPackets=raw):
            return 1
        say("running; Ctrl-C or SIGTERM stops")
        while not stop.wait(0.5):
            pass
        say("stopping")
        return 0
    finally:
        device.Close()
        for s, handler in previous.items():
            signal.signal(s, handler)
        say("closed")


def _printer(name: str, say: Any) -> Any:
    def receive(sender: CashDevice, e: Any) -> None:
        say(f"{name}: {getattr(e, 'message', e)}")

    return receive


if __name__ == "__main__":
    sys.exit(main())
