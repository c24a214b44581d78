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
with no structured layout passes bytes through both ways.  :meth:`CommandSpec.build` appends
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

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

Encoder = Callable[..., bytes]
"""Request encoder: the method's Python arguments -> the parameter bytes after the prefix."""
Decoder = Callable[[bytes], Any]
"""Reply decoder: the reply DATA after ``F0`` -> Python values; raises ``ValueError`` if short."""
RequestDecoder = Callable[[bytes], tuple[Any, ...]]
"""Request decoder (device side): the parameter bytes after the prefix -> the encoder's arguments;
raises ``ValueError`` when the layout does not fit."""
ReplyEncoder = Callable[[Any], bytes]
"""Reply encoder (device side): the decoder's value -> the reply DATA after ``F0``."""


def _raw(*params: bytes | int) -> bytes:
    """Default encoder: parameters given as bytes (or single byte values), concatenated."""
    return b"".join(p if isinstance(p, (bytes, bytearray)) else bytes((p,)) for p in params)


def _as_is(data: bytes) -> bytes:
    return bytes(data)


def _raw_args(params: bytes) -> tuple[Any, ...]:
    """Default request decoder, the inverse of :func:`_raw`: the parameters as one bytes value."""
    return (bytes(params),) if params else ()


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


def u16(value: int) -> bytes:
    return int(value).to_bytes(2, "little")


def u32(value: int) -> bytes:
    return int(value).to_bytes(4, "little")


def country(code: str) -> bytes:
    raw = code.encode("ascii")
    if len(raw) != 3:
        raise ValueError(f"country code must be 3 ASCII letters, got {code!r}")
    return raw


def _vcc(value: int, code: str | None) -> bytes:
    """u32 value, then the country when given (protocol >= 6)."""
    return u32(value) + (country(code) if code else b"")


def _need(data: bytes, n: int, what: str) -> None:
    if len(data) < n:
        raise ValueError(f"{what}: reply has {len(data)} bytes, needs {n}")


def _u8s(*values: int) -> bytes:
    return bytes(int(v) for v in values)


def _enc_level(count: int, value: int, code: str | None = None) -> bytes:
    return u16(count) + _vcc(value, code)


def _enc_coin_inhibit(accept: bool, value: int, code: str | None = None) -> bytes:
    return bytes((1 if accept else 0,)) + u16(value) + (country(code) if code else b"")


def _enc_limits(entries: Sequence[tuple[int, int, str]]) -> bytes:
    return bytes((len(entries),)) + b"".join(u16(n) + u32(v) + country(c) for n, v, c in entries)


def _enc_sorter(value: int, code: str, route: int) -> bytes:
    return u32(value) + country(code) + bytes((route,))


def _dec_pair(data: bytes) -> tuple[int, int]:
    _need(data, 2, "two bytes")
    return data[0], data[1]


def _dec_byte(data: bytes) -> int:
    _need(data, 1, "one byte")
    return data[0]


def _dec_u16(data: bytes) -> int:
    _need(data, 2, "u16")
    return int.from_bytes(data[:2], "little")


def _dec_two_u16(data: bytes) -> tuple[int, int]:
    _need(data, 4, "two u16")
    return int.from_bytes(data[:2], "little"), int.from_bytes(data[2:4], "little")


def _dec_rtc(data: bytes) -> tuple[int, int, int, int, int, int]:
    _need(data, 6, "real-time clock")
    return data[0], data[1], data[2], data[3], data[4], data[5]


def _dec_flags3(data: bytes) -> tuple[bool, bool, bool]:
    _need(data, 3, "lifter status")
    return bool(data[0]), bool(data[1]), bool(data[2])


def _dec_ascii(data: bytes) -> str:
    return data.decode("ascii", "replace").rstrip("\x00")


def _dec_counters(data: bytes) -> list[int]:
    """``n, n x u32``; a reply of exactly 24 bytes is the SMART Hopper 3 form (six u32, no n)."""
    if len(data) == 24:
        return [int.from_bytes(data[4 * i : 4 * i + 4], "little") for i in range(6)]
    _need(data, 1, "counters")
    n = data[0]
    _need(data, 1 + 4 * n, f"{n} counters")
    return [int.from_bytes(data[1 + 4 * i : 5 + 4 * i], "little") for i in range(n)]


def _exact(params: bytes, sizes: tuple[int, ...], what: str) -> None:
    if len(params) not in sizes:
        raise ValueError(f"{what}: {len(params)} parameter bytes, expected {' or '.join(map(str, sizes))}")


