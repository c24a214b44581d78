"""Every command row both ways: host encode -> emulator -> host decode, and each row's device half
(request decoder, reply encoder) the inverse of its host half (issue 11 part 1)."""

from __future__ import annotations

from typing import Any

import pytest

from cashdevice.commands import DEFAULT_COMMANDS, CommandSpec, CommandTable, encode_service, parse_service
from cashdevice.emulator import Emulator
from cashdevice.ssp import Response

EUR = "EUR"
TEST = 0x19

# request arguments per row (rows not listed take none); raw rows take their parameters as bytes
REQUESTS: dict[str, tuple[Any, ...]] = {
    "SET_INHIBITS": (0xFFFF, 2),
    "HOST_PROTOCOL_VERSION": (7,),
    "SET_BARCODE_READER_CONFIGURATION": (1, 1, 6),
    "SET_BARCODE_INHIBIT": (0xFE,),
    "SET_REFILL_MODE": (1,),
    "SET_FIXED_ENCRYPTION_KEY": ((0x0123456701234567).to_bytes(8, "little"),),
    "PAYOUT_AMOUNT": (100, EUR, TEST),
    "SET_DENOMINATION_LEVEL": (5, 100, EUR, 4),
    "GET_DENOMINATION_LEVEL": (100, EUR, 4),
    "SET_DENOMINATION_ROUTE": (1, 100, EUR, 4),
    "GET_DENOMINATION_ROUTE": (100, EUR, 4),
    "FLOAT_AMOUNT": (1, 100, EUR, TEST, 2),
    "GET_MINIMUM_PAYOUT": (EUR,),
    "SET_COIN_MECH_INHIBITS": (True, 100, EUR),
    "FLOAT_BY_DENOMINATION": ([(1, 100, EUR)], TEST),
    "PAYOUT_BY_DENOMINATION": ([(1, 100, EUR)], TEST),
    "COIN_MECH_GLOBAL_INHIBIT": (1,),
    "SET_CASHBOX_PAYOUT_LIMIT": ([(3, 100, EUR), (2, 200, EUR)],),
    "SET_OPTIONS": (0x26, 0x00),
    "COIN_MECH_OPTIONS": (1,),
    "ENABLE_PAYOUT_DEVICE": (0,),
    "COIN_STIR": (5,),
    "SET_REAL_TIME_CLOCK": (7, 12, 26, 10, 30, 0),
    "SET_TWIN_MODE": (1,),
    "SET_SORTER_ROUTE": (100, EUR, 1),
    "COIN_STIR_WITH_MODE": (5, 0),
    "PURGE": (0, 0),
    "SET_CASHBOX_LEVELS": (4, 100, EUR),
    "SET_PAYOUT_LIMIT": (10,),
    "GET_COIN_ACCEPTANCE": (0,),
    "SET_NO_PAYIN_COUNT": (3,),
    "GET_SERVICE_INFORMATION": (0, 3),
    "SET_SERVICE_INFORMATION": (0, 1, 12, 26),
    "SERVICE_MAINTENANCE_RESET": tuple(b"4926"),
    "NV4000_REPLENISH": (20,),
    "NV4000_SET_DENOMINATION_ROUTE": (2, 500, EUR, 4),
    "NV4000_SMART_EMPTY_MODULE": (1,),
}

# reply values per row with a structured reply decoder
REPLIES: dict[str, Any] = {
    "GET_BARCODE_READER_CONFIGURATION": (3, 1, 1, 18),
    "GET_BARCODE_INHIBIT": 0xFE,
    "LAST_REJECT_CODE": 0x06,
    "GET_BARCODE_DATA": (1, "123456789012345678"),
    "GET_REFILL_MODE": 1,
    "GET_DENOMINATION_LEVEL": 513,
    "GET_DENOMINATION_ROUTE": 1,
    "GET_MINIMUM_PAYOUT": 5,
    "GET_COUNTERS": [1, 2, 300, 4],
    "GET_OPTIONS": (0x26, 0x01),
    "GET_REAL_TIME_CLOCK_CONFIGURATION": 1,
    "GET_REAL_TIME_CLOCK": (7, 12, 26, 10, 30, 59),
    "GET_ALL_LEVELS": [(3, 500, EUR), (0, 1000, EUR)],
    "CASHBOX_PAYOUT_OPERATION_DATA": ([(1, 500, EUR)], 0),
    "GET_CASHBOX_LEVELS": ([(3, 100, EUR), (0, 200, EUR)], 2),
    "GET_PAYOUT_COUNT": 513,
    "GET_COINS_EXIT": (4, 3),
    "GET_COIN_ACCEPTANCE": 97,
    "GET_LIFTER_STATUS": (True, True, False),
    "GET_GLOBAL_ERROR_CODE": (0x12, 0x34),
    "EXTENDED_GET_FIRMWARE_VERSION": "SCS01234_07.12.26_10:30:00",
    "EXTENDED_GET_DATASET_VERSION": "EUR01005_07.12.26_10:30:00",
    "NV4000_GET_RC_MODE": 1,
}

