"""The Python-side options of :class:`~cashdevice.CashDevice` (``poll_interval``, ``timeout``, ...):
checked whenever they are set, in the constructor or later.

A value that does not fit (a string, a negative interval, a zero timeout) is logged as an error on
the device's logger and the option keeps its value (the default in the constructor): no exception
out of the constructor or out of ``Open`` later, and no poll loop spinning on ``poll_interval=0``.

Imports: stdlib only.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Setting", "count", "positive", "positive_or_none", "zero_or_more"]

T = TypeVar("T")
Check = Callable[[object], "str | None"]


def _number(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"a number of seconds is needed, not {type(value).__name__}"
    if not math.isfinite(value):
        return "a finite number is needed"
    return None


def positive(value: object) -> str | None:
    """Seconds, more than 0."""
    why = _number(value)
    if why is None and value <= 0:  # type: ignore[operator]
        why = "it must be more than 0"
    return why


def zero_or_more(value: object) -> str | None:
    """Seconds, 0 or more."""
    why = _number(value)
    if why is None and value < 0:  # type: ignore[operator]
        why = "it must not be negative"
    return why


def positive_or_none(value: object) -> str | None:
    """Seconds, more than 0, or None (not set)."""
    return None if value is None else positive(value)


def count(value: object) -> str | None:
    """A whole number, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"a whole number is needed, not {type(value).__name__}"
    return "it must not be negative" if value < 0 else None


class Setting(Generic[T]):
    """A checked option: reads give the value, a set that fails ``check`` is logged (on the
    owner's ``log``) and changes nothing."""

    def __init__(self, default: T, check: Check) -> None:
        self.default = default
        self.check = check
        self.name = ""
        self.slot = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.slot = f"_setting_{name}"

    def __get__(self, obj: object, owner: type | None = None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]  # (the class attribute: the descriptor)
        value: T = obj.__dict__.get(self.slot, self.default)
        return value

    def __set__(self, obj: object, value: Any) -> None:
        why = self.check(value)
        if why is not None:
            log = getattr(obj, "log", None) or logging.getLogger("cashdevice")
            log.error(
                "%s=%r ignored: %s; it stays %r", self.name, value, why, self.__get__(obj, type(obj))
            )
            return
        obj.__dict__[self.slot] = value
