"""The public read-only variables of ITL's C# ``CashDevice`` class, as one data table.

:data:`VARIABLES` holds, in the seed's order, the 88 variables of the "Public Read-Only Variables of
CashDevice class" table (``shared/seed/000_79375e11ce1a2a17.txt`` L11260-L11456, identical to the REST copy
L1934-L2133; misspellings kept, e.g. ``seondaryHopperBuildRevisionString``), then the 6 public fields that
only the GetCompleteCashDevice JSON dump shows (L2140-L2366): ``nv22SpectralDevice``,
``enablePayoutDeviceError``, ``recyclerCountersString``, ``currencyAssignment``, ``sorterRouteAssignment``,
``deviceState``.

The seed's table gives a name and a description only, never a type. ``cs_type`` is therefore inferred, and
``cs_type_evidence`` says from what: a C# method signature that takes or fills the variable, or the value in
the JSON dump (a JSON ``null`` means a C# reference type — ``string`` unless the name says otherwise; a number
means a value type; a name in quotes means an enum). Defaults are what a fresh C# object would hold: ``null``
for reference types, ``0``/``false`` for value types, member 0 for enums — except where a row says otherwise.

The ``CashDevice`` properties and its dict export are generated from this table; tests compare it with the
seed text. Nothing here is mutable: rows are frozen, the table is a tuple, list defaults are empty tuples that
:meth:`Variable.new_default` turns into fresh lists.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Dict, Iterable, Mapping, Tuple

from .enums import DeviceError, DeviceModel, DeviceState, DispenserTransactionState, RCMode
from .records import DownloadStatus, ValueCountryCode

__all__ = [
    "CS_INTEGER_RANGES",
    "EXTRA_JSON_FIELDS",
    "HOW_FILLED",
    "GET_COMPLETE_CASH_DEVICE_ORDER",
    "SEED_TABLE",
    "VARIABLES",
    "VARIABLES_BY_NAME",
    "Variable",
    "VARIABLE_ALIASES",
    "default_values",
    "json_value",
    "to_json",
]

CS_INTEGER_RANGES: Mapping[str, Tuple[int, int]] = MappingProxyType(
    {
        "byte": (0, 0xFF),
        "ushort": (0, 0xFFFF),
        "uint": (0, 0xFFFFFFFF),
        "int": (-(2**31), 2**31 - 1),
    }
)
"""Value range of each C# integer type used in :data:`VARIABLES`."""


@dataclass(frozen=True)
class Variable:
    """One public read-only variable of ``CashDevice``.

    * ``name`` — exactly as the seed spells it; also the key in the GetCompleteCashDevice JSON.
    * ``cs_type`` — C# type (inferred, see ``cs_type_evidence``).
    * ``py_type`` — annotation text for the generated Python property.
    * ``value_type`` — runtime class of a non-``None`` value.
    * ``default`` — value before the device fills it (immutable; see :meth:`new_default`).
    * ``description`` — the seed's description, verbatim (for the 6 extra fields: ours, marked "(not in the
      seed's table)").
    * ``seed_line`` — line of the name in the C# table (``None`` for the extra fields).
    * ``json_line`` — line where the key starts in the GetCompleteCashDevice dump.
    * ``json_format`` — how the dump writes the value.
    """

    name: str
    cs_type: str
    py_type: str
    value_type: type
    default: Any
    description: str
    seed_line: int | None
    json_line: int
    json_format: str
    cs_type_evidence: str

    @property
    def json_name(self) -> str:
        """Key in the GetCompleteCashDevice JSON: the variable's own name (L2141-L2365)."""
        return self.name

    @property
    def nullable(self) -> bool:
        """True when the C# type is a reference type (the variable may be ``None``)."""
        return self.py_type.endswith("| None")

    @property
    def in_seed_table(self) -> bool:
        return self.seed_line is not None

    def new_default(self) -> Any:
        """A fresh default: a new empty list for list-typed variables, else :attr:`default` itself."""
        if isinstance(self.default, tuple):
            return list(self.default)
        return self.default


