"""Polls while money moves: at once after each new step, less often while the same step repeats.

A note takes the unit a second or two to read and stack; polling every 20 ms through all of it
costs a device 50 exchanges a second, which is what limits many devices in one process
(benchmarks/RESULTS.md), and GA973 §7.4 asks for at least 200 ms between polls so that the unit
is not interrupted too often while it reads a note.  After a reply that shows a new step the next
poll goes at once (a note in escrow is stacked only when that poll comes), then
``moving_poll_interval`` later; while the reply stays the same the pause doubles up to half the
poll interval."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from device_helpers import Recorder

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel, DeviceState

Make = Callable[..., Any]


def test_a_new_step_is_polled_at_once_then_the_pause_doubles_up_to_half_the_interval() -> None:
    device = CashDevice(poll_interval=0.2, moving_poll_interval=0.02)
    device._moving_repeats = 0
    device._moved_at_once = False
    assert device._moving_wait() == 0.0  # a new step: poll again at once
    device._moved_at_once = True
    assert device._moving_wait() == 0.02  # another new step right after: not twice at once
    device._moved_at_once = False
    waits = []
    for repeats in range(1, 8):
        device._moving_repeats = repeats
        waits.append(round(device._moving_wait(), 6))
    assert waits == [0.02, 0.04, 0.08, 0.1, 0.1, 0.1, 0.1]  # at most half the poll interval
    # never longer than the moving interval itself when that is already the longer one
    slow = CashDevice(poll_interval=0.03, moving_poll_interval=0.02)
    slow._moving_repeats = 5
    assert slow._moving_wait() == 0.02


def test_a_moving_interval_as_long_as_the_poll_interval_polls_strictly_every_interval() -> None:
    """GA973 §7.4 asks for at least 200 ms between polls: ``moving_poll_interval=poll_interval``
    gives exactly that, no poll at once after a new step either."""
    device = CashDevice(poll_interval=0.2, moving_poll_interval=0.2)
    for repeats, at_once in [(0, False), (0, True), (1, False), (5, False)]:
        device._moving_repeats, device._moved_at_once = repeats, at_once
        assert device._moving_wait() == 0.2


def test_a_changing_reply_never_polls_back_to_back_twice() -> None:
    """A reply that changes on every poll (a payout paying coin after coin) alternates an
    immediate poll with one ``moving_poll_interval`` later, instead of polling flat out."""
    device = CashDevice(poll_interval=0.2, moving_poll_interval=0.02)
    device._session_up = True
    device._moving = True  # every reply a new step (_moving_repeats stays 0)
    device._moving_repeats = 0
    device._link = None  # no port: each turn only reckons its pause, which is what is tested
    at_once = []
    for _ in range(4):
        wait = device._run()
        at_once.append((device._moved_at_once, round(wait, 2)))
    assert at_once == [(True, 0.0), (False, 0.02), (True, 0.0), (False, 0.02)]


def test_a_long_mechanical_step_is_polled_less_often_and_the_credit_still_comes_promptly(
    emulators: Make,
) -> None:
    """A note read for 0.6 s and stacked for 0.6 s: polling every 20 ms takes about 31 exchanges
    between ESCROW and STORED (the 0.6 s of stacking); with the pause doubling while the reply
    repeats it takes fewer than half of that, and STORED still arrives within half a poll interval
    of the mechanics."""
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
    assert 3 < exchanges < 16, exchanges  # polling every 20 ms throughout: about 31
    # stacking takes 0.6 s after the escrow is seen; the credit follows within half an interval
    # (plus an exchange and scheduling slack)
    assert stored_at - escrow_at < 0.6 + 0.1 + 0.15, stored_at - escrow_at
    assert [k for k, _, _ in rec.cash()] == ["ESCROW", "STORED"]
    assert emu.ledger.credited_total() == 1000


def test_a_note_held_for_the_application_is_kept_with_a_hold_every_interval(emulators: Make) -> None:
    """A note held in escrow waits for the application (seconds): a HOLD every poll interval keeps
    it there, not one at the moving pace (20-100 ms)."""
    emu = emulators("NOTE_VALIDATOR", read_time=0.0, stack_time=0.0)
    device = CashDevice(poll_interval=0.2, timeout=0.5, auto_accept=False)
    holds: list[float] = []
    fourth = threading.Event()
    send = device._send

    def counting(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "HOLD":
            holds.append(time.monotonic())
            if len(holds) >= 4:
                fourth.set()
        return send(name, *args, **kwargs)

    device._send = counting  # type: ignore[method-assign]
    rec = Recorder(device)
    try:
        assert device.Open(emu.url, emu.address, DeviceModel.NOTE_VALIDATOR) == CashSystemOpenResult.OK
        rec.wait_for(lambda: device.deviceState == DeviceState.IDLE, what="IDLE")
        assert emu.insert_note(1000, wait=5)
        rec.wait_cash("ESCROW")
        assert fourth.wait(5)
        assert device.noteInEscrow
        # three pauses between four HOLDs: three intervals (a little less for scheduling)
        assert holds[3] - holds[0] >= 3 * 0.2 * 0.75, [round(t - holds[0], 3) for t in holds]
        assert device.AcceptFromEscrow()
        rec.wait_cash("STACKED")
    finally:
        device.Close()
    assert emu.ledger.credited_total() == 1000
