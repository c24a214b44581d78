"""Coin devices: coin mech credit, inhibits, hopper options, counters, RTC, SMART System commands."""

from __future__ import annotations

import pytest
from support import settle

from cashdevice.emulator.datasets import UNVERIFIED_COMMANDS
from cashdevice.ssp import Command, PollEvent

pytestmark = pytest.mark.virtual_clock  # mechanical time moves with the host's polls, not the wall clock


def vc(value: int, country: str = "EUR") -> bytes:
    return value.to_bytes(4, "little") + country.encode()


def codes(events):
    return [e.code for e in events]


def ready(emulators, make_host, model, level=7, **kwargs):
    emu = emulators(model, **kwargs)
    host = make_host(emu)
    host.startup(level)
    host.ok(Command.ENABLE)
    return emu, host


@pytest.mark.parametrize(
    "model", ["SMART_HOPPER", "SMART_COIN_SYSTEM", "TWIN_SMART_COIN_SYSTEM", "SMART_HOPPER_4"]
)
def test_setup_request_hopper_layout(emulators, make_host, model):
    emu = emulators(model, currency="GBP")
    host = make_host(emu)
    host.startup(7)
    assert host.setup.unit_type == emu.spec.unit_type
    assert [a.value for a in host.setup.values] == [1, 2, 5, 10, 20, 50, 100, 200]
    assert {a.country for a in host.setup.values} == {"GBP"}


def test_coin_inhibits_and_global_inhibit(emulators, make_host):
    emu, host = ready(emulators, make_host, "SMART_HOPPER")
    host.ok(Command.SET_COIN_MECH_INHIBITS, 0, (50).to_bytes(2, "little"), b"EUR")
    assert emu.insert_coin(50)  # taken in and returned by the mech
    assert emu.insert_coin(100)
    host.poll_until(PollEvent.COIN_CREDIT)
    assert host.credited_value() == 100
    host.ok(Command.COIN_MECH_GLOBAL_INHIBIT, 0)
    assert PollEvent.ATTACHED_COIN_MECH_DISABLED in codes(host.poll())
    assert emu.insert_coin(100)
    host.ok(Command.COIN_MECH_GLOBAL_INHIBIT, 1)
    events = host.poll()
    assert PollEvent.ATTACHED_COIN_MECH_ENABLED in codes(events) and PollEvent.COIN_CREDIT not in codes(
        events
    )
    # plain: refused with F4 (encryption required)
    assert host.cmd(Command.COIN_MECH_GLOBAL_INHIBIT, 1, encrypt=False) == b"\xf4"
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(50, "EUR").rejected == 1 and ledger.get(100, "EUR").rejected == 1
    assert ledger.get(100, "EUR").stored == 1


def test_options_value_added_and_routes(emulators, make_host):
    emu, host = ready(emulators, make_host, "SMART_COIN_SYSTEM")
    assert host.ok(Command.GET_OPTIONS) == bytes((0x26, 0x00))
    # GA138 example: REG0 = 04 -> mode byte FE (split by highest value, no cashbox pay)
    assert host.ok(Command.SET_OPTIONS, 0x04, 0x00) == b"\xfe"
    assert host.ok(Command.SET_OPTIONS, 0x89, 0x00) == b"\xfd"
    seen = []
    host.ok(Command.SET_DENOMINATION_ROUTE, 1, vc(200))
    assert host.ok(Command.GET_DENOMINATION_ROUTE, vc(200)) == b"\x01"
    assert emu.insert_coin(200)
    seen = host.poll_until(PollEvent.VALUE_ADDED)
    assert next(e.amounts for e in seen if e.code == PollEvent.VALUE_ADDED)[0].value == 200
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(200, "EUR").stacked == 1 and emu.levels == {}
    emu.power_cycle()
    host.link.set_key(0x10, None)
    host.startup(7)
    assert host.ok(Command.GET_OPTIONS) == bytes((0x26, 0x00))  # volatile
    assert host.ok(Command.GET_DENOMINATION_ROUTE, vc(200)) == b"\x01"  # persistent


def test_counters_forms(emulators, make_host):
    emu, host = ready(emulators, make_host, "SMART_COIN_SYSTEM")
    for _ in range(3):
        assert emu.insert_coin(100)
    reply = host.ok(Command.GET_COUNTERS)
    assert reply[0] == 9 and len(reply) == 1 + 36
    values = [int.from_bytes(reply[1 + 4 * i : 5 + 4 * i], "little") for i in range(9)]
    assert values[1] == 3  # coins paid in
    _emu2, host2 = ready(emulators, make_host, "SMART_HOPPER")
    assert len(host2.ok(Command.GET_COUNTERS)) == 24  # SH3: six counters, no count byte
    _emu3, host3 = ready(emulators, make_host, "NOTE_VALIDATOR")
    assert host3.ok(Command.GET_COUNTERS)[0] == 5


