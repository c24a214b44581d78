"""The C# enums of ITL's ``CashDevice`` API and the other value sets its methods take or report.

Class and member names are the C# ones wherever the seed (``shared/seed/000_79375e11ce1a2a17.txt``, ITL SDK
Package Manual v1) prints them; ``Lnnnn`` below are line numbers in that file. Numbers are the seed's where it
shows them. Where it shows names only, the number is the member's position in the seed's list (C#'s implicit
numbering), and the class docstring says so. Where the seed shows only part of a set, the rest comes from the
SSP protocol (``shared/ssp-protocol.md``, ``shared/ssp-coin-nv4000.md``) and the docstring names each
completed member and its source. Where the seed gives no C# type name, the class name is ours and the
docstring says so.

Only :mod:`enum` and :mod:`types` are imported: this module sits below every other room of the package.
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Mapping

__all__ = [
    "CSharpEnum",
    "CSharpFlag",
    "CSharpResult",
    "BARCODE_FORMAT_TEXT",
    "BARCODE_HARDWARE_STATUS_TEXT",
    "BARCODE_INHIBIT_TEXT",
    "BARCODE_READERS_TEXT",
    "REJECT_REASON_TEXT",
    "BarcodeFormat",
    "BarcodeHardwareStatus",
    "BarcodeInhibit",
    "BarcodeReaders",
    "CashDeviceModuleType",
    "CashEventType",
    "CashSystemOpenResult",
    "CoinAcceptanceDevice",
    "CoinStirMode",
    "CurrencyType",
    "DenominationRoute",
    "DeviceError",
    "DeviceModel",
    "DeviceState",
    "DispenseTransactionRequestResult",
    "DispenserTransactionState",
    "DispenserTransactionType",
    "DownloadState",
    "HopperOptionsReg0",
    "HopperOptionsReg1",
    "ModuleServiceSubCommand",
    "MultiDenominationPayoutOption",
    "PayoutErrorReason",
    "PurgeDevice",
    "PurgeHopper",
    "RCMode",
    "RejectReason",
    "ReplenishEventType",
    "ServiceInformationModule",
    "ServiceInformationSubCommand",
    "SetDenominationRouteRequestResult",
    "SetSorterRouteRequestResult",
    "SingleDenominationPayoutOption",
    "SorterRoute",
    "TwinMode",
]


# --------------------------------------------------------------------------------------------
# Behaviour shared by every enum: C# names when printed, C# truthiness for results

_NUMERIC_SPECS = frozenset("bcdoxXneEfFgG%")


def _cs_format(value: int, text: str, fmt: str) -> str:
    """C# ``Enum.ToString(format)``: G/F (or nothing) the name, D the number, X eight hex digits."""
    code = fmt.upper() or "G"
    if code in ("G", "F"):
        return text
    if code == "D":
        return str(value)
    if code == "X":
        return format(value & 0xFFFFFFFF, "08X")
    raise ValueError(f"format {fmt!r}: C# enums take G, F, D or X")


class CSharpEnum(enum.IntEnum):
    """Base of every C# enum here: ``str()``, ``format()`` / f-strings and :meth:`ToString` give the
    member name (``"OK"``, ``"PAYOUT"``) on every Python version, as C# prints an enum, while the member
    stays an ``int`` with its number (``int(x)``, ``x == 7``, ``f"{x:d}"``, JSON).  A numeric format
    spec (``d``, ``x``, ``02X`` ...) formats the number; any other spec (``>10``) pads the name."""

    def __str__(self) -> str:
        return str(self._name_)

    def __format__(self, spec: str) -> str:
        if spec and spec[-1] in _NUMERIC_SPECS:
            return format(int(self), spec)
        return format(str(self), spec)

    def ToString(self, format: str = "G") -> str:
        """C# ``ToString()``: the member name; ``"D"`` the number, ``"X"`` eight hex digits."""
        return _cs_format(int(self), str(self), format)


class CSharpResult(CSharpEnum):
    """Base of the ``*Result`` enums: truthy exactly on the success member ``OK`` (whose number is 0),
    so ``if device.Open(...):`` and ``if device.DispenseValue(...):`` read as they do for the bool
    methods.  Compare with the member (``result == DispenseTransactionRequestResult.OK``) to be explicit."""

    def __bool__(self) -> bool:
        return self._name_ == "OK"


