"""ITL firmware / dataset files (``*.bv1`` and friends): parse and validate, pure functions only.

Layout (ssp-protocol.md §7.2; GA973 §10.1; ITL-C ``SSPDownload.c``)::

    +--------------------+---------------------------+------------------------------------+
    | header (128 bytes) | RAM block (RAM size bytes)| firmware/dataset data (total bytes)|
    +--------------------+---------------------------+------------------------------------+

Header fields we read (all multi-byte fields big-endian):

====== ======= ============================================================== ==========
offset size    meaning                                                        sources
====== ======= ============================================================== ==========
0x00   3       ``"ITL"``                                                      ✔ GA973, ITL-C
0x05   1       device type (ITL-C: 0x09 / 0x0A = NV9 / NV10, fixed 38400 baud) ◐ ITL-C
0x06   1       update code, sent raw before the main data                     ✔ GA973, ITL-C
0x07   4       RAM size                                                       ✔ GA973, ITL-C
0x10   1       RAM checksum (XOR of the RAM block, see below)                 ◐ ITL-C
0x11   4       total byte count of the firmware/dataset data                  ◐ ITL-C
0x3E   2       download block size, 0 means 4096                              ◐ ITL-C
0x44   4       download baud rate, 0 means 38400                              ◐ ITL-C
0x20   16      firmware version, ASCII (GET FIRMWARE VERSION format)          ? ours
0x30   8       dataset version, ASCII (GET DATASET VERSION format)            ? ours
====== ======= ============================================================== ==========

Derived rules (our choices, written down because the sources differ):

* RAM checksum: GA973 compares the device's RAM answer with the XOR of the bytes sent, ITL-C with
  header byte 0x10; both work on real units, so a sound file has ``header[0x10] == XOR(RAM block)``.
  :func:`parse_firmware` refuses a file where they differ (corrupt RAM block or header).
* Total byte count: GA973 takes "file size - 128 - RAM size", ITL-C the header count; a sound file has
  both equal.  A file where they differ (truncated, padded, wrong RAM size) is refused.
* Version strings at 0x20 / 0x30 are **our convention** for the files our test generator builds and the
  emulator reports after a download; real files may hold other data there, which only makes
  :attr:`FirmwareHeader.firmware_version` None (non-printable) or meaningless — the host never uses it.
"""

from __future__ import annotations

import functools
import operator
import os
from dataclasses import dataclass
from typing import Final, Iterator, Union

__all__ = [
    "ACK",
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_DOWNLOAD_BAUD",
    "FIXED_BAUD_DEVICE_TYPES",
    "HEADER_SIZE",
    "MAGIC",
    "MAX_FILE_SIZE",
    "SECTION_SIZE",
    "FirmwareFile",
    "FirmwareFileError",
    "FirmwareHeader",
    "build_header",
    "download_baud",
    "load_firmware",
    "parse_firmware",
    "parse_header",
    "xor_checksum",
]

HEADER_SIZE: Final = 128
SECTION_SIZE: Final = 128
"""Raw writes are split in sections of this many bytes (GA973 §10.3.4 / §10.3.5)."""
MAGIC: Final = b"ITL"
ACK: Final = 0x32
"""The RAM code's acknowledgement of the update code and of the raw header (GA973 §10.3.5)."""
DEFAULT_BLOCK_SIZE: Final = 4096
DEFAULT_DOWNLOAD_BAUD: Final = 38400
FIXED_BAUD_DEVICE_TYPES: Final = frozenset({0x09, 0x0A})
"""Device types that always download at 38400 whatever the header says (ITL-C: NV9, NV10) ◐."""
MAX_FILE_SIZE: Final = 16 * 1024 * 1024
"""Sanity limit (ours): real files are about 10 kB RAM + 300 kB data."""

OFF_DEVICE_TYPE: Final = 0x05
OFF_UPDATE_CODE: Final = 0x06
OFF_RAM_SIZE: Final = 0x07
OFF_RAM_CHECKSUM: Final = 0x10
OFF_TOTAL_BYTES: Final = 0x11
OFF_FIRMWARE_VERSION: Final = 0x20
LEN_FIRMWARE_VERSION: Final = 16
OFF_DATASET_VERSION: Final = 0x30
LEN_DATASET_VERSION: Final = 8
OFF_BLOCK_SIZE: Final = 0x3E
OFF_DOWNLOAD_BAUD: Final = 0x44

