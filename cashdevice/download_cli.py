"""``python -m cashdevice download FILE --port PORT``: firmware / dataset download with a progress bar.

The progress bar and diagnostics go to stderr, the result line to stdout.  Exit status: 0 complete,
1 download failed, 2 file or arguments refused (nothing sent), 130 interrupted (the download is
cancelled and the port released first).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from typing import Sequence, TextIO

from . import ssp
from .download import DownloadTiming, FirmwareDownload
from .enums import DownloadState
from .firmware_file import FirmwareFile, FirmwareFileError, load_firmware

__all__ = ["ProgressBar", "build_parser", "main"]

BAR_WIDTH = 40


def _int(text: str) -> int:
    return int(text, 0)


def _key(text: str) -> int | None:
    if text.lower() in ("none", "off", "0"):
        return None
    try:
        return int(text, 16)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a hex key: {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cashdevice download",
        description="Download an ITL firmware / dataset file (.bv1) to a cash device.",
    )
    parser.add_argument("file", metavar="FILE", help="ITL download file")
    parser.add_argument("--port", required=True, help="serial port or pyserial URL (e.g. /dev/ttyUSB0, COM5)")
    parser.add_argument(
        "--address", type=_int, default=0, help="SSP address: 0 note validators, 16 (0x10) coin systems"
    )
    parser.add_argument(
        "--baud", type=_int, default=115200, help="highest raw-phase rate the port may use (default 115200)"
    )
    parser.add_argument(
        "--no-packet", action="store_true", help="write each block in one write instead of 128-byte sections"
    )
    parser.add_argument(
        "--key",
        type=_key,
        default=ssp.DEFAULT_FIXED_KEY,
        help="eSSP fixed key in hex (default 0123456701234567); 'none' skips the key exchange",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log to stderr (-vv: debug)")
    return parser


class ProgressBar:
    """Renders ``on_block`` progress as one rewritten line: ``[####----]  42%  RAM 80/80  block 31/75``."""

    def __init__(self, firmware: FirmwareFile, stream: TextIO, width: int = BAR_WIDTH) -> None:
        self.stream = stream
        self.width = width
        self.ram_bytes = len(firmware.ram_block)
        self.main_bytes = len(firmware.main_data)
        self._last = ""
        self._lock = threading.Lock()

    def update(self, ram: int, total_ram: int, block: int, total: int) -> None:
        done = self.ram_bytes * (ram / total_ram if total_ram else 0.0)
        done += self.main_bytes * (block / total if total else 0.0)
        fraction = min(1.0, done / max(1, self.ram_bytes + self.main_bytes))
        filled = int(fraction * self.width)
        line = (
            f"[{'#' * filled}{'-' * (self.width - filled)}] {fraction * 100:5.1f}%  "
            f"RAM {ram}/{total_ram}  block {block}/{total}"
        )
        with self._lock:
            if line != self._last:
                self._last = line
                self.stream.write("\r" + line)
                self.stream.flush()

    def finish(self) -> None:
        with self._lock:
            if self._last:
                self.stream.write("\n")
                self.stream.flush()
                self._last = ""


def main(argv: Sequence[str] | None = None, *, timing: DownloadTiming | None = None) -> int:
    """Run the command; ``timing`` (tests only) shortens the manual's pauses."""
    args = build_parser().parse_args(argv)
    if args.verbose:
        logging.basicConfig(
            level=logging.DEBUG if args.verbose > 1 else logging.INFO,
            format="%(asctime)s %(name)s %(levelname)s %(message)s",
            stream=sys.stderr,
        )
    try:
        firmware = load_firmware(args.file)
    except FirmwareFileError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    header = firmware.header
    sys.stderr.write(
        f"{firmware.name}: RAM {header.ram_size} bytes, data {len(firmware.main_data)} bytes, "
        f"update code 0x{header.update_code:02X}, {header.download_baud} baud"
        + (f", firmware {header.firmware_version}" if header.firmware_version else "")
        + "\n"
    )
    bar = ProgressBar(firmware, sys.stderr)

    def on_state(state: DownloadState, message: str) -> None:
        bar.finish()
        if state is DownloadState.UPDATING:
            sys.stderr.write(f"{state.name}: {message}\n")

    download = FirmwareDownload(
        args.port,
        args.address,
        firmware,
        packet_mode=not args.no_packet,
        max_baud=args.baud,
        enc_key=args.key,
        on_state=on_state,
        on_block=None if args.quiet else bar.update,
        timing=timing,
    )
    if not download.start():
        sys.stderr.write(f"error: {download.message}\n")
        return 2
    try:
        while not download.wait(0.5):
            pass
    except KeyboardInterrupt:
        download.cancel()
        download.wait()
        bar.finish()
        sys.stderr.write("interrupted: download cancelled, port released\n")
        return 130
    elapsed = download.elapsed or 0.0
    status = download.status
    if download.succeeded:
        sys.stdout.write(
            f"COMPLETE: {firmware.name} -> {args.port} in {elapsed:.1f} s "
            f"({status.TotalRamBlocks} RAM sections, {status.TotalDownloadBlocks} blocks)\n"
        )
        return 0
    sys.stdout.write(
        f"FAILED: {download.message} (after {elapsed:.1f} s, "
        f"block {status.CurrentDownloadBlock}/{status.TotalDownloadBlocks})\n"
    )
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
