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

import errno
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


_MAX_HOPS = 40  # (the kernel's own limit on links followed in one look-up)


def _signature(name: str) -> tuple[str, ...] | None:
    """What changes when what ``name`` resolves to may have changed: the text of every link the
    device path leads through, in order (a link that udev or the emulator re-created to point
    elsewhere has another text; the application's own link to a by-id link never changes, the by-id
    link does; a link re-created with the same text resolves as before).  One ``readlink`` per
    hop, the last one refused (not a link).  None while a hop is missing (an unplugged unit's
    link); a URL or a name like ``COM3`` never resolves differently."""
    text = name.strip()
    if "://" in text or not text.startswith(("/", ".")):
        return ()
    hops: list[str] = []
    path = text
    for _ in range(_MAX_HOPS):
        try:
            target = os.readlink(path)
        except OSError as exc:
            return tuple(hops) if exc.errno == errno.EINVAL else None  # (EINVAL: not a link)
        hops.append(target)
        path = os.path.join(os.path.dirname(path), target)
    return None


class _Claim:
    """A holder's port as it named it, with what that name resolved to when last looked at."""

    __slots__ = ("key", "name", "signature")

    def __init__(self, name: str) -> None:
        self.name = name
        self.signature = _signature(name)
        self.key = port_key(name)

    def resolved(self) -> str:
        """Where the name resolves now (resolved again only if its path changed, or is missing)."""
        signature = _signature(self.name)
        if signature is None or signature != self.signature:
            self.signature, self.key = signature, port_key(self.name)
        return self.key


class PortClaims:
    """A lock per port naming its holder: :meth:`claim` before opening, :meth:`release` after
    closing.  Thread-safe; the lock is re-entrant because a garbage collection (which runs a
    collected device's finalizer) may start inside :meth:`claim` on the same thread."""

    def __init__(self) -> None:
        self._claims: weakref.WeakKeyDictionary[CashDevice, _Claim] = weakref.WeakKeyDictionary()
        """Per holder, its port as it named it: a claim is where that name resolves *now* (a
        ``/dev/serial/by-id`` link, or the emulator's pty link, of a unit that was unplugged points
        nowhere, then to whatever node the unit is given when it comes back; the holder reopens its
        port by that name).  Every look-up checks every holder's name: a ``readlink`` per link it
        leads through, and a ``realpath`` only for a name whose links changed (1,000 opens of
        emulator pty links in one process cost about three seconds of claims in all, against ten
        with a ``realpath`` each)."""
        self._lock = threading.RLock()

    def claim(self, port: str, device: CashDevice) -> CashDevice | None:
        """Record ``device`` as the holder of ``port`` and return None, or return the live
        instance that already holds it (nothing recorded)."""
        key = port_key(port)
        with self._lock:
            holder = self._live(key, device)
            if holder is not None:
                return holder
            self._claims[device] = _Claim(port)
            return None

    def release(self, device: CashDevice) -> None:
        """Forget ``device``'s claim (no-op if it holds none)."""
        with self._lock:
            self._claims.pop(device, None)

    def holder(self, port: str) -> CashDevice | None:
        """The live instance holding ``port``, if any."""
        with self._lock:
            return self._live(port_key(port))

    def _live(self, key: str, but: CashDevice | None = None) -> CashDevice | None:
        """The holder (other than ``but``) whose port resolves to ``key`` now.  A holder whose
        link points nowhere (its unit unplugged) holds the link's own path meanwhile, and the node
        the link will name once the unit is back, whichever it is."""
        for holder, claim in list(self._claims.items()):
            if holder is not but and claim.resolved() == key:
                return holder
        return None


PORT_CLAIMS = PortClaims()
"""The process's claims (see the module docstring for why there is exactly one)."""
