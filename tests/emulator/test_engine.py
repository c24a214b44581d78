"""Slave protocol engine at the byte level: framing, repeats, SYNC, eSSP rules, protocol levels."""

from __future__ import annotations

import pytest
import serial

from cashdevice import ssp
from cashdevice.ssp import Command, Response


class Raw:
    """Raw frames over the in-process port (no retries, no session logic)."""

    def __init__(self, url: str, timeout: float = 0.3) -> None:
        self.port = serial.serial_for_url(url, timeout=timeout)
        self.parser = ssp.PacketParser()

    def send(self, wire: bytes) -> ssp.Packet | None:
        self.port.reset_input_buffer()
        self.port.write(wire)
        while True:
            chunk = self.port.read(max(1, self.port.in_waiting))
            if not chunk:
                return None
            packets = self.parser.feed(chunk)
            if packets:
                return packets[0]

    def cmd(self, address: int, flag: bool, data: bytes) -> ssp.Packet | None:
        return self.send(ssp.encode_packet(address, flag, data))

    def close(self) -> None:
        self.port.close()


def keyed(
    raw: Raw, address: int, fixed: int = ssp.DEFAULT_FIXED_KEY, swap: bool = False
) -> tuple[bytes, bool]:
    """SYNC + key exchange in plain; returns the AES key and the next flag.  ``swap`` sends
    the smaller prime as generator (hosts use either order)."""
    params = ssp.new_key_exchange()
    if swap:
        params = ssp.KeyExchangeParameters(params.modulus, params.generator, params.host_random)
    assert raw.cmd(address, True, bytes((Command.SYNC,))) is not None
    flag = False
    reply = None
    for code, value in (
        (Command.SET_GENERATOR, params.generator),
        (Command.SET_MODULUS, params.modulus),
        (Command.REQUEST_KEY_EXCHANGE, params.host_inter_key),
    ):
        reply = raw.cmd(address, flag, bytes((code,)) + value.to_bytes(8, "little"))
        assert reply is not None and reply.data[0] == Response.OK
        flag = not flag
    assert reply is not None
    key = ssp.aes_key(fixed, params.shared_key(int.from_bytes(reply.data[1:9], "little")))
    return key, flag


def test_sync_repeat_and_address_filter(emulators):
    emu = emulators("NOTE_VALIDATOR")
    raw = Raw(emu.url)
    try:
        # another address: silence
        assert raw.cmd(0x05, True, b"\x11") is None
        # SYNC answered whatever its flag, echoing SEQ/ID
        reply = raw.cmd(0, False, b"\x11")
        assert reply is not None and reply.seq_id == 0x00 and reply.data == b"\xf0"
        reply = raw.cmd(0, True, b"\x11")
        assert reply is not None and reply.encode() == bytes.fromhex("7f8001f02380")
        # after SYNC the next flag is 0: a flag-1 packet gets the cached SYNC reply
        again = raw.cmd(0, True, bytes((Command.GET_SERIAL_NUMBER,)))
        assert again is not None and again.data == b"\xf0"
        first = raw.cmd(0, False, bytes((Command.POLL,)))
        assert first is not None and first.data == bytes.fromhex("f0f1e8")
        # repeated flag: verbatim repeat, the poll is not executed again (F1 would be gone)
        repeat = raw.cmd(0, False, bytes((Command.POLL,)))
        assert repeat is not None and repeat.encode() == first.encode()
        nxt = raw.cmd(0, True, bytes((Command.POLL,)))
        assert nxt is not None and nxt.data == bytes.fromhex("f0e8")
    finally:
        raw.close()


def test_a_replys_events_stay_unconfirmed_until_the_next_command(emulators):
    """``unconfirmed``: the queued events of the last POLL reply, while only the engine's reply
    cache holds them (retries get them from there); the next command shows the host took them.
    The fault soak cuts the power only then (tests/soak/test_soak_cuts.py)."""
    emu = emulators("NOTE_VALIDATOR")
    raw = Raw(emu.url)
    try:
        assert raw.cmd(0, True, b"\x11") is not None
        assert emu.device.unconfirmed == ()
        first = raw.cmd(0, False, bytes((Command.POLL,)))
        assert first is not None and first.data == bytes.fromhex("f0f1e8")
        # SLAVE RESET left the queue with this reply (DISABLED is the unit's state, not queued)
        assert [e.code for e in emu.device.unconfirmed] == [0xF1]
        assert emu.device.pending == []
        repeat = raw.cmd(0, False, bytes((Command.POLL,)))  # the host's retry: from the cache
        assert repeat is not None and repeat.encode() == first.encode()
        assert [e.code for e in emu.device.unconfirmed] == [0xF1]
        nxt = raw.cmd(0, True, bytes((Command.GET_SERIAL_NUMBER,)))
        assert nxt is not None and nxt.data[0] == 0xF0
        assert emu.device.unconfirmed == ()
        emu.power_cycle()  # (the unit queues SLAVE RESET again)
        assert raw.cmd(0, True, b"\x11") is not None
        assert raw.cmd(0, False, bytes((Command.POLL,))) is not None
        assert [e.code for e in emu.device.unconfirmed] == [0xF1]
        emu.power_cycle()  # the cached reply dies with the power, and its events with it
        assert emu.device.unconfirmed == ()
    finally:
        raw.close()


