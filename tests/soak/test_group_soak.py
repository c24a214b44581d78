"""A fault soak of one :class:`~cashdevice.PollGroup` polling many devices (opt-in: ``-m soak``).

Fourteen emulated units (SPECTRAL_PAYOUT recyclers and SMART_HOPPERs) on ptys share one group
that polls them every 0.05 s while they are idle.  Half of the lines drop and corrupt bytes both
ways; customers feed notes and coins into random units, a few units lose their power a few times
(only on clean lines, and only once the unit has put every event it holds in a poll reply, as
``cashdevice.soak`` does: the unit's event queue is volatile), and a few payouts are asked for.
Then every line is made clean, the host settles, and per device the host's reports are compared
with the emulator's ledger: every credit and every payout reported exactly once.

``CASHDEVICE_GSOAK_SEED`` (an integer, default 1) chooses the run.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
from support import FAST, emulator_url

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel, PollGroup
from cashdevice._soak_report import PayoutRecord, SoakConfig, SoakReport, compare_credits, money_problems
from cashdevice.emulator import Emulator
from cashdevice.emulator.datasets import CURRENCIES_COINS, CURRENCIES_NOTES
from cashdevice.enums import DispenseTransactionRequestResult
from cashdevice.records import ValueCountryCode
from cashdevice.soak import LOST_STATES, SETTLED_STATES, HostTally
from cashdevice.ssp import PollEvent

SEED = int(os.environ.get("CASHDEVICE_GSOAK_SEED", "1"))
NOTE_UNITS = 8
HOPPER_UNITS = 6
RUN_SECONDS = 70.0
"""Wall time of the busy phase (customers, power cuts, payouts)."""
CUSTOMERS = 3
POWER_CUTS = 10
PAYOUTS = 10
DROP = CORRUPT = 0.01
"""Per-byte probabilities, both ways, on every other line."""
POLL_INTERVAL = 0.05
CURRENCY = "EUR"
SETTLE_SECONDS = 90.0
STABLE_SECONDS = 1.5
"""Credits must stay unchanged this long (line clean, every unit idle) to count as settled."""


@dataclass
class Unit:
    """One emulated unit, its host and what the soak did to it."""

    index: int
    model: str
    emu: Emulator
    device: CashDevice
    tally: HostTally
    noisy: bool
    values: tuple[int, ...]
    coins: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Held by whoever acts on the unit (a customer inserting, a power cut, a payout)."""
    inserted: int = 0
    refused: int = 0
    cuts: int = 0
    cuts_skipped: int = 0
    recoveries: list[float] = field(default_factory=list)
    payouts: list[PayoutRecord] = field(default_factory=list)
    last_item: float = 0.0

    @property
    def name(self) -> str:
        return f"#{self.index} {self.model}{' (noisy)' if self.noisy else ''}"

    def set_faults(self, on: bool) -> None:
        for direction in (self.emu.faults.inbound, self.emu.faults.outbound):
            direction.drop = DROP if on and self.noisy else 0.0
            direction.corrupt = CORRUPT if on and self.noisy else 0.0

    def link_counter(self, name: str) -> int:
        link = self.device._link
        counters = getattr(link, "counters", None)
        return int(getattr(counters, name, 0)) if counters is not None else 0


def make_unit(index: int, model: str, group: PollGroup, noisy: bool) -> Unit:
    coins = model == "SMART_HOPPER"
    table = CURRENCIES_COINS if coins else CURRENCIES_NOTES
    values = sorted(table[CURRENCY])
    stocked = values[-3:] if coins else values[:2]  # what cashdevice.soak stocks for payouts
    options: dict[str, Any] = {
        **FAST,
        "seed": SEED * 1000 + index,
        "auto_take": 0.0,  # the customer takes every paid note from the bezel at once
        "levels": {(v, CURRENCY): (50 if coins else 40) for v in stocked},
    }
    emu = Emulator(model, **options)
    device = CashDevice(poll_group=group, poll_interval=POLL_INTERVAL, reconnect_interval=0.2)
    tally = HostTally(device)
    port = emulator_url(emu, "pty")
    for _ in range(5):
        if device.Open(port, emu.address, DeviceModel[model]) == CashSystemOpenResult.OK:
            break
    else:
        raise AssertionError(f"Open({port!r}) of {model} failed 5 times")
    return Unit(index, model, emu, device, tally, noisy, tuple(values if coins else values[:4]), coins)


