"""GA973's event flows a real unit shows (power-up note events in the poll after SLAVE RESET, a
FRAUD ATTEMPT while stacking, an NV11 STACK NOTE, a payout error's transfer to the stacker), which
the emulator did not show before (found by a third probe of the manuals); each test names the
manual's text and compares the host's CashEvents and levels with the emulator's ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from device_helpers import Recorder, open_emulated

Make = Callable[..., Any]

CREDITS = ("STACKED", "STORED", "COIN_CREDIT", "NOTE_CLEARED_TO_CASHBOX")


def _credit_now(emu: Any) -> None:
    """Under the emulator's lock: the note on its way passes its credit point now (CREDIT queued)."""
    note = emu.device.note
    assert note is not None and note.stage == "stacking"
    note.due = 0.0
    emu.device.tick(emu.device.clock())
    assert note.credited


def _cut_after_credit(emu: Any, rec: Recorder) -> None:
    """A note is credited (the host sees its CREDIT), then the power goes before it lands."""
    assert emu.insert_note(1000, wait=5)
    assert emu.wait_for(lambda e: e.device.note is not None and e.device.note.stage == "stacking", 10)
    with emu._lock:
        _credit_now(emu)
        emu.device.note.due = emu.device.clock() + 3600.0  # (it would land only much later)
    rec.wait_for(lambda: rec.states()[-1] == "ACCEPTING" and rec_saw_credit(emu), what="CREDIT taken")
    emu.power_cycle()
    rec.wait_for(lambda: rec.states().count("CONNECTED") >= 2, timeout=15, what="reconnected")
    rec.wait_for(lambda: rec.states()[-1] in ("IDLE", "DISABLED"), timeout=15, what="running again")
    start = emu.exchanges
    assert emu.wait_for(lambda e: e.exchanges >= start + 20, 15)


def rec_saw_credit(emu: Any) -> bool:
    """The unit's CREDIT has left it (reported and acknowledged)."""
    with emu._lock:
        return not any(p.event.code == 0xEE for p in emu.device.pending)


def test_a_credited_note_stored_at_power_up_reported_in_the_next_poll_is_credited_once(
    emulators: Make, devices: Make
) -> None:
    """GA973 "Power removed during payout": after the start-up routine the first poll is ``F1 DC
    ... E8`` (SLAVE RESET, INCOMPLETE PAYOUT), the note the unit moved at power-up comes in the
    NEXT poll (``CA E8030000 EUR``; ``E2 00``).  GA138 NOTE INTO STORE AT RESET (0xCB): "a bill
    was moved into the payout storage as part of the power-up procedure".  A note whose CREDIT
    the host saw, stored by the unit at power-up and reported so in the poll after SLAVE RESET:
    one STORED, the level +1."""
    emu, device, rec = open_emulated(emulators, devices, "SPECTRAL_PAYOUT", stack_time=1.0)
    _cut_after_credit(emu, rec)
    assert emu.ledger.credited_total() == 1000
    assert emu.device.store[emu.device.denomination(1000, "EUR")] == 1
    assert [c for c in rec.cash() if c[0] in CREDITS] == [("STORED", 1000, "EUR")]
    assert device.GetAllLevels()
    level = {(e.Value, e.CountryCode): e.Stored for e in device.currencyAssignment}
    assert level[(1000, "EUR")] == 1


def test_a_credited_note_cleared_into_the_cashbox_at_power_up_is_counted_once(
    emulators: Make, devices: Make
) -> None:
    """GA138 NOTE CLEARED INTO CASHBOX (0xE2): "During the device power-up sequence a bill was
    detected as being in the stack path. This bill is then moved into the device cashbox";
    GA973 shows it (``E2 00``) in the poll after the SLAVE RESET poll.  A validator's note whose
    CREDIT the host saw: one STACKED, StoredInCashbox +1, no second cashbox event."""
    emu, device, rec = open_emulated(emulators, devices, "NOTE_VALIDATOR", stack_time=1.0)
    _cut_after_credit(emu, rec)
    d = emu.device.denomination(1000, "EUR")
    assert emu.device.persistent.cashbox.get(d, 0) == 1
    assert emu.ledger.credited_total() == 1000
    assert [c for c in rec.cash() if c[0] in CREDITS] == [("STACKED", 1000, "EUR")]
    box = {(e.Value, e.CountryCode): e.StoredInCashbox for e in device.currencyAssignment}
    assert box[(1000, "EUR")] == 1


