"""The poll loop and event interpreter of ``CashDevice`` (a private mixin).

:func:`_poll_thread` runs :meth:`PollerMethods._run` every poll interval; each turn polls
(:meth:`PollerMethods._poll_once`), hands the decoded events to :meth:`PollerMethods._handle_events`
(device state, CashEvents, escrow, pending credits, dispenser transactions), acknowledges them,
then brings the device to the wanted state (:meth:`PollerMethods._converge`).  The interpreter
needs no link: feed it lists of :class:`cashdevice.events.Event` (tests/cash_device/test_interpreter.py).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from . import events as ev
from ._contract import DeviceContract, _SessionLost
from .enums import (
    CashEventType,
    DeviceError,
    DeviceState,
    DispenserTransactionState,
    DispenserTransactionType,
    ReplenishEventType,
)
from .link import LinkTimeoutError
from .models import DISPENSERS, PAYOUT_MODELS
from .records import CurrencyAssignmentEntry, DispenserTransactionEventResponse, ReplenishEventResponse
from .ssp import Command, PollEvent, Response, SSPError, SSPPortError, SSPReplyError, SSPTimeoutError

if TYPE_CHECKING:
    from .cash_device import CashDevice
    from .poll_group import PollGroup

# State-bearing poll events (the DeviceState a poll reply containing them puts the device in).
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
    PollEvent.SLAVE_RESET: DeviceState.RESET,
    PollEvent.READ: DeviceState.ACCEPTING,
    PollEvent.STACKING: DeviceState.ACCEPTING,
    PollEvent.CREDIT: DeviceState.ACCEPTING,
    PollEvent.REJECTING: DeviceState.REJECTING,
    PollEvent.REJECTED: DeviceState.REJECTED,
    PollEvent.SAFE_JAM: DeviceState.ERROR,
    PollEvent.UNSAFE_JAM: DeviceState.ERROR,
    PollEvent.STACKER_FULL: DeviceState.DEVICE_FULL,
    PollEvent.DEVICE_FULL: DeviceState.DEVICE_FULL,
    PollEvent.FRAUD_ATTEMPT: DeviceState.FRAUD_ATTEMPT,
    PollEvent.CASHBOX_REMOVED: DeviceState.CASHBOX_REMOVED,
    PollEvent.CASHBOX_REPLACED: DeviceState.CASHBOX_REPLACED,
    PollEvent.NOTE_PATH_OPEN: DeviceState.NOTE_PATH_OPEN,
    PollEvent.CHANNEL_DISABLE: DeviceState.CHANNEL_DISABLE,
    PollEvent.INITIALISING: DeviceState.INITIALISING,
    PollEvent.DISPENSING: DeviceState.DISPENSING,
    PollEvent.DISPENSED: DeviceState.DISPENSING,
    PollEvent.NOTE_HELD_IN_BEZEL: DeviceState.NOTE_HELD_IN_BEZEL,
    PollEvent.FLOATING: DeviceState.FLOATING,
    PollEvent.FLOATED: DeviceState.FLOATING,
    PollEvent.EMPTYING: DeviceState.EMPTYING,
    PollEvent.EMPTIED: DeviceState.EMPTYING,
    PollEvent.SMART_EMPTYING: DeviceState.EMPTYING,
    PollEvent.SMART_EMPTIED: DeviceState.EMPTYING,
    PollEvent.JAMMED: DeviceState.ERROR,
    PollEvent.JAM_RECOVERY: DeviceState.JAM_RECOVERY,
    PollEvent.PAY_IN_ACTIVE: DeviceState.PAY_IN_ACTIVE,
    PollEvent.COIN_MECH_JAMMED: DeviceState.COIN_MECH_JAMMED,
    PollEvent.COIN_MECH_ERROR: DeviceState.ERROR,
    PollEvent.COIN_REJECTED: DeviceState.REJECTED,
    PollEvent.ATTACHED_COIN_MECH_ENABLED: DeviceState.COIN_MECH_ENABLED,
    PollEvent.ATTACHED_COIN_MECH_DISABLED: DeviceState.COIN_MECH_DISABLED,
    PollEvent.MAINTENANCE_REQUIRED: DeviceState.MAINTENANCE_REQUIRED,
    PollEvent.CALIBRATION_FAILED: DeviceState.CALIBRATION_FAILED,
    PollEvent.BARCODE_TICKET_VALIDATED: DeviceState.BAR_CODE_TICKET_VALIDATED,
    PollEvent.BARCODE_TICKET_ACK: DeviceState.BAR_CODE_TICKET_ACKNOWLEDGE,
    PollEvent.NOTE_FLOAT_REMOVED: DeviceState.NOTE_FLOAT_REMOVED,
    PollEvent.NOTE_FLOAT_ATTACHED: DeviceState.NOTE_FLOAT_ATTACHED,
}
# Poll events that are themselves a CashEvent carrying the event's amounts.
_AMOUNT_CASH_EVENT: dict[int, CashEventType] = {
    PollEvent.DISPENSING: CashEventType.DISPENSING,
    PollEvent.DISPENSED: CashEventType.DISPENSED,
    PollEvent.HALTED: CashEventType.HALTED,
    PollEvent.JAMMED: CashEventType.JAMMED,
    PollEvent.TIMEOUT: CashEventType.TIME_OUT,
    PollEvent.INCOMPLETE_PAYOUT: CashEventType.INCOMPLETE_PAYOUT,
    PollEvent.INCOMPLETE_FLOAT: CashEventType.INCOMPLETE_FLOAT,
    PollEvent.COIN_CREDIT: CashEventType.COIN_CREDIT,
    PollEvent.VALUE_ADDED: CashEventType.VALUE_ADDED,
    PollEvent.COIN_REJECTED: CashEventType.REJECTED,
    PollEvent.ERROR_DURING_PAYOUT: CashEventType.ERROR_DURING_PAYOUT,
    PollEvent.NOTE_TRANSFERRED_TO_STACKER: CashEventType.MOVED_TO_CASHBOX,
    PollEvent.NOTE_INTO_STACKER_AT_RESET: CashEventType.NOTE_CLEARED_TO_CASHBOX,
    PollEvent.NOTE_INTO_STORE_AT_RESET: CashEventType.STORED,
    PollEvent.NOTE_DISPENSED_AT_RESET: CashEventType.DISPENSED,
}
# StoredInCashbox: events that put one note in the cashbox; operations that report theirs (0x53).
_ONE_NOTE_TO_CASHBOX = frozenset(
    {
        PollEvent.NOTE_TRANSFERRED_TO_STACKER,
        PollEvent.NOTE_CLEARED_INTO_CASHBOX,
        PollEvent.NOTE_INTO_STACKER_AT_RESET,
    }
)
_CASHBOX_OPERATION_DONE = frozenset({PollEvent.FLOATED, PollEvent.EMPTIED, PollEvent.SMART_EMPTIED})
# Events that persist on a unit until a reset (a SMART Hopper's FRAUD ATTEMPT, with the amount paid so
# far, GA973: "The Fraud Event response is persistent and can only be cleared by resetting the
# device"): reported once while consecutive polls show the same event.  (A note validator's FRAUD
# ATTEMPT carries a channel, not an amount, and is not persistent.)
_PERSISTENT = frozenset({PollEvent.FRAUD_ATTEMPT})
# Dispenser transactions: progress and terminal events, with the transaction type.
_TRANSACTION_PROGRESS: dict[int, DispenserTransactionType] = {
    PollEvent.DISPENSING: DispenserTransactionType.PAYOUT,
    PollEvent.FLOATING: DispenserTransactionType.FLOAT,
    PollEvent.EMPTYING: DispenserTransactionType.EMPTY,
    PollEvent.SMART_EMPTYING: DispenserTransactionType.EMPTY,
}
_TRANSACTION_DONE: dict[int, DispenserTransactionType] = {
    PollEvent.DISPENSED: DispenserTransactionType.PAYOUT,
    PollEvent.FLOATED: DispenserTransactionType.FLOAT,
    PollEvent.EMPTIED: DispenserTransactionType.EMPTY,
    PollEvent.SMART_EMPTIED: DispenserTransactionType.EMPTY,
}
_TRANSACTION_FAILED = frozenset(
    {
        PollEvent.HALTED,
        PollEvent.JAMMED,
        PollEvent.TIMEOUT,
        PollEvent.ERROR_DURING_PAYOUT,
        PollEvent.INCOMPLETE_PAYOUT,
        PollEvent.INCOMPLETE_FLOAT,
    }
)
_TRANSACTION_ENDS = frozenset(_TRANSACTION_DONE) | _TRANSACTION_FAILED
_UNDECODABLE_REPEATS = 3
"""Replies in a row with the same event the host cannot decode, after which it acknowledges them all the
same (a unit that repeats an unknown event would otherwise never be acknowledged)."""
_END_WAIT = 2.0
"""Seconds a queued DispenserTransactionEvent waits for the thread delivering the ones before it (an
IN_PROGRESS receiver that waits for the end), before the poll thread delivers it out of order."""
# Poll events that show a dispenser transaction still running (or just ended).
_TRANSACTION_SIGNS = (
    frozenset(_TRANSACTION_PROGRESS)
    | frozenset(_TRANSACTION_DONE)
    | _TRANSACTION_FAILED
    | {PollEvent.NOTE_HELD_IN_BEZEL, PollEvent.CASHBOX_PAID, PollEvent.NOTE_TRANSFERRED_TO_STACKER}
)
# Poll events that show money moving: the next poll goes at once (a credit takes several polls).
_MOVING = frozenset(
    {
        PollEvent.READ,
        PollEvent.STACKING,
        PollEvent.REJECTING,
        PollEvent.CREDIT,
        PollEvent.DISPENSING,
        PollEvent.FLOATING,
        PollEvent.EMPTYING,
        PollEvent.SMART_EMPTYING,
        PollEvent.COIN_CREDIT,
        PollEvent.VALUE_ADDED,
    }
)
# Poll events of a note's long step (read, stacked or rejected: a second or two, repeated in
# every poll meanwhile, never acknowledged).  A reply of these alone, the same as the last one, has
# been handled already: a PollGroup may take it (PollerMethods._group_keep).
_LONG_STEP = frozenset({PollEvent.STACKING, PollEvent.REJECTING})
# Start-up events about a note the device moved while it powered up.
_AT_RESET_TO_STORE = frozenset({PollEvent.NOTE_INTO_STORE_AT_RESET})
_AT_RESET_TO_CASHBOX = frozenset({PollEvent.NOTE_INTO_STACKER_AT_RESET, PollEvent.NOTE_CLEARED_INTO_CASHBOX})
_EVENT_ERROR: dict[int, DeviceError] = {
    PollEvent.SAFE_JAM: DeviceError.SAFE_JAM,
    PollEvent.UNSAFE_JAM: DeviceError.UNSAFE_JAM,
    PollEvent.STACKER_FULL: DeviceError.STACKER_FULL,
    PollEvent.JAMMED: DeviceError.JAMMED,
    PollEvent.ERROR_DURING_PAYOUT: DeviceError.ERROR_DURING_PAYOUT,
    PollEvent.PAYOUT_OUT_OF_SERVICE: DeviceError.PAYOUT_OUT_OF_SERVICE,
    PollEvent.CASHBOX_OUT_OF_SERVICE: DeviceError.CASHBOX_OUT_OF_SERVICE,
    PollEvent.CALIBRATION_FAILED: DeviceError.CALIBRATION_FAILED,
    PollEvent.COIN_MECH_ERROR: DeviceError.COIN_MECH_ERROR,
    PollEvent.COIN_MECH_JAMMED: DeviceError.COIN_MECH_JAMMED,
    PollEvent.MAINTENANCE_REQUIRED: DeviceError.MAINTENANCE_REQUIRED,
}
_ERROR_DURING_PAYOUT_TEXT = {
    0: "Note not correctly detected as it is routed",
    1: "Note jammed in transport",
    2: "Cashbox error",
    3: "Payout stalled",
    4: "Payout cancelled by poll timeout",
}


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
_AFTER_CUT_POLLS = 3
"""Polls after a reset cut a dispenser transaction in which NOTE INTO STORE AT RESET, with no credited
note pending, is the transaction's note put back (GA973: such notes come in the poll after SLAVE
RESET's)."""