class CSharpFlag(enum.IntFlag):
    """Base of the option-register enums: ``str()`` / ``format()`` / :meth:`ToString` give the set
    members' names joined by ``", "`` as C# ``[Flags]`` enums do (``"FREE_PAY, LEVEL_CHECK"``),
    ``NONE`` for 0, and the number when bits without a name are set; the value stays an ``int``."""

    def __str__(self) -> str:
        value = int(self)
        by_value = {int(m): str(m._name_) for m in type(self).__members__.values()}
        if value in by_value:
            return by_value[value]
        names, covered = [], 0
        for bit, name in sorted(by_value.items()):
            if bit and bit & (bit - 1) == 0 and value & bit:
                names.append(name)
                covered |= bit
        return ", ".join(names) if covered == value else str(value)

    def __format__(self, spec: str) -> str:
        if spec and spec[-1] in _NUMERIC_SPECS:
            return format(int(self), spec)
        return format(str(self), spec)

    def ToString(self, format: str = "G") -> str:
        """C# ``ToString()``: the set names (``"A, B"``); ``"D"`` the number, ``"X"`` eight hex digits."""
        return _cs_format(int(self), str(self), format)


# --------------------------------------------------------------------------------------------
# Results of the public methods


class CashSystemOpenResult(CSharpResult):
    """Result of ``Open()`` (L11569, L11597-L11604; REST ``"openResult": "PORT_ERROR"`` L1320).

    Names: seed. Numbers: not shown in the seed; ours, in the seed's order (OK = 0).
    """

    OK = 0
    ALREADY_OPEN = 1
    PORT_ERROR = 2


class DispenseTransactionRequestResult(CSharpResult):
    """Result of the dispense/payout/float/replenish requests (all 7 names at L11881-L11900; also
    L11924-L11940, L11968-L11975, L11996-L12009, L12036-L12049, L12074-L12084, L12104-L12111, L12426-L12430).

    Names: seed. Numbers: not shown; ours (OK = 0, then the order of L11881-L11900). The REST text "Payout
    operation status: OK" (L5701-L5702) prints this enum by name, so no separate "payout operation status"
    type exists here. The SSP ``F5`` payout error byte is :class:`PayoutErrorReason`; its code 4 ("device
    disabled", L5573-L5574) has no name in this enum — the caller maps it (we suggest BUSY).
    """

    OK = 0
    MULTI_CURRENCY_MODE = 1
    NOT_SUPPORTED = 2
    BUSY = 3
    INVALID_INPUT = 4
    CANNOT_PAY_EXACT_AMOUNT = 5
    NOT_ENOUGH_VALUE = 6


class SetDenominationRouteRequestResult(CSharpResult):
    """Result of the ``SetDenominationRoute*`` methods (L12141-L12158, L12193-L12204, L12232-L12246).

    Names: seed (6). Numbers: not shown; ours (OK = 0, then the order of L12141-L12158).
    """

    OK = 0
    MULTI_CURRENCY_MODE = 1
    NOT_SUPPORTED = 2
    BUSY = 3
    INVALID_DEVICE_STATE = 4
    INVALID_INPUT = 5


class SetSorterRouteRequestResult(CSharpResult):
    """Result of ``SetSorterRoute`` (L13057-L13067).

    Names: seed (4). Numbers: not shown; ours, in the seed's order.
    """

    OK = 0
    FAILED = 1
    INVALID_INPUT = 2
    NOT_SUPPORTED = 3


class PayoutErrorReason(CSharpEnum):
    """SSP ``F5`` error byte after a payout/float request = the REST ``errorReason`` table (L5561-L5575,
    L5710-L5723, L5848-L5862; ssp-protocol.md §6.2).

    Class and member names are ours (the seed prints "Not enough value in device", "Cannot pay exact amount",
    "Device busy", "Device disabled"); the numbers are the seed's and the protocol's.
    """

    NOT_ENOUGH_VALUE = 1
    CANNOT_PAY_EXACT_AMOUNT = 2
    BUSY = 3
    DISABLED = 4


# --------------------------------------------------------------------------------------------
# Device model, state, error


