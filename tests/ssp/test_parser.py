"""PacketParser: round trips, fragmentation, garbage, lone STX, stuffing, CRC errors."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cashdevice.ssp import STX, Packet, PacketParser, crc16, encode_packet

addresses = st.integers(min_value=0, max_value=0x7D)
# data of 1..255 bytes, with a strategy heavy in 0x7F so stuffing is exercised everywhere
payloads = st.one_of(
    st.binary(min_size=1, max_size=255),
    st.lists(st.sampled_from([0x7F, 0x7F, 0x7F, 0x00, 0xFF, 0x80]), min_size=1, max_size=255).map(bytes),
)
garbage = st.binary(max_size=40).map(lambda b: b.replace(b"\x7f", b""))
packets = st.builds(Packet, addresses, st.booleans(), payloads)


def feed_split(parser: PacketParser, wire: bytes, cuts: list[int]) -> list[Packet]:
    out: list[Packet] = []
    last = 0
    for cut in [*sorted(set(cuts)), len(wire)]:
        out += parser.feed(wire[last:cut])
        last = cut
    return out


@given(packets)
def test_round_trip_split_at_every_point(packet: Packet) -> None:
    wire = encode_packet(packet.address, packet.seq_flag, packet.data)
    assert wire.count(b"\x7f") == 1 + 2 * bytes(wire[1:]).count(b"\x7f\x7f")  # only STX is single
    for cut in range(len(wire) + 1):
        parser = PacketParser()
        assert parser.feed(wire[:cut]) + parser.feed(wire[cut:]) == [packet]
        assert not parser.busy


@given(st.lists(st.tuples(garbage, packets), min_size=1, max_size=5), garbage, st.data())
@settings(max_examples=200)
def test_garbage_before_and_between_packets(
    items: list[tuple[bytes, Packet]], tail: bytes, data: st.DataObject
) -> None:
    wire = b"".join(g + p.encode() for g, p in items) + tail
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(wire)), max_size=10))
    parser = PacketParser()
    assert feed_split(parser, wire, cuts) == [p for _, p in items]
    assert parser.counters.packets == len(items)
    assert parser.counters.discarded_bytes == sum(len(g) for g, _ in items) + len(tail)


@given(st.binary(max_size=2000), st.data())
@settings(max_examples=300)
def test_never_raises_on_any_bytes(blob: bytes, data: st.DataObject) -> None:
    parser = PacketParser()
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(blob)), max_size=20))
    for p in feed_split(parser, blob, cuts):
        assert 1 <= len(p.data) <= 255
        assert 0 <= p.address <= 0x7F


@given(packets, st.binary(min_size=1, max_size=30))
def test_lone_stx_mid_packet_restarts(packet: Packet, partial_extra: bytes) -> None:
    """A partial packet interrupted by a new STX is discarded; the new packet is parsed."""
    first = encode_packet(1, True, b"\x07\x01\x02\x03\x04\x05")
    wire = packet.encode()
    parser = PacketParser()
    assert parser.feed(first[:5]) == []  # partial: STX, SEQ/ID, LEN, 2 data bytes
    assert parser.feed(wire) == [packet]
    assert parser.counters.restarts == 1


def test_lone_stx_restart_takes_next_byte_as_seq_id() -> None:
    parser = PacketParser()
    # a partial frame, a lone 7F, and the rest of a real frame
    assert parser.feed(bytes.fromhex("7f8005aabb")) == []
    assert parser.feed(bytes.fromhex("7f")) == []
    assert parser.feed(bytes.fromhex("800111")) == []
    assert parser.feed(bytes.fromhex("6582")) == [Packet(0, True, b"\x11")]
    assert parser.counters.restarts == 1


def test_stuffed_crc_byte_split_between_the_pair() -> None:
    # find a packet whose CRC contains 0x7F, then split between the doubled bytes
    for n in range(65536):
        data = bytes([0x07, n & 0xFF, n >> 8])
        body = bytes([0x80, len(data)]) + data
        crc = crc16(body)
        if STX in (crc & 0xFF, crc >> 8):
            break
    else:  # pragma: no cover
        raise AssertionError("no CRC containing 0x7F found")
    wire = encode_packet(0, True, data)
    pair = wire.index(b"\x7f\x7f", 1)
    parser = PacketParser()
    assert parser.feed(wire[: pair + 1]) == []
    assert parser.feed(wire[pair + 1 :]) == [Packet(0, True, data)]


def test_bad_crc_dropped_and_counted_then_recovers() -> None:
    good = encode_packet(0, False, b"\xf0\x01")
    bad = bytearray(good)
    bad[-1] ^= 0x01
    parser = PacketParser()
    assert parser.feed(bytes(bad)) == []
    assert parser.counters.crc_errors == 1
    assert parser.feed(good) == [Packet(0, False, b"\xf0\x01")]


def test_zero_length_is_dropped() -> None:
    parser = PacketParser()
    assert parser.feed(bytes.fromhex("7f8000")) == []
    assert parser.counters.length_errors == 1
    assert parser.feed(encode_packet(0, True, b"\x11")) == [Packet(0, True, b"\x11")]


def test_over_long_input_is_bounded() -> None:
    """Megabytes of noise and a frame announcing 255 bytes that never complete keep no state."""
    parser = PacketParser()
    assert parser.feed(bytes(range(0x7F)) * 8000) == []
    assert parser.feed(b"\x7f\x80\xff" + b"\x01" * 200) == []
    assert parser.busy
    good = encode_packet(0x10, True, b"\x07")
    assert parser.feed(good) == [Packet(0x10, True, b"\x07")]  # lone STX rescued it
    assert not parser.busy


def test_max_length_packet_with_all_stuffing() -> None:
    data = b"\x7f" * 255
    wire = encode_packet(0x7D, True, data)
    assert len(wire) <= 519
    assert PacketParser().feed(wire) == [Packet(0x7D, True, data)]


def test_encode_rejects_bad_input() -> None:
    import pytest

    for address, data in ((0x7E, b"\x07"), (-1, b"\x07"), (0, b""), (0, bytes(256))):
        with pytest.raises(ValueError):
            encode_packet(address, True, data)


def test_stray_stuffed_tail_does_not_swallow_retransmissions() -> None:
    """Line noise leaves the stuffed tail ``7F 7F`` of a cut packet while the parser is idle; every
    later identical retransmission must still be received (regression: it paired with their STX)."""
    retry = encode_packet(0, False, bytes((0x07, 0x11, 0x40)))
    assert retry.endswith(b"\x7f\x7f")  # its CRC holds a stuffed 7F
    parser = PacketParser()
    assert parser.feed(retry[-2:]) == []
    for _ in range(3):
        assert [p.data for p in parser.feed(retry)] == [bytes((0x07, 0x11, 0x40))]
    assert parser.feed(retry[1:]) == []  # STX lost: the rest is garbage up to the stuffed tail
    assert [p.data for p in parser.feed(retry)] == [bytes((0x07, 0x11, 0x40))]


@given(packets, st.integers(min_value=1, max_value=4))
def test_any_run_of_stx_before_a_packet(packet: Packet, run: int) -> None:
    assert PacketParser().feed(b"\x7f" * run + packet.encode()) == [packet]
