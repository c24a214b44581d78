"""cashdevice.variables against the seed: the 88 names of the read-only-variables table (parsed out of the
seed text, both copies), their descriptions and lines, and the GetCompleteCashDevice JSON dump (key order,
value types, record shapes). Tests that read the seed skip when ``../shared`` is absent."""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from cashdevice.enums import CurrencyType, DenominationRoute
from cashdevice.records import CurrencyAssignmentEntry, DownloadStatus, ValueCountryCode
from cashdevice.variables import (
    CS_INTEGER_RANGES,
    EXTRA_JSON_FIELDS,
    GET_COMPLETE_CASH_DEVICE_ORDER,
    SEED_TABLE,
    VARIABLES,
    VARIABLES_BY_NAME,
    Variable,
    default_values,
    json_value,
    to_json,
)

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_79375e11ce1a2a17.txt"
needs_seed = pytest.mark.skipif(
    not SEED.is_file(), reason=f"seed text not found at {SEED} (../shared absent)"
)

EXTRA_NAMES = [
    "nv22SpectralDevice",
    "enablePayoutDeviceError",
    "recyclerCountersString",
    "currencyAssignment",
    "sorterRouteAssignment",
    "deviceState",
]
_PAGE_FURNITURE = ("Variable Name Description", "Document Revision", "Public ", "•")


@lru_cache(maxsize=1)
def seed_lines() -> tuple[str, ...]:
    return tuple(SEED.read_text(encoding="utf-8").split("\n"))


def parse_variables_table(first: int, last: int) -> list[tuple[str, str, int]]:
    """``(name, description, line)`` of each row of a "Public Read-Only Variables" table between 1-based lines
    ``first`` and ``last``. Rows are separated by blank lines; a row's description may wrap; page headers,
    footers and bullets are dropped."""
    rows: list[tuple[str, str, int]] = []
    block: list[tuple[str, int]] = []
    for number in range(first, last + 1):
        text = seed_lines()[number - 1].strip()
        if text.startswith(_PAGE_FURNITURE):
            continue
        if text:
            block.append((text, number))
            continue
        if block:
            name, _, description = block[0][0].partition(" ")
            rows.append((name, " ".join([description, *(t for t, _ in block[1:])]).strip(), block[0][1]))
            block = []
    if block:
        name, _, description = block[0][0].partition(" ")
        rows.append((name, " ".join([description, *(t for t, _ in block[1:])]).strip(), block[0][1]))
    return rows


@lru_cache(maxsize=1)
def dump() -> dict[str, Any]:
    """The GetCompleteCashDevice example body (L2140-L2366), page furniture removed, wrapped lines joined."""
    lines = seed_lines()
    assert lines[2139].startswith("SPECTRAL_PAYOUT-COM5: {")
    furniture = re.compile(r"^\s*(Status Body Notes|OK: .*|of the cash device\.)\s*$")
    buffer = "{"
    for text in lines[2140:2370]:
        if furniture.match(text):
            continue
        buffer += text
        if text.rstrip() == "}":
            break
    value = json.loads(buffer)
    assert isinstance(value, dict)
    return value


# --------------------------------------------------------------------------------------------
# The table


@needs_seed
def test_the_88_names_are_the_csharp_table_in_order() -> None:
    seed = parse_variables_table(11260, 11456)
    assert len(seed) == 88
    assert [name for name, _, _ in seed] == [v.name for v in SEED_TABLE]


@needs_seed
def test_rest_copy_of_the_table_is_identical() -> None:
    csharp = [(name, description) for name, description, _ in parse_variables_table(11260, 11456)]
    rest = [(name, description) for name, description, _ in parse_variables_table(1932, 2133)]
    assert rest == csharp


@needs_seed
def test_descriptions_and_lines_are_the_seeds() -> None:
    for (name, description, number), row in zip(parse_variables_table(11260, 11456), SEED_TABLE):
        assert row.description == description, name
        assert row.seed_line == number, name


@needs_seed
def test_json_keys_are_the_dump_in_order() -> None:
    assert list(dump()) == list(GET_COMPLETE_CASH_DEVICE_ORDER)
    assert set(dump()) - {v.name for v in SEED_TABLE} == set(EXTRA_NAMES)


@needs_seed
def test_json_line_is_where_the_key_starts() -> None:
    lines = seed_lines()
    for row in VARIABLES:
        here = lines[row.json_line - 1].strip()
        after = lines[row.json_line].strip()
        assert here.startswith('"'), row.name
        assert (here + after).startswith(f'"{row.name}":'), row.name
        assert row.name.startswith(here.strip('"').split('"')[0]), row.name


@needs_seed
@pytest.mark.parametrize("row", VARIABLES, ids=lambda row: row.name)
def test_types_agree_with_the_dump(row: Variable) -> None:
    value = dump()[row.name]
    if value is None:
        assert row.nullable
        return
    if isinstance(value, bool):
        assert row.value_type is bool
    elif isinstance(value, int):
        assert row.value_type is int
        low, high = CS_INTEGER_RANGES[row.cs_type]
        assert low <= value <= high
    elif isinstance(value, str):
        if issubclass(row.value_type, enum.Enum):
            assert value in row.value_type.__members__
        else:
            assert row.value_type is str
    elif isinstance(value, list):
        assert row.value_type is list
    else:
        assert isinstance(value, dict)
        assert row.value_type is DownloadStatus  # the only object-valued variable the dump fills
        assert DownloadStatus.from_json(value).to_json("pascal") == value


