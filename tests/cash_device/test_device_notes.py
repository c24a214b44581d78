"""Note-validator and recycler methods of CashDevice against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from device_helpers import Recorder, open_emulated, wire

from cashdevice import (
    CashDevice,
    CashSystemOpenResult,
    DenominationRoute,
    DeviceModel,
)
from cashdevice import (
    DispenseTransactionRequestResult as DTRR,
)
from cashdevice import (
    SetDenominationRouteRequestResult as SDRRR,
)
from cashdevice import (
    ValueCountryCode as VCC,
)
from cashdevice.emulator import Emulator

Make = Callable[..., Any]


def opened(
    emulators: Make, devices: Make, model: str = "SPECTRAL_PAYOUT", **emu: Any
) -> tuple[Emulator, CashDevice, Recorder]:
    return open_emulated(emulators, devices, model, **emu)


def test_inhibits_reject_the_note_and_report_the_reason(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices, "NOTE_VALIDATOR")
    assert d.SetDenominationInhibit(1, True)  # index 1 = second channel (10 EUR)
    assert d.currencyAssignment[1].IsInhibited and not d.currencyAssignment[0].IsInhibited
    value = d.currencyAssignment[1].Value
    assert emu.insert_note(value, wait=5)
    rec.wait_cash("REJECTED")
    assert d.GetLastRejectCode()
    assert d.rejectCategory == "Reject Reason: Channel Inhibit"
    assert d.SetDenominationInhibit(VCC(value, "EUR"), False)
    assert emu.insert_note(value, wait=5)
    rec.wait_cash("STACKED")
    assert d.SetDenominationInhibitSingleCurrency(value, True)
    assert d.SetDenominationInhibitsSingleCurrency([value, d.currencyAssignment[0].Value], False)
    assert not any(c.IsInhibited for c in d.currencyAssignment)


def test_inhibit_bad_input_sends_nothing(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    emu, d, _ = opened(emulators, devices, "NOTE_VALIDATOR")
    with wire(emu) as seen:
        assert not d.SetDenominationInhibits(None, True)
        assert not d.SetDenominationInhibits([], True)
        assert not d.SetDenominationInhibits([VCC(123, "EUR")], True)
        assert not d.SetDenominationInhibits([VCC(500, "GBP")], True)
        assert not d.SetDenominationInhibit(99, True)
        assert not d.SetDenominationInhibit(-1, True)
        assert not d.SetDenominationInhibitsSingleCurrency(None, True)
        assert not d.SetDenominationInhibitSingleCurrency(777, True)
        assert not d.SendCustomCommand(b"\x20", 0)
        assert not d.SetBarcodeInhibit(0x10)
        assert d.PayoutbyDenomination([1]) == DTRR.NOT_SUPPORTED  # a validator cannot pay out
    assert seen == []  # every bad call was refused before the wire
    assert "not in the dataset" in caplog.text
    with wire(emu) as seen:  # the same check sees a good call
        assert d.SetDenominationInhibit(0, True)
    assert [data[0] for data in seen] == [0x02]


def test_multi_currency_single_currency_methods(emulators: Make, devices: Make) -> None:
    _emu, d, _ = opened(emulators, devices, "SPECTRAL_PAYOUT", currency="EUR,GBP")
    assert d.isMultiCurrency
    assert not d.SetDenominationInhibitSingleCurrency(500, True)
    assert d.DispenseValueSingleCurrency(500) == DTRR.MULTI_CURRENCY_MODE
    assert d.SetDenominationRouteSingleCurrency(500, DenominationRoute.CASHBOX) == SDRRR.MULTI_CURRENCY_MODE
    gbp = next(c for c in d.currencyAssignment if c.CountryCode == "GBP")
    assert d.SetDenominationInhibit(gbp.ValueCountryCode, True)


def test_routes(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices)
    finished: list[Any] = []
    d.SetDenominationRouteFinishedEvent.connect(lambda s, e: finished.append(e))
    first = d.currencyAssignment[0]
    assert d.SetDenominationRoute(first.ValueCountryCode, DenominationRoute.CASHBOX) == SDRRR.OK
    assert d.currencyAssignment[0].AcceptRoute == DenominationRoute.CASHBOX
    assert finished[-1].result is True
    assert emu.insert_note(first.Value, wait=5)
    rec.wait_cash("STACKED")  # not STORED: it went to the cashbox
    assert d.SetDenominationRoute(0, DenominationRoute.PAYOUT) == SDRRR.OK
    assert d.currencyAssignment[0].AcceptRoute == DenominationRoute.PAYOUT
    assert emu.insert_note(first.Value, wait=5)
    rec.wait_cash("STORED")
    assert d.SetDenominationRouteSingleCurrency(first.Value, DenominationRoute.RECYCLER) == SDRRR.OK
    assert d.SetDenominationRoute(0, DenominationRoute.RECYCLER_2) == SDRRR.NOT_SUPPORTED
    assert d.SetDenominationRoute(VCC(1, "EUR"), DenominationRoute.CASHBOX) == SDRRR.INVALID_INPUT
    assert d.SetDenominationRoute(42, DenominationRoute.CASHBOX) == SDRRR.INVALID_INPUT
    assert d.SetDenominationRoute(0, 99) == SDRRR.INVALID_INPUT  # type: ignore[call-overload]


def test_routes_not_supported_without_recycler(emulators: Make, devices: Make) -> None:
    _emu, d, _ = opened(emulators, devices, "NOTE_VALIDATOR")
    assert d.SetDenominationRoute(0, DenominationRoute.CASHBOX) == SDRRR.NOT_SUPPORTED
    assert d.DispenseValue(VCC(500, "EUR")) == DTRR.NOT_SUPPORTED
    assert not d.GetAllLevels()


def test_a_credits_handler_sees_the_new_level_and_a_refresh_there_is_not_counted_twice(
    emulators: Make, devices: Make
) -> None:
    """C# handlers read the levels where a note is reported.  In the STORED handler the stored value
    already counts that note; a handler that also reads the levels from the device (GetAllLevels)
    leaves them as the device says, not with the note added a second time; STACKED counts the note
    in StoredInCashbox before its handler runs.  The host's levels end equal to the emulator's."""
    emu, d, rec = opened(emulators, devices)
    assert d.SetDenominationRoute(VCC(2000, "EUR"), DenominationRoute.CASHBOX) == SDRRR.OK
    seen: list[tuple[str, int, int, int]] = []  # (event, value, stored value, notes in the cashbox)

    def on_cash(sender: CashDevice, e: Any) -> None:
        kind = e.eventType.name
        if kind in ("STORED", "STACKED"):
            cashbox = sum(entry.StoredInCashbox for entry in sender.currencyAssignment)
            seen.append((kind, e.value, sender.GetStoredValue("EUR"), cashbox))
            if e.value == 1000:
                assert sender.GetAllLevels()  # the device's own count, from inside the handler

    d.CashEvent += on_cash
    for n, value in enumerate((500, 1000, 500, 2000), 1):
        assert emu.insert_note(value, wait=5)
        rec.wait_for(lambda n=n: len(seen) == n, what=f"credit {n}")
    assert seen == [
        ("STORED", 500, 500, 0),
        ("STORED", 1000, 1500, 0),
        ("STORED", 500, 2000, 0),
        ("STACKED", 2000, 2000, 1),
    ]
    assert d.GetStoredValue("EUR") == 2000  # the cached levels, after the refresh in the handler
    assert d.GetAllLevels() and d.GetStoredValue("EUR") == 2000  # and the device agrees
    assert emu.ledger.credited_total() == 4000
    emu.ledger.check()


def test_a_note_a_failed_payout_moves_to_the_cashbox_is_counted_before_its_event(
    emulators: Make, devices: Make
) -> None:
    """The first note of a payout fails on its way out and goes to the cashbox (ERROR DURING
    PAYOUT, NOTE TRANSFERRED TO STACKER): the CashEvent MOVED_TO_CASHBOX handler already sees it
    in StoredInCashbox, and the count is the emulator's."""
    emu, d, rec = opened(emulators, devices, levels={500: 3}, auto_take=0.05)
    seen: list[tuple[int, int]] = []  # (value moved, StoredInCashbox of 5.00 in the handler)

    def on_cash(sender: CashDevice, e: Any) -> None:
        if e.eventType.name == "MOVED_TO_CASHBOX":
            fives = next(x.StoredInCashbox for x in sender.currencyAssignment if x.Value == 500)
            seen.append((e.value, fives))

    d.CashEvent += on_cash
    emu.payout_error(1)  # jammed in transport
    assert d.DispenseValue(VCC(1000, "EUR")) == DTRR.OK
    rec.wait_for(lambda: bool(seen), what="MOVED_TO_CASHBOX")
    rec.wait_for(
        lambda: any(e.state.name in ("COMPLETED", "ERROR") for e in rec.of("DispenserTransactionEvent")),
        what="the payout's end",
    )
    assert seen == [(500, 1)]
    assert sum(emu.cashbox.values()) == 1
    assert emu.ledger.dispensed_total() == 0
    emu.ledger.check()


