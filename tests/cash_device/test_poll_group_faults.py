"""One PollGroup polling many devices of mixed models under faults (ptys).

Per device, the host's reports are compared with the emulator's ledger: every credit and every
payout reported exactly once, on the device that took it."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support import FAST, emulator_url

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel, PollGroup
from cashdevice.emulator import Emulator
from cashdevice.emulator.datasets import CURRENCIES_COINS, CURRENCIES_NOTES
from cashdevice.enums import DispenseTransactionRequestResult
from cashdevice.records import ValueCountryCode
from cashdevice.soak import SETTLED_STATES, HostTally
from cashdevice.ssp import PollEvent

CUR = "EUR"
MODELS = ("NOTE_VALIDATOR", "NV11", "SMART_HOPPER", "SMART_COIN_SYSTEM", "SPECTRAL_PAYOUT")
COINS = ("SMART_HOPPER", "SMART_COIN_SYSTEM")


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


@dataclass
class Unit:
    index: int
    model: str
    emu: Emulator
    device: CashDevice
    tally: HostTally
    values: tuple[int, ...]
    port: str
    foreign: list[str] = field(default_factory=list)

    @property
    def coins(self) -> bool:
        return self.model in COINS

    def insert(self, value: int, wait: float = 5.0) -> bool:
        if self.coins:
            return self.emu.insert_coin(value, wait=wait)
        return self.emu.insert_note(value, wait=wait)

    def reported(self) -> Counter[tuple[int, str]]:
        with self.tally.cond:
            return self.tally.credits + self.tally.cleared

    def ledger_credits(self) -> Counter[tuple[int, str]]:
        return Counter(
            {(d.value, d.country): c.credited for d, c in self.emu.ledger.counts.items() if c.credited}
        )

    def paid_reported(self) -> int:
        with self.tally.cond:
            return sum(v for _, v in self.tally.transaction_ends)


def make_unit(index: int, model: str, group: PollGroup | None, **device_options: Any) -> Unit:
    coins = model in COINS
    table = CURRENCIES_COINS if coins else CURRENCIES_NOTES
    values = tuple(sorted(table[CUR]))
    stocked = values[-3:] if coins else values[:2]
    emu = Emulator(model, **{**FAST, "seed": 100 + index, "auto_take": 0.0,
                             "levels": {(v, CUR): 30 for v in stocked}})  # fmt: skip
    options: dict[str, Any] = {"poll_interval": 0.05, "reconnect_interval": 0.2, "timeout": 0.3}
    options.update(device_options)
    device = CashDevice(poll_group=group, **options)
    tally = HostTally(device)
    port = emulator_url(emu, "pty")
    unit = Unit(index, model, emu, device, tally, values if coins else values[:3], port)

    def check_sender(sender: Any, e: Any = None) -> None:
        if sender is not device:
            unit.foreign.append(repr(sender))

    device.CashEvent.connect(check_sender)
    assert device.Open(port, emu.address, DeviceModel[model]) == CashSystemOpenResult.OK
    return unit


@pytest.fixture
def units() -> Any:
    made: list[Unit] = []
    yield made
    for unit in made:
        unit.device.Close()
    for unit in made:
        unit.emu.stop()


def open_units(made: list[Unit], group: PollGroup, count: int, **options: Any) -> list[Unit]:
    out = []
    for i in range(count):
        unit = make_unit(len(made), MODELS[i % len(MODELS)], group, **options)
        made.append(unit)
        out.append(unit)
    for unit in out:
        wait_until(lambda u=unit: u.tally.host_state() in SETTLED_STATES, what=f"{unit.model} settled")
    wait_until(lambda: all(u.device._lent for u in out), what="all lent")
    return out


def settle(units: list[Unit], timeout: float = 60.0) -> None:
    def ready() -> bool:
        for unit in units:
            status = unit.emu.status()
            if status["note"] is not None or status["job"] is not None:
                return False
            if unit.tally.host_state() not in SETTLED_STATES:
                return False
            if unit.reported() != unit.ledger_credits():
                return False
        return True

    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    # (a duplicate would come within the next polls: five more exchanges on every live unit)
    marks = [(unit.emu, unit.emu.exchanges) for unit in units if unit.emu.powered]
    wait_until(lambda: all(emu.exchanges >= mark + 5 for emu, mark in marks), what="five more exchanges")


def check_money(units: list[Unit]) -> list[str]:
    problems = []
    for unit in units:
        if unit.reported() != unit.ledger_credits():
            problems.append(
                f"#{unit.index} {unit.model}: host {dict(unit.reported())}"
                f" ledger {dict(unit.ledger_credits())}"
                f" trail {' '.join(unit.tally.trail[-20:])}"
            )
        if unit.foreign:
            problems.append(f"#{unit.index}: events from {unit.foreign}")
        problems.extend(f"#{unit.index} ledger: {p}" for p in unit.emu.ledger.problems())
    return problems


def payout(unit: Unit) -> tuple[DispenseTransactionRequestResult, int, int]:
    """One payout of the smallest stocked value; returns (result, ledger paid, reported paid)."""
    stock = {d.value: n for d, n in unit.emu.levels.items() if d.country == CUR and n > 0}
    value = min(stock)
    before = unit.emu.ledger.dispensed_total()
    with unit.tally.cond:
        ends = len(unit.tally.transaction_ends)
    result = unit.device.DispenseValue(ValueCountryCode(value, CUR))
    if result == DispenseTransactionRequestResult.OK:
        unit.tally.wait(lambda: len(unit.tally.transaction_ends) > ends, 30.0)
    unit.emu.wait_for(lambda e: e.status()["job"] is None and e.status()["bezel"] is None, 30.0)
    with unit.tally.cond:
        reported = sum(v for _, v in unit.tally.transaction_ends[ends:])
    return result, unit.emu.ledger.dispensed_total() - before, reported


# ---------------------------------------------------------------------------------- findings


def test_reopen_after_replug_is_not_refused_for_a_port_another_unplugged_device_once_had(
    units: list[Unit],
) -> None:
    """Two grouped units on pty links (as /dev/serial/by-id links to /dev/ttyACM*).  Unit A is
    unplugged: its /dev/pts/N goes away.  Unit B is unplugged and plugged again and the kernel
    gives it that freed /dev/pts/N (as udev gives a re-enumerated USB unit the freed ttyACM0).
    B's device is closed and opened again on its own link: the port is free (A's link points
    nowhere now), yet Open said PORT_ERROR, "the port is held by" A: A's claim was keyed by
    what A's link resolved to when A opened, and kept that key after the link moved on."""
    group = PollGroup("probe-claims")
    a, b = open_units(units, group, 2)
    a_was = os.path.realpath(a.port)
    a.emu.unplug()
    for _ in range(20):  # (the kernel gives the lowest free pty: normally the first replug)
        b.emu.unplug()
        b.emu.replug()
        if os.path.realpath(b.port) == a_was:
            break
    else:
        pytest.skip("the freed pty went to another process")
    wait_until(lambda: b.device._lent, 15, "B back and lent")
    b.device.Close()
    assert b.device.Open(b.port, b.emu.address, DeviceModel[b.model]) == CashSystemOpenResult.OK
    wait_until(lambda: b.device._lent, 15, "B lent after its Open")
    assert b.insert(b.values[0])
    assert b.tally.wait(lambda: sum(b.reported().values()) == 1, 10)
    a.emu.replug()
    wait_until(lambda: a.device._lent, 15, "A back and lent")
    assert a.insert(a.values[0])
    assert a.tally.wait(lambda: sum(a.reported().values()) == 1, 10)
    settle([a, b])
    assert not check_money([a, b])


