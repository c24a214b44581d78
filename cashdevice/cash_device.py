"""``CashDevice``: ITL's C#.NET cash-device class, method for method, over :class:`~cashdevice.link.SSPLink`.

C# ``cashDevice.CashEvent += OnCash`` works as written (or ``device.CashEvent.connect(on_cash)``),
with ``def on_cash(sender, args)`` or any other parameter names; every C# event is a
per-instance blinker signal of the same name (:mod:`cashdevice._signals`), sent as
``signal.send(device, e=args)``.  Receivers are held strongly (like C# ``+=``); pass
``weak=True`` to ``connect`` for blinker's weak references.

Lifecycle semantics chosen for this port (seed L11559-L11725; seed-digest §9):

* ``Open(...)`` opens the port, establishes the session (SYNC, eSSP key exchange, the highest
  common protocol version <= 8, SETUP REQUEST, unit information, initial inhibits, routes
  and levels, ENABLE PAYOUT DEVICE, one POLL, ENABLE) and starts the poll thread.  It
  returns ``OK``; ``ALREADY_OPEN`` if this instance is open; ``PORT_ERROR`` if the port
  cannot be opened or the device does not complete the session (the port is closed again).
* ``Connect()`` re-establishes the session if it is not up; ``startRunning()`` starts the
  poll thread if it is not running (and re-enables an acceptor that ``stopRunning`` disabled).
  Both are harmless no-ops when the step already happened, so ``Open`` -> ``Connect`` ->
  ``startRunning`` (the C# sequence) and ``Open`` alone behave the same.
* ``stopRunning()`` stops the poll thread and sends DISABLE so no note is taken while nobody
  polls; the port stays open.  ``Close()`` and ``Disconnect()`` stop the thread, send DISABLE,
  close the port and set ``NOT_CONNECTED``; both are idempotent and safe after a failed Open.

The poll thread polls every ``poll_interval`` seconds (default 0.2 s) with POLL WITH ACK,
falling back to POLL on ``F2``; it never dies: a lost link, a SLAVE RESET or KEY NOT SET
re-establishes the session (reopening the port after an unplug) until ``stopRunning`` /
``Close``.  Credits are reported exactly once: acknowledged events that reappear after a
failed EVENT ACK are not reported again, and a note credit still pending when the session is
lost is reported before anything else.
"""

from __future__ import annotations

import collections
import gc
import logging
import threading
import time
import warnings
import weakref
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable

from . import _html
from . import events as ev
from ._coins import CoinMethods
from ._device_log import attach_log_file
from ._guard import FLAG, PATH, TEXT, U64, csharp, enum_of, fresh, optional, uint
from ._notes import NoteMethods, _accept_route
from ._port_claims import PORT_CLAIMS
from ._signals import DeviceEvent, EventSlot, deliver
from ._variable_properties import VariableProperties
from .commands import CommandTable
from .enums import (
    CashDeviceModuleType,
    CashEventType,
    CashSystemOpenResult,
    CurrencyType,
    DeviceError,
    DeviceModel,
    DeviceState,
    DispenserTransactionState,
    DispenserTransactionType,
    DownloadState,
    ReplenishEventType,
)
from .link import LinkTimeoutError, SSPLink
from .models import COIN_MODELS, DISPENSERS, MODELS, PAYOUT_MODELS, model_from_unit_type
from .records import (
    CashDeviceModule,
    CashEventResponse,
    CurrencyAssignmentEntry,
    DeviceModuleStateChangedEventArgs,
    DeviceStatusResponse,
    DispenserTransactionEventResponse,
    DownloadBlockEventArgs,
    DownloadStateEventArgs,
    ReplenishEventResponse,
    ValueCountryCode,
)
from .replies import (
    BuildRevision,
    SetupInfo,
    parse_all_levels,
    parse_build_revisions,
    parse_serial_number,
    parse_setup_request,
)
from .ssp import (
    DEFAULT_FIXED_KEY,
    KEY_LIMIT,
    Command,
    PollEvent,
    Response,
    SSPEncryptionError,
    SSPError,
    SSPPortError,
    SSPReplyError,
    SSPTimeoutError,
)
from .variables import default_values, to_json

if TYPE_CHECKING:
    from .download import DownloadTiming, FirmwareDownload

__all__ = ["CashDevice", "DeviceEvent"]

EventArgs = Any
"""The payload of a device event: one of the response classes of :mod:`cashdevice.records`."""

MAX_PROTOCOL = 8
_SYNC_ATTEMPTS = 3
_STATUS_QUEUE_LIMIT = 10_000

