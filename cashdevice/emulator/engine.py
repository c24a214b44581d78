"""Slave side of SSP / eSSP: framing, sequence flags, repeats, SYNC, key exchange, AES.

Receive path (ssp-protocol.md §1.8, §2):

1. :class:`cashdevice.ssp.PacketParser` assembles frames (CRC drop, lone-STX restart,
   garbage skipping); packets for another address are dropped silently.
2. A plain SYNC (0x11) is always executed: reply ``F0`` with its SEQ/ID, ``last flag = 1``,
   the reply cached as "last reply".
3. A packet whose flag equals the last one gets the cached reply again, byte for byte (for
   eSSP the same ciphertext; nothing is decrypted or executed, eCOUNT does not move).
4. eSSP (DATA starts 0x7E): decrypt with the negotiated key; an eCRC failure or missing key
   answers plain ``FA`` (or is dropped, :attr:`EnginePolicy.bad_crypto`); an eCOUNT other
   than the slave's counter N drops the packet (no reply, the flag is not consumed).  The
   reply is encrypted with N+1 and the counter becomes N+1: +1 per exchange.
5. Plain commands: before a key exists an encryption-enforcing device answers ``FA`` to
   everything except the identification / session set (:data:`PLAIN_BEFORE_KEY`); commands
   GA138 marks "Encryption required" answer ``F4`` when sent plain.
6. Replies go in the mode of the command; with :attr:`EnginePolicy.encrypt_credit` a plain
   POLL reply carrying credit information is encrypted when a key exists.

The engine owns only volatile session state; the fixed key lives in the device's
persistent store so that it survives a power cycle.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Callable, Protocol

from .. import ssp
from ..ssp import Command, Response
from .download import DownloadSession

__all__ = ["PLAIN_BEFORE_KEY", "EnginePolicy", "SlaveDevice", "SlaveEngine"]

PLAIN_BEFORE_KEY = frozenset(
    {
        Command.SYNC,
        Command.SET_GENERATOR,
        Command.SET_MODULUS,
        Command.REQUEST_KEY_EXCHANGE,
        Command.HOST_PROTOCOL_VERSION,
        Command.SETUP_REQUEST,
        Command.GET_SERIAL_NUMBER,
        Command.UNIT_DATA,
        Command.GET_FIRMWARE_VERSION,
        Command.GET_DATASET_VERSION,
        Command.GET_BUILD_REVISION,
        Command.RESET,
    }
)
"""Commands an encryption-enforcing device executes in plain before a key is negotiated
(GA138: "every command" gets ``FA``; in practice SYNC, key exchange, HOST PROTOCOL VERSION
and identification work plain -- ssp-protocol.md §2.6)."""

CREDIT_EVENTS = frozenset({0xEE, 0xDF, 0xBF, 0xD2, 0xDC, 0xDD, 0xB4})
"""Poll events that carry credit / money information (for the encrypt-credit policy)."""


@dataclass
class EnginePolicy:
    """Switches for behaviours where the sources disagree."""

    enforce_encryption: bool = True
    """FA before negotiation, F4 for "Encryption required" commands sent plain."""
    bad_crypto: str = "fa"
    """Undecryptable eSSP packet: ``"fa"`` reply plain FA (GA973) or ``"drop"`` (GA138)."""
    encrypt_credit: bool = False
    """Encrypt a plain POLL's reply when it carries credit events and a key exists (GA138)."""
    plain_allowed: frozenset[int] = frozenset()
    """"Encryption required" commands nevertheless accepted plain (e.g. POLL WITH ACK)."""
    max_key_value: int = 2**64
    """Generator / modulus at or above this answer F4 (2**32 mimics 32-bit firmware)."""


class SlaveDevice(Protocol):
    """What the engine needs from a device model."""

    fixed_key: int

    def execute(self, data: bytes, encrypted: bool) -> bytes: ...

    def reply_has_credit(self, reply: bytes) -> bool: ...


