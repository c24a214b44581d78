"""Defect 8 of issue 10: a poll reply never exceeds what one encrypted packet carries; events
that do not fit wait for the next poll instead of making the reply impossible to send."""

from __future__ import annotations

from cashdevice.emulator.core import MAX_POLL_REPLY
from cashdevice.events import decode_events
from cashdevice.ssp import Command, PollEvent


def test_many_queued_coin_credits_arrive_over_several_polls(emulators, make_host):
    emu = emulators("SMART_HOPPER")
    host = make_host(emu, timeout=0.3, retries=2)
    host.startup(8)
    host.ok(Command.ENABLE)
    coins = [100, 200, 50] * 14  # 42 COIN CREDITs of 8 bytes each: far more than one packet
    for value in coins:
        assert emu.insert_coin(value)
    replies = []
    credited = 0
    for _ in range(10):
        reply = host.cmd(Command.POLL)
        replies.append(reply)
        assert reply[:1] == b"\xf0"
        events = decode_events(reply[1:], host.level, host.family)
        credited += sum(a.value for e in events if e.code == PollEvent.COIN_CREDIT for a in e.amounts)
        if credited == sum(coins):
            break
    assert credited == sum(coins) == emu.ledger.credited_total()
    assert len(replies) >= 2
    assert all(len(r) <= MAX_POLL_REPLY for r in replies)
    emu.ledger.check()