# State-bearing poll events (the DeviceState a poll reply containing them puts the device in).
P = PollEvent
_LIFTER = ev.UNPUBLISHED_EVENTS["LIFTER_EVENT"]
_REPLENISH_EVENT: dict[int, ReplenishEventType] = {
    ev.UNPUBLISHED_EVENTS[t.name]: t for t in ReplenishEventType
}
_REPLENISH_MOVED = frozenset(
    {ev.UNPUBLISHED_EVENTS["REPLENISH_STORED"], ev.UNPUBLISHED_EVENTS["REPLENISH_SENT_TO_RC_TRAY"]}
)
_EVENT_STATE: dict[int, DeviceState] = {
    _LIFTER: DeviceState.LIFTER_EVENT,
    ev.UNPUBLISHED_EVENTS["REPLENISH_STORED"]: DeviceState.REPLENISHING,
    ev.UNPUBLISHED_EVENTS["REPLENISH_SENT_TO_RC_TRAY"]: DeviceState.REPLENISHING,
    ev.UNPUBLISHED_EVENTS["PURGING"]: DeviceState.PURGING,
    ev.UNPUBLISHED_EVENTS["PURGED"]: DeviceState.PURGED,
    P.SLAVE_RESET: DeviceState.RESET,
    P.READ: DeviceState.ACCEPTING,
    P.STACKING: DeviceState.ACCEPTING,
    P.CREDIT: DeviceState.ACCEPTING,
    P.REJECTING: DeviceState.REJECTING,
    P.REJECTED: DeviceState.REJECTED,
    P.SAFE_JAM: DeviceState.ERROR,
    P.UNSAFE_JAM: DeviceState.ERROR,
    P.STACKER_FULL: DeviceState.DEVICE_FULL,
    P.DEVICE_FULL: DeviceState.DEVICE_FULL,
    P.FRAUD_ATTEMPT: DeviceState.FRAUD_ATTEMPT,
    P.CASHBOX_REMOVED: DeviceState.CASHBOX_REMOVED,
    P.CASHBOX_REPLACED: DeviceState.CASHBOX_REPLACED,
    P.NOTE_PATH_OPEN: DeviceState.NOTE_PATH_OPEN,
    P.CHANNEL_DISABLE: DeviceState.CHANNEL_DISABLE,
    P.INITIALISING: DeviceState.INITIALISING,
    P.DISPENSING: DeviceState.DISPENSING,
    P.DISPENSED: DeviceState.DISPENSING,
    P.NOTE_HELD_IN_BEZEL: DeviceState.NOTE_HELD_IN_BEZEL,
    P.FLOATING: DeviceState.FLOATING,
    P.FLOATED: DeviceState.FLOATING,
    P.EMPTYING: DeviceState.EMPTYING,
    P.EMPTIED: DeviceState.EMPTYING,
    P.SMART_EMPTYING: DeviceState.EMPTYING,
    P.SMART_EMPTIED: DeviceState.EMPTYING,
    P.JAMMED: DeviceState.ERROR,
    P.JAM_RECOVERY: DeviceState.JAM_RECOVERY,
    P.PAY_IN_ACTIVE: DeviceState.PAY_IN_ACTIVE,
    P.COIN_MECH_JAMMED: DeviceState.COIN_MECH_JAMMED,
    P.COIN_MECH_ERROR: DeviceState.ERROR,
    P.COIN_REJECTED: DeviceState.REJECTED,
    P.ATTACHED_COIN_MECH_ENABLED: DeviceState.COIN_MECH_ENABLED,
    P.ATTACHED_COIN_MECH_DISABLED: DeviceState.COIN_MECH_DISABLED,
    P.MAINTENANCE_REQUIRED: DeviceState.MAINTENANCE_REQUIRED,
    P.CALIBRATION_FAILED: DeviceState.CALIBRATION_FAILED,
    P.BARCODE_TICKET_VALIDATED: DeviceState.BAR_CODE_TICKET_VALIDATED,
    P.BARCODE_TICKET_ACK: DeviceState.BAR_CODE_TICKET_ACKNOWLEDGE,
    P.NOTE_FLOAT_REMOVED: DeviceState.NOTE_FLOAT_REMOVED,
    P.NOTE_FLOAT_ATTACHED: DeviceState.NOTE_FLOAT_ATTACHED,
}
# Poll events that are themselves a CashEvent carrying the event's amounts.
_AMOUNT_CASH_EVENT: dict[int, CashEventType] = {
    P.DISPENSING: CashEventType.DISPENSING,
    P.DISPENSED: CashEventType.DISPENSED,
    P.HALTED: CashEventType.HALTED,
    P.JAMMED: CashEventType.JAMMED,
    P.TIMEOUT: CashEventType.TIME_OUT,
    P.INCOMPLETE_PAYOUT: CashEventType.INCOMPLETE_PAYOUT,
    P.INCOMPLETE_FLOAT: CashEventType.INCOMPLETE_FLOAT,
    P.COIN_CREDIT: CashEventType.COIN_CREDIT,
    P.VALUE_ADDED: CashEventType.VALUE_ADDED,
    P.COIN_REJECTED: CashEventType.REJECTED,
    P.ERROR_DURING_PAYOUT: CashEventType.ERROR_DURING_PAYOUT,
    P.NOTE_TRANSFERRED_TO_STACKER: CashEventType.MOVED_TO_CASHBOX,
    P.NOTE_INTO_STACKER_AT_RESET: CashEventType.NOTE_CLEARED_TO_CASHBOX,
    P.NOTE_INTO_STORE_AT_RESET: CashEventType.STORED,
    P.NOTE_DISPENSED_AT_RESET: CashEventType.DISPENSED,
}
# StoredInCashbox: events that put one note in the cashbox; operations that report theirs (0x53).
_ONE_NOTE_TO_CASHBOX = frozenset(
    {P.NOTE_TRANSFERRED_TO_STACKER, P.NOTE_CLEARED_INTO_CASHBOX, P.NOTE_INTO_STACKER_AT_RESET}
)
_CASHBOX_OPERATION_DONE = frozenset({P.FLOATED, P.EMPTIED, P.SMART_EMPTIED})
# Dispenser transactions: progress and terminal events, with the transaction type.
_TRANSACTION_PROGRESS: dict[int, DispenserTransactionType] = {
    P.DISPENSING: DispenserTransactionType.PAYOUT,
    P.FLOATING: DispenserTransactionType.FLOAT,
    P.EMPTYING: DispenserTransactionType.EMPTY,
    P.SMART_EMPTYING: DispenserTransactionType.EMPTY,
}
_TRANSACTION_DONE: dict[int, DispenserTransactionType] = {
    P.DISPENSED: DispenserTransactionType.PAYOUT,
    P.FLOATED: DispenserTransactionType.FLOAT,
    P.EMPTIED: DispenserTransactionType.EMPTY,
    P.SMART_EMPTIED: DispenserTransactionType.EMPTY,
}
_TRANSACTION_FAILED = frozenset(
    {P.HALTED, P.JAMMED, P.TIMEOUT, P.ERROR_DURING_PAYOUT, P.INCOMPLETE_PAYOUT, P.INCOMPLETE_FLOAT}
)
# Poll events that show a dispenser transaction still running (or just ended).
_TRANSACTION_SIGNS = (
    frozenset(_TRANSACTION_PROGRESS)
    | frozenset(_TRANSACTION_DONE)
    | _TRANSACTION_FAILED
    | {P.NOTE_HELD_IN_BEZEL, P.CASHBOX_PAID, P.NOTE_TRANSFERRED_TO_STACKER}
)
# Poll events that show money moving: the next poll goes at once (a credit takes several polls).
_MOVING = frozenset(
    {
        P.READ,
        P.STACKING,
        P.REJECTING,
        P.CREDIT,
        P.DISPENSING,
        P.FLOATING,
        P.EMPTYING,
        P.SMART_EMPTYING,
        P.COIN_CREDIT,
        P.VALUE_ADDED,
    }
)
_POLLS = frozenset({Command.POLL, Command.POLL_WITH_ACK, Command.EVENT_ACK})
_ABANDONED_POLL_TRIES = 5
"""Reconnect attempts that resend an abandoned poll before the session is rebuilt without it."""
_PLAIN_ALWAYS = frozenset(
    {Command.SYNC, Command.SET_GENERATOR, Command.SET_MODULUS, Command.REQUEST_KEY_EXCHANGE}
)
# Start-up events about a note the device moved while it powered up.
_AT_RESET_TO_STORE = frozenset({P.NOTE_INTO_STORE_AT_RESET})
_AT_RESET_TO_CASHBOX = frozenset({P.NOTE_INTO_STACKER_AT_RESET, P.NOTE_CLEARED_INTO_CASHBOX})
_EVENT_ERROR: dict[int, DeviceError] = {
    P.SAFE_JAM: DeviceError.SAFE_JAM,
    P.UNSAFE_JAM: DeviceError.UNSAFE_JAM,
    P.STACKER_FULL: DeviceError.STACKER_FULL,
    P.JAMMED: DeviceError.JAMMED,
    P.ERROR_DURING_PAYOUT: DeviceError.ERROR_DURING_PAYOUT,
    P.PAYOUT_OUT_OF_SERVICE: DeviceError.PAYOUT_OUT_OF_SERVICE,
    P.CASHBOX_OUT_OF_SERVICE: DeviceError.CASHBOX_OUT_OF_SERVICE,
    P.CALIBRATION_FAILED: DeviceError.CALIBRATION_FAILED,
    P.COIN_MECH_ERROR: DeviceError.COIN_MECH_ERROR,
    P.COIN_MECH_JAMMED: DeviceError.COIN_MECH_JAMMED,
    P.MAINTENANCE_REQUIRED: DeviceError.MAINTENANCE_REQUIRED,
}
_ERROR_DURING_PAYOUT_TEXT = {
    0: "Note not correctly detected as it is routed",
    1: "Note jammed in transport",
    2: "Cashbox error",
    3: "Payout stalled",
    4: "Payout cancelled by poll timeout",
}
_NV4000_MODULES = (
    (CashDeviceModuleType.RECYCLER_1, "recycler1"),
    (CashDeviceModuleType.RECYCLER_2, "recycler2"),
    (CashDeviceModuleType.RECYCLER_3, "recycler3"),
    (CashDeviceModuleType.RECYCLER_4, "recycler4"),
    (CashDeviceModuleType.INTERFACE, "interface"),
)
_STARTUP_READY = frozenset({DeviceState.CONNECTED, DeviceState.STOPPED})
_LIMP_STATES = frozenset(
    {
        DeviceState.CASHBOX_REMOVED,
        DeviceState.DEVICE_FULL,
        DeviceState.JAM_RECOVERY,
        DeviceState.NOTE_PATH_OPEN,
        DeviceState.CHANNEL_DISABLE,
        DeviceState.COIN_MECH_JAMMED,
        DeviceState.COIN_MECH_DISABLED,
        DeviceState.MAINTENANCE_REQUIRED,
        DeviceState.CALIBRATION_FAILED,
        DeviceState.NOTE_FLOAT_REMOVED,
    }
)
_LIMP_ERRORS = frozenset(
    {
        DeviceError.STACKER_FULL,
        DeviceError.PAYOUT_OUT_OF_SERVICE,
        DeviceError.CASHBOX_OUT_OF_SERVICE,
        DeviceError.COIN_MECH_ERROR,
        DeviceError.COIN_MECH_JAMMED,
        DeviceError.MAINTENANCE_REQUIRED,
        DeviceError.CALIBRATION_FAILED,
    }
)


class _SessionLost(SSPError):
    """The device no longer answers in our session (KEY NOT SET, reset, eCOUNT error)."""


@dataclass
class _Pending:
    """A note credit seen (CREDIT) but not yet reported as STACKED/STORED.  ``stored_before`` is
    the host's level of the denomination at the credit: if the device resets before it reports
    where the note went, the level read after the reset tells."""

    value: int
    country: str
    stored_before: int | None = None


_QUIET_POLLS_TO_RESOLVE = 2
"""Polls in a row that show no sign of a running dispenser transaction before the host settles it
from the device's levels (its end event was lost, e.g. to a power cut)."""


