"""``python -m cashdevice ports``: the serial ports of this machine, ITL devices marked.

An ITL device is a USB port with vendor id 0x191C (Innovative Technology), as the REST API's
GetConnectedUSBDevices reports them; ``--json`` prints that endpoint's list (``Port``,
``DeviceName``, ``VendorId``, ``ProductId``) with the port's name as ``Port``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

__all__ = ["ITL_VENDOR_ID", "build_parser", "main", "report", "serial_ports"]

ITL_VENDOR_ID = 0x191C


def serial_ports(infos: Iterable[ListPortInfo] | None = None) -> list[dict[str, Any]]:
    """Every serial port (``infos``: pyserial's port list, default this machine's): ``Port``,
    ``DeviceName``, ``VendorId``, ``ProductId`` (None when not USB), ``SerialNumber``, ``ITL``
    (vendor 0x191C), sorted by port name."""
    out = []
    found = list_ports.comports() if infos is None else infos
    for info in sorted(found, key=lambda p: p.device):
        out.append(
            {
                "Port": info.device,
                "DeviceName": info.product or info.description or "",
                "VendorId": info.vid,
                "ProductId": info.pid,
                "SerialNumber": info.serial_number or "",
                "ITL": info.vid == ITL_VENDOR_ID,
            }
        )
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cashdevice ports", description=__doc__)
    parser.add_argument("--itl", action="store_true", help="only ITL devices (USB vendor 0x191C)")
    parser.add_argument("--json", action="store_true", help="GetConnectedUSBDevices JSON (ITL devices)")
    return parser


def report(ports: list[dict[str, Any]], itl_only: bool = False, as_json: bool = False) -> list[str]:
    """The lines ``ports`` prints."""
    if as_json:
        keys = ("Port", "DeviceName", "VendorId", "ProductId")
        return [json.dumps([{k: p[k] for k in keys} for p in ports if p["ITL"]], indent=2)]
    shown = [p for p in ports if p["ITL"] or not itl_only]
    if not shown:
        return ["no ITL device found (USB vendor 0x191C)" if itl_only else "no serial ports found"]
    lines = []
    for p in shown:
        usb = f"{p['VendorId']:04X}:{p['ProductId']:04X}" if p["VendorId"] is not None else "-"
        mark = "ITL" if p["ITL"] else "   "
        serial_number = f"  serial {p['SerialNumber']}" if p["SerialNumber"] else ""
        lines.append(f"{mark} {p['Port']:<20} {usb:<9}  {p['DeviceName']}{serial_number}")
    itl = sum(1 for p in shown if p["ITL"])
    lines.append(f"{len(shown)} port(s), {itl} ITL device(s)")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for line in report(serial_ports(), args.itl, args.json):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
