"""SSP / eSSP protocol: pure functions and value types, no I/O.

Everything here builds or parses bytes; the serial link that sends them lives in
:mod:`cashdevice.link`. Sources: ITL GA138 (SSP Protocol Manual v2.2), GA973 (SSP
Implementation Guide v2.2) and ``shared/ssp-protocol.md`` §1-§3 (the project's reference).

Wire frame (all multi-byte integers little-endian unless noted)::

    +-----+--------+-----+-------------+------+------+
    | STX | SEQ/ID | LEN | DATA (LEN)  | CRCL | CRCH |
    | 7F  | f|addr | n   | cmd/reply.. |      |      |
    +-----+--------+-----+-------------+------+------+

* SEQ/ID: bit 7 = sequence flag, bits 6..0 = slave address (0x00-0x7D).
* CRC-16 (poly 0x8005, seed 0xFFFF, MSB first, no final XOR) over SEQ/ID, LEN, DATA,
  computed before stuffing, sent low byte first.
* Stuffing: after the CRC is computed, every 0x7F after the STX (CRC bytes included) is
  sent twice.

eSSP: DATA = 0x7E followed by AES-128-ECB over
``eLENGTH | eCOUNT (u32) | eDATA | ePACKING | eCRCL | eCRCH``, padded with random bytes to
a multiple of 16.  The AES key is the 64-bit fixed key (LE) followed by the 64-bit
Diffie-Hellman key (LE).
"""

from __future__ import annotations

import enum
import importlib
import secrets
import struct
import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from Crypto.Cipher import AES

try:  # the optional ``[fast]`` extra: one native call per AES operation (see ESSPCipher)
    from cryptography.hazmat.primitives.ciphers import Cipher as _Cipher
    from cryptography.hazmat.primitives.ciphers import algorithms as _algorithms
    from cryptography.hazmat.primitives.ciphers import modes as _modes

    _HAVE_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - pycryptodome alone
    _HAVE_CRYPTOGRAPHY = False

__all__ = [
    "AES_BACKEND",
    "AES_BACKENDS",
    "CRC_BACKEND",
    "DEFAULT_FIXED_KEY",
    "ENCRYPTED_COMMANDS",
    "KEY_LIMIT",
    "MAX_ADDRESS",
    "MAX_ENCRYPTED_DATA",
    "STEX",
    "STX",
    "Command",
    "ESSPCipher",
    "KeyExchangeParameters",
    "Packet",
    "PacketParser",
    "PollEvent",
    "Response",
    "SSPEncryptionError",
    "SSPError",
    "SSPPortError",
    "SSPReplyError",
    "SSPTimeoutError",
    "aes_key",
    "crc16",
    "crc16_python",
    "decrypt_data",
    "dh_inter_key",
    "dh_shared_key",
    "encode_packet",
    "encrypt_data",
    "generate_prime",
    "is_prime",
    "new_key_exchange",
    "packing_length",
    "stuff",
]

STX: Final = 0x7F
"""Start of every packet; doubled when it occurs inside a packet."""
STEX: Final = 0x7E
"""First DATA byte of an encrypted packet (sent in clear)."""
MAX_ADDRESS: Final = 0x7D
"""Highest usable slave address (0x7E and 0x7F are never used)."""
MAX_DATA: Final = 255
MAX_ENCRYPTED_DATA: Final = 233
"""Largest eDATA that fits one packet: 1 + 16*15 = 241 DATA bytes (ssp-protocol.md §2.4)."""
DEFAULT_FIXED_KEY: Final = 0x0123456701234567
"""ITL's default 64-bit fixed eSSP key."""
KEY_LIMIT: Final = 2**31
"""Generator, modulus and host random stay below this, as ITL's reference code keeps them."""


