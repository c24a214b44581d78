"""Payout methods of ``CashDevice`` (C# names; a private mixin): dispense, payout by denomination,
float, cashbox payout limit, smart empty, payout enable, and the cashbox counts they move.

Same rules as :mod:`cashdevice._notes` (its docstring lists how the device's answers map to
DispenseTransactionRequestResult): arguments are validated first, bad input sends nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, overload

from ._contract import DeviceContract, _KeyNotSet, _ReplyUnreadable, is_uint, response_name, unit_busy
from ._guard import (
    BYTE,
    FLAG,
    U32,
    VCC,
    Overload,
    csharp,
    list_of,
    optional,
)
from ._notes import F5, _documented, _one_job
from .commands import UnverifiedCommandError
from .enums import (
    DeviceModel,
    DispenserTransactionType,
    DispenseTransactionRequestResult,
)
from .link import LinkPortLostError, LinkReplyUnreadableError
from .models import DISPENSERS, PAYOUT_MODELS
from .records import CurrencyAssignmentEntry, ValueCountryCode
from .ssp import Response, SSPError, SSPTimeoutError

TEST, REAL = 0x19, 0x58
ENABLE_PAYOUT_ERRORS = {
    1: "No device connected",
    2: "Invalid currency detected",
    3: "Device busy",
    4: "Empty only (note float only)",
    5: "Device error",
}


_MAYBE_RUN = (SSPTimeoutError, LinkPortLostError, LinkReplyUnreadableError)
"""Link errors after which a job's command may have run on the unit (it went out)."""