class DeviceModel(CSharpEnum):
    """Type of ``Open(..., DeviceModel devModel = DeviceModel.NOTE_VALIDATOR, ...)`` and of ``deviceModel``.

    From the seed: NOTE_VALIDATOR (L11570, L11592), SPECTRAL_DEVICE (L1259, L2143, L12863), NV4000 (L12863),
    SMART_COIN_SYSTEM, TWIN_SMART_COIN_SYSTEM, SMART_HOPPER_4 (L2769, L12859). Completed: SPECTRAL_PAYOUT —
    seen in the seed only as a deviceID prefix (``<MODEL>-<port>``, "SPECTRAL_PAYOUT-COM5" L2140, L1846); NV11
    — SSP unit type 0x07 (ssp-protocol.md §4.6), a product whose option bits the seed documents (L3556-L3583);
    SMART_HOPPER — SSP unit type 0x03 (ssp-protocol.md §4.6). Numbers: the seed shows none; ours, seed names
    first (NOTE_VALIDATOR = 0 is also C#'s default).
    """

    NOTE_VALIDATOR = 0
    SPECTRAL_DEVICE = 1
    NV4000 = 2
    SMART_COIN_SYSTEM = 3
    TWIN_SMART_COIN_SYSTEM = 4
    SMART_HOPPER_4 = 5
    SPECTRAL_PAYOUT = 6
    NV11 = 7
    SMART_HOPPER = 8


class DeviceState(CSharpEnum):
    """Type of ``deviceState`` and of ``DeviceStateChangedEvent`` (REST ``DeviceStatusResponse.state``).

    The 40 names in the order of the GetDeviceStatus table, L2459-L2538 (NOTE_FLOAT_REMOVED L2534 follows a
    page break). Numbers: the member's position in that list; the seed confirms two of them, CONNECTING = 1
    (``"state": 1`` L2630-L2631) and CONNECTED = 15 (``"state": 15`` L2639-L2640), both equal to their
    position.
    """

    NOT_CONNECTED = 0
    CONNECTING = 1
    STARTING = 2
    STARTED = 3
    DISABLED = 4
    IDLE = 5
    ACCEPTING = 6
    DISPENSING = 7
    FLOATING = 8
    EMPTYING = 9
    REPLENISHING = 10
    JAM_RECOVERY = 11
    ERROR = 12
    DEVICE_FULL = 13
    RESET = 14
    CONNECTED = 15
    STOPPED = 16
    PURGING = 17
    PURGED = 18
    INITIALISING = 19
    CASHBOX_REMOVED = 20
    CASHBOX_REPLACED = 21
    STOPPING = 22
    PAY_IN_ACTIVE = 23
    COIN_MECH_ENABLED = 24
    COIN_MECH_DISABLED = 25
    MAINTENANCE_REQUIRED = 26
    CHANNEL_DISABLE = 27
    CALIBRATION_FAILED = 28
    FRAUD_ATTEMPT = 29
    LIFTER_EVENT = 30
    REJECTING = 31
    REJECTED = 32
    COIN_MECH_JAMMED = 33
    NOTE_HELD_IN_BEZEL = 34
    BAR_CODE_TICKET_VALIDATED = 35
    BAR_CODE_TICKET_ACKNOWLEDGE = 36
    NOTE_FLOAT_REMOVED = 37
    NOTE_FLOAT_ATTACHED = 38
    NOTE_PATH_OPEN = 39


class DeviceError(CSharpEnum):
    """Type of ``deviceError`` and of ``DeviceError_LimpMode(DeviceError)`` (L13305).

    The seed shows one member only: NONE (L1261, L2144); the DeviceErrorLimpMode REST example sends the
    integer 2 (L10702) without naming it. Completed by us, one member per SSP fault the poll loop can meet
    (ssp-protocol.md §5.3; poll-event codes in brackets): COMMAND_FAILED (a command answered with an error,
    the variable ``commandFailedDetailsString`` L11412), SAFE_JAM (0xEA), UNSAFE_JAM (0xE9), STACKER_FULL
    (0xE7), CASHBOX_OUT_OF_SERVICE (0x90), PAYOUT_OUT_OF_SERVICE (0xC6), ERROR_DURING_PAYOUT (0xB1, variable
    ``error_during_payout_details_string`` L11420), JAMMED (0xD5), CALIBRATION_FAILED (0x83), COIN_MECH_ERROR
    (0xB7), COIN_MECH_JAMMED (0xC4), MAINTENANCE_REQUIRED (0xC0, variable ``maintenanceRequiredDetailsString``
    L11414). Names and numbers after NONE are ours; a C# port can rely on NONE only.
    """

    NONE = 0
    COMMAND_FAILED = 1
    SAFE_JAM = 2
    UNSAFE_JAM = 3
    STACKER_FULL = 4
    CASHBOX_OUT_OF_SERVICE = 5
    PAYOUT_OUT_OF_SERVICE = 6
    ERROR_DURING_PAYOUT = 7
    JAMMED = 8
    CALIBRATION_FAILED = 9
    COIN_MECH_ERROR = 10
    COIN_MECH_JAMMED = 11
    MAINTENANCE_REQUIRED = 12


