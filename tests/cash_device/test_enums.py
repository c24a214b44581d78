"""cashdevice.enums against the seed text (``../shared/seed/000_79375e11ce1a2a17.txt``).

Tests that read the seed skip when the repository's sibling ``shared/`` directory is absent.
"""

from __future__ import annotations

import enum
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from cashdevice import enums
from cashdevice.enums import (
    BARCODE_FORMAT_TEXT,
    BARCODE_HARDWARE_STATUS_TEXT,
    BARCODE_INHIBIT_TEXT,
    BARCODE_READERS_TEXT,
    REJECT_REASON_TEXT,
    BarcodeFormat,
    BarcodeInhibit,
    BarcodeReaders,
    CashEventType,
    CashSystemOpenResult,
    CoinAcceptanceDevice,
    CurrencyType,
    DenominationRoute,
    DeviceModel,
    DeviceState,
    DispenserTransactionState,
    DispenserTransactionType,
    DispenseTransactionRequestResult,
    DownloadState,
    HopperOptionsReg0,
    HopperOptionsReg1,
    ModuleServiceSubCommand,
    MultiDenominationPayoutOption,
    PayoutErrorReason,
    PurgeDevice,
    PurgeHopper,
    RCMode,
    RejectReason,
    ReplenishEventType,
    ServiceInformationModule,
    ServiceInformationSubCommand,
    SetDenominationRouteRequestResult,
    SetSorterRouteRequestResult,
    SingleDenominationPayoutOption,
    SorterRoute,
    TwinMode,
)

SHARED = Path(__file__).resolve().parents[3] / "shared"
SEED = SHARED / "seed" / "000_79375e11ce1a2a17.txt"
needs_seed = pytest.mark.skipif(
    not SEED.is_file(), reason=f"seed text not found at {SEED} (../shared absent)"
)


@lru_cache(maxsize=1)
def seed_lines() -> tuple[str, ...]:
    return tuple(SEED.read_text(encoding="utf-8").split("\n"))


def seed_text() -> str:
    return "\n".join(seed_lines())


def flat() -> str:
    """The seed with every run of whitespace (PDF line breaks included) collapsed to one space."""
    return " ".join(seed_text().split())


def line(n: int) -> str:
    """1-based line of the seed."""
    return seed_lines()[n - 1]


def names_under(header: str, stop: str) -> list[str]:
    """The ``NAME,`` tokens of the GetDeviceStatus table, from the row that starts with ``header`` up to
    ``stop``."""
    lines = seed_lines()
    start = next(i for i, text in enumerate(lines) if text.startswith(header + " "))
    found: list[str] = []
    for i in range(start, len(lines)):
        text = lines[i]
        if i > start and text.startswith(stop):
            break
        token = text[len(header) :] if i == start else text
        token = token.strip().rstrip(",")
        if re.fullmatch(r"[A-Z][A-Z0-9_]*", token):
            found.append(token)
    return found


def member_names(cls: type[enum.Enum]) -> list[str]:
    return [m.name for m in cls]


# --------------------------------------------------------------------------------------------
# The GetDeviceStatus value lists (L2459-L2618)


@needs_seed
def test_device_state_is_the_seed_list_in_order() -> None:
    seed = names_under("DeviceStatusRespone", "DispenserTransactionEventResponse")
    assert len(seed) == 40
    assert member_names(DeviceState) == seed
    assert [int(m) for m in DeviceState] == list(range(40))


@needs_seed
def test_device_state_numbers_the_seed_confirms() -> None:
    pairs = re.findall(r'"state":\s*(\d+),\s*"stateAsString":\s*"(\w+)"', seed_text())
    assert ("1", "CONNECTING") in pairs and ("15", "CONNECTED") in pairs
    for number, name in pairs:
        assert DeviceState[name] == int(number)


@needs_seed
def test_cash_event_types_are_the_seed_list_in_order() -> None:
    seed = names_under("CashEventResponse", "ReplenishEventResponse")
    assert len(seed) == 23
    assert member_names(CashEventType) == seed


@needs_seed
def test_dispenser_transaction_states() -> None:
    assert member_names(DispenserTransactionState) == names_under(
        "DispenserTransactionEventResponse", "CashEventResponse"
    )


@needs_seed
def test_replenish_event_types() -> None:
    assert member_names(ReplenishEventType) == names_under("ReplenishEventResponse", " •")


@needs_seed
def test_transaction_type_numbers() -> None:
    start = seed_lines().index("transactionType")
    rows = [re.fullmatch(r"(\d) = (\w+)", text) for text in seed_lines()[start + 1 : start + 6]]
    seed = {m.group(2): int(m.group(1)) for m in rows if m}
    assert seed == {m.name: int(m) for m in DispenserTransactionType}


