"""Polls while money moves: soon after each new step, less often while the same step repeats.

A note takes the unit a second or two to read and stack; polling every 20 ms through all of it
costs a device 50 exchanges a second, which is what limits many devices in one process
(benchmarks/RESULTS.md).  The pause doubles while the reply stays the same, up to a quarter of the
poll interval, and drops back to ``moving_poll_interval`` as soon as the reply changes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from device_helpers import Recorder

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel, DeviceState

Make = Callable[..., Any]


def test_the_pause_doubles_while_a_step_repeats_up_to_a_quarter_interval() -> None:
    device = CashDevice(poll_interval=0.2, moving_poll_interval=0.02)
    waits = []
    for repeats in range(6):
        device._moving_repeats = repeats
        waits.append(round(device._moving_wait(), 6))
    assert waits == [0.02, 0.04, 0.05, 0.05, 0.05, 0.05]
    # never longer than the moving interval itself when that is already the longer one
    slow = CashDevice(poll_interval=0.05, moving_poll_interval=0.02)
    slow._moving_repeats = 5
    assert slow._moving_wait() == 0.02


def test_a_long_mechanical_step_is_polled_less_often_and_the_credit_still_comes_promptly(
    emulators: Make,
) -> None:
    """A note read for 0.6 s and stacked for 0.6 s: polling every 20 ms takes about 31 exchanges
    between ESCROW and STORED (the 0.6 s of stacking); with the pause doubling while the reply
    repeats it takes about 17, and STORED still arrives within a quarter interval of the
    mechanics."""
    emu = emulators("SPECTRAL_PAYOUT", read_time=0.6, stack_time=0.6)
    device = CashDevice(poll_interval=0.2, timeout=0.5)
    rec = Recorder(device)
    marks: dict[str, tuple[float, int]] = {}

    def mark(sender: Any, e: Any) -> None:
        link = device._link
        if link is not None and e.eventType.name in ("ESCROW", "STORED"):
            marks.setdefault(e.eventType.name, (time.monotonic(), link.counters.transactions))

    device.CashEvent += mark
    try:
        assert device.Open(emu.url, emu.address, DeviceModel.SPECTRAL_PAYOUT) == CashSystemOpenResult.OK
        rec.wait_for(lambda: device.deviceState == DeviceState.IDLE, what="IDLE")
        taken = threading.Event()
        threading.Thread(target=lambda: taken.set() if emu.insert_note(1000, wait=5) else None).start()
        rec.wait_cash("STORED", timeout=10)
        assert taken.wait(5)
    finally:
        device.Close()
    escrow_at, escrow_count = marks["ESCROW"]
    stored_at, stored_count = marks["STORED"]
    exchanges = stored_count - escrow_count
    assert 5 < exchanges < 24, exchanges  # polling every 20 ms throughout: about 31
    # stacking takes 0.6 s after the escrow is seen; the credit follows within a quarter interval
    # (plus an exchange and scheduling slack), not a whole poll interval
    assert stored_at - escrow_at < 0.6 + 0.05 + 0.25, stored_at - escrow_at
    assert [k for k, _, _ in rec.cash()] == ["ESCROW", "STORED"]
    assert emu.ledger.credited_total() == 1000