def test_a_note_stacked_after_a_fraud_attempt_is_in_stored_in_cashbox_without_a_credit(
    emulators: Make, devices: Make
) -> None:
    """GA973 FRAUD ATTEMPT: "During the note transport and stacking process if the validator detects
    a potential fraud event no credit event will be given, instead 0xEB will be reported"; the flow:
    ``EF 03`` (escrow), POLL (accept), ``CC``, ``E6 03 CC`` (Fraud Ch. 3 & Stacking), then ``EB``.
    The note is stacked, not credited: no credit, one FRAUD_ATTEMPT, and the cashbox count
    (StoredInCashbox) shows the note the cashbox holds."""
    emu, device, rec = open_emulated(emulators, devices, "NOTE_VALIDATOR", stack_time=1.0)
    assert emu.insert_note(1000, wait=5)
    assert emu.wait_for(lambda e: e.device.note is not None and e.device.note.stage == "stacking", 10)
    with emu._lock:
        emu.device.note.fraud_stacking = True
    assert emu.wait_for(lambda e: e.device.note is None, 10)
    rec.wait_for(lambda: rec.states()[-1] == "IDLE", what="idle again")
    start = emu.exchanges
    assert emu.wait_for(lambda e: e.exchanges >= start + 10, 10)
    d = emu.device.denomination(1000, "EUR")
    assert emu.device.persistent.cashbox.get(d, 0) == 1
    assert emu.ledger.credited_total() == 0
    assert [c for c in rec.cash() if c[0] in CREDITS] == []
    assert [c for c in rec.cash() if c[0] == "FRAUD_ATTEMPT"] == [("FRAUD_ATTEMPT", 1000, "EUR")]
    box = {(e.Value, e.CountryCode): e.StoredInCashbox for e in device.currencyAssignment}
    assert box[(1000, "EUR")] == 1


def _levels(device: Any) -> dict[int, tuple[int, int]]:
    return {
        e.Value: (e.Stored, e.StoredInCashbox) for e in device.currencyAssignment if e.Value in (500, 1000)
    }


def test_an_nv11_stack_note_leaves_the_host_levels_true(emulators: Make, devices: Make) -> None:
    """GA973 NV11 "Stacking notes": ``Stack Note [43]`` -> ``CC E8`` ... ``C9 01 F4010000 EUR``
    (Note Transferred to Stacker, 5.00), then Get Note Positions lists one note fewer.  GA138 NOTE
    TRANSFERRED TO STACKER: "a note has been moved from the payout storage to the stacker".  The
    host's levels (Stored, StoredInCashbox) after it are what the unit holds."""
    emu, device, rec = open_emulated(emulators, devices, "NV11", levels={500: 1, 1000: 1})
    assert device.GetAllLevels()
    top = emu.device.persistent.float_order[-1]
    before = _levels(device)
    assert device.SendCustomCommand(bytes((0x43,)), 1)  # STACK NOTE: the last note stored goes
    rec.wait_cash("MOVED_TO_CASHBOX")
    start = emu.exchanges
    assert emu.wait_for(lambda e: e.exchanges >= start + 5, 10)
    after = _levels(device)
    assert after[top.value] == (before[top.value][0] - 1, before[top.value][1] + 1)
    assert emu.device.store.get(top, 0) == before[top.value][0] - 1


def test_a_note_transferred_to_the_stacker_by_a_payout_error_leaves_the_host_levels_true(
    emulators: Make, devices: Make
) -> None:
    """ERROR DURING PAYOUT, then NOTE TRANSFERRED TO STACKER in the same reply (GA973, "Note transport
    error during dispense"): the payout's end reads the levels while that reply is handled, so they
    already count the note that went to the cashbox; the transfer that follows is not taken off
    the level a second time."""
    from cashdevice import ValueCountryCode
    from cashdevice.enums import DispenseTransactionRequestResult as DTRR

    emu, device, rec = open_emulated(
        emulators, devices, "SPECTRAL_PAYOUT", levels={500: 10}, auto_take=0.0, payout_step=0.1
    )
    assert device.DispenseValue(ValueCountryCode(1500, "EUR")) == DTRR.OK
    assert emu.wait_for(lambda e: e.ledger.dispensed_total() >= 500, 10)
    emu.payout_error(1)
    rec.wait_for(lambda: any(c[0] == "MOVED_TO_CASHBOX" for c in rec.cash()), timeout=10, what="transfer")
    start = emu.exchanges
    assert emu.wait_for(lambda e: e.exchanges >= start + 5, 10)
    unit = {d.value: n for d, n in emu.levels.items()}
    assert {e.Value: e.Stored for e in device.currencyAssignment if e.Value in unit} == unit
