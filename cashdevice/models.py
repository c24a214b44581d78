"""Device facts as data: one row per C# ``DeviceModel``, read by the host and by the emulator.

Each row says which event dialect the model speaks (:class:`~cashdevice.events.DeviceFamily`), which
SETUP REQUEST unit types it reports, whether it handles notes or coins, whether it pays out, which
sub-devices GET SERIAL NUMBER reads, and its default SSP address.  Sources: ssp-protocol.md §4.6
(unit types), §4.2 (GET SERIAL NUMBER sub-devices, GA138-NV9), ssp-coin-nv4000.md §4 (SMART System,
NV4000), the seed's ``Open`` examples (coin systems on address 16).

Which model a unit type means (:func:`model_from_unit_type`): several models share a unit type, so
Open's ``devModel`` picks among them when its row lists the unit type; otherwise the first row that
is not ``by_hint_only`` wins.  ITL reports a Spectral Payout as ``SPECTRAL_DEVICE`` (``reported_as``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from .enums import DeviceModel
from .events import DeviceFamily

__all__ = [
    "COINS",
    "COIN_MODELS",
    "COIN_UNIT_TYPES",
    "DISPENSERS",
    "MODELS",
    "NOTES",
    "PAYOUT_MODELS",
    "UNIT_TYPE_FAMILY",
    "CurrencyKind",
    "ModelFacts",
    "UnitType",
    "model_from_unit_type",
]


class UnitType(enum.IntEnum):
    """SETUP REQUEST / UNIT DATA unit type byte (ssp-protocol.md §4.6)."""

    NOTE_VALIDATOR = 0x00
    SMART_HOPPER = 0x03
    SMART_PAYOUT = 0x06
    """A validator with a SMART Payout fitted; NV4000 reports it too."""
    NV11 = 0x07
    ADDON_PRINTER = 0x08
    SMART_SYSTEM = 0x09
    """SMART System / SMART Coin System (and the Twin)."""
    PRINTER = 0x0B
    TEBS = 0x0D
    TEBS_SMART_PAYOUT = 0x0E
    TEBS_SMART_TICKET = 0x0F


CurrencyKind = Literal["notes", "coins"]
NOTES: Final = "notes"
COINS: Final = "coins"

_PAYOUT_MODULE: Final = ((1, "payoutModule"),)
_COIN_FEEDER: Final = ((1, "coinFeeder"),)
_NV4000_MODULES: Final = (
    (0x11, "recycler1"),
    (0x12, "recycler2"),
    (0x13, "recycler3"),
    (0x14, "recycler4"),
    (0x15, "interface"),
)


@dataclass(frozen=True)
class ModelFacts:
    """What one model is, independent of any one unit."""

    model: DeviceModel
    family: DeviceFamily
    kind: CurrencyKind
    unit_types: tuple[UnitType, ...]
    """Unit types it reports; the first is the one the emulator reports."""
    payout: bool
    sub_devices: tuple[tuple[int, str], ...] = ()
    """GET SERIAL NUMBER sub-device byte -> the ``<name>SerialNumber`` variable it fills."""
    address: int = 0x00
    by_hint_only: bool = False
    """True when the host can tell it from its unit type only if Open's devModel names it."""
    reported_as: DeviceModel | None = None
    """The ``deviceModel`` the host reports for it (default: itself)."""

    @property
    def unit_type(self) -> UnitType:
        return self.unit_types[0]

    @property
    def host_model(self) -> DeviceModel:
        return self.model if self.reported_as is None else self.reported_as


