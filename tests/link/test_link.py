"""SSPLink against a fake slave on a real pty."""

from __future__ import annotations

import logging
import os
import select
import threading
import time

import pytest
from fake_slave import FakeSlave

from cashdevice import ssp
from cashdevice.link import MIN_ATTEMPT_WAIT, LinkReplyUnreadableError, LinkTimeoutError, SSPLink
from cashdevice.ssp import Command, SSPEncryptionError, SSPPortError, SSPTimeoutError

POLL = bytes((Command.POLL,))


def test_sync_sent_with_flag_one_then_flags_alternate(slave: FakeSlave, link: SSPLink) -> None:
    link.sync(0)
    for _ in range(3):
        assert link.transact(0, POLL) == b"\xf0\x07"
    flags = [p.seq_flag for p in slave.wait_packets(4)]
    assert flags == [True, False, True, False]
    link.sync(0)  # SYNC again: flag 1 whatever came before, next command 0
    link.transact(0, POLL)
    assert [p.seq_flag for p in slave.wait_packets(6)][4:] == [True, False]
    assert slave.repeats == 0


def test_identical_bytes_retransmitted_after_dropped_reply(slave: FakeSlave, link: SSPLink) -> None:
    link.sync(0)
    slave.drop_replies = 1
    assert link.transact(0, b"\x02\x07\x00") == b"\xf0\x02\x07\x00"
    packets = slave.wait_packets(3)[1:]
    assert packets[0].encode() == packets[1].encode()
    assert [d for a, d in slave.executed] == [b"\x02\x07\x00"]  # executed once
    assert slave.repeats == 1
    assert link.counters.retries == 1 and link.counters.sent == 3


def test_encrypted_retransmission_reuses_ciphertext_and_count(slave: FakeSlave, link: SSPLink) -> None:
    link.sync(0)
    link.negotiate_key(0)
    assert link.ecount(0) == 0
    slave.drop_replies = 2
    assert link.transact(0, POLL) == b"\xf0\x07"
    packets = slave.wait_packets(7)[-3:]
    assert packets[0].data[0] == ssp.STEX
    assert packets[0].encode() == packets[1].encode() == packets[2].encode()
    assert link.ecount(0) == 1
    assert link.transact(0, POLL) == b"\xf0\x07"
    assert link.ecount(0) == 2


def test_flag_not_toggled_by_failed_transaction(slave: FakeSlave, link: SSPLink) -> None:
    link.sync(0)
    flag = link.seq_flag(0)
    slave.drop_replies = 100
    with pytest.raises(SSPTimeoutError):
        link.transact(0, POLL)
    assert link.seq_flag(0) == flag


def test_timeout_after_retry_limit(slave: FakeSlave) -> None:
    with SSPLink(slave.path, timeout=0.1, retries=2) as link:
        link.sync(0)
        slave.drop_replies = 100
        start = time.monotonic()
        with pytest.raises(SSPTimeoutError) as info:
            link.transact(0, POLL)
        elapsed = time.monotonic() - start
    assert isinstance(info.value, TimeoutError)
    attempts = info.value.attempts
    # at least retries + 1 attempts, for at least the deadline (timeout x (retries + 1));
    # once replies have been timed, attempts are shorter than ``timeout``, so more fit in
    assert attempts >= 3 and info.value.address == 0
    assert 0.29 <= elapsed < 1.0
    assert len(info.value.frames) >= 3 and info.value.frames[-1].startswith("->")
    packets = slave.wait_packets(1 + attempts)[1:]
    assert len({p.encode() for p in packets}) == 1 and len(packets) == attempts
    assert link.counters.timeouts == 1 and link.counters.retries == attempts - 1


def test_mismatched_seq_id_ignored(slave: FakeSlave, link: SSPLink) -> None:
    link.sync(0)
    # before each reply the slave sends a packet for another address and one with the wrong flag
    slave.foreign_before_reply = ssp.encode_packet(0x10, False, b"\xf0\x99") + ssp.encode_packet(
        0, True, b"\xf0\x98"
    )
    assert link.transact(0, POLL) == b"\xf0\x07"
    assert link.counters.ignored == 2
    assert link.counters.retries == 0


