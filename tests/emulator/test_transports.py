"""One device suite over three transports (pty, TCP, in-process), unplug / replug, faults,
pacing, and two emulators side by side."""

from __future__ import annotations

import os
import time

import pytest
import serial

from cashdevice.emulator import Emulator
from cashdevice.emulator.transports import LineModel
from cashdevice.ssp import Command, PollEvent, SSPPortError, SSPTimeoutError, encode_packet


def open_url(emu: Emulator, kind: str) -> str:
    if kind == "pty":
        return emu.start_pty()
    if kind == "tcp":
        return f"socket://127.0.0.1:{emu.start_tcp()}"
    return emu.url


@pytest.mark.parametrize("kind", ["inproc", "pty", "tcp"])
def test_credit_over_each_transport(emulators, make_host, kind):
    emu = emulators("SPECTRAL_PAYOUT")
    host = make_host(emu, open_url(emu, kind))
    host.startup(8)
    host.ok(Command.SET_INHIBITS, 0xFF, 0xFF)
    host.ok(Command.ENABLE)
    assert emu.insert_note(5000)
    host.poll_until(PollEvent.STACKED)
    assert host.credited_value() == 5000
    emu.ledger.check()


@pytest.mark.parametrize("kind", ["inproc", "pty", "tcp"])
def test_unplug_replug_same_path(emulators, make_host, kind):
    emu = emulators("NOTE_VALIDATOR")
    url = open_url(emu, kind)
    host = make_host(emu, url, timeout=0.2, retries=1)
    host.link.sync(0)
    emu.unplug()
    with pytest.raises((SSPPortError, SSPTimeoutError)):
        host.cmd(Command.POLL)
    host.close()
    emu.replug()
    host2 = make_host(emu, url)
    host2.link.sync(0)
    assert host2.poll()[0].code == PollEvent.SLAVE_RESET  # the device kept running: its first poll
    if kind == "pty":
        assert os.path.realpath(url) == emu.pty_device


def test_pty_works_with_plain_pyserial(emulators):
    emu = emulators("NOTE_VALIDATOR")
    path = emu.start_pty()
    with serial.Serial(path, 9600, timeout=1) as port:
        port.write(bytes.fromhex("7f8001116582"))
        assert port.read(6) == bytes.fromhex("7f8001f02380")


def test_two_emulators_do_not_interfere(emulators, make_host):
    a = emulators("NOTE_VALIDATOR")
    b = emulators("NOTE_VALIDATOR", currency="GBP")
    ha, hb = make_host(a), make_host(b)
    for h in (ha, hb):
        h.startup(7)
        h.ok(Command.SET_INHIBITS, 0xFF, 0xFF)
        h.ok(Command.ENABLE)
    assert a.insert_note(2000) and b.insert_note(1000, "GBP")
    ha.poll_until(PollEvent.STACKED)
    hb.poll_until(PollEvent.STACKED)
    assert ha.credited_value() == 2000 and hb.credited_value() == 1000
    assert a.ledger.count("credited", "GBP") == 0 and b.ledger.count("credited", "EUR") == 0


def test_dropped_reply_is_repeated_verbatim(emulators, make_host):
    """The host times out and resends with the same flag: the cached reply comes back and
    the command is not executed twice (no duplicated or lost credit)."""
    emu = emulators("SMART_PAYOUT")
    host = make_host(emu, timeout=0.2, retries=3)
    host.startup(8)
    host.ok(Command.SET_INHIBITS, 0xFF, 0xFF)
    host.ok(Command.ENABLE)
    assert emu.insert_note(1000)
    deadline = time.monotonic() + 5
    while not any(e.code == PollEvent.STACKED for e in host.events) and time.monotonic() < deadline:
        emu.faults.drop_replies(1)  # every poll's first reply is lost
        host.poll()
    assert sum(1 for e in host.events if e.code == PollEvent.CREDIT) == 1
    assert host.link.counters.retries >= 3
    assert host.credited_value() == 1000 == emu.ledger.total("credited")
    emu.ledger.check()


def test_corrupted_bytes_are_recovered_by_retries(emulators, make_host):
    emu = emulators("SMART_HOPPER", seed=7)
    host = make_host(emu, timeout=0.1, retries=20)
    host.startup(8)
    host.ok(Command.ENABLE)
    emu.faults.inbound.corrupt = 0.01
    emu.faults.outbound.corrupt = 0.01
    for coin in (100, 200, 50):
        assert emu.insert_coin(coin)
        for _ in range(15):
            host.poll()
    emu.faults.clear()
    host.poll()
    assert host.credited_value() == 350 == emu.ledger.total("credited")
    assert emu.faults.inbound.stats["corrupted"] + emu.faults.outbound.stats["corrupted"] > 0