class CashDeviceModuleType(CSharpEnum):
    """Kind of an NV4000 / coin-system module (``cashDeviceModules``, ``DeviceModuleStateChangedEvent``).

    The seed documents no module type (``cashDeviceModules`` is ``null`` in its only dump, L2284; §3.22 of the
    digest). Class, names and numbers are ours, one per module the serial-number variables name
    (L11284-L11307): recycler 1-4, interface, dock, replenishment cassette, conveyor, coin feeder, secondary
    hopper, payout module, coin lifter. GET SERIAL NUMBER sub-device bytes are known for recyclers 1-4
    (0x11-0x14) and the interface (0x15) only (ssp-coin-nv4000.md §4.7); they are not these numbers.
    """

    MAIN = 0
    RECYCLER_1 = 1
    RECYCLER_2 = 2
    RECYCLER_3 = 3
    RECYCLER_4 = 4
    INTERFACE = 5
    DOCK = 6
    REPLENISHMENT_CASSETTE = 7
    CONVEYOR = 8
    COIN_FEEDER = 9
    SECONDARY_HOPPER = 10
    PAYOUT_MODULE = 11
    COIN_LIFTER = 12


# --------------------------------------------------------------------------------------------
# Currency assignment


class DenominationRoute(CSharpEnum):
    """Route of a denomination: ``SetDenominationRoute*(…, DenominationRoute route)`` and ``AcceptRoute``.

    CASHBOX 0 … RECYCLER_4 5 and PAYOUT 7 as printed in the OpenConnection table (L1160-L1168: "Cashbox = 0",
    "Recycler = 1", "Recycler 1 (NV4000) = 2" … "Recycler 4 (NV4000) = 5", "Payout = 7"); the C# spellings
    CASHBOX, RECYCLER, RECYCLER_1 … RECYCLER_4 from L12132-L12138, PAYOUT from ``"AcceptRoute": "PAYOUT"``
    (L2302) and "to PAYOUT" (L1303); the numbers 0 and 7 are confirmed by ``"acceptRoute": 0 / 7`` (L3069,
    L3105). Value 6 is printed as "Replenishment Cassette (NV4000) = 6" (L1166-L1167) with no C# spelling:
    REPLENISHMENT_CASSETTE is our name for it.
    """

    CASHBOX = 0
    RECYCLER = 1
    RECYCLER_1 = 2
    RECYCLER_2 = 3
    RECYCLER_3 = 4
    RECYCLER_4 = 5
    REPLENISHMENT_CASSETTE = 6
    PAYOUT = 7


class CurrencyType(CSharpEnum):
    """``Type`` of a currency-assignment entry: ``"Type": "BANKNOTE"`` (L2290) = ``"type": 1`` (L3057).

    Class name ours. BANKNOTE = 1 is the seed's. COIN is completed by us (the coin systems — SMART Hopper,
    SMART Coin System, ssp-protocol.md §4.6 — hold coins); its number 0 is a guess (the enum starting at 0
    would explain BANKNOTE = 1).
    """

    COIN = 0
    BANKNOTE = 1


class SorterRoute(CSharpEnum):
    """``SetSorterRoute(…, byte sorterRoute)`` and ``currentSorterRoute`` (L13054-L13055, L9529-L9530,
    L9661-L9667): 0x00 PRIMARY hopper, 0x01 SECONDARY hopper. Class name ours (the C# type is ``byte``)."""

    PRIMARY = 0x00
    SECONDARY = 0x01


# --------------------------------------------------------------------------------------------
# Event types (GetDeviceStatus, L2459-L2618)


class CashEventType(CSharpEnum):
    """``CashEvent`` type = REST ``CashEventResponse.eventTypeAsString`` (L2546-L2590, 23 names).

    Class name ours. Numbers: not shown; the member's position in the seed's list.
    """

    ESCROW = 0
    STACKED = 1
    STACKED_FRAUD_ATTEMPT = 2
    STORED = 3
    STORED_FRAUD_ATTEMPT = 4
    DISPENSING = 5
    DISPENSED = 6
    REJECTED = 7
    RETRIEVED = 8
    MOVED_TO_CASHBOX = 9
    NOTE_IN_BEZEL_HOLD = 10
    VALUE_ADDED = 11
    TIME_OUT = 12
    INCOMPLETE_PAYOUT = 13
    INCOMPLETE_FLOAT = 14
    FRAUD_ATTEMPT = 15
    HALTED = 16
    CALIBRATION_FAILED = 17
    JAMMED = 18
    COIN_CREDIT = 19
    ERROR_DURING_PAYOUT = 20
    NOTE_CLEARED_TO_CASHBOX = 21
    NOTE_CLEARED_FROM_FRONT = 22