def test_dispense_value_events_and_ledger(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices, levels={500: 3, 1000: 2}, auto_take=0.05)
    assert d.GetAllLevels() and d.lastGetLevelsSuccessful
    assert d.GetStoredValue("EUR") == 3500
    assert d.DispenseValue(VCC(1500, "EUR")) == DTRR.OK
    rec.wait_for(
        lambda: any(e.state.name == "COMPLETED" for e in rec.of("DispenserTransactionEvent")),
        what="completed",
    )
    tx = [(e.state.name, e.transactionType.name) for e in rec.of("DispenserTransactionEvent")]
    assert tx == [("IN_PROGRESS", "PAYOUT"), ("COMPLETED", "PAYOUT")]
    cash = rec.cash()
    assert cash[-1] == ("DISPENSED", 1500, "EUR")
    assert all(c[0] in ("DISPENSING", "NOTE_IN_BEZEL_HOLD", "DISPENSED") for c in cash)
    rec.wait_for(lambda: d.GetStoredValue("EUR") == 2000, what="levels refreshed")
    assert emu.ledger.dispensed_total() == 1500
    assert d.DispenseValueSingleCurrency(700) == DTRR.CANNOT_PAY_EXACT_AMOUNT
    assert d.DispenseValue(VCC(50000, "EUR")) == DTRR.NOT_ENOUGH_VALUE
    assert d.DispenseValue(VCC(500, "USD")) == DTRR.INVALID_INPUT
    assert d.DispenseValue(VCC(0, "EUR")) == DTRR.INVALID_INPUT
    assert emu.ledger.dispensed_total() == 1500  # the refused ones moved nothing


