"""Download target: the device side of a firmware / dataset download, as a pure state machine.

Transport-independent: no I/O, no clock, no threads.  It parses the header itself (not through the
host's :mod:`cashdevice.firmware_file`, so a host bug cannot cancel out an emulator bug).

How an engine uses it (ssp-protocol.md §7.2; GA973 §10.3):

1. SSP command ``0B 03`` (PROGRAM RAM) -> :func:`program_reply` gives ``F0`` + u16 LE block size, and the
   engine remembers "a header comes next".  Any other PROGRAM sub-code gets ``F4``.
2. The next SSP command whose DATA is 128 bytes starting ``"ITL"`` is the header:
   :func:`accept_header` returns a :class:`DownloadTarget` (reply ``F0``) or None (reply ``F9`` HEADER
   FAILURE: wrong magic or length, or the file does not fit this device).  After sending ``F0`` the
   engine leaves SSP framing: every byte received from then on goes to :meth:`DownloadTarget.feed`, and
   whatever ``feed`` returns is written back raw.  (The line changes to :attr:`DownloadTarget.baud`.)
3. Raw phase, driven by ``feed``: RAM block (``ram_size`` bytes) -> one byte, the XOR of the RAM bytes;
   update code (1 byte) -> ACK ``0x32``; the header again (128 bytes) -> ``0x32``; then for each block
   of ``block_size`` bytes (the last one short) followed by the host's XOR byte -> the device's own XOR.
4. When :attr:`DownloadTarget.done` turns true the unit resets: the engine drops the session, returns
   to 9600 baud and SSP framing, and from then on reports :attr:`DownloadTarget.firmware_version` /
   :attr:`DownloadTarget.dataset_version` in GET FIRMWARE VERSION / GET DATASET VERSION.  When
   :attr:`DownloadTarget.failed` turns true the device stays silent until the engine resets it (a real
   unit needs a power cycle: its RAM code is gone).

:class:`DownloadSession` bundles steps 1-2 for an engine: call :meth:`DownloadSession.handle` with each
executed command's DATA (decrypted, **before** the encryption-enforcement check -- the header's first byte
is ``0x49`` "I", which is also COIN MECH GLOBAL INHIBIT, an "encryption required" code, and ITL-C sends the
header plain after an eSSP key exchange); a non-None result is the reply DATA, and once
:attr:`DownloadSession.raw` is true (right after the header's ``F0``) the engine hands raw bytes to
:attr:`DownloadSession.target`.

Knobs: ``fail_at_block`` (1-based main block answered with a wrong XOR), ``drop_at_block`` (stop
answering from that main block on -- a line drop; 0 drops during the RAM block), ``fail_ram`` (wrong
RAM checksum).  A mismatch between the host's XOR byte and the device's XOR also fails the target.

Version strings: 16 ASCII bytes at 0x20 (firmware) and 8 at 0x30 (dataset) -- **our** convention
(see :mod:`cashdevice.firmware_file`); a blank or non-printable field gives None ("unchanged").
"""

from __future__ import annotations

import enum
import functools
import operator
from typing import Final

from .. import ssp

__all__ = [
    "ACK",
    "HEADER_SIZE",
    "PROGRAM_RAM",
    "DownloadSession",
    "DownloadTarget",
    "TargetPhase",
    "accept_header",
    "program_reply",
]

HEADER_SIZE: Final = 128
ACK: Final = 0x32
PROGRAM_RAM: Final = 0x03
"""PROGRAM sub-code for "RAM file" (GA973 §10.3.2); the only one modelled."""
_FIXED_38400: Final = frozenset({0x09, 0x0A})


class TargetPhase(enum.Enum):
    RAM = "ram"
    UPDATE_CODE = "update code"
    HEADER = "header"
    BLOCKS = "blocks"
    DONE = "done"
    FAILED = "failed"
    DROPPED = "dropped"


def _xor(data: bytes, start: int = 0) -> int:
    return functools.reduce(operator.xor, data, start)


def _ascii(field: bytes) -> str | None:
    text = field.rstrip(b"\x00 ")
    if not text or not all(0x20 <= b < 0x7F for b in text):
        return None
    return text.decode("ascii")


def program_reply(data: bytes, block_size: int = 4096) -> bytes:
    """Reply DATA to a PROGRAM command (``data`` includes the 0x0B byte)."""
    if len(data) != 2:
        return bytes((ssp.Response.WRONG_NO_PARAMETERS,))
    if data[1] != PROGRAM_RAM:
        return bytes((ssp.Response.PARAMETER_OUT_OF_RANGE,))
    return bytes((ssp.Response.OK,)) + block_size.to_bytes(2, "little")


