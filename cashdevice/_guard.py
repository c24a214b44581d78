"""Entry checks of the public ``CashDevice`` methods: never an exception, never bytes on the wire
for a call that cannot succeed.

Every public method carries :func:`csharp`, which runs before the method body:

1. *Not open*: a device method called before ``Open`` (or after ``Close``) logs "the device is not
   open" and returns its documented failure value for that case (``closed``).
2. *Bad arguments*: each argument is checked against the C# parameter type (``byte``, ``UInt16``,
   ``UInt32``, ``bool``, ``string``, ``ValueCountryCode``, ``List<...>``, an enum): a wrong type, a
   ``bool`` where a number is expected, a ``str`` where a ``bool`` is expected, a number out of the C#
   type's range, a missing or extra argument ... logs one line saying which argument and why and
   returns the documented failure value (``fail``).

The finer checks (a value outside the dataset, a month 13) stay in the method bodies, which also
log and return the failure value.  Nothing here sends anything.

Imports: stdlib, :mod:`cashdevice.records` and :mod:`cashdevice.enums` only.
"""

from __future__ import annotations

import enum
import functools
import inspect
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from typing_extensions import ParamSpec

from .records import ValueCountryCode

__all__ = [
    "BYTE",
    "BYTES",
    "FLAG",
    "INT32",
    "PATH",
    "TEXT",
    "U16",
    "U32",
    "U64",
    "VCC",
    "Check",
    "Overload",
    "csharp",
    "enum_of",
    "fresh",
    "list_of",
    "one_of",
    "optional",
]

P = ParamSpec("P")
R = TypeVar("R")

Check = Callable[[object], "str | None"]
"""An argument check: ``None`` when the value fits, otherwise why it does not."""

_STATIC_LOG = "cashdevice.device"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def uint(limit: int, what: str) -> Check:
    """A C# unsigned integer type: an ``int`` (not ``bool``) in 0..limit."""

    def check(value: object) -> str | None:
        if not _is_int(value):
            return f"must be an int (C# {what}), not {type(value).__name__}"
        if not 0 <= value <= limit:  # type: ignore[operator]
            return f"must fit a C# {what} (0..{limit}), got {value}"
        return None

    return check


BYTE = uint(0xFF, "byte")
U16 = uint(0xFFFF, "UInt16")
U32 = uint(0xFFFF_FFFF, "UInt32")
U64 = uint(0xFFFF_FFFF_FFFF_FFFF, "UInt64")


def INT32(value: object) -> str | None:
    """C# ``Int32``."""
    if not _is_int(value):
        return f"must be an int (C# Int32), not {type(value).__name__}"
    if not -(2**31) <= value < 2**31:  # type: ignore[operator]
        return f"must fit a C# Int32, got {value}"
    return None


def FLAG(value: object) -> str | None:
    """C# ``bool``: True or False only (``"no"`` or ``1`` is a mistake, not a flag)."""
    return None if isinstance(value, bool) else f"must be a bool, not {type(value).__name__} {value!r}"


def TEXT(value: object) -> str | None:
    """C# ``string`` (not null)."""
    return None if isinstance(value, str) else f"must be a str, not {type(value).__name__}"


def PATH(value: object) -> str | None:
    """A file path: ``str`` or ``os.PathLike``."""
    return None if isinstance(value, (str, os.PathLike)) else f"must be a path, not {type(value).__name__}"


def VCC(value: object) -> str | None:
    """C# ``ValueCountryCode`` (not null), with a UInt32 value and a 3-letter code."""
    if not isinstance(value, ValueCountryCode):
        return f"must be a ValueCountryCode, not {type(value).__name__}"
    return value.problem()


def BYTES(value: object) -> str | None:
    """C# ``byte[]``: ``bytes`` / ``bytearray`` / a sequence of ints 0..255."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return None
    if isinstance(value, (str, Mapping)) or not isinstance(value, Sequence):
        return f"must be bytes, not {type(value).__name__}"
    for item in value:
        if BYTE(item) is not None:
            return f"item {item!r} is not a byte"
    return None


def optional(check: Check) -> Check:
    """C# null is allowed (``None``)."""

    def opt(value: object) -> str | None:
        return None if value is None else check(value)

    return opt


def list_of(check: Check, what: str = "list") -> Check:
    """C# ``List<T>`` / ``T[]`` (not null): a list or tuple whose items pass ``check``."""

    def items(value: object) -> str | None:
        if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Sequence):
            return f"must be a {what}, not {type(value).__name__}"
        for i, item in enumerate(value):
            why = check(item)
            if why is not None:
                return f"item {i} {why}"
        return None

    return items


