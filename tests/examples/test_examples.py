"""Every example script runs against the emulator (``--fast``), and the notebook runs through
nbclient, rendering the rich displays."""

from __future__ import annotations

import os
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
