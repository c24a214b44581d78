"""Identification and configuration commands: serial numbers with sub-devices, UNIT DATA,
build revision, dataset version, baud rate, channel values."""

from __future__ import annotations

import pytest

from cashdevice.emulator import MODELS
from cashdevice.ssp import Command


@pytest.mark.parametrize("model", sorted(MODELS))
def test_identity(emulators, make_host, model):
    emu = emulators(model)
    spec = emu.spec
    host = make_host(emu)
    host.startup(min(7, spec.protocol_max))
    assert int.from_bytes(host.ok(Command.GET_SERIAL_NUMBER), "big") == spec.serial
    for sub, serial in spec.sub_serials.items():
        assert int.from_bytes(host.ok(Command.GET_SERIAL_NUMBER, sub), "big") == serial
    assert host.cmd(Command.GET_SERIAL_NUMBER, 0x7C) == b"\xf4"
    assert host.ok(Command.GET_DATASET_VERSION).decode().startswith("EUR")
    rev = host.ok(Command.GET_BUILD_REVISION)
    assert len(rev) == 3 * len(spec.build_revisions) and rev[0] == spec.build_revisions[0][0]
    if spec.kind == "notes":
        unit = host.ok(Command.UNIT_DATA)
        assert unit[0] == spec.unit_type and unit[1:5] == spec.firmware_short.encode() and unit[5:8] == b"EUR"
        assert unit[11] == min(7, spec.protocol_max)
        values = host.ok(Command.CHANNEL_VALUE_REQUEST)
        n = values[0]
        assert n == 7 and values[1 + n : 1 + 4 * n] == b"EUR" * n
    else:
        assert host.cmd(Command.UNIT_DATA) == b"\xf2"


def test_set_baud_rate(emulators, make_host):
    emu = emulators("SMART_PAYOUT", pacing=True, turnaround=0.0)
    host = make_host(emu)
    host.startup(8)
    host.ok(Command.SET_BAUD_RATE, 1, 0)
    assert emu.device.baud == 38400
    assert host.cmd(Command.SET_BAUD_RATE, 3, 0) == b"\xf4"
    emu.power_cycle()
    assert emu.device.baud == 9600  # not persisted
    host.link.set_key(0, None)
    host.startup(8)
    host.ok(Command.SET_BAUD_RATE, 2, 1)
    emu.power_cycle()
    assert emu.device.baud == 115200  # persisted