def _le(data: bytes, pos: int, width: int) -> int:
    return int.from_bytes(data[pos : pos + width], "little")


def _text(data: bytes) -> str:
    return data.decode("ascii", "replace")


def decode_entries(params: bytes, what: str = "entries") -> list[tuple[int, int, str]]:
    """``n, n x [u16, u32, country]`` (all of ``params``)."""
    _need(params, 1, what)
    _exact(params, (1 + 9 * params[0],), what)
    return [
        (_le(params, p, 2), _le(params, p + 2, 4), _text(params[p + 6 : p + 9]))
        for p in range(1, len(params), 9)
    ]


def _dec_levels(data: bytes) -> list[tuple[int, int, str]]:
    """``n, n x [u16 count, u32 value, country]`` (GET ALL LEVELS); later bytes are ignored."""
    _need(data, 1, "levels")
    _need(data, 1 + 9 * data[0], f"{data[0]} levels")
    return decode_entries(data[: 1 + 9 * data[0]], "levels")


def _dec_cashbox_levels(data: bytes) -> tuple[list[tuple[int, int, str]], int]:
    """``n, n x [u16 count, u32 value, country], u32 unknown`` (the 0x53 layout)."""
    _need(data, 1, "cashbox levels")
    end = 1 + 9 * data[0]
    _need(data, end + 4, f"{data[0]} cashbox levels")
    return decode_entries(data[:end], "cashbox levels"), _le(data, end, 4)


# ---- request decoders (device side), each the inverse of the encoder above it in the table


def _args_u16(params: bytes) -> tuple[int]:
    _exact(params, (2,), "u16")
    return (_le(params, 0, 2),)


def _args_u32(params: bytes) -> tuple[int]:
    _exact(params, (4,), "u32")
    return (_le(params, 0, 4),)


def _args_level(params: bytes) -> tuple[int, int, str | None]:
    """``u16 count, u32 value [, country]`` -> (count, value, country or None)."""
    _exact(params, (6, 9), "level")
    return _le(params, 0, 2), _le(params, 2, 4), _text(params[6:9]) if len(params) == 9 else None


def _args_coin_inhibit(params: bytes) -> tuple[bool, int, str | None]:
    _exact(params, (3, 6), "coin inhibit")
    return bool(params[0]), _le(params, 1, 2), _text(params[3:6]) if len(params) == 6 else None


def _args_limits(params: bytes) -> tuple[list[tuple[int, int, str]]]:
    return (decode_entries(params, "cashbox payout limits"),)


def _args_sorter(params: bytes) -> tuple[int, str, int]:
    _exact(params, (8,), "sorter route")
    return _le(params, 0, 4), _text(params[4:7]), params[7]


# ---- reply encoders (device side), each the inverse of a reply decoder


def _enc_u8s(values: Sequence[int]) -> bytes:
    return bytes(int(v) for v in values)


def _enc_byte(value: int) -> bytes:
    return bytes((value,))


def _enc_two_u16(values: tuple[int, int]) -> bytes:
    return u16(values[0]) + u16(values[1])


def _enc_ascii(text: str) -> bytes:
    return text.encode("ascii")


def _enc_counters(values: Sequence[int]) -> bytes:
    """``n, n x u32`` (the SMART Hopper 3 form, six u32 without n, is the device's choice)."""
    return bytes((len(values),)) + b"".join(u32(v) for v in values)


def _enc_cashbox_levels(levels: tuple[Sequence[tuple[int, int, str]], int]) -> bytes:
    entries, unknown = levels
    return _enc_limits(entries) + u32(unknown)


ServiceLayout = tuple[str, tuple[tuple[str, int], ...]]
"""(title, ((label, width in bytes), ...)) of one service-information reply."""

