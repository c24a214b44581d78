"""Probe review2: port claims that follow their holder's link; settings set again after a reconnect."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from device_helpers import Recorder

from cashdevice import CashSystemOpenResult, DeviceModel
from cashdevice._port_claims import PortClaims

Make = Callable[..., Any]


class Holder:  # (a stand-in for a CashDevice: claims hold their devices weakly)
    pass


# ------------------------------------------------------------------------------ port claims


def test_a_claim_moved_while_its_link_pointed_nowhere_comes_back_with_the_link(tmp_path: Path) -> None:
    """A opens its by-id link (-> ttyACM0).  A's unit is unplugged: udev removes the link.  Any
    look-up of ttyACM0 in that gap (another Open, a DownloadFirmware busy check) moved A's claim to
    the link's own path, and there it stayed: once A's unit is back (as ttyACM0 again, the common
    case) A's link and ttyACM0 were free for anyone, while A is still open and reconnects to them."""
    acm0 = tmp_path / "ttyACM0"
    acm0.touch()
    link_a = tmp_path / "by-id-a"
    link_a.symlink_to(acm0)
    claims, a, c = PortClaims(), Holder(), Holder()
    assert claims.claim(str(link_a), a) is None  # type: ignore[arg-type]
    link_a.unlink()  # A unplugged
    assert claims.holder(str(acm0)) is None  # (nothing is at ttyACM0 now)
    link_a.symlink_to(acm0)  # A back, on the same node
    assert claims.holder(str(link_a)) is a
    assert claims.claim(str(link_a), c) is a  # type: ignore[arg-type]
    assert claims.claim(str(acm0), c) is a  # type: ignore[arg-type]


def test_a_claim_follows_its_link_to_the_node_it_names_now(tmp_path: Path) -> None:
    """A's unit comes back on another node (ttyACM1): a look-up of ttyACM1, or of A's own link,
    finds A without anybody having looked up ttyACM0 first."""
    acm0, acm1 = tmp_path / "ttyACM0", tmp_path / "ttyACM1"
    acm0.touch()
    acm1.touch()
    link_a = tmp_path / "by-id-a"
    link_a.symlink_to(acm0)
    claims, a, c = PortClaims(), Holder(), Holder()
    assert claims.claim(str(link_a), a) is None  # type: ignore[arg-type]
    link_a.unlink()
    link_a.symlink_to(acm1)  # A back as ttyACM1
    assert claims.claim(str(link_a), c) is a  # type: ignore[arg-type]
    assert claims.claim(str(acm1), c) is a  # type: ignore[arg-type]
    assert claims.claim(str(acm0), c) is None  # type: ignore[arg-type]  # (ttyACM0 is free)


def test_a_second_instance_is_refused_the_link_of_an_open_device_whose_unit_came_back(
    emulators: Make, devices: Make
) -> None:
    """End to end on a pty link: A is open on the link; its unit is unplugged and comes back on
    another /dev/pts node (the one it had is taken meanwhile, as a re-enumerated USB unit gets
    another ttyACM).  Before A's next reconnect attempt, a second instance opens the same link: it
    got the unit (OK), and A, still open, could never reconnect."""
    emu = emulators("NOTE_VALIDATOR")
    link = emu.start_pty()
    a = devices(reconnect_interval=30.0)
    rec = Recorder(a)
    assert a.Open(link, emu.address, DeviceModel.NOTE_VALIDATOR) == CashSystemOpenResult.OK
    rec.wait_for(lambda: a.deviceState.name in ("IDLE", "DISABLED"), what="A up")
    was = os.path.realpath(link)
    since = len(rec.states())
    emu.unplug()
    rec.wait_for(lambda: "NOT_CONNECTED" in rec.states()[since:], what="A lost its unit")
    taken = os.openpty()  # (the freed node goes to someone else)
    try:
        emu.replug()
        assert os.path.realpath(link) != was
        c = devices()
        result = c.Open(link, emu.address, DeviceModel.NOTE_VALIDATOR)
        assert result == CashSystemOpenResult.PORT_ERROR, "a second instance drives the unit A holds"
        a.Close()
        assert c.Open(link, emu.address, DeviceModel.NOTE_VALIDATOR) == CashSystemOpenResult.OK
    finally:
        for fd in taken:
            os.close(fd)