class Command(enum.IntEnum):
    """SSP command codes (GA138 v2.2 command tables; ssp-protocol.md §4)."""

    RESET = 0x01
    SET_INHIBITS = 0x02
    DISPLAY_ON = 0x03
    DISPLAY_OFF = 0x04
    SETUP_REQUEST = 0x05
    HOST_PROTOCOL_VERSION = 0x06
    POLL = 0x07
    REJECT = 0x08
    DISABLE = 0x09
    ENABLE = 0x0A
    PROGRAM = 0x0B
    GET_SERIAL_NUMBER = 0x0C
    UNIT_DATA = 0x0D
    CHANNEL_VALUE_REQUEST = 0x0E
    CHANNEL_SECURITY_DATA = 0x0F
    CHANNEL_RETEACH_DATA = 0x10
    SYNC = 0x11
    LAST_REJECT_CODE = 0x17
    HOLD = 0x18
    GET_FIRMWARE_VERSION = 0x20
    GET_DATASET_VERSION = 0x21
    GET_ALL_LEVELS = 0x22
    GET_BARCODE_READER_CONFIGURATION = 0x23
    SET_BARCODE_READER_CONFIGURATION = 0x24
    GET_BARCODE_INHIBIT = 0x25
    SET_BARCODE_INHIBIT = 0x26
    GET_BARCODE_DATA = 0x27
    SET_REFILL_MODE = 0x30
    PAYOUT_AMOUNT = 0x33
    SET_DENOMINATION_LEVEL = 0x34
    GET_DENOMINATION_LEVEL = 0x35
    COMMS_PASS_THROUGH = 0x37
    HALT_PAYOUT = 0x38
    PAYOUT_AMOUNT_BY_DENOMINATION = 0x39
    COIN_ESCROW = 0x3A
    SET_DENOMINATION_ROUTE = 0x3B
    GET_DENOMINATION_ROUTE = 0x3C
    FLOAT_AMOUNT = 0x3D
    GET_MINIMUM_PAYOUT = 0x3E
    EMPTY_ALL = 0x3F
    SET_COIN_MECH_INHIBITS = 0x40
    GET_NOTE_POSITIONS = 0x41
    PAYOUT_NOTE = 0x42
    STACK_NOTE = 0x43
    FLOAT_BY_DENOMINATION = 0x44
    SET_VALUE_REPORTING_TYPE = 0x45
    PAYOUT_BY_DENOMINATION = 0x46
    SET_COMMAND_CALIBRATION = 0x47
    RUN_COMMAND_CALIBRATION = 0x48
    COIN_MECH_GLOBAL_INHIBIT = 0x49
    SET_GENERATOR = 0x4A
    SET_MODULUS = 0x4B
    REQUEST_KEY_EXCHANGE = 0x4C
    SET_BAUD_RATE = 0x4D
    SET_CASHBOX_PAYOUT_LIMIT = 0x4E
    GET_BUILD_REVISION = 0x4F
    SET_OPTIONS = 0x50
    GET_OPTIONS = 0x51
    SMART_EMPTY = 0x52
    CASHBOX_PAYOUT_OPERATION_DATA = 0x53
    CONFIGURE_BEZEL = 0x54
    POLL_WITH_ACK = 0x56
    EVENT_ACK = 0x57
    GET_COUNTERS = 0x58
    RESET_COUNTERS = 0x59
    COIN_MECH_OPTIONS = 0x5A
    DISABLE_PAYOUT_DEVICE = 0x5B
    ENABLE_PAYOUT_DEVICE = 0x5C
    COIN_STIR = 0x5D
    SET_FIXED_ENCRYPTION_KEY = 0x60
    RESET_FIXED_ENCRYPTION_KEY = 0x61
    GET_REAL_TIME_CLOCK_CONFIGURATION = 0x62
    GET_REAL_TIME_CLOCK = 0x63
    SET_REAL_TIME_CLOCK = 0x64
    GET_TEBS_BARCODE = 0x65
    GET_TEBS_LOG = 0x66
    CASHBOX_UNLOCK_ENABLE = 0x67
    CASHBOX_LOCK_ENABLE = 0x68
    RESET_TEBS_LOGS = 0x69
    TICKET_PRINT = 0x70
    PRINTER_CONFIGURATION = 0x71
    ENABLE_TITO_EVENTS = 0x72
    CANCEL_ESCROW_TRANSACTION = 0x76
    COMMIT_ESCROW_TRANSACTION = 0x77
    READ_ESCROW_VALUE = 0x78
    GET_ESCROW_SIZE = 0x79
    SET_ESCROW_SIZE = 0x7A


ENCRYPTED_COMMANDS: Final[frozenset[Command]] = frozenset(
    {
        Command.PAYOUT_AMOUNT,
        Command.SET_DENOMINATION_LEVEL,
        Command.HALT_PAYOUT,
        Command.PAYOUT_AMOUNT_BY_DENOMINATION,
        Command.SET_DENOMINATION_ROUTE,
        Command.GET_DENOMINATION_ROUTE,
        Command.FLOAT_AMOUNT,
        Command.EMPTY_ALL,
        Command.SET_COIN_MECH_INHIBITS,
        Command.GET_NOTE_POSITIONS,
        Command.PAYOUT_NOTE,
        Command.STACK_NOTE,
        Command.FLOAT_BY_DENOMINATION,
        Command.SET_VALUE_REPORTING_TYPE,
        Command.PAYOUT_BY_DENOMINATION,
        Command.COIN_MECH_GLOBAL_INHIBIT,
        Command.SET_CASHBOX_PAYOUT_LIMIT,
        Command.SET_OPTIONS,
        Command.GET_OPTIONS,
        Command.SMART_EMPTY,
        Command.CASHBOX_PAYOUT_OPERATION_DATA,
        Command.POLL_WITH_ACK,
        Command.EVENT_ACK,
        Command.COIN_MECH_OPTIONS,
        Command.DISABLE_PAYOUT_DEVICE,
        Command.ENABLE_PAYOUT_DEVICE,
        Command.COIN_STIR,
        Command.SET_FIXED_ENCRYPTION_KEY,
        Command.CASHBOX_UNLOCK_ENABLE,
        Command.CASHBOX_LOCK_ENABLE,
    }
)
"""Commands GA138 marks "Encryption Required: yes" (ssp-protocol.md §4, column Enc)."""