# --------------------------------------------------------------------------------------------
# Routes, results, models


@needs_seed
def test_denomination_route_numbers_from_the_open_connection_table() -> None:
    text = " ".join(seed_lines()[1159:1168])  # L1160-L1168
    rows = re.findall(r"([A-Za-z][A-Za-z0-9 ()]*?)\s*=\s*(\d)", text)
    seed = {
        re.sub(r"\s+", "_", re.sub(r"\(NV4000\)", "", label).strip()).upper(): int(number)
        for label, number in rows
    }
    assert seed == {m.name: int(m) for m in DenominationRoute}


@needs_seed
def test_denomination_route_csharp_spellings_and_json_forms() -> None:
    spelled = set(re.findall(r"DenominationRoute\.(\w+)", seed_text()))
    assert spelled == {"CASHBOX", "RECYCLER", "RECYCLER_1", "RECYCLER_2", "RECYCLER_3", "RECYCLER_4"}
    assert spelled <= set(member_names(DenominationRoute))
    # "AcceptRoute": "PAYOUT"/"CASHBOX" (L2302, L2340) and "acceptRoute": 7/0 (L3069, L3105) list the
    # same four channels
    by_name = re.findall(r'"AcceptRoute": "(\w+)"', seed_text())
    by_number = re.findall(r'"acceptRoute": (\d+)', seed_text())
    assert len(by_name) == len(by_number) == 4
    assert [DenominationRoute[n] for n in by_name] == [DenominationRoute(int(n)) for n in by_number]


@needs_seed
@pytest.mark.parametrize(
    "cls",
    [
        CashSystemOpenResult,
        DispenseTransactionRequestResult,
        SetDenominationRouteRequestResult,
        SetSorterRouteRequestResult,
    ],
)
def test_result_enums_have_exactly_the_seed_names(cls: type[enum.IntEnum]) -> None:
    seed = set(re.findall(cls.__name__ + r"\.(\w+)", seed_text()))
    assert seed == set(member_names(cls))
    assert cls(0).name == "OK"


@needs_seed
def test_device_models_named_by_the_seed_are_members() -> None:
    text = seed_text()
    seed = set(re.findall(r"DeviceModel\.(\w+)", text))
    models = r"\b(SMART_COIN_SYSTEM|TWIN_SMART_COIN_SYSTEM|SMART_HOPPER_4|NV4000|SPECTRAL_DEVICE)\b"
    seed |= set(re.findall(models, text))
    assert seed == {
        "NOTE_VALIDATOR",
        "SMART_COIN_SYSTEM",
        "TWIN_SMART_COIN_SYSTEM",
        "SMART_HOPPER_4",
        "NV4000",
        "SPECTRAL_DEVICE",
    }
    assert seed <= set(member_names(DeviceModel))
    assert '"deviceModel": ' in line(2142) and line(2143).strip().strip('",') in member_names(DeviceModel)
    assert DeviceModel(0) is DeviceModel.NOTE_VALIDATOR  # Open's default and C#'s default value


@needs_seed
def test_currency_type_banknote_is_1() -> None:
    text = seed_text()
    assert re.findall(r'"Type": "(\w+)"', text) == ["BANKNOTE"] * 4
    assert re.findall(r'"type": (\d+)', text) == ["1"] * 4
    assert int(CurrencyType.BANKNOTE) == 1


@needs_seed
def test_rc_mode_and_download_state_names() -> None:
    text = seed_text()
    for member in RCMode:
        assert member.name in text
    assert line(2271).strip().strip('",') == RCMode(0).name
    bullets = [t.strip("· ").strip() for t in seed_lines()[11038:11044] if t.startswith("·")]
    assert bullets == member_names(DownloadState)[:3]
    assert member_names(DownloadState)[3:] == ["FAILED"]  # ours (issue 7), appended after the seed's three


@needs_seed
def test_payout_error_reasons_from_the_error_reason_table() -> None:
    texts = {
        1: "Not enough value in device",
        2: "Cannot pay exact amount",
        3: "Device busy",
        4: "Device disabled",
    }
    for code, text in texts.items():
        assert any(t.startswith(f"{code} {text}") for t in seed_lines()[5560:5580])
        assert PayoutErrorReason(code).name.replace("_", " ").lower() in {
            "not enough value",
            "cannot pay exact amount",
            "busy",
            "disabled",
        }
    assert PayoutErrorReason.NOT_ENOUGH_VALUE.name in DispenseTransactionRequestResult.__members__
    assert PayoutErrorReason.CANNOT_PAY_EXACT_AMOUNT.name in DispenseTransactionRequestResult.__members__


# --------------------------------------------------------------------------------------------
# Byte selectors and option bits


