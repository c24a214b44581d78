"""CashDevice.DownloadFirmware with faults and threads (the emulator over a pty): two calls at once keep
the running download's status; a power cut or unplug in the raw phase ends it FAILED and the unit
works afterwards (found by a probe).

Each fault is injected from the download's own DownloadBlockEvent (the download thread, between two
blocks), so the phase it meets is exact; waits are on events and the download's end."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from device_helpers import Recorder
from itl_files import NEW_FIRMWARE, make_itl_file
from test_concurrency import Gated
from test_device_download import downloader

from cashdevice import CashSystemOpenResult, DeviceModel, DeviceState
from cashdevice.emulator import Emulator
from cashdevice.enums import DownloadState

Make = Callable[..., Any]


@pytest.fixture
def itl_file(tmp_path: Path) -> Path:
    path = tmp_path / "update.bv1"
    path.write_bytes(make_itl_file(ram_size=1000, data_size=20000))
    return path


def still_works(emu: Emulator, port: str, devices: Make) -> None:
    """The unit opens through a new CashDevice and a note is credited once (ledger)."""
    device = devices()
    rec = Recorder(device)
    # (the bytes the host wrote after the fault reach a unit back at 9600 baud: the emulator's
    # line is busy with them for seconds; a host would try again)
    deadline = time.monotonic() + 20
    while device.Open(port, emu.address, DeviceModel.SPECTRAL_PAYOUT) != CashSystemOpenResult.OK:
        assert time.monotonic() < deadline, "the unit never answered again"
    rec.wait_for(lambda: device.deviceState == DeviceState.IDLE, what="IDLE")
    before = emu.ledger.credited_total()
    assert emu.insert_note(1000, wait=5)
    rec.wait_cash("STORED", timeout=10)
    assert emu.ledger.credited_total() == before + 1000
    device.Close()


@pytest.mark.timeout(60)
def test_two_download_calls_at_once_keep_the_running_downloads_status(
    emulators: Make, devices: Make, itl_file: Path
) -> None:
    """Two application threads call DownloadFirmware on one CashDevice at once.  B passes the
    "already running" check; A starts its download; B's download is then refused (the port is A's).
    The device must go on reporting A's download: isDownloading True while it runs, and
    downloadStatus COMPLETE at the end, as its DownloadStateEvent says.  (B's refused download
    replaced A's in ``_download``: isDownloading False and downloadStatus IDLE for good, while
    A's download ran and completed.)"""
    emu = emulators("SPECTRAL_PAYOUT")
    port = emu.start_pty()
    device, seen = downloader(devices)
    b = Gated(
        lambda: device.DownloadFirmware(port, 0, str(itl_file)),
        at="__init__",
        when=lambda frame: type(frame.f_locals.get("self")).__name__ == "FirmwareDownload",
    )
    b.start()
    assert b.reached.wait(10)
    assert device.DownloadFirmware(port, 0, str(itl_file))  # A
    a = device._download
    assert a is not None and device.isDownloading
    b.go.set()
    b.join(10)
    assert b.result is False  # the port is A's
    assert device.isDownloading, "A's download runs, but the device says no download runs"
    assert a.wait(30)
    states = [e.state for kind, e in seen if kind == "state"]
    assert states[-1] == DownloadState.COMPLETE
    assert emu.status()["firmware"] == NEW_FIRMWARE
    assert not device.isDownloading
    assert device.downloadStatus.State == DownloadState.COMPLETE, device.downloadStatus


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fault", ["power_cut", "unplug", "open_elsewhere"])
@pytest.mark.parametrize("at_block", [0, 2])
def test_a_fault_during_the_raw_phase(
    emulators: Make, devices: Make, itl_file: Path, fault: str, at_block: int
) -> None:
    """A power cut or an unplug at a block of the raw phase (0: during the RAM block's writes),
    or another CashDevice opening the same port: the download ends FAILED (or, for the Open,
    COMPLETE, the Open refused), ``isDownloading`` False, ``downloadStatus`` as the last
    DownloadStateEvent, the port released, and the unit works afterwards."""
    emu = emulators("SPECTRAL_PAYOUT")
    port = emu.start_pty()
    device, seen = downloader(devices)
    hit = threading.Event()
    other = devices()
    opened: list[CashSystemOpenResult] = []

    def on_block(sender: Any, e: Any) -> None:
        here = e.currentDownloadBlock == at_block and (at_block or e.currentRamBlock == 2)
        if hit.is_set() or not here:
            return
        hit.set()
        if fault == "power_cut":
            emu.power_cycle()
        elif fault == "unplug":
            emu.unplug()
        else:
            opened.append(other.Open(port, emu.address, DeviceModel.SPECTRAL_PAYOUT))

    device.DownloadBlockEvent.connect(on_block)
    assert device.DownloadFirmware(port, 0, str(itl_file))
    download = device._download
    assert download is not None and download.wait(30)
    assert hit.is_set()
    states = [e.state for kind, e in seen if kind == "state"]
    expected = DownloadState.COMPLETE if fault == "open_elsewhere" else DownloadState.FAILED
    assert states[0] == DownloadState.UPDATING and states[-1] == expected, states
    assert not device.isDownloading
    assert device.downloadStatus.State == expected
    if fault == "open_elsewhere":
        assert opened == [CashSystemOpenResult.PORT_ERROR]
    if fault == "unplug":
        emu.replug()
    if emu.engine.mode != "ssp":
        emu.power_cycle()  # a unit whose download failed or stopped needs one (its RAM code is gone)
    still_works(emu, port, devices)
