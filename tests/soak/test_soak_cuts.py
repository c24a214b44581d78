"""When the fault soak may cut the power (found by a sweep of every model with noise and cuts).

A coin's COIN CREDIT is not kept for an EVENT ACK: the unit forgets it once it has put it in a
poll reply, and only its reply cache (the host's retry with the same sequence flag gets the same
bytes) carries it until the host has it.  A power cut while that reply is still on its way
(broken by noise, the host about to retry) destroys the cache: no host can report that coin.
The soak must not count such a cut against the host: it cuts only once the host has taken the
reply (its next command came), and every coin the ledger credits must then be reported once."""

from __future__ import annotations

import io

import pytest

from cashdevice.emulator import Emulator
from cashdevice.emulator.datasets import CURRENCIES_COINS
from cashdevice.soak import Soak, SoakConfig
from cashdevice.ssp import Command


@pytest.mark.timeout(60)
@pytest.mark.parametrize("model", ["SMART_HOPPER", "TWIN_SMART_COIN_SYSTEM"])
def test_a_cut_waits_until_the_host_has_the_reply_with_the_coin(model: str) -> None:
    config = SoakConfig(model=model, items=1, payouts=0, power_cuts=1, fast=True, quiet=True, seed=5)
    soak = Soak(config, io.StringIO())
    soak.report.device_options = config.device_options()
    emu = soak.emu
    try:
        soak._open()
        tally = soak.tally
        assert tally is not None
        value = sorted(CURRENCIES_COINS["EUR"])[1]

        def insert(e: Emulator) -> bool:
            with e._lock:  # (the emulator answers no packet meanwhile)
                if not e.enabled:
                    return False  # (the host enables the unit again after a cut)
                # the reply to the poll that carries the coin is lost on the way (the host retries)
                e.faults.mute(Command.POLL_WITH_ACK)
                assert e.insert_coin(value)
                return True

        for round_ in range(3):
            assert emu.wait_for(insert, 10.0, interval=0.002)
            soak._power_cut()
            assert emu.faults.muted(Command.POLL_WITH_ACK) == 0, "the coin's poll reply was not dropped"
            wanted = round_ + 1
            assert tally.wait(lambda: tally.credits[(value, "EUR")] >= wanted, 10.0), (  # noqa: B023
                f"coin {wanted} lost to the cut: {tally.trail[-12:]}"
            )
        assert soak.report.cuts_unreported == 0
        assert emu.ledger.get(value, "EUR").credited == 3
        assert tally.wait(lambda: tally.credits[(value, "EUR")] == 3, 1.0)
    finally:
        if soak.device is not None:
            soak.device.Close()
        emu.stop()