def _one_currency(a: str, b: str) -> bool:
    """Amounts of one currency, or of one that is not said (a mixed-currency transaction has
    none; an event without a country code)."""
    return not a or not b or a == b


class PollerMethods(DeviceContract):
    """The poll loop, events -> state and CashEvents, escrow, pending credits, transactions."""

    # ------------------------------------------------------------------------------ poll thread

    def _run_starting(self) -> None:
        """The poll thread's start (:func:`_poll_thread`): STARTING, re-enable after stopRunning,
        STARTED."""
        self._set_state(DeviceState.STARTING)
        if self._disabled_by_stop and self._session_up:
            self._disabled_by_stop = False
            if self._acceptor_enabled:
                self._enable_now()
        self._set_state(DeviceState.STARTED)
        self._next_due = time.monotonic()

    def _run(self) -> float:
        """One turn of the poll loop; returns the seconds until the next one.  :func:`_poll_thread`
        calls it while the device lives and waits between turns holding no reference to it, so
        an instance nobody references is collected (its finalizer stops the thread and closes
        the port)."""
        self._long_step = False  # (set again by a poll that shows one)
        try:
            handed = self._handed
            if handed is not None:
                # a poll reply the group received with news in it: first, whatever else happened
                self._handed = None
                try:
                    self._poll_once(handed=handed)
                finally:
                    self._handed_done.set()
            elif self._link is None or not self._link.is_open:
                self._reopen()
            elif not self._session_up:
                try:
                    self._establish()
                except SSPReplyError as exc:
                    # a start-up step refused (a unit still powering up, a reply garbled past its
                    # CRC): the session is tried again at the next turn, as after silence
                    self._on_link_trouble(exc)
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
        if self._transaction_events:
            self._deliver_overdue_transaction_events()  # (no lock held here)
        if self._session_up and self._moving and not self._hold:
            interval = self._moving_wait()
            self._next_due = time.monotonic()  # the next step of a credit or payout: poll soon
        else:
            # (a note held in escrow for the application: a HOLD every interval keeps it there)
            interval = self.poll_interval if self._session_up else self.reconnect_interval
        self._moved_at_once = interval == 0.0
        self._next_due = max(self._next_due + interval, time.monotonic())
        return max(0.0, self._next_due - time.monotonic())

    def _moving_wait(self) -> float:
        """The pause before the next poll while money moves.

        After a reply that showed a new step the next poll goes at once (a note in escrow waits
        for it: the unit stacks the note only when the next POLL comes), unless the poll that
        showed the step already went at once; then ``moving_poll_interval``.  While the same reply
        comes back (a note being read or stacked for a second or two) the pause doubles from
        ``moving_poll_interval`` up to half the poll interval: a note's two long steps (reading,
        stacking) are then each seen within half an interval of their end, so the credit comes
        within one interval of the mechanics, while the unit is polled at most 10 times a second
        through a long step (GA973 §7.4 asks for at least 200 ms between polls, so that the unit
        is not interrupted too often while it reads a note).  ``moving_poll_interval`` equal to
        ``poll_interval`` polls strictly every interval."""
        base = self.moving_poll_interval
        interval = self.poll_interval
        if base >= interval:
            return interval
        repeats = self._moving_repeats
        if repeats == 0:
            return base if self._moved_at_once else 0.0
        return min(base * (1 << min(repeats - 1, 10)), max(base, interval / 2))

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

    def _poll_once(self, startup: bool = False, handed: tuple[Command, bytes] | None = None) -> None:
        """One POLL (WITH ACK).  Events are handled as soon as the reply arrives, then
        acknowledged; an EVENT ACK that gets no answer stays owed and goes first next time, so
        the device never repeats events the host has handled (it clears only what it reported,
        and blocks new money events until then: ssp-protocol.md §5.4).  ``handed``: the poll and
        its reply, received by the :class:`~cashdevice.PollGroup` (handled here, not sent again)."""
        link = self._link
        if link is None:
            raise SSPPortError("the port is not open")
        with link.lock:
            if handed is not None:
                command, reply = handed
                self._handed_done.set()  # the link lock is ours: other threads' commands wait for it
            else:
                if self._ack_owed:
                    self._send_event_ack()
                if self._hold and (not startup or self._session_up):
                    # (also the start-up poll of a reconnect: a unit that kept the note in escrow
                    # takes a POLL for its accept; one that reset refuses the HOLD.  The resent
                    # poll of an abandoned exchange, session down, goes as it was.)
                    reply = self._send("HOLD")
                    if reply[0] == Response.OK:
                        return
                    self._hold = False  # nothing in escrow any more: poll to see what happened
                command = Command.POLL_WITH_ACK if self._poll_with_ack and self._encrypted else Command.POLL
                reply = self._send(command._name_)  # (an enum's .name runs Python)
                if reply[0] == Response.COMMAND_NOT_KNOWN and command == Command.POLL_WITH_ACK:
                    self.log.info("POLL WITH ACK not supported; using POLL")
                    self._poll_with_ack = False
                    command = Command.POLL
                    reply = self._send(command._name_)
            if reply[0] != Response.OK:
                self.log.warning("poll answered 0x%02X", reply[0])
                self._last_reply = b""
                return
            events = []  # (OK alone, the idle reply: nothing to decode or acknowledge)
            if len(reply) == 1:
                if self._unacked or self._undecodable[1]:
                    self._unacked = []  # (the unit shows them no more: it reset)
                    self._undecodable = (None, 0)
            else:
                events = ev.decode_events(
                    reply[1:],
                    self._v["sspProtocolVersion"],
                    self._family,
                    unverified=self.commands.allow_unverified,
                )
                ackable = [e for e in events if _ackable(e)]
                held, self._unacked = self._unacked, []
                if held and not self._device_reset and not _code_in(events, PollEvent.SLAVE_RESET):
                    # the events handled from the last reply, whose EVENT ACK was held back: the
                    # unit shows them again ("The events will repeat until the EVENT ACK command
                    # is sent", GA138 POLL WITH ACK); handled once, acknowledged now
                    events = _without_repeats(events, held)
                if events and not self._decodable(events[-1]):
                    # what follows an event we cannot decode is unknown: acknowledging it could
                    # lose a credit, so it is left for the device to report again (and what was
                    # handled of this reply is not handled again when it comes back) ...
                    tail = events[-1]
                    seen = self._undecodable[1] + 1 if self._undecodable[0] == tail else 1
                    self._undecodable = (tail, seen)
                    if seen < _UNDECODABLE_REPEATS:
                        if command == Command.POLL_WITH_ACK:
                            self._unacked = ackable
                        ackable = []
                    else:
                        # ... unless the unknown event itself comes back every time: the unit would
                        # hold its events (and its note path) for ever; its bytes were logged
                        if seen == _UNDECODABLE_REPEATS:
                            self.log.error(
                                "the same undecodable event came in %d replies in a row: acknowledged, "
                                "or the unit would hold its events for ever (what followed it is lost)",
                                seen,
                            )
                        if command == Command.POLL_WITH_ACK and seen % _UNDECODABLE_REPEATS == 0:
                            # (also when nothing decoded is an ack event: the unknown one may be)
                            self._ack_owed = True
                elif self._undecodable[1]:
                    self._undecodable = (None, 0)
                if ackable and command == Command.POLL_WITH_ACK:
                    self._ack_owed = True
            opened = self._transactions_opened  # (before its events: see _converge)
            self._handle_events(events, startup)
            self._levels_mark = self._levels_reads  # (levels read after this reply: see STORED)
            if self._ack_owed:
                self._send_event_ack()
            self._moving = self._pending is not None or any(e.code in _MOVING for e in events)
            if self._moving and reply == self._last_reply:
                self._moving_repeats += 1  # the same step again (a note being read or stacked)
            else:
                self._moving_repeats = 0
        if not self._poll_recovered.is_set():
            self._poll_recovered.set()
        if not startup:
            self._converge(events, opened)
            self._last_reply = reply
            if self._moving_repeats and events and all(_in_long_step(e) for e in events):
                # the same step a second time: a long one (a step seen once is often over by
                # the next poll, which this thread then sends itself, without a hand-over)
                v = self._v
                self._step_view = (v["deviceState"], v["deviceError"])
                self._long_step = self._wants_what_steps_show()

    # ------------------------------------------------------------------------------ poll group

    def _lendable(self) -> bool:
        """True when the device may be lent to its :class:`~cashdevice.PollGroup` after this turn:
        the last poll said nothing new, or showed a note's long step (:meth:`_group_keep`), and
        no step of the loop is pending."""
        link = self._link
        return (
            link is not None
            and link.attempts_possible
            and self._group_poll() is not None
            and (self._long_step or self._quiet_reply(self._last_reply))
        )

    def _group_poll(self) -> bytes | None:
        """The DATA of the POLL a :class:`~cashdevice.PollGroup` may send for this device now, or
        None while only the device's own thread may take the turn (an EVENT ACK owed, a note held,
        money moving other than in a long step, a transaction or re-enable pending, the session
        down, a wake-up asked)."""
        if (
            self._ack_owed
            or self._hold
            or ((self._moving or self._pending is not None) and not self._long_step)
            or self._reenable
            or self._device_reset
            or self._transaction is not None
            or not self._session_up
            or self._wake.is_set()
        ):
            return None
        with_ack = self._poll_with_ack and self._encrypted
        data = self._poll_data.get(with_ack)
        if data is None:  # (from the command table, once: the group asks twice a poll)
            name = "POLL_WITH_ACK" if with_ack else "POLL"
            data = self._poll_data[with_ack] = self.commands.get(name).encode()
        return data

    def _quiet_reply(self, reply: bytes) -> bool:
        """True if a poll answered ``reply`` leaves nothing to do: ``OK`` with the acceptor wanted
        enabled, or ``OK, DISABLED`` with it wanted disabled, in the state and error the host
        already shows, and the payout confirmed.  Only such replies are taken by a
        :class:`~cashdevice.PollGroup`; every other one is handled by the device's own thread."""
        disabled = _QUIET_REPLIES.get(reply)
        if disabled is None or disabled == self._acceptor_enabled:
            return False
        v = self._v
        if v["deviceState"] != (DeviceState.DISABLED if disabled else DeviceState.IDLE):
            return False
        if v["deviceError"] != DeviceError.NONE:
            return False
        return self._payout_confirmed or v["deviceModel"] not in PAYOUT_MODELS

    def _group_keep(self, reply: bytes) -> bool:
        """Whether a :class:`~cashdevice.PollGroup` takes ``reply``, and nothing became pending
        while the poll was on the line (a payout the application started, a wake-up it asked
        for).  It takes a quiet reply (:meth:`_quiet_reply`), and during a note's long step
        (:data:`_LONG_STEP`, or READ with no channel yet) the same reply as the last one, while
        the host still shows what that reply left (:meth:`_wants_what_steps_show`): this thread
        handled those bytes already, so handling them again would change nothing (its events are
        status, never acknowledged, and every CashEvent they raise was raised then).  Any other
        reply (the next step, a credit, a fault) goes to the device's thread."""
        if self._group_poll() is None:
            return False
        if not self._long_step:
            return self._quiet_reply(reply)
        v = self._v
        return (
            reply == self._last_reply
            and self._step_view == (v["deviceState"], v["deviceError"])
            and self._wants_what_steps_show()
        )

    def _wants_what_steps_show(self) -> bool:
        """A long step's reply leaves :meth:`_converge` nothing to do: the acceptor is wanted
        enabled (the reply does not show it disabled) and the payout is confirmed."""
        return self._acceptor_enabled and (
            self._payout_confirmed or self._v["deviceModel"] not in PAYOUT_MODELS
        )

    def _group_polled(self, reply: bytes, next_due: float | None) -> None:
        """A :class:`~cashdevice.PollGroup` took a reply (:meth:`_group_keep`): what
        :meth:`_poll_once`, :meth:`_converge` and :meth:`_run` do with one, and the next turn's
        time.  For a quiet reply: one interval after this poll was due, or ``next_due`` if the
        group gives one (a new phase for a device whose poll went late); for the same step again:
        :meth:`_moving_wait` after this poll was due."""
        if not self._poll_recovered.is_set():
            self._poll_recovered.set()
        if self._long_step:
            self._moving_repeats += 1
            self._disabled_polls = 0
            wait = self._moving_wait()
            self._moved_at_once = wait == 0.0
            # from when this poll was due, not from its reply: a poll the group sends late must
            # not delay every later one of the step (ten polls each a few ms late would see the
            # step's end tens of ms late); but never sooner than half the pause after the reply
            self._next_due = max(self._next_due + wait, time.monotonic() + wait / 2)
            return
        self._disabled_polls = self._disabled_polls + 1 if len(reply) > 1 else 0
        if next_due is None:
            next_due = self._next_due + self.poll_interval
        self._next_due = max(next_due, time.monotonic())

    def _send_event_ack(self) -> None:
        """EVENT ACK for the events already handled.  ``F0`` (cleared) and ``F5`` (nothing to
        clear: an earlier copy arrived, or the device reset) both settle it; a timeout keeps it
        owed."""
        reply = self._send("EVENT_ACK")
        self._ack_owed = False
        if reply[0] not in (Response.OK, Response.COMMAND_CANNOT_BE_PROCESSED):
            self.log.warning("EVENT ACK answered 0x%02X", reply[0])

    def _send_event_ack_quietly(self) -> None:
        try:
            self._send_event_ack()
        except (SSPError, ValueError) as exc:
            self.log.warning("EVENT ACK owed at close not delivered: %s", exc)

    def _converge(self, events: list[ev.Event], opened: int) -> None:
        """Bring the device to the host's wanted state: the acceptor enabled or disabled (as
        DISABLED in the poll shows), the payout enabled; and settle a transaction whose end the
        device can no longer report.  ``opened``: :attr:`_transactions_opened` when the reply of
        ``events`` came; a transaction opened since (by a receiver of these events, or by another
        thread meanwhile) is not judged by a reply from before it."""
        if not self._session_up:
            return  # the device reset: the start-up sequence sets everything again
        disabled = _code_in(events, PollEvent.DISABLED)
        if self._transaction is not None:
            if opened != self._transactions_opened:
                return  # (the next poll shows this transaction's own signs)
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
                if not self._best_effort("ENABLE"):
                    self.log.debug("ENABLE not accepted; retried at the next poll")
        elif not disabled and not self._acceptor_enabled:
            self._best_effort("DISABLE")
        if self._v["deviceModel"] in PAYOUT_MODELS and not self._payout_confirmed:
            self._assert_payout()
        if self._routes_unknown and self._v["deviceModel"] in DISPENSERS:
            # a route request got no answer, nor did the read after it: the routes the unit has
            self._routes_unknown = False
            try:
                self._read_routes()
            except (SSPError, ValueError) as exc:
                self._routes_unknown = True
                self.log.debug("routes not read: %s; read again at the next poll", exc)
        if self._inhibits_unconfirmed:
            try:
                self._send_inhibits()
            except (SSPError, ValueError) as exc:
                self.log.debug("inhibits not acknowledged: %s; sent again at the next poll", exc)

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
        self._handle_poll_events(events, startup)
        if self._reset_polls and not startup:
            self._reset_polls -= 1
            if self._pending is None:
                self._reset_polls = 0  # (the unit said where the note went: NOTE INTO STORE AT RESET ...)
            elif self._reset_polls == 0:
                self._settle_pending_from_levels()

    def _handle_poll_events(self, events: list[ev.Event], startup: bool) -> None:
        if not events and not startup:
            # an idle poll (OK and nothing else): what the general path below does with no
            # events, without its loops and locks when nothing changes
            if self._after_cut:
                self._after_cut -= 1
            if self._v["deviceError"] != DeviceError.NONE:
                self._set(deviceError=DeviceError.NONE)
            self._set_state(DeviceState.IDLE)
            if self._previous_events:
                self._previous_events = []
            self._bezel_reported = False
            return
        if self._v["sspProtocolVersion"] < 6:
            events = self._with_dataset_country(events)
        known = []
        for event in events:
            spec = ev.EVENT_SPECS.get(event.code)
            if spec is None or (not spec.verified and not self.commands.allow_unverified):
                self.log.log(
                    logging.ERROR if self._undecodable[1] <= 1 else logging.DEBUG,  # (once while it repeats)
                    "unknown poll event 0x%02X; the rest of the reply is not decoded (an event the unit "
                    "does not repeat, such as a COIN CREDIT, is lost with it): %s",
                    event.code,
                    event.data.hex(" "),
                )
            else:
                known.append(event)
        events = known
        previous, self._previous_events = self._previous_events, events
        # A barcode ticket is known to the application only by its states (C# GetBarcodeData is sent
        # "in response to a barcode ticket validated event", L13341): each ticket's VALIDATED (when it
        # enters escrow, not again while the unit repeats it) and each ACK are announced, before the
        # state the reply leaves (its last one: CASHBOX REMOVED after a ticket's ACK would hide it),
        # and also in a start-up poll (the resent poll of an abandoned exchange, a reconnect's first)
        ticket_states = []
        for event in events:  # (before the states: their receivers may decide on the ticket)
            if event.code == PollEvent.BARCODE_TICKET_ACK:
                self._leave_escrow()  # (the ticket is stacked)
                ticket_states.append(DeviceState.BAR_CODE_TICKET_ACKNOWLEDGE)
            elif event.code == PollEvent.BARCODE_TICKET_VALIDATED and not self._ticket_in_escrow:
                # GA138: the ticket waits in escrow; "The host can then send a Reject or Poll command
                # to reject or accept the ticket": as a note, held (HOLD, not POLL) for the
                # application's AcceptFromEscrow / ReturnFromEscrow while auto-accept is off
                self._ticket_in_escrow = True
                self._hold = not self._auto_accept
                ticket_states.append(DeviceState.BAR_CODE_TICKET_VALIDATED)
        for state in ticket_states:
            held, decisions = self._hold, self._escrow_decisions
            self._set_state(state)
            if (
                state == DeviceState.BAR_CODE_TICKET_VALIDATED
                and not held
                and not self._auto_accept
                and self._escrow_decisions == decisions
            ):
                # a receiver turned auto-accept off to decide on this ticket, as on a note's ESCROW
                # (and did not decide at once: AcceptFromEscrow / ReturnFromEscrow)
                self._hold = self._ticket_in_escrow
        poll_state: DeviceState | None = None
        disabled = False
        for event in events:
            code = event.code
            if code == PollEvent.DISABLED:
                disabled = True
            elif code == PollEvent.SLAVE_RESET and startup:
                continue
            elif code in _EVENT_STATE:
                poll_state = _EVENT_STATE[code]
        if poll_state is not None and not startup:
            # a step the reply shows (ACCEPTING, DISPENSING, an error ...) is announced before the
            # events of that step, as the seed's GetDeviceStatus example lists them (ACCEPTING,
            # then ESCROW and STORED, L2655-L2694); a payout whose DISPENSED came in the first
            # reply that showed it used to read DISPENSING after its COMPLETED
            errors = [_EVENT_ERROR[e.code] for e in events if e.code in _EVENT_ERROR]
            if errors:
                self._device_error(errors[-1])  # (what the state's receivers read)
            self._set_state(poll_state)
        if not _code_in(events, PollEvent.NOTE_HELD_IN_BEZEL):
            self._bezel_reported = False  # (the customer took it: the next note is reported)
        for event in events:
            if event.code in _PERSISTENT and event.amounts and event in previous:
                continue  # (a coin unit shows it until it is reset: reported once)
            try:
                self._handle_event(event, startup)
            except Exception:
                self.log.exception("handling event %r", event)
        if _code_in(events, PollEvent.SLAVE_RESET):
            self._device_reset = True
            self._error_transfer_due = False  # (a C9 still queued was lost with the reset)
            if not startup:
                self.log.warning("device reported SLAVE RESET mid-session; re-establishing")
                self._session_up = False
        if startup:
            return  # the start-up poll only reports money events; states follow from the run loop
        if self._after_cut:
            self._after_cut -= 1
        if not any(e.code in _EVENT_ERROR for e in events) and poll_state in (None, DeviceState.DISABLED):
            self._set(deviceError=DeviceError.NONE)  # the fault is no longer reported
        if poll_state is None:
            # back to IDLE (or DISABLED) after the events that end a step (STORED, then IDLE)
            self._set_state(DeviceState.DISABLED if disabled else DeviceState.IDLE)

    def _device_error(self, error: DeviceError) -> None:
        """``deviceError`` from an event; a new one is logged (the state alone says only ERROR)."""
        if error != self._v["deviceError"]:
            self.log.warning("Device error: %s", error.name)
        self._set(deviceError=error)

    def _handle_event(self, event: ev.Event, startup: bool) -> None:
        code = event.code
        if self._pending is not None and code in _AT_RESET_TO_STORE | _AT_RESET_TO_CASHBOX:
            # the credited note the host was waiting for, moved while the device powered up
            self._report_pending(
                CashEventType.STORED if code in _AT_RESET_TO_STORE else CashEventType.STACKED
            )
            return
        if code in _AT_RESET_TO_STORE and (self._after_cut or self._transaction is not None):
            # no credited note pending: a payout's (or float's) note the reset caught on its way
            # out, put back into the store as the unit powered up (GA138 0xCB: "a bill was moved
            # into the payout storage as part of the power-up proceedure").  Not a credit: no
            # STORED.  Nobody took it, though DISPENSING may have counted it in the bezel
            amount = self._money(event.amounts)
            self.log.warning(
                "NOTE INTO STORE AT RESET %d %s: a note of the transaction the reset cut, back in the "
                "store (not a credit)",
                amount.value,
                amount.country,
            )
            transaction = self._transaction_amount.country
            if self._transaction is not None and _one_currency(amount.country, transaction):
                self._transaction_returned += amount.value
            if not self._read_levels_quietly():
                self._bump_level(amount.value, amount.country, +1)
            return
        if code in _ONE_NOTE_TO_CASHBOX:  # (counted before the event, for its handler)
            if event.amounts:
                amount = self._money(event.amounts)
            else:
                amount = ev.Amount(*self._channel_amount(event.channel))
            self._cashbox_moved(amount.value, amount.country, 1)
            if code in _AT_RESET_TO_CASHBOX and self._transaction is not None:
                # a payout cut by a reset: the note on its way out went into the cashbox as the
                # unit powered up (GA973 "Power removed during payout"), not to the customer;
                # it left the store all the same (:meth:`_resolve_transaction`)
                if _one_currency(amount.country, self._transaction_amount.country):
                    self._transaction_cleared += amount.value
            if code == PollEvent.NOTE_TRANSFERRED_TO_STACKER and self._transaction is None:
                if self._error_transfer_due:
                    # the note that stopped a payout (GA973 "Reverse validation fail": B1, then C9
                    # in a later poll): it left the store before ERROR DURING PAYOUT, so the
                    # levels read at that end count it already
                    self._error_transfer_due = False
                else:
                    # (NV11 STACK NOTE, GA973 "Stacking notes": the note left the store; a payout's
                    # own transfers are counted by the levels read at its end, which may also have
                    # been read while this reply was handled: ERROR DURING PAYOUT, then this)
                    self._note_level(amount.value, amount.country, -1)
        if code in _EVENT_ERROR:
            self._device_error(_EVENT_ERROR[code])
        if code in _TRANSACTION_ENDS and self._transaction is None and self._repeats_last_end(event):
            return
        if code in (PollEvent.INCOMPLETE_PAYOUT, PollEvent.INCOMPLETE_FLOAT):
            self._after_cut = _AFTER_CUT_POLLS  # (its note may come back into the store next)
        if code == PollEvent.READ:
            if event.channel:
                if self._escrow_channel != event.channel:
                    self._escrow_channel = event.channel
                    self._set(noteInEscrow=True)
                    value, country = self._channel_amount(event.channel)
                    # held before the event: its handler may decide at once (AcceptFromEscrow,
                    # ReturnFromEscrow, SetAutoAccept(True) clear the hold) ...
                    held = self._hold = not self._auto_accept
                    decisions = self._escrow_decisions
                    self._cash(CashEventType.ESCROW, value, country)
                    if not held and not self._auto_accept and self._escrow_decisions == decisions:
                        # ... or turn auto-accept off to decide on this note (later: a receiver
                        # that decided at once, AcceptFromEscrow / ReturnFromEscrow, is not undone)
                        self._hold = True
            else:
                self._fraud_note = None  # (the next note)
                self._flush_pending()
        elif code in (PollEvent.STACKING, PollEvent.REJECTING):
            if code == PollEvent.REJECTING and self._escrow_channel:
                self._rejecting_channel = self._escrow_channel
            self._leave_escrow()
        elif code == PollEvent.CREDIT:
            self._leave_escrow()
            self._flush_pending()
            value, country = self._channel_amount(event.channel)
            self._pending = _Pending(value, country, self._stored_level(value, country))
        elif code == PollEvent.STACKED:
            fraud, self._fraud_note = self._fraud_note, None
            if self._pending is None and fraud is not None:
                # GA973 FRAUD ATTEMPT: ``E6 ch CC`` then ``EB``: "no credit event will be given";
                # the note is in the cashbox all the same
                self._cashbox_moved(fraud[0], fraud[1], 1)
            self._report_pending(CashEventType.STACKED)
        elif code == PollEvent.NOTE_STORED_IN_PAYOUT:
            if event.amounts and self._pending is None:
                amount = self._money(event.amounts)
                self._pending = _Pending(amount.value, amount.country)
            stored = self._pending
            if stored is not None:
                # counted before the event: its handler may read the level, or read the levels
                # from the device (GetAllLevels), which a count added afterwards would double.
                # A levels read since the last poll (another thread's GetAllLevels, a payout's)
                # may have counted this note already: the levels are read again instead
                self._note_level(stored.value, stored.country, +1)
                if self._transaction is not None:
                    self._transaction_stored += stored.value
            self._report_pending(CashEventType.STORED)
        elif code == PollEvent.REJECTED:
            self._fraud_note = None  # (a note FRAUD ATTEMPT named while it was read: returned)
            value, country = self._channel_amount(self._escrow_channel or self._rejecting_channel)
            self._rejecting_channel = 0
            self._leave_escrow()
            self._cash(CashEventType.REJECTED, value, country)
        elif code == PollEvent.FRAUD_ATTEMPT:
            if event.amounts:
                amount = self._money(event.amounts)
                value, country = amount.value, amount.country
            else:
                value, country = self._channel_amount(event.channel)
                self._fraud_note = (value, country) if event.channel else None
            self._cash(CashEventType.FRAUD_ATTEMPT, value, country)
        elif code == PollEvent.SLAVE_RESET:
            self._leave_escrow()  # a unit that reset holds no note in escrow
        elif code in (PollEvent.NOTE_CLEARED_FROM_FRONT, PollEvent.NOTE_CLEARED_INTO_CASHBOX):
            self._leave_escrow()  # (a note held in escrow when the power went)
            value, country = self._channel_amount(event.channel)
            kind = (
                CashEventType.NOTE_CLEARED_FROM_FRONT
                if code == PollEvent.NOTE_CLEARED_FROM_FRONT
                else CashEventType.NOTE_CLEARED_TO_CASHBOX
            )
            self._cash(kind, value, country)
        elif code == PollEvent.NOTE_HELD_IN_BEZEL:
            if not self._bezel_reported:
                self._bezel_reported = True
                for amount in self._reported(event.amounts) or (ev.Amount(0, ""),):
                    self._cash(CashEventType.NOTE_IN_BEZEL_HOLD, amount.value, amount.country)
        elif code == PollEvent.CALIBRATION_FAILED:
            self._cash(CashEventType.CALIBRATION_FAILED, event.error or 0)
        elif code in _REPLENISH_EVENT:  # unpublished codes (events.UNPUBLISHED_EVENTS)
            amount = self._money(event.amounts)
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
        elif code == PollEvent.CASHBOX_PAID:  # coins moved to the cashbox at the end of a payout
            for amount in event.amounts:
                if amount.value:
                    self._cash(CashEventType.MOVED_TO_CASHBOX, amount.value, amount.country)
        elif code == PollEvent.MAINTENANCE_REQUIRED:
            self._set(maintenanceRequiredDetailsString="Maintenance required")
        elif code == PollEvent.COIN_MECH_RETURN_PRESSED:
            self.log.info("coin mech return lever pressed")
        if code in _AMOUNT_CASH_EVENT:
            kind = _AMOUNT_CASH_EVENT[code]
            requested = {a.country: a.value for a in event.requested}
            for amount in self._reported(event.amounts) or (ev.Amount(0, ""),):
                if code == PollEvent.DISPENSING:  # repeated every poll: report each new value once
                    if self._dispensing_reported.get(amount.country) == amount.value:
                        continue
                    self._dispensing_reported[amount.country] = amount.value
                self._cash(kind, amount.value, amount.country, requested.get(amount.country, 0))
        if code in _CASHBOX_OPERATION_DONE:
            self._read_cashbox_operation()
        if code == PollEvent.ERROR_DURING_PAYOUT:
            text = _ERROR_DURING_PAYOUT_TEXT.get(event.error or 0, f"Error code {event.error}")
            self._set(error_during_payout_details_string=text)
        self._track_transaction(event)

    def _begin_transaction(
        self, kind: DispenserTransactionType, value: int, country: str, *, unconfirmed: bool = False
    ) -> None:
        """A dispenser transaction started (a payout command was accepted, or the device reported
        progress on its own): :meth:`_open_transaction`, then IN_PROGRESS."""
        self._open_transaction(kind, value, country, unconfirmed=unconfirmed)
        self._announce_transaction()

    def _open_transaction(
        self, kind: DispenserTransactionType, value: int, country: str, *, unconfirmed: bool = False
    ) -> None:
        """The transaction's state, no event yet: the levels known now are kept (if the device
        cannot report the end, after a power cut, they tell what moved).  ``unconfirmed``: the
        command's reply was lost, so the device may or may not run it.  A payout request opens it
        while it still holds the link (the poll thread then sees no event of the job before it)
        and announces it once the link is free, so that no receiver runs under the link lock."""
        self._transaction = kind
        self._transactions_opened += 1
        self._error_transfer_due = False
        if self._job_requester == threading.get_ident():
            # the open transaction now answers other requests BUSY; its end may come (and a
            # receiver on the poll thread start the next payout) before this request returns
            self._job_requester = None
        self._last_end = None
        self._transaction_amount = ev.Amount(value, country)
        self._transaction_levels = {(e.Value, e.CountryCode): e.Stored for e in self._v["currencyAssignment"]}
        self._transaction_stored = 0
        self._transaction_reported = 0
        self._transaction_cleared = 0
        self._transaction_returned = 0
        self._transaction_unconfirmed = unconfirmed
        self._quiet_polls = 0
        self._set(dispenseState=DispenserTransactionState.IN_PROGRESS)
        self._queue_transaction_event(
            DispenserTransactionEventResponse(DispenserTransactionState.IN_PROGRESS, kind, 0, value, country)
        )

    def _queue_transaction_event(self, event: DispenserTransactionEventResponse) -> None:
        """Queue a DispenserTransactionEvent: they are delivered in the order they were queued
        (:meth:`_announce_transaction`).  A transaction's IN_PROGRESS is queued when it opens, under
        the link lock for a payout request, so before anything the poll thread queues for it."""
        self.log.info("%s", event.message)  # the log shows how each payout ended, as CashEvents do
        with self._state_lock:
            self._transaction_events.append((event, time.monotonic()))

    def _announce_transaction(self) -> None:
        """Deliver the queued DispenserTransactionEvents, in order, on this thread; unless another
        thread is delivering them: it delivers these too (nobody waits here).  The request's
        thread calls this once the link is free (its IN_PROGRESS), the poll thread after queueing
        an end, so an end never comes before its IN_PROGRESS, nor the next transaction's
        IN_PROGRESS before the end of the one before."""
        while True:
            with self._state_lock:
                if self._delivering_transaction_events or not self._transaction_events:
                    return
                self._delivering_transaction_events = True
                event, _ = self._transaction_events.popleft()
            try:
                self._fire(self.DispenserTransactionEvent, event)
            finally:
                with self._state_lock:
                    self._delivering_transaction_events = False

    def _deliver_overdue_transaction_events(self) -> None:
        """End of a poll turn (no lock held): the queued events that another thread has not
        delivered (its receiver still runs: an IN_PROGRESS receiver that waits for the end) are
        delivered here once they have waited :data:`_END_WAIT` seconds, out of order (logged)."""
        self._announce_transaction()
        wake = threading.Event()  # (never set: a pause between two looks)
        while True:
            with self._state_lock:
                if not self._transaction_events:
                    return
                overdue = time.monotonic() - self._transaction_events[0][1] >= _END_WAIT
                if overdue:
                    late = [event for event, _ in self._transaction_events]
                    self._transaction_events.clear()
            if overdue:
                break
            wake.wait(0.01)
            self._announce_transaction()
        self.log.warning(
            "DispenserTransactionEvent receivers still run after %.0f s; %d queued event(s) delivered now",
            _END_WAIT,
            len(late),
        )
        for event in late:
            self._fire(self.DispenserTransactionEvent, event)

    def _money(self, amounts: tuple[ev.Amount, ...]) -> ev.Amount:
        """The entry of an event's amount array that is about the host's money.  GA138's payout
        events carry "the total dispensed for each of the countries supported in the dataset"
        (DISPENSED, DISPENSING, JAMMED, HALTED, FLOATED, INCOMPLETE PAYOUT ...; DISPENSING's
        example lists EUR and GBP): a unit with two currencies paying in one reports the other
        at 0.  The open transaction's country (unless it shows 0 where another shows money: a
        transaction the host did not see start may carry the wrong one), else the entry that is
        not 0, else the first."""
        if len(amounts) == 1:
            return amounts[0]
        if not amounts:
            return ev.Amount(0, "")
        moved = next((a for a in amounts if a.value), None)
        if self._transaction is not None:
            country = self._transaction_amount.country
            for amount in amounts:
                if amount.country == country and (amount.value or moved is None):
                    return amount
        return moved or amounts[0]

    def _reported(self, amounts: tuple[ev.Amount, ...]) -> tuple[ev.Amount, ...]:
        """The entries of an amount array that a CashEvent reports: all of a one-country array;
        of a longer one the entries that are not 0 (the other countries of the dataset, listed at
        0, moved nothing), or :meth:`_money`'s entry when all are 0."""
        if len(amounts) <= 1:
            return amounts
        moved = tuple(a for a in amounts if a.value)
        return moved or (self._money(amounts),)

    def _with_dataset_country(self, events: list[ev.Event]) -> list[ev.Event]:
        """Below protocol 6 a value event carries no country (GA138 COIN CREDIT, protocol 5: "4
        byte value of the coin added"): the dataset's currency, when it has one, fills it in."""
        countries = {e.CountryCode for e in self._v["currencyAssignment"] if e.CountryCode}
        if len(countries) != 1:
            return events
        (country,) = countries

        def filled(amounts: tuple[ev.Amount, ...]) -> tuple[ev.Amount, ...]:
            return tuple(a if a.country else ev.Amount(a.value, country) for a in amounts)

        return [replace(e, amounts=filled(e.amounts), requested=filled(e.requested)) for e in events]

    def _repeats_last_end(self, event: ev.Event) -> bool:
        """True (logged) when ``event``, an end with no transaction open, is the end of the last
        transaction reported again, and no transaction has opened since: JAMMED repeats on every
        poll while the jam lasts (GA138: "Repeat: yes"; GA973: "persistent until validator is
        powered down"), and a payout stopped by ERROR DURING PAYOUT comes back as INCOMPLETE
        PAYOUT after the unit's power is cycled (GA973, "Note transport error during dispense").
        Only the host starts a job, and every job it starts opens a transaction, so an end that
        moved exactly what the last one did is that one again."""
        last = self._last_end
        if last is None:
            return False
        # (of an array with every country of the dataset, the entry of the last end's country: with
        # nothing paid, _money would take the first, another country's 0)
        amount = next((a for a in event.amounts if last.country and a.country == last.country), None)
        if amount is None:
            amount = self._money(event.amounts)
        if amount.value != last.value or (amount.country or last.country) != last.country:
            return False
        self.log.info(
            "%s %d %s repeats the end of the last transaction: not reported again",
            event.name,
            amount.value,
            last.country,
        )
        return True

    def _track_transaction(self, event: ev.Event) -> None:
        code = event.code
        amount = self._money(event.amounts)
        if code in _TRANSACTION_PROGRESS:
            if self._transaction is None:
                self._begin_transaction(_TRANSACTION_PROGRESS[code], 0, amount.country)
            self._transaction_reported = max(self._transaction_reported, amount.value)
        elif code in _TRANSACTION_DONE or code in _TRANSACTION_FAILED:
            done = code in _TRANSACTION_DONE
            fallback = _TRANSACTION_DONE.get(code, DispenserTransactionType.PAYOUT)
            if self._transaction is None:
                # the end of a job the host did not see start (a power cut lost its start): its
                # kind from the event, and what was asked from the event when it says
                if code == PollEvent.INCOMPLETE_FLOAT:
                    fallback = DispenserTransactionType.FLOAT
                self._transaction_amount = self._money(event.requested)
            elif code == PollEvent.INCOMPLETE_FLOAT and self._v["deviceModel"] in DISPENSERS:
                # a float cut by a power cut: what left the store went to the cashbox (no CASHBOX
                # PAYOUT OPERATION DATA follows an incomplete float); counted before the event
                try:
                    if self._read_levels():
                        self._count_to_cashbox()
                except SSPError as exc:
                    self.log.warning("levels not read after an incomplete float: %s", exc)
                self._end_transaction(done, amount, fallback, refresh=False)
                return
            # (set before the end: a receiver of it may open the next payout, which clears it)
            self._error_transfer_due = code == PollEvent.ERROR_DURING_PAYOUT
            reads, opened = self._levels_reads, self._transactions_opened
            self._end_transaction(done, amount, fallback)
            if self._levels_reads == reads and self._transactions_opened == opened:
                # the levels read at the end failed: nothing counts the note yet, its C9 must
                self._error_transfer_due = False
        elif code in _REPLENISH_MOVED and self._transaction == DispenserTransactionType.REPLENISH:
            self._replenish_left -= 1
            if self._replenish_left <= 0:
                self._end_transaction(True, ev.Amount(0, amount.country), DispenserTransactionType.REPLENISH)

    def _resolve_transaction(self, why: str) -> None:
        """End a transaction whose end event will never come, from the levels: the value that
        left the store (plus what was stored meanwhile) is what was paid, floated or emptied; of
        a payout, at most the amount asked for (the rest went to the cashbox)."""
        kind = self._transaction
        if kind is None:
            return
        if not self._read_levels():
            self.log.warning("transaction end unknown (%s) and levels not read; trying again", why)
            return
        requested = self._transaction_amount
        moved = self._transaction_stored + sum(e.Value * n for e, n in self._left_the_store())
        if kind in (DispenserTransactionType.FLOAT, DispenserTransactionType.EMPTY):
            # (the unit's own count of it, CASHBOX PAYOUT OPERATION DATA, went with the lost end)
            self._count_to_cashbox()
        # what the device itself reported moved (DISPENSING 3.50) is a floor: the levels miss a
        # coin that went into the store after they were read (a customer's coin as the payout
        # started, or credited since a levels read before the payout that got no answer).  Coin
        # credits are not added: a COIN CREDIT can come after a levels read that already counted
        # its coin, and would then be counted twice
        reported = self._transaction_reported
        if kind in (DispenserTransactionType.PAYOUT, DispenserTransactionType.PAYOUT_BY_DENOMINATION):
            # a note the unit cleared into its cashbox at power-up left the store, and DISPENSING
            # counted it once it reached the bezel (GA973 NV11 "Dispensing notes"); nobody took it
            moved -= self._transaction_cleared
            # (a note put back into the store is not in ``moved``: the levels have it again)
            reported -= self._transaction_cleared + self._transaction_returned
        moved = max(0, moved, reported)
        if kind in (DispenserTransactionType.PAYOUT, DispenserTransactionType.PAYOUT_BY_DENOMINATION):
            done = requested.value > 0 and moved >= requested.value
            if done:
                # a payout never pays more than asked: what the store lost beyond it went to the
                # cashbox (a hopper moves the coins above its cashbox payout limit there at the
                # end of a payout, CASHBOX PAID, in the reply that was lost with DISPENSED)
                moved = requested.value
        elif kind == DispenserTransactionType.EMPTY:
            # an empty is done when the store is empty: one cut midway left coins in it
            done = not any(
                e.Stored
                for e in self._v["currencyAssignment"]
                if e.CountryCode == requested.country or not requested.country
            )
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

    def _left_the_store(self) -> list[tuple[CurrencyAssignmentEntry, int]]:
        """Each denomination of the transaction's currency with the count that left the store
        since the transaction opened (its levels then, less the levels now; negative if more
        came in)."""
        country = self._transaction_amount.country
        return [
            (e, self._transaction_levels.get((e.Value, e.CountryCode), e.Stored) - e.Stored)
            for e in self._v["currencyAssignment"]
            if not country or e.CountryCode == country
        ]

    def _count_to_cashbox(self) -> None:
        """What a float or an empty took from the store went to the cashbox: ``StoredInCashbox``."""
        for entry, count in self._left_the_store():
            if count > 0:
                self._cashbox_moved(entry.Value, entry.CountryCode, count)

    def _end_transaction(
        self, done: bool, amount: ev.Amount, fallback: DispenserTransactionType, *, refresh: bool = True
    ) -> None:
        """The transaction ended: DispenserTransactionEvent COMPLETED or ERROR (after its
        IN_PROGRESS: :meth:`_announce_transaction`), levels refreshed."""
        kind = self._transaction or fallback
        state = DispenserTransactionState.COMPLETED if done else DispenserTransactionState.ERROR
        requested = self._transaction_amount
        self._transaction = None
        self._last_end = ev.Amount(amount.value, amount.country or requested.country)
        self._bezel_reported = False
        self._dispensing_reported.clear()
        # (before the event: a receiver that starts the next payout opens its transaction, and
        # its marks, e.g. unconfirmed when the command's reply is lost, must stay as it set them)
        self._transaction_unconfirmed = False
        self._quiet_polls = 0
        self._reenable = True
        self._enable_after_settle = False
        self._set(dispenseState=state)
        self._queue_transaction_event(
            DispenserTransactionEventResponse(
                state, kind, amount.value, requested.value, amount.country or requested.country
            )
        )
        self._announce_transaction()
        if refresh and self._v["deviceModel"] in DISPENSERS:
            self._refresh_levels()

    def _note_level(self, value: int, country: str, delta: int) -> None:
        """A note came into (+1) or left (-1) the store: counted on the host's levels; when levels
        were read since the last poll (another thread's GetAllLevels, a payout's own reads), which
        may count it already, the levels are read again instead."""
        if not (self._levels_reads != self._levels_mark and self._read_levels_quietly()):
            self._bump_level(value, country, delta)

    def _read_levels_quietly(self) -> bool:
        """True when a levels read was applied (even one that lacked a denomination)."""
        before = self._levels_reads
        try:
            self._read_levels()
        except SSPError as exc:
            self.log.debug("levels not read: %s", exc)
        return self._levels_reads != before

    def _refresh_levels(self) -> None:
        try:
            self._read_levels()
        except SSPError as exc:
            self.log.debug("level refresh failed: %s", exc)

    def _leave_escrow(self) -> None:
        if self._escrow_channel or self._hold or self._ticket_in_escrow:
            self._escrow_channel = 0
            self._ticket_in_escrow = False
            self._hold = False
            self._set(noteInEscrow=False)

    def _report_pending(self, kind: CashEventType) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            if kind == CashEventType.STACKED:  # (counted before the event, for its handler)
                self._cashbox_moved(pending.value, pending.country, 1)
            self._cash(kind, pending.value, pending.country)

    def _flush_pending(self) -> None:
        """A credited note whose STACKED/STORED never came is reported as STACKED (never lost)."""
        if self._pending is not None and self._reset_polls:
            self._settle_pending_from_levels()  # (the note of before the reset: where the levels say)
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

    def _settle_after_reset(self) -> None:
        """The device reset (power cut, SLAVE RESET, KEY NOT SET) and lost the events it had not
        reported.  A credit whose STACKED/STORED never came, and a dispenser transaction whose end
        never came, are settled from the levels, once the next polls have had their say."""
        self._device_reset = False
        if self._pending is not None:
            # GA973 "Power removed during payout": the note the unit moved at power-up is reported
            # in the poll AFTER the one with SLAVE RESET (``E2 00``, ``CA ...``); settled from the
            # levels only if the next polls do not say where it went
            self._reset_polls = _QUIET_POLLS_TO_RESOLVE
        kind = self._transaction
        if kind is not None:
            self._after_cut = _AFTER_CUT_POLLS  # (its note may come back into the store next)
        if kind in (DispenserTransactionType.PAYOUT, DispenserTransactionType.PAYOUT_BY_DENOMINATION):
            # (no INCOMPLETE PAYOUT in the start-up poll: GA138's NV11 event table has none.)
            # Settled from the levels by :meth:`_converge` after the polls that may still say where
            # the note on its way out went: GA973 "Power removed during payout" reports the note the
            # unit moved at power-up in the poll AFTER the one with SLAVE RESET (``CA ...``, ``E2
            # 00``); a note cleared into the cashbox then was not paid, though it left the store
            self._quiet_polls = 0
        elif kind == DispenserTransactionType.REPLENISH:
            # the unit forgot the job with its power (no REPLENISH event comes for the notes it
            # had still to move); the levels are not a measure of it: ended as it stands
            self.log.warning(
                "the device reset during a replenish (%d notes not reported moved); ended",
                self._replenish_left,
            )
            done = self._replenish_left <= 0
            self._end_transaction(done, ev.Amount(0, ""), DispenserTransactionType.REPLENISH)
        elif kind is not None:
            self._resolve_transaction("the device reset before it reported the end")

    def _settle_pending_from_levels(self) -> None:
        """A credited note whose STACKED/STORED the unit never reported (it reset), settled from
        the levels read since: STORED if its level rose, else STACKED."""
        self._reset_polls = 0
        pending = self._pending
        if pending is not None:
            now = self._stored_level(pending.value, pending.country)
            stored = pending.stored_before is not None and now is not None and now > pending.stored_before
            self.log.warning(
                "device reset before it reported where the credited note went; levels say %s",
                "the payout store" if stored else "the cashbox",
            )
            self._report_pending(CashEventType.STORED if stored else CashEventType.STACKED)