class Response(enum.IntEnum):
    """Generic response codes: the first DATA byte of every reply (ssp-protocol.md §3)."""

    OK = 0xF0
    COMMAND_NOT_KNOWN = 0xF2
    WRONG_NO_PARAMETERS = 0xF3
    PARAMETER_OUT_OF_RANGE = 0xF4
    COMMAND_CANNOT_BE_PROCESSED = 0xF5
    SOFTWARE_ERROR = 0xF6
    CHECKSUM_ERROR = 0xF7
    FAIL = 0xF8
    HEADER_FAILURE = 0xF9
    KEY_NOT_SET = 0xFA


class PollEvent(enum.IntEnum):
    """Poll event codes (ssp-protocol.md §5.3; GA138 event tables)."""

    SLAVE_RESET = 0xF1
    READ = 0xEF
    CREDIT = 0xEE
    REJECTING = 0xED
    REJECTED = 0xEC
    STACKING = 0xCC
    STACKED = 0xEB
    SAFE_JAM = 0xEA
    UNSAFE_JAM = 0xE9
    DISABLED = 0xE8
    FRAUD_ATTEMPT = 0xE6
    STACKER_FULL = 0xE7
    NOTE_CLEARED_FROM_FRONT = 0xE1
    NOTE_CLEARED_INTO_CASHBOX = 0xE2
    CASHBOX_REMOVED = 0xE3
    CASHBOX_REPLACED = 0xE4
    BARCODE_TICKET_VALIDATED = 0xE5
    BARCODE_TICKET_ACK = 0xD1
    NOTE_PATH_OPEN = 0xE0
    CHANNEL_DISABLE = 0xB5
    INITIALISING = 0xB6
    DISPENSING = 0xDA
    DISPENSED = 0xD2
    COINS_LOW = 0xD3
    COINS_EMPTY = 0xD4
    JAMMED = 0xD5
    HALTED = 0xD6
    FLOATING = 0xD7
    FLOATED = 0xD8
    TIMEOUT = 0xD9
    INCOMPLETE_PAYOUT = 0xDC
    INCOMPLETE_FLOAT = 0xDD
    CASHBOX_PAID = 0xDE
    COIN_CREDIT = 0xDF
    COIN_MECH_JAMMED = 0xC4
    COIN_MECH_RETURN_PRESSED = 0xC5
    EMPTYING = 0xC2
    EMPTIED = 0xC3
    SMART_EMPTYING = 0xB3
    SMART_EMPTIED = 0xB4
    CALIBRATION_FAILED = 0x83
    NOTE_STORED_IN_PAYOUT = 0xDB
    PAYOUT_OUT_OF_SERVICE = 0xC6
    JAM_RECOVERY = 0xB0
    ERROR_DURING_PAYOUT = 0xB1
    NOTE_TRANSFERRED_TO_STACKER = 0xC9
    NOTE_HELD_IN_BEZEL = 0xCE
    NOTE_INTO_STORE_AT_RESET = 0xCB
    NOTE_INTO_STACKER_AT_RESET = 0xCA
    NOTE_DISPENSED_AT_RESET = 0xCD
    NOTE_FLOAT_REMOVED = 0xC7
    NOTE_FLOAT_ATTACHED = 0xC8
    DEVICE_FULL = 0xCF
    COIN_MECH_ERROR = 0xB7
    COIN_REJECTED = 0xBA
    ATTACHED_COIN_MECH_DISABLED = 0xBD
    ATTACHED_COIN_MECH_ENABLED = 0xBE
    VALUE_ADDED = 0xBF
    PAY_IN_ACTIVE = 0xC1
    MAINTENANCE_REQUIRED = 0xC0
    ESCROW_ACTIVE = 0x8B
    CASHBOX_OUT_OF_SERVICE = 0x90
    TEBS_CASHBOX_TAMPER = 0x91
    CASHBOX_BACK_IN_SERVICE = 0x92
    CASHBOX_UNLOCK_ENABLED = 0x93


