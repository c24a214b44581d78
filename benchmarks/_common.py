"""Shared helpers of the benchmarks: the emulator process, CPU and memory readings, tables."""

from __future__ import annotations

import argparse
import os
import resource
import select
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
LINE_BYTES_PER_SECOND = 9600 / 11  # 872.7 B/s: 9600 baud, 8N2 = 11 bits a byte


class Farm:
    """``emulator_farm.py`` in child processes: ``ports`` holds ``(path, address)`` per device.

    ``lean=True`` runs the farms with ``--lean`` (one thread serves all their emulators) and
    splits the devices over processes of at most ``per_process`` each, so that the emulators
    answer as fast as the host asks even for hundreds of devices (unpaced only).  ``nice``
    lowers the farm processes' priority (POSIX): where the emulators and the host share too few
    cores the host has the CPU first, and the emulators' replies wait instead (RESULTS.md, sixth
    pass)."""

    def __init__(
        self,
        count: int = 1,
        *,
        pacing: bool = False,
        model: str = "SPECTRAL_PAYOUT",
        mechanical: float = 0.0,
        emulator_path: str | None = None,
        lean: bool = False,
        per_process: int = 250,
        nice: int = 0,
    ) -> None:
        lean = lean and not pacing
        sizes = [count]
        if lean and count > per_process:
            parts = -(-count // per_process)
            sizes = [count // parts + (1 if i < count % parts else 0) for i in range(parts)]
        self.procs: list[subprocess.Popen[str]] = []
        self.ports: list[tuple[str, int]] = []
        self._owner: list[tuple[int, int]] = []  # per device: (process index, index there)
        try:
            for size in sizes:
                self._start(size, pacing, model, mechanical, emulator_path, lean, nice)
        except BaseException:
            self.close()
            raise
        self.proc = self.procs[0]

    def _start(
        self,
        count: int,
        pacing: bool,
        model: str,
        mechanical: float,
        emulator_path: str | None,
        lean: bool,
        nice: int,
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
        if lean:
            cmd.append("--lean")
        if nice:
            cmd += ["--nice", str(nice)]
        if emulator_path:
            cmd += ["--emulator-path", emulator_path]
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # the farm's emulator comes from --emulator-path, not the host's path
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.procs.append(proc)
        assert proc.stdout is not None
        local = 0
        for line in proc.stdout:
            if line.startswith("PTY "):
                _, path, address = line.split()
                self.ports.append((path, int(address)))
                self._owner.append((len(self.procs) - 1, local))
                local += 1
            elif line.startswith("READY"):
                break
        else:
            raise RuntimeError("emulator farm ended before READY")

    @staticmethod
    def _send(proc: subprocess.Popen[str], text: str) -> None:
        assert proc.stdin is not None
        proc.stdin.write(text + "\n")
        proc.stdin.flush()

    @staticmethod
    def _lines(proc: subprocess.Popen[str], replies: int) -> list[str]:
        assert proc.stdout is not None
        return [proc.stdout.readline().strip() for _ in range(replies)]

    def command(self, text: str, replies: int) -> list[str]:
        """``text`` to the first farm process; its ``replies`` lines."""
        self._send(self.procs[0], text)
        return self._lines(self.procs[0], replies)

    def insert(self, index: int | str, value: int, replies: int = 1) -> dict[int, float]:
        """Insert a note; ``{index: monotonic time of insertion}`` for the devices that took it.
        ``index="all"``: every device, every farm process at once."""
        if index == "all":
            counts = [0] * len(self.procs)
            for proc_index, _ in self._owner:
                counts[proc_index] += 1
            for proc in self.procs:
                self._send(proc, f"insert all {value}")
            lines = []
            offsets = [0] * len(self.procs)
            for i, proc in enumerate(self.procs):
                offsets[i] = sum(counts[:i])
                lines.append((i, self._lines(proc, counts[i])))
        else:
            proc_index, local = self._owner[int(index)]
            offsets = [0] * len(self.procs)
            offsets[proc_index] = int(index) - local
            self._send(self.procs[proc_index], f"insert {local} {value}")
            lines = [(proc_index, self._lines(self.procs[proc_index], replies))]
        out = {}
        for proc_index, texts in lines:
            for line in texts:
                words = line.split()
                if words and words[0] == "INSERTED":
                    out[offsets[proc_index] + int(words[1])] = float(words[2])
        return out

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    self._send(proc, "quit")
                except OSError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def cpu(self) -> float:
        """CPU seconds (user + system) the farm processes have used so far (NaN without /proc):
        what the emulators take from the machine the host runs on."""
        return sum(_proc_cpu(proc.pid) for proc in self.procs)

    def __enter__(self) -> Farm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def add_without_fast(parser: argparse.ArgumentParser) -> None:
    """The ``--without-fast`` option (then call :func:`without_fast`)."""
    parser.add_argument(
        "--without-fast",
        action="store_true",
        help="pycryptodome and the Python CRC even with the [fast] extra",
    )


def without_fast() -> None:
    """Make this process compute as if the ``[fast]`` extra were not installed: pycryptodome for
    eSSP's AES (each cipher built from now on) and the Python CRC.  For side-by-side runs in one
    environment."""
    from cashdevice import ssp

    ssp.AES_BACKEND = "pycryptodome"  # type: ignore[misc]  (read when an ESSPCipher is built)
    ssp.crc16 = ssp.crc16_python  # type: ignore[misc]  (looked up by name on every call)
    ssp.CRC_BACKEND = "python"  # type: ignore[misc]


def backends() -> str:
    """Which AES and CRC this process uses (``ESSPCipher``'s default, ``crc16``)."""
    from cashdevice import ssp

    return f"AES {ssp.AES_BACKEND}, CRC {ssp.CRC_BACKEND}"


def cpu() -> float:
    """CPU seconds (user + system) of this process, every thread: the host side only."""
    return time.process_time()


def _proc_cpu(pid: int) -> float:
    """CPU seconds of process ``pid`` (all its threads) from /proc, NaN where there is none."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, every core (NaN without /proc):
    the difference of two readings, busy ÷ total, is how loaded the machine was between them
    (time the hypervisor gave to other machines, "steal", counts as busy)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return float("nan"), float("nan")
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle, iowait
    total = sum(ticks[:8])  # (guest time is already counted in user)
    hz = os.sysconf("SC_CLK_TCK")
    return (total - idle) / hz, total / hz


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


def synced_raw_port(path: str, address: int) -> tuple[object, int, select.poll]:
    """``path`` opened with pyserial for raw descriptor I/O, the unit at ``address`` SYNCed (its
    next sequence flag is clear): ``(port, fd, poll registered for input)``; close ``port`` after."""
    import serial

    from cashdevice.ssp import encode_packet

    port = serial.Serial(path, 9600, timeout=0)
    fd = port.fileno()
    ready = select.poll()
    ready.register(fd, select.POLLIN)
    os.write(fd, encode_packet(address, True, b"\x11"))  # SYNC
    if ready.poll(1000):
        time.sleep(0.05)  # (the whole SYNC reply, once, before any measurement)
        os.read(fd, 4096)
    return port, fd, ready
