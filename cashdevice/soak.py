"""``python -m cashdevice.soak``: a fault soak of :class:`CashDevice` against the emulator.

A real ``CashDevice`` opens an :class:`~cashdevice.emulator.Emulator` (in process, on a pty or
over TCP).  A simulated customer inserts notes (coins on coin models) as a customer does,
the soak asks for payouts, the emulator's fault injection breaks bytes in both directions
(``--drop``, ``--corrupt``: per-byte probabilities), cuts the power (``--power-cuts``, half of
them while a payout runs, the other half while a note or coin is being taken) and pulls the
cable (``--unplugs``); with ``--escrow`` the application holds every note in escrow and
accepts or returns it (:class:`EscrowClerk`).  At the end the line is made clean, the host gets
a bounded time to report what it still owes, and a table compares what the host reported
(events and return values) with the emulator's ledger: credits lost or duplicated, payouts paid
vs reported, BUSY answers, recovery times, throughput and link counters.

Exit status: 0 when no credit was lost or duplicated and every payout was reported with the
ledger's amount; 1 otherwise; 2 for bad arguments; 130 when interrupted.
"""

from __future__ import annotations

import argparse
import logging
import queue
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from ._soak_report import (
    SETTLE_SECONDS,
    Denom,
    PayoutRecord,
    Progress,
    SoakConfig,
    SoakReport,
    bar,
    compare_credits,
    format_table,
)
from .cash_device import CashDevice
from .enums import (
    CashEventType,
    CashSystemOpenResult,
    DeviceModel,
    DeviceState,
    DispenserTransactionState,
    DispenseTransactionRequestResult,
)
from .poll_group import PollGroup
from .records import ValueCountryCode
from .ssp import PollEvent

__all__ = ["SoakConfig", "SoakReport", "build_parser", "format_table", "main", "run_soak"]

FAST_TIMINGS: dict[str, float] = {
    "read_time": 0.05,
    "stack_time": 0.05,
    "reject_time": 0.05,
    "payout_step": 0.05,
    "coin_step": 0.02,
}
"""Emulator mechanical timings of ``--fast`` (seconds)."""

CREDIT_EVENTS = frozenset(
    {CashEventType.STACKED, CashEventType.STORED, CashEventType.COIN_CREDIT, CashEventType.VALUE_ADDED}
)
"""CashEvents that report money taken from the customer."""

SETTLED_STATES = frozenset({DeviceState.IDLE, DeviceState.DISABLED})
LOST_STATES = frozenset({DeviceState.NOT_CONNECTED, DeviceState.CONNECTING})
MODEL_HINTS: dict[str, DeviceModel] = {"SMART_PAYOUT": DeviceModel.SPECTRAL_PAYOUT}
"""Emulator models whose DeviceModel hint has another name (the others share it)."""

NOTE_STAGES = ("reading", "escrow", "stacking", "credited", "landed")
"""Where a power cut may catch a note (the emulator's note-path stages; landed: out of the path)."""
_CREDITS_ON_THE_WAY = frozenset({PollEvent.CREDIT, PollEvent.COIN_CREDIT, PollEvent.VALUE_ADDED})
"""Credits a power cut must not catch in a reply the host has not taken yet (:meth:`Soak._power_cut`)."""
BUSY_ATTEMPTS = 5
"""DispenseValue calls per payout while the answer is BUSY."""


# ---------------------------------------------------------------------------------- host side