def test_crc_drop_and_lone_stx_restart(emulators):
    emu = emulators("NOTE_VALIDATOR")
    raw = Raw(emu.url)
    try:
        good = ssp.encode_packet(0, True, b"\x11")
        bad = good[:-1] + bytes((good[-1] ^ 0xFF,))
        assert raw.send(bad) is None
        # a partial packet interrupted by a lone STX is discarded; the new packet is answered
        reply = raw.send(bytes.fromhex("7f8005") + b"\x01\x02" + good)
        assert reply is not None and reply.data == b"\xf0"
        assert emu.engine.parser.counters.crc_errors == 1
        assert emu.engine.parser.counters.restarts == 1
        # stuffing: SET INHIBITS 7F 00 arrives intact
        wire = ssp.encode_packet(0, False, b"\x02\x7f\x00")
        assert b"\x7f\x7f" in wire
        reply = raw.send(wire)
        assert reply is not None and reply.data == b"\xf0"
        assert emu.device.inhibits == 0x7F
    finally:
        raw.close()


def test_key_exchange_rules(emulators):
    emu = emulators("SMART_PAYOUT")
    raw = Raw(emu.url)
    try:
        raw.cmd(0, True, b"\x11")
        # REQUEST KEY EXCHANGE before generator/modulus -> F8
        reply = raw.cmd(0, False, bytes((Command.REQUEST_KEY_EXCHANGE,)) + (5).to_bytes(8, "little"))
        assert reply is not None and reply.data == b"\xf8"
        # non-prime generator -> F4; G < P accepted (no ordering enforced)
        reply = raw.cmd(0, True, bytes((Command.SET_GENERATOR,)) + (15).to_bytes(8, "little"))
        assert reply is not None and reply.data == b"\xf4"
        reply = raw.cmd(0, False, bytes((Command.SET_GENERATOR,)) + (7919).to_bytes(8, "little"))
        assert reply is not None and reply.data == b"\xf0"
        reply = raw.cmd(0, True, bytes((Command.SET_MODULUS,)) + (2147483647).to_bytes(8, "little"))
        assert reply is not None and reply.data == b"\xf0"
        # encryption-enforcing device: plain ENABLE before a key -> FA
        reply = raw.cmd(0, False, bytes((Command.ENABLE,)))
        assert reply is not None and reply.data == bytes((Response.KEY_NOT_SET,))
    finally:
        raw.close()


def test_encryption_enforcement_and_ecount(emulators):
    emu = emulators("SPECTRAL_PAYOUT")
    raw = Raw(emu.url)
    try:
        key, flag = keyed(raw, 0)
        # plain command marked "Encryption required" -> F4
        reply = raw.cmd(
            0, flag, bytes((Command.GET_DENOMINATION_ROUTE,)) + (500).to_bytes(4, "little") + b"EUR"
        )
        assert reply is not None and reply.data == b"\xf4"
        flag = not flag
        # eCOUNT 0 accepted, reply carries 1
        reply = raw.cmd(0, flag, ssp.encrypt_data(key, 0, b"\x06\x08"))
        assert reply is not None
        count, plain = ssp.decrypt_data(key, reply.data)
        assert (count, plain) == (1, b"\xf0")
        flag = not flag
        # wrong eCOUNT: dropped, no reply
        assert raw.cmd(0, flag, ssp.encrypt_data(key, 5, b"\x07")) is None
        assert emu.engine.dropped_count == 1
        # the right count still works with the same flag (not consumed by the drop)
        reply = raw.cmd(0, flag, ssp.encrypt_data(key, 1, b"\x07"))
        assert reply is not None
        count, plain = ssp.decrypt_data(key, reply.data)
        assert count == 2 and plain == bytes.fromhex("f0f1e8")
        # repeat with the same flag: the cached ciphertext, eCOUNT unchanged
        again = raw.cmd(0, flag, ssp.encrypt_data(key, 1, b"\x07"))
        assert again is not None and again.data == reply.data
        assert emu.engine.ecount == 2
        flag = not flag
        # wrong key -> plain FA (GA973 behaviour, the default policy)
        wrong = ssp.aes_key(ssp.DEFAULT_FIXED_KEY, 12345)
        reply = raw.cmd(0, flag, ssp.encrypt_data(wrong, 2, b"\x07"))
        assert reply is not None and reply.data == b"\xfa"
    finally:
        raw.close()


