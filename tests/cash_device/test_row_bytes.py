"""The bytes of the payout, route, inhibit, option and bar code rows, pinned (issue 11 part 1).

Each request vector is a command DATA from a GA138 v2.2 packet example (the ``Host transmit`` lines,
STX, SEQ/ID, LEN and CRC left out; shared/spec/GA138_2_2_649A.txt, shared/ssp-protocol.md §1.9) or,
where the manual gives none, built field by field from its table.  A row's encoder must write exactly
these bytes from Python values, and its device-side decoder give the same values back.
"""

from __future__ import annotations

from typing import Any

import pytest

from cashdevice.commands import DEFAULT_COMMANDS, CommandTable

EUR, GBP = "EUR", "GBP"
TEST, REAL = 0x19, 0x58

# (row, arguments, command DATA in hex); the arguments are the row decoder's full tuple
REQUEST_VECTORS: list[tuple[str, tuple[Any, ...], str]] = [
    # GA138 examples
    ("HOST_PROTOCOL_VERSION", (8,), "06 08"),
    ("SET_INHIBITS", (0x0007, 2), "02 07 00"),  # channels 1-3
    ("SET_INHIBITS", (0xFFFF, 2), "02 ff ff"),
    ("SET_BARCODE_READER_CONFIGURATION", (3, 1, 18), "24 03 01 12"),
    ("SET_BARCODE_INHIBIT", (0xFD,), "26 fd"),
    ("PAYOUT_AMOUNT", (500, None, None), "33 f4 01 00 00"),  # protocol 4
    ("PAYOUT_AMOUNT", (500, EUR, REAL), "33 f4 01 00 00 45 55 52 58"),  # protocol 6, commit
    ("GET_DENOMINATION_LEVEL", (10, None, 4), "35 0a 00 00 00"),  # protocol 5
    ("GET_DENOMINATION_LEVEL", (500, EUR, 4), "35 f4 01 00 00 45 55 52"),
    ("SET_DENOMINATION_ROUTE", (0, 10, EUR, 4), "3b 00 0a 00 00 00 45 55 52"),
    ("GET_DENOMINATION_ROUTE", (500, EUR, 4), "3c f4 01 00 00 45 55 52"),
    ("FLOAT_AMOUNT", (50, 10000, None, None, 2), "3d 32 00 10 27 00 00"),  # SMART Hopper, protocol 5
    ("GET_MINIMUM_PAYOUT", (None,), "3e"),  # protocol 5
    ("GET_MINIMUM_PAYOUT", (EUR,), "3e 45 55 52"),
    (
        "PAYOUT_BY_DENOMINATION",
        ([(4, 100, EUR), (5, 10, EUR), (3, 100, GBP), (2, 50, GBP)], REAL),
        "46 04 0400 64000000 455552 0500 0a000000 455552 0300 64000000 474250 0200 32000000 474250 58",
    ),
    ("COIN_MECH_OPTIONS", (1,), "5a 01"),
    # from the manual's tables (no packet example, or the example's bytes are wrong: ssp-protocol.md §8)
    ("FLOAT_AMOUNT", (50, 10000, EUR, TEST, 2), "3d 3200 10270000 455552 19"),  # SMART Hopper, v6
    ("FLOAT_AMOUNT", (500, 10000, EUR, REAL, 4), "3d f4010000 10270000 455552 58"),  # SMART Payout, v6
    ("FLOAT_AMOUNT", (500, 10000, None, None, 4), "3d f4010000 10270000"),  # SMART Payout, v5
    (
        "FLOAT_BY_DENOMINATION",
        ([(3, 500, EUR), (0, 1000, EUR)], TEST),
        "44 02 0300 f4010000 455552 0000 e8030000 455552 19",
    ),
    ("SET_DENOMINATION_ROUTE", (1, 200, None, 2), "3b 01 c800"),  # SMART Hopper below protocol 6
    ("GET_DENOMINATION_ROUTE", (200, None, 2), "3c c800"),
    ("SET_DENOMINATION_ROUTE", (1, 500, None, 4), "3b 01 f4010000"),  # a note payout below protocol 6
    ("NV4000_SET_DENOMINATION_ROUTE", (3, 2000, EUR, 4), "3b 03 d0070000 455552"),  # ours (unpublished)
    ("ENABLE_PAYOUT_DEVICE", (None,), "5c"),
    ("ENABLE_PAYOUT_DEVICE", (0x01,), "5c 01"),  # NV11 GIVE_VALUE_ON_STORED
    ("SET_REFILL_MODE", (1,), "30 05 81 10 11 01"),
]  # fmt: skip

# (row, reply DATA after F0 in hex, decoded value); GA138 examples
REPLY_VECTORS: list[tuple[str, str, Any]] = [
    ("GET_DENOMINATION_LEVEL", "64 00", 100),
    ("GET_DENOMINATION_LEVEL", "0c 00", 12),
    ("GET_DENOMINATION_ROUTE", "00", 0),
    ("GET_MINIMUM_PAYOUT", "c8 00 00 00", 200),
    ("GET_MINIMUM_PAYOUT", "f4 01 00 00", 500),
    ("GET_BARCODE_READER_CONFIGURATION", "03 03 01 12", (3, 3, 1, 18)),
    ("GET_BARCODE_INHIBIT", "fe", 0xFE),
    ("GET_BARCODE_DATA", "01 06 31 32 33 34 35 36", (1, "123456")),
    ("GET_REFILL_MODE", "01", 1),
]

