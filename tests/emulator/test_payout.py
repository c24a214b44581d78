"""Recycler and hopper jobs: payout errors, by-denomination, float, empty, smart empty, halt,
power loss mid-payout, NV11 float commands -- each with the ledger balanced."""

from __future__ import annotations

import pytest
from support import settle

from cashdevice.events import Amount
from cashdevice.ssp import Command, PollEvent

REAL, TEST = 0x58, 0x19

pytestmark = pytest.mark.virtual_clock  # mechanical time moves with the host's polls, not the wall clock


def vc(value: int, country: str = "EUR") -> bytes:
    return value.to_bytes(4, "little") + country.encode()


def entry(count: int, value: int, country: str = "EUR") -> bytes:
    return count.to_bytes(2, "little") + vc(value, country)


def codes(events):
    return [e.code for e in events]


def note_ready(emulators, make_host, model="SMART_PAYOUT", level=8, **kwargs):
    kwargs.setdefault("levels", {500: 4, 1000: 2, 2000: 1})
    emu = emulators(model, **kwargs)
    host = make_host(emu)
    host.startup(level)
    host.ok(Command.ENABLE_PAYOUT_DEVICE)
    return emu, host


def coin_ready(emulators, make_host, model="SMART_HOPPER", level=7, **kwargs):
    kwargs.setdefault("levels", {5: 10, 10: 10, 20: 10, 50: 5, 100: 5, 200: 2})
    emu = emulators(model, **kwargs)
    host = make_host(emu)
    host.startup(level)
    return emu, host


def test_payout_refusals(emulators, make_host):
    emu, host = note_ready(emulators, make_host)
    assert host.cmd(Command.PAYOUT_AMOUNT, vc(10000), REAL) == b"\xf5\x01"  # not enough value
    assert host.cmd(Command.PAYOUT_AMOUNT, vc(700), REAL) == b"\xf5\x02"  # cannot pay exact
    assert host.cmd(Command.PAYOUT_AMOUNT, vc(500), 0x00) == b"\xf4"  # bad option byte
    assert host.cmd(Command.PAYOUT_AMOUNT, vc(500)) == b"\xf3"  # v6 form needs the option
    assert host.cmd(Command.PAYOUT_AMOUNT, vc(500), REAL, encrypt=False) == b"\xf4"  # plain
    host.ok(Command.PAYOUT_AMOUNT, vc(1500), REAL)
    assert host.cmd(Command.PAYOUT_AMOUNT, vc(500), REAL) == b"\xf5\x03"  # busy
    host.poll_until(PollEvent.DISPENSED, on_event=lambda e: emu.take_notes())
    host.ok(Command.DISABLE_PAYOUT_DEVICE)
    assert host.cmd(Command.PAYOUT_AMOUNT, vc(500), REAL) == b"\xf5\x04"  # disabled
    ledger = emu.ledger
    ledger.check()
    assert ledger.total("dispensed") == 1500


def test_note_payout_sequence_and_bezel(emulators, make_host):
    emu, host = note_ready(emulators, make_host)
    host.ok(Command.PAYOUT_AMOUNT, vc(2500), REAL)
    seen = host.poll_until(PollEvent.NOTE_HELD_IN_BEZEL)
    # the note waits in the bezel until taken: HELD IN BEZEL repeats, nothing is dispensed yet
    for _ in range(3):
        events = host.poll()
        assert PollEvent.NOTE_HELD_IN_BEZEL in codes(events)
    assert emu.ledger.total("dispensed") == 0
    emu.ledger.check()  # a note in the bezel is accounted as in transit
    seen += host.poll_until(PollEvent.DISPENSED, on_event=lambda e: emu.take_notes())
    bezel = [e.amounts[0].value for e in seen if e.code == PollEvent.NOTE_HELD_IN_BEZEL]
    assert set(bezel) == {2000, 500}
    assert [e.amounts[0].value for e in seen if e.code == PollEvent.DISPENSED] == [2500]
    progress = [e.amounts[0].value for e in seen if e.code == PollEvent.DISPENSING]
    assert progress == sorted(progress) and set(progress) <= {0, 2000, 2500} and 2000 in progress
    assert emu.levels[next(d for d in emu.levels if d.value == 500)] == 3
    emu.ledger.check()


