"""A poll whose replies were all lost is kept to be resent byte for byte (the unit's cached reply may
hold a COIN CREDIT it never repeats): no application command, stopRunning or Close throws it away,
with or without a PollGroup (found by a probe; each test failed before its fix).

Ordering by events and the emulator's hooks (a reply filter that says when the coin's reply has
gone out), never by bare sleeps."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from device_helpers import Recorder
from support import emulator_url

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel, DeviceState, PollGroup
from cashdevice.emulator import Emulator

Make = Callable[..., Any]
CREDITS = ("STACKED", "STORED", "COIN_CREDIT")
COIN_CREDIT = 0xDF


def credited(rec: Recorder) -> list[tuple[str, int]]:
    return [(kind, value) for kind, value, _ in rec.cash() if kind in CREDITS]


def open_hopper(
    emulators: Make, devices: Make, transport: str, group: PollGroup | None
) -> tuple[Emulator, CashDevice, Recorder]:
    emu = emulators("SMART_HOPPER")
    options: dict[str, Any] = {"reconnect_interval": 0.1}
    if group is not None:
        options["poll_group"] = group
    device = devices(**options)
    rec = Recorder(device)
    assert device.Open(emulator_url(emu, transport), emu.address, DeviceModel.SMART_HOPPER) == (
        CashSystemOpenResult.OK
    )
    rec.wait_for(lambda: device.deviceState == DeviceState.IDLE, what="IDLE")
    if group is not None:
        rec.wait_for(lambda: device._lent, what="lent")
    return emu, device, rec


class Silence:
    """From the reply that carries the coin's COIN CREDIT on (``every_reply``: from the next reply
    on), no reply gets back (the cable out, the port open) until :meth:`end`; ``carried`` is set at
    the first reply swallowed."""

    def __init__(self, emu: Emulator, every_reply: bool = False) -> None:
        self.emu = emu
        self.every_reply = every_reply
        self.original = emu.engine.reply_filter
        self.carried = threading.Event()
        self.ended = threading.Event()
        emu.engine.reply_filter = self._filter

    def _filter(self, code: int) -> bool:
        if self.ended.is_set():
            return self.original(code) if self.original is not None else True
        if not self.carried.is_set() and (
            self.every_reply or any(e.code == COIN_CREDIT for e in self.emu.device.unconfirmed)
        ):
            self.carried.set()  # the unit has put the coin in this reply and forgotten it
        if self.carried.is_set():
            return False
        return self.original(code) if self.original is not None else True

    def end(self) -> None:
        self.ended.set()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("grouped", [False, True], ids=["own-thread", "poll-group"])
def test_key_exchange_while_a_coins_poll_is_abandoned_loses_no_coin(
    emulators: Make, devices: Make, grouped: bool
) -> None:
    """The reply of the poll that carries a COIN CREDIT (never repeated by the unit) is lost, and
    the host keeps that poll to resend it.  GetAllLevels meanwhile is not sent (it would SYNC the
    unit's cached reply away: test_reliability).  KeyExchangelimit32bit is another command of the
    application: it must not SYNC the coin's reply away either.  When the line is back the coin
    is reported once."""
    group = PollGroup("probe-key") if grouped else None
    emu, device, rec = open_hopper(emulators, devices, "pty" if grouped else "inproc", group)
    silence = Silence(emu)
    assert emu.insert_coin(100, wait=5)
    assert silence.carried.wait(5), "no poll carried the coin"
    rec.wait_state("NOT_CONNECTED", timeout=10)  # the host noticed; the poll stays abandoned
    link = device._link
    assert link is not None and link.abandoned_command(emu.address) is not None
    device.KeyExchangelimit32bit()  # (fails: nothing gets back; what matters is what it sends)
    silence.end()
    rec.wait_for(lambda: device.deviceState == DeviceState.IDLE, timeout=15, what="IDLE again")
    rec.wait_for(lambda: emu.ledger.credited_total() == 100, timeout=5, what="the ledger")
    rec.wait_for(lambda: credited(rec) != [], timeout=5, what="the coin reported")
    assert credited(rec) == [("COIN_CREDIT", 100)]
    emu.ledger.check()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("grouped", [False, True], ids=["own-thread", "poll-group"])
def test_stop_running_while_a_coins_poll_is_abandoned_loses_no_coin(
    emulators: Make, devices: Make, grouped: bool
) -> None:
    """The reply of the poll that carries a COIN CREDIT is lost; the application calls
    stopRunning (its DISABLE goes unanswered) and, once the line is back, startRunning.  The
    abandoned poll must still be resent first and the coin reported once; stopRunning's DISABLE
    (sent with no poll thread running) SYNCed the unit's cached reply away."""
    group = PollGroup("probe-stop") if grouped else None
    emu, device, rec = open_hopper(emulators, devices, "pty" if grouped else "inproc", group)
    silence = Silence(emu)
    assert emu.insert_coin(100, wait=5)
    assert silence.carried.wait(5), "no poll carried the coin"
    rec.wait_state("NOT_CONNECTED", timeout=10)
    link = device._link
    device.stopRunning()
    assert device.deviceState == DeviceState.STOPPED
    silence.end()
    n = len(rec.states())
    device.startRunning()
    rec.wait_for(lambda: "IDLE" in rec.states()[n:], timeout=15, what="IDLE after startRunning")
    assert emu.ledger.credited_total() == 100
    rec.wait_for(lambda: credited(rec) != [], timeout=3, what="the coin reported")
    assert credited(rec) == [("COIN_CREDIT", 100)]
    del link


@pytest.mark.timeout(60)
@pytest.mark.parametrize("grouped", [False, True], ids=["own-thread", "poll-group"])
def test_close_while_a_coins_poll_is_abandoned_reports_the_coin(
    emulators: Make, devices: Make, grouped: bool
) -> None:
    """The reply of the poll that carries a COIN CREDIT is lost; the line is back, and the application
    closes the device before the poll thread has resent the poll.  Closing the port forgets the
    poll, and with it the unit's cached reply: Close resends it first, and the coin is reported."""
    group = PollGroup("probe-close") if grouped else None
    emu, device, rec = open_hopper(emulators, devices, "pty" if grouped else "inproc", group)
    device.reconnect_interval = 3600.0  # (the poll thread does not reconnect before Close)
    silence = Silence(emu)
    assert emu.insert_coin(100, wait=5)
    assert silence.carried.wait(5), "no poll carried the coin"
    rec.wait_state("NOT_CONNECTED", timeout=10)
    silence.end()
    device.Close()
    assert emu.ledger.credited_total() == 100
    assert credited(rec) == [("COIN_CREDIT", 100)]


@pytest.mark.timeout(60)
def test_stop_running_with_a_kept_poll_leaves_the_unit_disabled(emulators: Make, devices: Make) -> None:
    """An idle hopper; one poll's replies are all lost (a cable wiggle): the host keeps that poll.
    The line is back and the application calls stopRunning before the poll thread reconnects.
    C#: stopRunning stops the poll thread and DISABLEs the device.  stopRunning resends the kept
    poll itself, then DISABLEs.  (A first version refused the DISABLE, to keep the poll for the
    next poll thread: the unit stayed enabled, unpolled, took a coin that was never reported;
    found by a review probe.)"""
    emu, device, rec = open_hopper(emulators, devices, "inproc", None)
    device.reconnect_interval = 3600.0  # (the poll thread does not reconnect before stopRunning)
    cut = Silence(emu, every_reply=True)
    assert cut.carried.wait(5)
    rec.wait_state("NOT_CONNECTED", timeout=10)
    link = device._link
    assert link is not None and link.abandoned_command(emu.address) is not None
    cut.end()  # the line is back
    device.stopRunning()
    assert device.deviceState == DeviceState.STOPPED
    accepted = emu.insert_coin(100, wait=0.5)
    device.Close()
    assert (accepted, emu.ledger.credited_total(), credited(rec)) == (False, 0, []), (
        "a stopped device's unit took a coin that was never reported",
        accepted,
        emu.ledger.credited_total(),
        credited(rec),
    )
