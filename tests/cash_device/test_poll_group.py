"""PollGroup: one thread polls many idle CashDevices (cashdevice/poll_group.py).

Every test runs the emulator over a pty (only a port with a POSIX descriptor can be lent), and
every test that moves money compares what the host reported with the emulator's ledger: a reply
with news goes to the device's own thread, a poll the group leaves unanswered is resent by that
thread byte for byte, so a credit is reported exactly once however the poll that carried it went."""

from __future__ import annotations

import gc
import select
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from device_helpers import Recorder
from support import assert_no_new_threads, emulator_url

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel, DeviceState, PollGroup
from cashdevice.emulator import Emulator
from cashdevice.link import SSPLink
from cashdevice.ssp import Command

Make = Callable[..., Any]

CREDITS = ("STACKED", "STORED", "COIN_CREDIT")
POLL = 0x07


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Wait (with a deadline) until ``predicate()`` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def open_lent(
    emulators: Make,
    devices: Make,
    group: PollGroup,
    model: str = "SPECTRAL_PAYOUT",
    device_options: dict[str, Any] | None = None,
    **emu_options: Any,
) -> tuple[Emulator, CashDevice, Recorder]:
    """An emulated ``model`` over a pty, opened by a CashDevice on ``group``, once it is lent."""
    emu = emulators(model, **emu_options)
    device = devices(poll_group=group, **(device_options or {}))
    rec = Recorder(device)
    assert device.Open(emulator_url(emu, "pty"), emu.address, DeviceModel[model]) == CashSystemOpenResult.OK
    rec.wait_state("IDLE")
    wait_until(lambda: device._lent, what="device lent to the group")
    return emu, device, rec


def credited(rec: Recorder) -> list[tuple[str, int]]:
    return [(kind, value) for kind, value, _ in rec.cash() if kind in CREDITS]


def quiet_grows(group: PollGroup, by: int, timeout: float = 5.0) -> None:
    """Wait until the group has taken ``by`` more quiet replies."""
    start = group.counters.quiet
    wait_until(lambda: group.counters.quiet >= start + by, timeout, f"{by} more quiet polls")


class Trace:
    """The frames of one link, each with the name of the thread that wrote or read it."""

    def __init__(self) -> None:
        self.frames: list[tuple[str, bool, bytes]] = []
        self._lock = threading.Lock()

    def __call__(self, sending: bool, wire: bytes) -> None:
        with self._lock:
            self.frames.append((threading.current_thread().name, sending, bytes(wire)))

    def snapshot(self) -> list[tuple[str, bool, bytes]]:
        with self._lock:
            return list(self.frames)

    def sent(self) -> list[tuple[str, bytes]]:
        return [(thread, wire) for thread, sending, wire in self.snapshot() if sending]


# ---------------------------------------------------------------------------------- idle polling


def test_idle_devices_are_polled_by_the_group_and_the_group_stops_after_close(
    emulators: Make, devices: Make
) -> None:
    """Three idle devices are lent to one group, whose single thread polls them: the group's quiet
    replies are real exchanges on each link at about the poll rate, the devices' own threads stay
    asleep, and after Close the group thread and every poll thread end."""
    before = set(threading.enumerate())
    group = PollGroup("idle")
    opened = [open_lent(emulators, devices, group) for _ in range(3)]
    wait_until(lambda: group.lent == 3, what="three devices lent")
    assert group.running
    links = [device._link for _, device, _ in opened]
    traces: list[Trace] = []
    for link in links:
        assert link is not None
        trace = Trace()
        link.trace = trace
        traces.append(trace)
    start = [link.counters.transactions for link in links if link is not None]
    polls0 = group.counters.polls
    t0 = time.monotonic()
    quiet_grows(group, 30)
    elapsed = time.monotonic() - t0
    assert all(device._lent for _, device, _ in opened)
    assert group.lent == 3 and group.running
    assert group.counters.polls - polls0 >= 30
    for link, first, trace in zip(links, start, traces):
        assert link is not None
        grown = link.counters.transactions - first
        # poll_interval 0.05 s: about elapsed / 0.05 polls each (allow a wide margin)
        assert grown >= 3
        assert grown <= elapsed / 0.05 * 1.5 + 3, (grown, elapsed)
        sent = trace.sent()
        assert sent and {thread for thread, _ in sent} == {"cashdevice-idle"}
    for _, device, rec in opened:
        assert device.deviceState == DeviceState.IDLE
        assert credited(rec) == []
    for _, device, _ in opened:
        device.Close()
    wait_until(lambda: not group.running, what="the group thread ends")
    assert group.lent == 0
    emulator_threads = {t for t in threading.enumerate() if t.name.startswith("cashdevice-emu-")}
    assert_no_new_threads(before | emulator_threads)  # no poll thread, no group thread