def test_payout_by_denomination_and_test_mode(emulators, make_host):
    emu, host = note_ready(emulators, make_host)
    body = bytes((2,)) + entry(2, 500) + entry(1, 1000)
    host.ok(Command.PAYOUT_BY_DENOMINATION, body, TEST)
    assert emu.status()["job"] is None
    assert host.cmd(Command.PAYOUT_BY_DENOMINATION, bytes((1,)) + entry(9, 500), REAL) == b"\xf5\x01"
    host.ok(Command.PAYOUT_BY_DENOMINATION, body, REAL)
    seen = host.poll_until(PollEvent.DISPENSED, on_event=lambda e: emu.take_notes())
    assert [e.amounts[0].value for e in seen if e.code == PollEvent.DISPENSED] == [2000]
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(500, "EUR").dispensed == 2 and ledger.get(1000, "EUR").dispensed == 1


def test_float_amount_note_and_coin(emulators, make_host):
    emu, host = note_ready(emulators, make_host)
    # SMART Payout: 4-byte minimum payout (13 data bytes)
    host.ok(Command.FLOAT_AMOUNT, (500).to_bytes(4, "little"), vc(2000), REAL)
    seen = host.poll_until(PollEvent.FLOATED)
    assert PollEvent.FLOATING in codes(seen)
    assert sum(d.value * n for d, n in emu.levels.items()) == 2000
    ledger = emu.ledger
    ledger.check()
    assert ledger.total("floated") == 4000 - 2000 + 2000  # 6000 stored -> 2000 kept

    emu2, host2 = coin_ready(emulators, make_host)
    # SMART Hopper: 2-byte minimum payout (11 data bytes)
    host2.ok(Command.FLOAT_AMOUNT, (5).to_bytes(2, "little"), vc(300), REAL)
    host2.poll_until(PollEvent.FLOATED)
    assert sum(d.value * n for d, n in emu2.levels.items()) == 300
    emu2.ledger.check()


def test_float_by_denomination(emulators, make_host):
    emu, host = coin_ready(emulators, make_host, level=6)
    host.ok(Command.FLOAT_BY_DENOMINATION, bytes((2,)) + entry(3, 5) + entry(1, 200), REAL)
    host.poll_until(PollEvent.FLOATED)
    levels = {d.value: n for d, n in emu.levels.items()}
    assert levels[5] == 3 and levels[200] == 1 and levels[10] == 10
    emu.ledger.check()


@pytest.mark.parametrize("model", ["SPECTRAL_PAYOUT", "SMART_COIN_SYSTEM"])
def test_empty_and_smart_empty(emulators, make_host, model):
    if model == "SPECTRAL_PAYOUT":
        emu, host = note_ready(emulators, make_host, model)
    else:
        emu, host = coin_ready(emulators, make_host, model)
    total = sum(d.value * n for d, n in emu.levels.items())
    host.ok(Command.SMART_EMPTY)
    seen = host.poll_until(PollEvent.SMART_EMPTIED)
    assert PollEvent.SMART_EMPTYING in codes(seen)
    assert [e.amounts[0].value for e in seen if e.code == PollEvent.SMART_EMPTIED] == [total]
    data = host.ok(Command.CASHBOX_PAYOUT_OPERATION_DATA)
    n = data[0]
    counted = sum(
        int.from_bytes(data[1 + 9 * i : 3 + 9 * i], "little")
        * int.from_bytes(data[3 + 9 * i : 7 + 9 * i], "little")
        for i in range(n)
    )
    assert counted == total and len(data) == 1 + 9 * n + 4
    assert emu.levels == {}
    emu.ledger.check()
    assert emu.ledger.total("emptied") == total