class Wake:
    """What wakes the poll thread between turns: :class:`threading.Event`'s ``set``,
    ``is_set``, ``clear`` and ``wait``, where ``wait`` costs one lock acquire.

    ``threading.Event.wait`` builds a new lock and goes through a :class:`threading.Condition`
    (about 30 lines of Python) every time, and the poll thread waits once a turn.  Here a lock,
    held while nothing is set, is released by :meth:`set` and taken back by the waiter.  Any
    thread may set and clear; one thread waits (the poll thread)."""

    __slots__ = ("_flag", "_lock")

    def __init__(self) -> None:
        self._flag = False
        self._lock = threading.Lock()
        self._lock.acquire()  # held: a wait blocks until set() releases it

    def __repr__(self) -> str:
        return f"Wake({'set' if self._flag else 'clear'})"

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        self._flag = True
        try:
            self._lock.release()
        except RuntimeError:
            pass  # already released by an earlier set() that no wait has taken yet

    def clear(self) -> None:
        self._flag = False
        self._lock.acquire(False)  # take back a release no wait has taken (if any)

    def wait(self, timeout: float | None = None) -> bool:
        """Until :meth:`set` (True) or ``timeout`` seconds pass (then whether it is set)."""
        if self._flag:
            return True
        self._lock.acquire(True, -1 if timeout is None else max(0.0, timeout))
        # (the lock is held again either way: a set() that came now leaves it released, and
        # the next wait returns at once on the flag)
        return self._flag