class CashDevice(CoinMethods, NoteMethods, VariableProperties):
    """One ITL cash device (C# ``CashDevice``).  See the module docstring for the lifecycle.

    ``poll_interval`` (seconds between polls while nothing moves), ``moving_poll_interval`` (seconds
    between polls while a note or coin moves or a payout runs: each step of a credit needs a poll, so
    the next one goes at once), ``timeout`` / ``retries`` / ``deadline`` (per SSP exchange: the
    longest wait for one reply, the fewest retransmissions, and the time a transaction keeps
    retransmitting, default ``timeout * (retries + 1)``),
    ``auto_accept`` (accept notes from escrow without asking; C# REST ``SetAutoAccept``) and
    ``allow_unverified`` (send the emulator's codes for commands ITL never published, see
    :mod:`cashdevice.commands`) are Python-side options; everything else has the C# names.
    """

    # C# events (seed L11457-L11476): per-instance blinker signals; ``+=`` / ``-=`` / ``connect``.
    DeviceStateChangedEvent = EventSlot("C# event: the device state changed; args DeviceStatusResponse.")
    DeviceModuleStateChangedEvent = EventSlot(
        "C# event: a module's state changed (NV4000); args DeviceModuleStateChangedEventArgs."
    )
    CashEvent = EventSlot("C# event: during cash operations; args CashEventResponse.")
    ReplenishEvent = EventSlot("C# event: during a replenish operation; args ReplenishEventResponse.")
    DispenserTransactionEvent = EventSlot(
        "C# event: during a dispenser transaction; args DispenserTransactionEventResponse."
    )
    DownloadStateEvent = EventSlot("C# event: the download state changed; args DownloadStateEventArgs.")
    DownloadBlockEvent = EventSlot("C# event: a download block was sent; args DownloadBlockEventArgs.")
    SetDenominationRouteFinishedEvent = EventSlot(
        "C# event: a SetDenominationRoute finished; args SetDenominationRouteFinishedEventResponse."
    )

    def __init__(
        self,
        *,
        poll_interval: float = 0.2,
        timeout: float = 1.0,
        retries: int = 3,
        auto_accept: bool = True,
        reconnect_interval: float = 1.0,
        allow_unverified: bool = False,
        moving_poll_interval: float = 0.02,
        deadline: float | None = None,
    ) -> None:
        self.commands = CommandTable(allow_unverified=allow_unverified)
        """This device's command table (:mod:`cashdevice.commands`); override rows here."""
        self.poll_interval = poll_interval
        self.moving_poll_interval = moving_poll_interval
        self.deadline = deadline
        self._moving = False
        self._disabled_polls = 0
        self.timeout = timeout
        self.retries = retries
        self.reconnect_interval = reconnect_interval
        self._v: dict[str, Any] = default_values()
        self._state_lock = threading.RLock()
        self._status_queue: collections.deque[EventArgs] = collections.deque(maxlen=_STATUS_QUEUE_LIMIT)
        self._link: SSPLink | None = None
        self._address = 0
        self._enc_key = DEFAULT_FIXED_KEY
        self._model_hint = DeviceModel.NOTE_VALIDATOR
        self._key_limit = KEY_LIMIT
        self._log_raw = False
        self._log_decrypted = False
        self._log_detach: Callable[[], None] | None = None
        self.log = logging.getLogger(f"cashdevice.device.{id(self):x}")
        self._thread: threading.Thread | None = None
        self._poll_busy = threading.Lock()
        """Held by the poll thread while it holds this device (one turn of the loop)."""
        self._next_due = 0.0
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._session_event = threading.Event()
        self._poll_recovered = threading.Event()
        self._abandoned_tries = 0
        self._encrypted = False
        self._family = ev.DeviceFamily.VALIDATOR
        self._poll_with_ack = True
        self._ack_owed = False
        self._device_reset = False
        self._established_once = False
        self._pending: _Pending | None = None
        self._escrow_channel = 0
        self._rejecting_channel = 0
        self._hold = False
        self._bezel_reported = False
        self._dispensing_reported: dict[str, int] = {}  # country -> value last reported DISPENSING
        self._transaction: DispenserTransactionType | None = None
        self._transaction_amount = ev.Amount(0, "")
        self._transaction_levels: dict[tuple[int, str], int] = {}
        self._transaction_stored = 0
        self._transaction_unconfirmed = False
        self._quiet_polls = 0
        self._replenish_left = 0
        self._reenable = False
        self._port_read_error = False
        self._auto_accept = auto_accept
        self._acceptor_enabled = True
        self._payout_enabled = False
        self._payout_confirmed = False
        self._disabled_by_stop = False
        self._download: FirmwareDownload | None = None
        self.download_timing: DownloadTiming | None = None
        """Pauses and timeouts of DownloadFirmware (None: the manual's; tests shorten them)."""

    # ------------------------------------------------------------------------------ helpers

    @property
    def _session_up(self) -> bool:
        return self._session_event.is_set()

    @_session_up.setter
    def _session_up(self, up: bool) -> None:
        if up:
            self._session_event.set()
        else:
            self._session_event.clear()

    def _set(self, **values: Any) -> None:
        with self._state_lock:
            for name, value in values.items():
                if name not in self._v:
                    raise KeyError(name)
                self._v[name] = value

    def _update_entries(
        self, change: Callable[[CurrencyAssignmentEntry], CurrencyAssignmentEntry], **values: Any
    ) -> None:
        """Apply ``change`` to every ``currencyAssignment`` entry (and set ``values``) atomically:
        the poll thread and callers on other threads update entries concurrently."""
        with self._state_lock:
            self._v["currencyAssignment"] = [change(e) for e in self._v["currencyAssignment"]]
            self._set(**values)

    def __repr__(self) -> str:
        state = self._v["deviceState"]
        return (
            f"{type(self).__name__}(comPort={self._v['comPort']!r}, sspAddress={self._address}, "
            f"deviceModel={self._v['deviceModel'].name}, deviceState={state.name}, "
            f"isOpen={self._v['isOpen']})"
        )

    def _repr_html_(self) -> str:
        return _html.device_html(self)

    def __enter__(self) -> CashDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.Close()

    # ------------------------------------------------------------------------------ events

    def _fire(self, signal: DeviceEvent, args: EventArgs) -> None:
        """Queue ``args`` for GetDeviceStatus and call every receiver; a failing one is logged."""
        self._status_queue.append(args)
        for receiver in list(signal.receivers_for(self)):
            try:
                deliver(receiver, self, args)
            except Exception:
                self.log.exception("a %s receiver raised", type(args).__name__)

    def _set_state(self, state: DeviceState) -> None:
        with self._state_lock:
            if self._v["deviceState"] == state:
                return
            self._v["deviceState"] = state
        self.log.info("Device state changed: %s", state.name)
        # isRunning: open and not stopped; true from Open's first state (CONNECTING, CONNECTED:
        # seed L2632, L2641) until stopRunning / Close, not only while the poll thread runs
        running = self.isRunning or (bool(self._v["isOpen"]) and not self._stop.is_set())
        self._fire(self.DeviceStateChangedEvent, DeviceStatusResponse(state, running))

    def _cash(self, kind: CashEventType, value: int = 0, country: str = "", value2: int = 0) -> None:
        self.log.info(
            "Cash event: %s - Value: %d Value2: %d - CountryCode: %s", kind.name, value, value2, country
        )
        self._fire(self.CashEvent, CashEventResponse(kind, value, value2, country))

    @csharp(fresh(_html.DeviceStatusList), needs_open=False)
    def GetDeviceStatus(self) -> _html.DeviceStatusList:
        """Return and drain the queue of every event fired so far (REST GetDeviceStatus, L2453)."""
        out = _html.DeviceStatusList()
        while True:
            try:
                out.append(self._status_queue.popleft())
            except IndexError:
                return out

    # ------------------------------------------------------------------------------ lifecycle

    @property
    def isRunning(self) -> bool:
        """True while the poll thread runs (REST DeviceStatusResponse ``isRunning``)."""
        return self._thread is not None and self._thread.is_alive()

    @csharp(
        CashSystemOpenResult.PORT_ERROR,
        needs_open=False,
        comPort=TEXT,
        sspAddress=uint(0x7D, "SSP address"),
        devModel=enum_of(DeviceModel),
        encKey=U64,
        logFilePath=optional(PATH),
        logRawPackets=FLAG,
    )
    def Open(
        self,
        comPort: str,
        sspAddress: int = 0,
        devModel: DeviceModel = DeviceModel.NOTE_VALIDATOR,
        encKey: int = DEFAULT_FIXED_KEY,
        logFilePath: str | None = None,
        logRawPackets: bool = False,
    ) -> CashSystemOpenResult:
        """C# ``CashSystemOpenResult Open(string comPort, byte sspAddress = 0, DeviceModel devModel =
        DeviceModel.NOTE_VALIDATOR, UInt64 encKey = 0x0123456701234567, string logFilePath = null,
        bool logRawPackets = false)`` (seed L11569-L11604).

        ``comPort`` is any pyserial URL (``COM5``, ``/dev/ttyACM0``, ``socket://127.0.0.1:7000``,
        the emulator's ``cashdevice://...``).  ``devModel`` is a hint: the model is read from the
        device (unit type) and the hint only chooses between models sharing a unit type.
        Returns ``OK``, ``ALREADY_OPEN`` or ``PORT_ERROR`` (port unusable or the device did not
        complete the session).
        """
        if self._v["isOpen"]:
            self.log.warning("Open(%s): already open", comPort)
            return CashSystemOpenResult.ALREADY_OPEN
        if not 0 <= int(sspAddress) <= 0x7D or not 0 <= int(encKey) < 2**64:
            self.log.error("Open(%s): invalid sspAddress %r or encKey", comPort, sspAddress)
            return CashSystemOpenResult.PORT_ERROR
        self._address = int(sspAddress)
        self._enc_key = int(encKey)
        self._model_hint = DeviceModel(devModel)
        self.log = logging.getLogger(f"cashdevice.device.{_logger_name(comPort, self._address)}")
        holder = self._claim_port(comPort)
        if holder:
            self.log.error(
                "Open(%s): the port is held by %s in this process; Close() it, or drop every reference "
                "to it (a notebook's Out[] history counts)",
                comPort,
                holder,
            )
            return CashSystemOpenResult.PORT_ERROR
        if logFilePath:
            self._add_file_handler(logFilePath)
        self._log_raw = bool(logRawPackets)
        if self._log_raw:
            self._say_where_raw_goes()
        self._set(comPort=comPort, deviceModel=self._model_hint)
        try:
            self._link = SSPLink(
                comPort,
                timeout=self.timeout,
                retries=self.retries,
                deadline=self.deadline,
                logger=self.log.getChild("link"),
            )
        except SSPPortError as exc:
            self.log.error("Open(%s): %s", comPort, exc)
            self._link = None
            PORT_CLAIMS.release(self)
            return CashSystemOpenResult.PORT_ERROR
        self._finalizer = weakref.finalize(
            self,
            _collected,
            f"{type(self).__name__}(comPort={comPort!r}, sspAddress={self._address})",
            self._link, self.log, self._log_detach, self._stop, self._wake
        )
        self._finalizer.atexit = False
        self._link.log_raw = self._log_raw
        self._link.log_decrypted = self._log_decrypted
        self._set(isOpen=True)
        self._stop.clear()
        self._payout_enabled = True  # wanted: Open enables the payout (payout models)
        try:
            self._establish()
        except (SSPError, ValueError) as exc:
            self.log.error(
                "Open(%s): the device did not complete the session: %s%s",
                comPort,
                exc,
                "; SMART Hopper and SMART Coin System answer at address 16 (0x10): Open(port, 16, ...)"
                if self._address == 0 and isinstance(exc, SSPTimeoutError)
                else "",
            )
            self._close_port()
            self._set_state(DeviceState.NOT_CONNECTED)
            return CashSystemOpenResult.PORT_ERROR
        self.startRunning()
        return CashSystemOpenResult.OK

    @csharp(None)
    def Connect(self) -> None:
        """C# ``void Connect()`` (L11635): establish the session (SYNC, keys, protocol, setup, unit
        information, initial configuration) unless it is already up.  Requires ``Open``."""
        if not self._v["isOpen"] or self._link is None:
            self.log.error("Connect(): the port is not open; call Open first")
            return
        if self._session_up:
            self.log.debug("Connect(): session already established")
            return
        try:
            self._establish()
        except (SSPError, ValueError) as exc:
            self.log.error("Connect(): %s", exc)
            self._set_state(DeviceState.NOT_CONNECTED)

    @csharp(None)
    def startRunning(self) -> None:
        """C# ``void startRunning()`` (L11665): start the poll thread (no-op if it runs)."""
        if not self._v["isOpen"]:
            self.log.error("startRunning(): the port is not open; call Open first")
            return
        if self.isRunning:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=_poll_thread,
            args=(weakref.ref(self), self._stop, self._wake, self._poll_busy),
            name=f"cashdevice-poll {self._v['comPort']}@{self._address:#04x}",
            daemon=True,
        )
        self._thread.start()

    @csharp(None)
    def stopRunning(self) -> None:
        """C# ``void stopRunning()`` (L11688): stop the poll thread, DISABLE the device; the port
        stays open."""
        if not self.isRunning:
            return
        self._set_state(DeviceState.STOPPING)
        self._stop_thread()
        self._disabled_by_stop = self._best_effort(Command.DISABLE)
        self._set_state(DeviceState.STOPPED)

    @csharp(None, needs_open=False)
    def Close(self) -> None:
        """C# ``void Close()`` (L11705): stop the poll thread and close the port (idempotent)."""
        self._stop_thread()
        if self._link is not None and self._link.is_open and self._session_up:
            if self._ack_owed:
                self._send_event_ack_quietly()
            self._best_effort(Command.DISABLE)
        self._flush_pending()
        self._close_port()
        self._set_state(DeviceState.NOT_CONNECTED)
        detach, self._log_detach = self._log_detach, None
        if detach is not None:
            detach()

    @csharp(None, needs_open=False)
    def Disconnect(self) -> None:
        """C# ``void Disconnect()`` (L11723): state NOT_CONNECTED, port and threads closed.  Same as
        :meth:`Close` in this port."""
        self.Close()

    def _stop_thread(self) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.timeout * (self.retries + 1) * 4 + 5)
            if thread.is_alive():  # pragma: no cover - would need a wedged port
                self.log.error("poll thread did not stop in time")
        self._thread = None

    def _close_port(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            link.close()
        finalizer, self._finalizer = self._finalizer, None
        if finalizer is not None:
            finalizer.detach()
        PORT_CLAIMS.release(self)
        self._session_up = False
        self._set(isOpen=False)

    def _claim_port(self, port: str) -> str:
        """Claim ``port`` for this instance (:mod:`cashdevice._port_claims`); returns "" or the repr
        of the live instance holding it.  An instance nobody references any more (a notebook cell
        run again: ``d = CashDevice()`` rebinds ``d`` but a reference cycle keeps the old one) is
        collected first, after its poll thread has finished the turn it may be in."""
        holder = PORT_CLAIMS.claim(port, self)
        if holder is None:
            return ""
        busy, wait = holder._poll_busy, holder._exchange_deadline() * 2
        del holder  # hold no reference while the collector looks for the old instance
        gc.collect()
        holder = PORT_CLAIMS.claim(port, self)
        if holder is not None and busy.locked():
            # its poll thread may be what holds it, for the length of one turn
            del holder
            if busy.acquire(timeout=wait):
                busy.release()
            gc.collect()
            holder = PORT_CLAIMS.claim(port, self)
        return "" if holder is None else repr(holder)

    def _add_file_handler(self, path: str) -> None:
        """The DEBUG log file of ``Open(..., logFilePath)``; the application's own handlers keep
        their levels (:mod:`cashdevice._device_log`)."""
        detach, self._log_detach = self._log_detach, None
        if detach is not None:
            detach()
        self._log_detach = attach_log_file(self.log, path)

    def _say_where_raw_goes(self) -> None:
        """One INFO line: where the raw packets go (a file, or only the logging tree)."""
        raw = f"{self.log.name}.link.raw"
        if self._log_detach is not None:
            self.log.info("raw packets are logged to the log file (DEBUG on %s)", raw)
        else:
            self.log.info(
                "raw packets are logged at DEBUG on the logger %s (no logFilePath: they show only where "
                "the application's logging lets DEBUG through)",
                raw,
            )

    # ------------------------------------------------------------------------------ commands

    def _command(self, data: bytes, *, encrypt: bool | None = None) -> bytes:
        """One exchange; raises _SessionLost on KEY NOT SET or an eSSP error."""
        link = self._link
        if link is None:
            raise SSPPortError("the port is not open")
        abandoned = link.abandoned_command(self._address)
        if (
            abandoned in _POLLS
            and abandoned != data[0]
            and threading.current_thread() is not self._thread
            and self.isRunning
        ):
            self._await_poll_recovery()
        if encrypt is not False and data[0] not in _PLAIN_ALWAYS and link.needs_new_key(self._address, data):
            self._rekey()
        try:
            reply = link.transact(self._address, data, encrypt=encrypt)
        except SSPEncryptionError as exc:
            raise _SessionLost(str(exc)) from exc
        except SSPPortError:
            self._port_read_error = True
            raise
        self._port_read_error = False
        if not reply:
            raise SSPReplyError("empty reply", -1)
        if reply[0] == Response.KEY_NOT_SET and data[0] not in (Command.SYNC,):
            self._device_reset = True
            raise _SessionLost("device answered KEY NOT SET")
        return reply

    def _await_poll_recovery(self) -> None:
        """A poll was abandoned (its reply may hold a credit the device will not repeat) and another
        thread wants to send a command, which would make the link SYNC and lose that reply.  Let
        the poll thread resend the poll first, for at most one exchange deadline."""
        self._poll_recovered.clear()
        self._wake.set()
        if not self._poll_recovered.wait(self._exchange_deadline()):
            self.log.warning("an abandoned poll was not recovered in time; its reply is given up")

    def _rekey(self) -> None:
        """A failed encrypted exchange left the device's eCOUNT unknown: negotiate a new key (the
        link sends SYNC first).  Cheap: three plain exchanges; the session stays up."""
        self.log.info("eSSP count unknown after a failed exchange; negotiating a new key")
        link = self._link
        assert link is not None
        with link.lock:
            link.negotiate_key(self._address, self._enc_key, limit=self._key_limit)

    def _ok(self, data: bytes) -> bytes:
        """Exchange and require ``F0``; returns the data after it."""
        reply = self._command(data)
        if reply[0] != Response.OK:
            try:
                name = Response(reply[0]).name
            except ValueError:
                name = f"0x{reply[0]:02X}"
            raise SSPReplyError(f"command 0x{data[0]:02X} refused: {name}", reply[0], reply)
        return reply[1:]

    def _best_effort(self, command: Command) -> bool:
        try:
            self._ok(bytes((command,)))
            return True
        except (SSPError, ValueError) as exc:
            self.log.debug("%s not acknowledged: %s", command.name, exc)
            return False

    # ------------------------------------------------------------------------------ session

    def _establish(self) -> None:
        """Run the start-up sequence of GA973 §6 / ssp-protocol.md §7.1 under the link lock."""
        link = self._link
        if link is None:
            raise SSPPortError("the port is not open")
        self._session_up = False
        self._set_state(DeviceState.CONNECTING)
        with link.lock:
            if link.abandoned_command(self._address) in _POLLS and self._established_once:
                self._recover_abandoned_poll()
            link.set_key(self._address, None)
            self._encrypted = False
            last: Exception | None = None
            for _ in range(_SYNC_ATTEMPTS):
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
            self._apply_setup(parse_setup_request(self._ok(bytes((Command.SETUP_REQUEST,)))))
            if not self._established_once or not self._same_unit():
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
                self._best_effort(Command.ENABLE)
            else:
                self._best_effort(Command.DISABLE)

    def _recover_abandoned_poll(self) -> None:
        """Before SYNC throws it away, resend the poll whose replies were all lost: a device that
        is still running answers from its cache, with any credit in it.  A device that reset
        answers KEY NOT SET (the reply is gone; the session is rebuilt).  While it stays silent the
        attempt is repeated on the next reconnect, up to :data:`_ABANDONED_POLL_TRIES` times."""
        link = self._link
        assert link is not None
        try:
            self._poll_once(startup=True)
            self._abandoned_tries = 0
            return
        except _SessionLost:
            pass
        except LinkTimeoutError:
            self._abandoned_tries += 1
            if self._abandoned_tries < _ABANDONED_POLL_TRIES:
                raise
            self.log.warning("abandoned poll unanswered in %d reconnects; given up", self._abandoned_tries)
        self._abandoned_tries = 0
        link.forget_abandoned(self._address)
        self._poll_recovered.set()

    def _same_unit(self) -> bool:
        """After a gap, re-read the serial number (GA138: a unit may have been swapped); the rest
        of the unit information is read again only for another unit."""
        try:
            serial = parse_serial_number(self._ok(bytes((Command.GET_SERIAL_NUMBER,))))
        except (SSPReplyError, ValueError) as exc:
            self.log.debug("serial number not read on reconnect: %s", exc)
            return False
        if serial != self._v["mainSerialNumber"]:
            self.log.warning("another unit answers (serial %s, was %s)", serial, self._v["mainSerialNumber"])
            return False
        return True

    def _settle_after_reset(self) -> None:
        """The device reset (power cut, SLAVE RESET, KEY NOT SET) and lost the events it had not
        reported.  A credit whose STACKED/STORED never came, and a dispenser transaction whose end
        never came, are settled from the levels read during the start-up."""
        self._device_reset = False
        pending = self._pending
        if pending is not None:
            now = self._stored_level(pending.value, pending.country)
            stored = pending.stored_before is not None and now is not None and now > pending.stored_before
            self.log.warning(
                "device reset before it reported where the credited note went; levels say %s",
                "the payout store" if stored else "the cashbox",
            )
            self._report_pending(CashEventType.STORED if stored else CashEventType.STACKED)
        if self._transaction is not None and self._transaction != DispenserTransactionType.REPLENISH:
            self._resolve_transaction("the device reset before it reported the end")

    def _negotiate_key(self, limit: int | None = None) -> None:
        link = self._link
        assert link is not None
        try:
            link.negotiate_key(self._address, self._enc_key, limit=limit or self._key_limit)
            self._encrypted = True
        except SSPReplyError as exc:
            if (
                exc.code == Response.COMMAND_NOT_KNOWN
                and self._model_hint not in DISPENSERS
            ):
                self.log.warning("device does not support eSSP; continuing unencrypted")
                self._encrypted = False
            else:
                raise

    def _negotiate_protocol(self) -> None:
        for version in range(MAX_PROTOCOL, 3, -1):
            reply = self._command(bytes((Command.HOST_PROTOCOL_VERSION, version)))
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
        entries: list[CurrencyAssignmentEntry] = self._v["currencyAssignment"]
        if model not in COIN_MODELS and entries:
            nbytes = max(2, (len(entries) + 7) // 8)
            mask = sum(1 << (e.Channel - 1) for e in entries if not e.IsInhibited)
            self._ok(bytes((Command.SET_INHIBITS,)) + mask.to_bytes(nbytes, "little"))
        if model in DISPENSERS:
            self._read_routes()
            self._read_levels()
        if model in PAYOUT_MODELS:
            self._assert_payout()

    def _assert_payout(self) -> None:
        """Bring the payout to the wanted state (``_payout_enabled``); ``_payout_confirmed`` says
        whether the device has acknowledged it, and the poll thread retries until it has."""
        command = Command.ENABLE_PAYOUT_DEVICE if self._payout_enabled else Command.DISABLE_PAYOUT_DEVICE
        self._payout_confirmed = self._best_effort(command)

    def _denomination_bytes(self, entry: CurrencyAssignmentEntry) -> bytes:
        value = entry.Value.to_bytes(4, "little")
        if self._v["sspProtocolVersion"] >= 6:
            return value + entry.CountryCode.encode("ascii")
        return value

    def _read_routes(self) -> None:
        routes: dict[int, int] = {}
        for entry in self._v["currencyAssignment"]:
            try:
                data = self._ok(bytes((Command.GET_DENOMINATION_ROUTE,)) + self._denomination_bytes(entry))
                if data:
                    routes[entry.Channel] = data[0]
            except SSPReplyError as exc:
                self.log.debug("route of %d %s not read: %s", entry.Value, entry.CountryCode, exc)

        def apply(e: CurrencyAssignmentEntry) -> CurrencyAssignmentEntry:
            if e.Channel not in routes:
                return e
            # IsRecyclable is the denomination's capability, not its route: the seed shows
            # IsRecyclable true with AcceptRoute CASHBOX (L2338-L2340); a reported route = routable
            return replace(e, IsRecyclable=True, AcceptRoute=_accept_route(routes[e.Channel]))

        self._update_entries(apply)

    def _read_levels(self) -> bool:
        try:
            levels = parse_all_levels(self._ok(bytes((Command.GET_ALL_LEVELS,))))
        except (SSPReplyError, ValueError) as exc:
            self.log.warning("GET ALL LEVELS failed: %s", exc)
            self._set(lastGetLevelsSuccessful=False)
            return False
        stored = {(lv.value, lv.country): lv.stored for lv in levels}
        ok = all((e.Value, e.CountryCode) in stored for e in self._v["currencyAssignment"])
        self._update_entries(
            lambda e: replace(e, Stored=stored.get((e.Value, e.CountryCode), e.Stored)),
            lastGetLevelsSuccessful=ok,
        )
        return ok

    @csharp(False)
    def GetUnitInfo(self) -> bool:
        """C# ``bool GetUnitInfo()`` (L11615): read serial numbers, firmware, dataset and build
        revisions (GET SERIAL NUMBER 0x0C with sub-devices, 0x20, 0x21, 0x4F).  True when every
        read succeeded; ``unit_info_retrieved`` says the same."""
        ok = True
        try:
            self._set(mainSerialNumber=parse_serial_number(self._ok(bytes((Command.GET_SERIAL_NUMBER,)))))
            self._set(mainSerialNumberValid=True)
        except (SSPReplyError, ValueError) as exc:
            self.log.warning("GET SERIAL NUMBER failed: %s", exc)
            ok = False
        for sub, name in MODELS[self._v["deviceModel"]].sub_devices:
            try:
                serial = parse_serial_number(self._ok(bytes((Command.GET_SERIAL_NUMBER, sub))))
                self._set(**{f"{name}SerialNumber": serial, f"{name}SerialNumberValid": True})
            except (SSPReplyError, ValueError) as exc:
                self.log.warning("GET SERIAL NUMBER %d (%s) failed: %s", sub, name, exc)
                ok = False
        for command, name in (
            (Command.GET_FIRMWARE_VERSION, "firmware"),
            (Command.GET_DATASET_VERSION, "dataset"),
        ):
            try:
                self._set(**{name: self._ok(bytes((command,))).decode("ascii", "replace").rstrip("\x00")})
            except SSPReplyError as exc:
                self.log.warning("%s failed: %s", command.name, exc)
                ok = False
        try:
            self._apply_build_revisions(parse_build_revisions(self._ok(bytes((Command.GET_BUILD_REVISION,)))))
        except (SSPReplyError, ValueError) as exc:
            self.log.warning("GET BUILD REVISION failed: %s", exc)
            ok = False
        self._set(unit_info_retrieved=ok)
        return ok

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

    # ------------------------------------------------------------------------------ poll thread

    def _run_starting(self) -> None:
        """The poll thread's start (:func:`_poll_thread`): STARTING, re-enable after stopRunning,
        STARTED."""
        self._set_state(DeviceState.STARTING)
        if self._disabled_by_stop and self._session_up:
            self._disabled_by_stop = False
            if self._acceptor_enabled:
                self._best_effort(Command.ENABLE)
        self._set_state(DeviceState.STARTED)
        self._next_due = time.monotonic()

    def _run(self) -> float:
        """One turn of the poll loop; returns the seconds until the next one.  :func:`_poll_thread`
        calls it while the device lives and waits between turns holding no reference to it, so
        an instance nobody references is collected (its finalizer stops the thread and closes
        the port)."""
        try:
            if self._link is None or not self._link.is_open:
                self._reopen()
            elif not self._session_up:
                self._establish()
            else:
                self._poll_once()
        except LinkTimeoutError as exc:
            if exc.heard and self._session_up:
                # the device is there but noise broke every try: keep the session; the link
                # resynchronises (and the key is renegotiated) on the next exchange
                self.log.info("exchange failed on a noisy line (%d bytes heard); retrying", exc.heard)
            else:
                self._on_link_trouble(exc)
        except (SSPTimeoutError, SSPPortError, _SessionLost) as exc:
            self._on_link_trouble(exc)
        except Exception:
            self.log.exception("poll loop error (the loop goes on)")
            self._session_up = False
        if not self._session_up:
            interval = self.reconnect_interval
        elif self._moving:
            interval = self.moving_poll_interval
            self._next_due = time.monotonic()  # the next step of a credit or payout: poll at once
        else:
            interval = self.poll_interval
        self._next_due = max(self._next_due + interval, time.monotonic())
        return max(0.0, self._next_due - time.monotonic())

    def _on_link_trouble(self, exc: Exception) -> None:
        self.log.warning("session lost: %s", exc)
        self._session_up = False
        self._update_modules(DeviceState.NOT_CONNECTED)
        if isinstance(exc, SSPPortError) and self._link is not None:
            # the port vanished (USB unplugged): reopen it later, keeping the link's session
            # state, so that an abandoned poll can still be resent to a device that kept running
            self._link.close(forget=False)
        self._set_state(DeviceState.NOT_CONNECTED)

    def _reopen(self) -> None:
        link = self._link
        if link is None:
            return
        link.open()  # raises SSPPortError while unplugged
        link.log_raw = self._log_raw
        self.log.info("port reopened")

    def _poll_once(self, startup: bool = False) -> None:
        """One POLL (WITH ACK).  Events are handled as soon as the reply arrives, then
        acknowledged; an EVENT ACK that gets no answer stays owed and goes first next time, so
        the device never repeats events the host has handled (it clears only what it reported,
        and blocks new money events until then: ssp-protocol.md §5.4)."""
        link = self._link
        if link is None:
            raise SSPPortError("the port is not open")
        with link.lock:
            if self._ack_owed:
                self._send_event_ack()
            if self._hold and not startup:
                reply = self._command(bytes((Command.HOLD,)))
                if reply[0] == Response.OK:
                    return
                self._hold = False  # nothing in escrow any more: poll to see what happened
            command = Command.POLL_WITH_ACK if self._poll_with_ack and self._encrypted else Command.POLL
            reply = self._command(bytes((command,)))
            if reply[0] == Response.COMMAND_NOT_KNOWN and command == Command.POLL_WITH_ACK:
                self.log.info("POLL WITH ACK not supported; using POLL")
                self._poll_with_ack = False
                command = Command.POLL
                reply = self._command(bytes((command,)))
            if reply[0] != Response.OK:
                self.log.warning("poll answered 0x%02X", reply[0])
                return
            events = ev.decode_events(
                reply[1:],
                self._v["sspProtocolVersion"],
                self._family,
                unverified=self.commands.allow_unverified,
            )
            ackable = [e for e in events if _ackable(e)]
            if events and not self._decodable(events[-1]):
                # what follows an event we cannot decode is unknown: acknowledging it could lose
                # a credit, so it is left for the device to report again
                ackable = []
            if ackable and command == Command.POLL_WITH_ACK:
                self._ack_owed = True
            self._handle_events(events, startup)
            if self._ack_owed:
                self._send_event_ack()
            self._moving = self._pending is not None or any(e.code in _MOVING for e in events)
        self._poll_recovered.set()
        if not startup:
            self._converge(events)

    def _send_event_ack(self) -> None:
        """EVENT ACK for the events already handled.  ``F0`` (cleared) and ``F5`` (nothing to
        clear: an earlier copy arrived, or the device reset) both settle it; a timeout keeps it
        owed."""
        reply = self._command(bytes((Command.EVENT_ACK,)))
        self._ack_owed = False
        if reply[0] not in (Response.OK, Response.COMMAND_CANNOT_BE_PROCESSED):
            self.log.warning("EVENT ACK answered 0x%02X", reply[0])

    def _send_event_ack_quietly(self) -> None:
        try:
            self._send_event_ack()
        except (SSPError, ValueError) as exc:
            self.log.warning("EVENT ACK owed at close not delivered: %s", exc)

    def _converge(self, events: list[ev.Event]) -> None:
        """Bring the device to the host's wanted state: the acceptor enabled or disabled (as
        DISABLED in the poll shows), the payout enabled; and settle a transaction whose end the
        device can no longer report."""
        if not self._session_up:
            return  # the device reset: the start-up sequence sets everything again
        disabled = _code_in(events, P.DISABLED)
        if self._transaction is not None:
            if any(e.code in _TRANSACTION_SIGNS for e in events):
                self._quiet_polls = 0
                self._transaction_unconfirmed = False
            elif self._transaction != DispenserTransactionType.REPLENISH:
                self._quiet_polls += 1
                if self._quiet_polls >= _QUIET_POLLS_TO_RESOLVE:
                    self._resolve_transaction("the device shows no transaction any more")
            return  # the unit is disabled while it pays; it is re-enabled after
        self._disabled_polls = self._disabled_polls + 1 if disabled else 0
        # a SMART Hopper reports DISABLED once more after an ENABLE (GA973): re-assert only when
        # the unit stays disabled for two polls in a row
        if self._reenable or (self._disabled_polls >= 2 and self._acceptor_enabled and not self._hold):
            self._reenable = False
            self._disabled_polls = 0
            if self._acceptor_enabled:
                if not self._best_effort(Command.ENABLE):
                    self.log.debug("ENABLE not accepted; retried at the next poll")
        elif not disabled and not self._acceptor_enabled:
            self._best_effort(Command.DISABLE)
        if self._v["deviceModel"] in PAYOUT_MODELS and not self._payout_confirmed:
            self._assert_payout()

    # ------------------------------------------------------------------------------ events -> state

    def _channel_amount(self, channel: int | None) -> tuple[int, str]:
        for entry in self._v["currencyAssignment"]:
            if entry.Channel == channel:
                return entry.Value, entry.CountryCode
        return 0, ""

    def _decodable(self, event: ev.Event) -> bool:
        spec = ev.EVENT_SPECS.get(event.code)
        return spec is not None and (spec.verified or self.commands.allow_unverified) and not event.data

    def _handle_events(self, events: list[ev.Event], startup: bool = False) -> None:
        known = []
        for event in events:
            spec = ev.EVENT_SPECS.get(event.code)
            if spec is None or (not spec.verified and not self.commands.allow_unverified):
                self.log.warning(
                    "unknown poll event 0x%02X (rest of the reply not decoded: %s)",
                    event.code,
                    event.data.hex(" "),
                )
            else:
                known.append(event)
        events = known
        poll_state: DeviceState | None = None
        disabled = False
        for event in events:
            try:
                self._handle_event(event, startup)
            except Exception:
                self.log.exception("handling event %r", event)
            code = event.code
            if code == P.DISABLED:
                disabled = True
            elif code == P.SLAVE_RESET and startup:
                continue
            elif code in _EVENT_STATE:
                poll_state = _EVENT_STATE[code]
        if _code_in(events, P.SLAVE_RESET):
            self._device_reset = True
            if not startup:
                self.log.warning("device reported SLAVE RESET mid-session; re-establishing")
                self._session_up = False
        if startup:
            return  # the start-up poll only reports money events; states follow from the run loop
        if not any(e.code in _EVENT_ERROR for e in events) and poll_state in (None, DeviceState.DISABLED):
            self._set(deviceError=DeviceError.NONE)  # the fault is no longer reported
        if poll_state is None:
            poll_state = DeviceState.DISABLED if disabled else DeviceState.IDLE
        self._set_state(poll_state)

    def _handle_event(self, event: ev.Event, startup: bool) -> None:
        code = event.code
        if self._pending is not None and code in _AT_RESET_TO_STORE | _AT_RESET_TO_CASHBOX:
            # the credited note the host was waiting for, moved while the device powered up
            self._report_pending(
                CashEventType.STORED if code in _AT_RESET_TO_STORE else CashEventType.STACKED
            )
            return
        if code in _EVENT_ERROR:
            self._set(deviceError=_EVENT_ERROR[code])
        if code == P.READ:
            if event.channel:
                if self._escrow_channel != event.channel:
                    self._escrow_channel = event.channel
                    self._set(noteInEscrow=True)
                    value, country = self._channel_amount(event.channel)
                    self._cash(CashEventType.ESCROW, value, country)
                    if not self._auto_accept:
                        self._hold = True
            else:
                self._flush_pending()
        elif code in (P.STACKING, P.REJECTING):
            if code == P.REJECTING and self._escrow_channel:
                self._rejecting_channel = self._escrow_channel
            self._leave_escrow()
        elif code == P.CREDIT:
            self._leave_escrow()
            self._flush_pending()
            value, country = self._channel_amount(event.channel)
            self._pending = _Pending(value, country, self._stored_level(value, country))
        elif code == P.STACKED:
            self._report_pending(CashEventType.STACKED)
        elif code == P.NOTE_STORED_IN_PAYOUT:
            if event.amounts and self._pending is None:
                amount = event.amounts[0]
                self._pending = _Pending(amount.value, amount.country)
            stored = self._pending
            self._report_pending(CashEventType.STORED)
            if stored is not None:
                self._bump_level(stored.value, stored.country, +1)
                if self._transaction is not None:
                    self._transaction_stored += stored.value
        elif code == P.REJECTED:
            value, country = self._channel_amount(self._escrow_channel or self._rejecting_channel)
            self._rejecting_channel = 0
            self._leave_escrow()
            self._cash(CashEventType.REJECTED, value, country)
        elif code == P.FRAUD_ATTEMPT:
            if event.amounts:
                value, country = event.amounts[0].value, event.amounts[0].country
            else:
                value, country = self._channel_amount(event.channel)
            self._cash(CashEventType.FRAUD_ATTEMPT, value, country)
        elif code in (P.NOTE_CLEARED_FROM_FRONT, P.NOTE_CLEARED_INTO_CASHBOX):
            value, country = self._channel_amount(event.channel)
            kind = (
                CashEventType.NOTE_CLEARED_FROM_FRONT
                if code == P.NOTE_CLEARED_FROM_FRONT
                else CashEventType.NOTE_CLEARED_TO_CASHBOX
            )
            self._cash(kind, value, country)
        elif code == P.NOTE_HELD_IN_BEZEL:
            if not self._bezel_reported:
                self._bezel_reported = True
                for amount in event.amounts or (ev.Amount(0, ""),):
                    self._cash(CashEventType.NOTE_IN_BEZEL_HOLD, amount.value, amount.country)
        elif code == P.CALIBRATION_FAILED:
            self._cash(CashEventType.CALIBRATION_FAILED, event.error or 0)
        elif code in _REPLENISH_EVENT:  # unpublished codes (events.UNPUBLISHED_EVENTS)
            amount = event.amounts[0] if event.amounts else ev.Amount(0, "")
            self._fire(
                self.ReplenishEvent,
                ReplenishEventResponse(_REPLENISH_EVENT[code], amount.value, amount.country),
            )
        elif code == _LIFTER:  # unpublished code; status bits are ours (events.UNPUBLISHED_EVENTS)
            status = event.error or 0
            connected, clear, jammed = bool(status & 1), bool(status & 2), bool(status & 4)
            self._set(
                lifterConnected=connected,
                lifterOptoClear=clear,
                lifterJammed=jammed,
                lifterEventString=(
                    f"Lifter connected: {connected}, Lifter opto clear: {clear}, Lifter jammed: {jammed}"
                ),
            )
        elif code == P.CASHBOX_PAID:  # coins moved to the cashbox at the end of a payout
            for amount in event.amounts:
                if amount.value:
                    self._cash(CashEventType.MOVED_TO_CASHBOX, amount.value, amount.country)
        elif code == P.MAINTENANCE_REQUIRED:
            self._set(maintenanceRequiredDetailsString="Maintenance required")
        elif code == P.COIN_MECH_RETURN_PRESSED:
            self.log.info("coin mech return lever pressed")
        if code in _AMOUNT_CASH_EVENT:
            kind = _AMOUNT_CASH_EVENT[code]
            requested = {a.country: a.value for a in event.requested}
            for amount in event.amounts or (ev.Amount(0, ""),):
                if code == P.DISPENSING:  # repeated every poll: report each new value once
                    if self._dispensing_reported.get(amount.country) == amount.value:
                        continue
                    self._dispensing_reported[amount.country] = amount.value
                self._cash(kind, amount.value, amount.country, requested.get(amount.country, 0))
        if code in _ONE_NOTE_TO_CASHBOX:
            amount = event.amounts[0] if event.amounts else ev.Amount(*self._channel_amount(event.channel))
            self._cashbox_moved(amount.value, amount.country, 1)
        if code in _CASHBOX_OPERATION_DONE:
            self._read_cashbox_operation()
        if code == P.ERROR_DURING_PAYOUT:
            text = _ERROR_DURING_PAYOUT_TEXT.get(event.error or 0, f"Error code {event.error}")
            self._set(error_during_payout_details_string=text)
        self._track_transaction(event)

    def _begin_transaction(
        self, kind: DispenserTransactionType, value: int, country: str, *, unconfirmed: bool = False
    ) -> None:
        """A dispenser transaction started (a payout command was accepted, or the device reported
        progress on its own): DispenserTransactionEvent IN_PROGRESS, once.  The levels known now
        are kept: if the device cannot report the end (power cut), they tell what moved.
        ``unconfirmed``: the command's reply was lost, so the device may or may not run it."""
        self._transaction = kind
        self._transaction_amount = ev.Amount(value, country)
        self._transaction_levels = {(e.Value, e.CountryCode): e.Stored for e in self._v["currencyAssignment"]}
        self._transaction_stored = 0
        self._transaction_unconfirmed = unconfirmed
        self._quiet_polls = 0
        self._set(dispenseState=DispenserTransactionState.IN_PROGRESS)
        self._fire(
            self.DispenserTransactionEvent,
            DispenserTransactionEventResponse(DispenserTransactionState.IN_PROGRESS, kind, 0, value, country),
        )

    def _track_transaction(self, event: ev.Event) -> None:
        code = event.code
        amount = event.amounts[0] if event.amounts else ev.Amount(0, "")
        if code in _TRANSACTION_PROGRESS and self._transaction is None:
            self._begin_transaction(_TRANSACTION_PROGRESS[code], 0, amount.country)
        elif code in _TRANSACTION_DONE or code in _TRANSACTION_FAILED:
            done = code in _TRANSACTION_DONE
            fallback = _TRANSACTION_DONE.get(code, DispenserTransactionType.PAYOUT)
            self._end_transaction(done, amount, fallback)
        elif code in _REPLENISH_MOVED and self._transaction == DispenserTransactionType.REPLENISH:
            self._replenish_left -= 1
            if self._replenish_left <= 0:
                self._end_transaction(True, ev.Amount(0, amount.country), DispenserTransactionType.REPLENISH)

    def _resolve_transaction(self, why: str) -> None:
        """End a transaction whose end event will never come, from the levels: the value that
        left the store (plus what was stored meanwhile) is what was paid, floated or emptied."""
        kind = self._transaction
        if kind is None:
            return
        if not self._read_levels():
            self.log.warning("transaction end unknown (%s) and levels not read; trying again", why)
            return
        requested = self._transaction_amount
        moved = self._transaction_stored
        for entry in self._v["currencyAssignment"]:
            if requested.country and entry.CountryCode != requested.country:
                continue
            before = self._transaction_levels.get((entry.Value, entry.CountryCode), entry.Stored)
            moved += (before - entry.Stored) * entry.Value
        moved = max(0, moved)
        if kind == DispenserTransactionType.PAYOUT:
            done = requested.value > 0 and moved >= requested.value
        else:
            done = moved > 0 or not self._transaction_unconfirmed
        self.log.warning(
            "%s transaction settled from the levels (%s): %d %s moved of %d requested",
            kind.name,
            why,
            moved,
            requested.country,
            requested.value,
        )
        self._end_transaction(done, ev.Amount(moved, requested.country), kind, refresh=False)

    def _end_transaction(
        self, done: bool, amount: ev.Amount, fallback: DispenserTransactionType, *, refresh: bool = True
    ) -> None:
        """The transaction ended: DispenserTransactionEvent COMPLETED or ERROR, levels refreshed."""
        kind = self._transaction or fallback
        state = DispenserTransactionState.COMPLETED if done else DispenserTransactionState.ERROR
        requested = self._transaction_amount
        self._transaction = None
        self._bezel_reported = False
        self._dispensing_reported.clear()
        self._set(dispenseState=state)
        self._fire(
            self.DispenserTransactionEvent,
            DispenserTransactionEventResponse(
                state, kind, amount.value, requested.value, amount.country or requested.country
            ),
        )
        self._transaction_unconfirmed = False
        self._quiet_polls = 0
        self._reenable = True
        if refresh and self._v["deviceModel"] in DISPENSERS:
            self._refresh_levels()

    def _refresh_levels(self) -> None:
        try:
            self._read_levels()
        except SSPError as exc:
            self.log.debug("level refresh failed: %s", exc)

    def _leave_escrow(self) -> None:
        if self._escrow_channel or self._hold:
            self._escrow_channel = 0
            self._hold = False
            self._set(noteInEscrow=False)

    def _report_pending(self, kind: CashEventType) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            self._cash(kind, pending.value, pending.country)
            if kind == CashEventType.STACKED:
                self._cashbox_moved(pending.value, pending.country, 1)

    def _flush_pending(self) -> None:
        """A credited note whose STACKED/STORED never came is reported as STACKED (never lost)."""
        if self._pending is not None:
            self.log.warning("note credit without STACKED/STORED; reporting it as STACKED")
            self._report_pending(CashEventType.STACKED)

    def _stored_level(self, value: int, country: str) -> int | None:
        for entry in self._v["currencyAssignment"]:
            if (entry.Value, entry.CountryCode) == (value, country):
                return int(entry.Stored)
        return None

    def _bump_level(self, value: int, country: str, delta: int) -> None:
        self._update_entries(
            lambda e: (
                replace(e, Stored=max(0, e.Stored + delta))
                if (e.Value, e.CountryCode) == (value, country)
                else e
            )
        )

    # ------------------------------------------------------------------------------ C# methods

    def _session_ready(self, wait: float = 0.0) -> bool:
        """True while the session is up; ``wait`` seconds for the poll thread to re-establish it
        (a method called while the line recovers waits instead of failing at once)."""
        if wait > 0 and not self._session_up and self.isRunning and self._v["isOpen"]:
            self._session_event.wait(wait)
        return self._session_up and self._link is not None and self._link.is_open

    def _exchange_deadline(self) -> float:
        link = self._link
        if link is not None and link.deadline is not None:
            return link.deadline
        return self.timeout * (self.retries + 1)

    @csharp(
        False,
        needs_open=False,
        comPort=TEXT,
        sspAddress=uint(0x7D, "SSP address"),
        downloadFile=PATH,
        enablePacketDownload=FLAG,
        baudRate=uint(0x7FFF_FFFF, "Int32"),
        encKey=U64,
    )
    def DownloadFirmware(
        self,
        comPort: str,
        sspAddress: int,
        downloadFile: str,
        enablePacketDownload: bool = True,
        baudRate: int = 115200,
        encKey: int = DEFAULT_FIXED_KEY,
    ) -> bool:
        """C# ``bool DownloadFirmware(string comPort, byte sspAddress, string downloadFile, bool
        enablePacketDownload = true, int baudRate = 115200, UInt64 encKey = 0x0123456701234567)``
        (L13456): validate the ITL file, then download it in the background
        (:class:`cashdevice.download.FirmwareDownload`).  True once the download has started;
        ``isDownloading``, ``downloadStatus``, ``DownloadStateEvent`` and ``DownloadBlockEvent``
        follow it.  False (with a log line, nothing sent) for an invalid file, a download already
        running, or a port this device has open."""
        from .download import FirmwareDownload

        if self._download is not None and self._download.is_running:
            self.log.error("DownloadFirmware: a download is already running")
            return False

        def busy(port: str) -> bool:
            if self._v["isOpen"] and port == self._v["comPort"]:
                return True
            return PORT_CLAIMS.holder(port) not in (None, self)

        def on_state(state: DownloadState, message: str) -> None:
            self._sync_download()
            self._fire(self.DownloadStateEvent, DownloadStateEventArgs(state, message))

        def on_block(ram: int, total_ram: int, block: int, total: int) -> None:
            self._sync_download()
            self._fire(self.DownloadBlockEvent, DownloadBlockEventArgs(block, total, ram, total_ram))

        download = FirmwareDownload(
            comPort,
            sspAddress,
            downloadFile,
            packet_mode=enablePacketDownload,
            max_baud=baudRate,
            enc_key=encKey,
            on_state=on_state,
            on_block=on_block,
            is_port_busy=busy,
            timing=self.download_timing,
            logger=self.log.getChild("download"),
        )
        self._download = download
        started = download.start()
        self._sync_download()
        return started

    def _sync_download(self) -> None:
        download = self._download
        if download is not None:
            self._set(isDownloading=download.is_running, downloadStatus=download.status)

    @csharp(False, needs_open=False, path=PATH)
    def LoadCommandTable(self, path: str) -> bool:
        """Apply a JSON/TOML file of command-table overrides (:meth:`CommandTable.load`); e.g. the
        real bytes of an unpublished command from ITL's manual.  False (and a log line) on error."""
        try:
            self.commands.load(path)
        except (OSError, ValueError, KeyError) as exc:
            self.log.error("LoadCommandTable(%s): %s", path, exc)
            return False
        return True

    @csharp(False)
    def KeyExchangelimit32bit(self) -> bool:
        """C# ``bool KeyExchangelimit32bit()`` (L12494; REST KeyExchangeLimit32bit): keep the
        Diffie-Hellman generator, modulus and random within 32 bits and negotiate a new key now.
        This port always draws them below 2**31 (ITL's reference code), which satisfies the limit;
        the call performs a fresh key exchange and returns True once encryption is on."""
        link = self._link
        if link is None or not link.is_open:
            self.log.error("KeyExchangelimit32bit(): the port is not open")
            return False
        self._key_limit = min(self._key_limit, 2**32)
        try:
            with link.lock:
                self._negotiate_key(self._key_limit)
        except (SSPError, ValueError) as exc:
            self.log.error("KeyExchangelimit32bit(): %s", exc)
            self._session_up = False
            return False
        return self._encrypted

    @csharp(None, needs_open=False, rawPacketsOptionSelected=FLAG)
    def logRawPackets(self, rawPacketsOptionSelected: bool = True) -> None:
        """C# ``void logRawPackets(bool rawPacketsOptionSelected = true)`` (L12591): log every wire
        packet (both directions) at DEBUG on ``cashdevice.device.<port>.link.raw``."""
        if rawPacketsOptionSelected and not self._log_raw:
            self._say_where_raw_goes()
        self._log_raw = bool(rawPacketsOptionSelected)
        if self._link is not None:
            self._link.log_raw = self._log_raw

    @property
    def log_decrypted(self) -> bool:
        """Python-side option: the raw-packet log (:meth:`logRawPackets`) also shows the plaintext
        of eSSP frames (``-> 00 encrypted eCOUNT=5 POLL_WITH_ACK [...]``).  Off by default: an
        encrypted frame is logged as ``encrypted (N bytes)``.  Keys are never logged."""
        return self._log_decrypted

    @log_decrypted.setter
    def log_decrypted(self, on: bool) -> None:
        self._log_decrypted = bool(on)
        link = self._link
        if link is not None:
            link.log_decrypted = self._log_decrypted

    @csharp(False, needs_open=False)
    def comPortReadError(self) -> bool:
        """C# ``bool comPortReadError()`` (L13212): True if the last port read or write failed."""
        return self._port_read_error

    @staticmethod
    @csharp(False, static=True, deviceStateToCheck=enum_of(DeviceState))
    def DeviceState_StartupReady(deviceStateToCheck: DeviceState) -> bool:
        """C# ``bool DeviceState_StartupReady(DeviceState)`` (L13227).  The seed gives no truth
        table, but its one example answers ``StartupReady = False`` for ``3`` = STARTED (L10387,
        L10407; numbering seed-digest §3.3): a device that already started is not ready to be
        started.  This port answers True for CONNECTED and STOPPED only, the states in which the
        session is up and the poll loop is not running, so ``startRunning`` starts it."""
        return _coerce(DeviceState, deviceStateToCheck) in _STARTUP_READY

    @staticmethod
    @csharp(False, static=True, deviceStateToCheck=enum_of(DeviceState))
    def DeviceState_LimpMode(deviceStateToCheck: DeviceState) -> bool:
        """C# ``bool DeviceState_LimpMode(DeviceState)`` (L13322).  True for states in which the
        device still works but degraded (our choice; the seed gives no table): CASHBOX_REMOVED,
        DEVICE_FULL, JAM_RECOVERY, NOTE_PATH_OPEN, CHANNEL_DISABLE, COIN_MECH_JAMMED,
        COIN_MECH_DISABLED, MAINTENANCE_REQUIRED, CALIBRATION_FAILED, NOTE_FLOAT_REMOVED."""
        return _coerce(DeviceState, deviceStateToCheck) in _LIMP_STATES

    @staticmethod
    @csharp(False, static=True, deviceErrorToCheck=enum_of(DeviceError))
    def DeviceError_LimpMode(deviceErrorToCheck: DeviceError) -> bool:
        """C# ``bool DeviceError_LimpMode(DeviceError)`` (L13305).  True for errors that leave part
        of the device working (our choice): STACKER_FULL, PAYOUT_OUT_OF_SERVICE,
        CASHBOX_OUT_OF_SERVICE, COIN_MECH_ERROR, COIN_MECH_JAMMED, MAINTENANCE_REQUIRED,
        CALIBRATION_FAILED."""
        return _coerce(DeviceError, deviceErrorToCheck) in _LIMP_ERRORS

    @csharp(None, needs_open=False, autoAccept=FLAG)
    def SetAutoAccept(self, autoAccept: bool = True) -> None:
        """REST ``SetAutoAccept`` (L3998): with auto-accept on (default) a note in escrow is
        accepted by the next POLL; off, it is held (HOLD, which also restarts the escrow timer)
        and reported as CashEvent ESCROW until ``AcceptFromEscrow`` or ``ReturnFromEscrow``."""
        self._auto_accept = bool(autoAccept)
        if self._auto_accept and self._hold:
            self._hold = False
            self._wake.set()

    @property
    def autoAcceptEscrowEnabled(self) -> bool:
        """REST OpenConnection ``autoAcceptEscrowEnabled`` (L1306)."""
        return self._auto_accept

    @property
    def acceptorEnabled(self) -> bool:
        """REST OpenConnection ``acceptorEnabled`` (L1305)."""
        return self._acceptor_enabled

    @property
    def payoutEnabled(self) -> bool:
        """REST OpenConnection ``payoutEnabled`` (L1307)."""
        return self._payout_enabled

    @csharp(False)
    def AcceptFromEscrow(self) -> bool:
        """C# ``bool AcceptFromEscrow()`` (L12458): accept the note held in escrow.  True if a note
        was waiting (the next POLL accepts it, ssp-protocol.md §5.5); False if none was."""
        if not self._v["noteInEscrow"]:
            self.log.info("AcceptFromEscrow(): no note in escrow")
            return False
        self._hold = False
        self._wake.set()
        return True

    @csharp(False)
    def ReturnFromEscrow(self) -> bool:
        """C# ``bool ReturnFromEscrow()`` (L12476): REJECT (0x08) the note in escrow.  True if a
        note was returned; False if none was in escrow or the device refused (F5)."""
        if not self._v["noteInEscrow"]:
            self.log.info("ReturnFromEscrow(): no note in escrow")
            return False
        try:
            self._ok(bytes((Command.REJECT,)))
        except (SSPError, ValueError) as exc:
            self.log.warning("ReturnFromEscrow(): %s", exc)
            return False
        self._hold = False
        self._wake.set()
        return True

    @csharp(None)
    def EnableAcceptor(self) -> None:
        """C# ``void EnableAcceptor()`` (L12257): ENABLE (0x0A); payout modules are not touched."""
        self._acceptor_enabled = True
        if not self._best_effort(Command.ENABLE):
            self.log.warning("EnableAcceptor(): ENABLE not acknowledged")

    @csharp(None)
    def DisableAcceptor(self) -> None:
        """C# ``void DisableAcceptor()`` (L12275): DISABLE (0x09); payout modules stay enabled."""
        self._acceptor_enabled = False
        if not self._best_effort(Command.DISABLE):
            self.log.warning("DisableAcceptor(): DISABLE not acknowledged")

    # ------------------------------------------------------------------------------ variables

    @csharp(fresh(dict), needs_open=False)
    def GetCompleteCashDevice(self) -> dict[str, Any]:
        """Every read-only variable with the REST GetCompleteCashDevice field names and value
        formats (enums by name, records as PascalCase JSON), seed L1934-L2366."""
        with self._state_lock:
            return to_json(self._v)


# ---------------------------------------------------------------------------------- helpers


def _poll_thread(
    ref: weakref.ReferenceType[CashDevice],
    stop: threading.Event,
    wake: threading.Event,
    busy: threading.Lock,
) -> None:
    """The poll thread: turns of :meth:`CashDevice._run` every ``poll_interval``.  Between turns
    it holds only a weak reference to the device, so it never keeps one alive; it ends on
    ``stop`` or when the device is gone."""
    with busy:
        device = ref()
        if device is None:
            return
        try:
            device._run_starting()
        finally:
            del device
    while not stop.is_set():
        with busy:
            device = ref()
            if device is None:
                return
            try:
                wait = device._run()
            finally:
                del device
        wake.wait(wait)
        wake.clear()


def _collected(
    name: str,
    link: SSPLink,
    log: logging.Logger,
    detach_log: Callable[[], None] | None,
    stop: threading.Event,
    wake: threading.Event,
) -> None:
    """Finalizer of an open CashDevice that was garbage-collected without Close(): stop its poll
    thread, close its port (no DISABLE: that needs the device), detach its log file."""
    stop.set()
    wake.set()
    link.close()
    log.warning("%s was garbage-collected while open: poll thread stopped, port closed (call Close())", name)
    warnings.warn(f"{name} collected while open; call Close()", ResourceWarning, 2)
    if detach_log is not None:
        detach_log()


def _code_in(events: list[ev.Event], code: int) -> bool:
    return any(e.code == code for e in events)


def _ackable(event: ev.Event) -> bool:
    spec = ev.EVENT_SPECS.get(event.code)
    return spec is not None and spec.ack


def _coerce(enum_type: Callable[[Any], Any], value: Any) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        return None


def _logger_name(port: str, address: int) -> str:
    """``[/dev/ttyACM0@0x00]``: the port as written, its dots (logger-tree separators) as ``·``."""
    return f"[{port.replace('.', '·') or 'port'}@0x{address:02X}]"

