"""Measure CashDevice.Open against the in-process emulator and the CPU its poll thread uses idle.

    python3 benchmarks/cash_device_idle.py [--seconds 30] [--opens 20] [--model SPECTRAL_PAYOUT] [--short]

Open: mean wall time over ``--opens`` fresh devices (SYNC, key exchange, protocol, setup, unit
information, inhibits, routes, levels, enable payout, first poll, enable).  Idle: CPU time of the
poll thread alone (its own thread clock) while it polls an idle device every 200 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel
from cashdevice.emulator import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--opens", type=int, default=20)
    parser.add_argument("--model", default="SPECTRAL_PAYOUT")
    parser.add_argument("--short", action="store_true", help="a quick run (smoke test)")
    args = parser.parse_args(argv)
    if args.short:
        args.seconds, args.opens = 0.5, 2
    hint = DeviceModel.__members__.get(args.model, DeviceModel.NOTE_VALIDATOR)
    emu = Emulator(args.model)
    try:
        times = []
        for _ in range(args.opens):
            device = CashDevice()
            start = time.perf_counter()
            result = device.Open(emu.url, emu.address, hint)
            times.append(time.perf_counter() - start)
            device.Close()
            if result != CashSystemOpenResult.OK:
                print(f"Open failed: {result.name}", file=sys.stderr)
                return 1
        print(
            f"Open ({args.model}, in-process): mean {statistics.mean(times) * 1e3:.1f} ms, "
            f"min {min(times) * 1e3:.1f} ms, max {max(times) * 1e3:.1f} ms over {len(times)}"
        )
        device = CashDevice()
        device.Open(emu.url, emu.address, hint)
        thread = device._thread
        assert thread is not None and thread.ident is not None
        clock = time.pthread_getcpuclockid(thread.ident)
        cpu0, wall0 = time.clock_gettime(clock), time.monotonic()
        threading.Event().wait(args.seconds)  # the measurement window itself
        cpu = time.clock_gettime(clock) - cpu0
        wall = time.monotonic() - wall0
        polls = device._link.counters.transactions if device._link else 0
        device.Close()
        print(
            f"idle poll thread: {cpu * 1e3:.1f} ms CPU over {wall:.1f} s = "
            f"{100 * cpu / wall:.3f} % of one core ({polls} transactions, "
            f"poll interval {device.poll_interval * 1e3:.0f} ms)"
        )
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
