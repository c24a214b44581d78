"""Every known-answer vector of shared/vectors/ssp-vectors.json, byte for byte.

The vectors were produced by an independent SSP host implementation (ITL's C host library);
a copy lives in tests/ssp/data so the suite never skips, and a test checks that the copy
still equals shared/ when shared/ sits beside the checkout (as it does in CI).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashdevice import ssp

DATA = Path(__file__).parent / "data" / "ssp-vectors.json"
VECTORS: dict[str, Any] = json.loads(DATA.read_text())
SHARED = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "ssp-vectors.json"


def test_copy_matches_shared() -> None:
    if not SHARED.exists():
        pytest.skip(f"{SHARED} not present")
    assert json.loads(SHARED.read_text()) == VECTORS


def test_every_section_present() -> None:
    for section in ("crc16", "packets", "dh", "encrypted"):
        assert VECTORS[section], section


CRC_FUNCTIONS = [ssp.crc16_python] + ([ssp.crc16] if ssp.crc16 is not ssp.crc16_python else [])
"""Every CRC implementation here: ours, and crcmod's C code when the ``[fast]`` extra is in."""


@pytest.mark.parametrize("v", VECTORS["crc16"], ids=lambda v: v["data"])
def test_crc16(v: dict[str, Any]) -> None:
    for crc16 in CRC_FUNCTIONS:
        assert crc16(bytes.fromhex(v["data"])) == v["crc"]


def test_crc16_catalogue_check_value() -> None:
    for crc16 in CRC_FUNCTIONS:
        assert crc16(b"123456789") == 0xAEE7  # CRC-16/CMS


def test_crc16_backend() -> None:
    """crcmod computes crc16 whenever its C extension imports (the ``[fast]`` extra)."""
    native = importlib.util.find_spec("crcmod") is not None and importlib.util.find_spec(
        "crcmod._crcfunext"
    ) is not None
    assert ssp.CRC_BACKEND == ("crcmod" if native else "python")
    assert (ssp.crc16 is ssp.crc16_python) == (not native) == (len(CRC_FUNCTIONS) == 1)


@pytest.mark.parametrize("v", VECTORS["packets"], ids=lambda v: v["wire"])
def test_packet_encode_and_parse(v: dict[str, Any]) -> None:
    wire = bytes.fromhex(v["wire"])
    data = bytes.fromhex(v["data"])
    assert ssp.encode_packet(v["address"], bool(v["seq_flag"]), data) == wire
    (packet,) = ssp.PacketParser().feed(wire)
    assert packet == ssp.Packet(v["address"], bool(v["seq_flag"]), data)
    assert packet.encode() == wire


@pytest.mark.parametrize("v", VECTORS["dh"], ids=lambda v: str(v["key"]))
def test_diffie_hellman(v: dict[str, Any]) -> None:
    g, p = v["generator"], v["modulus"]
    host_inter = ssp.dh_inter_key(g, p, v["host_random"])
    slave_inter = ssp.dh_inter_key(g, p, v["slave_random"])
    assert host_inter == v["host_inter_key"]
    assert slave_inter == v["slave_inter_key"]
    assert ssp.dh_shared_key(slave_inter, v["host_random"], p) == v["key"]
    assert ssp.dh_shared_key(host_inter, v["slave_random"], p) == v["key"]
    assert ssp.is_prime(g) and ssp.is_prime(p)


@pytest.mark.parametrize("v", VECTORS["encrypted"], ids=lambda v: v["wire"][:24])
def test_encrypted_packet(v: dict[str, Any]) -> None:
    key = ssp.aes_key(v["fixed_key"], v["negotiated_key"])
    assert key.hex() == v["aes_key"]
    data = bytes.fromhex(v["data"])
    field = ssp.encrypt_data(key, v["ecount"], data, bytes.fromhex(v["packing"]))
    wire = ssp.encode_packet(v["address"], bool(v["seq_flag"]), field)
    assert wire.hex() == v["wire"]
    # the plaintext block is what the cipher saw
    from Crypto.Cipher import AES

    assert AES.new(key, AES.MODE_ECB).decrypt(field[1:]).hex() == v["plaintext_block"]
    (packet,) = ssp.PacketParser().feed(wire)
    assert ssp.decrypt_data(key, packet.data) == (v["ecount"], data)


def _crc16_bitwise(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


@given(st.binary(max_size=600))
def test_crc16_matches_the_bit_by_bit_definition(data: bytes) -> None:
    """Every length (odd, even, short, two bytes per step) and every input type."""
    expected = _crc16_bitwise(data)
    for crc16 in CRC_FUNCTIONS:
        assert crc16(data) == crc16(bytearray(data)) == crc16(memoryview(data)) == expected


def test_crc16_every_length_up_to_a_frame() -> None:
    blob = bytes((i * 37 + 11) & 0xFF for i in range(262))
    for n in range(len(blob) + 1):
        for crc16 in CRC_FUNCTIONS:
            assert crc16(blob[:n]) == crc16(memoryview(blob)[:n]) == _crc16_bitwise(blob[:n])
