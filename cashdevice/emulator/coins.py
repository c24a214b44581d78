"""Coin devices: the attached coin mech, hopper options, levels, SMART System commands.

SMART Hopper (unit type 3), SMART Coin System / Twin (9) and SMART Hopper 4.  Coins
arrive through the attached mech (``insert_coin``): COIN CREDIT ``DF`` (VC7) or, with
REG0 bit 7 on a SMART System, VALUE ADDED ``BF`` (MC7); then into the hopper (route 0)
or the cashbox (route 1, or hopper full).

Commands whose bytes no public source gives (ssp-coin-nv4000.md §2 "?" rows) use the codes of
the driver's one command table (:data:`UNVERIFIED_COMMANDS`, derived from
:data:`cashdevice.commands.DEFAULT_COMMANDS`); their layouts are the table's encoders and
decoders.  Test-only: real units may give these codes other meanings.

Requests with a structured layout are parsed by their command row (``row_args``, i.e.
``CommandSpec.decode_request``) and structured replies built by it (``row_reply``), so host and
emulator share one codec per command.
"""

from __future__ import annotations

from typing import Final

from ..events import UNPUBLISHED_EVENTS, Amount, DeviceFamily, Event
from ..ssp import Command, PollEvent, Response
from .core import OK, DeviceCore, Handler, reply
from .datasets import COINS, UNVERIFIED_COMMANDS, Denomination

__all__ = ["UNVERIFIED_COMMANDS", "CoinMixin"]


REG0_DEFAULT: Final = 0x26  # GA138: level check, high speed, high-efficiency split
REG1_DEFAULT: Final = 0x00


