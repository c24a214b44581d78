"""A small SSP slave on the master side of an ``os.openpty()`` pair, for link tests.

Independent of the emulator on purpose: it implements only the transport rules the link
must honour (ssp-protocol.md §1.5, §1.6, §2.5), with knobs to misbehave.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Callable
from dataclasses import dataclass, field

from cashdevice import ssp

Handler = Callable[[int, bytes], bytes]


def echo_handler(address: int, data: bytes) -> bytes:
    """Reply OK followed by the command bytes, so each caller can recognise its reply."""
    return b"\xf0" + data


@dataclass
class _SlaveState:
    last_flag: bool | None = None
    cached: bytes | None = None
    key: bytes | None = None
    count: int = 0
    generator: int | None = None
    modulus: int | None = None
    slave_random: int = 0x1234567


@dataclass
class FakeSlave:
    """Answers packets for ``addresses`` on a pty; ``path`` is what the link opens."""

    addresses: tuple[int, ...] = (0,)
    handler: Handler = echo_handler
    fixed_key: int = ssp.DEFAULT_FIXED_KEY
    drop_replies: int = 0
    """Drop the next N replies (the command is still executed once)."""
    foreign_before_reply: bytes | None = None
    """Wire bytes sent just before each reply (e.g. a packet with another SEQ/ID)."""
    corrupt_replies: int = 0
    """Send the next N replies with one data bit flipped (CRC fails at the host)."""
    garble_replies: int = 0
    """Send the next N replies with one bit of their DATA flipped and the CRC made good again
    (damage the packet CRC does not catch; an encrypted reply then fails its eSSP check)."""
    wrong_reply_count: bool = False
    refuse_generator: bool = False
    received: list[ssp.Packet] = field(default_factory=list)
    executed: list[tuple[int, bytes]] = field(default_factory=list)
    repeats: int = 0

    def __post_init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.parser = ssp.PacketParser()
        self.states = {a: _SlaveState() for a in self.addresses}
        self.lock = threading.Lock()
        self.packet_seen = threading.Condition(self.lock)
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name=f"fake-slave {self.path}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self._thread.join(5)
        for fd in (self._master, self._slave, self._stop_r, self._stop_w):
            os.close(fd)

    def __enter__(self) -> FakeSlave:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ engine

    def _run(self) -> None:
        while True:
            ready, _, _ = select.select([self._master, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                chunk = os.read(self._master, 4096)
            except OSError:
                return
            for packet in self.parser.feed(chunk):
                self._on_packet(packet)

    def _on_packet(self, packet: ssp.Packet) -> None:
        with self.lock:
            self.received.append(packet)
            self.packet_seen.notify_all()
            state = self.states.get(packet.address)
            if state is None:
                return  # not ours
            if packet.data[:1] == b"\x11":
                state.last_flag = True
                reply = self._frame(packet, b"\xf0")
            elif state.last_flag == packet.seq_flag and state.cached is not None:
                self.repeats += 1
                reply = state.cached
            else:
                state.last_flag = packet.seq_flag
                reply = self._execute(state, packet)
                if reply is None:
                    return
            state.cached = reply
            if self.drop_replies:
                self.drop_replies -= 1
                return
            if self.foreign_before_reply:
                os.write(self._master, self.foreign_before_reply)
            if self.corrupt_replies:
                self.corrupt_replies -= 1
                reply = reply[:3] + bytes((reply[3] ^ 0x10,)) + reply[4:]
            if self.garble_replies:
                self.garble_replies -= 1
                (sent,) = ssp.PacketParser().feed(reply)
                data = bytearray(sent.data)
                data[-1] ^= 0x10
                reply = ssp.encode_packet(sent.address, sent.seq_flag, bytes(data))
            os.write(self._master, reply)

    def _frame(self, packet: ssp.Packet, data: bytes) -> bytes:
        return ssp.encode_packet(packet.address, packet.seq_flag, data)

    def _execute(self, state: _SlaveState, packet: ssp.Packet) -> bytes | None:
        data = packet.data
        encrypted = data[0] == ssp.STEX
        if encrypted:
            if state.key is None:
                return self._frame(packet, b"\xfa")
            count, data = ssp.decrypt_data(state.key, data)
            if count != state.count:
                return None  # eCOUNT mismatch: packet discarded
            state.count += 1
        self.executed.append((packet.address, data))
        code = data[0]
        if code in (ssp.Command.SET_GENERATOR, ssp.Command.SET_MODULUS):
            value = int.from_bytes(data[1:9], "little")
            if not ssp.is_prime(value) or (self.refuse_generator and code == ssp.Command.SET_GENERATOR):
                reply = b"\xf4"
            else:
                if code == ssp.Command.SET_GENERATOR:
                    state.generator = value
                else:
                    state.modulus = value
                reply = b"\xf0"
        elif code == ssp.Command.REQUEST_KEY_EXCHANGE:
            if state.generator is None or state.modulus is None:
                reply = b"\xf8"
            else:
                host_inter = int.from_bytes(data[1:9], "little")
                inter = ssp.dh_inter_key(state.generator, state.modulus, state.slave_random)
                key = ssp.dh_shared_key(host_inter, state.slave_random, state.modulus)
                state.key = ssp.aes_key(self.fixed_key, key)
                state.count = 0
                reply = b"\xf0" + inter.to_bytes(8, "little")
                return self._frame(packet, reply)
        else:
            reply = self.handler(packet.address, data)
        if encrypted:
            assert state.key is not None
            count = state.count + (1 if self.wrong_reply_count else 0)
            reply = ssp.encrypt_data(state.key, count, reply)
        return self._frame(packet, reply)

    # ------------------------------------------------------------------ test helpers

    def wait_packets(self, n: int, timeout: float = 5.0) -> list[ssp.Packet]:
        """Block until at least ``n`` packets were received; return them."""
        with self.lock:
            if not self.packet_seen.wait_for(lambda: len(self.received) >= n, timeout):
                raise AssertionError(f"only {len(self.received)} of {n} packets arrived")
            return list(self.received)
