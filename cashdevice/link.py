"""The SSP serial link: the only code in cashdevice that touches a port.

One :class:`SSPLink` owns one port (anything :func:`serial.serial_for_url` opens: a device
path, ``socket://host:port``, ``rfc2217://...``, ``spy://...``, ``hwgrep://...`` and the
emulator's URLs) and performs whole transactions for one or more slave addresses on it.

Rules it implements (ssp-protocol.md §1.5, §1.6, §2.5; GA138 transport chapter; GA973 §3):

* per address, a sequence flag that toggles only after a valid reply; SYNC is always sent
  with flag 1, so the next command after it goes out with flag 0;
* a reply must repeat the command's SEQ/ID byte; anything else on the line is ignored
  (counted in ``counters.ignored``);
* on a timeout the identical bytes are sent again (same flag; for eSSP the same ciphertext
  and eCOUNT) until the transaction deadline (``deadline``, default ``timeout`` x
  (``retries`` + 1)) has passed *and* at least ``retries`` retransmissions were made, then
  :class:`LinkTimeoutError` (an :class:`~cashdevice.ssp.SSPTimeoutError`).  A retransmission
  goes out as soon as an attempt has clearly failed: after a broken reply (bytes that did not
  make a valid packet, then a quiet line) or after the attempt wait, which adapts to how fast
  the device has been answering (``timeout`` at most, :data:`MIN_ATTEMPT_WAIT` at least),
  plus, for a long packet, the line time of its bytes beyond a short one's (at the port's
  rate, 11 bits a byte: it is still going out when a short packet would have its answer); a
  reply still arriving at the end of the wait may finish;
* a transaction that fails is kept as *abandoned*: the device may have run the command and
  cached its reply.  That holds for a port that fails once the packet is on its way (a USB
  cable pulled: :class:`LinkPortLostError`) as for a deadline that passes.  If the next
  command to that address is the same command (the poll thread polls again), the abandoned
  packet is sent again byte for byte, so that a device that ran it answers from its cache (a
  poll reply with a credit in it is never lost) and one that did not runs it now.  Any other
  command would be taken for a retransmission and answered with the stale reply (GA138
  transport chapter), so SYNC goes first.  If the abandoned command was
  encrypted, the device's eCOUNT is then unknown (it advances only if the command arrived):
  :meth:`SSPLink.count_uncertain` says so until a new key is installed, and encrypted
  transactions are refused (:class:`~cashdevice.ssp.SSPEncryptionError`) until then;
* per address an optional eSSP session (AES key, eCOUNT).  While one exists every command
  except SYNC and the three key-exchange commands is encrypted; an encrypted reply must
  carry eCOUNT = sent + 1, after which the host count becomes sent + 1 (+1 per exchange).
  A plain reply to an encrypted command (e.g. ``FA`` KEY NOT SET) is returned as is and
  leaves the count alone;
* one re-entrant lock per port: threads interleave whole transactions, never bytes.  Hold
  :attr:`SSPLink.lock` to make a sequence of transactions atomic;
* counters of packets sent, retries, timeouts, CRC errors, ignored replies;
* raw-packet tracing: wire bytes both ways to ``trace`` / the ``<logger>.raw`` child at
  DEBUG; decrypted payloads only when ``log_decrypted`` is set; key material never.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol, cast

import serial
from serial.serialutil import SerialBase

from . import ssp
from ._fdport import FdPort, fd_port
from .frame_names import FrameNamer
from .ssp import (
    Command,
    Response,
    SSPEncryptionError,
    SSPPortError,
    SSPReplyError,
    SSPTimeoutError,
)

__all__ = [
    "DEFAULT_RETRIES",
    "Attempt",
    "DEFAULT_TIMEOUT",
    "MIN_ATTEMPT_WAIT",
    "LinkCounters",
    "LinkPortLostError",
    "LinkReplyUnreadableError",
    "LinkTimeoutError",
    "SSPLink",
    "TraceHook",
]

DEFAULT_TIMEOUT = 1.0
"""Reply timeout per attempt in seconds (GA973: 1000 ms)."""
DEFAULT_RETRIES = 3
"""Retransmissions after the first attempt (GA973: RetryLevel 3)."""
MIN_ATTEMPT_WAIT = 0.05
"""The shortest wait for a reply before the identical bytes are sent again (seconds)."""
_QUIET_GAP = 0.02
"""Silence after a broken reply that ends the attempt early (seconds, plus 2 byte times)."""
_BITS_PER_BYTE = 11
"""8N2: a start bit, 8 data bits, 2 stop bits."""
_LONGEST_FRAME = 260
"""STX, SEQ/ID, LEN, 255 DATA bytes, CRC: the most a reply can take on the line (unstuffed)."""
_SHORT_PACKET = 32
"""The attempt wait adapts to replies that mostly follow short packets (an encrypted POLL is 22
bytes on the wire); a longer packet's bytes beyond this add their line time to it."""
_LATENCY_SAMPLES = 32
_CACHED_DATA_BYTES = 8
"""Plain commands up to this many DATA bytes keep their built packets (POLL, SYNC, ENABLE ...)."""
_CACHED_PACKETS = 32
"""Packets kept per address and flag (the cache starts over when full)."""
_monotonic = time.monotonic