def test_a_poll_the_group_sends_late_is_counted_and_moves_the_devices_phase(
    emulators: Make, devices: Make
) -> None:
    """While the group's thread cannot run (here: its lock held), a lent device's poll falls due;
    the poll it then sends counts as late, ``max_lag`` is at least how long it was overdue, and the
    device's phase moves: its next poll is due one interval after the late one went, not one
    interval after its old due time, where devices due together would stay together (the clock
    is all this test waits on)."""
    group = PollGroup("lag")
    interval = 0.3
    _, device, _ = open_lent(emulators, devices, group, device_options={"poll_interval": interval})
    quiet_grows(group, 2)
    polled = device._group_polled
    dues: list[tuple[float, float]] = []  # (when the group took a quiet reply, the next due then)

    def spy(reply: bytes, next_due: float | None) -> None:
        polled(reply, next_due)
        dues.append((time.monotonic(), device._next_due))

    device._group_polled = spy  # type: ignore[method-assign]
    while True:  # hold the lock while the device's next poll waits in the heap
        group._lock.acquire()
        if group._heap:
            break
        group._lock.release()
    try:
        held = time.monotonic()
        first_due = group._heap[0][4]
        late0 = group.counters.late
        while time.monotonic() < first_due + 0.06:
            time.sleep(0.005)
    finally:
        group._lock.release()
    wait_until(lambda: group.counters.late > late0, what="the overdue poll counted late")
    assert group.counters.max_lag >= 0.06
    quiet_grows(group, 2)  # and the group goes on polling the device
    assert device._lent and device.deviceState == DeviceState.IDLE
    next_due = next(due for at, due in dues if at > held)  # after the late poll
    # it went at least 0.06 s late (the old phase: first_due + interval)
    assert first_due + interval + 0.06 <= next_due <= first_due + interval + 0.25, next_due - first_due


# ---------------------------------------------------------------------------------- money


def test_notes_into_several_lent_devices_are_credited_once_each(emulators: Make, devices: Make) -> None:
    """Notes go into three lent devices at the same time: the group hands each device back on the
    first event, every note is reported STORED exactly once on the right device, the ledgers
    match, and the devices are lent again afterwards."""
    group = PollGroup("notes")
    opened = [open_lent(emulators, devices, group) for _ in range(3)]
    handed0 = group.counters.handed_back
    values = (500, 1000, 2000)

    def feed(emu: Emulator) -> None:
        for value in values:
            assert emu.insert_note(value, wait=10)

    feeders = [threading.Thread(target=feed, args=(emu,)) for emu, _, _ in opened]
    for thread in feeders:
        thread.start()
    for thread in feeders:
        thread.join(30)
    for _, _, rec in opened:
        rec.wait_cash("STORED", len(values), timeout=15)
    for emu, _, rec in opened:
        assert credited(rec) == [("STORED", v) for v in values]
        assert emu.ledger.credited_total() == sum(values)
        emu.ledger.check()
    assert group.counters.handed_back - handed0 >= 3
    wait_until(lambda: all(device._lent for _, device, _ in opened), what="all lent again")
    quiet_grows(group, 10)
    for emu, _, rec in opened:
        assert credited(rec) == [("STORED", v) for v in values]
        assert emu.ledger.credited_total() == sum(values)


def test_coin_credit_while_lent_with_poll_replies_muted_is_reported_once(
    emulators: Make, devices: Make
) -> None:
    """A coin goes into a lent SMART Hopper while the replies to POLL WITH ACK are lost for several
    polls: COIN CREDIT is not repeated by the device, so the group must hand the silent poll back
    and the device thread must resend it until the cached reply arrives.  Reported once."""
    group = PollGroup("coin")
    emu, device, rec = open_lent(emulators, devices, group, "SMART_HOPPER")
    handed0 = group.counters.handed_back
    emu.faults.mute(Command.POLL_WITH_ACK, 8)
    assert emu.insert_coin(100, wait=5)
    wait_until(lambda: emu.faults.muted(Command.POLL_WITH_ACK) == 0, timeout=15, what="muted polls used up")
    rec.wait_cash("COIN_CREDIT", timeout=15)
    assert group.counters.handed_back > handed0
    wait_until(lambda: device._lent, what="lent again")
    assert emu.insert_coin(200, wait=5)
    rec.wait_cash("COIN_CREDIT", 2, timeout=15)
    wait_until(lambda: device._lent, what="lent again")
    assert credited(rec) == [("COIN_CREDIT", 100), ("COIN_CREDIT", 200)]
    assert emu.ledger.credited_total() == 300
    emu.ledger.check()