ROWS = list(DEFAULT_COMMANDS.values())


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_request_decode_inverts_encode(row: CommandSpec) -> None:
    args = REQUESTS.get(row.name, ())
    data = row.encode(*args)
    assert row.decode_request(data) == args
    assert row.encode(*row.decode_request(data)) == data


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_reply_encode_inverts_decode(row: CommandSpec) -> None:
    value = REPLIES.get(row.name, b"\x01\x02\x03")
    assert row.decode(row.encode_reply(value)) == value
    data = row.encode_reply(value)
    assert row.encode_reply(row.decode(data)) == data


def test_every_structured_codec_has_samples() -> None:
    plain = DEFAULT_COMMANDS["RESET"]
    for row in ROWS:
        if row.encoder is not plain.encoder:
            assert row.name in REQUESTS, row.name
        if row.decoder is not plain.decoder:
            assert row.name in REPLIES, row.name


def test_request_decoders_refuse_bad_layouts() -> None:
    level = DEFAULT_COMMANDS["SET_DENOMINATION_LEVEL"]
    with pytest.raises(ValueError):
        level.decode_request(level.prefix + b"\x01\x02\x03")
    with pytest.raises(ValueError):
        level.decode_request(b"\x35" + bytes(9))  # another row's prefix
    limits = DEFAULT_COMMANDS["SET_CASHBOX_PAYOUT_LIMIT"]
    with pytest.raises(ValueError):
        limits.decode_request(limits.encode([(1, 100, EUR)]) + b"\x00")


@pytest.mark.parametrize(("module", "sub"), [(None, 0), (None, 1), (0, 2), (0, 3), (5, 0)])
def test_service_information_both_ways(module: int | None, sub: int) -> None:
    values = parse_service(module, sub, bytes(range(1, 40)))
    assert parse_service(module, sub, encode_service(module, sub, values)) == values


# ---- host row encode -> emulator -> host row decode, every row

COINS, TWIN, NOTES, NV4000 = "SMART_COIN_SYSTEM", "TWIN_SMART_COIN_SYSTEM", "SMART_PAYOUT", "NV4000"
LOAD_COINS = (("SET_DENOMINATION_LEVEL", (5, 100, EUR)),)
Step = tuple[str, tuple[Any, ...]]