class DispenserTransactionState(CSharpEnum):
    """State of a ``DispenserTransactionEvent`` (REST ``DispenserTransactionEventResponse``, L2540-L2544) and
    type of ``dispenseState`` (``"dispenseState": "COMPLETED"`` L2285).

    Class name ours. Numbers: not shown; position in the seed's list.
    """

    IN_PROGRESS = 0
    COMPLETED = 1
    ERROR = 2


class DispenserTransactionType(CSharpEnum):
    """``transactionType`` of a dispenser transaction (L2613-L2618, numbers printed: 0 = PAYOUT … 4 =
    PAYOUT_BY_DENOMINATION). The seed prints it under SetDenominationRouteFinishedEventResponse; it belongs to
    the dispenser transaction. Class name ours."""

    PAYOUT = 0
    FLOAT = 1
    REPLENISH = 2
    EMPTY = 3
    PAYOUT_BY_DENOMINATION = 4


class ReplenishEventType(CSharpEnum):
    """``ReplenishEvent`` type = REST ``ReplenishEventResponse`` (L2592-L2600, 5 names).

    Class name ours. Numbers: not shown; position in the seed's list.
    """

    REPLENISH_STORED = 0
    REPLENISH_SENT_TO_RC_TRAY = 1
    REPLENISH_CASSETTE_REMOVED = 2
    REPLENISH_CASSETTE_REPLACED = 3
    REPLENISH_CASSETTE_FULL = 4


class RCMode(CSharpEnum):
    """Replenishment-cassette mode, type of ``RC_CurrentMode``: RC_MODE_REPLENISH (L2271) and RC_MODE_PAYOUT
    (GetRCMode L6748; "Replenishment Mode / Payout Mode" L6723-L6724).

    Class name ours. Numbers: not shown; RC_MODE_REPLENISH = 0 because an untouched Spectral device reports it
    (L2270-L2271), which is what C#'s default value 0 would print.
    """

    RC_MODE_REPLENISH = 0
    RC_MODE_PAYOUT = 1


class DownloadState(CSharpEnum):
    """``downloadStatus.State`` and ``DownloadStateEvent``: IDLE, UPDATING, COMPLETE (L11039-L11043,
    ``"State": "IDLE"`` L2278, ``"state": "UPDATING"`` L11059).

    Class name ours. Numbers: not shown; position in the seed's list. The seed shows no failure state (REST
    GetDownloadStatus adds ``Success``, "True if the download is complete", L11049). ``FAILED`` is **ours**
    (issue 7: a failed download must end in a clear state): appended last so the seed's three keep their
    positions; ``Success`` stays false for it.
    """

    IDLE = 0
    UPDATING = 1
    COMPLETE = 2
    FAILED = 3
    """Ours, not in the seed: the download stopped on an error (message in the state event)."""


# --------------------------------------------------------------------------------------------
# Coin-system selectors (byte parameters)


class PurgeDevice(CSharpEnum):
    """``Purge(byte device[, byte hopper])``: 0x00 Hopper, 0x01 Feeder (L12795-L12796, L8267-L8268). Class
    name ours."""

    HOPPER = 0x00
    FEEDER = 0x01


class PurgeHopper(CSharpEnum):
    """``Purge(byte device, byte hopper)``: 0x00 master, 0x01 slave hopper (L12819-L12820; REST calls them
    primary and secondary, L8381-L8382). Class name ours."""

    MASTER = 0x00
    SLAVE = 0x01


class CoinAcceptanceDevice(CSharpEnum):
    """``GetCoinAcceptance(byte device)``: 0 primary hopper, 1 feeder, 2 secondary hopper (REST L8740-L8746).
    Class name ours."""

    PRIMARY_HOPPER = 0
    FEEDER = 1
    SECONDARY_HOPPER = 2


class CoinStirMode(CSharpEnum):
    """``CoinStir(byte seconds, byte modeByte)`` mode (REST CoinStirWithMode L8613-L8620): 0 mix only (rotate
    the hopper motor), 1 also move coins routed to the cashbox or above the auto-float level to the cashbox.
    Class name ours."""

    MIX = 0
    MOVE_TO_CASHBOX = 1


class TwinMode(CSharpEnum):
    """``SetTwinMode(byte twinMode)`` (L13120-L13153, REST L9958-L9991). Class and member names ours, after
    the seed's mode titles: 0x00 Normal Smart Coin System, 0x01 Twin Smart Coin System, 0x02 Twin Single Smart
    Coin System, 0x03 Twin 1ec Balanced mode."""

    NORMAL_SCS = 0x00
    TWIN_SCS = 0x01
    TWIN_SINGLE_SCS = 0x02
    TWIN_1EC_BALANCED = 0x03