def test_empty_all(emulators, make_host):
    emu, host = note_ready(emulators, make_host)
    host.ok(Command.EMPTY_ALL)
    seen = host.poll_until(PollEvent.EMPTIED)
    assert PollEvent.EMPTYING in codes(seen)
    assert emu.levels == {} and sum(emu.cashbox.values()) == 7
    emu.ledger.check()


def test_halt_payout(emulators, make_host):
    emu, host = coin_ready(emulators, make_host, coin_step=0.15)
    host.ok(Command.PAYOUT_AMOUNT, vc(500), REAL)
    host.poll_until(PollEvent.DISPENSING)
    assert settle(emu, lambda e: e.ledger.total("dispensed") > 0, 5)
    host.ok(Command.HALT_PAYOUT)
    seen = host.poll_until(PollEvent.HALTED)
    assert PollEvent.DISPENSED not in codes(seen)
    halted = next(e.amounts[0].value for e in seen if e.code == PollEvent.HALTED)
    assert 0 < halted < 500
    assert host.cmd(Command.HALT_PAYOUT) == b"\xf5"
    ledger = emu.ledger
    ledger.check()
    assert ledger.total("dispensed") == halted


@pytest.mark.parametrize(("model", "level"), [("SMART_PAYOUT", 8), ("SMART_PAYOUT", 7), ("SMART_HOPPER", 8)])
def test_power_loss_mid_payout(emulators, make_host, model, level):
    if model == "SMART_PAYOUT":
        emu, host = note_ready(emulators, make_host, model, level=level)
        amount = 2500
    else:
        emu, host = coin_ready(emulators, make_host, model, level=level, coin_step=0.2)
        amount = 500
    host.ok(Command.PAYOUT_AMOUNT, vc(amount), REAL)
    if model == "SMART_PAYOUT":
        # the first note (20.00) is taken, the second waits in the bezel when power fails
        host.poll_until(PollEvent.DISPENSING)
        assert settle(emu, lambda e: e.status()["bezel"] is not None, 5)
        emu.take_notes()
        assert settle(emu, lambda e: e.status()["bezel"] is not None, 5)
    else:
        assert settle(emu, lambda e: e.ledger.total("dispensed") >= 100, 5)
    emu.power_cycle()
    emu.ledger.check()
    host.link.set_key(0 if model == "SMART_PAYOUT" else 0x10, None)
    first = host.startup(level)
    assert first[0].code == PollEvent.SLAVE_RESET
    incomplete = [e for e in first if e.code == PollEvent.INCOMPLETE_PAYOUT]
    assert len(incomplete) == 1
    paid = incomplete[0].amounts[0].value
    assert incomplete[0].requested[0].value == amount and incomplete[0].requested[0].country == "EUR"
    ledger = emu.ledger
    ledger.check()
    assert paid == ledger.total("dispensed") and 0 < paid < amount
    if model == "SMART_PAYOUT":
        cleared = PollEvent.NOTE_INTO_STACKER_AT_RESET if level >= 8 else PollEvent.NOTE_CLEARED_INTO_CASHBOX
        assert cleared not in codes(first)  # GA973 "Power removed during payout": the next poll
        assert cleared in codes(host.poll())
        assert ledger.get(500, "EUR").cleared == 1
    assert PollEvent.DISABLED in codes(first)
    # volatile state was lost: protocol level back to default, routes/levels kept
    assert not emu.status()["enabled"]


