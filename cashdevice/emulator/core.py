"""Device core: state shared by every model, the event queue, poll, identification commands.

Behaviour by concern lives in mixins built on :class:`DeviceCore`: :mod:`.notes` (note path),
:mod:`.payout` (recyclers and hoppers), :mod:`.coins` (coin mech, hopper options,
SMART System commands).  Every command handler takes the command DATA and returns the
reply DATA (generic response first).  All methods run under the emulator's lock.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..commands import DEFAULT_COMMANDS, encode_service, service_layout
from ..events import (
    EVENT_SPECS,
    Amount,
    DeviceFamily,
    Event,
    Fmt,
    decode_events,
    encode_events,
    event_format,
    event_supported,
)
from ..ssp import DEFAULT_FIXED_KEY, Command, PollEvent, Response
from .datasets import (
    COINS,
    NOTES,
    UNVERIFIED_COMMANDS,
    Denomination,
    ModelSpec,
    build_dataset,
    dataset_string,
)
from .engine import CREDIT_EVENTS
from .ledger import Ledger

__all__ = ["MAX_POLL_REPLY", "OK", "DeviceCore", "Handler", "Interrupted", "Persistent", "Timing", "reply"]

Handler = Callable[[bytes], bytes]

OK = bytes((Response.OK,))


MAX_POLL_REPLY = 16 * 15 - 7
"""The most reply DATA one encrypted packet carries: LEN <= 255 holds STEX and at most 15 AES
blocks, which hold eLENGTH, eCOUNT (4), the data and eCRC (2)."""


def reply(code: int, *data: int) -> bytes:
    return bytes((code, *data))


# Event formats whose amount array lists every country of the dataset (GA138, protocol >= 6).
_EVERY_COUNTRY = frozenset({Fmt.VALUE, Fmt.MC11, Fmt.VALUE_ERROR})


@dataclass
class Timing:
    """Mechanical timings in seconds (defaults are the manuals' or typical hardware)."""

    read_time: float = 1.0
    stack_time: float = 1.5
    reject_time: float = 1.0
    escrow_timeout: float = 10.0
    watchdog: float | None = None  # None: the model's (10 s, SMART Hopper family 5 s)
    payout_step: float = 1.0  # per note moved by a recycler
    coin_step: float = 0.2  # per coin moved by a hopper
    auto_take: float | None = None  # customer takes notes from the bezel after this delay
    enable_echo: bool = False  # SMART Hopper: DISABLED once more after ENABLE (GA973)
    # GA973 "Power removed during payout": the note the unit moved at power-up (NOTE CLEARED TO
    # CASHBOX AT RESET ``E2 00``, NOTE INTO STACKER AT RESET ``CA``) is reported in the poll after
    # the one with SLAVE RESET (and INCOMPLETE PAYOUT); False: in that same first poll
    reset_notes_next_poll: bool = True
    # where a payout's note left in the bezel by a power cut goes at power-up: "cashbox" (NOTE INTO
    # STACKER AT RESET, as GA973's "Power removed during payout" shows) or "store" (NOTE INTO STORE
    # AT RESET, GA138 0xCB: "a bill was moved into the payout storage as part of the power-up")
    bezel_at_reset: str = "cashbox"


@dataclass
class Interrupted:
    """A payout or float cut by a power loss (persisted, reported after restart)."""

    kind: str  # "payout" or "float"
    country: str
    requested: int
    paid: int


@dataclass
class Persistent:
    """State that survives a power cycle (EEPROM / mechanics)."""

    fixed_key: int = DEFAULT_FIXED_KEY
    store: dict[Denomination, int] = field(default_factory=dict)
    cashbox: dict[Denomination, int] = field(default_factory=dict)
    routes: dict[Denomination, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    float_order: list[Denomination] = field(default_factory=list)  # NV11 LIFO
    interrupted: Interrupted | None = None
    bezel: Denomination | None = None
    baud: int = 9600
    rtc: bytes = bytes((1, 1, 0, 0, 0, 0))
    reset_events: list[Event] = field(default_factory=list)  # reported after the next power-up
    firmware: str | None = None  # set by a completed download
    dataset: str | None = None
    cashbox_unknown: int = 0  # unknown coins in the cashbox (GET CASHBOX LEVELS)
    cassette: dict[Denomination, int] = field(default_factory=dict)  # NV4000 replenishment cassette
    cassette_present: bool = True
    rc_mode: int = 0  # NV4000 RC mode: 0 replenish, 1 payout
    services: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)  # module -> (type, m, y)
    maintenance_base: int = 0  # items processed at the last maintenance reset / service
    maintenance_stamp: bytes = b"0000"  # SERVICE MAINTENANCE RESET week + year (ASCII)


@dataclass
class Pending:
    event: Event
    ack: bool
    fallback: Event | None = None  # used when ``event`` is not reportable at the level
    reported: bool = False


class DeviceCore:
    """State and plumbing common to all models."""

    def __init__(
        self,
        spec: ModelSpec,
        currencies: tuple[str, ...],
        timing: Timing,
        rng: random.Random,
        log: logging.Logger,
        initial_protocol: int,
        protocol_max: int,
    ) -> None:
        self.spec = spec
        self.family: DeviceFamily = spec.family
        self.currencies = currencies
        self.channels: tuple[Denomination, ...] = build_dataset(spec, currencies)
        self.timing = timing
        self.rng = rng
        self.log = log
        self.initial_protocol = initial_protocol
        self.protocol_max = protocol_max
        self.ledger = Ledger()
        self.persistent = Persistent()
        self.clock: Callable[[], float] = time.monotonic
        self.handlers: dict[int, Handler] = {}
        self.reset_requested = False
        self.power_on_state()
        self._register(self.handlers)

    # ---------------------------------------------------------------------- lifecycle

    @property
    def fixed_key(self) -> int:
        return self.persistent.fixed_key

    @fixed_key.setter
    def fixed_key(self, value: int) -> None:
        self.persistent.fixed_key = value

    @property
    def firmware_version(self) -> str:
        return self.persistent.firmware or self.spec.firmware

    @property
    def dataset_version(self) -> str:
        return self.persistent.dataset or dataset_string(self.currencies)

    @property
    def watchdog(self) -> float:
        return self.timing.watchdog if self.timing.watchdog is not None else self.spec.watchdog

    def power_on_state(self) -> None:
        """Reset the volatile state as at power-up (subclasses extend it)."""
        now = self.clock()
        self.level = self.initial_protocol
        self.enabled = False
        self.pending: list[Pending] = [Pending(Event(PollEvent.SLAVE_RESET), ack=False)]
        self.unconfirmed: tuple[Event, ...] = ()
        """The queued events the last POLL reply carried, until a later command shows that the
        host took that reply (the engine answers a retry with the same sequence flag from its
        cache, without this device; any new command reaches it).  Until then the events live
        only in that cached reply: a power cut now destroys them whatever the host does (those
        not kept for an EVENT ACK left :attr:`pending` when the reply was built).  For fault
        harnesses: the soak cuts the power only once the host has them."""
        self.after_reset: list[Pending] = []
        for event in self.persistent.reset_events:
            self.emit_at_reset(event)
        self.persistent.reset_events = []
        self.last_command = now
        self.reset_requested = False
        self.baud = self.persistent.baud
        self.cashbox_limits: dict[Denomination, int] = {}
        self.payout_limit = 0  # most coins in one payout (0 = none; unverified command)
        self.last_payout_count = 0
        self.global_error = (0, 0)  # GET GLOBAL ERROR CODE (unverified row)
        self.service_flags = 0
        self.power_on_items = self.items_processed()
        self.count("resets")

    def power_cut(self) -> None:
        """Hook: power is lost now (mixins settle items caught mid-way)."""

    def count(self, name: str, n: int = 1) -> None:
        self.persistent.counters[name] = (self.persistent.counters.get(name, 0) + n) & 0xFFFFFFFF

    def _register(self, table: dict[int, Handler]) -> None:
        table.update(
            {
                Command.RESET: self._cmd_reset,
                Command.SETUP_REQUEST: self._cmd_setup_request,
                Command.HOST_PROTOCOL_VERSION: self._cmd_protocol,
                Command.POLL: lambda data: self._cmd_poll(data, with_ack=False),
                Command.POLL_WITH_ACK: lambda data: self._cmd_poll(data, with_ack=True),
                Command.EVENT_ACK: self._cmd_event_ack,
                Command.DISABLE: self._cmd_disable,
                Command.ENABLE: self._cmd_enable,
                Command.GET_SERIAL_NUMBER: self._cmd_serial,
                Command.GET_FIRMWARE_VERSION: lambda data: OK + self.firmware_version.encode("ascii"),
                Command.GET_DATASET_VERSION: lambda data: OK + self.dataset_version.encode("ascii"),
                Command.GET_BUILD_REVISION: self._cmd_build_revision,
                Command.SET_BAUD_RATE: self._cmd_baud,
                Command.RESET_FIXED_ENCRYPTION_KEY: self._cmd_reset_key,
                Command.GET_COUNTERS: self._cmd_counters,
                Command.RESET_COUNTERS: self._cmd_reset_counters,
            }
        )

        if self.spec.rtc:  # GA138 0x62-0x64: SMART System family, NV4000 (seed L9082 example)
            table[Command.GET_REAL_TIME_CLOCK_CONFIGURATION] = lambda data: OK + b"\x01"
            table[Command.GET_REAL_TIME_CLOCK] = lambda data: OK + self.persistent.rtc
            table[Command.SET_REAL_TIME_CLOCK] = self._cmd_set_rtc

        if self.family in (DeviceFamily.SMART_SYSTEM, DeviceFamily.NV4000):
            u = UNVERIFIED_COMMANDS
            table[u["EXTENDED_GET_FIRMWARE_VERSION"][0]] = lambda data: (
                OK + self._extended(self.firmware_version)
            )
            table[u["EXTENDED_GET_DATASET_VERSION"][0]] = lambda data: (
                OK + self._extended(self.dataset_version)
            )
            table[u["GET_GLOBAL_ERROR_CODE"][0]] = lambda data: OK + bytes(self.global_error)
            table[u["GET_SERVICE_INFORMATION"][0]] = self._cmd_get_service
            table[u["SET_SERVICE_INFORMATION"][0]] = self._cmd_set_service
            table[u["SERVICE_MAINTENANCE_RESET"][0]] = self._cmd_maintenance_reset

    # ---------------------------------------------------------------------- service (unverified rows)

    def items_processed(self) -> int:
        c = self.persistent.counters
        return sum(c.get(n, 0) for n in ("coins_in", "coins_out", "stacked", "stored", "dispensed"))

    def _service_modules(self) -> set[int]:
        if self.family == DeviceFamily.NV4000:
            return {5}
        modules = {0}
        if self.spec.sub_serials:
            modules |= {1, 3}  # feeder, lifter
        if self.spec.twin:
            modules.add(2)
        return modules

    def _service_values(self, module: int | None, sub: int) -> list[int]:
        c = self.persistent.counters
        total = self.items_processed()
        since = total - self.persistent.maintenance_base
        if module is None:
            rtc = self.persistent.rtc
            notes = c.get("stacked", 0) + c.get("stored", 0)
            return {
                0: [rtc[0], rtc[1], rtc[2]],
                1: [since, total, total - self.power_on_items, total],
                2: [notes, notes, notes],
                3: [c.get("jams", 0)] * 3,
                4: [self.service_flags],
            }[sub]
        if module == 5 or sub == 5:
            return [total, c.get("resets", 0), int(self.clock()) % 100000]
        inserted, credited = c.get("coins_in", 0) + c.get("feeder_rejects", 0), c.get("coins_in", 0)
        last = (self.persistent.services.get(module, []) + [(0, 0, 0)] * 3)[:3]
        due = last[0][1:] if last[0][1] else (1, 0)
        return {
            0: [0],
            1: [due[0], (due[1] + 1) % 100],
            2: [b for entry in last for b in entry],
            3: [
                since,
                100 if not inserted else credited * 100 // inserted,
                c.get("hopper_jams", 0),
                c.get("calibration_fails", 0),
            ],
            4: [self.service_flags],
        }[sub]

    def _cmd_get_service(self, data: bytes) -> bytes:
        if len(data) == 2:  # NV4000 form: sub-command only
            if self.family != DeviceFamily.NV4000:
                return reply(Response.WRONG_NO_PARAMETERS)
            module, sub = None, data[1]
        elif len(data) == 3:
            module, sub = data[1], data[2]
            if module not in self._service_modules():
                return reply(Response.PARAMETER_OUT_OF_RANGE)
        else:
            return reply(Response.WRONG_NO_PARAMETERS)
        layout = service_layout(module, sub)
        if layout is None:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        return OK + encode_service(module, sub, self._service_values(module, sub))

    def _cmd_set_service(self, data: bytes) -> bytes:
        if len(data) != 5:
            return reply(Response.WRONG_NO_PARAMETERS)
        module, kind, month, year = data[1:]
        if module not in self._service_modules() or not 1 <= month <= 12 or year > 99:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        history = self.persistent.services.setdefault(module, [])
        history.insert(0, (kind, month, year))
        del history[3:]
        self.persistent.maintenance_base = self.items_processed()
        self.service_flags = 0
        return OK

    def _cmd_maintenance_reset(self, data: bytes) -> bytes:
        if len(data) != 5:
            return reply(Response.WRONG_NO_PARAMETERS)
        text = bytes(data[1:])
        if not text.isdigit() or not 1 <= int(text[:2]) <= 53:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        self.persistent.maintenance_stamp = text
        self.persistent.maintenance_base = self.items_processed()
        self.service_flags = 0
        return OK

    def _cmd_set_rtc(self, data: bytes) -> bytes:
        if len(data) != 7:
            return reply(Response.WRONG_NO_PARAMETERS)
        day, month, year, hour, minute, second = data[1:]
        if not (
            1 <= day <= 31 and 1 <= month <= 12 and year <= 99 and hour < 24 and minute < 60 and second < 60
        ):
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        self.persistent.rtc = bytes(data[1:])
        return OK

    def _extended(self, version: str) -> bytes:
        return f"{version}_{self.spec.build_stamp}".encode("ascii")

    # ---------------------------------------------------------------------- dispatch

    def execute(self, data: bytes, encrypted: bool) -> bytes:
        """Run one command; return the reply DATA."""
        self.last_command = self.clock()
        self.unconfirmed = ()  # a new command: the host took the last reply
        self.on_command(data[0])
        if data[0] == Command.SYNC:
            return OK
        handler = self.handlers.get(data[0])
        if handler is None:
            return reply(Response.COMMAND_NOT_KNOWN)
        return handler(bytes(data))

    def on_command(self, code: int) -> None:
        """Hook: any command arrived (escrow timer restart in the note mixin)."""

    def tick(self, now: float) -> None:
        """Advance timed behaviour (watchdog here; mechanics in the mixins)."""
        if self.enabled and now - self.last_command > self.watchdog:
            self.log.info("watchdog: no command for %.1f s, disabling", now - self.last_command)
            self.enabled = False

    def reply_has_credit(self, data: bytes) -> bool:
        if len(data) < 2 or data[0] != Response.OK:
            return False
        return any(e.code in CREDIT_EVENTS for e in decode_events(data[1:], self.level, self.family))

    # ---------------------------------------------------------------------- events

    def emit(self, event: Event, fallback: Event | None = None) -> None:
        spec_ack = _ackable(event.code)
        self.pending.append(Pending(event, spec_ack, fallback))

    def emit_at_reset(self, event: Event, fallback: Event | None = None) -> None:
        """A note the unit moved while it powered up: reported in the poll after SLAVE RESET's
        (:attr:`Timing.reset_notes_next_poll`), else with it."""
        if self.timing.reset_notes_next_poll:
            self.after_reset.append(Pending(event, _ackable(event.code), fallback))
        else:
            self.emit(event, fallback)

    def amounts(self, value: int, country: str) -> tuple[Amount, ...]:
        """One amount (country stripped at poll time below protocol 6)."""
        return (Amount(value, country),)

    def awaiting_ack(self) -> bool:
        return any(p.reported and p.ack for p in self.pending)

    def status_events(self) -> list[Event]:
        """Repeating, state-derived events (mixins extend; DISABLED last)."""
        return [Event(PollEvent.DISABLED)] if not self.enabled else []

    def before_poll(self) -> None:
        """Hook: a POLL arrived (escrow accept in the note mixin)."""

    def _reportable(self, event: Event) -> bool:
        return event_supported(event.code, self.level, self.family)

    def _cmd_poll(self, data: bytes, *, with_ack: bool) -> bytes:
        """Report pending events, oldest first, then the state-derived ones.  The reply never
        exceeds :data:`MAX_POLL_REPLY` bytes (what one encrypted packet carries): events that do
        not fit stay pending, unreported, for the next poll."""
        self.before_poll()
        status = [e for e in self.status_events() if self._reportable(e)]
        out: list[Event] = []
        keep: list[Pending] = []
        full = False
        for p in self.pending:
            ev = p.event if self._reportable(p.event) else p.fallback
            if full or ev is None or not self._reportable(ev):
                if full:
                    keep.append(p)
                continue
            if len(self._poll_reply([*out, ev, *status])) > MAX_POLL_REPLY:
                full = True
                keep.append(p)
                continue
            out.append(ev)
            if with_ack and p.ack:
                p.reported = True
                keep.append(p)
        self.pending = keep
        if self.after_reset and any(e.code == PollEvent.SLAVE_RESET for e in out):
            self.pending.extend(self.after_reset)  # (the next poll reports them)
            self.after_reset = []
        self.unconfirmed = tuple(out)
        out.extend(status)
        self.after_poll(out)
        return self._poll_reply(out)

    def _poll_reply(self, events: list[Event]) -> bytes:
        return OK + encode_events(self._localise(events), self.level, self.family)

    def _localise(self, events: list[Event]) -> list[Event]:
        """Drop country codes below protocol 6; from protocol 6 on, a dataset with several
        currencies lists every one of them in an amount array (:meth:`_every_country`)."""
        if self.level >= 6:
            return self._every_country(events) if len(self.currencies) > 1 else events
        return [
            Event(
                e.code,
                e.channel,
                tuple(Amount(a.value) for a in e.amounts),
                tuple(Amount(a.value) for a in e.requested),
                e.error,
                e.data,
            )
            for e in events
        ]

    def _every_country(self, events: list[Event]) -> list[Event]:
        """GA138's payout events (DISPENSING, DISPENSED, JAMMED, HALTED, FLOATED, INCOMPLETE
        PAYOUT ..., protocol >= 6) carry "an array of data giving the total dispensed for each of
        the countries supported in the dataset" (DISPENSING's example: ``DA 02 FC080000 EUR
        B0040000 GBP``): the countries a job did not pay in are listed at 0, in dataset order."""
        out = []
        for e in events:
            fmt = event_format(e.code, self.family)
            if fmt is None or fmt[0] not in _EVERY_COUNTRY or not e.amounts:
                out.append(e)
                continue
            moved = {a.country: a.value for a in e.amounts}
            asked = {a.country: a.value for a in e.requested}
            amounts = tuple(Amount(moved.get(c, 0), c) for c in self.currencies)
            requested = tuple(Amount(asked.get(c, 0), c) for c in self.currencies) if e.requested else ()
            out.append(Event(e.code, e.channel, amounts, requested, e.error, e.data))
        return out

    def after_poll(self, reported: list[Event]) -> None:
        """Hook: the events just reported (escrow 'reported' flag in the note mixin)."""

    def _cmd_event_ack(self, data: bytes) -> bytes:
        before = len(self.pending)
        self.pending = [p for p in self.pending if not (p.reported and p.ack)]
        if len(self.pending) == before:
            return reply(Response.COMMAND_CANNOT_BE_PROCESSED)
        return OK

    # ---------------------------------------------------------------------- generic commands

    def _cmd_reset(self, data: bytes) -> bytes:
        self.reset_requested = True
        return OK

    def _cmd_reset_key(self, data: bytes) -> bytes:
        self.persistent.fixed_key = DEFAULT_FIXED_KEY
        self.reset_requested = True
        return OK

    def _cmd_protocol(self, data: bytes) -> bytes:
        args = self.row_args("HOST_PROTOCOL_VERSION", data)
        if args is None or len(args) != 1:
            return reply(Response.WRONG_NO_PARAMETERS)
        if not 4 <= args[0] <= self.protocol_max:
            return reply(Response.FAIL)
        self.level = args[0]
        return OK

    def _cmd_disable(self, data: bytes) -> bytes:
        self.enabled = False
        return OK

    def _cmd_enable(self, data: bytes) -> bytes:
        if self.enable_refused():
            return reply(Response.COMMAND_CANNOT_BE_PROCESSED)
        self.enabled = True
        return OK

    def enable_refused(self) -> bool:
        """Hook: True while the unit cannot be enabled (jam)."""
        return False

    def _cmd_serial(self, data: bytes) -> bytes:
        if len(data) == 1 or data[1] == 0:
            serial = self.spec.serial
        elif data[1] in self.spec.sub_serials:
            serial = self.spec.sub_serials[data[1]]
        else:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        return OK + serial.to_bytes(4, "big")

    def _cmd_build_revision(self, data: bytes) -> bytes:
        return OK + b"".join(bytes((t,)) + rev.to_bytes(2, "little") for t, rev in self.spec.build_revisions)

    def _cmd_baud(self, data: bytes) -> bytes:
        if len(data) != 3:
            return reply(Response.WRONG_NO_PARAMETERS)
        rates = {0: 9600, 1: 38400, 2: 115200}
        if data[1] not in rates or data[2] > 1:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        self.baud = rates[data[1]]
        if data[2]:
            self.persistent.baud = self.baud
        return OK

    def _cmd_setup_request(self, data: bytes) -> bytes:
        if len(data) > 2:
            return reply(Response.WRONG_NO_PARAMETERS)
        spec = self.spec
        head = (
            bytes((spec.unit_type,))
            + spec.firmware_short.encode("ascii")
            + self.currencies[0].encode("ascii")
        )
        if spec.kind == COINS:
            body = bytes((self.level, len(self.channels)))
            body += b"".join(d.value.to_bytes(2, "little") for d in self.channels)
            if self.level >= 6:
                body += b"".join(d.country.encode("ascii") for d in self.channels)
            return OK + head + body
        return OK + head + self._validator_setup()

    def _validator_setup(self) -> bytes:
        n = len(self.channels)
        majors = [d.value // 100 for d in self.channels]
        small = all(v <= 255 for v in majors)
        multiplier = 1 if small else 0
        body = multiplier.to_bytes(3, "big") + bytes((n,))
        body += bytes(majors) if small else bytes(n)
        body += bytes((2 if multiplier else 0,) * n)
        body += (100).to_bytes(3, "big") + bytes((self.level,))
        if self.level >= 6:
            body += b"".join(d.country.encode("ascii") for d in self.channels)
            body += b"".join(v.to_bytes(4, "little") for v in majors)
        return body

    def counter_values(self) -> list[int]:
        c = self.persistent.counters
        if self.spec.kind == NOTES:
            names = ["stacked", "stored", "dispensed", "transferred", "rejected"]
        else:
            names = [
                "coins_out",
                "coins_in",
                "feeder_rejects",
                "hopper_jams",
                "feeder_jams",
                "fraud",
                "calibration_fails",
                "resets",
                "to_cashbox",
            ]
        return [c.get(n, 0) for n in names]

    def _cmd_counters(self, data: bytes) -> bytes:
        values = self.counter_values()
        if self.spec.counters == 0:  # SMART Hopper 3: six counters, no count byte
            return OK + b"".join(v.to_bytes(4, "little") for v in values[:6])
        values = values[: self.spec.counters]
        return OK + bytes((len(values),)) + b"".join(v.to_bytes(4, "little") for v in values)

    def _cmd_reset_counters(self, data: bytes) -> bytes:
        self.persistent.counters.clear()
        return OK

    # ---------------------------------------------------------------------- store (recycler / hopper)

    @property
    def store(self) -> dict[Denomination, int]:
        return self.persistent.store

    def store_total(self) -> int:
        return sum(self.store.values())

    def capacity_left(self, d: Denomination) -> int:
        if self.spec.kind == COINS:
            return self.spec.store_capacity - self.store.get(d, 0)
        return self.spec.store_capacity * self.spec.modules - self.store_total()

    def load(self, d: Denomination, count: int) -> None:
        """Operator fill (initial levels, SET DENOMINATION LEVEL)."""
        self.store[d] = self.store.get(d, 0) + count
        self.persistent.float_order.extend([d] * count)
        self.ledger.record("loaded", d, count)

    def take_from_store(self, d: Denomination) -> None:
        self.store[d] -= 1
        if not self.store[d]:
            del self.store[d]
        order = self.persistent.float_order
        for i in range(len(order) - 1, -1, -1):
            if order[i] == d:
                del order[i]
                break

    def payout_busy(self) -> bool:
        """Hook: a payout job is running (payout mixin)."""
        return False

    def accepting_notes(self) -> bool:
        """Hook: the note path takes an item now (note mixin)."""
        return False

    def ticket_in_path(self) -> bool:
        """Hook: a barcode ticket waits in escrow (barcode mixin): the one note path is taken."""
        return False

    def route_to_store(self, d: Denomination) -> bool:
        """Hook: a credited note goes to the recycler (payout mixin)."""
        return False

    def store_note(self, d: Denomination) -> None:
        """Hook: put a credited note into the recycler (payout mixin)."""
        raise RuntimeError("this model has no recycler")

    # ---------------------------------------------------------------------- helpers

    def denomination(self, value: int, country: str | None) -> Denomination | None:
        country = country or self.currencies[0]
        d = Denomination(value, country)
        return d if d in self.channels else None

    def channel_of(self, d: Denomination) -> int:
        return self.channels.index(d) + 1

    @staticmethod
    def row_args(name: str, data: bytes) -> tuple[Any, ...] | None:
        """The request's arguments as its command row encoded them (``CommandSpec.decode_request``);
        None when the DATA does not fit the row's layout."""
        try:
            return DEFAULT_COMMANDS[name].decode_request(data)
        except ValueError:
            return None

    @staticmethod
    def row_reply(name: str, value: Any) -> bytes:
        """OK + the reply the command row decodes into ``value`` (``CommandSpec.encode_reply``)."""
        return OK + DEFAULT_COMMANDS[name].encode_reply(value)



def _ackable(code: int) -> bool:
    spec = EVENT_SPECS.get(code)
    return bool(spec and spec.ack)
