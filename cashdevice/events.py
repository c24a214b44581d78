"""Poll-event codec: the bytes after ``F0`` in a POLL / POLL WITH ACK reply.

Pure functions shared by the emulator (encode) and the host (decode).  The one table
:data:`EVENT_SPECS` holds ssp-protocol.md §5.3: per event code, the device families that
report it, the data format, the minimum protocol level and the repeat / ack flags, with
per-family overrides where devices differ (NV11 count-prefixed note events versus the
7-byte SMART Payout forms, §5.3 "NV11 vs SMART Payout").

Data formats (§5.2), selected by :class:`Fmt`:

* ``NONE``   no data;
* ``CHANNEL`` 1 byte channel (0 = unknown);
* ``ERROR``  1 byte error / detail code;
* ``VALUE``  protocol < 6: uint32 LE value (V4); >= 6: MC7 = n, n x [uint32 value, country 3];
* ``MC7``    always MC7;
* ``VC7``    protocol < 6: V4; >= 6: uint32 value + country 3, no count byte;
* ``MC11``   protocol < 6: V4 dispensed + V4 requested; >= 6: n, n x [uint32 dispensed,
  uint32 requested, country 3];
* ``VALUE_ERROR`` (ERROR DURING PAYOUT) protocol < 7: 1 error byte; >= 7: MC7 + 1 error byte;
* ``OPT_MC7`` (NV11 NOTE STORED) MC7 when the unit gives the value, nothing otherwise; decoded
  defensively (a count byte <= 0x10 followed by 4 value bytes and 3 ASCII capitals).

:func:`decode_events` never raises on wire bytes: an unknown code, or data too short for
the code's format, ends parsing with ``Event(code, data=rest)``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from .ssp import PollEvent

__all__ = [
    "EVENT_SPECS",
    "UNPUBLISHED_EVENTS",
    "Amount",
    "DeviceFamily",
    "Event",
    "EventSpec",
    "Fmt",
    "decode_events",
    "encode_events",
    "event_format",
    "event_supported",
]


class DeviceFamily(enum.Enum):
    """Which event dialect a device speaks."""

    VALIDATOR = "validator"
    SMART_PAYOUT = "smart_payout"
    NV11 = "nv11"
    SMART_HOPPER = "smart_hopper"
    SMART_SYSTEM = "smart_system"  # SMART Coin System, Twin SCS, SMART Hopper 4
    NV4000 = "nv4000"


class Fmt(enum.Enum):
    """Event data formats (module docstring)."""

    NONE = "none"
    CHANNEL = "channel"
    ERROR = "error"
    VALUE = "value"
    MC7 = "mc7"
    VC7 = "vc7"
    MC11 = "mc11"
    VALUE_ERROR = "value_error"
    OPT_MC7 = "opt_mc7"


@dataclass(frozen=True)
class Amount:
    """A money amount in minor units; ``country`` is "" below protocol 6."""

    value: int
    country: str = ""


@dataclass(frozen=True)
class Event:
    """One decoded poll event."""

    code: int
    channel: int | None = None
    amounts: tuple[Amount, ...] = ()
    requested: tuple[Amount, ...] = ()
    error: int | None = None
    data: bytes = b""

    @property
    def name(self) -> str:
        try:
            return PollEvent(self.code).name
        except ValueError:
            return f"0x{self.code:02X}"


@dataclass(frozen=True)
class EventSpec:
    """One row of ssp-protocol.md §5.3."""

    code: int
    families: frozenset[DeviceFamily]
    fmt: Fmt = Fmt.NONE
    min_level: int = 4
    repeat: bool = False
    ack: bool = False
    overrides: Mapping[DeviceFamily, tuple[Fmt, int]] = field(default_factory=dict)
    verified: bool = True
    """False for events whose code ITL never published (:data:`UNPUBLISHED_EVENTS`)."""


_NOTES: Final = frozenset(
    {DeviceFamily.VALIDATOR, DeviceFamily.SMART_PAYOUT, DeviceFamily.NV11, DeviceFamily.NV4000}
)
_RECYCLERS: Final = frozenset({DeviceFamily.SMART_PAYOUT, DeviceFamily.NV11, DeviceFamily.NV4000})
_NOTE_PAYOUT: Final = frozenset({DeviceFamily.SMART_PAYOUT, DeviceFamily.NV4000})
_COINS: Final = frozenset({DeviceFamily.SMART_HOPPER, DeviceFamily.SMART_SYSTEM})
_PAYOUTS: Final = _RECYCLERS | _COINS
_FLOATERS: Final = _NOTE_PAYOUT | _COINS
_ALL: Final = frozenset(DeviceFamily)
_NV200ISH: Final = frozenset({DeviceFamily.VALIDATOR, DeviceFamily.SMART_PAYOUT, DeviceFamily.NV4000})


def _s(
    code: int,
    families: frozenset[DeviceFamily],
    fmt: Fmt = Fmt.NONE,
    min_level: int = 4,
    repeat: bool = False,
    ack: bool = False,
    overrides: Mapping[DeviceFamily, tuple[Fmt, int]] | None = None,
) -> EventSpec:
    return EventSpec(code, families, fmt, min_level, repeat, ack, dict(overrides or {}))


_NV11_MC7: Final = {DeviceFamily.NV11: (Fmt.MC7, 6)}

# ssp-protocol.md §5.3 / ssp-coin-nv4000.md §5, one row per code.
_PUBLISHED_SPECS: Final[Mapping[int, EventSpec]] = {
    spec.code: spec
    for spec in (
        _s(PollEvent.SLAVE_RESET, _ALL),
        _s(PollEvent.READ, _NOTES, Fmt.CHANNEL, repeat=True),
        _s(PollEvent.CREDIT, _NOTES, Fmt.CHANNEL, repeat=True, ack=True),
        _s(PollEvent.REJECTING, _NOTES, repeat=True),
        _s(PollEvent.REJECTED, _NOTES),
        _s(PollEvent.STACKING, _NOTES, repeat=True),
        _s(PollEvent.STACKED, _NOTES),
        _s(PollEvent.SAFE_JAM, _NOTES, repeat=True),
        _s(PollEvent.UNSAFE_JAM, _NOTES, repeat=True),
        _s(PollEvent.DISABLED, _ALL),
        # Fraud: validators and (by GA138's per-event page) SMART Payout a channel byte;
        # SMART Hopper / System V4 or MC7 (§8 item 8 -- README "conflicts").
        _s(
            PollEvent.FRAUD_ATTEMPT,
            _ALL,
            Fmt.CHANNEL,
            ack=True,
            overrides={DeviceFamily.SMART_HOPPER: (Fmt.VALUE, 4), DeviceFamily.SMART_SYSTEM: (Fmt.VALUE, 4)},
        ),
        _s(PollEvent.STACKER_FULL, _NOTES),
        _s(PollEvent.NOTE_CLEARED_FROM_FRONT, _NOTES, Fmt.CHANNEL),
        _s(PollEvent.NOTE_CLEARED_INTO_CASHBOX, _NOTES, Fmt.CHANNEL, ack=True),
        _s(PollEvent.CASHBOX_REMOVED, _NV200ISH, min_level=5, repeat=True),
        _s(PollEvent.CASHBOX_REPLACED, _NV200ISH, min_level=5),
        _s(PollEvent.BARCODE_TICKET_VALIDATED, _NV200ISH),
        _s(PollEvent.BARCODE_TICKET_ACK, _NV200ISH, ack=True),
        _s(PollEvent.NOTE_PATH_OPEN, _NV200ISH, min_level=6, repeat=True),
        _s(PollEvent.CHANNEL_DISABLE, _NOTES, min_level=7),
        _s(
            PollEvent.INITIALISING, _NV200ISH | _COINS | {DeviceFamily.SMART_PAYOUT}, min_level=7, repeat=True
        ),
        _s(PollEvent.DISPENSING, _PAYOUTS, Fmt.VALUE, repeat=True),
        _s(PollEvent.DISPENSED, _PAYOUTS, Fmt.VALUE, ack=True),
        _s(PollEvent.COINS_LOW, frozenset({DeviceFamily.SMART_HOPPER})),
        _s(PollEvent.COINS_EMPTY, frozenset({DeviceFamily.SMART_HOPPER})),
        _s(PollEvent.JAMMED, _PAYOUTS, Fmt.VALUE, repeat=True),
        _s(PollEvent.HALTED, _PAYOUTS, Fmt.VALUE),
        _s(PollEvent.FLOATING, _FLOATERS, Fmt.VALUE, repeat=True),
        _s(PollEvent.FLOATED, _FLOATERS, Fmt.VALUE, ack=True),
        _s(PollEvent.TIMEOUT, _COINS | _NOTE_PAYOUT, Fmt.VALUE, ack=True),
        _s(PollEvent.INCOMPLETE_PAYOUT, _PAYOUTS, Fmt.MC11, ack=True),
        _s(PollEvent.INCOMPLETE_FLOAT, _FLOATERS, Fmt.MC11, ack=True),
        _s(PollEvent.CASHBOX_PAID, _COINS, Fmt.VALUE),
        _s(PollEvent.COIN_CREDIT, _COINS, Fmt.VC7),
        _s(PollEvent.COIN_MECH_JAMMED, _COINS, min_level=5),
        _s(PollEvent.COIN_MECH_RETURN_PRESSED, _COINS, min_level=5),
        _s(PollEvent.EMPTYING, _PAYOUTS, min_level=5, repeat=True),
        _s(PollEvent.EMPTIED, _PAYOUTS, min_level=5),
        _s(PollEvent.SMART_EMPTYING, _PAYOUTS, Fmt.VALUE, repeat=True),
        _s(PollEvent.SMART_EMPTIED, _PAYOUTS, Fmt.VALUE, ack=True),
        _s(PollEvent.CALIBRATION_FAILED, _COINS, Fmt.ERROR, min_level=7),
        _s(PollEvent.NOTE_STORED_IN_PAYOUT, _RECYCLERS, overrides={DeviceFamily.NV11: (Fmt.OPT_MC7, 4)}),
        _s(PollEvent.PAYOUT_OUT_OF_SERVICE, frozenset({DeviceFamily.NV11, DeviceFamily.SMART_PAYOUT})),
        _s(PollEvent.JAM_RECOVERY, _NOTE_PAYOUT, min_level=7, repeat=True),
        _s(PollEvent.ERROR_DURING_PAYOUT, _NOTE_PAYOUT, Fmt.VALUE_ERROR, ack=True),
        _s(
            PollEvent.NOTE_TRANSFERRED_TO_STACKER,
            _RECYCLERS,
            Fmt.VC7,
            min_level=6,
            ack=True,
            overrides=_NV11_MC7,
        ),
        _s(PollEvent.NOTE_HELD_IN_BEZEL, _RECYCLERS, Fmt.VC7, min_level=8, repeat=True, overrides=_NV11_MC7),
        _s(
            PollEvent.NOTE_INTO_STORE_AT_RESET,
            _RECYCLERS,
            Fmt.VC7,
            min_level=8,
            ack=True,
            overrides={DeviceFamily.NV11: (Fmt.VC7, 6)},
        ),
        _s(
            PollEvent.NOTE_INTO_STACKER_AT_RESET,
            _RECYCLERS,
            Fmt.VC7,
            min_level=8,
            ack=True,
            overrides={DeviceFamily.NV11: (Fmt.VC7, 6)},
        ),
        _s(PollEvent.NOTE_DISPENSED_AT_RESET, frozenset({DeviceFamily.NV11}), Fmt.VC7, min_level=6, ack=True),
        _s(PollEvent.NOTE_FLOAT_REMOVED, frozenset({DeviceFamily.NV11}), min_level=5),
        _s(PollEvent.NOTE_FLOAT_ATTACHED, frozenset({DeviceFamily.NV11}), min_level=5),
        _s(
            PollEvent.DEVICE_FULL,
            frozenset({DeviceFamily.NV11, DeviceFamily.SMART_SYSTEM}),
            min_level=5,
            repeat=True,
        ),
        _s(PollEvent.COIN_MECH_ERROR, _COINS, Fmt.ERROR, min_level=7),
        # COIN REJECTED: GA138 text only; taken as uint32 (count or value) + country.
        _s(PollEvent.COIN_REJECTED, frozenset({DeviceFamily.SMART_SYSTEM}), Fmt.VC7, min_level=6),
        _s(PollEvent.ATTACHED_COIN_MECH_DISABLED, _COINS, min_level=6),
        _s(PollEvent.ATTACHED_COIN_MECH_ENABLED, _COINS, min_level=6),
        _s(PollEvent.VALUE_ADDED, frozenset({DeviceFamily.SMART_SYSTEM}), Fmt.MC7, min_level=7, ack=True),
        _s(PollEvent.PAY_IN_ACTIVE, frozenset({DeviceFamily.SMART_SYSTEM}), min_level=7, repeat=True),
        _s(PollEvent.MAINTENANCE_REQUIRED, frozenset({DeviceFamily.SMART_SYSTEM})),
        _s(PollEvent.ESCROW_ACTIVE, frozenset({DeviceFamily.SMART_SYSTEM}), repeat=True),
        _s(
            PollEvent.CASHBOX_OUT_OF_SERVICE,
            frozenset({DeviceFamily.VALIDATOR}),
            Fmt.ERROR,
            min_level=6,
            repeat=True,
        ),
        _s(PollEvent.TEBS_CASHBOX_TAMPER, frozenset({DeviceFamily.VALIDATOR})),
        _s(PollEvent.CASHBOX_BACK_IN_SERVICE, frozenset({DeviceFamily.VALIDATOR}), min_level=6),
        _s(PollEvent.CASHBOX_UNLOCK_ENABLED, frozenset({DeviceFamily.VALIDATOR}), min_level=6),
        # Printer / TITO events (A8 TICKET PRINTING ERROR carries an error byte).
        *(_s(code, _NV200ISH, Fmt.ERROR if code == 0xA8 else Fmt.NONE) for code in range(0xA0, 0xB0)),
    )
}
"""Event code -> spec of the published events (ssp-protocol.md §5.3)."""

UNPUBLISHED_EVENTS: Final[Mapping[str, int]] = {
    "LIFTER_EVENT": 0x84,  # + 1 status byte: bit0 connected, bit1 opto clear, bit2 jammed (ours)
    "PURGING": 0x85,
    "PURGED": 0x86,
    "REPLENISH_STORED": 0x87,  # VC7: the note moved from the NV4000 cassette into a recycler
    "REPLENISH_SENT_TO_RC_TRAY": 0x88,  # VC7: the note could not be stored
    "REPLENISH_CASSETTE_REMOVED": 0x89,
    "REPLENISH_CASSETTE_REPLACED": 0x8A,
    "REPLENISH_CASSETTE_FULL": 0x8C,
}
"""SMART Coin System and NV4000 events the seed names (LIFTER_EVENT, PURGING, PURGED states; the
REPLENISH_* ReplenishEvent types) whose codes ITL never published (ssp-coin-nv4000.md §5 rows "?").
Test-only codes, from the event codes no ITL
document assigns; the emulator reports them and a host decodes them only when asked
(``decode_events(..., unverified=True)``, i.e. ``CashDevice(allow_unverified=True)``)."""

_UNPUBLISHED_FORMATS: Final[Mapping[str, Fmt]] = {
    "LIFTER_EVENT": Fmt.ERROR,
    "REPLENISH_STORED": Fmt.VC7,
    "REPLENISH_SENT_TO_RC_TRAY": Fmt.VC7,
}
_UNPUBLISHED_SPECS: Final = {
    code: EventSpec(
        code,
        frozenset({DeviceFamily.NV4000 if name.startswith("REPLENISH") else DeviceFamily.SMART_SYSTEM}),
        _UNPUBLISHED_FORMATS.get(name, Fmt.NONE),
        min_level=6,
        verified=False,
    )
    for name, code in UNPUBLISHED_EVENTS.items()
}
EVENT_SPECS: Final[Mapping[int, EventSpec]] = {**_PUBLISHED_SPECS, **_UNPUBLISHED_SPECS}
"""Event code -> spec: every published event (ssp-protocol.md §5.3) and the unpublished ones."""


def event_format(code: int, family: DeviceFamily) -> tuple[Fmt, int] | None:
    """``(format, minimum level)`` of ``code`` on ``family`` (None for an unknown code).

    A known code outside its families gets its default format (decoding stays lenient).
    """
    spec = EVENT_SPECS.get(code)
    if spec is None:
        return None
    return spec.overrides.get(family, (spec.fmt, spec.min_level))


def event_supported(code: int, level: int, family: DeviceFamily) -> bool:
    """True when ``family`` reports ``code`` at protocol ``level``."""
    spec = EVENT_SPECS.get(code)
    if spec is None or family not in spec.families:
        return False
    fmt = event_format(code, family)
    return fmt is not None and level >= fmt[1]


# ------------------------------------------------------------------------------- encoding


def _country(text: str) -> bytes:
    raw = text.encode("ascii")
    if len(raw) != 3:
        raise ValueError(f"country code must be 3 ASCII letters, got {text!r}")
    return raw


def _v4(value: int) -> bytes:
    return int(value).to_bytes(4, "little")


def _mc7(amounts: tuple[Amount, ...]) -> bytes:
    return bytes((len(amounts),)) + b"".join(_v4(a.value) + _country(a.country) for a in amounts)


def _first(amounts: tuple[Amount, ...]) -> Amount:
    return amounts[0] if amounts else Amount(0, "")


def _encode_one(event: Event, fmt: Fmt, level: int) -> bytes:
    code = bytes((event.code,))
    if fmt is Fmt.NONE:
        return code
    if fmt is Fmt.CHANNEL:
        return code + bytes((event.channel or 0,))
    if fmt is Fmt.ERROR:
        return code + bytes((event.error or 0,))
    if fmt is Fmt.VALUE:
        if level < 6:
            return code + _v4(_first(event.amounts).value)
        return code + _mc7(event.amounts)
    if fmt is Fmt.MC7:
        return code + _mc7(event.amounts)
    if fmt is Fmt.VC7:
        first = _first(event.amounts)
        if level < 6:
            return code + _v4(first.value)
        return code + _v4(first.value) + _country(first.country)
    if fmt is Fmt.MC11:
        if len(event.amounts) != len(event.requested):
            raise ValueError("MC11 needs one requested amount per dispensed amount")
        if level < 6:
            return code + _v4(_first(event.amounts).value) + _v4(_first(event.requested).value)
        body = b"".join(
            _v4(paid.value) + _v4(req.value) + _country(paid.country)
            for paid, req in zip(event.amounts, event.requested)
        )
        return code + bytes((len(event.amounts),)) + body
    if fmt is Fmt.VALUE_ERROR:
        err = bytes((event.error or 0,))
        if level < 7:
            return code + err
        return code + _mc7(event.amounts) + err
    # OPT_MC7
    return code + (_mc7(event.amounts) if event.amounts else b"")


def encode_events(events: Iterable[Event], level: int, family: DeviceFamily) -> bytes:
    """The poll reply bytes after ``F0`` for ``events`` at protocol ``level``.

    Raises ``ValueError`` for an event whose fields cannot be encoded (country code not 3
    letters, values out of range).  Unknown codes are written as ``code + data``.
    """
    out = bytearray()
    for event in events:
        fmt = event_format(event.code, family)
        if fmt is None:
            out += bytes((event.code,)) + event.data
            continue
        out += _encode_one(event, fmt[0], level)
    return bytes(out)


# ------------------------------------------------------------------------------- decoding


def _read_mc7(data: bytes, pos: int) -> tuple[tuple[Amount, ...], int] | None:
    if pos >= len(data):
        return None
    n = data[pos]
    end = pos + 1 + 7 * n
    if end > len(data):
        return None
    amounts = tuple(
        Amount(
            int.from_bytes(data[p : p + 4], "little"),
            data[p + 4 : p + 7].decode("latin-1"),
        )
        for p in range(pos + 1, end, 7)
    )
    return amounts, end


def _looks_like_mc7(data: bytes, pos: int) -> bool:
    if pos + 8 > len(data) or not 1 <= data[pos] <= 0x10:
        return False
    country = data[pos + 5 : pos + 8]
    return all(0x41 <= b <= 0x5A for b in country)


def _decode_one(code: int, fmt: Fmt, data: bytes, pos: int, level: int) -> tuple[Event, int] | None:
    """Decode the event at ``pos`` (after its code byte); None if the data is too short."""
    if fmt is Fmt.NONE:
        return Event(code), pos
    if fmt in (Fmt.CHANNEL, Fmt.ERROR):
        if pos >= len(data):
            return None
        if fmt is Fmt.CHANNEL:
            return Event(code, channel=data[pos]), pos + 1
        return Event(code, error=data[pos]), pos + 1
    if (fmt is Fmt.VALUE and level < 6) or (fmt is Fmt.VC7 and level < 6):
        if pos + 4 > len(data):
            return None
        return Event(code, amounts=(Amount(int.from_bytes(data[pos : pos + 4], "little")),)), pos + 4
    if fmt in (Fmt.VALUE, Fmt.MC7):
        mc = _read_mc7(data, pos)
        if mc is None:
            return None
        return Event(code, amounts=mc[0]), mc[1]
    if fmt is Fmt.VC7:
        if pos + 7 > len(data):
            return None
        value = int.from_bytes(data[pos : pos + 4], "little")
        return Event(code, amounts=(Amount(value, data[pos + 4 : pos + 7].decode("latin-1")),)), pos + 7
    if fmt is Fmt.MC11:
        if level < 6:
            if pos + 8 > len(data):
                return None
            paid = int.from_bytes(data[pos : pos + 4], "little")
            req = int.from_bytes(data[pos + 4 : pos + 8], "little")
            return Event(code, amounts=(Amount(paid),), requested=(Amount(req),)), pos + 8
        if pos >= len(data):
            return None
        n = data[pos]
        end = pos + 1 + 11 * n
        if end > len(data):
            return None
        paid_list: list[Amount] = []
        req_list: list[Amount] = []
        for p in range(pos + 1, end, 11):
            country = data[p + 8 : p + 11].decode("latin-1")
            paid_list.append(Amount(int.from_bytes(data[p : p + 4], "little"), country))
            req_list.append(Amount(int.from_bytes(data[p + 4 : p + 8], "little"), country))
        return Event(code, amounts=tuple(paid_list), requested=tuple(req_list)), end
    if fmt is Fmt.VALUE_ERROR:
        if level < 7:
            if pos >= len(data):
                return None
            return Event(code, error=data[pos]), pos + 1
        mc = _read_mc7(data, pos)
        if mc is None or mc[1] >= len(data):
            return None
        return Event(code, amounts=mc[0], error=data[mc[1]]), mc[1] + 1
    # OPT_MC7
    if _looks_like_mc7(data, pos):
        mc = _read_mc7(data, pos)
        if mc is not None:
            return Event(code, amounts=mc[0]), mc[1]
    return Event(code), pos


def decode_events(data: bytes, level: int, family: DeviceFamily, *, unverified: bool = False) -> list[Event]:
    """Decode the poll reply bytes after ``F0``.  Never raises on wire bytes.

    An unknown code, or a known one whose data is cut short, ends parsing with
    ``Event(code, data=rest)``.  The codes of :data:`UNPUBLISHED_EVENTS` count as unknown unless
    ``unverified`` is True.
    """
    data = bytes(data)
    out: list[Event] = []
    pos = 0
    while pos < len(data):
        code = data[pos]
        fmt = event_format(code, family)
        if fmt is not None and not unverified and not EVENT_SPECS[code].verified:
            fmt = None
        decoded = None if fmt is None else _decode_one(code, fmt[0], data, pos + 1, level)
        if decoded is None:
            out.append(Event(code, data=data[pos + 1 :]))
            break
        out.append(decoded[0])
        pos = decoded[1]
    return out