def traced(device: CashDevice, group: PollGroup) -> tuple[SSPLink, Trace]:
    """The device's link with a :class:`Trace` on it, once the group has polled it a few times."""
    link = device._link
    assert link is not None
    trace = Trace()
    link.trace = trace
    quiet_grows(group, 3)
    return link, trace


def test_a_reply_with_news_goes_to_the_device_thread_without_a_resend(emulators: Make, devices: Make) -> None:
    """A note arrives while the device is lent: the group takes the reply that carries it off the
    line and hands it to the device's thread, which handles it at once (the ESCROW and the
    credit follow) without sending that poll again; the note is credited once."""
    group = PollGroup("news")
    emu, device, rec = open_lent(emulators, devices, group)
    link, trace = traced(device, group)
    handed = group.counters.handed
    assert emu.insert_note(1000, wait=5)
    rec.wait_cash("STORED", timeout=15)
    wait_until(lambda: device._lent, what="lent again")
    link.trace = None
    assert group.counters.handed > handed
    sent = [(thread, wire) for thread, sending, wire in trace.snapshot() if sending]
    for (thread, wire), (next_thread, next_wire) in zip(sent, sent[1:]):
        if thread == "cashdevice-news" and next_thread != thread:
            assert next_wire != wire, "the device thread sent the group's poll again"
    assert credited(rec) == [("STORED", 1000)]
    assert emu.ledger.credited_total() == 1000
    emu.ledger.check()


def sent_by(trace: Trace, since: int = 0) -> dict[str, int]:
    """Frames written from ``since`` on, counted by the thread that wrote them."""
    counts: dict[str, int] = {}
    for thread, sending, _ in trace.snapshot()[since:]:
        if sending:
            counts[thread] = counts.get(thread, 0) + 1
    return counts


def test_a_notes_long_steps_are_polled_by_the_group_and_the_note_is_credited_once(
    emulators: Make, devices: Make
) -> None:
    """A note takes 0.8 s to read and 0.8 s to stack; the unit answers every poll meanwhile with the
    same step (``READ 0``, ``STACKING``).  The device's thread handles each step's first two replies
    and lends the device back; the group sends the step's other polls at the moving pace (about
    every 25 ms at a 50 ms interval) and takes the identical replies.  ESCROW and STORED are reported once,
    the ledger agrees, and the device's own thread wrote only a few frames while the note moved."""
    group = PollGroup("steps")
    emu, device, rec = open_lent(emulators, devices, group, read_time=0.8, stack_time=0.8)
    link, trace = traced(device, group)
    steps0 = group.counters.steps
    since = len(trace.snapshot())
    assert emu.insert_note(1000, wait=5)
    rec.wait_cash("STORED", timeout=15)
    wait_until(lambda: device._lent, what="lent again")
    link.trace = None
    steps = group.counters.steps - steps0
    sent = sent_by(trace, since)
    own = sum(n for thread, n in sent.items() if thread != "cashdevice-steps")
    # 1.6 s of long steps at 25 ms: about 60 repeats; without the group taking them the device's
    # thread would write every one of them
    assert steps >= 20, (steps, sent)
    assert sent.get("cashdevice-steps", 0) >= steps
    assert own <= 12, sent
    assert credited(rec) == [("STORED", 1000)]
    assert [kind for kind, _, _ in rec.cash()].count("ESCROW") == 1
    assert emu.ledger.credited_total() == 1000
    emu.ledger.check()


