"""Realistic-size download at the emulated line rate (opt-in: pytest -m soak)."""

from __future__ import annotations

import pytest
from duration import measure


@pytest.mark.soak
@pytest.mark.timeout(400)
@pytest.mark.parametrize("baud", [115200, 38400])
def test_realistic_download_duration(baud: int) -> None:
    m = measure(baud)
    print(m.row())
    assert m.succeeded, m.message
    # pacing really models the line: never faster than the bytes allow ...
    assert m.elapsed >= m.line_minimum + m.pauses
    # ... and the host adds little on top (SYNC, PROGRAM, the restart SYNC, per-block turnarounds)
    assert m.overhead < 0.1 * m.line_minimum + 2.0
