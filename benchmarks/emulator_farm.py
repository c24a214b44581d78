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

``--lean`` (unpaced only) serves every emulator from one thread: one ``poll()`` over all the
pty masters, each command fed to the emulator's engine and its reply written at once.  An
emulator of its own runs two threads (its engine ticks every 10 ms, its pty reader wakes every
50 ms: 120 wake-ups a second even when idle); hundreds of them in one process keep a core busy
and answer late, so a benchmark of many devices would measure the farm, not the host.  The
lean farm ticks a device only when a command arrives, which is when the host can see it.
"""

from __future__ import annotations

import argparse
import os
import resource
import select
import sys
import threading
import time
import tty
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--model", default="SPECTRAL_PAYOUT")
    parser.add_argument("--pacing", action="store_true", help="model the 9600 8N2 line")
    parser.add_argument("--turnaround", type=float, default=0.003)
    parser.add_argument("--mechanical", type=float, default=0.0, help="read and stack time (s)")
    parser.add_argument("--emulator-path", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--lean", action="store_true", help="serve every emulator from one thread")
    parser.add_argument("--nice", type=int, default=0, help="lower this process's priority by N (POSIX)")
    args = parser.parse_args(argv)
    if args.nice and hasattr(os, "nice"):
        os.nice(args.nice)
    sys.path.insert(0, args.emulator_path)
    from cashdevice.emulator import Emulator

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    emulators = []
    lean = _Lean() if args.lean and not args.pacing else None
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
            path = lean.add(emu) if lean is not None else emu.start_pty()
            print(f"PTY {path} {emu.address}", flush=True)
        if lean is not None:
            lean.start()
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
        if lean is not None:
            lean.stop()
        for emu in emulators:
            emu.stop()
    return 0


class _Lean:
    """Every emulator of the farm on one thread (``--lean``): a pty per emulator, one ``poll()``."""

    def __init__(self) -> None:
        self.poller = select.poll()
        self.by_fd: dict[int, Any] = {}
        self.fds: list[int] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.serve, name="lean-farm", daemon=True)

    def add(self, emu: Any) -> str:
        master, slave = os.openpty()
        tty.setraw(slave)  # the slave stays open here, as the emulator's own pty keeps it
        os.set_blocking(master, False)
        self.by_fd[master] = emu
        self.fds += [master, slave]
        self.poller.register(master, select.POLLIN)
        return os.ttyname(slave)

    def start(self) -> None:
        self.thread.start()

    def serve(self) -> None:
        while not self.done.is_set():
            for fd, _ in self.poller.poll(100):
                emu = self.by_fd[fd]
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    continue  # BlockingIOError, or EIO while the host has the port closed
                with emu._lock:
                    if not emu.powered:
                        continue
                    device = emu.device
                    device.tick(device.clock())
                    replies = emu.engine.feed(chunk)
                    emu.exchanges += len(replies)
                    device.tick(device.clock())
                for wire in replies:
                    try:
                        os.write(fd, wire)
                    except OSError:
                        pass  # nobody reading: the bytes are lost, as on a wire

    def stop(self) -> None:
        self.done.set()
        if self.thread.is_alive():
            self.thread.join(5)
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass


if __name__ == "__main__":
    sys.exit(main())
