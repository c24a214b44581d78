"""The host's wanted device state converges (inhibits, the escrow hold, routes): whatever fails around a
request, the unit ends in the state the application asked for, and the host shows that state.  Each test
breaks one exchange or cuts the power, then compares the host's view with the emulator's."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from device_helpers import Recorder, open_emulated

from cashdevice import CashDevice, DeviceState, ValueCountryCode
from cashdevice.emulator import Emulator
from cashdevice.enums import DenominationRoute, SetDenominationRouteRequestResult
from cashdevice.ssp import Command

Make = Callable[..., Any]
COINS = ["SMART_HOPPER", "SMART_COIN_SYSTEM", "TWIN_SMART_COIN_SYSTEM"]
NOTES = ["SPECTRAL_PAYOUT", "NV11", "NV4000"]
QUICK = {"timeout": 0.05, "retries": 3}  # (a request nobody answers gives up in 0.2 s)


def polls(emu: Emulator, n: int, timeout: float = 10.0) -> None:
    """Wait until the unit has received ``n`` more polls or HOLDs (the host's poll thread has run)."""
    seen = [0]
    done = threading.Event()
    original = emu.engine.request_filter

    def count(code: int) -> bool:
        if code in (Command.POLL, Command.POLL_WITH_ACK, Command.HOLD):
            seen[0] += 1
            if seen[0] >= n:
                done.set()
        return True if original is None else original(code)

    emu.engine.request_filter = count
    try:
        assert done.wait(timeout), f"only {seen[0]} polls in {timeout} s"
    finally:
        emu.engine.request_filter = original


def reconnected(rec: Recorder, device: CashDevice, since: int) -> None:
    def running_again() -> bool:
        return "CONNECTED" in rec.states()[since:] and device.deviceState in (
            DeviceState.IDLE,
            DeviceState.DISABLED,
        )

    rec.wait_for(running_again, timeout=15, what="reconnected and polling")


def host_inhibited(device: CashDevice, value: int) -> bool:
    return next(e.IsInhibited for e in device.currencyAssignment if e.Value == value)


def unit_inhibited(emu: Emulator, value: int) -> bool:
    d = next(x for x in emu.device.channels if x.value == value)
    if emu.model in COINS:
        return d in emu.device.coin_inhibited
    return not emu.device.inhibits & (1 << (emu.device.channel_of(d) - 1))


def value_of(model: str) -> int:
    return 100 if model in COINS else 1000


@pytest.mark.parametrize("model", COINS)
def test_a_coin_the_host_inhibited_is_refused_after_a_power_cut(
    emulators: Make, devices: Make, model: str
) -> None:
    """A unit powers up with every coin accepted (GA973 §6.3.3): the host sends its inhibited
    coins again on reconnect.  (Before: only note inhibits were; the coin was credited.)"""
    emu, device, rec = open_emulated(emulators, devices, model, levels={})
    assert device.SetDenominationInhibit(ValueCountryCode(100, "EUR"), True)
    assert unit_inhibited(emu, 100)
    since = len(rec.states())
    emu.power_cycle()
    reconnected(rec, device, since)
    assert host_inhibited(device, 100) and unit_inhibited(emu, 100)
    assert not unit_inhibited(emu, 200)
    assert emu.insert_coin(100, wait=5)  # the mech takes it and hands it back
    assert emu.insert_coin(200, wait=5)
    rec.wait_cash("COIN_CREDIT")
    assert emu.ledger.credited_total() == 200
    assert [(k, v) for k, v, _ in rec.cash() if k == "COIN_CREDIT"] == [("COIN_CREDIT", 200)]


@pytest.mark.parametrize(
    "model,fault,inhibit",
    [(m, "reply lost", True) for m in NOTES + COINS]
    + [(m, "command lost", True) for m in ("SPECTRAL_PAYOUT", "SMART_COIN_SYSTEM")]
    + [(m, f, False) for m in ("NV11", "SMART_HOPPER") for f in ("reply lost", "command lost")],
)
def test_an_inhibit_request_without_an_answer_converges(
    emulators: Make, devices: Make, model: str, fault: str, inhibit: bool
) -> None:
    """Every copy of the request's reply is lost (the unit ran it) or of the request itself (it
    did not): the call answers False, the host shows the state asked for, and the poll thread
    sends it again until the unit acknowledges, so both agree.  (Before: the host kept its old
    view; a unit that had run the request took a note the host showed as inhibited.)"""
    emu, device, _ = open_emulated(emulators, devices, model, QUICK, levels={})
    value = value_of(model)
    code = Command.SET_COIN_MECH_INHIBITS if model in COINS else Command.SET_INHIBITS
    if not inhibit:
        assert device.SetDenominationInhibit(ValueCountryCode(value, "EUR"), True)
    if fault == "reply lost":
        emu.faults.mute(code, 1000)
    else:
        emu.faults.ignore(code, 1000)
    assert device.SetDenominationInhibit(ValueCountryCode(value, "EUR"), inhibit) is False
    assert host_inhibited(device, value) is inhibit
    assert unit_inhibited(emu, value) is (inhibit if fault == "reply lost" else not inhibit)
    polls(emu, 3)
    emu.faults.clear()
    polls(emu, 3)
    assert unit_inhibited(emu, value) is inhibit and host_inhibited(device, value) is inhibit
    assert device.deviceState == DeviceState.IDLE


@pytest.mark.parametrize("model", ["SPECTRAL_PAYOUT", "SMART_HOPPER"])
def test_an_inhibit_asked_for_while_the_unit_is_off_is_set_when_it_is_back(
    emulators: Make, devices: Make, model: str
) -> None:
    emu, device, rec = open_emulated(emulators, devices, model, QUICK, levels={})
    value = value_of(model)
    since = len(rec.states())
    emu.power_off()
    rec.wait_for(lambda: "NOT_CONNECTED" in rec.states()[since:], what="NOT_CONNECTED")
    assert device.SetDenominationInhibit(ValueCountryCode(value, "EUR"), True) is False
    since = len(rec.states())
    emu.power_on()
    reconnected(rec, device, since)
    assert host_inhibited(device, value) and unit_inhibited(emu, value)


@pytest.mark.parametrize("model", NOTES)
def test_a_note_held_in_escrow_when_the_power_goes_leaves_escrow_and_the_next_is_held(
    emulators: Make, devices: Make, model: str
) -> None:
    """auto_accept off: a 10.00 is held in escrow and the power goes; the unit returns it (NOTE
    CLEARED FROM FRONT).  The host no longer shows a note in escrow (AcceptFromEscrow has
    nothing to accept), and the customer's next 10.00 is held for the application again.
    (Before: noteInEscrow stayed True, and the next 10.00 on the same channel was stacked with
    no ESCROW event: the application never decided.)"""
    emu, device, rec = open_emulated(emulators, devices, model, {"auto_accept": False})
    assert emu.insert_note(1000, wait=5)
    rec.wait_cash("ESCROW")
    assert device.noteInEscrow
    since = len(rec.states())
    emu.power_cycle()
    reconnected(rec, device, since)
    rec.wait_cash("NOTE_CLEARED_FROM_FRONT")
    assert not device.noteInEscrow and not device.AcceptFromEscrow()
    assert emu.insert_note(1000, wait=5)
    rec.wait_cash("ESCROW", 2)
    polls(emu, 5)
    assert device.noteInEscrow and emu.ledger.credited_total() == 0
    assert device.AcceptFromEscrow()
    rec.wait_cash("STORED", timeout=10)
    assert emu.ledger.credited_total() == 1000


ROUTED = ["SPECTRAL_PAYOUT", "NV11", "SMART_HOPPER", "TWIN_SMART_COIN_SYSTEM"]


def host_route(device: CashDevice, value: int) -> DenominationRoute:
    return next(e.AcceptRoute for e in device.currencyAssignment if e.Value == value)


def unit_route(emu: Emulator, value: int) -> int:
    d = next(x for x in emu.device.channels if x.value == value)
    return int(emu.device.persistent.routes.get(d, 0))


@pytest.mark.parametrize("model", ROUTED)
@pytest.mark.parametrize("fault", ["reply lost", "command lost", "reply and read lost"])
def test_a_route_request_without_an_answer_ends_with_the_host_showing_the_units_route(
    emulators: Make, devices: Make, model: str, fault: str
) -> None:
    """SetDenominationRoute(CASHBOX) gets no answer.  The host asks the unit: a unit that took
    it (its reply lost) makes the request OK; one that did not leaves it BUSY with the old route;
    and when the read gets no answer either, the poll thread reads the routes once the line is
    back.  Either way the host shows the unit's route.  (Before: BUSY with the host showing
    PAYOUT while the unit sent that denomination to the cashbox, until a reconnect.)"""
    emu, device, _ = open_emulated(emulators, devices, model, QUICK, levels={})
    value = value_of(model)
    assert unit_route(emu, value) == 0 and host_route(device, value) == DenominationRoute.PAYOUT
    if fault == "command lost":
        emu.faults.ignore(Command.SET_DENOMINATION_ROUTE, 1000)
    else:
        emu.faults.mute(Command.SET_DENOMINATION_ROUTE, 1000)
    if fault == "reply and read lost":
        emu.faults.mute(Command.GET_DENOMINATION_ROUTE, 1000)
    result = device.SetDenominationRoute(ValueCountryCode(value, "EUR"), DenominationRoute.CASHBOX)
    taken = fault != "command lost"
    assert unit_route(emu, value) == (1 if taken else 0)
    if fault == "reply lost":
        assert result == SetDenominationRouteRequestResult.OK
    else:
        assert result == SetDenominationRouteRequestResult.BUSY
    emu.faults.clear()
    polls(emu, 3)
    assert host_route(device, value) == (DenominationRoute.CASHBOX if taken else DenominationRoute.PAYOUT)


@pytest.mark.parametrize("fault", ["power cut", "reply lost"])
def test_the_payout_option_byte_is_sent_again_with_the_enable(
    emulators: Make, devices: Make, fault: str
) -> None:
    """EnablePayoutDevice(1) on an NV11 (GIVE VALUE ON STORED), then the power goes, or every
    reply to it is lost: the host's re-sent ENABLE PAYOUT DEVICE carries the option byte too.
    (Before: it was re-sent without one, and the unit ran with option 0.)"""
    emu, device, rec = open_emulated(emulators, devices, "NV11", QUICK)
    if fault == "reply lost":
        emu.faults.mute(Command.ENABLE_PAYOUT_DEVICE, 1000)
        assert device.EnablePayoutDevice(1) is False
        emu.device.payout_options = 0  # (as if the unit had missed it: only the copy re-sent can set it)
        emu.faults.clear()
        polls(emu, 3)
    else:
        assert device.EnablePayoutDevice(1)
        since = len(rec.states())
        emu.power_cycle()
        assert emu.device.payout_options == 0
        reconnected(rec, device, since)
    assert emu.device.payout_options == 1


@pytest.mark.parametrize("model", ["SMART_HOPPER", "SMART_COIN_SYSTEM"])
def test_hopper_options_are_set_again_after_a_power_cut(emulators: Make, devices: Make, model: str) -> None:
    """SET OPTIONS is volatile (GA973: "will not persist in memory after a reset"): the host sets
    the options the application asked for again on reconnect.  (Before: the host showed them while
    the unit was back at its defaults.)"""
    emu, device, rec = open_emulated(emulators, devices, model, {"allow_unverified": True}, levels={})
    defaults = (emu.device.reg0, emu.device.reg1)
    wanted = (defaults[0] ^ 0x01, defaults[1] ^ 0x01)
    assert device.SetHopperOptions(*wanted)
    assert (emu.device.reg0, emu.device.reg1) == wanted
    since = len(rec.states())
    emu.power_cycle()
    reconnected(rec, device, since)
    assert (emu.device.reg0, emu.device.reg1) == wanted
    assert (device.reg_0, device.reg_1) == wanted


def test_refill_mode_is_set_again_after_a_power_cut(emulators: Make, devices: Make) -> None:
    """RefillMode is part of the wanted state: neither GA138 nor GA973 says whether a SMART Payout
    keeps it over a reset (GA973 documents a read of it), so the host sets the mode the
    application asked for again on reconnect: a no-op on a unit that kept it, the wanted mode on
    one that forgot it.  (Before: a unit back at its default sent unsuitable notes to the cashbox
    while the application had asked for them to be rejected.)"""
    emu, device, rec = open_emulated(emulators, devices, "SPECTRAL_PAYOUT")
    device.RefillMode(True)
    assert emu.device.refill_mode == 1
    since = len(rec.states())
    emu.power_cycle()
    reconnected(rec, device, since)
    assert emu.device.refill_mode == 1


@pytest.mark.parametrize("model", ["SMART_HOPPER", "SMART_COIN_SYSTEM"])
def test_cashbox_payout_limits_are_set_again_after_a_power_cut(
    emulators: Make, devices: Make, model: str
) -> None:
    """SetCashBoxPayoutLimit, like the other settings the application asks for, is set again on
    reconnect (no manual says whether a unit keeps it over a reset).  (Before: a unit back at
    its defaults paid coins to the cashbox with no limit.)"""
    emu, device, rec = open_emulated(emulators, devices, model, levels={})
    counts = [3 + i for i in range(len(device.currencyAssignment))]
    assert device.SetCashBoxPayoutLimit(counts).name == "OK"
    wanted = dict(emu.device.cashbox_limits)
    assert sorted(wanted.values()) == counts
    since = len(rec.states())
    emu.power_cycle()
    reconnected(rec, device, since)
    assert emu.device.cashbox_limits == wanted


@pytest.mark.parametrize("model", ["SPECTRAL_PAYOUT", "NV11"])
def test_a_payout_enable_refused_as_busy_during_a_payout_is_sent_again_after_it(
    emulators: Make, devices: Make, model: str
) -> None:
    """During a payout, DisablePayout (the unit takes it), then EnablePayout: the unit answers
    "device busy" (F5 03).  That is no final answer: the host sends the enable again once the
    payout is over, so the unit ends as the host shows it.  (Before: the refusal counted as an
    answer; the unit stayed disabled and notes went to the cashbox while the host showed the
    payout enabled; found by a convergence probe.)"""
    emu, device, _ = open_emulated(
        emulators, devices, model, levels={1000: 10}, payout_step=0.5, auto_take=0.0
    )
    assert device.DispenseValue(ValueCountryCode(1000, "EUR")).name == "OK"
    assert emu.wait_for(lambda e: e.status()["job"] is not None, 5)
    assert device.DisablePayout()
    assert device.EnablePayout() is False  # busy
    assert emu.wait_for(lambda e: e.status()["job"] is None, 20)
    polls(emu, 5)
    assert device.payoutEnabled and emu.device.payout_enabled
