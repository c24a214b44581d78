"""The bytes CashDevice's C# methods put on the wire for the payout, route, inhibit, payout-enable,
refill and bar code rows: the values go to the row, the row writes GA138's layout (issue 11 part 1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from device_helpers import Recorder, open_emulated, wire

from cashdevice import (
    CashSystemOpenResult,
    DenominationRoute,
    DeviceModel,
)
from cashdevice import (
    DispenseTransactionRequestResult as DTRR,
)
from cashdevice import (
    SetDenominationRouteRequestResult as SDRRR,
)
from cashdevice import (
    ValueCountryCode as VCC,
)

Make = Callable[..., Any]


def hexes(seen: list[bytes], code: int) -> list[str]:
    return [data.hex(" ") for data in seen if data[0] == code]


def test_payout_side_bytes_at_protocol_8(emulators: Make, devices: Make) -> None:
    emu, d, rec = open_emulated(
        emulators, devices, "SPECTRAL_PAYOUT", levels={500: 3, 1000: 2}, auto_take=0.05
    )
    assert d.sspProtocolVersion >= 6
    with wire(emu) as seen:
        assert d.DispenseValue(VCC(500, "EUR")) == DTRR.OK
    assert hexes(seen, 0x33) == ["33 f4 01 00 00 45 55 52 19", "33 f4 01 00 00 45 55 52 58"]
    rec.wait_for(lambda: emu.device.job is None, what="payout done")
    with wire(emu) as seen:
        assert d.PayoutByDenomination(VCC(1000, "EUR"), 1) == DTRR.OK
    assert hexes(seen, 0x46) == [
        "46 01 01 00 e8 03 00 00 45 55 52 19",
        "46 01 01 00 e8 03 00 00 45 55 52 58",
    ]
    rec.wait_for(lambda: emu.device.job is None, what="payout by denomination done")
    with wire(emu) as seen:
        assert d.SetDenominationRoute(VCC(500, "EUR"), DenominationRoute.CASHBOX) == SDRRR.OK
        assert d.EnablePayoutDevice(0x01) and d.EnablePayout()
        assert d.SetDenominationInhibit(VCC(500, "EUR"), True)
        d.RefillMode(True)
        assert d.SetBarcodeReaderConfiguration(3, 1, 18) and d.SetBarcodeInhibit(0xFD)
    channel = next(e.Channel for e in d.currencyAssignment if e.Value == 500)
    assert hexes(seen, 0x3B) == ["3b 01 f4 01 00 00 45 55 52"]
    assert hexes(seen, 0x3C) == ["3c f4 01 00 00 45 55 52"]  # the confirmation
    assert hexes(seen, 0x5C) == ["5c 01", "5c"]
    [inhibits] = hexes(seen, 0x02)
    mask = int.from_bytes(bytes.fromhex(inhibits)[1:], "little")
    assert not mask & (1 << (channel - 1)) and len(bytes.fromhex(inhibits)) == 3  # two mask bytes
    assert hexes(seen, 0x30) == ["30 05 81 10 11 01"]
    assert hexes(seen, 0x24) == ["24 03 01 12"] and hexes(seen, 0x26) == ["26 fd"]
    assert next(e.AcceptRoute for e in d.currencyAssignment if e.Value == 500) == DenominationRoute.CASHBOX


def test_a_smart_hopper_below_protocol_6_routes_by_u16_value(emulators: Make, devices: Make) -> None:
    """GA138: SET / GET DENOMINATION ROUTE carry a SMART Hopper's value as a u16 below protocol 6,
    at start-up (the route read) as in SetDenominationRoute; PAYOUT AMOUNT is the value alone."""
    emu, d, rec = open_emulated(emulators, devices, "SMART_HOPPER", protocol_max=5, levels={100: 5})
    assert d.sspProtocolVersion == 5
    with wire(emu) as seen:
        assert d.SetDenominationRoute(VCC(100, "EUR"), DenominationRoute.CASHBOX) == SDRRR.OK
        assert d.DispenseValue(VCC(200, "EUR")) == DTRR.OK
    assert hexes(seen, 0x3B) == ["3b 01 64 00"]
    assert hexes(seen, 0x3C) == ["3c 64 00"]
    assert hexes(seen, 0x33) == ["33 c8 00 00 00"]  # no test pass, no country, no option below v6
    rec.wait_for(lambda: emu.device.job is None, what="payout done")
    d.Close()
    again = devices()
    Recorder(again)
    with wire(emu) as seen:
        assert again.Open(emu.url, emu.address, DeviceModel.SMART_HOPPER) == CashSystemOpenResult.OK
        rec.wait_for(lambda: bool(again.currencyAssignment), what="setup read")
        rec.wait_for(lambda: any(d[0] == 0x22 for d in seen), what="levels read")
    assert "3c 64 00" in hexes(seen, 0x3C)  # the start-up route read, u16 value
    assert (
        next(e.AcceptRoute for e in again.currencyAssignment if e.Value == 100) == DenominationRoute.CASHBOX
    )


def test_set_denomination_level_below_protocol_6_sends_a_u16_value(emulators: Make, devices: Make) -> None:
    """ssp-protocol.md §4.3 (0x34): before protocol 6 SET DENOMINATION LEVEL is u16 count, u16
    value.  The host used to send a u32 value there, which the unit refuses (the level never
    changed)."""
    emu, d, _rec = open_emulated(emulators, devices, "SMART_HOPPER", protocol_max=5, levels={100: 5})
    assert d.sspProtocolVersion == 5
    coin = next(x for x in emu.denominations if x.value == 100)
    with wire(emu) as seen:
        assert d.Set_Denomination_Level(VCC(100, "EUR"), 3)
        assert d.SetDenominationLevel(2)  # every denomination
    assert hexes(seen, 0x34)[0] == "34 03 00 64 00"
    assert all(len(h.split()) == 5 for h in hexes(seen, 0x34))
    assert emu.levels[coin] == 10
