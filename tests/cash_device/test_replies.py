"""Structured reply parsers against the manuals' example bytes."""

from __future__ import annotations

import pytest

from cashdevice.replies import (
    BuildRevision,
    Channel,
    Level,
    parse_all_levels,
    parse_build_revisions,
    parse_serial_number,
    parse_setup_request,
    parse_unit_data,
)

# GA973 example, EUR NV200 at protocol 6, 4 channels (ssp-protocol.md §4.6)
NV200_V6 = bytes.fromhex(
    "00 30333335 455552 000001 04 050A1432 02020202 000064 06"
    + " 455552" * 4
    + " 05000000 0A000000 14000000 32000000"
)
# GA973 example, SMART Hopper at protocol 7, 7 EUR coins
HOPPER_V7 = bytes.fromhex("03 30363134 455552 07 07 0200 0500 0A00 1400 3200 6400 C800" + " 455552" * 7)


def test_validator_setup_v6() -> None:
    info = parse_setup_request(NV200_V6)
    assert (info.unit_type, info.firmware, info.country, info.protocol_version) == (0, "0335", "EUR", 6)
    assert info.real_value_multiplier == 100 and info.value_multiplier == 1
    assert info.channels == tuple(Channel(i + 1, v, "EUR") for i, v in enumerate((500, 1000, 2000, 5000)))
    assert not info.is_coin_device and info.currencies == ("EUR",)


def test_validator_setup_v5_uses_legacy_bytes() -> None:
    v5 = NV200_V6[: 15 + 8] + b"\x05"
    info = parse_setup_request(v5)
    assert info.protocol_version == 5
    assert [c.value for c in info.channels] == [500, 1000, 2000, 5000]


def test_hopper_setup_v7() -> None:
    info = parse_setup_request(HOPPER_V7)
    assert (info.unit_type, info.firmware, info.protocol_version) == (3, "0614", 7)
    assert [c.value for c in info.channels] == [2, 5, 10, 20, 50, 100, 200]
    assert info.is_coin_device and {c.country for c in info.channels} == {"EUR"}


def test_multi_currency_setup() -> None:
    reply = bytearray(NV200_V6)
    base = 16 + 8
    reply[base + 6 : base + 9] = b"GBP"
    info = parse_setup_request(bytes(reply))
    assert info.currencies == ("EUR", "GBP")
    assert info.channels[2] == Channel(3, 2000, "GBP")


@pytest.mark.parametrize("cut", [0, 5, 11, 20, 30, len(NV200_V6) - 1])
def test_truncated_setup_raises(cut: int) -> None:
    with pytest.raises(ValueError):
        parse_setup_request(NV200_V6[:cut])


def test_unit_data_serial_build_levels() -> None:
    unit = parse_unit_data(bytes.fromhex("06 30343134 455552 000064 08"))
    assert (unit.unit_type, unit.firmware, unit.country, unit.value_multiplier, unit.protocol_version) == (
        6,
        "0414",
        "EUR",
        100,
        8,
    )
    assert parse_serial_number(bytes.fromhex("00 60 9B 26")) == 0x609B26
    revs = parse_build_revisions(bytes.fromhex("00 8E03 06 6500"))
    assert revs == (BuildRevision(0, 910), BuildRevision(6, 101))
    assert [r.text for r in revs] == ["9.10", "1.01"]
    levels = parse_all_levels(bytes.fromhex("02 0300 F4010000 455552 0000 E8030000 455552"))
    assert levels == (Level(3, 500, "EUR"), Level(0, 1000, "EUR"))
    for bad, fn in (
        (b"\x02\x00", parse_all_levels),
        (b"\x00\x01", parse_build_revisions),
        (b"\x01", parse_serial_number),
    ):
        with pytest.raises(ValueError):
            fn(bad)  # type: ignore[operator]
