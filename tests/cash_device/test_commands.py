"""The declarative command table: published bytes, encoders / decoders, unverified rows,
overrides and override files, and the emulator deriving its codes from the same table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cashdevice.commands import (
    DEFAULT_COMMANDS,
    SERVICE_LAYOUTS,
    CommandTable,
    UnverifiedCommandError,
    parse_service,
    service_layout,
)
from cashdevice.emulator.datasets import UNVERIFIED_COMMANDS

# ssp-coin-nv4000.md §8.2: codes with no known ITL meaning (test-only codes come from here)
FREE_CODES = {0x13, 0x15, *range(0x1A, 0x20), *range(0x28, 0x30), 0x31, 0x32, 0x36, 0x55, 0x5E, 0x5F}
FREE_CODES |= {*range(0x6A, 0x70), 0x73, 0x75, 0x7B, 0x7C, 0x7D}
UNVERIFIED_ROWS = {
    "SET_TWIN_MODE",
    "SET_SORTER_ROUTE",
    "COIN_STIR_WITH_MODE",
    "PURGE",
    "SET_CASHBOX_LEVELS",
    "CLEAR_CASHBOX_LEVELS",
    "GET_CASHBOX_LEVELS",
    "SET_PAYOUT_LIMIT",
    "GET_PAYOUT_COUNT",
    "GET_COINS_EXIT",
    "GET_COIN_ACCEPTANCE",
    "SET_NO_PAYIN_COUNT",
    "GET_LIFTER_STATUS",
    "GET_SERVICE_INFORMATION",
    "SET_SERVICE_INFORMATION",
    "SERVICE_MAINTENANCE_RESET",
    "GET_GLOBAL_ERROR_CODE",
    "EXTENDED_GET_FIRMWARE_VERSION",
    "EXTENDED_GET_DATASET_VERSION",
    "NV4000_REPLENISH",
    "NV4000_GET_RC_MODE",
    "NV4000_SMART_EMPTY_MODULE",
    "NV4000_SET_DENOMINATION_ROUTE",
}


def test_unverified_rows_are_exactly_the_unpublished_commands() -> None:
    assert {r.name for r in DEFAULT_COMMANDS.values() if not r.verified} == UNVERIFIED_ROWS
    assert {r.name for r in CommandTable().unverified()} == UNVERIFIED_ROWS
    assert CommandTable(allow_unverified=True).unverified() == CommandTable().unverified()


def test_emulator_codes_come_from_the_table() -> None:
    assert dict(UNVERIFIED_COMMANDS) == {n: DEFAULT_COMMANDS[n].prefix for n in UNVERIFIED_ROWS}


def test_unverified_codes_are_free_codes_or_documented_families() -> None:
    for name in UNVERIFIED_ROWS:
        prefix = DEFAULT_COMMANDS[name].prefix
        # 0x5D, 0x52, 0x3B: published commands whose extra parameter or values are the unverified part
        if len(prefix) == 1 and prefix[0] not in (0x5D, 0x52, 0x3B):
            assert prefix[0] in FREE_CODES, name
    assert DEFAULT_COMMANDS["SET_TWIN_MODE"].prefix == b"\x05\x87"  # seed "Sub Command 0x05 0x87"
    assert DEFAULT_COMMANDS["SET_SORTER_ROUTE"].prefix == b"\x05\x85"
    single = [r.prefix for r in DEFAULT_COMMANDS.values() if not r.verified and len(r.prefix) == 1]
    single = [p for p in single if p[0] not in (0x5D, 0x52, 0x3B)]
    assert len(single) == len(set(single))  # no two unverified rows share a code
    verified = {r.prefix for r in DEFAULT_COMMANDS.values() if r.verified}
    assert not set(single) & verified


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        # GA138 and derived packets of ssp-coin-nv4000.md §3 (DATA only)
        ("SET_OPTIONS", (0x04, 0x00), "50 04 00"),
        ("SET_REAL_TIME_CLOCK", (27, 11, 24, 14, 9, 30), "64 1b 0b 18 0e 09 1e"),
        ("SET_REAL_TIME_CLOCK", (21, 12, 12, 10, 22, 30), "64 15 0c 0c 0a 16 1e"),
        ("COIN_STIR", (5,), "5d 05"),
        ("SET_CASHBOX_PAYOUT_LIMIT", ([(100, 100, "EUR")],), "4e 01 64 00 64 00 00 00 45 55 52"),
        ("SET_DENOMINATION_LEVEL", (5, 200, "EUR"), "34 05 00 c8 00 00 00 45 55 52"),
        ("SET_DENOMINATION_LEVEL", (5, 200, None, 2), "34 05 00 c8 00"),  # before protocol 6: u16 value
        ("SET_COIN_MECH_INHIBITS", (False, 50, "EUR"), "40 00 32 00 45 55 52"),
        ("COIN_MECH_GLOBAL_INHIBIT", (1,), "49 01"),
        ("GET_OPTIONS", (), "51"),
        # unverified rows as shipped
        ("PURGE", (), "1a"),
        ("PURGE", (1,), "1a 01"),
        ("PURGE", (0, 1), "1a 00 01"),
        ("COIN_STIR_WITH_MODE", (5, 1), "5d 05 01"),
        ("SET_CASHBOX_LEVELS", (10, 10, "EUR"), "1b 0a 00 0a 00 00 00 45 55 52"),
        ("SET_PAYOUT_LIMIT", (5,), "1e 05 00"),
        ("GET_COIN_ACCEPTANCE", (2,), "29 02"),
        ("SET_NO_PAYIN_COUNT", (3,), "2a 03"),
        ("GET_SERVICE_INFORMATION", (1,), "2c 01"),
        ("GET_SERVICE_INFORMATION", (5, 0), "2c 05 00"),
        ("SET_SERVICE_INFORMATION", (0, 1, 11, 24), "2d 00 01 0b 18"),
        ("SERVICE_MAINTENANCE_RESET", (0x34, 0x37, 0x32, 0x34), "2e 34 37 32 34"),
        ("SET_TWIN_MODE", (1,), "05 87 01"),
        ("SET_SORTER_ROUTE", (100, "EUR", 1), "05 85 64 00 00 00 45 55 52 01"),
        ("NV4000_REPLENISH", (7,), "6c 07 00 00 00"),
    ],
)
def test_encoders(name: str, args: tuple[object, ...], expected: str) -> None:
    assert CommandTable(allow_unverified=True).encode(name, *args) == bytes.fromhex(expected)


def test_decoders() -> None:
    rows = DEFAULT_COMMANDS
    # GA138-NV9: 8 counters 110, 115, 6, 0, 0, 0, 1, 3; SH3 form: six u32, no count byte
    counters = bytes.fromhex("08 6e000000 73000000 06000000 00000000 00000000 00000000 01000000 03000000")
    assert rows["GET_COUNTERS"].decode(counters) == [110, 115, 6, 0, 0, 0, 1, 3]
    sh3 = bytes.fromhex("02000000 03000000 04000000 05000000 06000000 07000000")
    assert rows["GET_COUNTERS"].decode(sh3) == [2, 3, 4, 5, 6, 7]
    assert rows["GET_OPTIONS"].decode(b"\x04\x00") == (4, 0)
    assert rows["GET_REAL_TIME_CLOCK"].decode(bytes.fromhex("15 0c 0c 0a 16 1e")) == (21, 12, 12, 10, 22, 30)
    levels = bytes.fromhex("02 0a00 0a000000 495443 0000 32000000 495443 00000000")
    assert rows["GET_CASHBOX_LEVELS"].decode(levels) == ([(10, 10, "ITC"), (0, 50, "ITC")], 0)
    assert rows["GET_COINS_EXIT"].decode(b"\x03\x00\x02\x00") == (3, 2)
    assert rows["GET_LIFTER_STATUS"].decode(b"\x01\x00\x01") == (True, False, True)
    assert rows["GET_GLOBAL_ERROR_CODE"].decode(b"\x12\x34") == (0x12, 0x34)
    assert rows["EXTENDED_GET_DATASET_VERSION"].decode(b"EUR41044_25.09.24_13:39:30") == (
        "EUR41044_25.09.24_13:39:30"
    )
    for name, short in [
        ("GET_COUNTERS", b"\x09\x00"),
        ("GET_OPTIONS", b"\x04"),
        ("GET_REAL_TIME_CLOCK", b"\x01\x02"),
        ("GET_CASHBOX_LEVELS", b"\x02\x0a\x00"),
        ("GET_COINS_EXIT", b"\x01"),
        ("GET_LIFTER_STATUS", b""),
    ]:
        with pytest.raises(ValueError):
            rows[name].decode(short)


def test_service_layouts() -> None:
    note = (11902).to_bytes(4, "little") + (461).to_bytes(4, "little") + (2).to_bytes(4, "little") * 2
    assert parse_service(None, 1, note) == [11902, 461, 2, 2]
    lifetime = b"".join(v.to_bytes(4, "little") for v in (32717, 157, 20580))
    assert parse_service(5, 0, lifetime) == [32717, 157, 20580]
    assert service_layout(5, 3) == SERVICE_LAYOUTS[(0, 5)]
    assert service_layout(3, 1) == SERVICE_LAYOUTS[(0, 1)]
    assert service_layout(4, 0) is None and service_layout(None, 5) is None
    with pytest.raises(ValueError):
        parse_service(None, 1, note[:-1])


def test_refusal_message_and_switch() -> None:
    table = CommandTable()
    with pytest.raises(UnverifiedCommandError) as info:
        table.encode("PURGE")
    text = str(info.value)
    assert "ITL has not published" in text and "override('PURGE'" in text and "LoadCommandTable" in text
    assert table.row("PURGE").prefix == b"\x1a"  # readable, just not sendable
    table.allow_unverified = True
    assert table.encode("PURGE", 1) == b"\x1a\x01"


def test_override_keeps_codec_and_is_per_table() -> None:
    table = CommandTable()
    spec = table.override("SET_SORTER_ROUTE", prefix="30 05 85", encrypted=True)
    assert spec.verified and spec.encrypted and spec.source == "user override"
    assert table.encode("SET_SORTER_ROUTE", 100, "EUR", 0) == bytes.fromhex("30 05 85 64000000 455552 00")
    assert not CommandTable().row("SET_SORTER_ROUTE").verified
    assert not DEFAULT_COMMANDS["SET_SORTER_ROUTE"].verified
    with pytest.raises(KeyError):
        table.override("NO_SUCH_COMMAND", prefix="01")
    with pytest.raises(ValueError):
        table.override("PURGE", prefix="")
    ctor = CommandTable({"GET_PAYOUT_COUNT": {"prefix": "3a 02"}})
    assert ctor.encode("GET_PAYOUT_COUNT") == b"\x3a\x02"


def test_load_json_and_toml(tmp_path: Path) -> None:
    path = tmp_path / "itl.json"
    path.write_text(json.dumps({"GET_CASHBOX_LEVELS": {"prefix": "3a 01", "encrypted": True}, "PURGE": {}}))
    table = CommandTable()
    table.load(path)
    assert table.encode("GET_CASHBOX_LEVELS") == b"\x3a\x01" and table.get("GET_CASHBOX_LEVELS").encrypted
    assert table.encode("PURGE", 0) == b"\x1a\x00"  # vouched for as shipped
    for bad in ({"PURGE": {"code": "1a"}}, ["PURGE"], {"PURGE": "1a"}):
        path.write_text(json.dumps(bad))
        with pytest.raises(ValueError):
            CommandTable().load(path)
    if sys.version_info >= (3, 11):
        toml = tmp_path / "itl.toml"
        toml.write_text('[GET_GLOBAL_ERROR_CODE]\nprefix = "3a 09"\n')
        table.load(toml)
        assert table.encode("GET_GLOBAL_ERROR_CODE") == b"\x3a\x09"


def test_encryption_flag_has_one_home() -> None:
    """A published row's ``encrypted`` is GA138's "Encryption Required" (ssp.ENCRYPTED_COMMANDS)."""
    from cashdevice.ssp import ENCRYPTED_COMMANDS

    for row in DEFAULT_COMMANDS.values():
        if row.verified:
            assert row.encrypted == (row.prefix[0] in ENCRYPTED_COMMANDS), row.name
