"""Static device facts as data literals: products, datasets, firmware strings, serials.

Family, unit type, notes or coins, payout and address come from the driver's model table
(:data:`cashdevice.models.MODELS`), so host and emulator cannot disagree about them.

Everything here is data; behaviour lives in :mod:`.device` and its mixins.  Sources:
ssp-protocol.md §4.6 (unit types, SETUP REQUEST), §10 (defaults), ssp-coin-nv4000.md §4
(SMART System, NV4000), the seed's sample strings (firmware ``NVS2004301038000``,
``SH00041312579C01``, dataset ``GBP01056`` ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from ..commands import DEFAULT_COMMANDS
from ..enums import DeviceModel
from ..events import DeviceFamily
from ..models import COINS, NOTES, CurrencyKind, ModelFacts
from ..models import MODELS as FACTS

__all__ = [
    "COINS",
    "CURRENCIES_COINS",
    "CURRENCIES_NOTES",
    "MODELS",
    "NOTES",
    "UNVERIFIED_COMMANDS",
    "Denomination",
    "ModelSpec",
    "build_dataset",
]


@dataclass(frozen=True, order=True)
class Denomination:
    """A note or coin: value in minor units and ISO 4217 country code."""

    value: int
    country: str

    def __str__(self) -> str:
        return f"{self.value} {self.country}"


@dataclass(frozen=True)
class ModelSpec:
    """One emulated product: the driver's facts of its ``DeviceModel`` (:mod:`cashdevice.models`)
    plus what one unit of it says (firmware, serials, capacities)."""

    name: str
    facts: ModelFacts
    protocol_max: int
    firmware: str  # GET FIRMWARE VERSION string
    firmware_short: str  # 4 ASCII digits in SETUP REQUEST / UNIT DATA
    serial: int
    sub_serials: Mapping[int, int] = field(default_factory=dict)
    build_revisions: tuple[tuple[int, int], ...] = ()
    store_capacity: int = 0  # notes in the recycler(s) / coins per denomination
    cashbox_capacity: int = 600
    modules: int = 1  # NV4000: four recycler modules
    watchdog: float = 10.0
    encryption_enforced: bool = True
    counters: int = 5  # GET COUNTERS entries; 0 = SH3 form (6 counters, no count byte)
    rtc: bool = False
    twin: bool = False
    build_stamp: str = "14.03.24_10:22:31"  # extended version suffix (dd.mm.yy_hh:mm:ss)

    @property
    def family(self) -> DeviceFamily:
        return self.facts.family

    @property
    def kind(self) -> CurrencyKind:
        return self.facts.kind

    @property
    def unit_type(self) -> int:
        return int(self.facts.unit_type)

    @property
    def address(self) -> int:
        return self.facts.address

    @property
    def payout(self) -> bool:
        return self.facts.payout


MODELS: Final[Mapping[str, ModelSpec]] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "NOTE_VALIDATOR",
            FACTS[DeviceModel.NOTE_VALIDATOR],
            protocol_max=7,
            firmware="NV00093461440000",
            firmware_short="0346",
            serial=0x004A9C31,
            build_revisions=((0x00, 16),),
            encryption_enforced=False,
            cashbox_capacity=600,
        ),
        ModelSpec(
            "SPECTRAL_PAYOUT",
            FACTS[DeviceModel.SPECTRAL_PAYOUT],
            protocol_max=8,
            firmware="NVS2004301038000",
            firmware_short="0430",
            serial=0x004AA327,
            sub_serials={1: 0x004EF79E},
            build_revisions=((0x00, 710), (0x06, 100)),
            store_capacity=80,
            cashbox_capacity=1000,
        ),
        ModelSpec(
            "SMART_PAYOUT",
            FACTS[DeviceModel.SPECTRAL_DEVICE],
            protocol_max=8,
            firmware="NV02004141498000",
            firmware_short="0414",
            serial=0x003B2A10,
            sub_serials={1: 0x003C11F0},
            build_revisions=((0x00, 20), (0x06, 21)),
            store_capacity=80,
            cashbox_capacity=1000,
        ),
        ModelSpec(
            "NV11",
            FACTS[DeviceModel.NV11],
            protocol_max=7,
            firmware="NV00113371120000",
            firmware_short="0337",
            serial=0x00277A02,
            sub_serials={1: 0x00278001},
            build_revisions=((0x00, 18), (0x07, 9)),
            store_capacity=30,
            cashbox_capacity=300,
        ),
        ModelSpec(
            "NV4000",
            FACTS[DeviceModel.NV4000],
            protocol_max=8,
            firmware="NV40000101000000",
            firmware_short="0101",
            serial=0x00512345,
            sub_serials={
                0x11: 0x00512401,
                0x12: 0x00512402,
                0x13: 0x00512403,
                0x14: 0x00512404,
                0x15: 0x00512405,
            },
            build_revisions=((0x00, 101), (0x11, 10), (0x12, 10), (0x13, 10), (0x14, 10)),
            store_capacity=60,
            cashbox_capacity=2000,
            modules=4,
            rtc=True,  # the seed's GetRealTimeClock / SetRealTimeClock examples are NV4000's
        ),
        ModelSpec(
            "SMART_HOPPER",
            FACTS[DeviceModel.SMART_HOPPER],
            protocol_max=8,
            firmware="SH00036140000000",
            firmware_short="0614",
            serial=0x0011D3C4,
            build_revisions=((0x03, 12),),
            store_capacity=500,
            cashbox_capacity=3000,
            watchdog=5.0,
            counters=0,
        ),
        ModelSpec(
            "SMART_COIN_SYSTEM",
            FACTS[DeviceModel.SMART_COIN_SYSTEM],
            protocol_max=8,
            firmware="SH00041312579C01",
            firmware_short="0131",
            serial=0x00579262,
            sub_serials={1: 0x0057601F},
            build_revisions=((0x09, 13), (0x0A, 13)),
            store_capacity=500,
            cashbox_capacity=3000,
            watchdog=5.0,
            counters=9,
            rtc=True,
        ),
        ModelSpec(
            "TWIN_SMART_COIN_SYSTEM",
            FACTS[DeviceModel.TWIN_SMART_COIN_SYSTEM],
            protocol_max=8,
            firmware="SH00041312579C01",
            firmware_short="0131",
            serial=0x00579301,
            sub_serials={1: 0x00576022, 2: 0x00579302},
            build_revisions=((0x09, 13), (0x0A, 13), (0x09, 13)),
            store_capacity=1000,
            cashbox_capacity=3000,
            watchdog=5.0,
            counters=9,
            rtc=True,
            twin=True,
        ),
        ModelSpec(
            "SMART_HOPPER_4",
            FACTS[DeviceModel.SMART_HOPPER_4],
            protocol_max=8,
            firmware="SH00041312579C01",
            firmware_short="0131",
            serial=0x00573923,
            build_revisions=((0x03, 13),),
            store_capacity=600,
            cashbox_capacity=3000,
            watchdog=5.0,
            counters=9,
            rtc=True,
        ),
    )
}
"""Model name (C# ``DeviceModel`` spelling where one exists) -> spec."""

CURRENCIES_NOTES: Final[Mapping[str, tuple[int, ...]]] = {
    "EUR": (500, 1000, 2000, 5000, 10000, 20000, 50000),
    "GBP": (500, 1000, 2000, 5000),
    "USD": (100, 200, 500, 1000, 2000, 5000, 10000),
    "MXN": (2000, 5000, 10000, 20000, 50000, 100000),
}
"""Note denominations per currency (minor units), in channel order."""

CURRENCIES_COINS: Final[Mapping[str, tuple[int, ...]]] = {
    "EUR": (5, 10, 20, 50, 100, 200),
    "GBP": (1, 2, 5, 10, 20, 50, 100, 200),
    "USD": (5, 10, 25, 100),
    "MXN": (100, 200, 500, 1000),
}
"""Coin denominations per currency (minor units)."""

DATASET_REVISION: Final = "01056"


def build_dataset(spec: ModelSpec, currencies: tuple[str, ...]) -> tuple[Denomination, ...]:
    """The channel table: denominations in channel order (channel 1 first)."""
    table = CURRENCIES_NOTES if spec.kind == NOTES else CURRENCIES_COINS
    out: list[Denomination] = []
    for cur in currencies:
        if cur not in table:
            raise ValueError(f"no {spec.kind} dataset for currency {cur!r} (have {', '.join(table)})")
        out.extend(Denomination(v, cur) for v in table[cur])
    if spec.kind == NOTES and len(out) > 24:
        raise ValueError("a note dataset has at most 24 channels")
    return tuple(out)


def dataset_string(currencies: tuple[str, ...]) -> str:
    """GET DATASET VERSION string, e.g. ``EUR01056``."""
    return f"{currencies[0]}{DATASET_REVISION}"


UNVERIFIED_COMMANDS: Final[Mapping[str, bytes]] = MappingProxyType(
    {row.name: row.prefix for row in DEFAULT_COMMANDS.values() if not row.verified}
)
"""Every command whose bytes ITL has not published: name -> leading bytes, taken from the
driver's one command table (:data:`cashdevice.commands.DEFAULT_COMMANDS`), so emulator and
driver cannot disagree.  Test-only: never send these to hardware."""