def test_two_addresses_on_one_port(slave: FakeSlave, link: SSPLink) -> None:
    link.sync(0x00)
    link.sync(0x10)
    link.negotiate_key(0x10)  # hopper encrypted, validator plain
    for _ in range(3):
        assert link.transact(0x00, POLL) == b"\xf0\x07"
        assert link.transact(0x10, POLL) == b"\xf0\x07"
    assert not link.encrypted(0x00) and link.encrypted(0x10)
    assert link.ecount(0x10) == 3
    by_address: dict[int, list[ssp.Packet]] = {0: [], 0x10: []}
    for p in slave.wait_packets(11):
        by_address[p.address].append(p)
    assert [p.seq_flag for p in by_address[0]] == [True, False, True, False]
    hopper_polls = by_address[0x10][4:]
    assert [p.seq_flag for p in hopper_polls] == [True, False, True]
    assert all(p.encrypted for p in hopper_polls)
    assert not any(p.encrypted for p in by_address[0])


def test_concurrent_callers_never_interleave_bytes(slave: FakeSlave, link: SSPLink) -> None:
    link.sync(0)
    link.negotiate_key(0)
    errors: list[BaseException] = []
    results: dict[int, list[bytes]] = {}

    def worker(n: int) -> None:
        try:
            got = []
            for i in range(20):
                payload = bytes((0x50, n, i)) + b"\x7f" * (i % 4)
                reply = link.transact(0, payload)
                assert reply == b"\xf0" + payload
                got.append(reply)
            results[n] = got
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,), name=f"caller-{n}") for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(results) == [0, 1, 2, 3]
    assert slave.parser.counters.crc_errors == 0
    assert slave.parser.counters.restarts == 0
    assert slave.parser.counters.discarded_bytes == 0
    assert link.ecount(0) == 80 and link.counters.retries == 0


def test_reply_with_wrong_ecount_fails(slave: FakeSlave, link: SSPLink) -> None:
    link.sync(0)
    link.negotiate_key(0)
    slave.wrong_reply_count = True
    with pytest.raises(SSPEncryptionError, match="eCOUNT"):
        link.transact(0, POLL)
    # the identical packet went once more (answered from the device's cache, wrong again)
    assert link.counters.encryption_errors == 2 and slave.repeats == 1
    assert [d for _, d in slave.executed][-1:] == [POLL]


def test_a_reply_that_does_not_decrypt_is_asked_for_again_with_the_same_bytes(
    slave: FakeSlave, link: SSPLink
) -> None:
    """Damage the packet CRC missed (the eSSP CRC inside fails): the device has run the command,
    so the identical packet goes again and the device answers from its cache; the command is
    not run twice and the count goes on."""
    link.sync(0)
    link.negotiate_key(0)
    slave.garble_replies = 1
    assert link.transact(0, b"\x33\x01") == b"\xf0\x33\x01"
    sent = [p for p in slave.wait_packets(6) if p.data[:1] == bytes((ssp.STEX,))]
    assert len(sent) == 2 and sent[0].encode() == sent[1].encode()
    assert [d for _, d in slave.executed].count(b"\x33\x01") == 1 and slave.repeats == 1
    assert link.counters.encryption_errors == 1 and link.counters.retries == 1
    assert link.ecount(0) == 1
    assert link.transact(0, POLL) == b"\xf0\x07"
    assert link.ecount(0) == 2


