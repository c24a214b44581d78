"""The declarative command table: every command a ``CashDevice`` method sends, in one place.

Each :class:`CommandSpec` row holds the command's leading bytes (code, plus sub-command bytes
where a command is a family), whether GA138 requires encryption, whether ITL published the
bytes (``verified``), the minimum protocol level, where the bytes come from, and the row's
codecs in both directions, as pymodbus' PDU classes have: the host's request encoder (Python
values -> parameter bytes after the prefix) and reply decoder (the bytes after ``F0`` -> Python
values), and the device's request decoder and reply encoder, their inverses.
:meth:`CommandSpec.encode` / :meth:`CommandSpec.decode` are the host's half,
:meth:`CommandSpec.decode_request` / :meth:`CommandSpec.encode_reply` the emulator's
(``decode_request(encode(*args)) == args``, ``decode(encode_reply(value)) == value``); a row
with no structured layout passes bytes through both ways.  The codecs live in the private
:mod:`cashdevice._codecs`; this module re-exports the public helpers (``u16``, ``u32``,
``country``, ``decode_entries``, the service layouts).  :meth:`CommandSpec.build` appends
already-encoded parameters.  The emulator derives
its test-only codes from this same table (``emulator.datasets.UNVERIFIED_COMMANDS``).

Unverified rows (``verified=False``) are the commands of SMART Coin System, Twin SCS, SMART
Hopper 4 and NV4000 whose bytes ITL has not published (ssp-coin-nv4000.md §0, §2 rows "?").
They ship with the test-only codes of ssp-coin-nv4000.md §8.2 (codes no ITL document assigns)
and the two "Sub Command 0x05 0x87 / 0x05 0x85" rows of the seed (reading H2, §4.1).  The
emulator answers them; against a device a :class:`CommandTable` refuses them unless the user
supplies the real bytes (:meth:`CommandTable.override`, :meth:`CommandTable.load`) or enables
the shipped rows with ``allow_unverified=True``.  A refused row raises
:class:`UnverifiedCommandError`; each ``CashDevice`` method turns that into its documented
failure value and one log line.

Override file format (JSON, or TOML on Python >= 3.11)::

    {"GET_CASHBOX_LEVELS": {"prefix": "3a 01", "encrypted": true},
     "PURGE": {"prefix": "3a 05"}}

An overridden row counts as verified (the user vouches for it).  Tables are per device:
overriding one never changes another device or this module's defaults.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ._codecs import (
    INVERSE,
    SERVICE_LAYOUTS,
    Decoder,
    Encoder,
    ReplyEncoder,
    RequestDecoder,
    _as_is,
    _dec_ascii,
    _dec_barcode,
    _dec_byte,
    _dec_cashbox_levels,
    _dec_counters,
    _dec_flags3,
    _dec_levels,
    _dec_pair,
    _dec_quad,
    _dec_rtc,
    _dec_two_u16,
    _dec_u16,
    _dec_u32,
    _enc_add_level,
    _enc_amount,
    _enc_by_denomination,
    _enc_coin_inhibit,
    _enc_denomination,
    _enc_float,
    _enc_level,
    _enc_limits,
    _enc_mask,
    _enc_optional_byte,
    _enc_optional_country,
    _enc_route,
    _enc_sorter,
    _raw,
    _raw_args,
    _u8s,
    country,
    decode_entries,
    encode_service,
    parse_service,
    service_layout,
    u16,
    u32,
)
from .ssp import ENCRYPTED_COMMANDS, SSPError

__all__ = [
    "DEFAULT_COMMANDS",
    "SERVICE_LAYOUTS",
    "CommandSpec",
    "Decoder",
    "Encoder",
    "CommandTable",
    "ReplyEncoder",
    "RequestDecoder",
    "UnverifiedCommandError",
    "country",
    "decode_entries",
    "encode_service",
    "parse_service",
    "service_layout",
    "u16",
    "u32",
]


@dataclass(frozen=True)
class CommandSpec:
    """One command: ``prefix`` is what the DATA starts with; parameters follow it."""

    name: str
    prefix: bytes
    encrypted: bool = False
    verified: bool = True
    min_protocol: int = 0
    request: str = ""
    """Parameter layout after the prefix (documentation)."""
    reply: str = ""
    """Reply layout after F0 (documentation)."""
    source: str = ""
    encoder: Encoder = field(default=_raw, compare=False, repr=False)
    decoder: Decoder = field(default=_as_is, compare=False, repr=False)
    request_decoder: RequestDecoder = field(default=_raw_args, compare=False, repr=False)
    reply_encoder: ReplyEncoder = field(default=_as_is, compare=False, repr=False)

    def build(self, params: bytes = b"") -> bytes:
        """The command DATA: prefix + already-encoded parameters."""
        return self.prefix + params

    def encode(self, *args: Any) -> bytes:
        """The command DATA: prefix + the row's encoding of ``args``."""
        return self.prefix + self.encoder(*args)

    def decode(self, data: bytes) -> Any:
        """The row's decoding of a reply's DATA after ``F0``."""
        return self.decoder(bytes(data))

    def matches(self, data: bytes) -> bool:
        """Whether the command DATA starts with this row's prefix."""
        return bytes(data[: len(self.prefix)]) == self.prefix

    def decode_request(self, data: bytes) -> tuple[Any, ...]:
        """Device side: the command DATA (prefix included) -> the arguments :meth:`encode` took;
        ``ValueError`` when the prefix or the parameter layout does not fit."""
        if not self.matches(data):
            raise ValueError(f"{self.name}: DATA {bytes(data).hex()} does not start with {self.prefix.hex()}")
        return self.request_decoder(bytes(data[len(self.prefix) :]))

    def encode_reply(self, value: Any) -> bytes:
        """Device side: the reply DATA after ``F0`` that :meth:`decode` turns into ``value``."""
        return self.reply_encoder(value)