def _poll_thread(
    ref: weakref.ReferenceType[CashDevice],
    stop: threading.Event,
    wake: Wake,
    busy: threading.Lock,
    group: PollGroup | None = None,
    generation: int = 0,
) -> None:
    """The poll thread: turns of :meth:`CashDevice._run` every ``poll_interval``.  Between turns
    it holds only a weak reference to the device, so it never keeps one alive; it ends on
    ``stop``, when the device is gone, or when the device's ``_generation`` is no longer
    ``generation`` (the thread was stopped from inside its own turn, by a receiver calling
    Close or stopRunning, which cannot wait for it; a later Open may already have started the
    device's next poll thread, which shares ``stop`` and ``wake``).

    With a ``group``, a turn that leaves the device quiet lends it to the group, which then
    polls it; the thread sleeps until woken (by the group, with a reply that has news or a poll
    it left abandoned; by the application; by Close) and takes the device back, under ``busy``,
    before its next turn."""
    current = True  # (False once a newer poll thread owns the device: nothing to take back)
    with busy:
        device = ref()
        if device is None:
            return
        try:
            if device._generation != generation:
                return
            device._run_starting()
        finally:
            del device
    try:
        while not stop.is_set():
            lent, step = 0, False
            with busy:
                device = ref()
                if device is None:
                    return
                try:
                    if device._generation != generation:
                        current = False
                        return
                    device._lent = device._handed_back = False
                    wait = device._run()
                    if device._generation != generation:
                        current = False  # stopped by a receiver during the turn: end now
                        return
                    if group is not None and not stop.is_set() and device._lendable():
                        device._lent = True
                        lent = device._lend_ticket = device._lend_ticket + 1
                        due = device._next_due
                        step = device._long_step
                finally:
                    del device
            if lent:
                assert group is not None
                group._adopt(ref, lent, due, step)
                wake.wait()
            else:
                wake.wait(wait)
            if wake.is_set():
                wake.clear()
    finally:
        if group is not None and current:
            _take_back(ref, busy)


