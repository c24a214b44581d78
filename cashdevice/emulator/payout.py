"""Recyclers and hoppers: levels, routes, payout / float / empty jobs and their events.

A job moves items one at a time (``payout_step`` per note, ``coin_step`` per coin):

* payout (notes): DISPENSING (value so far, repeats) ... a note reaches the bezel (NOTE HELD
  IN BEZEL, v8, repeats until the customer takes it) ... DISPENSED (total, once, ack-able);
* payout (coins): DISPENSING ... CASHBOX PAID (coins moved above the cashbox payout limit) +
  DISPENSED;
* float: FLOATING ... FLOATED; empty all: EMPTYING ... EMPTIED; smart empty: SMART EMPTYING
  ... SMART EMPTIED;
* HALT PAYOUT ends a job at the next step with HALTED.

The unit reports DISABLED while a job runs and stays disabled after it (the host
re-enables, ssp-protocol.md §8 item 11).  A power cut leaves :class:`~.core.Interrupted`
in the persistent store; the next power-up reports INCOMPLETE PAYOUT / FLOAT and moves a
note left in the bezel into the cashbox (NOTE INTO STACKER AT RESET, or NOTE CLEARED INTO
CASHBOX below v8).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..events import Amount, DeviceFamily, Event
from ..ssp import Command, PollEvent, Response
from .core import OK, DeviceCore, Handler, Interrupted, reply
from .datasets import COINS, Denomination

__all__ = ["Job", "PayoutMixin", "split_exact"]

TEST, REAL = 0x19, 0x58
F5 = Response.COMMAND_CANNOT_BE_PROCESSED
NOT_ENOUGH, NOT_EXACT, BUSY, DISABLED = 1, 2, 3, 4


def split_exact(
    amount: int, stock: dict[Denomination, int], prefer_high: bool = True
) -> list[Denomination] | None:
    """Items from ``stock`` summing exactly to ``amount`` (fewest items first when
    ``prefer_high``), or None.  Depth-first over denominations with memoised failures."""
    denoms = sorted((d for d, n in stock.items() if n > 0), key=lambda d: d.value, reverse=prefer_high)
    failed: set[tuple[int, int]] = set()

    def search(i: int, rest: int) -> list[Denomination] | None:
        if rest == 0:
            return []
        if i == len(denoms) or (i, rest) in failed:
            return None
        d = denoms[i]
        most = min(stock[d], rest // d.value)
        for k in range(most, -1, -1):
            tail = search(i + 1, rest - k * d.value)
            if tail is not None:
                return [d] * k + tail
        failed.add((i, rest))
        return None

    return search(0, amount)


@dataclass
class Job:
    kind: str  # payout / float / empty / smart_empty
    country: str
    items: list[Denomination]
    requested: int
    due: float
    moved: list[Denomination] = field(default_factory=list)
    bezel: Denomination | None = None
    bezel_since: float = 0.0
    halted: bool = False
    jammed: bool = False
    """Jammed while it ran: JAMMED until the power is removed (GA973), even once the jam is cleared."""

    @property
    def value(self) -> int:
        return sum(d.value for d in self.moved) + (self.bezel.value if self.bezel else 0)


class PayoutMixin(DeviceCore):
    """Payout behaviour shared by note recyclers and coin hoppers."""

    def power_on_state(self) -> None:
        super().power_on_state()
        self.job: Job | None = None
        self.payout_enabled = self.spec.kind == COINS  # SMART Payout / NV11 need ENABLE PAYOUT
        self.payout_options = 0
        self.last_smart_empty: dict[Denomination, int] = {}
        self.fail_next: int | None = None  # ERROR DURING PAYOUT code for the next note paid
        self.needs_reset = False  # after a hopper fraud attempt: ENABLE refused until RESET
        self.fraud: tuple[Amount, ...] = ()  # FRAUD ATTEMPT's paid so far, repeated until a reset
        self.refill_mode = 0
        self._report_interrupted()

    def _report_interrupted(self) -> None:
        p = self.persistent
        if p.interrupted is not None:
            i, p.interrupted = p.interrupted, None
            code = PollEvent.INCOMPLETE_PAYOUT if i.kind == "payout" else PollEvent.INCOMPLETE_FLOAT
            self.emit(
                Event(
                    code,
                    amounts=self.amounts(i.paid, i.country),
                    requested=self.amounts(i.requested, i.country),
                )
            )
        bezel, p.bezel = p.bezel, None
        if bezel is not None and self.timing.bezel_at_reset == "store":
            # back where it came from: it never left the unit (the ledger's in-bezel count drops)
            self.store[bezel] = self.store.get(bezel, 0) + 1
            p.float_order.append(bezel)
            self.emit_at_reset(
                Event(PollEvent.NOTE_INTO_STORE_AT_RESET, amounts=self.amounts(bezel.value, bezel.country))
            )
        elif bezel is not None:
            p.cashbox[bezel] = p.cashbox.get(bezel, 0) + 1
            self.ledger.record("cleared", bezel, detail="note in bezel at power loss")
            fallback = Event(PollEvent.NOTE_CLEARED_INTO_CASHBOX, channel=0)
            self.emit_at_reset(
                Event(PollEvent.NOTE_INTO_STACKER_AT_RESET, amounts=self.amounts(bezel.value, bezel.country)),
                fallback,
            )

    def _register(self, table: dict[int, Handler]) -> None:
        super()._register(table)
        if not self.spec.payout:
            return
        table.update(
            {
                Command.GET_ALL_LEVELS: self._cmd_all_levels,
                Command.PAYOUT_AMOUNT: self._cmd_payout_amount,
                Command.GET_DENOMINATION_LEVEL: self._cmd_get_level,
                Command.HALT_PAYOUT: self._cmd_halt,
                Command.SET_DENOMINATION_ROUTE: self._cmd_set_route,
                Command.GET_DENOMINATION_ROUTE: self._cmd_get_route,
                Command.FLOAT_AMOUNT: self._cmd_float_amount,
                Command.GET_MINIMUM_PAYOUT: self._cmd_min_payout,
                Command.EMPTY_ALL: lambda data: self._cmd_empty(data, "empty"),
                Command.SMART_EMPTY: lambda data: self._cmd_empty(data, "smart_empty"),
                Command.CASHBOX_PAYOUT_OPERATION_DATA: self._cmd_operation_data,
                Command.FLOAT_BY_DENOMINATION: self._cmd_float_by_denomination,
                Command.PAYOUT_BY_DENOMINATION: self._cmd_payout_by_denomination,
            }
        )
        if self.spec.kind != COINS:
            table[Command.ENABLE_PAYOUT_DEVICE] = self._cmd_enable_payout
            table[Command.DISABLE_PAYOUT_DEVICE] = self._cmd_disable_payout
        if self.family == DeviceFamily.SMART_PAYOUT:
            table[Command.SET_REFILL_MODE] = self._cmd_refill_mode
        if self.family == DeviceFamily.NV11:
            # GA138's NV11 command table: no FLOAT AMOUNT, no FLOAT BY DENOMINATION (COMMAND NOT
            # KNOWN); an NV11 moves stored notes to the cashbox with STACK NOTE or (SMART) EMPTY
            del table[Command.FLOAT_AMOUNT], table[Command.FLOAT_BY_DENOMINATION]

    def _cmd_refill_mode(self, data: bytes) -> bytes:
        """0x30 manufacturer extension, SMART Payout fw >= 4.10 (GA138, GA973): ``30 05 81 10 11 xx``
        sets refill mode (01 on, 00 off), ``30 05 81 10 01`` reads it."""
        mode = self.row_args("SET_REFILL_MODE", data)
        if mode is not None and len(mode) == 1 and mode[0] <= 1:
            self.refill_mode = mode[0]
            return OK
        if self.row_args("GET_REFILL_MODE", data) == ():
            return self.row_reply("GET_REFILL_MODE", self.refill_mode)
        return reply(Response.PARAMETER_OUT_OF_RANGE)

    # ---------------------------------------------------------------------- store

    def payout_busy(self) -> bool:
        return self.job is not None

    def route_to_store(self, d: Denomination) -> bool:
        return (
            self.spec.payout
            and self.payout_enabled
            and self.persistent.routes.get(d, 0) != 1
            and self.capacity_left(d) > 0
        )

    def store_note(self, d: Denomination) -> None:
        self.store[d] = self.store.get(d, 0) + 1
        self.persistent.float_order.append(d)
        self.ledger.record("stored", d)
        self.count("stored")
        if self.family == DeviceFamily.NV11 and self.payout_options & 1:
            self.emit(Event(PollEvent.NOTE_STORED_IN_PAYOUT, amounts=self.amounts(d.value, d.country)))
        else:
            self.emit(Event(PollEvent.NOTE_STORED_IN_PAYOUT))

    # ---------------------------------------------------------------------- jobs

    def status_events(self) -> list[Event]:
        out = super().status_events()
        job = self.job
        if job is None:
            if self.fraud:
                # GA973 (SMART Hopper FRAUD ATTEMPT): "The Fraud Event response is persistent and
                # can only be cleared by resetting the device"
                return [Event(PollEvent.FRAUD_ATTEMPT, amounts=self.fraud), *out]
            return out
        code = {
            "payout": PollEvent.DISPENSING,
            "float": PollEvent.FLOATING,
            "empty": PollEvent.EMPTYING,
            "smart_empty": PollEvent.SMART_EMPTYING,
        }[job.kind]
        if job.jammed or getattr(self, "jam", None) is not None:
            code = PollEvent.JAMMED
        head = [Event(code, amounts=self.amounts(job.value, job.country))]
        if job.bezel is not None:
            head.append(
                Event(PollEvent.NOTE_HELD_IN_BEZEL, amounts=self.amounts(job.bezel.value, job.bezel.country))
            )
        return head + out

    def start_job(self, kind: str, country: str, items: list[Denomination], requested: int) -> None:
        self.enabled = False
        self.job = Job(kind, country, items, requested, self.clock() + self._step())
        if kind != "payout":  # CASHBOX PAYOUT OPERATION DATA: the last float / empty / smart empty
            self.last_smart_empty = {}
        if kind in ("payout", "float"):
            self.persistent.interrupted = Interrupted(kind, country, requested, 0)

    def set_jam(self, kind: str) -> None:
        super().set_jam(kind)  # type: ignore[misc]
        if self.job is not None:
            # GA973: a jam that stops a payout is "persistent until validator is powered down and
            # cause of jam is removed" (SMART Payout); a SMART Hopper's is recovered by removing
            # power, after which "the host can send a command to resume the operation".  The job
            # never resumes by itself: clearing the jam leaves it JAMMED; a power cut ends it
            # (INCOMPLETE PAYOUT / FLOAT with what was paid)
            self.job.jammed = True

    def _step(self) -> float:
        return self.timing.coin_step if self.spec.kind == COINS else self.timing.payout_step

    def take_notes(self) -> int:
        """The customer takes the note in the bezel; returns how many were taken (0/1)."""
        job = self.job
        if job is None or job.bezel is None:
            return 0
        d, job.bezel = job.bezel, None
        self.persistent.bezel = None
        job.moved.append(d)
        self.ledger.record("dispensed", d)
        self.count("dispensed")
        job.due = self.clock() + self._step()
        self._progress(job)
        return 1

    def _progress(self, job: Job) -> None:
        if self.persistent.interrupted is not None:
            self.persistent.interrupted.paid = sum(d.value for d in job.moved)

    def tick(self, now: float) -> None:
        super().tick(now)
        job = self.job
        if job is None or job.jammed or self.awaiting_ack() or getattr(self, "jam", None) is not None:
            return
        if job.bezel is not None:
            if self.timing.auto_take is not None and now - job.bezel_since >= self.timing.auto_take:
                self.take_notes()
            return
        if now < job.due:
            return
        if job.halted or not job.items:
            self._finish(job)
            return
        d = job.items.pop(0)
        self.take_from_store(d)
        job.due = now + self._step()
        if job.kind == "payout" and self.spec.kind != COINS:
            if self.fail_next is not None:
                self._payout_error(job, d, self.fail_next)
                return
            job.bezel, job.bezel_since = d, now
            self.persistent.bezel = d
            return
        job.moved.append(d)
        if job.kind == "payout":
            self.ledger.record("dispensed", d)
            self.count("coins_out")
        else:
            self._to_cashbox(d, "floated" if job.kind == "float" else "emptied")
            self.last_smart_empty[d] = self.last_smart_empty.get(d, 0) + 1
        self._progress(job)

    def enable_refused(self) -> bool:
        return self.needs_reset or super().enable_refused()

    def hopper_fraud(self) -> None:
        """A fraud attempt on a hopper (GA973 flows): FRAUD ATTEMPT with the value paid so far,
        a running payout stops, the unit disables itself and refuses ENABLE until RESET."""
        job, self.job = self.job, None
        country = job.country if job is not None else self.currencies[0]
        paid = job.value if job is not None else 0
        self.persistent.interrupted = None
        self.needs_reset = True
        self.enabled = False
        self.count("fraud")
        self.fraud = self.amounts(paid, country)  # (reported on every poll: status_events)

    def _payout_error(self, job: Job, d: Denomination, code: int) -> None:
        """The note fails on its way out (GA138 ERROR DURING PAYOUT): it goes to the cashbox
        and the payout stops -- ``B1 <paid so far> <code>`` then NOTE TRANSFERRED TO STACKER.  The
        payout stays recorded as interrupted: after the next power-up the unit reports it again as
        INCOMPLETE PAYOUT (GA973, "Note transport error during dispense": B1 ... B0, then after the
        start-up sequence ``F1 DC 01 <paid> <requested> EUR``)."""
        self.fail_next = None
        self.job = None
        self._to_cashbox(d, "transferred")
        self.emit(
            Event(PollEvent.ERROR_DURING_PAYOUT, amounts=self.amounts(job.value, job.country), error=code)
        )
        self.emit(Event(PollEvent.NOTE_TRANSFERRED_TO_STACKER, amounts=self.amounts(d.value, d.country)))

    def _to_cashbox(self, d: Denomination, counter: str) -> None:
        box = self.persistent.cashbox
        box[d] = box.get(d, 0) + 1
        self.ledger.record(counter, d)
        self.count("to_cashbox")
        self.count("transferred")

    def _finish(self, job: Job) -> None:
        self.job = None
        self.persistent.interrupted = None
        total = self.amounts(job.value, job.country)
        if job.halted:
            self.emit(Event(PollEvent.HALTED, amounts=total))
            return
        if job.kind == "payout":
            if self.spec.kind == COINS:
                paid = self._apply_cashbox_limits(job.country)
                self.emit(Event(PollEvent.CASHBOX_PAID, amounts=self.amounts(paid, job.country)))
            self.emit(Event(PollEvent.DISPENSED, amounts=total))
        elif job.kind == "float":
            self.emit(Event(PollEvent.FLOATED, amounts=total))
        elif job.kind == "empty":
            self.emit(Event(PollEvent.EMPTIED))
        else:
            self.emit(Event(PollEvent.SMART_EMPTIED, amounts=total))

    def _apply_cashbox_limits(self, country: str) -> int:
        paid = 0
        for d, limit in self.cashbox_limits.items():
            while d.country == country and self.store.get(d, 0) > limit:
                self.take_from_store(d)
                box = self.persistent.cashbox
                box[d] = box.get(d, 0) + 1
                self.ledger.record("cashbox_paid", d)
                paid += d.value
        return paid

    # ---------------------------------------------------------------------- commands

    def _refusal(self) -> int | None:
        if self.job is not None or getattr(self, "note", None) is not None:
            return BUSY
        if not self.payout_enabled:
            return DISABLED
        return None

    def _amount_args(self, value: int, code: str | None, option: int | None) -> tuple[int, str, int] | bytes:
        """(value, country, option) of a PAYOUT / FLOAT AMOUNT request as its row decoded it: the
        country and option byte come from protocol 6 on (the refusal when the form is not this
        level's); below it the first currency, paid for real."""
        if (code is None) != (self.level < 6):
            return reply(Response.WRONG_NO_PARAMETERS)
        if code is None or option is None:
            return value, self.currencies[0], REAL
        if option not in (TEST, REAL):
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        return value, code, option

    def _stock(self, country: str) -> dict[Denomination, int]:
        return {d: n for d, n in self.store.items() if d.country == country}

    def _amount_request(
        self, amount: tuple[Any, ...] | None, *, allow_zero: bool
    ) -> tuple[int, str, int, dict[Denomination, int]] | bytes:
        """Check a PAYOUT / FLOAT AMOUNT request, ``amount`` = (value, country, option) as the row
        decoded it (None: the layout did not fit), and refuse what cannot be done: the reply
        bytes, or (value, country, option, stock of that currency)."""
        if amount is None:
            return reply(Response.WRONG_NO_PARAMETERS)
        args = self._amount_args(*amount)
        if isinstance(args, bytes):
            return args
        value, country, option = args
        refusal = self._refusal()
        if refusal is not None:
            return reply(F5, refusal)
        if country not in self.currencies:
            return reply(F5, NOT_ENOUGH)
        stock = self._stock(country)
        if sum(d.value * n for d, n in stock.items()) < value or (value <= 0 and not allow_zero):
            return reply(F5, NOT_ENOUGH)
        return value, country, option, stock

    def _cmd_payout_amount(self, data: bytes) -> bytes:
        request = self._amount_request(self.row_args("PAYOUT_AMOUNT", data), allow_zero=False)
        if isinstance(request, bytes):
            return request
        value, country, option, stock = request
        items = split_exact(value, stock)
        if items is None:
            return reply(F5, NOT_EXACT)
        self.last_payout_count = len(items)
        if self.payout_limit and len(items) > self.payout_limit:
            return reply(F5, NOT_EXACT)
        if option == REAL:
            self.start_job("payout", country, items, value)
        return OK

    def _denomination_list(
        self, name: str, data: bytes
    ) -> tuple[list[tuple[Denomination, int]], int] | bytes:
        """PAYOUT / FLOAT BY DENOMINATION (row ``name``: n, n x [u16 count, u32 value, country],
        option): the denominations with their counts and the option byte, or the refusal."""
        if self.level < 6:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        args = self.row_args(name, data)
        if args is None or len(args[0]) > 20:
            return reply(Response.WRONG_NO_PARAMETERS)
        listed, option = args
        entries: list[tuple[Denomination, int]] = []
        for count, value, code in listed:
            d = self.denomination(value, code)
            if d is None:
                return reply(Response.PARAMETER_OUT_OF_RANGE)
            entries.append((d, count))
        if option not in (TEST, REAL):
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        return entries, option

    def _cmd_payout_by_denomination(self, data: bytes) -> bytes:
        parsed = self._denomination_list("PAYOUT_BY_DENOMINATION", data)
        if isinstance(parsed, bytes):
            return parsed
        entries, option = parsed
        refusal = self._refusal()
        if refusal is not None:
            return reply(F5, refusal)
        need: dict[Denomination, int] = {}
        for d, count in entries:
            need[d] = need.get(d, 0) + count
        if any(self.store.get(d, 0) < n for d, n in need.items()) or not sum(need.values()):
            return reply(F5, NOT_ENOUGH)
        countries = {d.country for d in need if need[d]}
        if len(countries) != 1:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        items = [d for d, n in sorted(need.items(), reverse=True) for _ in range(n)]
        if option == REAL:
            self.start_job("payout", countries.pop(), items, sum(d.value for d in items))
        return OK

    def _cmd_float_amount(self, data: bytes) -> bytes:
        # Minimum-payout width: 2 bytes on hoppers, 4 on SMART Payout -- the row decides by length.
        args = self.row_args("FLOAT_AMOUNT", data)  # (minimum, value, country, option, width)
        request = self._amount_request(None if args is None else args[1:4], allow_zero=True)
        if isinstance(request, bytes):
            return request
        value, country, option, stock = request
        keep = split_exact(value, stock, prefer_high=False) if value else []
        if keep is None:
            return reply(F5, NOT_EXACT)
        rest = dict(stock)
        for d in keep:
            rest[d] -= 1
        items = [d for d, n in sorted(rest.items(), reverse=True) for _ in range(n)]
        if option == REAL:
            self.start_job("float", country, items, value)
        return OK

    def _cmd_float_by_denomination(self, data: bytes) -> bytes:
        parsed = self._denomination_list("FLOAT_BY_DENOMINATION", data)
        if isinstance(parsed, bytes):
            return parsed
        entries, option = parsed
        refusal = self._refusal()
        if refusal is not None:
            return reply(F5, refusal)
        items: list[Denomination] = []
        countries = {d.country for d, _ in entries}
        for d, leave in entries:
            items += [d] * max(0, self.store.get(d, 0) - leave)
        if len(countries) != 1:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        if option == REAL:
            keep = sum(min(leave, self.store.get(d, 0)) * d.value for d, leave in entries)
            self.start_job("float", countries.pop(), items, keep)
        return OK

    def _cmd_empty(self, data: bytes, kind: str) -> bytes:
        if self.job is not None or getattr(self, "note", None) is not None:
            return reply(F5, BUSY)
        items = [d for d, n in sorted(self.store.items(), reverse=True) for _ in range(n)]
        self.start_job(kind, self.currencies[0], items, sum(d.value for d in items))
        return OK

    def _cmd_operation_data(self, data: bytes) -> bytes:
        emptied = [(self.last_smart_empty.get(d, 0), d.value, d.country) for d in self.channels]
        return self.row_reply("CASHBOX_PAYOUT_OPERATION_DATA", (emptied, 0))

    def _cmd_halt(self, data: bytes) -> bytes:
        if self.job is None:
            return reply(F5)
        self.job.halted = True
        return OK

    def _cmd_all_levels(self, data: bytes) -> bytes:
        levels = [(self.store.get(d, 0), d.value, d.country) for d in self.channels]
        return self.row_reply("GET_ALL_LEVELS", levels)

    def _route_width(self) -> int:
        return 2 if self.spec.kind == COINS and self.level < 6 else 4

    def _denomination_arg(self, args: tuple[Any, ...] | None) -> Denomination | bytes | None:
        """The denomination of a row's ``(..., value, country, width)`` arguments (None: the
        layout did not fit): the refusal (WRONG NO PARAMETERS) when the layout is not this level's
        (u16 value on a hopper below protocol 6, else u32; the country from protocol 6), None
        outside the dataset."""
        if args is None:
            return reply(Response.WRONG_NO_PARAMETERS)
        value, code, width = args[-3:]
        if width != self._route_width() or (code is None) != (self.level < 6):
            return reply(Response.WRONG_NO_PARAMETERS)
        return self.denomination(value, code)

    def _cmd_get_level(self, data: bytes) -> bytes:
        d = self._denomination_arg(self.row_args("GET_DENOMINATION_LEVEL", data))
        if isinstance(d, bytes):
            return d
        if d is None:
            return reply(F5)
        return self.row_reply("GET_DENOMINATION_LEVEL", self.store.get(d, 0))

    def _cmd_set_route(self, data: bytes) -> bytes:
        args = self.row_args("SET_DENOMINATION_ROUTE", data)  # route, value, country, width
        if args is None:
            return reply(Response.WRONG_NO_PARAMETERS)
        d = self._denomination_arg(args)
        if isinstance(d, bytes):
            return d
        # NV4000: route bytes 2-5 = recycler module 1-4 (the unverified NV4000_SET_DENOMINATION_ROUTE
        # row of cashdevice.commands; state only: the four modules share one pool here)
        top = 5 if self.family == DeviceFamily.NV4000 else 1
        route = args[0]
        if d is None or route > top:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        self.persistent.routes[d] = route
        return OK

    def _cmd_get_route(self, data: bytes) -> bytes:
        d = self._denomination_arg(self.row_args("GET_DENOMINATION_ROUTE", data))
        if isinstance(d, bytes):
            return d
        if d is None:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        return self.row_reply("GET_DENOMINATION_ROUTE", self.persistent.routes.get(d, 0))

    def _cmd_min_payout(self, data: bytes) -> bytes:
        if self.level >= 6:
            args = self.row_args("GET_MINIMUM_PAYOUT", data)
            if args is None or args[0] is None:
                return reply(Response.WRONG_NO_PARAMETERS)
            country = args[0]
        else:
            country = self.currencies[0]
        values = [d.value for d in self.channels if d.country == country]
        if not values:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        return self.row_reply("GET_MINIMUM_PAYOUT", min(values))

    def _cmd_enable_payout(self, data: bytes) -> bytes:
        args = self.row_args("ENABLE_PAYOUT_DEVICE", data)  # [option byte]
        if args is None:
            return reply(Response.WRONG_NO_PARAMETERS)
        if self.job is not None:
            return reply(F5, 3)
        self.payout_options = args[0] or 0
        self.payout_enabled = True
        return OK

    def _cmd_disable_payout(self, data: bytes) -> bytes:
        self.payout_enabled = False
        return OK