# --------------------------------------------------------------------------------------------
# CRC, stuffing, framing


def _make_crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE: Final = _make_crc_table()


def _make_crc_table16(table: tuple[int, ...]) -> memoryview:
    """The 65,536-entry table that advances the CRC by two bytes at once, read-only.

    The CRC is linear, so entry ``hi << 8 | lo`` is ``row[hi] ^ table[lo]`` with
    ``row[hi] = (table[hi] & 0xFF) << 8 ^ table[table[hi] >> 8]``: every 256-entry row is
    the byte table XORed with one constant, done here as one big-integer XOR per row.
    """
    lanes = int.from_bytes(array("H", table).tobytes(), sys.byteorder)
    ones = int.from_bytes(b"\x00\x01" * 256, "big")  # 1 in every 16-bit lane
    rows = (
        (lanes ^ ((((t & 0xFF) << 8) ^ table[t >> 8]) * ones)).to_bytes(512, sys.byteorder) for t in table
    )
    return memoryview(b"".join(rows)).cast("H")


_CRC_TABLE16: Final = _make_crc_table16(_CRC_TABLE)
_WORDS: Final = tuple(struct.Struct(f">{n}H").unpack for n in range(131))
"""Big-endian word unpackers by count (a frame is at most 260 bytes): no format string per call."""
_unpack: Final = struct.unpack


def crc16_python(data: bytes | bytearray | memoryview) -> int:
    """CRC-16 of SSP: polynomial 0x8005, seed 0xFFFF, MSB first, no final XOR (CRC-16/CMS).

    Short inputs go a byte at a time; longer ones two bytes per step (big-endian words).
    This is :func:`crc16` unless the ``[fast]`` extra's crcmod (with its C code) is installed.
    """
    n = len(data)
    if n < 8:
        table = _CRC_TABLE
        crc = 0xFFFF
        for byte in data:
            crc = ((crc << 8) & 0xFF00) ^ table[(crc >> 8) ^ byte]
        return crc
    if n & 1:
        crc = 0xFF00 ^ _CRC_TABLE[0xFF ^ data[0]]
        data = data[1:]
    else:
        crc = 0xFFFF
    table16 = _CRC_TABLE16
    words = n >> 1
    for word in _WORDS[words](data) if words < 131 else _unpack(f">{words}H", data):
        crc = table16[crc ^ word]
    return crc


def _native_crc16() -> Callable[[bytes | bytearray | memoryview], int] | None:
    """crcmod's CRC-16/CMS (the ``[fast]`` extra: crcmod-plus), if its C extension imports.

    It runs the loop of :func:`crc16_python` in C: 0.22 µs against 0.92 µs for 18 bytes
    (``benchmarks/primitives.py``; RESULTS.md, fifth pass).  crcmod without its C extension
    would be slower than ours, so it is not used then."""
    try:
        import crcmod

        importlib.import_module("crcmod._crcfunext")  # the C code (crcmod falls back to Python)
    except ImportError:
        return None
    native: Callable[[bytes | bytearray | memoryview], int] = crcmod.mkCrcFun(
        0x18005, initCrc=0xFFFF, rev=False, xorOut=0
    )
    return native if native(b"123456789") == 0xAEE7 else None  # CRC-16/CMS check value


_NATIVE_CRC16: Final = _native_crc16()
CRC_BACKEND: Final = "crcmod" if _NATIVE_CRC16 is not None else "python"
"""What computes :func:`crc16`: ``crcmod`` (its C code, the ``[fast]`` extra) or ``python``
(:func:`crc16_python`)."""
crc16: Final[Callable[[bytes | bytearray | memoryview], int]] = _NATIVE_CRC16 or crc16_python
"""CRC-16 of SSP: polynomial 0x8005, seed 0xFFFF, MSB first, no final XOR (CRC-16/CMS), of a
``bytes``, ``bytearray`` or ``memoryview``: :func:`crc16_python`, or crcmod's C code when the
``[fast]`` extra is installed (:data:`CRC_BACKEND`; both give the same values)."""


def stuff(body: bytes) -> bytes:
    """Double every 0x7F (applied to everything after the STX)."""
    return body.replace(b"\x7f", b"\x7f\x7f")


