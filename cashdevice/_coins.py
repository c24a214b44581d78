"""Coin-device and service methods of ``CashDevice`` (C# names; a private mixin).

SMART Hopper, SMART Coin System, Twin SCS, SMART Hopper 4 and the NV4000 service commands.
Same rules as :mod:`cashdevice._notes`: arguments are validated first; bad input, a model
without the feature, a refused table row or a device answer other than ``F0`` give the
documented failure value (False for the bool methods) with one log line, and bad input sends
nothing.  Every command is built and decoded by its row of :mod:`cashdevice.commands`.

About twenty of these commands have no published bytes (table rows with ``verified=False``:
PURGE, SET/CLEAR/GET_CASHBOX_LEVELS, SET_PAYOUT_LIMIT, GET_PAYOUT_COUNT, GET_COINS_EXIT,
GET_COIN_ACCEPTANCE, SET_NO_PAYIN_COUNT, GET_LIFTER_STATUS, GET/SET_SERVICE_INFORMATION,
SERVICE_MAINTENANCE_RESET, GET_GLOBAL_ERROR_CODE, SET_TWIN_MODE, SET_SORTER_ROUTE,
COIN_STIR_WITH_MODE).  A device refuses them unless the user supplies the bytes
(``device.commands.override`` / ``LoadCommandTable``) or builds it with ``allow_unverified=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

from ._contract import DeviceContract, is_uint
from ._guard import BYTE, FLAG, TEXT, U16, U32, VCC, Overload, csharp, list_of, one_of
from .commands import UnverifiedCommandError, parse_service, service_layout
from .enums import DeviceModel, SetSorterRouteRequestResult, SorterRoute
from .models import COIN_MODELS
from .records import SorterRouteAssignmentEntry, ValueCountryCode
from .ssp import SSPError

SMART_SYSTEMS = frozenset(
    {DeviceModel.SMART_COIN_SYSTEM, DeviceModel.TWIN_SMART_COIN_SYSTEM, DeviceModel.SMART_HOPPER_4}
)
"""SMART System family: RTC, coin stir, 9 counters, the unpublished SCS commands."""
FEEDER_MODELS = frozenset({DeviceModel.SMART_COIN_SYSTEM, DeviceModel.TWIN_SMART_COIN_SYSTEM})
"""Models with a coin feeder (and optional lifter)."""
SERVICE_MODELS = SMART_SYSTEMS | {DeviceModel.NV4000}
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class CoinMethods(DeviceContract):
    """Hopper options, coin mech, purge, stir, cashbox levels, Twin SCS, service, RTC."""

    # ------------------------------------------------------------------------------ plumbing

    def _models(self, what: str, models: frozenset[DeviceModel]) -> bool:
        if self._model in models:
            return True
        self.log.error("%s: not supported on %s", what, self._model.name)
        return False

    def _bad(self, what: str, why: str) -> bool:
        self.log.error("%s: %s", what, why)
        return False

    # ------------------------------------------------------------------------------ hopper options

    @csharp(False)
    def GetHopperOptions(self) -> bool:
        """C# ``bool GetHopperOptions()`` (L12552): GET OPTIONS (0x51) into ``reg_0``, ``reg_1``,
        ``reg_0_hex_string`` and ``reg_1_hex_string`` (two-digit upper-case hex, e.g. ``"04"``).
        False if the command fails, the answer is not OK or shorter than 3 bytes."""
        if not self._models("GetHopperOptions", COIN_MODELS):
            return False
        regs = self._call("GetHopperOptions", "GET_OPTIONS")
        if regs is None:
            return False
        self._set_regs(*regs)
        return True

    @csharp(False, reg_0=BYTE, reg_1=BYTE)
    def SetHopperOptions(self, reg_0: int, reg_1: int) -> bool:
        """C# ``bool SetHopperOptions(byte reg_0, byte reg_1)`` (L12572): SET OPTIONS (0x50,
        protocol >= 6; bits: seed §3.21).  On success ``reg_0`` / ``reg_1`` and their hex strings
        hold the new values.  False for a value outside 0..255 (nothing sent) or a refusal."""
        if not (is_uint(reg_0, 0xFF) and is_uint(reg_1, 0xFF)):
            return self._bad("SetHopperOptions", f"registers must be bytes, got {reg_0!r}, {reg_1!r}")
        if not self._models("SetHopperOptions", COIN_MODELS):
            return False
        if not self._call_ok("SetHopperOptions", "SET_OPTIONS", reg_0, reg_1):
            return False
        self._set_regs(reg_0, reg_1)
        self._hopper_options = (reg_0, reg_1)  # volatile on the unit: set again on reconnect
        return True

    def _set_regs(self, reg_0: int, reg_1: int) -> None:
        self._set(reg_0=reg_0, reg_1=reg_1, reg_0_hex_string=f"{reg_0:02X}", reg_1_hex_string=f"{reg_1:02X}")

    # ------------------------------------------------------------------------------ levels, mech

    @csharp(False, setLevelsDenomination=VCC, numCoinsToAdd=U32)
    def Set_Denomination_Level(self, setLevelsDenomination: ValueCountryCode, numCoinsToAdd: int) -> bool:
        """C# ``bool Set_Denomination_Level(ValueCountryCode setLevelsDenomination, uint
        numCoinsToAdd)`` (L13278): SET DENOMINATION LEVEL (0x34) adds ``numCoinsToAdd`` coins of
        one denomination to the hopper's count; 0 clears it.  Levels are re-read afterwards.
        False for a denomination outside the dataset, a count outside 0..65535 or a refusal."""
        what = "Set_Denomination_Level"
        entry = self._entry(setLevelsDenomination)
        if entry is None:
            return self._bad(what, f"{setLevelsDenomination!r} is not in the dataset")
        if not is_uint(numCoinsToAdd, 0xFFFF):
            return self._bad(what, f"count {numCoinsToAdd!r} outside 0..65535")
        if not self._models(what, COIN_MODELS):
            return False
        ok = self._call_ok(what, "SET_DENOMINATION_LEVEL", numCoinsToAdd, *self._level_denomination(entry))
        try:
            self._read_levels()
        except SSPError as exc:
            self.log.debug("%s: level refresh failed: %s", what, exc)
        return ok

    @csharp(False)
    def EnableCoinMechOrFeeder(self) -> bool:
        """C# ``bool EnableCoinMechOrFeeder()`` (L12399): COIN MECH GLOBAL INHIBIT (0x49) = 1,
        enabling the attached coin mech / feeder (ATTACHED COIN MECH ENABLED follows).  Coin
        models only."""
        if not self._models("EnableCoinMechOrFeeder", COIN_MODELS):
            return False
        return self._call_ok("EnableCoinMechOrFeeder", "COIN_MECH_GLOBAL_INHIBIT", 1)

    @csharp(False, values=list_of(one_of(VCC, U32)), inhibit=FLAG)
    def SetCoinMechInhibits(self, values: Sequence[ValueCountryCode | int] | None, inhibit: bool) -> bool:
        """REST OpenConnection ``SetCoinMechInhibits`` (L1196, "Command 0x40") as a method: SET
        COIN MECH INHIBITS (0x40: 0 inhibit / 1 accept, u16 value, country at v >= 6) once per
        denomination.  ``values`` are ValueCountryCodes, or plain values on a single-currency
        dataset.  False for an empty list, a denomination outside the dataset, a non-coin model
        or a refusal (denominations already sent keep their new state)."""
        what = "SetCoinMechInhibits"
        if not values or isinstance(values, (str, bytes)):
            return self._bad(what, "no denominations given")
        code = self._single_currency()
        channels: set[int] = set()
        for v in values:
            vcc = v if isinstance(v, ValueCountryCode) else None
            if isinstance(v, int) and is_uint(v) and code:
                vcc = ValueCountryCode(v, code)
            entry = self._entry(vcc)
            if entry is None:
                return self._bad(what, f"{v!r} is not in the dataset")
            channels.add(entry.Channel)
        if not self._models(what, COIN_MODELS):
            return False
        return self._apply_inhibits(channels, inhibit=bool(inhibit))

    # ------------------------------------------------------------------------------ purge, stir

    @overload
    def Purge(self) -> bool: ...
    @overload
    def Purge(self, device: int) -> bool: ...
    @overload
    def Purge(self, device: int, hopper: int) -> bool: ...

    @csharp(
        False,
        overloads=(
            Overload(()),
            Overload((("device", BYTE),)),
            Overload((("device", BYTE), ("hopper", BYTE))),
        ),
    )
    def Purge(self, *args: Any, **kwargs: Any) -> bool:
        """C# ``bool Purge()`` (L12771), ``bool Purge(byte device)`` (L12789: 0 hopper, 1 feeder)
        and ``bool Purge(byte device, byte hopper)`` (L12810: hopper 0 primary/master, 1
        secondary/slave, Twin SCS): try to clear a coin stuck where it makes start-up
        calibration fail, typically behind the hopper's payout flap.  The seed documents
        ``Purge()`` as "N/A" although it is declared bool; here it is True when the device
        accepted the purge.  Unpublished bytes (row PURGE: ``1A [device [hopper]]``).  False for a
        selector outside 0..1, a secondary hopper on a model without one, a feeder on a model
        without one (SMART Hopper 4), or a refusal."""
        what = "Purge"
        names = ("device", "hopper")
        params = list(args) + [kwargs[n] for n in names[len(args) :] if n in kwargs]
        if len(params) > 2 or set(kwargs) - set(names):
            return self._bad(what, f"unexpected arguments {args!r} {kwargs!r}")
        if not all(is_uint(p, 1) for p in params):
            return self._bad(what, f"device and hopper are 0 or 1, got {params!r}")
        if not self._models(what, SMART_SYSTEMS):
            return False
        if len(params) > 1 and params[1] == 1 and self._model != DeviceModel.TWIN_SMART_COIN_SYSTEM:
            return self._bad(what, "a secondary hopper needs a Twin SMART Coin System")
        if params and params[0] == 1 and self._model not in FEEDER_MODELS:
            return self._bad(what, f"{self._model.name} has no coin feeder")
        return self._call_ok(what, "PURGE", *params)

    @overload
    def CoinStir(self, seconds: int) -> bool: ...
    @overload
    def CoinStir(self, seconds: int, modeByte: int) -> bool: ...

    @csharp(
        False,
        overloads=(
            Overload((("seconds", BYTE),)),
            Overload((("seconds", BYTE), ("modeByte", BYTE))),
        ),
    )
    def CoinStir(self, seconds: Any = None, modeByte: Any = None) -> bool:
        """C# ``bool CoinStir(byte seconds)`` (L12880): COIN STIR (0x5D, seconds 1..255; published)
        and ``bool CoinStir(byte seconds, byte modeByte)`` (L12898; mode 0 mix, 1 also move
        cashbox-routed coins to the cashbox): unpublished row COIN_STIR_WITH_MODE
        (``5D seconds mode``).  SMART System models only."""
        if not is_uint(seconds, 0xFF) or seconds == 0:
            return self._bad("CoinStir", f"seconds {seconds!r} outside 1..255")
        if modeByte is not None and not is_uint(modeByte, 1):
            return self._bad("CoinStir", f"mode {modeByte!r} is not 0 or 1")
        if not self._models("CoinStir", SMART_SYSTEMS):
            return False
        if modeByte is None:
            return self._call_ok("CoinStir", "COIN_STIR", seconds)
        return self._call_ok("CoinStir", "COIN_STIR_WITH_MODE", seconds, modeByte)

    # ------------------------------------------------------------------------------ payout helpers

    @csharp(False)
    def GetCoinsExit(self) -> bool:
        """C# ``bool GetCoinsExit()`` (L12919): coins in the last payout request and coins seen at
        the exit sensor into ``coins_payout_request`` / ``coins_seen_at_exit_sensor``.  Unpublished
        row GET_COINS_EXIT (reply two u16)."""
        if not self._models("GetCoinsExit", SMART_SYSTEMS):
            return False
        got = self._call("GetCoinsExit", "GET_COINS_EXIT")
        if got is None:
            return False
        self._set(coins_payout_request=got[0], coins_seen_at_exit_sensor=got[1])
        return True

    @csharp(False, device=BYTE)
    def GetCoinAcceptance(self, device: int) -> bool:
        """C# ``bool GetCoinAcceptance(byte device)`` (L12834; 0 primary hopper, 1 feeder, 2
        secondary hopper): the acceptance percentage into ``coinAcceptance_string`` as a decimal
        number without a sign, e.g. ``"64"`` (the seed's only sample, L8755; we read it as
        decimal per cent).  Unpublished row GET_COIN_ACCEPTANCE."""
        what = "GetCoinAcceptance"
        if not is_uint(device, 2):
            return self._bad(what, f"device {device!r} outside 0..2")
        if not self._models(what, SMART_SYSTEMS):
            return False
        percent = self._call(what, "GET_COIN_ACCEPTANCE", device)
        if percent is None:
            return False
        self._set(coinAcceptance_string=str(percent))
        return True

    @csharp(False, count=BYTE)
    def SetNoPayinCount(self, count: int) -> bool:
        """C# ``bool SetNoPayinCount(byte count)`` (L12752): after ``count`` coins sensed but not paid
        in, the device reports MAINTENANCE REQUIRED.  ``noPayinCount`` holds the value set.
        Unpublished row SET_NO_PAYIN_COUNT."""
        if not is_uint(count, 0xFF):
            return self._bad("SetNoPayinCount", f"count {count!r} outside 0..255")
        if not self._models("SetNoPayinCount", SMART_SYSTEMS):
            return False
        if not self._call_ok("SetNoPayinCount", "SET_NO_PAYIN_COUNT", count):
            return False
        self._set(noPayinCount=count)
        self._set_again(("SET_NO_PAYIN_COUNT",), "no-payin count", "SET_NO_PAYIN_COUNT", count)
        return True

    @csharp(False, value=U16)
    def SetPayoutLimit(self, value: int) -> bool:
        """C# ``bool SetPayoutLimit(ushort value)`` (L13078): most coins in one payout (0 = no
        limit); a payout needing more is refused.  Unpublished row SET_PAYOUT_LIMIT."""
        if not is_uint(value, 0xFFFF):
            return self._bad("SetPayoutLimit", f"value {value!r} outside 0..65535")
        if not self._models("SetPayoutLimit", SMART_SYSTEMS):
            return False
        if not self._call_ok("SetPayoutLimit", "SET_PAYOUT_LIMIT", value):
            return False
        self._set_again(("SET_PAYOUT_LIMIT",), "payout limit", "SET_PAYOUT_LIMIT", value)
        return True

    @csharp(False)
    def GetPayoutCount(self) -> bool:
        """C# ``bool GetPayoutCount()`` (L13097): coins the last (test) payout split needs, into
        ``payout_count``.  Unpublished row GET_PAYOUT_COUNT."""
        if not self._models("GetPayoutCount", SMART_SYSTEMS):
            return False
        count = self._call("GetPayoutCount", "GET_PAYOUT_COUNT")
        if count is None:
            return False
        self._set(payout_count=count)
        return True

    @csharp(False)
    def Get_Lifter_Status(self) -> bool:
        """C# ``bool Get_Lifter_Status()`` (L13242): ``lifterConnected``, ``lifterOptoClear``,
        ``lifterJammed`` (booleans).  SMART Coin System / Twin only.  Unpublished row
        GET_LIFTER_STATUS."""
        if not self._models("Get_Lifter_Status", FEEDER_MODELS):
            return False
        flags = self._call("Get_Lifter_Status", "GET_LIFTER_STATUS")
        if flags is None:
            return False
        self._set(lifterConnected=flags[0], lifterOptoClear=flags[1], lifterJammed=flags[2])
        return True

    # ------------------------------------------------------------------------------ cashbox

    @csharp(False, numCoinsToAdd=U16, denomination=U32, countryCode=TEXT)
    def SetCashboxLevels(self, numCoinsToAdd: int, denomination: int, countryCode: str) -> bool:
        """C# ``bool SetCashboxLevels(ushort numCoinsToAdd, uint denomination, string countryCode)``
        (L12983): add coins to the cashbox count of one denomination; 0 clears it.  Unpublished
        row SET_CASHBOX_LEVELS."""
        what = "SetCashboxLevels"
        if not is_uint(numCoinsToAdd, 0xFFFF):
            return self._bad(what, f"count {numCoinsToAdd!r} outside 0..65535")
        if not (is_uint(denomination) and isinstance(countryCode, str)):
            return self._bad(what, f"invalid denomination {denomination!r} {countryCode!r}")
        entry = self._entry(ValueCountryCode(denomination, countryCode))
        if entry is None:
            return self._bad(what, f"{denomination} {countryCode} is not in the dataset")
        if not self._models(what, SMART_SYSTEMS):
            return False
        return self._call_ok(what, "SET_CASHBOX_LEVELS", numCoinsToAdd, entry.Value, entry.CountryCode)

    @csharp(False)
    def ClearCashboxLevels(self) -> bool:
        """C# ``bool ClearCashboxLevels()`` (L13004): zero every cashbox count.  Unpublished row
        CLEAR_CASHBOX_LEVELS."""
        if not self._models("ClearCashboxLevels", SMART_SYSTEMS):
            return False
        return self._call_ok("ClearCashboxLevels", "CLEAR_CASHBOX_LEVELS")

    @csharp(False)
    def GetCashboxLevels(self) -> bool:
        """C# ``bool GetCashboxLevels()`` (L13022): the cashbox counts into ``cashbox_levels_string``,
        e.g. ``"Number of denominations in device: 2\\n10 x 10 ITL\\n0 x 50 ITL\\nQuantity of
        unknown coins: 0\\n"`` (L9427-L9431), and ``unknown_stored_in_cashbox``.  (The seed's
        Returns text is copied from SetTwinMode; True here means the levels were read.)
        Unpublished row GET_CASHBOX_LEVELS (reply in the 0x53 layout)."""
        if not self._models("GetCashboxLevels", SMART_SYSTEMS):
            return False
        got = self._call("GetCashboxLevels", "GET_CASHBOX_LEVELS")
        if got is None:
            return False
        levels, unknown = got
        text = f"Number of denominations in device: {len(levels)}\n"
        text += "".join(f"{n} x {value} {code}\n" for n, value, code in levels)
        text += f"Quantity of unknown coins: {unknown}\n"
        self._set(cashbox_levels_string=text, unknown_stored_in_cashbox=unknown)
        return True

    # ------------------------------------------------------------------------------ Twin SCS

    @csharp(False, twinMode=BYTE)
    def SetTwinMode(self, twinMode: int) -> bool:
        """C# ``bool SetTwinMode(byte twinMode)`` (L13116; modes 0 normal, 1 twin, 2 twin single,
        3 twin 1EC balanced).  The device refuses it during pay-in/pay-out, for a mode already
        active or without a feeder.  Twin SCS only.  Unpublished row SET_TWIN_MODE (seed "Sub
        Command 0x05 0x87")."""
        if not is_uint(twinMode, 3):
            return self._bad("SetTwinMode", f"mode {twinMode!r} outside 0..3")
        if not self._models("SetTwinMode", _TWIN):
            return False
        if not self._call_ok("SetTwinMode", "SET_TWIN_MODE", twinMode):
            return False
        self._set_again(("SET_TWIN_MODE",), "twin mode", "SET_TWIN_MODE", twinMode)
        return True

    @csharp(
        SetSorterRouteRequestResult.INVALID_INPUT,
        SetSorterRouteRequestResult.FAILED,
        valueCountryCode=VCC,
        sorterRoute=BYTE,
    )
    def SetSorterRoute(
        self, valueCountryCode: ValueCountryCode, sorterRoute: int
    ) -> SetSorterRouteRequestResult:
        """C# ``SetSorterRouteRequestResult SetSorterRoute(ValueCountryCode, byte sorterRoute)``
        (L13041): route one denomination from the feeder to the primary (0) or secondary (1)
        hopper; ``sorterRouteAssignment`` (one entry per ``currencyAssignment`` channel) follows.
        INVALID_INPUT for a denomination outside the dataset or a route other than 0/1;
        NOT_SUPPORTED on a model other than Twin SCS or when the row is refused (unpublished row
        SET_SORTER_ROUTE, seed "Sub Command 0x05 0x85"); FAILED when the device refuses or
        does not answer."""
        what = "SetSorterRoute"
        entry = self._entry(valueCountryCode)
        if entry is None or not is_uint(sorterRoute, 1):
            self.log.error("%s: invalid denomination %r or route %r", what, valueCountryCode, sorterRoute)
            return SetSorterRouteRequestResult.INVALID_INPUT
        if self._model not in _TWIN:
            self.log.error("%s: not supported on %s", what, self._model.name)
            return SetSorterRouteRequestResult.NOT_SUPPORTED
        try:
            self.commands.get("SET_SORTER_ROUTE")
        except UnverifiedCommandError as exc:
            self.log.error("%s: %s", what, exc)
            return SetSorterRouteRequestResult.NOT_SUPPORTED
        if not self._call_ok(what, "SET_SORTER_ROUTE", entry.Value, entry.CountryCode, sorterRoute):
            return SetSorterRouteRequestResult.FAILED
        self._set_again(
            ("SET_SORTER_ROUTE", entry.Value, entry.CountryCode),
            f"sorter route of {entry.Value} {entry.CountryCode}",
            "SET_SORTER_ROUTE",
            entry.Value,
            entry.CountryCode,
            sorterRoute,
        )
        current = list(self._v["sorterRouteAssignment"])
        entries = self._entries
        if len(current) != len(entries):
            current = [SorterRouteAssignmentEntry(SorterRoute.PRIMARY) for _ in entries]
        for i, e in enumerate(entries):
            if e.Channel == entry.Channel:
                current[i] = SorterRouteAssignmentEntry(SorterRoute(sorterRoute))
        self._set(sorterRouteAssignment=current)
        return SetSorterRouteRequestResult.OK

    # ------------------------------------------------------------------------------ service

    @overload
    def GetServiceInformation(self, subCommand: int) -> bool: ...
    @overload
    def GetServiceInformation(self, module: int, subCommand: int) -> bool: ...

    @csharp(
        False,
        overloads=(
            Overload((("subCommand", BYTE),)),
            Overload((("module", BYTE), ("subCommand", BYTE))),
        ),
    )
    def GetServiceInformation(self, *args: Any, **kwargs: Any) -> bool:
        """C# ``bool GetServiceInformation(byte subCommand)`` (L12627; NV4000: 0 date, 1 note, 2
        accepted-note, 3 jam information, 4 service flags) and ``bool GetServiceInformation(byte
        module, byte subCommand)`` (L12661; module 0 primary hopper, 1 feeder, 2 secondary hopper,
        3 lifter, 5 NV4000 lifetime counts; sub-command 0 status, 1 next service due, 2 last three
        services, 3 performance since last service, 4 flags, 5 lifetime counts) into
        ``service_information_string``: ``"(<Title>) \\n"`` then one ``"<Label>: <n>\\n"`` per
        field, e.g. ``"(Note Information) \\nNotes Since Maintenance Reset: 11902\\n..."`` (L7670)
        and ``"(Lifetime Counts) \\nTotal cycles: 32717\\nPower on count: 157\\nPower on time:
        20580\\n"`` (L7814; module 5 gives lifetime counts whatever the sub-command, as the seed's
        example).  Titles and labels the seed does not show are ours
        (:data:`cashdevice.commands.SERVICE_LAYOUTS`).  Unpublished row GET_SERVICE_INFORMATION."""
        what = "GetServiceInformation"
        module: Any
        sub: Any
        if len(args) + len(kwargs) == 1:
            module, sub = None, args[0] if args else kwargs.get("subCommand")
        else:
            module = args[0] if args else kwargs.get("module")
            sub = args[1] if len(args) > 1 else kwargs.get("subCommand")
            if not is_uint(module, 0xFF):
                return self._bad(what, f"module {module!r} is not a byte")
        if not is_uint(sub, 0xFF):
            return self._bad(what, f"sub-command {sub!r} is not a byte")
        layout = service_layout(module, sub)
        if layout is None:
            return self._bad(what, f"undocumented module/sub-command {module}/{sub}")
        if not self._models(what, SERVICE_MODELS):
            return False
        params = (sub,) if module is None else (module, sub)
        data = self._call(what, "GET_SERVICE_INFORMATION", *params)
        if data is None:
            return False
        try:
            values = parse_service(module, sub, data)
        except ValueError as exc:
            return self._bad(what, str(exc))
        text = f"({layout[0]}) \n" + "".join(f"{label}: {v}\n" for (label, _w), v in zip(layout[1], values))
        self._set(service_information_string=text)
        return True

    @csharp(False, module=BYTE, serviceType=BYTE, month=BYTE, year=BYTE)
    def SetServiceInformation(self, module: int, serviceType: int, month: int, year: int) -> bool:
        """C# ``bool SetServiceInformation(byte module, byte serviceType, byte month, byte year)``
        (L12703): record a service (month 1..12, year 0..99).  Unpublished row
        SET_SERVICE_INFORMATION."""
        what = "SetServiceInformation"
        bytes_ok = is_uint(module, 0xFF) and is_uint(serviceType, 0xFF)
        if not (bytes_ok and is_uint(month, 12) and is_uint(year, 99)):
            return self._bad(what, "module and service type are bytes, month 1..12, year 0..99")
        if month == 0:
            return self._bad(what, "month 1..12")
        if not self._models(what, SERVICE_MODELS):
            return False
        return self._call_ok(what, "SET_SERVICE_INFORMATION", module, serviceType, month, year)

    @csharp(
        False,
        weekNumber1_ascii_byte=BYTE,
        weekNumber2_ascii_byte=BYTE,
        yearNumber1_ascii_byte=BYTE,
        yearNumber2_ascii_byte=BYTE,
    )
    def SetServiceInformation_MaintenanceReset(
        self,
        weekNumber1_ascii_byte: int,
        weekNumber2_ascii_byte: int,
        yearNumber1_ascii_byte: int,
        yearNumber2_ascii_byte: int,
    ) -> bool:
        """C# ``bool SetServiceInformation_MaintenanceReset(byte weekNumber1_ascii_byte, ...)``
        (L12727): reset the maintenance counters, stamping week and year as four ASCII digits
        (e.g. ``0x34, 0x37, 0x32, 0x34`` = week 47 of 2024).  Unpublished row
        SERVICE_MAINTENANCE_RESET."""
        what = "SetServiceInformation_MaintenanceReset"
        digits = (
            weekNumber1_ascii_byte,
            weekNumber2_ascii_byte,
            yearNumber1_ascii_byte,
            yearNumber2_ascii_byte,
        )
        if not all(is_uint(b, 0xFF) and 0x30 <= b <= 0x39 for b in digits):
            return self._bad(what, f"four ASCII digits expected, got {digits!r}")
        if not self._models(what, SERVICE_MODELS):
            return False
        return self._call_ok(what, "SERVICE_MAINTENANCE_RESET", *digits)

    @csharp(False)
    def GetGlobalErrorCode(self) -> bool:
        """C# ``bool GetGlobalErrorCode()`` (L12609): two error bytes into ``globalErrorCode_0`` and
        ``globalErrorCode_1``.  Unpublished row GET_GLOBAL_ERROR_CODE."""
        if not self._models("GetGlobalErrorCode", SERVICE_MODELS):
            return False
        got = self._call("GetGlobalErrorCode", "GET_GLOBAL_ERROR_CODE")
        if got is None:
            return False
        self._set(globalErrorCode_0=got[0], globalErrorCode_1=got[1])
        return True

    # ------------------------------------------------------------------------------ real-time clock

    @csharp(False, byte1=BYTE, byte2=BYTE, byte3=BYTE, byte4=BYTE, byte5=BYTE, byte6=BYTE)
    def SetRealTimeClock(
        self, byte1: int, byte2: int, byte3: int, byte4: int, byte5: int, byte6: int
    ) -> bool:
        """C# ``bool SetRealTimeClock(byte byte1, ..., byte byte6)`` (L12939): SET REAL TIME CLOCK
        (0x64): day 1..31, month 1..12, year 0..99 (20yy), hour 0..23, minute, second 0..59.
        False (nothing sent) for an impossible date or time, or when the device refuses."""
        fields = (byte1, byte2, byte3, byte4, byte5, byte6)
        if not all(is_uint(b, 0xFF) for b in fields) or not _valid_clock(*fields):
            return self._bad("SetRealTimeClock", f"invalid date/time {fields!r}")
        return self._call_ok("SetRealTimeClock", "SET_REAL_TIME_CLOCK", *fields)

    @csharp(False)
    def GetRealTimeClock(self) -> bool:
        """C# ``bool GetRealTimeClock()`` (L12963): GET REAL TIME CLOCK (0x63) into
        ``real_time_clock_string`` as ``d MMMM yyyy HH:mm:ss`` in English, e.g. ``"27 November
        2024 14:09:30"`` (L8985; C# ``d``: no leading zero on the day, ``"1 March 2025 ..."``;
        year 2000 + the device's 0..99).  False if the reply is not a valid date."""
        got = self._call("GetRealTimeClock", "GET_REAL_TIME_CLOCK")
        if got is None:
            return False
        day, month, year, hour, minute, second = got
        if not _valid_clock(day, month, year, hour, minute, second):
            return self._bad("GetRealTimeClock", f"device clock is not a date: {got!r}")
        text = f"{day} {MONTHS[month - 1]} {2000 + year} {hour:02d}:{minute:02d}:{second:02d}"
        self._set(real_time_clock_string=text)
        return True


# ---------------------------------------------------------------------------------- helpers

_TWIN = frozenset({DeviceModel.TWIN_SMART_COIN_SYSTEM})


def _valid_clock(day: int, month: int, year: int, hour: int, minute: int, second: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12 and year <= 99 and hour < 24 and minute < 60 and second < 60