def test_line_pacing_matches_9600_8n2(emulators):
    emu = emulators("NOTE_VALIDATOR", pacing=True, turnaround=0.005)
    port = serial.serial_for_url(emu.url, timeout=1)
    try:
        request = bytes.fromhex("7f8001116582")
        start = time.monotonic()
        port.write(request)
        reply = port.read(6)
        elapsed = time.monotonic() - start
    finally:
        port.close()
    assert reply == bytes.fromhex("7f8001f02380")
    assert elapsed >= 0.005 + (6 + 6) * 11 / 9600  # both directions cost line time


def test_line_pacing_counts_the_command_bytes(emulators):
    """A long command takes its own line time before the device can answer (issue 14: host->device
    bytes used to be free, so a line-efficiency figure could exceed 1)."""
    emu = emulators("NOTE_VALIDATOR", pacing=True, turnaround=0.0)
    port = serial.serial_for_url(emu.url, timeout=2)
    try:
        sync = encode_packet(0, True, b"\x11")
        port.write(sync)
        assert port.read(6) == bytes.fromhex("7f8001f02380")
        request = encode_packet(0, False, bytes((0x7C,)) + bytes(200))  # unknown command, 200 bytes
        start = time.monotonic()
        port.write(request)
        reply = port.read(6)
        elapsed = time.monotonic() - start
    finally:
        port.close()
    assert reply[3] == 0xF2
    assert elapsed >= (len(request) + len(reply)) * 11 / 9600


def test_line_model_queues_each_direction():
    line = LineModel(turnaround=0.01)
    byte = 11 / 9600
    assert line.received(10, 9600, now=100.0) == pytest.approx(100.0 + 10 * byte)
    # a second chunk written while the first is still on the line waits behind it
    assert line.received(5, 9600, now=100.0) == pytest.approx(100.0 + 15 * byte)
    command_in = 100.0 + 15 * byte
    done = line.reply_done(6, 9600, command_in, now=command_in)
    assert done == pytest.approx(command_in + 0.01 + 6 * byte)
    # a second reply ready at once starts after the first has left
    assert line.reply_done(6, 9600, command_in, now=command_in) == pytest.approx(done + 6 * byte)
    # an idle line: a late command starts at once
    assert line.received(1, 38400, now=200.0) == pytest.approx(200.0 + 11 / 38400)


def test_inproc_read_timeout_and_cancel(emulators):
    emu = emulators("NOTE_VALIDATOR")
    port = serial.serial_for_url(emu.url, timeout=0.1)
    try:
        start = time.monotonic()
        assert port.read(1) == b""
        assert time.monotonic() - start >= 0.1
        assert port.in_waiting == 0
        port.timeout = 0
        assert port.read(1) == b""
    finally:
        port.close()
    with pytest.raises(serial.SerialException):
        serial.serial_for_url("cashdevice://no-such-emulator")


def test_outbound_delay_and_scripted_corruption(emulators):
    emu = emulators("NOTE_VALIDATOR")
    port = serial.serial_for_url(emu.url, timeout=1)
    try:
        emu.faults.outbound.delay = 0.2
        start = time.monotonic()
        port.write(bytes.fromhex("7f8001116582"))
        assert port.read(6) == bytes.fromhex("7f8001f02380")
        assert time.monotonic() - start >= 0.2
        emu.faults.outbound.delay = 0.0
        # scripted: flip the last byte of the next reply (a CRC error for the host)
        emu.faults.outbound.script(lambda data: data[:-1] + bytes((data[-1] ^ 0xFF,)))
        port.write(bytes.fromhex("7f8001116582"))
        assert port.read(6) == bytes.fromhex("7f8001f0237f")[:5] + bytes((0x80 ^ 0xFF,))
        assert emu.faults.outbound.stats["scripted"] == 1
    finally:
        port.close()


def test_an_unplugged_pty_path_never_reaches_the_next_emulators_pty(emulators):
    """While a pty emulator is unplugged its path is gone (as a USB serial device's node is): a host
    that keeps reopening it must not reach the pseudo-terminal the system hands out next, which
    usually takes the freed /dev/pts number (a flaky 'could not exclusively lock' in parallel tests
    came from a reconnecting device holding another test's pty)."""
    a = emulators("NOTE_VALIDATOR")
    path = a.start_pty()
    a.unplug()
    assert not os.path.lexists(path)
    b = emulators("NOTE_VALIDATOR")
    b.start_pty()  # (takes a's /dev/pts number whenever it is the lowest one free)
    with pytest.raises(serial.SerialException):
        serial.Serial(path, 9600, timeout=0.2)
    a.replug()
    assert os.path.realpath(path) == a.pty_device != b.pty_device
    with serial.Serial(path, 9600, timeout=1) as port:
        port.write(bytes.fromhex("7f8001116582"))
        assert port.read(6) == bytes.fromhex("7f8001f02380")
