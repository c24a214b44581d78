"""CashDevice: insertion → credit latency and idle CPU, against an emulator in another process.

    python3 benchmarks/credit_latency.py [--notes 40] [--idle-seconds 30] [--group] [--paced]
                                         [--without-fast] [--short]

The emulated SPECTRAL_PAYOUT (benchmarks/emulator_farm.py, pty, unpaced) has zero mechanical
time (read and stack take no time), so what is measured is the host: from the instant the
emulator takes the note (``time.monotonic``, one clock for both processes) to the CashEvent
STORED or STACKED in this process.  Insertions are spread over the poll phase.  Idle CPU is
``time.process_time()`` of this whole process (every thread) over ``--idle-seconds`` of an
open, idle device, as a percentage of one core.  Default poll interval: 200 ms.  ``--group``:
the device is polled by a :class:`cashdevice.PollGroup` while idle; ``--paced``: the emulator
models a 9600 8N2 line both ways (so an exchange takes its real time); ``--without-fast``:
pycryptodome and the Python CRC even where the ``[fast]`` extra is installed.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from typing import Any

from _common import Farm, add_without_fast, backends, cpu, median, percentile, table, without_fast

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel, PollGroup
from cashdevice.enums import CashEventType

CREDITS = (CashEventType.STORED, CashEventType.STACKED)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--notes", type=int, default=40)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=0.2, help="poll interval (s)")
    parser.add_argument("--emulator-path", help="checkout whose emulator to run (default: this one)")
    parser.add_argument("--group", action="store_true", help="a PollGroup polls the idle device")
    parser.add_argument("--paced", action="store_true", help="the emulator paces its line at 9600 8N2")
    add_without_fast(parser)
    parser.add_argument("--short", action="store_true", help="a quick run (smoke test)")
    args = parser.parse_args(argv)
    if args.short:
        args.notes, args.idle_seconds = 3, 0.5
    if args.without_fast:
        without_fast()
    rng = random.Random(1)
    credited: list[float] = []
    arrived = threading.Event()

    def on_cash(sender: Any, e: Any = None, **_: Any) -> None:
        if e is not None and e.eventType in CREDITS:
            credited.append(time.monotonic())
            arrived.set()

    with Farm(1, emulator_path=args.emulator_path, pacing=args.paced) as farm:
        path, address = farm.ports[0]
        device = CashDevice(poll_interval=args.interval, poll_group=PollGroup() if args.group else None)
        device.CashEvent.connect(on_cash)
        try:
            result = device.Open(path, address, DeviceModel.SPECTRAL_PAYOUT)
            if result != CashSystemOpenResult.OK:
                print(f"Open failed: {result.name}", file=sys.stderr)
                return 1
            time.sleep(0.3 if args.short else 1.0)  # settle: the first polls after Open
            wall0, cpu0 = time.monotonic(), cpu()
            threading.Event().wait(args.idle_seconds)
            idle = (cpu() - cpu0) / (time.monotonic() - wall0)
            latencies: list[float] = []
            lost = 0
            for _ in range(args.notes):
                time.sleep(rng.uniform(0.0, args.interval))  # any phase of the poll cycle
                arrived.clear()
                inserted = farm.insert(0, 500).get(0)
                if inserted is None or not arrived.wait(5.0):
                    lost += 1
                    continue
                latencies.append(credited[-1] - inserted)
                time.sleep(0.1)
        finally:
            device.Close()
    ms = [x * 1e3 for x in latencies]
    rows = [
        ("idle CPU, % of one core", f"{100 * idle:.3f}"),
        ("insertion → credit min (ms)", f"{min(ms):.0f}" if ms else "-"),
        ("insertion → credit median (ms)", f"{median(ms):.0f}" if ms else "-"),
        ("insertion → credit p95 (ms)", f"{percentile(ms, 95):.0f}" if ms else "-"),
        ("notes credited / inserted", f"{len(ms)} / {args.notes}"),
    ]
    table(
        f"CashDevice, poll interval {args.interval * 1e3:.0f} ms, zero mechanical time "
        f"(CPU = process_time of this process; emulator in another process; {backends()})",
        rows,
    )
    return 0 if not lost else 1


if __name__ == "__main__":
    sys.exit(main())