# ---------------------------------------------------------------------------------- the actors


def customer(units: list[Unit], rng: random.Random, until: float, stop: threading.Event) -> None:
    """Inserts a note or a coin into a random unit, again and again, until ``until``."""
    while time.monotonic() < until and not stop.is_set():
        unit = rng.choice(units)
        if not unit.lock.acquire(timeout=0.2):
            continue  # a power cut or a payout is on this unit: go to another one
        try:
            value = rng.choice(unit.values)
            if unit.coins:
                # coins one after another, not all at once (cashdevice.soak --coin-interval)
                pause = unit.last_item + 0.25 - time.monotonic()
                if pause > 0:
                    stop.wait(pause)
                taken = unit.emu.insert_coin(value, wait=3.0)
            else:
                taken = unit.emu.insert_note(value, wait=3.0)
            unit.last_item = time.monotonic()
            if taken:
                unit.inserted += 1
            else:
                unit.refused += 1
        finally:
            unit.lock.release()
        stop.wait(rng.uniform(0.02, 0.15))


def power_cut(unit: Unit, rng: random.Random) -> None:
    """Cut the power once the unit has put every event it holds in a poll reply (as
    ``cashdevice.soak`` does: an event never reported dies with the power), then wait until the
    host noticed and came back to IDLE / DISABLED.  The caller holds ``unit.lock``."""
    tally = unit.tally
    off_time = rng.uniform(0.0, 0.5)
    with tally.cond:
        index = len(tally.states)

    def cut(e: Any) -> bool:
        with e._lock:  # check and cut atomically
            note = getattr(e.device, "note", None)
            credited = note is not None and note.credited  # a reset event reports it
            for p in e.device.pending:
                if not p.reported and not (credited and p.event.code == PollEvent.CREDIT):
                    return False
            e.power_off()
            return True

    if not unit.emu.wait_for(cut, 10.0, interval=0.002):
        unit.cuts_skipped += 1
        return
    if off_time > 0:
        time.sleep(off_time)
    unit.emu.power_on()
    at = time.monotonic()
    unit.cuts += 1
    if not tally.wait(lambda: tally.state_after(index, LOST_STATES) is not None, 20.0):
        return  # the host never noticed (a very short cut between two polls)
    lost = tally.state_after(index, LOST_STATES)
    assert lost is not None
    assert tally.wait(lambda: tally.state_after(lost[0], SETTLED_STATES) is not None, 60.0), (
        f"{unit.name} never came back after a power cut: {' '.join(tally.trail[-25:])}"
    )
    back = tally.state_after(lost[0], SETTLED_STATES)
    assert back is not None
    unit.recoveries.append(back[1] - at)


def payout(unit: Unit, rng: random.Random) -> None:
    """One payout as ``cashdevice.soak`` asks for it (the caller holds ``unit.lock``)."""
    emu, tally, device = unit.emu, unit.tally, unit.device
    emu.wait_for(lambda e: e.status()["note"] is None and e.status()["job"] is None, 30.0)
    tally.wait(lambda: tally.host_state() in SETTLED_STATES, 30.0)
    stock = {d.value: n for d, n in emu.levels.items() if d.country == CURRENCY and n > 0}
    record = PayoutRecord(len(unit.payouts) + 1, 0, "SKIPPED")
    unit.payouts.append(record)
    if not stock:
        return
    value = rng.choice(sorted(stock))
    amount = record.amount = value * rng.randint(1, min(stock[value], 5 if unit.coins else 3))
    before = emu.ledger.dispensed_total()
    with tally.cond:
        ends_before = len(tally.transaction_ends)
    result = DispenseTransactionRequestResult.BUSY
    for _ in range(5):
        result = device.DispenseValue(ValueCountryCode(amount, CURRENCY))
        if result != DispenseTransactionRequestResult.BUSY:
            break
        tally.wait(lambda: tally.host_state() in SETTLED_STATES, 30.0)
    record.result = result.name
    if result != DispenseTransactionRequestResult.OK:
        if emu.wait_for(lambda e: e.ledger.dispensed_total() != before, 1.0):
            # it paid although the call said otherwise: a mismatch the test reports
            record.ledger_paid = emu.ledger.dispensed_total() - before
            record.reported = 0
            record.result = "OK"
            record.trail = " ".join(tally.trail[-25:])
        return
    ended = tally.wait(lambda: len(tally.transaction_ends) > ends_before, 60.0)
    emu.wait_for(lambda e: e.status()["job"] is None and e.status()["bezel"] is None, 60.0)
    record.ledger_paid = emu.ledger.dispensed_total() - before
    if ended:
        with tally.cond:
            record.end_state, record.reported = tally.transaction_ends[ends_before]
    if not record.matches:
        record.trail = " ".join(tally.trail[-25:])