def _v(
    name: str,
    cs_type: str,
    py_type: str,
    value_type: type,
    default: Any,
    seed_line: int | None,
    json_line: int,
    json_format: str,
    evidence: str,
    description: str,
) -> Variable:
    return Variable(
        name=name,
        cs_type=cs_type,
        py_type=py_type,
        value_type=value_type,
        default=default,
        description=description,
        seed_line=seed_line,
        json_line=json_line,
        json_format=json_format,
        cs_type_evidence=evidence,
    )


_STR = ("string", "str | None", str, None)
_BOOL = ("bool", "bool", bool, False)
_UINT = ("uint", "int", int, 0)
_INT = ("int", "int", int, 0)
_BYTE = ("byte", "int", int, 0)
_NULL = "JSON null in the dump: reference type"

SEED_TABLE: Tuple[Variable, ...] = (
    _v("comPort", *_STR, 11264, 2141, "string", 'JSON "COM5"; Open(string comPort, ...) L11569',
       "The communication port name used by the device."),
    _v("deviceModel", "DeviceModel", "DeviceModel", DeviceModel, DeviceModel.NOTE_VALIDATOR, 11266, 2142,
       "enum name", 'JSON "SPECTRAL_DEVICE"; "stored in cashDevice.deviceModel" L11580',
       "The model of the device."),
    _v("deviceError", "DeviceError", "DeviceError", DeviceError, DeviceError.NONE, 11268, 2144,
       "enum name", 'JSON "NONE"; DeviceError_LimpMode(DeviceError) L13305',
       "The current error status of the device."),
    _v("isOpen", *_BOOL, 11270, 2145, "boolean", "JSON true",
       "Indicates whether the device is open."),
    _v("isDownloading", *_BOOL, 11272, 2146, "boolean", "JSON false",
       "Indicates whether a download operation is in progress."),
    _v("firmware", *_STR, 11274, 2147, "string", 'JSON "NVS2004301038000"',
       "The firmware version of the device."),
    _v("extendedFirmware", *_STR, 11276, 2148, "string", _NULL + "; ASCII array, L13196-L13200",
       "The extended firmware version of the device."),
    _v("dataset", *_STR, 11278, 2149, "string", 'JSON "GBP07056"',
       "The dataset version of the device."),
    _v("extendedDataset", *_STR, 11280, 2150, "string", _NULL + "; ASCII array, L13176-L13180",
       "The extended dataset version of the device."),
    _v("mainSerialNumber", *_UINT, 11282, 2151, "integer",
       "JSON 6331574; SSP serial numbers are 4 bytes (ssp-protocol.md)",
       "The main serial number of the device."),
    _v("recycler1SerialNumber", *_UINT, 11284, 2152, "integer", "JSON 0; as mainSerialNumber",
       "The serial number of the first recycler."),
    _v("recycler2SerialNumber", *_UINT, 11286, 2153, "integer", "JSON 0; as mainSerialNumber",
       "The serial number of the second recycler."),
    _v("recycler3SerialNumber", *_UINT, 11288, 2154, "integer", "JSON 0; as mainSerialNumber",
       "The serial number of the third recycler."),
    _v("recycler4SerialNumber", *_UINT, 11290, 2155, "integer", "JSON 0; as mainSerialNumber",
       "The serial number of the fourth recycler."),
    _v("interfaceSerialNumber", *_UINT, 11292, 2156, "integer", "JSON 0; as mainSerialNumber",
       "The serial number of the interface module."),
    _v("dockSerialNumber", *_UINT, 11294, 2157, "integer", "JSON 0; as mainSerialNumber",
       "The serial number of the docking station."),
    _v("replenishmentCassetteSerialNumber", *_UINT, 11296, 2159, "integer", "JSON 0; as mainSerialNumber",
       "The serial number of the replenishment cassette."),
    _v("conveyorSerialNumber", *_UINT, 11298, 2161, "integer", "JSON 0; as mainSerialNumber",
       "The serial number of the conveyor module."),
    _v("coinFeederSerialNumber", *_UINT, 11300, 2162, "integer", "JSON 0; as mainSerialNumber",
       "The serial number of the coin feeder module."),
    _v("secondaryHopperSerialNumber", *_UINT, 11302, 2163, "integer", "JSON 0; as mainSerialNumber",
       "The serial number of the secondary hopper."),
    _v("payoutModuleSerialNumber", *_UINT, 11304, 2165, "integer", "JSON 5785286; as mainSerialNumber",
       "The serial number of the payout module."),
    _v("coinLifterSerialNumber", *_UINT, 11307, 2167, "integer", "JSON 0; as mainSerialNumber",
       "The serial number of the coin lifter module."),
    _v("mainSerialNumberValid", *_BOOL, 11309, 2168, "boolean", "JSON false",
       "Indicates whether the main serial number is valid."),
    _v("recycler1SerialNumberValid", *_BOOL, 11311, 2169, "boolean", "JSON false",
       "Indicates whether the serial number of the first recycler is valid."),
    _v("recycler2SerialNumberValid", *_BOOL, 11314, 2171, "boolean", "JSON false",
       "Indicates whether the serial number of the second recycler is valid."),
    _v("recycler3SerialNumberValid", *_BOOL, 11317, 2173, "boolean", "JSON false",
       "Indicates whether the serial number of the third recycler is valid."),
    _v("recycler4SerialNumberValid", *_BOOL, 11320, 2175, "boolean", "JSON false",
       "Indicates whether the serial number of the fourth recycler is valid."),
    _v("interfaceSerialNumberValid", *_BOOL, 11323, 2177, "boolean", "JSON false",
       "Indicates whether the serial number of the interface module is valid."),
    _v("dockSerialNumberValid", *_BOOL, 11326, 2179, "boolean", "JSON false",
       "Indicates whether the serial number of the docking station is valid."),
    _v("replenishmentCassetteSerialNumberValid", *_BOOL, 11329, 2181, "boolean", "JSON false",
       "Indicates whether the serial number of the replenishment cassette is valid."),
    _v("conveyorSerialNumberValid", *_BOOL, 11332, 2183, "boolean", "JSON false",
       "Indicates whether the serial number of the conveyor module is valid."),
    _v("coinFeederSerialNumberValid", *_BOOL, 11335, 2185, "boolean", "JSON false",
       "Indicates whether the serial number of the coin feeder module is valid."),
    _v("secondaryHopperSerialNumberValid", *_BOOL, 11338, 2188, "boolean", "JSON false",
       "Indicates whether the serial number of the secondary hopper is valid."),
    _v("payoutModuleSerialNumberValid", *_BOOL, 11341, 2191, "boolean", "JSON true",
       "Indicates whether the serial number of the payout module is valid."),
    _v("coinLifterSerialNumberValid", *_BOOL, 11344, 2198, "boolean", "JSON false",
       "Indicates whether the serial number of the coin lifter module is valid."),
    _v("buildRevisionString", *_STR, 11347, 2200, "string", 'JSON "1.01"',
       "The build revision string of the device."),
    _v("initialMainBuildRevision", *_INT, 11349, 2201, "integer", "JSON 0",
       "The initial main build revision of the device."),
    _v("mainBuildRevisionString", *_STR, 11351, 2202, "string", 'JSON "9.10"',
       "The main build revision string of the device."),
    _v("coinFeederBuildRevisionString", *_STR, 11353, 2205, "string", _NULL,
       "The build revision string of the coin feeder."),
    _v("seondaryHopperBuildRevisionString", *_STR, 11356, 2208, "string", _NULL + "; [sic] spelling",
       "The build revision string of the secondary hopper."),
    _v("coinLifterBuildRevisionString", *_STR, 11358, 2211, "string", _NULL,
       "The build revision string of the coin lifter."),
    _v("payoutModuleRevisionString", *_STR, 11360, 2213, "string", 'JSON "1.01"',
       "The build revision string of the payout module."),
    _v("primaryHopperAsciiTypeString", *_STR, 11362, 2215, "string", _NULL,
       "The ASCII type string of the primary hopper."),
    _v("coinFeederAsciiTypeString", *_STR, 11364, 2217, "string", _NULL,
       "The ASCII type string of the coin feeder."),
    _v("majorBuildRevision", *_INT, 11366, 2219, "integer", "JSON 1",
       "The major build revision number."),
    _v("minorBuildRevision", *_INT, 11368, 2220, "integer", "JSON 1",
       "The minor build revision number."),
    _v("reg_0", *_BYTE, 11370, 2221, "integer", "SetHopperOptions(byte reg_0, byte reg_1) L12572; JSON 0",
       "The value of register 0."),
    _v("reg_1", *_BYTE, 11372, 2222, "integer", "SetHopperOptions(byte reg_0, byte reg_1) L12572; JSON 0",
       "The value of register 1."),
    _v("reg_0_hex_string", *_STR, 11374, 2223, "string", _NULL + '; REST prints "04" L7240',
       "The hexadecimal string representation of register 0."),
    _v("reg_1_hex_string", *_STR, 11376, 2224, "string", _NULL + '; REST prints "00" L7241',
       "The hexadecimal string representation of register 1."),
    _v("globalErrorCode_0", *_BYTE, 11378, 2225, "integer", 'JSON 0; REST prints it as hex "00" L7558',
       "The global error code 0."),
    _v("globalErrorCode_1", *_BYTE, 11380, 2226, "integer", 'JSON 0; REST prints it as hex "00" L7559',
       "The global error code 1."),
    _v("unit_info_retrieved", *_BOOL, 11382, 2227, "boolean", "JSON true",
       "Indicates whether the unit information was retrieved."),
    _v("lifterConnected", *_BOOL, 11384, 2228, "boolean", "JSON false; Get_Lifter_Status L13249",
       "Indicates whether the lifter is connected."),
    _v("lifterOptoClear", *_BOOL, 11386, 2229, "boolean", "JSON false; Get_Lifter_Status L13249",
       "Indicates whether the lifter opto is clear."),
    _v("lifterJammed", *_BOOL, 11388, 2230, "boolean", "JSON false; Get_Lifter_Status L13249",
       "Indicates whether the lifter is jammed."),
    _v("lastGetLevelsSuccessful", *_BOOL, 11390, 2231, "boolean", "JSON true",
       "Indicates whether the last get levels operation was successful."),
    _v("service_information_string", *_STR, 11393, 2233, "string", _NULL + "; GetServiceInformation L12632",
       "The service information string."),
    _v("noPayinCount", *_BYTE, 11395, 2235, "integer", "SetNoPayinCount(byte count) L12752; JSON 0",
       "The number of no payin counts."),
    _v("coinAcceptance_string", *_STR, 11397, 2236, "string", _NULL,
       "The coin acceptance string."),
    _v("counters_string", *_STR, 11399, 2237, "string", 'JSON "Number of counters in set: 5\\n..."',
       "The counters string."),
    _v("coins_payout_request", *_INT, 11402, 2242, "integer", "JSON 0; GetCoinsExit L12927",
       "The number of coins requested for payout."),
    _v("coins_seen_at_exit_sensor", *_INT, 11404, 2243, "integer", "JSON 0; GetCoinsExit L12927",
       "The number of coins seen at the exit sensor."),
    _v("real_time_clock_string", *_STR, 11406, 2244, "string", _NULL + "; GetRealTimeClock L12971",
       "The real-time clock string."),
    _v("cashbox_levels_string", *_STR, 11408, 2245, "string", _NULL,
       "The cashbox levels string."),
    _v("payout_count", *_INT, 11410, 2246, "integer", "JSON 0; GetPayoutCount L13104",
       "The payout count."),
    _v("commandFailedDetailsString", *_STR, 11412, 2247, "string", _NULL,
       "The details string for command failures."),
    _v("maintenanceRequiredDetailsString", *_STR, 11414, 2250, "string", _NULL,
       "The details string for maintenance required."),
    _v("lifterEventString", *_STR, 11416, 2252, "string", _NULL,
       "The lifter event string."),
    _v("rejectCategory", *_STR, 11418, 2253, "string", _NULL + "; GetLastRejectCode L13268",
       "The reject category."),
    _v("error_during_payout_details_string", *_STR, 11420, 2257, "string", _NULL,
       "The details string for errors during payout."),
    _v("ticketStatus", *_STR, 11422, 2259, "string", _NULL + "; GetBarcodeData L13347",
       "The status of the barcode ticket."),
    _v("barcode_ascii_data", *_STR, 11424, 2260, "string", _NULL + "; GetBarcodeData L13347",
       "The ASCII data of the barcode."),
    _v("barCodeHardwareStatus", *_STR, 11426, 2261, "string", _NULL + "; texts L13400-L13403",
       "The hardware status of the barcode reader."),
    _v("readersEnabled", *_STR, 11428, 2262, "string",
       _NULL + '; texts L13405-L13408 (there "readerEnabled")',
       "The enabled status of the barcode readers."),
    _v("barCodeFormat", *_STR, 11430, 2263, "string",
       _NULL + '; texts L13410-L13411 (there "barcodeFormat")',
       "The format of the barcode."),
    _v("numberOfCharacters", *_STR, 11432, 2264, "string", _NULL + '; REST prints "18" L4898',
       "The number of characters in the barcode."),
    _v("barCodeInhibit", *_STR, 11434, 2265, "string", _NULL + "; a description, L13448",
       "The inhibit status of the barcode reader."),
    _v("RC_CurrentMode", "RCMode", "RCMode", RCMode, RCMode.RC_MODE_REPLENISH, 11436, 2270, "enum name",
       'JSON "RC_MODE_REPLENISH" (C# enum type name not in the seed)',
       "The current mode of the replenishment cassette."),
    _v("currentRC_PayoutValue", "ValueCountryCode", "ValueCountryCode | None", ValueCountryCode, None,
       11438, 2272, "object (ValueCountryCode, PascalCase) or null",
       _NULL + "; ValueCountryCode is our guess from the name (a value with its currency)",
       "The current payout value of the replenishment cassette."),
    _v("RC_DenominationForPayout", "ValueCountryCode", "ValueCountryCode | None", ValueCountryCode, None,
       11440, 2273, "object (ValueCountryCode, PascalCase) or null",
       _NULL + "; ValueCountryCode is our guess from the name (a denomination)",
       "The denomination for payout in the replenishment cassette."),
    _v("unknown_stored_in_cashbox", *_INT, 11443, 2275, "integer",
       'JSON 0; "Quantity of unknown coins" in cashbox_levels_string L9431',
       "The number of unknown items stored in the cashbox."),
    _v("sspProtocolVersion", *_BYTE, 11445, 2276, "integer", "JSON 7; SSP protocol version is one byte",
       "The SSP protocol version."),
    _v("downloadStatus", "DownloadStatus", "DownloadStatus", DownloadStatus, DownloadStatus(), 11448, 2277,
       "object (DownloadStatus, PascalCase, State by name)",
       'JSON {"State": "IDLE", ...} L2277-L2283, not null: created with the object (C# class name ours)',
       "The download status."),
    _v("cashDeviceModules", "CashDeviceModule[]", "list[CashDeviceModule] | None", list, None, 11450, 2284,
       "array of CashDeviceModule or null",
       '"An array of cash device modules"; JSON null L2284 (element class name ours)',
       "An array of cash device modules."),
    _v("dispenseState", "DispenserTransactionState", "DispenserTransactionState", DispenserTransactionState,
       DispenserTransactionState.COMPLETED, 11452, 2285, "enum name",
       'JSON "COMPLETED"; default COMPLETED (no transaction running) as the dump shows (C# type name ours)',
       "The dispense transaction state."),
    _v("noteInEscrow", *_BOOL, 11454, 2287, "boolean", "JSON false",
       "Indicates whether there is a note in escrow."),
    _v("isMultiCurrency", *_BOOL, 11456, 2286, "boolean", "JSON false",
       "Indicates whether the device supports multiple currencies."),
)
"""The 88 variables of the seed's table (L11260-L11456), in its order."""

