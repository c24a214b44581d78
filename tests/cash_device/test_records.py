"""cashdevice.records: the seed's JSON examples rebuilt from the records, field for field.

The JSON blocks are cut out of the PDF text of the seed (``../shared/seed/000_79375e11ce1a2a17.txt``): page
furniture is dropped and wrapped lines are joined (the text keeps the trailing space of a wrapped line, so
joining with "" restores strings and keys). Tests that read the seed skip when ``../shared`` is absent.
"""

from __future__ import annotations

import dataclasses
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from cashdevice.enums import (
    CashDeviceModuleType,
    CashEventType,
    CurrencyType,
    DenominationRoute,
    DeviceState,
    DispenserTransactionState,
    DispenserTransactionType,
    DownloadState,
    ReplenishEventType,
    SorterRoute,
)
from cashdevice.records import (
    EVENT_ARGS,
    CashDeviceModule,
    CashEventResponse,
    CurrencyAssignmentEntry,
    DeviceModuleStateChangedEventArgs,
    DeviceStatusResponse,
    DispenserTransactionEventResponse,
    DownloadBlockEventArgs,
    DownloadStateEventArgs,
    DownloadStatus,
    LevelInfo,
    LevelsResult,
    ReplenishEventResponse,
    SetDenominationRouteFinishedEventResponse,
    SorterRouteAssignmentEntry,
    ValueCountryCode,
    camel_key,
)

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_79375e11ce1a2a17.txt"
needs_seed = pytest.mark.skipif(
    not SEED.is_file(), reason=f"seed text not found at {SEED} (../shared absent)"
)

_FURNITURE = re.compile(r"^\s*(Status Body Notes|OK: .*|Ok: .*|\d{3})\s*$")


@lru_cache(maxsize=1)
def seed_lines() -> tuple[str, ...]:
    return tuple(SEED.read_text(encoding="utf-8").split("\n"))


def seed_json(first_line: int, skip: tuple[str, ...] = ()) -> Any:
    """The JSON value that starts on 1-based ``first_line`` (at its first '{' or '['), page furniture and the
    stripped lines in ``skip`` dropped, wrapped lines joined."""
    lines = seed_lines()
    text = lines[first_line - 1]
    start = min(i for i in (text.find("{"), text.find("[")) if i >= 0)
    buffer = text[start:]
    for raw in lines[first_line:]:
        if raw.strip() in skip or _FURNITURE.match(raw):
            continue
        buffer += raw
        try:
            return json.loads(buffer)
        except json.JSONDecodeError:
            continue
    raise AssertionError(f"no JSON value starts at L{first_line}")


@lru_cache(maxsize=1)
def complete_cash_device() -> dict[str, Any]:
    value = seed_json(2140, skip=("of the cash device.",))
    assert isinstance(value, dict)
    return value


# --------------------------------------------------------------------------------------------
# ValueCountryCode


def test_value_country_code_equality_ignores_the_hidden_fields() -> None:
    plain = ValueCountryCode(500, "GBP")
    flagged = ValueCountryCode(500, "GBP", Fraud_Attempt_Value=500, Calibration_Failed_Value=3)
    assert plain == flagged
    assert ValueCountryCode(500, "EUR") != plain
    assert sorted(
        [ValueCountryCode(2000, "GBP"), ValueCountryCode(500, "GBP"), ValueCountryCode(500, "EUR")]
    ) == [
        ValueCountryCode(500, "EUR"),
        ValueCountryCode(500, "GBP"),
        ValueCountryCode(2000, "GBP"),
    ]


def test_value_country_code_builds_like_the_csharp_class() -> None:
    """C#: ``var v = new ValueCountryCode(); v.Value = 5000; v.CountryCode = "EUR";`` and the
    keyword / positional forms all give the same object; a mutable record is not hashable."""
    v = ValueCountryCode()
    assert (v.Value, v.CountryCode) == (0, "")
    v.Value = 5000
    v.CountryCode = "EUR"
    assert v == ValueCountryCode(5000, "EUR") == ValueCountryCode(Value=5000, CountryCode="EUR")
    assert v.problem() is None
    with pytest.raises(TypeError):
        hash(v)


@pytest.mark.parametrize(("text", "expected"), [("2000 GBP", (2000, "GBP")), ("  5 usd ", (5, "USD"))])
def test_value_country_code_rest_string_form(text: str, expected: tuple[int, str]) -> None:
    vcc = ValueCountryCode.parse(text)
    assert (vcc.Value, vcc.CountryCode) == expected
    assert str(vcc) == f"{expected[0]} {expected[1]}"
    assert ValueCountryCode.parse(str(vcc)) == vcc


@pytest.mark.parametrize("text", ["", "GBP 2000", "2000", "20.00 GBP", "-5 GBP", "2000 GB", "2000 GBPX"])
def test_value_country_code_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        ValueCountryCode.parse(text)


