from __future__ import annotations

import io
from pathlib import Path

import pytest
from download_slave import DownloadSlave
from itl_files import NEW_FIRMWARE, corrupt, make_itl_file
from support import FAST_DOWNLOAD

from cashdevice.download_cli import ProgressBar, build_parser, main
from cashdevice.firmware_file import parse_firmware


def test_cli_download_with_progress_bar(
    slave: DownloadSlave, itl_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(itl_path), "--port", slave.path], timing=FAST_DOWNLOAD) == 0
    out, err = capsys.readouterr()
    assert out.startswith("COMPLETE: EUR02604_NV02004141498000_IF_01.bv1 -> ")
    assert "(8 RAM sections, 3 blocks)" in out
    assert f"firmware {NEW_FIRMWARE}" in err and "UPDATING" in err
    frames = err.split("\r")
    assert any("RAM 8/8  block 0/3" in f for f in frames)
    assert "[" + "#" * 40 + "] 100.0%  RAM 8/8  block 3/3" in frames[-1]


def test_cli_failure_and_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "f.bv1"
    path.write_bytes(make_itl_file())
    with DownloadSlave(fail_at_block=1) as slave:
        assert main([str(path), "--port", slave.path, "--key", "none", "-q"], timing=FAST_DOWNLOAD) == 1
        out, err = capsys.readouterr()
        assert out.startswith("FAILED: checksum mismatch at block 1 of 3") and "\r" not in err
        path.write_bytes(corrupt(make_itl_file(), "truncated"))
        assert main([str(path), "--port", slave.path], timing=FAST_DOWNLOAD) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.startswith("error: ") and "truncated" in err
        assert slave.bytes_received > 0  # from the first run only
        before = slave.bytes_received
        assert main([str(path), "--port", slave.path]) == 2
        assert slave.bytes_received == before


def test_cli_arguments() -> None:
    args = build_parser().parse_args(
        ["x.bv1", "--port", "COM5", "--address", "0x10", "--key", "0x11", "--no-packet"]
    )
    assert (args.address, args.key, args.no_packet, args.baud) == (16, 0x11, True, 115200)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["x.bv1"])  # --port missing
    with pytest.raises(SystemExit):
        build_parser().parse_args(["x.bv1", "--port", "p", "--key", "zz"])


def test_progress_bar_rendering() -> None:
    stream = io.StringIO()
    bar = ProgressBar(parse_firmware(make_itl_file(ram_size=1000, data_size=9000)), stream, width=10)
    bar.update(4, 8, 0, 3)
    bar.update(4, 8, 0, 3)  # unchanged: not redrawn
    bar.update(8, 8, 3, 3)
    bar.finish()
    assert stream.getvalue() == (
        "\r[----------]   5.0%  RAM 4/8  block 0/3\r[##########] 100.0%  RAM 8/8  block 3/3\n"
    )
