"""The one-way doors between cashdevice's rooms, checked by parsing every module's imports (ast).

- the pure modules and the link import only the cashdevice modules below them, and the standard library;
- the emulator imports only the pure modules it needs, its own modules, the standard library and pyserial;
- the pure modules do no I/O;
- the import graph of all cashdevice modules has no cycle (imports under ``if TYPE_CHECKING:`` are
  left out: they never run).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cashdevice"
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ()))

# module -> the cashdevice modules it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "_html": set(),
    "ssp": set(),
    "enums": set(),
    "records": {"enums"},
    "variables": {"enums", "records"},
    "events": {"ssp"},
    "models": {"enums", "events"},
    "replies": {"models"},
    "_codecs": set(),
    "commands": {"ssp", "_codecs"},
    "firmware_file": {"ssp"},
    "frame_names": {"ssp", "events", "commands"},
    "_fdport": set(),
    "link": {"ssp", "frame_names", "_fdport"},
}
PURE = frozenset(ALLOWED) - {"link", "_fdport"}
EMULATOR_MAY_USE = frozenset({"_html", "ssp", "enums", "events", "models", "commands"})
THIRD_PARTY: dict[str, set[str]] = {
    "ssp": {"Crypto", "cryptography", "crcmod"},
    "link": {"serial"},
    "_fdport": {"serial"},
    "emulator": {"serial"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, except the bodies of ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Absolute names of what ``path`` imports at run time: ``from .. import ssp`` ->
    ``cashdevice.ssp``, ``from .models import X`` -> ``cashdevice.models``, ``import serial``
    -> ``serial``."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            # "from . import events": names that are modules import those, not the package itself
            submodules = {f"{base}.{a.name}" for a in node.names} & modules.keys()
            out.update(submodules)
            if len(submodules) < len(node.names):
                out.add(base)
    return out


def _cashdevice_room(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if parts[0] == "cashdevice" and len(parts) > 1 else None


def _external(name: str) -> str | None:
    top = name.split(".")[0]
    return None if top == "cashdevice" else top


MODULES = all_modules()


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_pure_and_link_layers_import_only_what_is_below_them(name: str) -> None:
    found = imports(PACKAGE / f"{name}.py", MODULES)
    used = {r for r in map(_cashdevice_room, found) if r is not None} - {name}
    assert used <= ALLOWED[name], f"{name} imports {sorted(used - ALLOWED[name])}"
    outside = {t for t in map(_external, found) if t is not None}
    # tomllib: standard library from 3.11 (absent from 3.10's stdlib_module_names), imported only there
    allowed_outside = STDLIB | {"tomllib"} | THIRD_PARTY.get(name, set()) | {"cashdevice"}
    if STDLIB:
        assert outside <= allowed_outside, f"{name} imports {sorted(outside - allowed_outside)}"


@pytest.mark.parametrize("path", sorted((PACKAGE / "emulator").glob("*.py")), ids=lambda p: p.name)
def test_emulator_uses_only_pure_modules(path: Path) -> None:
    found = imports(path, MODULES)
    used = {r for r in map(_cashdevice_room, found) if r is not None} - {"emulator"}
    assert used <= EMULATOR_MAY_USE, f"emulator/{path.name} imports {sorted(used - EMULATOR_MAY_USE)}"
    assert "cashdevice" not in found, f"emulator/{path.name} imports the cashdevice package"
    if STDLIB:
        outside = {t for t in map(_external, found) if t is not None}
        assert outside <= STDLIB | THIRD_PARTY["emulator"], f"emulator/{path.name} imports {sorted(outside)}"


def test_emulator_pure_modules_are_pure() -> None:
    assert EMULATOR_MAY_USE <= PURE


@pytest.mark.parametrize("name", sorted(PURE))
def test_pure_modules_do_no_io(name: str) -> None:
    text = (PACKAGE / f"{name}.py").read_text()
    for forbidden in ("import serial", "import socket", "import threading"):
        assert forbidden not in text, f"{name} does {forbidden}"


def import_graph() -> dict[str, set[str]]:
    """cashdevice module -> the cashdevice modules it imports (a package name means its __init__)."""
    return {
        name: {m for m in imports(path, MODULES) if m in MODULES and m != name}
        for name, path in MODULES.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path ``[a, b, ..., a]``, or None (depth-first search, three colours)."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph[node]):
            if colour[nxt] == GREY:
                return [*stack[stack.index(nxt) :], nxt]
            if colour[nxt] == WHITE and (found := visit(nxt)) is not None:
                return found
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(graph):
        if colour[node] == WHITE and (found := visit(node)) is not None:
            return found
    return None


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_import_graph_is_acyclic() -> None:
    graph = import_graph()
    assert "cashdevice.cash_device" in graph and "cashdevice.emulator.core" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


# the rooms of CashDevice: module -> the device rooms it may import (the façade imports them all)
DEVICE_ROOMS: dict[str, set[str]] = {
    "_contract": set(),
    "_session": {"_contract"},
    "_poller": {"_contract", "_session"},
    "_notes": {"_contract"},
    "_payouts": {"_contract", "_notes"},
    "_coins": {"_contract"},
}


@pytest.mark.parametrize("name", sorted(DEVICE_ROOMS))
def test_device_rooms_import_only_the_rooms_below_them(name: str) -> None:
    found = imports(PACKAGE / f"{name}.py", MODULES)
    rooms = {r for r in map(_cashdevice_room, found) if r is not None}
    used = rooms & (set(DEVICE_ROOMS) | {"cash_device"})
    assert used <= DEVICE_ROOMS[name], f"{name} imports {sorted(used - DEVICE_ROOMS[name])}"
