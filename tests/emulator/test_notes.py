"""Note path on every note model: accept, hold, reject, escrow timeout, rejects, jams, cashbox,
fraud, watchdog, POLL WITH ACK -- with the ledger balanced after each scenario."""

from __future__ import annotations

import pytest
from support import settle

from cashdevice.emulator import MODELS
from cashdevice.ssp import Command, PollEvent

NOTE_MODELS = [m for m, s in MODELS.items() if s.kind == "notes"]

pytestmark = pytest.mark.virtual_clock  # mechanical time moves with the host's polls, not the wall clock


def ready(emulators, make_host, model, level=None, **kwargs):
    emu = emulators(model, **kwargs)
    host = make_host(emu)
    host.startup(level or min(8, emu.spec.protocol_max))
    host.ok(Command.SET_INHIBITS, 0xFF, 0xFF)
    host.ok(Command.ENABLE)
    return emu, host


def codes(events):
    return [e.code for e in events]


@pytest.mark.parametrize("model", NOTE_MODELS)
def test_accept_sequence(emulators, make_host, model):
    emu, host = ready(emulators, make_host, model, read_time=0.2)  # long enough to see READ 0
    assert emu.insert_note(1000)
    seen = host.poll_until(PollEvent.STACKED, timeout=5)
    c = codes(seen)
    channel = emu.denominations.index(next(d for d in emu.denominations if d.value == 1000)) + 1
    reads = [e.channel for e in seen if e.code == PollEvent.READ]
    assert reads[0] == 0 and reads[-1] == channel
    assert c.index(PollEvent.STACKING) < c.index(PollEvent.CREDIT) < c.index(PollEvent.STACKED)
    assert [e.channel for e in seen if e.code == PollEvent.CREDIT] == [channel]
    assert host.ok(Command.LAST_REJECT_CODE) == b"\x00"
    assert host.credited_value() == 1000
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(1000, "EUR").stacked == 1 and emu.cashbox == {emu.denominations[channel - 1]: 1}


@pytest.mark.parametrize("model", ["NOTE_VALIDATOR", "SMART_PAYOUT"])
def test_hold_then_host_reject(emulators, make_host, model):
    emu, host = ready(emulators, make_host, model, escrow_timeout=0.3)
    assert emu.insert_note(500)
    host.poll_until(PollEvent.READ, where=lambda e: bool(e.channel))  # the note is in escrow
    # HOLD keeps the note past the escrow timeout
    for _ in range(8):
        host.ok(Command.HOLD)
        assert not settle(emu, lambda e: not e.status()["escrow"], 0.1)
    assert emu.status()["escrow"]
    host.ok(Command.REJECT)
    seen = host.poll_until(PollEvent.REJECTED)
    assert PollEvent.REJECTING in codes(seen) and PollEvent.CREDIT not in codes(host.events)
    assert host.ok(Command.LAST_REJECT_CODE) == b"\x08"
    # REJECT / HOLD with nothing in escrow: F5
    assert host.cmd(Command.REJECT) == b"\xf5"
    assert host.cmd(Command.HOLD) == b"\xf5"
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(500, "EUR").rejected == 1 and ledger.count("credited") == 0


def test_escrow_timeout_rejects_with_0x13(emulators, make_host):
    emu, host = ready(emulators, make_host, "NOTE_VALIDATOR", escrow_timeout=0.3)
    assert emu.insert_note(2000)
    host.poll_until(PollEvent.READ, where=lambda e: bool(e.channel))  # the note is in escrow
    # the host falls silent: no command at all
    assert settle(emu, lambda e: e.status()["note"] is None, 3)
    seen = host.poll_until(PollEvent.REJECTED)
    assert PollEvent.CREDIT not in codes(seen)
    assert host.ok(Command.LAST_REJECT_CODE) == b"\x13"
    emu.ledger.check()


@pytest.mark.parametrize(
    ("value", "inhibits", "code"),
    [(2000, (0xFF, 0x00), 0x00), (2000, (0x03, 0x00), 0x06), (1234, (0xFF, 0x00), 0x02)],
)
def test_validation_rejects(emulators, make_host, value, inhibits, code):
    emu, host = ready(emulators, make_host, "NOTE_VALIDATOR")
    host.ok(Command.SET_INHIBITS, *inhibits)
    assert emu.insert_note(value)
    if code == 0:
        host.poll_until(PollEvent.STACKED)
    else:
        seen = host.poll_until(PollEvent.REJECTED)
        assert [e.channel for e in seen if e.code == PollEvent.READ] == [0] * len(
            [e for e in seen if e.code == PollEvent.READ]
        )
    assert host.ok(Command.LAST_REJECT_CODE) == bytes((code,))
    emu.ledger.check()