def test_a_port_claim_does_not_outlive_where_its_holders_link_pointed(tmp_path: Path) -> None:
    """PortClaims alone, with symbolic links standing for /dev/serial/by-id: while A's link points
    to ttyACM0, every spelling of ttyACM0 is A's; once A's unit is unplugged and B's unit is given
    ttyACM0, B's link is free for B (it was refused: A's claim kept the node A's link had named)."""
    from cashdevice._port_claims import PortClaims

    class Holder:  # (a stand-in for a CashDevice: claims hold their devices weakly)
        pass

    acm0, acm1 = tmp_path / "ttyACM0", tmp_path / "ttyACM1"
    acm0.touch()
    acm1.touch()
    link_a, link_b = tmp_path / "by-id-a", tmp_path / "by-id-b"
    link_a.symlink_to(acm0)
    link_b.symlink_to(acm1)
    claims, a, b = PortClaims(), Holder(), Holder()
    assert claims.claim(str(link_a), a) is None  # type: ignore[arg-type]
    assert claims.claim(str(link_b), b) is None  # type: ignore[arg-type]
    assert claims.claim(str(acm0), b) is a  # type: ignore[arg-type]
    assert claims.holder(str(acm0)) is a
    claims.release(b)  # type: ignore[arg-type]
    link_a.unlink()  # A unplugged: udev removes its link ...
    link_b.unlink()
    link_b.symlink_to(acm0)  # ... and B, plugged in again, gets the node A had
    assert claims.claim(str(link_b), b) is None  # type: ignore[arg-type]
    assert claims.holder(str(acm0)) is b
    assert claims.holder(str(link_a)) is a  # (A's claim: its link's own path while it points nowhere)
    link_a.symlink_to(acm1)  # A back, as ttyACM1
    assert claims.claim(str(link_a), a) is None  # type: ignore[arg-type]
    assert claims.claim(str(link_b), a) is b  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- scenarios