def encode_packet(address: int, seq_flag: bool, data: bytes) -> bytes:
    """Build a complete, stuffed SSP packet.

    Raises ``ValueError`` for an address outside 0..0x7D or DATA outside 1..255 bytes, so a
    malformed packet can never reach the wire.
    """
    if not 0 <= address <= MAX_ADDRESS:
        raise ValueError(f"SSP address must be 0..0x7D, got {address!r}")
    if not 1 <= len(data) <= MAX_DATA:
        raise ValueError(f"SSP DATA must be 1..255 bytes, got {len(data)}")
    body = bytes((address | (0x80 if seq_flag else 0), len(data))) + bytes(data)
    crc = crc16(body)
    return bytes((STX,)) + stuff(body + bytes((crc & 0xFF, crc >> 8)))


@dataclass(frozen=True)
class Packet:
    """One valid SSP packet (CRC checked, unstuffed)."""

    address: int
    seq_flag: bool
    data: bytes

    @property
    def seq_id(self) -> int:
        """The SEQ/ID byte as it appeared on the wire."""
        return self.address | (0x80 if self.seq_flag else 0)

    @property
    def encrypted(self) -> bool:
        """True when DATA is an eSSP block (starts with STEX 0x7E)."""
        return bool(self.data) and self.data[0] == STEX

    def encode(self) -> bytes:
        """The packet's wire bytes."""
        return encode_packet(self.address, self.seq_flag, self.data)


@dataclass
class ParserCounters:
    """What a :class:`PacketParser` has seen and dropped since it was created."""

    packets: int = 0
    crc_errors: int = 0
    length_errors: int = 0
    restarts: int = 0
    discarded_bytes: int = 0


class PacketParser:
    """Incremental SSP packet parser fed with arbitrary chunks of wire bytes.

    Frame: ``STX(7F) | SEQ/ID | LEN | DATA[LEN] | CRCL | CRCH``; every 0x7F after the STX is
    doubled on the wire.  :meth:`feed` returns the packets completed by a chunk and never
    raises on wire bytes.  Recovery, matching ITL's receiver (ssp-protocol.md §1.4):

    * bytes outside a packet (garbage before or between packets) are discarded and counted
      in ``counters.discarded_bytes``;
    * a frame may be split at any byte, including between the two bytes of a stuffed 0x7F;
    * ``7F 7F`` inside a packet is one data byte 0x7F (LEN, DATA and CRC alike);
    * a 0x7F where the SEQ/ID belongs is a new STX: no SEQ/ID can be 0x7F (address 0x7F does
      not exist), so a stray ``7F 7F`` left by line noise cannot pair with the next packet's STX
      and make every retransmission of a packet ending in a stuffed CRC byte vanish;
    * a lone ``7F`` followed by anything but ``7F`` inside a packet discards the partial
      packet (``counters.restarts``) and starts a new one whose SEQ/ID is the next byte;
    * LEN = 0 is not a valid frame: the partial packet is dropped (``counters.length_errors``)
      and the parser hunts for the next STX;
    * a CRC mismatch drops the frame (``counters.crc_errors``) and the parser hunts again;
    * memory is bounded: a frame is at most 260 unstuffed bytes, garbage is never buffered.
    """

    def __init__(self) -> None:
        self.counters = ParserCounters()
        self._in_packet = False
        self._escape = False  # saw a 0x7F inside a packet, waiting for the next byte
        self._buf = bytearray()

    def reset(self) -> None:
        """Forget any partial packet (counters are kept)."""
        self._in_packet = False
        self._escape = False
        self._buf.clear()

    @property
    def busy(self) -> bool:
        """True while a partial packet is buffered."""
        return self._in_packet

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[Packet]:
        """Consume ``chunk``; return every packet it completed, in order.

        Works on runs of bytes, not byte by byte: ``find`` locates the STX while hunting and
        the next 0x7F inside a frame, the bytes between are copied in one slice (never past
        the length the header announces), and a complete frame costs one CRC.
        """
        data = chunk if type(chunk) is bytes else bytes(chunk)
        end = len(data)
        if (
            not self._in_packet
            and end > 5
            and data[0] == STX
            and data[2] + 5 == end
            and data[2]
            and data.find(STX, 1) < 0
            and crc16(data[1:-2]) == data[-2] | (data[-1] << 8)
        ):
            # the usual chunk: exactly one whole, valid frame without a 0x7F after its STX
            self.counters.packets += 1
            first = data[1]
            return [Packet(first & 0x7F, first > 0x7F, data[3:-2])]
        out: list[Packet] = []
        counters = self.counters
        buf = self._buf
        pos = 0
        while pos < end:
            if not self._in_packet:
                start = data.find(STX, pos)
                if start < 0:
                    counters.discarded_bytes += end - pos
                    break
                counters.discarded_bytes += start - pos
                pos = start + 1
                # Fast path: a whole frame without a 0x7F after its STX is one slice.
                if start + 5 < end:
                    stop = start + data[start + 2] + 5
                    if stop <= end and data[start + 2] and data.find(STX, pos, stop) < 0:
                        body = data[pos : stop - 2]
                        if crc16(body) == data[stop - 2] | (data[stop - 1] << 8):
                            counters.packets += 1
                            first = body[0]
                            out.append(Packet(first & 0x7F, first > 0x7F, body[2:]))
                        else:
                            counters.crc_errors += 1
                            counters.discarded_bytes += stop - start
                        pos = stop
                        continue
                self._start()
                continue
            if self._escape:
                self._escape = False
                if data[pos] != STX:
                    # Lone STX: the partial packet is discarded, a new one starts here and
                    # this byte is its SEQ/ID (taken below, with an empty buffer).
                    counters.restarts += 1
                    counters.discarded_bytes += len(buf) + 1
                    self._start()
                    continue
                buf.append(STX)  # 7F 7F: one data byte 0x7F
                pos += 1
            elif not buf:
                if data[pos] == STX:
                    # STX where the SEQ/ID belongs: a new packet starts here
                    counters.restarts += 1
                    counters.discarded_bytes += 1
                    pos += 1
                    continue
                buf.append(data[pos])
                pos += 1
            else:
                have = len(buf)
                stop = pos + ((buf[1] + 4) if have > 1 else 2) - have  # one unstuffed byte per wire byte
                if stop > end:
                    stop = end
                escape = data.find(STX, pos, stop)
                if escape < 0:
                    buf += data[pos:stop]
                    pos = stop
                else:
                    buf += data[pos:escape]
                    pos = escape + 1
                    self._escape = True
                    continue
            self._check(buf, out)
        return out

    def _start(self) -> None:
        self._in_packet = True
        self._escape = False
        self._buf.clear()

    def _check(self, buf: bytearray, out: list[Packet]) -> None:
        """After bytes were added: drop a zero LEN, or finish a frame that is complete."""
        have = len(buf)
        if have < 3:
            if have == 2 and buf[1] == 0:
                self.counters.length_errors += 1
                self.counters.discarded_bytes += 3
                self.reset()
            return
        if have < buf[1] + 4:
            return
        received = buf[-2] | (buf[-1] << 8)
        body = bytes(buf[:-2])
        self.reset()
        if crc16(body) != received:
            self.counters.crc_errors += 1
            self.counters.discarded_bytes += len(body) + 3
            return
        self.counters.packets += 1
        first = body[0]
        out.append(Packet(first & 0x7F, first > 0x7F, body[2:]))


