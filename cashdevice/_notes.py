"""Note-validator and recycler methods of ``CashDevice`` (C# names; a private mixin).

Every method validates its arguments first: bad input returns the documented C# failure
value with one log line, and nothing is sent.  Payout requests are first tried in the
device's test mode (option 0x19), then sent for real (0x58), at protocol >= 6.  Results
map the device's answer: ``F5`` + 1 NOT_ENOUGH_VALUE, 2 CANNOT_PAY_EXACT_AMOUNT, 3 BUSY,
4 (payout disabled) BUSY, bare ``F5`` (no payout unit) NOT_SUPPORTED, ``F4`` / ``F3``
INVALID_INPUT, ``F2`` NOT_SUPPORTED; a device that does not answer gives BUSY.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any, TypeVar, overload

from ._contract import DeviceContract, is_uint, response_name
from ._guard import (
    BYTE,
    BYTES,
    FLAG,
    INT32,
    TEXT,
    U16,
    U32,
    VCC,
    Overload,
    csharp,
    enum_of,
    list_of,
    optional,
)
from .commands import UnverifiedCommandError, country, u16, u32
from .enums import (
    BARCODE_FORMAT_TEXT,
    BARCODE_HARDWARE_STATUS_TEXT,
    BARCODE_INHIBIT_TEXT,
    BARCODE_READERS_TEXT,
    REJECT_REASON_TEXT,
    BarcodeFormat,
    BarcodeHardwareStatus,
    BarcodeInhibit,
    BarcodeReaders,
    DenominationRoute,
    DeviceModel,
    DispenserTransactionType,
    DispenseTransactionRequestResult,
    RCMode,
    RejectReason,
    SetDenominationRouteRequestResult,
)
from .models import COIN_MODELS, DISPENSERS, PAYOUT_MODELS
from .records import CurrencyAssignmentEntry, SetDenominationRouteFinishedEventResponse, ValueCountryCode
from .ssp import Response, SSPError, SSPTimeoutError

ROUTE = enum_of(DenominationRoute)
TEST, REAL = 0x19, 0x58

NV4000_ROUTES = frozenset(
    {
        DenominationRoute.RECYCLER_1,
        DenominationRoute.RECYCLER_2,
        DenominationRoute.RECYCLER_3,
        DenominationRoute.RECYCLER_4,
        DenominationRoute.REPLENISHMENT_CASSETTE,
    }
)
NOTE_COUNTER_LABELS = ("Stacked", "Stored", "Dispensed", "Transferred to stack", "Rejected")
COIN_COUNTER_LABELS = (
    "Coins paid out, including to cashbox",
    "Coins paid in",
    "Feeder rejects",
    "Hopper jams",
    "Feeder jams",
    "Fraud attempts",
    "Calibration Fails",
    "Resets",
    "Coins sent to cashbox",
)
TICKET_STATUS_TEXT = {0: "No ticket", 1: "Ticket in escrow", 2: "Ticket stacked", 3: "Ticket rejected"}
ENABLE_PAYOUT_ERRORS = {
    1: "No device connected",
    2: "Invalid currency detected",
    3: "Device busy",
    4: "Empty only (note float only)",
    5: "Device error",
}
F5 = Response.COMMAND_CANNOT_BE_PROCESSED

_PAYOUT_SET = frozenset(
    {
        DispenseTransactionRequestResult.NOT_SUPPORTED,
        DispenseTransactionRequestResult.BUSY,
        DispenseTransactionRequestResult.INVALID_INPUT,
        DispenseTransactionRequestResult.NOT_ENOUGH_VALUE,
        DispenseTransactionRequestResult.OK,
    }
)
_DISPENSE_SET = _PAYOUT_SET | {DispenseTransactionRequestResult.CANNOT_PAY_EXACT_AMOUNT}
_ROUTE_SET = frozenset(
    {
        SetDenominationRouteRequestResult.NOT_SUPPORTED,
        SetDenominationRouteRequestResult.BUSY,
        SetDenominationRouteRequestResult.INVALID_INPUT,
        SetDenominationRouteRequestResult.OK,
    }
)
DOCUMENTED_RESULTS: Mapping[str, frozenset[Any]] = MappingProxyType(
    {
        # method: the results its C# section lists ("Returns", seed line)
        "DispenseValueSingleCurrency": _DISPENSE_SET
        | {DispenseTransactionRequestResult.MULTI_CURRENCY_MODE},  # L11881
        "DispenseValue": _DISPENSE_SET,  # L11924
        # (1) lists BUSY, INVALID_INPUT, OK only (L11968); this port returns overload (2)'s set
        # (L11996): NOT_SUPPORTED (no payout unit) and NOT_ENOUGH_VALUE (too few notes stored)
        # would otherwise read as BUSY (retry) or INVALID_INPUT.  README "Porting from C#".
        "PayoutByDenomination": _PAYOUT_SET,
        "PayoutbyDenomination": _PAYOUT_SET,  # L11996
        "Float": _PAYOUT_SET,  # L12036
        "SetCashBoxPayoutLimit": _PAYOUT_SET - {DispenseTransactionRequestResult.NOT_ENOUGH_VALUE},  # L12074
        "SmartEmpty": frozenset(
            {
                DispenseTransactionRequestResult.NOT_SUPPORTED,
                DispenseTransactionRequestResult.BUSY,
                DispenseTransactionRequestResult.OK,
            }
        ),  # L12104
        "Replenish": frozenset(
            {DispenseTransactionRequestResult.NOT_SUPPORTED, DispenseTransactionRequestResult.OK}
        ),  # L12426
        "SetDenominationRouteSingleCurrency": _ROUTE_SET  # L12141
        | {
            SetDenominationRouteRequestResult.MULTI_CURRENCY_MODE,
            SetDenominationRouteRequestResult.INVALID_DEVICE_STATE,
        },
        # (1) L12193: no INVALID_DEVICE_STATE; (2) L12232 lists it; both share one method here
        "SetDenominationRoute": _ROUTE_SET,
    }
)
"""Every result a DispenseTransactionRequestResult / SetDenominationRouteRequestResult method
can return: its C# section's list (one exception: ``PayoutByDenomination(vcc, n)``, see above).
A result outside it is narrowed by :func:`_documented` and the real cause is logged."""

_R = TypeVar("_R")


def _narrow(what: str, result: Any) -> Any:
    """``result`` if ``what`` documents it, else the nearest documented result."""
    allowed = DOCUMENTED_RESULTS[what]
    if result in allowed:
        return result
    kind = type(result)
    if result == getattr(kind, "CANNOT_PAY_EXACT_AMOUNT", None) and kind.NOT_ENOUGH_VALUE in allowed:
        return kind.NOT_ENOUGH_VALUE
    if kind.NOT_SUPPORTED in allowed and result != getattr(kind, "INVALID_DEVICE_STATE", None):
        return kind.NOT_SUPPORTED
    return kind.INVALID_INPUT


def _documented(fn: Callable[..., _R]) -> Callable[..., _R]:
    """Keep ``fn``'s result within :data:`DOCUMENTED_RESULTS` (logs the narrowing)."""
    what = fn.__name__

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> _R:
        result = fn(self, *args, **kwargs)
        narrowed: _R = _narrow(what, result)
        if narrowed is not result:
            self.log.warning(
                "%s: %s is not among its documented results; returning %s",
                what,
                getattr(result, "name", result),
                getattr(narrowed, "name", narrowed),
            )
        return narrowed

    return wrapper


