"""A long packet takes its own line time: at 9600 baud a 200-byte command is on the wire for about
230 ms.  The attempt wait adapts to recent replies (three times the slowest), which short
commands keep near their own exchange time; a long command must not be sent again while its
first copy is still going out, nor a long reply be cut off while it is still arriving (the
firmware download's header, sent again, ran into the raw phase and spoilt the RAM checksum)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from support import emulator_url

from cashdevice.link import SSPLink
from cashdevice.ssp import Response

Make = Callable[..., Any]


def test_a_long_command_after_short_ones_is_not_sent_twice(emulators: Make) -> None:
    emu = emulators("NOTE_VALIDATOR", pacing=True, turnaround=0.002)
    sent: list[tuple[float, int]] = []

    def trace(sending: bool, wire: bytes) -> None:
        if sending:
            sent.append((time.monotonic(), len(wire)))

    link = SSPLink(emulator_url(emu, "pty"), timeout=1.0, trace=trace)
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
        sent.clear()
        # 200 bytes of an unknown command: about 230 ms on the line before the unit can answer
        reply = link.transact(emu.address, bytes((0x7D,)) + bytes(199))
        assert reply[0] == Response.COMMAND_NOT_KNOWN
        line_time = sent[0][1] * 11 / 9600
        # a copy sent again must wait until the first has left and a short reply's time more (on
        # a busy machine the reply itself can come late enough for one such retry)
        assert all(t - sent[0][0] > line_time + 0.1 for t, _ in sent[1:]), (
            f"the long command was sent again while still on the line: {[t - sent[0][0] for t, _ in sent]}"
        )
    finally:
        link.close()