# --------------------------------------------------------------------------------------------
# eSSP: Diffie-Hellman and AES

_MR_BASES: Final = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)


def is_prime(n: int) -> bool:
    """Miller-Rabin primality test.

    Deterministic for n < 3.3e24 (fixed bases 2..41), which covers every 64-bit eSSP value;
    above that, 40 extra rounds with witnesses drawn from :mod:`secrets`.
    """
    if n < 2:
        return False
    for p in _MR_BASES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1

    def witness(a: int) -> bool:
        x = pow(a, d, n)
        if x in (1, n - 1):
            return False
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                return False
        return True

    if any(witness(a) for a in _MR_BASES):
        return False
    if n >= 3_317_044_064_679_887_385_961_981:
        return not any(witness(2 + secrets.randbelow(n - 3)) for _ in range(40))
    return True


def generate_prime(limit: int = KEY_LIMIT) -> int:
    """A random prime in [limit // 2, limit), drawn with :mod:`secrets`."""
    if limit < 8:
        raise ValueError("prime limit too small")
    low = limit // 2
    while True:
        candidate = (low + secrets.randbelow(limit - low)) | 1
        if candidate < limit and is_prime(candidate):
            return candidate


def dh_inter_key(generator: int, modulus: int, secret: int) -> int:
    """The value sent in REQUEST KEY EXCHANGE (or returned by the slave): G^secret mod P."""
    return pow(generator, secret, modulus)


def dh_shared_key(other_inter_key: int, secret: int, modulus: int) -> int:
    """The negotiated 64-bit key: other_inter_key^secret mod P."""
    return pow(other_inter_key, secret, modulus)


@dataclass(frozen=True)
class KeyExchangeParameters:
    """One host side of a Diffie-Hellman exchange.  ``repr`` hides the secret."""

    generator: int
    modulus: int
    host_random: int = field(repr=False)

    @property
    def host_inter_key(self) -> int:
        return dh_inter_key(self.generator, self.modulus, self.host_random)

    def shared_key(self, slave_inter_key: int) -> int:
        return dh_shared_key(slave_inter_key, self.host_random, self.modulus)


