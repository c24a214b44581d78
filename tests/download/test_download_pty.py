"""End to end: FirmwareDownload against the download slave over a pty."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from download_helpers import Recorder
from download_slave import DownloadSlave
from itl_files import CORRUPTIONS, NEW_DATASET, NEW_FIRMWARE, corrupt, make_itl_file
from support import FAST_DOWNLOAD

from cashdevice.download import DownloadFirmware, FirmwareDownload
from cashdevice.enums import DownloadState
from cashdevice.firmware_file import parse_firmware
from cashdevice.link import SSPLink
from cashdevice.records import DownloadStatus
from cashdevice.ssp import Command

WAIT = 15.0


def query_versions(path: str, address: int = 0) -> tuple[str, str]:
    """Open the port exclusively (proves it was released) and ask both versions."""
    with SSPLink(path, timeout=0.3, retries=2) as link:
        link.sync(address)
        fw = link.transact(address, bytes((Command.GET_FIRMWARE_VERSION,)))
        ds = link.transact(address, bytes((Command.GET_DATASET_VERSION,)))
    return fw[1:].decode(), ds[1:].decode()


def start(slave: DownloadSlave, path: Path, rec: Recorder, **kwargs: object) -> FirmwareDownload:
    kwargs.setdefault("timing", FAST_DOWNLOAD)
    dl = FirmwareDownload(slave.path, 0, path, on_state=rec.on_state, on_block=rec.on_block, **kwargs)  # type: ignore[arg-type]
    assert dl.start(), dl.message
    return dl


@pytest.mark.parametrize(
    ("enc_key", "packet_mode"), [(0x0123456701234567, True), (None, True), (0x0123456701234567, False)]
)
def test_full_download_events_and_new_version(
    slave: DownloadSlave, itl_path: Path, recorder: Recorder, enc_key: int | None, packet_mode: bool
) -> None:
    assert query_versions(slave.path) == ("NV02004141400000", "EUR01600")
    dl = start(slave, itl_path, recorder, enc_key=enc_key, packet_mode=packet_mode)
    assert dl.wait(WAIT)
    assert dl.status.State is DownloadState.COMPLETE, dl.message
    assert not dl.is_running and dl.succeeded

    fw = parse_firmware(itl_path.read_bytes())
    ram_total, total = fw.ram_sections, fw.block_count(4096)
    expected_blocks = [(i, ram_total, 0, total) for i in range(1, ram_total + 1)]
    expected_blocks += [(ram_total, ram_total, i, total) for i in range(1, total + 1)]
    assert recorder.events[0][0] == "state" and recorder.events[-1][0] == "state"
    assert recorder.states() == [DownloadState.UPDATING, DownloadState.COMPLETE]
    assert recorder.blocks() == expected_blocks
    assert dl.status == DownloadStatus(DownloadState.COMPLETE, ram_total, ram_total, total, total)

    assert slave.target is not None and bytes(slave.target.data) == fw.main_data
    assert slave.resets == 1
    assert (Command.PROGRAM in slave.encrypted_commands) is (enc_key is not None)
    assert dl.encrypted is (enc_key is not None)
    assert query_versions(slave.path) == (NEW_FIRMWARE, NEW_DATASET)


def test_csharp_signature_starts_and_reports(
    slave: DownloadSlave, itl_path: Path, recorder: Recorder
) -> None:
    done = threading.Event()

    def on_state(state: DownloadState, message: str) -> None:
        recorder.on_state(state, message)
        if state in (DownloadState.COMPLETE, DownloadState.FAILED):
            done.set()

    assert DownloadFirmware(
        slave.path, 0, str(itl_path), True, 115200, on_state=on_state, timing=FAST_DOWNLOAD
    )
    assert done.wait(WAIT)
    assert recorder.states() == [DownloadState.UPDATING, DownloadState.COMPLETE]
    # the worker sets `done` from inside its last callback; it ends right after
    assert slave.wait_for(lambda: slave.resets == 1)
    assert query_versions(slave.path)[0] == NEW_FIRMWARE


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_corrupted_file_refused_before_any_byte(
    slave: DownloadSlave, tmp_path: Path, recorder: Recorder, kind: str
) -> None:
    path = tmp_path / "bad.bv1"
    path.write_bytes(corrupt(make_itl_file(), kind))
    threads = threading.active_count()
    dl = FirmwareDownload(slave.path, 0, path, on_state=recorder.on_state, timing=FAST_DOWNLOAD)
    assert dl.start() is False
    assert "invalid download file" in dl.message
    assert threading.active_count() == threads and not dl.is_running
    assert recorder.events == [] and dl.status.State is DownloadState.IDLE
    assert slave.bytes_received == 0
    # nothing was sent, and the port is free: a session can open it at once
    assert query_versions(slave.path) == ("NV02004141400000", "EUR01600")
    assert slave.bytes_received > 0 and slave.commands[0][0] == Command.GET_FIRMWARE_VERSION


def test_missing_file_and_bad_address(slave: DownloadSlave, tmp_path: Path) -> None:
    assert DownloadFirmware(slave.path, 0, str(tmp_path / "nope.bv1")) is False
    assert DownloadFirmware(slave.path, 0x7E, str(tmp_path / "nope.bv1")) is False
    assert slave.bytes_received == 0


def expect_failure(dl: FirmwareDownload, rec: Recorder, slave: DownloadSlave, words: str) -> None:
    assert dl.wait(WAIT)
    assert dl.status.State is DownloadState.FAILED
    assert words in dl.message, dl.message
    assert rec.states() == [DownloadState.UPDATING, DownloadState.FAILED]
    assert words in rec.events[-1][1][1]  # type: ignore[operator]
    assert not dl.is_running
    # the port is released: it opens exclusively at once
    with SSPLink(slave.path, timeout=0.1, retries=0):
        pass


def test_checksum_failure_mid_download(itl_path: Path, recorder: Recorder) -> None:
    port_free_at_final_event: list[bool] = []

    def on_state(state: DownloadState, message: str) -> None:
        recorder.on_state(state, message)
        if state is DownloadState.FAILED:  # the port is closed before the final event
            with SSPLink(slave.path, timeout=0.1, retries=0):
                port_free_at_final_event.append(True)

    with DownloadSlave(fail_at_block=2) as slave:
        dl = FirmwareDownload(
            slave.path, 0, itl_path, on_state=on_state, on_block=recorder.on_block, timing=FAST_DOWNLOAD
        )
        assert dl.start()
        expect_failure(dl, recorder, slave, "checksum mismatch at block 2 of 3")
        assert dl.status.CurrentDownloadBlock == 1
        assert recorder.blocks()[-1][2] == 1
        assert port_free_at_final_event == [True]


def test_ram_checksum_failure(itl_path: Path, recorder: Recorder) -> None:
    with DownloadSlave(fail_ram=True) as slave:
        dl = start(slave, itl_path, recorder)
        expect_failure(dl, recorder, slave, "RAM checksum mismatch")
        assert dl.status.CurrentDownloadBlock == 0


@pytest.mark.parametrize(
    ("block", "words"), [(3, "no answer to block 3 of 3"), (0, "no answer to the RAM block")]
)
def test_line_drop_mid_download(itl_path: Path, recorder: Recorder, block: int, words: str) -> None:
    with DownloadSlave(drop_at_block=block) as slave:
        dl = start(slave, itl_path, recorder)
        expect_failure(dl, recorder, slave, words)
        assert dl.elapsed is not None and dl.elapsed < FAST_DOWNLOAD.reply_timeout + 3.0


def test_header_refused_by_device(itl_path: Path, recorder: Recorder) -> None:
    with DownloadSlave(refuse_header=True) as slave:
        dl = start(slave, itl_path, recorder)
        expect_failure(dl, recorder, slave, "F9 HEADER FAILURE")
        assert slave.target is None


def test_no_device_on_the_line(itl_path: Path, recorder: Recorder) -> None:
    with DownloadSlave(address=5) as slave:  # nobody answers address 0
        dl = start(slave, itl_path, recorder)
        expect_failure(dl, recorder, slave, "device stopped answering")


def test_device_slow_to_restart_is_waited_for(itl_path: Path, recorder: Recorder) -> None:
    with DownloadSlave(reset_delay=0.6) as slave:
        dl = start(slave, itl_path, recorder)
        assert dl.wait(WAIT) and dl.succeeded, dl.message


def test_device_that_never_restarts(itl_path: Path, recorder: Recorder) -> None:
    timing = replace(FAST_DOWNLOAD, reset_timeout=0.8)
    with DownloadSlave(reset_delay=30.0) as slave:
        dl = start(slave, itl_path, recorder, timing=timing)
        expect_failure(dl, recorder, slave, "did not come back within 0.8 s")


def test_key_refused_falls_back_to_plain(itl_path: Path, recorder: Recorder) -> None:
    with DownloadSlave(refuse_key=True) as slave:
        dl = start(slave, itl_path, recorder)
        assert dl.wait(WAIT) and dl.succeeded, dl.message
        assert not dl.encrypted and slave.encrypted_commands == []


def test_session_open_on_port_is_refused(slave: DownloadSlave, itl_path: Path) -> None:
    asked: list[str] = []

    def busy(port: str) -> bool:
        asked.append(port)
        return True

    dl = FirmwareDownload(slave.path, 0, itl_path, is_port_busy=busy, timing=FAST_DOWNLOAD)
    assert dl.start() is False and asked == [slave.path]
    assert "session is open" in dl.message
    # a session that holds the port (exclusive open) is detected without being told
    with SSPLink(slave.path, timeout=0.2, retries=0):
        dl = FirmwareDownload(slave.path, 0, itl_path, timing=FAST_DOWNLOAD)
        assert dl.start() is False and "port busy or unavailable" in dl.message
    assert slave.bytes_received == 0


def test_cancel_stops_and_releases(slave: DownloadSlave, itl_path: Path, recorder: Recorder) -> None:
    holder: list[FirmwareDownload] = []

    def on_block(ram: int, total_ram: int, block: int, total: int) -> None:
        recorder.on_block(ram, total_ram, block, total)
        if ram == total_ram and block == 0:
            holder[0].cancel()  # during the long ram_start pause

    timing = replace(FAST_DOWNLOAD, ram_start=30.0)
    dl = FirmwareDownload(
        slave.path, 0, itl_path, on_state=recorder.on_state, on_block=on_block, timing=timing
    )
    holder.append(dl)
    assert dl.start()
    expect_failure(dl, recorder, slave, "cancelled")
    assert dl.elapsed is not None and dl.elapsed < 10


def test_failing_callbacks_do_not_stop_the_download(
    slave: DownloadSlave, itl_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def bad(*args: object) -> None:
        raise RuntimeError("receiver bug")

    dl = FirmwareDownload(slave.path, 0, itl_path, on_state=bad, on_block=bad, timing=FAST_DOWNLOAD)
    assert dl.start()
    assert dl.wait(WAIT) and dl.succeeded, dl.message
    assert "callback failed" in caplog.text


def test_baud_rate_from_header_and_cap(tmp_path: Path, recorder: Recorder) -> None:
    path = tmp_path / "fast.bv1"
    path.write_bytes(make_itl_file(baud_field=115200))
    with DownloadSlave() as slave:
        dl = FirmwareDownload(slave.path, 0, path, max_baud=38400, timing=FAST_DOWNLOAD)
        assert dl.start() is False and "115200 baud" in dl.message
        dl = start(slave, path, recorder)
        assert dl.wait(WAIT) and dl.succeeded, dl.message
        assert dl.raw_baud == 115200 and slave.target is not None and slave.target.baud == 115200


def test_device_block_size_wins(itl_path: Path, recorder: Recorder) -> None:
    with DownloadSlave(block_size=2048) as slave:
        dl = start(slave, itl_path, recorder)
        assert dl.wait(WAIT) and dl.succeeded, dl.message
        assert dl.block_size == 2048 and dl.status.TotalDownloadBlocks == 5  # 9000 / 2048


def test_start_twice_is_refused(slave: DownloadSlave, itl_path: Path) -> None:
    dl = FirmwareDownload(slave.path, 0, itl_path, timing=FAST_DOWNLOAD)
    assert dl.start()
    assert dl.start() is False and "already started" in dl.message
    assert dl.wait(WAIT) and dl.succeeded