class EscrowClerk:
    """``--escrow``: the application's side of a held note.  Each ESCROW CashEvent is decided
    from another thread after up to two poll intervals: accepted (three times in four) or
    returned to the customer, by AcceptFromEscrow / ReturnFromEscrow, as a kiosk whose customer
    confirms a note does.  A call that returns False (no note waited: a power cut or the unit's
    own escrow time-out returned it meanwhile) is counted, not retried."""

    def __init__(self, device: CashDevice, seed: int, pause: float, calls: Counter[str]) -> None:
        self._device = device
        self._rng = random.Random(seed * 7919 + 1)  # (its own: its decisions do not shift the plan)
        self._pause = pause
        self._calls = calls
        self._notes: queue.SimpleQueue[bool] = queue.SimpleQueue()
        """One True per note to decide; False ends the thread."""
        self._stop = threading.Event()
        device.CashEvent.connect(self._on_cash)
        self._thread = threading.Thread(target=self._run, name="cashdevice-soak-escrow", daemon=True)
        self._thread.start()

    def _on_cash(self, sender: Any, e: Any) -> None:
        if e.eventType == CashEventType.ESCROW:
            self._notes.put(True)

    def _run(self) -> None:
        while True:
            if not self._notes.get() or self._stop.is_set():
                return  # (the soak is over: no more calls to the device)
            self._stop.wait(self._rng.uniform(0.0, self._pause))
            if self._rng.random() < 0.75:
                done, outcome = self._device.AcceptFromEscrow(), "accepted"
            else:
                done, outcome = self._device.ReturnFromEscrow(), "returned"
            self._calls[outcome if done else outcome + "_refused"] += 1

    def close(self) -> None:
        self._device.CashEvent.disconnect(self._on_cash)
        self._stop.set()
        self._notes.put(False)
        self._thread.join(5.0)


class HostTally:
    """Everything the host reported, collected from its events (thread-safe, waitable)."""

    def __init__(self, device: CashDevice) -> None:
        self.cond = threading.Condition()
        self.credits: Counter[Denom] = Counter()
        self.credit_value = 0
        self.cleared: Counter[Denom] = Counter()
        self.cash_kinds: Counter[str] = Counter()
        self.states: list[tuple[float, DeviceState]] = []
        self.transaction_ends: list[tuple[str, int]] = []
        self.trail: list[str] = []
        """The last events, newest last (for the details of a failure)."""
        self._device = device
        device.CashEvent.connect(self._on_cash)
        device.DeviceStateChangedEvent.connect(self._on_state)
        device.DispenserTransactionEvent.connect(self._on_transaction)

    def _note(self, text: str) -> None:
        self.trail.append(text)
        if len(self.trail) > 60:
            del self.trail[:20]

    def _on_cash(self, sender: Any, e: Any) -> None:
        with self.cond:
            kind: CashEventType = e.eventType
            key = (int(e.value), str(e.countryCode))
            self.cash_kinds[kind.name] += 1
            if kind in CREDIT_EVENTS:
                self.credits[key] += 1
                self.credit_value += key[0]
            elif kind == CashEventType.NOTE_CLEARED_TO_CASHBOX:
                self.cleared[key] += 1
            self._note(f"cash:{kind.name}:{e.value}{e.countryCode}")
            self.cond.notify_all()

    def _on_state(self, sender: Any, e: Any) -> None:
        with self.cond:
            self.states.append((time.monotonic(), e.state))
            self._note(f"state:{e.state.name}")
            self.cond.notify_all()

    def _on_transaction(self, sender: Any, e: Any) -> None:
        with self.cond:
            state: DispenserTransactionState = e.state
            self._note(f"transaction:{state.name}:{e.value}/{e.requestedValue}")
            if state != DispenserTransactionState.IN_PROGRESS:
                self.transaction_ends.append((state.name, int(e.value)))
            self.cond.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait (under the condition) until ``predicate()`` holds or ``timeout`` passes."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self.cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.cond.wait(min(remaining, 0.1))
            return True

    def state_after(self, index: int, wanted: frozenset[DeviceState]) -> tuple[int, float] | None:
        """The first state event at or after ``index`` that is in ``wanted``: (index, time)."""
        for i in range(index, len(self.states)):
            at, state = self.states[i]
            if state in wanted:
                return i, at
        return None

    def host_state(self) -> DeviceState:
        return DeviceState(self._device.deviceState)


# ---------------------------------------------------------------------------------- the soak


