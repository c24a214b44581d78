"""The issue's acceptance flow on every payout model and protocol level: SYNC, key exchange,
HOST PROTOCOL VERSION, SETUP REQUEST, ENABLE, a credit, an encrypted PAYOUT AMOUNT with
DISPENSING / DISPENSED, GET ALL LEVELS -- and the ledger balancing against the host's view."""

from __future__ import annotations

import pytest

from cashdevice.emulator import MODELS
from cashdevice.ssp import Command, PollEvent

pytestmark = pytest.mark.virtual_clock  # mechanical time moves with the host's polls, not the wall clock

NOTE_PAYOUT = ["SPECTRAL_PAYOUT", "SMART_PAYOUT", "NV11", "NV4000"]
COIN_PAYOUT = ["SMART_HOPPER", "SMART_COIN_SYSTEM", "TWIN_SMART_COIN_SYSTEM", "SMART_HOPPER_4"]
CASES = [(m, lvl) for m in NOTE_PAYOUT + COIN_PAYOUT for lvl in (6, 7, 8) if lvl <= MODELS[m].protocol_max]


def value_country(value: int, country: str = "EUR") -> bytes:
    return value.to_bytes(4, "little") + country.encode()


def all_levels(reply: bytes) -> dict[tuple[int, str], int]:
    n = reply[0]
    out = {}
    for i in range(n):
        p = 1 + 9 * i
        out[(int.from_bytes(reply[p + 2 : p + 6], "little"), reply[p + 6 : p + 9].decode())] = int.from_bytes(
            reply[p : p + 2], "little"
        )
    return out


@pytest.mark.parametrize(("model", "level"), CASES)
def test_full_session(emulators, make_host, model, level):
    emu = emulators(model, coin_step=0.05)  # steps between polls: DISPENSING is seen
    host = make_host(emu)
    first = host.startup(level)
    assert [e.code for e in first] == [PollEvent.SLAVE_RESET, PollEvent.DISABLED]
    # GET SERIAL NUMBER (big-endian) and firmware agree with the model's data
    assert int.from_bytes(host.ok(Command.GET_SERIAL_NUMBER), "big") == emu.spec.serial
    assert host.ok(Command.GET_FIRMWARE_VERSION).decode() == emu.spec.firmware

    if emu.spec.kind == "notes":
        host.ok(Command.SET_INHIBITS, 0xFF, 0xFF)
        host.ok(Command.SET_DENOMINATION_ROUTE, 0, value_country(2000))
        host.ok(Command.ENABLE_PAYOUT_DEVICE)
        host.ok(Command.ENABLE)
        assert emu.insert_note(2000)
        seen = host.poll_until(PollEvent.NOTE_STORED_IN_PAYOUT)
        codes = [e.code for e in seen]
        assert codes.count(PollEvent.CREDIT) == 1
        assert (
            codes.index(PollEvent.READ)
            < codes.index(PollEvent.CREDIT)
            < codes.index(PollEvent.NOTE_STORED_IN_PAYOUT)
        )
        assert host.credited_value() == 2000
        payout = 2000
    else:
        host.ok(Command.COIN_MECH_GLOBAL_INHIBIT, 1)
        host.ok(Command.ENABLE)
        for coin in (100, 100, 50, 20):
            assert emu.insert_coin(coin)
        seen = host.poll_until(PollEvent.COIN_CREDIT)
        for _ in range(20):
            if host.credited_value() >= 270:
                break
            host.poll()
        assert host.credited_value() == 270
        payout = 250

    levels = all_levels(host.ok(Command.GET_ALL_LEVELS))
    stored_before = sum(v * n for (v, _c), n in levels.items())
    assert stored_before == (2000 if emu.spec.kind == "notes" else 270)

    # test mode first: nothing moves
    host.ok(Command.PAYOUT_AMOUNT, value_country(payout), 0x19)
    assert emu.status()["job"] is None
    host.ok(Command.PAYOUT_AMOUNT, value_country(payout), 0x58, encrypt=True)
    seen = host.poll_until(PollEvent.DISPENSED, on_event=lambda e: emu.take_notes())
    dispensing = [e for e in seen if e.code == PollEvent.DISPENSING]
    assert dispensing, "DISPENSING must be reported while paying"
    assert all(e.amounts[0].country == "EUR" for e in dispensing)
    dispensed = [e for e in seen if e.code == PollEvent.DISPENSED]
    assert len(dispensed) == 1 and dispensed[0].amounts[0].value == payout
    assert any(e.code == PollEvent.DISABLED for e in seen)
    levels = all_levels(host.ok(Command.GET_ALL_LEVELS))
    assert sum(v * n for (v, _c), n in levels.items()) == stored_before - payout

    # DISPENSED is reported once only
    assert not any(e.code == PollEvent.DISPENSED for e in host.poll())
    ledger = emu.ledger
    ledger.check()
    assert ledger.total("credited") == host.credited_value()
    assert ledger.total("dispensed") == host.total(PollEvent.DISPENSED) == payout