_LAST_SERVICES = tuple((f"Service {i} {part}", 1) for i in (1, 2, 3) for part in ("Type", "Month", "Year"))
SERVICE_LAYOUTS: Mapping[tuple[int | None, int], ServiceLayout] = MappingProxyType(
    {
        # GetServiceInformation(subCommand), NV4000 form (module None)
        (None, 0): ("Date Information", (("Day", 1), ("Month", 1), ("Year", 1))),
        (None, 1): (
            "Note Information",
            (
                ("Notes Since Maintenance Reset", 4),
                ("Notes Since Last Download", 4),
                ("Notes Since Power On", 4),
                ("Notes Since Last Jam", 4),
            ),
        ),
        (None, 2): (
            "Accept Note Information",
            (
                ("Notes Accepted Since Maintenance Reset", 4),
                ("Notes Accepted Since Last Download", 4),
                ("Notes Accepted Since Power On", 4),
            ),
        ),
        (None, 3): (
            "Jam Information",
            (
                ("Jams Since Maintenance Reset", 4),
                ("Jams Since Last Download", 4),
                ("Jams In Last 1000 Notes", 4),
            ),
        ),
        (None, 4): ("Service Flags", (("Service Flags", 1),)),
        # GetServiceInformation(module, subCommand); module 5 (NV4000) is always lifetime counts
        (0, 0): ("Service Status", (("Service Status", 1),)),
        (0, 1): ("Next Service Due", (("Month", 1), ("Year", 1))),
        (0, 2): ("Last Service Information", _LAST_SERVICES),
        (0, 3): (
            "Performance Since Last Service",
            (("Coins Processed", 4), ("Acceptance Percentage", 1), ("Jams", 4), ("Calibration Failures", 4)),
        ),
        (0, 4): ("Service Flags", (("Service Flags", 1),)),
        (0, 5): (
            "Lifetime Counts",
            (("Total cycles", 4), ("Power on count", 4), ("Power on time", 4)),
        ),
    }
)
"""Reply layouts of GET SERVICE INFORMATION (ours: the seed gives the titles and two samples,
L7670-L7676 and L7814-L7819, no wire sizes).  Every module 0-3 shares the (0, sub) layouts."""


def service_layout(module: int | None, sub: int) -> ServiceLayout | None:
    """The layout for a request, or None for an undocumented module / sub-command."""
    if module == 5:
        return SERVICE_LAYOUTS[(0, 5)]
    if module is not None:
        if not 0 <= module <= 3:
            return None
        module = 0
    return SERVICE_LAYOUTS.get((module, sub))


def parse_service(module: int | None, sub: int, data: bytes) -> list[int]:
    """The values of a GET SERVICE INFORMATION reply (DATA after ``F0``) in layout order; the
    row's decoder keeps the bytes, since the layout depends on the request."""
    layout = service_layout(module, sub)
    if layout is None:
        raise ValueError(f"service information: undocumented module/sub-command {module}/{sub}")
    values, pos = [], 0
    for _label, width in layout[1]:
        _need(data, pos + width, "service information")
        values.append(int.from_bytes(data[pos : pos + width], "little"))
        pos += width
    return values


def encode_service(module: int | None, sub: int, values: Sequence[int]) -> bytes:
    """The inverse of :func:`parse_service`: the reply DATA after ``F0`` for these values (each
    cut to its field's width)."""
    layout = service_layout(module, sub)
    if layout is None:
        raise ValueError(f"service information: undocumented module/sub-command {module}/{sub}")
    widths = [width for _label, width in layout[1]]
    return b"".join((int(v) & ((1 << (8 * w)) - 1)).to_bytes(w, "little") for w, v in zip(widths, values))


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
    """One row; the device-side codecs are the inverses of ``enc`` and ``dec`` (:data:`_INVERSE`)."""
    code = bytes.fromhex(prefix)
    if encrypted is None:
        # one home: a published command is encrypted when GA138 says so (ssp.ENCRYPTED_COMMANDS);
        # an unpublished one says so in its row (plain unless told)
        encrypted = verified and code[0] in ENCRYPTED_COMMANDS
    elif verified:
        raise ValueError(f"{name}: a published command's encryption comes from ssp.ENCRYPTED_COMMANDS")
    codecs = (enc, dec, _INVERSE[enc], _INVERSE[dec])
    return CommandSpec(name, code, encrypted, verified, min_protocol, request, reply, source, *codecs)


_INVERSE: dict[Any, Any] = {
    # request encoder -> request decoder
    _raw: _raw_args,
    _u8s: tuple,  # the byte values
    u16: _args_u16,
    u32: _args_u32,
    _enc_level: _args_level,
    _enc_coin_inhibit: _args_coin_inhibit,
    _enc_limits: _args_limits,
    _enc_sorter: _args_sorter,
    # reply decoder -> reply encoder
    _as_is: _as_is,
    _dec_pair: _enc_u8s,
    _dec_byte: _enc_byte,
    _dec_u16: u16,
    _dec_two_u16: _enc_two_u16,
    _dec_rtc: _enc_u8s,
    _dec_flags3: _enc_u8s,
    _dec_ascii: _enc_ascii,
    _dec_counters: _enc_counters,
    _dec_levels: _enc_limits,
    _dec_cashbox_levels: _enc_cashbox_levels,
}
"""Each codec's inverse: a row's device half follows from its host half."""


