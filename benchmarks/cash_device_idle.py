"""Measure CashDevice.Open against the in-process emulator and the CPU its poll thread uses idle.

    python3 benchmarks/cash_device_idle.py [--seconds 30] [--opens 20] [--model SPECTRAL_PAYOUT] [--group]
                                           [--pty] [--without-fast] [--short]

Open: mean wall time over ``--opens`` fresh devices (SYNC, key exchange, protocol, setup, unit
information, inhibits, routes, levels, enable payout, first poll, enable).  Idle: CPU time of the
poll thread alone (its own thread clock) while it polls an idle device every 200 ms.  With
``--pty`` the idle device is opened over a pty: the descriptor path a real serial port takes (the
in-process transport's own code runs in the poll thread and counts).  With ``--group`` the idle
device is opened over a pty with a :class:`cashdevice.PollGroup` (which needs a descriptor), and
the CPU is that of the group's thread plus the poll thread's.  ``--without-fast``: pycryptodome and
the Python CRC even where the ``[fast]`` extra is installed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

from _common import add_without_fast, backends, without_fast

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel, PollGroup
from cashdevice.emulator import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--opens", type=int, default=20)
    parser.add_argument("--model", default="SPECTRAL_PAYOUT")
    parser.add_argument("--group", action="store_true", help="idle over a pty, polled by a PollGroup")
    parser.add_argument(
        "--pty", action="store_true", help="idle over a pty (the descriptor path a serial port takes)"
    )
    add_without_fast(parser)
    parser.add_argument("--short", action="store_true", help="a quick run (smoke test)")
    args = parser.parse_args(argv)
    if args.short:
        args.seconds, args.opens = 0.5, 2
    if args.without_fast:
        without_fast()
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
        group = PollGroup() if args.group else None
        device = CashDevice(poll_group=group)
        device.Open(emu.start_pty() if group or args.pty else emu.url, emu.address, hint)
        if group:
            threading.Event().wait(1.0)  # lent to the group after its first quiet turn
        threads = [device._thread, group._thread if group else None]
        clocks = [time.pthread_getcpuclockid(t.ident) for t in threads if t is not None and t.ident]
        cpu0, wall0 = sum(map(time.clock_gettime, clocks)), time.monotonic()
        threading.Event().wait(args.seconds)  # the measurement window itself
        cpu = sum(map(time.clock_gettime, clocks)) - cpu0
        wall = time.monotonic() - wall0
        polls = device._link.counters.transactions if device._link else 0
        device.Close()
        print(
            f"idle {'group + poll threads' if group else 'poll thread'}"
            f"{' (pty)' if group or args.pty else ' (in-process transport)'}: "
            f"{cpu * 1e3:.1f} ms CPU over {wall:.1f} s = "
            f"{100 * cpu / wall:.3f} % of one core ({polls} transactions, "
            f"poll interval {device.poll_interval * 1e3:.0f} ms; {backends()})"
        )
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