def test_a_reply_that_does_not_decrypt_twice_is_a_command_possibly_run(
    slave: FakeSlave, link: SSPLink
) -> None:
    """Twice unreadable: LinkReplyUnreadableError (the device has the command: a payout may be
    under way); the transaction is over, and the next encrypted command needs a new key."""
    link.sync(0)
    link.negotiate_key(0)
    flag = link.seq_flag(0)
    slave.garble_replies = 2
    with pytest.raises(LinkReplyUnreadableError, match="unreadable twice"):
        link.transact(0, b"\x33\x01")
    assert [d for _, d in slave.executed].count(b"\x33\x01") == 1 and slave.repeats == 1
    assert link.seq_flag(0) is not flag  # the device took the packet: the next one is new
    assert link.count_uncertain(0) and link.needs_new_key(0, POLL)
    link.negotiate_key(0)
    assert link.transact(0, POLL) == b"\xf0\x07"


def test_plain_reply_to_encrypted_command(slave: FakeSlave, link: SSPLink) -> None:
    link.sync(0)
    link.negotiate_key(0)
    slave.states[0].key = None  # the device lost its key (e.g. a reset)
    assert link.transact(0, POLL) == b"\xfa"
    assert link.ecount(0) == 0


def test_key_exchange_refused(slave: FakeSlave, link: SSPLink) -> None:
    link.sync(0)
    # REQUEST KEY EXCHANGE before generator and modulus: a valid reply, F8
    assert link.transact(0, b"\x4c" + bytes(8)) == b"\xf8"
    slave.refuse_generator = True
    with pytest.raises(ssp.SSPReplyError, match="SET GENERATOR refused: PARAMETER_OUT_OF_RANGE") as info:
        link.negotiate_key(0)
    assert info.value.code == 0xF4
    assert not link.encrypted(0)


def test_trace_and_raw_logging_show_wire_bytes_not_keys(
    slave: FakeSlave, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[bool, bytes]] = []
    with SSPLink(slave.path, timeout=0.25, trace=lambda s, w: seen.append((s, w))) as link:
        link.log_raw = True
        with caplog.at_level(logging.DEBUG, logger="cashdevice.link"):
            link.sync(0)
            link.negotiate_key(0)
            link.transact(0, POLL)
        key = slave.states[0].key
        assert key is not None
    assert seen[0] == (True, bytes.fromhex("7f8001116582"))
    assert seen[1] == (False, bytes.fromhex("7f8001f02380"))
    assert len(seen) == 10 and [s for s, _ in seen] == [True, False] * 5
    text = caplog.text
    assert "7f 80 01 11 65 82" in text
    assert key.hex() not in text and key.hex(" ") not in text
    assert "plain" not in text  # decrypted payloads only on request


def test_decrypted_payload_logged_only_when_asked(slave: FakeSlave, caplog: pytest.LogCaptureFixture) -> None:
    with SSPLink(slave.path, timeout=0.25) as link:
        link.log_raw = True
        link.sync(0)
        link.negotiate_key(0)
        with caplog.at_level(logging.DEBUG, logger="cashdevice.link"):
            link.transact(0, POLL)
            assert "POLL" not in caplog.text and "encrypted" in caplog.text
            link.log_decrypted = True
            link.transact(0, POLL)
    assert "-> 00 encrypted eCOUNT=1 POLL" in caplog.text
    assert "<- 00 encrypted eCOUNT=2 OK" in caplog.text


def test_stale_input_flushed_before_sending(slave: FakeSlave, link: SSPLink) -> None:
    link.sync(0)
    stale = ssp.encode_packet(0, False, b"\xf0\x01")  # unsolicited, and with the next SEQ/ID
    os.write(slave._master, stale)
    readable, _, _ = select.select([link.serial.fileno()], [], [], 2.0)  # type: ignore[attr-defined]
    assert readable
    assert link.transact(0, POLL) == b"\xf0\x07"
    assert link.counters.stale_bytes == len(stale) == 7


def test_port_errors() -> None:
    with pytest.raises(SSPPortError):
        SSPLink("/dev/does-not-exist-cashdevice")
    link = SSPLink("/dev/does-not-exist-cashdevice", open_now=False)
    assert not link.is_open and "closed" in repr(link)
    with pytest.raises(SSPPortError):
        link.transact(0, POLL)
    link.close()
    link.close()  # idempotent


