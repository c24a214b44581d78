"""Firmware / dataset download (C# ``DownloadFirmware``, seed L13450-L13487), run in a background thread.

The procedure (ssp-protocol.md §7.2; GA973 §10.2-§10.3 is the authority, ITL-C ``SSPDownload.c`` where
the manual is silent):

1. open the port at 9600 8N2 (exclusive) and SYNC (``11`` -> ``F0``);
2. optional eSSP key exchange (ITL-C does it when a key is given; GA973's flow has none).  A device
   that refuses the exchange is downloaded in plain (logged);
3. PROGRAM RAM ``0B 03`` -> ``F0`` + u16 LE block size (sent encrypted when a key was negotiated);
4. the 128-byte header as one SSP command (always plain, as ITL-C) -> ``F0``, or ``F9`` = wrong file;
5. the host port changes to the raw-phase rate (header field 0x44, 0 or NV9/NV10 -> 38400), waits
   ``baud_settle`` (0.5 s, ITL-C) and leaves SSP framing;
6. the RAM block in 128-byte writes; the unit answers one byte, the XOR of the RAM block;
7. wait ``ram_start`` (2.5 s, GA973) for the RAM code to run, flush input;
8. update code (header byte 6) -> ``32``; the header again, raw -> ``32``;
9. each block of *blocksize* bytes (the device's PROGRAM answer; the last block short) followed by the
   host's XOR of the block -> the unit's XOR, which must match;
10. the unit resets: close the port, reopen it at 9600 (USB units re-enumerate) and SYNC until ``F0``
    (``reset_timeout``, 10 s in GA973).

Choices where the sources differ or say nothing (our decisions):

* ``enablePacketDownload`` (seed: "Enable Packet Download", undefined): True writes every block in
  128-byte sections, each drained before the next (GA973 §10.3.5); False writes each block in one write
  (ITL-C).  The bytes on the wire are identical either way; only the write granularity differs.
* ``baudRate`` (seed: "the data transfer rate", default 115200): the unit picks the raw-phase rate from
  the file header, so the host cannot choose it; ``baudRate`` is the highest rate the host's port may
  use, and a file asking for more is refused before the port is opened.
* ``encKey``: non-zero -> key exchange with that fixed key (step 2); 0 or None -> plain (GA973's flow).
* RAM checksum: compared with the XOR of the RAM bytes sent (GA973); the file check guarantees it
  equals header byte 0x10 (ITL-C's comparison) -- see :mod:`cashdevice.firmware_file`.
* Block count: file size - 128 - RAM size divided by the device's block size, rounded up (GA973 text;
  its code rounds down but then says to send the remainder).
* ``CurrentRamBlock`` counts 128-byte RAM writes, ``CurrentDownloadBlock`` confirmed main blocks.
* A failure ends in :attr:`DownloadState.FAILED` (ours) with a message; the port is closed first.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable, Union, cast

import serial

from . import ssp
from .enums import DownloadState
from .firmware_file import (
    ACK,
    SECTION_SIZE,
    FirmwareFile,
    FirmwareFileError,
    PathLike,
    load_firmware,
    xor_checksum,
)
from .link import SSPLink
from .records import DownloadStatus
from .ssp import Command, Response, SSPError, SSPPortError, SSPReplyError, SSPTimeoutError

__all__ = [
    "DownloadFirmware",
    "DownloadTiming",
    "FirmwareDownload",
    "StateCallback",
    "BlockCallback",
    "PortBusy",
]

StateCallback = Callable[[DownloadState, str], None]
"""``on_state(state, message)`` -- UPDATING once, then COMPLETE or FAILED once."""
BlockCallback = Callable[[int, int, int, int], None]
"""``on_block(current_ram_block, total_ram_blocks, current_block, total_blocks)``."""
PortBusy = Callable[[str], bool]
"""``is_port_busy(port)``: True when the caller has a CashDevice session open on ``port``."""

SSP_BAUD = 9600


@dataclass(frozen=True)
class DownloadTiming:
    """Delays and timeouts in seconds; the defaults are the manual's (tests shorten them)."""

    baud_settle: float = 0.5
    """Pause after the host changes baud rate (ITL-C ``usleep(500000)``)."""
    ram_start: float = 2.5
    """Pause after the RAM block for the RAM code to start (GA973 §10.3.4: 2.5 s)."""
    reply_timeout: float = 1.0
    """Wait for each raw one-byte answer (GA973: 1 s; ITL-C 500 ms)."""
    ssp_timeout: float = 1.0
    """SSP reply timeout per attempt (GA973: 1000 ms)."""
    ssp_retries: int = 3
    """SSP retransmissions (GA973: RetryLevel 3)."""
    reset_timeout: float = 10.0
    """How long to SYNC after the unit resets (GA973 §10.3.6: 10 s)."""
    reopen_interval: float = 0.2
    """Pause between attempts to reopen a port that vanished during the reset (USB re-enumeration)."""


