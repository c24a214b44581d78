"""Many CashDevices in one process: CPU, threads, memory and late credits, for N devices.

    python3 benchmarks/many_devices.py [--devices 10,100,300,1000] [--push-fds 1024] [--group] [--spread S]
                                       [--without-fast] [--short]

For each N: N emulated SPECTRAL_PAYOUTs (zero mechanical time, or ``--mechanical S`` seconds to read
and as many to stack a note) on ptys in one other process
(benchmarks/emulator_farm.py, so their CPU is not counted; ``--farm lean``, the default, serves
them from one thread per farm process of at most ``--per-farm`` devices, ``--farm standard`` runs
each emulator's own threads in one process), N CashDevice.Open in this process
(16 at a time), then ``--idle-seconds`` of idle polling (CPU = ``time.process_time()`` of this
process, as % of one core; threads = ``threading.active_count()``; RSS), then one note into
every device at once (``--spread S``: one after another, evenly over S seconds).  ``--group``
gives every device one :class:`cashdevice.PollGroup` (one thread polls the idle devices).  A
credit is late when it arrives more than one poll interval plus one exchange (``--exchange``,
50 ms) plus the mechanical time after its insertion, or never (10 s).

The emulators' CPU (their processes) and how busy the whole machine was are printed for the
same two phases: on a small machine the host and its emulators share the cores, and a
saturated machine delays the host's polls whatever the host does.

``--push-fds K`` opens K spare descriptors first, so every device's descriptors lie above
K (pyserial's ``select()`` refuses descriptors of 1024 and more: a server that already
holds many sockets meets that with its first device).  Open failures are counted and the first
error the library logged is shown.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gc
import logging
import os
import resource
import sys
import threading
import time
from typing import Any

from _common import (
    Farm,
    add_without_fast,
    backends,
    cpu,
    machine_busy,
    median,
    percentile,
    rss_mb,
    table,
    without_fast,
)

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel, PollGroup
from cashdevice.enums import CashEventType
from cashdevice.poll_group import LATE_POLL

CREDITS = (CashEventType.STORED, CashEventType.STACKED)


class FirstErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) < 3:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += f": {record.exc_info[1]}"
            self.messages.append(text[:160])


class GcPauses:
    """Python's cyclic garbage collections and how long each stopped every thread."""

    def __init__(self) -> None:
        self.started = 0.0
        self.pauses: list[tuple[int, float]] = []  # (generation, seconds)

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self.started))

    def text(self) -> str:
        parts = []
        for generation in (0, 1, 2):
            pauses = [p for g, p in self.pauses if g == generation]
            if pauses:
                parts.append(f"generation {generation}: {len(pauses)}, longest {max(pauses) * 1e3:.1f} ms")
        return f"{len(self.pauses)} collections ({'; '.join(parts) or 'none'})"


def _fds() -> set[int]:
    """Open descriptors of this process (empty where /proc is missing)."""
    try:
        return {int(f) for f in os.listdir("/proc/self/fd")}
    except OSError:
        return set()


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{median(values) * 1e3:.0f} / {percentile(values, 99) * 1e3:.0f} / {max(values) * 1e3:.0f}"


def _load(before: tuple[float, float]) -> float:
    """How busy the whole machine was since ``before`` (a :func:`machine_busy` reading), 0..1."""
    busy, total = machine_busy()
    return (busy - before[0]) / max(1e-9, total - before[1])


