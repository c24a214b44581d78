"""Firmware download through the emulator's engine (ssp-protocol.md §7.2): PROGRAM, the header
command, the raw phase (driven by cashdevice.emulator.download), then a reset with new versions."""

from __future__ import annotations

import functools
import operator

import pytest
import serial

from cashdevice import ssp
from cashdevice.ssp import Command

RAM = bytes(range(200)) * 2  # 400 bytes
MAIN = bytes((i * 7) & 0xFF for i in range(5000))
BLOCK = 4096


def header() -> bytes:
    h = bytearray(128)
    h[0:3] = b"ITL"
    h[5] = 0x20
    h[6] = 0x5A  # update code
    h[7:11] = len(RAM).to_bytes(4, "big")
    h[0x11:0x15] = len(MAIN).to_bytes(4, "big")
    h[0x20:0x30] = b"NVS2004401038000"
    h[0x30:0x38] = b"EUR01099"
    return bytes(h)


def xor(data: bytes) -> int:
    return functools.reduce(operator.xor, data, 0)


class Line:
    def __init__(self, url: str) -> None:
        self.port = serial.serial_for_url(url, timeout=1)
        self.parser = ssp.PacketParser()
        self.flag = True

    def cmd(self, data: bytes) -> bytes:
        if data[0] == Command.SYNC:
            self.flag = True
        self.port.write(ssp.encode_packet(0, self.flag, data))
        self.flag = not self.flag
        while True:
            chunk = self.port.read(max(1, self.port.in_waiting))
            assert chunk, "no reply"
            packets = self.parser.feed(chunk)
            if packets:
                return packets[0].data

    def raw(self, data: bytes, expect: int) -> bytes:
        self.port.write(data)
        return self.port.read(expect)


def test_download_then_new_versions(emulators):
    emu = emulators("SPECTRAL_PAYOUT")
    line = Line(emu.url)
    try:
        assert line.cmd(b"\x11") == b"\xf0"
        assert line.cmd(bytes((Command.PROGRAM, 0x03))) == b"\xf0" + BLOCK.to_bytes(2, "little")
        assert line.cmd(header()) == b"\xf0"
        # raw phase: RAM block in 128-byte chunks -> its XOR
        for i in range(0, len(RAM), 128):
            line.port.write(RAM[i : i + 128])
        assert line.port.read(1) == bytes((xor(RAM),))
        assert line.raw(b"\x5a", 1) == b"\x32"
        assert line.raw(header(), 1) == b"\x32"
        for i in range(0, len(MAIN), BLOCK):
            block = MAIN[i : i + BLOCK]
            line.port.write(block)
            assert line.raw(bytes((xor(block),)), 1) == bytes((xor(block),))
        assert emu.wait_for(lambda e: e.download.target is not None and e.download.target.done)
        assert emu.wait_for(lambda e: e.engine.mode == "ssp" and e.status()["firmware"] == "NVS2004401038000")
        line.parser = ssp.PacketParser()
        assert line.cmd(b"\x11") == b"\xf0"
        assert line.cmd(bytes((Command.GET_FIRMWARE_VERSION,))) == b"\xf0NVS2004401038000"
        assert line.cmd(bytes((Command.GET_DATASET_VERSION,))) == b"\xf0EUR01099"
        assert line.cmd(bytes((Command.POLL,))) == b"\xfa"  # the reset dropped the eSSP session
    finally:
        line.port.close()


def test_failed_download_leaves_unit_silent_until_power_cycle(emulators):
    emu = emulators("NOTE_VALIDATOR")
    emu.download.fail_ram = True
    line = Line(emu.url)
    try:
        line.cmd(b"\x11")
        line.cmd(bytes((Command.PROGRAM, 0x03)))
        assert line.cmd(header()) == b"\xf0"
        line.port.write(RAM)
        assert line.port.read(1) != bytes((xor(RAM),))
        assert emu.wait_for(lambda e: e.engine.mode == "dead")
        line.port.write(ssp.encode_packet(0, True, b"\x11"))
        assert line.port.read(6) == b""
        emu.power_cycle()
        line.parser = ssp.PacketParser()
        assert line.cmd(b"\x11") == b"\xf0"
        assert line.cmd(bytes((Command.GET_FIRMWARE_VERSION,))) == b"\xf0" + emu.spec.firmware.encode()
    finally:
        line.port.close()


def test_host_firmware_download_end_to_end(emulators, tmp_path):
    """The project's host (cashdevice.download) updates the emulated unit over cashdevice://."""
    download = pytest.importorskip("cashdevice.download")
    h = bytearray(header())
    h[0x10] = xor(RAM)  # RAM checksum field
    path = tmp_path / "update.bv1"
    path.write_bytes(bytes(h) + RAM + MAIN)
    emu = emulators("SPECTRAL_PAYOUT")
    timing = download.DownloadTiming(
        baud_settle=0.0,
        ram_start=0.05,
        reply_timeout=1.0,
        ssp_timeout=0.3,
        ssp_retries=2,
        reset_timeout=3,
        reopen_interval=0.05,
    )
    job = download.FirmwareDownload(emu.url, 0, str(path), timing=timing)
    assert job.start(), job.message
    assert job.wait(20) and job.succeeded, job.message
    assert emu.status()["firmware"] == "NVS2004401038000" and emu.status()["dataset"] == "EUR01099"
