"""Smoke tests of the command-line entry points (run as users run them)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cashdevice", *args], capture_output=True, text=True, timeout=timeout
    )


def test_demo_runs_end_to_end() -> None:
    out = run("demo", "--fast", "--model", "spectral_payout", "--notes", "500,2000")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("Open('cashdevice://") for line in lines)
    assert "-> CashSystemOpenResult.OK" in lines
    assert "DeviceStateChangedEvent: Device state changed: CONNECTED" in lines
    assert "CashEvent: Cash event: ESCROW - Value: 500 Value2: 0 - CountryCode: EUR" in lines
    assert "CashEvent: Cash event: STORED - Value: 2000 Value2: 0 - CountryCode: EUR" in lines
    assert "stored value: 2500" in lines
    starts = ("Open(", "-> ", "deviceModel=", "currencyAssignment:", "-- ", "stored value:")
    for line in lines:  # printed under a lock: never two lines glued together
        assert line.startswith((*starts, "DeviceStateChangedEvent: ", "CashEvent: ")), line
        assert line.count("Event: ") <= 1


def test_demo_rejects_bad_arguments() -> None:
    out = run("demo", "--notes", "five")
    assert out.returncode == 2 and "--notes" in out.stderr


@pytest.mark.parametrize("args,code", [((), 2), (("--help",), 0)])
def test_usage(args: tuple[str, ...], code: int) -> None:
    out = run(*args)
    assert out.returncode == code
    from cashdevice.__main__ import COMMANDS

    text = out.stdout if args else out.stderr  # --help asked for: stdout; no command: an error
    assert f"usage: python -m cashdevice {{{','.join(COMMANDS)}}}" in text
    assert all(name in text for name in ("demo", "ports", "run", "decode", "download", "serve"))


def test_unknown_command_names_itself() -> None:
    out = run("nonsense")
    assert out.returncode == 2
    assert "unknown command 'nonsense'" in out.stderr


def test_version() -> None:
    from cashdevice import __version__

    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"cashdevice {__version__}"


def test_download_help() -> None:
    out = run("download", "--help")
    assert out.returncode == 0 and "--port" in out.stdout
