"""Generator of ITL-format download files for tests: valid ones of any size and corrupted variants.

The content is seeded pseudo-random bytes -- no third-party firmware.  Realistic size (GA973 §10.1):
about 10 kB of RAM code and 300 kB of firmware/dataset data.
"""

from __future__ import annotations

import random

from cashdevice.firmware_file import HEADER_SIZE, build_header, xor_checksum

REALISTIC_RAM_SIZE = 10 * 1024
REALISTIC_DATA_SIZE = 300 * 1024

NEW_FIRMWARE = "NV02004141498000"
NEW_DATASET = "EUR02604"

CORRUPTIONS = (
    "magic",
    "short",
    "truncated",
    "padded",
    "ram_checksum",
    "header_ram_checksum",
    "ram_size_too_big",
    "ram_size_zero",
    "block_size",
    "total_bytes",
)


def make_itl_file(
    *,
    ram_size: int = 1000,
    data_size: int = 9000,
    device_type: int = 0x07,
    update_code: int = 0x80,
    block_size_field: int = 0,
    baud_field: int = 0,
    firmware_version: str = NEW_FIRMWARE,
    dataset_version: str = NEW_DATASET,
    seed: int = 1,
) -> bytes:
    """A valid file: header + ``ram_size`` RAM bytes + ``data_size`` data bytes."""
    rng = random.Random(seed)
    ram = bytes(rng.getrandbits(8) for _ in range(ram_size))
    data = bytes(rng.getrandbits(8) for _ in range(data_size))
    header = build_header(
        ram_size=ram_size,
        ram_checksum=xor_checksum(ram),
        total_bytes=data_size,
        device_type=device_type,
        update_code=update_code,
        block_size_field=block_size_field,
        baud_field=baud_field,
        firmware_version=firmware_version,
        dataset_version=dataset_version,
    )
    return header + ram + data


def realistic_itl_file(seed: int = 7, **kwargs: int | str) -> bytes:
    """A file of realistic size: 10 kB RAM code + 300 kB data (75 blocks of 4096)."""
    return make_itl_file(
        ram_size=REALISTIC_RAM_SIZE,
        data_size=REALISTIC_DATA_SIZE,
        seed=seed,
        **kwargs,  # type: ignore[arg-type]
    )


def corrupt(data: bytes, kind: str) -> bytes:
    """A corrupted copy of a valid file; each kind must be refused before the port is touched."""
    buf = bytearray(data)
    ram_size = int.from_bytes(buf[7:11], "big")
    if kind == "magic":
        buf[0:3] = b"ITX"
    elif kind == "short":
        del buf[HEADER_SIZE - 1 :]
    elif kind == "truncated":
        del buf[-100:]
    elif kind == "padded":
        buf += b"\x00" * 64
    elif kind == "ram_checksum":
        buf[HEADER_SIZE + ram_size // 2] ^= 0x5A  # a RAM byte damaged in transit / on disk
    elif kind == "header_ram_checksum":
        buf[0x10] ^= 0x01
    elif kind == "ram_size_too_big":
        buf[7:11] = (len(buf)).to_bytes(4, "big")
    elif kind == "ram_size_zero":
        buf[7:11] = bytes(4)
    elif kind == "block_size":
        buf[0x3E:0x40] = (1000).to_bytes(2, "big")
    elif kind == "total_bytes":
        total = int.from_bytes(buf[0x11:0x15], "big")
        buf[0x11:0x15] = (total + 4096).to_bytes(4, "big")
    else:
        raise ValueError(f"unknown corruption {kind!r}")
    return bytes(buf)
