"""The soak's configuration, report and table (:mod:`cashdevice.soak` runs it).

:class:`SoakConfig` is what one soak does; :class:`SoakReport` what it found, with
:func:`compare_credits` (host credits against the emulator's ledger); :class:`Progress` draws the
bar while it runs; :func:`format_table` renders the report.
"""

from __future__ import annotations

import statistics
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

SETTLE_SECONDS = 30.0
"""At the end, with the line clean: how long the host may take to report what it owes."""
BAR_WIDTH = 30

Denom = tuple[int, str]


# ---------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class SoakConfig:
    model: str = "SPECTRAL_PAYOUT"
    currency: str | None = None
    items: int = 100
    payouts: int = 10
    drop: float = 0.0
    corrupt: float = 0.0
    power_cuts: int = 0
    unplugs: int = 0
    transport: str = "inproc"
    seed: int = 1
    timeout: float | None = None
    retries: int | None = None
    deadline: float | None = None
    poll_interval: float | None = None
    reconnect_interval: float | None = None
    fast: bool = False
    max_minutes: float = 40.0
    quiet: bool = False
    coin_interval: float = 0.25
    group: bool = False
    """Poll through a :class:`~cashdevice.PollGroup` (needs a pty)."""
    escrow: bool = False
    """The application holds every note in escrow (``auto_accept=False``) and accepts or returns
    it (note models only)."""
    paced: bool = False
    """The emulator paces its line at the unit's baud rate, both ways (9600 8N2 by default)."""

    def device_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "poll_interval": self.poll_interval
            if self.poll_interval is not None
            else (0.05 if self.fast else 0.2),
            "reconnect_interval": self.reconnect_interval
            if self.reconnect_interval is not None
            else (0.2 if self.fast else 1.0),
        }
        if self.timeout is not None:
            options["timeout"] = self.timeout
        if self.retries is not None:
            options["retries"] = self.retries
        if self.escrow:
            options["auto_accept"] = False
        return options


# ---------------------------------------------------------------------------------- report


@dataclass
class PayoutRecord:
    number: int
    amount: int
    result: str
    ledger_paid: int = 0
    reported: int | None = None
    end_state: str = ""
    power_cut: bool = False
    trail: str = ""

    @property
    def matches(self) -> bool:
        return self.reported == self.ledger_paid


@dataclass
class SoakReport:
    config: SoakConfig
    kind: str = "notes"
    currency: str = ""
    port: str = ""
    device_options: dict[str, Any] = field(default_factory=dict)
    open_attempts: int = 0
    ledger_credits: Counter[Denom] = field(default_factory=Counter)
    host_credits: Counter[Denom] = field(default_factory=Counter)
    host_cleared: Counter[Denom] = field(default_factory=Counter)
    ledger_cleared: Counter[Denom] = field(default_factory=Counter)
    lost: Counter[Denom] = field(default_factory=Counter)
    duplicated: Counter[Denom] = field(default_factory=Counter)
    cleared_at_reset: Counter[Denom] = field(default_factory=Counter)
    items_planned: int = 0
    items_inserted: int = 0
    insert_timeouts: int = 0
    payouts_planned: int = 0
    payouts: list[PayoutRecord] = field(default_factory=list)
    results: Counter[str] = field(default_factory=Counter)
    busy_idle: int = 0
    busy_idle_unconnected: int = 0
    ledger_dispensed: int = 0
    reported_paid: int = 0
    transaction_ends: int = 0
    power_cuts: int = 0
    unplugs: int = 0
    recoveries: list[float] = field(default_factory=list)
    unnoticed: int = 0
    cuts_unreported: int = 0
    unrecovered: int = 0
    elapsed: float = 0.0
    settle_time: float = 0.0
    settled: bool = True
    time_bound_hit: bool = False
    link_counters: dict[str, int] | None = None
    group_counters: dict[str, int] | None = None
    """The PollGroup's counters (``--group``): polls, quiet, steps, handed, handed_back, late."""
    escrow_calls: Counter[str] = field(default_factory=Counter)
    """``--escrow``: the application's AcceptFromEscrow / ReturnFromEscrow calls by outcome
    (``accepted``, ``returned``, and ``*_refused`` when the call returned False: no note waited)."""
    ledger_rejected: int = 0
    ledger_problems: list[str] = field(default_factory=list)
    fault_stats: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def take_ledger(self, ledger: Any) -> None:
        """Copy what the emulator's :class:`~cashdevice.emulator.Ledger` says: credits and notes
        cleared at reset per denomination, the value dispensed, its own consistency problems."""
        for d, c in ledger.counts.items():
            if c.credited:
                self.ledger_credits[(d.value, d.country)] = c.credited
            if c.cleared:
                self.ledger_cleared[(d.value, d.country)] = c.cleared
        self.ledger_dispensed = ledger.dispensed_total()
        self.ledger_rejected = ledger.count("rejected")
        self.ledger_problems = ledger.problems()

    @property
    def lost_total(self) -> int:
        return sum(self.lost.values())

    @property
    def duplicated_total(self) -> int:
        return sum(self.duplicated.values())

    @property
    def payout_mismatches(self) -> list[PayoutRecord]:
        return [p for p in self.payouts if p.result == "OK" and not p.matches]

    @property
    def passed(self) -> bool:
        return (
            self.lost_total == 0
            and self.duplicated_total == 0
            and not self.payout_mismatches
            and self.reported_paid == self.ledger_dispensed
        )