class UnverifiedCommandError(SSPError):
    """The command's bytes are not published and this table does not allow the shipped guess."""

    def __init__(self, spec: CommandSpec) -> None:
        super().__init__(
            f"{spec.name}: ITL has not published this command's bytes; supply them with "
            f"CommandTable.override({spec.name!r}, prefix=...) or a command file "
            f"(CashDevice.LoadCommandTable), or enable the emulator's test codes with allow_unverified=True"
        )
        self.spec = spec


def _c(
    name: str,
    prefix: str,
    encrypted: bool | None = None,
    *,
    verified: bool = True,
    min_protocol: int = 0,
    request: str = "",
    reply: str = "",
    source: str = "GA138 v2.2",
    enc: Encoder = _raw,
    dec: Decoder = _as_is,
) -> CommandSpec:
    """One row; the device-side codecs are the inverses of ``enc`` and ``dec`` (:data:`INVERSE`)."""
    code = bytes.fromhex(prefix)
    if encrypted is None:
        # one home: a published command is encrypted when GA138 says so (ssp.ENCRYPTED_COMMANDS);
        # an unpublished one says so in its row (plain unless told)
        encrypted = verified and code[0] in ENCRYPTED_COMMANDS
    elif verified:
        raise ValueError(f"{name}: a published command's encryption comes from ssp.ENCRYPTED_COMMANDS")
    codecs = (enc, dec, INVERSE[enc], INVERSE[dec])
    return CommandSpec(name, code, encrypted, verified, min_protocol, request, reply, source, *codecs)