def operator(
    units: list[Unit], action: str, count: int, rng: random.Random, until: float, stop: threading.Event,
    errors: list[str],
) -> None:  # fmt: skip
    """Runs ``count`` power cuts or payouts at random moments before ``until``."""
    times = sorted(rng.uniform(3.0, max(3.0, until - time.monotonic() - 8.0)) for _ in range(count))
    start = time.monotonic()
    for at in times:
        if stop.wait(max(0.0, start + at - time.monotonic())):
            return
        unit = rng.choice(units)
        with unit.lock:
            try:
                if action == "cut":
                    power_cut(unit, rng)
                else:
                    payout(unit, rng)
            except AssertionError as exc:
                errors.append(str(exc))


# ---------------------------------------------------------------------------------- settling


def settle(units: list[Unit]) -> tuple[bool, float]:
    """Wait (bounded) until every unit is idle with nothing in its path, every host shows
    IDLE / DISABLED, every ledger credit is covered by a host report, and the host credits have
    not changed for :data:`STABLE_SECONDS`.  Returns (settled, seconds taken)."""
    start = time.monotonic()
    deadline = start + SETTLE_SECONDS

    def snapshot() -> tuple[Any, ...]:
        out = []
        for unit in units:
            with unit.tally.cond:
                out.append((sum(unit.tally.credits.values()), sum(unit.tally.cleared.values()),
                            len(unit.tally.transaction_ends)))  # fmt: skip
        return tuple(out)

    def ready() -> bool:
        for unit in units:
            status = unit.emu.status()
            if status["note"] is not None or status["job"] is not None:
                return False
            if unit.tally.host_state() not in SETTLED_STATES:
                return False
            ledger = unit.emu.ledger
            with unit.tally.cond:
                reported = unit.tally.credits + unit.tally.cleared
            if any(reported[(d.value, d.country)] < c.credited for d, c in ledger.counts.items()):
                return False
        return True

    last = snapshot()
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = snapshot()
        if now != last:
            last, stable_since = now, time.monotonic()
        if ready() and time.monotonic() - stable_since >= STABLE_SECONDS:
            return True, time.monotonic() - start
    return ready(), time.monotonic() - start


def report_for(unit: Unit) -> SoakReport:
    """The soak's report of one unit: ledger vs host credits (``compare_credits``), payouts."""
    report = SoakReport(SoakConfig(model=unit.model, transport="pty", group=True, seed=SEED))
    report.take_ledger(unit.emu.ledger)
    with unit.tally.cond:
        report.host_credits = Counter(unit.tally.credits)
        report.host_cleared = Counter(unit.tally.cleared)
        report.reported_paid = sum(value for _, value in unit.tally.transaction_ends)
        report.transaction_ends = len(unit.tally.transaction_ends)
    report.payouts = list(unit.payouts)
    compare_credits(report)
    return report


def settled_host(unit: Unit) -> bool:
    return unit.tally.host_state() in SETTLED_STATES


def value_of(counts: Counter[tuple[int, str]]) -> int:
    return sum(value * n for (value, _), n in counts.items())


# ---------------------------------------------------------------------------------- the test


