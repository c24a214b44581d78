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

The poll thread polls every ``poll_interval`` seconds (default 0.2 s; ``moving_poll_interval``
while money moves) with POLL WITH ACK, falling back to POLL on ``F2``; it never dies: silence, a
SLAVE RESET or KEY NOT SET re-establishes the session (reopening the port after an unplug) until
``stopRunning`` / ``Close``; noise alone does not.  Credits are reported exactly once: events are
handled when the reply arrives and then acknowledged (an unanswered EVENT ACK stays owed and goes
first), an abandoned poll is resent byte for byte so its reply is not lost, a credit seen before
a reset is settled from the reset events or the levels, and a payout whose end the device cannot
report is settled from the levels (README "Money on a bad line").

This module is the façade; the work sits in private mixins behind it (docs/architecture.md):
the session in :mod:`cashdevice._session`, the poll loop and event interpreter in
:mod:`cashdevice._poller`, the C# methods by device part in :mod:`cashdevice._notes`,
:mod:`cashdevice._payouts` and :mod:`cashdevice._coins`, and what they share, with the one command
path, in :mod:`cashdevice._contract`.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import logging
import sys
import threading
import time
import traceback
import warnings
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Callable

from . import _html
from . import events as ev
from ._coins import CoinMethods
from ._contract import _KeyNotSet
from ._device_log import attach_log_file
from ._guard import FLAG, PATH, TEXT, U64, csharp, enum_of, fresh, optional, uint
from ._notes import NoteMethods
from ._payouts import PayoutMethods
from ._poller import PollerMethods, Wake, _poll_thread
from ._port_claims import PORT_CLAIMS
from ._session import SessionMethods
from ._settings import Setting, count, positive, positive_or_none, zero_or_more
from ._signals import DeviceEvent, EventSlot, deliver
from ._variable_properties import VariableProperties
from .commands import CommandTable
from .enums import (
    CashEventType,
    CashSystemOpenResult,
    DeviceError,
    DeviceModel,
    DeviceState,
    DispenserTransactionType,
    DownloadState,
)
from .link import SSPLink
from .models import MODELS
from .records import (
    CashEventResponse,
    CurrencyAssignmentEntry,
    DeviceStatusResponse,
    DispenserTransactionEventResponse,
    DownloadBlockEventArgs,
    DownloadStateEventArgs,
)
from .replies import (
    parse_build_revisions,
    parse_serial_number,
)
from .ssp import (
    DEFAULT_FIXED_KEY,
    KEY_LIMIT,
    Command,
    SSPError,
    SSPPortError,
    SSPReplyError,
    SSPTimeoutError,
)
from .variables import default_values, to_json

if TYPE_CHECKING:
    from .download import DownloadTiming, FirmwareDownload
    from .poll_group import PollGroup

__all__ = ["CashDevice", "DeviceEvent"]

EventArgs = Any
"""The payload of a device event: one of the response classes of :mod:`cashdevice.records`."""

_CLOSE_CREDIT_WAIT = 5.0
"""Seconds :meth:`CashDevice.Close` polls for where a credited note went (its STACKED or STORED; a
note takes a second or two to stack) before it reports the credit as STACKED."""

_STATUS_QUEUE_LIMIT = 10_000
"""Events :meth:`CashDevice.GetDeviceStatus` keeps until it is called (then the oldest are dropped)."""

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


