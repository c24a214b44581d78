"""The field CLI: demo's fixes, ports, run (against the emulator's pty) and decode (of a spy://
trace and of the raw-packet log, both recorded from the emulator)."""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from serial.tools.list_ports_common import ListPortInfo
from support import FAST

from cashdevice import CashDevice, CashEventType
from cashdevice.decode_cli import Decoder, trace_chunks
from cashdevice.emulator import Emulator
from cashdevice.ports_cli import report, serial_ports


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cashdevice", *args], capture_output=True, text=True, timeout=timeout
    )


# ------------------------------------------------------------------------------------------ demo


@pytest.mark.parametrize("model", ["smart_hopper", "SMART_COIN_SYSTEM"])
def test_demo_coin_models_insert_coins(model: str) -> None:
    out = cli("demo", "--fast", "--model", model, "--notes", "100,200")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "-- customer inserts a 1.00 EUR coin (100)" in lines
    assert "CashEvent: Cash event: COIN_CREDIT - Value: 200 Value2: 0 - CountryCode: EUR" in lines
    assert "stored value: 300" in lines


def test_demo_model_choices_and_bad_values() -> None:
    out = cli("demo", "--help")
    assert "SMART_COIN_SYSTEM" in out.stdout and "any case" in out.stdout
    out = cli("demo", "--model", "nope")
    assert out.returncode == 2 and "invalid choice: 'NOPE'" in out.stderr
    out = cli("demo", "--currency", "XYZ")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "--currency XYZ: no notes dataset for currency 'XYZ' (have EUR" in out.stderr
    started = time.monotonic()
    out = cli("demo", "--notes", "700")
    assert out.returncode == 2 and "700 is not a note of EUR" in out.stderr
    assert time.monotonic() - started < 20


# ----------------------------------------------------------------------------------------- ports


def test_ports_marks_itl_devices() -> None:
    itl = ListPortInfo("/dev/ttyACM0")
    itl.vid, itl.pid, itl.product, itl.serial_number = 0x191C, 0x4104, "NV200 Spectral", "ABC"
    other = ListPortInfo("/dev/ttyS0")
    ports = serial_ports([other, itl])
    assert report(ports) == [
        "ITL /dev/ttyACM0         191C:4104  NV200 Spectral  serial ABC",
        "    /dev/ttyS0           -          n/a",
        "2 port(s), 1 ITL device(s)",
    ]
    assert report(ports, itl_only=True)[0].startswith("ITL /dev/ttyACM0")
    assert '"VendorId": 6428' in report(ports, as_json=True)[0]  # GetConnectedUSBDevices fields
    out = cli("ports")
    assert out.returncode == 0
    last = out.stdout.strip().splitlines()[-1]
    assert last.endswith("ITL device(s)") or last == "no serial ports found"


# ------------------------------------------------------------------------------------------- run


class Lines:
    """A subprocess's stdout lines, waited for with deadlines."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.seen: list[str] = []
        self._q: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._q.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.seen):
            self.seen.append(self._q.get(timeout=max(0.01, deadline - time.monotonic())))

    def join(self) -> None:
        self._thread.join(10)
        while not self._q.empty():
            self.seen.append(self._q.get())


@pytest.fixture
def pty_emulator() -> Iterator[tuple[Emulator, str]]:
    emu = Emulator("SPECTRAL_PAYOUT", currency="EUR", **FAST)
    try:
        yield emu, emu.start_pty()
    finally:
        emu.stop()


@contextmanager
def running(*args: str) -> Iterator[tuple[subprocess.Popen[str], Lines]]:
    """``python -m cashdevice ARGS`` with its stdout read by :class:`Lines`; killed if still running
    when the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cashdevice", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield proc, Lines(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _ended(proc: subprocess.Popen[str], lines: Lines, timeout: float) -> str:
    """Its exit status checked by the caller: wait for the end, collect stdout, return stderr."""
    proc.wait(timeout=timeout)
    lines.join()
    assert proc.stderr is not None
    return proc.stderr.read()


