"""Fault injection: one manipulator per direction plus scripted whole-reply faults.

Per direction (``inbound`` = host -> device, ``outbound`` = device -> host), probabilities
per byte, drawn from the emulator's seeded :class:`random.Random`:

* ``drop``      the byte is lost;
* ``corrupt``   the byte gets one random bit flipped;
* ``duplicate`` the byte is sent twice;
* ``delay``     seconds added before each chunk is delivered (outbound: before the reply).

Scripted faults run once each, in order, before the probabilistic ones:
``script(fn)`` queues any ``bytes -> bytes`` function for the next chunk;
:meth:`Faults.drop_replies` drops the next *n* whole replies.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable

__all__ = ["Direction", "Faults"]

Manipulation = Callable[[bytes], bytes]


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


class Faults:
    """Both directions of one emulator."""

    def __init__(self, rng: random.Random) -> None:
        lock = threading.Lock()
        self.inbound = Direction(rng, lock)
        self.outbound = Direction(rng, lock)

    def drop_replies(self, n: int = 1) -> None:
        """Drop the next ``n`` replies whole (the host times out and retries)."""
        self.outbound.script(lambda data: b"", n)

    def clear(self) -> None:
        self.inbound.clear()
        self.outbound.clear()
