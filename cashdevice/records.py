"""The C# data classes of ITL's ``CashDevice`` API and the payloads of its events, as dataclasses.

Field names are the seed's (``shared/seed/000_79375e11ce1a2a17.txt``; ``Lnnnn`` = line numbers there), in the
case the seed prints them: PascalCase for the C# classes (``ValueCountryCode.Value``,
``LevelInfo.CountryCode`` …), camelCase for the REST ``GetDeviceStatus`` event objects, which the seed shows
only as JSON (``state``, ``stateAsString``, ``isRunning`` …). Where the seed gives no class name, the name is
ours and the docstring says so.

Every record has ``to_json()``, which returns the JSON-ready ``dict`` the seed shows. The seed serialises the
same C# objects two ways, and ``style`` picks one:

* ``"pascal"`` — GetCompleteCashDevice (L2140-L2366): PascalCase keys, enums by name (``"Type": "BANKNOTE"``,
  ``"AcceptRoute": "PAYOUT"``);
* ``"camel"`` — GetCurrencyAssignment / GetAllLevels (L2900-L2933, L3055-L3133): the key's first letter
  lower-cased (``"fraud_Attempt_Value"``), enums by number (``"type": 1``, ``"acceptRoute": 7``).

Design choices:

* :class:`ValueCountryCode` is mutable like the C# class (object-initialiser style works), compares and
  orders by ``(Value, CountryCode)`` and is checked where it is used, not when built; the two hidden fields
  ``Fraud_Attempt_Value`` / ``Calibration_Failed_Value`` (always -1 in the seed, L2294-L2296) take no part in
  equality, so ``ValueCountryCode(500, "GBP")`` finds its channel in a list however it was built.
  ``str()`` gives the REST form ``"500 GBP"`` and :meth:`ValueCountryCode.parse` reads it back.
* :class:`CurrencyAssignmentEntry` is mutable (the device updates inhibits, routes and levels in place, as the
  C# list of objects is); ``Value`` and ``CountryCode`` are read-only views of its ``ValueCountryCode`` so the
  duplicated JSON fields can never disagree.
* Everything else is a frozen snapshot: a new object replaces the old one when the device reports a change.

Imports: stdlib and :mod:`cashdevice.enums` only.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, ClassVar, Dict, Literal, Mapping, Tuple, Type, TypeVar, Union

from .enums import (
    CashDeviceModuleType,
    CashEventType,
    CurrencyType,
    DenominationRoute,
    DeviceState,
    DispenserTransactionState,
    DispenserTransactionType,
    DownloadState,
    ReplenishEventType,
    SorterRoute,
)

__all__ = [
    "EVENT_ARGS",
    "CashDeviceModule",
    "CashEventResponse",
    "CurrencyAssignmentEntry",
    "DeviceModuleStateChangedEventArgs",
    "DeviceStatusResponse",
    "DispenserTransactionEventResponse",
    "DownloadBlockEventArgs",
    "DownloadStateEventArgs",
    "DownloadStatus",
    "EventArgs",
    "JsonDict",
    "JsonStyle",
    "LevelInfo",
    "LevelsResult",
    "ReplenishEventResponse",
    "SetDenominationRouteFinishedEventResponse",
    "SorterRouteAssignmentEntry",
    "ValueCountryCode",
    "camel_key",
]

JsonStyle = Literal["pascal", "camel"]
"""``"pascal"``: GetCompleteCashDevice shape; ``"camel"``: GetCurrencyAssignment / GetAllLevels shape."""

JsonDict = Dict[str, Any]
_UINT32_MAX = 0xFFFFFFFF
_E = TypeVar("_E", bound=enum.IntEnum)


def camel_key(name: str) -> str:
    """The key ASP.NET's camelCase policy makes of a C# member name: first letter lower-cased only
    (``Fraud_Attempt_Value`` -> ``fraud_Attempt_Value``, as L3061 shows)."""
    return name[:1].lower() + name[1:]


def _key(name: str, style: JsonStyle) -> str:
    if style == "pascal":
        return name
    if style == "camel":
        return camel_key(name)
    raise ValueError(f"unknown JSON style {style!r}; expected 'pascal' or 'camel'")


def _enum_json(value: enum.IntEnum, style: JsonStyle) -> str | int:
    """Enums: by name in the pascal (GetCompleteCashDevice) shape, by number in the camel one."""
    return value.name if style == "pascal" else int(value)


def _enum_from_json(enum_type: type[_E], raw: object) -> _E:
    if isinstance(raw, str):
        try:
            return enum_type[raw]
        except KeyError:
            raise ValueError(f"{raw!r} is not a {enum_type.__name__} name") from None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return enum_type(raw)
    raise TypeError(f"{enum_type.__name__} must be a name or a number, not {raw!r}")


def _get(data: Mapping[str, object], name: str) -> object:
    """Read a key in either style (PascalCase or camelCase)."""
    if name in data:
        return data[name]
    camel = camel_key(name)
    if camel in data:
        return data[camel]
    raise KeyError(name)


def _int(raw: object, name: str) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    raise TypeError(f"{name} must be an integer, not {raw!r}")


def _bool(raw: object, name: str) -> bool:
    if isinstance(raw, bool):
        return raw
    raise TypeError(f"{name} must be a boolean, not {raw!r}")


def _str(raw: object, name: str) -> str:
    if isinstance(raw, str):
        return raw
    raise TypeError(f"{name} must be a string, not {raw!r}")


def _check_uint32(value: object, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int (C# UInt32), not {type(value).__name__}")
    if not 0 <= value <= _UINT32_MAX:
        raise ValueError(f"{name} must fit a C# UInt32 (0..{_UINT32_MAX}), got {value}")


# --------------------------------------------------------------------------------------------
# ValueCountryCode, currency assignment, levels

_VCC_TEXT = re.compile(r"^\s*(\d+)\s+([A-Za-z]{3})\s*$")


@dataclass(order=True)
class ValueCountryCode:
    """C# ``ValueCountryCode`` (L11768-L11771): a denomination in minor units and its currency.

    Built like the C# class in any of its forms: ``ValueCountryCode(500, "EUR")``,
    ``ValueCountryCode(Value=500, CountryCode="EUR")``, or the object-initialiser style
    ``v = ValueCountryCode(); v.Value = 500; v.CountryCode = "EUR"`` (defaults 0 and ``""``, as a new
    C# object has).  Nothing is checked here: ``Value`` must be a C# ``UInt32`` and ``CountryCode`` a
    3-letter code ("GBP", "EUR", "ITL" test currency L9429) where the value is used, so a method answers
    its documented failure value (``INVALID_INPUT``, ``False``) with a log line, as C# does;
    :meth:`problem` says what is wrong.  Mutable like the C# class, hence not hashable (key a dict by
    ``(v.Value, v.CountryCode)``).  ``Fraud_Attempt_Value`` and ``Calibration_Failed_Value`` are the two
    hidden public fields of the JSON dumps (-1 in every example, L2294-L2296, L3060-L3061); they do not
    take part in equality or ordering.
    """

    Value: int = 0
    CountryCode: str = ""
    Fraud_Attempt_Value: int = field(default=-1, compare=False)
    Calibration_Failed_Value: int = field(default=-1, compare=False)

    def problem(self) -> str | None:
        """Why this is not a usable denomination (``None`` when it is): ``Value`` an ``int`` (not bool)
        in 0..2**32-1, ``CountryCode`` three ASCII letters."""
        value, code = self.Value, self.CountryCode
        if not isinstance(value, int) or isinstance(value, bool):
            return f"Value must be an int (C# UInt32), not {type(value).__name__}"
        if not 0 <= value <= _UINT32_MAX:
            return f"Value must fit a C# UInt32 (0..{_UINT32_MAX}), got {value}"
        if not isinstance(code, str):
            return f"CountryCode must be a str, not {type(code).__name__}"
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            return f"CountryCode must be 3 letters, got {code!r}"
        return None

    def __str__(self) -> str:
        """The REST form ``"<Value> <CountryCode>"``, e.g. ``"2000 GBP"`` (L1099, L4343)."""
        return f"{self.Value} {self.CountryCode}"

    @classmethod
    def parse(cls, text: str) -> ValueCountryCode:
        """Read the REST form ``"2000 GBP"`` (OpenConnection ``Denomination``, SetDenominationInhibits
        ``ValueCountryCodes``; L1146, L4343). Raises ``ValueError`` on anything else."""
        match = _VCC_TEXT.match(text)
        if match is None:
            raise ValueError(f"not a '<value> <country code>' string: {text!r}")
        return cls(int(match.group(1)), match.group(2).upper())

    def to_json(self, style: JsonStyle = "pascal") -> JsonDict:
        """``{"Value", "CountryCode", "Fraud_Attempt_Value", "Calibration_Failed_Value"}`` (L2292-L2296), or
        the camel keys of L3058-L3061."""
        return {
            _key("Value", style): self.Value,
            _key("CountryCode", style): self.CountryCode,
            _key("Fraud_Attempt_Value", style): self.Fraud_Attempt_Value,
            _key("Calibration_Failed_Value", style): self.Calibration_Failed_Value,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ValueCountryCode:
        """Inverse of :meth:`to_json`; accepts either style; the two hidden fields are optional."""
        fraud = data.get("Fraud_Attempt_Value", data.get("fraud_Attempt_Value", -1))
        calibration = data.get("Calibration_Failed_Value", data.get("calibration_Failed_Value", -1))
        return cls(
            _int(_get(data, "Value"), "Value"),
            _str(_get(data, "CountryCode"), "CountryCode"),
            _int(fraud, "Fraud_Attempt_Value"),
            _int(calibration, "Calibration_Failed_Value"),
        )


_ValueCountryCode = ValueCountryCode  # the entry below has a field of the same name


@dataclass
class CurrencyAssignmentEntry:
    """One channel of ``currencyAssignment`` (GetCompleteCashDevice L2288-L2363, GetCurrencyAssignment
    L3055-L3133). Class name ours (the seed names none); field names the seed's.

    ``Channel`` is 1-based (1..4 for GBP 5/10/20/50 in the examples); the methods that take an "index" into
    the currency assignment use ``Channel - 1``. ``Value`` and ``CountryCode`` are read-only views of
    ``ValueCountryCode`` (both appear in the JSON, L2298-L2299). ``IsRecyclable`` is what the denomination
    can do, not where it goes now: true when the payout device reports a route for it (it can be routed
    to the payout), whatever ``AcceptRoute`` is (the seed: true with ``"CASHBOX"``, L2338-L2340).
    ``StoredInCashbox`` is counted by the host since Open (the device has no cashbox count per note).
    """

    Type: CurrencyType
    ValueCountryCode: _ValueCountryCode
    IsInhibited: bool = False
    IsRecyclable: bool = False
    AcceptRoute: DenominationRoute = DenominationRoute.CASHBOX
    Stored: int = 0
    StoredInCashbox: int = 0
    Channel: int = 0

    @property
    def Value(self) -> int:
        """``ValueCountryCode.Value``."""
        return self.ValueCountryCode.Value

    @property
    def CountryCode(self) -> str:
        """``ValueCountryCode.CountryCode``."""
        return self.ValueCountryCode.CountryCode

    def to_json(self, style: JsonStyle = "pascal") -> JsonDict:
        """The seed's key order: Type, ValueCountryCode, Value, CountryCode, IsInhibited, IsRecyclable,
        AcceptRoute, Stored, StoredInCashbox, Channel (L2289-L2304)."""
        return {
            _key("Type", style): _enum_json(self.Type, style),
            _key("ValueCountryCode", style): self.ValueCountryCode.to_json(style),
            _key("Value", style): self.Value,
            _key("CountryCode", style): self.CountryCode,
            _key("IsInhibited", style): self.IsInhibited,
            _key("IsRecyclable", style): self.IsRecyclable,
            _key("AcceptRoute", style): _enum_json(self.AcceptRoute, style),
            _key("Stored", style): self.Stored,
            _key("StoredInCashbox", style): self.StoredInCashbox,
            _key("Channel", style): self.Channel,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> CurrencyAssignmentEntry:
        """Inverse of :meth:`to_json`; enums by name or number, keys in either style."""
        vcc_raw = _get(data, "ValueCountryCode")
        if not isinstance(vcc_raw, Mapping):
            raise TypeError(f"ValueCountryCode must be an object, not {vcc_raw!r}")
        return cls(
            Type=_enum_from_json(CurrencyType, _get(data, "Type")),
            ValueCountryCode=ValueCountryCode.from_json(vcc_raw),
            IsInhibited=_bool(_get(data, "IsInhibited"), "IsInhibited"),
            IsRecyclable=_bool(_get(data, "IsRecyclable"), "IsRecyclable"),
            AcceptRoute=_enum_from_json(DenominationRoute, _get(data, "AcceptRoute")),
            Stored=_int(_get(data, "Stored"), "Stored"),
            StoredInCashbox=_int(_get(data, "StoredInCashbox"), "StoredInCashbox"),
            Channel=_int(_get(data, "Channel"), "Channel"),
        )


@dataclass(frozen=True)
class LevelInfo:
    """C# ``LevelInfo {string CountryCode; uint Value; uint Stored}`` (L2954-L2966): one item of
    ``GetAllLevels`` / OpenConnection ``allLevels`` (L1274-L1278, L2910-L2914)."""

    CountryCode: str
    Value: int
    Stored: int

    def to_json(self, style: JsonStyle = "camel") -> JsonDict:
        """``{"countryCode": "GBP", "value": 500, "stored": 0}`` — the seed shows the camel shape only."""
        return {
            _key("CountryCode", style): self.CountryCode,
            _key("Value", style): self.Value,
            _key("Stored", style): self.Stored,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> LevelInfo:
        return cls(
            _str(_get(data, "CountryCode"), "CountryCode"),
            _int(_get(data, "Value"), "Value"),
            _int(_get(data, "Stored"), "Stored"),
        )


@dataclass(frozen=True)
class LevelsResult:
    """C# ``LevelsResult {List<LevelInfo> Levels; bool Success; string Message}`` (L2941-L2952); e.g. message
    "Successfully retrieved all levels." (L2932-L2933). ``Levels`` is a tuple here (frozen record)."""

    Levels: Tuple[LevelInfo, ...] = ()
    Success: bool = False
    Message: str | None = None

    def to_json(self, style: JsonStyle = "camel") -> JsonDict:
        return {
            _key("Levels", style): [level.to_json(style) for level in self.Levels],
            _key("Success", style): self.Success,
            _key("Message", style): self.Message,
        }


# --------------------------------------------------------------------------------------------
# Download status, modules, sorter routes


@dataclass(frozen=True)
class DownloadStatus:
    """``downloadStatus`` (L11448): ``{"State": "IDLE", "CurrentRamBlock": 0, "TotalRamBlocks": 0,
    "CurrentDownloadBlock": 0, "TotalDownloadBlocks": 0}`` (L2277-L2283). Class name ours.

    ``State`` serialises by name in both styles (the REST GetDownloadStatus view prints ``"state":
    "UPDATING"`` too, L11059). :meth:`to_rest_status` gives that view, whose key ``totalDownloadBlock`` is
    singular (L11047, L11061) and whose ``success`` is "True if the download is complete" (L11049).
    """

    State: DownloadState = DownloadState.IDLE
    CurrentRamBlock: int = 0
    TotalRamBlocks: int = 0
    CurrentDownloadBlock: int = 0
    TotalDownloadBlocks: int = 0

    def to_json(self, style: JsonStyle = "pascal") -> JsonDict:
        return {
            _key("State", style): self.State.name,
            _key("CurrentRamBlock", style): self.CurrentRamBlock,
            _key("TotalRamBlocks", style): self.TotalRamBlocks,
            _key("CurrentDownloadBlock", style): self.CurrentDownloadBlock,
            _key("TotalDownloadBlocks", style): self.TotalDownloadBlocks,
        }

    def to_rest_status(self) -> JsonDict:
        """The REST GetDownloadStatus body (L11058-L11063)."""
        return {
            "state": self.State.name,
            "currentDownloadBlock": self.CurrentDownloadBlock,
            "totalDownloadBlock": self.TotalDownloadBlocks,
            "success": self.State is DownloadState.COMPLETE,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> DownloadStatus:
        return cls(
            _enum_from_json(DownloadState, _get(data, "State")),
            _int(_get(data, "CurrentRamBlock"), "CurrentRamBlock"),
            _int(_get(data, "TotalRamBlocks"), "TotalRamBlocks"),
            _int(_get(data, "CurrentDownloadBlock"), "CurrentDownloadBlock"),
            _int(_get(data, "TotalDownloadBlocks"), "TotalDownloadBlocks"),
        )


@dataclass(frozen=True)
class CashDeviceModule:
    """One item of ``cashDeviceModules`` ("An array of cash device modules", L11450; NV4000 pay-out modules
    read by ``Open``, L11581-L11582). The seed never shows its structure (``null`` at L2284): class and fields
    are ours, PascalCase like the seed's other C# classes — module number, kind, serial number (as the
    ``*SerialNumber`` / ``*SerialNumberValid`` variables), build revision and state."""

    ModuleNumber: int
    ModuleType: CashDeviceModuleType
    SerialNumber: int = 0
    SerialNumberValid: bool = False
    BuildRevisionString: str | None = None
    State: DeviceState = DeviceState.NOT_CONNECTED

    def to_json(self, style: JsonStyle = "pascal") -> JsonDict:
        return {
            _key("ModuleNumber", style): self.ModuleNumber,
            _key("ModuleType", style): _enum_json(self.ModuleType, style),
            _key("SerialNumber", style): self.SerialNumber,
            _key("SerialNumberValid", style): self.SerialNumberValid,
            _key("BuildRevisionString", style): self.BuildRevisionString,
            _key("State", style): _enum_json(self.State, style),
        }


@dataclass(frozen=True)
class SorterRouteAssignmentEntry:
    """One item of ``sorterRouteAssignment`` (Twin SCS): ``{"currentSorterRoute": 0}``
    (GetSorterRouteAssignment L9659-L9669; ``[]`` in the Spectral dump L2364). Class name ours; the field is
    PascalCase here like every C# member the seed shows both ways (the REST endpoint camel-cases them, cf.
    L2954 vs L2910), and its camel JSON key is the seed's. The value is a number in both styles, as the only
    example prints it."""

    CurrentSorterRoute: SorterRoute

    def to_json(self, style: JsonStyle = "camel") -> JsonDict:
        return {_key("CurrentSorterRoute", style): int(self.CurrentSorterRoute)}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SorterRouteAssignmentEntry:
        return cls(_enum_from_json(SorterRoute, _get(data, "CurrentSorterRoute")))


# --------------------------------------------------------------------------------------------
# Event payloads (C# events L11459-L11476; REST GetDeviceStatus objects L2459-L2694)

_Payload = TypeVar("_Payload")


def _csharp_spellings(cls: type[_Payload]) -> type[_Payload]:
    """Give an event payload the .NET spelling of each member as a read-only alias: ``e.Value``,
    ``e.CountryCode``, ``e.EventType``, ``e.State``, ``e.IsRunning``, ``e.Message`` read ``value``,
    ``countryCode``, ... ; ``e.type`` (and ``e.Type``) is the REST JSON's ``"type"`` key.  The seed
    shows these objects only as REST JSON, whose keys ASP.NET writes in camelCase whatever the C#
    spelling (``ValueCountryCode``'s ``Value`` comes out as ``value``, L3058 against L11768), so a
    ported handler may use either; one that used the other would raise in the receiver and miss the
    event.  ``repr``, equality and ``to_json`` keep the camelCase names."""
    if "TYPE" in vars(cls) and not hasattr(cls, "type"):
        # the REST JSON's ``"type"`` key (L2626, L2663), which a client switches on
        cls.type = _ClassName()  # type: ignore[attr-defined]
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    names += [name for name, member in vars(cls).items() if isinstance(member, (property, _ClassName))]
    for name in names:
        alias = name[:1].upper() + name[1:]
        if alias != name and not hasattr(cls, alias):
            setattr(cls, alias, _alias_of(name))
    return cls


class _ClassName:
    """``e.type``: the payload's REST type name (its ``TYPE``), read on the class or an instance."""

    def __get__(self, obj: object, owner: type) -> str:
        return str(owner.TYPE)  # type: ignore[attr-defined]


def _alias_of(name: str) -> property:
    def read(self: object) -> Any:
        return getattr(self, name)

    return property(read, doc=f"The .NET spelling of ``{name}``.")


@_csharp_spellings
@dataclass(frozen=True)
class DeviceStatusResponse:
    """Payload of ``DeviceStateChangedEvent`` = REST ``DeviceStatusResponse`` (L2626-L2645): ``{"type",
    "state": 1, "stateAsString": "CONNECTING", "isRunning": true, "message": "Device state changed:
    CONNECTING"}``. The seed's second example (L2656-L2661) omits ``state`` and ``isRunning``; :meth:`to_json`
    always gives the full form."""

    TYPE: ClassVar[str] = "DeviceStatusResponse"
    state: DeviceState
    isRunning: bool = True

    @property
    def stateAsString(self) -> str:
        return self.state.name

    @property
    def message(self) -> str:
        """``"Device state changed: <STATE>"`` (L2633-L2634)."""
        return f"Device state changed: {self.state.name}"

    def to_json(self) -> JsonDict:
        return {
            "type": self.TYPE,
            "state": int(self.state),
            "stateAsString": self.stateAsString,
            "isRunning": self.isRunning,
            "message": self.message,
        }


@_csharp_spellings
@dataclass(frozen=True)
class CashEventResponse:
    """Payload of ``CashEvent`` = REST ``CashEventResponse`` (L2662-L2681): ``{"type", "eventTypeAsString":
    "ESCROW", "value": 500, "value2": 0, "countryCode": "GBP", "message": "Cash event: ESCROW - Value: 500
    Value2: 0 - CountryCode: GBP"}``. The seed never says what ``value2`` means (0 for ESCROW/STORED)."""

    TYPE: ClassVar[str] = "CashEventResponse"
    eventType: CashEventType
    value: int = 0
    value2: int = 0
    countryCode: str = ""

    @property
    def eventTypeAsString(self) -> str:
        return self.eventType.name

    @property
    def valueCountryCode(self) -> ValueCountryCode:
        """``value`` and ``countryCode`` as a :class:`ValueCountryCode` (``value`` must fit a UInt32)."""
        return ValueCountryCode(self.value, self.countryCode)

    @property
    def message(self) -> str:
        """``"Cash event: <TYPE> - Value: <v> Value2: <v2> - CountryCode: <CC>"`` (L2668-L2670)."""
        return (
            f"Cash event: {self.eventType.name} - Value: {self.value} Value2: {self.value2}"
            f" - CountryCode: {self.countryCode}"
        )

    def to_json(self) -> JsonDict:
        return {
            "type": self.TYPE,
            "eventTypeAsString": self.eventTypeAsString,
            "value": self.value,
            "value2": self.value2,
            "countryCode": self.countryCode,
            "message": self.message,
        }


@_csharp_spellings
@dataclass(frozen=True)
class DispenserTransactionEventResponse:
    """Payload of ``DispenserTransactionEvent`` = REST ``DispenserTransactionEventResponse``: states
    IN_PROGRESS / COMPLETED / ERROR (L2540-L2544) and ``transactionType`` 0-4 (L2613-L2618).

    The seed shows no JSON example. ``state``/``stateAsString`` follow DeviceStatusResponse (the table's
    column is headed ``stateAsString``, L2457), ``transactionType`` is a number as the seed lists it. The
    amounts are ours: ``value`` = value dispensed so far (SSP DISPENSING/DISPENSED data), ``requestedValue`` =
    value asked for (INCOMPLETE_PAYOUT/FLOAT carry both), ``countryCode``. The message text is ours, in the
    CashEvent style.
    """

    TYPE: ClassVar[str] = "DispenserTransactionEventResponse"
    state: DispenserTransactionState
    transactionType: DispenserTransactionType
    value: int = 0
    requestedValue: int = 0
    countryCode: str = ""

    @property
    def stateAsString(self) -> str:
        return self.state.name

    @property
    def message(self) -> str:
        return (
            f"Dispenser transaction: {self.state.name} - Type: {self.transactionType.name}"
            f" - Value: {self.value} Requested: {self.requestedValue} - CountryCode: {self.countryCode}"
        )

    def to_json(self) -> JsonDict:
        return {
            "type": self.TYPE,
            "state": int(self.state),
            "stateAsString": self.stateAsString,
            "transactionType": int(self.transactionType),
            "value": self.value,
            "requestedValue": self.requestedValue,
            "countryCode": self.countryCode,
            "message": self.message,
        }


@_csharp_spellings
@dataclass(frozen=True)
class ReplenishEventResponse:
    """Payload of ``ReplenishEvent`` = REST ``ReplenishEventResponse`` (types L2592-L2600; no JSON example).
    Keys ``eventTypeAsString``/``value``/``countryCode`` follow CashEventResponse; the message text is ours.
    """

    TYPE: ClassVar[str] = "ReplenishEventResponse"
    eventType: ReplenishEventType
    value: int = 0
    countryCode: str = ""

    @property
    def eventTypeAsString(self) -> str:
        return self.eventType.name

    @property
    def message(self) -> str:
        return (
            f"Replenish event: {self.eventType.name} - Value: {self.value} - CountryCode: {self.countryCode}"
        )

    def to_json(self) -> JsonDict:
        return {
            "type": self.TYPE,
            "eventTypeAsString": self.eventTypeAsString,
            "value": self.value,
            "countryCode": self.countryCode,
            "message": self.message,
        }


@_csharp_spellings
@dataclass(frozen=True)
class SetDenominationRouteFinishedEventResponse:
    """Payload of ``SetDenominationRouteFinishedEvent`` = REST ``SetDenominationRouteFinishedEventResponse``
    ``{"type", "result": true|false}`` (L2609-L2611). ``valueCountryCode`` and ``route`` (which request
    finished) are ours and appear in the JSON only when set."""

    TYPE: ClassVar[str] = "SetDenominationRouteFinishedEventResponse"
    result: bool
    valueCountryCode: ValueCountryCode | None = None
    route: DenominationRoute | None = None

    def to_json(self) -> JsonDict:
        data: JsonDict = {"type": self.TYPE, "result": self.result}
        if self.valueCountryCode is not None:
            data["valueCountryCode"] = self.valueCountryCode.to_json("camel")
        if self.route is not None:
            data["route"] = int(self.route)
        return data


@_csharp_spellings
@dataclass(frozen=True)
class DeviceModuleStateChangedEventArgs:
    """Payload of ``DeviceModuleStateChangedEvent`` (L11463). The seed shows no payload and the REST queue
    carries none: class, fields and message are ours (which module, its kind, its new state)."""

    TYPE: ClassVar[str] = "DeviceModuleStateChangedEvent"
    moduleNumber: int
    moduleType: CashDeviceModuleType
    state: DeviceState

    @property
    def stateAsString(self) -> str:
        return self.state.name

    @property
    def message(self) -> str:
        return f"Device module state changed: {self.moduleType.name} ({self.moduleNumber}): {self.state.name}"

    def to_json(self) -> JsonDict:
        return {
            "type": self.TYPE,
            "moduleNumber": self.moduleNumber,
            "moduleType": int(self.moduleType),
            "state": int(self.state),
            "stateAsString": self.stateAsString,
            "message": self.message,
        }


@_csharp_spellings
@dataclass(frozen=True)
class DownloadStateEventArgs:
    """Payload of ``DownloadStateEvent`` (L11471): the new :class:`DownloadState` (IDLE/UPDATING/COMPLETE,
    L11039-L11043, plus our FAILED). No REST counterpart: class, fields and message are ours. ``detail``
    (ours) carries the reason of a FAILED state or a progress note; it is appended to :attr:`message`."""

    TYPE: ClassVar[str] = "DownloadStateEvent"
    state: DownloadState
    detail: str = ""

    @property
    def stateAsString(self) -> str:
        return self.state.name

    @property
    def message(self) -> str:
        base = f"Download state changed: {self.state.name}"
        return f"{base} - {self.detail}" if self.detail else base

    def to_json(self) -> JsonDict:
        return {
            "type": self.TYPE,
            "state": int(self.state),
            "stateAsString": self.stateAsString,
            "message": self.message,
        }


@_csharp_spellings
@dataclass(frozen=True)
class DownloadBlockEventArgs:
    """Payload of ``DownloadBlockEvent`` (L11473): block progress, named after ``downloadStatus``'s
    ``CurrentDownloadBlock`` / ``TotalDownloadBlocks`` (L2281-L2282). No REST counterpart: class and message
    are ours. ``currentRamBlock`` / ``totalRamBlocks`` (ours, after ``CurrentRamBlock`` / ``TotalRamBlocks``)
    report the RAM phase, during which the download counters stay 0."""

    TYPE: ClassVar[str] = "DownloadBlockEvent"
    currentDownloadBlock: int
    totalDownloadBlocks: int
    currentRamBlock: int = 0
    totalRamBlocks: int = 0

    @property
    def message(self) -> str:
        if self.currentDownloadBlock == 0 and self.totalRamBlocks:
            return f"Download RAM block {self.currentRamBlock} of {self.totalRamBlocks}"
        return f"Download block {self.currentDownloadBlock} of {self.totalDownloadBlocks}"

    def to_json(self) -> JsonDict:
        return {
            "type": self.TYPE,
            "currentDownloadBlock": self.currentDownloadBlock,
            "totalDownloadBlocks": self.totalDownloadBlocks,
            "currentRamBlock": self.currentRamBlock,
            "totalRamBlocks": self.totalRamBlocks,
            "message": self.message,
        }


EventArgs = Union[
    DeviceStatusResponse,
    DeviceModuleStateChangedEventArgs,
    CashEventResponse,
    ReplenishEventResponse,
    DispenserTransactionEventResponse,
    DownloadStateEventArgs,
    DownloadBlockEventArgs,
    SetDenominationRouteFinishedEventResponse,
]

EVENT_ARGS: Mapping[str, Type[EventArgs]] = MappingProxyType(
    {
        "DeviceStateChangedEvent": DeviceStatusResponse,
        "DeviceModuleStateChangedEvent": DeviceModuleStateChangedEventArgs,
        "CashEvent": CashEventResponse,
        "ReplenishEvent": ReplenishEventResponse,
        "DispenserTransactionEvent": DispenserTransactionEventResponse,
        "DownloadStateEvent": DownloadStateEventArgs,
        "DownloadBlockEvent": DownloadBlockEventArgs,
        "SetDenominationRouteFinishedEvent": SetDenominationRouteFinishedEventResponse,
    }
)
"""The eight C# events of the events table (L11457-L11476), in its order, and the record each one carries."""