class _Abort(Exception):
    """Ends the download with a FAILED state and this message."""


class FirmwareDownload:
    """One download of ``firmware`` (a path or a :class:`FirmwareFile`) to ``address`` on ``port``.

    :meth:`start` validates everything, opens the port (exclusively) and starts a daemon thread named
    ``cashdevice-download <port>``; it returns False, logs and sends nothing when the file is invalid,
    ``is_port_busy(port)`` says a session is open, or the port cannot be opened exclusively.  Callbacks
    run in the download thread; an exception in one is logged and ignored.  The worker never raises: any
    error ends in ``FAILED`` with :attr:`message`, and the port is closed before the final callback.
    """

    def __init__(
        self,
        port: str,
        address: int,
        firmware: Union[FirmwareFile, PathLike],
        *,
        packet_mode: bool = True,
        max_baud: int = 115200,
        enc_key: int | None = ssp.DEFAULT_FIXED_KEY,
        on_state: StateCallback | None = None,
        on_block: BlockCallback | None = None,
        is_port_busy: PortBusy | None = None,
        timing: DownloadTiming | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.port = port
        self.address = address
        self.packet_mode = packet_mode
        self.max_baud = max_baud
        self.enc_key = enc_key or None
        self.on_state = on_state
        self.on_block = on_block
        self.is_port_busy = is_port_busy
        self.timing = timing or DownloadTiming()
        self.log = logger or logging.getLogger("cashdevice.download")
        self._source = firmware
        self.firmware: FirmwareFile | None = firmware if isinstance(firmware, FirmwareFile) else None
        self.block_size: int | None = None
        """The block size the device asked for (PROGRAM reply)."""
        self.raw_baud: int | None = None
        self.encrypted = False
        """True when the SSP part ran under an eSSP key."""
        self.message = ""
        """Last progress or failure message."""
        self._lock = threading.Lock()
        self._status = DownloadStatus()
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._finished = False
        self._started = False
        self._link: SSPLink | None = None
        self._thread: threading.Thread | None = None
        self._t0: float | None = None
        self._t1: float | None = None

    # ------------------------------------------------------------------ public state

    @property
    def status(self) -> DownloadStatus:
        """``downloadStatus``: a frozen snapshot."""
        with self._lock:
            return self._status

    @property
    def is_running(self) -> bool:
        """``isDownloading``: started and not yet COMPLETE / FAILED."""
        return self._started and not self._finished

    @property
    def succeeded(self) -> bool:
        return self.status.State is DownloadState.COMPLETE

    @property
    def elapsed(self) -> float | None:
        """Seconds from :meth:`start` to the end (or to now while running); None before start."""
        if self._t0 is None:
            return None
        return (self._t1 if self._t1 is not None else time.monotonic()) - self._t0

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the download ended (final callback included); True if it did within ``timeout``."""
        if not self._started:
            return True
        return self._done.wait(timeout)

    def cancel(self) -> None:
        """Ask the worker to stop at the next section boundary (ends FAILED, "cancelled")."""
        self._cancel.set()

    def __repr__(self) -> str:
        s = self.status
        return (
            f"FirmwareDownload({self.port!r}, address=0x{self.address:02X}, state={s.State.name}, "
            f"ram={s.CurrentRamBlock}/{s.TotalRamBlocks}, "
            f"blocks={s.CurrentDownloadBlock}/{s.TotalDownloadBlocks})"
        )

    # ------------------------------------------------------------------ start

    def start(self) -> bool:
        """Validate and start; True once the download thread runs (C# "successfully initiated")."""
        if self._started:
            return self._refuse("this download was already started")
        if not 0 <= self.address <= ssp.MAX_ADDRESS:
            return self._refuse(f"SSP address {self.address} out of range 0..{ssp.MAX_ADDRESS}")
        if self.firmware is None:
            try:
                self.firmware = load_firmware(cast(PathLike, self._source))
            except FirmwareFileError as exc:
                return self._refuse(f"invalid download file: {exc}")
        fw = self.firmware
        self.raw_baud = fw.header.download_baud
        if self.raw_baud > self.max_baud:
            return self._refuse(f"the file needs {self.raw_baud} baud, more than the allowed {self.max_baud}")
        if self.is_port_busy is not None:
            try:
                busy = self.is_port_busy(self.port)
            except Exception:
                self.log.exception("is_port_busy(%r) failed", self.port)
                busy = True
            if busy:
                return self._refuse(f"a CashDevice session is open on {self.port}; close it first")
        try:
            self._link = SSPLink(
                self.port,
                baudrate=SSP_BAUD,
                timeout=self.timing.ssp_timeout,
                retries=self.timing.ssp_retries,
                logger=self.log.getChild("link"),
            )
        except SSPPortError as exc:
            return self._refuse(f"port busy or unavailable: {exc}")
        self._started = True
        self._t0 = time.monotonic()
        with self._lock:
            self._status = DownloadStatus(
                DownloadState.IDLE,
                TotalRamBlocks=fw.ram_sections,
                TotalDownloadBlocks=fw.block_count(fw.header.block_size),
            )
        name = f"cashdevice-download {self.port}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        try:
            self._thread.start()
        except RuntimeError as exc:  # cannot start a thread: release the port
            self._link.close()
            self._started = False
            return self._refuse(f"cannot start the download thread: {exc}")
        return True

    def _refuse(self, message: str) -> bool:
        self.message = message
        self.log.error("download to %s not started: %s", self.port, message)
        return False

    # ------------------------------------------------------------------ worker

    def _run(self) -> None:
        fw = self.firmware
        assert fw is not None and self._link is not None
        final = DownloadState.FAILED
        try:
            self._set_state(DownloadState.UPDATING, f"downloading {fw.name or 'file'} to {self.port}")
            self._download(self._link, fw)
            final, self.message = DownloadState.COMPLETE, "download complete, device answered SYNC"
        except _Abort as exc:
            self.message = str(exc)
        except SSPTimeoutError as exc:
            self.message = f"device stopped answering: {exc}"
        except (SSPError, serial.SerialException, OSError) as exc:
            self.message = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # never let an exception out of the thread
            self.log.exception("download to %s crashed", self.port)
            self.message = f"internal error: {type(exc).__name__}: {exc}"
        finally:
            try:
                self._link.close()
            except Exception:  # pragma: no cover - close is best effort
                self.log.exception("closing %s", self.port)
            self._t1 = time.monotonic()
            self._finished = True
            if final is DownloadState.FAILED:
                self.log.error("download to %s failed: %s", self.port, self.message)
            else:
                elapsed = self._t1 - (self._t0 or self._t1)
                self.log.info("download to %s complete in %.1f s", self.port, elapsed)
            self._set_state(final, self.message)
            self._done.set()

    def _download(self, link: SSPLink, fw: FirmwareFile) -> None:
        timing = self.timing
        addr = self.address
        with link.lock:
            # 1-2: SYNC, optional key exchange
            link.sync(addr)
            if self.enc_key is not None:
                try:
                    link.negotiate_key(addr, self.enc_key)
                    self.encrypted = True
                except SSPReplyError as exc:
                    self.log.warning("key exchange refused (%s); downloading in plain", exc)
                    link.set_key(addr, None)
            # 3: PROGRAM RAM
            reply = link.transact(addr, bytes((Command.PROGRAM, 0x03)))
            if len(reply) < 3 or reply[0] != Response.OK:
                raise _Abort(f"PROGRAM (0B 03) refused: {_describe(reply)}")
            block_size = int.from_bytes(reply[1:3], "little")
            if block_size == 0:
                raise _Abort("PROGRAM reply gives block size 0")
            if block_size != fw.header.block_size:
                self.log.warning(
                    "device block size %d differs from the file's %d; using the device's (GA973)",
                    block_size,
                    fw.header.block_size,
                )
            self.block_size = block_size
            total_blocks = fw.block_count(block_size)
            self._update(TotalDownloadBlocks=total_blocks)
            # 4: header as an SSP command, plain (ITL-C)
            reply = link.transact(addr, fw.header.raw, encrypt=False)
            if reply[:1] == bytes((Response.HEADER_FAILURE,)):
                raise _Abort("device refused the file header (F9 HEADER FAILURE): wrong file for this unit")
            if reply[:1] != bytes((Response.OK,)):
                raise _Abort(f"header command refused: {_describe(reply)}")
            # 5: raw phase at the download rate
            port = cast(serial.Serial, link.serial)
            raw_baud = fw.header.download_baud
            try:
                port.baudrate = raw_baud
            except (serial.SerialException, OSError, ValueError) as exc:
                raise _Abort(f"cannot set {raw_baud} baud: {exc}") from exc
            self._pause(timing.baud_settle)
            port.reset_input_buffer()
            # 6: RAM block
            ram = fw.ram_block
            total_ram = fw.ram_sections
            for index in range(total_ram):
                self._check_cancel()
                self._write(port, ram[index * SECTION_SIZE : (index + 1) * SECTION_SIZE])
                self._update(CurrentRamBlock=index + 1)
                self._block(index + 1, total_ram, 0, total_blocks)
            expected = xor_checksum(ram)
            answer = self._read_byte(port, "the RAM block")
            if answer != expected:
                raise _Abort(f"RAM checksum mismatch: device 0x{answer:02X}, file 0x{expected:02X}")
            # 7: let the RAM code start
            self._pause(timing.ram_start)
            port.reset_input_buffer()
            # 8: update code and header, raw
            self._write(port, bytes((fw.header.update_code,)))
            answer = self._read_byte(port, "the update code")
            if answer != ACK:
                raise _Abort(f"update code not acknowledged: 0x{answer:02X} instead of 0x{ACK:02X}")
            self._write(port, fw.header.raw)
            answer = self._read_byte(port, "the raw header")
            if answer != ACK:
                raise _Abort(f"raw header not acknowledged: 0x{answer:02X} instead of 0x{ACK:02X}")
            # 9: blocks with XOR checks
            for number, block in enumerate(fw.blocks(block_size), start=1):
                self._check_cancel()
                if self.packet_mode:
                    for start in range(0, len(block), SECTION_SIZE):
                        self._check_cancel()
                        self._write(port, block[start : start + SECTION_SIZE])
                else:
                    self._write(port, block)
                check = xor_checksum(block)
                self._write(port, bytes((check,)))
                answer = self._read_byte(port, f"block {number} of {total_blocks}")
                if answer != check:
                    raise _Abort(
                        f"checksum mismatch at block {number} of {total_blocks}: "
                        f"device 0x{answer:02X}, host 0x{check:02X}"
                    )
                self._update(CurrentDownloadBlock=number)
                self._block(total_ram, total_ram, number, total_blocks)
            # 10: the unit resets; back to 9600 and SYNC until it answers
            self._await_restart(link)

    def _await_restart(self, link: SSPLink) -> None:
        link.close()
        deadline = time.monotonic() + self.timing.reset_timeout
        last = "no attempt"
        while time.monotonic() < deadline:
            self._check_cancel()
            try:
                link.open()
                link.sync(self.address)
                return
            except SSPTimeoutError as exc:
                last = f"no answer to SYNC ({exc})"
            except SSPError as exc:  # port vanished (USB re-enumeration) or a bad reply
                last = str(exc)
                link.close()
                self._pause(self.timing.reopen_interval)
        raise _Abort(
            f"device did not come back within {self.timing.reset_timeout:g} s after the download: {last}"
        )

    # ------------------------------------------------------------------ helpers

    def _check_cancel(self) -> None:
        if self._cancel.is_set():
            raise _Abort("cancelled")

    def _pause(self, seconds: float) -> None:
        if seconds > 0 and self._cancel.wait(seconds):
            raise _Abort("cancelled")

    def _write(self, port: serial.Serial, data: bytes) -> None:
        port.write(data)
        port.flush()  # drain: the reply timeout starts once the bytes are on the line

    def _read_byte(self, port: serial.Serial, what: str) -> int:
        port.timeout = self.timing.reply_timeout
        data = port.read(1)
        if not data:
            raise _Abort(f"no answer to {what} within {self.timing.reply_timeout:g} s (line dropped?)")
        return data[0]

    def _update(self, **fields: int) -> None:
        with self._lock:
            self._status = replace(self._status, **fields)  # type: ignore[arg-type]

    def _set_state(self, state: DownloadState, message: str) -> None:
        with self._lock:
            self._status = replace(self._status, State=state)
        if self.on_state is not None:
            try:
                self.on_state(state, message)
            except Exception:
                self.log.exception("download on_state callback failed")

    def _block(self, ram: int, total_ram: int, block: int, total_blocks: int) -> None:
        if self.on_block is not None:
            try:
                self.on_block(ram, total_ram, block, total_blocks)
            except Exception:
                self.log.exception("download on_block callback failed")


def _describe(reply: bytes) -> str:
    if not reply:
        return "empty reply"
    try:
        return f"{Response(reply[0]).name} ({reply.hex(' ')})"
    except ValueError:
        return reply.hex(" ")


def DownloadFirmware(
    comPort: str,
    sspAddress: int,
    downloadFile: PathLike,
    enablePacketDownload: bool = True,
    baudRate: int = 115200,
    encKey: int = ssp.DEFAULT_FIXED_KEY,
    *,
    on_state: StateCallback | None = None,
    on_block: BlockCallback | None = None,
    is_port_busy: PortBusy | None = None,
    timing: DownloadTiming | None = None,
) -> bool:
    """C# ``public bool DownloadFirmware(string comPort, byte sspAddress, string downloadFile, bool
    enablePacketDownload = true, int baudRate = 115200, UInt64 encKey = 0x0123456701234567)`` (L13456).

    True once the download thread runs; progress only through the callbacks.  Use
    :class:`FirmwareDownload` directly to keep a handle (status, wait, cancel).
    """
    return FirmwareDownload(
        comPort,
        sspAddress,
        downloadFile,
        packet_mode=enablePacketDownload,
        max_baud=baudRate,
        enc_key=encKey,
        on_state=on_state,
        on_block=on_block,
        is_port_busy=is_port_busy,
        timing=timing,
    ).start()
