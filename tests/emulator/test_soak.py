"""Long fault soaks (opt-in: ``pytest -m soak``): a host under byte faults loses and
duplicates nothing -- its credits and payouts equal the ledger's."""

from __future__ import annotations

import random

import pytest

from cashdevice.ssp import Command, PollEvent, SSPError

pytestmark = pytest.mark.soak


@pytest.mark.parametrize("transport", ["inproc", "pty"])
def test_faulty_line_loses_nothing(emulators, make_host, transport):
    emu = emulators("SPECTRAL_PAYOUT", seed=11)
    url = emu.start_pty() if transport == "pty" else emu.url
    host = make_host(emu, url, timeout=0.1, retries=20)
    host.startup(8)
    host.ok(Command.SET_INHIBITS, 0xFF, 0xFF)
    host.ok(Command.ENABLE_PAYOUT_DEVICE)
    host.ok(Command.ENABLE)
    for direction in (emu.faults.inbound, emu.faults.outbound):
        direction.drop = 0.003
        direction.corrupt = 0.003
        direction.duplicate = 0.003
    rng = random.Random(3)
    paid = 0
    for _ in range(30):
        value = rng.choice([500, 1000, 2000])
        while not emu.insert_note(value):
            try:
                host.poll()
            except SSPError:
                pytest.fail("link lost under faults")
        host.poll_until(PollEvent.NOTE_STORED_IN_PAYOUT, timeout=20)
        if rng.random() < 0.3:
            reply = host.cmd(Command.PAYOUT_AMOUNT, (500).to_bytes(4, "little"), b"EUR", 0x58)
            if reply == b"\xf0":
                host.poll_until(PollEvent.DISPENSED, timeout=20, on_event=lambda e: emu.take_notes())
                paid += 500
                host.ok(Command.ENABLE)
    emu.faults.clear()
    host.poll()
    ledger = emu.ledger
    ledger.check()
    assert host.credited_value() == ledger.credited_total()
    assert host.total(PollEvent.DISPENSED) == ledger.dispensed_total() == paid


def test_power_cuts_during_activity_keep_the_books(emulators, make_host):
    """Repeated power cuts while notes move and payouts run: after every restart the ledger
    balances and INCOMPLETE PAYOUT reports exactly what the customer took."""
    emu = emulators("SMART_PAYOUT", seed=4, levels={500: 20, 1000: 10})
    host = make_host(emu, timeout=0.2, retries=5)
    rng = random.Random(8)
    taken = 0
    incomplete = 0
    for _ in range(15):
        host.link.set_key(0, None)
        events = host.startup(8)
        taken_before = emu.ledger.dispensed_total()
        for e in events:
            if e.code == PollEvent.INCOMPLETE_PAYOUT:
                assert e.amounts[0].value == taken
                incomplete += 1
        host.ok(Command.SET_INHIBITS, 0xFF, 0xFF)
        host.ok(Command.ENABLE_PAYOUT_DEVICE)
        host.ok(Command.ENABLE)
        if rng.random() < 0.5:
            assert emu.insert_note(rng.choice([500, 1000]))
            # cut the power while the note is being read or once it waits in escrow
            stage = rng.choice(("reading", "escrow"))
            emu.wait_for(lambda e, stage=stage: str(e.status()["note"]).endswith(stage), timeout=0.15)
        else:
            host.ok(Command.PAYOUT_AMOUNT, (1500).to_bytes(4, "little"), b"EUR", 0x58)
            for _ in range(rng.randrange(0, 3)):
                emu.wait_for(lambda e: e.status()["bezel"] is not None, timeout=2)
                emu.take_notes()
        taken = emu.ledger.dispensed_total() - taken_before
        emu.power_cycle()
        emu.ledger.check()
    assert incomplete > 0