@pytest.mark.parametrize(
    ("value", "code", "why"),
    [
        (-1, "EUR", "UInt32"),
        (0x1_0000_0000, "EUR", "UInt32"),
        (True, "EUR", "int"),
        (5.0, "EUR", "int"),
        (5, None, "str"),
        (5, "EURO", "3 letters"),
        (5, "", "3 letters"),
        (5, "E1R", "3 letters"),
    ],
)
def test_value_country_code_is_checked_where_used_not_when_built(
    value: object, code: object, why: str
) -> None:
    assert ValueCountryCode(0xFFFFFFFF, "EUR").problem() is None
    vcc = ValueCountryCode(value, code)  # type: ignore[arg-type]
    problem = vcc.problem()
    assert problem is not None and why in problem


def test_camel_key_lowers_the_first_letter_only() -> None:
    assert camel_key("Fraud_Attempt_Value") == "fraud_Attempt_Value"
    assert camel_key("IsInhibited") == "isInhibited"
    assert camel_key("ValueCountryCode") == "valueCountryCode"


# --------------------------------------------------------------------------------------------
# Currency assignment: the two serialisations of the seed


@needs_seed
def test_currency_assignment_pascal_shape_is_the_complete_cash_device_dump() -> None:
    seed = complete_cash_device()["currencyAssignment"]
    entries = [CurrencyAssignmentEntry.from_json(item) for item in seed]
    assert [e.to_json("pascal") for e in entries] == seed
    # same keys in the same order
    assert [json.dumps(e.to_json("pascal")) for e in entries] == [json.dumps(item) for item in seed]
    first = entries[0]
    assert (first.Type, first.Value, first.CountryCode, first.AcceptRoute, first.Channel) == (
        CurrencyType.BANKNOTE,
        500,
        "GBP",
        DenominationRoute.PAYOUT,
        1,
    )
    assert entries[2].IsInhibited and entries[2].AcceptRoute is DenominationRoute.CASHBOX


@needs_seed
def test_currency_assignment_camel_shape_is_get_currency_assignment() -> None:
    seed = seed_json(3055, skip=("retrieved successfully.",))
    assert isinstance(seed, list) and len(seed) == 4
    entries = [CurrencyAssignmentEntry.from_json(item) for item in seed]
    assert [json.dumps(e.to_json("camel")) for e in entries] == [json.dumps(item) for item in seed]
    # the same four channels as the PascalCase dump: names and numbers agree
    pascal = [
        CurrencyAssignmentEntry.from_json(item) for item in complete_cash_device()["currencyAssignment"]
    ]
    assert entries == pascal


def test_currency_assignment_entry_is_mutable_and_its_value_follows_the_vcc() -> None:
    entry = CurrencyAssignmentEntry(CurrencyType.BANKNOTE, ValueCountryCode(1000, "EUR"), Channel=2)
    entry.IsInhibited = True
    entry.AcceptRoute = DenominationRoute.RECYCLER_1
    entry.ValueCountryCode = ValueCountryCode(2000, "EUR")
    assert (entry.Value, entry.CountryCode) == (2000, "EUR")
    data = entry.to_json("camel")
    assert data["acceptRoute"] == 2 and data["isInhibited"] is True and data["value"] == 2000
    assert entry.to_json("pascal")["AcceptRoute"] == "RECYCLER_1"
    with pytest.raises(ValueError):
        entry.to_json("snake")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CurrencyAssignmentEntry.from_json({**entry.to_json("pascal"), "AcceptRoute": "NOWHERE"})


# --------------------------------------------------------------------------------------------
# Levels, download status, sorter routes, modules


@needs_seed
def test_level_info_matches_get_all_levels_and_open_connection() -> None:
    result = seed_json(2908)
    assert isinstance(result, dict)
    levels = tuple(LevelInfo.from_json(item) for item in result["levels"])
    rebuilt = LevelsResult(levels, result["success"], result["message"]).to_json()
    assert json.dumps(rebuilt) == json.dumps(result)
    assert result["message"] == "Successfully retrieved all levels."
    open_connection = seed_json(
        1255, skip=("information and configured essential", "connection and device-specific settings.")
    )
    assert [LevelInfo.from_json(item).to_json() for item in open_connection["allLevels"]] == [
        level.to_json() for level in levels
    ]


@needs_seed
def test_download_status_default_is_the_dump_and_the_rest_view() -> None:
    assert json.dumps(DownloadStatus().to_json()) == json.dumps(complete_cash_device()["downloadStatus"])
    assert DownloadStatus.from_json(complete_cash_device()["downloadStatus"]) == DownloadStatus()
    rest = seed_json(11058)
    status = DownloadStatus(DownloadState.UPDATING, CurrentDownloadBlock=4453, TotalDownloadBlocks=4655)
    assert json.dumps(status.to_rest_status()) == json.dumps(rest)
    assert DownloadStatus(DownloadState.COMPLETE).to_rest_status()["success"] is True


@needs_seed
def test_sorter_route_assignment_matches_get_sorter_route_assignment() -> None:
    seed = seed_json(9659)
    entries = [SorterRouteAssignmentEntry.from_json(item) for item in seed]
    assert [e.CurrentSorterRoute for e in entries] == [
        SorterRoute.PRIMARY,
        SorterRoute.SECONDARY,
        SorterRoute.PRIMARY,
    ]
    assert [e.to_json() for e in entries] == seed
    assert entries[1].to_json("pascal") == {"CurrentSorterRoute": 1}


