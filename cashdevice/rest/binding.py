"""ASP.NET-like model binding: case-insensitive JSON keys, typed fields, bare scalar bodies.

Every helper raises :class:`BadRequest` with a message naming the field; the dispatcher turns it into a 400
answer before anything reaches a device.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..records import ValueCountryCode

UINT32 = 0xFFFFFFFF
BYTE = 0xFF
USHORT = 0xFFFF


class BadRequest(Exception):
    """Malformed input: answered with 400 and this message."""

    def __init__(self, message: str, field: str = "$") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def parse_json(raw: bytes) -> Any:
    """The request body as JSON, ``None`` when empty."""
    if not raw.strip():
        return None
    try:
        value = json.loads(raw.decode("utf-8"))
        # a lone surrogate escape ("\ud800") is valid JSON syntax but no text: it would fail
        # wherever the string is encoded (a password's hash)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError) as exc:  # (RecursionError: nested too deep)
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise BadRequest(f"The request body is not valid JSON: {reason}") from None
    return value


def obj(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def _lookup(body: Mapping[str, Any], *names: str) -> tuple[bool, Any]:
    lowered = {str(k).lower(): v for k, v in body.items()}
    for name in names:
        if name.lower() in lowered:
            return True, lowered[name.lower()]
    return False, None


def field(body: Any, *names: str, required: bool = True, default: Any = None) -> Any:
    """The value of the first of ``names`` present in the object (keys compared case-insensitively)."""
    found, value = _lookup(obj(body), *names)
    if not found or value is None:
        if required:
            raise BadRequest(f"The {names[0]} field is required.", names[0])
        return default
    return value


def as_int(value: Any, name: str, maximum: int = UINT32, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"The JSON value of {name} could not be converted to an integer.", name)
    if not minimum <= value <= maximum:
        raise BadRequest(f"{name} must be between {minimum} and {maximum}.", name)
    return value


def as_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"The JSON value of {name} could not be converted to a boolean.", name)
    return value


def as_str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"The JSON value of {name} could not be converted to a string.", name)
    return value


def int_field(body: Any, name: str, maximum: int = UINT32, *aliases: str, **kw: Any) -> int:
    return as_int(field(body, name, *aliases, **kw), name, maximum)


def bool_field(body: Any, name: str, **kw: Any) -> bool:
    return as_bool(field(body, name, **kw), name)


def str_field(body: Any, name: str, *aliases: str, **kw: Any) -> str:
    return as_str(field(body, name, *aliases, **kw), name)


def scalar_int(body: Any, name: str, maximum: int = UINT32) -> int:
    if body is None:
        raise BadRequest(f"A JSON integer ({name}) is required as the request body.", name)
    return as_int(body, name, maximum)


def scalar_bool(body: Any, name: str) -> bool:
    if body is None:
        raise BadRequest(f"A JSON boolean ({name}) is required as the request body.", name)
    return as_bool(body, name)


def int_list(body: Any, name: str, maximum: int = UINT32) -> list[int]:
    if not isinstance(body, list) or not body:
        raise BadRequest(
            f"A non-empty JSON array of integers ({name}) is required as the request body.", name
        )
    return [as_int(v, f"{name}[{i}]", maximum) for i, v in enumerate(body)]


_COUNTRY = re.compile(r"^[A-Za-z]{3}$")


def country(value: Any, name: str = "CountryCode") -> str:
    text = as_str(value, name)
    if not _COUNTRY.match(text):
        raise BadRequest(f'{name} must be three letters, e.g. "EUR".', name)
    return text.upper()


def vcc(body: Any, value_name: str = "Value", country_name: str = "CountryCode") -> ValueCountryCode:
    value = int_field(body, value_name)
    return ValueCountryCode(value, country(field(body, country_name), country_name))


def denomination(text: Any, name: str = "Denomination") -> ValueCountryCode:
    """The seed's string form ``"2000 GBP"`` (L1099, L4343)."""
    m = re.match(r"^\s*(\d{1,10})\s+([A-Za-z]{3})\s*$", as_str(text, name))
    if not m or int(m.group(1)) > UINT32:
        raise BadRequest(f'{name} must look like "2000 GBP" (value in minor units, country code).', name)
    return ValueCountryCode(int(m.group(1)), m.group(2).upper())
