"""The one-way doors between cashdevice's rooms, checked by parsing every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cashdevice"

# module -> the cashdevice modules it may import (besides itself)
PURE = {
    "_html",
    "ssp",
    "enums",
    "records",
    "variables",
    "events",
    "models",
    "replies",
    "commands",
    "firmware_file",
}
ALLOWED: dict[str, set[str]] = {
    "_html": set(),
    "ssp": set(),
    "enums": set(),
    "records": {"enums"},
    "variables": {"enums", "records"},
    "events": {"ssp"},
    "models": {"enums", "events"},
    "replies": {"models"},
    "commands": {"ssp"},
    "firmware_file": {"ssp"},
    "link": {"ssp"},
}


def cashdevice_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.startswith("cashdevice"):
                parts = node.module.split(".")
                found.add(parts[1] if len(parts) > 1 else "")
            elif node.level:
                package_parts = path.parent.relative_to(PACKAGE).parts
                base = package_parts[: len(package_parts) - (node.level - 1)]
                parts = [*base, *(node.module.split(".") if node.module else [])]
                if parts:
                    found.add(parts[0])
                else:  # "from . import x" at the package top
                    found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("cashdevice."):
                    found.add(alias.name.split(".")[1])
    return found


def test_pure_and_link_layers_import_only_what_is_below_them() -> None:
    for name, allowed in ALLOWED.items():
        used = cashdevice_imports(PACKAGE / f"{name}.py") - {name}
        assert used <= allowed, f"{name} imports {sorted(used - allowed)}"


def test_emulator_uses_only_pure_modules() -> None:
    for path in (PACKAGE / "emulator").glob("*.py"):
        used = cashdevice_imports(path) - {"emulator"}
        assert used <= PURE, f"emulator/{path.name} imports {sorted(used - PURE)}"


def test_pure_modules_do_no_io() -> None:
    for name in PURE:
        text = (PACKAGE / f"{name}.py").read_text()
        for forbidden in ("import serial", "import socket", "import threading"):
            assert forbidden not in text, f"{name} does {forbidden}"
