"""Pure parsers for structured SSP replies (the bytes after the ``F0`` response code).

One function per reply layout, each raising ``ValueError`` on a reply that is too short
or inconsistent, so a caller can log the reason and return its documented failure value.
Layouts: ssp-protocol.md §4.2, §4.3, §4.6; GA138 v2.2 command pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import COIN_UNIT_TYPES

__all__ = [
    "COIN_UNIT_TYPES",
    "BuildRevision",
    "Channel",
    "Level",
    "SetupInfo",
    "UnitData",
    "parse_all_levels",
    "parse_build_revisions",
    "parse_serial_number",
    "parse_setup_request",
    "parse_unit_data",
]



def _ascii(raw: bytes) -> str:
    return raw.decode("ascii", errors="replace")


def _need(reply: bytes, size: int, what: str) -> None:
    if len(reply) < size:
        raise ValueError(f"{what} reply too short: {len(reply)} bytes, need {size}")


@dataclass(frozen=True)
class Channel:
    """One channel / denomination of the dataset. ``value`` is in minor units."""

    number: int
    """1-based channel number (SETUP REQUEST order)."""
    value: int
    country: str


@dataclass(frozen=True)
class SetupInfo:
    """SETUP REQUEST (0x05) reply."""

    unit_type: int
    firmware: str
    """4 ASCII characters, e.g. ``"0433"`` = 4.33."""
    country: str
    protocol_version: int
    channels: tuple[Channel, ...]
    value_multiplier: int = 1
    real_value_multiplier: int = 1

    @property
    def is_coin_device(self) -> bool:
        return self.unit_type in COIN_UNIT_TYPES

    @property
    def currencies(self) -> tuple[str, ...]:
        """Distinct currencies of the channel table, in first-seen order."""
        return tuple(dict.fromkeys(c.country for c in self.channels))


def parse_setup_request(reply: bytes) -> SetupInfo:
    """Parse the data after ``F0`` of SETUP REQUEST for validators, payouts and hoppers.

    Validators (unit types 0x00, 0x06, 0x07, 0x0D-0x0F): below protocol 6 a channel's value
    is ``byte * value_multiplier * real_value_multiplier``; from protocol 6 the expanded
    32-bit values (major units) times the real value multiplier, and a country per channel.
    Hoppers / SMART System (0x03, 0x09): 16-bit values in minor units, country per
    denomination from protocol 6.
    """
    _need(reply, 9, "SETUP REQUEST")
    unit_type = reply[0]
    firmware = _ascii(reply[1:5])
    country = _ascii(reply[5:8])
    if unit_type in COIN_UNIT_TYPES:
        _need(reply, 10, "SETUP REQUEST")
        protocol = reply[8]
        n = reply[9]
        _need(reply, 10 + 2 * n, "SETUP REQUEST")
        values = [int.from_bytes(reply[10 + 2 * i : 12 + 2 * i], "little") for i in range(n)]
        countries = [country] * n
        if protocol >= 6 and len(reply) >= 10 + 5 * n:
            base = 10 + 2 * n
            countries = [_ascii(reply[base + 3 * i : base + 3 * i + 3]) for i in range(n)]
        channels = tuple(Channel(i + 1, v, c) for i, (v, c) in enumerate(zip(values, countries)))
        return SetupInfo(unit_type, firmware, country, protocol, channels)
    _need(reply, 12, "SETUP REQUEST")
    multiplier = int.from_bytes(reply[8:11], "big")
    n = reply[11]
    _need(reply, 16 + 2 * n, "SETUP REQUEST")
    legacy = reply[12 : 12 + n]
    real_multiplier = int.from_bytes(reply[12 + 2 * n : 15 + 2 * n], "big")
    protocol = reply[15 + 2 * n]
    if protocol >= 6:
        _need(reply, 16 + 9 * n, "SETUP REQUEST")
        base = 16 + 2 * n
        countries = [_ascii(reply[base + 3 * i : base + 3 * i + 3]) for i in range(n)]
        base += 3 * n
        expanded = [int.from_bytes(reply[base + 4 * i : base + 4 * i + 4], "little") for i in range(n)]
        values = [e * real_multiplier for e in expanded]
    else:
        countries = [country] * n
        values = [b * multiplier * real_multiplier for b in legacy]
    channels = tuple(Channel(i + 1, v, c) for i, (v, c) in enumerate(zip(values, countries)))
    return SetupInfo(unit_type, firmware, country, protocol, channels, multiplier, real_multiplier)


@dataclass(frozen=True)
class UnitData:
    """UNIT DATA (0x0D) reply."""

    unit_type: int
    firmware: str
    country: str
    value_multiplier: int
    protocol_version: int


def parse_unit_data(reply: bytes) -> UnitData:
    _need(reply, 12, "UNIT DATA")
    return UnitData(
        reply[0], _ascii(reply[1:5]), _ascii(reply[5:8]), int.from_bytes(reply[8:11], "big"), reply[11]
    )


def parse_serial_number(reply: bytes) -> int:
    """GET SERIAL NUMBER (0x0C): 4 bytes, big-endian."""
    _need(reply, 4, "GET SERIAL NUMBER")
    return int.from_bytes(reply[:4], "big")


@dataclass(frozen=True)
class BuildRevision:
    """One module of GET BUILD REVISION (0x4F): type byte and 16-bit revision."""

    module_type: int
    revision: int

    @property
    def text(self) -> str:
        """``"major.minor"`` as ITL prints it: revision 910 -> ``"9.10"``, 101 -> ``"1.01"``."""
        return f"{self.revision // 100}.{self.revision % 100:02d}"


def parse_build_revisions(reply: bytes) -> tuple[BuildRevision, ...]:
    if not reply or len(reply) % 3:
        raise ValueError(f"GET BUILD REVISION reply of {len(reply)} bytes is not n x 3")
    return tuple(
        BuildRevision(reply[i], int.from_bytes(reply[i + 1 : i + 3], "little"))
        for i in range(0, len(reply), 3)
    )


@dataclass(frozen=True)
class Level:
    """One entry of GET ALL LEVELS (0x22): stored count of a denomination."""

    stored: int
    value: int
    country: str


def parse_all_levels(reply: bytes) -> tuple[Level, ...]:
    """GET ALL LEVELS: n, then n x [level u16, value u32, country 3]."""
    _need(reply, 1, "GET ALL LEVELS")
    n = reply[0]
    _need(reply, 1 + 9 * n, "GET ALL LEVELS")
    out = []
    for i in range(n):
        entry = reply[1 + 9 * i : 10 + 9 * i]
        out.append(
            Level(
                int.from_bytes(entry[0:2], "little"), int.from_bytes(entry[2:6], "little"), _ascii(entry[6:9])
            )
        )
    return tuple(out)
