"""Import discipline: events.py uses only cashdevice.ssp + stdlib; the emulator only
cashdevice.ssp, cashdevice.events, cashdevice.commands (the pure command table), its own
modules, stdlib and pyserial -- never the link.  commands.py itself: cashdevice.ssp + stdlib."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import cashdevice

ROOT = Path(cashdevice.__file__).parent
STDLIB = set(getattr(sys, "stdlib_module_names", ()))
pytestmark = pytest.mark.skipif(not STDLIB, reason="sys.stdlib_module_names needs Python 3.10")


def imports(path: Path) -> set[str]:
    """Absolute names of everything ``path`` imports (``from .. import ssp`` -> cashdevice.ssp)."""
    here = path.parent.relative_to(ROOT.parent).parts
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or "" if node.level == 0 else ".".join(here[: len(here) - node.level + 1])
            if node.level and node.module:
                base += "." + node.module
            if node.module is None:
                out.update(f"{base}.{alias.name}" for alias in node.names)
            else:
                out.add(base)
    return out


def test_events_imports():
    for name in imports(ROOT / "events.py"):
        assert name.split(".")[0] in STDLIB or name == "cashdevice.ssp", name


def test_emulator_imports():
    for path in (ROOT / "emulator").glob("*.py"):
        for name in imports(path):
            top = name.split(".")[0]
            ok = (
                top in STDLIB
                or top == "serial"
                or name
                in (
                    "cashdevice.ssp",
                    "cashdevice.enums",
                    "cashdevice.events",
                    "cashdevice.models",
                    "cashdevice.commands",
                    "cashdevice._html",
                )
                or name.startswith("cashdevice.emulator")
            )
            assert ok, f"{path.name} imports {name}"


def test_commands_imports():
    for name in imports(ROOT / "commands.py"):
        assert name.split(".")[0] in STDLIB or name == "cashdevice.ssp", name