class Soak:
    """One soak run: builds the emulator and the device, runs the plan, fills a report."""

    def __init__(self, config: SoakConfig, log: TextIO) -> None:
        from .emulator import Emulator
        from .emulator.datasets import COINS, CURRENCIES_COINS, CURRENCIES_NOTES, MODELS

        if config.model not in MODELS:
            raise ValueError(f"unknown model {config.model!r}; one of {', '.join(MODELS)}")
        if config.group and config.transport != "pty":
            raise ValueError("--group needs --transport pty (a PollGroup polls descriptors)")
        if config.escrow and MODELS[config.model].kind == COINS:
            raise ValueError(f"--escrow needs a note model ({config.model} takes coins)")
        self.config = config
        self.log = log
        self.rng = random.Random(config.seed)
        self.report = SoakReport(config)
        spec = MODELS[config.model]
        self.coins = spec.kind == COINS
        self.report.kind = "coins" if self.coins else "notes"
        self.pays = bool(spec.payout)
        options: dict[str, Any] = dict(FAST_TIMINGS) if config.fast else {}
        options["auto_take"] = 0.0  # the customer takes every note from the bezel at once
        options["pacing"] = config.paced
        options["cashbox_capacity"] = max(spec.cashbox_capacity, config.items + config.power_cuts + 1000)
        currency = (config.currency or "EUR").split(",")[0].strip().upper()
        table = CURRENCIES_COINS if self.coins else CURRENCIES_NOTES
        if currency not in table:
            raise ValueError(f"no {spec.kind} dataset for currency {currency!r} (have {', '.join(table)})")
        values = sorted(table[currency])
        if self.pays:
            stocked = values[-3:] if self.coins else values[:2]
            options["levels"] = {(v, currency): (50 if self.coins else 40) for v in stocked}
        self.values = values if self.coins else values[:4]
        self.currency = currency
        self.report.currency = currency
        self.emu = Emulator(config.model, config.currency, seed=config.seed, **options)
        self.timing = self.emu.timing
        self.deadline = time.monotonic() + config.max_minutes * 60.0
        self.device: CashDevice | None = None
        self.tally: HostTally | None = None
        self.clerk: EscrowClerk | None = None
        self.stage = "starting"
        self.items_done = 0
        self.payouts_done = 0
        self.cuts_done = 0
        self.unplugs_done = 0
        self.started = time.monotonic()
        self.last_coin = 0.0
        self.paying = False
        """A payout of the soak is outstanding (asked, its end not yet reported)."""

    # -------------------------------------------------------------------- helpers

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def bounded(self, seconds: float) -> float:
        return min(seconds, self.remaining())

    def exchange_deadline(self) -> float:
        """One transaction's deadline on the host (seconds)."""
        options = self.report.device_options
        timeout = float(options.get("timeout", 1.0))
        retries = int(options.get("retries", 3))
        return self.config.deadline or timeout * (retries + 1)

    def patience(self) -> float:
        """How long the soak waits for one step (noise makes everything slower)."""
        noise = self.config.drop + self.config.corrupt
        return 60.0 + 20 * self.exchange_deadline() + (600.0 if noise >= 0.02 else 0.0)

    def progress_line(self) -> str:
        cfg = self.config
        tally = self.tally
        credits = sum(tally.credits.values()) if tally is not None else 0
        state = tally.host_state().name if tally is not None and self.device is not None else "-"
        total = cfg.items + self.report.payouts_planned + cfg.power_cuts + cfg.unplugs
        done = self.items_done + self.payouts_done + self.cuts_done + self.unplugs_done
        minutes, seconds = divmod(int(time.monotonic() - self.started), 60)
        return (
            f"{bar(done, total)} {self.report.kind} {self.items_done}/{cfg.items} "
            f"(credited {credits}) payouts {self.payouts_done}/{self.report.payouts_planned} "
            f"cuts {self.cuts_done}/{cfg.power_cuts} unplugs {self.unplugs_done}/{cfg.unplugs} "
            f"{state} {self.stage} {minutes}:{seconds:02d}"
        )

    def port(self) -> str:
        transport = self.config.transport
        if transport == "pty":
            return self.emu.start_pty()
        if transport == "tcp":
            return f"socket://127.0.0.1:{self.emu.start_tcp()}"
        return self.emu.url

    def set_faults(self, on: bool) -> None:
        for direction in (self.emu.faults.inbound, self.emu.faults.outbound):
            direction.drop = self.config.drop if on else 0.0
            direction.corrupt = self.config.corrupt if on else 0.0

    # -------------------------------------------------------------------- plan

    def plan(self) -> list[str]:
        cfg = self.config
        payouts = cfg.payouts if self.pays else 0
        cuts_paying = (cfg.power_cuts + 1) // 2 if self.pays else 0
        actions = ["payout"] * payouts + ["cut_payout"] * cuts_paying
        actions += ["cut_item"] * (cfg.power_cuts - cuts_paying) + ["unplug"] * cfg.unplugs
        self.rng.shuffle(actions)
        self.report.items_planned = cfg.items
        self.report.payouts_planned = payouts + cuts_paying
        if payouts < cfg.payouts:
            self.report.failures.append(f"{cfg.model} cannot pay out: --payouts ignored")
        # spread the actions evenly between the items
        positions = sorted(self.rng.randrange(cfg.items + 1) for _ in actions)
        steps: list[str] = []
        it = iter(zip(positions, actions))
        pending = next(it, None)
        for i in range(cfg.items + 1):
            while pending is not None and pending[0] == i:
                steps.append(pending[1])
                pending = next(it, None)
            if i < cfg.items:
                steps.append("item")
        return steps

    # -------------------------------------------------------------------- run

    def run(self) -> SoakReport:
        report = self.report
        report.device_options = self.config.device_options()
        steps = self.plan()
        try:
            with Progress(self.log, self.progress_line, not self.config.quiet):
                self._open()
                self.set_faults(True)
                for step in steps:
                    if self.remaining() <= 0:
                        report.time_bound_hit = True
                        break
                    self.stage = step
                    getattr(self, "_step_" + step)()
                report.elapsed = time.monotonic() - self.started
                self.stage = "settling"
                self._settle()
        finally:
            self.set_faults(False)
            if self.clerk is not None:
                self.clerk.close()
            self._collect()
            if self.device is not None:
                self.device.Close()
            self.emu.stop()
        return report

    def _open(self) -> None:
        port = self.port()
        self.report.port = port
        hint = MODEL_HINTS.get(self.config.model) or DeviceModel.__members__.get(
            self.config.model, DeviceModel.NOTE_VALIDATOR
        )
        group = PollGroup("soak") if self.config.group else None
        device = CashDevice(**self.report.device_options, poll_group=group)
        self.device = device
        self.tally = HostTally(device)
        if self.config.escrow:
            pause = 2 * float(self.report.device_options["poll_interval"])
            self.clerk = EscrowClerk(device, self.config.seed, pause, self.report.escrow_calls)
        for _ in range(5):
            self.report.open_attempts += 1
            result = device.Open(port, self.emu.address, hint)
            if result == CashSystemOpenResult.OK:
                break
        else:
            raise RuntimeError(f"Open({port!r}) failed 5 times")
        link = getattr(device, "_link", None)
        if self.config.deadline is not None and link is not None and hasattr(link, "deadline"):
            link.deadline = self.config.deadline
        tally = self.tally
        if not tally.wait(lambda: tally.host_state() in SETTLED_STATES, self.bounded(30.0)):
            raise RuntimeError(f"the device never became IDLE after Open (state {tally.host_state().name})")

    def _take_item(self, timeout: float) -> bool:
        """A customer inserts one note / coin, waiting until the unit takes it."""
        value = self.rng.choice(self.values)
        if self.coins:
            # a customer drops coins one after another, not all at once (--coin-interval)
            pause = self.last_coin + self.config.coin_interval - time.monotonic()
            if pause > 0:
                self.emu.wait_for(lambda e: False, pause)
            taken = self.emu.wait_for(lambda e: e.enabled and e.insert_coin(value), timeout, interval=0.02)
        else:
            taken = self.emu.wait_for(lambda e: e.enabled and e.insert_note(value), timeout, interval=0.02)
        if taken:
            self.last_coin = time.monotonic()
            self.report.items_inserted += 1
        else:
            self.report.insert_timeouts += 1
        return taken

    def _step_item(self) -> None:
        self._take_item(self.bounded(self.patience()))
        self.items_done += 1

    def _step_payout(self) -> None:
        self._payout(cut=False)
        self.payouts_done += 1

    def _step_cut_payout(self) -> None:
        self._payout(cut=True)
        self.payouts_done += 1
        self.cuts_done += 1

    def _step_cut_item(self) -> None:
        """Power cut while a note is read / stacked (a coin: just after it was credited)."""
        if self._take_item(self.bounded(self.patience())):
            if self.coins:
                moment = self.report.device_options["poll_interval"] * 2
                self.emu.wait_for(lambda e: False, self.rng.uniform(0.0, moment))
            else:
                # a stage of the note path, chosen at random: before the credit point (the note
                # goes back to the customer), credited (a reset event reports it) or landed
                target = self.rng.choice(NOTE_STAGES)

                def reached(e: Any) -> bool:
                    note = e.status()["note"]
                    return note is None or str(note).split()[-1] == target

                self.emu.wait_for(reached, self.bounded(self.patience()), interval=0.002)
        self._fault(self._power_cut)
        self.report.power_cuts += 1
        self.cuts_done += 1

    def _step_unplug(self) -> None:
        tally = self.tally
        assert tally is not None
        index = len(tally.states)
        self.emu.unplug()
        # the cable stays out for a while (long enough for a poll to find it gone)
        self.emu.wait_for(lambda e: False, self.rng.uniform(0.1, 1.0))
        self._fault(self.emu.replug, index)
        self.report.unplugs += 1
        self.unplugs_done += 1

    def _power_cut(self) -> None:
        """Cut the power just after the unit has answered a poll (every queued event reported)
        and the host has taken every credit that reply carried.

        The unit's event queue is volatile: an event it never put in a poll reply dies with
        the power (a COIN CREDIT, a note's CREDIT + STACKED after it landed) and no host can
        report it.  So does a credit in a reply still on its way: a COIN CREDIT leaves the queue
        once it is in a reply, and until the host takes that reply (a retry after noise gets it
        from the unit's reply cache) it exists only there, so the cut waits for the host's next
        command (``unconfirmed`` on the emulated device).  Other events of such a reply (a
        DISPENSED, a note's STACKED after its CREDIT arrived) the host makes up for after the
        power-up, so the cut does not wait for them.  A note still in the path survives as a
        reset event, so cuts inside the note path stay in the plan.  If the unit cannot report
        in time, the cut happens anyway and is counted (``cuts_unreported``).  A cut may also
        catch a note in the path whose CREDIT the unit has not reported: a reset event reports
        it after power-up."""
        emu = self.emu

        def cut(e: Any) -> bool:
            with e._lock:  # check and cut atomically
                note = getattr(e.device, "note", None)
                credited = note is not None and note.credited  # a reset event will report it

                def dies(code: int) -> bool:  # the cut would destroy it (no reset event reports it)
                    return not (credited and code == PollEvent.CREDIT)

                device = e.device
                if any(not p.reported and dies(p.event.code) for p in device.pending) or any(
                    ev.code in _CREDITS_ON_THE_WAY and dies(ev.code) for ev in device.unconfirmed
                ):
                    return False
                e.power_cycle()
                return True

        if not emu.wait_for(cut, self.bounded(5.0 + 2 * self.exchange_deadline()), interval=0.002):
            self.report.cuts_unreported += 1
            emu.power_cycle()

    def _fault(self, action: Callable[[], None], index: int | None = None) -> None:
        """Run ``action`` (the end of a fault) and measure how long the host takes to come back
        to IDLE / DISABLED after it noticed the fault (NOT_CONNECTED / CONNECTING)."""
        tally = self.tally
        assert tally is not None
        if index is None:
            index = len(tally.states)
        action()
        at = time.monotonic()
        notice = 10.0 + 4 * self.exchange_deadline()
        if not tally.wait(lambda: tally.state_after(index, LOST_STATES) is not None, self.bounded(notice)):
            self.report.unnoticed += 1
            return
        lost = tally.state_after(index, LOST_STATES)
        assert lost is not None
        if tally.wait(
            lambda: tally.state_after(lost[0], SETTLED_STATES) is not None, self.bounded(self.patience())
        ):
            back = tally.state_after(lost[0], SETTLED_STATES)
            assert back is not None
            self.report.recoveries.append(back[1] - at)
        else:
            self.report.unrecovered += 1

    def _payout_amount(self) -> int:
        stock = {d.value: n for d, n in self.emu.levels.items() if d.country == self.currency and n > 0}
        if not stock:
            return 0
        value = self.rng.choice(sorted(stock))
        most = min(stock[value], 5 if self.coins else 3)
        return value * self.rng.randint(1, most)

    def _payout(self, cut: bool) -> None:
        device, tally, emu = self.device, self.tally, self.emu
        assert device is not None and tally is not None
        report = self.report
        patience = self.bounded(self.patience())
        # a customer asks for change when no note is in the path and the host shows the unit ready
        emu.wait_for(lambda e: e.status()["note"] is None and e.status()["job"] is None, patience)
        tally.wait(lambda: tally.host_state() in SETTLED_STATES, self.bounded(patience))
        amount = self._payout_amount()
        record = PayoutRecord(len(report.payouts) + 1, amount, "SKIPPED", power_cut=cut)
        report.payouts.append(record)
        if amount == 0:
            report.failures.append(f"payout {record.number}: store empty, skipped")
            return
        before = emu.ledger.dispensed_total()
        with tally.cond:
            ends_before = len(tally.transaction_ends)
        result = DispenseTransactionRequestResult.BUSY
        for _ in range(BUSY_ATTEMPTS):
            idle = emu.status()["job"] is None
            result = device.DispenseValue(ValueCountryCode(amount, self.currency))
            report.results[result.name] += 1
            if result != DispenseTransactionRequestResult.BUSY:
                break
            if idle and emu.status()["job"] is None:
                report.busy_idle += 1
                if tally.host_state() not in SETTLED_STATES:
                    report.busy_idle_unconnected += 1
            tally.wait(lambda: tally.host_state() in SETTLED_STATES, self.bounded(patience))
        record.result = result.name
        if result != DispenseTransactionRequestResult.OK:
            if emu.wait_for(lambda e: e.ledger.dispensed_total() != before, 1.0):
                record.ledger_paid = emu.ledger.dispensed_total() - before
                record.reported = 0
                record.result = "OK"  # it paid although the call said otherwise: a mismatch
                record.trail = " ".join(tally.trail[-25:])
            return
        self.paying = True
        if cut:
            # wait until the job runs, then cut at a random moment of it (or just after it)
            emu.wait_for(lambda e: e.status()["job"] is not None or e.ledger.dispensed_total() != before, 5.0)
            step = self.timing.coin_step if self.coins else self.timing.payout_step
            pieces = max(1, amount // max(1, min(stock for stock in self.values)))
            emu.wait_for(lambda e: False, self.rng.uniform(0.0, step * min(pieces, 6) * 1.2))
            self._fault(self._power_cut)
            report.power_cuts += 1
        ended = tally.wait(lambda: len(tally.transaction_ends) > ends_before, self.bounded(patience))
        emu.wait_for(
            lambda e: e.status()["job"] is None and e.status()["bezel"] is None, self.bounded(patience)
        )
        record.ledger_paid = emu.ledger.dispensed_total() - before
        if ended:
            with tally.cond:
                record.end_state, record.reported = tally.transaction_ends[ends_before]
        self.paying = False
        if not record.matches:
            record.trail = " ".join(tally.trail[-25:])

    def _settle(self) -> None:
        """The line is made clean; the host may report what it still owes (bounded)."""
        tally, emu = self.tally, self.emu
        assert tally is not None
        self.set_faults(False)
        start = time.monotonic()
        ledger_counts: dict[Denom, int] = {}

        def refresh() -> None:
            ledger = emu.ledger
            ledger_counts.clear()
            for d, c in ledger.counts.items():
                ledger_counts[(d.value, d.country)] = c.credited

        def done() -> bool:
            if not emu.wait_for(lambda e: e.status()["note"] is None and e.status()["job"] is None, 0.0):
                return False
            refresh()
            reported = tally.credits + tally.cleared
            return tally.host_state() in SETTLED_STATES and all(
                reported[d] >= n for d, n in ledger_counts.items()
            )

        deadline = start + SETTLE_SECONDS
        while not done() and time.monotonic() < deadline:
            tally.wait(lambda: False, 0.2)
        self.report.settled = done()
        self.report.settle_time = time.monotonic() - start

    def _collect(self) -> None:
        report, emu, tally = self.report, self.emu, self.tally
        if report.elapsed == 0.0:
            report.elapsed = time.monotonic() - self.started
        report.take_ledger(emu.ledger)
        report.fault_stats = {
            "inbound": dict(emu.faults.inbound.stats),
            "outbound": dict(emu.faults.outbound.stats),
        }
        if tally is not None:
            with tally.cond:
                report.host_credits = Counter(tally.credits)
                report.host_cleared = Counter(tally.cleared)
                report.reported_paid = sum(value for _, value in tally.transaction_ends)
                report.transaction_ends = len(tally.transaction_ends)
        link = getattr(self.device, "_link", None) if self.device is not None else None
        counters = getattr(link, "counters", None)
        if counters is not None:
            report.link_counters = {
                name: int(getattr(counters, name))
                for name in ("transactions", "retries", "timeouts", "resyncs", "early_retries", "crc_errors")
                if hasattr(counters, name)
            }
        group = getattr(self.device, "poll_group", None) if self.device is not None else None
        if group is not None:
            report.group_counters = {
                name: int(getattr(group.counters, name))
                for name in ("polls", "quiet", "steps", "handed", "handed_back", "late")
            }
        compare_credits(report)


def run_soak(config: SoakConfig, log: TextIO | None = None) -> SoakReport:
    """Run one soak (``log``: where the progress bar goes, stderr by default)."""
    return Soak(config, log or sys.stderr).run()


# ---------------------------------------------------------------------------------- command line


def _number(
    kind: Callable[[str], float], ok: Callable[[float], bool], rule: str
) -> Callable[[str], Any]:
    """An argparse type: ``kind(text)`` that must satisfy ``ok``, else ``rule`` is the error."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(rule)
        return value

    return parse


_probability = _number(float, lambda v: 0.0 <= v < 1.0, "a per-byte probability is 0 <= p < 1 (0.01 = 1 %)")
_count = _number(int, lambda v: v >= 0, "must be an integer >= 0")
_positive = _number(float, lambda v: v > 0, "must be > 0")
_nonnegative = _number(float, lambda v: v >= 0, "must be >= 0")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cashdevice soak",
        description="Fault soak: CashDevice against the emulator with byte faults, power cuts and "
        "unplugs; prints host-reported vs ledger credits and payouts.",
    )
    parser.add_argument("--model", default="SPECTRAL_PAYOUT", help="emulated model (default SPECTRAL_PAYOUT)")
    parser.add_argument("--currency", default=None, help="dataset currency (default: the model's, EUR)")
    parser.add_argument(
        "--notes",
        "--coins",
        dest="items",
        type=_count,
        default=100,
        help="notes to insert (coins on coin models; default 100)",
    )
    parser.add_argument("--payouts", type=_count, default=10, help="payouts to ask for (default 10)")
    parser.add_argument("--drop", type=_probability, default=0.0, help="per-byte drop probability, both ways")
    parser.add_argument("--corrupt", type=_probability, default=0.0, help="per-byte corruption, both ways")
    parser.add_argument("--power-cuts", type=_count, default=0, help="power cuts (half during payouts)")
    parser.add_argument("--unplugs", type=_count, default=0, help="unplug / replug cycles")
    parser.add_argument("--transport", choices=("inproc", "pty", "tcp"), default="inproc")
    parser.add_argument("--seed", type=int, default=1, help="seed of the plan and the emulator's faults")
    parser.add_argument("--timeout", type=_positive, default=None, help="CashDevice(timeout=...) per attempt")
    parser.add_argument("--retries", type=_count, default=None, help="CashDevice(retries=...)")
    parser.add_argument("--deadline", type=_positive, default=None, help="link transaction deadline (s)")
    parser.add_argument(
        "--poll-interval",
        type=_positive,
        default=None,
        help="CashDevice(poll_interval=...) (default 0.2, 0.05 with --fast)",
    )
    parser.add_argument(
        "--reconnect-interval",
        type=_positive,
        default=None,
        help="CashDevice(reconnect_interval=...) (default 1.0, 0.2 with --fast)",
    )
    parser.add_argument(
        "--coin-interval",
        type=_nonnegative,
        default=0.25,
        help="seconds between two coins a customer drops (default 0.25; 0: as fast as the unit takes them)",
    )
    parser.add_argument(
        "--group", action="store_true", help="a PollGroup polls the idle device (needs --transport pty)"
    )
    parser.add_argument(
        "--escrow",
        action="store_true",
        help="the application holds every note in escrow and accepts (3 in 4) or returns it (note models)",
    )
    parser.add_argument(
        "--paced", action="store_true", help="the emulator paces its line at the unit's baud rate (9600 8N2)"
    )
    parser.add_argument("--fast", action="store_true", help="short emulated mechanical timings")
    parser.add_argument("--max-minutes", type=_positive, default=40.0, help="bound on the run (default 40)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--log", metavar="FILE", default=None, help="write the library's log (INFO) to FILE")
    return parser


def config_from(args: argparse.Namespace) -> SoakConfig:
    return SoakConfig(
        model=args.model.upper(),
        currency=args.currency,
        items=args.items,
        payouts=args.payouts,
        drop=args.drop,
        corrupt=args.corrupt,
        power_cuts=args.power_cuts,
        unplugs=args.unplugs,
        transport=args.transport,
        seed=args.seed,
        timeout=args.timeout,
        retries=args.retries,
        deadline=args.deadline,
        poll_interval=args.poll_interval,
        reconnect_interval=args.reconnect_interval,
        fast=args.fast,
        max_minutes=args.max_minutes,
        quiet=args.quiet,
        coin_interval=args.coin_interval,
        group=args.group,
        escrow=args.escrow,
        paced=args.paced,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from(args)
    # the library logs every recovery at WARNING; keep it off the terminal (or in --log FILE)
    logger = logging.getLogger("cashdevice")
    handler: logging.Handler = logging.FileHandler(args.log) if args.log else logging.NullHandler()
    if args.log:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    if args.log and (level == logging.NOTSET or level > logging.INFO):
        logger.setLevel(logging.INFO)
    try:
        report = run_soak(config)
    except ValueError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("soak: interrupted", file=sys.stderr)
        return 130
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()
    print(format_table(report))
    sys.stdout.flush()
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
