"""CashDevice.DownloadFirmware into the emulator over a pty: events, status, failures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import serial
from device_helpers import Recorder
from itl_files import NEW_DATASET, NEW_FIRMWARE, corrupt, make_itl_file
from support import FAST_DOWNLOAD

from cashdevice import CashDevice, CashSystemOpenResult, DeviceModel
from cashdevice.enums import DownloadState

Make = Callable[..., Any]


def downloader(devices: Make) -> tuple[CashDevice, list[tuple[str, Any]]]:
    device = devices()
    device.download_timing = FAST_DOWNLOAD
    seen: list[tuple[str, Any]] = []
    device.DownloadStateEvent.connect(lambda s, e: seen.append(("state", e)))
    device.DownloadBlockEvent.connect(lambda s, e: seen.append(("block", e)))
    return device, seen


def wait_done(device: CashDevice) -> None:
    download = device._download
    assert download is not None and download.wait(30)


@pytest.fixture
def itl_file(tmp_path: Path) -> Path:
    path = tmp_path / "update.bv1"
    path.write_bytes(make_itl_file(ram_size=1000, data_size=20000))
    return path


def test_full_download_over_a_pty(emulators: Make, devices: Make, itl_file: Path) -> None:
    emu = emulators("SPECTRAL_PAYOUT")
    port = emu.start_pty()
    device, seen = downloader(devices)
    assert device.DownloadFirmware(port, 0, str(itl_file))
    assert device.isDownloading
    wait_done(device)
    states = [e.state for kind, e in seen if kind == "state"]
    assert states[0] == DownloadState.UPDATING and states[-1] == DownloadState.COMPLETE
    assert DownloadState.FAILED not in states
    blocks = [e for kind, e in seen if kind == "block"]
    download_blocks = [e.currentDownloadBlock for e in blocks if e.currentDownloadBlock]
    total = blocks[-1].totalDownloadBlocks
    assert download_blocks == list(range(1, total + 1)) and total == 5  # 20000 bytes in 4096-byte blocks
    ram = [e.currentRamBlock for e in blocks if not e.currentDownloadBlock]
    assert ram == sorted(ram) and ram[-1] == blocks[0].totalRamBlocks
    assert not device.isDownloading
    status = device.downloadStatus
    assert (status.State, status.CurrentDownloadBlock, status.TotalDownloadBlocks) == (
        DownloadState.COMPLETE,
        5,
        5,
    )
    assert emu.status()["firmware"] == NEW_FIRMWARE and emu.status()["dataset"] == NEW_DATASET
    # the port was released, and the updated unit reports its new firmware through CashDevice
    reader = devices()
    assert reader.Open(port, 0, DeviceModel.SPECTRAL_PAYOUT) == CashSystemOpenResult.OK
    assert reader.firmware == NEW_FIRMWARE


@pytest.mark.parametrize("kind", ["magic", "truncated", "ram_checksum", "total_bytes"])
def test_corrupted_file_refused_before_any_byte(
    emulators: Make, devices: Make, tmp_path: Path, kind: str
) -> None:
    emu = emulators("NOTE_VALIDATOR")
    port = emu.start_pty()
    path = tmp_path / "bad.bv1"
    path.write_bytes(corrupt(make_itl_file(), kind))
    device, seen = downloader(devices)
    before = emu.exchanges
    assert not device.DownloadFirmware(port, 0, str(path))
    assert not device.isDownloading and seen == []
    assert emu.exchanges == before
    assert not device.DownloadFirmware(port, 0, str(tmp_path / "missing.bv1"))


@pytest.mark.parametrize("fault", ["fail_at_block", "drop_at_block"])
def test_checksum_failure_and_line_drop_end_in_failed(
    emulators: Make, devices: Make, itl_file: Path, fault: str
) -> None:
    emu = emulators("SPECTRAL_PAYOUT")
    port = emu.start_pty()
    setattr(emu.download, fault, 3)
    device, seen = downloader(devices)
    assert device.DownloadFirmware(port, 0, str(itl_file))
    wait_done(device)
    states = [e for kind, e in seen if kind == "state"]
    assert states[-1].state == DownloadState.FAILED and states[-1].detail
    assert device.downloadStatus.State == DownloadState.FAILED and not device.isDownloading
    assert emu.status()["firmware"] != NEW_FIRMWARE
    serial.serial_for_url(port, exclusive=True).close()  # the port was released


def test_refused_while_a_session_is_open(emulators: Make, devices: Make, itl_file: Path) -> None:
    emu = emulators("NOTE_VALIDATOR")
    port = emu.start_pty()
    device, seen = downloader(devices)
    rec = Recorder(device)
    assert device.Open(port) == CashSystemOpenResult.OK
    rec.wait_state("IDLE")
    assert not device.DownloadFirmware(port, 0, str(itl_file))
    assert seen == [] and device.isRunning