class PayoutMethods(DeviceContract):
    """Payouts, float, cashbox payout limit, smart empty, payout enable, cashbox counts."""

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
    @_one_job
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
        amount = (vcc.Value, vcc.CountryCode.upper()) if self._v["sspProtocolVersion"] >= 6 else (vcc.Value,)
        return self._test_then_real(what, "PAYOUT_AMOUNT", amount, DispenserTransactionType.PAYOUT, vcc)

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
    @_one_job
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
    @_one_job
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
    @_one_job
    def Float(self, noteCounts: Sequence[int] | None) -> DispenseTransactionRequestResult:
        """C# ``DispenseTransactionRequestResult Float(UInt32[] noteCounts)`` (L12020): FLOAT BY
        DENOMINATION (0x44).  The seed gives opposite meanings (C#: counts moved to the cashbox;
        REST L5945: counts left in the payout); this port follows REST and the SSP command:
        ``noteCounts[i]`` is how many of ``currencyAssignment[i]`` stay in the payout, the rest go
        to the cashbox.  NOT_SUPPORTED on an NV11, which has no float command (GA138)."""
        what = "Float"
        if self._model == DeviceModel.NV11:
            # GA138's NV11 command table has neither FLOAT AMOUNT nor FLOAT BY DENOMINATION (they
            # are SMART Hopper, SMART Payout and SMART System commands); the NV11 moves its notes
            # to the cashbox one at a time with STACK NOTE, or all with SMART EMPTY / EMPTY ALL
            return self._payout_fail(
                DispenseTransactionRequestResult.NOT_SUPPORTED,
                what,
                "the NV11 has no float command (GA138: FLOAT BY DENOMINATION is SMART Hopper, "
                "SMART Payout and SMART System only); use SmartEmpty or the NV11's STACK NOTE",
            )
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
        result = self._payout_result(what, reply)
        if result == DispenseTransactionRequestResult.OK:
            self._cashbox_limits = limits  # set again on reconnect (a unit may forget them at a reset)
        return result

    @csharp(
        DispenseTransactionRequestResult.NOT_SUPPORTED,
        DispenseTransactionRequestResult.BUSY,
        moduleNumber=BYTE,
        NV4000=FLAG,
    )
    @_documented
    @_one_job
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
        check = self._payout_checks(what, "NV4000_SMART_EMPTY_MODULE" if NV4000 and moduleNumber else None)
        if check is not None:
            return check
        # (IN_PROGRESS names the dataset's currency when it has one only, as the end does)
        everything = ValueCountryCode(0, self._single_currency() or "")
        if NV4000 and moduleNumber:
            return self._start_job(
                what, "NV4000_SMART_EMPTY_MODULE", (moduleNumber,), DispenserTransactionType.EMPTY, everything
            )
        return self._start_job(what, "SMART_EMPTY", (), DispenserTransactionType.EMPTY, everything)

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
            self._set(enablePayoutDeviceError=f"Option byte {optionByte!r} outside 0..255")
            return False
        if self._model not in PAYOUT_MODELS:
            self.log.error("EnablePayoutDevice: %s has no payout device", self._model.name)
            self._set(enablePayoutDeviceError=f"{self._model.name} has no payout device")
            return False
        reply = self._try("EnablePayoutDevice", "ENABLE_PAYOUT_DEVICE", optionByte)
        self._payout_enabled = True  # wanted; the poll thread re-asserts it if unanswered or busy
        self._payout_option = optionByte  # (and a reconnect), with this option byte
        self._payout_confirmed = reply is not None and not unit_busy(reply)
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
        reply = self._try("DisablePayout", "DISABLE_PAYOUT_DEVICE")
        self._payout_enabled = False  # wanted; the poll thread re-asserts it if unanswered or busy
        self._payout_confirmed = reply is not None and not unit_busy(reply)  # other refusals: not resent
        return reply is not None and not self._refused("DisablePayout", reply)

    def _payout_checks(self, what: str, row: str | None = None) -> DispenseTransactionRequestResult | None:
        """The failure result (with its log line) that stops a payout-side request before it is sent,
        or None: ``row``'s bytes refused by the table (unpublished, not enabled), a unit that
        cannot pay out, no session, another payout running."""
        if row is not None:
            try:
                self.commands.get(row)
            except UnverifiedCommandError as exc:
                return self._payout_fail(DispenseTransactionRequestResult.NOT_SUPPORTED, what, str(exc))
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
        if counts is None or isinstance(counts, (str, bytes)) or len(counts) < len(entries):
            self.log.error("%s: need one count per channel (%d), got %r", what, len(entries), counts)
            return None
        if not all(is_uint(n, limit) for n in counts):
            self.log.error("%s: counts must be 0..%d", what, limit)
            return None
        extra = list(counts[len(entries) :])
        if any(extra):
            self.log.error(
                "%s: %d counts for %d channels; a count beyond the dataset's channels names no "
                "denomination: %r",
                what,
                len(counts),
                len(entries),
                counts,
            )
            return None
        if extra:
            # the seed's own examples carry one count more than their dataset's denominations
            # ([0, 2, 1, 0, 0, 0] for five USD notes, L11992): zeros there ask for nothing
            self.log.info(
                "%s: %d trailing zero counts beyond the %d channels ignored", what, len(extra), len(entries)
            )
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
        entries = [(n, e.Value, e.CountryCode) for e, n in pairs]
        total = sum(e.Value * n for e, n in pairs)
        codes = {e.CountryCode for e, _ in pairs}
        vcc = ValueCountryCode(total, codes.pop() if len(codes) == 1 else "")
        return self._test_then_real(what, command, (entries,), kind, vcc)

    def _test_then_real(
        self,
        what: str,
        command: str,
        args: tuple[Any, ...],
        kind: DispenserTransactionType,
        vcc: ValueCountryCode,
    ) -> DispenseTransactionRequestResult:
        """``command`` with ``args`` and the option byte: TEST first, then REAL (protocol >= 6);
        below protocol 6 the command once, without an option byte."""
        real: tuple[Any, ...] = args
        if self._v["sspProtocolVersion"] >= 6:
            result = self._payout_result(what, self._try(what, command, *args, TEST))
            if result != DispenseTransactionRequestResult.OK:
                return result
            real = (*args, REAL)
        return self._start_job(what, command, real, kind, vcc)

    def _start_job(
        self,
        what: str,
        command: str,
        args: tuple[Any, ...],
        kind: DispenserTransactionType,
        vcc: ValueCountryCode,
    ) -> DispenseTransactionRequestResult:
        """Send the command that starts a payout, float or empty, after reading what the store
        holds (the levels settle the transaction if its end is lost); the transaction begins when
        the device accepts, or when it may have (below)."""
        try:
            self._read_levels()
        except SSPError as exc:
            self.log.warning("%s: levels not read before the payout: %s", what, exc)
        gone = getattr(self._callers, "gone", None)
        if gone is not None and gone():
            return self._payout_fail(
                DispenseTransactionRequestResult.BUSY, what, "its caller went away before it was sent"
            )
        sent: list[bool] = []

        def begin(reply: bytes | None, error: BaseException | None) -> None:
            # (under the link lock: the poll thread sees no event of this job before its
            # transaction is open; IN_PROGRESS goes out once the lock is free, below)
            sent.append(True)
            code = reply[0] if reply else None
            if code == Response.OK:
                self._open_transaction(kind, vcc.Value, vcc.CountryCode)
            elif isinstance(error, _MAYBE_RUN) or code == Response.KEY_NOT_SET:
                self._open_transaction(kind, vcc.Value, vcc.CountryCode, unconfirmed=True)

        try:
            try:
                reply: bytes | None = self._send(command, *args, then=begin)
            finally:
                self._announce_transaction()
        except (SSPTimeoutError, LinkPortLostError, _KeyNotSet, _ReplyUnreadable) as exc:
            # Every identical retransmission went unanswered, or the port failed (a USB cable
            # pulled) once the command was on its way, or the unit answered a retransmission
            # KEY NOT SET (power cut after it took the command, its reply lost), or its reply
            # would not decrypt, twice: the device may have received it and be paying, or have
            # paid.  BUSY would invite a second payout, so the request is taken as accepted;
            # DispenserTransactionEvent COMPLETED / ERROR reports what was paid, from the levels
            # (0 if the device never ran it).
            if not sent:  # (it failed before it went out: a new key, say, got no answer)
                return self._payout_fail(DispenseTransactionRequestResult.BUSY, what, str(exc))
            self.log.warning("%s: no answer to the payout command (%s); the outcome follows", what, exc)
            return DispenseTransactionRequestResult.OK
        except (SSPError, ValueError) as exc:
            self.log.error("%s: %s", what, exc)
            reply = None
        return self._payout_result(what, reply)

    def _payout_result(self, what: str, reply: bytes | None) -> DispenseTransactionRequestResult:
        """The request's result from the device's reply (None: no answer)."""
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
        name = "CASHBOX_PAYOUT_OPERATION_DATA"
        reply = self._try("cashbox payout operation data", name)
        if reply is None or reply[0] != Response.OK or len(reply) < 2:
            return
        try:
            moved, _unknown = self.commands.row(name).decode(reply[1:])
        except ValueError as exc:
            self.log.warning("CASHBOX PAYOUT OPERATION DATA: %s", exc)
            return
        for count, value, code in moved:
            self._cashbox_moved(value, code, count)

    def _payout_fail(
        self, result: DispenseTransactionRequestResult, what: str, why: str
    ) -> DispenseTransactionRequestResult:
        self.log.warning("%s: %s -> %s", what, why, result.name)
        return result