def test_port_is_exclusive(slave: FakeSlave, link: SSPLink) -> None:
    with pytest.raises(SSPPortError):
        SSPLink(slave.path)


def test_invalid_commands_never_reach_the_wire(slave: FakeSlave, link: SSPLink) -> None:
    with pytest.raises(ValueError):
        link.transact(0, b"")
    with pytest.raises(ValueError):
        link.transact(0x7E, POLL)
    with pytest.raises(ValueError):
        link.transact(0, bytes(256))
    with pytest.raises(SSPEncryptionError):
        link.transact(0, POLL, encrypt=True)  # no session
    assert link.counters.sent == 0
    with slave.lock:
        assert slave.received == []


def test_round_trip_times(slave: FakeSlave, link: SSPLink) -> None:
    """Measures (and bounds) the mean wall time of a plain and an encrypted POLL round trip."""
    link.sync(0)
    n = 200
    start = time.perf_counter()
    for _ in range(n):
        link.transact(0, POLL)
    plain = (time.perf_counter() - start) / n
    link.negotiate_key(0)
    start = time.perf_counter()
    for _ in range(n):
        link.transact(0, POLL)
    encrypted = (time.perf_counter() - start) / n
    print(f"\nmean POLL round trip on a pty: plain {plain * 1e3:.3f} ms, encrypted {encrypted * 1e3:.3f} ms")
    assert plain < 0.05 and encrypted < 0.05
    assert link.counters.retries == 0


# ---------------------------------------------------------------------------- failed transactions


def test_after_a_failed_transaction_the_next_command_is_preceded_by_sync(slave: FakeSlave) -> None:
    """The device ran the command whose replies were all lost and cached its reply; without a
    SYNC the next command (same flag) would be answered with that stale reply."""
    with SSPLink(slave.path, timeout=0.1, retries=1) as link:
        link.sync(0)
        slave.drop_replies = 100
        with pytest.raises(SSPTimeoutError):
            link.transact(0, b"\x0a")  # ENABLE: executed once, every reply lost
        slave.drop_replies = 0
        assert link.transact(0, POLL) == b"\xf0\x07"  # not the cached F0 0A of ENABLE
    codes = [data[0] for _, data in slave.executed]
    assert codes == [0x0A, 0x07]
    after = [p.data[0] for p in slave.received if p.data[0] != 0x0A]
    assert after[-2:] == [0x11, 0x07]
    assert link.counters.resyncs == 1


def test_abandoned_encrypted_poll_is_resent_byte_for_byte(slave: FakeSlave) -> None:
    """The same command after a failed one goes out as the identical packet (same flag, same
    eCOUNT): the slave answers from its cache and the count is settled."""
    with SSPLink(slave.path, timeout=0.1, retries=1) as link:
        link.sync(0)
        link.negotiate_key(0)
        slave.drop_replies = 100
        with pytest.raises(SSPTimeoutError):
            link.transact(0, POLL)  # executed once, every reply lost
        slave.drop_replies = 0
        assert link.abandoned_command(0) == 0x07
        assert not link.needs_new_key(0, POLL) and link.needs_new_key(0, b"\x0a")
        assert link.transact(0, POLL) == b"\xf0\x07"
        assert link.abandoned_command(0) is None and slave.repeats >= 1
        assert [d[0] for _, d in slave.executed].count(0x07) == 1
        assert link.transact(0, POLL) == b"\xf0\x07"  # the count is right again


def test_another_command_after_an_abandoned_encrypted_one_needs_a_new_key(slave: FakeSlave) -> None:
    with SSPLink(slave.path, timeout=0.1, retries=1) as link:
        link.sync(0)
        link.negotiate_key(0)
        slave.drop_replies = 100
        with pytest.raises(SSPTimeoutError):
            link.transact(0, POLL)  # the slave counted it; the host cannot know
        slave.drop_replies = 0
        with pytest.raises(SSPEncryptionError):
            link.transact(0, b"\x0a")  # SYNC goes first, then the count is unknown
        assert link.count_uncertain(0)
        link.negotiate_key(0)
        assert not link.count_uncertain(0)
        assert link.transact(0, POLL) == b"\xf0\x07"


