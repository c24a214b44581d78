"""C# events as blinker signals: ``+=`` / ``-=``, handlers with any parameter names, and
per-instance signals declared on the class (so ``help(CashDevice)`` lists them).

* :class:`DeviceEvent` is a :class:`blinker.Signal`.  ``connect`` holds receivers strongly by
  default (C# ``+=`` keeps the delegate alive); ``signal += handler`` connects and
  ``signal -= handler`` disconnects.
* A receiver gets ``(sender, args)`` whatever its parameters are called: one that can take the
  keyword ``e`` (a parameter named ``e``, or ``**kwargs``) is called as ``receiver(sender, e=args)``
  (blinker's convention); any other as ``receiver(sender, args)`` (C#'s ``(object sender,
  XxxEventArgs args)``).  ``send(sender, e=args)`` follows the same rule.
* :class:`EventSlot` is the class-level declaration: a data descriptor that creates the
  instance's own :class:`DeviceEvent` on first use and refuses to be replaced by anything else
  (``device.CashEvent = f`` is a mistake; ``+=`` re-assigns the same signal and is accepted).

Imports: stdlib and blinker only.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any, TypeVar, overload

import blinker

__all__ = ["DeviceEvent", "EventSlot", "deliver"]

_R = TypeVar("_R")


def _takes_keyword_e(receiver: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(receiver).parameters
    except (TypeError, ValueError):  # a builtin or C callable without a signature
        return False
    named = params.get("e")
    if named is not None and named.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    ):
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def deliver(
    receiver: Callable[..., _R],
    sender: Any,
    args: Any,
    known: weakref.WeakKeyDictionary[Any, bool] | None = None,
) -> _R:
    """Call one receiver with ``sender`` and the event args, keyword ``e`` if it takes one.
    ``known`` (a signal's own cache) remembers the answer per receiver: reading a signature costs
    tens of microseconds, and a credit fires several events."""
    keyword = None
    if known is not None:
        try:
            keyword = known.get(receiver)
        except TypeError:  # unhashable or not weakly referable: asked every time
            known = None
    if keyword is None:
        keyword = _takes_keyword_e(receiver)
        if known is not None:
            known[receiver] = keyword
    if keyword:
        return receiver(sender, e=args)
    return receiver(sender, args)


class DeviceEvent(blinker.Signal):
    """A C# event as a blinker signal: ``connect`` holds receivers strongly by default (C# ``+=``);
    ``+=`` connects, ``-=`` disconnects; receivers may name their parameters freely."""

    def __init__(self, doc: str | None = None) -> None:
        super().__init__(doc)
        self.signatures: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
        """Per receiver: whether it takes the args as keyword ``e`` (see :func:`deliver`)."""

    def connect(self, receiver: Any, sender: Any = blinker.ANY, weak: bool = False) -> Any:
        return super().connect(receiver, sender, weak)

    def __iadd__(self, receiver: Callable[..., Any]) -> DeviceEvent:
        """C# ``event += handler``."""
        if not callable(receiver):
            raise TypeError(f"an event handler must be callable, not {type(receiver).__name__}")
        self.connect(receiver)
        return self

    def __isub__(self, receiver: Callable[..., Any]) -> DeviceEvent:
        """C# ``event -= handler`` (a handler that is not connected is ignored, as in C#)."""
        self.disconnect(receiver)
        return self

    def send(
        self,
        sender: Any | None = None,
        /,
        *,
        _async_wrapper: Any = None,
        **kwargs: Any,
    ) -> list[tuple[Callable[..., Any], Any]]:
        """blinker's ``send``; with exactly the keyword ``e`` each receiver is called through
        :func:`deliver`, so ``(sender, args)`` receivers work too.  Exceptions propagate
        (blinker's rule; ``CashDevice`` itself logs a failing receiver and goes on)."""
        if set(kwargs) != {"e"} or _async_wrapper is not None:
            return super().send(sender, _async_wrapper=_async_wrapper, **kwargs)
        if self.is_muted:
            return []
        return [(r, deliver(r, sender, kwargs["e"], self.signatures)) for r in self.receivers_for(sender)]


class EventSlot:
    """Class-level declaration of a per-instance :class:`DeviceEvent` (shown by ``help()``)."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> EventSlot: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> DeviceEvent: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> EventSlot | DeviceEvent:
        if instance is None:
            return self
        signal = instance.__dict__.get(self.name)
        if signal is None:  # setdefault: two threads racing get the same signal
            signal = instance.__dict__.setdefault(self.name, DeviceEvent(doc=self.__doc__))
        return signal  # type: ignore[no-any-return]

    def __set__(self, instance: object, value: DeviceEvent) -> None:
        if value is not self.__get__(instance):
            raise AttributeError(
                f"{self.name} is an event: use {self.name} += handler (or .connect(handler)), not ="
            )

    def __delete__(self, instance: object) -> None:
        raise AttributeError(f"{self.name} is an event and cannot be deleted")
