"""The emulator reads the payout, route, level, inhibit, payout-enable, protocol, bar code, refill
and replenish requests through their command rows (``row_args``) and answers through them
(``row_reply``); what it accepts and refuses is unchanged (issue 11 part 1).  Each case: a fresh
emulator at a protocol level, enabled, one command DATA, the whole answer -- the table was recorded
from the emulator before the handlers moved to the rows.
"""

from __future__ import annotations

import pytest

from cashdevice.emulator import Emulator

TOO_MANY = "46 15" + " 01 00 f4 01 00 00 45 55 52" * 21 + " 19"  # 21 denominations: at most 20

CASES: list[tuple[str, int, str, str]] = [
    ("SMART_PAYOUT", 8, "02", "f3"),
    ("SMART_PAYOUT", 8, "02 ff", "f0"),
    ("SMART_PAYOUT", 8, "02 ff ff ff", "f0"),
    ("SMART_PAYOUT", 8, "02 ff ff ff ff", "f3"),
    ("SMART_PAYOUT", 8, "06", "f3"),
    ("SMART_PAYOUT", 8, "06 07 00", "f3"),
    ("SMART_PAYOUT", 8, "06 09", "f8"),
    ("SMART_PAYOUT", 8, "33 f4 01 00 00", "f3"),
    ("SMART_PAYOUT", 8, "33 f4 01 00 00 45 55 52", "f3"),
    ("SMART_PAYOUT", 8, "33 f4 01 00 00 45 55 52 00", "f4"),
    ("SMART_PAYOUT", 8, "33 f4 01 00 00 55 53 44 19", "f5 04"),
    ("SMART_PAYOUT", 8, "33 f4 01 00 00 45 55 52 19", "f5 04"),
    ("SMART_PAYOUT", 8, "33 f4 01 00 00 45 55 52 19 00", "f3"),
    ("SMART_PAYOUT", 5, "33 f4 01 00 00", "f5 04"),
    ("SMART_PAYOUT", 5, "33 f4 01 00 00 45 55 52 19", "f3"),
    ("SMART_PAYOUT", 8, "35 f4 01 00 00 45 55 52", "f0 03 00"),
    ("SMART_PAYOUT", 8, "35 f4 01 00 00", "f3"),
    ("SMART_PAYOUT", 8, "35 07 00 00 00 45 55 52", "f5"),
    ("SMART_PAYOUT", 5, "35 f4 01 00 00", "f0 03 00"),
    ("SMART_PAYOUT", 5, "35 f4 01", "f3"),
    ("SMART_PAYOUT", 8, "3b", "f3"),
    ("SMART_PAYOUT", 8, "3b 01", "f3"),
    ("SMART_PAYOUT", 8, "3b 01 f4 01 00 00 45 55 52", "f0"),
    ("SMART_PAYOUT", 8, "3b 02 f4 01 00 00 45 55 52", "f4"),
    ("SMART_PAYOUT", 8, "3b 01 f4 01 00 00", "f3"),
    ("SMART_PAYOUT", 8, "3b 00 07 00 00 00 45 55 52", "f4"),
    ("SMART_PAYOUT", 8, "3c f4 01 00 00 45 55 52", "f0 00"),
    ("SMART_PAYOUT", 8, "3c f4 01 00 00 45 55", "f3"),
    ("SMART_PAYOUT", 8, "3c 07 00 00 00 45 55 52", "f4"),
    ("SMART_PAYOUT", 8, "3d f4 01 00 00 e8 03 00 00 45 55 52 19", "f5 04"),
    ("SMART_PAYOUT", 8, "3d 32 00 e8 03 00 00 45 55 52 19", "f5 04"),
    ("SMART_PAYOUT", 8, "3d 32 00 e8 03 00 00", "f3"),
    ("SMART_PAYOUT", 8, "3d f4 01 00 00 e8 03 00 00 45 55 52 07", "f4"),
    ("SMART_PAYOUT", 5, "3d 32 00 e8 03 00 00", "f5 04"),
    ("SMART_PAYOUT", 5, "3d f4 01 00 00 e8 03 00 00", "f5 04"),
    ("SMART_PAYOUT", 5, "3d f4 01 00 00 e8 03 00 00 45 55 52 19", "f3"),
    ("SMART_PAYOUT", 8, "3e 45 55 52", "f0 f4 01 00 00"),
    ("SMART_PAYOUT", 8, "3e", "f3"),
    ("SMART_PAYOUT", 8, "3e 55 53 44", "f4"),
    ("SMART_PAYOUT", 5, "3e", "f0 f4 01 00 00"),
    ("SMART_PAYOUT", 5, "3e 01 02", "f0 f4 01 00 00"),
    ("SMART_PAYOUT", 8, "44 01 01 00 f4 01 00 00 45 55 52 19", "f5 04"),
    ("SMART_PAYOUT", 8, "44 01 01 00 f4 01 00 00 45 55 52", "f3"),
    ("SMART_PAYOUT", 8, "46 01 01 00 f4 01 00 00 45 55 52 19", "f5 04"),
    ("SMART_PAYOUT", 8, "46 01 01 00 f4 01 00 00 45 55 52 07", "f4"),
    ("SMART_PAYOUT", 8, "46 01 01 00 07 00 00 00 45 55 52 19", "f4"),
    ("SMART_PAYOUT", 8, "46 02 01 00 f4 01 00 00 45 55 52 19", "f3"),
    ("SMART_PAYOUT", 8, "46", "f3"),
    ("SMART_PAYOUT", 8, "46 00 19", "f5 04"),
    ("SMART_PAYOUT", 5, "46 01 01 00 f4 01 00 00 45 55 52 19", "f4"),
    ("SMART_PAYOUT", 8, "5c", "f0"),
    ("SMART_PAYOUT", 8, "5c 01", "f0"),
    ("SMART_PAYOUT", 8, "5c 01 02", "f3"),
    ("SMART_PAYOUT", 8, "30 05 81 10 11 01", "f0"),
    ("SMART_PAYOUT", 8, "30 05 81 10 11 02", "f4"),
    ("SMART_PAYOUT", 8, "30 05 81 10 11", "f4"),
    ("SMART_PAYOUT", 8, "30 05 81 10 01", "f0 00"),
    ("SMART_PAYOUT", 8, "30 05 81 10 01 00", "f4"),
    ("SMART_PAYOUT", 8, "23", "f0 03 00 01 12"),
    ("SMART_PAYOUT", 8, "24 03 01 12", "f0"),
    ("SMART_PAYOUT", 8, "24 03 01", "f3"),
    ("SMART_PAYOUT", 8, "24 04 01 12", "f4"),
    ("SMART_PAYOUT", 8, "25", "f0 fe"),
    ("SMART_PAYOUT", 8, "26 fd", "f0"),
    ("SMART_PAYOUT", 8, "26", "f3"),
    ("SMART_PAYOUT", 8, "26 fd fd", "f3"),
    ("SMART_PAYOUT", 8, "27", "f0 00 00"),
    ("SMART_HOPPER", 5, "3b 01 64 00", "f0"),
    ("SMART_HOPPER", 5, "3c 64 00", "f0 00"),
    ("SMART_HOPPER", 5, "3c 64 00 00 00", "f3"),
    ("SMART_HOPPER", 5, "35 64 00", "f0 05 00"),
    ("SMART_HOPPER", 8, "3c 64 00 00 00 45 55 52", "f0 00"),
    ("SMART_HOPPER", 8, "3c 64 00 45 55 52", "f3"),
    ("SMART_HOPPER", 8, "5a 01", "f0"),
    ("SMART_HOPPER", 8, "5a", "f3"),
    ("SMART_HOPPER", 8, "5a 01 02", "f3"),
    ("SMART_HOPPER", 8, "3d 32 00 e8 03 00 00 45 55 52 19", "f5 01"),
    ("NV4000", 8, "6c 01 00 00 00", "f5 01"),
    ("NV4000", 8, "6c 00 00 00 00", "f4"),
    ("NV4000", 8, "6c 01 00", "f3"),
    ("NV4000", 8, "6d", "f0 00"),
    ("NV4000", 8, "3b 05 f4 01 00 00 45 55 52", "f0"),
    ("NV4000", 8, "3b 06 f4 01 00 00 45 55 52", "f4"),
    ("SMART_PAYOUT", 8, TOO_MANY, "f3"),
]


def answer(model: str, level: int, data: str) -> bytes:
    levels = {"SMART_PAYOUT": {500: 3}, "SMART_HOPPER": {100: 5}}.get(model)
    engine = Emulator(model, "EUR", levels=levels).engine  # never started: no threads
    assert engine._command(bytes((0x06, level)), encrypted=True) == b"\xf0"
    engine._command(b"\x0a", encrypted=True)  # ENABLE
    return engine._command(bytes.fromhex(data), encrypted=True)


@pytest.mark.parametrize(
    ("model", "level", "data", "expected"), CASES, ids=[f"{c[0]}-v{c[1]}-{c[2][:2]}" for c in CASES]
)
def test_the_emulator_answers_as_before(model: str, level: int, data: str, expected: str) -> None:
    assert answer(model, level, data).hex(" ") == expected