def test_a_long_steps_poll_goes_before_idle_polls_due_with_it(emulators: Make, devices: Make) -> None:
    """The group falls behind (here: its lock held) while one device reads a note and three are
    idle, with an idle device's poll due before the step's.  When the group runs again, all four
    polls are due at once and it sends the step's first: the step's end is a credit on its way,
    an idle device loses nothing by waiting behind it.  The note is credited once."""
    group = PollGroup("first")
    # a 1 s interval (the step's pace doubles up to 0.5 s): the polls spend most of their time in
    # the group's heap, not on the line, even on a busy machine
    slow = {"poll_interval": 1.0}
    idle = [open_lent(emulators, devices, group, device_options=slow)[1] for _ in range(3)]
    emu, mover, rec = open_lent(emulators, devices, group, device_options=slow, read_time=7.0, stack_time=0.3)
    order: list[tuple[CashDevice, str, bytes]] = []
    lock = threading.Lock()

    def tracer(device: CashDevice) -> Callable[[bool, bytes], None]:
        def record(sending: bool, wire: bytes) -> None:
            if sending:
                with lock:
                    order.append((device, threading.current_thread().name, bytes(wire)))

        return record

    for device in [*idle, mover]:
        assert device._link is not None
        device._link.trace = tracer(device)
    steps0 = group.counters.steps
    assert emu.insert_note(1000, wait=5)
    wait_until(lambda: group.counters.steps >= steps0 + 2, what="the group polling the note's read")

    def dues(step: bool) -> list[float]:
        """The due times in the group's heap of the step's polls, or of the idle ones."""
        return [entry[0] for entry in group._heap if entry[5] is step and entry[3]() is not None]

    # hold the lock at a moment when no poll is in flight and an idle one is due before the step's
    deadline = time.monotonic() + 4.0
    while True:
        group._lock.acquire()
        steps, quiet = dues(True), dues(False)
        if steps and len(quiet) == 3 and min(quiet) < steps[0]:
            break
        group._lock.release()
        if time.monotonic() > deadline:
            raise AssertionError("never saw an idle poll due before the step's")
        time.sleep(0.002)
    try:
        assert [entry[3]() for entry in group._heap if entry[5]] == [mover]
        last_due = max(entry[0] for entry in group._heap)
        with lock:
            mark = len(order)
        while time.monotonic() < last_due + 0.02:
            time.sleep(0.005)
    finally:
        group._lock.release()
    wait_until(lambda: sum(1 for _, thread, _ in order[mark:] if thread == "cashdevice-first") >= 4)
    first = next(device for device, thread, _ in order[mark:] if thread == "cashdevice-first")
    assert first is mover, "an idle device's poll went first"
    rec.wait_cash("STORED", timeout=15)
    for device in [*idle, mover]:
        assert device._link is not None
        device._link.trace = None
    assert credited(rec) == [("STORED", 1000)]
    assert emu.ledger.credited_total() == 1000
    emu.ledger.check()


def test_disabling_while_the_group_polls_a_long_step_converges_and_credits_once(
    emulators: Make, devices: Make
) -> None:
    """The application disables the acceptor while the group polls a note being read: the group
    stops taking the step's repeats (the host no longer wants what they show), the note already
    in the unit is credited once, and the unit and the host both end disabled."""
    group = PollGroup("disable")
    emu, device, rec = open_lent(emulators, devices, group, read_time=1.0, stack_time=0.4)
    steps0 = group.counters.steps
    assert emu.insert_note(2000, wait=5)
    wait_until(lambda: group.counters.steps >= steps0 + 3, what="the group polling the read step")
    device.DisableAcceptor()
    rec.wait_cash("STORED", timeout=15)
    wait_until(lambda: device.deviceState == DeviceState.DISABLED and device._lent, what="DISABLED, lent")
    quiet_grows(group, 5)
    assert not emu.device.enabled and device.deviceState == DeviceState.DISABLED
    assert credited(rec) == [("STORED", 2000)]
    assert emu.ledger.credited_total() == 2000
    emu.ledger.check()


def test_a_lost_reply_in_a_long_step_is_resent_and_the_note_credited_once(
    emulators: Make, devices: Make
) -> None:
    """Replies to POLL WITH ACK are lost for four polls (over a second at the tests' 0.3 s timeout)
    while the group polls a note being stacked, so the CREDIT comes while they are lost: the group
    leaves its silent poll abandoned, the device's thread resends it (the link's retries, no SYNC in
    between), and the note is credited once."""
    group = PollGroup("steplost")
    emu, device, rec = open_lent(emulators, devices, group, read_time=0.5, stack_time=0.8)
    link = device._link
    assert link is not None
    assert emu.insert_note(500, wait=5)
    rec.wait_cash("ESCROW", timeout=10)
    steps = group.counters.steps
    wait_until(lambda: group.counters.steps >= steps + 2, what="the group polling the stacking step")
    retries, resyncs = link.counters.retries, link.counters.resyncs
    emu.faults.mute(Command.POLL_WITH_ACK, 4)
    wait_until(lambda: emu.faults.muted(Command.POLL_WITH_ACK) == 0, timeout=15, what="muted polls used up")
    rec.wait_cash("STORED", timeout=15)
    wait_until(lambda: device._lent, what="lent again")
    assert link.counters.retries >= retries + 4
    assert link.counters.resyncs == resyncs, "the abandoned poll was not resent as it was"
    assert credited(rec) == [("STORED", 500)]
    assert emu.ledger.credited_total() == 500
    emu.ledger.check()


