"""SSP exchanges: rate, host CPU per exchange, and line efficiency at 9600 8N2.

    python3 benchmarks/exchanges.py [--count 2000] [--paced-count 300] [--without-fast] [--short]

The emulator runs in another process (benchmarks/emulator_farm.py on a pty), so only the host's
CPU is counted: ``time.process_time()`` of this process (all threads), which a busy machine
disturbs far less than wall time.  One run prints:

* unpaced (as fast as the pty goes): exchanges per second and host CPU µs per exchange for a
  plain POLL, an encrypted POLL and an encrypted GET ALL LEVELS (SSPLink.transact);
* the floor: the same plain POLLs from a bare loop of the four system calls an exchange needs
  (``poll(0)`` for stale bytes, ``os.write``, ``poll()``, ``os.read``; no parser, no CRC check,
  no library) on the same port, measured in the same run, so that each row's ratio to it shows
  what the library adds on this machine at this moment (the floor moves with the machine's load
  by as much as the rows do);
* paced (the emulator models 9600 8N2 both ways, 11 bits a byte, 3 ms turnaround): line
  efficiency = wire bytes both ways ÷ (elapsed x 872.7 B/s), and the same against the model's
  own ceiling (bytes at 872.7 B/s plus one turnaround per exchange).

Run it with ``PYTHONPATH=<checkout>`` to measure that checkout's host library.  With the ``[fast]``
extra installed, ``--without-fast`` measures pycryptodome's AES and the Python CRC instead, in the
same environment (the title says which are in use).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from _common import (
    LINE_BYTES_PER_SECOND,
    Farm,
    add_without_fast,
    backends,
    cpu,
    synced_raw_port,
    table,
    without_fast,
)

from cashdevice.link import SSPLink
from cashdevice.ssp import encode_packet

POLL = b"\x07"
GET_ALL_LEVELS = b"\x22"
TURNAROUND = 0.003


def measure(link: SSPLink, address: int, command: bytes, encrypt: bool, count: int) -> tuple[float, float]:
    """(exchanges per second, host CPU µs per exchange) over ``count`` exchanges."""
    for _ in range(max(5, count // 20)):  # warm up
        link.transact(address, command, encrypt=encrypt)
    wall0, cpu0 = time.perf_counter(), cpu()
    for _ in range(count):
        link.transact(address, command, encrypt=encrypt)
    wall, used = time.perf_counter() - wall0, cpu() - cpu0
    return count / wall, used / count * 1e6


def floor(path: str, address: int, count: int) -> float:
    """Host CPU µs per plain POLL exchange of a bare loop: ``poll(0)``, ``os.write``, ``poll()``,
    ``os.read`` (the link's four system calls for a reply that arrives whole), nothing else."""
    port, fd, ready = synced_raw_port(path, address)
    try:
        polls = [encode_packet(address, flag, POLL) for flag in (False, True)]

        def run(n: int) -> None:
            flag = 0
            for _ in range(n):
                if ready.poll(0):
                    os.read(fd, 4096)
                os.write(fd, polls[flag])
                flag ^= 1
                if not ready.poll(1000):
                    raise RuntimeError("the emulator did not answer the bare loop's POLL")
                os.read(fd, 4096)

        run(max(5, count // 20))  # warm up
        cpu0 = cpu()
        run(count)
        return (cpu() - cpu0) / count * 1e6
    finally:
        port.close()


def efficiency(
    link: SSPLink, address: int, command: bytes, encrypt: bool, count: int, wire: list[int]
) -> tuple[float, float]:
    """(bytes ÷ (elapsed x 872.7), fraction of the two-way line model) over ``count`` exchanges."""
    link.transact(address, command, encrypt=encrypt)
    wire[0] = 0
    start = time.perf_counter()
    for _ in range(count):
        link.transact(address, command, encrypt=encrypt)
    elapsed = time.perf_counter() - start
    line = wire[0] / LINE_BYTES_PER_SECOND
    return line / elapsed, (line + count * TURNAROUND) / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=2000, help="unpaced exchanges per row")
    parser.add_argument("--paced-count", type=int, default=300, help="paced exchanges per row")
    parser.add_argument("--emulator-path", help="checkout whose emulator to run (default: this one)")
    add_without_fast(parser)
    parser.add_argument("--short", action="store_true", help="a quick run (smoke test)")
    args = parser.parse_args(argv)
    if args.short:
        args.count, args.paced_count = 60, 10
    if args.without_fast:
        without_fast()
    rows: list[tuple[str, str]] = []
    wire = [0]

    def trace(sending: bool, data: bytes) -> None:
        wire[0] += len(data)

    with Farm(1, emulator_path=args.emulator_path) as farm:
        path, address = farm.ports[0]
        link = SSPLink(path)  # no trace hook here: it would cost every exchange a call (and a
        # received frame's re-encoding); only the paced rows below count wire bytes
        try:
            link.sync(address)
            rate, us = measure(link, address, POLL, False, args.count)
            rows += [
                ("plain POLL: exchanges/s", f"{rate:.0f}"),
                ("plain POLL: host CPU µs/exchange", f"{us:.1f}"),
            ]
            link.negotiate_key(address)
            rate, us = measure(link, address, POLL, True, args.count)
            rows += [
                ("encrypted POLL: exchanges/s", f"{rate:.0f}"),
                ("encrypted POLL: host CPU µs/exchange", f"{us:.1f}"),
            ]
            rate, us = measure(link, address, GET_ALL_LEVELS, True, args.count)
            rows += [
                ("encrypted GET ALL LEVELS: exchanges/s", f"{rate:.0f}"),
                ("encrypted GET ALL LEVELS: host CPU µs/exchange", f"{us:.1f}"),
            ]
        finally:
            link.close()
        bare = floor(path, address, args.count)
        rows = [
            (name, f"{value} ({float(value) / bare:.2f} x the floor)" if "µs" in name else value)
            for name, value in rows
        ]
        rows.insert(0, ("floor: bare plain POLL loop, host CPU µs/exchange", f"{bare:.1f}"))
    with Farm(1, pacing=True, emulator_path=args.emulator_path) as farm:
        path, address = farm.ports[0]
        link = SSPLink(path, trace=trace)
        try:
            link.sync(address)
            raw, model = efficiency(link, address, POLL, False, args.paced_count, wire)
            rows += [("9600 8N2 plain POLL: line efficiency", f"{raw:.3f} ({model:.3f} of the line model)")]
            link.negotiate_key(address)
            raw, model = efficiency(link, address, POLL, True, args.paced_count, wire)
            rows += [
                ("9600 8N2 encrypted POLL: line efficiency", f"{raw:.3f} ({model:.3f} of the line model)")
            ]
        finally:
            link.close()
    table(
        f"SSP exchanges (host CPU = process_time of this process; emulator in another process; {backends()})",
        rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
