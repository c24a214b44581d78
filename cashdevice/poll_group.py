"""One thread that polls many idle CashDevices (and their notes' long steps): :class:`PollGroup`.

Every :class:`~cashdevice.CashDevice` has a poll thread.  With hundreds of devices in one process,
idle polling alone fills a core: each poll wakes its thread twice (for the turn and for the
reply), and every wake-up waits for the one GIL (benchmarks/RESULTS.md: about 650 devices on two
vCPUs).  Give the devices one group::

    group = PollGroup()
    devices = [CashDevice(poll_group=group) for _ in ports]

and a device that has nothing to do is *lent* to the group: one thread writes every due device's
POLL, waits for all the replies in one ``poll()``, and looks at each reply.  A reply that says
nothing new (``OK``, or ``OK, DISABLED`` for an acceptor the application disabled, in the state the
host already shows) ends there.  So does, while a note is read, stacked or rejected (a second or two
each, which the unit reports in every poll), the same reply as the device's last one: its thread
handled those bytes already (the step's first two replies), and lends the device to the group for
the rest of the step, which then sends the step's polls at the pace the thread would
(``moving_poll_interval``, doubling up to half the poll interval) instead of waking the thread for
each.  A reply with news (a note, the next step, a credit, a coin, a fault: any other ``OK`` reply)
is handed to the device's own thread, which handles it at once as if it had polled itself,
acknowledges it, and keeps the device until it is quiet (or in a long step) again; other threads'
commands wait until it has taken the reply up, as they would behind its own poll.  Anything else
(silence, a broken reply, KEY NOT SET or another refusal, a port error) leaves the poll *abandoned*
on the link (:meth:`~cashdevice.link.SSPLink.abandon_attempt`) and wakes the device's thread, which
sends the identical bytes again (a device answers a repeated packet from its cache, GA138) with the
whole retry policy.  The group never interprets an event: every CashEvent is raised by the device's
own thread, as without a group.

The group spreads its polls over the interval: a device whose poll went late (the group was
behind) is next polled one interval after that poll went, not on its old grid, so that devices due
at the same instant (opened together, or all late after a stall) do not stay due together (every
interval's polls would then go out in one burst, the last of them late).  Of the polls due at once
while it is behind, a long step's go first: the step's end is a credit on its way, and an idle
device loses nothing by waiting behind it.  ``counters.late`` counts the polls sent more than
:data:`LATE_POLL` after they were due.

The group's thread starts when a device is first lent and ends when it has nothing to poll.  The
application's own commands keep working while a device is lent (they wait for the link lock, as
for the poll thread).  Only ports with a POSIX descriptor (a device node, a pty) can be lent; a
device on another port (``socket://``, the emulator's in-process URLs, Windows) keeps polling
from its own thread.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import os
import select
import threading
import time
import weakref
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from .ssp import Command, Response, SSPError

if TYPE_CHECKING:
    from .cash_device import CashDevice
    from .link import Attempt, SSPLink

__all__ = ["LATE_POLL", "PollGroup", "PollGroupCounters"]

_EARLY = 0.01
"""Polls due within this many seconds are sent together (one wake-up of the group's thread)."""
_BUSY_AGAIN = 0.005
"""A device whose link or turn lock is held by another thread is tried again this much later."""

_BUSY_HAND_BACK = 0.05
"""A device whose link stays busy this long past its due time is handed back to its thread."""

LATE_POLL = 0.02
"""A poll the group sends more than this many seconds after its due time counts as late
(:attr:`PollGroupCounters.late`)."""

_Entry = tuple[float, int, int, "weakref.ReferenceType[CashDevice]", float, bool]
"""(due, order, lend ticket, device, first due, a step's poll): a lent device's next poll."""


@dataclass
class PollGroupCounters:
    """What a group did (all monotonically increasing)."""

    polls: int = 0
    """Polls the group sent."""
    quiet: int = 0
    """Replies it took that said nothing new."""
    steps: int = 0
    """Replies it took that repeated a note's long step (read, stacked or rejected), the same as
    the device's last reply."""
    handed: int = 0
    """Replies with news it handed to their device's thread (events: a note, a coin, a fault)."""
    handed_back: int = 0
    """Times it woke a device's thread to take the device back (a reply with news, a poll left
    abandoned by silence, a refusal or a port error, a step pending, a busy link)."""
    late: int = 0
    """Polls it sent more than :data:`LATE_POLL` (20 ms) after they were due: its thread fell
    behind (a machine short of CPU, or more devices than one thread can poll at their interval).
    A credit is seen that much later."""
    max_lag: float = 0.0
    """The longest a poll waited past its due time, in seconds (0 while none was late at all)."""


class _InFlight:
    __slots__ = ("attempt", "device", "lag", "link", "ticket")

    def __init__(self, device: CashDevice, link: SSPLink, attempt: Attempt, ticket: int, lag: float) -> None:
        self.device = device
        self.link = link
        self.attempt = attempt
        self.ticket = ticket
        self.lag = lag
        """How long after its due time the poll went."""


class PollGroup:
    """Polls the devices lent to it (idle, or in a note's long step) from one thread (see the
    module docstring).

    ``name`` names the thread and the logger (``cashdevice.poll_group.<name>``).  A group holds
    no reference to a device between polls: a device nobody references is collected as usual.
    """

    def __init__(self, name: str = "poll-group") -> None:
        self.name = name
        self.counters = PollGroupCounters()
        self.log = logging.getLogger(f"cashdevice.poll_group.{name}")
        self._lock = threading.Lock()
        self._heap: list[_Entry] = []
        self._in_flight = 0
        """Polls in flight (for :attr:`lent`)."""
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._sleep_until = -math.inf
        """When the group's thread wakes up by itself (-inf while it is awake)."""
        self._wake_r = self._wake_w = -1
        if hasattr(select, "poll"):  # where a device can be lent at all (POSIX)
            self._wake_r, self._wake_w = os.pipe()
            os.set_blocking(self._wake_r, False)
            os.set_blocking(self._wake_w, False)
            weakref.finalize(self, _close_pipe, self._wake_r, self._wake_w)

    def __repr__(self) -> str:
        return f"PollGroup({self.name!r}, lent={self.lent}, running={self.running})"

    @property
    def lent(self) -> int:
        """Devices lent to the group now (waiting for their next poll or in one)."""
        with self._lock:
            entries = list(self._heap)
        return sum(1 for entry in entries if _still_lent(entry)) + self._in_flight

    @property
    def running(self) -> bool:
        """True while the group's thread runs (it ends when no device is lent)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    # ------------------------------------------------------------------------------ lending

    def _adopt(self, ref: weakref.ReferenceType[CashDevice], ticket: int, due: float, step: bool) -> None:
        """A device's thread lends it: poll it at ``due`` (``time.monotonic()``) and on;
        ``step``: its note is in a long step."""
        with self._lock:
            heapq.heappush(self._heap, (due, next(self._order), ticket, ref, due, step))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name=f"cashdevice-{self.name}", daemon=True
                )
                self._thread.start()
            elif due < self._sleep_until:
                try:
                    os.write(self._wake_w, b"!")
                except BlockingIOError:  # already full of wake-ups
                    pass

    def _hand_back(self, device: CashDevice, why: str, *, abandoned: bool = False) -> None:
        """Give the device back to its thread (the caller holds its turn lock); ``abandoned``:
        the group left a poll abandoned on the link, which the thread must resend."""
        device.log.debug("poll group: the device's thread takes over (%s)", why)
        device._lent = False
        device._handed_back = abandoned
        self.counters.handed_back += 1
        device._wake.set()

    # ------------------------------------------------------------------------------ the thread

    def _serve(self) -> None:
        inflight: dict[int, _InFlight] = {}
        try:
            self._loop(inflight)
        except BaseException:  # a bug: give every device back to its thread
            self.log.exception("poll group stopped")
            for flight in inflight.values():
                # every step for every device, even if one fails: a lock left held stops a device
                for step in (
                    partial(flight.link.abandon_attempt, flight.attempt),
                    flight.link.lock.release,
                    partial(self._hand_back, flight.device, "the group stopped", abandoned=True),
                    flight.device._poll_busy.release,
                ):
                    try:
                        step()
                    except Exception:
                        self.log.exception("giving a device back to its thread")
            with self._lock:
                heap, self._heap = self._heap, []
                self._thread = None
            for entry in heap:
                device = entry[3]()
                if device is not None:
                    device._wake.set()

    def _loop(self, inflight: dict[int, _InFlight]) -> None:
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        while True:
            with self._lock:
                now = time.monotonic()  # (after the lock: what is due when the heap is read)
                due: list[_Entry] = []
                steps: list[_Entry] = []
                heap = self._heap
                while heap and heap[0][0] <= now + _EARLY:
                    entry = heapq.heappop(heap)
                    (steps if entry[5] else due).append(entry)
                if steps:
                    # a note's step goes first: its end is a credit on its way; an idle device
                    # loses nothing by waiting behind it
                    due[:0] = steps
                if not heap and not due and not inflight:
                    self._thread = None  # nothing lent: the next device lent starts a thread
                    return
            for entry in due:
                try:
                    self._start(entry, inflight, poller)
                except Exception:  # pragma: no cover - a bug; the group goes on
                    self.log.exception("starting a poll")
            with self._lock:
                wake_at = self._heap[0][0] if self._heap else math.inf
                self._sleep_until = wake_at
            if wake_at == math.inf and not inflight:
                continue  # nothing left to poll: the loop's start ends the thread
            # (no local here may hold an _InFlight while the thread sleeps: it would keep its
            # device alive; the helpers' locals end with them)
            wake_at = min(wake_at, min((f.attempt.deadline for f in inflight.values()), default=wake_at))
            wait = wake_at - time.monotonic()
            ready = poller.poll(None if wait == math.inf else max(0, math.ceil(wait * 1000)))
            self._sleep_until = -math.inf
            self._replies(ready, inflight, poller)
            if inflight:
                self._expire(inflight, poller)

    def _replies(
        self, ready: list[tuple[int, int]], inflight: dict[int, _InFlight], poller: select.poll
    ) -> None:
        for fd, _ in ready:
            if fd == self._wake_r:
                _drain(fd)
                continue
            flight = inflight.get(fd)
            if flight is not None:
                self._read(flight, inflight, poller)

    def _expire(self, inflight: dict[int, _InFlight], poller: select.poll) -> None:
        now = time.monotonic()
        for fd, flight in list(inflight.items()):
            if flight.attempt.deadline <= now:
                flight.link.abandon_attempt(flight.attempt, timed_out=True)
                self._end(fd, flight, None, inflight, poller, "no reply in time")

    def _start(self, entry: _Entry, inflight: dict[int, _InFlight], poller: select.poll) -> None:
        """Send the POLL of a lent device that is due (or give the device back)."""
        ticket, ref = entry[2], entry[3]
        device = ref()
        if device is None:
            return
        busy = device._poll_busy
        if not busy.acquire(blocking=False):
            self._later(entry)  # its thread is taking it back, or another instance waits for it
            return
        try:
            if not device._lent or device._lend_ticket != ticket:
                busy.release()  # taken back since
                return
            link = device._link
            data = device._group_poll()
            if link is None or data is None or device._stop.is_set():
                self._hand_back(device, "a step is pending")
                busy.release()
                return
            if not link.lock.acquire(blocking=False):
                # the application's command is on the line: try again shortly; if it keeps the
                # link busy, the device's own thread waits for the lock instead (the group waits
                # for no device)
                if time.monotonic() - entry[4] > _BUSY_HAND_BACK:
                    self._hand_back(device, "the application keeps the link busy")
                    busy.release()
                else:
                    busy.release()
                    self._later(entry)
                return
        except BaseException:
            busy.release()
            raise
        try:
            attempt = link.start_attempt(device._address, data)
        except (SSPError, OSError, ValueError) as exc:
            device.log.debug("poll group: %s", exc)
            attempt = None
        except BaseException:
            link.lock.release()
            busy.release()
            raise
        if attempt is None:
            link.lock.release()
            self._hand_back(device, "the poll cannot be sent from the group")
            busy.release()
            return
        counters = self.counters
        counters.polls += 1
        lag = attempt.sent_at - entry[4]  # (against the first due time, if it had to wait since)
        if lag > counters.max_lag:
            counters.max_lag = lag
        if lag > LATE_POLL:
            counters.late += 1
        fd = attempt.fd.fd
        inflight[fd] = _InFlight(device, link, attempt, ticket, lag)
        self._in_flight = len(inflight)
        poller.register(fd, select.POLLIN)

    def _read(self, flight: _InFlight, inflight: dict[int, _InFlight], poller: select.poll) -> None:
        fd = flight.attempt.fd.fd
        try:
            packet = flight.link.read_attempt(flight.attempt)
        except SSPError as exc:  # the port failed: the attempt is abandoned
            self._end(fd, flight, None, inflight, poller, str(exc))
            return
        if packet is None:
            return
        try:
            reply = flight.link.finish_attempt(flight.attempt, packet, _ok)
        except Exception:  # pragma: no cover - a bug; the device's thread takes over
            flight.link.abandon_attempt(flight.attempt)
            self.log.exception("taking a reply")
            reply = None
        self._end(fd, flight, reply, inflight, poller, "a reply it does not take")

    def _end(
        self,
        fd: int,
        flight: _InFlight,
        reply: bytes | None,
        inflight: dict[int, _InFlight],
        poller: select.poll,
        why: str = "",
    ) -> None:
        """The poll in flight is over: ``reply`` taken, or None (the attempt was abandoned, for
        ``why``: the device's thread resends it).  A quiet reply ends there (the next poll is
        scheduled); one with news goes to the device's thread, which handles it at once."""
        del inflight[fd]
        self._in_flight = len(inflight)
        poller.unregister(fd)
        device = flight.device
        try:
            if reply is None:
                self._hand_back(device, why, abandoned=True)
                return
            if not device._group_keep(reply):
                # other threads' commands wait until the device's thread has taken this reply
                # up, as they would behind its poll (the link lock is released below)
                device._handed_done.clear()
                device._handed = (Command(flight.attempt.data[0]), reply)
                self.counters.handed += 1
                self._hand_back(device, "a reply with news")
                return
            next_due = None  # on time, or a step's poll (its pace is the device's): no new phase
            if device._long_step:
                self.counters.steps += 1
            else:
                self.counters.quiet += 1
                if flight.lag > 0:
                    # late: the device's phase moves to when the poll went, the next one interval
                    # after it.  Kept on the old grid, devices due together (opened together, or
                    # all late while the group fell behind) would stay due together for good, and
                    # every interval the group would send all their polls in one burst, the last
                    # of them late; moved, they spread (each delay spreads them further).
                    next_due = flight.attempt.sent_at + device.poll_interval
            device._group_polled(reply, next_due)
            due = device._next_due
            entry = (due, next(self._order), flight.ticket, weakref.ref(device), due, device._long_step)
            with self._lock:
                heapq.heappush(self._heap, entry)
        finally:
            flight.link.lock.release()
            device._poll_busy.release()

    def _later(self, entry: _Entry) -> None:
        due = time.monotonic() + _BUSY_AGAIN
        with self._lock:
            heapq.heappush(self._heap, (due, next(self._order), *entry[2:]))


def _ok(reply: bytes) -> bool:
    """The replies the group takes off the line: ``OK`` ones (quiet, or handed to the device's
    thread).  Any other (KEY NOT SET, a refusal) is left abandoned: the device's thread sends the
    poll again and meets it the ordinary way."""
    return bool(reply) and reply[0] == Response.OK


def _still_lent(entry: _Entry) -> bool:
    device = entry[3]()
    return device is not None and device._lent and device._lend_ticket == entry[2]


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _close_pipe(read_end: int, write_end: int) -> None:
    for fd in (read_end, write_end):
        try:
            os.close(fd)
        except OSError:  # pragma: no cover - already closed
            pass