@needs_seed
def test_misspellings_are_kept() -> None:
    assert "seondaryHopperBuildRevisionString" in VARIABLES_BY_NAME
    assert "secondaryHopperBuildRevisionString" not in VARIABLES_BY_NAME
    assert '"seondaryHopperBuildRevisionStri' in "\n".join(seed_lines()[2200:2215])


@needs_seed
def test_export_reproduces_the_dump_from_the_devices_values() -> None:
    """Fill the variables with the dump's own values (converted to our types) and export them again."""
    seed = dump()
    values = default_values()
    for row in VARIABLES:
        raw = seed[row.name]
        if raw is None:
            values[row.name] = None
        elif issubclass(row.value_type, enum.Enum):
            values[row.name] = row.value_type[raw]
        elif row.value_type is DownloadStatus:
            values[row.name] = DownloadStatus.from_json(raw)
        elif row.name == "currencyAssignment":
            values[row.name] = [CurrencyAssignmentEntry.from_json(item) for item in raw]
        else:
            values[row.name] = raw
    assert json.dumps(to_json(values)) == json.dumps(seed)


# --------------------------------------------------------------------------------------------
# Invariants that need no seed


def test_sizes_and_uniqueness() -> None:
    assert len(SEED_TABLE) == 88 and len(EXTRA_JSON_FIELDS) == 6 and len(VARIABLES) == 94
    assert [v.name for v in EXTRA_JSON_FIELDS] == EXTRA_NAMES
    assert len(VARIABLES_BY_NAME) == 94
    assert all(v.in_seed_table for v in SEED_TABLE) and not any(v.in_seed_table for v in EXTRA_JSON_FIELDS)
    assert sorted(GET_COMPLETE_CASH_DEVICE_ORDER) == sorted(VARIABLES_BY_NAME)


@pytest.mark.parametrize("row", VARIABLES, ids=lambda row: row.name)
def test_defaults_fit_their_types(row: Variable) -> None:
    value = row.new_default()
    if value is None:
        assert row.nullable
    else:
        assert isinstance(value, row.value_type)
    if row.cs_type in CS_INTEGER_RANGES:
        low, high = CS_INTEGER_RANGES[row.cs_type]
        assert row.value_type is int and low <= value <= high
    assert row.json_name == row.name
    assert row.description and row.cs_type and row.cs_type_evidence and row.json_format


def test_default_values_are_fresh_and_exportable() -> None:
    first, second = default_values(), default_values()
    assert list(first) == [v.name for v in VARIABLES]
    assert (
        first["currencyAssignment"] == [] and first["currencyAssignment"] is not second["currencyAssignment"]
    )
    first["currencyAssignment"].append(
        CurrencyAssignmentEntry(CurrencyType.BANKNOTE, ValueCountryCode(500, "EUR"), Channel=1)
    )
    assert second["currencyAssignment"] == [] and VARIABLES_BY_NAME["currencyAssignment"].default == ()
    exported = to_json(first)
    assert list(exported) == list(GET_COMPLETE_CASH_DEVICE_ORDER)
    assert exported["deviceState"] == "NOT_CONNECTED" and exported["deviceError"] == "NONE"
    assert exported["currencyAssignment"][0]["AcceptRoute"] == "CASHBOX"
    assert exported["downloadStatus"]["State"] == "IDLE"
    json.dumps(exported)
    with pytest.raises(KeyError):
        to_json({})


def test_json_value_conversions() -> None:
    assert json_value(DenominationRoute.PAYOUT) == "PAYOUT"
    assert json_value(ValueCountryCode(100, "EUR"))["CountryCode"] == "EUR"
    assert json_value((1, DenominationRoute.CASHBOX)) == [1, "CASHBOX"]
    assert json_value(None) is None and json_value("x") == "x"


def test_rows_and_table_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        VARIABLES[0].name = "port"  # type: ignore[misc]
    with pytest.raises(TypeError):
        VARIABLES_BY_NAME["x"] = VARIABLES[0]  # type: ignore[index]
    assert isinstance(VARIABLES, tuple)


@pytest.mark.parametrize(
    ("module", "allowed"),
    [
        ("enums", set()),
        ("records", {"enums"}),
        ("variables", {"enums", "records"}),
    ],
)
def test_import_arrows(module: str, allowed: set[str]) -> None:
    """enums <- records <- variables, stdlib otherwise (STYLE.md "separate rooms, one-way doors")."""
    import ast

    stdlib = {"__future__", "dataclasses", "enum", "re", "types", "typing"}
    path = Path(__file__).resolve().parents[2] / "cashdevice" / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    local: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            local.add(node.module or "")
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] in stdlib, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split(".")[0] in stdlib, alias.name
    assert local == allowed
