"""The REST routes of coin devices and service, the state and error checks, and the firmware download."""

from __future__ import annotations

import os
from typing import Any

from ..cash_device import CashDevice
from ..enums import (
    DeviceError,
    DeviceState,
    SetSorterRouteRequestResult,
)
from ..records import DownloadStatus
from . import _device_routes  # noqa: F401  (registered first: ROUTES keeps the REST documentation's order)
from . import binding as b
from ._routing import Call, Reply, hex2, kv, ok, read, route, simple

# ------------------------------------------------------------------------------------ coins


@route("GetHopperOptions", "GET", 7127)
def get_hopper_options(c: Call) -> Reply:
    return read(
        c,
        c.dev.GetHopperOptions(),
        "Failed to get hopper options.",
        Reg0=c.dev.reg_0_hex_string,
        Reg1=c.dev.reg_1_hex_string,
    )


@route("SetHopperOptions", "POST", 7329, body='{"Reg0","Reg1"}')
def set_hopper_options(c: Call) -> Reply:
    reg0 = b.int_field(c.body, "Reg0", b.BYTE)
    reg1 = b.int_field(c.body, "Reg1", b.BYTE)
    return simple(
        c,
        c.dev.SetHopperOptions(reg0, reg1),
        "Hopper options set successfully.",
        "Failed to set hopper options.",
        prefix=False,
    )


@route("GetGlobalErrorCode", "GET", 7530)
def get_global_error_code(c: Call) -> Reply:
    return read(
        c,
        c.dev.GetGlobalErrorCode(),
        "Failed to get global error code.",
        ErrorCode0=hex2(c.dev.globalErrorCode_0),
        ErrorCode1=hex2(c.dev.globalErrorCode_1),
    )


@route("GetServiceInformation", "GET", 7626, body="1")
def get_service_information(c: Call) -> Reply:
    sub = b.scalar_int(c.body, "GetServiceInformation", b.BYTE)
    if not c.dev.GetServiceInformation(sub):
        return Reply(400, f"{c.device_id}: Failed to get service information.")
    return ok(kv(c, ServiceInformation=c.dev.service_information_string))


@route("GetServiceInformationForModule", "GET", 7758, body='{"Module","SubCommand"}')
def get_service_information_for_module(c: Call) -> Reply:
    module = b.int_field(c.body, "Module", b.BYTE)
    sub = b.int_field(c.body, "SubCommand", b.BYTE)
    if not c.dev.GetServiceInformation(module, sub):
        return Reply(400, f"{c.device_id}: Failed to get service information.")
    return ok(kv(c, ServiceInformation=c.dev.service_information_string))


@route(
    "SetServiceInformationMaintenanceReset",
    "POST",
    7907,
    body='{"WeekNumber1AsciiByte","WeekNumber2AsciiByte","YearNumber1AsciiByte","YearNumber2AsciiByte"}',
)
def set_service_information_maintenance_reset(c: Call) -> Reply:
    names = ("WeekNumber1AsciiByte", "WeekNumber2AsciiByte", "YearNumber1AsciiByte", "YearNumber2AsciiByte")
    values = [b.int_field(c.body, n, b.BYTE) for n in names]
    return simple(
        c,
        c.dev.SetServiceInformation_MaintenanceReset(*values),
        "Maintenance reset information set successfully.",
        "Failed to set maintenance reset information.",
    )


@route("SetNoPayinCount", "POST", 8044, body="0")
def set_no_payin_count(c: Call) -> Reply:
    count = b.scalar_int(c.body, "SetNoPayinCount", b.USHORT)
    if not c.dev.SetNoPayinCount(count):
        return Reply(400, f"{c.device_id}: Failed to set no pay-in count.")
    return ok(kv(c, NoPayinCount=c.dev.noPayinCount))


@route("Purge", "POST", 8148)
def purge(c: Call) -> Reply:
    return simple(c, c.dev.Purge(), "Purge executed successfully.", "Failed to execute purge.")


@route("PurgeDevice", "POST", 8246, body="1")
def purge_device(c: Call) -> Reply:
    device = b.scalar_int(c.body, "PurgeDevice", b.BYTE)
    return simple(
        c,
        c.dev.Purge(device),
        "Purge executed successfully on specified device.",
        "Failed to execute purge on specified device.",
    )


@route("PurgeDeviceHopper", "POST", 8355, body='{"Device","Hopper"}')
def purge_device_hopper(c: Call) -> Reply:
    device = b.int_field(c.body, "Device", b.BYTE)
    hopper = b.int_field(c.body, "Hopper", b.BYTE)
    return simple(
        c,
        c.dev.Purge(device, hopper),
        "Purge executed successfully on specified device and hopper.",
        "Failed to execute purge on specified device and hopper.",
    )