EXTRA_JSON_FIELDS: Tuple[Variable, ...] = (
    _v("nv22SpectralDevice", *_BOOL, None, 2266, "boolean", "JSON false",
       "(not in the seed's table) Set when the device is an NV22 (Spectral); selects the "
       "EnablePayoutDevice option bits, L3585-L3616."),
    _v("enablePayoutDeviceError", *_STR, None, 2267, "string", _NULL,
       "(not in the seed's table) Last error of enable payout device (REST EnablePayoutDevice, "
       "\"Failed to enable payout device. Error: {error_message}\" L3459-L3460)."),
    _v("recyclerCountersString", *_STR, None, 2269, "string", _NULL,
       "(not in the seed's table) Counters of the NV4000 recycler modules, as text."),
    _v("currencyAssignment", "List<CurrencyAssignmentEntry>", "list[CurrencyAssignmentEntry]", list, (),
       None, 2288, "array of CurrencyAssignmentEntry (PascalCase, enums by name)",
       "JSON array L2288-L2363; Open stores levels here L11584-L11585 (element class name ours); "
       "default an empty list",
       "(not in the seed's table) The channels of the dataset: denomination, inhibit, route and levels."),
    _v("sorterRouteAssignment", "List<SorterRouteAssignmentEntry>", "list[SorterRouteAssignmentEntry]", list,
       (), None, 2364, "array of SorterRouteAssignmentEntry",
       "JSON [] L2364; GetSorterRouteAssignment L9659-L9669 (element class name ours)",
       "(not in the seed's table) Twin SCS sorter route of each denomination."),
    _v("deviceState", "DeviceState", "DeviceState", DeviceState, DeviceState.NOT_CONNECTED, None, 2365,
       "enum name", 'JSON "IDLE"; DeviceState_StartupReady(DeviceState) L13227',
       "(not in the seed's table) The current state of the device."),
)
"""The 6 public fields that the GetCompleteCashDevice dump shows and the table does not (L2266-L2269,
L2288-L2365)."""