_UNPUBLISHED = "unpublished: test-only code of ssp-coin-nv4000.md §8.2"
_ROWS: tuple[CommandSpec, ...] = (
    # ---- generic and validator (ssp-protocol.md §4.2)
    _c("RESET", "01"),
    _c("SET_INHIBITS", "02", request="2-3 bytes channel bitmask, bit set = accept", enc=_enc_mask),
    _c("SETUP_REQUEST", "05", reply="ssp-protocol.md §4.6"),
    _c("HOST_PROTOCOL_VERSION", "06", request="version", enc=_u8s),
    _c("POLL", "07", reply="events"),
    _c("REJECT", "08"),
    _c("DISABLE", "09"),
    _c("ENABLE", "0a"),
    _c("GET_SERIAL_NUMBER", "0c", request="[sub-device]", reply="u32 big-endian"),
    _c("UNIT_DATA", "0d"),
    _c("SYNC", "11"),
    _c("LAST_REJECT_CODE", "17", reply="reason byte", dec=_dec_byte),
    _c("HOLD", "18"),
    _c("GET_FIRMWARE_VERSION", "20", reply="ASCII"),
    _c("GET_DATASET_VERSION", "21", reply="ASCII"),
    _c("GET_ALL_LEVELS", "22", reply="n, n x [u16 level, u32 value, country]", dec=_dec_levels),
    _c("GET_BARCODE_READER_CONFIGURATION", "23", reply="hw status, enabled, format, nchars", dec=_dec_quad),
    _c("SET_BARCODE_READER_CONFIGURATION", "24", request="enable, format, nchars", enc=_u8s),
    _c("GET_BARCODE_INHIBIT", "25", reply="inhibit byte", dec=_dec_byte),
    _c("SET_BARCODE_INHIBIT", "26", request="inhibit byte", enc=_u8s),
    _c("GET_BARCODE_DATA", "27", reply="status, length, ASCII", dec=_dec_barcode),
    _c(
        "SET_REFILL_MODE",
        "30058110 11",
        request="01 on / 00 off",
        source="GA138, GA973 (SMART Payout fw >= 4.10)",
        enc=_u8s,
    ),
    _c("GET_REFILL_MODE", "30058110 01", reply="mode byte", source="GA138, GA973", dec=_dec_byte),
    _c("GET_BUILD_REVISION", "4f", reply="n x [type, u16 revision]"),
    _c("GET_COUNTERS", "58", reply="n, n x u32 (SMART Hopper 3: 6 x u32, no n)", dec=_dec_counters),
    _c("RESET_COUNTERS", "59"),
    _c("POLL_WITH_ACK", "56"),
    _c("EVENT_ACK", "57"),
    _c("SET_FIXED_ENCRYPTION_KEY", "60", request="u64 key"),
    _c("RESET_FIXED_ENCRYPTION_KEY", "61"),
    # ---- payout and recycling (ssp-protocol.md §4.3)
    _c(
        "PAYOUT_AMOUNT",
        "33",
        request="u32 value [, country, option 0x19 test / 0x58 real at v>=6]",
        enc=_enc_amount,
    ),
    _c(
        "SET_DENOMINATION_LEVEL",
        "34",
        request="u16 count, u32 value, country (v>=6); u16 count, u16 value before v6",
        enc=_enc_add_level,
    ),
    _c(
        "GET_DENOMINATION_LEVEL",
        "35",
        request="u32 value, country (v>=6) (the emulator's hoppers: u16 value below v6)",
        reply="u16 level",
        enc=_enc_denomination,
        dec=_dec_u16,
    ),
    _c("HALT_PAYOUT", "38"),
    _c(
        "SET_DENOMINATION_ROUTE",
        "3b",
        request="route (0 payout, 1 cashbox), u32 value (SMART Hopper v<6: u16), country (v>=6)",
        enc=_enc_route,
    ),
    _c(
        "GET_DENOMINATION_ROUTE",
        "3c",
        request="u32 value (SMART Hopper v<6: u16), country (v>=6)",
        reply="route byte",
        enc=_enc_denomination,
        dec=_dec_byte,
    ),
    _c(
        "FLOAT_AMOUNT",
        "3d",
        request="min payout (u16 hoppers, u32 SMART Payout), u32 value [, country, option at v>=6]",
        enc=_enc_float,
    ),
    _c(
        "GET_MINIMUM_PAYOUT",
        "3e",
        request="country (v>=6)",
        reply="u32",
        enc=_enc_optional_country,
        dec=_dec_u32,
    ),
    _c("EMPTY_ALL", "3f"),
    _c(
        "SET_COIN_MECH_INHIBITS",
        "40",
        request="state (1 accept), u16 value, country (v>=6)",
        enc=_enc_coin_inhibit,
    ),
    _c(
        "FLOAT_BY_DENOMINATION",
        "44",
        min_protocol=6,
        request="n, n x [u16 count left, u32 value, country], option",
        enc=_enc_by_denomination,
    ),
    _c(
        "PAYOUT_BY_DENOMINATION",
        "46",
        min_protocol=6,
        request="n, n x [u16 count, u32 value, country], option",
        enc=_enc_by_denomination,
    ),
    _c("COIN_MECH_GLOBAL_INHIBIT", "49", request="0 disabled, 1 enabled", enc=_u8s),
    _c(
        "SET_CASHBOX_PAYOUT_LIMIT",
        "4e",
        request="n, n x [u16 limit, u32 value, country]",
        enc=_enc_limits,
    ),
    _c("SET_OPTIONS", "50", min_protocol=6, request="REG0, REG1", enc=_u8s),
    _c("GET_OPTIONS", "51", reply="REG0, REG1", dec=_dec_pair),
    _c("SMART_EMPTY", "52"),
    _c(
        "CASHBOX_PAYOUT_OPERATION_DATA",
        "53",
        reply="n, n x [u16, u32, country], u32 unknown",
        dec=_dec_cashbox_levels,
    ),
    _c("COIN_MECH_OPTIONS", "5a", request="option byte", enc=_u8s),
    _c("DISABLE_PAYOUT_DEVICE", "5b"),
    _c("ENABLE_PAYOUT_DEVICE", "5c", request="[option byte]", enc=_enc_optional_byte),
    _c("COIN_STIR", "5d", request="seconds 1..255", enc=_u8s),
    _c("GET_REAL_TIME_CLOCK_CONFIGURATION", "62", reply="0 volatile, 1 persistent", dec=_dec_byte),
    _c("GET_REAL_TIME_CLOCK", "63", reply="day, month, year, hour, minute, second", dec=_dec_rtc),
    _c("SET_REAL_TIME_CLOCK", "64", request="day, month, year (0-99), hour, minute, second", enc=_u8s),
    # ---- unpublished (SMART Coin System / Twin / SMART Hopper 4 / NV4000; ssp-coin-nv4000.md §2)
    _c(
        "SET_TWIN_MODE",
        "0587",
        verified=False,
        request="mode 0..3",
        source="seed 'Sub Command 0x05 0x87', H2",
        enc=_u8s,
    ),
    _c(
        "SET_SORTER_ROUTE",
        "0585",
        verified=False,
        request="u32 value, country, route (0 primary, 1 secondary)",
        source="seed 'Sub Command 0x05 0x85' (Channel Set Route), H2",
        enc=_enc_sorter,
    ),
    _c(
        "COIN_STIR_WITH_MODE",
        "5d",
        True,
        verified=False,
        request="seconds, mode",
        source="0x5D + mode byte ?",
        enc=_u8s,
    ),
    _c("PURGE", "1a", verified=False, request="[device [, hopper]]", source=_UNPUBLISHED, enc=_u8s),
    _c(
        "SET_CASHBOX_LEVELS",
        "1b",
        True,
        verified=False,
        request="u16 count, u32 value, country",
        source=_UNPUBLISHED,
        enc=_enc_level,
    ),
    _c("CLEAR_CASHBOX_LEVELS", "1c", True, verified=False, source=_UNPUBLISHED),
    _c(
        "GET_CASHBOX_LEVELS",
        "1d",
        verified=False,
        reply="n, n x [u16, u32, country], u32 unknown (0x53 layout)",
        source=_UNPUBLISHED,
        dec=_dec_cashbox_levels,
    ),
    _c("SET_PAYOUT_LIMIT", "1e", verified=False, request="u16 coins", source=_UNPUBLISHED, enc=u16),
    _c("GET_PAYOUT_COUNT", "1f", verified=False, reply="u16 coins", source=_UNPUBLISHED, dec=_dec_u16),
    _c(
        "GET_COINS_EXIT",
        "28",
        verified=False,
        reply="u16 requested, u16 seen at exit",
        source=_UNPUBLISHED,
        dec=_dec_two_u16,
    ),
    _c(
        "GET_COIN_ACCEPTANCE",
        "29",
        verified=False,
        request="device",
        reply="percent",
        source=_UNPUBLISHED,
        enc=_u8s,
        dec=_dec_byte,
    ),
    _c("SET_NO_PAYIN_COUNT", "2a", verified=False, request="count", source=_UNPUBLISHED, enc=_u8s),
    _c(
        "GET_LIFTER_STATUS",
        "2b",
        verified=False,
        reply="connected, opto clear, jammed (one byte each)",
        source=_UNPUBLISHED,
        dec=_dec_flags3,
    ),
    _c(
        "GET_SERVICE_INFORMATION",
        "2c",
        verified=False,
        request="[module,] sub-command",
        reply="SERVICE_LAYOUTS (little-endian fields)",
        source=_UNPUBLISHED,
        enc=_u8s,
    ),
    _c(
        "SET_SERVICE_INFORMATION",
        "2d",
        verified=False,
        request="module, service type, month, year",
        source=_UNPUBLISHED,
        enc=_u8s,
    ),
    _c(
        "SERVICE_MAINTENANCE_RESET",
        "2e",
        verified=False,
        request="4 ASCII: week, year",
        source=_UNPUBLISHED,
        enc=_u8s,
    ),
    _c("GET_GLOBAL_ERROR_CODE", "2f", verified=False, reply="2 bytes", source=_UNPUBLISHED, dec=_dec_pair),
    _c(
        "EXTENDED_GET_FIRMWARE_VERSION",
        "6a",
        verified=False,
        reply="ASCII + _dd.mm.yy_hh:mm:ss",
        source=_UNPUBLISHED,
        dec=_dec_ascii,
    ),
    _c(
        "EXTENDED_GET_DATASET_VERSION",
        "6b",
        verified=False,
        reply="ASCII + _dd.mm.yy_hh:mm:ss",
        source=_UNPUBLISHED,
        dec=_dec_ascii,
    ),
    _c("NV4000_REPLENISH", "6c", True, verified=False, request="u32 notes", source=_UNPUBLISHED, enc=u32),
    _c(
        "NV4000_GET_RC_MODE",
        "6d",
        verified=False,
        reply="0 replenish, 1 payout",
        source=_UNPUBLISHED,
        dec=_dec_byte,
    ),
    _c(
        "NV4000_SET_DENOMINATION_ROUTE",
        "3b",
        True,
        verified=False,
        request="route (ours: 2-5 recycler 1-4, 6 replenishment cassette), u32 value, country",
        source="NV4000 module route byte ? (ssp-coin-nv4000.md §4.7: REST route numbers only)",
        enc=_enc_route,
    ),
    _c(
        "NV4000_SMART_EMPTY_MODULE",
        "52",
        True,
        verified=False,
        request="module",
        source="0x52 + module byte ?",
        enc=_u8s,
    ),
)