def test_hopper_levels_routes_and_cashbox_limit(emulators, make_host):
    emu, host = coin_ready(emulators, make_host, "SMART_COIN_SYSTEM", level=7, levels={})
    host.ok(Command.SET_DENOMINATION_LEVEL, (20).to_bytes(2, "little"), vc(100))
    host.ok(Command.SET_DENOMINATION_LEVEL, (5).to_bytes(2, "little"), vc(100))
    assert host.ok(Command.GET_DENOMINATION_LEVEL, vc(100)) == (25).to_bytes(2, "little")
    assert host.cmd(Command.GET_DENOMINATION_LEVEL, vc(7)) == b"\xf5"
    # keep at most 10 x 1.00 after a payout: the rest goes to the cashbox
    host.ok(Command.SET_CASHBOX_PAYOUT_LIMIT, bytes((1,)) + entry(10, 100))
    host.ok(Command.PAYOUT_AMOUNT, vc(500), REAL)
    seen = host.poll_until(PollEvent.DISPENSED)
    assert [e.amounts[0].value for e in seen if e.code == PollEvent.CASHBOX_PAID] == [1000]
    assert emu.levels == {next(iter(emu.levels)): 10}
    host.ok(Command.SET_DENOMINATION_LEVEL, (0).to_bytes(2, "little"), vc(100))
    assert host.ok(Command.GET_DENOMINATION_LEVEL, vc(100)) == b"\x00\x00"
    ledger = emu.ledger
    ledger.check()
    assert ledger.count("cashbox_paid") == 10 and ledger.count("unloaded") == 10
    assert host.ok(Command.GET_MINIMUM_PAYOUT, b"EUR") == (5).to_bytes(4, "little")


def test_nv11_float_commands(emulators, make_host):
    emu = emulators("NV11")
    host = make_host(emu)
    host.startup(7)
    host.ok(Command.SET_INHIBITS, 0xFF, 0xFF)
    host.ok(Command.ENABLE_PAYOUT_DEVICE, 0x01)  # GIVE_VALUE_ON_STORED
    host.ok(Command.ENABLE)
    assert host.cmd(Command.PAYOUT_NOTE) == b"\xf5\x02"  # empty
    for value in (500, 1000):
        assert emu.insert_note(value)
        host.poll_until(PollEvent.NOTE_STORED_IN_PAYOUT)
    stored = [e for e in host.events if e.code == PollEvent.NOTE_STORED_IN_PAYOUT]
    assert [e.amounts[0].value for e in stored] == [500, 1000]  # NV11: count-prefixed value
    positions = host.ok(Command.GET_NOTE_POSITIONS)
    assert positions == bytes((2,)) + (500).to_bytes(4, "little") + (1000).to_bytes(4, "little")
    host.ok(Command.SET_VALUE_REPORTING_TYPE, 1)
    assert host.ok(Command.GET_NOTE_POSITIONS) == bytes((2, 1, 2))
    host.ok(Command.STACK_NOTE)  # the last in (10.00) goes to the cashbox
    moved = host.poll_until(PollEvent.NOTE_TRANSFERRED_TO_STACKER)
    assert next(e.amounts for e in moved if e.code == PollEvent.NOTE_TRANSFERRED_TO_STACKER)[0].value == 1000
    host.ok(Command.PAYOUT_NOTE)
    seen = host.poll_until(PollEvent.DISPENSED, on_event=lambda e: emu.take_notes())
    assert [e.amounts[0].value for e in seen if e.code == PollEvent.DISPENSED] == [500]
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(1000, "EUR").transferred == 1 and ledger.get(500, "EUR").dispensed == 1


def test_dispensed_needs_ack_under_poll_with_ack(emulators, make_host):
    emu, host = coin_ready(emulators, make_host, level=8)
    host.ok(Command.PAYOUT_AMOUNT, vc(30), REAL)
    host.poll_until(PollEvent.DISPENSED, with_ack=True)
    assert PollEvent.DISPENSED in codes(host.poll(with_ack=True))
    host.ok(Command.EVENT_ACK)
    assert PollEvent.DISPENSED not in codes(host.poll(with_ack=True))
    emu.ledger.check()