VARIABLES: Tuple[Variable, ...] = SEED_TABLE + EXTRA_JSON_FIELDS
"""All 94 variables: the seed's table, then the extra JSON fields."""

VARIABLES_BY_NAME: Mapping[str, Variable] = MappingProxyType({v.name: v for v in VARIABLES})

def _never_serial(what: str, default: str, line: str) -> str:
    return (
        f"Never known: GET SERIAL NUMBER has no published sub-device byte for the {what} (GA138 names "
        f"the payout module, the NV4000 recyclers 0x11-0x14 and the interface 0x15 only), so it stays "
        f"{default}, as in the seed's dump ({line})."
    )


HOW_FILLED: Mapping[str, str] = MappingProxyType(
    {
        "dockSerialNumber": _never_serial("docking station", "0", "L2157"),
        "conveyorSerialNumber": _never_serial("conveyor", "0", "L2161"),
        "replenishmentCassetteSerialNumber": _never_serial("replenishment cassette", "0", "L2159"),
        "secondaryHopperSerialNumber": _never_serial("secondary hopper", "0", "L2163"),
        "coinLifterSerialNumber": _never_serial("coin lifter", "0", "L2167"),
        "dockSerialNumberValid": _never_serial("docking station", "false", "L2179"),
        "conveyorSerialNumberValid": _never_serial("conveyor", "false", "L2183"),
        "replenishmentCassetteSerialNumberValid": _never_serial("replenishment cassette", "false", "L2181"),
        "secondaryHopperSerialNumberValid": _never_serial("secondary hopper", "false", "L2188"),
        "coinLifterSerialNumberValid": _never_serial("coin lifter", "false", "L2198"),
        "initialMainBuildRevision": "Never known: its meaning is not published; the seed's dump shows 0 "
        'next to mainBuildRevisionString "9.10" (L2201-L2203), so it is not the revision read at Open; '
        "it stays 0 as there.",
        "seondaryHopperBuildRevisionString": "Never known: GET BUILD REVISION has no published module "
        "type for a secondary hopper (GA138: main, payout 0x06/0x07, feeder 0x09); stays null (L2208).",
        "coinLifterBuildRevisionString": "Never known: GET BUILD REVISION has no published module type "
        "for a coin lifter; stays null (L2211).",
        "coinFeederBuildRevisionString": "From GET BUILD REVISION (0x4F) module type 0x09 (a SMART Coin "
        "System's feeder); null when the device reports none.",
        "primaryHopperAsciiTypeString": "Never known: no published command returns a hopper's ASCII type; "
        "stays null (L2215).",
        "coinFeederAsciiTypeString": "Never known: no published command returns a feeder's ASCII type; "
        "stays null (L2217).",
        "commandFailedDetailsString": "Set when the device refuses a command a method sent: "
        '"<Method>: device answered <response> <data>", e.g. "DispenseValue: device answered '
        'COMMAND_CANNOT_BE_PROCESSED 01"; null until then.',
        "nv22SpectralDevice": "Never known: no published SSP reply tells an NV22 from a Spectral Payout "
        "(both answer SETUP REQUEST with unit type 0x00, a note validator); false, as the seed's dump "
        "shows (L2266).",
        "recyclerCountersString": "Never known: the NV4000 recycler counters command is not published; "
        "stays null (L2269).",
        "currentRC_PayoutValue": "Never known: the NV4000 replenishment-cassette payout commands are not "
        "published; stays null (L2272).",
        "RC_DenominationForPayout": "Never known: the NV4000 replenishment-cassette payout commands are "
        "not published; stays null (L2273).",
    }
)
"""How this port fills a variable whose source the seed does not give, or why it cannot (appended to
the generated property's docstring).  ``StoredInCashbox`` (a field of ``currencyAssignment``) is counted
by the host: see :class:`~cashdevice.records.CurrencyAssignmentEntry`."""


