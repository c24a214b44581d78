"""pyserial URL handler ``cashdevice://<emulator-id>``: an in-process port to an :class:`Emulator`.

pyserial imports ``<package>.protocol_<scheme>`` for each package in
``serial.protocol_handler_packages``; importing :mod:`cashdevice.emulator` (or
:mod:`cashdevice`) registers this package, after which ``serial.serial_for_url(emu.url)``
returns this :class:`Serial`.  Reads honour ``timeout`` (None blocks, 0 polls),
``cancel_read`` wakes a blocked read; an unplugged emulator raises ``SerialException``.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from .transports import InprocConnection, lookup

__all__ = ["Serial"]


class Serial(SerialBase):
    """In-process serial port to an emulator."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._conn: InprocConnection | None = None
        super().__init__(*args, **kwargs)

    # ---------------------------------------------------------------------- open / close

    def open(self) -> None:
        if self.is_open:
            raise SerialException("Port is already open.")
        if self.port is None:
            raise SerialException("Port must be configured before it can be used.")
        emulator = self.from_url(self.portstr or "")
        try:
            self._conn = emulator.inproc_channel().connect()
        except OSError as exc:
            raise SerialException(f"cannot open {self.portstr}: {exc}") from exc
        self._reconfigure_port()
        self.is_open = True

    def from_url(self, url: str) -> Any:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "cashdevice":
            raise SerialException(f"expected cashdevice://<emulator-id>, got {url!r}")
        key = parts.netloc or parts.path.lstrip("/")
        emulator = lookup(key)
        if emulator is None:
            raise SerialException(f"no running emulator {key!r}")
        return emulator

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.channel.disconnect(conn)
        self.is_open = False

    def _reconfigure_port(self) -> None:
        if not isinstance(self.baudrate, int) or not 0 < self.baudrate < 2**32:
            raise ValueError(f"invalid baudrate: {self.baudrate!r}")

    # ---------------------------------------------------------------------- I/O

    def _live(self) -> InprocConnection:
        if not self.is_open or self._conn is None:
            raise PortNotOpenError()
        return self._conn

    @property
    def in_waiting(self) -> int:
        conn = self._live()
        with conn.cond:
            return len(conn.buffer)

    def read(self, size: int = 1) -> bytes:
        conn = self._live()
        timeout = self.timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        with conn.cond:
            conn.cancelled = False
            while len(conn.buffer) < size:
                if not conn.alive:
                    if conn.buffer:
                        break
                    raise SerialException("device disconnected (cashdevice emulator unplugged)")
                if conn.cancelled:
                    break
                if deadline is None:
                    conn.cond.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                conn.cond.wait(remaining)
            data = bytes(conn.buffer[:size])
            del conn.buffer[:size]
            return data

    def cancel_read(self) -> None:
        conn = self._conn
        if conn is not None:
            with conn.cond:
                conn.cancelled = True
                conn.cond.notify_all()

    def cancel_write(self) -> None:
        """Writes never block."""

    def write(self, data: Any) -> int:
        conn = self._live()
        payload = bytes(data)
        try:
            conn.send(payload)
        except OSError as exc:
            raise SerialException(f"write failed: {exc}") from exc
        return len(payload)

    def flush(self) -> None:
        self._live()

    def reset_input_buffer(self) -> None:
        conn = self._live()
        with conn.cond:
            conn.buffer.clear()

    def reset_output_buffer(self) -> None:
        self._live()

    @property
    def out_waiting(self) -> int:
        return 0

    def _update_break_state(self) -> None:
        """No break signalling in process."""

    def _update_rts_state(self) -> None:
        """RTS is not wired."""

    def _update_dtr_state(self) -> None:
        """DTR is not wired."""

    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True
