"""One command path: every command the host sends is built by its row of :mod:`cashdevice.commands`.

Outside the table (``commands``), the pure protocol (``ssp``), the link (SYNC and the key exchange sit
below the table), the firmware download and the emulator, no module builds command bytes by hand
(``bytes((Command.X, ...))``), and only the one command path (``_contract.DeviceContract._send``) hands
bytes to the exchange ``_command``, besides ``SendCustomCommand``, whose bytes are the caller's.
The rooms that send commands by C# method (``_payouts``, ``_notes``, ``_session``, ``_coins``) pass
Python values to the rows and read replies through them: no ``int.to_bytes`` / ``from_bytes``,
``struct`` or ``bytes((...))`` of their own.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cashdevice"
BELOW_OR_BESIDE_THE_TABLE = frozenset({"commands.py", "ssp.py", "link.py", "download.py", "download_cli.py"})
HAND_BUILT = re.compile(r"bytes\(\s*[\(\[]\s*(Command|command)\b")
BYTE_BUILDING = re.compile(r"\.to_bytes\(|\.from_bytes\(|\bstruct\.|\bimport struct\b|\bbytes\(\(")
VALUE_ROOMS = ("_payouts.py", "_notes.py", "_session.py", "_coins.py", "_contract.py")
COMMAND_CALLERS = {("_contract.py", "_send"), ("_notes.py", "SendCustomCommand")}
DEVICE_MODULES = (
    "cash_device.py",
    "_contract.py",
    "_session.py",
    "_poller.py",
    "_notes.py",
    "_payouts.py",
    "_coins.py",
)


def host_modules() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name not in BELOW_OR_BESIDE_THE_TABLE and "emulator" not in path.relative_to(PACKAGE).parts
    ]


def test_the_scan_sees_the_host_modules() -> None:
    names = {path.name for path in host_modules()}
    assert {"cash_device.py", "_session.py", "_poller.py", "_notes.py", "_coins.py", "_contract.py"} <= names


@pytest.mark.parametrize("path", host_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_hand_built_command_bytes(path: Path) -> None:
    hits = [
        f"{path.name}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if HAND_BUILT.search(line)
    ]
    assert hits == [], "build commands from their table row (self._send / _ok / _try / _call)"


@pytest.mark.parametrize("name", VALUE_ROOMS)
def test_the_rooms_pass_values_not_bytes(name: str) -> None:
    hits = [
        f"{name}:{number}: {line.strip()}"
        for number, line in enumerate((PACKAGE / name).read_text().splitlines(), start=1)
        if BYTE_BUILDING.search(line)
    ]
    assert hits == [], "pass Python values to the row (commands.py encodes and decodes the bytes)"


def test_the_byte_scan_sees_hand_built_parameters() -> None:
    hand_built = ('m.to_bytes(2, "little")', "bytes((r, 1))", "struct.pack('<I', v)", "int.from_bytes(x)")
    for line in hand_built:
        assert BYTE_BUILDING.search(line), line
    assert not BYTE_BUILDING.search('self._try(what, "SET_INHIBITS", mask, nbytes)')


@pytest.mark.parametrize("name", DEVICE_MODULES)
def test_only_the_command_path_calls_the_exchange(name: str) -> None:
    path = PACKAGE / name
    tree = ast.parse(path.read_text())
    callers: set[tuple[str, str]] = set()
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "_command"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "self"
            ):
                callers.add((path.name, function.name))
    assert callers <= COMMAND_CALLERS, f"self._command(...) called from {sorted(callers - COMMAND_CALLERS)}"