def test_power_cut_while_the_group_polls_a_long_step_loses_no_credit(emulators: Make, devices: Make) -> None:
    """The unit loses power while the group polls a note being read: the host reconnects, what
    the unit did with that note matches the ledger, and the next note is credited once."""
    group = PollGroup("stepcut")
    emu, device, rec = open_lent(emulators, devices, group, read_time=1.0, stack_time=0.3)
    steps = group.counters.steps
    assert emu.insert_note(1000, wait=5)
    wait_until(lambda: group.counters.steps >= steps + 3, what="the group polling the read step")
    n_states = len(rec.states())
    emu.power_cycle(off_time=0.3)
    rec.wait_for(lambda: "NOT_CONNECTED" in rec.states()[n_states:], timeout=10, what="NOT_CONNECTED")
    wait_until(lambda: device.deviceState == DeviceState.IDLE and device._lent, timeout=15, what="IDLE, lent")
    assert emu.insert_note(2000, wait=5)
    rec.wait_for(lambda: ("STORED", 2000) in credited(rec), timeout=15, what="the second note")
    wait_until(lambda: device._lent, what="lent after the note")
    assert sum(value for _, value in credited(rec)) == emu.ledger.credited_total()
    assert credited(rec)[-1] == ("STORED", 2000)
    emu.ledger.check()


def test_a_poll_whose_reply_is_lost_is_resent_byte_for_byte(emulators: Make, devices: Make) -> None:
    """The reply to the group's poll is lost just as a coin is credited (a SMART Hopper's COIN
    CREDIT is never repeated): the group leaves the poll abandoned and the device's thread sends
    the identical packet again, which the unit answers from its cache: the coin is credited once."""
    group = PollGroup("lost")
    emu, device, rec = open_lent(emulators, devices, group, "SMART_HOPPER")
    link, trace = traced(device, group)
    handed_back = group.counters.handed_back
    emu.faults.mute(Command.POLL_WITH_ACK, 1)
    assert emu.insert_coin(100, wait=5)
    rec.wait_cash("COIN_CREDIT", timeout=15)
    wait_until(lambda: device._lent, what="lent again")
    link.trace = None
    assert group.counters.handed_back > handed_back
    frames = trace.snapshot()
    resent = 0
    for i, (thread, sending, wire) in enumerate(frames):
        if not (sending and thread == "cashdevice-lost"):
            continue
        after = frames[i + 1 :]
        if after and not after[0][1]:
            continue  # answered: the group took the reply (quiet or with news)
        later = [f for f in after if f[1]]
        if later and later[0][0] != thread:
            assert later[0][2] == wire, (wire.hex(" "), later[0][2].hex(" "))
            resent += 1
    assert resent >= 1, "no unanswered poll of the group was resent"
    assert credited(rec) == [("COIN_CREDIT", 100)]
    assert emu.ledger.credited_total() == 100
    emu.ledger.check()


# ---------------------------------------------------------------------------------- wanted state


def test_wanted_state_converges_while_lent(emulators: Make, devices: Make) -> None:
    """DisableAcceptor on a lent device: DISABLED, and it is lent again (``OK, DISABLED`` is a
    quiet reply then); EnableAcceptor: IDLE.  With the ENABLE lost on the way the unit stays
    disabled while the host wants it enabled: the group must not take ``OK, DISABLED`` as quiet
    then, and the host ends up IDLE with the unit enabled once the fault clears."""
    group = PollGroup("wanted")
    emu, device, rec = open_lent(emulators, devices, group)
    device.DisableAcceptor()
    wait_until(lambda: device.deviceState == DeviceState.DISABLED, what="DISABLED")
    wait_until(lambda: device._lent, what="lent while disabled")
    quiet_grows(group, 5)
    assert device.deviceState == DeviceState.DISABLED and not emu.device.enabled
    device.EnableAcceptor()
    wait_until(lambda: device.deviceState == DeviceState.IDLE, what="IDLE")
    wait_until(lambda: device._lent, what="lent while enabled")
    quiet_grows(group, 5)
    assert emu.device.enabled
    # the same again with every copy of ENABLE lost until the fault clears
    device.DisableAcceptor()
    wait_until(lambda: device.deviceState == DeviceState.DISABLED and device._lent, what="DISABLED, lent")
    emu.faults.ignore(Command.ENABLE, 10_000)
    device.EnableAcceptor()  # lost on every try
    assert not emu.device.enabled
    lost = emu.faults.ignored(Command.ENABLE)
    # the host wants it enabled and the poll still says DISABLED: not a quiet reply, so the device
    # thread keeps asserting ENABLE (it is not left to the group)
    wait_until(lambda: emu.faults.ignored(Command.ENABLE) <= lost - 2, timeout=10, what="ENABLE re-sent")
    assert device.deviceState == DeviceState.DISABLED and not emu.device.enabled
    emu.faults.clear()
    wait_until(lambda: device.deviceState == DeviceState.IDLE, timeout=10, what="IDLE after the fault")
    assert emu.device.enabled, "the host left the unit disabled while it wants it enabled"
    wait_until(lambda: device._lent, what="lent again")
    quiet_grows(group, 5)
    assert device.deviceState == DeviceState.IDLE and emu.device.enabled
    assert emu.insert_note(500, wait=5)
    rec.wait_cash("STORED")
    assert credited(rec) == [("STORED", 500)]
    assert emu.ledger.credited_total() == 500