@pytest.mark.soak
@pytest.mark.timeout(600)
def test_many_devices_in_one_group_lose_and_duplicate_nothing() -> None:
    group = PollGroup("gsoak")
    models = ["SPECTRAL_PAYOUT"] * NOTE_UNITS + ["SMART_HOPPER"] * HOPPER_UNITS
    units: list[Unit] = []
    stop = threading.Event()
    threads: list[threading.Thread] = []
    started = time.monotonic()
    try:
        for i, model in enumerate(models):
            # every other unit of each model has a noisy line
            units.append(make_unit(i, model, group, noisy=(i % 2 == 1)))
        for unit in units:
            assert unit.tally.wait(partial(settled_host, unit), 30.0), unit.name
        deadline = time.monotonic() + 10.0
        while group.lent < len(units) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert group.running and group.lent == len(units), f"lent {group.lent} of {len(units)}"
        quiet0, handed0, polls0 = group.counters.quiet, group.counters.handed_back, group.counters.polls

        # ---------------------------------------------------------------- the busy phase
        for unit in units:
            unit.set_faults(True)
        until = time.monotonic() + RUN_SECONDS
        errors: list[str] = []
        clean = [u for u in units if not u.noisy]
        for k in range(CUSTOMERS):
            threads.append(threading.Thread(
                target=customer, args=(units, random.Random(SEED * 100 + k), until, stop),
                name=f"gsoak-customer-{k}",
            ))  # fmt: skip
        threads.append(threading.Thread(
            target=operator, args=(clean, "cut", POWER_CUTS, random.Random(SEED * 100 + 50), until, stop,
                                   errors), name="gsoak-cuts",
        ))  # fmt: skip
        threads.append(threading.Thread(
            target=operator, args=(units, "payout", PAYOUTS, random.Random(SEED * 100 + 60), until, stop,
                                   errors), name="gsoak-payouts",
        ))  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(1.0, until - time.monotonic() + 120.0))
        assert not [t.name for t in threads if t.is_alive()], "an actor never finished"
        busy_time = time.monotonic() - started

        # ---------------------------------------------------------------- settle, then compare
        for unit in units:
            unit.set_faults(False)
        settled, settle_time = settle(units)
        reports = [report_for(unit) for unit in units]
        quiet = group.counters.quiet - quiet0
        handed = group.counters.handed_back - handed0
        polls = group.counters.polls - polls0
        credits = sum(sum(r.ledger_credits.values()) for r in reports)
        credit_value = sum(value_of(r.ledger_credits) for r in reports)
        host_count = sum(sum(r.host_credits.values()) for r in reports)
        cleared = sum(sum(r.cleared_at_reset.values()) for r in reports)
        asked = [p for u in units for p in u.payouts if p.result == "OK"]
        retries = {u.index: u.link_counter("retries") for u in units}
        recoveries = [t for u in units for t in u.recoveries]
        print(
            f"\ngroup soak seed {SEED}: {len(units)} devices ({NOTE_UNITS} SPECTRAL_PAYOUT, "
            f"{HOPPER_UNITS} SMART_HOPPER; {sum(u.noisy for u in units)} noisy at {DROP:.0%} drop + "
            f"{CORRUPT:.0%} corrupt per byte), busy {busy_time:.1f} s, settled {settled} in "
            f"{settle_time:.1f} s\n"
            f"  items inserted {sum(u.inserted for u in units)} (refused {sum(u.refused for u in units)}); "
            f"ledger credits {credits} = {credit_value / 100:.2f} EUR; host reported {host_count}"
            f" + {cleared} cleared at reset\n"
            f"  power cuts {sum(u.cuts for u in units)} (skipped {sum(u.cuts_skipped for u in units)}), "
            f"recovery max {max(recoveries, default=0):.2f} s\n"
            f"  payouts asked {sum(len(u.payouts) for u in units)}, OK {len(asked)}, paid "
            f"{sum(p.ledger_paid for p in asked) / 100:.2f} EUR, reported "
            f"{sum(p.reported or 0 for p in asked) / 100:.2f} EUR "
            f"(results {Counter(p.result for u in units for p in u.payouts)})\n"
            f"  group: polls {polls}, quiet {quiet}, handed back {handed}; link retries "
            f"{sum(retries.values())} (noisy {sum(retries[u.index] for u in units if u.noisy)}, "
            f"clean {sum(retries[u.index] for u in units if not u.noisy)})"
        )
        for unit, report in zip(units, reports):
            print(
                f"  {unit.name:28} credits {sum(report.ledger_credits.values()):3} "
                f"host {sum(report.host_credits.values()):3} cleared {sum(report.host_cleared.values())} "
                f"cuts {unit.cuts} payouts {len(unit.payouts)} retries {retries[unit.index]}"
                + (
                    f" LOST {dict(report.lost)} DUP {dict(report.duplicated)}"
                    if report.lost or report.duplicated
                    else ""
                )
            )

        # ---------------------------------------------------------------- the verdict
        assert not errors, errors
        problems: list[str] = []
        for unit, report in zip(units, reports):
            trail = " ".join(unit.tally.trail[-25:])
            problems += [f"{unit.name}: {line} (trail: {trail})" for line in money_problems(report)]
            reported_value = value_of(report.host_credits) + value_of(report.cleared_at_reset)
            if reported_value != value_of(report.ledger_credits):
                problems.append(
                    f"{unit.name}: host value {reported_value} != ledger {value_of(report.ledger_credits)}"
                )
            ok = [p for p in unit.payouts if p.result == "OK"]
            if report.transaction_ends != len(ok):
                problems.append(
                    f"{unit.name}: {len(ok)} payouts OK but {report.transaction_ends} transaction ends"
                )
        assert not problems, "\n".join(problems)
        assert settled, "the hosts never settled: " + "; ".join(
            f"{u.name}: {u.tally.host_state().name} {u.emu.status()['note']} {u.emu.status()['job']}"
            for u in units
        )
        for unit in units:
            unit.emu.ledger.check()
        # the run did what it set out to do, through the group
        assert credits >= 100, credits
        assert len(asked) >= PAYOUTS // 2, [(p.result, p.amount) for u in units for p in u.payouts]
        assert sum(u.cuts for u in units) >= POWER_CUTS // 2
        assert quiet >= 3000, quiet
        assert handed >= max(100, credits // 2), (handed, credits)
        assert sum(retries[u.index] for u in units if u.noisy) > 0
    finally:
        stop.set()
        for thread in threads:
            thread.join(10.0)
        for unit in units:
            unit.set_faults(False)
            unit.device.Close()
        deadline = time.monotonic() + 10.0
        while group.running and time.monotonic() < deadline:
            time.sleep(0.02)
        for unit in units:
            unit.emu.stop()
    assert not group.running and group.lent == 0


@pytest.mark.soak
@pytest.mark.timeout(60)
def test_a_cut_while_the_group_hands_a_credit_over_loses_nothing() -> None:
    """The group receives the reply carrying a COIN CREDIT and hands it to the device's thread;
    the unit loses its power just then (its event queue and cached reply die).  The host already
    holds the reply: its thread handles it, and the coin is reported once.  (A first version of
    the group left such a reply for the thread to fetch again; that lost the coin here.)"""
    options: dict[str, Any] = dict(FAST)
    emu = Emulator("SMART_HOPPER", **options)
    group = PollGroup("gsoak-cut")
    device = CashDevice(poll_group=group, poll_interval=POLL_INTERVAL, reconnect_interval=0.2)
    tally = HostTally(device)
    fired: list[str] = []
    hand_back = group._hand_back

    def cut_then_hand_back(dev: CashDevice, why: str, *, abandoned: bool = False) -> None:
        if why == "a reply with news" and not fired:
            fired.append(why)
            emu.power_cycle()  # the reply left the unit; its event queue and cache die here
        hand_back(dev, why, abandoned=abandoned)

    group._hand_back = cut_then_hand_back  # type: ignore[method-assign, assignment]
    try:
        assert device.Open(emulator_url(emu, "pty"), emu.address, DeviceModel.SMART_HOPPER) == (
            CashSystemOpenResult.OK
        )
        assert tally.wait(lambda: tally.host_state() in SETTLED_STATES and device._lent, 10.0)
        with tally.cond:
            index = len(tally.states)
        assert emu.insert_coin(100, wait=5.0)
        if not tally.wait(lambda: tally.state_after(index, LOST_STATES) is not None, 10.0):
            raise RuntimeError(f"no cut while the group handed the coin over (fired {fired})")
        lost = tally.state_after(index, LOST_STATES)
        assert lost is not None
        if not tally.wait(lambda: tally.state_after(lost[0], SETTLED_STATES) is not None, 20.0):
            raise RuntimeError("the host never came back after the cut")
        ledger = emu.ledger.get(100, CURRENCY).credited
        tally.wait(lambda: tally.credits[(100, CURRENCY)] >= ledger, 3.0)
        assert ledger == 1, ledger
        assert tally.credits[(100, CURRENCY)] == ledger, (
            f"host reported {tally.credits[(100, CURRENCY)]} of {ledger} credited coin(s): "
            + " ".join(tally.trail)
        )
    finally:
        device.Close()
        emu.stop()