def test_run_prints_events_until_sigterm_then_closes(pty_emulator: tuple[Emulator, str]) -> None:
    emu, port = pty_emulator
    proc = subprocess.Popen(
        [sys.executable, "-m", "cashdevice", "run", port, "--model", "spectral_payout"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = Lines(proc)
        lines.wait_for("running; Ctrl-C or SIGTERM stops")
        assert emu.insert_note(2000, wait=10)
        lines.wait_for("CashEvent: Cash event: STORED - Value: 2000 Value2: 0 - CountryCode: EUR")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        lines.join()
        assert lines.seen[-2:] == ["DeviceStateChangedEvent: Device state changed: NOT_CONNECTED", "closed"]
        assert not emu.enabled  # DISABLE sent on the way out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_run_reports_a_failed_open() -> None:
    out = cli("run", "/nonexistent/tty", "--model", "NV11")
    assert out.returncode == 1 and "-> CashSystemOpenResult.PORT_ERROR" in out.stdout


# ---------------------------------------------------------------------------------------- decode


def test_decode_a_spy_trace(pty_emulator: tuple[Emulator, str], tmp_path: Path) -> None:
    emu, port = pty_emulator
    trace = tmp_path / "trace.txt"
    stored = threading.Event()
    with CashDevice(poll_interval=0.05, timeout=0.5) as device:
        device.CashEvent.connect(lambda s, e: stored.set() if e.eventType == CashEventType.STORED else None)
        assert device.Open(f"spy://{port}?file={trace}", 0).name == "OK"
        assert emu.insert_note(500, wait=10) and stored.wait(10)
        key = emu.engine.key
    assert key is not None
    plain = cli("decode", str(trace))
    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.splitlines()
    assert lines[:2] == ["-> 00 seq=1 SYNC", "<- 00 seq=1 OK"]
    assert lines[2].startswith("-> 00 seq=0 SET_GENERATOR ")
    assert any(line.endswith("encrypted (16 bytes)") for line in lines)
    assert not any("POLL" in line or "CREDIT" in line for line in lines)  # encrypted stays hidden
    keyed = cli("decode", str(trace), "--key", key.hex()).stdout.splitlines()
    assert len(keyed) == len(lines)
    assert any(line.endswith("HOST_PROTOCOL_VERSION 08") for line in keyed)
    assert any(" OK CREDIT channel 1" in line for line in keyed)
    assert any(line.endswith("POLL_WITH_ACK") for line in keyed)


def test_decode_the_raw_packet_log(caplog: pytest.LogCaptureFixture) -> None:
    emu = Emulator("NOTE_VALIDATOR", currency="EUR", enforce_encryption=False, **FAST)
    try:
        with caplog.at_level(logging.DEBUG, logger="cashdevice"), CashDevice(poll_interval=0.05) as device:
            assert device.Open(emu.url, 0, logRawPackets=True).name == "OK"
    finally:
        emu.stop()
    raw = [r.getMessage() for r in caplog.records if r.name.endswith(".raw")]
    assert raw, "no raw-packet log lines"
    decoder = Decoder()
    out = [line for d, chunk in trace_chunks(raw) for line in decoder.feed(d, chunk)]
    assert out[:2] == ["-> 00 seq=1 SYNC", "<- 00 seq=1 OK"]


# ------------------------------------------------------------------- first-hour rough edges


def test_run_says_why_open_failed_on_stderr() -> None:
    out = cli("run", "/nonexistent/tty", "--model", "NV11")
    assert out.returncode == 1 and "-> CashSystemOpenResult.PORT_ERROR" in out.stdout
    assert "ERROR Open(/nonexistent/tty): cannot open" in out.stderr and "No such file" in out.stderr


@pytest.mark.parametrize(
    "args,said",
    [
        (["--address", "abc"], "argument --address: invalid address value: 'abc'"),
        (["--key", "xyz"], "argument --key: invalid hex key value: 'xyz'"),
    ],
)
def test_run_names_a_bad_option(args: list[str], said: str) -> None:
    out = cli("run", "/nonexistent/tty", "--model", "NV11", *args)
    assert out.returncode == 2 and said in out.stderr


def test_run_log_raw_shows_the_wire_on_stderr(pty_emulator: tuple[Emulator, str]) -> None:
    _, port = pty_emulator
    with running("run", port, "--model", "spectral_payout", "--log-raw") as (proc, lines):
        lines.wait_for("running; Ctrl-C or SIGTERM stops")
        proc.send_signal(signal.SIGTERM)
        err = _ended(proc, lines, 20)
        assert proc.returncode == 0
        assert "DEBUG -> 00 SYNC [7f 80 01 11 65 82]" in err.splitlines()


def test_ctrl_c_while_run_opens_says_so_and_stops_once_open_returns(
    pty_emulator: tuple[Emulator, str],
) -> None:
    """A unit without power: Open keeps trying.  The first Ctrl-C says the command stops once Open
    returns (it was ignored); the unit then powers up, Open completes, and the command closes it
    (DISABLE) and ends 130 without ever running."""
    emu, port = pty_emulator
    emu.power_off()
    with running("run", port, "--model", "spectral_payout") as (proc, lines):
        lines.wait_for("DeviceStateChangedEvent: Device state changed: CONNECTING")
        proc.send_signal(signal.SIGINT)
        emu.power_on()
        err = _ended(proc, lines, 60)
        assert proc.returncode == 130
        assert "stopping once Open returns" in err and "Traceback" not in err
        assert "-> CashSystemOpenResult.OK" in lines.seen
        assert "stopped before the device was running" in lines.seen and lines.seen[-1] == "closed"
        assert "running; Ctrl-C or SIGTERM stops" not in lines.seen
        assert not emu.enabled  # DISABLE sent on the way out


def test_ctrl_c_in_demo_ends_quietly() -> None:
    with running("demo", "--notes", "500,500,500,500,500,500") as (proc, lines):
        lines.wait_for("-- customer inserts a 5.00 EUR note (500)")
        proc.send_signal(signal.SIGINT)
        err = _ended(proc, lines, 30)
        assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err


def test_a_closed_pipe_ends_a_command_quietly(tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    trace.write_text("-> 7f 80 01 11 65 82\n<- 7f 80 01 f0 23 80\n" * 20000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cashdevice", "decode", str(trace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == b"-> 00 seq=1 SYNC\n"
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read()
    assert proc.wait(timeout=30) == 1 and err == b"", err


def test_a_command_missing_its_extra_says_what_to_install(tmp_path: Path) -> None:
    """``serve`` without the [rest] extra: one line naming it, not a ModuleNotFoundError."""
    blocker = tmp_path / "fastapi"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ModuleNotFoundError('no fastapi here', name='fastapi')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    out = subprocess.run(
        [sys.executable, "-m", "cashdevice", "serve"], capture_output=True, text=True, timeout=60, env=env
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "needs fastapi, which is not installed (the [rest] extra" in out.stderr


def test_decode_shows_the_plaintext_a_decrypted_log_named(tmp_path: Path) -> None:
    """All sessions are encrypted, and keys are never logged: a raw-packet log written with
    ``log_decrypted`` names each plaintext, and decode shows those names instead of
    ``encrypted (16 bytes)`` (it threw them away)."""
    emu = Emulator("SPECTRAL_PAYOUT", currency="EUR", **FAST)
    log_file = tmp_path / "device.log"
    stored = threading.Event()
    try:
        with CashDevice(poll_interval=0.05) as device:
            device.log_decrypted = True
            device.CashEvent.connect(
                lambda s, e: stored.set() if e.eventType == CashEventType.STORED else None
            )
            assert device.Open(emu.url, 0, logFilePath=str(log_file), logRawPackets=True).name == "OK"
            assert emu.insert_note(500, wait=10) and stored.wait(10)
    finally:
        emu.stop()
    out = cli("decode", str(log_file))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(
        line.startswith("-> 00 seq=") and "encrypted eCOUNT=" in line and line.endswith("POLL_WITH_ACK")
        for line in lines
    )
    assert any("encrypted eCOUNT=" in line and " OK CREDIT channel 1" in line for line in lines)
    assert not any(line.endswith("encrypted (16 bytes)") for line in lines)