@route("CoinStir", "POST", 8478, body="5")
def coin_stir(c: Call) -> Reply:
    seconds = b.scalar_int(c.body, "CoinStir", b.BYTE)
    return simple(
        c, c.dev.CoinStir(seconds), "Coin stir executed successfully.", "Failed to execute coin stir."
    )


@route("CoinStirWithMode", "POST", 8583, body='{"Seconds","ModeByte"}')
def coin_stir_with_mode(c: Call) -> Reply:
    seconds = b.int_field(c.body, "Seconds", b.BYTE)
    mode = b.int_field(c.body, "ModeByte", b.BYTE)
    return simple(
        c,
        c.dev.CoinStir(seconds, mode),
        "Coin stir with mode executed successfully.",
        "Failed to execute coin stir with mode.",
    )


@route("GetCoinAcceptance", "GET", 8716, body="0")
def get_coin_acceptance(c: Call) -> Reply:
    device = b.scalar_int(c.body, "GetCoinAcceptance", b.BYTE)
    if not c.dev.GetCoinAcceptance(device):
        return Reply(400, "Failed to retrieve coin acceptance data.")
    return ok(kv(c, CoinAcceptanceData=c.dev.coinAcceptance_string))


@route("GetCoinsExit", "GET", 8842)
def get_coins_exit(c: Call) -> Reply:
    if not c.dev.GetCoinsExit():
        return Reply(400, f"{c.device_id}: Failed to get coins exit data.")
    return ok(
        kv(
            c,
            CoinsPayoutRequest=c.dev.coins_payout_request,
            CoinsSeenAtExitSensor=c.dev.coins_seen_at_exit_sensor,
        )
    )


@route("SetRealTimeClock", "POST", 8939, body='{"Byte1".."Byte6"}')
def set_real_time_clock(c: Call) -> Reply:
    values = [b.int_field(c.body, f"Byte{i}", b.BYTE) for i in range(1, 7)]
    if not c.dev.SetRealTimeClock(*values):
        return Reply(400, f"{c.device_id}: Failed to set real time clock.")
    c.dev.GetRealTimeClock()
    return ok(kv(c, RealTimeClock=c.dev.real_time_clock_string))


@route("GetRealTimeClock", "GET", 9082)
def get_real_time_clock(c: Call) -> Reply:
    return read(
        c,
        c.dev.GetRealTimeClock(),
        "Failed to get real time clock.",
        RealTimeClock=c.dev.real_time_clock_string,
    )


@route("SetCashboxLevels", "POST", 9174, body='{"NumCoinsToAdd","Denomination","CountryCode"}')
def set_cashbox_levels(c: Call) -> Reply:
    n = b.int_field(c.body, "NumCoinsToAdd", b.USHORT)
    denomination = b.int_field(c.body, "Denomination")
    code = b.country(b.field(c.body, "CountryCode"))
    return simple(
        c,
        c.dev.SetCashboxLevels(n, denomination, code),
        "Cashbox levels set successfully.",
        "Failed to set cashbox levels.",
    )


@route("ClearCashboxLevels", "POST", 9303)
def clear_cashbox_levels(c: Call) -> Reply:
    return simple(
        c,
        c.dev.ClearCashboxLevels(),
        "Cashbox levels cleared successfully.",
        "Failed to clear cashbox levels.",
    )


@route("GetCashboxLevels", "GET", 9398)
def get_cashbox_levels(c: Call) -> Reply:
    return read(
        c,
        c.dev.GetCashboxLevels(),
        "Failed to get cashbox levels.",
        CashboxLevels=c.dev.cashbox_levels_string,
    )


@route("SetSorterRoute", "POST", 9500, body='{"Value","CountryCode","SorterRoute"}')
def set_sorter_route(c: Call) -> Reply:
    vcc = b.vcc(c.body)
    sorter = b.int_field(c.body, "SorterRoute", b.BYTE)
    res = c.dev.SetSorterRoute(vcc, sorter)
    return simple(
        c,
        res is SetSorterRouteRequestResult.OK,
        "Sorter route set successfully.",
        f"Failed to set sorter route: {res.name}",
    )


@route("GetSorterRouteAssignment", "GET", 9632)
def get_sorter_route_assignment(c: Call) -> Reply:
    entries = [e.to_json() for e in c.dev.sorterRouteAssignment]
    if not entries:
        return Reply(404, f"{c.device_id}: No sorter route assignments found.")
    return Reply(200, entries)


@route("SetPayoutLimit", "POST", 9740, body="5")
def set_payout_limit(c: Call) -> Reply:
    value = b.scalar_int(c.body, "SetPayoutLimit")
    return simple(
        c, c.dev.SetPayoutLimit(value), "Payout limit set successfully.", "Failed to set payout limit."
    )


@route("GetPayoutCount", "GET", 9844)
def get_payout_count(c: Call) -> Reply:
    return read(c, c.dev.GetPayoutCount(), "Failed to get payout count.", PayoutCount=c.dev.payout_count)