def test_mixed_models_credit_and_pay_out_concurrently(units: list[Unit]) -> None:
    """Ten devices of five models on one group: customers feed every device while application
    threads pay out and toggle inhibits/enable on others."""
    group = PollGroup("probe-mixed")
    opened = open_units(units, group, 10)
    stop = threading.Event()
    errors: list[str] = []

    def customer(unit: Unit) -> None:
        i = 0
        while not stop.is_set() and i < 6:
            unit.insert(unit.values[i % len(unit.values)])
            i += 1

    def payer(unit: Unit) -> None:
        for _ in range(2):
            result, paid, reported = payout(unit)
            if result == DispenseTransactionRequestResult.OK and paid != reported:
                errors.append(f"#{unit.index} {unit.model}: paid {paid} reported {reported}")
            if result != DispenseTransactionRequestResult.OK and paid:
                errors.append(f"#{unit.index} {unit.model}: {result.name} but paid {paid}")

    def toggler(unit: Unit) -> None:
        for k in range(6):
            unit.device.DisableAcceptor() if k % 2 == 0 else unit.device.EnableAcceptor()

    threads = [threading.Thread(target=customer, args=(u,)) for u in opened]
    threads += [
        threading.Thread(target=payer, args=(u,))
        for u in opened
        if u.model in ("SPECTRAL_PAYOUT", "SMART_HOPPER", "NV11")
    ]
    threads += [threading.Thread(target=toggler, args=(u,)) for u in opened if u.model == "NOTE_VALIDATOR"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    settle(opened)
    problems = check_money(opened) + errors
    assert not problems, "\n".join(problems)
    for unit in opened:
        assert unit.emu.enabled == unit.device._acceptor_enabled, unit.model
    assert group.counters.polls > 0


def cut_when_reported(unit: Unit, off: float) -> bool:
    """Cut the power once every event the unit holds went out in a poll reply."""

    def cut(e: Any) -> bool:
        with e._lock:
            note = getattr(e.device, "note", None)
            credited = note is not None and note.credited
            for p in e.device.pending:
                if not p.reported and not (credited and p.event.code == PollEvent.CREDIT):
                    return False
            e.power_off()
            return True

    if not unit.emu.wait_for(cut, 10.0, interval=0.002):
        return False
    time.sleep(off)
    unit.emu.power_on()
    return True


def test_faults_on_some_devices_while_others_credit_and_pay(units: list[Unit]) -> None:
    """Ten devices: a noisy line, dropped replies, power cuts, an unplug, one unit that never
    answers again; the other five keep crediting and paying out.  Every credit and payout is
    reported once per device."""
    group = PollGroup("probe-faults")
    opened = open_units(units, group, 10)
    noisy, dropping, cutting, unplugging, dead = opened[:5]
    healthy = opened[5:]
    for d in (noisy.emu.faults.inbound, noisy.emu.faults.outbound):
        d.drop = d.corrupt = 0.01
    dead.emu.power_off()
    stop = threading.Event()
    errors: list[str] = []

    def customer(unit: Unit, n: int) -> None:
        for i in range(n):
            if stop.is_set():
                return
            unit.insert(unit.values[i % len(unit.values)], wait=10.0)

    def dropper() -> None:
        while not stop.wait(0.3):
            dropping.emu.faults.drop_replies(2)

    def cutter() -> None:
        for _ in range(3):
            if stop.wait(0.5):
                return
            cut_when_reported(cutting, 0.2)

    def unplugger() -> None:
        for _ in range(3):
            if stop.wait(0.7):
                return
            unplugging.emu.unplug()
            stop.wait(0.3)
            unplugging.emu.replug()

    def payer(unit: Unit) -> None:
        for _ in range(2):
            result, paid, reported = payout(unit)
            if result == DispenseTransactionRequestResult.OK and paid != reported:
                errors.append(f"#{unit.index} {unit.model}: paid {paid} reported {reported}")
            if result != DispenseTransactionRequestResult.OK and paid:
                errors.append(f"#{unit.index} {unit.model}: {result.name} but paid {paid}")

    threads = [threading.Thread(target=customer, args=(u, 8)) for u in opened[:4] + healthy]
    threads += [threading.Thread(target=f) for f in (dropper, cutter, unplugger)]
    threads += [
        threading.Thread(target=payer, args=(u,))
        for u in healthy
        if u.model in ("SPECTRAL_PAYOUT", "SMART_HOPPER", "NV11")
    ]
    for t in threads:
        t.start()
    for t in threads[: len(opened[:4] + healthy)] + threads[len(opened[:4] + healthy) + 3 :]:
        t.join(120)  # customers and payers
    stop.set()
    for t in threads:
        t.join(30)
    for d in (noisy.emu.faults.inbound, noisy.emu.faults.outbound):
        d.drop = d.corrupt = 0.0
    live = [u for u in opened if u is not dead]
    settle(live)
    problems = check_money(live) + errors
    assert not problems, "\n".join(problems)
    for unit in live:
        assert unit.device._lent or unit.device._handed is None
    wait_until(lambda: all(u.device._lent for u in live), timeout=10, what="all live lent again")


@pytest.fixture
def errors_logged() -> Any:
    import logging

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.ERROR)
    root = logging.getLogger("cashdevice")
    root.addHandler(handler)
    yield records
    root.removeHandler(handler)


