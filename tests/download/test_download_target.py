"""The emulator's DownloadTarget on its own: pure bytes in, bytes out."""

from __future__ import annotations

import random

import pytest
from itl_files import NEW_DATASET, NEW_FIRMWARE, make_itl_file

from cashdevice.emulator.download import ACK, DownloadTarget, TargetPhase, accept_header, program_reply
from cashdevice.firmware_file import parse_firmware, xor_checksum


def host_stream(data: bytes, block_size: int = 4096) -> list[tuple[bytes, bytes]]:
    """(bytes the host sends, answer it expects) for each raw step of a correct download."""
    fw = parse_firmware(data)
    steps = [(fw.ram_block, bytes((xor_checksum(fw.ram_block),)))]
    steps.append((bytes((fw.header.update_code,)), bytes((ACK,))))
    steps.append((fw.header.raw, bytes((ACK,))))
    for block in fw.blocks(block_size):
        x = bytes((xor_checksum(block),))
        steps.append((block + x, x))
    return steps


def feed_in_chunks(target: DownloadTarget, data: bytes, rng: random.Random) -> bytes:
    out = bytearray()
    pos = 0
    while pos < len(data):
        n = rng.randint(1, 300)
        out += target.feed(data[pos : pos + n])
        pos += n
    return bytes(out)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("block_size", [4096, 1024])
def test_correct_stream_in_any_chunking_completes(seed: int, block_size: int) -> None:
    data = make_itl_file(ram_size=700, data_size=9000, seed=seed)
    target = accept_header(data[:128], block_size=block_size)
    assert target is not None and target.baud == 38400
    rng = random.Random(seed)
    for sent, expected in host_stream(data, block_size):
        assert not target.done
        assert feed_in_chunks(target, sent, rng) == expected
    assert target.done and not target.failed
    assert target.current_block == target.total_blocks == -(-9000 // block_size)
    assert bytes(target.data) == data[128 + 700 :]
    assert (target.firmware_version, target.dataset_version) == (NEW_FIRMWARE, NEW_DATASET)
    assert target.feed(b"\x11\x22") == b""  # after the end: ignored


def test_fail_at_block_answers_a_wrong_checksum() -> None:
    data = make_itl_file()
    target = accept_header(data[:128], fail_at_block=2)
    assert target is not None
    steps = host_stream(data)
    for sent, expected in steps[:4]:  # RAM, update code, header, block 1
        assert target.feed(sent) == expected
    sent, expected = steps[4]
    answer = target.feed(sent)
    assert len(answer) == 1 and answer != expected
    assert target.failed and target.current_block == 1 and "block 2" in target.reason


def test_drop_at_block_goes_silent() -> None:
    data = make_itl_file()
    target = accept_header(data[:128], drop_at_block=2)
    assert target is not None
    steps = host_stream(data)
    for sent, expected in steps[:4]:
        assert target.feed(sent) == expected
    assert target.phase is TargetPhase.DROPPED and target.failed
    assert target.feed(steps[4][0]) == b""


def test_drop_during_ram_and_fail_ram() -> None:
    data = make_itl_file()
    ram = host_stream(data)[0]
    dropped = accept_header(data[:128], drop_at_block=0)
    assert dropped is not None and dropped.feed(ram[0]) == b"" and dropped.failed
    bad = accept_header(data[:128], fail_ram=True)
    assert bad is not None
    answer = bad.feed(ram[0])
    assert len(answer) == 1 and answer != ram[1] and bad.failed


def test_wrong_update_code_header_or_host_checksum_fail() -> None:
    data = make_itl_file()
    steps = host_stream(data)
    t = accept_header(data[:128])
    assert t is not None
    t.feed(steps[0][0])
    assert t.feed(b"\x00") == b"" and t.failed and "update code" in t.reason

    t = accept_header(data[:128])
    assert t is not None
    t.feed(steps[0][0] + steps[1][0])
    other = bytearray(data[:128])
    other[100] ^= 1
    assert t.feed(bytes(other)) == b"" and t.failed

    t = accept_header(data[:128])
    assert t is not None
    for sent, _ in steps[:3]:
        t.feed(sent)
    block = steps[3][0]
    answer = t.feed(block[:-1] + bytes((block[-1] ^ 0x10,)))
    assert answer == steps[3][1]  # the device answers its own XOR; the host sees the mismatch
    assert t.failed and "host checksum" in t.reason


def test_accept_header_refusals() -> None:
    header = make_itl_file()[:128]
    assert accept_header(header) is not None
    assert accept_header(header[:127]) is None
    assert accept_header(b"ITX" + header[3:]) is None
    assert accept_header(header, device_types=frozenset({0x0A})) is None
    assert accept_header(header, max_bytes=1000) is None
    zero_total = header[:0x11] + bytes(4) + header[0x15:]
    assert accept_header(zero_total) is None


def test_program_reply() -> None:
    assert program_reply(b"\x0b\x03") == b"\xf0\x00\x10"  # 4096 LE (GA973's example F0 00 16 is wrong)
    assert program_reply(b"\x0b\x03", 2048) == b"\xf0\x00\x08"
    assert program_reply(b"\x0b\x01") == b"\xf4"
    assert program_reply(b"\x0b") == b"\xf3"


def test_target_imports_only_pure_modules() -> None:
    """The emulator's target may use cashdevice.ssp and the standard library only (no I/O layers)."""
    import ast
    from pathlib import Path

    import cashdevice.emulator.download as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported |= {("." * node.level) + (node.module or "") + ":" + a.name for a in node.names}
    assert imported <= {"__future__:annotations", "enum", "functools", "operator", "typing:Final", "..:ssp"}


def test_download_session_ssp_steps() -> None:
    from cashdevice.emulator.download import DownloadSession

    header = make_itl_file()[:128]
    s = DownloadSession(block_size=2048)
    assert s.handle(b"\x07") is None  # not a download command
    assert s.handle(header) is None and s.target is None  # a header without PROGRAM is just a command
    assert s.handle(b"\x0b\x03") == b"\xf0\x00\x08" and s.awaiting_header
    assert s.handle(b"\x07") is None and not s.awaiting_header  # anything else ends the PROGRAM step
    assert s.handle(b"\x0b\x03") == b"\xf0\x00\x08"
    assert s.handle(header) == b"\xf0" and s.raw
    assert s.target is not None and s.target.block_size == 2048
    s.target.feed(b"\x00")  # one RAM byte: still in the raw phase
    assert s.raw

    refusing = DownloadSession(refuse_header=True)
    refusing.handle(b"\x0b\x03")
    assert refusing.handle(header) == b"\xf9" and not refusing.raw
    picky = DownloadSession(device_types=frozenset({0x0A}))
    picky.handle(b"\x0b\x03")
    assert picky.handle(header) == b"\xf9"
    knobs = DownloadSession()
    knobs.handle(b"\x0b\x03")
    knobs.reset()
    assert knobs.handle(header) is None
    knobs.fail_at_block = 2
    knobs.handle(b"\x0b\x03")
    knobs.handle(header)
    assert knobs.target is not None and knobs.target.fail_at_block == 2
