"""Fault injection: one manipulator per direction plus scripted whole-reply faults.

Per direction (``inbound`` = host -> device, ``outbound`` = device -> host), probabilities
per byte, drawn from the emulator's seeded :class:`random.Random`:

* ``drop``      the byte is lost;
* ``corrupt``   the byte gets one random bit flipped;
* ``duplicate`` the byte is sent twice;
* ``delay``     seconds added before each chunk is delivered (outbound: before the reply).

Scripted faults run once each, in order, before the probabilistic ones:
``script(fn)`` queues any ``bytes -> bytes`` function for the next chunk;
:meth:`Faults.drop_replies` drops the next *n* whole replies; :meth:`Faults.garble_replies`
damages the next *n* past their CRC (the DATA changed, the CRC good);
:meth:`Faults.mute` drops the next *n* replies to one command (its retransmissions included:
the device runs the command once and every copy of its answer is lost); :meth:`Faults.ignore`
loses the next *n* copies of one command on the way in (the device never sees them).
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable

from .. import ssp

__all__ = ["Direction", "Faults", "garble"]

Manipulation = Callable[[bytes], bytes]


def garble(wire: bytes) -> bytes:
    """``wire``'s packet (or packets) with the last DATA byte's bit 4 flipped and a good CRC."""
    packets = ssp.PacketParser().feed(wire)
    if not packets:
        return wire
    out = bytearray()
    for packet in packets:
        data = bytearray(packet.data)
        data[-1] ^= 0x10
        out += ssp.encode_packet(packet.address, packet.seq_flag, bytes(data))
    return bytes(out)


class Direction:
    """The manipulator for one direction."""

    def __init__(self, rng: random.Random, lock: threading.Lock) -> None:
        self._rng = rng
        self._lock = lock
        self.drop = 0.0
        self.corrupt = 0.0
        self.duplicate = 0.0
        self.delay = 0.0
        self._script: deque[Manipulation] = deque()
        self.stats = {"dropped": 0, "corrupted": 0, "duplicated": 0, "scripted": 0}

    def script(self, fn: Manipulation, times: int = 1) -> None:
        """Apply ``fn`` to the next ``times`` chunks (returning b"" drops the chunk)."""
        with self._lock:
            self._script.extend([fn] * times)

    def clear(self) -> None:
        with self._lock:
            self._script.clear()
            self.drop = self.corrupt = self.duplicate = self.delay = 0.0

    @property
    def active(self) -> bool:
        return bool(self._script or self.drop or self.corrupt or self.duplicate)

    def apply(self, chunk: bytes) -> bytes:
        with self._lock:
            fn = self._script.popleft() if self._script else None
            if fn is not None:
                self.stats["scripted"] += 1
        if fn is not None:
            chunk = fn(chunk)
        if not (self.drop or self.corrupt or self.duplicate):
            return chunk
        out = bytearray()
        with self._lock:
            for byte in chunk:
                if self.drop and self._rng.random() < self.drop:
                    self.stats["dropped"] += 1
                    continue
                if self.corrupt and self._rng.random() < self.corrupt:
                    byte ^= 1 << self._rng.randrange(8)
                    self.stats["corrupted"] += 1
                out.append(byte)
                if self.duplicate and self._rng.random() < self.duplicate:
                    out.append(byte)
                    self.stats["duplicated"] += 1
        return bytes(out)


class _PerCommand:
    """How many more times a fault hits each command code."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._left: dict[int, int] = {}

    def add(self, command: int, times: int) -> None:
        with self._lock:
            self._left[int(command)] = self._left.get(int(command), 0) + times

    def left(self, command: int) -> int:
        with self._lock:
            return self._left.get(int(command), 0)

    def take(self, command: int) -> bool:
        """True (and one fewer left) when the fault hits this ``command`` now."""
        with self._lock:
            left = self._left.get(command, 0)
            if left:
                self._left[command] = left - 1
            return bool(left)

    def clear(self) -> None:
        with self._lock:
            self._left.clear()


class Faults:
    """Both directions of one emulator."""

    def __init__(self, rng: random.Random) -> None:
        lock = threading.Lock()
        self.inbound = Direction(rng, lock)
        self.outbound = Direction(rng, lock)

        self._muted = _PerCommand(lock)
        self._ignored = _PerCommand(lock)

    def ignore(self, command: int, packets: int = 1) -> None:
        """Lose the next ``packets`` packets carrying ``command`` before the device sees them."""
        self._ignored.add(command, packets)

    def ignored(self, command: int) -> int:
        """How many packets of ``command`` are still to be lost."""
        return self._ignored.left(command)

    def allow_request(self, command: int) -> bool:
        """Called by the engine for every valid packet (False: it never arrived)."""
        return not self._ignored.take(command)

    def mute(self, command: int, replies: int = 1) -> None:
        """Drop the next ``replies`` replies to ``command`` (by its code, after decryption)."""
        self._muted.add(command, replies)

    def muted(self, command: int) -> int:
        """How many replies to ``command`` are still to be dropped."""
        return self._muted.left(command)

    def allow_reply(self, command: int) -> bool:
        """Called by the engine for every reply it is about to send (False: drop it)."""
        return not self._muted.take(command)

    def drop_replies(self, n: int = 1) -> None:
        """Drop the next ``n`` replies whole (the host times out and retries)."""
        self.outbound.script(lambda data: b"", n)

    def garble_replies(self, n: int = 1) -> None:
        """Damage the next ``n`` replies past their CRC: one bit of the DATA flipped and the CRC
        made good again (line damage the CRC-16 misses, about one in 65,536 damaged packets; an
        encrypted reply then fails its eSSP check at the host)."""
        self.outbound.script(garble, n)

    def clear(self) -> None:
        self.inbound.clear()
        self.outbound.clear()
        self._muted.clear()
        self._ignored.clear()
