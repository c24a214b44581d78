from __future__ import annotations

from pathlib import Path

import pytest
from itl_files import CORRUPTIONS, NEW_DATASET, NEW_FIRMWARE, corrupt, make_itl_file, realistic_itl_file

from cashdevice.firmware_file import (
    HEADER_SIZE,
    FirmwareFileError,
    build_header,
    download_baud,
    load_firmware,
    parse_firmware,
    parse_header,
    xor_checksum,
)


def test_header_fields_round_trip() -> None:
    raw = build_header(
        ram_size=0x01020304,
        ram_checksum=0xAB,
        total_bytes=0x0A0B0C0D,
        device_type=0x09,
        update_code=0x81,
        block_size_field=0x1000,
        baud_field=115200,
        firmware_version="NV02004141498000",
        dataset_version="EUR02604",
    )
    assert len(raw) == HEADER_SIZE
    assert raw[7:11] == bytes((1, 2, 3, 4))  # big-endian (GA973 §10.3.4)
    assert raw[0x44:0x48] == (115200).to_bytes(4, "big")
    h = parse_header(raw)
    assert (h.device_type, h.update_code, h.ram_size, h.ram_checksum) == (0x09, 0x81, 0x01020304, 0xAB)
    assert (h.total_bytes, h.block_size, h.baud_field) == (0x0A0B0C0D, 4096, 115200)
    assert h.download_baud == 38400  # NV9: fixed (ITL-C)
    assert (h.firmware_version, h.dataset_version) == ("NV02004141498000", "EUR02604")


def test_defaults_for_zero_fields() -> None:
    h = parse_header(build_header(ram_size=1, ram_checksum=0, total_bytes=1))
    assert h.block_size == 4096 and h.download_baud == 38400
    assert h.firmware_version is None and h.dataset_version is None
    assert download_baud(0x07, 115200) == 115200
    assert download_baud(0x0A, 115200) == 38400
    assert download_baud(0x07, 0) == 38400


def test_valid_file_sections_and_blocks() -> None:
    data = make_itl_file(ram_size=1000, data_size=9000)
    fw = parse_firmware(data, "x.bv1")
    assert fw.header.firmware_version == NEW_FIRMWARE and fw.header.dataset_version == NEW_DATASET
    assert len(fw.ram_block) == 1000 and fw.ram_sections == 8  # 7 x 128 + 104
    assert fw.main_data == data[HEADER_SIZE + 1000 :]
    blocks = list(fw.blocks(4096))
    assert [len(b) for b in blocks] == [4096, 4096, 808]
    assert fw.block_count(4096) == 3 and fw.block_count(128) == 71
    assert b"".join(blocks) == fw.main_data
    assert xor_checksum(fw.ram_block) == fw.header.ram_checksum


def test_realistic_file_size() -> None:
    fw = parse_firmware(realistic_itl_file())
    assert len(fw.data) == 128 + 10 * 1024 + 300 * 1024
    assert fw.ram_sections == 80 and fw.block_count(4096) == 75


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_corrupted_files_are_refused(kind: str) -> None:
    good = make_itl_file()
    parse_firmware(good)
    bad = corrupt(good, kind)
    assert bad != good
    with pytest.raises(FirmwareFileError):
        parse_firmware(bad)


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("magic", "not an ITL file"),
        ("short", "shorter than"),
        ("truncated", "truncated"),
        ("ram_checksum", "RAM block checksum"),
        ("block_size", "multiple of 128"),
        ("ram_size_zero", "RAM size"),
    ],
)
def test_refusal_messages_say_why(kind: str, words: str) -> None:
    with pytest.raises(FirmwareFileError, match=words):
        parse_firmware(corrupt(make_itl_file(), kind))


def test_load_firmware_reads_and_names(tmp_path: Path) -> None:
    path = tmp_path / "a.bv1"
    path.write_bytes(make_itl_file())
    assert load_firmware(path).name == "a.bv1"
    with pytest.raises(FirmwareFileError, match="cannot read"):
        load_firmware(tmp_path / "missing.bv1")
    path.write_bytes(corrupt(make_itl_file(), "magic"))
    with pytest.raises(FirmwareFileError, match=r"a\.bv1: not an ITL file"):
        load_firmware(path)
