"""Note-validator and recycler methods of ``CashDevice`` (C# names; a private mixin); the payout
methods are in :mod:`cashdevice._payouts`.

Every method validates its arguments first: bad input returns the documented C# failure
value with one log line, and nothing is sent.  Payout requests are first tried in the
device's test mode (option 0x19), then sent for real (0x58), at protocol >= 6.  Results
map the device's answer: ``F5`` + 1 NOT_ENOUGH_VALUE, 2 CANNOT_PAY_EXACT_AMOUNT, 3 BUSY,
4 (payout disabled) BUSY, bare ``F5`` (no payout unit) NOT_SUPPORTED, ``F4`` / ``F3``
INVALID_INPUT, ``F2`` NOT_SUPPORTED; a device that does not answer gives BUSY.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any, TypeVar, overload

from ._contract import DeviceContract, accept_route, is_uint, response_name
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
)
from .commands import UnverifiedCommandError
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
from .ssp import Response, SSPError, SSPReplyError

ROUTE = enum_of(DenominationRoute)

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


_F = TypeVar("_F", bound=Callable[..., DispenseTransactionRequestResult])


def _one_job(fn: _F) -> _F:
    """One job request at a time per device: a request made while another thread's request is
    between its checks and its transaction (TEST, levels, REAL) answers BUSY at once (never waits:
    the other request may be waiting for the poll thread, whose receiver may be this caller).  The
    thread that holds it may call again (a receiver of its own IN_PROGRESS): the transaction it
    opened answers that call BUSY."""

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> DispenseTransactionRequestResult:
        me = threading.get_ident()
        with self._state_lock:
            owner = self._job_requester
            if owner is not None and owner != me:
                busy = True
            else:
                busy = False
                self._job_requester = me
        if busy:
            return self._payout_fail(  # type: ignore[no-any-return]
                DispenseTransactionRequestResult.BUSY, fn.__name__, "another payout request is in progress"
            )
        try:
            return fn(self, *args, **kwargs)
        finally:
            if owner is None:
                with self._state_lock:
                    if self._job_requester == me:  # (released already once its transaction opened)
                        self._job_requester = None

    return wrapper  # type: ignore[return-value]


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

    # ------------------------------------------------------------------------------ inhibits

    @csharp(False, values=list_of(U32), inhibit=FLAG)
    def SetDenominationInhibitsSingleCurrency(self, values: Sequence[int] | None, inhibit: bool) -> bool:
        """C# ``bool SetDenominationInhibitsSingleCurrency(List<UInt32> values, bool inhibit)``
        (L11740): SET INHIBITS (0x02) for the listed values of a single-currency dataset.  False if
        the dataset is multi-currency, the list is None/empty or a value is not in the dataset."""
        return self._inhibit_single(values, inhibit, "SetDenominationInhibitsSingleCurrency")

    def _inhibit_single(self, values: Sequence[int] | None, inhibit: bool, what: str) -> bool:
        code = self._single_currency()
        if code is None:
            self.log.error("%s: multi-currency dataset or not connected", what)
            return False
        if not values or not all(isinstance(v, int) for v in values):
            self.log.error("%s: no values given", what)
            return False
        return self._inhibit_values([ValueCountryCode(int(v), code) for v in values if v >= 0], inhibit, what)

    @csharp(False, valueCountryCodes=list_of(VCC), inhibit=FLAG)
    def SetDenominationInhibits(
        self, valueCountryCodes: Sequence[ValueCountryCode] | None, inhibit: bool
    ) -> bool:
        """C# ``bool SetDenominationInhibits(List<ValueCountryCode>, bool inhibit)`` (L11760): SET
        INHIBITS (0x02; coin devices: SET COIN MECH INHIBITS 0x40 per denomination).  False if
        the list is None/empty, the currency assignment is empty or any denomination is invalid."""
        return self._inhibit_values(valueCountryCodes, inhibit, "SetDenominationInhibits")

    def _inhibit_values(
        self, valueCountryCodes: Sequence[ValueCountryCode] | None, inhibit: bool, what: str
    ) -> bool:
        """:meth:`SetDenominationInhibits`, its errors logged under the name the caller called."""
        if not valueCountryCodes:
            self.log.error("%s: no denominations given", what)
            return False
        entries = [self._entry(v) for v in valueCountryCodes]
        if any(e is None for e in entries):
            bad = [str(v) for v, e in zip(valueCountryCodes, entries) if e is None]
            self.log.error("%s: not in the dataset: %s", what, ", ".join(bad))
            return False
        return self._apply_inhibits({e.Channel for e in entries if e is not None}, inhibit=bool(inhibit))

    @csharp(False, value=U32, inhibit=FLAG)
    def SetDenominationInhibitSingleCurrency(self, value: int, inhibit: bool) -> bool:
        """C# ``bool SetDenominationInhibitSingleCurrency(UInt32 value, bool inhibit)`` (L11788).
        False on a multi-currency dataset or a value not in it."""
        return self._inhibit_single([value], inhibit, "SetDenominationInhibitSingleCurrency")

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
            return self._inhibit_values([target], inhibit, "SetDenominationInhibit")
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
        """Inhibit (or accept) ``channels``.  True once the unit has acknowledged it.  A refusal
        changes nothing (False).  Without an answer (a lost reply: the unit may have taken it;
        the port not open) the request becomes the host's wanted state all the same, shown in
        ``IsInhibited``, and the poll thread sends the whole inhibit state again until the unit
        acknowledges it (a reconnect sends it too); the call returns False."""
        entries = self._entries
        if not entries:
            self.log.error("inhibits: no currency assignment (not connected?)")
            return False
        what = "SetDenominationInhibit"
        done: set[int] = set()
        if self._model in COIN_MODELS:
            for entry in entries:
                if entry.Channel in channels:
                    args = self._coin_inhibit_args(entry, inhibit)
                    reply = self._try(what, "SET_COIN_MECH_INHIBITS", *args)
                    if reply is None:
                        return self._inhibits_unanswered(channels, inhibit)
                    if self._refused(what, reply):
                        break
                    done.add(entry.Channel)
        else:
            mask = self._inhibit_mask({e.Channel: inhibit for e in entries if e.Channel in channels})
            reply = self._try(what, "SET_INHIBITS", mask, self._inhibit_bytes())
            if reply is None:
                return self._inhibits_unanswered(channels, inhibit)
            if not self._refused(what, reply):
                done = channels
        self._update_entries(lambda e: replace(e, IsInhibited=inhibit) if e.Channel in done else e)
        return done == channels

    def _inhibits_unanswered(self, channels: set[int], inhibit: bool) -> bool:
        self._update_entries(lambda e: replace(e, IsInhibited=inhibit) if e.Channel in channels else e)
        self._inhibits_unconfirmed = True
        self.log.warning(
            "SetDenominationInhibit: not acknowledged by the unit; the wanted inhibits are sent "
            "again until it is"
        )
        return False

    def _inhibit_mask(self, changes: dict[int, bool] | None = None) -> int:
        """SET INHIBITS' mask (bit set: channel accepted) from the entries, with ``changes``."""
        changes = changes or {}
        mask = 0
        for entry in self._entries:
            if not changes.get(entry.Channel, entry.IsInhibited):
                mask |= 1 << (entry.Channel - 1)
        return mask

    def _inhibit_bytes(self) -> int:
        return max(2, (max(e.Channel for e in self._entries) + 7) // 8)

    def _coin_inhibit_args(
        self, entry: CurrencyAssignmentEntry, inhibit: bool
    ) -> tuple[bool, int, str | None]:
        """SET COIN MECH INHIBITS' arguments: accept, value, country (from protocol 6)."""
        return not inhibit, entry.Value, entry.CountryCode if self._v["sspProtocolVersion"] >= 6 else None

    def _send_inhibits(self, *, every_coin: bool = True) -> None:
        """Send the host's whole wanted inhibit state (GA973 §6.3.3: a unit powers up with every
        note channel inhibited and every coin accepted).  Notes: one SET INHIBITS.  Coins: SET
        COIN MECH INHIBITS for each inhibited coin, and with ``every_coin`` for each accepted one
        too.  A refusal is an answer (logged, not sent again); no answer raises, and the state
        stays unconfirmed."""
        link = self._link
        if not self._entries or link is None:
            return
        # under the link lock: no request of the application's goes out in between (its state is
        # what is sent); one that gets no answer meanwhile marks the state unconfirmed again
        with link.lock:
            self._inhibits_unconfirmed = False
            try:
                if self._model in COIN_MODELS:
                    for entry in self._entries:
                        if entry.IsInhibited or every_coin:
                            self._ok(
                                "SET_COIN_MECH_INHIBITS", *self._coin_inhibit_args(entry, entry.IsInhibited)
                            )
                else:
                    self._ok("SET_INHIBITS", self._inhibit_mask(), self._inhibit_bytes())
            except SSPReplyError as exc:
                self.log.warning("inhibits refused: %s", exc)
            except BaseException:
                self._inhibits_unconfirmed = True
                raise

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
        denomination = self._denomination_args(entry)
        reply = self._try("SetDenominationRoute", command, route_byte, *denomination)
        if reply is None:
            # the reply may be what was lost (the unit took the route): ask the unit
            read = self._decoded(
                "GET_DENOMINATION_ROUTE",
                self._try("SetDenominationRoute", "GET_DENOMINATION_ROUTE", *denomination),
            )
            if read is None:
                self._routes_unknown = True  # the poll thread reads the routes again
            else:
                self._set_route(entry, read)
            if read != route_byte:
                return self._route_done(
                    SetDenominationRouteRequestResult.BUSY, entry, route, "no answer from the device"
                )
            self.log.info("SetDenominationRoute: its reply was lost; the unit has the route")
            return self._route_done(SetDenominationRouteRequestResult.OK, entry, route, "")
        if reply[0] != Response.OK:
            failed = f"SetDenominationRoute: device answered {response_name(reply)}"
            self._set(commandFailedDetailsString=failed)
            return self._route_done(
                _route_result(reply), entry, route, f"device answered {response_name(reply)}"
            )
        confirm = self._try("SetDenominationRoute", "GET_DENOMINATION_ROUTE", *denomination)
        confirmed = self._decoded("GET_DENOMINATION_ROUTE", confirm)
        if confirmed is not None:
            route_byte = confirmed
        self._set_route(entry, route_byte)
        return self._route_done(SetDenominationRouteRequestResult.OK, entry, route, "")

    def _set_route(self, entry: CurrencyAssignmentEntry, route_byte: int) -> None:
        accept = accept_route(route_byte)
        self._update_entries(
            lambda e: (
                replace(e, AcceptRoute=accept, IsRecyclable=True)  # routable (L2338-L2340)
                if e.Channel == entry.Channel
                else e
            )
        )

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
        says "in the cashbox"; the levels it is computed from are the payout store's).  The levels
        are those of the last :meth:`GetAllLevels` (the host also reads them after each payout),
        plus each note reported STORED since; a COIN CREDIT does not say where the coin went, so
        coins count from the next :meth:`GetAllLevels`."""
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
                "SetDenominationLevel", "SET_DENOMINATION_LEVEL", levelToSet, *self._level_denomination(e)
            )
            for e in self._entries
        )
        self._read_levels()
        return ok

    # ------------------------------------------------------------------------------ NV4000 / refill

    @csharp(DispenseTransactionRequestResult.NOT_SUPPORTED, NumberToReplinish=U32)
    @_documented
    @_one_job
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
        check = self._payout_checks(what, "NV4000_REPLENISH")
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
        if not self._simple("RefillMode", "SET_REFILL_MODE", 1 if enable else 0):
            self.log.warning("RefillMode(%s) was not accepted", enable)
            return
        self._refill_mode = bool(enable)  # set again on reconnect (a unit may forget it at a reset)

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
        if reply[0] != Response.OK:
            return False
        self._set_again_raw(data[:customCommandDataLength])
        return True

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
        reason = self._decoded("LAST_REJECT_CODE", self._try("GetLastRejectCode", "LAST_REJECT_CODE"))
        if reason is None:
            return False
        try:
            text = REJECT_REASON_TEXT[RejectReason(reason)]
        except ValueError:
            text = f"Unknown reason 0x{reason:02X}"
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
        text = self._decoded(command, self._try(what, command))
        if text is None:
            return False
        self._set(**{variable: text})
        return True

    # ------------------------------------------------------------------------------ barcode

    @csharp(False)
    def GetBarcodeReaderConfiguration(self) -> bool:
        """C# ``bool GetBarcodeReaderConfiguration()`` (L13389): 0x23 into
        ``barCodeHardwareStatus`` ("Both fitted"), ``readersEnabled`` ("Both"), ``barCodeFormat``
        ("Interleaved 2 of 5"), ``numberOfCharacters`` ("18")."""
        name = "GET_BARCODE_READER_CONFIGURATION"
        config = self._decoded(name, self._try("GetBarcodeReaderConfiguration", name))
        if config is None:
            return False
        hardware, readers, barcode_format, characters = config
        try:
            self._set(
                barCodeHardwareStatus=BARCODE_HARDWARE_STATUS_TEXT[BarcodeHardwareStatus(hardware)],
                readersEnabled=BARCODE_READERS_TEXT[BarcodeReaders(readers)],
                barCodeFormat=BARCODE_FORMAT_TEXT[BarcodeFormat(barcode_format)],
                numberOfCharacters=str(characters),
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
        what, name = "SetBarcodeReaderConfiguration", "SET_BARCODE_READER_CONFIGURATION"
        if not self._simple(what, name, enableReaders, barCodeFormat, numberOfCharacters):
            return False
        self._set_again(
            (name,), "barcode reader configuration", name, enableReaders, barCodeFormat, numberOfCharacters
        )
        return True

    @csharp(False)
    def GetBarcodeInhibit(self) -> bool:
        """C# ``bool GetBarcodeInhibit()`` (L13441): 0x25 into ``barCodeInhibit`` (e.g. "Barcode
        Disabled and Currency Enabled (Default)")."""
        inhibit = self._decoded("GET_BARCODE_INHIBIT", self._try("GetBarcodeInhibit", "GET_BARCODE_INHIBIT"))
        if inhibit is None:
            return False
        try:
            self._set(barCodeInhibit=BARCODE_INHIBIT_TEXT[BarcodeInhibit(inhibit | 0xFC)])
        except ValueError:
            return False
        return True

    @csharp(False, inhibitByte=BYTE)
    def SetBarcodeInhibit(self, inhibitByte: int) -> bool:
        """C# ``bool SetBarcodeInhibit(byte inhibitByte)`` (L13422): 0x26 with 0xFC..0xFF."""
        if not is_uint(inhibitByte, 0xFF) or inhibitByte < 0xFC:
            self.log.error("SetBarcodeInhibit: %r is not 0xFC..0xFF", inhibitByte)
            return False
        if not self._simple("SetBarcodeInhibit", "SET_BARCODE_INHIBIT", inhibitByte):
            return False
        # GA973: "When the unit is started up or reset, the default is currency enabled, bar code
        # disabled (0xFE)": set again on reconnect (else a unit that reset takes currency again)
        self._set_again(("SET_BARCODE_INHIBIT",), "barcode inhibit", "SET_BARCODE_INHIBIT", inhibitByte)
        return True

    @csharp(False)
    def GetBarcodeData(self) -> bool:
        """C# ``bool GetBarcodeData()`` (L13339): 0x27 into ``ticketStatus`` and
        ``barcode_ascii_data``.  The seed shows no ticketStatus values; ours: "No ticket",
        "Ticket in escrow", "Ticket stacked", "Ticket rejected"."""
        ticket = self._decoded("GET_BARCODE_DATA", self._try("GetBarcodeData", "GET_BARCODE_DATA"))
        if ticket is None:
            return False
        status, text = ticket
        self._set(ticketStatus=TICKET_STATUS_TEXT.get(status, f"Status {status}"), barcode_ascii_data=text)
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