@route("SetTwInMode", "POST", 9939, body="1")
def set_twin_mode(c: Call) -> Reply:
    mode = b.scalar_int(c.body, "SetTwInMode", b.BYTE)
    return simple(c, c.dev.SetTwinMode(mode), "Twin mode set successfully.", "Failed to set twin mode.")


@route("ExtendedGetDatasetVersion", "GET", 10074)
def extended_get_dataset_version(c: Call) -> Reply:
    return read(
        c,
        c.dev.ExtendedGetDatasetVersion(),
        "Failed to get extended dataset version.",
        ExtendedDatasetVersion=c.dev.extendedDataset,
    )


@route("ExtendedGetFirmwareVersion", "GET", 10170)
def extended_get_firmware_version(c: Call) -> Reply:
    return read(
        c,
        c.dev.ExtendedGetFirmwareVersion(),
        "Failed to get extended firmware version.",
        ExtendedFirmwareVersion=c.dev.extendedFirmware,
    )


@route("comPortReadError", "GET", 10268)
def com_port_read_error(c: Call) -> Reply:
    return ok(kv(c, ComPortReadError=c.dev.comPortReadError()))


def _enum_body(c: Call, name: str, enum_type: type[DeviceState] | type[DeviceError]) -> Any:
    value = b.scalar_int(c.body, name, 255)
    try:
        return enum_type(value)
    except ValueError:
        raise b.BadRequest(f"{value} is not a {enum_type.__name__} value.", name) from None


@route("DeviceState_StartupReady", "POST", 10360, body="3")
def device_state_startup_ready(c: Call) -> Reply:
    state = _enum_body(c, "DeviceState_StartupReady", DeviceState)
    return ok(kv(c, StartupReady=c.dev.DeviceState_StartupReady(state)))


@route("GetLifterStatus", "GET", 10462)
def get_lifter_status(c: Call) -> Reply:
    if not c.dev.Get_Lifter_Status():
        return Reply(400, f"{c.device_id}: Failed to get lifter status.")
    d = c.dev
    return ok(
        kv(
            c,
            LifterConnected=d.lifterConnected,
            LifterOptoClear=d.lifterOptoClear,
            LifterJammed=d.lifterJammed,
        )
    )


@route("GetLastRejectCode", "GET", 10559)
def get_last_reject_code(c: Call) -> Reply:
    return read(
        c, c.dev.GetLastRejectCode(), "Failed to get last reject code.", RejectCategory=c.dev.rejectCategory
    )


@route("DeviceErrorLimpMode", "POST", 10656, body="2")
def device_error_limp_mode(c: Call) -> Reply:
    error = _enum_body(c, "DeviceErrorLimpMode", DeviceError)
    return ok(kv(c, LimpMode=c.dev.DeviceError_LimpMode(error)))


@route("DeviceStateLimpMode", "POST", 10757, body="2")
def device_state_limp_mode(c: Call) -> Reply:
    state = _enum_body(c, "DeviceStateLimpMode", DeviceState)
    return ok(kv(c, LimpMode=c.dev.DeviceState_LimpMode(state)))


# --------------------------------------------------------------------------------- download


@route(
    "StartDownload",
    "POST",
    10859,
    group="Download",
    device=False,
    body='{"DownloadFileName","ComPort","SspAddress","PacketDownload","BaudRate"}',
)
def start_download(c: Call) -> Reply:
    invalid = "Invalid parameters. Please provide a valid file name and COM port."
    name = b.str_field(c.body, "DownloadFileName")
    port = b.str_field(c.body, "ComPort")
    address = b.int_field(c.body, "SspAddress", 0x7D, required=False, default=0)
    packet = b.bool_field(c.body, "PacketDownload", required=False, default=True)
    baud = b.int_field(c.body, "BaudRate", 4_000_000, required=False, default=115200)
    reg = c.server.registry
    if not name.strip() or not port.strip() or not os.path.isfile(name):
        return Reply(400, invalid)
    if reg.port_in_use(port):
        return Reply(400, f"{invalid} Port {port} is open: disconnect it first.")
    with reg.lock:
        if reg.downloader is not None and reg.downloader.isDownloading:
            return Reply(500, "Failed to initiate download.")
        reg.downloader = CashDevice(allow_unverified=port in reg.emulated)
        reg.download_port = port
        downloader = reg.downloader
    if downloader.DownloadFirmware(port, address, name, packet, baud):
        return ok("Download initiated. Check progress with /GetDownloadStatus.")
    return Reply(500, "Failed to initiate download.")


@route("GetDownloadStatus", "GET", 11013, group="Download", device=False)
def get_download_status(c: Call) -> Reply:
    downloader = c.server.registry.downloader
    status = downloader.downloadStatus if downloader is not None else DownloadStatus()
    return Reply(200, status.to_rest_status())
