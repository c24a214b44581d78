from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from download_helpers import Recorder
from download_slave import DownloadSlave
from itl_files import make_itl_file


@pytest.fixture
def slave() -> Iterator[DownloadSlave]:
    with DownloadSlave() as s:
        yield s


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def itl_path(tmp_path: Path) -> Path:
    path = tmp_path / "EUR02604_NV02004141498000_IF_01.bv1"
    path.write_bytes(make_itl_file())
    return path