def test_rtc_stir_and_setup_with_trailing_byte(emulators, make_host):
    _emu, host = ready(emulators, make_host, "SMART_COIN_SYSTEM")
    assert host.ok(Command.GET_REAL_TIME_CLOCK_CONFIGURATION) == b"\x01"
    host.ok(Command.SET_REAL_TIME_CLOCK, bytes((27, 11, 24, 14, 9, 30)))
    assert host.ok(Command.GET_REAL_TIME_CLOCK) == bytes((27, 11, 24, 14, 9, 30))
    assert host.cmd(Command.SET_REAL_TIME_CLOCK, bytes((32, 11, 24, 14, 9, 30))) == b"\xf4"
    host.ok(Command.COIN_STIR, 5)
    assert host.cmd(Command.COIN_STIR, 5, encrypt=False) == b"\xf4"
    assert host.ok(Command.SETUP_REQUEST, 0x05) == host.ok(Command.SETUP_REQUEST)
    # plain SMART Hopper has no RTC
    _emu2, host2 = ready(emulators, make_host, "SMART_HOPPER")
    assert host2.cmd(Command.GET_REAL_TIME_CLOCK) == b"\xf2"


def test_twin_mode_unverified_table(emulators, make_host):
    emu, host = ready(emulators, make_host, "TWIN_SMART_COIN_SYSTEM")
    twin = UNVERIFIED_COMMANDS["SET_TWIN_MODE"]
    host.ok(twin, 1)
    assert emu.device.twin_mode == 1
    assert host.cmd(twin, 1) == b"\xf5"  # already active
    assert host.cmd(twin, 4) == b"\xf5"  # unknown mode
    host.ok(UNVERIFIED_COMMANDS["SET_SORTER_ROUTE"], vc(100), 1)
    _emu2, host2 = ready(emulators, make_host, "SMART_COIN_SYSTEM")
    assert host2.cmd(twin, 1) == b"\xf2"


def test_unknown_command_f2(emulators, make_host):
    _emu, host = ready(emulators, make_host, "SMART_HOPPER")
    assert host.cmd(0x6A) == b"\xf2"
    assert host.cmd(Command.SET_INHIBITS, 0xFF) == b"\xf2"  # a validator command


def test_unverified_smart_system_commands(emulators, make_host):
    emu, host = ready(emulators, make_host, "SMART_COIN_SYSTEM", levels={100: 10, 50: 10})
    u = UNVERIFIED_COMMANDS
    host.ok(u["SET_PAYOUT_LIMIT"], (3).to_bytes(2, "little"))
    # 2.50 needs three coins (1.00 + 1.00 + 0.50): allowed; 3.50 needs four: refused
    host.ok(Command.PAYOUT_AMOUNT, vc(250), 0x19)
    assert host.ok(u["GET_PAYOUT_COUNT"]) == (3).to_bytes(2, "little")
    assert host.cmd(Command.PAYOUT_AMOUNT, vc(350), 0x19) == b"\xf5\x02"
    assert host.ok(u["GET_PAYOUT_COUNT"]) == (4).to_bytes(2, "little")
    assert host.ok(u["GET_COIN_ACCEPTANCE"], 0) == bytes((100,))
    host.ok(Command.SET_COIN_MECH_INHIBITS, 0, (20).to_bytes(2, "little"), b"EUR")
    assert emu.insert_coin(20) and emu.insert_coin(100)
    assert host.ok(u["GET_COIN_ACCEPTANCE"], 1) == bytes((50,))
    assert host.cmd(u["GET_COIN_ACCEPTANCE"], 2) == b"\xf4"  # no secondary hopper
    ext = host.ok(u["EXTENDED_GET_FIRMWARE_VERSION"]).decode()
    assert ext.startswith(emu.spec.firmware + "_") and len(ext) == 16 + 18
    assert host.ok(u["EXTENDED_GET_DATASET_VERSION"]).decode().startswith("EUR01056_")
    _emu2, host2 = ready(emulators, make_host, "SMART_HOPPER")
    assert host2.cmd(u["GET_PAYOUT_COUNT"]) == b"\xf2"  # not on a plain SMART Hopper


def test_smart_hopper_enable_echo(emulators, make_host):
    emu, host = ready(emulators, make_host, "SMART_HOPPER", hopper_enable_echo=True)
    assert PollEvent.DISABLED in codes(host.poll())  # GA973: once more after ENABLE
    assert PollEvent.DISABLED not in codes(host.poll())
    assert emu.enabled


def test_coin_mech_jam_and_return_lever(emulators, make_host):
    emu, host = ready(emulators, make_host, "SMART_COIN_SYSTEM")
    emu.coin_mech_jam()
    assert PollEvent.COIN_MECH_JAMMED in codes(host.poll())
    assert not emu.insert_coin(100)
    emu.clear_jam()
    emu.press_coin_return()
    assert PollEvent.COIN_MECH_RETURN_PRESSED in codes(host.poll())
    assert emu.insert_coin(100)
    ledger = emu.ledger
    ledger.check()
    assert ledger.get(100, "EUR").refused == 1 and ledger.get(100, "EUR").credited == 1


