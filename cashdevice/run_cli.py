"""``python -m cashdevice run PORT --model MODEL``: open a device and print its events.

Opens ``PORT`` (any pyserial URL) with :meth:`CashDevice.Open`, prints the unit's identity, then
every event as it fires, one whole line each, until Ctrl-C or SIGTERM; then closes the device
(DISABLE, port released) and exits 0.  Exit 1 when Open fails (the library's warnings and errors,
such as why the port would not open, go to stderr; ``-v`` adds its INFO lines, ``--log-raw`` the
wire packets).  Ctrl-C while Open runs stops once Open returns (it may be talking to the device:
the unit is disabled on the way out); a second Ctrl-C stops at once.  Exit 130 when stopped
before the device was open.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from .cash_device import CashDevice, _logger_name
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


def address(text: str) -> int:
    """An SSP address: decimal, or hex with 0x."""
    return int(text, 0)


def hex_key(text: str) -> int:
    """The eSSP fixed key, in hex."""
    return int(text, 16)


hex_key.__name__ = "hex key"  # (argparse: "invalid hex key value: 'xyz'")


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
        type=address,
        help="SSP address (default: 16 for SMART Hopper / SMART Coin System models, else 0)",
    )
    parser.add_argument("--key", type=hex_key, default=DEFAULT_FIXED_KEY, help="eSSP fixed key in hex")
    parser.add_argument(
        "--log-raw", action="store_true", help="log wire packets (logRawPackets) to stderr"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="the library's INFO lines on stderr")
    return parser


def _log_to_stderr(port: str, address: int, verbose: bool, raw: bool) -> Callable[[], None]:
    """The library's log on stderr (WARNING and up, or INFO with ``verbose``; the device's wire
    packets with ``raw``), as the application of this command; returns what undoes it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    library = logging.getLogger("cashdevice")
    level = library.level
    library.addHandler(handler)
    library.setLevel(logging.INFO if verbose else logging.WARNING)
    wire = logging.getLogger(f"cashdevice.device.{_logger_name(port, address)}.link.raw")
    if raw:
        wire.setLevel(logging.DEBUG)

    def undo() -> None:
        library.removeHandler(handler)
        library.setLevel(level)
        if raw:
            wire.setLevel(logging.NOTSET)

    return undo


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

    opening = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if opening.is_set():
            if stop.is_set():
                raise KeyboardInterrupt  # the second one: at once
            # (os.write: the handler may run while this thread holds say's lock)
            os.write(2, b"stopping once Open returns (Ctrl-C again to stop at once)\n")
        stop.set()

    device = CashDevice()
    for name in EVENTS:
        getattr(device, name).connect(_printer(name, say))
    undo_logging = _log_to_stderr(args.port, address, args.verbose, args.log_raw)
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        model = DeviceModel[args.model]
        raw = args.log_raw
        opening.set()
        try:
            opened = open_and_identify(device, say, args.port, address, model, args.key, logRawPackets=raw)
        except KeyboardInterrupt:
            say("interrupted")
            return 130
        finally:
            opening.clear()
        if stop.is_set():
            say("stopped before the device was running")
            return 130
        if not opened:
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
        undo_logging()
        say("closed")


def _printer(name: str, say: Any) -> Any:
    def receive(sender: CashDevice, e: Any) -> None:
        say(f"{name}: {getattr(e, 'message', e)}")

    return receive


if __name__ == "__main__":
    sys.exit(main())