class CoinMixin(DeviceCore):
    """Coin mech and hopper behaviour (coin models only)."""

    def power_on_state(self) -> None:
        super().power_on_state()
        self.mech_enabled = True
        self.coin_inhibited: set[Denomination] = set()
        self.mech_options = 0
        self.reg0, self.reg1 = REG0_DEFAULT, REG1_DEFAULT
        self.calibration_mode = 0
        self.twin_mode = 0
        self.sorter_routes: dict[Denomination, int] = {}
        self.enable_echo = False  # SMART Hopper: DISABLED once more after ENABLE (GA973)
        self.mech_jammed = False
        self.no_payin_limit = 0  # SET NO-PAYIN COUNT (0 = off)
        self.no_payin_seen = 0
        self.exit_base = self.persistent.counters.get("coins_out", 0)
        self.lifter = [True, True, False]  # connected, opto clear, jammed (SCS / TSCS)
        self.stuck: set[tuple[int, int]] = set()  # (device, hopper) with a coin stuck (PURGE clears)

    def _register(self, table: dict[int, Handler]) -> None:
        super()._register(table)
        if self.spec.kind != COINS:
            return
        table.update(
            {
                Command.SET_DENOMINATION_LEVEL: self._cmd_set_level,
                Command.SET_COIN_MECH_INHIBITS: self._cmd_coin_inhibits,
                Command.COIN_MECH_GLOBAL_INHIBIT: self._cmd_global_inhibit,
                Command.COIN_MECH_OPTIONS: self._cmd_mech_options,
                Command.SET_OPTIONS: self._cmd_set_options,
                Command.GET_OPTIONS: lambda data: self.row_reply("GET_OPTIONS", (self.reg0, self.reg1)),
                Command.SET_CASHBOX_PAYOUT_LIMIT: self._cmd_cashbox_limit,
                Command.SET_COMMAND_CALIBRATION: self._cmd_calibration,
            }
        )
        if self.spec.rtc:  # SMART System family (the RTC commands are in the core)
            table[Command.COIN_STIR] = self._cmd_coin_stir
        if self.family == DeviceFamily.SMART_SYSTEM:
            setup = table[Command.SETUP_REQUEST]
            table[Command.SETUP_REQUEST] = lambda data: self._setup_or_sub(data, setup)
            u = UNVERIFIED_COMMANDS
            table[u["SET_PAYOUT_LIMIT"][0]] = self._cmd_payout_limit
            table[u["GET_PAYOUT_COUNT"][0]] = lambda data: self.row_reply(
                "GET_PAYOUT_COUNT", self.last_payout_count
            )
            table[u["GET_COIN_ACCEPTANCE"][0]] = self._cmd_coin_acceptance
            table[u["PURGE"][0]] = self._cmd_purge
            table[u["SET_CASHBOX_LEVELS"][0]] = self._cmd_set_cashbox_level
            table[u["CLEAR_CASHBOX_LEVELS"][0]] = self._cmd_clear_cashbox
            table[u["GET_CASHBOX_LEVELS"][0]] = self._cmd_get_cashbox
            table[u["GET_COINS_EXIT"][0]] = self._cmd_coins_exit
            table[u["SET_NO_PAYIN_COUNT"][0]] = self._cmd_no_payin
            table[u["GET_LIFTER_STATUS"][0]] = self._cmd_lifter

    def on_command(self, code: int) -> None:
        super().on_command(code)
        if code in (Command.PAYOUT_AMOUNT, Command.PAYOUT_BY_DENOMINATION):
            self.exit_base = self.persistent.counters.get("coins_out", 0)

    # ---------------------------------------------------------------------- physical

    def insert_coin(self, value: int, country: str | None) -> bool:
        d = Denomination(value, country or self.currencies[0])
        if not self.enabled or self.payout_busy() or self.awaiting_ack() or self.mech_jammed:
            self.ledger.record("refused", d, detail="unit not accepting")
            return False
        self.ledger.record("inserted", d)
        if d not in self.channels or not self.mech_enabled or d in self.coin_inhibited:
            self.ledger.record("rejected", d, detail="coin mech reject")
            self.count("feeder_rejects")
            if self.family == DeviceFamily.SMART_SYSTEM and self.reg1 & 1:
                self.emit(
                    Event(
                        PollEvent.COIN_REJECTED,
                        amounts=self.amounts(value if self.reg1 & 2 else 1, d.country),
                    )
                )
            return True
        self.ledger.record("credited", d)
        self.count("coins_in")
        if self.family == DeviceFamily.SMART_SYSTEM and self.reg0 & 0x80:
            self.emit(Event(PollEvent.VALUE_ADDED, amounts=self.amounts(d.value, d.country)))
        else:
            self.emit(Event(PollEvent.COIN_CREDIT, amounts=self.amounts(d.value, d.country)))
        if self.persistent.routes.get(d, 0) == 0 and self.capacity_left(d) > 0:
            self.store[d] = self.store.get(d, 0) + 1
            self.ledger.record("stored", d)
        else:
            box = self.persistent.cashbox
            box[d] = box.get(d, 0) + 1
            self.ledger.record("stacked", d)
            self.count("to_cashbox")
        return True

    def _cmd_enable(self, data: bytes) -> bytes:
        answer = super()._cmd_enable(data)
        if answer == OK and self.family == DeviceFamily.SMART_HOPPER and self.timing.enable_echo:
            self.enable_echo = True
        return answer

    def status_events(self) -> list[Event]:
        out = super().status_events()
        if self.enable_echo and self.enabled:
            out.append(Event(PollEvent.DISABLED))
        return out

    def after_poll(self, reported: list[Event]) -> None:
        super().after_poll(reported)
        self.enable_echo = False
        if any(e.code == UNPUBLISHED_EVENTS["PURGING"] for e in reported):
            self.emit(Event(UNPUBLISHED_EVENTS["PURGED"]))

    def coin_mech_jam(self) -> None:
        """The attached coin mech jams: COIN MECH JAMMED once; coins refused until cleared."""
        self.mech_jammed = True
        self.emit(Event(PollEvent.COIN_MECH_JAMMED))

    def press_coin_return(self) -> None:
        self.emit(Event(PollEvent.COIN_MECH_RETURN_PRESSED))

    # ---------------------------------------------------------------------- commands

    def _cmd_set_level(self, data: bytes) -> bytes:
        # the row's layout: u16 count, u32 value, country from protocol 6; u16 count, u16 value before
        args = self.row_args("SET_DENOMINATION_LEVEL", data)
        if args is None or args[3] != (4 if self.level >= 6 else 2) or (args[2] is None) == (self.level >= 6):
            return reply(Response.WRONG_NO_PARAMETERS)
        count, d = args[0], self.denomination(args[1], args[2])
        if d is None:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        if count == 0:
            n = self.store.pop(d, 0)
            self.ledger.record("unloaded", d, n, detail="SET DENOMINATION LEVEL 0")
        else:
            if count > self.capacity_left(d):
                return reply(Response.PARAMETER_OUT_OF_RANGE)
            self.load(d, count)
        return OK

    def _cmd_coin_inhibits(self, data: bytes) -> bytes:
        if len(data) < 2 or data[1] > 1:
            return reply(Response.WRONG_NO_PARAMETERS if len(data) < 2 else Response.PARAMETER_OUT_OF_RANGE)
        args = self.row_args("SET_COIN_MECH_INHIBITS", data)  # state, u16 value [, country at v>=6]
        if args is None or (args[2] is not None) != (self.level >= 6):
            return reply(Response.WRONG_NO_PARAMETERS)
        accept, value, code = args
        d = self.denomination(value, code)
        if d is None:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        if accept:
            self.coin_inhibited.discard(d)
        else:
            self.coin_inhibited.add(d)
        return OK

    def _cmd_global_inhibit(self, data: bytes) -> bytes:
        args = self.row_args("COIN_MECH_GLOBAL_INHIBIT", data)
        if args is None or len(args) != 1:
            return reply(Response.WRONG_NO_PARAMETERS)
        enabled = bool(args[0] & 1)
        if enabled != self.mech_enabled:
            self.emit(
                Event(
                    PollEvent.ATTACHED_COIN_MECH_ENABLED if enabled else PollEvent.ATTACHED_COIN_MECH_DISABLED
                )
            )
        self.mech_enabled = enabled
        return OK

    def _cmd_mech_options(self, data: bytes) -> bytes:
        args = self.row_args("COIN_MECH_OPTIONS", data)
        if args is None or len(args) != 1:
            return reply(Response.WRONG_NO_PARAMETERS)
        self.mech_options = args[0]
        return OK

    def _cmd_set_options(self, data: bytes) -> bytes:
        if self.level < 6:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        args = self.row_args("SET_OPTIONS", data)
        if args is None or len(args) != 2:
            return reply(Response.WRONG_NO_PARAMETERS)
        self.reg0, self.reg1 = args
        # GA138's reply: a mode byte FC..FF from pay mode (bit0) and cashbox-pay (bit3).
        mode = 0xFC | (self.reg0 & 1) | (0 if self.reg0 & 0x08 else 0x02)
        return OK + bytes((mode,))

    def _cmd_cashbox_limit(self, data: bytes) -> bytes:
        args = self.row_args("SET_CASHBOX_PAYOUT_LIMIT", data)  # n, n x [u16 limit, u32 value, country]
        if args is None:
            return reply(Response.WRONG_NO_PARAMETERS)
        limits: dict[Denomination, int] = {}
        for limit, value, code in args[0]:
            d = self.denomination(value, code)
            if d is None:
                return reply(Response.PARAMETER_OUT_OF_RANGE)
            limits[d] = limit
        self.cashbox_limits = limits
        return OK

    def _cmd_payout_limit(self, data: bytes) -> bytes:
        args = self.row_args("SET_PAYOUT_LIMIT", data)
        if args is None:
            return reply(Response.WRONG_NO_PARAMETERS)
        (self.payout_limit,) = args
        return OK

    def _cmd_coin_acceptance(self, data: bytes) -> bytes:
        args = self.row_args("GET_COIN_ACCEPTANCE", data)
        if args is None or len(args) != 1:
            return reply(Response.WRONG_NO_PARAMETERS)
        if args[0] > (2 if self.spec.twin else 1):
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        view = self.ledger.view({}, {}, {}, {}, {})
        inserted, credited = view.count("inserted"), view.count("credited")
        return self.row_reply("GET_COIN_ACCEPTANCE", 100 if not inserted else credited * 100 // inserted)

    def _cmd_calibration(self, data: bytes) -> bytes:
        if len(data) != 2 or data[1] > 1:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        self.calibration_mode = data[1]
        return OK

    def _cmd_coin_stir(self, data: bytes) -> bytes:
        # 2 bytes: COIN STIR (GA138); 3 bytes: the unverified COIN_STIR_WITH_MODE row (+ mode 0/1)
        if len(data) not in (2, 3):
            return reply(Response.WRONG_NO_PARAMETERS)
        if data[1] == 0 or (len(data) == 3 and data[2] > 1):
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        if self.payout_busy():
            return reply(Response.COMMAND_CANNOT_BE_PROCESSED)
        if len(data) == 3 and data[2] == 1:  # also move cashbox-routed coins to the cashbox
            for d in [d for d in self.store if self.persistent.routes.get(d, 0) == 1]:
                n = self.store.pop(d)
                box = self.persistent.cashbox
                box[d] = box.get(d, 0) + n
                self.ledger.record("emptied", d, n, detail="coin stir mode 1")
        return OK

    # ---------------------------------------------------------------------- unverified rows

    def _cmd_purge(self, data: bytes) -> bytes:
        """PURGE [device [hopper]] (seed L12771: clear a coin stuck behind the payout flap that
        makes start-up calibration fail): device 0 hopper, 1 feeder (not on SMART Hopper 4);
        hopper 1 = secondary, Twin SCS only.  A stuck coin there (:meth:`coin_stuck`) is
        cleared into the cashbox, counted as unknown."""
        args = self.row_args("PURGE", data)
        if args is None or len(args) > 2:
            return reply(Response.WRONG_NO_PARAMETERS)
        device, hopper = (*args, 0, 0)[:2]
        if device > 1 or hopper > (1 if self.spec.twin else 0):
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        if device == 1 and not self.spec.sub_serials:
            return reply(Response.PARAMETER_OUT_OF_RANGE)  # no feeder (SMART Hopper 4)
        if self.payout_busy():
            return reply(Response.COMMAND_CANNOT_BE_PROCESSED)
        if (device, hopper) in self.stuck:
            self.stuck.discard((device, hopper))
            self.persistent.cashbox_unknown += 1
        # PURGING now, PURGED on the poll after it was reported: unpublished event codes
        # (events.UNPUBLISHED_EVENTS), SMART System family only
        self.emit(Event(UNPUBLISHED_EVENTS["PURGING"]))
        return OK

    def _cmd_set_cashbox_level(self, data: bytes) -> bytes:
        args = self.row_args("SET_CASHBOX_LEVELS", data)  # u16 count, u32 value, country
        if args is None or args[2] is None:
            return reply(Response.WRONG_NO_PARAMETERS)
        count, d = args[0], self.denomination(args[1], args[2])
        if d is None:
            return reply(Response.PARAMETER_OUT_OF_RANGE)
        box = self.persistent.cashbox
        box[d] = box.get(d, 0) + count if count else 0
        return OK

    def _cmd_clear_cashbox(self, data: bytes) -> bytes:
        if len(data) != 1:
            return reply(Response.WRONG_NO_PARAMETERS)
        self.persistent.cashbox.clear()
        self.persistent.cashbox_unknown = 0
        return OK

    def _cmd_get_cashbox(self, data: bytes) -> bytes:
        if len(data) != 1:
            return reply(Response.WRONG_NO_PARAMETERS)
        box = self.persistent.cashbox
        levels = [(box.get(d, 0), d.value, d.country) for d in self.channels]
        return self.row_reply("GET_CASHBOX_LEVELS", (levels, self.persistent.cashbox_unknown))

    def _cmd_coins_exit(self, data: bytes) -> bytes:
        if len(data) != 1:
            return reply(Response.WRONG_NO_PARAMETERS)
        seen = self.persistent.counters.get("coins_out", 0) - self.exit_base
        return self.row_reply("GET_COINS_EXIT", (self.last_payout_count, max(0, seen)))

    def _cmd_no_payin(self, data: bytes) -> bytes:
        args = self.row_args("SET_NO_PAYIN_COUNT", data)
        if args is None or len(args) != 1:
            return reply(Response.WRONG_NO_PARAMETERS)
        self.no_payin_limit, self.no_payin_seen = args[0], 0
        return OK

    def _cmd_lifter(self, data: bytes) -> bytes:
        if len(data) != 1:
            return reply(Response.WRONG_NO_PARAMETERS)
        if not self.spec.sub_serials:
            return reply(Response.COMMAND_NOT_KNOWN)  # SMART Hopper 4: no lifter
        return self.row_reply("GET_LIFTER_STATUS", tuple(self.lifter))

    # ---------------------------------------------------------------------- physical (test hooks)

    def coin_sensed_no_payin(self) -> None:
        """A coin was sensed but none was paid in; the SET NO-PAYIN COUNT'th time in a row raises
        MAINTENANCE REQUIRED (GA138)."""
        self.no_payin_seen += 1
        if self.no_payin_limit and self.no_payin_seen >= self.no_payin_limit:
            self.no_payin_seen = 0
            self.emit(Event(PollEvent.MAINTENANCE_REQUIRED))

    def lifter_event(self, connected: bool = True, opto_clear: bool = True, jammed: bool = False) -> None:
        """The coin lifter changes state: LIFTER EVENT (unpublished code, status byte bit0
        connected, bit1 opto clear, bit2 jammed) and GET LIFTER STATUS follows."""
        self.lifter = [connected, opto_clear, jammed]
        status = int(connected) | int(opto_clear) << 1 | int(jammed) << 2
        self.emit(Event(UNPUBLISHED_EVENTS["LIFTER_EVENT"], error=status))

    def coin_stuck(self, device: int = 0, hopper: int = 0) -> None:
        """A coin sticks behind the payout flap: CALIBRATION FAILED until PURGE clears it."""
        self.stuck.add((device, hopper))
        self.calibration_failed(0x01)

    def coin_mech_error(self, code: int) -> None:
        """COIN MECH ERROR with a ccTalk error code."""
        self.emit(Event(PollEvent.COIN_MECH_ERROR, error=code))

    def calibration_failed(self, code: int) -> None:
        self.count("calibration_fails")
        self.emit(Event(PollEvent.CALIBRATION_FAILED, error=code))

    def pay_in_active(self) -> None:
        self.emit(Event(PollEvent.PAY_IN_ACTIVE))

    def device_full(self) -> None:
        self.emit(Event(PollEvent.DEVICE_FULL))

    def reject_coin(self, value: int, country: str | None = None) -> None:
        """An unknown coin goes to the cashbox as unknown (counted in GET CASHBOX LEVELS)."""
        self.persistent.cashbox_unknown += 1
        self.count("feeder_rejects")
        if self.family == DeviceFamily.SMART_SYSTEM and self.reg1 & 1:
            cur = country or self.currencies[0]
            self.emit(Event(PollEvent.COIN_REJECTED, amounts=(Amount(value if self.reg1 & 2 else 1, cur),)))

    def _setup_or_sub(self, data: bytes, setup: Handler) -> bytes:
        if len(data) >= 2 and bytes(data[:2]) == UNVERIFIED_COMMANDS["SET_TWIN_MODE"]:
            if not self.spec.twin:
                return reply(Response.COMMAND_NOT_KNOWN)
            args = self.row_args("SET_TWIN_MODE", data)
            if args is None or len(args) != 1:
                return reply(Response.WRONG_NO_PARAMETERS)
            if args[0] > 3 or args[0] == self.twin_mode or self.payout_busy():
                return reply(Response.COMMAND_CANNOT_BE_PROCESSED)
            self.twin_mode = args[0]
            return OK
        if len(data) >= 2 and bytes(data[:2]) == UNVERIFIED_COMMANDS["SET_SORTER_ROUTE"]:
            if not self.spec.twin:
                return reply(Response.COMMAND_NOT_KNOWN)
            args = self.row_args("SET_SORTER_ROUTE", data)  # u32 value, country, route
            if args is None:
                return reply(Response.WRONG_NO_PARAMETERS)
            value, code, route = args
            d = self.denomination(value, code)
            if d is None or route > 1:
                return reply(Response.PARAMETER_OUT_OF_RANGE)
            self.sorter_routes[d] = route
            return OK
        return setup(data)
