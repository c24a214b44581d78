"""cashdevice.events: every event code round-trips at levels 6, 7, 8 for each family that has it;
the manuals' example bytes decode to the expected events; wire garbage never raises."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cashdevice.events import (
    EVENT_SPECS,
    Amount,
    DeviceFamily,
    Event,
    Fmt,
    decode_events,
    encode_events,
    event_format,
    event_supported,
)
from cashdevice.ssp import PollEvent

F = DeviceFamily


def sample(code: int, fmt: Fmt, level: int) -> Event:
    eur = Amount(1530, "EUR" if level >= 6 else "")
    gbp = Amount(360, "GBP")
    multi = (eur, gbp) if level >= 6 else (eur,)
    if fmt is Fmt.NONE:
        return Event(code)
    if fmt is Fmt.CHANNEL:
        return Event(code, channel=3)
    if fmt is Fmt.ERROR:
        return Event(code, error=0x14)
    if fmt in (Fmt.VALUE, Fmt.MC7):
        return Event(code, amounts=multi)
    if fmt is Fmt.VC7:
        return Event(code, amounts=(eur,))
    if fmt is Fmt.MC11:
        return Event(code, amounts=multi, requested=tuple(Amount(a.value + 100, a.country) for a in multi))
    if fmt is Fmt.VALUE_ERROR:
        return Event(code, amounts=multi if level >= 7 else (), error=2)
    return Event(code, amounts=(eur,))  # OPT_MC7


CASES = [
    (code, family, level)
    for code, spec in EVENT_SPECS.items()
    for family in sorted(spec.families, key=lambda f: f.value)
    for level in (6, 7, 8)
    if event_supported(code, level, family)
]


@pytest.mark.parametrize(("code", "family", "level"), CASES, ids=lambda v: getattr(v, "name", str(v)))
def test_round_trip(code, family, level):
    fmt, _min = event_format(code, family)
    event = sample(code, fmt, level)
    # surround with fixed-size neighbours so a length error shows up
    stream = [Event(PollEvent.SLAVE_RESET), event, Event(PollEvent.DISABLED)]
    wire = encode_events(stream, level, family)
    assert decode_events(wire, level, family, unverified=True) == stream
    if not EVENT_SPECS[code].verified:  # an unpublished code is unknown unless asked for
        assert decode_events(wire, level, family)[1] == Event(code, data=wire[2:])
    else:
        assert decode_events(wire, level, family) == stream


def test_every_code_of_section_5_3_is_in_the_table():
    for code in PollEvent:
        assert code in EVENT_SPECS, code.name
    assert len(CASES) > 300


@pytest.mark.parametrize(
    ("hex_data", "level", "family", "expected"),
    [
        ("f1e8", 6, F.VALIDATOR, [Event(0xF1), Event(0xE8)]),
        ("ef03", 8, F.SMART_PAYOUT, [Event(0xEF, channel=3)]),
        ("ee03cc", 6, F.VALIDATOR, [Event(0xEE, channel=3), Event(0xCC)]),
        ("eae8", 6, F.VALIDATOR, [Event(0xEA), Event(0xE8)]),
        ("ee01eb", 6, F.VALIDATOR, [Event(0xEE, channel=1), Event(0xEB)]),
        # VALUE ADDED EUR 5.50; EUR 2.20 + GBP 3.60 (GA138)
        ("bf0126020000455552", 7, F.SMART_SYSTEM, [Event(0xBF, amounts=(Amount(550, "EUR"),))]),
        (
            "bf02dc00000045555268010000474250",
            7,
            F.SMART_SYSTEM,
            [Event(0xBF, amounts=(Amount(220, "EUR"), Amount(360, "GBP")))],
        ),
        ("b714", 7, F.SMART_SYSTEM, [Event(0xB7, error=0x14)]),
        ("bd", 7, F.SMART_SYSTEM, [Event(0xBD)]),
        ("c1", 7, F.SMART_SYSTEM, [Event(0xC1)]),
        # FRAUD ATTEMPT on SH4 / SMART System, v>=6: MC7 (GA138-NV9)
        ("e601fa050000455552", 6, F.SMART_SYSTEM, [Event(0xE6, amounts=(Amount(1530, "EUR"),))]),
        # NV11 note held in bezel, count-prefixed (GA973 NV11 flow) vs SMART Payout VC7
        ("ce01f4010000455552", 7, F.NV11, [Event(0xCE, amounts=(Amount(500, "EUR"),))]),
        ("ced0070000455552", 8, F.SMART_PAYOUT, [Event(0xCE, amounts=(Amount(2000, "EUR"),))]),
        # SMART Payout payout flow (ssp-protocol.md §5.5)
        ("da0100000000455552e8", 6, F.SMART_PAYOUT, [Event(0xDA, amounts=(Amount(0, "EUR"),)), Event(0xE8)]),
        (
            "d201b80b0000455552e8",
            6,
            F.SMART_PAYOUT,
            [Event(0xD2, amounts=(Amount(3000, "EUR"),)), Event(0xE8)],
        ),
        # SMART Hopper COIN CREDIT: 7 bytes, no count (kyb's MC7 reading is wrong)
        ("df64000000455552", 6, F.SMART_HOPPER, [Event(0xDF, amounts=(Amount(100, "EUR"),))]),
        # INCOMPLETE PAYOUT after power loss, v6 MC11
        (
            "f1dc01d0070000b80b0000455552e8",
            6,
            F.SMART_PAYOUT,
            [
                Event(0xF1),
                Event(0xDC, amounts=(Amount(2000, "EUR"),), requested=(Amount(3000, "EUR"),)),
                Event(0xE8),
            ],
        ),
        # ERROR DURING PAYOUT, reverse-validation failure (v7: MC7 + error byte)
        (
            "b1010000000045555200e8",
            7,
            F.SMART_PAYOUT,
            [Event(0xB1, amounts=(Amount(0, "EUR"),), error=0), Event(0xE8)],
        ),
        # protocol < 6 value forms
        ("da10270000", 5, F.SMART_HOPPER, [Event(0xDA, amounts=(Amount(10000),))]),
        (
            "dc10270000204e0000",
            5,
            F.SMART_PAYOUT,
            [Event(0xDC, amounts=(Amount(10000),), requested=(Amount(20000),))],
        ),
        ("b102", 6, F.SMART_PAYOUT, [Event(0xB1, error=2)]),
    ],
)
def test_manual_examples(hex_data, level, family, expected):
    data = bytes.fromhex(hex_data)
    assert decode_events(data, level, family) == expected
    assert encode_events(expected, level, family) == data


def test_nv11_note_stored_with_or_without_value():
    with_value = bytes.fromhex("db01f4010000455552e8")
    assert decode_events(with_value, 7, F.NV11) == [Event(0xDB, amounts=(Amount(500, "EUR"),)), Event(0xE8)]
    assert decode_events(bytes.fromhex("dbe8"), 7, F.NV11) == [Event(0xDB), Event(0xE8)]
    assert decode_events(bytes.fromhex("dbe8"), 8, F.SMART_PAYOUT) == [Event(0xDB), Event(0xE8)]


def test_unknown_code_and_short_data_end_parsing():
    assert decode_events(bytes.fromhex("e87a0102"), 8, F.VALIDATOR) == [
        Event(0xE8),
        Event(0x7A, data=b"\x01\x02"),
    ]
    # DISPENSING cut short: raw remainder
    assert decode_events(bytes.fromhex("da0101"), 8, F.SMART_PAYOUT) == [Event(0xDA, data=b"\x01\x01")]
    assert decode_events(b"", 8, F.SMART_PAYOUT) == []


@given(st.binary(max_size=64), st.integers(4, 9), st.sampled_from(list(DeviceFamily)))
def test_decode_never_raises(data, level, family):
    events = decode_events(data, level, family)
    assert all(isinstance(e, Event) for e in events)


def test_encode_rejects_bad_country():
    with pytest.raises(ValueError):
        encode_events([Event(0xDA, amounts=(Amount(5, "EU"),))], 6, F.SMART_HOPPER)


def amounts_of(hex_data: str, level: int, family: DeviceFamily) -> tuple[Amount, ...]:
    return decode_events(bytes.fromhex(hex_data), level, family)[0].amounts


def test_more_manual_examples_of_money_events() -> None:
    """GA138's and GA973's own example bytes of the money events (a probe for behaviours a real unit
    shows read them): each decodes to the value and country the manual gives."""
    # CASHBOX PAID, protocol 6 (5.30 GBP and 0.20 EUR) and 5
    assert amounts_of("DE 02 12020000 474250 14000000 455552", 6, F.SMART_HOPPER) == (
        Amount(530, "GBP"),
        Amount(20, "EUR"),
    )
    assert amounts_of("DE C8000000", 5, F.SMART_HOPPER) == (Amount(200),)
    assert amounts_of("DF F4010000 474250", 6, F.SMART_HOPPER) == (Amount(500, "GBP"),)  # COIN CREDIT
    assert amounts_of("D5 E6000000", 5, F.SMART_HOPPER) == (Amount(230),)  # JAMMED, protocol 5
    assert amounts_of("D6 01 FA050000 455552", 6, F.SMART_PAYOUT) == (Amount(1530, "EUR"),)  # HALTED
    assert amounts_of("D8 01 02080000 455552", 6, F.SMART_HOPPER) == (Amount(2050, "EUR"),)  # FLOATED
    incomplete = decode_events(bytes.fromhex("DC 01 FC080000 88130000 455552"), 6, F.SMART_PAYOUT)[0]
    assert (incomplete.amounts, incomplete.requested) == ((Amount(2300, "EUR"),), (Amount(5000, "EUR"),))
    assert amounts_of("B3 01 D4080000 455552", 6, F.SMART_HOPPER) == (Amount(2260, "EUR"),)  # SMART EMPTYING
    # the SMART Payout's and the NV11's one-note events
    assert amounts_of("C9 F4010000 455552", 6, F.SMART_PAYOUT) == (Amount(500, "EUR"),)
    assert amounts_of("CE E8030000 455552", 8, F.SMART_PAYOUT) == (Amount(1000, "EUR"),)
    assert amounts_of("CB D0070000 474250", 8, F.SMART_PAYOUT) == (Amount(2000, "GBP"),)
    assert amounts_of("CA F4010000 455552", 8, F.SMART_PAYOUT) == (Amount(500, "EUR"),)
    assert amounts_of("CD E8030000 455552", 6, F.NV11) == (Amount(1000, "EUR"),)
    assert amounts_of("CE 01 F4010000 455552", 8, F.NV11) == (Amount(500, "EUR"),)
    assert amounts_of("DB 01 F4010000 455552", 6, F.NV11) == (Amount(500, "EUR"),)
    assert decode_events(bytes.fromhex("DB"), 6, F.SMART_PAYOUT) == [Event(0xDB)]
    # GA973 "Note transport error during dispense": ERROR DURING PAYOUT + JAM RECOVERY
    assert decode_events(bytes.fromhex("B1 01 00000000 455552 01 B0"), 7, F.SMART_PAYOUT) == [
        Event(0xB1, amounts=(Amount(0, "EUR"),), error=1),
        Event(0xB0),
    ]
    # GA973, stacker full: credit, stacking, stacked and full in one reply
    codes = [e.code for e in decode_events(bytes.fromhex("EE 03 CC EB E7"), 6, F.VALIDATOR)]
    assert codes == [0xEE, 0xCC, 0xEB, 0xE7]
