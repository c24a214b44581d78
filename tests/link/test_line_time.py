"""A long packet takes its own line time: at 9600 baud a 200-byte command is on the wire for about
230 ms.  The attempt wait adapts to recent replies (three times the slowest), which short
commands keep near their own exchange time; a long command must not be sent again while its
first copy is still going out, nor a long reply be cut off while it is still arriving (the
firmware download's header, sent again, ran into the raw phase and spoilt the RAM checksum)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from support import emulator_url

from cashdevice.link import SSPLink
from cashdevice.ssp import Response

Make = Callable[..., Any]


def test_a_long_command_after_short_ones_is_not_sent_twice(emulators: Make) -> None:
    emu = emulators("NOTE_VALIDATOR", pacing=True, turnaround=0.002)
    link = SSPLink(emulator_url(emu, "pty"), timeout=1.0)
    try:
        link.sync(emu.address)
        # short exchanges (about 16 ms each at 9600 baud) until the attempt wait, three times the
        # slowest recent one, is shorter than the long command's line time (a busy machine can
        # slow one reply; more short ones push it out of the recent ones)
        for _ in range(40):
            assert link.transact(emu.address, b"\x07")[0] == Response.OK
            if link.attempt_wait() < 0.15:
                break
        assert link.attempt_wait() < 0.15
        retries = link.counters.retries
        # 200 bytes of an unknown command: about 230 ms on the line before the unit can answer
        reply = link.transact(emu.address, bytes((0x7D,)) + bytes(199))
        assert reply[0] == Response.COMMAND_NOT_KNOWN
        assert link.counters.retries == retries, "the long command was sent again while still on the line"
    finally:
        link.close()
