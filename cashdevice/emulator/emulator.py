"""The public :class:`Emulator`: one device, its engine thread, transports, faults, ledger."""

from __future__ import annotations

import dataclasses
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from .. import ssp
from .clock import VirtualClock
from .core import Timing
from .datasets import COINS, MODELS, NOTES, Denomination
from .device import Device
from .download import DownloadSession
from .engine import EnginePolicy, SlaveEngine
from .faults import Faults
from .ledger import LedgerView
from .notes import ESCROW
from .transports import InprocChannel, LineModel, PtyTransport, TcpTransport, Transport, register

__all__ = ["Emulator"]

TICK = 0.01
"""Engine loop period (s): mechanics and timers advance at this resolution."""


class Emulator:
    """An emulated ITL device speaking SSP / eSSP.

    ``model`` is one of :data:`MODELS` (``NOTE_VALIDATOR``, ``SPECTRAL_PAYOUT``,
    ``SMART_PAYOUT``, ``NV11``, ``NV4000``, ``SMART_HOPPER``, ``SMART_COIN_SYSTEM``,
    ``TWIN_SMART_COIN_SYSTEM``, ``SMART_HOPPER_4``).  ``currency`` is one code or several
    (``"EUR,GBP"`` / a tuple) for a multi-currency dataset.  Timings default to the
    manuals'; tests shorten them (``escrow_timeout=0.5, payout_step=0.05`` ...).
    ``levels`` pre-fills the recycler / hopper: ``{value: count}`` or
    ``{(value, country): count}``; ``cashbox_capacity`` / ``store_capacity`` override the
    model's (notes in the cashbox; notes per recycler module or coins per denomination).
    ``pacing=True`` models the serial line in both directions at the current baud rate (8N2:
    11 bits a byte, :class:`~cashdevice.emulator.transports.LineModel`): a command takes
    effect once its last byte would have arrived, and each reply reaches the host
    ``turnaround`` later plus its own transmission time, on every transport.
    ``clock`` is where mechanical time comes from (default ``time.monotonic``); with a
    :class:`~cashdevice.emulator.clock.VirtualClock` it passes only in :meth:`advance`.
    """

    MODELS = MODELS

    def __init__(
        self,
        model: str,
        currency: str | tuple[str, ...] | None = None,
        *,
        address: int | None = None,
        protocol_max: int | None = None,
        initial_protocol: int | None = None,
        seed: int | None = 0,
        escrow_timeout: float = 10.0,
        watchdog: float | None = None,
        read_time: float = 1.0,
        stack_time: float = 1.5,
        reject_time: float = 1.0,
        payout_step: float = 1.0,
        coin_step: float = 0.2,
        auto_take: float | None = None,
        hopper_enable_echo: bool = False,
        levels: Mapping[Any, int] | None = None,
        cashbox_capacity: int | None = None,
        store_capacity: int | None = None,
        enforce_encryption: bool | None = None,
        encrypt_credit: bool = False,
        bad_crypto: str = "fa",
        plain_allowed: frozenset[int] = frozenset(),
        pacing: bool = False,
        turnaround: float = 0.003,
        name: str | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; one of {', '.join(MODELS)}")
        spec = MODELS[model]
        if cashbox_capacity is not None:
            spec = dataclasses.replace(spec, cashbox_capacity=cashbox_capacity)
        if store_capacity is not None:
            spec = dataclasses.replace(spec, store_capacity=store_capacity)
        if currency is None:
            currencies: tuple[str, ...] = ("EUR",)
        elif isinstance(currency, str):
            currencies = tuple(c.strip().upper() for c in currency.split(",") if c.strip())
        else:
            currencies = tuple(c.upper() for c in currency)
        pmax = protocol_max if protocol_max is not None else spec.protocol_max
        if not 4 <= pmax <= 8:
            raise ValueError("protocol_max must be 4..8")
        addr = spec.address if address is None else address
        if not 0 <= addr <= ssp.MAX_ADDRESS:
            raise ValueError("address must be 0..0x7D")
        if bad_crypto not in ("fa", "drop"):
            raise ValueError("bad_crypto is 'fa' or 'drop'")
        self.model = model
        self.spec = spec
        self._id = register(self)
        self.name = name or f"{model}-{self._id}"
        self.log = logging.getLogger(f"cashdevice.emulator.{self._id}")
        self.rng = random.Random(seed)
        self.timing = Timing(
            read_time,
            stack_time,
            reject_time,
            escrow_timeout,
            watchdog,
            payout_step,
            coin_step,
            auto_take,
            hopper_enable_echo,
        )
        self._lock = threading.RLock()
        self.device = Device(
            spec,
            currencies,
            self.timing,
            self.rng,
            self.log,
            initial_protocol if initial_protocol is not None else min(6, pmax),
            pmax,
        )
        if clock is not None:
            self.device.clock = clock
            self.device.last_command = clock()  # the watchdog counts on the new clock
        self.policy = EnginePolicy(
            enforce_encryption=spec.encryption_enforced if enforce_encryption is None else enforce_encryption,
            bad_crypto=bad_crypto,
            encrypt_credit=encrypt_credit,
            plain_allowed=plain_allowed,
        )
        self.engine = SlaveEngine(self.device, addr, self.rng, self.policy, self.log.getChild("engine"))
        self.faults = Faults(self.rng)
        self.engine.reply_filter = self.faults.allow_reply
        self.engine.request_filter = self.faults.allow_request
        self.pacing = pacing
        self.line = LineModel(turnaround)
        self.powered = True
        self.plugged = True
        self._rx: queue.Queue[tuple[Transport, bytes, float, int]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._transports: list[Transport] = []
        self._inproc: InprocChannel | None = None
        self._pty: PtyTransport | None = None
        self._tcp: TcpTransport | None = None
        self.exchanges = 0
        if levels:
            for key, count in levels.items():
                value, country = key if isinstance(key, tuple) else (key, None)
                d = self.device.denomination(int(value), country)
                if d is None:
                    raise ValueError(f"no denomination {key!r} in the dataset")
                self.device.load(d, int(count))

    # ------------------------------------------------------------------------------ lifecycle

    @property
    def id(self) -> str:
        return self._id

    @property
    def turnaround(self) -> float:
        """Seconds from a command's last byte to its reply's first (paced line only)."""
        return self.line.turnaround

    @turnaround.setter
    def turnaround(self, seconds: float) -> None:
        self.line.turnaround = seconds

    @property
    def clock(self) -> Callable[[], float]:
        """Where the unit's mechanical time comes from (``time.monotonic`` unless ``clock=``)."""
        return self.device.clock

    @property
    def address(self) -> int:
        return self.engine.address

    @property
    def currencies(self) -> tuple[str, ...]:
        return self.device.currencies

    @property
    def denominations(self) -> tuple[Denomination, ...]:
        return self.device.channels

    def start(self) -> None:
        """Start the engine thread (idempotent; the transports call it)."""
        with self._lock:
            if self._thread is not None:
                return
            if self._stop.is_set():
                raise RuntimeError("emulator stopped")
            self._thread = threading.Thread(target=self._run, name=f"cashdevice-emu-{self._id}", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the engine and close every transport (idempotent)."""
        self._stop.set()
        with self._lock:
            transports, self._transports = self._transports, []
        for t in transports:
            try:
                t.close()
            except OSError as exc:  # pragma: no cover - best effort
                self.log.debug("closing %s: %s", t.name, exc)
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._thread is not None and not self._stop.is_set() else "idle"
        cur = ",".join(self.currencies)
        return f"Emulator({self.model!r}, currency={cur!r}, address=0x{self.address:02X}, {state})"

    # ------------------------------------------------------------------------------ transports

    @property
    def url(self) -> str:
        """``cashdevice://<id>``: open it with ``serial.serial_for_url`` once cashdevice is imported."""
        with self._lock:
            if self._inproc is None:
                self._inproc = InprocChannel(self._receive)
                self._transports.append(self._inproc)
                if not self.plugged:
                    self._inproc.unplug()
        self.start()
        return f"cashdevice://{self._id}"

    def inproc_channel(self) -> InprocChannel:
        """The in-process channel (created by :attr:`url`)."""
        _ = self.url
        assert self._inproc is not None
        return self._inproc

    def start_pty(self, link: str | None = None) -> str:
        """Create a pseudo-terminal; return its stable path (a symlink to ``/dev/pts/N``)."""
        with self._lock:
            if self._pty is None:
                self._pty = PtyTransport(self._receive, f"cashdevice-emu-{self._id}-pty", self.log, link)
                self._transports.append(self._pty)
        self.start()
        return self._pty.path

    def start_tcp(self, port: int = 0, host: str = "127.0.0.1") -> int:
        """Listen on ``host:port`` (0 = any free port); return the port (``socket://127.0.0.1:PORT``)."""
        with self._lock:
            if self._tcp is None:
                self._tcp = TcpTransport(
                    self._receive, f"cashdevice-emu-{self._id}-tcp", self.log, host, port
                )
                self._transports.append(self._tcp)
        self.start()
        return self._tcp.port

    @property
    def pty_device(self) -> str | None:
        """The current ``/dev/pts/N`` behind :meth:`start_pty`'s path."""
        return self._pty.device if self._pty is not None else None

    # ------------------------------------------------------------------------------ engine loop

    def _receive(self, transport: Transport, chunk: bytes) -> None:
        chunk = self.faults.inbound.apply(chunk)
        if chunk:
            baud = self.device.baud
            arrived = self.line.received(len(chunk), baud, time.monotonic()) if self.pacing else 0.0
            self._rx.put((transport, chunk, arrived, baud))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                transport, chunk, arrived, baud = self._rx.get(timeout=TICK)
            except queue.Empty:
                transport, chunk, arrived, baud = None, b"", 0.0, 0
            if arrived:  # paced: the command acts once its last byte is in
                wait = arrived - time.monotonic()
                if wait > 0:
                    self._stop.wait(wait)
            replies: list[bytes] = []
            reboot = False
            try:
                with self._lock:
                    if self.powered:
                        self.device.tick(self.device.clock())
                        if chunk:
                            replies = self.engine.feed(chunk)
                            self.exchanges += len(replies)
                            reboot = self.device.reset_requested or self._download_done()
                        self.device.tick(self.device.clock())
            except Exception:  # the engine thread must survive anything
                self.log.exception("emulator engine error")
            if transport is not None:
                for wire in replies:
                    self._send(transport, wire, arrived, baud)
            if reboot:
                self.power_cycle()

    def _download_done(self) -> bool:
        """A completed download: keep the new versions, then the unit resets."""
        engine = self.engine
        if not engine.download_finished:
            return False
        engine.download_finished = False
        target = engine.download.target
        if target is not None:
            self.device.persistent.firmware = target.firmware_version or self.device.persistent.firmware
            self.device.persistent.dataset = target.dataset_version or self.device.persistent.dataset
        return True

    @property
    def download(self) -> DownloadSession:
        """The firmware-download state (knobs ``fail_at_block``, ``drop_at_block``, ``fail_ram``,
        ``refuse_header``; ``target`` holds the last raw phase)."""
        return self.engine.download

    def _send(self, transport: Transport, wire: bytes, command_in: float, baud: int) -> None:
        direction = self.faults.outbound
        if direction.delay:
            self._stop.wait(direction.delay)
        if self.pacing:
            # the reply goes out at the rate the command came in (SET BAUD RATE answers at the old one)
            now = time.monotonic()
            wait = self.line.reply_done(len(wire), baud or self.device.baud, command_in or now, now) - now
            if wait > 0:
                self._stop.wait(wait)
        wire = direction.apply(wire)
        if wire:
            try:
                transport.write(wire)
            except OSError as exc:
                self.log.debug("write to %s failed: %s", transport.name, exc)

    # ------------------------------------------------------------------------------ physical world

    def _locked(self, fn: Callable[[], Any]) -> Any:
        with self._lock:
            return fn()

    def insert_note(
        self,
        value: int,
        currency: str | None = None,
        *,
        reject: int | None = None,
        fraud: bool = False,
        wait: float = 0.0,
    ) -> bool:
        """A customer inserts a note (minor units).  Returns False when the unit does not take
        it (disabled, busy, jammed ...).  ``reject`` forces a validation reject with that
        LAST REJECT CODE; ``fraud`` reports FRAUD ATTEMPT and returns the note.

        ``wait`` (seconds): a patient customer, who keeps offering the note until the unit
        takes it or ``wait`` passes, so ``for v in notes: emu.insert_note(v, wait=10)`` feeds
        every note in turn (the ledger counts one ``refused`` only if it never does)."""
        self._need(NOTES, "insert_note")
        dev = self.device
        return self._offer(
            dev.accepting_notes, lambda: dev.insert_note(value, currency, reject, fraud), wait
        )

    def _offer(self, ready: Callable[[], bool], take: Callable[[], bool], wait: float) -> bool:
        """Offer an item: wait (up to ``wait`` s) until the powered unit is ``ready``, then
        ``take()`` it; an item never taken is offered once at the end (and refused)."""
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            with self._lock:
                last = time.monotonic() >= deadline or self._stop.is_set()
                if self.powered and (last or ready()):
                    return take()
                if last:
                    return False
            self._stop.wait(TICK)

    def insert_ticket(self, data: str) -> bool:
        """A customer inserts a barcode ticket (NV200-class models).  False when barcode reading
        is not enabled (reader configuration and barcode inhibit) or the unit is busy.  ``data``:
        what the ticket's barcode holds, 6 to 24 digits (GA138: interleaved 2 of 5, "Number of
        characters (Min 6 max 24)"; GET BARCODE DATA returns it in ASCII); ValueError otherwise."""
        self._need(NOTES, "insert_ticket")
        if not (isinstance(data, str) and data.isascii() and data.isdigit() and 6 <= len(data) <= 24):
            raise ValueError(f"a ticket's barcode is 6 to 24 digits, not {data!r}")
        with self._lock:
            return self.powered and self.device.insert_ticket(data)

    def load_cassette(self, value: int, count: int, currency: str | None = None) -> None:
        """NV4000: an operator puts ``count`` notes of ``value`` into the replenishment cassette."""
        with self._lock:
            d = self.device.denomination(int(value), currency)
            if self.model != "NV4000" or d is None:
                raise ValueError(f"no NV4000 cassette denomination {value} {currency or ''}".rstrip())
            self.device.load_cassette(d, int(count))

    def remove_cassette(self) -> None:
        """NV4000: the replenishment cassette is taken out (REPLENISH_CASSETTE_REMOVED)."""
        with self._lock:
            self.device.remove_cassette()

    def replace_cassette(self) -> None:
        """NV4000: the replenishment cassette is put back (REPLENISH_CASSETTE_REPLACED)."""
        with self._lock:
            self.device.replace_cassette()

    def insert_coin(self, value: int, currency: str | None = None, *, wait: float = 0.0) -> bool:
        """A customer drops a coin into the attached coin mech (minor units).  False when the
        unit does not take it; ``wait`` as for :meth:`insert_note`."""
        self._need(COINS, "insert_coin")
        dev = self.device

        def ready() -> bool:
            busy = dev.payout_busy() or dev.awaiting_ack() or dev.mech_jammed
            return bool(dev.enabled) and not busy

        return self._offer(ready, lambda: dev.insert_coin(value, currency), wait)

    def take_notes(self) -> int:
        """The customer takes the note(s) held in the bezel; returns how many."""
        with self._lock:
            return int(self.device.take_notes())

    def jam(self, kind: str = "safe") -> None:
        """Jam the mechanism; disables the unit until :meth:`clear_jam`.  Note path:
        ``"safe"`` SAFE JAM / ``"unsafe"`` UNSAFE JAM.  A running payout, float or empty stops with
        JAMMED, which lasts until the power is cycled, even after :meth:`clear_jam` (GA973); the
        power-up then reports INCOMPLETE PAYOUT / FLOAT with what was paid."""
        with self._lock:
            self.device.set_jam(kind)

    def payout_error(self, code: int = 0) -> None:
        """The next note a recycler pays fails (ERROR DURING PAYOUT ``code``, §6.4: 0 reverse
        validation, 1 jammed in transport, 2 cashbox error, 3 stalled): it goes to the
        cashbox and the payout stops."""
        self._need(NOTES, "payout_error")
        if not self.spec.payout or not 0 <= code <= 4:
            raise ValueError("payout_error needs a recycler model and a code 0..4")
        with self._lock:
            self.device.fail_next = code

    def clear_jam(self) -> None:
        """Clear a note-path / hopper jam or a coin mech jam."""
        with self._lock:
            self.device.clear_jam()
            self.device.mech_jammed = False

    def hopper_fraud(self) -> None:
        """A fraud attempt on a coin device: FRAUD ATTEMPT (value paid so far), payout stopped,
        ENABLE refused until the host sends RESET (or the power is cycled)."""
        self._need(COINS, "hopper_fraud")
        with self._lock:
            self.device.hopper_fraud()

    def coin_mech_jam(self) -> None:
        """The attached coin mech jams (COIN MECH JAMMED); coins are refused until :meth:`clear_jam`."""
        self._need(COINS, "coin_mech_jam")
        with self._lock:
            self.device.coin_mech_jam()

    def press_coin_return(self) -> None:
        """The customer presses the coin mech's return lever (COIN MECH RETURN PRESSED)."""
        self._need(COINS, "press_coin_return")
        with self._lock:
            self.device.press_coin_return()

    def remove_cashbox(self) -> None:
        self._need(NOTES, "remove_cashbox")
        with self._lock:
            self.device.remove_cashbox()

    def replace_cashbox(self, emptied: bool = True) -> None:
        """Put the cashbox back (``emptied``: the operator collected its contents)."""
        with self._lock:
            self.device.replace_cashbox(emptied)

    def open_note_path(self) -> None:
        with self._lock:
            self.device.note_path_open = True

    def close_note_path(self) -> None:
        with self._lock:
            self.device.note_path_open = False

    def _need(self, kind: str, what: str) -> None:
        if self.spec.kind != kind:
            raise TypeError(f"{what}() needs a {kind} model; {self.model} handles {self.spec.kind}")

    # ------------------------------------------------------------------------------ power and cable

    def power_off(self) -> None:
        """Cut the power: volatile state is lost; the unit stops answering."""
        with self._lock:
            if not self.powered:
                return
            self.device.power_cut()
            self.powered = False
            self.engine.reset()
            self._drain()

    def power_on(self) -> None:
        """Restore power: SLAVE RESET on the first poll, persistent state kept."""
        with self._lock:
            if self.powered:
                return
            self.device.power_on_state()
            self.engine.reset()
            self.powered = True

    def power_cycle(self, off_time: float = 0.0) -> None:
        """Power off, wait ``off_time`` seconds (atomic when 0), power on."""
        if off_time > 0:
            self.power_off()
            self._stop.wait(off_time)
            self.power_on()
            return
        with self._lock:
            self.power_off()
            self.power_on()

    def unplug(self) -> None:
        """Pull the cable: every transport hangs up (the device itself keeps running)."""
        with self._lock:
            self.plugged = False
            for t in self._transports:
                t.unplug()
            self._drain()

    def replug(self) -> None:
        """Plug the cable back: the same port path / URL / TCP port works again."""
        with self._lock:
            self.plugged = True
            for t in self._transports:
                t.replug()

    def _drain(self) -> None:
        while True:
            try:
                self._rx.get_nowait()
            except queue.Empty:
                return

    # ------------------------------------------------------------------------------ inspection

    @property
    def ledger(self) -> LedgerView:
        """Read-only snapshot of the accounting plus the physical contents, taken atomically."""
        with self._lock:
            dev = self.device
            in_path: dict[Denomination, int] = {}
            in_transit: dict[Denomination, int] = {}
            note = dev.note
            if note is not None:
                target = in_transit if note.credited else in_path
                target[note.denomination] = 1
            in_bezel: dict[Denomination, int] = {}
            bezel = dev.job.bezel if dev.job is not None else dev.persistent.bezel
            if bezel is not None:
                in_bezel[bezel] = 1
            return dev.ledger.view(
                dict(dev.store), dict(dev.persistent.cashbox), in_path, in_transit, in_bezel
            )

    @property
    def levels(self) -> dict[Denomination, int]:
        with self._lock:
            return dict(self.device.store)

    @property
    def cashbox(self) -> dict[Denomination, int]:
        with self._lock:
            return dict(self.device.persistent.cashbox)

    @property
    def enabled(self) -> bool:
        """True while the unit accepts notes / coins (host ENABLE, not disabled since)."""
        with self._lock:
            return bool(self.device.enabled)

    @property
    def fixed_key(self) -> int:
        with self._lock:
            return self.device.fixed_key

    def status(self) -> dict[str, Any]:
        """A summary of the device state (for the command line and tests)."""
        with self._lock:
            dev = self.device
            note = dev.note
            job = dev.job
            return {
                "model": self.model,
                "powered": self.powered,
                "plugged": self.plugged,
                "enabled": dev.enabled,
                "protocol": dev.level,
                "firmware": dev.firmware_version,
                "dataset": dev.dataset_version,
                "encrypted": self.engine.key_negotiated,
                "ecount": self.engine.ecount,
                "note": None if note is None else f"{note.denomination} {note.stage}",
                "escrow": note is not None and note.stage == ESCROW,
                "job": None if job is None else f"{job.kind} {job.value}/{job.requested} {job.country}",
                "bezel": None if job is None or job.bezel is None else str(job.bezel),
                "jam": dev.jam,
                "cashbox_present": dev.cashbox_present,
                "payout_enabled": dev.payout_enabled,
                "levels": {str(d): n for d, n in sorted(dev.store.items())},
                "cashbox": {str(d): n for d, n in sorted(dev.persistent.cashbox.items())},
                "last_reject": dev.last_reject,
                "inhibits": dev.inhibits,
            }

    def advance(self, seconds: float, step: float = 0.005) -> None:
        """Let ``seconds`` of mechanical time pass now, in steps of ``step``, ticking the unit
        after each (needs ``Emulator(clock=VirtualClock())``; see :mod:`cashdevice.emulator.clock`).

        Each step is one atomic move of the unit, so a stage that starts during the advance
        finishes within it when it fits; what waits for the host (a note in escrow, an event to
        acknowledge) waits for the host's next command, which keeps real time."""
        clock = self.clock
        if not isinstance(clock, VirtualClock):
            raise TypeError("advance() needs an emulator made with clock=VirtualClock()")
        if not seconds >= 0 or not step > 0:
            raise ValueError(f"advance({seconds!r}, step={step!r}): seconds >= 0 and step > 0")
        left = seconds
        while left > 1e-12:
            dt = min(step, left)
            with self._lock:
                now = clock.advance(dt)
                if self.powered:
                    self.device.tick(now)
            left -= dt

    def wait_for(
        self, predicate: Callable[[Emulator], bool], timeout: float = 5.0, interval: float = 0.01
    ) -> bool:
        """Poll ``predicate(self)`` until it holds or ``timeout`` passes; return whether it held."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate(self):
                return True
            if time.monotonic() >= deadline:
                return False
            self._stop.wait(interval)
