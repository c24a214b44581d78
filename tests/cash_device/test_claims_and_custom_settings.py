"""Port claims follow their holder's link; a setting changed by SendCustomCommand is the one set again."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from device_helpers import Recorder, open_emulated
from test_settings_after_reset import reset_unit
from test_wanted_state import polls

from cashdevice import CashSystemOpenResult, DeviceModel, ValueCountryCode
from cashdevice._port_claims import PortClaims
from cashdevice.enums import SetSorterRouteRequestResult

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


# ------------------------------------------------------------------------------ settings set again


@pytest.mark.parametrize("how", ["unplug", "power cycle"])
def test_a_barcode_inhibit_the_application_changed_by_a_custom_command_is_not_undone_by_a_reconnect(
    emulators: Make, devices: Make, how: str
) -> None:
    """SetBarcodeInhibit(0xFC) (currency and tickets), later SendCustomCommand(26 FD): the
    application disables currency by a raw SET BAR CODE INHIBIT (C# L12377 sends any command).  A
    reconnect sent the 0xFC that SetBarcodeInhibit had recorded: the unit, which had kept 0xFD
    (unplug) or was back at 0xFE (power cycle), took the next note the application had refused."""
    emu, device, rec = open_emulated(emulators, devices, "SPECTRAL_PAYOUT", levels={})
    assert device.SetBarcodeInhibit(0xFC)
    assert device.SendCustomCommand(bytes([0x26, 0xFD]), 2)
    assert emu.device.barcode_inhibit == 0xFD
    reset_unit(how, emu, device, rec)
    assert emu.device.barcode_inhibit == 0xFD, "a reconnect undid the application's last barcode inhibit"
    assert emu.insert_note(1000, wait=5)
    rec.wait_for(lambda: emu.device.note is None, what="the note leaves the note path")
    polls(emu, 3)
    assert emu.ledger.credited_total() == 0, "the unit took a note while the application disabled currency"
    assert [c for c in rec.cash() if c[0] in ("ESCROW", "STORED", "STACKED")] == []


def test_a_sorter_route_set_by_a_custom_command_replaces_only_that_coins_route(
    emulators: Make, devices: Make
) -> None:
    """SetSorterRoute for two coins, then a custom SET SORTER ROUTE for one of them: after a
    power cycle both coins are where the application last put them."""
    emu, device, rec = open_emulated(
        emulators, devices, "TWIN_SMART_COIN_SYSTEM", {"allow_unverified": True}, levels={}
    )
    one, two = ValueCountryCode(100, "EUR"), ValueCountryCode(200, "EUR")
    assert device.SetSorterRoute(one, 1) == SetSorterRouteRequestResult.OK
    assert device.SetSorterRoute(two, 1) == SetSorterRouteRequestResult.OK
    raw = device.commands.row("SET_SORTER_ROUTE").encode(100, "EUR", 0)
    assert device.SendCustomCommand(raw, len(raw))
    routes = {d.value: r for d, r in emu.device.sorter_routes.items()}
    assert routes == {100: 0, 200: 1}
    reset_unit("power cycle", emu, device, rec)
    assert {d.value: r for d, r in emu.device.sorter_routes.items()} == {100: 0, 200: 1}