TraceHook = Callable[[bool, bytes], None]
"""``trace(sending, wire_bytes)``: called for every packet written and every packet read."""

_PLAIN_ALWAYS = frozenset(
    {Command.SYNC, Command.SET_GENERATOR, Command.SET_MODULUS, Command.REQUEST_KEY_EXCHANGE}
)


class _Port(Protocol):
    """What the link uses of a pyserial port (``in_waiting`` lives on the concrete classes)."""

    port: str | None
    timeout: float | None

    @property
    def is_open(self) -> bool: ...
    @property
    def in_waiting(self) -> int: ...
    def read(self, size: int = ...) -> bytes: ...
    def write(self, data: bytes, /) -> int | None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


@dataclass
class LinkCounters:
    """Traffic statistics of one link (all monotonically increasing)."""

    transactions: int = 0
    sent: int = 0
    """Packets written, retransmissions included."""
    retries: int = 0
    timeouts: int = 0
    """Transactions that failed after the retry limit."""
    received: int = 0
    """Valid replies accepted."""
    ignored: int = 0
    """Valid packets whose SEQ/ID did not match the command."""
    crc_errors: int = 0
    stale_bytes: int = 0
    """Bytes found waiting before a command was sent (flushed)."""
    encryption_errors: int = 0
    resyncs: int = 0
    """SYNCs sent by the link itself after a failed transaction."""
    early_retries: int = 0
    """Retransmissions sent before the attempt wait ran out (a broken reply was seen)."""


class LinkTimeoutError(SSPTimeoutError):
    """No valid reply before the transaction deadline.

    ``heard`` counts the bytes that arrived from the line during the transaction: a device that
    is there but whose replies are damaged by noise (``heard > 0``) is not the same as silence
    (an unplugged cable, a device without power).
    """

    def __init__(
        self, message: str, address: int, attempts: int, frames: tuple[str, ...] = (), heard: int = 0
    ) -> None:
        super().__init__(message, address, attempts, frames)
        self.heard = heard


class LinkPortLostError(SSPPortError):
    """The port failed (a read or write error: a USB cable pulled) while a transaction's packet
    was on its way.  Unlike a port that was not open, the device may have received the command,
    run it and cached its reply: the transaction is kept as abandoned, like one that timed out,
    and a caller treats the command as possibly run (a payout command: the payout may be under
    way)."""


class LinkReplyUnreadableError(SSPEncryptionError):
    """A reply came whole (its CRC good) but did not decrypt or carried the wrong eCOUNT, and did
    so again when the identical packet went once more (the device answers a retransmission from
    its cache).  The device received the command and may have run it: a caller treats the
    command as possibly run (a payout command: the payout may be under way).  The count is then
    unknown, so the next encrypted command negotiates a new key first."""


class _Session:
    __slots__ = ("cipher", "count", "key")

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.cipher = ssp.ESSPCipher(key)
        """One AES object for the whole session (building one per packet cost ~20 % of an exchange)."""
        self.count = 0


class _Abandoned:
    __slots__ = ("data", "encrypted", "wire")

    def __init__(self, data: bytes, wire: bytes, encrypted: bool) -> None:
        self.data = data
        self.wire = wire
        self.encrypted = encrypted


class _AddressState:
    __slots__ = ("abandoned", "count_uncertain", "seq_flag", "session", "wires")

    def __init__(self) -> None:
        self.seq_flag = False
        self.wires: tuple[dict[bytes, bytes], dict[bytes, bytes]] = ({}, {})
        """Plain packets already built, by flag (index 0: flag 0) and command DATA."""
        self.session: _Session | None = None
        self.abandoned: _Abandoned | None = None
        """The last transaction failed: resend it as it was, or SYNC before another command."""
        self.count_uncertain = False
        """An abandoned encrypted transaction was given up: the device's eCOUNT is unknown."""