def test_a_blocked_and_a_raising_handler_do_not_stall_the_others(
    units: list[Unit], errors_logged: Any
) -> None:
    group = PollGroup("probe-handlers")
    opened = open_units(units, group, 10)
    blocked, raising = opened[0], opened[4]
    release = threading.Event()
    entered = threading.Event()

    def block(sender: Any, e: Any = None) -> None:
        entered.set()
        release.wait(20)

    def boom(sender: Any, e: Any = None) -> None:
        raise RuntimeError("receiver bug")

    blocked.device.CashEvent.connect(block)
    raising.device.CashEvent.connect(boom)
    raising.device.DeviceStateChangedEvent.connect(boom)
    assert blocked.insert(blocked.values[0])
    assert entered.wait(10)
    others = [u for u in opened if u is not blocked]
    t0 = time.monotonic()
    for unit in others:
        assert unit.insert(unit.values[0])
    wait_until(
        lambda: all(sum(u.reported().values()) >= 1 for u in others), timeout=5, what="the others credited"
    )
    took = time.monotonic() - t0
    assert not release.is_set()
    release.set()
    settle(opened)
    problems = check_money(opened)
    assert not problems, "\n".join(problems)
    print("others credited within", took)
    bad = [
        r
        for r in errors_logged
        if "receiver bug" not in str(r.exc_info) and "RuntimeError" not in r.getMessage()
    ]
    assert not [r.getMessage() for r in bad if r.name.startswith("cashdevice.poll_group")]


def emu_inhibited(unit: Unit) -> set[int]:
    """The values the emulated unit refuses now."""
    dev = unit.emu.device
    with unit.emu._lock:
        if unit.coins:
            return {d.value for d in dev.coin_inhibited if d.country == CUR}
        return {
            d.value
            for d in dev.channels
            if d.country == CUR and not dev.inhibits & (1 << (dev.channel_of(d) - 1))
        }


def host_inhibited(unit: Unit) -> set[int]:
    return {e.Value for e in unit.device.currencyAssignment if e.IsInhibited and e.CountryCode == CUR}


