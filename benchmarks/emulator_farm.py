"""Emulated devices in a process of their own, for the benchmarks (their CPU is not the host's).

    python3 benchmarks/emulator_farm.py --count 10 [--model SPECTRAL_PAYOUT] [--pacing] [--mechanical 0]

Starts ``--count`` emulators, each on its own pty, prints one ``PTY <path> <address>`` line per
device, then ``READY``, and takes commands on stdin, one a line:

* ``insert <index|all> <value>``: insert a note; prints ``INSERTED <index> <monotonic time>`` per
  device (``time.monotonic`` is the same clock in every process on Linux and macOS);
* ``exchanges``: prints ``EXCHANGES <total replies sent by all emulators>``;
* ``quit`` (or end of input): stops every emulator.

``--emulator-path`` puts another checkout first on ``sys.path`` (to run an older emulator);
by default the emulator is the one of the checkout this script lives in.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--model", default="SPECTRAL_PAYOUT")
    parser.add_argument("--pacing", action="store_true", help="model the 9600 8N2 line")
    parser.add_argument("--turnaround", type=float, default=0.003)
    parser.add_argument("--mechanical", type=float, default=0.0, help="read and stack time (s)")
    parser.add_argument("--emulator-path", default=str(Path(__file__).resolve().parents[1]))
    args = parser.parse_args(argv)
    sys.path.insert(0, args.emulator_path)
    from cashdevice.emulator import Emulator

    emulators = []
    try:
        for _ in range(args.count):
            emu = Emulator(
                args.model,
                read_time=args.mechanical,
                stack_time=args.mechanical,
                pacing=args.pacing,
                turnaround=args.turnaround,
            )
            emulators.append(emu)
            print(f"PTY {emu.start_pty()} {emu.address}", flush=True)
        print("READY", flush=True)
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "quit":
                break
            if words[0] == "exchanges":
                print(f"EXCHANGES {sum(e.exchanges for e in emulators)}", flush=True)
            elif words[0] == "insert":
                which = range(len(emulators)) if words[1] == "all" else [int(words[1])]
                value = int(words[2])
                for i in which:
                    ok = emulators[i].insert_note(value)
                    print(f"INSERTED {i} {time.monotonic():.6f}" if ok else f"REFUSED {i}", flush=True)
    finally:
        for emu in emulators:
            emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