def test_forced_reject_and_fraud(emulators, make_host):
    emu, host = ready(emulators, make_host, "SPECTRAL_PAYOUT")
    assert emu.insert_note(500, reject=0x1C)
    host.poll_until(PollEvent.REJECTED)
    assert host.ok(Command.LAST_REJECT_CODE) == b"\x1c"
    assert emu.insert_note(500, fraud=True)
    seen = host.poll_until(PollEvent.REJECTED)
    assert [e.channel for e in seen if e.code == PollEvent.FRAUD_ATTEMPT] == [1]
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(500, "EUR").rejected == 2


def test_disabled_unit_refuses_notes(emulators, make_host):
    emu, host = ready(emulators, make_host, "NOTE_VALIDATOR")
    host.ok(Command.DISABLE)
    assert not emu.insert_note(500)
    assert PollEvent.DISABLED in codes(host.poll())
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(500, "EUR").refused == 1 and ledger.get(500, "EUR").inserted == 0


@pytest.mark.parametrize("kind", ["safe", "unsafe"])
def test_jam_and_clear(emulators, make_host, kind):
    emu, host = ready(emulators, make_host, "NOTE_VALIDATOR")
    assert emu.insert_note(500)
    host.poll_until(PollEvent.READ)
    emu.jam(kind)
    expected = PollEvent.SAFE_JAM if kind == "safe" else PollEvent.UNSAFE_JAM
    events = host.poll()
    assert expected in codes(events) and PollEvent.DISABLED in codes(events)
    assert expected in codes(host.poll())  # repeats while jammed
    assert host.cmd(Command.ENABLE) == b"\xf5"
    emu.ledger.check()
    emu.clear_jam()
    events = host.poll()
    assert PollEvent.NOTE_CLEARED_FROM_FRONT in codes(events) and expected not in codes(events)
    host.ok(Command.ENABLE)
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(500, "EUR").rejected == 1


def test_cashbox_removed_replaced_and_stacker_full(emulators, make_host):
    emu, host = ready(emulators, make_host, "NOTE_VALIDATOR", cashbox_capacity=2)
    for _ in range(2):
        assert emu.insert_note(500)
        host.poll_until(PollEvent.STACKED)
    assert PollEvent.STACKER_FULL in codes(host.events)
    assert not emu.insert_note(500)  # full: refused
    emu.remove_cashbox()
    assert codes(host.poll()).count(PollEvent.CASHBOX_REMOVED) == 1
    assert PollEvent.CASHBOX_REMOVED in codes(host.poll())
    emu.replace_cashbox(emptied=True)
    events = host.poll()
    assert PollEvent.CASHBOX_REPLACED in codes(events) and PollEvent.CASHBOX_REMOVED not in codes(events)
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(500, "EUR").collected == 2 and emu.cashbox == {}
    assert emu.insert_note(500)
    host.poll_until(PollEvent.STACKED)
    emu.ledger.check()


def test_note_path_open_reported_from_protocol_6(emulators, make_host):
    emu, host = ready(emulators, make_host, "SMART_PAYOUT", level=6)
    emu.open_note_path()
    assert PollEvent.NOTE_PATH_OPEN in codes(host.poll())
    assert not emu.insert_note(500)
    emu.close_note_path()
    assert PollEvent.NOTE_PATH_OPEN not in codes(host.poll())


def test_watchdog_disables_after_silence(emulators, make_host):
    emu, host = ready(emulators, make_host, "NOTE_VALIDATOR", watchdog=0.3)
    assert emu.status()["enabled"]
    assert settle(emu, lambda e: not e.status()["enabled"], 3)
    assert PollEvent.DISABLED in codes(host.poll())


def test_poll_with_ack_repeats_credit_until_acknowledged(emulators, make_host):
    emu, host = ready(emulators, make_host, "SMART_PAYOUT")
    assert host.cmd(Command.EVENT_ACK) == b"\xf5"  # nothing to acknowledge
    assert emu.insert_note(1000)
    host.poll_until(PollEvent.CREDIT, with_ack=True)
    # unacknowledged: CREDIT repeats and the note does not move on
    held = emu.status()["note"]
    for _ in range(5):
        assert not settle(emu, lambda e: e.status()["note"] != held, 0.05)
        events = host.poll(with_ack=True)
        assert PollEvent.CREDIT in codes(events) and PollEvent.STACKED not in codes(events)
    host.ok(Command.EVENT_ACK)
    seen = host.poll_until(PollEvent.STACKED, with_ack=True)
    assert PollEvent.CREDIT not in codes(seen)
    emu.ledger.check()
    assert emu.ledger.count("credited") == 1