class ServiceInformationSubCommand(CSharpEnum):
    """``GetServiceInformation(byte subCommand)`` (NV4000 form, L12637-L12647; REST L7651-L7662). Class and
    member names ours, after the seed's "Service Type" titles."""

    DATE_INFORMATION = 0x00
    NOTE_INFORMATION = 0x01
    ACCEPT_NOTE_INFORMATION = 0x02
    JAM_INFORMATION = 0x03
    SERVICE_FLAGS = 0x04


class ServiceInformationModule(CSharpEnum):
    """``GetServiceInformation(byte module, byte subCommand)`` module byte (L12671-L12673, REST L7783-L7785):
    0x00-0x03 Smart Coin System primary hopper, feeder, secondary hopper, lifter; 0x05 NV4000 lifetime counts.
    Class and member names ours; 0x04 is not documented."""

    PRIMARY_HOPPER = 0x00
    FEEDER = 0x01
    SECONDARY_HOPPER = 0x02
    LIFTER = 0x03
    NV4000 = 0x05


class ModuleServiceSubCommand(CSharpEnum):
    """``GetServiceInformation(byte module, byte subCommand)`` sub-command (L12678-L12689, REST L7790-L7802).
    Class and member names ours, after the seed's "Service Type" titles."""

    SERVICE_STATUS = 0x00
    NEXT_SERVICE_DUE = 0x01
    LAST_SERVICE_INFORMATION = 0x02
    PERFORMANCE_SINCE_LAST_SERVICE = 0x03
    SERVICE_FLAGS = 0x04
    LIFETIME_COUNTS = 0x05


# --------------------------------------------------------------------------------------------
# Option registers (IntFlag)


class SingleDenominationPayoutOption(CSharpFlag):
    """Option byte of REST EnablePayoutDeviceWithByte for a "Single Denomination Recycler" (NV11 / NV11S,
    L3556-L3583). Bits 2 and 4-7 unused; the options do not survive a reset (L3576). Class name ours; bit 3's
    name ours ("Enable report reverse validated value on payout", NV11S fw >= 1.19)."""

    NONE = 0
    GIVE_VALUE_ON_STORED = 0x01
    NO_HOLD_NOTE_ON_PAYOUT = 0x02
    REPORT_REVERSE_VALIDATED_VALUE = 0x08


class MultiDenominationPayoutOption(CSharpFlag):
    """Option byte of REST EnablePayoutDeviceWithByte for a "Multi Denomination Recycler" (Spectral Payout
    range, NV22; L3585-L3616). Bits 4-7 unused. Class name ours; bit 3's name ours ("report dispensing event
    with expected note value when reverse validation fail", Spectral Payout fw >= 4.29, xxx11 datasets)."""

    NONE = 0
    REQUIRE_FULL_STARTUP = 0x01
    OPTIMISE_FOR_PAYIN_SPEED = 0x02
    HIGHEST_VALUE_SPLIT = 0x04
    REPORT_EXPECTED_VALUE_ON_RV_FAIL = 0x08


class HopperOptionsReg0(CSharpFlag):
    """``reg_0`` of ``Get/SetHopperOptions`` (REST tables L7150-L7209 = L7353-L7411; ssp-coin-nv4000.md §4.3).

    Class and member names ours, after the seed's "Parameter" column. A clear bit means: 0 split by highest
    value (default), 1 level check off, 2 low motor speed, 7 coin-added (COIN CREDIT) events. The seed's
    example and the OpenConnection body use Reg0 = 0x04 (L7240, L1194). The bit-3 table (L7183-L7187) prints
    "Highest Split 0 1", a copy of the last row; bit 3 clear is the plain pay mode.
    """

    NONE = 0
    FREE_PAY = 0x01
    LEVEL_CHECK = 0x02
    MOTOR_SPEED_HIGH = 0x04
    CASHBOX_PAY_ACTIVE = 0x08
    ROUTE_ZERO_LEVEL_TO_CASHBOX = 0x10
    HIGH_EFFICIENCY_SPLIT = 0x20
    UNKNOWN_TO_PAYOUT = 0x40
    VALUE_ADDED = 0x80