def run(n: int, args: argparse.Namespace, errors: FirstErrors) -> list[tuple[str, str]]:
    credited: dict[int, float] = {}
    seen: dict[int, float] = {}  # the device's first CashEvent (the note read): the poll that saw it
    done = threading.Event()

    def receiver(index: int) -> Any:
        def on_cash(sender: Any, e: Any = None, **_: Any) -> None:
            if e is not None and index not in seen:
                seen[index] = time.monotonic()
            if e is not None and e.eventType in CREDITS and index not in credited:
                credited[index] = time.monotonic()
                if len(credited) >= n:
                    done.set()

        return on_cash

    errors.messages.clear()
    spare = [os.open(os.devnull, os.O_RDONLY) for _ in range(args.push_fds)]
    devices: list[CashDevice] = []
    try:
        with Farm(
            n,
            emulator_path=args.emulator_path,
            lean=args.farm == "lean",
            per_process=args.per_farm,
            nice=args.farm_nice,
            mechanical=args.mechanical,
        ) as farm:
            before = _fds()
            cpu0, wall0 = cpu(), time.monotonic()

            group = PollGroup() if args.group else None

            def open_one(i: int) -> bool:
                device = CashDevice(poll_interval=args.interval, poll_group=group)
                device.CashEvent.connect(receiver(i))
                devices.append(device)
                path, address = farm.ports[i]
                return device.Open(path, address, DeviceModel.SPECTRAL_PAYOUT) == CashSystemOpenResult.OK

            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                ok = sum(pool.map(open_one, range(n)))
            open_wall, open_cpu = time.monotonic() - wall0, cpu() - cpu0
            fds = sorted(_fds() - before)
            if args.gc_freeze:
                gc.collect()
                gc.freeze()  # what Open built lives on: later collections need not scan it
            time.sleep(1.0)
            polls1 = late1 = 0
            if group is not None:  # (the polls while the devices opened do not count)
                polls1, late1 = group.counters.polls, group.counters.late
                group.counters.max_lag = 0.0
            cpu1, wall1, farm1, machine1 = cpu(), time.monotonic(), farm.cpu(), machine_busy()
            threading.Event().wait(args.idle_seconds)
            idle_wall = time.monotonic() - wall1
            idle = (cpu() - cpu1) / idle_wall
            farm_idle = (farm.cpu() - farm1) / idle_wall
            machine_idle = _load(machine1)
            threads, rss = threading.active_count(), rss_mb()
            lent = "no group"
            if group is not None:
                lent = f"{group.lent} lent when idle"
            pauses = GcPauses()
            gc.callbacks.append(pauses)
            lag = "no group"
            if group is not None:
                c = group.counters
                idle_polls, idle_late = c.polls, c.late
                lag = f"idle {idle_late - late1} of {idle_polls - polls1} (max {c.max_lag * 1e3:.0f} ms)"
                group.counters.max_lag = 0.0
            seen.clear()
            cpu2, wall2, farm2, machine2 = cpu(), time.monotonic(), farm.cpu(), machine_busy()
            if args.spread > 0:  # one note after another, evenly over ``--spread`` seconds
                inserted = {}
                start = time.monotonic()
                for i in range(n):
                    pause = start + i * args.spread / n - time.monotonic()
                    if pause > 0:
                        threading.Event().wait(pause)
                    inserted.update(farm.insert(i, 500))
            else:
                inserted = farm.insert("all", 500, replies=n)
            done.wait(10.0)
            busy_wall = time.monotonic() - wall2
            busy = (cpu() - cpu2) / busy_wall
            farm_busy = (farm.cpu() - farm2) / busy_wall
            machine_notes = _load(machine2)
            gc.callbacks.remove(pauses)
            limit = args.interval + args.exchange + 2 * args.mechanical
            late = sum(1 for i, t in inserted.items() if credited.get(i, float("inf")) - t > limit)
            late += n - len(inserted)
            worst = max((credited[i] - t for i, t in inserted.items() if i in credited), default=float("nan"))
            # where a credit's time goes: insertion -> the first CashEvent (the poll that saw the
            # note), then -> the credit (the polls while the note moves)
            to_seen = [seen[i] - t for i, t in inserted.items() if i in seen and i in credited]
            to_credit = [credited[i] - seen[i] for i in inserted if i in seen and i in credited]
            if group is not None:  # the whole run: idle polls, then the notes
                c = group.counters
                lag += (
                    f"; while the notes go in {c.late - idle_late} of {c.polls - idle_polls}"
                    f" (max {c.max_lag * 1e3:.0f} ms)"
                )
                lent += f"; group polls {c.polls}, steps {c.steps}, handed {c.handed}, back {c.handed_back}"
            first_error = errors.messages[0] if errors.messages else "none"
            for device in devices:  # before the emulators go away
                device.Close()
    finally:
        for device in devices:
            device.Close()
        for fd in spare:
            os.close(fd)
    return [
        (f"N={n}: open OK / N", f"{ok} / {n}  ({open_wall:.1f} s wall, {open_cpu:.1f} s CPU)"),
        (f"N={n}: device fds (lowest..highest)", f"{len(fds)} ({fds[0]}..{fds[-1]})" if fds else "-"),
        (f"N={n}: idle CPU, % of one core", f"{100 * idle:.1f}"),
        (f"N={n}: CPU while the notes go in, % of one core", f"{100 * busy:.1f}"),
        (
            f"N={n}: emulators' CPU, % of one core: idle / while the notes go in",
            f"{100 * farm_idle:.1f} / {100 * farm_busy:.1f}",
        ),
        (
            f"N={n}: whole machine busy, % of its {os.cpu_count()} cores: idle / while the notes go in",
            f"{100 * machine_idle:.1f} / {100 * machine_notes:.1f}",
        ),
        (f"N={n}: threads / RSS", f"{threads} / {rss:.0f} MB ({lent})"),
        (f"N={n}: group polls sent > {LATE_POLL * 1e3:.0f} ms after due", lag),
        (
            f"N={n}: late credits (> {limit * 1e3:.0f} ms) / N",
            f"{late} / {n}  (slowest {worst * 1e3:.0f} ms)",
        ),
        (f"N={n}: insertion → first CashEvent, ms: median / p99 / max", _spread(to_seen)),
        (f"N={n}: first CashEvent → credit, ms: median / p99 / max", _spread(to_credit)),
        (f"N={n}: garbage collections while the notes go in", pauses.text()),
        (f"N={n}: first error logged", first_error),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--devices", default="10,100,300,1000", help="comma-separated N to try, in order")
    parser.add_argument("--push-fds", type=int, default=0, help="spare descriptors to open first")
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=0.2, help="poll interval (s)")
    parser.add_argument("--exchange", type=float, default=0.05, help="one exchange, for 'late' (s)")
    parser.add_argument("--emulator-path", help="checkout whose emulator to run (default: this one)")
    parser.add_argument(
        "--farm",
        choices=("lean", "standard"),
        default="lean",
        help="lean: one thread serves a farm process's emulators (default); standard: each its own threads",
    )
    parser.add_argument("--per-farm", type=int, default=250, help="devices per lean farm process")
    parser.add_argument(
        "--farm-nice", type=int, default=0, help="lower the emulator processes' priority by N (POSIX nice)"
    )
    parser.add_argument("--group", action="store_true", help="one PollGroup for every device")
    parser.add_argument("--mechanical", type=float, default=0.0, help="read time = stack time of a note (s)")
    parser.add_argument(
        "--spread", type=float, default=0.0, help="insert the notes one by one over S seconds (0: at once)"
    )
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() once every device is open")
    add_without_fast(parser)
    parser.add_argument("--short", action="store_true", help="a quick run (smoke test)")
    args = parser.parse_args(argv)
    if args.short:
        args.devices, args.idle_seconds = "2", 0.5
    if args.without_fast:
        without_fast()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    errors = FirstErrors()
    logging.getLogger("cashdevice").addHandler(errors)
    for n in (int(x) for x in args.devices.split(",")):
        table(  # one table per N, printed as soon as it is measured
            f"N devices in one process, poll interval {args.interval * 1e3:.0f} ms, push-fds {args.push_fds} "
            f"(CPU = process_time of this process; emulators in other processes, {args.farm} farm"
            f"{f' at nice {args.farm_nice}' if args.farm_nice else ''}"
            f"{', one PollGroup' if args.group else ''}"
            f"{f', notes over {args.spread:g} s' if args.spread > 0 else ', all notes at once'}"
            f"; {backends()})",
            run(n, args, errors),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
