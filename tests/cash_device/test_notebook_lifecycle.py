"""Issue 13, notebooks: a cell run again must not lock the port.

An instance nobody references stops polling and releases its port (its poll thread holds it
only weakly); one still referenced keeps the port, and a second Open on it fails naming it;
two live instances never share a device, on the in-process ``cashdevice://`` URL or a pty.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from device_helpers import Recorder

from cashdevice import CashDevice, CashSystemOpenResult
from cashdevice._port_claims import PortClaims, port_key
from cashdevice.emulator import Emulator

Make = Callable[..., Any]
DEADLINE = 10.0


def fast_device() -> CashDevice:
    return CashDevice(poll_interval=0.05, timeout=0.3, reconnect_interval=0.2)


@contextmanager
def collector_off() -> Iterator[None]:
    """Only explicit collections (a notebook's cycle stays until something collects)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def open_unreferenced(port: str) -> tuple[weakref.ref[CashDevice], threading.Thread, threading.Lock]:
    """Open a device on ``port`` and return only a weak reference to it, its poll thread and the
    lock that thread holds while it holds the device (what a notebook keeps of the previous run
    of a cell)."""
    device = fast_device()
    device.self_reference = device  # type: ignore[attr-defined]  # a cycle, as notebooks make
    rec = Recorder(device)
    assert device.Open(port) == CashSystemOpenResult.OK
    rec.wait_state("IDLE")
    thread = device._thread
    assert thread is not None and thread.is_alive()
    return weakref.ref(device), thread, device._poll_busy


def test_an_unreferenced_device_stops_polling_and_releases_its_port(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    emu = emulators("SPECTRAL_PAYOUT")
    with collector_off():
        ref, thread, busy = open_unreferenced(emu.url)
        assert ref() is not None  # the cycle keeps it until a collection
        start = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="cashdevice"), busy:  # not inside a poll
            gc.collect()
        assert ref() is None, "the poll thread kept its device alive"
        thread.join(DEADLINE)
        assert not thread.is_alive(), "the old poll thread still runs"
    assert any("garbage-collected while open" in r.getMessage() for r in caplog.records)
    new = devices()
    rec = Recorder(new)
    assert new.Open(emu.url) == CashSystemOpenResult.OK
    rec.wait_state("IDLE")
    assert time.monotonic() - start < DEADLINE
    assert emu.insert_note(500, wait=DEADLINE)
    rec.wait_cash("STORED")  # the new instance, alone, runs the device


def assert_reopen_collects_the_old_instance(emu: Emulator, devices: Make) -> None:
    """Open ``emu`` from an instance nobody references (kept alive by a cycle), then from a new
    one: the new Open succeeds, the old instance is collected and its poll thread ends."""
    with collector_off():
        ref, thread, _ = open_unreferenced(emu.url)
        new = devices()
        assert new.Open(emu.url) == CashSystemOpenResult.OK
        assert ref() is None
        thread.join(DEADLINE)
        assert not thread.is_alive()


def test_open_collects_the_previous_run_of_a_cell(emulators: Make, devices: Make) -> None:
    """``d = CashDevice(); d.Open(url)`` run twice: the first ``d`` is unreferenced but kept by a
    cycle; Open collects it instead of failing."""
    emu = emulators("NOTE_VALIDATOR")
    assert_reopen_collects_the_old_instance(emu, devices)


def test_open_waits_for_the_turn_the_old_poll_thread_is_in(emulators: Make, devices: Make) -> None:
    """A slow line: the old poll thread is inside an exchange (holding its device) most of the
    time; Open waits for that turn to end, then collects the old instance."""
    emu = emulators("NOTE_VALIDATOR", pacing=True, turnaround=0.08)
    assert_reopen_collects_the_old_instance(emu, devices)


def test_a_referenced_device_keeps_its_port_and_is_named(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    emu = emulators("NOTE_VALIDATOR")
    old = devices()
    rec = Recorder(old)
    assert old.Open(emu.url) == CashSystemOpenResult.OK
    rec.wait_state("IDLE")
    new = devices()
    with caplog.at_level(logging.ERROR, logger="cashdevice"):
        assert new.Open(emu.url) == CashSystemOpenResult.PORT_ERROR
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and repr(old) in errors[0], errors
    assert not new.isOpen
    # the old instance still has the device to itself: no second connection replaced its own
    assert emu.insert_note(1000, wait=DEADLINE)
    rec.wait_cash("STACKED")
    old.Close()
    assert new.Open(emu.url) == CashSystemOpenResult.OK


def test_two_live_devices_never_share_a_pty(emulators: Make, devices: Make) -> None:
    """The pty emulator's path is a symbolic link: the port is the same whichever name is used."""
    emu = emulators("NOTE_VALIDATOR")
    link = emu.start_pty()
    first = devices()
    assert first.Open(link) == CashSystemOpenResult.OK
    second = devices()
    assert second.Open(os.path.realpath(link)) == CashSystemOpenResult.PORT_ERROR
    first.Close()
    assert second.Open(os.path.realpath(link)) == CashSystemOpenResult.OK


def test_an_unreferenced_device_releases_a_real_port(emulators: Make, devices: Make) -> None:
    """On a pty the OS lock (exclusive open) is released too, not only the process's claim."""
    emu = emulators("NOTE_VALIDATOR")
    link = emu.start_pty()
    with collector_off():
        ref, thread, busy = open_unreferenced(link)
        with busy:
            gc.collect()
        thread.join(DEADLINE)
        assert ref() is None and not thread.is_alive()
    assert devices().Open(link) == CashSystemOpenResult.OK


def test_port_claims_hold_devices_weakly() -> None:
    claims = PortClaims()
    a, b = fast_device(), fast_device()
    assert claims.claim("cashdevice://emu9", a) is None
    assert claims.claim("cashdevice://emu9", a) is None  # its own claim again
    assert claims.claim("cashdevice:///emu9", b) is a  # another spelling of the same port
    del a
    gc.collect()
    assert claims.claim("cashdevice://emu9", b) is None
    claims.release(b)
    assert claims.holder("cashdevice://emu9") is None
    assert port_key("spy:///dev/ttyACM0?file=x") == port_key("/dev/ttyACM0")
    assert port_key("COM5") == "COM5"


def test_close_releases_the_claim_and_the_finalizer(
    emulators: Make, caplog: pytest.LogCaptureFixture
) -> None:
    emu = emulators("NOTE_VALIDATOR")
    device = fast_device()
    assert device.Open(emu.url) == CashSystemOpenResult.OK
    device.Close()
    ref = weakref.ref(device)
    with caplog.at_level(logging.WARNING, logger="cashdevice"):
        del device
        gc.collect()
    assert ref() is None
    assert not any("garbage-collected" in r.getMessage() for r in caplog.records)  # closed properly
    other = fast_device()
    try:
        assert other.Open(emu.url) == CashSystemOpenResult.OK
    finally:
        other.Close()