def _take_back(ref: weakref.ReferenceType[CashDevice], busy: threading.Lock) -> None:
    """The poll thread ends (stopRunning, Close): take the device back from its group (after the
    poll the group may have in flight) and, if the group handed it a reply or left one abandoned
    (either may hold a credit), run one more turn to handle it before the caller DISABLEs or
    closes."""
    with busy:
        device = ref()
        if device is None:
            return
        try:
            left = device._handed_back or device._handed is not None
            device._lent = device._handed_back = False
            device._lend_ticket += 1
            if left:
                device._run()
        finally:
            del device


_QUIET_REPLIES: dict[bytes, bool] = {
    bytes((Response.OK,)): False,
    bytes((Response.OK, PollEvent.DISABLED)): True,
}
"""Poll replies that may say nothing new (:meth:`PollerMethods._quiet_reply`): whether each
shows the acceptor disabled."""


def _in_long_step(event: ev.Event) -> bool:
    """A status event of a note's long step (see :data:`_LONG_STEP`)."""
    code = event.code
    return code in _LONG_STEP or (code == PollEvent.READ and not event.channel)


def _code_in(events: list[ev.Event], code: int) -> bool:
    return any(e.code == code for e in events)


def _without_repeats(events: list[ev.Event], held: list[ev.Event]) -> list[ev.Event]:
    """``events`` less one equal event for each of ``held`` (events already handled, shown again
    because their EVENT ACK was held back)."""
    out = list(events)
    for event in held:
        if event in out:
            out.remove(event)
    return out


def _ackable(event: ev.Event) -> bool:
    spec = ev.EVENT_SPECS.get(event.code)
    return spec is not None and spec.ack
