"""Which live :class:`~cashdevice.CashDevice` holds which port, in this process.

A serial port is opened exclusively (``exclusive=True``): the operating system lets one file
description use it and refuses the next open with "Could not exclusively lock port".  That lock
says nothing about *who* holds the port, and it does not exist at all for the emulator's
in-process ``cashdevice://`` URL, whose channel hands the device to whoever connected last (two
instances would then fight over one device).  :class:`PortClaims` is the same exclusive lock
one level up, with a name attached: it must be process-wide because the lock it models is
(every instance in the process competes for the same ports), and it holds its devices weakly
so that a claim never keeps an instance alive: an instance nobody references is collected, its
claim disappears with it and its finalizer closes the port.

The one instance is :data:`PORT_CLAIMS`; tests may build their own.
"""

from __future__ import annotations

import os
import threading
import urllib.parse
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .cash_device import CashDevice

__all__ = ["PORT_CLAIMS", "PortClaims", "port_key"]


def port_key(port: str) -> str:
    """The identity of ``port``: a device path with its symbolic links resolved (``/dev/serial/by-id/...``
    and the emulator's pty link name the same ``/dev/pts/N`` or ``/dev/ttyACM0``), a ``cashdevice://``
    URL in one spelling, any other URL as written.  pyserial's ``spy://`` and ``loop://`` wrappers
    are keyed by the port they wrap."""
    text = port.strip()
    if "://" not in text:
        return os.path.realpath(text) if text.startswith(("/", ".")) else text
    parts = urllib.parse.urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "cashdevice":
        return f"cashdevice://{parts.netloc or parts.path.lstrip('/')}"
    if scheme in ("spy", "alt"):  # spy://PORT?options, alt://PORT?class=...
        return port_key(text.split("://", 1)[1].split("?", 1)[0])
    return text


class PortClaims:
    """A lock per port naming its holder: :meth:`claim` before opening, :meth:`release` after
    closing.  Thread-safe; the lock is re-entrant because a garbage collection (which runs a
    collected device's finalizer) may start inside :meth:`claim` on the same thread."""

    def __init__(self) -> None:
        self._holders: weakref.WeakValueDictionary[str, CashDevice] = weakref.WeakValueDictionary()
        self._ports: dict[str, str] = {}
        """Per key, the port as its holder named it (a link's target may change: see :meth:`_live`)."""
        self._lock = threading.RLock()

    def claim(self, port: str, device: CashDevice) -> CashDevice | None:
        """Record ``device`` as the holder of ``port`` and return None, or return the live
        instance that already holds it (nothing recorded)."""
        key = port_key(port)
        with self._lock:
            holder = self._live(key)
            if holder is not None and holder is not device:
                return holder
            self._holders[key] = device
            self._ports[key] = port
            return None

    def release(self, device: CashDevice) -> None:
        """Forget ``device``'s claims (no-op if it holds none)."""
        with self._lock:
            for key, holder in list(self._holders.items()):
                if holder is device:
                    del self._holders[key]
                    self._ports.pop(key, None)

    def holder(self, port: str) -> CashDevice | None:
        """The live instance holding ``port``, if any."""
        with self._lock:
            return self._live(port_key(port))

    def _live(self, key: str) -> CashDevice | None:
        """The holder of ``key`` if its port still resolves to ``key``.  A claim is keyed by what
        its holder's port resolved to at Open: a ``/dev/serial/by-id`` link (or the emulator's
        pty link) whose device was unplugged points elsewhere, or nowhere, when it comes back,
        and the device node it left may go to another unit (USB re-enumeration gives the next
        unit plugged in the freed ``/dev/ttyACM0``).  Such a claim moves to where the holder's
        port resolves now (the holder reopens its port by the name it was given)."""
        holder = self._holders.get(key)
        if holder is None:
            self._ports.pop(key, None)
            return None
        named = self._ports.get(key)
        if named is None:
            return holder
        now = port_key(named)
        if now == key:
            return holder
        del self._holders[key]
        del self._ports[key]
        if now not in self._holders:
            self._holders[now] = holder
            self._ports[now] = named
        return None


PORT_CLAIMS = PortClaims()
"""The process's claims (see the module docstring for why there is exactly one)."""
