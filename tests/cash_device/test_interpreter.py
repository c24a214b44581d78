"""The event interpreter (:mod:`cashdevice._poller`) on lists of decoded events: no link, no emulator.

A ``CashDevice`` that was never opened gets a channel table; lists of :class:`cashdevice.events.Event`
go to ``_handle_events`` as if each list were one poll reply; the tests assert the CashEvents and
DispenserTransactionEvents fired.  The interpreter refreshes levels after a transaction; here every
exchange goes to a stub that raises ``SSPPortError`` (a lost port), and the events are still right.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cashdevice import CashDevice
from cashdevice.enums import (
    CashEventType,
    CurrencyType,
    DeviceModel,
    DeviceState,
    DispenserTransactionState,
    DispenserTransactionType,
)
from cashdevice.events import Amount, Event
from cashdevice.records import (
    CashEventResponse,
    CurrencyAssignmentEntry,
    DispenserTransactionEventResponse,
    ValueCountryCode,
)
from cashdevice.ssp import PollEvent, SSPPortError

P = PollEvent
GBP = "GBP"


class Interpreter:
    """A never-opened CashDevice (SPECTRAL_PAYOUT, GBP 5/10/20 on channels 1-3) and what it fired."""

    def __init__(self) -> None:
        self.device = CashDevice()
        self.sent: list[bytes] = []
        self.cash: list[tuple[CashEventType, int, int, str]] = []
        self.transactions: list[tuple[DispenserTransactionState, DispenserTransactionType, int, int]] = []
        self.device._set(
            deviceModel=DeviceModel.SPECTRAL_PAYOUT,
            sspProtocolVersion=8,
            currencyAssignment=[
                CurrencyAssignmentEntry(
                    CurrencyType.BANKNOTE, ValueCountryCode(value, GBP), Channel=ch, Stored=2
                )
                for ch, value in ((1, 500), (2, 1000), (3, 2000))
            ],
        )

        def no_port(data: bytes, *, encrypt: bool | None = None, then: object = None) -> bytes:
            self.sent.append(data)
            raise SSPPortError("no port in this test")

        self.device._command = no_port  # type: ignore[method-assign]
        self.device.CashEvent += self.on_cash
        self.device.DispenserTransactionEvent += self.on_transaction

    def on_cash(self, sender: object, e: CashEventResponse) -> None:
        self.cash.append((e.eventType, e.value, e.value2, e.countryCode))

    def on_transaction(self, sender: object, e: DispenserTransactionEventResponse) -> None:
        self.transactions.append((e.state, e.transactionType, e.value, e.requestedValue))

    def polls(self, *replies: list[Event], startup: bool = False) -> None:
        for events in replies:
            self.device._handle_events(events, startup)

    def stored(self, value: int) -> int:
        return next(e.Stored for e in self.device._v["currencyAssignment"] if e.Value == value)


@pytest.fixture
def it() -> Iterator[Interpreter]:
    interpreter = Interpreter()
    yield interpreter
    interpreter.device.Close()


def test_a_note_read_credited_and_stored(it: Interpreter) -> None:
    it.polls(
        [Event(P.READ, channel=0)],
        [Event(P.READ, channel=2)],
        [Event(P.READ, channel=2)],  # still in escrow: reported once
        [Event(P.CREDIT, channel=2)],
    )
    assert it.cash == [(CashEventType.ESCROW, 1000, 0, GBP)]
    assert it.device._pending is not None and not it.device._v["noteInEscrow"]
    it.polls([Event(P.NOTE_STORED_IN_PAYOUT)])
    assert it.cash == [(CashEventType.ESCROW, 1000, 0, GBP), (CashEventType.STORED, 1000, 0, GBP)]
    assert it.device._pending is None
    assert it.stored(1000) == 3
    assert it.device._v["deviceState"] == DeviceState.IDLE
    assert it.sent == []


def test_a_credit_stacked_is_counted_in_the_cashbox(it: Interpreter) -> None:
    it.polls(
        [Event(P.READ, channel=1)], [Event(P.CREDIT, channel=1)], [Event(P.STACKING)], [Event(P.STACKED)]
    )
    assert it.cash == [(CashEventType.ESCROW, 500, 0, GBP), (CashEventType.STACKED, 500, 0, GBP)]
    assert next(e.StoredInCashbox for e in it.device._v["currencyAssignment"] if e.Value == 500) == 1


def test_a_payout_dispensing_then_dispensed(it: Interpreter) -> None:
    it.device._begin_transaction(DispenserTransactionType.PAYOUT, 1500, GBP)  # as DispenseValue does
    dispensing = Event(P.DISPENSING, amounts=(Amount(500, GBP),))
    it.polls(
        [dispensing],
        [dispensing],  # repeated every poll: reported once
        [Event(P.DISPENSING, amounts=(Amount(1500, GBP),))],
        [Event(P.DISPENSED, amounts=(Amount(1500, GBP),))],
    )
    assert it.cash == [
        (CashEventType.DISPENSING, 500, 0, GBP),
        (CashEventType.DISPENSING, 1500, 0, GBP),
        (CashEventType.DISPENSED, 1500, 0, GBP),
    ]
    assert it.transactions == [
        (DispenserTransactionState.IN_PROGRESS, DispenserTransactionType.PAYOUT, 0, 1500),
        (DispenserTransactionState.COMPLETED, DispenserTransactionType.PAYOUT, 1500, 1500),
    ]
    assert it.device._transaction is None
    # the level refresh after the payout went to the stub (GET ALL LEVELS) and failed quietly
    assert it.sent == [bytes((0x22,))]
    assert it.device._v["dispenseState"] == DispenserTransactionState.COMPLETED


def test_a_payout_the_device_starts_on_its_own(it: Interpreter) -> None:
    it.polls(
        [Event(P.DISPENSING, amounts=(Amount(0, GBP),))], [Event(P.DISPENSED, amounts=(Amount(1000, GBP),))]
    )
    assert [t[0] for t in it.transactions] == [
        DispenserTransactionState.IN_PROGRESS,
        DispenserTransactionState.COMPLETED,
    ]
    assert it.transactions[-1][2] == 1000


def test_an_incomplete_payout(it: Interpreter) -> None:
    it.device._begin_transaction(DispenserTransactionType.PAYOUT, 1500, GBP)
    it.polls([Event(P.INCOMPLETE_PAYOUT, amounts=(Amount(500, GBP),), requested=(Amount(1500, GBP),))])
    assert it.cash == [(CashEventType.INCOMPLETE_PAYOUT, 500, 1500, GBP)]
    assert it.transactions[-1] == (
        DispenserTransactionState.ERROR,
        DispenserTransactionType.PAYOUT,
        500,
        1500,
    )
    assert it.device._transaction is None


@pytest.mark.parametrize(
    "code,kind",
    [
        (P.INCOMPLETE_FLOAT, DispenserTransactionType.FLOAT),
        (P.INCOMPLETE_PAYOUT, DispenserTransactionType.PAYOUT),
    ],
)
def test_an_incomplete_job_the_host_did_not_see_start(
    it: Interpreter, code: int, kind: DispenserTransactionType
) -> None:
    """After a power cut the unit reports INCOMPLETE FLOAT (or PAYOUT) for a job whose start the host
    never saw: the transaction event names that kind and what was asked (it said PAYOUT, and
    Requested 0, for a float)."""
    it.device._transaction_amount = Amount(9999, GBP)  # (left from an earlier payout)
    it.polls([Event(code, amounts=(Amount(500, GBP),), requested=(Amount(1500, GBP),))])
    assert it.transactions[-1] == (DispenserTransactionState.ERROR, kind, 500, 1500)


def test_a_pending_credit_settled_by_an_at_reset_event(it: Interpreter) -> None:
    it.polls([Event(P.READ, channel=3)], [Event(P.CREDIT, channel=3)])
    # the device reset before it reported where the note went; its start-up poll tells
    it.polls(
        [Event(P.SLAVE_RESET), Event(P.NOTE_INTO_STORE_AT_RESET, amounts=(Amount(2000, GBP),))], startup=True
    )
    assert it.cash == [(CashEventType.ESCROW, 2000, 0, GBP), (CashEventType.STORED, 2000, 0, GBP)]
    assert it.device._pending is None
    assert it.device._device_reset


def test_a_pending_credit_with_no_word_after_a_reset_is_settled_from_the_levels(it: Interpreter) -> None:
    it.polls([Event(P.CREDIT, channel=1)])
    it.polls([Event(P.SLAVE_RESET)], startup=True)
    it.device._set(
        currencyAssignment=[
            e if e.Value != 500 else CurrencyAssignmentEntry(e.Type, e.ValueCountryCode, Channel=1, Stored=3)
            for e in it.device._v["currencyAssignment"]
        ]
    )  # the levels read during the start-up: one more 5 in the store
    it.device._settle_after_reset()
    # GA973 shows a note moved at power-up reported in the poll after SLAVE RESET's: the host waits
    # two polls for that word before it settles from the levels
    it.polls([Event(P.DISABLED)])
    assert it.cash == []
    it.polls([Event(P.DISABLED)])
    assert it.cash == [(CashEventType.STORED, 500, 0, GBP)]


def test_an_unknown_event_is_skipped_and_the_rest_still_handled(it: Interpreter) -> None:
    it.polls([Event(P.READ, channel=1), Event(0x01, data=b"\x02\x03")])
    assert it.cash == [(CashEventType.ESCROW, 500, 0, GBP)]
