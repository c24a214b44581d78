"""Fixtures for the emulator tests: a small GA138 host built on cashdevice.ssp / link, and a
leak check that no emulator thread outlives its test."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from cashdevice.emulator import Emulator, VirtualClock
from cashdevice.events import Amount, DeviceFamily, Event, decode_events
from cashdevice.link import SSPLink
from cashdevice.ssp import Command, PollEvent


def _emulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("cashdevice-emu-")]


@pytest.fixture(autouse=True)
def no_leaked_emulator_threads() -> Iterator[None]:
    yield
    deadline = time.monotonic() + 3.0
    for thread in _emulator_threads():
        thread.join(max(0.0, deadline - time.monotonic()))
    leaked = _emulator_threads()
    assert not leaked, f"emulator threads still running: {[t.name for t in leaked]}"


@dataclass
class Setup:
    unit_type: int
    protocol: int
    values: list[Amount] = field(default_factory=list)  # channel n -> values[n-1]


class Host:
    """A small GA138 host: SSPLink for transport + eSSP, events decoded with cashdevice.events."""

    def __init__(
        self,
        url: str,
        address: int,
        family: DeviceFamily,
        timeout: float = 0.5,
        retries: int = 3,
        advance: Callable[[float], None] | None = None,
    ):
        self.link = SSPLink(url, timeout=timeout, retries=retries)
        self.advance = advance  # the emulator's virtual clock, if it has one: the host's pauses move it
        self.address = address
        self.family = family
        self.level = 6
        self.events: list[Event] = []
        self.setup: Setup | None = None

    def close(self) -> None:
        self.link.close()

    def cmd(self, *data: int | bytes, encrypt: bool | None = None) -> bytes:
        raw = b"".join(bytes((d,)) if isinstance(d, int) else d for d in data)
        return self.link.transact(self.address, raw, encrypt=encrypt)

    def ok(self, *data: int | bytes, encrypt: bool | None = None) -> bytes:
        reply = self.cmd(*data, encrypt=encrypt)
        assert reply[:1] == b"\xf0", f"command {bytes(data[:1]).hex()} refused: {reply.hex()}"
        return reply[1:]

    def startup(self, level: int) -> list[Event]:
        """ssp-protocol.md §7.1 steps 1-6: SYNC, keys, protocol, setup, first poll."""
        self.link.sync(self.address)
        self.link.negotiate_key(self.address)
        self.ok(Command.HOST_PROTOCOL_VERSION, level)
        self.level = level
        self.setup = parse_setup(self.ok(Command.SETUP_REQUEST), level)
        assert self.setup.protocol == level
        return self.poll()

    def poll(self, with_ack: bool = False) -> list[Event]:
        reply = self.ok(Command.POLL_WITH_ACK if with_ack else Command.POLL)
        events = decode_events(reply, self.level, self.family)
        self.events.extend(events)
        return events

    def poll_until(
        self,
        code: int,
        timeout: float = 5.0,
        interval: float = 0.02,
        with_ack: bool = False,
        on_event: Callable[[Event], None] | None = None,
        where: Callable[[Event], bool] | None = None,
    ) -> list[Event]:
        """Poll every ``interval`` until an event ``code`` arrives (and satisfies ``where``, if
        given); return everything polled.  With a virtual clock the pause between polls is
        device time (``advance``) and ``timeout`` counts it."""
        seen: list[Event] = []
        deadline = time.monotonic() + timeout
        virtual_left = timeout
        pause = threading.Event()
        while (virtual_left > 0) if self.advance is not None else (time.monotonic() < deadline):
            events = self.poll(with_ack)
            seen.extend(events)
            for e in events:
                if on_event is not None:
                    on_event(e)
            if any(e.code == code and (where is None or where(e)) for e in events):
                return seen
            if self.advance is not None:
                self.advance(interval)
                virtual_left -= interval
            else:
                pause.wait(interval)  # the poll interval of a real host
        raise AssertionError(f"no {PollEvent(code).name} within {timeout}s; saw {[e.name for e in seen]}")

    def credited_value(self) -> int:
        """Sum of CREDIT / COIN CREDIT / VALUE ADDED seen by this host."""
        assert self.setup is not None
        total = 0
        for e in self.events:
            if e.code == PollEvent.CREDIT and e.channel:
                total += self.setup.values[e.channel - 1].value
            elif e.code in (PollEvent.COIN_CREDIT, PollEvent.VALUE_ADDED):
                total += sum(a.value for a in e.amounts)
        return total

    def total(self, code: int) -> int:
        return sum(a.value for e in self.events if e.code == code for a in e.amounts)


def parse_setup(data: bytes, level: int) -> Setup:
    """Independent SETUP REQUEST parser (ssp-protocol.md §4.6)."""
    unit = data[0]
    if unit in (0x03, 0x09):
        protocol, n = data[8], data[9]
        values = [int.from_bytes(data[10 + 2 * i : 12 + 2 * i], "little") for i in range(n)]
        countries = (
            [data[10 + 2 * n + 3 * i : 13 + 2 * n + 3 * i].decode() for i in range(n)] if level >= 6 else []
        )
        return Setup(
            unit, protocol, [Amount(v, countries[i] if countries else "") for i, v in enumerate(values)]
        )
    n = data[11]
    real = int.from_bytes(data[12 + 2 * n : 15 + 2 * n], "big")
    protocol = data[15 + 2 * n]
    if level >= 6:
        countries = [data[16 + 2 * n + 3 * i : 19 + 2 * n + 3 * i].decode() for i in range(n)]
        base = 16 + 5 * n
        values = [int.from_bytes(data[base + 4 * i : base + 4 * i + 4], "little") * real for i in range(n)]
        return Setup(unit, protocol, [Amount(v, c) for v, c in zip(values, countries)])
    multiplier = int.from_bytes(data[8:11], "big")
    return Setup(unit, protocol, [Amount(data[12 + i] * multiplier * real) for i in range(n)])


@pytest.fixture
def make_host() -> Iterator[Callable[..., Host]]:
    hosts: list[Host] = []

    def make(emu: Emulator, url: str | None = None, **kwargs: object) -> Host:
        if isinstance(emu.clock, VirtualClock):
            kwargs.setdefault("advance", emu.advance)
        host = Host(url or emu.url, emu.address, emu.spec.family, **kwargs)  # type: ignore[arg-type]
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        host.close()
