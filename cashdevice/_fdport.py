"""Direct descriptor I/O for the link on a plain POSIX serial port (a device node or a pty).

Private to :mod:`cashdevice.link`, which falls back to the port's own ``read``/``write`` when
:func:`fd_port` returns None (URL handlers, other platforms).
"""

from __future__ import annotations

import errno
import os
import select

__all__ = ["FdPort", "fd_port"]


class FdPort:
    """Direct descriptor I/O for a plain POSIX serial port (a device node or a pty).

    pyserial's ``read``/``write`` wait with ``select()``, which refuses descriptors >= 1024 (an
    application with many sockets or devices hits that with its first port), and each change of
    ``timeout`` costs a ``tcsetattr``.  Here the port keeps its settings; waits use ``poll()``
    on the descriptor and data moves with ``os.read``/``os.write`` (the descriptor pyserial opened
    is non-blocking)."""

    __slots__ = ("fd", "poller")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.poller = select.poll()
        self.poller.register(fd, select.POLLIN)

    def read(self, wait: float) -> bytes:
        """What is there, waiting at most ``wait`` seconds for the first byte (b"" when none)."""
        if not self.poller.poll(int(wait * 1000 + 0.999) if wait > 0 else 0):
            return b""
        return self.read_now()

    def read_now(self) -> bytes:
        """What is there, without waiting (the caller saw the descriptor readable)."""
        try:
            chunk = os.read(self.fd, 4096)
        except BlockingIOError:
            return b""
        if not chunk:
            raise OSError(errno.EIO, "device reports readiness to read but returned no data (unplugged?)")
        return chunk

    def drain(self) -> bytes:
        """Everything waiting now, without blocking."""
        if not self.poller.poll(0):
            return b""  # the usual case: one poll, nothing to copy
        out = bytearray()
        while self.poller.poll(0):
            try:
                chunk = os.read(self.fd, 4096)
            except BlockingIOError:
                break
            if not chunk:
                raise OSError(errno.EIO, "device reports readiness to read but returned no data (unplugged?)")
            out += chunk
        return bytes(out)

    def write(self, data: bytes) -> None:
        try:
            n = os.write(self.fd, data)
        except BlockingIOError:
            n = 0
        if n == len(data):
            return  # the usual case: the packet fits the port's buffer
        view = memoryview(data)[n:]
        while view:
            writer = select.poll()
            writer.register(self.fd, select.POLLOUT)
            if not writer.poll(1000):
                raise OSError(errno.ETIMEDOUT, "write timed out")
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:
                n = 0
            view = view[n:]


def fd_port(port: object) -> FdPort | None:
    """Direct descriptor I/O for exactly pyserial's POSIX ``Serial`` (not its URL handlers or
    subclasses such as ``spy://``, which add behaviour to ``read``/``write``)."""
    if os.name != "posix" or not hasattr(select, "poll"):
        return None
    try:
        from serial import serialposix
    except ImportError:  # pragma: no cover - non-POSIX
        return None
    if type(port) is not serialposix.Serial:
        return None
    fd = getattr(port, "fd", None)
    return FdPort(fd) if isinstance(fd, int) else None
