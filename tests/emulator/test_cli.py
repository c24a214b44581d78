"""Smoke tests of ``python -m cashdevice.emulator``."""

from __future__ import annotations

import io
import json
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
    assert "commands:" in lines[2] and "insert" in lines[2]
    assert lines[3] == "refused (unit not accepting)"  # not enabled by a host yet
    status = json.loads(lines[4])
    assert status["model"] == "SPECTRAL_PAYOUT" and status["enabled"] is False
    ledger = json.loads(lines[5])
    assert ledger["balanced"] is True
    assert lines[6] == "cashbox removed" and lines[7] == "jammed"
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