PathLike = Union[str, "os.PathLike[str]"]


class FirmwareFileError(ValueError):
    """The file is not a usable ITL download file; the message says why."""


def xor_checksum(data: bytes, start: int = 0) -> int:
    """XOR of all bytes (the download's per-block and RAM checksum)."""
    return functools.reduce(operator.xor, data, start)


def _u32(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "big")


def _ascii(field: bytes) -> str | None:
    text = field.rstrip(b"\x00 ")
    if not text or not all(0x20 <= b < 0x7F for b in text):
        return None
    return text.decode("ascii")


@dataclass(frozen=True)
class FirmwareHeader:
    """The fields of the 128-byte header (see the module docstring for offsets and sources)."""

    raw: bytes
    device_type: int
    update_code: int
    ram_size: int
    ram_checksum: int
    total_bytes: int
    block_size_field: int
    """As stored; 0 means :data:`DEFAULT_BLOCK_SIZE`."""
    baud_field: int
    """As stored; 0 means :data:`DEFAULT_DOWNLOAD_BAUD`."""
    firmware_version: str | None
    dataset_version: str | None

    @property
    def block_size(self) -> int:
        """The header's block size (the device's answer to PROGRAM is what the host uses)."""
        return self.block_size_field or DEFAULT_BLOCK_SIZE

    @property
    def download_baud(self) -> int:
        return download_baud(self.device_type, self.baud_field)


def download_baud(device_type: int, baud_field: int) -> int:
    """Raw-phase baud rate: 38400 for NV9/NV10 or an empty field (ITL-C; GA973 always says 38400)."""
    if device_type in FIXED_BAUD_DEVICE_TYPES or baud_field == 0:
        return DEFAULT_DOWNLOAD_BAUD
    return baud_field


def parse_header(data: bytes) -> FirmwareHeader:
    """Decode the first 128 bytes of ``data``.  Raises :class:`FirmwareFileError` for a short buffer or a
    missing ``"ITL"`` magic; field values are not judged here (see :func:`parse_firmware`)."""
    if len(data) < HEADER_SIZE:
        raise FirmwareFileError(f"file is {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header")
    raw = bytes(data[:HEADER_SIZE])
    if raw[:3] != MAGIC:
        raise FirmwareFileError(f"not an ITL file: starts {raw[:3]!r}, expected {MAGIC!r}")
    return FirmwareHeader(
        raw=raw,
        device_type=raw[OFF_DEVICE_TYPE],
        update_code=raw[OFF_UPDATE_CODE],
        ram_size=_u32(raw, OFF_RAM_SIZE),
        ram_checksum=raw[OFF_RAM_CHECKSUM],
        total_bytes=_u32(raw, OFF_TOTAL_BYTES),
        block_size_field=int.from_bytes(raw[OFF_BLOCK_SIZE : OFF_BLOCK_SIZE + 2], "big"),
        baud_field=_u32(raw, OFF_DOWNLOAD_BAUD),
        firmware_version=_ascii(raw[OFF_FIRMWARE_VERSION : OFF_FIRMWARE_VERSION + LEN_FIRMWARE_VERSION]),
        dataset_version=_ascii(raw[OFF_DATASET_VERSION : OFF_DATASET_VERSION + LEN_DATASET_VERSION]),
    )