def test_protocol_4_and_5_event_sets(emulators, make_host):
    emu = emulators("NOTE_VALIDATOR", currency="GBP")
    host = make_host(emu)
    host.startup(4)
    assert [v.value for v in host.setup.values] == [500, 1000, 2000, 5000]
    host.ok(Command.SET_INHIBITS, 0xFF)
    host.ok(Command.ENABLE)
    emu.remove_cashbox()
    assert PollEvent.CASHBOX_REMOVED not in codes(host.poll())  # a protocol 5 event
    host.ok(Command.HOST_PROTOCOL_VERSION, 5)
    host.level = 5
    assert PollEvent.CASHBOX_REMOVED in codes(host.poll())


def test_multi_currency_dataset(emulators, make_host):
    emu, host = ready(emulators, make_host, "NOTE_VALIDATOR", currency="EUR,GBP")
    host.ok(Command.SET_INHIBITS, 0xFF, 0xFF)
    assert [a.country for a in host.setup.values] == ["EUR"] * 7 + ["GBP"] * 4
    assert emu.insert_note(1000, "GBP")
    seen = host.poll_until(PollEvent.STACKED)
    assert [e.channel for e in seen if e.code == PollEvent.CREDIT] == [9]
    assert emu.ledger.get(1000, "GBP").credited == 1


def test_routes_store_or_stack(emulators, make_host):
    emu, host = ready(emulators, make_host, "SMART_PAYOUT")
    host.ok(Command.ENABLE_PAYOUT_DEVICE)
    host.ok(Command.SET_DENOMINATION_ROUTE, 1, (500).to_bytes(4, "little"), b"EUR")
    assert host.ok(Command.GET_DENOMINATION_ROUTE, (500).to_bytes(4, "little"), b"EUR") == b"\x01"
    assert host.cmd(Command.SET_DENOMINATION_ROUTE, 0, (700).to_bytes(4, "little"), b"EUR") == b"\xf4"
    assert emu.insert_note(500)
    host.poll_until(PollEvent.STACKED)
    assert emu.insert_note(1000)
    host.poll_until(PollEvent.NOTE_STORED_IN_PAYOUT)
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(500, "EUR").stacked == 1 and ledger.get(1000, "EUR").stored == 1


def test_channel_disable_when_all_inhibited(emulators, make_host):
    _emu, host = ready(emulators, make_host, "NOTE_VALIDATOR", level=7)
    host.ok(Command.SET_INHIBITS, 0x00, 0x00)
    assert PollEvent.CHANNEL_DISABLE in codes(host.poll())
    assert PollEvent.CHANNEL_DISABLE not in codes(host.poll())


def test_full_recycler_sends_notes_to_cashbox(emulators, make_host):
    emu, host = ready(emulators, make_host, "SPECTRAL_PAYOUT", store_capacity=1)
    host.ok(Command.ENABLE_PAYOUT_DEVICE)
    assert emu.insert_note(500)
    host.poll_until(PollEvent.NOTE_STORED_IN_PAYOUT)
    assert emu.insert_note(500)
    host.poll_until(PollEvent.STACKED)
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(500, "EUR").stored == 1 and ledger.get(500, "EUR").stacked == 1


@pytest.mark.parametrize(("model", "expected"), [("NOTE_VALIDATOR", 0xE2), ("SMART_PAYOUT", 0xCB)])
def test_power_loss_with_note_in_path(emulators, make_host, model, expected):
    emu, host = ready(emulators, make_host, model, stack_time=2.0)
    if emu.spec.payout:
        host.ok(Command.ENABLE_PAYOUT_DEVICE)
    assert emu.insert_note(1000)
    host.poll_until(PollEvent.CREDIT)
    emu.power_cycle()  # the credited note is still on its way
    emu.ledger.check()
    host.link.set_key(0, None)
    first = host.startup(min(8, emu.spec.protocol_max))
    assert PollEvent.SLAVE_RESET in codes(first) and expected not in codes(first)
    first += host.poll()  # GA973: the note moved at power-up comes in the poll after SLAVE RESET's
    assert expected in codes(first)
    ledger = emu.ledger
    ledger.check()
    assert ledger.credited_total() == 1000 == host.credited_value()


def test_power_loss_before_credit_returns_the_note(emulators, make_host):
    emu, host = ready(emulators, make_host, "NOTE_VALIDATOR", read_time=2.0)
    assert emu.insert_note(1000)
    emu.power_cycle()
    host.link.set_key(0, None)
    first = host.startup(7)
    first += host.poll()  # GA973: the note moved at power-up comes in the poll after SLAVE RESET's
    assert [e.channel for e in first if e.code == PollEvent.NOTE_CLEARED_FROM_FRONT] == [2]
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(1000, "EUR").rejected == 1 and ledger.count("credited") == 0
