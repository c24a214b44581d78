"""A stand-alone "download slave" on the master side of an ``os.openpty()`` pair.

It speaks just enough SSP for a download (SYNC, key exchange, PROGRAM, the header command, GET
FIRMWARE / DATASET VERSION, POLL), then hands the raw bytes to :class:`DownloadTarget`, then "resets"
(forgets the session, ignores the line for ``reset_delay`` seconds) and answers SYNC again, reporting the
new versions.  Independent of the emulator and of ``tests/link/fake_slave.py`` on purpose.

``pace=True`` models the serial line: every byte takes 11 bit times (8N2) at the current rate (9600 in
SSP mode, the header's rate in the raw phase) before the slave acts on it, and every reply byte too.  A
pty drains instantly (``tcdrain`` does not wait for the reader), so the host's writes run ahead of the
modelled line; a paced run therefore needs a host ``reply_timeout`` longer than one block's line time.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from dataclasses import dataclass, field

from cashdevice import ssp
from cashdevice.emulator.download import DownloadSession, DownloadTarget
from cashdevice.ssp import Command

BITS_PER_BYTE = 11  # start + 8 data + 2 stop


@dataclass
class DownloadSlave:
    address: int = 0
    block_size: int = 4096
    fixed_key: int = ssp.DEFAULT_FIXED_KEY
    firmware_version: str = "NV02004141400000"
    dataset_version: str = "EUR01600"
    fail_at_block: int | None = None
    drop_at_block: int | None = None
    fail_ram: bool = False
    refuse_header: bool = False
    refuse_key: bool = False
    reset_delay: float = 0.0
    pace: bool = False
    bytes_received: int = 0
    commands: list[bytes] = field(default_factory=list)
    """Executed SSP commands (decrypted DATA)."""
    encrypted_commands: list[int] = field(default_factory=list)
    """Command codes that arrived encrypted."""
    target: DownloadTarget | None = None
    resets: int = 0

    def __post_init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self._parser = ssp.PacketParser()
        self._mode = "ssp"  # ssp | raw | rebooting | dead
        self._reboot_at = 0.0
        self._last_flag: bool | None = None
        self._cached: bytes | None = None
        self._key: bytes | None = None
        self._count = 0
        self._generator: int | None = None
        self._modulus: int | None = None
        self.session = DownloadSession(
            block_size=self.block_size,
            fail_at_block=self.fail_at_block,
            drop_at_block=self.drop_at_block,
            fail_ram=self.fail_ram,
            refuse_header=self.refuse_header,
        )
        self._baud = 9600
        self._line_free = 0.0
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name=f"download-slave {self.path}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self._thread.join(5)
        for fd in (self._master, self._slave, self._stop_r, self._stop_w):
            os.close(fd)

    def __enter__(self) -> DownloadSlave:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def mode(self) -> str:
        with self.lock:
            return self._mode

    def wait_for(self, predicate: object, timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` (called under the lock) is true."""
        with self.changed:
            return self.changed.wait_for(predicate, timeout)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ engine

    def _sleep(self, seconds: float) -> bool:
        """Model line time; False when the slave is being closed."""
        if seconds <= 0:
            return True
        ready, _, _ = select.select([self._stop_r], [], [], seconds)
        return not ready

    def _line(self, nbytes: int) -> bool:
        if not self.pace:
            return True
        now = time.monotonic()
        self._line_free = max(self._line_free, now) + nbytes * BITS_PER_BYTE / self._baud
        return self._sleep(self._line_free - now)

    def _run(self) -> None:
        while True:
            ready, _, _ = select.select([self._master, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                chunk = os.read(self._master, 4096)
            except OSError:
                return
            if not self._line(len(chunk)):
                return
            with self.lock:
                self.bytes_received += len(chunk)
                reply = self._on_bytes(chunk)
                self.changed.notify_all()
            if reply:
                if not self._line(len(reply)):
                    return
                os.write(self._master, reply)

    def _on_bytes(self, chunk: bytes) -> bytes:
        if self._mode == "rebooting":
            if time.monotonic() < self._reboot_at:
                return b""  # still booting: the line is ignored
            self._mode = "ssp"
        if self._mode == "dead":
            return b""
        if self._mode == "raw":
            assert self.target is not None
            out = self.target.feed(chunk)
            if self.target.done:
                self._reset()
                if self.target.firmware_version:
                    self.firmware_version = self.target.firmware_version
                if self.target.dataset_version:
                    self.dataset_version = self.target.dataset_version
            elif self.target.failed:
                self._mode = "dead"
            return out
        out = bytearray()
        for packet in self._parser.feed(chunk):
            out += self._on_packet(packet)
        return bytes(out)

    def _reset(self) -> None:
        self.resets += 1
        self._mode = "rebooting"
        self._reboot_at = time.monotonic() + self.reset_delay
        self._parser = ssp.PacketParser()
        self._key = None
        self._last_flag = None
        self._cached = None
        self.session.reset()
        self._baud = 9600

    def _on_packet(self, packet: ssp.Packet) -> bytes:
        if packet.address != self.address:
            return b""
        if packet.data[:1] == bytes((Command.SYNC,)):
            self._last_flag = True
            self._cached = ssp.encode_packet(packet.address, packet.seq_flag, b"\xf0")
            return self._cached
        if self._last_flag == packet.seq_flag and self._cached is not None:
            return self._cached
        self._last_flag = packet.seq_flag
        data = packet.data
        encrypted = packet.encrypted
        if encrypted:
            if self._key is None:
                return self._frame(packet, b"\xfa")
            count, data = ssp.decrypt_data(self._key, data)
            if count != self._count:
                return b""
            self._count += 1
            self.encrypted_commands.append(data[0])
        self.commands.append(data)
        reply = self._execute(data)
        if encrypted:
            assert self._key is not None
            reply = ssp.encrypt_data(self._key, self._count, reply)
        self._cached = self._frame(packet, reply)
        if self.session.raw:  # the header's F0 goes out framed, then the line is raw
            self.target = self.session.target
            assert self.target is not None
            self._mode = "raw"
            self._baud = self.target.baud
        return self._cached

    def _frame(self, packet: ssp.Packet, data: bytes) -> bytes:
        return ssp.encode_packet(packet.address, packet.seq_flag, data)

    def _execute(self, data: bytes) -> bytes:
        code = data[0]
        reply = self.session.handle(data)  # PROGRAM and the header, before anything else
        if reply is not None:
            return reply
        if code in (Command.SET_GENERATOR, Command.SET_MODULUS):
            if self.refuse_key:
                return b"\xf2"
            value = int.from_bytes(data[1:9], "little")
            if code == Command.SET_GENERATOR:
                self._generator = value
            else:
                self._modulus = value
            return b"\xf0"
        if code == Command.REQUEST_KEY_EXCHANGE:
            if self._generator is None or self._modulus is None:
                return b"\xf8"
            host_inter = int.from_bytes(data[1:9], "little")
            secret = 0x1234567
            inter = ssp.dh_inter_key(self._generator, self._modulus, secret)
            shared = ssp.dh_shared_key(host_inter, secret, self._modulus)
            self._key = ssp.aes_key(self.fixed_key, shared)
            self._count = 0
            return b"\xf0" + inter.to_bytes(8, "little")
        if code == Command.GET_FIRMWARE_VERSION:
            return b"\xf0" + self.firmware_version.encode("ascii")
        if code == Command.GET_DATASET_VERSION:
            return b"\xf0" + self.dataset_version.encode("ascii")
        if code == Command.POLL:
            return b"\xf0"
        return b"\xf2"