# row -> (model, commands sent first, the status the emulator answers); default: NOTES, none, OK.
# A refusal is still a round trip: the emulator parsed the row's bytes and answered for the state.
SCENARIOS: dict[str, tuple[str, tuple[Step, ...], int]] = {
    "REJECT": (NOTES, (), Response.COMMAND_CANNOT_BE_PROCESSED),  # no note in escrow
    "HOLD": (NOTES, (), Response.COMMAND_CANNOT_BE_PROCESSED),
    "EVENT_ACK": (NOTES, (), Response.COMMAND_CANNOT_BE_PROCESSED),  # nothing to acknowledge
    "GET_ALL_LEVELS": (NOTES, (), Response.OK),
    "PAYOUT_AMOUNT": (COINS, LOAD_COINS, Response.OK),
    "FLOAT_AMOUNT": (COINS, LOAD_COINS, Response.OK),
    "HALT_PAYOUT": (COINS, (), Response.COMMAND_CANNOT_BE_PROCESSED),  # no payout running
    "SMART_EMPTY": (COINS, LOAD_COINS, Response.OK),
    "FLOAT_BY_DENOMINATION": (COINS, LOAD_COINS, Response.OK),
    "PAYOUT_BY_DENOMINATION": (COINS, LOAD_COINS, Response.OK),
    "ENABLE_PAYOUT_DEVICE": (NOTES, (("DISABLE_PAYOUT_DEVICE", ()),), Response.OK),
    "SET_TWIN_MODE": (TWIN, (), Response.OK),
    "SET_SORTER_ROUTE": (TWIN, (), Response.OK),
    "COIN_STIR": (COINS, (), Response.OK),
    "COIN_STIR_WITH_MODE": (COINS, (), Response.OK),
    "PURGE": (COINS, (), Response.OK),
    "NV4000_REPLENISH": (NV4000, (), Response.COMMAND_CANNOT_BE_PROCESSED),  # no cassette loaded
    "NV4000_SMART_EMPTY_MODULE": (NV4000, (), Response.OK),
}
COIN_ROWS = {
    "SET_DENOMINATION_LEVEL", "GET_DENOMINATION_LEVEL", "SET_DENOMINATION_ROUTE", "GET_DENOMINATION_ROUTE",
    "FLOAT_AMOUNT", "SET_COIN_MECH_INHIBITS", "COIN_MECH_GLOBAL_INHIBIT", "SET_CASHBOX_PAYOUT_LIMIT",
    "SET_OPTIONS", "GET_OPTIONS", "COIN_MECH_OPTIONS", "GET_REAL_TIME_CLOCK_CONFIGURATION",
    "GET_REAL_TIME_CLOCK", "SET_REAL_TIME_CLOCK", "GET_SERVICE_INFORMATION", "SET_SERVICE_INFORMATION",
    "SERVICE_MAINTENANCE_RESET", "GET_GLOBAL_ERROR_CODE", "EXTENDED_GET_FIRMWARE_VERSION",
    "EXTENDED_GET_DATASET_VERSION", "SET_CASHBOX_LEVELS", "CLEAR_CASHBOX_LEVELS", "GET_CASHBOX_LEVELS",
    "SET_PAYOUT_LIMIT", "GET_PAYOUT_COUNT", "GET_COINS_EXIT", "GET_COIN_ACCEPTANCE", "SET_NO_PAYIN_COUNT",
    "GET_LIFTER_STATUS",
}  # fmt: skip
NV4000_ROWS = {"NV4000_GET_RC_MODE", "NV4000_SET_DENOMINATION_ROUTE"}

TABLE = CommandTable(allow_unverified=True)  # the unpublished rows too: the emulator answers them


def scenario(name: str) -> tuple[str, tuple[Step, ...], int]:
    if name in SCENARIOS:
        return SCENARIOS[name]
    return (COINS if name in COIN_ROWS else NV4000 if name in NV4000_ROWS else NOTES), (), Response.OK


def exchange(emu: Emulator, name: str, args: tuple[Any, ...]) -> bytes:
    """One command the way the link delivers it (plain commands in an eSSP session arrive encrypted)."""
    return emu.engine._command(TABLE.encode(name, *args), encrypted=True)


@pytest.mark.parametrize("row", TABLE.rows(), ids=[r.name for r in TABLE.rows()])
def test_row_through_the_emulator(row: CommandSpec) -> None:
    model, steps, status = scenario(row.name)
    emu = Emulator(model, EUR)  # never started: commands go straight to its engine, no threads
    for name, args in (("HOST_PROTOCOL_VERSION", (7,)), ("ENABLE", ()), *steps):
        assert exchange(emu, name, args)[:1] == b"\xf0", name
    answer = exchange(emu, row.name, REQUESTS.get(row.name, ()))
    assert answer[:1] == bytes((status,)), answer.hex()
    if status == Response.OK:
        value = row.decode(answer[1:])  # the host row reads the emulator's reply
        assert row.encode_reply(value) == answer[1:]  # ... and would have written the same bytes
        if row.name in REPLIES:
            assert type(value) is type(REPLIES[row.name])


def test_set_then_get_through_the_rows() -> None:
    """What one row writes, the emulator keeps and another row reads back."""
    emu = Emulator(COINS, EUR)
    exchange(emu, "HOST_PROTOCOL_VERSION", (7,))
    assert exchange(emu, "SET_CASHBOX_LEVELS", (4, 100, EUR)) == b"\xf0"
    levels, unknown = TABLE.row("GET_CASHBOX_LEVELS").decode(exchange(emu, "GET_CASHBOX_LEVELS", ())[1:])
    assert (4, 100, EUR) in levels and unknown == 0
    assert exchange(emu, "SET_OPTIONS", (0x04, 0x00)) == b"\xf0\xfe"
    assert TABLE.row("GET_OPTIONS").decode(exchange(emu, "GET_OPTIONS", ())[1:]) == (0x04, 0x00)
    assert exchange(emu, "SET_PAYOUT_LIMIT", (7,)) == b"\xf0" and emu.device.payout_limit == 7
    assert exchange(emu, "SET_CASHBOX_PAYOUT_LIMIT", ([(3, 100, EUR)],)) == b"\xf0"
    assert list(emu.device.cashbox_limits.values()) == [3]