@pytest.mark.parametrize("level", [6, 7, 8])
def test_error_during_payout(emulators, make_host, level):
    emu, host = note_ready(emulators, make_host, level=level)
    emu.payout_error(0)  # reverse validation failure
    host.ok(Command.PAYOUT_AMOUNT, vc(1000), REAL)
    seen = host.poll_until(PollEvent.NOTE_TRANSFERRED_TO_STACKER)
    error = next(e for e in seen if e.code == PollEvent.ERROR_DURING_PAYOUT)
    assert error.error == 0
    if level >= 7:
        assert error.amounts[0].value == 0 and error.amounts[0].country == "EUR"
    moved = next(e for e in seen if e.code == PollEvent.NOTE_TRANSFERRED_TO_STACKER)
    assert moved.amounts[0].value == 1000
    assert PollEvent.DISPENSED not in codes(seen) and emu.status()["job"] is None
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(1000, "EUR").transferred == 1 and ledger.dispensed_total() == 0


def test_hopper_jam_stalls_payout_until_the_power_is_cycled(emulators, make_host):
    emu, host = coin_ready(emulators, make_host, coin_step=0.2)
    host.ok(Command.PAYOUT_AMOUNT, vc(500), REAL)
    host.poll_until(PollEvent.DISPENSING)
    emu.jam()
    jammed = host.poll_until(PollEvent.JAMMED)
    value = next(e for e in reversed(jammed) if e.code == PollEvent.JAMMED).amounts[0].value
    for _ in range(3):
        events = host.poll()
        assert PollEvent.JAMMED in codes(events)
        assert [e.amounts[0].value for e in events if e.code == PollEvent.JAMMED] == [value]
    assert host.cmd(Command.ENABLE) == b"\xf5"
    # GA973 (SMART Hopper "Coin jam"): recovered by removing power; the payout never resumes by
    # itself, so clearing the jam leaves it JAMMED, and the power-up reports what was paid
    emu.clear_jam()
    for _ in range(3):
        events = host.poll()
        assert [e.amounts[0].value for e in events if e.code == PollEvent.JAMMED] == [value]
        assert PollEvent.DISPENSED not in codes(events)
    emu.power_cycle()
    host.link.set_key(0x10, None)
    first = host.startup(7)
    incomplete = [e for e in first if e.code == PollEvent.INCOMPLETE_PAYOUT]
    assert [(e.amounts[0].value, e.requested[0].value) for e in incomplete] == [(value, 500)]
    assert emu.ledger.dispensed_total() == value
    emu.ledger.check()


def test_incomplete_float_after_power_loss(emulators, make_host):
    emu, host = coin_ready(emulators, make_host, coin_step=0.05)
    host.ok(Command.FLOAT_AMOUNT, (5).to_bytes(2, "little"), vc(100), REAL)
    assert settle(emu, lambda e: e.ledger.total("floated") > 0, 5)
    emu.power_cycle()
    host.link.set_key(0x10, None)
    first = host.startup(7)
    incomplete = [e for e in first if e.code == PollEvent.INCOMPLETE_FLOAT]
    assert len(incomplete) == 1 and incomplete[0].requested[0].value == 100
    emu.ledger.check()


def test_protocol_5_forms(emulators, make_host):
    """Below protocol 6: no country codes, 4-byte amounts, V4 events, uint16 hopper values."""
    emu, host = coin_ready(emulators, make_host, level=5)
    assert {a.country for a in host.setup.values} == {""}
    host.ok(Command.SET_DENOMINATION_ROUTE, 1, (200).to_bytes(2, "little"))
    assert host.ok(Command.GET_DENOMINATION_ROUTE, (200).to_bytes(2, "little")) == b"\x01"
    assert host.cmd(Command.PAYOUT_AMOUNT, vc(30), REAL) == b"\xf3"  # the v6 form is too long
    host.ok(Command.PAYOUT_AMOUNT, (30).to_bytes(4, "little"))
    seen = host.poll_until(PollEvent.DISPENSED)
    assert [e.amounts for e in seen if e.code == PollEvent.DISPENSED] == [(Amount(30, ""),)]
    assert host.cmd(Command.PAYOUT_BY_DENOMINATION, bytes((1,)) + entry(1, 5), REAL) == b"\xf4"  # v6 only
    emu.ledger.check()