# ---------------------------------------------------------------------------------- the application


def test_application_commands_while_lent_succeed_and_credits_stay_once(
    emulators: Make, devices: Make
) -> None:
    """The application calls GetAllLevels (and GetDeviceStatus) every few milliseconds while its
    devices are lent and coins go in: the calls succeed (they wait for the link lock between the
    group's polls) and every coin is reported exactly once."""
    group = PollGroup("app")
    opened = [open_lent(emulators, devices, group, "SMART_HOPPER") for _ in range(2)]
    stop = threading.Event()
    results: list[bool] = []

    def ask(device: CashDevice) -> None:
        while not stop.is_set():
            results.append(device.GetAllLevels())
            device.GetDeviceStatus()
            stop.wait(0.005)  # an application that asks often, not back-to-back (see the next test)

    askers = [threading.Thread(target=ask, args=(device,)) for _, device, _ in opened]
    for thread in askers:
        thread.start()
    coins = (100, 200, 50, 100, 200, 50)
    try:
        for count, value in enumerate(coins, 1):
            wait_until(lambda: all(device._lent for _, device, _ in opened), what="lent between coins")
            for emu, _, _ in opened:
                assert emu.insert_coin(value, wait=5)
            for _, _, rec in opened:
                rec.wait_cash("COIN_CREDIT", count, timeout=10)
        wait_until(lambda: len(results) >= 40, what="the application's calls")
    finally:
        stop.set()
        for thread in askers:
            thread.join(10)
    assert len(results) >= 40 and all(results), (len(results), results.count(False))
    quiet_grows(group, 5)
    for emu, device, rec in opened:
        assert credited(rec) == [("COIN_CREDIT", v) for v in coins]
        assert emu.ledger.credited_total() == sum(coins)
        emu.ledger.check()
        assert device.GetAllLevels()


def test_back_to_back_application_commands_do_not_starve_a_lent_device(
    emulators: Make, devices: Make
) -> None:
    """The application sends GetAllLevels back-to-back on a lent SMART Hopper and a coin goes in:
    the coin must still be reported promptly (without a group the poll thread's blocking wait for
    the link lock gets its turn and the credit arrives within a poll or two).  The group only
    *tries* the lock (it waits for no device); when the application keeps the link busy past
    the due time, the device goes back to its own thread, which waits for the lock."""
    group = PollGroup("starve")
    emu, device, rec = open_lent(emulators, devices, group, "SMART_HOPPER")
    stop = threading.Event()
    results: list[bool] = []

    def ask() -> None:
        while not stop.is_set():
            results.append(device.GetAllLevels())

    asker = threading.Thread(target=ask)
    asker.start()
    try:
        wait_until(lambda: len(results) >= 10, what="the application running")
        handed = group.counters.handed_back
        assert emu.insert_coin(100, wait=5)
        rec.wait_cash("COIN_CREDIT", timeout=2)
        # the group did not wait for the busy link: the device's own thread polled it
        assert group.counters.handed_back > handed or not device._lent
    finally:
        stop.set()
        asker.join(10)
    assert all(results)
    assert credited(rec) == [("COIN_CREDIT", 100)]
    assert emu.ledger.credited_total() == 100


# ---------------------------------------------------------------------------------- faults