class NoteMethods(DeviceContract):
    """Inhibits, routes, payouts, levels, counters, reject codes, barcode, NV4000 replenish."""

    @property
    def _model(self) -> DeviceModel:
        return DeviceModel(self._v["deviceModel"])

    @property
    def _entries(self) -> list[CurrencyAssignmentEntry]:
        return list(self._v["currencyAssignment"])

    def _entry(self, vcc: ValueCountryCode | None) -> CurrencyAssignmentEntry | None:
        if not isinstance(vcc, ValueCountryCode):
            return None
        for entry in self._v["currencyAssignment"]:
            if entry.Value == vcc.Value and entry.CountryCode == vcc.CountryCode.upper():
                return entry  # type: ignore[no-any-return]
        return None

    def _single_currency(self) -> str | None:
        currencies = {e.CountryCode for e in self._v["currencyAssignment"]}
        return currencies.pop() if len(currencies) == 1 else None

    def _vcc_bytes(self, value: int, code: str) -> bytes:
        return u32(value) + (country(code) if self._v["sspProtocolVersion"] >= 6 else b"")

    # ------------------------------------------------------------------------------ inhibits

    @csharp(False, values=list_of(U32), inhibit=FLAG)
    def SetDenominationInhibitsSingleCurrency(self, values: Sequence[int] | None, inhibit: bool) -> bool:
        """C# ``bool SetDenominationInhibitsSingleCurrency(List<UInt32> values, bool inhibit)``
        (L11740): SET INHIBITS (0x02) for the listed values of a single-currency dataset.  False if
        the dataset is multi-currency, the list is None/empty or a value is not in the dataset."""
        code = self._single_currency()
        if code is None:
            self.log.error("SetDenominationInhibitsSingleCurrency: multi-currency dataset or not connected")
            return False
        if not values or not all(isinstance(v, int) for v in values):
            self.log.error("SetDenominationInhibitsSingleCurrency: no values given")
            return False
        return self.SetDenominationInhibits(
            [ValueCountryCode(int(v), code) for v in values if v >= 0], inhibit
        )

    @csharp(False, valueCountryCodes=list_of(VCC), inhibit=FLAG)
    def SetDenominationInhibits(
        self, valueCountryCodes: Sequence[ValueCountryCode] | None, inhibit: bool
    ) -> bool:
        """C# ``bool SetDenominationInhibits(List<ValueCountryCode>, bool inhibit)`` (L11760): SET
        INHIBITS (0x02; coin devices: SET COIN MECH INHIBITS 0x40 per denomination).  False if
        the list is None/empty, the currency assignment is empty or any denomination is invalid."""
        if not valueCountryCodes:
            self.log.error("SetDenominationInhibits: no denominations given")
            return False
        entries = [self._entry(v) for v in valueCountryCodes]
        if any(e is None for e in entries):
            bad = [str(v) for v, e in zip(valueCountryCodes, entries) if e is None]
            self.log.error("SetDenominationInhibits: not in the dataset: %s", ", ".join(bad))
            return False
        return self._apply_inhibits({e.Channel for e in entries if e is not None}, inhibit=bool(inhibit))

    @csharp(False, value=U32, inhibit=FLAG)
    def SetDenominationInhibitSingleCurrency(self, value: int, inhibit: bool) -> bool:
        """C# ``bool SetDenominationInhibitSingleCurrency(UInt32 value, bool inhibit)`` (L11788).
        False on a multi-currency dataset or a value not in it."""
        return self.SetDenominationInhibitsSingleCurrency([value], inhibit)

    @overload
    def SetDenominationInhibit(self, index: int, inhibit: bool) -> bool: ...
    @overload
    def SetDenominationInhibit(self, valueCountryCode: ValueCountryCode, inhibit: bool) -> bool: ...

    @csharp(
        False,
        overloads=(
            Overload((("index", U32), ("inhibit", FLAG))),
            Overload((("valueCountryCode", VCC), ("inhibit", FLAG))),
        ),
    )
    def SetDenominationInhibit(self, *args: Any, **kwargs: Any) -> bool:
        """C# ``bool SetDenominationInhibit(UInt32 index, bool inhibit)`` (L11808) and
        ``bool SetDenominationInhibit(ValueCountryCode, bool inhibit)`` (L11827).  ``index`` is
        the 0-based position in ``currencyAssignment``."""
        target, inhibit = _two_args(args, kwargs, ("index", "valueCountryCode"), "inhibit")
        if isinstance(target, ValueCountryCode):
            return self.SetDenominationInhibits([target], inhibit)
        entry = self._by_index(target, "SetDenominationInhibit")
        if entry is None:
            return False
        return self._apply_inhibits({entry.Channel}, inhibit=bool(inhibit))

    def _by_index(self, index: object, what: str) -> CurrencyAssignmentEntry | None:
        entries = self._entries
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(entries):
            self.log.error("%s: index %r outside 0..%d", what, index, len(entries) - 1)
            return None
        return entries[index]

    def _apply_inhibits(self, channels: set[int], *, inhibit: bool) -> bool:
        entries = self._entries
        if not entries:
            self.log.error("inhibits: no currency assignment (not connected?)")
            return False
        if self._model in COIN_MODELS:
            for entry in entries:
                if entry.Channel in channels:
                    code = entry.CountryCode if self._v["sspProtocolVersion"] >= 6 else None
                    args = (not inhibit, entry.Value, code)
                    if not self._simple("SetDenominationInhibit", "SET_COIN_MECH_INHIBITS", *args):
                        return False
        else:
            mask = 0
            for entry in entries:
                inhibited = inhibit if entry.Channel in channels else entry.IsInhibited
                if not inhibited:
                    mask |= 1 << (entry.Channel - 1)
            nbytes = max(2, (max(e.Channel for e in entries) + 7) // 8)
            if not self._simple("SetDenominationInhibit", "SET_INHIBITS", mask.to_bytes(nbytes, "little")):
                return False
        self._update_entries(lambda e: replace(e, IsInhibited=inhibit) if e.Channel in channels else e)
        return True

    # ------------------------------------------------------------------------------ routes

    @csharp(SetDenominationRouteRequestResult.INVALID_INPUT, value=U32, route=ROUTE)
    @_documented
    def SetDenominationRouteSingleCurrency(
        self, value: int, route: DenominationRoute
    ) -> SetDenominationRouteRequestResult:
        """C# ``SetDenominationRouteRequestResult SetDenominationRouteSingleCurrency(UInt32 value,
        DenominationRoute route)`` (L12122).  MULTI_CURRENCY_MODE on a multi-currency dataset."""
        if not self._entries:
            return self._route_fail(
                SetDenominationRouteRequestResult.INVALID_INPUT,
                "no currency assignment: not initialised (L12153)",
            )
        code = self._single_currency()
        if code is None:
            return self._route_fail(
                SetDenominationRouteRequestResult.MULTI_CURRENCY_MODE, "multi-currency dataset"
            )
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return self._route_fail(
                SetDenominationRouteRequestResult.INVALID_INPUT, f"invalid value {value!r}"
            )
        return self.SetDenominationRoute(ValueCountryCode(value, code), route)

    @overload
    def SetDenominationRoute(
        self, valueCountryCode: ValueCountryCode, route: DenominationRoute
    ) -> SetDenominationRouteRequestResult: ...
    @overload
    def SetDenominationRoute(
        self, index: int, route: DenominationRoute
    ) -> SetDenominationRouteRequestResult: ...

    @csharp(
        SetDenominationRouteRequestResult.INVALID_INPUT,
        overloads=(
            Overload((("valueCountryCode", VCC), ("route", ROUTE))),
            Overload((("index", INT32), ("route", ROUTE))),
        ),
    )
    @_documented
    def SetDenominationRoute(self, *args: Any, **kwargs: Any) -> SetDenominationRouteRequestResult:
        """C# ``SetDenominationRoute(ValueCountryCode, DenominationRoute)`` (L12169) and
        ``SetDenominationRoute(Int32 index, DenominationRoute)`` (L12215): SET DENOMINATION ROUTE
        (0x3B; route byte 0 = payout/recycler, 1 = cashbox), then GET DENOMINATION ROUTE to
        confirm; fires ``SetDenominationRouteFinishedEvent`` with the outcome.  NOT_SUPPORTED on a
        model without a recycler or for the NV4000-only routes on other models; on an NV4000,
        RECYCLER_1..4 / REPLENISHMENT_CASSETTE send route byte 2..6 through the unverified row
        NV4000_SET_DENOMINATION_ROUTE (ITL never published these bytes; refused, NOT_SUPPORTED,
        unless supplied or ``allow_unverified``);
        BUSY during a payout; INVALID_INPUT when not initialised (empty dataset, L12153), for a
        denomination outside the dataset or an unknown route."""
        target, route = _two_args(args, kwargs, ("valueCountryCode", "index"), "route")
        if not self._entries:
            return self._route_fail(
                SetDenominationRouteRequestResult.INVALID_INPUT,
                "no currency assignment: not initialised (L12153)",
            )
        if isinstance(target, ValueCountryCode):
            entry = self._entry(target)
            if entry is None:
                return self._route_fail(
                    SetDenominationRouteRequestResult.INVALID_INPUT, f"{target} is not in the dataset"
                )
        else:
            entry = self._by_index(target, "SetDenominationRoute")
            if entry is None:
                return self._route_fail(
                    SetDenominationRouteRequestResult.INVALID_INPUT, f"invalid index {target!r}"
                )
        try:
            route = DenominationRoute(route)
        except ValueError:
            return self._route_fail(
                SetDenominationRouteRequestResult.INVALID_INPUT, f"unknown route {route!r}"
            )
        if self._model not in DISPENSERS:
            return self._route_fail(
                SetDenominationRouteRequestResult.NOT_SUPPORTED, f"{self._model.name} has no recycler"
            )
        command, route_byte = "SET_DENOMINATION_ROUTE", 1 if route == DenominationRoute.CASHBOX else 0
        if route in NV4000_ROUTES:
            if self._model != DeviceModel.NV4000:
                return self._route_fail(
                    SetDenominationRouteRequestResult.NOT_SUPPORTED,
                    f"route {route.name} exists on the NV4000 only",
                )
            try:
                self.commands.get("NV4000_SET_DENOMINATION_ROUTE")
            except UnverifiedCommandError as exc:
                return self._route_fail(SetDenominationRouteRequestResult.NOT_SUPPORTED, str(exc))
            command, route_byte = "NV4000_SET_DENOMINATION_ROUTE", int(route)
        if self._transaction is not None:
            return self._route_fail(SetDenominationRouteRequestResult.BUSY, "a payout is in progress")
        reply = self._try("SetDenominationRoute", command, bytes((route_byte,)) + self._route_value(entry))
        if reply is None:
            return self._route_done(
                SetDenominationRouteRequestResult.BUSY, entry, route, "no answer from the device"
            )
        if reply[0] != Response.OK:
            failed = f"SetDenominationRoute: device answered {response_name(reply)}"
            self._set(commandFailedDetailsString=failed)
            return self._route_done(
                _route_result(reply), entry, route, f"device answered {response_name(reply)}"
            )
        confirm = self._try("SetDenominationRoute", "GET_DENOMINATION_ROUTE", self._route_value(entry))
        if confirm is not None and confirm[0] == Response.OK and len(confirm) >= 2:
            route_byte = confirm[1]
        accept = _accept_route(route_byte)
        self._update_entries(
            lambda e: (
                replace(e, AcceptRoute=accept, IsRecyclable=True)  # routable (L2338-L2340)
                if e.Channel == entry.Channel
                else e
            )
        )
        return self._route_done(SetDenominationRouteRequestResult.OK, entry, route, "")

    def _route_value(self, entry: CurrencyAssignmentEntry) -> bytes:
        if self._model == DeviceModel.SMART_HOPPER and self._v["sspProtocolVersion"] < 6:
            return u16(entry.Value)
        return self._vcc_bytes(entry.Value, entry.CountryCode)

    def _route_fail(
        self, result: SetDenominationRouteRequestResult, why: str
    ) -> SetDenominationRouteRequestResult:
        self.log.error("SetDenominationRoute: %s -> %s", why, result.name)
        return result

    def _route_done(
        self,
        result: SetDenominationRouteRequestResult,
        entry: CurrencyAssignmentEntry,
        route: DenominationRoute,
        why: str,
    ) -> SetDenominationRouteRequestResult:
        if why:
            self.log.warning(
                "SetDenominationRoute %d %s: %s -> %s", entry.Value, entry.CountryCode, why, result.name
            )
        self._fire(
            self.SetDenominationRouteFinishedEvent,
            SetDenominationRouteFinishedEventResponse(
                result == SetDenominationRouteRequestResult.OK, replace(entry.ValueCountryCode), route
            ),
        )
        return result

    # ------------------------------------------------------------------------------ payouts

    @csharp(DispenseTransactionRequestResult.INVALID_INPUT, DispenseTransactionRequestResult.BUSY, value=U32)
    @_documented
    def DispenseValueSingleCurrency(self, value: int) -> DispenseTransactionRequestResult:
        """C# ``DispenseTransactionRequestResult DispenseValueSingleCurrency(UInt32 value)``
        (L11870): PAYOUT AMOUNT of ``value`` minor units in the dataset's only currency."""
        if self._entries and self._single_currency() is None:
            return self._payout_fail(
                DispenseTransactionRequestResult.MULTI_CURRENCY_MODE,
                "DispenseValueSingleCurrency",
                "multi-currency dataset",
            )
        code = self._single_currency()
        if code is None or not is_uint(value):
            return self._payout_fail(
                DispenseTransactionRequestResult.INVALID_INPUT,
                "DispenseValueSingleCurrency",
                f"invalid value {value!r}",
            )
        return self.DispenseValue(ValueCountryCode(value, code))

    @csharp(
        DispenseTransactionRequestResult.INVALID_INPUT,
        DispenseTransactionRequestResult.BUSY,
        valueCountryCode=VCC,
    )
    @_documented
    def DispenseValue(self, valueCountryCode: ValueCountryCode) -> DispenseTransactionRequestResult:
        """C# ``DispenseTransactionRequestResult DispenseValue(ValueCountryCode)`` (L11911): PAYOUT
        AMOUNT (0x33: u32 value, country, option 0x19 test then 0x58 real; protocol < 6: value
        only, no test).  Followed by ``DispenserTransactionEvent`` IN_PROGRESS -> COMPLETED/ERROR
        (PAYOUT) and CashEvents DISPENSING ... DISPENSED."""
        what = "DispenseValue"
        check = self._payout_checks(what)
        if check is not None:
            return check
        vcc = valueCountryCode
        if not isinstance(vcc, ValueCountryCode) or vcc.Value <= 0:
            return self._payout_fail(
                DispenseTransactionRequestResult.INVALID_INPUT, what, f"invalid amount {vcc!r}"
            )
        if vcc.CountryCode.upper() not in {e.CountryCode for e in self._entries}:
            return self._payout_fail(
                DispenseTransactionRequestResult.INVALID_INPUT,
                what,
                f"currency {vcc.CountryCode!r} not in the dataset",
            )
        params = self._vcc_bytes(vcc.Value, vcc.CountryCode.upper())
        return self._test_then_real(what, "PAYOUT_AMOUNT", params, DispenserTransactionType.PAYOUT, vcc)

    @overload
    def PayoutByDenomination(
        self, denomination_to_payout: ValueCountryCode, numNotesToPayout: int
    ) -> DispenseTransactionRequestResult: ...
    @overload
    def PayoutByDenomination(self, noteCounts: Sequence[int]) -> DispenseTransactionRequestResult: ...

    @csharp(
        DispenseTransactionRequestResult.INVALID_INPUT,
        DispenseTransactionRequestResult.BUSY,
        overloads=(
            Overload((("denomination_to_payout", VCC), ("numNotesToPayout", U32))),
            Overload((("noteCounts", list_of(U32)),)),
        ),
    )
    @_documented
    def PayoutByDenomination(self, *args: Any, **kwargs: Any) -> DispenseTransactionRequestResult:
        """C# ``PayoutByDenomination(ValueCountryCode denomination_to_payout, UInt32
        numNotesToPayout)`` (L11951; 0 = every stored note of that denomination) and
        ``PayoutbyDenomination(UInt32[] noteCounts)`` (L11986; one count per
        ``currencyAssignment`` entry): PAYOUT BY DENOMINATION (0x46, protocol >= 6)."""
        if len(args) + len(kwargs) == 1:
            counts = args[0] if args else kwargs.get("noteCounts")
            return self.PayoutbyDenomination(counts)
        vcc = args[0] if args else kwargs.get("denomination_to_payout")
        count = args[1] if len(args) > 1 else kwargs.get("numNotesToPayout")
        what = "PayoutByDenomination"
        check = self._payout_checks(what)
        if check is not None:
            return check
        entry = self._entry(vcc)
        if entry is None or not is_uint(count, 0xFFFF):
            return self._payout_fail(
                DispenseTransactionRequestResult.INVALID_INPUT,
                what,
                f"invalid denomination {vcc!r} or count {count!r}",
            )
        notes = int(count) if count else 0
        if notes == 0:
            self._read_levels()
            entry = self._entry(vcc) or entry
            notes = entry.Stored
            if notes == 0:
                return self._payout_fail(
                    DispenseTransactionRequestResult.NOT_ENOUGH_VALUE, what, f"no {vcc} stored"
                )
        return self._by_denomination(what, [(entry, notes)], DispenserTransactionType.PAYOUT_BY_DENOMINATION)

    @csharp(
        DispenseTransactionRequestResult.INVALID_INPUT,
        DispenseTransactionRequestResult.BUSY,
        noteCounts=list_of(U32),
    )
    @_documented
    def PayoutbyDenomination(self, noteCounts: Sequence[int] | None) -> DispenseTransactionRequestResult:
        """C# ``DispenseTransactionRequestResult PayoutbyDenomination(UInt32[] noteCounts)`` (L11986):
        ``noteCounts[i]`` notes of ``currencyAssignment[i]``; the array must have one entry per
        channel; all zero is INVALID_INPUT."""
        what = "PayoutbyDenomination"
        check = self._payout_checks(what)
        if check is not None:
            return check
        pairs = self._counts(what, noteCounts)
        if pairs is None or not any(n for _, n in pairs):
            return self._payout_fail(
                DispenseTransactionRequestResult.INVALID_INPUT, what, f"invalid counts {noteCounts!r}"
            )
        return self._by_denomination(
            what, [p for p in pairs if p[1]], DispenserTransactionType.PAYOUT_BY_DENOMINATION
        )

    @csharp(
        DispenseTransactionRequestResult.INVALID_INPUT,
        DispenseTransactionRequestResult.BUSY,
        noteCounts=list_of(U32),
    )
    @_documented
    def Float(self, noteCounts: Sequence[int] | None) -> DispenseTransactionRequestResult:
        """C# ``DispenseTransactionRequestResult Float(UInt32[] noteCounts)`` (L12020): FLOAT BY
        DENOMINATION (0x44).  The seed gives opposite meanings (C#: counts moved to the cashbox;
        REST L5945: counts left in the payout); this port follows REST and the SSP command:
        ``noteCounts[i]`` is how many of ``currencyAssignment[i]`` stay in the payout, the rest go
        to the cashbox."""
        what = "Float"
        check = self._payout_checks(what)
        if check is not None:
            return check
        pairs = self._counts(what, noteCounts)
        if pairs is None:
            return self._payout_fail(
                DispenseTransactionRequestResult.INVALID_INPUT, what, f"invalid counts {noteCounts!r}"
            )
        return self._by_denomination(
            what, pairs, DispenserTransactionType.FLOAT, command="FLOAT_BY_DENOMINATION"
        )

    @csharp(
        DispenseTransactionRequestResult.INVALID_INPUT,
        DispenseTransactionRequestResult.BUSY,
        noteCounts=list_of(U32),
    )
    @_documented
    def SetCashBoxPayoutLimit(self, noteCounts: Sequence[int] | None) -> DispenseTransactionRequestResult:
        """C# ``DispenseTransactionRequestResult SetCashBoxPayoutLimit(uint[] noteCounts)`` (L12060):
        SET CASHBOX PAYOUT LIMIT (0x4E): n, n x [u16 limit, u32 value, country], one per channel."""
        what = "SetCashBoxPayoutLimit"
        check = self._payout_checks(what)
        if check is not None:
            return check
        pairs = self._counts(what, noteCounts, limit=0xFFFF)
        if pairs is None:
            return self._payout_fail(
                DispenseTransactionRequestResult.INVALID_INPUT, what, f"invalid counts {noteCounts!r}"
            )
        limits = [(n, e.Value, e.CountryCode) for e, n in pairs]
        reply = self._try(what, "SET_CASHBOX_PAYOUT_LIMIT", limits)
        return self._payout_result(what, reply)

    @csharp(
        DispenseTransactionRequestResult.NOT_SUPPORTED,
        DispenseTransactionRequestResult.BUSY,
        moduleNumber=BYTE,
        NV4000=FLAG,
    )
    @_documented
    def SmartEmpty(self, moduleNumber: int = 0, NV4000: bool = False) -> DispenseTransactionRequestResult:
        """C# ``DispenseTransactionRequestResult SmartEmpty(byte moduleNumber, bool NV4000 = false)``
        (L12095): SMART EMPTY (0x52), everything to the cashbox with a record of what went
        (CASHBOX PAYOUT OPERATION DATA).  NV4000 module 0 empties all modules; another module
        uses the unpublished NV4000 row: NOT_SUPPORTED unless supplied (the seed lists NOT_SUPPORTED,
        BUSY and OK only; any other cause is logged and returned as NOT_SUPPORTED)."""
        what = "SmartEmpty"
        if not is_uint(moduleNumber, 0xFF):
            return self._payout_fail(
                DispenseTransactionRequestResult.NOT_SUPPORTED, what, f"invalid module {moduleNumber!r}"
            )
        if NV4000 and self._model != DeviceModel.NV4000:
            return self._payout_fail(
                DispenseTransactionRequestResult.NOT_SUPPORTED, what, "the device is not an NV4000"
            )
        if NV4000 and moduleNumber:
            try:
                self.commands.get("NV4000_SMART_EMPTY_MODULE")
            except UnverifiedCommandError as exc:
                return self._payout_fail(DispenseTransactionRequestResult.NOT_SUPPORTED, what, str(exc))
        check = self._payout_checks(what)
        if check is not None:
            return check
        if NV4000 and moduleNumber:
            reply = self._try(what, "NV4000_SMART_EMPTY_MODULE", moduleNumber)
        else:
            reply = self._try(what, "SMART_EMPTY")
        result = self._payout_result(what, reply)
        if result == DispenseTransactionRequestResult.OK:
            self._begin_transaction(DispenserTransactionType.EMPTY, 0, "")
        return result

    @csharp(False)
    def HaltPayout(self) -> bool:
        """C# ``bool HaltPayout()`` (L12341): HALT PAYOUT (0x38); the device stops at a safe point."""
        return self._simple("HaltPayout", "HALT_PAYOUT")

    @csharp(False)
    def EnablePayout(self) -> bool:
        """C# ``bool EnablePayout()`` (L12305): ENABLE PAYOUT DEVICE (0x5C) without options."""
        return self.EnablePayoutDevice()

    @csharp(False, optionByte=optional(BYTE))
    def EnablePayoutDevice(self, optionByte: int | None = None) -> bool:
        """REST ``EnablePayoutDevice`` / ``EnablePayoutDeviceWithByte`` (L3420, L3530): ENABLE PAYOUT
        DEVICE (0x5C) with an optional option byte (NV11: GIVE_VALUE_ON_STORED,
        NO_HOLD_NOTE_ON_PAYOUT; Spectral: REQUIRE_FULL_STARTUP, OPTIMISE_FOR_PAYIN_SPEED ...).
        On failure ``enablePayoutDeviceError`` says why."""
        if optionByte is not None and not is_uint(optionByte, 0xFF):
            self.log.error("EnablePayoutDevice: option byte %r outside 0..255", optionByte)
            return False
        if self._model not in PAYOUT_MODELS:
            self.log.error("EnablePayoutDevice: %s has no payout device", self._model.name)
            return False
        params = b"" if optionByte is None else bytes((optionByte,))
        reply = self._try("EnablePayoutDevice", "ENABLE_PAYOUT_DEVICE", params)
        self._payout_enabled = True  # wanted; the poll thread re-asserts it if unanswered
        self._payout_confirmed = reply is not None
        if reply is None or reply[0] != Response.OK:
            text = "No answer" if reply is None else response_name(reply)
            if reply is not None and reply[0] == F5 and len(reply) > 1:
                text = ENABLE_PAYOUT_ERRORS.get(reply[1], text)
            self._set(enablePayoutDeviceError=text)
            self.log.warning("EnablePayoutDevice: %s", text)
            return False
        self._payout_enabled = True
        self._set(enablePayoutDeviceError=None)
        return True

    @csharp(False)
    def DisablePayout(self) -> bool:
        """C# ``bool DisablePayout()`` (L12323, printed there as ``EnablePayout`` [sic]): DISABLE
        PAYOUT DEVICE (0x5B); notes then go to the cashbox."""
        if self._model not in PAYOUT_MODELS:
            self.log.error("DisablePayout: %s has no payout device", self._model.name)
            return False
        ok = self._simple("DisablePayout", "DISABLE_PAYOUT_DEVICE")
        self._payout_enabled = False  # wanted; the poll thread re-asserts it if unanswered
        self._payout_confirmed = ok
        return ok

    def _payout_checks(self, what: str) -> DispenseTransactionRequestResult | None:
        if self._model not in DISPENSERS:
            return self._payout_fail(
                DispenseTransactionRequestResult.NOT_SUPPORTED, what, f"{self._model.name} cannot pay out"
            )
        if not self._session_ready(wait=self._exchange_deadline()):
            return self._payout_fail(
                DispenseTransactionRequestResult.BUSY, what, "the device is not connected"
            )
        if self._transaction is not None:
            return self._payout_fail(
                DispenseTransactionRequestResult.BUSY, what, "another payout is in progress"
            )
        return None

    def _counts(
        self, what: str, counts: Sequence[int] | None, limit: int = 0xFFFF
    ) -> list[tuple[CurrencyAssignmentEntry, int]] | None:
        entries = self._entries
        if counts is None or isinstance(counts, (str, bytes)) or len(counts) != len(entries):
            self.log.error("%s: need one count per channel (%d), got %r", what, len(entries), counts)
            return None
        if not all(is_uint(n, limit) for n in counts):
            self.log.error("%s: counts must be 0..%d", what, limit)
            return None
        if len(entries) > 20:
            self.log.error("%s: at most 20 denominations per command", what)
            return None
        return [(e, int(n)) for e, n in zip(entries, counts)]

    def _by_denomination(
        self,
        what: str,
        pairs: list[tuple[CurrencyAssignmentEntry, int]],
        kind: DispenserTransactionType,
        command: str = "PAYOUT_BY_DENOMINATION",
    ) -> DispenseTransactionRequestResult:
        if self._v["sspProtocolVersion"] < 6:
            return self._payout_fail(
                DispenseTransactionRequestResult.NOT_SUPPORTED, what, "needs protocol 6 or later"
            )
        params = bytes((len(pairs),)) + b"".join(
            u16(n) + u32(e.Value) + country(e.CountryCode) for e, n in pairs
        )
        total = sum(e.Value * n for e, n in pairs)
        codes = {e.CountryCode for e, _ in pairs}
        vcc = ValueCountryCode(total, codes.pop() if len(codes) == 1 else "")
        return self._test_then_real(what, command, params, kind, vcc)

    def _test_then_real(
        self, what: str, command: str, params: bytes, kind: DispenserTransactionType, vcc: ValueCountryCode
    ) -> DispenseTransactionRequestResult:
        if self._v["sspProtocolVersion"] >= 6:
            result = self._payout_result(what, self._try(what, command, params + bytes((TEST,))))
            if result != DispenseTransactionRequestResult.OK:
                return result
            real = params + bytes((REAL,))
        else:
            real = params
        try:
            self._read_levels()  # what the store holds before: settles the payout if its end is lost
        except SSPError as exc:
            self.log.warning("%s: levels not read before the payout: %s", what, exc)
        try:
            reply: bytes | None = self._send(command, real)
        except SSPTimeoutError as exc:
            # Every identical retransmission went unanswered: the device may have received the
            # command and be paying.  BUSY would invite a second payout, so the request is taken
            # as accepted; DispenserTransactionEvent COMPLETED / ERROR reports what was paid
            # (0 if the device never ran it).
            self.log.warning("%s: no answer to the payout command (%s); the outcome follows", what, exc)
            self._begin_transaction(kind, vcc.Value, vcc.CountryCode, unconfirmed=True)
            return DispenseTransactionRequestResult.OK
        except (SSPError, ValueError) as exc:
            self.log.error("%s: %s", what, exc)
            reply = None
        result = self._payout_result(what, reply)
        if result == DispenseTransactionRequestResult.OK:
            self._begin_transaction(kind, vcc.Value, vcc.CountryCode)
        return result

    def _payout_result(self, what: str, reply: bytes | None) -> DispenseTransactionRequestResult:
        if reply is None:
            return self._payout_fail(DispenseTransactionRequestResult.BUSY, what, "no answer from the device")
        code = reply[0]
        if code == Response.OK:
            return DispenseTransactionRequestResult.OK
        self._set(commandFailedDetailsString=f"{what}: device answered {response_name(reply)}")
        if code == F5:
            detail = reply[1] if len(reply) > 1 else None
            result = {
                1: DispenseTransactionRequestResult.NOT_ENOUGH_VALUE,
                2: DispenseTransactionRequestResult.CANNOT_PAY_EXACT_AMOUNT,
                3: DispenseTransactionRequestResult.BUSY,
                4: DispenseTransactionRequestResult.BUSY,
            }.get(detail or 0, DispenseTransactionRequestResult.NOT_SUPPORTED)
            why = {4: "payout disabled", None: "no payout unit"}.get(detail, f"error {detail}")
            return self._payout_fail(result, what, f"device answered F5 ({why})")
        if code in (Response.PARAMETER_OUT_OF_RANGE, Response.WRONG_NO_PARAMETERS):
            return self._payout_fail(
                DispenseTransactionRequestResult.INVALID_INPUT,
                what,
                f"device answered {response_name(reply)}",
            )
        return self._payout_fail(
            DispenseTransactionRequestResult.NOT_SUPPORTED, what, f"device answered {response_name(reply)}"
        )

    # ------------------------------------------------------------------------------ cashbox counts

    def _cashbox_moved(self, value: int, country: str, count: int) -> None:
        """``count`` notes of ``value`` ``country`` went into the cashbox: ``StoredInCashbox``."""
        if count > 0 and value > 0:
            self._update_entries(
                lambda e: (
                    replace(e, StoredInCashbox=e.StoredInCashbox + count)
                    if (e.Value, e.CountryCode) == (value, country)
                    else e
                )
            )

    def _read_cashbox_operation(self) -> None:
        """After a float / empty / smart empty: CASHBOX PAYOUT OPERATION DATA (0x53) says how many
        of each denomination the operation moved to the cashbox."""
        reply = self._try("cashbox payout operation data", "CASHBOX_PAYOUT_OPERATION_DATA")
        if reply is None or reply[0] != Response.OK or len(reply) < 2:
            return
        data, n = reply[1:], reply[1]
        if len(data) < 1 + 9 * n:
            self.log.warning("CASHBOX PAYOUT OPERATION DATA of %d bytes for %d denominations", len(data), n)
            return
        for i in range(n):
            item = data[1 + 9 * i : 10 + 9 * i]
            code = item[6:9].decode("ascii", "replace")
            count = int.from_bytes(item[0:2], "little")
            self._cashbox_moved(int.from_bytes(item[2:6], "little"), code, count)

    def _payout_fail(
        self, result: DispenseTransactionRequestResult, what: str, why: str
    ) -> DispenseTransactionRequestResult:
        self.log.warning("%s: %s -> %s", what, why, result.name)
        return result

    # ------------------------------------------------------------------------------ levels and value

    @csharp(False)
    def GetAllLevels(self) -> bool:
        """C# ``bool GetAllLevels()`` (L12511): GET ALL LEVELS (0x22) into
        ``currencyAssignment[].Stored``; ``lastGetLevelsSuccessful`` says whether every
        denomination was found."""
        if self._model not in DISPENSERS:
            self.log.error("GetAllLevels: %s stores nothing", self._model.name)
            return False
        try:
            return self._read_levels()
        except SSPError as exc:
            self.log.error("GetAllLevels: %s", exc)
            self._set(lastGetLevelsSuccessful=False)
            return False

    @csharp(0, countryCode=TEXT)
    def GetStoredValue(self, countryCode: str) -> int:
        """C# ``UInt32 GetStoredValue(string countryCode)`` (L12533): total value (minor units) held
        for payout in ``countryCode``, calculated on the host from ``currencyAssignment`` (the seed
        says "in the cashbox"; the levels it is computed from are the payout store's)."""
        if not isinstance(countryCode, str):
            self.log.error("GetStoredValue: country code %r", countryCode)
            return 0
        code = countryCode.upper()
        return sum(e.Value * e.Stored for e in self._entries if e.CountryCode == code)

    @csharp(False, levelToSet=U16)
    def SetDenominationLevel(self, levelToSet: int = 0) -> bool:
        """C# ``bool SetDenominationLevel(UInt16 levelToSet = 0)`` (L11853).  The seed gives no
        denomination; this port applies SET DENOMINATION LEVEL (0x34) to every denomination of
        the dataset: 0 clears every level, n adds n of each (the command adds).  Coin devices
        only (note recyclers count their notes themselves): False elsewhere."""
        if not is_uint(levelToSet, 0xFFFF):
            self.log.error("SetDenominationLevel: level %r outside 0..65535", levelToSet)
            return False
        if self._model not in COIN_MODELS:
            self.log.error("SetDenominationLevel: %s does not take levels from the host", self._model.name)
            return False
        ok = all(
            self._simple(
                "SetDenominationLevel",
                "SET_DENOMINATION_LEVEL",
                levelToSet,
                e.Value,
                e.CountryCode if self._v["sspProtocolVersion"] >= 6 else None,
            )
            for e in self._entries
        )
        self._read_levels()
        return ok

    # ------------------------------------------------------------------------------ NV4000 / refill

    @csharp(DispenseTransactionRequestResult.NOT_SUPPORTED, NumberToReplinish=U32)
    @_documented
    def Replenish(self, NumberToReplinish: int) -> DispenseTransactionRequestResult:
        """C# ``DispenseTransactionRequestResult Replenish(uint NumberToReplinish)`` (L12417; the
        seed's spelling): move notes from the NV4000 replenishment cassette to the recyclers.
        NV4000 only (NOT_SUPPORTED elsewhere); the command bytes are unpublished (table row
        NV4000_REPLENISH): NOT_SUPPORTED unless supplied or enabled.  The seed lists NOT_SUPPORTED
        and OK only (L12426): every failure (busy, no answer, refused) is logged with its cause and
        returned as NOT_SUPPORTED."""
        what = "Replenish"
        if self._model != DeviceModel.NV4000:
            return self._payout_fail(DispenseTransactionRequestResult.NOT_SUPPORTED, what, "NV4000 only")
        if not is_uint(NumberToReplinish) or NumberToReplinish == 0:
            return self._payout_fail(
                DispenseTransactionRequestResult.NOT_SUPPORTED, what, f"invalid count {NumberToReplinish!r}"
            )
        try:
            self.commands.get("NV4000_REPLENISH")
        except UnverifiedCommandError as exc:
            return self._payout_fail(DispenseTransactionRequestResult.NOT_SUPPORTED, what, str(exc))
        check = self._payout_checks(what)
        if check is not None:
            return check
        result = self._payout_result(what, self._try(what, "NV4000_REPLENISH", NumberToReplinish))
        if result == DispenseTransactionRequestResult.OK:
            self._replenish_left = NumberToReplinish
            self._begin_transaction(DispenserTransactionType.REPLENISH, 0, "")
        return result

    @csharp(False)
    def GetRCMode(self) -> bool:
        """REST ``GetRCMode`` (L6723): read the NV4000 replenishment-cassette mode into
        ``RC_CurrentMode`` (unpublished bytes, table row NV4000_GET_RC_MODE)."""
        if self._model != DeviceModel.NV4000:
            self.log.error("GetRCMode: NV4000 only")
            return False
        reply = self._try("GetRCMode", "NV4000_GET_RC_MODE")
        if reply is None or reply[0] != Response.OK or len(reply) < 2:
            return False
        try:
            self._set(RC_CurrentMode=RCMode(reply[1]))
        except ValueError:
            self.log.error("GetRCMode: unknown mode %d", reply[1])
            return False
        return True

    @csharp(None, enable=FLAG)
    def RefillMode(self, enable: bool) -> None:
        """C# ``void RefillMode(bool enable)`` (L12441): SET REFILL MODE (0x30 05 81 10 11 xx;
        SMART / Spectral Payout firmware >= 4.10)."""
        if self._model not in PAYOUT_MODELS:
            self.log.error("RefillMode: %s has no refill mode", self._model.name)
            return
        if not self._simple("RefillMode", "SET_REFILL_MODE", bytes((1 if enable else 0,))):
            self.log.warning("RefillMode(%s) was not accepted", enable)

    # ------------------------------------------------------------------------------ the rest

    @csharp(False)
    def ResetDevice(self) -> bool:
        """C# ``bool ResetDevice()`` (L12359): RESET (0x01).  The device reboots; the poll thread
        re-establishes the session (SLAVE RESET / KEY NOT SET)."""
        return self._simple("ResetDevice", "RESET")

    @csharp(False, customCommandData=BYTES, customCommandDataLength=BYTE)
    def SendCustomCommand(
        self, customCommandData: bytes | Sequence[int] | None, customCommandDataLength: int
    ) -> bool:
        """C# ``bool SendCustomCommand(byte[] customCommandData, byte customCommandDataLength)``
        (L12377): send the first ``customCommandDataLength`` bytes as one SSP command (encrypted
        when the session is).  True when the device answered OK (``F0``); the reply is kept in
        :attr:`lastCustomCommandResponse`."""
        if customCommandData is None or not is_uint(customCommandDataLength, 0xFF):
            self.log.error("SendCustomCommand: no data or invalid length %r", customCommandDataLength)
            return False
        try:
            data = bytes(customCommandData)
        except (TypeError, ValueError):
            self.log.error("SendCustomCommand: data is not bytes")
            return False
        if not 1 <= customCommandDataLength <= len(data) or customCommandDataLength > 233:
            self.log.error(
                "SendCustomCommand: length %d outside 1..%d", customCommandDataLength, min(len(data), 233)
            )
            return False
        try:
            reply = self._command(data[:customCommandDataLength])
        except (SSPError, ValueError) as exc:
            self.log.error("SendCustomCommand: %s", exc)
            return False
        self.lastCustomCommandResponse = reply
        return reply[0] == Response.OK

    lastCustomCommandResponse: bytes = b""
    """The reply DATA of the last :meth:`SendCustomCommand` (ours; C# has no field for it)."""

    @csharp(False)
    def GetCounters(self) -> bool:
        """C# ``bool GetCounters()`` (L12854): GET COUNTERS (0x58) into ``counters_string``, e.g.
        ``"Number of counters in set: 5\\nStacked: 261\\nStored: 42\\nDispensed: 30\\n
        Transferred to stack: 11\\nRejected: 26\\n"`` (L2237).  Coin systems use the nine coin
        labels (L12859): 8 or 9 counters; a SMART Hopper 3 sends six, no count byte."""
        reply = self._try("GetCounters", "GET_COUNTERS")
        if reply is None or reply[0] != Response.OK or len(reply) < 2:
            return False
        try:  # the row's decoder: n, n x u32; SMART Hopper 3: six u32 and no n (GA138-NV9)
            values = list(self.commands.row("GET_COUNTERS").decode(reply[1:]))
        except ValueError as exc:
            self.log.error("GetCounters: %s", exc)
            return False
        n = len(values)
        labels = COIN_COUNTER_LABELS if self._model in COIN_MODELS else NOTE_COUNTER_LABELS
        lines = [f"Number of counters in set: {n}"]
        lines += [
            f"{labels[i] if i < len(labels) else f'Counter {i + 1}'}: {v}" for i, v in enumerate(values)
        ]
        self._set(counters_string="\n".join(lines) + "\n")
        return True

    @csharp(False)
    def GetLastRejectCode(self) -> bool:
        """C# ``bool GetLastRejectCode()`` (L13261): LAST REJECT CODE (0x17) into
        ``rejectCategory`` = ``"Reject Reason: <text>"`` (L10587)."""
        reply = self._try("GetLastRejectCode", "LAST_REJECT_CODE")
        if reply is None or reply[0] != Response.OK or len(reply) < 2:
            return False
        try:
            text = REJECT_REASON_TEXT[RejectReason(reply[1])]
        except ValueError:
            text = f"Unknown reason 0x{reply[1]:02X}"
        self._set(rejectCategory=f"Reject Reason: {text}")
        return True

    @csharp(False)
    def ExtendedGetDatasetVersion(self) -> bool:
        """C# ``bool ExtendedGetDatasetVersion()`` (L13172) into ``extendedDataset`` (e.g.
        ``EUR41044_25.09.24_13:39:30``).  Unpublished bytes (row EXTENDED_GET_DATASET_VERSION)."""
        return self._read_ascii(
            "ExtendedGetDatasetVersion", "EXTENDED_GET_DATASET_VERSION", "extendedDataset"
        )

    @csharp(False)
    def ExtendedGetFirmwareVersion(self) -> bool:
        """C# ``bool ExtendedGetFirmwareVersion()`` (L13192) into ``extendedFirmware``.
        Unpublished bytes (row EXTENDED_GET_FIRMWARE_VERSION)."""
        return self._read_ascii(
            "ExtendedGetFirmwareVersion", "EXTENDED_GET_FIRMWARE_VERSION", "extendedFirmware"
        )

    def _read_ascii(self, what: str, command: str, variable: str) -> bool:
        reply = self._try(what, command)
        if reply is None or reply[0] != Response.OK:
            return False
        self._set(**{variable: reply[1:].decode("ascii", "replace").rstrip("\x00")})
        return True

    # ------------------------------------------------------------------------------ barcode

    @csharp(False)
    def GetBarcodeReaderConfiguration(self) -> bool:
        """C# ``bool GetBarcodeReaderConfiguration()`` (L13389): 0x23 into
        ``barCodeHardwareStatus`` ("Both fitted"), ``readersEnabled`` ("Both"), ``barCodeFormat``
        ("Interleaved 2 of 5"), ``numberOfCharacters`` ("18")."""
        reply = self._try("GetBarcodeReaderConfiguration", "GET_BARCODE_READER_CONFIGURATION")
        if reply is None or reply[0] != Response.OK or len(reply) < 5:
            return False
        try:
            self._set(
                barCodeHardwareStatus=BARCODE_HARDWARE_STATUS_TEXT[BarcodeHardwareStatus(reply[1])],
                readersEnabled=BARCODE_READERS_TEXT[BarcodeReaders(reply[2])],
                barCodeFormat=BARCODE_FORMAT_TEXT[BarcodeFormat(reply[3])],
                numberOfCharacters=str(reply[4]),
            )
        except ValueError as exc:
            self.log.error("GetBarcodeReaderConfiguration: %s", exc)
            return False
        return True

    @csharp(False, enableReaders=BYTE, barCodeFormat=BYTE, numberOfCharacters=BYTE)
    def SetBarcodeReaderConfiguration(
        self, enableReaders: int, barCodeFormat: int, numberOfCharacters: int
    ) -> bool:
        """C# ``bool SetBarcodeReaderConfiguration(byte enableReaders, byte barCodeFormat, byte
        numberOfCharacters)`` (L13360): 0x24; readers 0-3, format 0-1, characters 6-24."""
        if not (is_uint(enableReaders, 3) and is_uint(barCodeFormat, 1) and is_uint(numberOfCharacters, 24)):
            self.log.error("SetBarcodeReaderConfiguration: readers 0..3, format 0..1, characters 6..24")
            return False
        if numberOfCharacters < 6:
            self.log.error("SetBarcodeReaderConfiguration: characters 6..24")
            return False
        params = bytes((enableReaders, barCodeFormat, numberOfCharacters))
        return self._simple("SetBarcodeReaderConfiguration", "SET_BARCODE_READER_CONFIGURATION", params)

    @csharp(False)
    def GetBarcodeInhibit(self) -> bool:
        """C# ``bool GetBarcodeInhibit()`` (L13441): 0x25 into ``barCodeInhibit`` (e.g. "Barcode
        Disabled and Currency Enabled (Default)")."""
        reply = self._try("GetBarcodeInhibit", "GET_BARCODE_INHIBIT")
        if reply is None or reply[0] != Response.OK or len(reply) < 2:
            return False
        try:
            self._set(barCodeInhibit=BARCODE_INHIBIT_TEXT[BarcodeInhibit(reply[1] | 0xFC)])
        except ValueError:
            return False
        return True

    @csharp(False, inhibitByte=BYTE)
    def SetBarcodeInhibit(self, inhibitByte: int) -> bool:
        """C# ``bool SetBarcodeInhibit(byte inhibitByte)`` (L13422): 0x26 with 0xFC..0xFF."""
        if not is_uint(inhibitByte, 0xFF) or inhibitByte < 0xFC:
            self.log.error("SetBarcodeInhibit: %r is not 0xFC..0xFF", inhibitByte)
            return False
        return self._simple("SetBarcodeInhibit", "SET_BARCODE_INHIBIT", bytes((inhibitByte,)))

    @csharp(False)
    def GetBarcodeData(self) -> bool:
        """C# ``bool GetBarcodeData()`` (L13339): 0x27 into ``ticketStatus`` and
        ``barcode_ascii_data``.  The seed shows no ticketStatus values; ours: "No ticket",
        "Ticket in escrow", "Ticket stacked", "Ticket rejected"."""
        reply = self._try("GetBarcodeData", "GET_BARCODE_DATA")
        if reply is None or reply[0] != Response.OK or len(reply) < 3:
            return False
        length = reply[2]
        self._set(
            ticketStatus=TICKET_STATUS_TEXT.get(reply[1], f"Status {reply[1]}"),
            barcode_ascii_data=reply[3 : 3 + length].decode("ascii", "replace"),
        )
        return True


# ---------------------------------------------------------------------------------- helpers


def _two_args(
    args: tuple[Any, ...], kwargs: dict[str, Any], first: tuple[str, ...], second: str
) -> tuple[Any, Any]:
    values = list(args)
    if len(values) < 1:
        values.append(next((kwargs[k] for k in first if k in kwargs), None))
    if len(values) < 2:
        values.append(kwargs.get(second))
    return values[0], values[1]


def _accept_route(route_byte: int) -> DenominationRoute:
    """The route a device reports: 0 payout (recycler), 1 cashbox; NV4000 2-6 (unverified, ours)."""
    if route_byte == 1:
        return DenominationRoute.CASHBOX
    if 2 <= route_byte <= 6:
        return DenominationRoute(route_byte)
    return DenominationRoute.PAYOUT


def _route_result(reply: bytes) -> SetDenominationRouteRequestResult:
    if reply[0] == Response.PARAMETER_OUT_OF_RANGE or reply[0] == Response.WRONG_NO_PARAMETERS:
        return SetDenominationRouteRequestResult.INVALID_INPUT
    if reply[0] == F5:
        detail = reply[1] if len(reply) > 1 else 1
        return {
            1: SetDenominationRouteRequestResult.NOT_SUPPORTED,
            2: SetDenominationRouteRequestResult.INVALID_INPUT,
            3: SetDenominationRouteRequestResult.BUSY,
        }.get(detail, SetDenominationRouteRequestResult.BUSY)
    return SetDenominationRouteRequestResult.NOT_SUPPORTED