MODELS: Final[Mapping[DeviceModel, ModelFacts]] = MappingProxyType(
    {
        row.model: row
        for row in (
            ModelFacts(
                DeviceModel.NOTE_VALIDATOR,
                DeviceFamily.VALIDATOR,
                NOTES,
                (UnitType.NOTE_VALIDATOR,),
                payout=False,
            ),
            ModelFacts(
                DeviceModel.SPECTRAL_DEVICE,
                DeviceFamily.SMART_PAYOUT,
                NOTES,
                (UnitType.SMART_PAYOUT, UnitType.TEBS_SMART_PAYOUT),
                payout=True,
                sub_devices=_PAYOUT_MODULE,
            ),
            ModelFacts(
                DeviceModel.SPECTRAL_PAYOUT,
                DeviceFamily.SMART_PAYOUT,
                NOTES,
                (UnitType.SMART_PAYOUT,),
                payout=True,
                sub_devices=_PAYOUT_MODULE,
                reported_as=DeviceModel.SPECTRAL_DEVICE,
            ),
            ModelFacts(
                DeviceModel.NV11,
                DeviceFamily.NV11,
                NOTES,
                (UnitType.NV11,),
                payout=True,
                sub_devices=_PAYOUT_MODULE,
            ),
            ModelFacts(
                DeviceModel.NV4000,
                DeviceFamily.NV4000,
                NOTES,
                (UnitType.SMART_PAYOUT, UnitType.TEBS_SMART_PAYOUT),
                payout=True,
                sub_devices=_NV4000_MODULES,
                by_hint_only=True,
            ),
            ModelFacts(
                DeviceModel.SMART_HOPPER,
                DeviceFamily.SMART_HOPPER,
                COINS,
                (UnitType.SMART_HOPPER,),
                payout=True,
                address=0x10,
            ),
            ModelFacts(
                DeviceModel.SMART_COIN_SYSTEM,
                DeviceFamily.SMART_SYSTEM,
                COINS,
                (UnitType.SMART_SYSTEM,),
                payout=True,
                sub_devices=_COIN_FEEDER,
                address=0x10,
            ),
            ModelFacts(
                DeviceModel.TWIN_SMART_COIN_SYSTEM,
                DeviceFamily.SMART_SYSTEM,
                COINS,
                (UnitType.SMART_SYSTEM,),
                payout=True,
                sub_devices=_COIN_FEEDER,
                address=0x10,
                by_hint_only=True,
            ),
            ModelFacts(
                DeviceModel.SMART_HOPPER_4,
                DeviceFamily.SMART_SYSTEM,
                COINS,
                (UnitType.SMART_HOPPER, UnitType.SMART_SYSTEM),
                payout=True,
                address=0x10,
                by_hint_only=True,
            ),
        )
    }
)
"""``DeviceModel`` -> its facts; every ``DeviceModel`` has a row."""

PAYOUT_MODELS: Final = frozenset(m for m, row in MODELS.items() if row.payout and row.kind == NOTES)
"""Note recyclers (SMART Payout, NV11, NV4000)."""
COIN_MODELS: Final = frozenset(m for m, row in MODELS.items() if row.kind == COINS)
"""SMART Hopper and the SMART (Coin) System family."""
DISPENSERS: Final = frozenset(m for m, row in MODELS.items() if row.payout)
COIN_UNIT_TYPES: Final = frozenset(u for row in MODELS.values() if row.kind == COINS for u in row.unit_types)
"""Unit types whose SETUP REQUEST uses the hopper layout (SMART Hopper, SMART System)."""
UNIT_TYPE_FAMILY: Final[Mapping[int, DeviceFamily]] = MappingProxyType(
    {row.unit_type: row.family for row in reversed(tuple(MODELS.values())) if not row.by_hint_only}
)
"""The event dialect a unit type implies when nothing else is known (first row wins)."""


def model_from_unit_type(unit_type: int, hint: DeviceModel) -> DeviceModel:
    """``deviceModel`` from the SETUP REQUEST unit type; ``hint`` (Open's devModel) picks among the
    models that share a unit type."""
    row = MODELS[hint]
    if unit_type in row.unit_types:
        return row.host_model
    for row in MODELS.values():
        if not row.by_hint_only and unit_type in row.unit_types:
            return row.host_model
    return DeviceModel.NOTE_VALIDATOR