def test_stray_frame_for_address_7e_is_ignored(slave: FakeSlave, link: SSPLink) -> None:
    """A well-formed frame whose SEQ/ID carries address 0x7E must be ignored, not crash the trace."""
    link.sync(0)
    body = bytes((0xFE, 2, 0xF0, 0x01))
    crc = ssp.crc16(body)
    slave.foreign_before_reply = b"\x7f" + ssp.stuff(body + bytes((crc & 0xFF, crc >> 8)))
    link.log_raw = True
    assert link.transact(0, POLL) == b"\xf0\x07"
    assert link.counters.ignored >= 1


def test_broken_reply_is_retried_at_once(slave: FakeSlave) -> None:
    """Bytes that make no valid reply, then silence: the identical packet goes again after a
    short quiet gap, not after the full attempt wait."""
    with SSPLink(slave.path, timeout=2.0, retries=3) as link:
        link.sync(0)
        slave.corrupt_replies = 1
        start = time.monotonic()
        reply = link.transact(0, POLL)
        elapsed = time.monotonic() - start
    assert reply == b"\xf0\x07"
    assert elapsed < 1.0  # the full attempt wait would be 2 s
    assert link.counters.early_retries == 1 and link.counters.crc_errors >= 1


def test_timeout_error_says_whether_the_device_was_heard(slave: FakeSlave) -> None:
    with SSPLink(slave.path, timeout=0.1, retries=1) as link:
        link.sync(0)
        slave.drop_replies = 100
        with pytest.raises(LinkTimeoutError) as silent:
            link.transact(0, POLL)
        slave.drop_replies = 0
        slave.corrupt_replies = 100
        with pytest.raises(LinkTimeoutError) as noisy:
            link.transact(0, POLL)
    assert silent.value.heard == 0
    assert noisy.value.heard > 0


def test_attempt_wait_adapts_to_the_device(slave: FakeSlave) -> None:
    with SSPLink(slave.path, timeout=1.0, retries=3) as link:
        assert link.attempt_wait() == 1.0  # nothing timed yet
        for _ in range(5):
            link.sync(0)
        assert MIN_ATTEMPT_WAIT <= link.attempt_wait() < 0.5


def test_descriptors_above_1024_work(slave: FakeSlave) -> None:
    """pyserial waits with select(), which refuses descriptors >= 1024; the link polls the
    descriptor itself, so a process that already holds many files can still talk to devices."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the descriptor limit ({hard}) is too low to pass 1024")
    if soft != resource.RLIM_INFINITY and soft < 1200:
        wanted = 1200 if hard == resource.RLIM_INFINITY else min(1200, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    filler: list[int] = []
    try:
        while True:
            fd = os.open(os.devnull, os.O_RDONLY)
            filler.append(fd)
            if fd >= 1030:
                break
        with SSPLink(slave.path, timeout=0.5, retries=1) as link:
            assert link.serial.fileno() > 1024  # type: ignore[attr-defined]
            link.sync(0)
            link.negotiate_key(0)
            assert link.transact(0, POLL) == b"\xf0\x07"
    finally:
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_slowest_latency_is_kept_incrementally(slave: FakeSlave) -> None:
    import random

    rng = random.Random(3)
    with SSPLink(slave.path, timeout=0.25) as lk:
        for _ in range(500):
            lk._timed(rng.choice((rng.random() * 0.01, rng.random())))
            assert lk._slowest == max(lk._latencies)


def test_repeated_plain_commands_send_the_same_packet_per_flag(slave: FakeSlave, link: SSPLink) -> None:
    link.sync(0)
    for _ in range(4):
        link.transact(0, POLL)
    wires = [p.encode() for p in slave.wait_packets(5)[1:]]
    assert wires[0] == wires[2] == ssp.encode_packet(0, False, POLL)
    assert wires[1] == wires[3] == ssp.encode_packet(0, True, POLL)