def money_problems(report: SoakReport) -> list[str]:
    """What the host got wrong against the ledger, a line each: credits lost or duplicated,
    payouts reported with another amount than the ledger paid, an unbalanced ledger (the soak's
    table prints them; the group soak test asserts there are none)."""
    lines = []
    if report.lost:
        lines.append(f"lost: {_denoms(report.lost)}")
    if report.duplicated:
        lines.append(f"duplicated: {_denoms(report.duplicated)}")
    for p in report.payout_mismatches:
        lines.append(
            f"payout {p.number} of {_money(p.amount)}{' (power cut)' if p.power_cut else ''}: ledger paid "
            f"{_money(p.ledger_paid)}, host reported "
            f"{'nothing' if p.reported is None else _money(p.reported) + ' ' + p.end_state}; "
            f"events: {p.trail}"
        )
    if report.reported_paid != report.ledger_dispensed:
        lines.append(
            f"payout total: ledger {_money(report.ledger_dispensed)} "
            f"!= reported {_money(report.reported_paid)}"
        )
    if report.ledger_problems:
        lines.append("ledger does not balance: " + "; ".join(report.ledger_problems))
    return lines


def compare_credits(report: SoakReport) -> None:
    """Fill lost / duplicated / cleared-at-reset per denomination from ledger and host counts."""
    for d in set(report.ledger_credits) | set(report.host_credits):
        ledger, host = report.ledger_credits[d], report.host_credits[d]
        missing = ledger - host
        if missing > 0:
            # a note the device credited but could only report after a power cut, as
            # NOTE_CLEARED_TO_CASHBOX (the host never saw its CREDIT): reported, not lost.  Notes
            # cleared from the bezel of a payout are reported the same way; they are not credits.
            cleared = max(0, report.host_cleared[d] - report.ledger_cleared[d])
            covered = min(missing, cleared)
            if covered:
                report.cleared_at_reset[d] = covered
            if missing - covered:
                report.lost[d] = missing - covered
        elif missing < 0:
            report.duplicated[d] = -missing


# ---------------------------------------------------------------------------------- progress


class Progress:
    """A plain-text progress line on stderr, rewritten in place (``\\r``) twice a second."""

    def __init__(self, stream: TextIO, text: Callable[[], str], enabled: bool) -> None:
        self.stream = stream
        self.text = text
        self.enabled = enabled
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._width = 0

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="cashdevice-soak-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        try:
            line = self.text()
        except Exception as exc:  # the bar must never break the soak
            line = f"(progress unavailable: {exc})"
        pad = max(0, self._width - len(line))
        self._width = len(line)
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._draw()


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    fraction = 1.0 if total <= 0 else min(1.0, done / total)
    filled = round(fraction * width)
    return "[" + "#" * filled + "-" * (width - filled) + f"] {fraction * 100:5.1f}%"


