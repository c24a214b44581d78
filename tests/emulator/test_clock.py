"""The emulator's virtual clock: mechanical time passes only in ``Emulator.advance``."""

from __future__ import annotations

import math

import pytest
from support import settle

from cashdevice.emulator import Emulator, VirtualClock
from cashdevice.ssp import Command, PollEvent


def test_virtual_clock_stands_still_and_only_moves_forward() -> None:
    clock = VirtualClock(5.0)
    assert clock() == clock() == 5.0
    assert clock.advance(0.25) == 5.25 == clock()
    for bad in (-0.1, math.nan):
        with pytest.raises(ValueError):
            clock.advance(bad)
    assert clock() == 5.25


def test_advance_needs_a_virtual_clock() -> None:
    emu = Emulator("NOTE_VALIDATOR")
    try:
        with pytest.raises(TypeError):
            emu.advance(1.0)
    finally:
        emu.stop()


def test_watchdog_counts_device_time_not_wall_time(emulators, make_host) -> None:
    emu = emulators("NOTE_VALIDATOR", watchdog=10.0, clock=VirtualClock(100.0))
    host = make_host(emu)
    host.startup(7)
    host.ok(Command.ENABLE)
    assert emu.enabled
    emu.advance(9.9)  # ten seconds of silence would disable it; 9.9 do not
    assert emu.enabled
    emu.advance(0.2)
    assert not emu.enabled
    assert PollEvent.DISABLED in [e.code for e in host.poll()]


def test_a_note_moves_only_while_time_is_advanced(emulators, make_host) -> None:
    emu = emulators("NOTE_VALIDATOR", read_time=2.0, clock=VirtualClock())
    host = make_host(emu)
    host.startup(7)
    host.ok(Command.SET_INHIBITS, 0xFF, 0xFF)
    host.ok(Command.ENABLE)
    assert emu.insert_note(1000)
    assert emu.status()["note"] is not None and not emu.status()["escrow"]
    emu.advance(1.99)
    assert not emu.status()["escrow"]  # still reading: 2 s of device time have not passed
    assert settle(emu, lambda e: e.status()["escrow"], 0.05)
    # the host's pauses are device time too: the credit arrives with no wall-clock wait
    seen = host.poll_until(PollEvent.STACKED, timeout=5.0)
    assert PollEvent.CREDIT in [e.code for e in seen]
    assert emu.ledger.credited_total() == 1000
