"""Smoke tests of ``python -m cashdevice.emulator``."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys

from cashdevice.emulator.__main__ import main


def test_main_in_process(capsys):
    commands = io.StringIO("help\ninsert 2000\nstatus\nledger\ncashbox remove\njam\nbogus\nquit\n")
    assert main(["--model", "SPECTRAL_PAYOUT", "--currency", "EUR", "--tcp", "0"], stdin=commands) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("TCP 127.0.0.1:")
    assert lines[1] == "READY SPECTRAL_PAYOUT address 0x00"
    assert lines[2] == "commands:"
    assert any(line.split()[:3] == ["insert", "VALUE", "[CURRENCY]"] for line in lines[3:])
    lines = [line for line in lines[3:] if not line.startswith("  ")]
    assert lines[0] == "refused (unit not accepting)"  # not enabled by a host yet
    status = json.loads(lines[1])
    assert status["model"] == "SPECTRAL_PAYOUT" and status["enabled"] is False
    ledger = json.loads(lines[2])
    assert ledger["balanced"] is True
    assert lines[3] == "cashbox removed" and lines[4] == "jammed"
    assert "unknown command 'bogus'" in err


def test_module_runs_with_pty():
    proc = subprocess.run(
        [sys.executable, "-m", "cashdevice.emulator", "--model", "SMART_HOPPER", "--pty"],
        input="coin 100\ntake\npower-cycle\nquit\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("PTY /")
    assert lines[1] == "READY SMART_HOPPER address 0x10"
    assert lines[2:] == ["refused (unit not accepting)", "taken 0", "power cycled"]


def test_bad_arguments_exit_nonzero():
    proc = subprocess.run(
        [sys.executable, "-m", "cashdevice.emulator", "--model", "NOPE"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode != 0 and "invalid choice" in proc.stderr
    assert main(["--model", "NOTE_VALIDATOR", "--currency", "XXX"], stdin=io.StringIO("")) == 2


def test_insert_without_a_value_gives_a_usage_hint(capsys):
    commands = io.StringIO("insert\ninsert abc\ncoin\nquit\n")
    assert main(["--model", "SPECTRAL_PAYOUT", "--tcp", "0"], stdin=commands) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == ["usage: insert VALUE [CURRENCY]", "usage: insert VALUE [CURRENCY]"]
    assert "usage: coin VALUE [CURRENCY]" in err[2]  # a note model: the error says why, then the usage


def test_pty_keeps_serving_after_stdin_eof_until_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "-m", "cashdevice.emulator", "--model", "NOTE_VALIDATOR", "--pty"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        port = proc.stdout.readline().split(" ", 1)[1].strip()
        assert proc.stdout.readline().startswith("READY")
        assert "serving until SIGTERM" in proc.stderr.readline()
        assert proc.poll() is None
        from cashdevice import CashDevice

        with CashDevice(timeout=0.3) as device:  # still answering after stdin ended
            assert device.Open(port).name == "OK"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
