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
from typing import Any

__all__ = ["Setting", "count", "positive", "positive_or_none", "zero_or_more"]

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


class Setting:
    """A checked option: a set that fails ``check`` is logged (on the owner's ``log``) and changes
    nothing (the first set, in the constructor, then gives ``default``); a good one is stored in the
    instance's ``__dict__`` under the option's own name.

    Only ``__set__`` is defined, so reads never call Python code: with no ``__get__``, attribute
    lookup takes the instance's ``__dict__`` entry as for a plain attribute (the poll loop reads
    ``poll_interval`` every turn, and a Python-level ``__get__`` cost about 9 µs there, run cold
    after each sleep).  The owner sets every option in ``__init__``."""

    def __init__(self, default: object, check: Check) -> None:
        self.default = default
        self.check = check
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __set__(self, obj: object, value: Any) -> None:
        why = self.check(value)
        if why is not None:
            kept = obj.__dict__.setdefault(self.name, self.default)  # (in the constructor: the default)
            log = getattr(obj, "log", None) or logging.getLogger("cashdevice")
            log.error("%s=%r ignored: %s; it stays %r", self.name, value, why, kept)
            return
        obj.__dict__[self.name] = value