def test_count_arrays_may_end_with_zeros_beyond_the_channels_as_in_the_seeds_examples(
    emulators: Make, devices: Make
) -> None:
    """The seed's PayoutbyDenomination example gives [0, 2, 1, 0, 0, 0] for five USD notes (L11992),
    its SetCashBoxPayoutLimit one [100, 50, 0, 10, 0, 0] (L12070): a literal port passes one count
    more than the dataset has channels.  Zeros there ask for nothing and are ignored; anything else
    there names no denomination and is refused, with nothing sent."""
    emu, d, rec = opened(emulators, devices, levels={500: 4, 1000: 3, 2000: 2}, auto_take=0.05)
    channels = len(d.currencyAssignment)
    with wire(emu) as seen:
        assert d.PayoutbyDenomination([0] * channels + [1]) == DTRR.INVALID_INPUT
        assert d.PayoutbyDenomination([1] * (channels - 1)) == DTRR.INVALID_INPUT
    assert seen == []
    counts = [0] * channels + [0]
    counts[1] = 2  # two 10 EUR notes
    assert d.PayoutbyDenomination(counts) == DTRR.OK
    rec.wait_for(
        lambda: any(e.state.name == "COMPLETED" for e in rec.of("DispenserTransactionEvent")), what="payout"
    )
    assert emu.ledger.dispensed_total() == 2000