VARIABLE_ALIASES: Mapping[str, Tuple[str, str]] = MappingProxyType(
    {
        "modules": ("cashDeviceModules", "Open's description of the NV4000 pay-out modules, L11582"),
        "readerEnabled": ("readersEnabled", "GetBarcodeReaderConfiguration's table, L13405"),
        "barcodeFormat": ("barCodeFormat", "GetBarcodeReaderConfiguration's table, L13410"),
    }
)
"""Other names the seed's prose uses for three variables: ``alias -> (variable, where)``.  Each alias is a
read-only property reading the same value; it is not a variable of its own (not in the JSON)."""

GET_COMPLETE_CASH_DEVICE_ORDER: Tuple[str, ...] = tuple(
    v.name for v in sorted(VARIABLES, key=lambda v: v.json_line)
)
"""Key order of the GetCompleteCashDevice JSON (L2141-L2365). It differs from the table's: the three hidden
flags sit between ``barCodeInhibit`` and ``RC_CurrentMode``, ``isMultiCurrency`` comes before
``noteInEscrow``, and the three other extra fields close the object."""


def default_values() -> Dict[str, Any]:
    """A fresh ``{name: default}`` dict of all 94 variables, in table order (new lists for list variables)."""
    return {v.name: v.new_default() for v in VARIABLES}


def json_value(value: Any) -> Any:
    """A variable's value as GetCompleteCashDevice writes it: enums by name, records in their PascalCase shape
    (``to_json("pascal")``), sequences as lists, everything else unchanged."""
    if isinstance(value, enum.Enum):
        return value.name
    to_json_method = getattr(value, "to_json", None)
    if callable(to_json_method):
        return to_json_method("pascal")
    if isinstance(value, (list, tuple)):
        return [json_value(item) for item in value]
    return value


def to_json(
    values: Mapping[str, Any], names: Iterable[str] = GET_COMPLETE_CASH_DEVICE_ORDER
) -> Dict[str, Any]:
    """The GetCompleteCashDevice object for ``values`` (a name -> value mapping such as :func:`default_values`
    returns), keys in the dump's order. A missing name raises ``KeyError``."""
    return {name: json_value(values[name]) for name in names}
