"""Transports: pseudo-terminal, TCP socket and the in-process channel behind ``cashdevice://``.

Each transport delivers host bytes to a ``receive(transport, chunk)`` callback (the
emulator) and writes the emulator's replies with :meth:`Transport.write`.  All of them can
be unplugged (the host sees a hang-up / disconnect) and plugged back in.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import socket
import tempfile
import threading
import tty
import weakref
from collections.abc import Callable
from typing import Any

__all__ = [
    "BITS_PER_BYTE",
    "InprocChannel",
    "InprocConnection",
    "LineModel",
    "PtyTransport",
    "TcpTransport",
    "Transport",
    "lookup",
    "register",
]

Receiver = Callable[["Transport", bytes], None]

_registry: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()
_counter = [0]


def register(obj: Any) -> str:
    """Give ``obj`` (an emulator) a process-unique id for ``cashdevice://<id>`` (held weakly)."""
    with _registry_lock:
        _counter[0] += 1
        key = f"emu{_counter[0]}"
        _registry[key] = obj
        return key


def lookup(key: str) -> Any | None:
    with _registry_lock:
        return _registry.get(key)


class Transport:
    """Base: a named byte pipe to one host."""

    name = "transport"

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def unplug(self) -> None:
        raise NotImplementedError

    def replug(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


# ------------------------------------------------------------------------------------------ line model

BITS_PER_BYTE = 11
"""8N2 plus the start bit: one byte costs 11 bit times on the line."""


class LineModel:
    """The serial line between host and device, one clock per direction.

    A pty, a socket or the in-process channel hands the emulator a host's bytes the moment
    they are written; on a real line each byte takes ``11 / baud`` seconds.  :meth:`received`
    tells when the last byte of a chunk would have reached the device (bytes queue behind
    the ones still on the line), :meth:`reply_done` when the last byte of a reply reaches the
    host: it starts ``turnaround`` after the command was in, never before the previous reply
    has left, and takes its own bytes' time.  So a command of ``c`` bytes and a reply of
    ``r`` bytes cost ``(c + r) * 11 / baud + turnaround`` of wall time, whatever the
    transport.  Times are :func:`time.monotonic`.  Each clock is written by one thread only
    (``received`` by the transport's reader, ``reply_done`` by the emulator's engine).
    """

    __slots__ = ("_rx_free", "_tx_free", "turnaround")

    def __init__(self, turnaround: float) -> None:
        self.turnaround = turnaround
        self._rx_free = 0.0
        self._tx_free = 0.0

    @staticmethod
    def duration(nbytes: int, baud: int) -> float:
        """Seconds ``nbytes`` take on the line at ``baud`` (11 bits a byte)."""
        return nbytes * BITS_PER_BYTE / baud

    def received(self, nbytes: int, baud: int, now: float) -> float:
        """A chunk of ``nbytes`` was written by the host at ``now``: when is it all in?"""
        start = max(now, self._rx_free)
        self._rx_free = start + self.duration(nbytes, baud)
        return self._rx_free

    def reply_done(self, nbytes: int, baud: int, command_in: float, now: float) -> float:
        """A reply of ``nbytes`` to a command that was all in at ``command_in`` is ready at
        ``now``: when has its last byte reached the host?"""
        start = max(now, command_in + self.turnaround, self._tx_free)
        self._tx_free = start + self.duration(nbytes, baud)
        return self._tx_free

    def reset(self) -> None:
        """An idle line (after a power cycle or replug)."""
        self._rx_free = self._tx_free = 0.0


# ------------------------------------------------------------------------------------------ in-process


class InprocConnection:
    """The host end of the in-process channel (used by ``protocol_cashdevice.Serial``)."""

    def __init__(self, channel: InprocChannel, generation: int) -> None:
        self.channel = channel
        self.generation = generation
        self.buffer = bytearray()
        self.cond = threading.Condition()
        self.closed = False
        self.cancelled = False

    @property
    def alive(self) -> bool:
        return not self.closed and self.channel.plugged and self.channel.generation == self.generation

    def send(self, data: bytes) -> None:
        if not self.alive:
            raise OSError(errno.EIO, "cashdevice emulator unplugged")
        self.channel.deliver(data)

    def push(self, data: bytes) -> None:
        with self.cond:
            self.buffer += data
            self.cond.notify_all()

    def hang_up(self) -> None:
        with self.cond:
            self.cond.notify_all()


class InprocChannel(Transport):
    """In-process channel: one host connection at a time (a new open replaces the old one)."""

    name = "inproc"

    def __init__(self, receive: Receiver) -> None:
        self._receive = receive
        self.plugged = True
        self.generation = 0
        self._conn: InprocConnection | None = None
        self._lock = threading.Lock()

    def connect(self) -> InprocConnection:
        with self._lock:
            if not self.plugged:
                raise OSError(errno.ENODEV, "cashdevice emulator unplugged")
            self.generation += 1
            old, self._conn = self._conn, InprocConnection(self, self.generation)
            if old is not None:
                old.hang_up()
            return self._conn

    def disconnect(self, conn: InprocConnection) -> None:
        with self._lock:
            conn.closed = True
            if self._conn is conn:
                self._conn = None
        conn.hang_up()

    def deliver(self, data: bytes) -> None:
        self._receive(self, data)

    def write(self, data: bytes) -> None:
        with self._lock:
            conn = self._conn
        if conn is not None and conn.alive:
            conn.push(data)

    def unplug(self) -> None:
        with self._lock:
            self.plugged = False
            self.generation += 1  # the host's connection is dead for good, even after a replug
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.hang_up()

    def replug(self) -> None:
        with self._lock:
            self.plugged = True

    def close(self) -> None:
        self.unplug()


# ------------------------------------------------------------------------------------------ pty


class PtyTransport(Transport):
    """A pseudo-terminal.  :attr:`path` is a stable symlink to the current ``/dev/pts/N``
    (unplug closes the pty so the host sees a hang-up, and removes the path until replug makes
    a new pty behind it)."""

    name = "pty"

    def __init__(
        self, receive: Receiver, thread_name: str, log: logging.Logger, link: str | None = None
    ) -> None:
        self._receive = receive
        self._log = log
        self._thread_name = thread_name
        self._tmpdir: str | None = None
        if link is None:
            self._tmpdir = tempfile.mkdtemp(prefix="cashdevice-emu-")
            link = os.path.join(self._tmpdir, "tty")
        self.path = link
        self.device = ""
        self._master = -1
        self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._open()

    def _open(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.device = os.ttyname(slave)
        tmp = self.path + ".new"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        os.symlink(self.device, tmp)
        os.replace(tmp, self.path)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        master = self._master
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(master, 4096)
            except BlockingIOError:
                continue
            except (OSError, ValueError) as exc:
                if not self._stop.is_set():
                    self._log.debug("pty read: %s", exc)
                    self._stop.wait(0.05)
                continue
            if data:
                self._receive(self, data)

    def write(self, data: bytes) -> None:
        if self._master < 0:
            return
        try:
            os.write(self._master, data)
        except OSError as exc:  # nobody reading / buffer full: the bytes are lost, as on a wire
            self._log.debug("pty write: %s", exc)

    def _close_pty(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def unplug(self) -> None:
        # the port path goes too, as a USB serial device's node does: a host that keeps trying
        # to reopen it gets "no such file", never the pseudo-terminal that the system hands the
        # same /dev/pts number next (another emulator's, in this process or another)
        self._close_pty()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def replug(self) -> None:
        if self._master < 0:
            self._open()

    def close(self) -> None:
        self._close_pty()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        if self._tmpdir is not None:
            with contextlib.suppress(OSError):
                os.rmdir(self._tmpdir)


# ------------------------------------------------------------------------------------------ tcp


class TcpTransport(Transport):
    """A TCP server for one client at a time (``socket://HOST:PORT``).  A new client
    replaces the old one; while unplugged, connections are closed at once."""

    name = "tcp"

    def __init__(
        self, receive: Receiver, thread_name: str, log: logging.Logger, host: str, port: int
    ) -> None:
        self._receive = receive
        self._log = log
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind((host, port))
        self._server.listen(1)
        self.host = host
        self.port: int = self._server.getsockname()[1]
        self._client: socket.socket | None = None
        self._lock = threading.Lock()
        self.plugged = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                client = self._client
            sockets = [self._server] + ([client] if client is not None else [])
            try:
                ready, _, _ = select.select(sockets, [], [], 0.05)
            except (OSError, ValueError):
                if self._stop.is_set():
                    return
                self._drop_client(client)
                continue
            for sock in ready:
                if sock is self._server:
                    self._accept()
                else:
                    self._read(sock)

    def _accept(self) -> None:
        try:
            conn, _ = self._server.accept()
        except OSError:
            return
        if not self.plugged:
            conn.close()
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            old, self._client = self._client, conn
        if old is not None:
            old.close()

    def _read(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(4096)
        except OSError:
            data = b""
        if not data:
            self._drop_client(sock)
            return
        self._receive(self, data)

    def _drop_client(self, sock: socket.socket | None) -> None:
        with self._lock:
            if sock is not None and self._client is sock:
                self._client = None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    def write(self, data: bytes) -> None:
        with self._lock:
            client = self._client
        if client is None:
            return
        try:
            client.sendall(data)
        except OSError as exc:
            self._log.debug("tcp write: %s", exc)

    def unplug(self) -> None:
        self.plugged = False
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()

    def replug(self) -> None:
        self.plugged = True

    def close(self) -> None:
        self.unplug()
        self._stop.set()
        self._thread.join(2.0)
        self._server.close()