def test_float_on_an_nv11_is_not_supported_and_sends_nothing(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    """GA138's NV11 command table has no float command.  The emulated NV11 (like the first round's
    host) took FLOAT BY DENOMINATION, moved the notes with no FLOATING events, and the host then
    reported the float COMPLETED, 0 moved, while the notes were still going to the cashbox."""
    emu, d, rec = opened(emulators, devices, "NV11", levels={500: 1, 1000: 1})
    with wire(emu) as seen:
        assert d.Float([0] * len(d.currencyAssignment)) == DTRR.NOT_SUPPORTED
    assert seen == [] and not rec.of("DispenserTransactionEvent")
    assert any("NV11 has no float command" in r.getMessage() for r in caplog.records)
    # the emulated NV11 answers the float commands as GA138's NV11 would: COMMAND NOT KNOWN
    assert d._send("FLOAT_BY_DENOMINATION", [(0, 500, "EUR")], 0x19)[0] == 0xF2
    assert emu.ledger.total("floated") == 0


def test_payout_by_denomination_float_and_empty(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices, levels={500: 4, 1000: 3, 2000: 2}, auto_take=0.05)

    def done(n):
        return lambda: sum(e.state.name != "IN_PROGRESS" for e in rec.of("DispenserTransactionEvent")) >= n

    assert d.PayoutByDenomination(VCC(1000, "EUR"), 2) == DTRR.OK
    rec.wait_for(done(1), what="payout by denomination")
    assert emu.ledger.dispensed_total() == 2000
    counts = [0] * len(d.currencyAssignment)
    counts[0] = 1
    assert d.PayoutByDenomination(counts) == DTRR.OK  # the array overload
    rec.wait_for(done(2), what="array payout")
    assert emu.ledger.dispensed_total() == 2500
    assert d.PayoutbyDenomination([0] * len(counts)) == DTRR.INVALID_INPUT
    assert d.PayoutbyDenomination([1]) == DTRR.INVALID_INPUT
    # Float: keep 1 of each, the rest to the cashbox
    assert d.Float([1] * len(counts)) == DTRR.OK
    rec.wait_for(done(3), what="float")
    d.GetAllLevels()
    assert all(c.Stored <= 1 for c in d.currencyAssignment)
    assert [
        e.transactionType.name for e in rec.of("DispenserTransactionEvent") if e.state.name != "IN_PROGRESS"
    ] == [
        "PAYOUT_BY_DENOMINATION",
        "PAYOUT_BY_DENOMINATION",
        "FLOAT",
    ]
    assert d.SmartEmpty(0) == DTRR.OK
    rec.wait_for(done(4), what="smart empty")
    d.GetAllLevels()
    assert d.GetStoredValue("EUR") == 0
    assert emu.ledger.balanced()


def test_busy_and_disabled_payout(emulators: Make, devices: Make) -> None:
    _emu, d, rec = opened(emulators, devices, levels={500: 5}, payout_step=0.5)
    assert d.DispenseValue(VCC(1500, "EUR")) == DTRR.OK
    assert d.DispenseValue(VCC(500, "EUR")) == DTRR.BUSY
    assert d.SetDenominationRoute(0, DenominationRoute.CASHBOX) == SDRRR.BUSY
    assert d.HaltPayout()
    rec.wait_for(
        lambda: any(e.state.name == "ERROR" for e in rec.of("DispenserTransactionEvent")), what="halt"
    )
    assert d.DisablePayout() and not d.payoutEnabled
    assert d.DispenseValue(VCC(500, "EUR")) == DTRR.BUSY  # F5 04: payout disabled
    assert d.EnablePayout() and d.payoutEnabled
    assert not d.EnablePayoutDevice(300)


def test_counters_reset_custom_command(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices)
    assert emu.insert_note(500, wait=5)
    rec.wait_cash("STORED")
    assert d.GetCounters()
    lines = d.counters_string.splitlines()
    assert lines[0] == "Number of counters in set: 5"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "Stacked",
        "Stored",
        "Dispensed",
        "Transferred to stack",
        "Rejected",
    ]
    assert "Stored: 1" in lines and d.counters_string.endswith("\n")
    assert d.SendCustomCommand(b"\x20", 1) and d.lastCustomCommandResponse[1:].decode() == d.firmware
    assert not d.SendCustomCommand(b"\x20", 0)
    assert not d.SendCustomCommand(b"\x20", 2)
    assert not d.SendCustomCommand(None, 1)
    assert d.ResetDevice()
    rec.wait_for(
        lambda: rec.states().count("CONNECTED") >= 2 and rec.states()[-1] == "IDLE", what="re-established"
    )