def _heard(log: logging.Logger, level: int) -> bool:
    """Whether a record of ``level`` on ``log`` reaches a handler other than a NullHandler."""
    current: logging.Logger | None = log
    while current is not None:
        if any(not isinstance(h, logging.NullHandler) and level >= h.level for h in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent
    return False


class CashDevice(CoinMethods, NoteMethods, PayoutMethods, PollerMethods, SessionMethods, VariableProperties):
    """One ITL cash device (C# ``CashDevice``).  See the module docstring for the lifecycle.

    ``poll_interval`` (seconds between polls while nothing moves), ``moving_poll_interval`` (seconds
    between polls while a note or coin moves or a payout runs: each step of a credit needs a poll, so
    after a new step the next poll goes at once, then after ``moving_poll_interval``; while the same
    step repeats the pause doubles, up to half of ``poll_interval``; equal to ``poll_interval``, it
    polls strictly every interval, as ITL's GA973 §7.4 asks), ``timeout`` / ``retries`` /
    ``deadline`` (per SSP exchange: the longest wait for one reply, the fewest retransmissions,
    and the time a transaction keeps retransmitting, default ``timeout * (retries + 1)``),
    ``auto_accept`` (accept notes from escrow without asking; C# REST ``SetAutoAccept``),
    ``allow_unverified`` (send the emulator's codes for commands ITL never published, see
    :mod:`cashdevice.commands`), ``abandoned_poll_patience`` (seconds of silence during which a
    poll whose replies were all lost keeps being resent on every reconnect, so that a credit in
    its reply survives a long cable pull; 5 minutes) and ``poll_group`` (a
    :class:`~cashdevice.PollGroup` that polls the device while it is idle or a note's long step
    repeats, for many devices in one process) are Python-side options; everything else has the
    C# names.  The numeric options are checked whenever they are set, here or later: a value that
    does not fit (a string, ``poll_interval=0``, a negative ``retries``) is logged as an error and the
    option keeps its value (:mod:`cashdevice._settings`).
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

    # Python-side options, checked whenever set (a bad value is logged and changes nothing)
    if TYPE_CHECKING:
        poll_interval: float
        moving_poll_interval: float
        timeout: float
        retries: int
        reconnect_interval: float
        deadline: float | None
        abandoned_poll_patience: float
    else:
        poll_interval = Setting(0.2, positive)
        moving_poll_interval = Setting(0.02, zero_or_more)
        timeout = Setting(1.0, positive)
        retries = Setting(3, count)
        reconnect_interval = Setting(1.0, positive)
        deadline = Setting(None, positive_or_none)
        abandoned_poll_patience = Setting(300.0, zero_or_more)

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
        abandoned_poll_patience: float = 300.0,
        poll_group: PollGroup | None = None,
    ) -> None:
        self.log = logging.getLogger(f"cashdevice.device.{id(self):x}")
        self.commands = CommandTable(allow_unverified=allow_unverified)
        """This device's command table (:mod:`cashdevice.commands`); override rows here."""
        self.poll_interval = poll_interval
        self.moving_poll_interval = moving_poll_interval
        self.deadline = deadline
        self._moving = False
        self._moving_repeats = 0
        self._moved_at_once = False  # the last pause while money moved was none
        self._long_step = False
        """The last poll showed a note's long step only: a PollGroup may send the repeats."""
        self._step_view = (DeviceState.NOT_CONNECTED, DeviceError.NONE)
        self._disabled_polls = 0
        self.timeout = timeout
        self.retries = retries
        self.reconnect_interval = reconnect_interval
        self._v: dict[str, Any] = default_values()
        self._state_lock = threading.RLock()
        self._status_queue: collections.deque[EventArgs] = collections.deque(maxlen=_STATUS_QUEUE_LIMIT)
        self._status_dropping = False  # the queue is full and drops its oldest (logged once)
        self._status_lock = threading.Lock()  # the queue's ends: _fire, GetDeviceStatus, _return_status
        self._link: SSPLink | None = None
        self._address = 0
        self._enc_key = DEFAULT_FIXED_KEY
        self._model_hint = DeviceModel.NOTE_VALIDATOR
        self._key_limit = KEY_LIMIT
        self._log_raw = False
        self._log_decrypted = False
        self._log_detach: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        self._generation = 0
        """Which poll thread owns the device: raised by each start, and by a stop from inside the
        poll thread (a receiver calling Close), which cannot wait for the thread to end."""
        self._life = threading.RLock()
        """Open, Close, startRunning and stopRunning, one at a time (see :meth:`_lifecycle`)."""
        self._closers = 0  # Close() calls waiting for _life: an Open in progress gives up
        self._opener: threading.Thread | None = None  # the thread in Open (its exchanges stop for a Close)
        self._joining = False  # a lifecycle call waits for the poll thread to end
        self._close_deferred = False  # a receiver's Close() that a stopRunning in progress runs
        self._poll_busy = threading.Lock()
        """Held by the poll thread while it holds this device (one turn of the loop), and by the
        poll group during a poll it sends."""
        self.poll_group = poll_group
        """The :class:`~cashdevice.PollGroup` that polls this device while it is idle or a note's
        long step repeats (None: its own thread always does); read when the poll thread starts."""
        self._lent = False
        self._lend_ticket = 0
        self._handed_back = False
        """The poll group left a poll abandoned: the thread resends it (see :mod:`_poller`)."""
        self._handed: tuple[Command, bytes] | None = None
        """A poll and its reply the poll group received, for the poll thread to handle."""
        self._handed_done = threading.Event()
        self._handed_done.set()
        self._last_reply = b""
        self._next_due = 0.0
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._stop = threading.Event()
        self._wake = Wake()
        self._session_event = threading.Event()  # set while _session_up (others wait for it)
        self._up = False
        self._poll_recovered = threading.Event()
        self._abandoned_tries = 0
        self._abandoned_since = 0.0
        self.abandoned_poll_patience = abandoned_poll_patience
        self._encrypted = False
        self._poll_data: dict[bool, bytes] = {}  # POLL's DATA (True: POLL WITH ACK), from the table
        self._family = ev.DeviceFamily.VALIDATOR
        self._poll_with_ack = True
        self._ack_owed = False
        self._unacked: list[ev.Event] = []  # ack events handled from a reply whose ACK was held back
        self._undecodable: tuple[ev.Event | None, int] = (None, 0)  # that reply's unknown event, times seen
        self._device_reset = False
        self._established_once = False
        self._pending = None
        self._fraud_note: tuple[int, str] | None = None  # a note FRAUD ATTEMPT named, on its way
        self._reset_polls = 0  # polls left for the unit to say where a credited note went (a reset)
        self._escrow_channel = 0
        self._ticket_in_escrow = False  # a barcode ticket waits in escrow (BARCODE TICKET VALIDATED)
        self._rejecting_channel = 0
        self._hold = False
        self._escrow_decisions = 0  # AcceptFromEscrow / ReturnFromEscrow calls that decided (a receiver's)
        self._bezel_reported = False
        self._error_transfer_due = False  # a payout ended by ERROR DURING PAYOUT: its note's C9 to come
        self._dispensing_reported: dict[str, int] = {}  # country -> value last reported DISPENSING
        self._last_end: ev.Amount | None = None  # what the last transaction moved (no transaction since)
        self._transactions_opened = 0  # (a reply from before a transaction opened says nothing of it)
        self._callers = threading.local()  # per thread: has the caller of this call gone (_caller)
        self._previous_events: list[ev.Event] = []  # the events of the last poll that showed any
        self._transaction: DispenserTransactionType | None = None
        self._transaction_amount = ev.Amount(0, "")
        self._transaction_levels: dict[tuple[int, str], int] = {}
        self._transaction_stored = 0
        self._transaction_reported = 0  # the most the device reported moved (DISPENSING ...) so far
        self._transaction_cleared = 0  # a payout's notes the unit put in the cashbox as it powered up
        self._transaction_returned = 0  # ... and back into the store (NOTE INTO STORE AT RESET)
        self._after_cut = 0  # polls left in which NOTE INTO STORE AT RESET is a cut transaction's note
        # DispenserTransactionEvents queued (with when), delivered in order by one thread at a time
        self._transaction_events: collections.deque[tuple[DispenserTransactionEventResponse, float]] = (
            collections.deque()
        )
        self._delivering_transaction_events = False
        self._job_requester: int | None = None  # the thread inside a payout request (_one_job)
        self._levels_reads = 0  # levels reads applied (_read_levels)
        self._levels_mark = 0  # ... when the poll thread last handled a poll reply
        self._transaction_unconfirmed = False
        self._quiet_polls = 0
        self._replenish_left = 0
        self._reenable = False
        self._enable_after_settle = False  # a reconnect left a payout to settle: no ENABLE until it ends
        self._port_read_error = False
        self._auto_accept = auto_accept
        self._acceptor_enabled = True
        self._payout_enabled = False
        self._payout_confirmed = False
        self._inhibits_unconfirmed = False  # an inhibit request got no answer: sent again by the poll thread
        self._routes_unknown = False  # a route request and the read after it got no answer
        self._payout_option: int | None = None  # EnablePayoutDevice's option byte (sent again with it)
        self._hopper_options: tuple[int, int] | None = None  # SetHopperOptions (set again on reconnect)
        self._refill_mode: bool | None = None  # RefillMode (set again on reconnect)
        self._cashbox_limits: list[tuple[int, int, str]] | None = None  # SetCashBoxPayoutLimit (the same)
        # the other settings the unit accepted (barcode, payout limit, twin mode ...; set again on reconnect)
        self._settings_again: dict[tuple[Any, ...], tuple[str, str, tuple[Any, ...]]] = {}
        self._disabled_by_stop = False
        self._download: FirmwareDownload | None = None
        self._download_lock = threading.Lock()
        self.download_timing: DownloadTiming | None = None
        """Pauses and timeouts of DownloadFirmware (None: the manual's; tests shorten them)."""

    # ------------------------------------------------------------------------------ helpers

    @property
    def _session_up(self) -> bool:
        return self._up  # (read every turn: a bool, not the Event's method)

    @_session_up.setter
    def _session_up(self, up: bool) -> None:
        self._up = up
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
        """Queue ``args`` for GetDeviceStatus and call every receiver; a failing one is logged.
        The queue keeps the last :data:`_STATUS_QUEUE_LIMIT` events: once it is full (nobody has
        called GetDeviceStatus for that long) the oldest are dropped, which is logged once until
        the next GetDeviceStatus."""
        queue = self._status_queue
        with self._status_lock:
            dropping = len(queue) == queue.maxlen and not self._status_dropping
            if dropping:
                self._status_dropping = True
            queue.append(args)
        if dropping:
            self.log.warning(
                "GetDeviceStatus not called for %d events: its queue now drops the oldest "
                "(the event receivers still get every event)",
                queue.maxlen,
            )
        for receiver in list(signal.receivers_for(self)):
            try:
                deliver(receiver, self, args, signal.signatures)
            except Exception:
                self._receiver_raised(args, "")
            except BaseException:
                # SystemExit or KeyboardInterrupt from a receiver: on the main thread it goes on
                # up (the application is stopping); on the poll thread it would end the thread
                # with the event undelivered to the other receivers and the device unpolled
                if threading.current_thread() is threading.main_thread():
                    raise
                self._receiver_raised(args, "; the poll thread goes on")

    def _receiver_raised(self, args: EventArgs, tail: str) -> None:
        """Log a receiver's exception (called in its ``except``).  When no handler of the
        application's would show it (logging not configured: only the library's NullHandler), it
        goes to stderr as an exception in a thread does: a ported C# handler with a typo would
        otherwise do nothing, silently.  An application that set the ``cashdevice`` logger above
        ERROR chose silence, and gets it."""
        message = f"a {type(args).__name__} receiver raised{tail}"
        self.log.exception("%s", message)
        stderr = sys.stderr
        if stderr is None or not self.log.isEnabledFor(logging.ERROR) or _heard(self.log, logging.ERROR):
            return  # (None under pythonw.exe: nowhere to show it, as threading.excepthook does)
        try:
            stderr.write(f"cashdevice [{self.comPort}]: {message}\n")
            traceback.print_exc(file=stderr)
        except (OSError, ValueError):
            pass  # (a closed stderr, a broken pipe: the other receivers still get the event)

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
        """Return and drain the queue of every event fired so far (REST GetDeviceStatus, L2453):
        the last 10,000 (``_STATUS_QUEUE_LIMIT``); older ones are dropped, with a warning."""
        out = _html.DeviceStatusList()
        with self._status_lock:
            self._status_dropping = False
            out.extend(self._status_queue)
            self._status_queue.clear()
        return out

    def _return_status(self, events: list[EventArgs]) -> None:
        """Put ``events``, which a GetDeviceStatus took, back at the front of the queue, in their
        order: the REST server does this when its client went away before the answer was sent,
        so that the next GetDeviceStatus still reports them.  Where the queue has no room for all
        of them, the oldest are dropped, as when it fills (logged)."""
        queue = self._status_queue
        with self._status_lock:
            room = (queue.maxlen or 0) - len(queue)
            dropped = max(0, len(events) - room)
            queue.extendleft(reversed(events[dropped:]))
        if dropped:
            self.log.warning("GetDeviceStatus: %d undelivered events dropped (the queue is full)", dropped)

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
        complete the session).  A :meth:`Close` from another thread meanwhile makes Open give
        up at its next exchange (``PORT_ERROR``); the Close then runs.
        """
        with self._lifecycle("Open()") as mine:
            if not mine:
                return CashSystemOpenResult.PORT_ERROR
            self._opener = threading.current_thread()
            try:
                return self._open(comPort, sspAddress, devModel, encKey, logFilePath, logRawPackets)
            finally:
                self._opener = None

    def _open(
        self,
        comPort: str,
        sspAddress: int,
        devModel: DeviceModel,
        encKey: int,
        logFilePath: str | None,
        logRawPackets: bool,
    ) -> CashSystemOpenResult:
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
        self._payout_option = self._hopper_options = None  # (options of an earlier session)
        self._refill_mode = self._cashbox_limits = None
        self._settings_again = {}
        # (_last_end is kept: a unit power-cycled while closed reports the same end again, GA973)
        try:
            self._establish()
        except (SSPError, ValueError) as exc:
            self.log.error(
                "Open(%s): the device did not complete the session: %s%s",
                comPort,
                exc,
                "; SMART Hopper and SMART Coin System answer at address 16 (0x10): Open(port, 16, ...)"
                if self._address == 0 and isinstance(exc, SSPTimeoutError)
                else "; a unit that refuses the first encrypted commands after the key exchange may"
                " have another fixed key: check encKey"
                if isinstance(exc, _KeyNotSet)
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
        with self._lifecycle("startRunning()") as mine:
            if not mine:
                return
            if not self._v["isOpen"]:
                self.log.error("startRunning(): the port is not open; call Open first")
                return
            if self.isRunning:
                return
            self._stop.clear()
            self._generation += 1
            thread = threading.Thread(
                target=_poll_thread,
                args=(weakref.ref(self), self._stop, self._wake, self._poll_busy, self.poll_group),
                kwargs={"generation": self._generation},
                name=f"cashdevice-poll {self._v['comPort']}@{self._address:#04x}",
                daemon=True,
            )
            thread.start()
            self._thread = thread

    @csharp(None)
    def stopRunning(self) -> None:
        """C# ``void stopRunning()`` (L11688): stop the poll thread, DISABLE the device; the port
        stays open."""
        with self._lifecycle("stopRunning()") as mine:
            if not mine or not self.isRunning:
                return
            self._set_state(DeviceState.STOPPING)
            self._stop_thread()
            if self._link is not None and self._link.is_open and self._poll_kept():
                # no poll thread resends it now: resend it here (its credit reported), or the
                # DISABLE below is refused and the unit stays enabled, unpolled
                self._resend_kept_poll()
            self._disabled_by_stop = self._best_effort("DISABLE")
            if not self._disabled_by_stop:
                self.log.warning("stopRunning(): the device did not take DISABLE; it may still accept money")
            self._set_state(DeviceState.STOPPED)
            if self._close_deferred:  # a receiver asked for Close while this waited for its thread
                self.Close()

    @csharp(None, needs_open=False)
    def Close(self) -> None:
        """C# ``void Close()`` (L11705): stop the poll thread and close the port (idempotent).
        An :meth:`Open` running in another thread gives up at its next exchange first."""
        with self._state_lock:
            self._closers += 1
        try:
            with self._lifecycle("Close()") as mine:
                if not mine:
                    # another thread is closing or stopping, and waits for this poll thread to
                    # end (after this turn); a stopRunning closes too once it is done
                    self._close_deferred = True
                    self._stop.set()
                    return
                self._close_deferred = False
                self._stop_thread()
                if self._link is not None and self._link.is_open and self._poll_kept():
                    self._resend_kept_poll()  # (closing the port forgets it, and the credit in it)
                if self._link is not None and self._link.is_open and self._session_up:
                    if self._ack_owed:
                        self._send_event_ack_quietly()
                    self._best_effort("DISABLE")
                    self._await_pending_credit()
                self._flush_pending()
                self._close_port()
                self._set_state(DeviceState.NOT_CONNECTED)
                detach, self._log_detach = self._log_detach, None
                if detach is not None:
                    detach()
        finally:
            with self._state_lock:
                self._closers -= 1

    @contextlib.contextmanager
    def _caller(self, gone: Callable[[], bool]) -> Iterator[None]:
        """While this thread runs a call for a caller that may go away (a REST client that times
        out): ``gone()`` says whether it has.  A payout, float or empty is then not started
        (BUSY, nothing sent): its caller would never learn that it ran, and may ask again."""
        self._callers.gone = gone
        try:
            yield
        finally:
            self._callers.gone = None

    def _await_pending_credit(self) -> None:
        """A credited note is still on its way (CREDIT seen, STACKED or STORED not yet): poll as the
        start-up poll does (events only, nothing sent to converge) until the unit says where it
        went, for :data:`_CLOSE_CREDIT_WAIT` seconds at most.  Reported as STACKED at once
        instead, a note that the unit then reported STORED with its value (an NV11 with
        GIVE_VALUE_ON_STORED) was credited again after the next Open."""
        deadline = time.monotonic() + _CLOSE_CREDIT_WAIT
        pause = threading.Event()  # (never set: a wait between two polls)
        while self._pending is not None and self._session_up and time.monotonic() < deadline:
            try:
                self._poll_once(startup=True)
            except (SSPError, ValueError) as exc:
                self.log.warning("where the credited note went was not polled before Close: %s", exc)
                return
            if self._pending is not None:
                pause.wait(self.moving_poll_interval or 0.02)

    @csharp(None, needs_open=False)
    def Disconnect(self) -> None:
        """C# ``void Disconnect()`` (L11723): state NOT_CONNECTED, port and threads closed.  Same as
        :meth:`Close` in this port."""
        self.Close()

    def _stop_thread(self) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is threading.current_thread():
            # a receiver stops its own poll thread: it ends after this turn, even if an Open
            # (from the same receiver) starts the next one before that
            self._generation += 1
        elif thread is not None:
            self._joining = True
            try:
                thread.join(self.timeout * (self.retries + 1) * 4 + 5)
            finally:
                self._joining = False
            if thread.is_alive():  # pragma: no cover - would need a wedged port
                self.log.error("poll thread did not stop in time")
        self._thread = None

    @contextlib.contextmanager
    def _lifecycle(self, what: str) -> Iterator[bool]:
        """Hold the lifecycle lock for Open, Close, startRunning or stopRunning; yields False when
        it cannot be had.  Only the device's poll thread (a receiver calling one of them) can be
        refused: it waits while another thread holds the lock, unless that thread is waiting for
        the poll thread to end (a Close or stopRunning joining it), which would never happen."""
        life = self._life
        thread = self._thread
        if thread is None or thread is not threading.current_thread():
            with life:
                yield True
            return
        while not life.acquire(timeout=0.05):
            if self._joining:
                self.log.warning(
                    "%s from an event receiver while another thread closes or stops the device: %s",
                    what,
                    "run after it" if what == "Close()" else "not run",
                )
                yield False
                return
        try:
            yield True
        finally:
            life.release()

    def _check_open_given_up(self) -> None:
        """Raise :class:`SSPPortError` in the thread running Open while a Close waits for it."""
        if self._closers and threading.current_thread() is self._opener:
            raise SSPPortError("Close() was called while Open was connecting")

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
        their levels (:mod:`cashdevice._device_log`).  A file that cannot be opened (a missing
        folder, no permission) is logged as an error and Open goes on without it."""
        detach, self._log_detach = self._log_detach, None
        if detach is not None:
            detach()
        try:
            self._log_detach = attach_log_file(self.log, path)
        except OSError as exc:
            # the device works without its log file: Open goes on, and says why there is none
            self.log.error("logFilePath %r cannot be written (%s); this device logs to no file", path, exc)

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

    @csharp(False)
    def GetUnitInfo(self) -> bool:
        """C# ``bool GetUnitInfo()`` (L11615): read serial numbers, firmware, dataset and build
        revisions (GET SERIAL NUMBER 0x0C with sub-devices, 0x20, 0x21, 0x4F).  True when every
        read succeeded; ``unit_info_retrieved`` says the same."""
        ok = True
        try:
            self._set(mainSerialNumber=parse_serial_number(self._ok("GET_SERIAL_NUMBER")))
            self._set(mainSerialNumberValid=True)
        except (SSPReplyError, ValueError) as exc:
            self.log.warning("GET SERIAL NUMBER failed: %s", exc)
            ok = False
        for sub, name in MODELS[self._v["deviceModel"]].sub_devices:
            try:
                serial = parse_serial_number(self._ok("GET_SERIAL_NUMBER", sub))
                self._set(**{f"{name}SerialNumber": serial, f"{name}SerialNumberValid": True})
            except (SSPReplyError, ValueError) as exc:
                self.log.warning("GET SERIAL NUMBER %d (%s) failed: %s", sub, name, exc)
                ok = False
        for command, name in (
            (Command.GET_FIRMWARE_VERSION, "firmware"),
            (Command.GET_DATASET_VERSION, "dataset"),
        ):
            try:
                self._set(**{name: self._ok(command.name).decode("ascii", "replace").rstrip("\x00")})
            except SSPReplyError as exc:
                self.log.warning("%s failed: %s", command.name, exc)
                ok = False
        try:
            self._apply_build_revisions(parse_build_revisions(self._ok("GET_BUILD_REVISION")))
        except (SSPReplyError, ValueError) as exc:
            self.log.warning("GET BUILD REVISION failed: %s", exc)
            ok = False
        self._set(unit_info_retrieved=ok)
        return ok

    # ------------------------------------------------------------------------------ C# methods

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

        def busy(port: str) -> bool:
            if self._v["isOpen"] and port == self._v["comPort"]:
                return True
            return PORT_CLAIMS.holder(port) not in (None, self)

        def on_state(state: DownloadState, message: str) -> None:
            self._sync_download(download)
            self._fire(self.DownloadStateEvent, DownloadStateEventArgs(state, message))

        def on_block(ram: int, total_ram: int, block: int, total: int) -> None:
            self._sync_download(download)
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
        with self._download_lock:  # the check, the start and the assignment: one call at a time
            if self._download is not None and self._download.is_running:
                self.log.error("DownloadFirmware: a download is already running")
                return False
            previous, self._download = self._download, download
            if not download.start():
                self._download = previous  # refused: the last download's status stands
                return False
        self._sync_download(download)
        return True

    def _sync_download(self, download: FirmwareDownload | None = None) -> None:
        if download is None:
            download = self._download
        if download is not None and download is self._download:
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
                if self._poll_kept():
                    # its SYNC would throw away the unit's cached reply (a credit it never repeats)
                    self.log.error("KeyExchangelimit32bit(): a poll whose reply may hold a credit is pending")
                    self._wake.set()
                    return False
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
        was waiting (the next POLL accepts it, ssp-protocol.md §5.5); False if none was.  A barcode
        ticket in escrow (BAR_CODE_TICKET_VALIDATED) is accepted the same way (GA138)."""
        if not self._v["noteInEscrow"] and not self._ticket_in_escrow:
            self.log.info("AcceptFromEscrow(): no note in escrow")
            return False
        self._escrow_decisions += 1
        self._hold = False
        self._wake.set()
        return True

    @csharp(False)
    def ReturnFromEscrow(self) -> bool:
        """C# ``bool ReturnFromEscrow()`` (L12476): REJECT (0x08) the note in escrow.  True if a
        note was returned; False if none was in escrow or the device refused (F5).  A barcode
        ticket in escrow (BAR_CODE_TICKET_VALIDATED) is returned the same way (GA138: "The host
        can then send a Reject or Poll command to reject or accept the ticket")."""
        if not self._v["noteInEscrow"] and not self._ticket_in_escrow:
            self.log.info("ReturnFromEscrow(): no note in escrow")
            return False
        try:
            self._ok("REJECT")
        except (SSPError, ValueError) as exc:
            self.log.warning("ReturnFromEscrow(): %s", exc)
            return False
        self._escrow_decisions += 1
        self._hold = False
        self._wake.set()
        return True

    @csharp(None)
    def EnableAcceptor(self) -> None:
        """C# ``void EnableAcceptor()`` (L12257): ENABLE (0x0A); payout modules are not touched."""
        self._acceptor_enabled = True
        if not self._enable_now():
            self.log.warning("EnableAcceptor(): ENABLE not acknowledged")

    @csharp(None)
    def DisableAcceptor(self) -> None:
        """C# ``void DisableAcceptor()`` (L12275): DISABLE (0x09); payout modules stay enabled."""
        self._acceptor_enabled = False
        if not self._best_effort("DISABLE"):
            self.log.warning("DisableAcceptor(): DISABLE not acknowledged")

    # ------------------------------------------------------------------------------ variables

    @csharp(fresh(dict), needs_open=False)
    def GetCompleteCashDevice(self) -> dict[str, Any]:
        """Every read-only variable with the REST GetCompleteCashDevice field names and value
        formats (enums by name, records as PascalCase JSON), seed L1934-L2366."""
        with self._state_lock:
            return to_json(self._v)


# ---------------------------------------------------------------------------------- helpers



def _collected(
    name: str,
    link: SSPLink,
    log: logging.Logger,
    detach_log: Callable[[], None] | None,
    stop: threading.Event,
    wake: Wake,
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



def _coerce(enum_type: Callable[[Any], Any], value: Any) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        return None


def _logger_name(port: str, address: int) -> str:
    """``[/dev/ttyACM0@0x00]``: the port as written, its dots (logger-tree separators) as ``·``."""
    return f"[{port.replace('.', '·') or 'port'}@0x{address:02X}]"