def test_hopper_fraud_needs_reset(emulators, make_host):
    emu, host = ready(emulators, make_host, "SMART_HOPPER_4", levels={100: 20}, coin_step=0.2)
    host.ok(Command.PAYOUT_AMOUNT, vc(1000), 0x58)
    assert settle(emu, lambda e: e.ledger.dispensed_total() >= 100, 5)
    emu.hopper_fraud()
    events = host.poll()
    fraud = [e for e in events if e.code == PollEvent.FRAUD_ATTEMPT]
    assert len(fraud) == 1 and fraud[0].amounts[0].country == "EUR"
    assert fraud[0].amounts[0].value == emu.ledger.dispensed_total() < 1000
    assert host.cmd(Command.ENABLE) == b"\xf5"
    host.ok(Command.RESET)
    assert emu.wait_for(lambda e: not e.engine.key_negotiated)
    host.link.set_key(0x10, None)
    assert host.startup(7)[0].code == PollEvent.SLAVE_RESET
    host.ok(Command.ENABLE)
    emu.ledger.check()


def test_unverified_scs_rows_on_the_wire(emulators, make_host):
    """The emulator answers every SMART System row of the driver's table (test-only codes)."""
    emu, host = ready(emulators, make_host, "TWIN_SMART_COIN_SYSTEM", levels={100: 5})
    u = UNVERIFIED_COMMANDS
    # PURGE clears a coin stuck behind the flap (CALIBRATION FAILED) into the cashbox as unknown
    emu.device.coin_stuck(0, 1)
    assert PollEvent.CALIBRATION_FAILED in codes(host.poll())
    host.ok(u["PURGE"], 0, 1)
    assert emu.device.stuck == set()
    assert host.cmd(u["PURGE"], 2) == b"\xf4"
    # cashbox levels: n x [u16, u32, country] + u32 unknown
    host.ok(u["SET_CASHBOX_LEVELS"], (4).to_bytes(2, "little"), vc(50))
    levels = host.ok(u["GET_CASHBOX_LEVELS"])
    assert levels[0] == 6 and len(levels) == 1 + 9 * 6 + 4
    assert levels[1 + 9 * 3 : 1 + 9 * 4] == (4).to_bytes(2, "little") + vc(50)
    assert levels[-4:] == (1).to_bytes(4, "little")
    host.ok(u["CLEAR_CASHBOX_LEVELS"])
    assert host.ok(u["GET_CASHBOX_LEVELS"])[1:3] == b"\x00\x00"
    # coins exit after a payout of 2 coins
    host.ok(Command.PAYOUT_AMOUNT, vc(200), 0x58)
    host.poll_until(PollEvent.DISPENSED)
    assert emu.ledger.dispensed_total() == 200
    assert host.ok(u["GET_COINS_EXIT"]) == bytes((2, 0, 2, 0))
    # no-payin count -> MAINTENANCE REQUIRED
    host.ok(u["SET_NO_PAYIN_COUNT"], 1)
    emu.device.coin_sensed_no_payin()
    assert PollEvent.MAINTENANCE_REQUIRED in codes(host.poll_until(PollEvent.MAINTENANCE_REQUIRED))
    assert host.ok(u["GET_LIFTER_STATUS"]) == b"\x01\x01\x00"
    # service information: module form, lifetime counts
    assert len(host.ok(u["GET_SERVICE_INFORMATION"], 0, 5)) == 12
    assert host.cmd(u["GET_SERVICE_INFORMATION"], 1) == b"\xf3"  # NV4000 form only on an NV4000
    host.ok(u["SET_SERVICE_INFORMATION"], 2, 1, 11, 24)
    assert host.ok(u["GET_SERVICE_INFORMATION"], 2, 2)[:3] == bytes((1, 11, 24))
    host.ok(u["SERVICE_MAINTENANCE_RESET"], b"4724")
    assert host.cmd(u["SERVICE_MAINTENANCE_RESET"], b"99xx") == b"\xf4"
    assert host.ok(u["GET_GLOBAL_ERROR_CODE"]) == b"\x00\x00"
    # coin stir with mode (0x5D + mode byte)
    host.ok(Command.COIN_STIR, 5, 1)
    assert host.cmd(Command.COIN_STIR, 5, 2) == b"\xf4"
    _emu4, host4 = ready(emulators, make_host, "SMART_HOPPER_4")
    assert host4.cmd(u["GET_LIFTER_STATUS"]) == b"\xf2"
    assert host4.cmd(u["PURGE"], 1) == b"\xf4"  # no feeder
    _emu3, host3 = ready(emulators, make_host, "SMART_HOPPER")
    for name in ("PURGE", "GET_CASHBOX_LEVELS", "GET_SERVICE_INFORMATION", "GET_GLOBAL_ERROR_CODE"):
        assert host3.cmd(u[name]) == b"\xf2", name