def new_key_exchange(limit: int = KEY_LIMIT) -> KeyExchangeParameters:
    """Fresh host parameters: two distinct primes below ``limit`` (generator > modulus, as
    ITL's libraries order them) and a host random in 1..limit-1, all from :mod:`secrets`."""
    a = generate_prime(limit)
    b = generate_prime(limit)
    while b == a:
        b = generate_prime(limit)
    return KeyExchangeParameters(max(a, b), min(a, b), 1 + secrets.randbelow(limit - 1))


def aes_key(fixed_key: int, negotiated_key: int) -> bytes:
    """The 16-byte AES key: fixed key as u64 LE, then negotiated key as u64 LE."""
    if not 0 <= fixed_key < 2**64 or not 0 <= negotiated_key < 2**64:
        raise ValueError("eSSP key parts must be unsigned 64-bit integers")
    return fixed_key.to_bytes(8, "little") + negotiated_key.to_bytes(8, "little")


def packing_length(data_length: int) -> int:
    """Random padding bytes needed so that 1+4+n+packing+2 is a multiple of 16."""
    return (16 - (data_length + 7) % 16) % 16


class ESSPCipher:
    """One eSSP session's AES-128-ECB, built once and reused for every packet.

    ``encrypt(count, data)`` / ``decrypt(field)`` give exactly the bytes of
    :func:`encrypt_data` / :func:`decrypt_data` with the same key (those two are wrappers
    that build a throw-away cipher).  ECB keeps no state between blocks, so one object
    serves both directions.  ``repr`` never shows the key.

    ``backend``: ``"cryptography"`` (PyCA's library, the ``[fast]`` extra) or
    ``"pycryptodome"`` (always installed); ``None`` takes :data:`AES_BACKEND`, the first of the
    two that imports.  Both give the same bytes; ``cryptography`` does an AES operation in one
    native call where pycryptodome runs about 40 lines of Python around its C code: an encrypt
    plus a decrypt costs 3.7 µs against 8.6 µs back to back (``benchmarks/primitives.py``; RESULTS.md,
    fifth pass).  One thread at a time (a ``cryptography`` context refuses a second caller while
    it works): the link and the emulator each use theirs under their lock.
    """

    __slots__ = ("_decrypt", "_encrypt", "_into", "_padding", "_padding_at", "backend")
    _encrypt: Callable[..., Any]
    _decrypt: Callable[[bytes], bytes]

    def __init__(self, key: bytes, *, backend: str | None = None) -> None:
        if len(key) != 16:
            raise ValueError("the eSSP AES key is 16 bytes")
        backend = AES_BACKEND if backend is None else backend
        if backend == "cryptography" and _HAVE_CRYPTOGRAPHY:
            # ECB contexts are never finalised: each update takes whole blocks (the callers
            # below check) and returns them at once, holding nothing back between calls
            cipher = _Cipher(_algorithms.AES(bytes(key)), _modes.ECB())
            self._encrypt = cipher.encryptor().update
            self._decrypt = cipher.decryptor().update
            self._into = False
        elif backend == "pycryptodome":
            aes = AES.new(bytes(key), AES.MODE_ECB)
            self._encrypt = aes.encrypt
            self._decrypt = aes.decrypt
            self._into = True  # encrypt into our own buffer: pycryptodome then copies nothing
        else:
            raise ValueError(f"AES backend {backend!r} is not available (have: {', '.join(AES_BACKENDS)})")
        self.backend: Final = backend
        self._padding = b""
        self._padding_at = 0

    def __repr__(self) -> str:
        return "ESSPCipher(<key hidden>)"

    def _random_padding(self, need: int) -> bytes:
        """``need`` bytes from :mod:`secrets`, drawn 256 at a time: one system call per 17 or
        more packets instead of one per packet (padding is at most 15 bytes)."""
        at = self._padding_at
        if at + need > len(self._padding):
            self._padding, at = secrets.token_bytes(_PADDING_POOL), 0
        self._padding_at = at + need
        return self._padding[at : at + need]

    def encrypt(self, count: int, data: bytes, packing: bytes | None = None) -> bytes:
        """Encrypted DATA field: ``0x7E`` + AES-128-ECB(eLENGTH, eCOUNT, data, packing, eCRC).

        ``packing=None`` draws the padding from :mod:`secrets`; a given ``packing`` must have
        exactly :func:`packing_length` bytes (a seam for known-answer tests).
        """
        length = len(data)
        if not 1 <= length <= MAX_ENCRYPTED_DATA:
            raise ValueError(f"eSSP data must be 1..{MAX_ENCRYPTED_DATA} bytes, got {length}")
        if not 0 <= count <= 0xFFFFFFFF:
            raise ValueError("eCOUNT must be an unsigned 32-bit integer")
        need = (16 - (length + 7) % 16) % 16
        if packing is None:
            packing = self._random_padding(need) if need else b""
        elif len(packing) != need:
            raise ValueError(f"packing must be {need} bytes for {length} data bytes")
        block = _pack_head(length, count) + bytes(data) + bytes(packing)
        block += _pack_crc(crc16(block))
        if self._into:
            out = bytearray(len(block))
            self._encrypt(block, output=out)
            return b"\x7e" + out
        sealed: bytes = self._encrypt(block)
        return b"\x7e" + sealed

    def decrypt(self, data: bytes) -> tuple[int, bytes]:
        """Decrypt an eSSP DATA field; return ``(eCOUNT, plain data)``.

        Raises :class:`SSPEncryptionError` (a ``ValueError``) when the field does not start
        with 0x7E, is not 0x7E + n*16 bytes, its eLENGTH does not match the block size, or
        its eCRC is wrong (a flipped bit or a wrong key).
        """
        size = len(data) - 1
        if size < 16 or data[0] != STEX or size % 16:
            raise SSPEncryptionError("not an eSSP block (0x7E + multiple of 16 bytes)")
        block = self._decrypt(bytes(data[1:]))
        length = block[0]
        if length == 0 or length + 7 + (16 - (length + 7) % 16) % 16 != size:
            raise SSPEncryptionError("eSSP length does not match the block size (wrong key?)")
        if crc16(block[:-2]) != block[-2] | (block[-1] << 8):
            raise SSPEncryptionError("eSSP CRC mismatch (corrupted block or wrong key)")
        return _unpack_count(block, 1)[0], block[5 : 5 + length]


