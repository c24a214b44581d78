"""Issue 13, logging: a log file leaves the application's console as configured; raw packets
without a file say where they go; raw lines name the frames, encrypted ones stay encrypted
unless the plaintext is asked for; ``decode`` reads the log."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from device_helpers import Recorder

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel, decode_cli, ssp
from cashdevice.frame_names import FrameNamer, parse_raw_line, raw_line

Make = Callable[..., Any]
DEADLINE = 10.0


class Console(logging.Handler):
    """What an application's console handler on the root logger would print."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []
        self._lock2 = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock2:
            self.records.append(record)

    def levels(self, name_part: str = "cashdevice.device") -> set[int]:
        with self._lock2:
            return {r.levelno for r in self.records if name_part in r.name}

    def messages(self) -> list[str]:
        with self._lock2:
            return [r.getMessage() for r in self.records]


@pytest.fixture
def console() -> Iterator[Console]:
    """``logging.basicConfig(level=logging.INFO)``, as an application would do it."""
    root = logging.getLogger()
    handler = Console()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def run_a_note(emu: Any, device: CashDevice, **open_args: Any) -> None:
    rec = Recorder(device)
    assert device.Open(emu.url, 0, DeviceModel.NOTE_VALIDATOR, **open_args) == CashSystemOpenResult.OK
    rec.wait_state("IDLE")
    assert emu.insert_note(500, wait=DEADLINE)
    rec.wait_cash("STACKED")
    device.Close()


def test_log_file_keeps_the_console_as_configured(
    emulators: Make, devices: Make, console: Console, tmp_path: Path
) -> None:
    emu = emulators("NOTE_VALIDATOR")
    device = devices()
    log_file = tmp_path / "device.log"
    run_a_note(emu, device, logFilePath=str(log_file), logRawPackets=True)
    text = log_file.read_text()
    assert " DEBUG -> 00 SYNC [7f 80 01 11 65 82]" in text  # the file gets everything
    assert " INFO Device state changed: IDLE" in text
    levels = console.levels()
    assert logging.INFO in levels  # the console still shows what it showed before
    assert logging.DEBUG not in levels  # and nothing more: no raw packets, no DEBUG
    assert any("Cash event: STACKED" in m for m in console.messages())
    logger = logging.getLogger(device.log.name)
    assert logger.level == logging.NOTSET and logger.propagate  # Close put it back


def test_a_log_file_that_cannot_be_written_is_logged_and_open_goes_on(
    emulators: Make, devices: Make, console: Console, tmp_path: Path
) -> None:
    """A missing folder in ``logFilePath``: Open still opens the device (no exception out of it),
    and an ERROR names the file and why; the device logs to no file."""
    emu = emulators("NOTE_VALIDATOR")
    device = devices()
    missing = tmp_path / "no such folder" / "device.log"
    run_a_note(emu, device, logFilePath=str(missing))
    assert not missing.exists()
    errors = [r.getMessage() for r in console.records if r.levelno == logging.ERROR]
    assert any(str(missing) in m and "cannot be written" in m for m in errors), errors


def test_log_file_respects_a_quieter_library_level(
    emulators: Make, devices: Make, console: Console, tmp_path: Path
) -> None:
    """An application that turned cashdevice down to WARNING still sees no INFO on its console."""
    emu = emulators("NOTE_VALIDATOR")
    device = devices()
    log_file = tmp_path / "device.log"
    library = logging.getLogger("cashdevice")
    library.setLevel(logging.WARNING)
    try:
        run_a_note(emu, device, logFilePath=str(log_file))
    finally:
        library.setLevel(logging.NOTSET)
    assert not console.levels() & {logging.DEBUG, logging.INFO}
    assert " INFO Cash event: STACKED" in log_file.read_text()


def test_log_file_keeps_a_debug_console_for_raw_packets(
    emulators: Make, devices: Make, console: Console, tmp_path: Path
) -> None:
    """An application that asked for the raw packets on its console keeps them."""
    emu = emulators("NOTE_VALIDATOR")
    device = devices()
    raw_name = "cashdevice.device.[" + emu.url + "@0x00].link.raw"
    raw = logging.getLogger(raw_name)
    raw.setLevel(logging.DEBUG)
    try:
        run_a_note(emu, device, logFilePath=str(tmp_path / "device.log"), logRawPackets=True)
    finally:
        raw.setLevel(logging.NOTSET)
    shown = [r for r in console.records if r.name == raw_name]
    assert shown and all(r.levelno == logging.DEBUG for r in shown)
    assert logging.DEBUG not in {r.levelno for r in console.records if r.name != raw_name}


