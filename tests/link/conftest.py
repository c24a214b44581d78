from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_slave import FakeSlave

from cashdevice.link import SSPLink


@pytest.fixture
def slave() -> Iterator[FakeSlave]:
    with FakeSlave(addresses=(0x00, 0x10)) as s:
        yield s


@pytest.fixture
def link(slave: FakeSlave) -> Iterator[SSPLink]:
    with SSPLink(slave.path, timeout=0.25, retries=3) as lk:
        yield lk
