"""What the private mixins of ``CashDevice`` share: its state, each other's methods, one command path.

``CashDevice`` (:mod:`cashdevice.cash_device`, the C# façade) is one public class assembled from
private mixins, each a room of its own:

* :class:`~cashdevice._session.SessionMethods`: exchanges, the start-up sequence, keys, setup;
* :class:`~cashdevice._poller.PollerMethods`: the poll loop and the event interpreter;
* :class:`~cashdevice._notes.NoteMethods`, :class:`~cashdevice._payouts.PayoutMethods`,
  :class:`~cashdevice._coins.CoinMethods`: the C# methods by device part.

They all derive from :class:`DeviceContract`, which declares once the instance state they read
and write (set in ``CashDevice.__init__``) and, for the type checker only, the methods one room
calls in another.  It also holds the one command path every mixin uses: a table row of
:mod:`cashdevice.commands` encodes the request (:meth:`DeviceContract._send`), and
:meth:`~DeviceContract._try`, :meth:`~DeviceContract._simple` and :meth:`~DeviceContract._call`
turn failures into one log line.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional

from .commands import CommandTable, UnverifiedCommandError
from .enums import DenominationRoute
from .ssp import Command, Response, SSPError

if TYPE_CHECKING:
    from . import events as ev
    from ._poller import Wake, _Pending
    from ._signals import DeviceEvent
    from .enums import (
        CashEventType,
        DeviceError,
        DeviceModel,
        DeviceState,
        DispenserTransactionType,
        DispenseTransactionRequestResult,
    )
    from .link import SSPLink
    from .records import CurrencyAssignmentEntry, DispenserTransactionEventResponse, ValueCountryCode

    # Optional: an alias is an expression, not an annotation, and X | None is 3.10+ there
    _Then = Callable[[Optional[bytes], Optional[BaseException]], None]
    """What ``_command`` calls under the link lock: (reply, None), or (None, the link's error)."""


class DeviceContract:
    """The state and methods ``CashDevice``'s mixins use from one another (see the module docstring)."""

    # ---- state, set in CashDevice.__init__
    log: logging.Logger
    commands: CommandTable
    timeout: float
    retries: int
    deadline: float | None
    reconnect_interval: float
    poll_interval: float
    moving_poll_interval: float
    _v: dict[str, Any]
    _link: SSPLink | None
    _address: int
    _enc_key: int
    _model_hint: DeviceModel
    _key_limit: int
    _log_raw: bool
    _thread: threading.Thread | None
    _state_lock: threading.RLock
    _generation: int
    _closers: int
    _stop: threading.Event
    _wake: Wake
    _session_event: threading.Event
    _up: bool
    _poll_recovered: threading.Event
    _abandoned_tries: int
    _abandoned_since: float
    abandoned_poll_patience: float
    _next_due: float
    _moving: bool
    _moving_repeats: int
    _moved_at_once: bool
    _long_step: bool
    _step_view: tuple[DeviceState, DeviceError]
    _poll_busy: threading.Lock
    _last_reply: bytes
    _lent: bool
    _lend_ticket: int
    _handed_back: bool
    _handed: tuple[Command, bytes] | None
    _handed_done: threading.Event
    _disabled_polls: int
    _encrypted: bool
    _poll_data: dict[bool, bytes]
    _family: ev.DeviceFamily
    _poll_with_ack: bool
    _ack_owed: bool
    _unacked: list[ev.Event]
    _undecodable: tuple[ev.Event | None, int]
    _device_reset: bool
    _established_once: bool
    _pending: _Pending | None
    _reset_polls: int
    _fraud_note: tuple[int, str] | None
    _escrow_channel: int
    _ticket_in_escrow: bool
    _rejecting_channel: int
    _hold: bool
    _escrow_decisions: int
    _bezel_reported: bool
    _error_transfer_due: bool
    _dispensing_reported: dict[str, int]
    _last_end: ev.Amount | None
    _callers: threading.local
    _transactions_opened: int
    _previous_events: list[ev.Event]
    _transaction: DispenserTransactionType | None
    _transaction_amount: ev.Amount
    _transaction_levels: dict[tuple[int, str], int]
    _transaction_stored: int
    _transaction_reported: int
    _transaction_cleared: int
    _transaction_returned: int
    _after_cut: int
    _transaction_events: collections.deque[tuple[DispenserTransactionEventResponse, float]]
    _delivering_transaction_events: bool
    _job_requester: int | None
    _levels_reads: int
    _levels_mark: int
    _transaction_unconfirmed: bool
    _quiet_polls: int
    _replenish_left: int
    _reenable: bool
    _enable_after_settle: bool
    _port_read_error: bool
    _auto_accept: bool
    _acceptor_enabled: bool
    _payout_enabled: bool
    _payout_confirmed: bool
    _inhibits_unconfirmed: bool
    _routes_unknown: bool
    _payout_option: int | None
    _hopper_options: tuple[int, int] | None
    _refill_mode: bool | None
    _cashbox_limits: list[tuple[int, int, str]] | None
    _settings_again: dict[tuple[Any, ...], tuple[str, str, tuple[Any, ...]]]
    _disabled_by_stop: bool

    if TYPE_CHECKING:
        # ---- C# events (EventSlots of CashDevice)
        DeviceStateChangedEvent: DeviceEvent
        DeviceModuleStateChangedEvent: DeviceEvent
        CashEvent: DeviceEvent
        ReplenishEvent: DeviceEvent
        DispenserTransactionEvent: DeviceEvent
        SetDenominationRouteFinishedEvent: DeviceEvent

        # ---- the façade (cash_device)
        @property
        def isRunning(self) -> bool: ...
        @property
        def _session_up(self) -> bool: ...
        @_session_up.setter
        def _session_up(self, up: bool) -> None: ...
        def _set(self, **values: Any) -> None: ...
        def _update_entries(
            self, change: Callable[[CurrencyAssignmentEntry], CurrencyAssignmentEntry], **values: Any
        ) -> None: ...
        def _fire(self, signal: DeviceEvent, args: Any) -> None: ...
        def _set_state(self, state: DeviceState) -> None: ...
        def _cash(self, kind: CashEventType, value: int = 0, country: str = "", value2: int = 0) -> None: ...
        def GetUnitInfo(self) -> bool: ...

        # ---- the session (_session)
        def _command(
            self, data: bytes, *, encrypt: bool | None = None, then: _Then | None = None
        ) -> bytes: ...
        def _ok(self, name: str, *args: Any) -> bytes: ...
        def _best_effort(self, name: str) -> bool: ...
        def _establish(self) -> None: ...
        def _negotiate_key(self, limit: int | None = None) -> None: ...
        def _assert_payout(self) -> None: ...
        def _read_levels(self) -> bool: ...
        def _update_modules(self, state: DeviceState) -> None: ...
        def _enable_now(self) -> bool: ...
        def _denomination_args(self, entry: CurrencyAssignmentEntry) -> tuple[int, str | None, int]: ...
        def _level_denomination(self, entry: CurrencyAssignmentEntry) -> tuple[int, str | None, int]: ...
        def _session_ready(self, wait: float = 0.0) -> bool: ...
        def _exchange_deadline(self) -> float: ...
        def _check_open_given_up(self) -> None: ...
        def _send_inhibits(self, *, every_coin: bool = True) -> None: ...
        def _leave_escrow(self) -> None: ...
        def _read_routes(self) -> None: ...

        # ---- the poller (_poller)
        def _poll_once(self, startup: bool = False) -> None: ...
        def _send_event_ack(self) -> None: ...
        def _send_event_ack_quietly(self) -> None: ...
        def _settle_after_reset(self) -> None: ...
        def _flush_pending(self) -> None: ...
        def _begin_transaction(
            self, kind: DispenserTransactionType, value: int, country: str, *, unconfirmed: bool = False
        ) -> None: ...
        def _open_transaction(
            self, kind: DispenserTransactionType, value: int, country: str, *, unconfirmed: bool = False
        ) -> None: ...
        def _announce_transaction(self) -> None: ...

        # ---- note methods (_notes)
        @property
        def _model(self) -> DeviceModel: ...
        @property
        def _entries(self) -> list[CurrencyAssignmentEntry]: ...
        def _entry(self, vcc: ValueCountryCode | None) -> CurrencyAssignmentEntry | None: ...
        def _single_currency(self) -> str | None: ...
        def _apply_inhibits(self, channels: set[int], *, inhibit: bool) -> bool: ...

        # ---- payout methods (_payouts)
        def _cashbox_moved(self, value: int, country: str, count: int) -> None: ...
        def _read_cashbox_operation(self) -> None: ...
        def _payout_checks(
            self, what: str, row: str | None = None
        ) -> DispenseTransactionRequestResult | None: ...
        def _payout_result(self, what: str, reply: bytes | None) -> DispenseTransactionRequestResult: ...
        def _payout_fail(
            self, result: DispenseTransactionRequestResult, what: str, why: str
        ) -> DispenseTransactionRequestResult: ...

    # ------------------------------------------------------------------------------ one command path

    def _send(self, name: str, *args: Any, then: _Then | None = None) -> bytes:
        """Encode ``args`` with the table row ``name`` and exchange it; returns the whole reply.
        Raises :class:`UnverifiedCommandError` for a refused row, ``ValueError`` below the row's
        protocol level or for arguments its encoder rejects, :class:`SSPError` from the link.
        ``then``: see :meth:`~cashdevice._session.SessionMethods._command`."""
        spec = self.commands.get(name)
        if spec.min_protocol and self._v["sspProtocolVersion"] < spec.min_protocol:
            raise ValueError(f"{name} needs protocol {spec.min_protocol}")
        data = spec.encode(*args)
        return self._command(data) if then is None else self._command(data, then=then)

    def _try(self, what: str, name: str, *args: Any) -> bytes | None:
        """:meth:`_send`; None (and a log line) when the command cannot be sent or gets no answer."""
        try:
            return self._send(name, *args)
        except UnverifiedCommandError as exc:
            self.log.error("%s: %s", what, exc)
        except (SSPError, ValueError, OverflowError) as exc:
            self.log.error("%s: %s", what, exc)
        return None

    def _simple(self, what: str, name: str, *args: Any) -> bool:
        """:meth:`_try` and require ``F0``; a refusal is logged and kept in
        ``commandFailedDetailsString``."""
        reply = self._try(what, name, *args)
        return reply is not None and not self._refused(what, reply)

    def _refused(self, what: str, reply: bytes) -> bool:
        """True (logged, kept in ``commandFailedDetailsString``) unless ``reply`` is ``F0``."""
        if reply[0] == Response.OK:
            return False
        self.log.warning("%s: device answered %s", what, response_name(reply))
        self._set(commandFailedDetailsString=f"{what}: device answered {response_name(reply)}")
        return True

    def _call(self, what: str, name: str, *args: Any) -> Any:
        """:meth:`_try`, require ``F0`` and decode the reply with the row.  Returns the decoded
        value, or None (one log line) when the row is refused, the device does not answer,
        answers other than ``F0`` or the reply is too short."""
        reply = self._try(what, name, *args)
        if reply is None:
            return None
        if reply[0] != Response.OK:
            self.log.warning("%s: device answered %s", what, response_name(reply))
            return None
        try:
            return self.commands.row(name).decode(reply[1:])
        except ValueError as exc:
            self.log.error("%s: %s", what, exc)
            return None

    def _decoded(self, name: str, reply: bytes | None) -> Any:
        """The row ``name``'s decoding of ``reply`` when it is ``F0`` and long enough; None
        otherwise, quietly (the caller decides what a missing value means)."""
        if reply is None or reply[0] != Response.OK:
            return None
        try:
            return self.commands.row(name).decode(reply[1:])
        except ValueError:
            return None

    def _call_ok(self, what: str, name: str, *args: Any) -> bool:
        """:meth:`_call` succeeded."""
        return self._call(what, name, *args) is not None

    def _set_again(self, key: tuple[Any, ...], what: str, name: str, *args: Any) -> None:
        """The unit accepted the setting ``name(*args)``: it is sent again after every reconnect
        (a unit that reset may be back at its default; a no-op on one that kept it).  ``key``
        names the setting: a later value replaces it."""
        self._settings_again[key] = (what, name, args)

    def _set_again_raw(self, data: bytes) -> None:
        """SendCustomCommand sent ``data`` and the unit took it.  When ``data`` is a setting that
        :meth:`_set_again` keeps (the application set it by its method before), its value replaces
        the kept one: a reconnect must not undo what the application did last."""
        for key, (what, name, _) in list(self._settings_again.items()):
            row = self.commands.row(name)
            if not row.matches(data):
                continue
            try:
                args = row.decode_request(data)
            except ValueError:  # (not the row's layout: the kept value is the application's no more)
                del self._settings_again[key]
                continue
            if (name, *args[: len(key) - 1]) == key:  # (the same setting: e.g. the same coin's route)
                self._settings_again[key] = (what, name, tuple(args))


class _SessionLost(SSPError):
    """The device no longer answers in our session (KEY NOT SET, reset, eCOUNT error)."""


class _ReplyUnreadable(_SessionLost):
    """The device answered, but its reply did not decrypt or carried the wrong eCOUNT, twice
    (:class:`~cashdevice.link.LinkReplyUnreadableError`): it has the command and may have run it."""


class _KeyNotSet(_SessionLost):
    """The device answered KEY NOT SET: it reset since the session began.  If the command was a
    retransmission (its first reply lost), the device may have run it before the reset."""


def unit_busy(reply: bytes) -> bool:
    """COMMAND CANNOT BE PROCESSED with error 3, "Device busy" (a payout runs): a refusal that a
    later try may not get, so a wanted state refused this way is sent again."""
    return reply[:2] == b"\xf5\x03"


def response_name(reply: bytes) -> str:
    """``COMMAND_CANNOT_BE_PROCESSED 03``: a reply's generic code by name, then its data in hex."""
    try:
        name = Response(reply[0]).name
    except ValueError:
        name = f"0x{reply[0]:02X}"
    return name + (f" {reply[1:].hex(' ')}" if len(reply) > 1 else "")


def is_uint(value: object, limit: int = 0xFFFFFFFF) -> bool:
    """``value`` is an int (not a bool) in ``0..limit``."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= limit


def accept_route(route_byte: int) -> DenominationRoute:
    """The route a device reports: 0 payout (recycler), 1 cashbox; NV4000 2-6 (unverified, ours)."""
    if route_byte == 1:
        return DenominationRoute.CASHBOX
    if 2 <= route_byte <= 6:
        return DenominationRoute(route_byte)
    return DenominationRoute.PAYOUT