def test_raw_packets_without_a_file_say_where_they_go(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    emu = emulators("NOTE_VALIDATOR")
    device = devices()
    with caplog.at_level(logging.INFO, logger="cashdevice"):
        assert device.Open(emu.url, logRawPackets=True) == CashSystemOpenResult.OK
        device.logRawPackets(True)  # already on: nothing more said
    said = [r for r in caplog.records if "raw packets" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.INFO
    assert f"{device.log.name}.link.raw" in said[0].getMessage()
    caplog.clear()
    device.logRawPackets(False)
    with caplog.at_level(logging.INFO, logger="cashdevice"):
        device.logRawPackets(True)
    assert [r.levelno for r in caplog.records if "raw packets" in r.getMessage()] == [logging.INFO]


def raw_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.endswith(".link.raw")]


def test_raw_lines_name_frames_and_keep_encrypted_ones_encrypted(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    emu = emulators("NOTE_VALIDATOR")
    with caplog.at_level(logging.DEBUG, logger="cashdevice.device"):
        run_a_note(emu, devices(), logRawPackets=True)
    lines = raw_lines(caplog)
    assert lines[:2] == ["-> 00 SYNC [7f 80 01 11 65 82]", "<- 00 OK [7f 80 01 f0 23 80]"]
    assert any(line.startswith("-> 00 SET_GENERATOR ") for line in lines)
    assert any(line.startswith("-> 00 encrypted (16 bytes) [7f ") for line in lines)
    assert not any("POLL" in line or "CREDIT" in line or "plain" in line for line in lines)


def test_raw_lines_show_the_plaintext_when_asked(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    emu = emulators("NOTE_VALIDATOR")
    device = devices()
    device.log_decrypted = True
    with caplog.at_level(logging.DEBUG, logger="cashdevice.device"):
        run_a_note(emu, device, logRawPackets=True)
    named = [line for line in raw_lines(caplog) if line.endswith("]")]
    sent = [line for line in named if line.startswith("-> 00 encrypted eCOUNT=")]
    got = [line for line in named if line.startswith("<- 00 encrypted eCOUNT=")]
    assert any(" POLL_WITH_ACK [7f " in line for line in sent)
    assert any(" OK CREDIT channel 1" in line for line in got)
    assert any(" HOST_PROTOCOL_VERSION 0" in line for line in named)


def test_decode_reads_the_log_file(emulators: Make, devices: Make, tmp_path: Path, capsys: Any) -> None:
    emu = emulators("NOTE_VALIDATOR")
    log_file = tmp_path / "device.log"
    run_a_note(emu, devices(), logFilePath=str(log_file), logRawPackets=True)
    assert decode_cli.main([str(log_file)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["-> 00 seq=1 SYNC", "<- 00 seq=1 OK"]
    assert any(line.endswith("encrypted (16 bytes)") for line in out)
    sent = sum(" DEBUG -> " in line for line in log_file.read_text().splitlines())
    assert sum(line.startswith("-> ") for line in out) == sent  # one decoded frame per logged frame


def test_frame_names_round_trip() -> None:
    namer = FrameNamer()
    poll = ssp.encode_packet(0, False, bytes((ssp.Command.POLL,)))
    line = namer.line(True, poll)
    assert line == f"-> 00 POLL [{poll.hex(' ')}]"
    assert parse_raw_line(f"2024-01-01 00:00:00,000 x.link.raw DEBUG {line}") == ("->", poll)
    credit = ssp.encode_packet(0, False, bytes((0xF0, 0xEE, 0x01)))
    assert namer.line(False, credit).startswith("<- 00 OK CREDIT channel 1 [")
    key = bytes(range(16))
    secret = ssp.encode_packet(0x10, True, ssp.encrypt_data(key, 5, bytes((ssp.Command.POLL_WITH_ACK,))))
    assert namer.line(True, secret).startswith("-> 10 encrypted (")
    assert namer.line(True, secret, {0x10: key}).startswith("-> 10 encrypted eCOUNT=5 POLL_WITH_ACK [")
    assert key.hex() not in namer.line(True, secret, {0x10: key})
    assert parse_raw_line("-> 7f 80 01 11 65 82") is None  # the old bare form: decode_cli reads it
    assert list(decode_cli.trace_chunks(["-> 7f 80 01 11 65 82"])) == [("->", bytes.fromhex("7f80011165 82"))]
    assert raw_line(False, 3, "OK", b"\x7f") == "<- 03 OK [7f]"
