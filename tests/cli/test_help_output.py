"""First-hour CLI: ``python -m cashdevice --help`` is asked for, so it goes to stdout (``| less``,
``| grep``), as every command's own ``--help`` does (argparse); with no command at all the usage is
an error, on stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cashdevice", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_goes_to_stdout(flag: str) -> None:
    out = run(flag)
    assert out.returncode == 0
    assert out.stdout.startswith("usage: python -m cashdevice {demo,") and out.stderr == ""
    assert run("demo", flag).stdout.startswith("usage: python -m cashdevice demo")  # as a command's


def test_no_command_is_an_error_on_stderr() -> None:
    out = run()
    assert out.returncode == 2 and out.stdout == "" and "usage: python -m cashdevice" in out.stderr