@needs_seed
def test_byte_selectors_match_the_csharp_parameter_texts() -> None:
    text = flat()
    assert "Use 0x00 for PRIMARY hopper and 0x01 for SECONDARY hopper." in text
    assert (SorterRoute.PRIMARY, SorterRoute.SECONDARY) == (0x00, 0x01)
    assert "0x00 for Hopper 0x01 for Feeder" in text
    assert (PurgeDevice.HOPPER, PurgeDevice.FEEDER) == (0x00, 0x01)
    assert "master hopper (0x00) or slave hopper (0x01)" in text
    assert (PurgeHopper.MASTER, PurgeHopper.SLAVE) == (0x00, 0x01)
    for title, member in [
        ("0x00: Normal Smart Coin System", TwinMode.NORMAL_SCS),
        ("0x01: Twin Smart Coin System", TwinMode.TWIN_SCS),
        ("0x02 Twin Single Smart Coin System", TwinMode.TWIN_SINGLE_SCS),
        ("0x03 Twin 1ec Balanced mode", TwinMode.TWIN_1EC_BALANCED),
    ]:
        assert title in text
        assert int(title[2:4], 16) == member
    acceptance = re.findall(r"(\d) (Primary Hopper|Feeder|Secondary Hopper) acceptance percentage", text)
    assert len(acceptance) == 3
    for code, label in acceptance:
        assert CoinAcceptanceDevice[label.upper().replace(" ", "_")] == int(code)
    assert "0x05: NV4000 Lifetime Counts." in text and int(ServiceInformationModule.NV4000) == 0x05


@needs_seed
def test_service_information_sub_commands() -> None:
    rows = re.findall(
        r"Byte: 0x(\w\w) - Service Type: (.+?) - Description", "\n".join(seed_lines()[12620:12700])
    )
    seed = [(int(code, 16), title.upper().replace(" ", "_")) for code, title in rows]
    single = [(int(m), m.name) for m in ServiceInformationSubCommand]
    module = [(int(m), m.name) for m in ModuleServiceSubCommand]
    assert seed == single + module


@needs_seed
@pytest.mark.parametrize(
    ("flag", "seed_row"),
    [
        (SingleDenominationPayoutOption.GIVE_VALUE_ON_STORED, "0 GIVE_VALUE_ON_STORED."),
        (SingleDenominationPayoutOption.NO_HOLD_NOTE_ON_PAYOUT, "1 NO_HOLD_NOTE_ON_PAYOUT."),
        (SingleDenominationPayoutOption.REPORT_REVERSE_VALIDATED_VALUE, "3 Enable report reverse validated"),
        (MultiDenominationPayoutOption.REQUIRE_FULL_STARTUP, "0 REQUIRE_FULL_STARTUP."),
        (MultiDenominationPayoutOption.OPTIMISE_FOR_PAYIN_SPEED, "1 OPTIMISE_FOR_PAYIN_SPEED."),
        (MultiDenominationPayoutOption.HIGHEST_VALUE_SPLIT, "2 HIGHEST_VALUE_SPLIT"),
        (MultiDenominationPayoutOption.REPORT_EXPECTED_VALUE_ON_RV_FAIL, "3 On Spectral Payout only"),
        (HopperOptionsReg0.FREE_PAY, "0 Pay Mode"),
        (HopperOptionsReg0.LEVEL_CHECK, "1 Level Check"),
        (HopperOptionsReg0.MOTOR_SPEED_HIGH, "2 Motor Speed"),
        (HopperOptionsReg0.CASHBOX_PAY_ACTIVE, "3 Cashbox Pay"),
        (HopperOptionsReg0.ROUTE_ZERO_LEVEL_TO_CASHBOX, "4 Route 0 level"),
        (HopperOptionsReg0.HIGH_EFFICIENCY_SPLIT, "5 High Efficiency"),
        (HopperOptionsReg0.UNKNOWN_TO_PAYOUT, "6 Unknown to"),
        (HopperOptionsReg0.VALUE_ADDED, "7 Value Added"),
        (HopperOptionsReg1.REJECT_EVENTS, "0 Reject Events Set"),
        (HopperOptionsReg1.REJECT_EVENTS_FULL, "1 Reject Events"),
        (HopperOptionsReg1.EMPTY_ROUTE, "2 Empty Route"),
        (HopperOptionsReg1.FULL_TO_CASHBOX, "3 Full to Cashbox"),
        (HopperOptionsReg1.VALUE_COIN, "4 Value Coin"),
    ],
)
def test_option_bits_are_the_seed_bit_numbers(flag: enum.IntFlag, seed_row: str) -> None:
    assert any(t.startswith(seed_row) for t in seed_lines()[3540:3620] + seed_lines()[7150:7235])
    assert int(flag) == 1 << int(seed_row[0])