def enum_of(enum_type: type[enum.IntEnum]) -> Check:
    """A C# enum: a member, or an int that is one of its numbers (not a bool, not a name)."""

    def member(value: object) -> str | None:
        if isinstance(value, enum_type):
            return None
        if _is_int(value) and value in {int(m) for m in enum_type}:
            return None
        return f"must be a {enum_type.__name__}, not {value!r}"

    return member


def one_of(*checks: Check) -> Check:
    """Any of ``checks`` (the first one's reason when none fits)."""

    def either(value: object) -> str | None:
        reasons = [c(value) for c in checks]
        return None if any(r is None for r in reasons) else reasons[0]

    return either


class fresh(NamedTuple):
    """A failure value made anew for each call (``fresh(list)``: an empty list nobody shares)."""

    make: Callable[[], Any]


class Overload(NamedTuple):
    """One C# overload of a ``*args`` method: its parameter names and their checks, in order."""

    params: tuple[tuple[str, Check], ...]

    def problem(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        names = [n for n, _ in self.params]
        if len(args) + len(kwargs) != len(names):
            return f"takes {len(names)} argument(s) ({', '.join(names) or 'none'})"
        given = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in names[len(args) :]:
                return f"unexpected argument {key!r}"
            given[key] = value
        for name, check in self.params:
            why = check(given[name])
            if why is not None:
                return f"{name} {why}"
        return None


def _signature_checker(
    fn: Callable[..., Any], checks: Mapping[str, Check], skip_first: bool
) -> Callable[[tuple[Any, ...], dict[str, Any]], str | None]:
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())[1 if skip_first else 0 :]
    unknown = set(checks) - {p.name for p in params}
    if unknown:  # a typo in a decorator must fail at import, not silently pass every call
        raise TypeError(f"{fn.__qualname__}: checks for unknown parameters {sorted(unknown)}")
    short = signature.replace(parameters=params)

    def problem(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        try:
            bound = short.bind(*args, **kwargs)
        except TypeError as exc:
            return str(exc)
        for name, value in bound.arguments.items():
            check = checks.get(name)
            if check is not None:
                why = check(value)
                if why is not None:
                    return f"{name} {why}"
        return None

    return problem


def _overload_problem(
    overloads: Sequence[Overload], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> str | None:
    reasons = [o.problem(args, kwargs) for o in overloads]
    if any(r is None for r in reasons):
        return None
    return "; or ".join(dict.fromkeys(r for r in reasons if r))


def _value(result: Any) -> Any:
    return result.make() if isinstance(result, fresh) else result


def csharp(
    fail: Any,
    closed: Any = None,
    *,
    needs_open: bool = True,
    static: bool = False,
    overloads: Sequence[Overload] = (),
    **checks: Check,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a public method: ``fail`` is returned for bad arguments, ``closed`` (default:
    ``fail``) when the device is not open; ``needs_open=False`` for host-side methods that work
    without a device (``Open``, ``Close``, static predicates ...).  ``checks`` map parameter names to
    checks; ``overloads`` describe a ``*args`` method's C# overloads (the call must fit one)."""
    when_closed = fail if closed is None else closed

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        name = fn.__name__
        problem: Callable[[tuple[Any, ...], dict[str, Any]], str | None]
        if overloads:
            problem = functools.partial(_overload_problem, overloads)
        else:
            problem = _signature_checker(fn, checks, skip_first=not static)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if static:
                log = logging.getLogger(_STATIC_LOG)
                call_args: tuple[Any, ...] = args
            else:
                owner: Any = args[0]
                log = owner.log
                call_args = args[1:]
                if needs_open and not owner._v["isOpen"]:
                    log.error("%s: the device is not open; call Open first (nothing sent)", name)
                    closed_result: R = _value(when_closed)
                    return closed_result
            why = problem(call_args, dict(kwargs))
            if why is not None:
                log.error("%s: invalid argument: %s (nothing sent)", name, why)
                fail_result: R = _value(fail)
                return fail_result
            return fn(*args, **kwargs)

        wrapper.__csharp_failure__ = fail  # type: ignore[attr-defined]
        wrapper.__csharp_closed__ = when_closed  # type: ignore[attr-defined]
        wrapper.__csharp_needs_open__ = needs_open and not static  # type: ignore[attr-defined]
        return wrapper

    return decorate