def test_power_cut_while_lent_reconnects_and_credits_once(emulators: Make, devices: Make) -> None:
    """The unit loses power while lent: the group hands the device back, which reports
    NOT_CONNECTED, reconnects to IDLE and is lent again; a note after is credited once."""
    group = PollGroup("power")
    emu, device, rec = open_lent(emulators, devices, group)
    handed0 = group.counters.handed_back
    n_states = len(rec.states())
    emu.power_cycle(off_time=0.3)
    rec.wait_for(lambda: "NOT_CONNECTED" in rec.states()[n_states:], timeout=10, what="NOT_CONNECTED")
    rec.wait_for(
        lambda: "IDLE" in rec.states()[n_states:][rec.states()[n_states:].index("NOT_CONNECTED") :],
        timeout=15,
        what="IDLE again",
    )
    assert group.counters.handed_back > handed0
    wait_until(lambda: device._lent, what="lent again")
    quiet_grows(group, 5)
    assert emu.insert_note(2000, wait=5)
    rec.wait_cash("STORED", timeout=15)
    wait_until(lambda: device._lent, what="lent after the note")
    assert credited(rec) == [("STORED", 2000)]
    assert emu.ledger.credited_total() == 2000
    emu.ledger.check()


# ---------------------------------------------------------------------------------- lifecycle


def test_close_and_stop_start_while_lent(emulators: Make, devices: Make) -> None:
    """stopRunning on a lent device takes it back from the group (STOPPED, no longer polled);
    startRunning lends it again.  Close while lent returns promptly and ends the poll thread."""
    group = PollGroup("life")
    emu, device, rec = open_lent(emulators, devices, group)
    device.stopRunning()
    assert device.deviceState == DeviceState.STOPPED
    assert not device.isRunning and not device._lent
    assert not emu.device.enabled  # stopRunning DISABLEs
    wait_until(lambda: group.lent == 0 and not group.running, what="the group lets go")
    polls = group.counters.polls
    n = len(rec.states())
    device.startRunning()
    rec.wait_for(lambda: "IDLE" in rec.states()[n:], what="IDLE after startRunning")
    wait_until(lambda: device._lent, what="lent after startRunning")
    quiet_grows(group, 5)
    assert group.counters.polls > polls and emu.device.enabled
    thread = device._thread
    assert thread is not None and thread.is_alive()
    t0 = time.monotonic()
    device.Close()
    took = time.monotonic() - t0
    assert took < 1.0, took
    assert not thread.is_alive()
    assert device.deviceState == DeviceState.NOT_CONNECTED and not device._lent
    wait_until(lambda: not group.running, what="the group thread ends")