DEFAULT_COMMANDS: Mapping[str, CommandSpec] = MappingProxyType({row.name: row for row in _ROWS})
"""The shipped table, read-only."""


class CommandTable:
    """A device's own copy of the command table, with user overrides."""

    def __init__(
        self,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        allow_unverified: bool = False,
    ) -> None:
        self._rows: dict[str, CommandSpec] = dict(DEFAULT_COMMANDS)
        self.allow_unverified = allow_unverified
        for name, fields in (overrides or {}).items():
            self.override(name, **fields)

    def __contains__(self, name: object) -> bool:
        return name in self._rows

    def rows(self) -> tuple[CommandSpec, ...]:
        """Every row, in table order."""
        return tuple(self._rows.values())

    def row(self, name: str) -> CommandSpec:
        """The row, whatever its status (raises ``KeyError`` for an unknown name)."""
        return self._rows[name]

    def get(self, name: str) -> CommandSpec:
        """The row if it may be sent; :class:`UnverifiedCommandError` otherwise."""
        spec = self._rows[name]
        if not spec.verified and not self.allow_unverified:
            raise UnverifiedCommandError(spec)
        return spec

    def build(self, name: str, params: bytes = b"") -> bytes:
        return self.get(name).build(params)

    def encode(self, name: str, *args: Any) -> bytes:
        """The command DATA from the row's encoder (refused like :meth:`get`)."""
        return self.get(name).encode(*args)

    def unverified(self) -> tuple[CommandSpec, ...]:
        """The rows this table would refuse without ``allow_unverified``."""
        return tuple(row for row in self._rows.values() if not row.verified)

    def override(
        self,
        name: str,
        *,
        prefix: bytes | str | None = None,
        encrypted: bool | None = None,
        min_protocol: int | None = None,
    ) -> CommandSpec:
        """Replace a row's bytes or flags; the row then counts as verified (the user vouches)."""
        if name not in self._rows:
            raise KeyError(f"unknown command {name!r}; known: {', '.join(sorted(self._rows))}")
        spec = self._rows[name]
        changes: dict[str, Any] = {"verified": True, "source": "user override"}
        if prefix is not None:
            raw = bytes.fromhex(prefix) if isinstance(prefix, str) else bytes(prefix)
            if not 1 <= len(raw) <= 8:
                raise ValueError(f"{name}: prefix must be 1..8 bytes")
            changes["prefix"] = raw
        if encrypted is not None:
            changes["encrypted"] = bool(encrypted)
        if min_protocol is not None:
            changes["min_protocol"] = int(min_protocol)
        new = replace(spec, **changes)
        self._rows[name] = new
        return new

    def load(self, path: str | Path) -> None:
        """Apply a JSON (``.json``) or TOML (``.toml``, Python >= 3.11) override file."""
        path = Path(path)
        text = path.read_text()
        data: Any
        if path.suffix.lower() == ".toml":
            if sys.version_info < (3, 11):  # pragma: no cover - depends on the interpreter
                raise ValueError("TOML command files need Python 3.11 or newer; use JSON")
            else:  # an else that mypy reads as unreachable before 3.11 (it checks a bare import)
                import tomllib

                data = tomllib.loads(text)
        else:
            data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected an object of command name -> fields")
        for name, fields in data.items():
            if not isinstance(fields, dict):
                raise ValueError(f"{path}: {name}: expected an object")
            unknown = set(fields) - {"prefix", "encrypted", "min_protocol"}
            if unknown:
                raise ValueError(f"{path}: {name}: unknown fields {sorted(unknown)}")
            self.override(name, **fields)