AES_BACKENDS: Final = ("cryptography", "pycryptodome") if _HAVE_CRYPTOGRAPHY else ("pycryptodome",)
"""The AES implementations :class:`ESSPCipher` can use here, the one it takes by default first."""
AES_BACKEND: Final = AES_BACKENDS[0]
"""The AES implementation :class:`ESSPCipher` uses unless told: ``cryptography`` when the
``[fast]`` extra is installed, otherwise ``pycryptodome``."""

_PADDING_POOL: Final = 256
"""Random padding bytes an :class:`ESSPCipher` draws from :mod:`secrets` at a time."""
_pack_head: Final = struct.Struct("<BI").pack
_pack_crc: Final = struct.Struct("<H").pack
_unpack_count: Final = struct.Struct("<I").unpack_from


def encrypt_data(key: bytes, count: int, data: bytes, packing: bytes | None = None) -> bytes:
    """Encrypted DATA field: ``0x7E`` + AES-128-ECB(eLENGTH, eCOUNT, data, packing, eCRC).

    ``packing=None`` draws the padding from :mod:`secrets`; a given ``packing`` must have
    exactly :func:`packing_length` bytes (a seam for known-answer tests).  Builds a cipher for
    this one call; a session keeps an :class:`ESSPCipher` instead.
    """
    return ESSPCipher(key).encrypt(count, data, packing)


def decrypt_data(key: bytes, data: bytes) -> tuple[int, bytes]:
    """Decrypt an eSSP DATA field; return ``(eCOUNT, plain data)``.

    Raises ``ValueError`` (:class:`SSPEncryptionError`) when the field does not start with
    0x7E, is not 0x7E + n*16 bytes, its eLENGTH does not match the block size, or its eCRC
    is wrong (a flipped bit or a wrong key).  A session keeps an :class:`ESSPCipher` instead.
    """
    return ESSPCipher(key).decrypt(data)


# --------------------------------------------------------------------------------------------
# Exceptions (one base; each also a matching builtin)


class SSPError(Exception):
    """Base of every cashdevice protocol error."""


class SSPEncryptionError(SSPError, ValueError):
    """An eSSP block could not be decrypted or carried the wrong eCOUNT."""


class SSPTimeoutError(SSPError, TimeoutError):
    """No valid reply after the retry limit.  ``frames`` holds the link's last frames."""

    def __init__(self, message: str, address: int, attempts: int, frames: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.address = address
        self.attempts = attempts
        self.frames = frames


class SSPReplyError(SSPError):
    """A command the caller needed to succeed got a generic failure reply; ``code`` keeps it."""

    def __init__(self, message: str, code: int, data: bytes = b"") -> None:
        super().__init__(message)
        self.code = code
        self.data = data


class SSPPortError(SSPError, OSError):
    """The port could not be opened, is closed, or failed during I/O."""