def test_a_lent_device_nobody_references_is_collected_and_the_group_stops(emulators: Make) -> None:
    """A lent device dropped without Close is garbage-collected (the group holds only weak
    references between polls); its finalizer warns (ResourceWarning), its poll thread ends and
    the group's thread ends with it."""
    group = PollGroup("gc")
    emu = emulators("SPECTRAL_PAYOUT")
    device = CashDevice(poll_interval=0.05, timeout=0.3, reconnect_interval=0.2, poll_group=group)
    assert device.Open(emulator_url(emu, "pty"), emu.address, DeviceModel.SPECTRAL_PAYOUT) == (
        CashSystemOpenResult.OK
    )
    ref = weakref.ref(device)
    thread = device._thread
    assert thread is not None

    def lent() -> bool:
        alive = ref()
        return alive is not None and alive._lent

    wait_until(lent, what="lent")
    quiet_grows(group, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del device  # the last reference: collected now, or by the collector below
        deadline = time.monotonic() + 2
        while ref() is not None and time.monotonic() < deadline:
            gc.collect()
            time.sleep(0.01)
    survivor = ref()
    if survivor is not None:  # not collected: close it so that the test leaves nothing running
        survivor.Close()
        del survivor
        wait_until(lambda: not group.running, what="the group thread ends after Close")
        pytest.fail("the lent device was not collected (something still references it)")
    assert any(issubclass(w.category, ResourceWarning) for w in caught)
    thread.join(5)
    assert not thread.is_alive()
    wait_until(lambda: not group.running, what="the group thread ends")
    assert group.lent == 0


def test_two_groups_do_not_interfere(emulators: Make, devices: Make) -> None:
    """Two groups, one device each: each device is polled by its own group's thread only."""
    group_a, group_b = PollGroup("ga"), PollGroup("gb")
    _, dev_a, _ = open_lent(emulators, devices, group_a)
    _, dev_b, _ = open_lent(emulators, devices, group_b)
    traces: dict[str, Trace] = {}
    for name, device in (("ga", dev_a), ("gb", dev_b)):
        link = device._link
        assert link is not None
        traces[name] = Trace()
        link.trace = traces[name]
    quiet_grows(group_a, 10)
    quiet_grows(group_b, 10)
    assert group_a.running and group_b.running
    assert group_a.lent == 1 and group_b.lent == 1
    for name in ("ga", "gb"):
        threads = {thread for thread, _ in traces[name].sent()}
        assert threads == {f"cashdevice-{name}"}, threads
    dev_a.Close()
    wait_until(lambda: not group_a.running, what="group a ends")
    quiet_grows(group_b, 5)
    assert group_b.running and dev_b._lent


# ---------------------------------------------------------------------------------- the link


def test_link_attempts_one_at_a_time(emulators: Make) -> None:
    """SSPLink.start_attempt / read_attempt / finish_attempt without CashDevice: a reply not kept
    leaves the attempt abandoned, ``transact`` with the same command resends the identical packet
    and gets the cached reply; a kept reply is returned and toggles the sequence flag.  No attempt
    on a port without a descriptor, nor while an abandoned transaction is pending."""
    emu = emulators("SPECTRAL_PAYOUT", enforce_encryption=False)
    addr = emu.address
    trace = Trace()
    with SSPLink(emulator_url(emu, "pty"), timeout=0.3, trace=trace) as link:
        assert link.attempts_possible
        link.sync(addr)

        def attempt_reply(data: bytes, keep: Callable[[bytes], bool]) -> tuple[Any, bytes | None, bytes]:
            with link.lock:
                a = link.start_attempt(addr, data)
                assert a is not None
                poller = select.poll()
                poller.register(a.fd.fd, select.POLLIN)
                deadline = time.monotonic() + 2
                pkt = None
                while pkt is None:
                    assert time.monotonic() < deadline, "no reply to the attempt"
                    poller.poll(50)
                    pkt = link.read_attempt(a)
                return a, link.finish_attempt(a, pkt, keep), pkt.data

        flag = link.seq_flag(addr)
        a, taken, first_data = attempt_reply(bytes([POLL]), lambda d: False)
        assert taken is None
        assert link.abandoned_command(addr) == POLL
        assert link.seq_flag(addr) == flag  # nothing taken
        with link.lock:
            assert link.start_attempt(addr, bytes([POLL])) is None  # an abandoned one is pending
        n = len(trace.frames)
        reply = link.transact(addr, bytes([POLL]))
        sent = [wire for _, sending, wire in trace.frames[n:] if sending]
        assert sent == [a.wire], [w.hex(" ") for w in sent]
        assert reply == first_data  # answered from the device's cache
        assert link.abandoned_command(addr) is None
        assert link.seq_flag(addr) != flag
        flag = link.seq_flag(addr)
        a2, taken, data = attempt_reply(bytes([POLL]), lambda d: True)
        assert taken == data and taken[:1] == b"\xf0"
        assert a2.wire != a.wire  # a new transaction: the other sequence flag
        assert link.seq_flag(addr) != flag
        assert link.abandoned_command(addr) is None
    with SSPLink(emu.url, timeout=0.3) as inproc:
        assert not inproc.attempts_possible
        inproc.sync(addr)
        with inproc.lock:
            assert inproc.start_attempt(addr, bytes([POLL])) is None
        assert inproc.transact(addr, bytes([POLL]))[:1] == b"\xf0"


def test_a_failing_group_thread_gives_its_devices_back_and_loses_no_credit(
    emulators: Make, devices: Make
) -> None:
    """A bug that stops the group's thread while polls are on the line: every device goes back to
    its own thread, which resends the abandoned poll; notes inserted next are credited once each,
    and the devices are lent again (to a new group thread)."""
    group = PollGroup("failing")
    opened = [open_lent(emulators, devices, group) for _ in range(2)]
    replies = group._replies
    failed = threading.Event()

    def fail_once(ready: Any, inflight: Any, poller: Any) -> None:
        if inflight and not failed.is_set():
            failed.set()
            raise RuntimeError("a bug in the group")
        replies(ready, inflight, poller)

    group._replies = fail_once  # type: ignore[method-assign]
    wait_until(failed.is_set, what="the group thread failing")
    for emu, _, _ in opened:
        assert emu.insert_note(500, wait=10)
    for emu, _, rec in opened:
        rec.wait_cash("STORED", 1, timeout=15)
        assert credited(rec) == [("STORED", 500)]
        assert emu.ledger.credited_total() == 500
        emu.ledger.check()
    wait_until(lambda: all(device._lent for _, device, _ in opened), what="all lent again")
    polls = group.counters.polls
    wait_until(lambda: group.counters.polls >= polls + 4, what="the new group thread polling")
    for _, _, rec in opened:
        assert credited(rec) == [("STORED", 500)]