def test_hopper_example_registers() -> None:
    # "Reg0 = 04, Reg1 = 00" (L7240-L7241): high motor speed only, everything else off
    assert HopperOptionsReg0(0x04) == HopperOptionsReg0.MOTOR_SPEED_HIGH
    assert HopperOptionsReg1(0x00) == HopperOptionsReg1.NONE
    assert int(HopperOptionsReg0.LEVEL_CHECK | HopperOptionsReg0.MOTOR_SPEED_HIGH) == 0x06


# --------------------------------------------------------------------------------------------
# Barcode texts and reject reasons


@needs_seed
def test_barcode_texts_and_bytes() -> None:
    text = seed_text()
    for member, label in BARCODE_INHIBIT_TEXT.items():
        assert f"0x{int(member):02X} = {label}" in text
    for reader, label in BARCODE_READERS_TEXT.items():
        assert f"0x{int(reader):02X} = Enable {label.lower()}" in text
    assert "0x00 = None\n0x01 = Interleaved 2 of 5" in text
    assert BARCODE_FORMAT_TEXT[BarcodeFormat.INTERLEAVED_2_OF_5] == "Interleaved 2 of 5"
    block = seed_lines()[13399:13412]  # GetBarcodeReaderConfiguration's table, L13400-L13411
    joined = "\n".join(block)
    for label in BARCODE_HARDWARE_STATUS_TEXT.values():
        assert label in joined
    for label in [*BARCODE_READERS_TEXT.values(), *BARCODE_FORMAT_TEXT.values()]:
        assert label in joined
    assert set(BARCODE_READERS_TEXT) == set(BarcodeReaders)
    assert set(BARCODE_INHIBIT_TEXT) == set(BarcodeInhibit)


@needs_seed
def test_reject_reason_channel_inhibit_is_the_seed_text() -> None:
    assert line(10587).strip() == "{ RejectCategory = Reject Reason:"
    assert line(10588).strip() == REJECT_REASON_TEXT[RejectReason.CHANNEL_INHIBIT]


def test_reject_reasons_cover_the_protocol_reference() -> None:
    path = SHARED / "reference" / "kybarg-ssp" / "reject_note.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    reference = {
        int(code): item["name"] for code, item in json.loads(path.read_text(encoding="utf-8")).items()
    }
    # kybarg spells three names differently (one is not an identifier); ours follow ssp-protocol.md §6.1
    renamed = {18: "TWISTED_NOTE_DETECTED", 19: "ESCROW_TIMEOUT", 26: "SHORT_NOTE_DETECTED"}
    for code, name in reference.items():
        assert RejectReason(code).name == renamed.get(code, name)
    assert set(REJECT_REASON_TEXT) == set(RejectReason)


# --------------------------------------------------------------------------------------------
# Module-wide invariants (no seed needed)


ALL_ENUMS = [
    obj
    for obj in vars(enums).values()
    if isinstance(obj, type)
    and issubclass(obj, enum.Enum)
    and obj.__module__ == enums.__name__
    and len(obj.__members__) > 0  # the member-less bases CSharpEnum / CSharpResult / CSharpFlag
]


def test_every_enum_is_exported_documented_and_cites_the_seed_or_protocol() -> None:
    exported = {name for name in enums.__all__ if isinstance(getattr(enums, name), type)}
    assert exported == {cls.__name__ for cls in ALL_ENUMS} | {"CSharpEnum", "CSharpResult", "CSharpFlag"}
    assert len(ALL_ENUMS) == 35
    for cls in ALL_ENUMS:
        assert cls.__name__ in enums.__all__
        doc = cls.__doc__ or ""
        assert re.search(r"L\d{3,5}|ssp-protocol\.md", doc), cls.__name__


@pytest.mark.parametrize("cls", ALL_ENUMS, ids=lambda c: c.__name__)
def test_members_have_unique_values(cls: type[enum.Enum]) -> None:
    values = [m.value for m in cls]
    assert len(values) == len(set(values)), "aliases hide C# names"
    assert issubclass(cls, (enum.IntEnum, enum.IntFlag))


def test_text_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        BARCODE_INHIBIT_TEXT[BarcodeInhibit.BOTH_ENABLED] = "x"  # type: ignore[index]


def test_enums_round_trip_by_name_and_number() -> None:
    assert DeviceState["CONNECTED"] is DeviceState(15)
    assert DenominationRoute(7).name == "PAYOUT"
    assert DispenserTransactionType(4) is DispenserTransactionType.PAYOUT_BY_DENOMINATION
    with pytest.raises(ValueError):
        DenominationRoute(8)