class SSPLink:
    """One serial port and the SSP transactions on it.

    ``port`` is a pyserial URL or path (opened 9600 8N2 by default with
    ``exclusive=True``) or an already configured :class:`SerialBase`.  ``timeout`` is
    the reply timeout per attempt, ``retries`` the number of retransmissions after it.
    """

    def __init__(
        self,
        port: str | SerialBase,
        *,
        baudrate: int = 9600,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        deadline: float | None = None,
        logger: logging.Logger | None = None,
        trace: TraceHook | None = None,
        open_now: bool = True,
        **serial_kwargs: Any,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        if deadline is not None and deadline <= 0:
            raise ValueError("deadline must be positive")
        self.timeout = timeout
        self.retries = retries
        self.deadline = deadline
        """Seconds one transaction may keep retransmitting (None: ``timeout * (retries + 1)``)."""
        self._latencies: collections.deque[float] = collections.deque(maxlen=_LATENCY_SAMPLES)
        self._slowest = 0.0
        """``max(self._latencies)``, kept up to date by :meth:`_timed` (0 while none)."""
        self.trace = trace
        self.log_raw = False
        """Log wire packets (both ways) at DEBUG on ``<logger>.raw``."""
        self.log_decrypted = False
        """Also log decrypted eSSP payloads (off by default; keys are never logged)."""
        self.counters = LinkCounters()
        self.lock = threading.RLock()
        self.log = logger or logging.getLogger("cashdevice.link")
        self._raw_log = self.log.getChild("raw")
        self._parser = ssp.PacketParser()
        self._frames: collections.deque[tuple[bool, bytes | ssp.Packet]] = collections.deque(maxlen=16)
        self._fd: FdPort | None = None
        self._addresses: dict[int, _AddressState] = {}
        self._url: str | None
        if isinstance(port, SerialBase):
            self._serial: _Port | None = cast(_Port, port)
            self._url = port.port
        else:
            self._serial = None
            self._url = port
            self._baudrate = baudrate
            self._serial_kwargs = serial_kwargs
            if open_now:
                self.open()

    # ----------------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str | None:
        return self._url

    @property
    def is_open(self) -> bool:
        return self._serial is not None and self._serial.is_open

    @property
    def serial(self) -> _Port:
        """The underlying port (raises :class:`SSPPortError` when closed)."""
        if self._serial is None or not self._serial.is_open:
            raise SSPPortError(f"port {self._url!r} is not open")
        return self._serial

    def open(self) -> None:
        """Open the port (idempotent).  Raises :class:`SSPPortError` on failure."""
        with self.lock:
            if self.is_open:
                return
            if self._url is None:
                raise SSPPortError("no port to open")
            kwargs: dict[str, Any] = {
                "baudrate": self._baudrate,
                "bytesize": serial.EIGHTBITS,
                "parity": serial.PARITY_NONE,
                "stopbits": serial.STOPBITS_TWO,
                "timeout": self.timeout,
                "exclusive": True,
            }
            kwargs.update(self._serial_kwargs)
            try:
                self._serial = cast(_Port, serial.serial_for_url(self._url, **kwargs))
            except (serial.SerialException, OSError, ValueError) as exc:
                raise SSPPortError(f"cannot open {self._url!r}: {exc}") from exc
            self._fd = fd_port(self._serial)
            self._parser.reset()

    def close(self, *, forget: bool = True) -> None:
        """Close the port (idempotent).  Sequence flags, eSSP sessions and abandoned transactions
        are forgotten unless ``forget=False`` (a port that vanished and will be reopened to the
        same device, which may still hold the reply to an abandoned poll)."""
        with self.lock:
            port, self._serial = self._serial, None
            self._fd = None
            if forget:
                self._addresses.clear()
            if port is not None:
                try:
                    port.close()
                except (serial.SerialException, OSError) as exc:  # pragma: no cover - best effort
                    self.log.debug("closing %s: %s", self._url, exc)

    def __enter__(self) -> SSPLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "open" if self.is_open else "closed"
        name = type(self).__name__
        return f"{name}({self._url!r}, timeout={self.timeout}, retries={self.retries}, {state})"

    # ----------------------------------------------------------------------- per-address state

    def _state(self, address: int) -> _AddressState:
        state = self._addresses.get(address)
        if state is None:
            state = self._addresses[address] = _AddressState()
        return state

    def seq_flag(self, address: int) -> bool:
        """The flag the next new command to ``address`` will carry."""
        with self.lock:
            return self._state(address).seq_flag

    def encrypted(self, address: int) -> bool:
        """True while an eSSP session is installed for ``address``."""
        with self.lock:
            return self._state(address).session is not None

    def ecount(self, address: int) -> int | None:
        """The eCOUNT the next encrypted command to ``address`` will carry (None if plain)."""
        with self.lock:
            session = self._state(address).session
            return None if session is None else session.count

    def abandoned_command(self, address: int) -> int | None:
        """The command code of the abandoned transaction to ``address`` (None if the last one
        succeeded): sending the same command again resends it byte for byte."""
        with self.lock:
            abandoned = self._state(address).abandoned
            return None if abandoned is None else abandoned.data[0]

    def unsettled(self, address: int) -> bool:
        """True if a transaction to ``address`` was abandoned or its eCOUNT is unknown: only then
        can :meth:`abandoned_command` or :meth:`needs_new_key` say anything (a caller asks this
        first, once, on every command; the usual answer is False)."""
        state = self._addresses.get(address)
        return state is None or state.abandoned is not None or state.count_uncertain

    def needs_new_key(self, address: int, data: bytes) -> bool:
        """True if ``data`` is an encrypted command that would leave the eCOUNT unknown or meets
        it unknown: an encrypted transaction was abandoned and ``data`` is another command (or
        the count is already uncertain).  Negotiate a key first.  SYNC and the key exchange,
        always plain, never need one."""
        with self.lock:
            state = self._state(address)
            if state.session is None or not data or data[0] in _PLAIN_ALWAYS:
                return False
            if state.count_uncertain:
                return True
            abandoned = state.abandoned
            return abandoned is not None and abandoned.encrypted and abandoned.data != bytes(data)

    def forget_abandoned(self, address: int) -> None:
        """Give up an abandoned transaction (the device reset: its cached reply is gone)."""
        with self.lock:
            self._state(address).abandoned = None

    @property
    def transaction_deadline(self) -> float:
        """Seconds one transaction keeps retransmitting: ``deadline``, or ``timeout * (retries + 1)``."""
        return self.deadline if self.deadline is not None else self.timeout * (self.retries + 1)

    def count_uncertain(self, address: int) -> bool:
        """True after a failed encrypted transaction: the device's eCOUNT is unknown until a new
        key is negotiated (encrypted commands are refused until then)."""
        with self.lock:
            state = self._state(address)
            return state.session is not None and state.count_uncertain

    def attempt_wait(self) -> float:
        """How long one attempt waits for a reply before the identical bytes go again: three
        times the slowest of the recent replies, between :data:`MIN_ATTEMPT_WAIT` and
        ``timeout`` (``timeout`` until a reply has been timed)."""
        if not self._latencies:
            return self.timeout
        return min(self.timeout, max(MIN_ATTEMPT_WAIT, 3 * self._slowest))

    def _wait_for(self, wire: bytes) -> float:
        """How long one attempt of ``wire`` waits for its reply: :meth:`attempt_wait`, plus the
        line time of a long packet's bytes beyond a short one's (it is still going out when a
        short packet would have its answer)."""
        wait = self.attempt_wait()
        if len(wire) > _SHORT_PACKET:
            wait += (len(wire) - _SHORT_PACKET) * self._byte_time()
        return wait

    def _timed(self, latency: float) -> None:
        """One more reply latency (the oldest of :data:`_LATENCY_SAMPLES` drops out)."""
        latencies = self._latencies
        dropped = latencies[0] if len(latencies) == _LATENCY_SAMPLES else -1.0
        latencies.append(latency)
        if latency >= self._slowest:
            self._slowest = latency
        elif dropped >= self._slowest:
            self._slowest = max(latencies)  # the slowest one left: look again

    def set_key(self, address: int, key: bytes | None, count: int = 0) -> None:
        """Install (or with ``None`` drop) the 16-byte AES key for ``address``."""
        with self.lock:
            state = self._state(address)
            state.count_uncertain = False
            if key is None:
                state.session = None
                return
            if len(key) != 16:
                raise ValueError("an eSSP key is 16 bytes")
            state.session = _Session(bytes(key))
            state.session.count = count

    # ----------------------------------------------------------------------- transactions

    def transact(self, address: int, data: bytes, *, encrypt: bool | None = None) -> bytes:
        """Send one command to ``address`` and return the reply's DATA (decrypted).

        ``encrypt=None`` encrypts when a session exists (SYNC and key-exchange commands are
        always plain); ``True`` requires a session; ``False`` forces plain.  Raises
        :class:`LinkTimeoutError` after the deadline, :class:`SSPEncryptionError` for a reply
        that does not decrypt or carries the wrong eCOUNT (and for an encrypted command while
        :meth:`count_uncertain`), :class:`SSPPortError` when the port is closed or fails
        (:class:`LinkPortLostError` once the packet was on its way: kept as abandoned),
        ``ValueError`` for an invalid command.
        """
        if type(data) is not bytes:
            data = bytes(data)
        if not data:
            raise ValueError("empty command")
        code = data[0]
        with self.lock:
            port = self._serial
            if port is None or not port.is_open:
                raise SSPPortError(f"port {self._url!r} is not open")
            state = self._addresses.get(address)
            if state is None:
                state = self._state(address)
            abandoned = state.abandoned
            if abandoned is not None and abandoned.data == data and code != Command.SYNC:
                # the same command again: resend the abandoned packet as it was
                self.counters.transactions += 1
                self._flush_stale(port)
                self.log.debug("resending the abandoned 0x%02X to 0x%02X", code, address)
                wire = abandoned.wire
                reply = self._exchange(port, address, code, wire, wire[1], state, data)
                return self._settle(port, address, code, wire, state, data, reply, abandoned.encrypted)
            if code == Command.SYNC:
                self._drop_abandoned(state)
                state.seq_flag = True
            elif abandoned is not None:
                self._resync(address, state)
            use_enc, wire = self._packet(address, state, data, encrypt)
            self.counters.transactions += 1
            self._flush_stale(port)
            try:
                reply = self._exchange(
                    port, address, code, wire, (address | 0x80) if state.seq_flag else address, state, data
                )
            except (LinkTimeoutError, LinkPortLostError):
                # no reply came, or the port failed (a USB cable pulled) once the packet was on
                # its way: the device may have run the command, and its reply (a COIN CREDIT it
                # never repeats) may wait in its cache.  The same packet goes again first.
                state.abandoned = _Abandoned(data, wire, use_enc)
                raise
            return self._settle(port, address, code, wire, state, data, reply, use_enc)

    def _settle(
        self,
        port: _Port,
        address: int,
        code: int,
        wire: bytes,
        state: _AddressState,
        data: bytes,
        reply: ssp.Packet,
        use_enc: bool,
    ) -> bytes:
        """The reply to ``wire`` arrived: the transaction is over (:meth:`_accept`).  An encrypted
        reply that does not open (its eSSP CRC or eCOUNT wrong: damage the packet CRC missed) is
        treated as a broken reply: the identical packet goes once more, and the device answers
        it from its cache.  If that reply does not open either, :class:`LinkReplyUnreadableError`
        (the device has the command; the count is unknown from here)."""
        try:
            return self._accept(address, state, reply, use_enc)
        except SSPEncryptionError as first:
            if state.session is None:
                raise
            self.counters.retries += 1
            self.log.debug("reply to 0x%02X did not open (%s); the same bytes again", code, first)
        try:
            reply = self._exchange(port, address, code, wire, reply.seq_id, state, data)
        except (LinkTimeoutError, LinkPortLostError):
            state.abandoned = _Abandoned(data, wire, use_enc)
            raise
        try:
            return self._accept(address, state, reply, use_enc)
        except SSPEncryptionError as exc:
            state.abandoned = None
            state.seq_flag = not state.seq_flag
            state.count_uncertain = True
            raise LinkReplyUnreadableError(
                f"reply from 0x{address:02X} to command 0x{code:02X} unreadable twice: {exc}"
            ) from exc

    def _packet(
        self, address: int, state: _AddressState, data: bytes, encrypt: bool | None
    ) -> tuple[bool, bytes]:
        """Whether ``data`` goes encrypted, and its packet with the address's current flag."""
        session = state.session
        if encrypt is None:
            use_enc = session is not None and data[0] not in _PLAIN_ALWAYS
        else:
            use_enc = encrypt
            if use_enc and session is None:
                raise SSPEncryptionError(f"no eSSP key for address 0x{address:02X}")
        flag = state.seq_flag
        if use_enc:
            assert session is not None
            if state.count_uncertain:
                raise SSPEncryptionError(
                    f"eCOUNT of 0x{address:02X} unknown after a failed exchange; negotiate a new key"
                )
            return True, ssp.encode_packet(address, flag, session.cipher.encrypt(session.count, data))
        # a plain packet depends only on (address, flag, data): repeated POLLs reuse it
        wires = state.wires[flag]
        wire = wires.get(data)
        if wire is None:
            wire = ssp.encode_packet(address, flag, data)
            if len(data) <= _CACHED_DATA_BYTES:
                if len(wires) >= _CACHED_PACKETS:
                    wires.clear()
                wires[data] = wire
        return False, wire

    def _accept(self, address: int, state: _AddressState, reply: ssp.Packet, use_enc: bool) -> bytes:
        """A valid reply: decrypted and its count checked, then the transaction is over (flag
        toggled).  A reply that does not open leaves the transaction as it was."""
        result = reply.data
        if use_enc:
            session = state.session
            if session is None:
                raise SSPEncryptionError(f"eSSP key of 0x{address:02X} gone")
            result = self._open_reply(address, session, result)
        self.counters.received += 1
        state.abandoned = None
        state.seq_flag = not state.seq_flag
        return result

    def _drop_abandoned(self, state: _AddressState) -> None:
        if state.abandoned is not None and state.abandoned.encrypted:
            state.count_uncertain = True
        state.abandoned = None

    def _exchange(
        self,
        port: _Port,
        address: int,
        code: int,
        wire: bytes,
        seq_id: int,
        state: _AddressState,
        data: bytes,
    ) -> ssp.Packet:
        """Send ``wire`` until its reply arrives or the deadline passes (identical bytes).

        An attempt writes the packet, then reads until the reply with ``seq_id`` arrives or the
        attempt is over: the attempt wait passed, or bytes arrived that made no valid reply and
        the line then fell quiet.  One loop, no calls per attempt beyond the I/O and the parser:
        a reply that is all there when the line turns readable costs one ``poll`` and one
        ``read``.  The CRC errors the parser counted go to :attr:`counters`."""
        fd = self._fd
        parser = self._parser
        counters = self.counters
        frames = self._frames
        record = self.log_raw or self.trace is not None
        # (the latencies change only when a reply arrives, which ends this)
        wait = self._wait_for(wire)
        byte_time = -1.0  # (the line's pace: needed only once bytes came that made no reply)
        attempts = 0
        heard = 0
        give_up = 0.0
        crc_before = parser.counters.crc_errors
        try:
            while True:
                if attempts:
                    counters.retries += 1
                    parser.reset()
                    self.log.debug("retry %d to 0x%02X (same bytes)", attempts, address)
                frames.append((True, wire))
                if record:
                    self._record(True, wire)
                try:
                    if fd is not None:
                        fd.write(wire)
                    else:
                        port.write(wire)
                        port.flush()
                except (serial.SerialException, OSError) as exc:
                    raise LinkPortLostError(f"{self._url}: write failed: {exc}") from exc
                counters.sent += 1
                now = sent_at = last_byte = _monotonic()
                if not attempts:
                    give_up = sent_at + self.transaction_deadline
                attempts += 1
                deadline = sent_at + wait
                got = 0
                while True:
                    remaining = deadline - now
                    if got:
                        # bytes came but no reply for us yet: a line quiet for two bytes' time
                        # (and a gap) after them means the reply was broken on the way; while they
                        # keep coming, a long reply may finish (up to the longest frame's line time)
                        if byte_time < 0:
                            byte_time = self._byte_time()
                        remaining = min(
                            deadline + _LONGEST_FRAME * byte_time - now,
                            last_byte + _QUIET_GAP + 2 * byte_time - now,
                        )
                    if remaining <= 0:
                        if got and now < deadline:
                            counters.early_retries += 1
                        break
                    try:
                        chunk = fd.read(remaining) if fd is not None else self._read(port, remaining)
                    except (serial.SerialException, OSError) as exc:
                        raise LinkPortLostError(f"{self._url}: read failed: {exc}") from exc
                    now = _monotonic()
                    if not chunk:
                        continue
                    got += len(chunk)
                    last_byte = now
                    packet = self._take(chunk, seq_id, record)
                    if packet is not None:
                        self._timed(last_byte - sent_at)
                        return packet
                heard += got
                if attempts > self.retries and _monotonic() >= give_up:
                    break
        finally:
            crc_errors = parser.counters.crc_errors
            if crc_errors != crc_before:
                counters.crc_errors += crc_errors - crc_before
        counters.timeouts += 1
        raise LinkTimeoutError(
            f"no reply from address 0x{address:02X} to command 0x{code:02X} "
            f"after {attempts} attempts ({heard} bytes heard)",
            address,
            attempts,
            self._frame_texts(),
            heard,
        )

    def _byte_time(self) -> float:
        """Seconds one byte takes on the line at the port's rate (11 bits: 8N2)."""
        return _BITS_PER_BYTE / max(1, getattr(self._serial, "baudrate", 9600) or 9600)

    def _take(self, chunk: bytes, seq_id: int, record: bool) -> ssp.Packet | None:
        """Feed ``chunk`` to the parser; the packet with ``seq_id`` if it completed one (every
        frame is kept for error messages; others are counted as ignored)."""
        for packet in self._parser.feed(chunk):
            self._frames.append((False, packet))
            if record:
                self._record(False, _wire_of(packet))
            if packet.seq_id == seq_id:
                return packet
            self.counters.ignored += 1
            self.log.debug("ignored packet with SEQ/ID %02X (want %02X)", packet.seq_id, seq_id)
        return None

    # ----------------------------------------------------------------------- one attempt at a time

    @property
    def attempts_possible(self) -> bool:
        """True if :meth:`start_attempt` can be used: the port is open and is a POSIX descriptor."""
        return self._fd is not None and self.is_open

    def start_attempt(self, address: int, data: bytes) -> Attempt | None:
        """Write one attempt of a transaction and return without waiting for the reply, for a
        caller that waits for the replies of many links in one ``poll()``
        (:class:`cashdevice.PollGroup`).  The caller holds :attr:`lock` until it has called
        :meth:`finish_attempt` or :meth:`abandon_attempt`; :meth:`read_attempt` reads what
        arrived when ``attempt.fd`` turns readable.

        Returns None when the transaction must go through :meth:`transact`: the port has no
        descriptor (a URL handler, Windows), or an abandoned transaction or an unknown eCOUNT
        is pending.  Raises :class:`SSPPortError` when the write fails, like :meth:`transact`."""
        data = bytes(data)
        port, fd = self._serial, self._fd
        if fd is None or port is None or not port.is_open or not data:
            return None
        state = self._state(address)
        if state.abandoned is not None or (state.session is not None and state.count_uncertain):
            return None
        use_enc, wire = self._packet(address, state, data, None)
        self.counters.transactions += 1
        self._flush_stale(port)
        self._frames.append((True, wire))
        record = self.log_raw or self.trace is not None
        if record:
            self._record(True, wire)
        try:
            fd.write(wire)
        except OSError as exc:
            state.abandoned = _Abandoned(data, wire, use_enc)
            raise LinkPortLostError(f"{self._url}: write failed: {exc}") from exc
        self.counters.sent += 1
        now = _monotonic()
        seq_id = (address | 0x80) if state.seq_flag else address
        until = now + self._wait_for(wire)
        return Attempt(fd, address, data, wire, seq_id, use_enc, now, until, record)

    def read_attempt(self, attempt: Attempt) -> ssp.Packet | None:
        """Read what has arrived for ``attempt``; its reply packet once it is complete.  Raises
        :class:`SSPPortError` when the port fails (the attempt is then abandoned)."""
        try:
            chunk = attempt.fd.read_now()
        except OSError as exc:
            self.abandon_attempt(attempt)
            raise LinkPortLostError(f"{self._url}: read failed: {exc}") from exc
        if not chunk:
            return None
        now = attempt.last_byte = _monotonic()
        crc_before = self._parser.counters.crc_errors
        packet = self._take(chunk, attempt.seq_id, attempt.record)
        self.counters.crc_errors += self._parser.counters.crc_errors - crc_before
        if packet is None:
            # bytes that make no reply yet, then a quiet line: the reply was broken on the way;
            # while they keep coming, a long reply may finish (as in :meth:`transact`)
            byte_time = self._byte_time()
            attempt.deadline = min(
                attempt.until + _LONGEST_FRAME * byte_time, now + _QUIET_GAP + 2 * byte_time
            )
        return packet

    def finish_attempt(
        self, attempt: Attempt, packet: ssp.Packet, keep: Callable[[bytes], bool]
    ) -> bytes | None:
        """The reply to ``attempt`` arrived.  Its DATA (decrypted) is offered to ``keep``: if it
        says True the transaction is over, as in :meth:`transact`, and the DATA is returned;
        otherwise (and for a reply that does not decrypt or carries the wrong eCOUNT) nothing of
        it is taken: the attempt is abandoned, so that :meth:`transact` with the same command
        sends the identical bytes again and the device answers from its cache."""
        state = self._state(attempt.address)
        data = packet.data
        count = None
        if attempt.encrypted and data and data[0] == ssp.STEX:
            session = state.session
            if session is None:
                self.abandon_attempt(attempt)
                return None
            try:
                count, data = session.cipher.decrypt(data)
            except SSPEncryptionError:
                count = None
            if count is None or count != (session.count + 1) & 0xFFFFFFFF:
                self.abandon_attempt(attempt)
                return None
        if not keep(data):
            self.abandon_attempt(attempt)
            return None
        self._timed(attempt.last_byte - attempt.sent_at)
        self.counters.received += 1
        state.abandoned = None
        state.seq_flag = not state.seq_flag
        if count is not None and state.session is not None:
            state.session.count = count
        return data

    def abandon_attempt(self, attempt: Attempt, *, timed_out: bool = False) -> None:
        """Give ``attempt`` up for now: it becomes the abandoned transaction, which
        :meth:`transact` with the same command resends byte for byte (with the whole retry
        policy); ``timed_out`` counts a retry."""
        if timed_out:
            self.counters.retries += 1
        self._state(attempt.address).abandoned = _Abandoned(attempt.data, attempt.wire, attempt.encrypted)

    def _resync(self, address: int, state: _AddressState) -> None:
        """SYNC after a failed transaction, so that the next command cannot be mistaken for a
        retransmission of the one that failed (raises like :meth:`transact`)."""
        self.counters.resyncs += 1
        self.log.debug("resynchronising 0x%02X after a failed exchange", address)
        reply = self.transact(address, bytes((Command.SYNC,)))
        _expect_ok(reply, "SYNC")

    def _open_reply(self, address: int, session: _Session, data: bytes) -> bytes:
        if not data or data[0] != ssp.STEX:
            return data  # plain reply to an encrypted command (FA, F4 ...): count unchanged
        try:
            count, plain = session.cipher.decrypt(data)
        except SSPEncryptionError:
            self.counters.encryption_errors += 1
            raise
        if count != (session.count + 1) & 0xFFFFFFFF:
            self.counters.encryption_errors += 1
            raise SSPEncryptionError(
                f"reply eCOUNT {count} from 0x{address:02X}, expected {session.count + 1}"
            )
        session.count = count
        return plain

    def _flush_stale(self, port: _Port) -> None:
        fd = self._fd
        try:
            if fd is not None:
                stale = fd.drain()
            else:
                waiting = port.in_waiting
                stale = port.read(waiting) if waiting else b""
        except (serial.SerialException, OSError) as exc:
            raise SSPPortError(f"{self._url}: {exc}") from exc
        if stale:
            self.counters.stale_bytes += len(stale)
            self.log.debug("flushed %d stale bytes: %s", len(stale), stale.hex(" "))
        self._parser.reset()

    def _read(self, port: _Port, wait: float) -> bytes:
        """One read: what has arrived, waiting at most ``wait`` seconds for the first byte."""
        if self._fd is not None:
            return self._fd.read(wait)
        wait_now = max(0.001, round(wait, 3))
        if port.timeout != wait_now:
            port.timeout = wait_now
        return port.read(port.in_waiting or 1)

    def _frame_texts(self) -> tuple[str, ...]:
        """The last frames both ways, as text (built only when an error needs them)."""
        out = []
        for sending, frame in self._frames:
            wire = frame if isinstance(frame, bytes) else _wire_of(frame)
            out.append(f"{'->' if sending else '<-'} {wire.hex(' ')}")
        return tuple(out)

    _namer: FrameNamer | None = None
    """Names the frames of the raw-packet log (created when that log is first written)."""

    def _record(self, sending: bool, wire: bytes) -> None:
        """A frame on the line (the callers keep every frame for error messages; they call this
        only when ``log_raw`` or ``trace`` wants it): handed to ``trace``, and with ``log_raw``
        logged by name (``-> 00 POLL [7f 00 01 07 12 02]``,
        :mod:`cashdevice.frame_names`).  An encrypted frame is named ``encrypted (N bytes)``;
        its plaintext only with ``log_decrypted``.  Keys are never logged."""
        if self.log_raw and self._raw_log.isEnabledFor(logging.DEBUG):
            namer = self._namer
            if namer is None:
                namer = self._namer = FrameNamer()
            keys = None
            if self.log_decrypted:
                keys = {a: s.session.key for a, s in self._addresses.items() if s.session is not None}
            self._raw_log.debug("%s", namer.line(sending, wire, keys))
        if self.trace is not None:
            try:
                self.trace(sending, wire)
            except Exception:
                self.log.exception("raw-packet trace hook failed")

    # ----------------------------------------------------------------------- session helpers

    def sync(self, address: int) -> None:
        """SYNC (0x11): reset the sequence flag.  Raises :class:`SSPReplyError` unless ``F0``."""
        reply = self.transact(address, bytes((Command.SYNC,)))
        _expect_ok(reply, "SYNC")

    def negotiate_key(
        self,
        address: int,
        fixed_key: int = ssp.DEFAULT_FIXED_KEY,
        *,
        limit: int = ssp.KEY_LIMIT,
    ) -> None:
        """Run SET GENERATOR, SET MODULUS, REQUEST KEY EXCHANGE in plain and install the key.

        Parameters come from :func:`cashdevice.ssp.new_key_exchange` (primes and host random
        below ``limit``, default 2**31).  eCOUNT starts at 0.  Raises :class:`SSPReplyError`
        if the device refuses a step.  The whole exchange holds the link lock.
        """
        with self.lock:
            self.set_key(address, None)
            params = ssp.new_key_exchange(limit)
            for command, value in (
                (Command.SET_GENERATOR, params.generator),
                (Command.SET_MODULUS, params.modulus),
                (Command.REQUEST_KEY_EXCHANGE, params.host_inter_key),
            ):
                reply = self.transact(address, bytes((command,)) + value.to_bytes(8, "little"))
                _expect_ok(reply, command.name.replace("_", " "))
            if len(reply) < 9:
                raise SSPReplyError("REQUEST KEY EXCHANGE reply too short", reply[0], reply)
            slave_inter = int.from_bytes(reply[1:9], "little")
            self.set_key(address, ssp.aes_key(fixed_key, params.shared_key(slave_inter)))
            self.log.debug("eSSP key negotiated with 0x%02X", address)


class Attempt:
    """One attempt of a transaction in flight (:meth:`SSPLink.start_attempt`).  ``deadline``
    (``time.monotonic()``) is when it has failed: ``until`` (the attempt wait, plus a long
    packet's extra line time) while nothing came; once bytes come, a short quiet gap after the last of them
    (a broken reply), or the longest frame's line time past ``until``."""

    __slots__ = (
        "address",
        "data",
        "deadline",
        "encrypted",
        "fd",
        "last_byte",
        "record",
        "sent_at",
        "seq_id",
        "until",
        "wire",
    )

    def __init__(
        self,
        fd: FdPort,
        address: int,
        data: bytes,
        wire: bytes,
        seq_id: int,
        encrypted: bool,
        sent_at: float,
        deadline: float,
        record: bool,
    ) -> None:
        self.fd = fd
        self.address = address
        self.data = data
        self.wire = wire
        self.seq_id = seq_id
        self.encrypted = encrypted
        self.sent_at = sent_at
        self.until = self.deadline = deadline
        self.record = record
        self.last_byte = sent_at


def _wire_of(packet: ssp.Packet) -> bytes:
    """The wire bytes of a received packet, for traces.  Built without the address check of
    :func:`ssp.encode_packet`: a stray frame may carry any SEQ/ID byte (0x7E, 0xFF ...)."""
    body = bytes((packet.seq_id, len(packet.data))) + packet.data
    crc = ssp.crc16(body)
    return bytes((ssp.STX,)) + ssp.stuff(body + bytes((crc & 0xFF, crc >> 8)))


def _expect_ok(reply: bytes, what: str) -> None:
    if not reply or reply[0] != Response.OK:
        code = reply[0] if reply else -1
        try:
            name = Response(code).name
        except ValueError:
            name = f"0x{code:02X}"
        raise SSPReplyError(f"{what} refused: {name}", code, reply)