_UNPUBLISHED = "unpublished: test-only code of ssp-coin-nv4000.md §8.2"
_ROWS: tuple[CommandSpec, ...] = (
    # ---- generic and validator (ssp-protocol.md §4.2)
    _c("RESET", "01"),
    _c("SET_INHIBITS", "02", request="2-3 bytes channel bitmask, bit set = accept"),
    _c("SETUP_REQUEST", "05", reply="ssp-protocol.md §4.6"),
    _c("HOST_PROTOCOL_VERSION", "06", request="version"),
    _c("POLL", "07", reply="events"),
    _c("REJECT", "08"),
    _c("DISABLE", "09"),
    _c("ENABLE", "0a"),
    _c("GET_SERIAL_NUMBER", "0c", request="[sub-device]", reply="u32 big-endian"),
    _c("UNIT_DATA", "0d"),
    _c("SYNC", "11"),
    _c("LAST_REJECT_CODE", "17", reply="reason byte"),
    _c("HOLD", "18"),
    _c("GET_FIRMWARE_VERSION", "20", reply="ASCII"),
    _c("GET_DATASET_VERSION", "21", reply="ASCII"),
    _c("GET_ALL_LEVELS", "22", reply="n, n x [u16 level, u32 value, country]", dec=_dec_levels),
    _c("GET_BARCODE_READER_CONFIGURATION", "23", reply="hw status, enabled, format, nchars"),
    _c("SET_BARCODE_READER_CONFIGURATION", "24", request="enable, format, nchars"),
    _c("GET_BARCODE_INHIBIT", "25", reply="inhibit byte"),
    _c("SET_BARCODE_INHIBIT", "26", request="inhibit byte"),
    _c("GET_BARCODE_DATA", "27", reply="status, length, ASCII"),
    _c(
        "SET_REFILL_MODE",
        "30058110 11",
        request="01 on / 00 off",
        source="GA138, GA973 (SMART Payout fw >= 4.10)",
    ),
    _c("GET_REFILL_MODE", "30058110 01", reply="mode byte", source="GA138, GA973"),
    _c("GET_BUILD_REVISION", "4f", reply="n x [type, u16 revision]"),
    _c("GET_COUNTERS", "58", reply="n, n x u32 (SMART Hopper 3: 6 x u32, no n)", dec=_dec_counters),
    _c("RESET_COUNTERS", "59"),
    _c("POLL_WITH_ACK", "56"),
    _c("EVENT_ACK", "57"),
    _c("SET_FIXED_ENCRYPTION_KEY", "60", request="u64 key"),
    _c("RESET_FIXED_ENCRYPTION_KEY", "61"),
    # ---- payout and recycling (ssp-protocol.md §4.3)
    _c("PAYOUT_AMOUNT", "33", request="u32 value [, country, option 0x19/0x58 at v>=6]"),
    _c(
        "SET_DENOMINATION_LEVEL",
        "34",
        request="u16 count, u32 value, country (v>=6)",
        enc=_enc_level,
    ),
    _c("GET_DENOMINATION_LEVEL", "35", request="u32 value, country (v>=6)", reply="u16 level"),
    _c("HALT_PAYOUT", "38"),
    _c("SET_DENOMINATION_ROUTE", "3b", request="route (0 payout, 1 cashbox), u32 value, country (v>=6)"),
    _c("GET_DENOMINATION_ROUTE", "3c", request="u32 value, country (v>=6)", reply="route byte"),
    _c("FLOAT_AMOUNT", "3d", request="min payout, u32 value, country, option"),
    _c("GET_MINIMUM_PAYOUT", "3e", request="country (v>=6)", reply="u32"),
    _c("EMPTY_ALL", "3f"),
    _c(
        "SET_COIN_MECH_INHIBITS",
        "40",
        request="state (1 accept), u16 value, country (v>=6)",
        enc=_enc_coin_inhibit,
    ),
    _c("FLOAT_BY_DENOMINATION", "44", min_protocol=6, request="n, n x [u16, u32, country], option"),
    _c("PAYOUT_BY_DENOMINATION", "46", min_protocol=6, request="n, n x [u16, u32, country], option"),
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
    _c("COIN_MECH_OPTIONS", "5a", request="option byte"),
    _c("DISABLE_PAYOUT_DEVICE", "5b"),
    _c("ENABLE_PAYOUT_DEVICE", "5c", request="[option byte]"),
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
