"""Shared fixtures: a leak check that every test leaves no stray threads behind, ``emulators``
(:func:`support.emulator_factory`) and ``transport``.

``transport`` is a parameter: a test that takes it runs over the in-process URL, and a test
marked ``@pytest.mark.every_transport`` also over a pty and TCP (``support.emulator_url``)."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable, Iterator

import pytest
from support import TRANSPORTS, assert_no_new_threads, emulator_factory

from cashdevice.emulator import Emulator

_REST_MISSING = [name for name in ("fastapi", "httpx") if importlib.util.find_spec(name) is None]
collect_ignore = ["rest"] if _REST_MISSING else []
"""Without the [rest] extra the REST server's tests are not collected (said in the header); their
conftest imports the web stack."""


def pytest_report_header() -> list[str]:
    if _REST_MISSING:
        missing = ", ".join(_REST_MISSING)
        return [f"tests/rest not collected: the [rest] extra is not installed (no {missing})"]
    return []


@pytest.fixture
def emulators(request: pytest.FixtureRequest) -> Iterator[Callable[..., Emulator]]:
    """``emulators(model, **options)``: an emulator with fast mechanics, stopped after the test;
    under ``@pytest.mark.virtual_clock`` its mechanical time is virtual (``support.settle``)."""
    yield from emulator_factory(virtual=request.node.get_closest_marker("virtual_clock") is not None)


@pytest.fixture(autouse=True)
def _no_stray_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    assert_no_new_threads(before)


def _parametrized_names(metafunc: pytest.Metafunc) -> set[str]:
    """The argument names a test's own ``@pytest.mark.parametrize`` marks cover."""
    names: set[str] = set()
    for mark in metafunc.definition.iter_markers("parametrize"):
        argnames = mark.args[0]
        names.update(n.strip() for n in (argnames.split(",") if isinstance(argnames, str) else argnames))
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "transport" in metafunc.fixturenames and "transport" not in _parametrized_names(metafunc):
        every = metafunc.definition.get_closest_marker("every_transport") is not None
        metafunc.parametrize("transport", TRANSPORTS if every else TRANSPORTS[:1])