class HopperOptionsReg1(CSharpFlag):
    """``reg_1`` of ``Get/SetHopperOptions`` (REST L7211-L7233 = L7413-L7435). Bits 5-7 must be 0. Class and
    member names ours, after the seed's "Parameter" column."""

    NONE = 0
    REJECT_EVENTS = 0x01
    REJECT_EVENTS_FULL = 0x02
    EMPTY_ROUTE = 0x04
    FULL_TO_CASHBOX = 0x08
    VALUE_COIN = 0x10


# --------------------------------------------------------------------------------------------
# Barcode value sets (L4847-L5432, L13350-L13432)


class BarcodeReaders(CSharpEnum):
    """``SetBarcodeReaderConfiguration(byte enableReaders, …)``: 0x00 none, 0x01 top, 0x02 bottom, 0x03 both
    (L13365-L13369). Class and member names ours."""

    NONE = 0x00
    TOP = 0x01
    BOTTOM = 0x02
    BOTH = 0x03


class BarcodeHardwareStatus(CSharpEnum):
    """Hardware-status byte of GET BAR CODE READER CONFIGURATION, reported as ``barCodeHardwareStatus``
    ("None", "Top reader fitted", "Bottom reader fitted", "Both fitted"; L13400-L13403, L4871-L4874). Class,
    names and the numbers 0-3 (the order of the texts, same layout as :class:`BarcodeReaders`) are ours."""

    NONE = 0x00
    TOP = 0x01
    BOTTOM = 0x02
    BOTH = 0x03


class BarcodeFormat(CSharpEnum):
    """``SetBarcodeReaderConfiguration(…, byte barCodeFormat, …)``: 0x00 none, 0x01 Interleaved 2 of 5
    (L13371-L13373). Class and member names ours."""

    NONE = 0x00
    INTERLEAVED_2_OF_5 = 0x01


class BarcodeInhibit(CSharpEnum):
    """``SetBarcodeInhibit(byte inhibitByte)`` (L13429-L13432, REST L5287-L5290).

    Class and member names ours.
    """

    BOTH_DISABLED = 0xFF
    BARCODE_DISABLED_CURRENCY_ENABLED = 0xFE
    BARCODE_ENABLED_CURRENCY_DISABLED = 0xFD
    BOTH_ENABLED = 0xFC


BARCODE_READERS_TEXT: Mapping[BarcodeReaders, str] = MappingProxyType(
    {
        BarcodeReaders.NONE: "None",
        BarcodeReaders.TOP: "Top",
        BarcodeReaders.BOTTOM: "Bottom",
        BarcodeReaders.BOTH: "Both",
    }
)
"""Text stored in ``readersEnabled`` (L13405-L13408; REST example ``"readersEnabled": "Both"`` L4895)."""

BARCODE_HARDWARE_STATUS_TEXT: Mapping[BarcodeHardwareStatus, str] = MappingProxyType(
    {
        BarcodeHardwareStatus.NONE: "None",
        BarcodeHardwareStatus.TOP: "Top reader fitted",
        BarcodeHardwareStatus.BOTTOM: "Bottom reader fitted",
        BarcodeHardwareStatus.BOTH: "Both fitted",
    }
)
"""Text stored in ``barCodeHardwareStatus`` (L13400-L13403)."""

BARCODE_FORMAT_TEXT: Mapping[BarcodeFormat, str] = MappingProxyType(
    {
        BarcodeFormat.NONE: "None",
        BarcodeFormat.INTERLEAVED_2_OF_5: "Interleaved 2 of 5",
    }
)
"""Text stored in ``barCodeFormat`` (L13410-L13411, REST example L4896-L4897; "Interleaced" at L4884 is a
typo)."""

BARCODE_INHIBIT_TEXT: Mapping[BarcodeInhibit, str] = MappingProxyType(
    {
        BarcodeInhibit.BOTH_DISABLED: "Both Currency and Barcode Disabled",
        BarcodeInhibit.BARCODE_DISABLED_CURRENCY_ENABLED: "Barcode Disabled and Currency Enabled (Default)",
        BarcodeInhibit.BARCODE_ENABLED_CURRENCY_DISABLED: "Barcode Enabled and Currency Disabled",
        BarcodeInhibit.BOTH_ENABLED: "Both Currency and Barcode Enabled",
    }
)
"""Text stored in ``barCodeInhibit`` (L13429-L13432, REST L5178-L5180, L5287-L5290)."""


# --------------------------------------------------------------------------------------------
# Reject reasons (rejectCategory)


