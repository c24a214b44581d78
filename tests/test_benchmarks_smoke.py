"""Every benchmark script runs in --short mode and prints its table (no timing is asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import cashdevice

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
SCRIPTS: dict[tuple[str, ...], str | tuple[str, ...]] = {
    ("exchanges.py",): ("SSP exchanges", "floor: bare plain POLL loop", "x the floor)"),
    ("exchanges.py", "--without-fast"): "AES pycryptodome, CRC python)",
    ("credit_latency.py",): "insertion → credit median",
    ("many_devices.py",): ("N=2: late credits", "N=2: emulators' CPU", "N=2: whole machine busy"),
    ("many_devices.py", "--group"): ("(2 lent when idle; group polls", "N=2: group polls sent > 20 ms"),
    ("cash_device_idle.py",): "idle poll thread",
    ("cash_device_idle.py", "--pty"): "idle poll thread (pty)",
    ("cash_device_idle.py", "--group"): "idle group + poll threads (pty)",
    ("primitives.py",): "PacketParser.feed",
    ("bare_poller.py",): "Bare poller",
    ("primitives.py", "--cold"): "right after a 10 ms sleep",
}


@pytest.mark.timeout(60)
def test_every_benchmark_runs_short() -> None:
    env = dict(
        os.environ, PYTHONPATH=str(Path(cashdevice.__file__).resolve().parents[1]), PYTHONIOENCODING="utf-8"
    )
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(BENCHMARKS / name[0]), *name[1:], "--short"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=ROOT,
        )
        for name in SCRIPTS
    }  # side by side: the whole test stays well under 15 s
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=55)
        text = out.decode("utf-8", "replace")
        assert proc.returncode == 0, f"{name} failed:\n{text}\n{err.decode('utf-8', 'replace')}"
        expected = SCRIPTS[name]
        for line in (expected,) if isinstance(expected, str) else expected:
            assert line in text, f"{name} printed no {line!r}:\n{text}"
