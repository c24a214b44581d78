"""The buffer-based PacketParser against a byte-at-a-time reference model of the same rules.

The model is the parser as it was before it worked on runs of bytes (one state transition per
wire byte, ssp-protocol.md §1.4).  On any bytes, split anywhere, both must return the same
packets, end in the same state and count the same.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from cashdevice.ssp import STX, Packet, PacketParser, crc16, encode_packet


class ReferenceParser:
    """One byte at a time: hunting, SEQ/ID, stuffed bytes, LEN 0, CRC."""

    def __init__(self) -> None:
        self.counters = {
            "packets": 0,
            "crc_errors": 0,
            "length_errors": 0,
            "restarts": 0,
            "discarded_bytes": 0,
        }
        self.in_packet = False
        self.escape = False
        self.buf = bytearray()

    def start(self) -> None:
        self.in_packet, self.escape = True, False
        self.buf.clear()

    def reset(self) -> None:
        self.in_packet, self.escape = False, False
        self.buf.clear()

    def feed(self, chunk: bytes) -> list[Packet]:
        out: list[Packet] = []
        c = self.counters
        for byte in chunk:
            if not self.in_packet:
                if byte == STX:
                    self.start()
                else:
                    c["discarded_bytes"] += 1
                continue
            if not self.buf and byte == STX:
                c["restarts"] += 1
                c["discarded_bytes"] += 1
                self.start()
                continue
            if self.escape:
                self.escape = False
                if byte != STX:
                    c["restarts"] += 1
                    c["discarded_bytes"] += len(self.buf) + 1
                    self.start()
                    self.push(byte, out)
                    continue
            elif byte == STX:
                self.escape = True
                continue
            self.push(byte, out)
        return out

    def push(self, byte: int, out: list[Packet]) -> None:
        c = self.counters
        buf = self.buf
        buf.append(byte)
        if len(buf) == 2 and buf[1] == 0:
            c["length_errors"] += 1
            c["discarded_bytes"] += 3
            self.reset()
            return
        if len(buf) < 3 or len(buf) < buf[1] + 4:
            return
        body = bytes(buf[:-2])
        received = buf[-2] | (buf[-1] << 8)
        self.reset()
        if crc16(body) != received:
            c["crc_errors"] += 1
            c["discarded_bytes"] += len(body) + 3
            return
        c["packets"] += 1
        out.append(Packet(body[0] & 0x7F, bool(body[0] & 0x80), body[2:]))


frames = st.builds(
    lambda a, f, d: encode_packet(a, f, d),
    st.integers(min_value=0, max_value=0x7D),
    st.booleans(),
    st.one_of(
        st.binary(min_size=1, max_size=40),
        st.lists(st.sampled_from([0x7F, 0x00, 0x80]), min_size=1, max_size=20).map(bytes),
    ),
)
# pieces: whole frames, cut frames, frames with a flipped byte, runs of STX, zero LEN, random bytes
pieces = st.one_of(
    frames,
    frames.flatmap(lambda w: st.integers(min_value=0, max_value=len(w)).map(lambda k: w[:k])),
    frames.flatmap(lambda w: st.integers(min_value=0, max_value=len(w)).map(lambda k: w[k:])),
    st.tuples(frames, st.integers(min_value=1), st.integers(min_value=1, max_value=255)).map(
        lambda t: (
            t[0][: t[1] % len(t[0])] + bytes((t[0][t[1] % len(t[0])] ^ t[2],)) + t[0][t[1] % len(t[0]) + 1 :]
        )
    ),
    st.integers(min_value=1, max_value=4).map(lambda n: b"\x7f" * n),
    st.just(b"\x7f\x80\x00"),
    st.binary(max_size=12),
)


@given(st.lists(pieces, max_size=8).map(b"".join), st.data())
@settings(max_examples=400)
def test_same_packets_state_and_counters_as_the_byte_model(wire: bytes, data: st.DataObject) -> None:
    cuts = sorted(set(data.draw(st.lists(st.integers(min_value=0, max_value=len(wire)), max_size=12))))
    parser, model = PacketParser(), ReferenceParser()
    last = 0
    for cut in [*cuts, len(wire)]:
        assert parser.feed(wire[last:cut]) == model.feed(wire[last:cut])
        assert parser.busy == model.in_packet
        last = cut
    assert dataclasses.asdict(parser.counters) == model.counters
    # and the state left behind behaves the same on what follows
    tail = encode_packet(1, True, b"\x07")
    assert parser.feed(tail) == model.feed(tail)
    assert dataclasses.asdict(parser.counters) == model.counters


@given(st.lists(pieces, max_size=8).map(b"".join))
@settings(max_examples=200)
def test_byte_by_byte_equals_one_chunk(wire: bytes) -> None:
    whole, single = PacketParser(), PacketParser()
    assert whole.feed(wire) == [p for i in range(len(wire)) for p in single.feed(wire[i : i + 1])]
    assert whole.counters == single.counters


def test_stuffed_len_byte_split_between_the_pair() -> None:
    data = bytes(range(0x7F))  # LEN = 0x7F is sent as 7F 7F
    wire = encode_packet(3, False, data)
    assert wire[2:4] == b"\x7f\x7f"
    parser = PacketParser()
    assert parser.feed(wire[:3]) == []
    assert parser.feed(wire[3:]) == [Packet(3, False, data)]


def test_accepts_bytearray_and_memoryview() -> None:
    wire = encode_packet(0, True, b"\xf0\x7f")
    assert PacketParser().feed(bytearray(wire)) == [Packet(0, True, b"\xf0\x7f")]
    assert PacketParser().feed(memoryview(wire)) == [Packet(0, True, b"\xf0\x7f")]


def test_two_frames_and_garbage_in_one_chunk() -> None:
    a, b = encode_packet(0, True, b"\xf0"), encode_packet(0, False, b"\xf0\x7f\x7f")
    parser = PacketParser()
    assert parser.feed(b"\x01\x02" + a + b"\x03" + b + b"\x04") == [
        Packet(0, True, b"\xf0"),
        Packet(0, False, b"\xf0\x7f\x7f"),
    ]
    assert parser.counters.discarded_bytes == 4
    assert not parser.busy