@pytest.mark.soak  # (long: the default suite keeps the shorter cases)
def test_application_threads_and_faults_converge_per_device(units: list[Unit], errors_logged: Any) -> None:
    """An application thread per device toggles inhibits and the acceptor, reads levels, while
    notes and coins go in, replies are dropped on some and the power is cut on others: at the
    end every unit shows what its host wants, and every credit is reported once."""
    group = PollGroup("probe-app")
    opened = open_units(units, group, 10)
    stop = threading.Event()
    wanted: dict[int, tuple[bool, int]] = {}

    def app(unit: Unit, k: int) -> None:
        device = unit.device
        target = unit.values[-1]
        for i in range(12 + k):
            device.SetDenominationInhibit(ValueCountryCode(target, CUR), i % 2 == 0)
            device.GetAllLevels()
            device.DisableAcceptor() if i % 3 == 0 else device.EnableAcceptor()
        wanted[unit.index] = (device._acceptor_enabled, target)

    def customer(unit: Unit) -> None:
        for i in range(5):
            unit.insert(unit.values[i % 2], wait=3.0)

    def faults(unit: Unit, cut: bool) -> None:
        for _ in range(3):
            if stop.wait(0.4):
                return
            if cut:
                cut_when_reported(unit, 0.1)
            else:
                unit.emu.faults.drop_replies(2)

    threads = [threading.Thread(target=app, args=(u, i)) for i, u in enumerate(opened)]
    threads += [threading.Thread(target=customer, args=(u,)) for u in opened]
    threads += [threading.Thread(target=faults, args=(u, i % 2 == 0)) for i, u in enumerate(opened[:4])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    settle(opened)
    problems = check_money(opened)
    for unit in opened:
        device = unit.device
        enabled, _ = wanted[unit.index]
        try:
            wait_until(
                lambda u=unit, en=enabled: u.emu.enabled == en and emu_inhibited(u) == host_inhibited(u),
                10,
                what="converged",
            )
        except AssertionError:
            problems.append(
                f"#{unit.index} {unit.model}: wanted enabled={enabled} emu={unit.emu.enabled}; "
                f"host inhibited {sorted(host_inhibited(unit))} emu {sorted(emu_inhibited(unit))} "
                f"state {device.deviceState.name}"
            )
    assert not problems, "\n".join(problems)
    assert not [r.getMessage() for r in errors_logged if r.name.startswith("cashdevice.poll_group")]


@pytest.mark.soak  # (long: the default suite keeps the shorter cases)
def test_devices_open_and_close_while_the_group_polls_others(units: list[Unit], errors_logged: Any) -> None:
    """Devices are closed and opened again (and new ones added) on a running group while notes and
    coins go into the others and into the churned ones right before Close."""
    group = PollGroup("probe-churn")
    opened = open_units(units, group, 8)
    stable, churned = opened[:5], opened[5:]
    stop = threading.Event()
    errs: list[str] = []
    timings: list[Any] = []

    def customer(unit: Unit) -> None:
        i = 0
        while not stop.is_set():
            unit.insert(unit.values[i % 2], wait=2.0)
            i += 1

    def churn(unit: Unit) -> None:
        try:
            for i in range(6):
                unit.insert(unit.values[0], wait=3.0)
                if i % 2:
                    time.sleep(0.01 * i)  # (the note somewhere on its way)
                t0 = time.monotonic()
                unit.device.Close()
                t1 = time.monotonic()
                unit.emu.wait_for(lambda e: e.status()["note"] is None, 5.0)
                t2 = time.monotonic()
                result = unit.device.Open(unit.port, unit.emu.address, DeviceModel[unit.model])
                timings.append(
                    (
                        unit.index,
                        unit.model,
                        round(t1 - t0, 3),
                        round(t2 - t1, 3),
                        round(time.monotonic() - t2, 3),
                    )
                )
                if result != CashSystemOpenResult.OK:
                    errs.append(f"#{unit.index} reopen {result}")
                    return
                wait_until(lambda: unit.device._lent, 10, "lent after reopen")
        except AssertionError as exc:
            errs.append(f"#{unit.index}: {exc}")

    def adder() -> None:
        for k in range(4):
            unit = make_unit(len(units), MODELS[k % len(MODELS)], group)
            units.append(unit)
            added.append(unit)
            wait_until(lambda u=unit: u.device._lent, 10, "new lent")
            unit.insert(unit.values[0], wait=3.0)
            unit.tally.wait(lambda u=unit: sum(u.reported().values()) >= 1, 10)
            unit.device.Close()

    added: list[Unit] = []
    threads = [threading.Thread(target=customer, args=(u,)) for u in stable]
    threads += [threading.Thread(target=churn, args=(u,)) for u in churned]
    threads.append(threading.Thread(target=adder))
    for t in threads:
        t.start()
    for t in threads[len(stable) :]:
        t.join(120)
    stop.set()
    for t in threads:
        t.join(30)
    settle(stable + churned)
    print(timings)
    problems = errs + check_money(stable + churned + added)
    assert not problems, "\n".join(problems)
    assert not [r.getMessage() for r in errors_logged if r.name.startswith("cashdevice.poll_group")]


def credit_latencies(units: list[Unit], rounds: int) -> list[float]:
    out: list[float] = []
    lock = threading.Lock()

    def one(unit: Unit) -> None:
        for i in range(rounds):
            before = sum(unit.reported().values())
            assert unit.insert(unit.values[i % 2], wait=5.0)
            t0 = time.monotonic()
            assert unit.tally.wait(lambda b=before: sum(unit.reported().values()) > b, 10.0)
            with lock:
                out.append(time.monotonic() - t0)

    threads = [threading.Thread(target=one, args=(u,)) for u in units]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(out)


@pytest.mark.soak  # (a latency bound: timing, measured in the soak run only)
@pytest.mark.parametrize("bad", ["none", "dead", "noisy", "blocked", "slow"])
def test_latency_of_healthy_devices_next_to_a_bad_one(units: list[Unit], bad: str) -> None:
    group = PollGroup("probe-latency")
    opened = open_units(units, group, 12)
    victim = opened[4]  # a SPECTRAL_PAYOUT
    release = threading.Event()
    if bad == "dead":
        victim.emu.power_off()
    elif bad == "noisy":
        for d in (victim.emu.faults.inbound, victim.emu.faults.outbound):
            d.drop = d.corrupt = 0.02
    elif bad == "slow":
        victim.emu.turnaround = 0.25  # (the host's timeout is 0.3 s)
    elif bad == "blocked":
        victim.device.CashEvent.connect(lambda s, e=None: release.wait(30))
        assert victim.insert(victim.values[0])
    healthy = [u for u in opened if u is not victim]
    lat = credit_latencies(healthy, 4)
    release.set()
    # mechanics 0.1 s + one poll interval (0.05 s) + an exchange: far below one exchange timeout
    # of the bad device (0.3 s) on top; generous for a loaded machine
    assert lat[int(len(lat) * 0.9)] < 0.5, lat
    if bad != "dead":
        settle(opened)
        assert not check_money(opened)
    print(
        bad,
        "median",
        round(lat[len(lat) // 2], 3),
        "p90",
        round(lat[int(len(lat) * 0.9)], 3),
        "max",
        round(lat[-1], 3),
        "late",
        group.counters.late,
        "max_lag",
        round(group.counters.max_lag, 3),
    )


# ---------------------------------------------------------------------------------- other processes


ROOT = Path(__file__).resolve().parents[2]


class Remote:
    """``python3 -m cashdevice.emulator`` in a process of its own, on a pty at ``link``."""

    def __init__(self, model: str, link: str, seed: int) -> None:
        self.model, self.link, self.seed = model, link, seed
        self.start()

    def start(self) -> None:
        coins = self.model in COINS
        levels = (
            ["--level", "200=30", "--level", "100=30"]
            if coins
            else ["--level", "500=30", "--level", "1000=30"]
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cashdevice.emulator", "--model", self.model, "--pty", "--link", self.link,
             "--seed", str(self.seed), "--read-time", "0.05", "--stack-time", "0.05", "--payout-step", "0.05",
             "--auto-take", "0", "--currency", CUR, *levels],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=str(ROOT),
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None
        out = self.proc.stdout
        threading.Thread(target=lambda: [self.lines.put(x.strip()) for x in out], daemon=True).start()
        while True:
            line = self.lines.get(timeout=20)
            if line.startswith("READY"):
                self.address = int(line.rsplit(" ", 1)[1], 16)
                break

    def ask(self, command: str, timeout: float = 10.0) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.lines.get(timeout=timeout)

    def credited(self) -> Counter[tuple[int, str]]:
        rows = json.loads(self.ask("ledger"))["counts"]
        out: Counter[tuple[int, str]] = Counter()
        for name, counts in rows.items():
            if counts.get("credited"):
                value, country = _parse_denom(name)
                out[(value, country)] += counts["credited"]
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            self.proc.kill()
        self.proc.wait(10)


def _parse_denom(text: str) -> tuple[int, str]:
    value, country = text.split()
    return int(value), country


@pytest.fixture
def remotes(tmp_path: Path) -> Any:
    made: list[Remote] = []

    def make(model: str) -> Remote:
        remote = Remote(model, str(tmp_path / f"emu{len(made)}"), 200 + len(made))
        made.append(remote)
        return remote

    yield make
    for remote in made:
        remote.stop()


@pytest.mark.soak  # (long: the default suite keeps the shorter cases)
def test_emulators_in_other_processes_frozen_and_killed(remotes: Any, errors_logged: Any) -> None:
    """Eight emulator processes on ptys, one group: one process is frozen (SIGSTOP, the unit
    never answers and its line fills) and thawed, one is killed and started again on the same
    pty link, while notes and coins go into the others: each credit is reported once per unit."""
    group = PollGroup("probe-remote")
    models = [MODELS[i % len(MODELS)] for i in range(8)]
    procs = [remotes(m) for m in models]
    devices: list[CashDevice] = []
    tallies: list[HostTally] = []
    made = []
    try:
        for remote in procs:
            device = CashDevice(poll_group=group, poll_interval=0.05, reconnect_interval=0.2, timeout=0.3)
            tally = HostTally(device)
            made.append(device)
            assert (
                device.Open(remote.link, remote.address, DeviceModel[remote.model]) == CashSystemOpenResult.OK
            )
            devices.append(device)
            tallies.append(tally)
        wait_until(lambda: all(d._lent for d in devices), 20, "all lent")
        frozen, killed = 0, 1
        values = {m: ((100, 200) if m in COINS else (500, 1000)) for m in MODELS}

        def feed(i: int, n: int) -> None:
            remote = procs[i]
            verb = "coin" if remote.model in COINS else "insert"
            for k in range(n):
                before = sum((tallies[i].credits + tallies[i].cleared).values())
                remote.ask(f"{verb} {values[remote.model][k % 2]}")
                t = tallies[i]
                t.wait(lambda b=before, t=t: sum((t.credits + t.cleared).values()) > b, 5.0)

        os.kill(procs[frozen].proc.pid, signal.SIGSTOP)
        procs[killed].proc.kill()
        procs[killed].proc.wait(5)
        t0 = time.monotonic()
        feeders = [threading.Thread(target=feed, args=(i, 4)) for i in range(2, 8)]
        for t in feeders:
            t.start()
        for t in feeders:
            t.join(60)
        took = time.monotonic() - t0
        time.sleep(1.0)  # the frozen unit's line fills with the host's retries
        os.kill(procs[frozen].proc.pid, signal.SIGCONT)
        procs[killed].start()
        wait_until(lambda: devices[frozen]._lent and devices[killed]._lent, 30, "both back and lent")
        feed(frozen, 2)
        feed(killed, 2)
        time.sleep(0.5)
        problems = []
        for i, remote in enumerate(procs):
            with tallies[i].cond:
                host = tallies[i].credits + tallies[i].cleared
            ledger = remote.credited()
            if i == killed:
                # the first process's ledger died with it: nothing went into it
                pass
            if host != ledger:
                problems.append(
                    f"#{i} {remote.model}: host {dict(host)} ledger {dict(ledger)} {tallies[i].trail[-15:]}"
                )
        assert not problems, "\n".join(problems)
        print("others fed in", round(took, 2), "s; counters", group.counters)
        assert not [r.getMessage() for r in errors_logged if r.name.startswith("cashdevice.poll_group")]
    finally:
        for device in made:
            device.Close()


def run_storm(units: list[Unit], group: PollGroup, count: int, seconds: float, seed: int) -> list[str]:
    """``count`` devices; for ``seconds``: customers everywhere, payouts, inhibit/enable toggles,
    noise, dropped replies, power cuts, unplugs and Close/Open on random devices."""

    opened = open_units(units, group, count)
    locks = {u.index: threading.Lock() for u in opened}
    stop = threading.Event()
    errors: list[str] = []
    until = time.monotonic() + seconds

    def customer(r: random.Random) -> None:
        while time.monotonic() < until:
            unit = r.choice(opened)
            with locks[unit.index]:
                unit.insert(r.choice(unit.values[:2]), wait=1.0)

    def operator(r: random.Random) -> None:
        while time.monotonic() < until:
            unit = r.choice(opened)
            action = r.choice(
                ["cut", "unplug", "drop", "noise", "payout", "inhibit", "toggle", "reopen", "garble"]
            )
            with locks[unit.index]:
                try:
                    if action == "cut":
                        cut_when_reported(unit, r.uniform(0, 0.3))
                    elif action == "unplug":
                        unit.emu.unplug()
                        stop.wait(r.uniform(0.05, 0.4))
                        unit.emu.replug()
                    elif action == "drop":
                        unit.emu.faults.drop_replies(r.randint(1, 3))
                    elif action == "garble":
                        unit.emu.faults.garble_replies(1)
                    elif action == "noise":
                        for d in (unit.emu.faults.inbound, unit.emu.faults.outbound):
                            d.drop = d.corrupt = 0.01
                        stop.wait(0.5)
                        for d in (unit.emu.faults.inbound, unit.emu.faults.outbound):
                            d.drop = d.corrupt = 0.0
                    elif action == "payout" and unit.model in ("SPECTRAL_PAYOUT", "SMART_HOPPER", "NV11"):
                        result, paid, reported = payout(unit)
                        if result == DispenseTransactionRequestResult.OK and paid != reported:
                            errors.append(f"#{unit.index} {unit.model}: paid {paid} reported {reported}")
                        if result != DispenseTransactionRequestResult.OK and paid:
                            errors.append(f"#{unit.index} {unit.model}: {result.name} but paid {paid}")
                    elif action == "inhibit":
                        unit.device.SetDenominationInhibit(
                            ValueCountryCode(unit.values[-1], CUR), r.random() < 0.5
                        )
                    elif action == "toggle":
                        unit.device.DisableAcceptor()
                        stop.wait(0.1)
                        unit.device.EnableAcceptor()
                    elif action == "reopen":
                        unit.device.Close()
                        result = unit.device.Open(unit.port, unit.emu.address, DeviceModel[unit.model])
                        if result != CashSystemOpenResult.OK:
                            # (a unit without power or unplugged: try again once it is back)
                            unit.device.Open(unit.port, unit.emu.address, DeviceModel[unit.model])
                except Exception as exc:
                    errors.append(f"#{unit.index} {action}: {exc!r}")
            stop.wait(r.uniform(0.05, 0.3))

    threads = [threading.Thread(target=customer, args=(random.Random(seed * 10 + i),)) for i in range(3)]
    threads += [threading.Thread(target=operator, args=(random.Random(seed * 100 + i),)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    for unit in opened:
        unit.emu.faults.clear()
        unit.emu.replug()
        unit.emu.power_on()
        if not unit.device.isOpen:
            unit.device.Open(unit.port, unit.emu.address, DeviceModel[unit.model])
    settle(opened, 90)
    problems = errors + check_money(opened)
    for unit in opened:
        if unit.device.deviceState.name not in ("IDLE", "DISABLED"):
            problems.append(f"#{unit.index} {unit.model} ends {unit.device.deviceState.name}")
        if unit.emu.enabled != unit.device._acceptor_enabled:
            problems.append(
                f"#{unit.index} {unit.model} emu enabled {unit.emu.enabled}"
                f" wanted {unit.device._acceptor_enabled}"
            )
        if emu_inhibited(unit) != host_inhibited(unit):
            problems.append(
                f"#{unit.index} {unit.model} inhibits host {host_inhibited(unit)} emu {emu_inhibited(unit)}"
            )
    return problems


@pytest.mark.timeout(300)
@pytest.mark.soak  # (long: the default suite keeps the shorter cases)
def test_storm_of_faults_over_twelve_devices(units: list[Unit], errors_logged: Any) -> None:
    group = PollGroup("probe-storm")
    problems = run_storm(units, group, 12, 12.0, int(os.environ.get("PROBE_SEED", "1")))
    logged = [
        f"{r.name}: {r.getMessage()}"
        for r in errors_logged
        if r.name.startswith("cashdevice.poll_group") or "poll loop error" in r.getMessage()
    ]
    assert not problems + logged, "\n".join(problems + logged)


@pytest.mark.soak
@pytest.mark.timeout(900)
@pytest.mark.parametrize("seed", range(1, 4))
def test_storm_of_faults_over_forty_devices(units: list[Unit], errors_logged: Any, seed: int) -> None:
    group = PollGroup("probe-storm40")
    problems = run_storm(units, group, 40, 60.0, seed)
    logged = [
        f"{r.name}: {r.getMessage()}"
        for r in errors_logged
        if r.name.startswith("cashdevice.poll_group") or "poll loop error" in r.getMessage()
    ]
    assert not problems + logged, "\n".join(problems + logged)


def test_receivers_close_and_reopen_their_own_grouped_devices(units: list[Unit], errors_logged: Any) -> None:
    """On every credit, a receiver Closes its own (grouped) device and Opens it again, on four of
    eight devices, while the others take notes and coins: credits once each, every device lent
    again afterwards, one poll thread per device."""
    group = PollGroup("probe-recv")
    opened = open_units(units, group, 8)
    churned = opened[:4]
    reopened: Counter[int] = Counter()

    def make_receiver(unit: Unit) -> Callable[..., None]:
        def receive(sender: Any, e: Any = None) -> None:
            if (
                e is not None
                and e.eventType.name in ("STACKED", "STORED", "COIN_CREDIT")
                and reopened[unit.index] < 3
            ):
                reopened[unit.index] += 1
                sender.Close()
                sender.Open(unit.port, unit.emu.address, DeviceModel[unit.model])

        return receive

    for unit in churned:
        unit.device.CashEvent.connect(make_receiver(unit))

    def feed(unit: Unit) -> None:
        for i in range(4):
            before = sum(unit.reported().values())
            unit.insert(unit.values[i % 2], wait=5.0)
            unit.tally.wait(lambda b=before: sum(unit.reported().values()) > b, 10)

    threads = [threading.Thread(target=feed, args=(u,)) for u in opened]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    settle(opened)
    problems = check_money(opened)
    assert not problems, "\n".join(problems)
    wait_until(lambda: all(u.device._lent for u in opened), 10, "all lent again")
    names = [t.name for t in threading.enumerate() if t.name.startswith("cashdevice-poll")]
    assert len(names) == len(set(names)) == len(opened), names
    assert all(reopened[u.index] == 3 for u in churned), reopened
    assert not [r.getMessage() for r in errors_logged if r.name.startswith("cashdevice.poll_group")]


def test_devices_move_between_groups_and_out_while_polled(units: list[Unit]) -> None:
    """stopRunning, a new poll_group (or None), startRunning, on devices of a running group while
    others take money: each is polled by its new owner and credits stay once."""
    first, second = PollGroup("probe-g1"), PollGroup("probe-g2")
    opened = open_units(units, first, 6)
    for k, unit in enumerate(opened[:3]):
        unit.device.stopRunning()
        unit.device.poll_group = second if k < 2 else None
        unit.device.startRunning()
    wait_until(lambda: all(u.device._lent for u in opened if u.device.poll_group), 10, "lent to their groups")

    def feed(unit: Unit) -> None:
        for i in range(3):
            before = sum(unit.reported().values())
            unit.insert(unit.values[i % 2], wait=5.0)
            unit.tally.wait(lambda b=before: sum(unit.reported().values()) > b, 10)

    p1, p2 = first.counters.polls, second.counters.polls
    threads = [threading.Thread(target=feed, args=(u,)) for u in opened]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    settle(opened)
    assert not check_money(opened)
    assert first.counters.polls > p1 and second.counters.polls > p2
    assert first.lent == 3 and second.lent == 2


def test_inhibits_and_routes_whose_replies_are_lost_converge_on_lent_devices(units: list[Unit]) -> None:
    """SET INHIBITS (and a route) answered by no reply on lent devices: the host keeps the wanted
    state and sends it again; the unit ends with it while the device is lent again."""
    from cashdevice.enums import DenominationRoute
    from cashdevice.ssp import Command

    group = PollGroup("probe-unanswered")
    opened = open_units(units, group, 5)
    for unit in opened:
        code = Command.SET_COIN_MECH_INHIBITS if unit.coins else Command.SET_INHIBITS
        unit.emu.faults.mute(code, 8)
        unit.device.SetDenominationInhibit(ValueCountryCode(unit.values[0], CUR), True)
    for unit in opened:
        wait_until(
            lambda u=unit: emu_inhibited(u) == host_inhibited(u) and u.values[0] in host_inhibited(u),
            15,
            f"{unit.model} inhibits converged: host {host_inhibited(unit)} emu {emu_inhibited(unit)}",
        )
    recyclers = [u for u in opened if u.model in ("SPECTRAL_PAYOUT", "NV11")]
    for unit in recyclers:
        unit.emu.faults.mute(Command.SET_DENOMINATION_ROUTE, 8)
        unit.device.SetDenominationRoute(ValueCountryCode(unit.values[1], CUR), DenominationRoute.CASHBOX)
    for unit in recyclers:
        d = next(d for d in unit.emu.denominations if d.value == unit.values[1] and d.country == CUR)

        def routed(u: Unit = unit, d: Any = d) -> bool:
            host = next(e for e in u.device.currencyAssignment if e.Value == d.value and e.CountryCode == CUR)
            return (
                u.emu.device.persistent.routes.get(d, 0) == 1
                and host.AcceptRoute == DenominationRoute.CASHBOX
            )

        wait_until(routed, 15, f"{unit.model} route converged")
    wait_until(lambda: all(u.device._lent for u in opened), 15, "lent again")