def test_protocol_versions(emulators):
    emu = emulators("NOTE_VALIDATOR")  # NV9USB-class: maximum 7, encryption optional
    raw = Raw(emu.url)
    try:
        raw.cmd(0, True, b"\x11")
        flag = False
        for version, expect in ((3, 0xF8), (4, 0xF0), (7, 0xF0), (8, 0xF8)):
            reply = raw.cmd(0, flag, bytes((Command.HOST_PROTOCOL_VERSION, version)))
            assert reply is not None and reply.data[0] == expect, version
            flag = not flag
        assert emu.device.level == 7
    finally:
        raw.close()


def test_fixed_key_change_persists_over_power_cycle(emulators, make_host):
    emu = emulators("SMART_PAYOUT")
    host = make_host(emu)
    host.startup(8)
    new_key = 0x1122334455667788
    host.ok(Command.SET_FIXED_ENCRYPTION_KEY, new_key.to_bytes(8, "little"))
    emu.power_cycle()
    assert emu.fixed_key == new_key
    host.link.sync(0)
    host.link.negotiate_key(0, fixed_key=new_key)
    first = host.poll()
    assert first[0].code == 0xF1
    # RESET FIXED ENCRYPTION KEY: OK, then the unit resets with the default key
    host.ok(Command.RESET_FIXED_ENCRYPTION_KEY, encrypt=True)
    assert emu.wait_for(lambda e: e.fixed_key == ssp.DEFAULT_FIXED_KEY and not e.engine.key_negotiated)
    host.link.set_key(0, None)
    host.link.sync(0)
    host.link.negotiate_key(0)
    assert host.poll()[0].code == 0xF1


def test_credit_reply_encryption_policy(emulators):
    emu = emulators("NOTE_VALIDATOR", encrypt_credit=True)
    raw = Raw(emu.url)
    try:
        key, flag = keyed(raw, 0)
        reply = raw.cmd(0, flag, b"\x02\xff")
        flag = not flag
        reply = raw.cmd(0, flag, b"\x0a")
        flag = not flag
        assert emu.insert_note(500)
        saw_encrypted_credit = False
        plain_polls = 0
        for _ in range(200):
            reply = raw.cmd(0, flag, b"\x07")
            flag = not flag
            assert reply is not None
            if reply.encrypted:
                _count, plain = ssp.decrypt_data(key, reply.data)
                assert 0xEE in plain
                saw_encrypted_credit = True
                break
            plain_polls += 1
            assert 0xEE not in reply.data
            note = emu.status()["note"]
            emu.wait_for(lambda e, note=note: e.status()["note"] != note, timeout=0.01)  # the note moves on
        assert saw_encrypted_credit and plain_polls > 0
    finally:
        raw.close()


@pytest.mark.parametrize("model", ["SMART_COIN_SYSTEM", "SPECTRAL_PAYOUT", "NV11", "NOTE_VALIDATOR"])
def test_engine_survives_wire_garbage(emulators, caplog, model):
    """Random bytes (including valid frames with random DATA, plain and under a key) never stop
    the engine, and no handler fails on them (nothing logged at ERROR)."""
    import random

    emu = emulators(model, seed=5, enforce_encryption=False)
    rng = random.Random(99)
    engine = emu.engine
    codes = [int(c) for c in Command]
    for _ in range(1500):
        if rng.random() < 0.2:
            chunk = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 40)))
        else:
            data = bytes((rng.choice(codes),)) + bytes(
                rng.getrandbits(8) for _ in range(rng.randrange(0, 30))
            )
            chunk = ssp.encode_packet(emu.address, rng.random() < 0.5, data)
        with emu._lock:
            engine.feed(chunk)  # must not raise
    flag = False
    for code in codes:  # every command with every short length
        for length in range(0, 15):
            flag = not flag
            data = bytes((code,)) + bytes(rng.getrandbits(8) for _ in range(length))
            with emu._lock:
                engine.feed(ssp.encode_packet(emu.address, flag, data))
    raw = Raw(emu.url)
    try:
        emu.power_cycle()
        reply = raw.cmd(emu.address, True, b"\x11")
        assert reply is not None and reply.data == b"\xf0"
    finally:
        raw.close()
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text[:2000]


@pytest.mark.parametrize("swap", [False, True])
def test_primes_in_either_order(emulators, swap):
    emu = emulators("SMART_HOPPER")
    raw = Raw(emu.url)
    try:
        key, flag = keyed(raw, 0x10, swap=swap)
        reply = raw.cmd(0x10, flag, ssp.encrypt_data(key, 0, bytes((Command.POLL,))))
        assert reply is not None and reply.encrypted
        assert ssp.decrypt_data(key, reply.data) == (1, bytes.fromhex("f0f1e8"))
    finally:
        raw.close()
