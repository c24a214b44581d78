"""Shared helpers of the benchmarks: the emulator process, CPU and memory readings, tables."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
LINE_BYTES_PER_SECOND = 9600 / 11  # 872.7 B/s: 9600 baud, 8N2 = 11 bits a byte


class Farm:
    """``emulator_farm.py`` in a child process: ``ports`` holds ``(path, address)`` per device."""

    def __init__(
        self,
        count: int = 1,
        *,
        pacing: bool = False,
        model: str = "SPECTRAL_PAYOUT",
        mechanical: float = 0.0,
        emulator_path: str | None = None,
    ) -> None:
        cmd = [
            sys.executable,
            str(HERE / "emulator_farm.py"),
            "--count",
            str(count),
            "--model",
            model,
            "--mechanical",
            str(mechanical),
        ]
        if pacing:
            cmd.append("--pacing")
        if emulator_path:
            cmd += ["--emulator-path", emulator_path]
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # the farm's emulator comes from --emulator-path, not the host's path
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.ports: list[tuple[str, int]] = []
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("PTY "):
                _, path, address = line.split()
                self.ports.append((path, int(address)))
            elif line.startswith("READY"):
                break
        else:
            raise RuntimeError("emulator farm ended before READY")

    def command(self, text: str, replies: int) -> list[str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return [self.proc.stdout.readline().strip() for _ in range(replies)]

    def insert(self, index: int | str, value: int, replies: int = 1) -> dict[int, float]:
        """Insert a note; ``{index: monotonic time of insertion}`` for the devices that took it."""
        out = {}
        for line in self.command(f"insert {index} {value}", replies):
            words = line.split()
            if words and words[0] == "INSERTED":
                out[int(words[1])] = float(words[2])
        return out

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.command("quit", 0)
                self.proc.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Farm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cpu() -> float:
    """CPU seconds (user + system) of this process, every thread: the host side only."""
    return time.process_time()


def rss_mb() -> float:
    """Resident set size now (MB), from /proc when there is one, else the peak."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (2**20 if sys.platform == "darwin" else 2**10)


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(title: str, rows: Sequence[tuple[str, str]]) -> None:
    """Print a two-column table: figure, value."""
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    print("-" * (width + 3 + max(len(v) for _, v in rows)))
    for name, value in rows:
        print(f"{name:<{width}} | {value}")
    sys.stdout.flush()