# ---------------------------------------------------------------------------------- table


def _money(value: int) -> str:
    return f"{value / 100:,.2f}"


def _denoms(counts: Counter[Denom]) -> str:
    return ", ".join(f"{n} x {_money(v)} {c}" for (v, c), n in sorted(counts.items()) if n)


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 120 else f"{value / 60:.1f} min"


def format_table(report: SoakReport) -> str:
    """The soak table (Markdown, readable as plain text)."""
    cfg = report.config
    unit = "notes" if report.kind == "notes" else "coins"
    opts = ", ".join(f"{k}={v}" for k, v in report.device_options.items())
    deadline = f", link deadline {cfg.deadline} s" if cfg.deadline else ""
    lines = [
        f"fault soak: {cfg.model} {report.currency} on {cfg.transport} ({report.port}), seed {cfg.seed}",
        f"faults: drop {cfg.drop * 100:g} % + corrupt {cfg.corrupt * 100:g} % per byte, both directions; "
        f"{cfg.power_cuts} power cuts, {cfg.unplugs} unplugs"
        + (f"; a coin every {cfg.coin_interval:g} s at most" if report.kind == "coins" else "")
        + ("; fast mechanical timings" if cfg.fast else "")
        + ("; every note held in escrow, then accepted or returned" if cfg.escrow else "")
        + ("; the line paced at the unit's baud rate" if cfg.paced else ""),
        f"host: CashDevice({opts}){deadline}" + (", polled idle by a PollGroup" if cfg.group else ""),
        "",
        "| | ledger (emulator) | reported (host) |",
        "|---|---:|---:|",
    ]

    def row(name: str, ledger: object = "", host: object = "") -> None:
        lines.append(f"| {name} | {ledger} | {host} |")

    ledger_value = sum(v * n for (v, _), n in report.ledger_credits.items())
    host_value = sum(v * n for (v, _), n in report.host_credits.items())
    cleared_value = sum(v * n for (v, _), n in report.cleared_at_reset.items())
    row(f"{unit} inserted (taken by the unit)", f"{report.items_inserted:,}", "")
    row("credits, value", _money(ledger_value), _money(host_value))
    row(
        "credits, count", f"{sum(report.ledger_credits.values()):,}", f"{sum(report.host_credits.values()):,}"
    )
    if cfg.escrow:
        calls = report.escrow_calls
        row(
            "escrow: AcceptFromEscrow / ReturnFromEscrow (True; False: no note waited)",
            "",
            f"{calls['accepted']} / {calls['returned']} ({calls['accepted_refused']} / "
            f"{calls['returned_refused']})",
        )
        row("notes returned to the customer (rejected)", f"{report.ledger_rejected:,}", "")
    row("lost", "", f"**{report.lost_total}**")
    row("duplicated", "", f"**{report.duplicated_total}**")
    row("cleared at reset (1)", "", f"{sum(report.cleared_at_reset.values())} ({_money(cleared_value)})")
    oks = [p for p in report.payouts if p.result == "OK"]
    row(
        "payouts asked",
        "",
        f"{len(report.payouts)} (during a power cut: {sum(p.power_cut for p in report.payouts)})",
    )
    row(
        "payouts paid / reported (value)",
        _money(report.ledger_dispensed),
        f"{_money(report.reported_paid)} in {report.transaction_ends} transaction ends",
    )
    row("payouts reported with the ledger's amount", "", f"{sum(p.matches for p in oks)} of {len(oks)}")
    results = report.results
    other = sum(n for name, n in results.items() if name not in ("OK", "BUSY"))
    other_names = ", ".join(
        f"{name} {n}" for name, n in sorted(results.items()) if name not in ("OK", "BUSY")
    )
    row(
        "DispenseValue OK / BUSY / other",
        "",
        f"{results['OK']} / {results['BUSY']} / {other}" + (f" ({other_names})" if other_names else ""),
    )
    busy_note = (
        f" (host not connected: {report.busy_idle_unconnected})" if report.busy_idle_unconnected else ""
    )
    row("BUSY while no payout ran", "", f"{report.busy_idle}{busy_note}")
    row("power cuts / unplugs", "", f"{report.power_cuts} / {report.unplugs}")
    if report.recoveries:
        rec = report.recoveries
        row(
            "recovery to IDLE/DISABLED (2) min / median / max",
            "",
            f"{_seconds(min(rec))} / {_seconds(statistics.median(rec))} / {_seconds(max(rec))}"
            f" (n={len(rec)})",
        )
    else:
        row("recovery to IDLE/DISABLED (2)", "", "no fault measured")
    if report.cuts_unreported:
        row("power cuts with events the unit had not reported yet (3)", "", str(report.cuts_unreported))
    if report.unnoticed or report.unrecovered:
        row("faults unnoticed / not recovered in time", "", f"{report.unnoticed} / {report.unrecovered}")
    minutes = report.elapsed / 60.0
    items = report.items_inserted
    row(f"{unit} per minute", "", f"{items / minutes:,.1f}" if minutes > 0 else "-")
    row(f"time per {unit[:-1]}", "", _seconds(report.elapsed / items) if items else "-")
    row("elapsed", "", _seconds(report.elapsed) + f" (+ {report.settle_time:.1f} s settling on a clean line)")
    if report.insert_timeouts:
        row(f"{unit} the unit never took", "", str(report.insert_timeouts))
    if report.link_counters is not None:
        c = report.link_counters
        row(
            "link: transactions / retries / timeouts / resyncs / early retries",
            "",
            " / ".join(
                f"{c.get(k, 0):,}"
                for k in ("transactions", "retries", "timeouts", "resyncs", "early_retries")
            ),
        )
    else:
        row("link counters", "", "not available")
    if report.group_counters is not None:
        g = report.group_counters
        row(
            "poll group: polls / quiet / a note's step / handed over / handed back",
            "",
            " / ".join(f"{g.get(k, 0):,}" for k in ("polls", "quiet", "steps", "handed", "handed_back")),
        )
    stats = report.fault_stats
    if stats:
        row(
            "bytes dropped / corrupted (to device, to host)",
            "",
            f"{stats['inbound']['dropped']:,}/{stats['inbound']['corrupted']:,}, "
            f"{stats['outbound']['dropped']:,}/{stats['outbound']['corrupted']:,}",
        )
    lines.append("")
    if report.power_cuts or report.cleared_at_reset:
        lines.append(
            "(1) a note the device credited but could only report after a power cut (its CREDIT never "
            "reached the host): reported as NOTE_CLEARED_TO_CASHBOX, counted as reported, not lost."
        )
    if report.power_cuts or report.unplugs:
        lines.append(
            "(2) from the end of a power cut / unplug to the host's DeviceState back at IDLE or "
            "DISABLED, for faults the host noticed (NOT_CONNECTED / CONNECTING)."
        )
    if report.power_cuts:
        lines.append(
            "(3) cuts are made just after the unit answered a poll and the host took every credit "
            "in that reply: an event the unit never put in a reply, or a credit in a reply still on "
            "its way, dies with the power whatever the host does; counted here when it could not wait."
        )
    lines.extend(money_problems(report))
    if not report.settled:
        lines.append(f"the host had not reported everything after {SETTLE_SECONDS:.0f} s on a clean line")
    if report.time_bound_hit:
        lines.append(f"stopped by --max-minutes {cfg.max_minutes:g} before the plan was done")
    lines.extend(report.failures)
    lines.append("RESULT: " + ("PASS" if report.passed else "FAIL") + f" (seed {cfg.seed})")
    return "\n".join(lines)
