"""Timed realistic-size downloads into the download slave (soak test and benchmarks/download_duration.py)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from download_slave import BITS_PER_BYTE, DownloadSlave
from itl_files import realistic_itl_file

from cashdevice import ssp
from cashdevice.download import DownloadTiming, FirmwareDownload
from cashdevice.firmware_file import HEADER_SIZE, parse_firmware

SSP_BAUD = 9600


@dataclass(frozen=True)
class Measurement:
    baud: int
    file_bytes: int
    blocks: int
    elapsed: float
    line_minimum: float
    """Line time of every byte of the raw phase plus the SSP header command, at 11 bits per byte."""
    pauses: float
    """Pauses the procedure mandates (baud settle + RAM start), not line time."""
    succeeded: bool
    message: str

    @property
    def overhead(self) -> float:
        return self.elapsed - self.line_minimum - self.pauses

    def row(self) -> str:
        return (
            f"{self.baud:>7} baud  {self.file_bytes:>7} bytes  {self.blocks:>3} blocks  "
            f"measured {self.elapsed:7.2f} s  line minimum {self.line_minimum:7.2f} s  "
            f"+ pauses {self.pauses:.1f} s  overhead {self.overhead:+.2f} s  "
            f"{'OK' if self.succeeded else 'FAILED: ' + self.message}"
        )


def line_minimum(data: bytes, baud: int, block_size: int = 4096) -> float:
    fw = parse_firmware(data)
    blocks = fw.block_count(block_size)
    host = len(fw.ram_block) + 1 + HEADER_SIZE + len(fw.main_data) + blocks  # RAM, code, header, data, XORs
    device = 1 + 1 + 1 + blocks  # RAM checksum, two ACKs, block XORs
    header_cmd = len(ssp.encode_packet(0, False, fw.header.raw)) + len(ssp.encode_packet(0, False, b"\xf0"))
    return (host + device) * BITS_PER_BYTE / baud + header_cmd * BITS_PER_BYTE / SSP_BAUD


def measure(baud: int, *, pace: bool = True, timing: DownloadTiming | None = None) -> Measurement:
    """One download of a 10 kB + 300 kB file whose header asks for ``baud`` (0x44 field)."""
    data = realistic_itl_file(baud_field=baud)
    # A pty drains at once, so the host runs ahead of the modelled line by up to a block (4096 bytes =
    # 1.2 s at 38400): the raw reply timeout must cover that.  It does not change the duration.
    timing = timing or DownloadTiming(reply_timeout=5.0)
    with tempfile.TemporaryDirectory() as tmp, DownloadSlave(pace=pace) as slave:
        path = Path(tmp) / "realistic.bv1"
        path.write_bytes(data)
        dl = FirmwareDownload(slave.path, 0, path, timing=timing, enc_key=None)
        if not dl.start():
            raise RuntimeError(dl.message)
        dl.wait()
        fw = parse_firmware(data)
        return Measurement(
            baud=fw.header.download_baud,
            file_bytes=len(data),
            blocks=fw.block_count(4096),
            elapsed=dl.elapsed or 0.0,
            line_minimum=line_minimum(data, fw.header.download_baud),
            pauses=timing.baud_settle + timing.ram_start,
            succeeded=dl.succeeded,
            message=dl.message,
        )