class SlaveEngine:
    """Turns received wire bytes into reply wire bytes for one slave address."""

    def __init__(
        self,
        device: SlaveDevice,
        address: int,
        rng: random.Random,
        policy: EnginePolicy,
        log: logging.Logger,
    ) -> None:
        self.device = device
        self.address = address
        self.policy = policy
        self.rng = rng
        self.log = log
        self.parser = ssp.PacketParser()
        self.dropped_count = 0
        """Packets dropped for a wrong eCOUNT or undecryptable data."""
        self.download = DownloadSession()
        """Firmware / dataset download (PROGRAM + header, then raw bytes); knobs settable."""
        self.download_finished = False
        """Set when a download completed: the owner resets the unit with the new versions."""
        self.reply_filter: Callable[[int], bool] | None = None
        """Asked with the command code before each reply goes out (False drops it): faults."""
        self.request_filter: Callable[[int], bool] | None = None
        """Asked with the command code of each new valid packet (False: as if it never arrived)."""
        self.last_code = -1
        self.reset()

    def reset(self) -> None:
        """Forget all volatile session state (power cycle / RESET)."""
        self.parser.reset()
        self.last_flag: bool | None = None
        self.last_reply: bytes | None = None
        self.generator: int | None = None
        self.modulus: int | None = None
        self.key: bytes | None = None
        self._cipher: tuple[bytes, ssp.ESSPCipher] | None = None  # (its key, the session's AES)
        self.ecount = 0
        self.mode = "ssp"  # ssp | raw (download) | dead (failed download, until power cycle)
        self.download.reset()

    @property
    def key_negotiated(self) -> bool:
        return self.key is not None

    # ------------------------------------------------------------------------------ receive

    def feed(self, chunk: bytes) -> list[bytes]:
        """Consume wire bytes; return the reply packets to send (possibly none)."""
        if self.mode != "ssp":
            return self._raw(chunk)
        out: list[bytes] = []
        for packet in self.parser.feed(chunk):
            try:
                reply = self._packet(packet)
            except Exception:  # never let wire input kill the engine thread
                self.log.exception("error handling packet %s", packet.data.hex(" "))
                reply = None
            if reply is not None and self.reply_filter is not None and not self.reply_filter(self.last_code):
                self.log.debug("reply to 0x%02X dropped (fault)", self.last_code)
                continue
            if reply is not None:
                out.append(reply)
        return out

    def _raw(self, chunk: bytes) -> list[bytes]:
        target = self.download.target
        if self.mode == "dead" or target is None:
            return []
        answer = target.feed(chunk)
        if target.done:
            self.download_finished = True
        elif target.failed:
            self.log.info("download failed (%s): unit silent until power cycle", target.reason)
            self.mode = "dead"
        return [answer] if answer else []

    def _packet(self, packet: ssp.Packet) -> bytes | None:
        if packet.address != self.address:
            return None
        data = packet.data
        if data[0] == Command.SYNC:
            self.last_code = Command.SYNC
            wire = ssp.encode_packet(self.address, packet.seq_flag, bytes((Response.OK,)))
            self.device.execute(data, False)
            self.last_flag = True
            self.last_reply = wire
            return wire
        if self.last_flag is not None and packet.seq_flag == self.last_flag and self.last_reply is not None:
            self.log.debug("repeated flag: resending last reply")
            return self.last_reply
        if packet.encrypted:
            reply_data = self._encrypted(data)
            if reply_data is None:
                return None
        elif (download := self.download.handle(data)) is not None:
            reply_data = download
        else:
            plain_reply = self._plain(data)
            if plain_reply is None:
                return None
            reply_data = plain_reply
            if (
                self.policy.encrypt_credit
                and self.key is not None
                and data[0] == Command.POLL
                and self.device.reply_has_credit(plain_reply)
            ):
                reply_data = self._seal(plain_reply)
        wire = ssp.encode_packet(self.address, packet.seq_flag, reply_data)
        self.last_flag = packet.seq_flag
        self.last_reply = wire
        if self.download.raw:
            self.mode = "raw"  # from here on raw bytes, no SSP framing (§7.2)
        return wire

    def _session_cipher(self, key: bytes) -> ssp.ESSPCipher:
        """The negotiated key's cipher, built once per session (not once per packet)."""
        held = self._cipher
        if held is None or held[0] != key:
            held = self._cipher = (key, ssp.ESSPCipher(key))
        return held[1]

    def _seal(self, plain: bytes) -> bytes:
        assert self.key is not None
        self.ecount = (self.ecount + 1) & 0xFFFFFFFF
        packing = bytes(self.rng.getrandbits(8) for _ in range(ssp.packing_length(len(plain))))
        return self._session_cipher(self.key).encrypt(self.ecount, plain, packing)

    def _encrypted(self, data: bytes) -> bytes | None:
        if self.key is None:
            return None if self.policy.bad_crypto == "drop" else bytes((Response.KEY_NOT_SET,))
        try:
            count, plain = self._session_cipher(self.key).decrypt(data)
        except ValueError:
            self.dropped_count += 1
            self.log.debug("undecryptable eSSP packet")
            return None if self.policy.bad_crypto == "drop" else bytes((Response.KEY_NOT_SET,))
        if count != self.ecount:
            self.dropped_count += 1
            self.log.debug("eCOUNT %d != expected %d: packet dropped", count, self.ecount)
            return None
        if not self._arrives(plain[0]):
            return None
        download = self.download.handle(plain)
        reply = download if download is not None else self._command(plain, encrypted=True)
        return self._seal(reply)

    def _arrives(self, code: int) -> bool:
        if self.request_filter is None or self.request_filter(code):
            return True
        self.log.debug("command 0x%02X lost on the way in (fault)", code)
        return False

    def _plain(self, data: bytes) -> bytes | None:
        code = data[0]
        if not self._arrives(code):
            return None
        if self.policy.enforce_encryption:
            if self.key is None and code not in PLAIN_BEFORE_KEY:
                return bytes((Response.KEY_NOT_SET,))
            if code in ssp.ENCRYPTED_COMMANDS and code not in self.policy.plain_allowed:
                return bytes((Response.PARAMETER_OUT_OF_RANGE,))
        return self._command(data, encrypted=False)

    # ------------------------------------------------------------------------------ commands

    def _command(self, data: bytes, *, encrypted: bool) -> bytes:
        code = data[0]
        self.last_code = code
        if code == Command.SET_GENERATOR:
            return self._set_prime(data, "generator")
        if code == Command.SET_MODULUS:
            return self._set_prime(data, "modulus")
        if code == Command.REQUEST_KEY_EXCHANGE:
            return self._key_exchange(data)
        if code == Command.SET_FIXED_ENCRYPTION_KEY:
            if len(data) != 9:
                return bytes((Response.WRONG_NO_PARAMETERS,))
            # Takes effect at the next negotiation (the current session keeps its AES key).
            self.device.fixed_key = int.from_bytes(data[1:9], "little")
            return bytes((Response.OK,))
        return self.device.execute(data, encrypted)

    def _set_prime(self, data: bytes, which: str) -> bytes:
        if len(data) != 9:
            return bytes((Response.WRONG_NO_PARAMETERS,))
        value = int.from_bytes(data[1:9], "little")
        if value >= self.policy.max_key_value or not ssp.is_prime(value):
            return bytes((Response.PARAMETER_OUT_OF_RANGE,))
        setattr(self, which, value)
        return bytes((Response.OK,))

    def _key_exchange(self, data: bytes) -> bytes:
        if len(data) != 9:
            return bytes((Response.WRONG_NO_PARAMETERS,))
        if self.generator is None or self.modulus is None:
            return bytes((Response.FAIL,))
        host_inter = int.from_bytes(data[1:9], "little")
        secret = self.rng.randrange(1, 2**31)
        slave_inter = ssp.dh_inter_key(self.generator, self.modulus, secret)
        shared = ssp.dh_shared_key(host_inter, secret, self.modulus)
        self.key = ssp.aes_key(self.device.fixed_key, shared)
        self.ecount = 0
        return bytes((Response.OK,)) + slave_inter.to_bytes(8, "little")