@dataclass(frozen=True)
class FirmwareFile:
    """A validated download file: header, RAM block and firmware/dataset data."""

    data: bytes
    header: FirmwareHeader
    name: str = ""

    @property
    def ram_block(self) -> bytes:
        return self.data[HEADER_SIZE : HEADER_SIZE + self.header.ram_size]

    @property
    def main_data(self) -> bytes:
        """The firmware/dataset data sent in blocks after the RAM code runs."""
        return self.data[HEADER_SIZE + self.header.ram_size :]

    @property
    def ram_sections(self) -> int:
        """Number of 128-byte RAM writes (the last may be short) -- ``TotalRamBlocks``."""
        return -(-self.header.ram_size // SECTION_SIZE)

    def block_count(self, block_size: int) -> int:
        """Blocks of ``block_size`` in the main data, the last one maybe short (``TotalDownloadBlocks``)."""
        return -(-len(self.main_data) // block_size)

    def blocks(self, block_size: int) -> Iterator[bytes]:
        """The main data cut in blocks (GA973 §10.3.5; a short last block is sent as it is)."""
        main = self.main_data
        for start in range(0, len(main), block_size):
            yield main[start : start + block_size]


def parse_firmware(data: bytes, name: str = "") -> FirmwareFile:
    """Validate a whole file (header, sizes, RAM checksum).  Raises :class:`FirmwareFileError`."""
    if len(data) > MAX_FILE_SIZE:
        raise FirmwareFileError(f"file is {len(data)} bytes, more than the {MAX_FILE_SIZE}-byte limit")
    header = parse_header(data)
    if header.ram_size == 0:
        raise FirmwareFileError("header RAM size (bytes 7-10) is 0")
    available = len(data) - HEADER_SIZE
    if header.ram_size >= available:
        raise FirmwareFileError(
            f"header RAM size {header.ram_size} leaves no firmware/dataset data "
            f"in a file of {len(data)} bytes"
        )
    main_size = available - header.ram_size
    if header.total_bytes != main_size:
        raise FirmwareFileError(
            f"header byte count (0x11-0x14) is {header.total_bytes} but the file holds {main_size} bytes "
            f"after the header and the {header.ram_size}-byte RAM block (truncated or padded file?)"
        )
    if header.block_size % SECTION_SIZE:
        raise FirmwareFileError(f"header block size {header.block_size} is not a multiple of {SECTION_SIZE}")
    ram = data[HEADER_SIZE : HEADER_SIZE + header.ram_size]
    actual = xor_checksum(ram)
    if actual != header.ram_checksum:
        raise FirmwareFileError(
            f"RAM block checksum 0x{actual:02X} does not match header byte 0x10 (0x{header.ram_checksum:02X})"
        )
    return FirmwareFile(bytes(data), header, name)


def load_firmware(path: PathLike) -> FirmwareFile:
    """Read and validate a file.  Raises :class:`FirmwareFileError` (also for an unreadable file)."""
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_SIZE:
            raise FirmwareFileError(f"{size} bytes, more than the {MAX_FILE_SIZE}-byte limit")
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise FirmwareFileError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from exc
    try:
        return parse_firmware(data, os.path.basename(os.fspath(path)))
    except FirmwareFileError as exc:
        raise FirmwareFileError(f"{os.fspath(path)}: {exc}") from None


def build_header(
    *,
    ram_size: int,
    ram_checksum: int,
    total_bytes: int,
    device_type: int = 0x00,
    update_code: int = 0x80,
    block_size_field: int = 0,
    baud_field: int = 0,
    firmware_version: str = "",
    dataset_version: str = "",
) -> bytes:
    """The inverse of :func:`parse_header` (for test files and the emulator); unused bytes are 0."""
    raw = bytearray(HEADER_SIZE)
    raw[0:3] = MAGIC
    raw[OFF_DEVICE_TYPE] = device_type
    raw[OFF_UPDATE_CODE] = update_code
    raw[OFF_RAM_SIZE : OFF_RAM_SIZE + 4] = ram_size.to_bytes(4, "big")
    raw[OFF_RAM_CHECKSUM] = ram_checksum
    raw[OFF_TOTAL_BYTES : OFF_TOTAL_BYTES + 4] = total_bytes.to_bytes(4, "big")
    raw[OFF_BLOCK_SIZE : OFF_BLOCK_SIZE + 2] = block_size_field.to_bytes(2, "big")
    raw[OFF_DOWNLOAD_BAUD : OFF_DOWNLOAD_BAUD + 4] = baud_field.to_bytes(4, "big")
    fw = firmware_version.encode("ascii")[:LEN_FIRMWARE_VERSION]
    raw[OFF_FIRMWARE_VERSION : OFF_FIRMWARE_VERSION + len(fw)] = fw
    ds = dataset_version.encode("ascii")[:LEN_DATASET_VERSION]
    raw[OFF_DATASET_VERSION : OFF_DATASET_VERSION + len(ds)] = ds
    return bytes(raw)
