"""Every example script runs against the emulator (``--fast``), and the notebook runs through
nbclient, rendering the rich displays."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = ["kiosk.py", "coin_hopper.py", "bench_test.py", "many_devices.py"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(EXAMPLES.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.pop("CASHDEVICE_PORT", None)
    return env


def test_every_script_is_tested() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py") if p.name != "example_support.py") == sorted(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_runs_against_the_emulator(script: str) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--fast"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "emulator ledger balanced: True" in out.stdout


def test_script_help_offers_port() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "kiosk.py"), "--help"], capture_output=True, text=True, env=_env()
    )
    assert out.returncode == 0 and "--port" in out.stdout


def test_notebook_runs_and_renders_html(monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    for key, value in _env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("CASHDEVICE_PORT", raising=False)
    nb = nbformat.read(EXAMPLES / "notebook.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}
    )
    client.execute()
    html = [
        out["data"]["text/html"]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if "text/html" in out.get("data", {})
    ]
    assert any('<div class="cashdevice">' in h and "<caption>levels</caption>" in h for h in html)
    assert any("<td>Cash event: STORED - Value: 2000 Value2: 0 - CountryCode: EUR</td>" in h for h in html)
    assert any('<div class="cashdevice-ledger">' in h and "<p>balanced</p>" in h for h in html)


def _run(script: str, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
    )


@pytest.mark.parametrize(
    "script,model",
    [("bench_test.py", "NV11"), ("bench_test.py", "smart_payout"), ("kiosk.py", "NV4000")],
)
def test_a_script_runs_with_the_models_it_offers(script: str, model: str) -> None:
    """``SMART_PAYOUT`` (an emulator name) opens with its C# hint, ``DeviceModel.SPECTRAL_DEVICE``; a
    step the model has no command for (Float on an NV11) is skipped, not failed."""
    out = _run(script, "--fast", "--model", model)
    assert out.returncode == 0, out.stdout + out.stderr
    if model == "smart_payout":
        assert "DeviceModel.SPECTRAL_DEVICE) -> OK" in out.stdout
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "args,said",
    [
        (["--model", "NV12"], "argument --model: invalid choice: 'NV12'"),
        (["--model", "SMART_HOPPER"], "argument --model: invalid choice: 'SMART_HOPPER'"),
        (["--address", "abc"], "argument --address: invalid address value: 'abc'"),
        (["--currency", "XYZ"], "XYZ"),
    ],
)
def test_bad_options_are_one_line_errors(args: list[str], said: str) -> None:
    out = _run("bench_test.py", *args)
    assert out.returncode == 2 and said in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_kiosk_says_when_it_cannot_pay_the_change() -> None:
    """800 of change from 5 and 10 EUR notes cannot be paid exactly: DispenseValue's answer is
    reported at once and the script ends 1, instead of waiting a minute for a payout that never
    started."""
    out = _run("kiosk.py", "--fast", "--price", "1200", "--notes", "1000,1000", timeout=60)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "cannot pay the change" in out.stdout and "payout did not finish" not in out.stdout


def test_ctrl_c_ends_a_script_quietly() -> None:
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "kiosk.py"), "--timeout", "60", "--notes", "1000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # the device is open and the script waits for the payment
        if "Please insert notes" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    assert "emulator ledger balanced: True" in out  # the device was closed on the way out
