"""Mechanical time that moves only when a test says so.

An :class:`~cashdevice.emulator.Emulator` reads its mechanical time -- note reading and stacking,
the escrow time-out, payout and coin steps, the watchdog, a cassette's replenish steps -- from
one clock, ``time.monotonic`` by default.  Give it a :class:`VirtualClock` instead and that time
passes only in :meth:`Emulator.advance <cashdevice.emulator.Emulator.advance>`::

    >>> from cashdevice.emulator import Emulator, VirtualClock
    >>> emu = Emulator("NOTE_VALIDATOR", escrow_timeout=10.0, clock=VirtualClock())
    >>> emu.advance(9.9)      # ten seconds of escrow in no time, and never one too many

so a test states "0.3 s pass" instead of sleeping them, and a loaded machine can neither make a
mechanical deadline pass early nor late.  The serial line (pacing) and the host keep real time.
"""

from __future__ import annotations

import threading

__all__ = ["VirtualClock"]


class VirtualClock:
    """A monotonic clock, in seconds, that stands still until :meth:`advance` moves it.

    Call it like ``time.monotonic``.  Safe to read from any thread; :meth:`advance` is meant for
    the test's thread (the emulator's :meth:`~cashdevice.emulator.Emulator.advance` ticks the
    device as it goes)."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` forward (never back); return the new time."""
        if not seconds >= 0:  # also refuses NaN
            raise ValueError(f"a clock only moves forward: advance({seconds!r})")
        with self._lock:
            self._now += seconds
            return self._now

    def __repr__(self) -> str:
        return f"VirtualClock({self._now:.3f})"
