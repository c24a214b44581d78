"""Every setting the application asks for converges after the unit resets.

A unit that resets (power cut, ResetDevice) forgets its volatile settings; GA973 says so of SET BAR
CODE INHIBIT ("When the unit is started up or reset, the default is currency enabled, bar code
disabled (0xFE)"), and the emulator forgets the unpublished SMART System settings too, as it
forgets the cashbox payout limits the host already sets again.  Each test sets something, resets
the unit one way, and compares the unit (the emulator's state, and its ledger where money moves)
with what the application asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from device_helpers import Recorder, open_emulated
from test_wanted_state import polls, reconnected

from cashdevice import CashDevice, DeviceState, ValueCountryCode
from cashdevice.emulator import Emulator
from cashdevice.enums import SetSorterRouteRequestResult, SorterRoute
from cashdevice.ssp import Command

Make = Callable[..., Any]
BARCODE_MODELS = ["NOTE_VALIDATOR", "SPECTRAL_PAYOUT", "NV4000"]
TICKET = "123456789012345678"
UNVERIFIED = {"allow_unverified": True}


def reset_unit(how: str, emu: Emulator, device: CashDevice, rec: Recorder) -> None:
    """The unit resets (``power cycle``, ``ResetDevice``) or only the cable goes (``unplug``);
    returns once the host has reconnected and polls again."""
    since = len(rec.states())
    if how == "power cycle":
        emu.power_cycle()
    elif how == "ResetDevice":
        assert device.ResetDevice()
    else:
        emu.unplug()
        rec.wait_for(lambda: "NOT_CONNECTED" in rec.states()[since:], what="NOT_CONNECTED")
        emu.replug()
    reconnected(rec, device, since)
    polls(emu, 2)


HOW = ["power cycle", "ResetDevice", "unplug"]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("model", BARCODE_MODELS)
def test_currency_the_host_disabled_by_barcode_inhibit_stays_disabled_after_a_reset(
    emulators: Make, devices: Make, model: str, how: str
) -> None:
    """SetBarcodeInhibit(0xFD): currency disabled, tickets enabled (a ticket-only kiosk).  The unit
    resets and comes back at 0xFE (GA973 SET BAR CODE INHIBIT: currency enabled): unless the host
    sets the byte again, the unit validates and credits the next note the application had refused."""
    emu, device, rec = open_emulated(emulators, devices, model, levels={})
    assert device.SetBarcodeReaderConfiguration(3, 1, 18)
    assert device.SetBarcodeInhibit(0xFD)
    assert emu.device.barcode_inhibit == 0xFD
    reset_unit(how, emu, device, rec)
    assert emu.insert_note(1000, wait=5)
    rec.wait_for(lambda: emu.device.note is None, what="the note leaves the note path")
    polls(emu, 3)
    assert emu.ledger.credited_total() == 0, "the unit took a note while the application disabled currency"
    assert [c for c in rec.cash() if c[0] in ("ESCROW", "STORED", "STACKED")] == []
    assert emu.device.barcode_inhibit == 0xFD


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("model", BARCODE_MODELS)
def test_barcode_tickets_the_host_enabled_are_read_after_a_reset(
    emulators: Make, devices: Make, model: str, how: str
) -> None:
    """SetBarcodeReaderConfiguration(3, 1, 18) and SetBarcodeInhibit(0xFC) enable tickets; after a
    reset the unit is back at barcode disabled (0xFE) and (in the emulator) no reader enabled:
    the host sets both again, so the unit reads the next ticket."""
    emu, device, rec = open_emulated(emulators, devices, model, levels={})
    assert device.SetBarcodeReaderConfiguration(3, 1, 18)
    assert device.SetBarcodeInhibit(0xFC)
    reset_unit(how, emu, device, rec)
    assert (emu.device.barcode_readers, emu.device.barcode_chars, emu.device.barcode_inhibit) == (3, 18, 0xFC)
    assert emu.insert_ticket(TICKET)
    rec.wait_for(lambda: "BAR_CODE_TICKET_ACKNOWLEDGE" in rec.states(), what="the ticket taken")
    assert emu.ledger.credited_total() == 0


@pytest.mark.parametrize("how", HOW)
def test_a_coin_payout_limit_holds_after_a_reset(emulators: Make, devices: Make, how: str) -> None:
    """SetPayoutLimit(2): a payout needing more coins is refused.  The unit forgets the limit at
    a reset (the emulator, like the cashbox payout limits the host already sets again): the host
    sets it again, so a payout of three coins is still refused and nothing leaves the unit."""
    emu, device, rec = open_emulated(emulators, devices, "SMART_COIN_SYSTEM", UNVERIFIED, levels={100: 10})
    assert device.SetPayoutLimit(2)
    assert emu.device.payout_limit == 2
    reset_unit(how, emu, device, rec)
    result = device.DispenseValue(ValueCountryCode(300, "EUR"))
    polls(emu, 3)
    rec.wait_for(lambda: emu.device.job is None, what="no payout running")
    assert emu.ledger.dispensed_total() == 0, "the unit paid past the limit the application set"
    assert result.name != "OK"
    assert emu.device.payout_limit == 2
    assert device.DispenseValue(ValueCountryCode(200, "EUR")).name == "OK"
    rec.wait_for(lambda: emu.ledger.dispensed_total() == 200, what="200 paid")


@pytest.mark.parametrize("how", HOW)
def test_twin_mode_and_sorter_routes_hold_after_a_reset(emulators: Make, devices: Make, how: str) -> None:
    """SetTwinMode(1) and SetSorterRoute(100, secondary) on a Twin SCS; the unit forgets both at a
    reset (the emulator): the host sets them again, so the unit runs as the host shows
    (``sorterRouteAssignment``)."""
    emu, device, rec = open_emulated(emulators, devices, "TWIN_SMART_COIN_SYSTEM", UNVERIFIED, levels={})
    assert device.SetTwinMode(1)
    coin = ValueCountryCode(100, "EUR")
    assert device.SetSorterRoute(coin, 1) == SetSorterRouteRequestResult.OK
    d = next(x for x in emu.device.channels if x.value == 100)
    assert emu.device.twin_mode == 1 and emu.device.sorter_routes == {d: 1}
    reset_unit(how, emu, device, rec)
    assert emu.device.twin_mode == 1
    assert emu.device.sorter_routes == {d: 1}
    index = next(i for i, e in enumerate(device.currencyAssignment) if e.Value == 100)
    assert device.sorterRouteAssignment[index].CurrentSorterRoute == SorterRoute.SECONDARY
    assert device.deviceState in (DeviceState.IDLE, DeviceState.DISABLED)


@pytest.mark.parametrize("how", HOW)
def test_no_payin_count_holds_after_a_reset(emulators: Make, devices: Make, how: str) -> None:
    """SetNoPayinCount(3) (cosmetic: when MAINTENANCE REQUIRED is raised); set again after a reset."""
    emu, device, rec = open_emulated(emulators, devices, "SMART_COIN_SYSTEM", UNVERIFIED, levels={})
    assert device.SetNoPayinCount(3)
    reset_unit(how, emu, device, rec)
    assert emu.device.no_payin_limit == 3
    assert device.noPayinCount == 3


def test_a_setting_sent_again_is_not_a_new_count(emulators: Make, devices: Make) -> None:
    """Counts (Set_Denomination_Level, SetCashboxLevels) are not settings: a reconnect must not
    add them again."""
    emu, device, rec = open_emulated(emulators, devices, "SMART_COIN_SYSTEM", UNVERIFIED, levels={})
    assert device.Set_Denomination_Level(ValueCountryCode(100, "EUR"), 5)
    reset_unit("power cycle", emu, device, rec)
    d = next(x for x in emu.device.channels if x.value == 100)
    assert emu.device.persistent.store.get(d, 0) == 5


def test_a_barcode_inhibit_whose_reply_is_lost_answers_false_and_a_reset_restores_the_last_one_taken(
    emulators: Make, devices: Make
) -> None:
    """(d) Every reply to SET BAR CODE INHIBIT is lost (the unit took it): the call answers False
    (C# L13422: "False if the command fails"), and nothing hangs.  The setting the host keeps is
    the last one the unit acknowledged (what the application was told): a reset restores that."""
    emu, device, rec = open_emulated(emulators, devices, "SPECTRAL_PAYOUT", {"timeout": 0.05, "retries": 3})
    assert device.SetBarcodeInhibit(0xFC)
    emu.faults.mute(Command.SET_BARCODE_INHIBIT, 1000)
    assert device.SetBarcodeInhibit(0xFD) is False
    assert emu.device.barcode_inhibit == 0xFD
    emu.faults.clear()
    reset_unit("power cycle", emu, device, rec)
    assert emu.device.barcode_inhibit == 0xFC


@pytest.mark.parametrize("model", ["SMART_HOPPER", "SPECTRAL_PAYOUT"])
def test_the_settings_already_set_again_after_a_power_cut_are_set_again_after_reset_device(
    emulators: Make, devices: Make, model: str
) -> None:
    """(c) ResetDevice() resets the unit as a power cut does: hopper options and cashbox payout
    limits (SMART Hopper), refill mode and the payout option byte (Spectral Payout) come back."""
    emu, device, rec = open_emulated(emulators, devices, model, levels={})
    if model == "SMART_HOPPER":
        wanted = (emu.device.reg0 ^ 0x01, emu.device.reg1 ^ 0x01)
        assert device.SetHopperOptions(*wanted)
        assert device.SetCashBoxPayoutLimit([3] * len(device.currencyAssignment)).name == "OK"
        limits = dict(emu.device.cashbox_limits)
        reset_unit("ResetDevice", emu, device, rec)
        assert (emu.device.reg0, emu.device.reg1) == wanted and emu.device.cashbox_limits == limits
    else:
        device.RefillMode(True)
        assert device.EnablePayoutDevice(2)
        reset_unit("ResetDevice", emu, device, rec)
        assert emu.device.refill_mode == 1
        assert emu.device.payout_enabled and emu.device.payout_options == 2
