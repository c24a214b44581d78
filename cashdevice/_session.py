"""The SSP session of ``CashDevice`` (a private mixin): one exchange, the start-up sequence, keys.

:meth:`SessionMethods._command` is the one exchange every command goes through (a KEY NOT SET or
eSSP error raises :class:`_SessionLost`; a poll abandoned by the link is resent first);
:meth:`SessionMethods._establish` runs the start-up sequence of GA973 §6 (SYNC, eSSP key, protocol
level, SETUP REQUEST, unit information, inhibits, routes and levels, payout, one poll, ENABLE).
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ._contract import (
    DeviceContract,
    _KeyNotSet,
    _ReplyUnreadable,
    _SessionLost,
    accept_route,
    response_name,
    unit_busy,
)
from .commands import UnverifiedCommandError
from .enums import CashDeviceModuleType, CurrencyType, DeviceModel, DeviceState, DispenserTransactionType
from .link import LinkReplyUnreadableError, LinkTimeoutError, SSPLink
from .models import COIN_MODELS, DISPENSERS, MODELS, PAYOUT_MODELS, model_from_unit_type
from .records import (
    CashDeviceModule,
    CurrencyAssignmentEntry,
    DeviceModuleStateChangedEventArgs,
    ValueCountryCode,
)
from .replies import BuildRevision, SetupInfo, parse_all_levels, parse_serial_number, parse_setup_request
from .ssp import (
    Command,
    Response,
    SSPEncryptionError,
    SSPError,
    SSPPortError,
    SSPReplyError,
    SSPTimeoutError,
)

if TYPE_CHECKING:
    from ._contract import _Then

MAX_PROTOCOL = 8
_SYNC_ATTEMPTS = 3

_POLLS = frozenset({Command.POLL, Command.POLL_WITH_ACK, Command.EVENT_ACK})
_SETTLED_FROM_LEVELS = (DispenserTransactionType.PAYOUT, DispenserTransactionType.PAYOUT_BY_DENOMINATION)
"""Transactions that a start-up leaves open to settle from the levels after the next polls."""
_ABANDONED_POLL_TRIES = 5
"""Reconnect attempts that resend an abandoned poll before the session is rebuilt without it
(and at least ``CashDevice.abandoned_poll_patience`` seconds of silence)."""

_NV4000_MODULES = (
    (CashDeviceModuleType.RECYCLER_1, "recycler1"),
    (CashDeviceModuleType.RECYCLER_2, "recycler2"),
    (CashDeviceModuleType.RECYCLER_3, "recycler3"),
    (CashDeviceModuleType.RECYCLER_4, "recycler4"),
    (CashDeviceModuleType.INTERFACE, "interface"),
)


class _PollNotRecovered(SSPError):
    """Another thread's command was not sent: the poll thread is still resending a poll whose
    reply may hold a credit, and any other command would SYNC that reply away."""


class SessionMethods(DeviceContract):
    """Exchanges, the start-up sequence, keys and protocol level, setup, unit information."""

    # ------------------------------------------------------------------------------ commands

    def _command(self, data: bytes, *, encrypt: bool | None = None, then: _Then | None = None) -> bytes:
        """One exchange; raises _SessionLost on KEY NOT SET or an eSSP error.  ``then`` is called
        with the reply (or the link's exception) while the link lock is still held: the poll
        thread handles no reply in between (a payout's transaction begins before its events)."""
        link = self._link
        if link is None:
            raise SSPPortError("the port is not open")
        if self._closers:
            self._check_open_given_up()
        for _ in range(2):
            if link.unsettled(self._address):  # (rarely: a transaction was abandoned, or eCOUNT is unknown)
                if self._would_resync_a_poll(link, data):
                    self._await_poll_recovery()
                    if link.abandoned_command(self._address) in _POLLS:
                        # only the poll thread gives an abandoned poll up (after its patience)
                        raise _PollNotRecovered(
                            "a poll whose reply may hold a credit is being recovered; not sent"
                        )
                if encrypt is not False and link.needs_new_key(self._address, data):
                    self._rekey()
            try:
                with link.lock:
                    if self._would_resync_a_poll(link, data):
                        # the poll thread gave a poll up while this thread waited for the link:
                        # its reply (a COIN CREDIT) waits in the unit's cache, which this
                        # command's SYNC would throw away; the poll thread resends it first
                        continue
                    if not self._handed_done.is_set() and threading.current_thread() is not self._thread:
                        self._await_handed(link.lock)
                    try:
                        reply = link.transact(self._address, data, encrypt=encrypt)
                    except SSPError as exc:
                        if then is not None:
                            then(None, exc)
                        raise
                    if then is not None:
                        then(reply, None)
            except LinkReplyUnreadableError as exc:
                raise _ReplyUnreadable(str(exc)) from exc
            except SSPEncryptionError as exc:
                raise _SessionLost(str(exc)) from exc
            except SSPPortError:
                self._port_read_error = True
                raise
            break
        else:
            raise _PollNotRecovered("a poll whose reply may hold a credit is being recovered; not sent")
        self._port_read_error = False
        if not reply:
            raise SSPReplyError("empty reply", -1)
        if reply[0] == Response.KEY_NOT_SET and data[0] not in (Command.SYNC,):
            self._device_reset = True
            self._error_transfer_due = False  # (a reset loses a C9 still queued)
            self._leave_escrow()  # a unit that reset holds no note in escrow
            raise _KeyNotSet("device answered KEY NOT SET")
        return reply

    def _would_resync_a_poll(self, link: SSPLink, data: bytes) -> bool:
        """This thread's command ``data`` would make the link SYNC away an abandoned poll (whose
        reply may hold a credit): only the poll thread may give one up."""
        if threading.current_thread() is self._thread:
            return False
        # (also with no poll thread running, after stopRunning: nothing would resend the poll
        # before the SYNC; the next poll thread's start-up resends it)
        abandoned = link.abandoned_command(self._address)
        return abandoned in _POLLS and abandoned != data[0]

    def _await_poll_recovery(self) -> None:
        """A poll was abandoned (its reply may hold a credit the device will not repeat) and another
        thread wants to send a command, which would make the link SYNC and lose that reply.  Let
        the poll thread resend the poll first, for at most one exchange deadline (if it has not
        by then, the command is not sent: :class:`_PollNotRecovered`)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return  # no poll thread to resend it: the command is not sent
        self._poll_recovered.clear()
        self._wake.set()
        self._poll_recovered.wait(self._exchange_deadline())

    def _await_handed(self, lock: threading.RLock) -> None:
        """A :class:`~cashdevice.PollGroup` handed the poll thread a poll reply with news that it
        has not taken up yet: its events go first, as behind the poll thread's own poll (which
        holds the link lock from the poll to the EVENT ACK).  Waits with ``lock`` (the link
        lock, held once) released, for at most one exchange deadline."""
        deadline = time.monotonic() + self._exchange_deadline()
        while not self._handed_done.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                self.log.warning("the poll thread has not taken up a poll reply in time; command sent")
                return
            lock.release()
            try:
                self._handed_done.wait(left)
            finally:
                lock.acquire()

    def _rekey(self) -> None:
        """A failed encrypted exchange left the device's eCOUNT unknown: negotiate a new key (the
        link sends SYNC first).  Cheap: three plain exchanges; the session stays up."""
        self.log.info("eSSP count unknown after a failed exchange; negotiating a new key")
        link = self._link
        assert link is not None
        with link.lock:
            link.negotiate_key(self._address, self._enc_key, limit=self._key_limit)

    def _ok(self, name: str, *args: Any) -> bytes:
        """Send the table row ``name`` (:meth:`_send`) and require ``F0``; returns the data after it."""
        reply = self._send(name, *args)
        if reply[0] != Response.OK:
            try:
                answer = Response(reply[0]).name
            except ValueError:
                answer = f"0x{reply[0]:02X}"
            code = self.commands.row(name).prefix[0]
            raise SSPReplyError(f"command 0x{code:02X} refused: {answer}", reply[0], reply)
        return reply[1:]

    def _best_effort(self, name: str) -> bool:
        """Send the table row ``name`` and require ``F0``; False (a DEBUG line) when it fails."""
        try:
            self._ok(name)
            return True
        except (SSPError, ValueError) as exc:
            self.log.debug("%s not acknowledged: %s", name, exc)
            return False

    # ------------------------------------------------------------------------------ session

    def _establish(self) -> None:
        """Run the start-up sequence of GA973 §6 / ssp-protocol.md §7.1 under the link lock."""
        link = self._link
        if link is None:
            raise SSPPortError("the port is not open")
        self._session_up = False
        # a payout the unit may have ended unreported (a reset) is settled from the levels after the
        # next polls; a customer's coin or note taken meanwhile would count in them as money that
        # did not leave.  Enabled once it ends (_reenable); until then no ENABLE goes, not even the
        # application's (EnableAcceptor from a CONNECTED receiver, startRunning: :meth:`_enable_now`)
        self._enable_after_settle = self._transaction in _SETTLED_FROM_LEVELS
        self._set_state(DeviceState.CONNECTING)
        with link.lock:
            if link.abandoned_command(self._address) in _POLLS and self._established_once:
                self._recover_abandoned_poll()
            link.set_key(self._address, None)
            self._encrypted = False
            last: Exception | None = None
            for _ in range(_SYNC_ATTEMPTS):
                self._check_open_given_up()
                try:
                    link.sync(self._address)
                    break
                except (SSPTimeoutError, SSPReplyError) as exc:
                    last = exc
            else:
                raise SSPTimeoutError(f"no answer to SYNC: {last}", self._address, _SYNC_ATTEMPTS)
            self._negotiate_key()
            if self._ack_owed:
                # events handled before the session was lost: clear them before any poll
                self._send_event_ack()
            self._negotiate_protocol()
            self._apply_setup(parse_setup_request(self._ok("SETUP_REQUEST")))
            if not self._established_once or not self._same_unit():
                if self._established_once:
                    self._last_end = None  # (another unit: an end it reports is not the last one's)
                self.GetUnitInfo()
            self._initial_configuration()
            self._session_up = True
            self._established_once = True
            self._update_modules(DeviceState.CONNECTED)
            self._set_state(DeviceState.CONNECTED)
            self._poll_once(startup=True)
            if self._device_reset:
                self._settle_after_reset()
            if self._acceptor_enabled:
                self._enable_now()
            else:
                self._best_effort("DISABLE")

    def _enable_now(self) -> bool:
        """ENABLE (:meth:`_best_effort`), unless a payout that a reconnect left open is still to be
        settled from the levels: then the unit is enabled once it ends (True: nothing to retry)."""
        if self._enable_after_settle and self._transaction in _SETTLED_FROM_LEVELS:
            self.log.info("ENABLE waits for the payout open at the reconnect to be settled")
            return True
        self._enable_after_settle = False
        return self._best_effort("ENABLE")

    def _recover_abandoned_poll(self) -> None:
        """Before SYNC throws it away, resend the poll whose replies were all lost: a device that
        is still running answers from its cache, with any credit in it.  A device that reset
        answers KEY NOT SET (the reply is gone; the session is rebuilt).  While it stays silent (a
        cable out, the unit off) the attempt is repeated on every reconnect; it is given up after
        :data:`_ABANDONED_POLL_TRIES` tries *and* ``abandoned_poll_patience`` seconds (only a unit
        that came back without answering at all, e.g. one that ignores encrypted packets after a
        reset instead of answering KEY NOT SET, waits that long to be reconnected)."""
        link = self._link
        assert link is not None
        try:
            self._poll_once(startup=True)
            self._abandoned_tries = 0
            return
        except _SessionLost:
            pass
        except LinkTimeoutError:
            now = time.monotonic()
            if self._abandoned_tries == 0:
                self._abandoned_since = now
            self._abandoned_tries += 1
            waited = now - self._abandoned_since
            if self._abandoned_tries < _ABANDONED_POLL_TRIES or waited < self.abandoned_poll_patience:
                raise
            tries = self._abandoned_tries
            self.log.warning("abandoned poll unanswered in %d reconnects, %.0f s; given up", tries, waited)
        self._abandoned_tries = 0
        link.forget_abandoned(self._address)
        self._poll_recovered.set()

    def _poll_kept(self) -> bool:
        """True while the link keeps a poll whose replies were all lost, to resend it byte for byte:
        the unit's cached reply may hold a credit it never repeats (a COIN CREDIT), which any other
        command's SYNC would throw away."""
        link = self._link
        return link is not None and link.abandoned_command(self._address) in _POLLS

    def _resend_kept_poll(self) -> None:
        """Close or stopRunning (no poll thread runs): resend the kept poll once (:meth:`_poll_kept`),
        so that a credit in the unit's cached reply is reported before the port closes and forgets
        the poll, or before the DISABLE that would otherwise be refused to keep it.  No HOLD goes
        instead (the poll itself must go); a failure is logged."""
        up, self._session_up = self._session_up, False
        try:
            self._poll_once(startup=True)
        except (SSPError, ValueError) as exc:
            self.log.warning("a poll whose reply may hold a credit got no answer when resent: %s", exc)
        finally:
            self._session_up = up

    def _same_unit(self) -> bool:
        """After a gap, re-read the serial number (GA138: a unit may have been swapped); the rest
        of the unit information is read again only for another unit."""
        try:
            serial = parse_serial_number(self._ok("GET_SERIAL_NUMBER"))
        except (SSPReplyError, ValueError) as exc:
            self.log.debug("serial number not read on reconnect: %s", exc)
            return False
        if serial != self._v["mainSerialNumber"]:
            self.log.warning("another unit answers (serial %s, was %s)", serial, self._v["mainSerialNumber"])
            return False
        return True

    def _negotiate_key(self, limit: int | None = None) -> None:
        link = self._link
        assert link is not None
        try:
            link.negotiate_key(self._address, self._enc_key, limit=limit or self._key_limit)
            self._encrypted = True
        except SSPReplyError as exc:
            if exc.code == Response.COMMAND_NOT_KNOWN and self._model_hint not in DISPENSERS:
                self.log.warning("device does not support eSSP; continuing unencrypted")
                self._encrypted = False
            else:
                raise

    def _negotiate_protocol(self) -> None:
        for version in range(MAX_PROTOCOL, 3, -1):
            reply = self._send("HOST_PROTOCOL_VERSION", version)
            if reply[0] == Response.OK:
                self._set(sspProtocolVersion=version)
                return
            if reply[0] not in (Response.FAIL, Response.PARAMETER_OUT_OF_RANGE):
                break
        raise SSPReplyError("no common protocol version (4..8)", -1)

    def _apply_setup(self, setup: SetupInfo) -> None:
        model = model_from_unit_type(setup.unit_type, self._model_hint)
        self._family = MODELS[model].family
        kind = CurrencyType.COIN if setup.is_coin_device else CurrencyType.BANKNOTE
        old = {(e.Value, e.CountryCode): e for e in self._v["currencyAssignment"]}
        entries = []
        for ch in setup.channels:
            prev = old.get((ch.value, ch.country))
            entry = CurrencyAssignmentEntry(kind, ValueCountryCode(ch.value, ch.country), Channel=ch.number)
            if prev is not None:  # a re-established session keeps what the host knew
                entry = replace(prev, Channel=ch.number)
            entries.append(entry)
        self._set(
            deviceModel=model,
            currencyAssignment=entries,
            isMultiCurrency=len(setup.currencies) > 1,
            sspProtocolVersion=setup.protocol_version,
        )
        self.log.info(
            "setup: unit type 0x%02X, model %s, protocol %d, %d channels %s",
            setup.unit_type,
            model.name,
            setup.protocol_version,
            len(entries),
            ", ".join(f"{e.Value} {e.CountryCode}" for e in entries),
        )

    def _initial_configuration(self) -> None:
        model = self._v["deviceModel"]
        # the host's wanted inhibits: a unit that reset has every note inhibited and every coin
        # accepted (GA973 §6.3.3), so each inhibited coin is sent; every coin when a request
        # went unanswered (the unit may not have reset, and may hold either state)
        self._send_inhibits(every_coin=self._inhibits_unconfirmed)
        if model in DISPENSERS:
            self._read_routes()
            self._read_levels()
        if model in PAYOUT_MODELS:
            self._assert_payout()
        # settings the application asked for: SET OPTIONS is volatile (GA973: "will not persist in
        # memory after a reset"); neither manual says whether a unit keeps its refill mode or its
        # cashbox payout limits over a reset, so they are set again too (a no-op on a unit that
        # kept them).  Each was stored only once the unit had accepted it.
        again: list[tuple[str, str, tuple[Any, ...]]] = []
        if self._hopper_options is not None and model in COIN_MODELS:
            again.append(("hopper options", "SET_OPTIONS", self._hopper_options))
        if self._cashbox_limits is not None:
            again.append(("cashbox payout limits", "SET_CASHBOX_PAYOUT_LIMIT", (self._cashbox_limits,)))
        if self._refill_mode is not None and model in PAYOUT_MODELS:
            again.append(("refill mode", "SET_REFILL_MODE", (1 if self._refill_mode else 0,)))
        # the others the unit accepted (:meth:`_set_again`): GA973 SET BAR CODE INHIBIT "When the
        # unit is started up or reset, the default is currency enabled, bar code disabled (0xFE)";
        # no manual says what a unit keeps of the rest (reader configuration, the SMART System's
        # payout limit, twin mode, sorter routes, no-payin count)
        again.extend(self._settings_again.values())
        for what, name, args in again:
            try:
                self._ok(name, *args)
            except (SSPReplyError, ValueError, UnverifiedCommandError) as exc:
                if name == "SET_TWIN_MODE":  # (refused for the mode already active: a unit that kept it)
                    self.log.info("%s not set again: %s", what, exc)
                else:
                    self.log.warning("%s not set again: %s", what, exc)

    def _assert_payout(self) -> None:
        """Bring the payout to the wanted state (``_payout_enabled``); ``_payout_confirmed`` says
        whether the device has answered it, and the poll thread resends it until it has (a refusal
        is an answer: it is logged, not resent every poll)."""
        command = "ENABLE_PAYOUT_DEVICE" if self._payout_enabled else "DISABLE_PAYOUT_DEVICE"
        try:
            if self._payout_enabled:
                self._ok(command, self._payout_option)  # (the option byte last asked for, if any)
            else:
                self._ok(command)
        except SSPReplyError as exc:  # an answer: the device refuses, resending will not change it
            if unit_busy(exc.data):
                self.log.debug("%s: the unit is busy; sent again later", command)
                self._payout_confirmed = False  # ... unless it is only busy (a payout runs)
                return
            self.log.warning("%s refused: %s", command, exc)
        except (SSPError, ValueError) as exc:  # no answer: the poll thread tries again
            self.log.debug("%s not acknowledged: %s", command, exc)
            self._payout_confirmed = False
            return
        self._payout_confirmed = True

    def _denomination_args(self, entry: CurrencyAssignmentEntry) -> tuple[int, str | None, int]:
        """The denomination arguments of the GET / SET DENOMINATION ROUTE and GET DENOMINATION
        LEVEL rows: (value, country from protocol 6, width of the value: 2 on a SMART Hopper
        below protocol 6, else 4)."""
        v6 = self._v["sspProtocolVersion"] >= 6
        if self._v["deviceModel"] == DeviceModel.SMART_HOPPER and not v6:
            return entry.Value, None, 2
        return entry.Value, entry.CountryCode if v6 else None, 4

    def _level_denomination(self, entry: CurrencyAssignmentEntry) -> tuple[int, str | None, int]:
        """The denomination arguments of the SET DENOMINATION LEVEL row: (value, country, 4)
        from protocol 6; (value, None, 2) before it, where the value is a u16 (ssp-protocol.md
        §4.3)."""
        if self._v["sspProtocolVersion"] >= 6:
            return entry.Value, entry.CountryCode, 4
        return entry.Value, None, 2

    def _read_routes(self) -> None:
        routes: dict[int, int] = {}
        for entry in self._v["currencyAssignment"]:
            try:
                data = self._ok("GET_DENOMINATION_ROUTE", *self._denomination_args(entry))
                if data:
                    routes[entry.Channel] = self.commands.row("GET_DENOMINATION_ROUTE").decode(data)
            except SSPReplyError as exc:
                self.log.debug("route of %d %s not read: %s", entry.Value, entry.CountryCode, exc)

        def apply(e: CurrencyAssignmentEntry) -> CurrencyAssignmentEntry:
            if e.Channel not in routes:
                return e
            # IsRecyclable is the denomination's capability, not its route: the seed shows
            # IsRecyclable true with AcceptRoute CASHBOX (L2338-L2340); a reported route = routable
            return replace(e, IsRecyclable=True, AcceptRoute=accept_route(routes[e.Channel]))

        self._update_entries(apply)

    def _read_levels(self) -> bool:
        """GET ALL LEVELS into ``currencyAssignment``, applied while the link is still held (the
        poll thread handles no reply between the unit's answer and its use: a STORED it polls
        later is counted on top of these levels, never overwritten by them)."""
        result: list[bool] = []

        def apply(reply: bytes | None, error: BaseException | None) -> None:
            if not reply or reply[0] != Response.OK:
                return
            try:
                levels = parse_all_levels(reply[1:])
            except ValueError as exc:
                self.log.warning("GET ALL LEVELS failed: %s", exc)
                return
            stored = {(lv.value, lv.country): lv.stored for lv in levels}
            ok = all((e.Value, e.CountryCode) in stored for e in self._v["currencyAssignment"])
            self._update_entries(
                lambda e: replace(e, Stored=stored.get((e.Value, e.CountryCode), e.Stored)),
                lastGetLevelsSuccessful=ok,
            )
            self._levels_reads += 1  # (a STORED polled next may already be in these levels)
            result.append(ok)

        reply = self._send("GET_ALL_LEVELS", then=apply)
        if not result:
            if reply[0] != Response.OK:
                self.log.warning("GET ALL LEVELS failed: device answered %s", response_name(reply))
            self._set(lastGetLevelsSuccessful=False)
            return False
        return result[0]

    def _update_modules(self, state: DeviceState) -> None:
        """NV4000: ``cashDeviceModules`` = the four recycler modules and the interface module,
        identified by GET SERIAL NUMBER sub-devices 0x11-0x15 (GA138-NV9); each state change fires
        DeviceModuleStateChangedEvent.  Other models have no modules (``None``, as the seed shows)."""
        if self._v["deviceModel"] != DeviceModel.NV4000:
            return
        old = {m.ModuleNumber: m for m in self._v["cashDeviceModules"] or ()}
        modules = []
        for number, (kind, name) in enumerate(_NV4000_MODULES, start=1):
            serial_valid = bool(self._v[f"{name}SerialNumberValid"])
            module_state = state if serial_valid or state == DeviceState.NOT_CONNECTED else DeviceState.ERROR
            modules.append(
                CashDeviceModule(
                    number, kind, self._v[f"{name}SerialNumber"], serial_valid, None, module_state
                )
            )
        self._set(cashDeviceModules=modules)
        for module in modules:
            previous = old.get(module.ModuleNumber)
            if previous is None or previous.State != module.State:
                self._fire(
                    self.DeviceModuleStateChangedEvent,
                    DeviceModuleStateChangedEventArgs(module.ModuleNumber, module.ModuleType, module.State),
                )

    def _apply_build_revisions(self, revisions: tuple[BuildRevision, ...]) -> None:
        main, rest = revisions[0], revisions[1:]
        values: dict[str, Any] = {"mainBuildRevisionString": main.text}
        for rev in rest:
            if rev.module_type in (0x06, 0x07):
                values["payoutModuleRevisionString"] = rev.text
            elif rev.module_type == 0x09:
                values["coinFeederBuildRevisionString"] = rev.text
        last = revisions[-1]
        values.update(
            buildRevisionString=last.text,
            majorBuildRevision=last.revision // 100,
            minorBuildRevision=last.revision % 100,
        )
        self._set(**values)

    def _session_ready(self, wait: float = 0.0) -> bool:
        """True while the session is up; ``wait`` seconds for the poll thread to re-establish it
        (a method called while the line recovers waits instead of failing at once)."""
        if wait > 0 and not self._session_up and self.isRunning and self._v["isOpen"]:
            self._session_event.wait(wait)
        return self._session_up and self._link is not None and self._link.is_open

    def _exchange_deadline(self) -> float:
        link = self._link
        if link is not None:
            return link.transaction_deadline
        return self.deadline if self.deadline is not None else self.timeout * (self.retries + 1)