def test_cash_device_module_json() -> None:
    module = CashDeviceModule(2, CashDeviceModuleType.RECYCLER_2, SerialNumber=123, SerialNumberValid=True)
    assert module.to_json()["ModuleType"] == "RECYCLER_2"
    assert module.to_json("camel")["moduleType"] == int(CashDeviceModuleType.RECYCLER_2)
    assert module.to_json()["State"] == "NOT_CONNECTED"


# --------------------------------------------------------------------------------------------
# Event payloads against the GetDeviceStatus examples (L2626-L2694)


@needs_seed
def test_device_status_response_is_the_connect_example() -> None:
    seed = seed_json(2626)
    assert isinstance(seed, list) and len(seed) == 2
    ours = [
        DeviceStatusResponse(DeviceState.CONNECTING).to_json(),
        DeviceStatusResponse(DeviceState.CONNECTED).to_json(),
    ]
    assert json.dumps(ours) == json.dumps(seed)


@needs_seed
def test_accept_note_example_sequence() -> None:
    seed = seed_json(2655)
    assert isinstance(seed, list) and [item["type"] for item in seed] == [
        "DeviceStatusResponse",
        "CashEventResponse",
        "CashEventResponse",
        "DeviceStatusResponse",
    ]
    ours: list[dict[str, Any]] = [
        DeviceStatusResponse(DeviceState.ACCEPTING).to_json(),
        CashEventResponse(CashEventType.ESCROW, 500, 0, "GBP").to_json(),
        CashEventResponse(CashEventType.STORED, 500, 0, "GBP").to_json(),
        DeviceStatusResponse(DeviceState.IDLE).to_json(),
    ]
    assert json.dumps(ours[1:3]) == json.dumps(seed[1:3])
    for mine, theirs in zip(ours, seed):
        # the seed's short DeviceStatusResponse form leaves out "state" and "isRunning"
        assert {key: mine[key] for key in theirs} == theirs
    assert CashEventResponse(CashEventType.ESCROW, 500, 0, "GBP").valueCountryCode == ValueCountryCode(
        500, "GBP"
    )


@needs_seed
def test_event_args_cover_the_events_table() -> None:
    lines = seed_lines()
    start = lines.index("Event Name Description")
    seed = [text.split(" ")[0] for text in lines[start + 1 : start + 20] if text.strip()]
    seed = seed[: seed.index("SetDenominationRouteFinishedEvent") + 1]
    assert list(EVENT_ARGS) == seed
    rest_types = {
        "DeviceStatusResponse",
        "CashEventResponse",
        "DispenserTransactionEventResponse",
        "ReplenishEventResponse",
        "SetDenominationRouteFinishedEventResponse",
    }
    text = "\n".join(lines[2455:2620])
    for cls in EVENT_ARGS.values():
        if cls.__name__ in rest_types:
            assert cls.TYPE == cls.__name__
            assert cls.__name__ in text or cls.__name__ == "DeviceStatusResponse"  # table spells it "Respone"


def test_payloads_without_a_seed_example() -> None:
    payout = DispenserTransactionEventResponse(
        DispenserTransactionState.IN_PROGRESS, DispenserTransactionType.PAYOUT, 500, 1500, "EUR"
    ).to_json()
    assert payout["type"] == "DispenserTransactionEventResponse"
    assert (payout["state"], payout["stateAsString"], payout["transactionType"]) == (0, "IN_PROGRESS", 0)
    replenish = ReplenishEventResponse(ReplenishEventType.REPLENISH_CASSETTE_FULL).to_json()
    assert replenish["eventTypeAsString"] == "REPLENISH_CASSETTE_FULL"
    assert SetDenominationRouteFinishedEventResponse(True).to_json() == {
        "type": "SetDenominationRouteFinishedEventResponse",
        "result": True,
    }
    routed = SetDenominationRouteFinishedEventResponse(
        False, ValueCountryCode(500, "EUR"), DenominationRoute.PAYOUT
    )
    assert routed.to_json()["route"] == 7 and routed.to_json()["valueCountryCode"]["value"] == 500
    module = DeviceModuleStateChangedEventArgs(1, CashDeviceModuleType.RECYCLER_1, DeviceState.IDLE).to_json()
    assert module["stateAsString"] == "IDLE"
    assert DownloadStateEventArgs(DownloadState.COMPLETE).to_json()["stateAsString"] == "COMPLETE"
    assert DownloadBlockEventArgs(4453, 4655).to_json()["currentDownloadBlock"] == 4453
    for data in (payout, replenish, routed.to_json(), module):
        json.dumps(data)  # JSON-serialisable as they are
    for cls in EVENT_ARGS.values():
        assert dataclasses.is_dataclass(cls)
        assert vars(cls)["__dataclass_params__"].frozen


def test_event_payloads_are_frozen() -> None:
    status = DeviceStatusResponse(DeviceState.IDLE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        status.state = DeviceState.ERROR  # type: ignore[misc]
    assert status.message == "Device state changed: IDLE"