TABLE = CommandTable(allow_unverified=True)


@pytest.mark.parametrize(
    ("name", "args", "data"), REQUEST_VECTORS, ids=lambda v: v if isinstance(v, str) else ""
)
def test_request_bytes(name: str, args: tuple[Any, ...], data: str) -> None:
    row = TABLE.row(name)
    wire = bytes.fromhex(data)
    assert row.encode(*args) == wire
    assert row.decode_request(wire) == args


@pytest.mark.parametrize(
    ("name", "data", "value"), REPLY_VECTORS, ids=lambda v: v if isinstance(v, str) else ""
)
def test_reply_bytes(name: str, data: str, value: Any) -> None:
    row = DEFAULT_COMMANDS[name]
    assert row.decode(bytes.fromhex(data)) == value
    assert row.encode_reply(value) == bytes.fromhex(data)


def test_the_manual_vectors_match_the_shared_packet_vectors() -> None:
    """The C implementation's vectors (shared/vectors/ssp-vectors.json) carry these DATA fields too."""
    assert DEFAULT_COMMANDS["PAYOUT_AMOUNT"].encode(1000, EUR, REAL).hex() == "33e803000045555258"
    assert DEFAULT_COMMANDS["SET_INHIBITS"].encode(0xFFFF, 2).hex() == "02ffff"
    assert DEFAULT_COMMANDS["HOST_PROTOCOL_VERSION"].encode(7).hex() == "0607"


def test_shorter_forms_default_to_the_early_protocol() -> None:
    """Arguments a protocol-5 host leaves out are the decoder's None (and the u32 value width)."""
    rows = DEFAULT_COMMANDS
    assert rows["PAYOUT_AMOUNT"].encode(500) == bytes.fromhex("33 f4010000")
    assert rows["GET_DENOMINATION_ROUTE"].encode(500) == bytes.fromhex("3c f4010000")
    assert rows["SET_DENOMINATION_ROUTE"].encode(1, 500, EUR) == bytes.fromhex("3b 01 f4010000 455552")
    assert rows["GET_MINIMUM_PAYOUT"].encode() == b"\x3e"
    assert rows["ENABLE_PAYOUT_DEVICE"].encode() == b"\x5c"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("PAYOUT_AMOUNT", (500, EUR)),  # the country without the option byte
        ("PAYOUT_AMOUNT", (500, None, REAL)),  # the option byte without the country
        ("PAYOUT_AMOUNT", (500, "EURO", REAL)),
        ("SET_INHIBITS", (0xFF, 0)),
        ("SET_INHIBITS", (0x1FFFF, 2)),  # does not fit in two bytes
        ("GET_DENOMINATION_ROUTE", (500, EUR, 3)),  # a value field is 2 or 4 bytes
        ("FLOAT_AMOUNT", (50, 100, EUR, None, 2)),
        ("ENABLE_PAYOUT_DEVICE", (256,)),
    ],
)
def test_encoders_refuse_what_has_no_layout(name: str, args: tuple[Any, ...]) -> None:
    with pytest.raises((ValueError, OverflowError)):
        DEFAULT_COMMANDS[name].encode(*args)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("PAYOUT_AMOUNT", "33 f4010000 455552"),  # country without the option byte
        ("PAYOUT_AMOUNT", "33 f40100"),
        ("GET_DENOMINATION_LEVEL", "35 f4010000 4555"),
        ("SET_DENOMINATION_ROUTE", "3b"),
        ("SET_DENOMINATION_ROUTE", "3b 01 f4"),
        ("FLOAT_AMOUNT", "3d 3200 10270000 455552"),
        ("GET_MINIMUM_PAYOUT", "3e 4555"),
        ("PAYOUT_BY_DENOMINATION", "46 01 0100 64000000 455552"),  # no option byte
        ("PAYOUT_BY_DENOMINATION", "46 02 0100 64000000 455552 58"),  # one entry short
        ("ENABLE_PAYOUT_DEVICE", "5c 01 02"),
        ("SET_INHIBITS", "02"),
        ("SET_INHIBITS", "02 ff ff ff ff ff ff ff ff ff"),
    ],
)
def test_request_decoders_refuse_other_layouts(name: str, data: str) -> None:
    with pytest.raises(ValueError):
        DEFAULT_COMMANDS[name].decode_request(bytes.fromhex(data))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("GET_DENOMINATION_LEVEL", "64"),
        ("GET_MINIMUM_PAYOUT", "c8 00 00"),
        ("GET_BARCODE_READER_CONFIGURATION", "03 03 01"),
        ("GET_BARCODE_DATA", "01"),
        ("GET_DENOMINATION_ROUTE", ""),
    ],
)
def test_reply_decoders_refuse_short_replies(name: str, data: str) -> None:
    with pytest.raises(ValueError):
        DEFAULT_COMMANDS[name].decode(bytes.fromhex(data))
