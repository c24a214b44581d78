"""The model table (:mod:`cashdevice.models`): what the host and the emulator both read."""

from __future__ import annotations

import pytest

from cashdevice.emulator.datasets import MODELS as PRODUCTS
from cashdevice.enums import DeviceModel
from cashdevice.events import DeviceFamily
from cashdevice.models import (
    COIN_MODELS,
    COIN_UNIT_TYPES,
    DISPENSERS,
    MODELS,
    PAYOUT_MODELS,
    UNIT_TYPE_FAMILY,
    UnitType,
    model_from_unit_type,
)

D = DeviceModel


def expected_model(unit_type: int, hint: DeviceModel) -> DeviceModel:
    """The rule as it was written before the table, kept as the reference."""
    if unit_type == 0x03:
        return hint if hint == D.SMART_HOPPER_4 else D.SMART_HOPPER
    if unit_type == 0x09:
        return hint if hint in (D.TWIN_SMART_COIN_SYSTEM, D.SMART_HOPPER_4) else D.SMART_COIN_SYSTEM
    if unit_type == 0x07:
        return D.NV11
    if unit_type in (0x06, 0x0E):
        return D.NV4000 if hint == D.NV4000 else D.SPECTRAL_DEVICE
    return D.NOTE_VALIDATOR


@pytest.mark.parametrize("hint", list(DeviceModel))
@pytest.mark.parametrize("unit_type", range(0x10))
def test_model_from_unit_type(unit_type: int, hint: DeviceModel) -> None:
    assert model_from_unit_type(unit_type, hint) == expected_model(unit_type, hint)


def test_every_device_model_has_a_row() -> None:
    assert set(MODELS) == set(DeviceModel)
    assert all(row.model == model for model, row in MODELS.items())


def test_derived_sets() -> None:
    assert PAYOUT_MODELS == {D.SPECTRAL_DEVICE, D.SPECTRAL_PAYOUT, D.NV11, D.NV4000}
    assert COIN_MODELS == {D.SMART_HOPPER, D.SMART_HOPPER_4, D.SMART_COIN_SYSTEM, D.TWIN_SMART_COIN_SYSTEM}
    assert DISPENSERS == PAYOUT_MODELS | COIN_MODELS
    assert COIN_UNIT_TYPES == {UnitType.SMART_HOPPER, UnitType.SMART_SYSTEM}
    assert dict(UNIT_TYPE_FAMILY) == {
        0x00: DeviceFamily.VALIDATOR,
        0x03: DeviceFamily.SMART_HOPPER,
        0x06: DeviceFamily.SMART_PAYOUT,
        0x07: DeviceFamily.NV11,
        0x09: DeviceFamily.SMART_SYSTEM,
    }


def test_default_addresses() -> None:
    assert {m for m, row in MODELS.items() if row.address == 0x10} == COIN_MODELS
    assert all(row.address == 0 for m, row in MODELS.items() if m not in COIN_MODELS)


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_emulated_products_follow_the_table(name: str) -> None:
    spec = PRODUCTS[name]
    facts = spec.facts
    assert model_from_unit_type(spec.unit_type, facts.model) == facts.host_model
    assert set(spec.sub_serials) >= {sub for sub, _ in facts.sub_devices}
    assert spec.kind == facts.kind and spec.family == facts.family
