"""The REST routes of users, the connection and the note, escrow, barcode and payout methods."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from ..cash_device import CashDevice
from ..enums import (
    CashSystemOpenResult,
    DenominationRoute,
    DeviceModel,
    DispenseTransactionRequestResult,
    SetDenominationRouteRequestResult,
)
from ..records import LevelInfo, LevelsResult
from . import binding as b
from ._routing import Call, Reply, Server, cs, log, ok, read, route, simple
from .registry import WORKERS_PER_DEVICE, DeviceEntry

# ------------------------------------------------------------------------------------- Users


@route("Authenticate", "POST", 703, group="Users", device=False, auth=False, body='{"Username","Password"}')
def authenticate(c: Call) -> Reply:
    username = b.str_field(c.body, "Username")
    password = b.str_field(c.body, "Password")
    creds = c.server.credentials
    if not creds.verify(username, password):
        log.warning("Authenticate: rejected credentials")
        return Reply(400, {"message": "Username or password is incorrect"})
    headers = None
    if creds.is_default:
        log.warning(
            "Authenticate: the default credentials are in use; change them with /api/Users/UpdateCredentials"
        )
        headers = {
            "X-Credentials-Warning": "default credentials in use: "
            "change them with /api/Users/UpdateCredentials"
        }
    return Reply(200, {"token": c.server.tokens.issue()}, headers)


@route(
    "UpdateCredentials",
    "POST",
    927,
    group="Users",
    device=False,
    body='{"CurrentUsername"|"OldUsername","CurrentPassword"|"OldPassword","NewUsername","NewPassword"}',
)
def update_credentials(c: Call) -> Reply:
    current_user = b.str_field(c.body, "CurrentUsername", "OldUsername")
    current_password = b.str_field(c.body, "CurrentPassword", "OldPassword")
    new_user = b.str_field(c.body, "NewUsername")
    new_password = b.str_field(c.body, "NewPassword")
    if not new_user.strip() or len(new_password) < 8:
        raise b.BadRequest(
            "NewUsername must not be empty and NewPassword needs at least 8 characters.", "NewPassword"
        )
    if not c.server.credentials.verify(current_user, current_password):
        return Reply(401, "Old username or password is incorrect")
    c.server.credentials.update(new_user, new_password)
    c.server.tokens.revoke_all_but(c.token)
    log.warning("UpdateCredentials: credentials changed; other tokens revoked")
    return Reply(200, {"message": "Credentials updated successfully"})


# ------------------------------------------------------------------------------- connection


@route("GetConnectedUSBDevices", "GET", 833, device=False)
def get_connected_usb_devices(c: Call) -> Reply:
    from serial.tools import list_ports

    out = []
    for port in list_ports.comports():
        if port.vid == 0x191C:
            out.append(
                {
                    "Port": port.device,
                    "DeviceName": port.product or port.description or "",
                    "VendorId": port.vid,
                    "ProductId": port.pid or 0,
                }
            )
    return Reply(200, out)


@route(
    "OpenConnection",
    "POST",
    1066,
    device=False,
    body='{"ComPort","SspAddress","EncKey","LogFilePath","SetInhibits":[{"Denomination","Inhibit"}],'
    '"SetRoutes":[{"Denomination","Route"}],"SetCoinMechInhibits":{"ValueCountryCodes","Inhibit"},'
    '"SetHopperOptions":{"Reg0","Reg1"},"SetCashBoxPayoutLimit":[],"SetTwinMode","SetFeederRoutes",'
    '"EnableAcceptor","EnableAutoAcceptEscrow","EnablePayout"}',
)
def open_connection(c: Call) -> Reply:
    return OPEN_CONNECTION(c)


def _parse_open(body: Any) -> dict[str, Any]:
    """Validate the whole OpenConnection body before anything touches a port."""
    p: dict[str, Any] = {}
    p["port"] = b.str_field(body, "ComPort")
    if not p["port"].strip() or "\x00" in p["port"]:
        raise b.BadRequest("ComPort must name a port.", "ComPort")
    p["address"] = b.int_field(body, "SspAddress", 0x7D, required=False, default=0)
    p["key"] = b.int_field(body, "EncKey", 2**64 - 1, required=False, default=0x0123456701234567)
    log_path = b.field(body, "LogFilePath", required=False)
    p["log"] = b.as_str(log_path, "LogFilePath") if log_path is not None else None
    p["inhibits"] = [
        (b.denomination(b.field(x, "Denomination")), b.bool_field(x, "Inhibit"))
        for x in _list(b.field(body, "SetInhibits", required=False, default=[]), "SetInhibits")
    ]
    p["routes"] = [
        (b.denomination(b.field(x, "Denomination")), _route(b.int_field(x, "Route", 255)))
        for x in _list(b.field(body, "SetRoutes", required=False, default=[]), "SetRoutes")
    ]
    coin = b.field(body, "SetCoinMechInhibits", required=False)
    if coin is not None:
        values = [
            b.denomination(v, "ValueCountryCodes")
            for v in _list(b.field(coin, "ValueCountryCodes"), "ValueCountryCodes")
        ]
        p["coin"] = (values, b.bool_field(coin, "Inhibit"))
    hopper = b.field(body, "SetHopperOptions", required=False)
    if hopper is not None:
        p["hopper"] = (b.int_field(hopper, "Reg0", b.BYTE), b.int_field(hopper, "Reg1", b.BYTE))
    limit = b.field(body, "SetCashBoxPayoutLimit", required=False)
    if limit is not None:
        p["limit"] = b.int_list(limit, "SetCashBoxPayoutLimit")
    twin = b.field(body, "SetTwinMode", required=False)
    if twin is not None:
        p["twin"] = b.as_int(twin, "SetTwinMode", b.BYTE)
    feeder = b.field(body, "SetFeederRoutes", required=False)
    if feeder is not None:
        p["feeder"] = [
            (b.denomination(b.field(x, "Denomination")), b.int_field(x, "Route", b.BYTE))
            for x in _list(feeder, "SetFeederRoutes")
        ]
    for name in ("EnableAcceptor", "EnableAutoAcceptEscrow", "EnablePayout"):
        value = b.field(body, name, required=False)
        p[name] = None if value is None else b.as_bool(value, name)
    return p


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise b.BadRequest(f"{name} must be a JSON array.", name)
    return value


def _route(value: int) -> DenominationRoute:
    try:
        return DenominationRoute(value)
    except ValueError:
        raise b.BadRequest(f"Route {value} is not a denomination route (0-7).", "Route") from None


def _configure(dev: CashDevice, p: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    now = datetime.now()
    if dev.SetRealTimeClock(now.day, now.month, now.year % 100, now.hour, now.minute, now.second):
        out["realTimeClock"] = f"Successfully set real time clock to {now:%d/%m/%Y %H:%M:%S}."
    else:
        out["realTimeClock"] = "Failed to set real time clock."
    text = ""
    for vcc, inhibit in p["inhibits"]:
        word = "INHIBITED" if inhibit else "UNINHIBITED"
        result = "SUCCESS" if dev.SetDenominationInhibit(vcc, inhibit) else "FAILED"
        text += f"{result}: {vcc.Value} {vcc.CountryCode} {word}.\n"
    out["inhibits"] = text
    text = ""
    for vcc, route_ in p["routes"]:
        res = dev.SetDenominationRoute(vcc, route_)
        if res is SetDenominationRouteRequestResult.OK:
            text += f"SUCCESS: Set route for {vcc.Value} {vcc.CountryCode} to {route_.name}.\n"
        else:
            text += f"FAILED: Set route for {vcc.Value} {vcc.CountryCode} to {route_.name}: {res.name}.\n"
    out["routes"] = text
    if "coin" in p:
        values, inhibit = p["coin"]
        done = dev.SetCoinMechInhibits(values, inhibit)
        out["coinMechInhibits"] = f"{'SUCCESS' if done else 'FAILED'}: coin mech inhibits set."
    if "hopper" in p:
        done = dev.SetHopperOptions(*p["hopper"])
        out["hopperOptions"] = f"{'SUCCESS' if done else 'FAILED'}: hopper options set."
    if "limit" in p:
        limit = dev.SetCashBoxPayoutLimit(p["limit"])
        verdict = "SUCCESS" if limit is DispenseTransactionRequestResult.OK else "FAILED"
        out["cashBoxPayoutLimit"] = f"{verdict}: {limit.name}."
    if "twin" in p:
        done = dev.SetTwinMode(p["twin"])
        out["twinMode"] = f"{'SUCCESS' if done else 'FAILED'}: twin mode set to {p['twin']}."
    if "feeder" in p:
        # CashDevice has no feeder-route method (TSCS 0x05 0x85 is unpublished): reported, not faked.
        out["feederRoutes"] = "".join(
            f"FAILED: Set feeder route for {v.Value} {v.CountryCode}: NOT_SUPPORTED.\n"
            for v, _ in p["feeder"]
        )
    if p["EnableAcceptor"] is not None:
        dev.EnableAcceptor() if p["EnableAcceptor"] else dev.DisableAcceptor()
    if p["EnableAutoAcceptEscrow"] is not None:
        dev.SetAutoAccept(p["EnableAutoAcceptEscrow"])
    if p["EnablePayout"] is not None:
        dev.EnablePayout() if p["EnablePayout"] else dev.DisablePayout()
    return out


def _levels(dev: CashDevice) -> list[dict[str, Any]]:
    return [LevelInfo(e.CountryCode, e.Value, e.Stored).to_json() for e in dev.currencyAssignment]


def OPEN_CONNECTION(c: Call) -> Reply:
    p = _parse_open(c.body)
    reg = c.server.registry
    port = p["port"]
    if reg.downloading_to(port):
        # (a serial port's exclusive lock would refuse it; the emulator's cashdevice:// port would
        # hand the unit to this open and end the download)
        return Reply(
            400,
            {
                "deviceID": "",
                "openResult": CashSystemOpenResult.PORT_ERROR.name,
                "error": f"Port {port} is busy with a firmware download.",
            },
        )
    if not reg.reserve(port):
        # the open device's deviceID: a client whose earlier OpenConnection answer was lost (it
        # timed out while the server opened the port) has no other way to learn it
        return Reply(
            400,
            {
                "deviceID": reg.device_id_on(port),
                "openResult": CashSystemOpenResult.ALREADY_OPEN.name,
                "error": f"Port {port} is already open.",
            },
        )
    emulated = reg.emulated.get(port)
    dev = CashDevice(allow_unverified=emulated is not None)
    executor = ThreadPoolExecutor(max_workers=WORKERS_PER_DEVICE, thread_name_prefix="rest-device")
    added = False
    try:
        model = emulated.model if emulated else DeviceModel.NOTE_VALIDATOR
        result = executor.submit(dev.Open, port, p["address"], model, p["key"], p["log"]).result()
        if result is not CashSystemOpenResult.OK:
            return Reply(400, {"deviceID": "", "openResult": result.name, "error": "Failed to open device."})
        device_id = f"{dev.deviceModel.name}-{port}"

        def configure() -> dict[str, Any]:
            dev.Connect()
            dev.startRunning()
            steps = _configure(dev, p)
            dev.GetAllLevels()
            dev.GetCounters()
            return steps

        steps = executor.submit(configure).result()
        entry = DeviceEntry(device_id, port, dev, executor)
        reg.add(entry)
        added = True
        body = {
            "deviceID": device_id,
            "isOpen": dev.isOpen,
            "deviceModel": dev.deviceModel.name,
            "sspProtocolVersion": dev.sspProtocolVersion,
            "deviceError": dev.deviceError.name,
            "firmware": dev.firmware,
            "dataset": dev.dataset,
            "validatorSerialNumber": str(dev.mainSerialNumber),
            "payoutModuleSerialNumber": str(dev.payoutModuleSerialNumber),
            "validatorRevision": dev.mainBuildRevisionString,
            "payoutModuleRevision": dev.payoutModuleRevisionString,
            "realTimeClock": steps.pop("realTimeClock"),
            "allLevels": _levels(dev),
            "counters": dev.counters_string,
            "inhibits": steps.pop("inhibits"),
            "routes": steps.pop("routes"),
            **steps,
            "acceptorEnabled": dev.acceptorEnabled,
            "autoAcceptEscrowEnabled": dev.autoAcceptEscrowEnabled,
            "payoutEnabled": dev.payoutEnabled,
        }
        return Reply(200, body)
    except Exception as exc:  # the seed's 500 answer (L1328-L1332)
        log.exception("OpenConnection(%s) failed", port)
        return Reply(
            500, {"DeviceID": "", "Error": f"Error opening cash device: {type(exc).__name__}: {exc}"}
        )
    finally:
        if not added:
            reg.release(port)
            dev.Close()
            executor.shutdown(wait=False)


@route("DisconnectDevice", "POST", 1502)
def disconnect_device(c: Call) -> Reply:
    """Close the device.  It stays in the registry until closed, so that a GetDeviceStatus meanwhile
    drains its queue; what the close itself fires (a credited note's STACKED, a payout's end in the
    last poll) is kept for the next GetDeviceStatus of this deviceID, or for the next device
    opened on the port (:attr:`Registry.undelivered`)."""
    reg = c.server.registry
    entry = reg.begin_close(c.device_id)
    if entry is None:
        return Reply(404, f"Device with ID {c.device_id} not found.")
    try:
        entry.device.Disconnect()
    finally:
        reg.finish_close(entry)
    # This runs on one of entry.executor's threads: let the others finish, without waiting on ourselves.
    threading.Thread(target=entry.executor.shutdown, name="rest-disconnect", daemon=True).start()
    return ok(f"{c.device_id}: Device disconnected and cleaned up successfully.")


@route("StartDevice", "POST", 1601)
def start_device(c: Call) -> Reply:
    c.dev.startRunning()
    return simple(
        c, c.dev.isRunning, "Device started successfully.", "Failed to start device.", fail_status=500
    )


@route("StopDevice", "POST", 1704)
def stop_device(c: Call) -> Reply:
    c.dev.stopRunning()
    return ok(f"{c.device_id}: Device stopped successfully.")


@route("LogRawPackets", "POST", 1791, body="true|false")
def log_raw_packets(c: Call) -> Reply:
    on = b.scalar_bool(c.body, "LogRawPackets")
    c.dev.logRawPackets(on)
    return ok(f"{c.device_id}: Raw packet logging has been {'enabled' if on else 'disabled'}.")


@route("GetCompleteCashDevice", "GET", 1910)
def get_complete_cash_device(c: Call) -> Reply:
    return ok(f"{c.device_id}: " + json.dumps(c.dev.GetCompleteCashDevice(), indent=2))


@route("GetDeviceStatus", "GET", 2432, inline=True)
def get_device_status(c: Call) -> Reply:
    """The queued events, drained (L2453: "a queue of states").  A client gone before the answer
    is sent gets them at its next call instead (``undo``; the endpoint checks)."""
    events = c.dev.GetDeviceStatus()
    entry, reg = c.entry, c.server.registry
    assert entry is not None
    # (put back into the device, or where its close leaves events if DisconnectDevice closed it meanwhile)
    return Reply(200, [e.to_json() for e in events], undo=lambda: reg.return_status(entry, list(events)))


def undelivered_status(server: Server, device_id: str) -> Reply | None:
    """GetDeviceStatus of a deviceID that DisconnectDevice closed: the events its close fired, which
    no client has taken yet (None when there are none: the usual 404)."""
    reg = server.registry
    kept = reg.take_undelivered(device_id)
    if kept is None:
        return None
    port, events = kept
    return Reply(
        200, [e.to_json() for e in events], undo=lambda: reg.keep_undelivered(device_id, port, events)
    )


@route("GetCounters", "GET", 2764)
def get_counters(c: Call) -> Reply:
    return read(c, c.dev.GetCounters(), "Failed to get counters.", CountersData=c.dev.counters_string)


@route("GetAllLevels", "GET", 2879)
def get_all_levels(c: Call) -> Reply:
    done = c.dev.GetAllLevels()
    levels = tuple(LevelInfo(e.CountryCode, e.Value, e.Stored) for e in c.dev.currencyAssignment)
    message = "Successfully retrieved all levels." if done else "Failed to retrieve all levels."
    return Reply(200 if done else 400, LevelsResult(levels, done, message).to_json())


@route("GetCurrencyAssignment", "GET", 3029)
def get_currency_assignment(c: Call) -> Reply:
    entries = [e.to_json("camel") for e in c.dev.currencyAssignment]
    if not entries:
        return Reply(404, f"{c.device_id}: No currency assignments found.")
    return Reply(200, entries)


@route("SetDenominationLevel", "POST", 3201, body='{"Value","CountryCode","NumCoinsToAdd"}')
def set_denomination_level(c: Call) -> Reply:
    vcc = b.vcc(c.body)
    n = b.int_field(c.body, "NumCoinsToAdd", b.USHORT)
    return simple(
        c,
        c.dev.Set_Denomination_Level(vcc, n),
        "Denomination level set successfully.",
        "Failed to set denomination level.",
    )


@route("EnablePayout", "POST", 3325)
def enable_payout(c: Call) -> Reply:
    return simple(
        c, c.dev.EnablePayout(), "Payout enabled successfully.", "Failed to enable payout.", prefix=False
    )


def _enable_payout_device(c: Call, option: int | None) -> Reply:
    if c.dev.EnablePayoutDevice(option):
        return ok(f"{c.device_id}: Payout device enabled successfully.")
    return Reply(500, f"Failed to enable payout device. Error: {cs(c.dev.enablePayoutDeviceError)}")


@route("EnablePayoutDevice", "POST", 3419)
def enable_payout_device(c: Call) -> Reply:
    return _enable_payout_device(c, None)


@route("EnablePayoutDeviceWithByte", "POST", 3527, body='{"EnablePayoutDeviceByte"}')
def enable_payout_device_with_byte(c: Call) -> Reply:
    return _enable_payout_device(c, b.int_field(c.body, "EnablePayoutDeviceByte", b.BYTE))


@route("DisablePayout", "POST", 3719)
def disable_payout(c: Call) -> Reply:
    return simple(
        c, c.dev.DisablePayout(), "Payout disabled successfully.", "Failed to disable payout.", prefix=False
    )


@route("EnableAcceptor", "POST", 3809)
def enable_acceptor(c: Call) -> Reply:
    c.dev.EnableAcceptor()
    return simple(
        c,
        c.dev.acceptorEnabled,
        "Acceptor enabled successfully.",
        "Failed to enable acceptor.",
        fail_status=500,
    )


@route("DisableAcceptor", "POST", 3901)
def disable_acceptor(c: Call) -> Reply:
    c.dev.DisableAcceptor()
    return simple(
        c,
        not c.dev.acceptorEnabled,
        "Acceptor disabled successfully.",
        "Failed to disable acceptor.",
        fail_status=500,
    )


@route("SetAutoAccept", "POST", 3997, body="true|false")
def set_auto_accept(c: Call) -> Reply:
    on = b.scalar_bool(c.body, "SetAutoAccept")
    c.dev.SetAutoAccept(on)
    return ok(f"{c.device_id}: Auto-accept set to {cs(c.dev.autoAcceptEscrowEnabled)}")


@route("AcceptFromEscrow", "POST", 4100)
def accept_from_escrow(c: Call) -> Reply:
    return simple(
        c, c.dev.AcceptFromEscrow(), "Note can be accepted from escrow.", "Error accepting note from escrow"
    )


@route("ReturnFromEscrow", "POST", 4203)
def return_from_escrow(c: Call) -> Reply:
    return simple(
        c, c.dev.ReturnFromEscrow(), "Note can be returned from escrow.", "Error returning note from escrow"
    )


@route("SetDenominationInhibits", "POST", 4317, body='{"ValueCountryCodes":["2000 GBP"],"Inhibit"}')
def set_denomination_inhibits(c: Call) -> Reply:
    values = [
        b.denomination(v, "ValueCountryCodes")
        for v in _list(b.field(c.body, "ValueCountryCodes"), "ValueCountryCodes")
    ]
    inhibit = b.bool_field(c.body, "Inhibit")
    if c.dev.SetDenominationInhibits(values, inhibit):
        return ok(f"{c.device_id}: Denomination inhibits set successfully.")
    return Reply(400, "Failed to set denomination inhibits.")


@route("SetDenominationInhibitByIndex", "POST", 4453, body='{"Index","Inhibit"}')
def set_denomination_inhibit_by_index(c: Call) -> Reply:
    index = b.int_field(c.body, "Index")
    inhibit = b.bool_field(c.body, "Inhibit")
    word = "inhibited" if inhibit else "uninhibited"
    return simple(
        c,
        c.dev.SetDenominationInhibit(index, inhibit),
        f"Denomination at index {index} successfully {word}.",
        f"Failed to set inhibit for denomination at index {index}.",
        fail_status=500,
    )


@route("SetDenominationInhibit", "POST", 4577, body='{"Value","CountryCode","Inhibit"}')
def set_denomination_inhibit(c: Call) -> Reply:
    vcc = b.vcc(c.body)
    inhibit = b.bool_field(c.body, "Inhibit")
    word = "inhibited" if inhibit else "uninhibited"
    return simple(
        c,
        c.dev.SetDenominationInhibit(vcc, inhibit),
        f"Denomination {vcc.Value} for country {vcc.CountryCode} successfully {word}.",
        f"Failed to set inhibit for denomination {vcc.Value} {vcc.CountryCode}.",
        fail_status=500,
    )


@route("SetDenominationRoute", "POST", 4704, body='{"Value","CountryCode","Route"}')
def set_denomination_route(c: Call) -> Reply:
    vcc = b.vcc(c.body)
    route_ = _route(b.int_field(c.body, "Route", 255))
    res = c.dev.SetDenominationRoute(vcc, route_)
    if res is SetDenominationRouteRequestResult.OK:
        return ok(f"{c.device_id}: Set {vcc.Value} {vcc.CountryCode} route to {route_.name} successfully!")
    return Reply(
        400, f"{c.device_id}: Failed to set {vcc.Value} {vcc.CountryCode} route to {route_.name}: {res.name}"
    )


# ---------------------------------------------------------------------------------- barcode


@route("GetBarcodeReaderConfiguration", "GET", 4847)
def get_barcode_reader_configuration(c: Call) -> Reply:
    if not c.dev.GetBarcodeReaderConfiguration():
        return Reply(500, "Unable to get barcode reader configuration.")
    d = c.dev
    return Reply(
        200,
        {
            "hardwareStatus": d.barCodeHardwareStatus,
            "readersEnabled": d.readersEnabled,
            "barcodeFormat": d.barCodeFormat,
            "numCharacters": str(d.numberOfCharacters),
        },
    )


@route(
    "SetBarcodeReaderConfiguration",
    "POST",
    4990,
    body='{"EnableReaders","BarCodeFormat","NumberOfCharacters"}',
)
def set_barcode_reader_configuration(c: Call) -> Reply:
    readers = b.int_field(c.body, "EnableReaders", b.BYTE)
    fmt = b.int_field(c.body, "BarCodeFormat", b.BYTE)
    chars = b.int_field(c.body, "NumberOfCharacters", b.BYTE)
    if c.dev.SetBarcodeReaderConfiguration(readers, fmt, chars):
        return ok("Barcode reader configuration updated successfully.")
    return Reply(500, "Unable to update barcode reader configuration.")


@route("GetBarcodeInhibit", "GET", 5148)
def get_barcode_inhibit(c: Call) -> Reply:
    if not c.dev.GetBarcodeInhibit():
        return Reply(500, "Failed to get barcode inhibit status.")
    return Reply(200, {"deviceID": c.device_id, "barcodeInhibitStatus": c.dev.barCodeInhibit})


@route("SetBarcodeInhibit", "POST", 5267, body="252")
def set_barcode_inhibit(c: Call) -> Reply:
    value = b.scalar_int(c.body, "SetBarcodeInhibit", b.BYTE)
    if c.dev.SetBarcodeInhibit(value):
        return ok(f"{c.device_id}: Barcode inhibit set successfully.")
    return Reply(500, "Failed to set barcode inhibit.")


@route("GetBarcodeData", "GET", 5400)
def get_barcode_data(c: Call) -> Reply:
    if not c.dev.GetBarcodeData():
        return Reply(500, "Failed to get Barcode Data")
    return Reply(200, {"ticketStatus": c.dev.ticketStatus, "barcodeData": c.dev.barcode_ascii_data})


# ----------------------------------------------------------------------------------- payout


@route("DispenseValue", "POST", 5513, body='{"Value","CountryCode"}')
def dispense_value(c: Call) -> Reply:
    res = c.dev.DispenseValue(b.vcc(c.body))
    if res is DispenseTransactionRequestResult.OK:
        return ok("Dispense operation initiated successfully.")
    return Reply(400, f"Failed to initiate dispense operation: {res.name}")


@route("PayoutByDenomination", "POST", 5656, body='{"Value","CountryCode","NumNotes"}')
def payout_by_denomination(c: Call) -> Reply:
    vcc = b.vcc(c.body)
    n = b.int_field(c.body, "NumNotes")
    res = c.dev.PayoutByDenomination(vcc, n)
    done = res is DispenseTransactionRequestResult.OK
    return Reply(200 if done else 400, {"success": done, "message": f"Payout operation status: {res.name}"})


@route("PayoutMultipleDenominations", "POST", 5807, body="[2,1,1,0]")
def payout_multiple_denominations(c: Call) -> Reply:
    res = c.dev.PayoutbyDenomination(b.int_list(c.body, "PayoutMultipleDenominations"))
    if res is DispenseTransactionRequestResult.OK:
        return ok("Payout by denomination initiated successfully.")
    return Reply(400, f"Failed to initiate payout by denomination: {res.name}")


@route("Float", "POST", 5942, body="[2,2,2,0]")
def float_(c: Call) -> Reply:
    res = c.dev.Float(b.int_list(c.body, "Float"))
    if res is DispenseTransactionRequestResult.OK:
        return ok(f"{c.device_id}: Float operation completed successfully.")
    if res is DispenseTransactionRequestResult.NOT_ENOUGH_VALUE:
        return Reply(400, "Not enough value to perform float.")
    return Reply(400, f"Failed to perform float: {res.name}")


@route("SetCashboxPayoutLimit", "POST", 6069, body="[5,5,5,0]")
def set_cashbox_payout_limit(c: Call) -> Reply:
    res = c.dev.SetCashBoxPayoutLimit(b.int_list(c.body, "SetCashboxPayoutLimit"))
    return simple(
        c,
        res is DispenseTransactionRequestResult.OK,
        "Cashbox payout limit set successfully.",
        f"Failed to set cashbox payout limit: {res.name}",
    )


@route("SmartEmpty", "POST", 6192, body='{"ModuleNumber","IsNV4000"}')
def smart_empty(c: Call) -> Reply:
    module = b.int_field(c.body, "ModuleNumber", b.BYTE, required=False, default=0)
    nv4000 = b.bool_field(c.body, "IsNV4000", required=False, default=False)
    res = c.dev.SmartEmpty(module, nv4000)
    return simple(
        c,
        res is DispenseTransactionRequestResult.OK,
        "Smart empty operation completed successfully.",
        f"Failed to perform smart empty: {res.name}",
        prefix=False,
    )


@route("SendCustomCommand", "POST", 6319, body='{"CustomCommandDataString":"01"}')
def send_custom_command(c: Call) -> Reply:
    text = b.str_field(c.body, "CustomCommandDataString").replace(" ", "")
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise b.BadRequest(
            'CustomCommandDataString must be hexadecimal bytes, e.g. "01".', "CustomCommandDataString"
        ) from None
    if not 1 <= len(data) <= 255:
        raise b.BadRequest("CustomCommandDataString must hold 1 to 255 bytes.", "CustomCommandDataString")
    return simple(
        c,
        c.dev.SendCustomCommand(data, len(data)),
        "Custom command sent successfully.",
        "Failed to send custom command.",
        prefix=False,
    )


@route("EnableCoinMechOrFeeder", "POST", 6437)
def enable_coin_mech_or_feeder(c: Call) -> Reply:
    return simple(
        c,
        c.dev.EnableCoinMechOrFeeder(),
        "Coin mechanism or feeder enabled successfully.",
        "Failed to enable coin mechanism or feeder.",
        prefix=False,
    )


@route("ResetDevice", "POST", 6531)
def reset_device(c: Call) -> Reply:
    return simple(
        c, c.dev.ResetDevice(), "Device reset successfully.", "Failed to reset device.", prefix=False
    )


@route("HaltPayout", "POST", 6625)
def halt_payout(c: Call) -> Reply:
    return simple(
        c, c.dev.HaltPayout(), "Payout halted successfully.", "Failed to halt payout.", prefix=False
    )


@route("GetRCMode", "GET", 6718)
def get_rc_mode(c: Call) -> Reply:
    if not c.dev.GetRCMode():
        return Reply(500, "Failed to get RC Mode.")
    mode = c.dev.RC_CurrentMode
    return ok(getattr(mode, "name", str(mode)))


@route("Replenish", "POST", 6827, body="4")
def replenish(c: Call) -> Reply:
    res = c.dev.Replenish(b.scalar_int(c.body, "Replenish"))
    return simple(
        c,
        res is DispenseTransactionRequestResult.OK,
        "Replenishment completed successfully.",
        f"Failed to replenish: {res.name}",
        prefix=False,
    )


@route("RefillMode", "POST", 6932, body="true|false")
def refill_mode(c: Call) -> Reply:
    on = b.scalar_bool(c.body, "RefillMode")
    c.dev.RefillMode(on)
    return ok(f"{c.device_id}: Refill mode {'enabled' if on else 'disabled'} successfully.")


@route("KeyExchangeLimit32bit", "POST", 7032)
def key_exchange_limit_32bit(c: Call) -> Reply:
    return simple(
        c,
        c.dev.KeyExchangelimit32bit(),
        "Key exchange limit set to 32-bit successfully.",
        "Failed to set key exchange limit to 32-bit.",
        prefix=False,
    )