def test_unpublished_commands_refused_by_default(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    _emu, d, _ = opened(emulators, devices, "NV4000")
    assert d.Replenish(5) == DTRR.NOT_SUPPORTED
    assert not d.ExtendedGetFirmwareVersion()
    assert "ITL has not published" in caplog.text
    assert d.Replenish(0) == DTRR.NOT_SUPPORTED  # its only documented failure (L12426)


def test_barcode_configuration_inhibit_and_ticket(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices)
    assert d.GetBarcodeReaderConfiguration()
    assert (d.barCodeHardwareStatus, d.readersEnabled) == ("Both fitted", "None")
    assert d.GetBarcodeInhibit()
    assert d.barCodeInhibit == "Barcode Disabled and Currency Enabled (Default)"
    assert not emu.insert_ticket("123456789012345678")  # barcode reading is off
    assert d.SetBarcodeReaderConfiguration(3, 1, 18)
    assert d.SetBarcodeInhibit(0xFC)
    assert d.GetBarcodeReaderConfiguration()
    assert (d.readersEnabled, d.barCodeFormat, d.numberOfCharacters) == ("Both", "Interleaved 2 of 5", "18")
    assert d.GetBarcodeInhibit() and d.barCodeInhibit == "Both Currency and Barcode Enabled"
    assert emu.insert_ticket("123456789012345678")
    rec.wait_state("BAR_CODE_TICKET_VALIDATED")
    rec.wait_state("BAR_CODE_TICKET_ACKNOWLEDGE")
    assert d.GetBarcodeData()
    assert (d.ticketStatus, d.barcode_ascii_data) == ("Ticket stacked", "123456789012345678")
    # bad input: nothing sent, False
    assert not d.SetBarcodeReaderConfiguration(4, 1, 18)
    assert not d.SetBarcodeReaderConfiguration(3, 1, 5)
    assert not d.SetBarcodeInhibit(0x10)
    assert emu.ledger.credited_total() == 0  # tickets are not money


def test_refill_mode(emulators: Make, devices: Make) -> None:
    emu, d, _ = opened(emulators, devices)
    d.RefillMode(True)
    assert emu.device.refill_mode == 1
    d.RefillMode(False)
    assert emu.device.refill_mode == 0


def test_payout_cut_by_a_power_cycle(emulators: Make, devices: Make) -> None:
    emu, d, rec = opened(emulators, devices, levels={500: 4}, payout_step=0.3, auto_take=0.05)
    assert d.DispenseValue(VCC(2000, "EUR")) == DTRR.OK
    rec.wait_for(
        lambda: any(
            c[0] == "NOTE_IN_BEZEL_HOLD" or (c[0] == "DISPENSING" and c[1] >= 500) for c in rec.cash()
        ),
        what="first note on its way out",
    )
    emu.power_cycle()
    rec.wait_cash("INCOMPLETE_PAYOUT", timeout=15)
    incomplete = next(e for e in rec.of("CashEvent") if e.eventType.name == "INCOMPLETE_PAYOUT")
    assert incomplete.value2 == 2000 and 0 <= incomplete.value < 2000  # paid so far, requested
    rec.wait_for(
        lambda: [e.state.name for e in rec.of("DispenserTransactionEvent")] == ["IN_PROGRESS", "ERROR"],
        what="transaction ended in ERROR",
    )
    rec.wait_for(lambda: rec.states()[-1] == "IDLE", what="session back")
    assert d.GetAllLevels()
    assert emu.ledger.balanced()
    ledger = emu.ledger
    assert ledger.dispensed_total() == incomplete.value
    # a note caught in the bezel by the power cut is moved to the cashbox and reported as such
    cleared = ledger.count("cleared")
    assert [c for c in rec.cash() if c[0] == "NOTE_CLEARED_TO_CASHBOX"] == [
        ("NOTE_CLEARED_TO_CASHBOX", 500, "EUR")
    ] * cleared
    assert d.GetStoredValue("EUR") == 2000 - incomplete.value - 500 * cleared
    assert d.DispenseValue(VCC(500, "EUR")) == DTRR.OK  # no longer busy


def test_route_and_payout_before_open(devices: Make) -> None:
    """Before Open: routes INVALID_INPUT ("CashDevice objects have not been initialised", L12153),
    payouts BUSY ("not able to pay-out", L11928)."""
    d = devices()
    assert d.SetDenominationRoute(0, DenominationRoute.CASHBOX) == SDRRR.INVALID_INPUT
    assert d.SetDenominationRouteSingleCurrency(500, DenominationRoute.CASHBOX) == SDRRR.INVALID_INPUT
    assert d.DispenseValue(VCC(500, "EUR")) == DTRR.BUSY


def test_nv4000_routes_to_each_recycler(
    emulators: Make, devices: Make, caplog: pytest.LogCaptureFixture
) -> None:
    """The NV4000 module route bytes are unpublished: refused by default, sent when enabled."""
    emu, d, rec = opened(emulators, devices, "NV4000")
    assert d.SetDenominationRoute(0, DenominationRoute.RECYCLER_1) == SDRRR.NOT_SUPPORTED
    assert "NV4000_SET_DENOMINATION_ROUTE" in caplog.text and "ITL has not published" in caplog.text
    assert d.currencyAssignment[0].AcceptRoute != DenominationRoute.RECYCLER_1
    d.Close()
    enabled = devices(allow_unverified=True)
    rec = Recorder(enabled)
    assert enabled.Open(emu.url, 0, DeviceModel.NV4000) == CashSystemOpenResult.OK
    rec.wait_state("IDLE")
    for index, route in enumerate(
        (
            DenominationRoute.RECYCLER_1,
            DenominationRoute.RECYCLER_2,
            DenominationRoute.RECYCLER_3,
            DenominationRoute.RECYCLER_4,
        )
    ):
        assert enabled.SetDenominationRoute(index, route) == SDRRR.OK
        assert enabled.currencyAssignment[index].AcceptRoute == route
    # the emulator models the four modules as one pool: a note routed to a recycler is stored
    assert emu.insert_note(enabled.currencyAssignment[2].Value, wait=5)
    rec.wait_cash("STORED")
    # the replenishment cassette is not emulated: the emulator refuses route byte 6 (F4)
    assert enabled.SetDenominationRoute(0, DenominationRoute.REPLENISHMENT_CASSETTE) == SDRRR.INVALID_INPUT


def test_nv4000_replenish_and_rc_mode(emulators: Make, devices: Make) -> None:
    """Replenish / GetRCMode / ReplenishEvent on the unverified rows and event codes (allow_unverified)."""
    emu = emulators("NV4000")
    emu.load_cassette(1000, 3)
    d = devices(allow_unverified=True)
    rec = Recorder(d)
    replenish: list[Any] = []
    d.ReplenishEvent.connect(lambda s, e: replenish.append(e))
    assert d.Open(emu.url, 0, DeviceModel.NV4000) == CashSystemOpenResult.OK
    rec.wait_state("IDLE")
    assert d.GetRCMode() and d.RC_CurrentMode.name == "RC_MODE_REPLENISH"
    # the seed lists NOT_SUPPORTED and OK only (L12426): the cause is in the log
    assert d.Replenish(5) == DTRR.NOT_SUPPORTED  # only 3 notes in the cassette
    assert d.Replenish(2) == DTRR.OK
    assert d.Replenish(1) == DTRR.NOT_SUPPORTED  # busy replenishing
    rec.wait_for(
        lambda: [e.state.name for e in rec.of("DispenserTransactionEvent")] == ["IN_PROGRESS", "COMPLETED"],
        what="replenish completed",
    )
    assert [e.transactionType.name for e in rec.of("DispenserTransactionEvent")] == ["REPLENISH"] * 2
    assert [(e.eventType.name, e.value, e.countryCode) for e in replenish] == [
        ("REPLENISH_STORED", 1000, "EUR")
    ] * 2
    assert "REPLENISHING" in rec.states()
    rec.wait_for(lambda: d.GetStoredValue("EUR") == 2000, what="levels refreshed")
    assert emu.ledger.balanced()
    emu.remove_cassette()
    rec.wait_for(
        lambda: replenish[-1].eventType.name == "REPLENISH_CASSETTE_REMOVED", what="cassette removed"
    )
    assert d.Replenish(1) == DTRR.NOT_SUPPORTED  # no cassette