class RejectReason(CSharpEnum):
    """LAST REJECT CODE (0x17) reply byte, behind ``GetLastRejectCode()`` and ``rejectCategory``.

    The seed shows one rendering only: "Reject Reason: Channel Inhibit" (L10587-L10588). The codes, and every
    name here, are completed from the protocol (ssp-protocol.md §6.1: GA138, GA138-NV9, kybarg, ITL SDK); 0x1E
    is not defined anywhere. Class name ours.
    """

    NOTE_ACCEPTED = 0x00
    LENGTH_FAIL = 0x01
    AVERAGE_FAIL = 0x02
    COASTLINE_FAIL = 0x03
    GRAPH_FAIL = 0x04
    BURIED_FAIL = 0x05
    CHANNEL_INHIBIT = 0x06
    SECOND_NOTE_DETECTED = 0x07
    REJECT_BY_HOST = 0x08
    CROSS_CHANNEL_DETECTED = 0x09
    REAR_SENSOR_ERROR = 0x0A
    NOTE_TOO_LONG = 0x0B
    DISABLED_BY_HOST = 0x0C
    SLOW_MECH = 0x0D
    STRIM_ATTEMPT = 0x0E
    FRAUD_CHANNEL = 0x0F
    NO_NOTES_DETECTED = 0x10
    PEAK_DETECT_FAIL = 0x11
    TWISTED_NOTE_DETECTED = 0x12
    ESCROW_TIMEOUT = 0x13
    BAR_CODE_SCAN_FAIL = 0x14
    NO_CAM_ACTIVATE = 0x15
    SLOT_FAIL_1 = 0x16
    SLOT_FAIL_2 = 0x17
    LENS_OVERSAMPLE = 0x18
    WIDTH_DETECTION_FAIL = 0x19
    SHORT_NOTE_DETECTED = 0x1A
    PAYOUT_NOTE = 0x1B
    DOUBLE_NOTE_DETECTED = 0x1C
    UNABLE_TO_STACK = 0x1D
    CREDIT_CARD_DETECTED = 0x1F


REJECT_REASON_TEXT: Mapping[RejectReason, str] = MappingProxyType(
    {
        RejectReason.NOTE_ACCEPTED: "Note Accepted",
        RejectReason.LENGTH_FAIL: "Length Fail",
        RejectReason.AVERAGE_FAIL: "Average Fail",
        RejectReason.COASTLINE_FAIL: "Coastline Fail",
        RejectReason.GRAPH_FAIL: "Graph Fail",
        RejectReason.BURIED_FAIL: "Buried Fail",
        RejectReason.CHANNEL_INHIBIT: "Channel Inhibit",
        RejectReason.SECOND_NOTE_DETECTED: "Second Note Detected",
        RejectReason.REJECT_BY_HOST: "Reject By Host",
        RejectReason.CROSS_CHANNEL_DETECTED: "Cross Channel Detected",
        RejectReason.REAR_SENSOR_ERROR: "Rear Sensor Error",
        RejectReason.NOTE_TOO_LONG: "Note Too Long",
        RejectReason.DISABLED_BY_HOST: "Disabled By Host",
        RejectReason.SLOW_MECH: "Slow Mech",
        RejectReason.STRIM_ATTEMPT: "Strim Attempt",
        RejectReason.FRAUD_CHANNEL: "Fraud Channel",
        RejectReason.NO_NOTES_DETECTED: "No Notes Detected",
        RejectReason.PEAK_DETECT_FAIL: "Peak Detect Fail",
        RejectReason.TWISTED_NOTE_DETECTED: "Twisted Note Detected",
        RejectReason.ESCROW_TIMEOUT: "Escrow Timeout",
        RejectReason.BAR_CODE_SCAN_FAIL: "Bar Code Scan Fail",
        RejectReason.NO_CAM_ACTIVATE: "No Cam Activate",
        RejectReason.SLOT_FAIL_1: "Slot Fail 1",
        RejectReason.SLOT_FAIL_2: "Slot Fail 2",
        RejectReason.LENS_OVERSAMPLE: "Lens Oversample",
        RejectReason.WIDTH_DETECTION_FAIL: "Width Detection Fail",
        RejectReason.SHORT_NOTE_DETECTED: "Short Note Detected",
        RejectReason.PAYOUT_NOTE: "Payout Note",
        RejectReason.DOUBLE_NOTE_DETECTED: "Double Note Detected",
        RejectReason.UNABLE_TO_STACK: "Unable To Stack",
        RejectReason.CREDIT_CARD_DETECTED: "Credit Card Detected",
    }
)
"""Text after "Reject Reason: " in ``rejectCategory``. Only "Channel Inhibit" (code 0x06) is the seed's
(L10587-L10588); the others are ours, title-cased from the protocol's reason names in the same style."""