def accept_header(
    header: bytes,
    *,
    block_size: int = 4096,
    device_types: frozenset[int] | None = None,
    max_bytes: int = 16 * 1024 * 1024,
    fail_at_block: int | None = None,
    drop_at_block: int | None = None,
    fail_ram: bool = False,
) -> DownloadTarget | None:
    """The device's verdict on the SSP header command: a target (reply ``F0``) or None (reply ``F9``).

    Refused: not 128 bytes, no ``"ITL"``, RAM size or byte count 0, more than ``max_bytes`` in all, or a
    device type outside ``device_types`` (None accepts any).
    """
    if len(header) != HEADER_SIZE or header[:3] != b"ITL":
        return None
    if device_types is not None and header[5] not in device_types:
        return None
    ram_size = int.from_bytes(header[7:11], "big")
    total = int.from_bytes(header[0x11:0x15], "big")
    if ram_size == 0 or total == 0 or ram_size + total > max_bytes:
        return None
    return DownloadTarget(
        header,
        block_size=block_size,
        fail_at_block=fail_at_block,
        drop_at_block=drop_at_block,
        fail_ram=fail_ram,
    )


class DownloadTarget:
    """The raw phase of one download (created by :func:`accept_header` after the header command)."""

    def __init__(
        self,
        header: bytes,
        *,
        block_size: int = 4096,
        fail_at_block: int | None = None,
        drop_at_block: int | None = None,
        fail_ram: bool = False,
    ) -> None:
        if len(header) != HEADER_SIZE:
            raise ValueError("the header is 128 bytes")
        if block_size <= 0:
            raise ValueError("block size must be positive")
        self.header = bytes(header)
        self.block_size = block_size
        self.fail_at_block = fail_at_block
        self.drop_at_block = drop_at_block
        self.fail_ram = fail_ram
        self.update_code = header[6]
        self.ram_size = int.from_bytes(header[7:11], "big")
        self.total_bytes = int.from_bytes(header[0x11:0x15], "big")
        baud = int.from_bytes(header[0x44:0x48], "big")
        self.baud = 38400 if header[5] in _FIXED_38400 or baud == 0 else baud
        """The raw-phase line rate the unit switches to after the header command."""
        self.total_blocks = -(-self.total_bytes // block_size)
        self.phase = TargetPhase.DROPPED if drop_at_block == 0 else TargetPhase.RAM
        self.reason = "line dropped during the RAM block" if drop_at_block == 0 else ""
        self.ram_received = 0
        self.current_block = 0
        """Main blocks fully received and answered."""
        self.main_received = 0
        self.bytes_fed = 0
        self._xor = 0
        self._block_fill = 0
        self._header_fill = bytearray()
        self.data = bytearray()
        """The main data as received (for tests and for the emulator to inspect)."""
        self._start_block()

    # ------------------------------------------------------------------ results

    @property
    def done(self) -> bool:
        return self.phase is TargetPhase.DONE

    @property
    def failed(self) -> bool:
        """True once the download cannot complete (checksum error, bad sequence, or a dropped line)."""
        return self.phase in (TargetPhase.FAILED, TargetPhase.DROPPED)

    @property
    def firmware_version(self) -> str | None:
        return _ascii(self.header[0x20:0x30])

    @property
    def dataset_version(self) -> str | None:
        return _ascii(self.header[0x30:0x38])

    def __repr__(self) -> str:
        return (
            f"DownloadTarget(phase={self.phase.value}, ram={self.ram_received}/{self.ram_size}, "
            f"block={self.current_block}/{self.total_blocks}, reason={self.reason!r})"
        )

    # ------------------------------------------------------------------ input

    def feed(self, data: bytes) -> bytes:
        """Consume raw bytes from the host; return the raw bytes the device sends back."""
        out = bytearray()
        view = memoryview(bytes(data))
        pos = 0
        while pos < len(view):
            phase = self.phase
            if phase in (TargetPhase.DONE, TargetPhase.FAILED, TargetPhase.DROPPED):
                break  # after the end the unit resets or is dead: bytes are ignored
            if phase is TargetPhase.RAM:
                pos = self._feed_ram(view, pos, out)
            elif phase is TargetPhase.UPDATE_CODE:
                pos = self._feed_update_code(view, pos, out)
            elif phase is TargetPhase.HEADER:
                pos = self._feed_header(view, pos, out)
            else:
                pos = self._feed_blocks(view, pos, out)
        self.bytes_fed += pos
        return bytes(out)

    def _fail(self, reason: str) -> None:
        self.phase = TargetPhase.FAILED
        self.reason = reason

    def _feed_ram(self, view: memoryview, pos: int, out: bytearray) -> int:
        take = min(self.ram_size - self.ram_received, len(view) - pos)
        chunk = bytes(view[pos : pos + take])
        self._xor = _xor(chunk, self._xor)
        self.ram_received += take
        if self.ram_received == self.ram_size:
            answer = self._xor ^ 0xFF if self.fail_ram else self._xor
            out.append(answer)
            if self.fail_ram:
                self._fail("RAM checksum made wrong (fail_ram)")
            else:
                self.phase = TargetPhase.UPDATE_CODE
        return pos + take

    def _feed_update_code(self, view: memoryview, pos: int, out: bytearray) -> int:
        if view[pos] != self.update_code:
            self._fail(f"update code 0x{view[pos]:02X}, expected 0x{self.update_code:02X}")
        else:
            out.append(ACK)
            self.phase = TargetPhase.HEADER
        return pos + 1

    def _feed_header(self, view: memoryview, pos: int, out: bytearray) -> int:
        take = min(HEADER_SIZE - len(self._header_fill), len(view) - pos)
        self._header_fill += view[pos : pos + take]
        if len(self._header_fill) == HEADER_SIZE:
            if bytes(self._header_fill) != self.header:
                self._fail("raw header differs from the header of the PROGRAM step")
            else:
                out.append(ACK)
                self.phase = TargetPhase.BLOCKS
                self._start_block()
        return pos + take

    def _start_block(self) -> None:
        self._xor = 0
        self._block_fill = 0
        if self.phase is TargetPhase.BLOCKS and self.drop_at_block == self.current_block + 1:
            self.phase = TargetPhase.DROPPED
            self.reason = f"line dropped at block {self.current_block + 1}"

    def _block_length(self) -> int:
        return min(self.block_size, self.total_bytes - self.block_size * self.current_block)

    def _feed_blocks(self, view: memoryview, pos: int, out: bytearray) -> int:
        length = self._block_length()
        if self._block_fill < length:
            take = min(length - self._block_fill, len(view) - pos)
            chunk = bytes(view[pos : pos + take])
            self._xor = _xor(chunk, self._xor)
            self.data += chunk
            self._block_fill += take
            self.main_received += take
            return pos + take
        # the byte after a complete block is the host's XOR of it
        host_xor = view[pos]
        number = self.current_block + 1
        answer = self._xor ^ 0xFF if self.fail_at_block == number else self._xor
        out.append(answer)
        if self.fail_at_block == number:
            self._fail(f"checksum of block {number} made wrong (fail_at_block)")
        elif host_xor != self._xor:
            self._fail(f"block {number}: host checksum 0x{host_xor:02X}, device 0x{self._xor:02X}")
        else:
            self.current_block = number
            if self.current_block == self.total_blocks:
                self.phase = TargetPhase.DONE
            else:
                self._start_block()
        return pos + 1


class DownloadSession:
    """The SSP side of a download for one emulated device: PROGRAM, then the header command.

    Knobs (``fail_at_block``, ``drop_at_block``, ``fail_ram``, ``refuse_header``) are plain attributes,
    read when the header arrives, so a test can set them on a running device.
    """

    def __init__(
        self,
        *,
        block_size: int = 4096,
        device_types: frozenset[int] | None = None,
        max_bytes: int = 16 * 1024 * 1024,
        fail_at_block: int | None = None,
        drop_at_block: int | None = None,
        fail_ram: bool = False,
        refuse_header: bool = False,
    ) -> None:
        self.block_size = block_size
        self.device_types = device_types
        self.max_bytes = max_bytes
        self.fail_at_block = fail_at_block
        self.drop_at_block = drop_at_block
        self.fail_ram = fail_ram
        self.refuse_header = refuse_header
        self.awaiting_header = False
        self.target: DownloadTarget | None = None
        """The running (or last) raw phase."""

    @property
    def raw(self) -> bool:
        """True while the line is in the raw phase (from the header's ``F0`` until done / failed)."""
        return self.target is not None and not (self.target.done or self.target.failed)

    def handle(self, data: bytes) -> bytes | None:
        """Reply DATA when ``data`` is PROGRAM or the awaited header; None for any other command (which
        also ends a pending PROGRAM, as the device then expects no header)."""
        if self.awaiting_header and len(data) == HEADER_SIZE:
            self.awaiting_header = False
            target = None
            if not self.refuse_header:
                target = accept_header(
                    data,
                    block_size=self.block_size,
                    device_types=self.device_types,
                    max_bytes=self.max_bytes,
                    fail_at_block=self.fail_at_block,
                    drop_at_block=self.drop_at_block,
                    fail_ram=self.fail_ram,
                )
            if target is None:
                return bytes((ssp.Response.HEADER_FAILURE,))
            self.target = target
            return bytes((ssp.Response.OK,))
        self.awaiting_header = False
        if data[:1] == bytes((ssp.Command.PROGRAM,)):
            reply = program_reply(data, self.block_size)
            self.awaiting_header = reply[:1] == bytes((ssp.Response.OK,))
            return reply
        return None

    def reset(self) -> None:
        """Power cycle / reset: forget a pending PROGRAM (the last target stays for inspection; one
        cut off in its raw phase has failed: the unit comes back in SSP)."""
        self.awaiting_header = False
        target = self.target
        if target is not None and not (target.done or target.failed):
            target._fail("reset during the raw phase")
