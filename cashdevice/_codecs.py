"""The codecs of the command table (:mod:`cashdevice.commands`), private: each row's request
encoder (Python values -> parameter bytes after the prefix), reply decoder (the bytes after ``F0``
-> Python values), and their device-side inverses (:data:`INVERSE`), plus the layouts of GET
SERVICE INFORMATION.  :mod:`cashdevice.commands` re-exports the public names.

Every layout follows GA138 (ssp-protocol.md §4): values little-endian, a country code three ASCII
letters, present from protocol 6 on where the manual says "(v>=6)".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

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


# ---- the payout, route, inhibit and option layouts (GA138; ssp-protocol.md §4.2, §4.3), each
# encoder with its request decoder beside it.  A field GA138 adds at protocol 6 (the country, the
# option byte) is ``None`` when absent; a value field 2 bytes wide (SMART Hopper below protocol 6)
# carries its width, so that the decoder gives back exactly what the encoder took.


def _le_bytes(value: int, width: int) -> bytes:
    if width not in (2, 4):
        raise ValueError(f"value field of {width} bytes: 2 or 4")
    return int(value).to_bytes(width, "little")


def _enc_mask(mask: int, nbytes: int) -> bytes:
    """SET INHIBITS: the channel bitmask (bit n-1 set = channel n accepted), ``nbytes`` long."""
    if not 1 <= nbytes <= 8:
        raise ValueError(f"inhibit mask of {nbytes} bytes: 1..8")
    return int(mask).to_bytes(nbytes, "little")


def _args_mask(params: bytes) -> tuple[int, int]:
    _exact(params, tuple(range(1, 9)), "inhibit mask")
    return _le(params, 0, len(params)), len(params)


def _enc_denomination(value: int, code: str | None = None, width: int = 4) -> bytes:
    """``value`` (u32; u16 when ``width`` is 2), then the country when given (protocol >= 6)."""
    return _le_bytes(value, width) + (b"" if code is None else country(code))


def _args_denomination(params: bytes) -> tuple[int, str | None, int]:
    """``value [, country]`` -> (value, country or None, width of value): 2, 4, 5 or 7 bytes."""
    _exact(params, (2, 4, 5, 7), "denomination")
    width = 2 if len(params) in (2, 5) else 4
    return _le(params, 0, width), _text(params[width:]) if len(params) > width else None, width


def _enc_add_level(count: int, value: int, code: str | None = None, width: int = 4) -> bytes:
    """SET DENOMINATION LEVEL: u16 count to add, then the denomination (u32 value and country
    from protocol 6; a u16 value before it, ssp-protocol.md §4.3)."""
    return u16(count) + _enc_denomination(value, code, width)


def _args_add_level(params: bytes) -> tuple[int, int, str | None, int]:
    _need(params, 2, "level")
    return (_le(params, 0, 2), *_args_denomination(params[2:]))


def _enc_route(route: int, value: int, code: str | None = None, width: int = 4) -> bytes:
    """SET DENOMINATION ROUTE: route byte (0 payout, 1 cashbox; NV4000 ours 2-6), then the
    denomination."""
    return bytes((route,)) + _enc_denomination(value, code, width)


def _args_route(params: bytes) -> tuple[int, int, str | None, int]:
    _need(params, 1, "route")
    return (params[0], *_args_denomination(params[1:]))


def _enc_amount(value: int, code: str | None = None, option: int | None = None) -> bytes:
    """PAYOUT AMOUNT: u32 value; from protocol 6 the country and the option byte (0x19 test,
    0x58 real) follow, both or neither."""
    if (code is None) != (option is None):
        raise ValueError("amount: the country and the option byte go together (protocol >= 6)")
    return u32(value) + (b"" if code is None or option is None else country(code) + bytes((option,)))


def _args_amount(params: bytes) -> tuple[int, str | None, int | None]:
    _exact(params, (4, 8), "amount")
    if len(params) == 4:
        return _le(params, 0, 4), None, None
    return _le(params, 0, 4), _text(params[4:7]), params[7]


def _enc_float(
    minimum: int, value: int, code: str | None = None, option: int | None = None, width: int = 2
) -> bytes:
    """FLOAT AMOUNT: the minimum payout (u16 on hoppers, u32 on SMART Payout: ``width``), then
    the PAYOUT AMOUNT layout."""
    return _le_bytes(minimum, width) + _enc_amount(value, code, option)


_FLOAT_WIDTHS = MappingProxyType({6: 2, 8: 4, 10: 2, 12: 4})
"""FLOAT AMOUNT parameter length -> width of the minimum payout (10 and 12: with the country and
the option byte)."""


def _args_float(params: bytes) -> tuple[int, int, str | None, int | None, int]:
    _exact(params, tuple(_FLOAT_WIDTHS), "float amount")
    width = _FLOAT_WIDTHS[len(params)]
    return (_le(params, 0, width), *_args_amount(params[width:]), width)


def _enc_by_denomination(entries: Sequence[tuple[int, int, str]], option: int) -> bytes:
    """PAYOUT / FLOAT BY DENOMINATION: ``n, n x [u16 count, u32 value, country]``, option byte."""
    return _enc_limits(entries) + bytes((option,))


def _args_by_denomination(params: bytes) -> tuple[list[tuple[int, int, str]], int]:
    _need(params, 2, "denominations")
    return decode_entries(params[:-1], "denominations"), params[-1]


def _enc_optional_byte(option: int | None = None) -> bytes:
    """One optional byte (ENABLE PAYOUT DEVICE's option byte)."""
    return b"" if option is None else bytes((option,))


def _args_optional_byte(params: bytes) -> tuple[int | None]:
    _exact(params, (0, 1), "optional byte")
    return (params[0] if params else None,)


def _enc_optional_country(code: str | None = None) -> bytes:
    """GET MINIMUM PAYOUT: the country from protocol 6, nothing before."""
    return b"" if code is None else country(code)


def _args_optional_country(params: bytes) -> tuple[str | None]:
    _exact(params, (0, 3), "country")
    return (_text(params) if params else None,)


def _dec_u32(data: bytes) -> int:
    _need(data, 4, "u32")
    return _le(data, 0, 4)


def _dec_quad(data: bytes) -> tuple[int, int, int, int]:
    """Four bytes (GET BAR CODE READER CONFIGURATION: hardware status, readers enabled, format,
    number of characters)."""
    _need(data, 4, "four bytes")
    return data[0], data[1], data[2], data[3]


def _dec_barcode(data: bytes) -> tuple[int, str]:
    """GET BAR CODE DATA: status, length, ASCII -> (status, text); a short text is cut."""
    _need(data, 2, "bar code data")
    return data[0], data[2 : 2 + data[1]].decode("ascii", "replace")


def _enc_barcode(value: tuple[int, str]) -> bytes:
    status, text = value
    raw = text.encode("ascii")
    return bytes((status, len(raw))) + raw


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


INVERSE: Mapping[Any, Any] = MappingProxyType(
    {
        # request encoder -> request decoder
        _raw: _raw_args,
        _u8s: tuple,  # the byte values
        u16: _args_u16,
        u32: _args_u32,
        _enc_level: _args_level,
        _enc_coin_inhibit: _args_coin_inhibit,
        _enc_limits: _args_limits,
        _enc_sorter: _args_sorter,
        _enc_mask: _args_mask,
        _enc_denomination: _args_denomination,
        _enc_route: _args_route,
        _enc_add_level: _args_add_level,
        _enc_amount: _args_amount,
        _enc_float: _args_float,
        _enc_by_denomination: _args_by_denomination,
        _enc_optional_byte: _args_optional_byte,
        _enc_optional_country: _args_optional_country,
        # reply decoder -> reply encoder
        _as_is: _as_is,
        _dec_pair: _enc_u8s,
        _dec_byte: _enc_byte,
        _dec_u16: u16,
        _dec_u32: u32,
        _dec_two_u16: _enc_two_u16,
        _dec_quad: _enc_u8s,
        _dec_rtc: _enc_u8s,
        _dec_flags3: _enc_u8s,
        _dec_ascii: _enc_ascii,
        _dec_barcode: _enc_barcode,
        _dec_counters: _enc_counters,
        _dec_levels: _enc_limits,
        _dec_cashbox_levels: _enc_cashbox_levels,
    }
)
"""Each codec's inverse: a row's device half follows from its host half."""
