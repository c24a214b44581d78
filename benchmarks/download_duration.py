"""Measure a realistic-size firmware download (10 kB RAM + 300 kB data) into the paced download slave.

    python3 benchmarks/download_duration.py [--baud 38400 --baud 115200] [--no-pace]

The slave (tests/download/download_slave.py) models the line at 11 bits per byte (8N2); the host uses
the manual's pauses (0.5 s after the baud change, 2.5 s for the RAM code).  Prints one row per rate:
measured duration, the line-rate minimum of the bytes, the mandated pauses and what is left (overhead).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "download"))

from duration import measure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--baud", type=int, action="append", help="header download rate (repeatable)")
    parser.add_argument("--no-pace", action="store_true", help="no line model: as fast as the pty goes")
    args = parser.parse_args(argv)
    ok = True
    for baud in args.baud or [38400, 115200]:
        m = measure(baud, pace=not args.no_pace)
        print(m.row(), flush=True)
        ok = ok and m.succeeded
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
