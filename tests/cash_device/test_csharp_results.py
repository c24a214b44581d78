"""Issue 12 item 5: every method returning DispenseTransactionRequestResult or
SetDenominationRouteRequestResult returns only what its C# section lists (seed lines below), driven
into its failure paths against the emulator: wrong model, empty store, busy, bad denominations, and
every answer a device can give to its command."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from device_helpers import Recorder, open_emulated

from cashdevice import (
    CashDevice,
    CashSystemOpenResult,
    DenominationRoute,
    DeviceModel,
    DispenseTransactionRequestResult,
    SetDenominationRouteRequestResult,
    ValueCountryCode,
)
from cashdevice.emulator import Emulator

Make = Callable[..., Any]
DTRR = DispenseTransactionRequestResult
SDRRR = SetDenominationRouteRequestResult
VCC = ValueCountryCode
R = DenominationRoute

_PAY = {DTRR.NOT_SUPPORTED, DTRR.BUSY, DTRR.INVALID_INPUT, DTRR.NOT_ENOUGH_VALUE, DTRR.OK}
# Each method's "Returns" list in the seed's C# chapter.
SEED: dict[str, set[Any]] = {
    "DispenseValueSingleCurrency": _PAY | {DTRR.CANNOT_PAY_EXACT_AMOUNT, DTRR.MULTI_CURRENCY_MODE},  # L11881
    "DispenseValue": _PAY | {DTRR.CANNOT_PAY_EXACT_AMOUNT},  # L11924
    "PayoutByDenomination": {DTRR.BUSY, DTRR.INVALID_INPUT, DTRR.OK},  # L11968, overload (1)
    "PayoutbyDenomination": set(_PAY),  # L11996, overload (2)
    "Float": set(_PAY),  # L12036
    "SetCashBoxPayoutLimit": {DTRR.NOT_SUPPORTED, DTRR.BUSY, DTRR.INVALID_INPUT, DTRR.OK},  # L12074
    "SmartEmpty": {DTRR.NOT_SUPPORTED, DTRR.BUSY, DTRR.OK},  # L12104
    "Replenish": {DTRR.NOT_SUPPORTED, DTRR.OK},  # L12426
    "SetDenominationRouteSingleCurrency": {  # L12141
        SDRRR.MULTI_CURRENCY_MODE,
        SDRRR.NOT_SUPPORTED,
        SDRRR.BUSY,
        SDRRR.INVALID_DEVICE_STATE,
        SDRRR.INVALID_INPUT,
        SDRRR.OK,
    },
    "SetDenominationRoute": {SDRRR.NOT_SUPPORTED, SDRRR.BUSY, SDRRR.INVALID_INPUT, SDRRR.OK},  # L12193
}
# The one listed exception (README "Porting from C#"): overload (1) returns overload (2)'s set.
ALLOWED = dict(SEED, PayoutByDenomination=SEED["PayoutbyDenomination"])

# Every answer a device can give to a command, short of OK (F0) and KEY NOT SET (FA).
ANSWERS = [b"\xf2", b"\xf3", b"\xf4", b"\xf5", *(bytes((0xF5, n)) for n in range(1, 6)), b"\xf6", b"\xf8"]
COMMAND = {
    "DispenseValueSingleCurrency": 0x33,
    "DispenseValue": 0x33,
    "PayoutByDenomination": 0x46,
    "PayoutbyDenomination": 0x46,
    "Float": 0x44,
    "SetCashBoxPayoutLimit": 0x4E,
    "SmartEmpty": 0x52,
    "Replenish": 0x6C,
    "SetDenominationRouteSingleCurrency": 0x3B,
    "SetDenominationRoute": 0x3B,
}


def calls(n: int) -> list[tuple[str, tuple[Any, ...]]]:
    """Good and bad calls of every method (``n`` channels, EUR dataset)."""
    one = [1] + [0] * (n - 1)
    return [
        ("DispenseValueSingleCurrency", (500,)),
        ("DispenseValueSingleCurrency", (30,)),
        ("DispenseValueSingleCurrency", (10**8,)),
        ("DispenseValue", (VCC(500, "EUR"),)),
        ("DispenseValue", (VCC(500, "GBP"),)),
        ("DispenseValue", (VCC(10**8, "EUR"),)),
        ("PayoutByDenomination", (VCC(500, "EUR"), 1)),
        ("PayoutByDenomination", (VCC(500, "EUR"), 0)),
        ("PayoutByDenomination", (VCC(500, "EUR"), 500)),
        ("PayoutByDenomination", (VCC(7, "EUR"), 1)),
        ("PayoutByDenomination", (one,)),
        ("PayoutbyDenomination", (one,)),
        ("PayoutbyDenomination", ([500] * n,)),
        ("PayoutbyDenomination", ([0] * n,)),
        ("Float", ([0] * n,)),
        ("Float", ([1],)),
        ("SetCashBoxPayoutLimit", ([1] * n,)),
        ("SetCashBoxPayoutLimit", ([1],)),
        ("SmartEmpty", (0,)),
        ("SmartEmpty", (0, True)),
        ("SmartEmpty", (2, True)),
        ("Replenish", (1,)),
        ("Replenish", (0,)),
        ("SetDenominationRouteSingleCurrency", (500, R.CASHBOX)),
        ("SetDenominationRouteSingleCurrency", (7, R.CASHBOX)),
        ("SetDenominationRouteSingleCurrency", (500, R.RECYCLER_1)),
        ("SetDenominationRoute", (VCC(500, "EUR"), R.PAYOUT)),
        ("SetDenominationRoute", (0, R.CASHBOX)),
        ("SetDenominationRoute", (99, R.CASHBOX)),
        ("SetDenominationRoute", (VCC(500, "EUR"), R.RECYCLER_2)),
    ]


@contextmanager
def answering(emu: Emulator, command: int, answer: bytes) -> Iterator[None]:
    """The emulated device answers ``command`` with ``answer`` (and does nothing else)."""
    device = emu.device
    original = device.execute

    def execute(data: bytes, encrypted: bool) -> bytes:
        return answer if data[0] == command else original(data, encrypted)

    with emu._lock:
        device.execute = execute  # type: ignore[method-assign]
    try:
        yield
    finally:
        with emu._lock:
            del device.execute


def settle(device: CashDevice, rec: Recorder, before: int) -> None:
    """After an OK payout-type request: wait for its DispenserTransactionEvent end."""
    rec.wait_for(
        lambda: any(
            e.state.name in ("COMPLETED", "ERROR") for e in rec.of("DispenserTransactionEvent")[before:]
        ),
        timeout=20,
        what="transaction end",
    )


def run_all(device: CashDevice, rec: Recorder, seen: dict[str, set[Any]], *, settle_ok: bool = True) -> None:
    for name, args in calls(len(device.currencyAssignment)):
        before = len(rec.of("DispenserTransactionEvent"))
        result = getattr(device, name)(*args)
        seen.setdefault(name, set()).add(result)
        assert result in ALLOWED[name], f"{name}{args} -> {result!r} not in {sorted(ALLOWED[name])}"
        if isinstance(result, DTRR) and result == DTRR.OK and settle_ok:
            settle(device, rec, before)


def opened(
    emulators: Make, devices: Make, model: str, **emu_options: Any
) -> tuple[Emulator, CashDevice, Recorder]:
    emu_options.setdefault("auto_take", 0.05)
    return open_emulated(emulators, devices, model, {"allow_unverified": True}, **emu_options)


@pytest.mark.parametrize("model", ["SPECTRAL_PAYOUT", "NV4000", "NOTE_VALIDATOR"])
def test_every_result_is_documented(emulators: Make, devices: Make, model: str) -> None:
    levels = {500: 3, 1000: 2} if model != "NOTE_VALIDATOR" else None
    emu, device, rec = opened(emulators, devices, model, levels=levels)
    seen: dict[str, set[Any]] = {}
    if model != "NOTE_VALIDATOR":
        # a payout in progress: everything else is BUSY (or the method's nearest documented result)
        assert device.DispenseValue(VCC(500, "EUR")) == DTRR.OK
        run_all(device, rec, seen, settle_ok=False)
        settle(device, rec, 0)
        assert DTRR.BUSY in seen["DispenseValue"] and SDRRR.BUSY in seen["SetDenominationRoute"]
    run_all(device, rec, seen)  # the device's own answers: stored notes, empty store, wrong inputs
    if model == "NOTE_VALIDATOR":
        assert seen["DispenseValue"] >= {DTRR.NOT_SUPPORTED} and seen["SetDenominationRoute"] == {
            SDRRR.NOT_SUPPORTED,
            SDRRR.INVALID_INPUT,
        }
        return
    for answer in ANSWERS:  # every refusal a device can send
        for name, command in COMMAND.items():
            with answering(emu, command, answer):
                for call_name, args in calls(len(device.currencyAssignment)):
                    if call_name == name:
                        result = getattr(device, name)(*args)
                        seen[name].add(result)
                        assert result in ALLOWED[name], f"{name}{args} answered {answer.hex()} -> {result!r}"
    assert seen["Replenish"] <= {DTRR.NOT_SUPPORTED, DTRR.OK}
    assert DTRR.CANNOT_PAY_EXACT_AMOUNT not in seen["PayoutByDenomination"]


def test_multi_currency_and_not_open(emulators: Make, devices: Make) -> None:
    _emu, device, rec = opened(emulators, devices, "SPECTRAL_PAYOUT", currency="EUR,GBP")
    assert device.DispenseValueSingleCurrency(500) == DTRR.MULTI_CURRENCY_MODE
    assert device.SetDenominationRouteSingleCurrency(500, R.CASHBOX) == SDRRR.MULTI_CURRENCY_MODE
    seen: dict[str, set[Any]] = {}
    run_all(device, rec, seen)
    closed = CashDevice()
    for name, args in calls(4):
        result = getattr(closed, name)(*args)
        assert result in SEED[name], f"{name} before Open -> {result!r}"


def test_routes_when_not_initialised_are_invalid_input(emulators: Make, devices: Make) -> None:
    """ "CashDevice objects have not been initialised" -> INVALID_INPUT (L12153, L12199, L12241):
    a device whose SETUP REQUEST lists no channel leaves the dataset empty after Open."""
    emu = emulators("SPECTRAL_PAYOUT")
    device = devices()
    rec = Recorder(device)
    setup = emu.device.execute

    def no_channels(data: bytes, encrypted: bool) -> bytes:
        reply = setup(data, encrypted)
        if data[0] != 0x05:
            return reply
        # SETUP REQUEST (GA138 §6.5): F0, type, firmware 4, country 3, multiplier 3, n, n values,
        # n security, real multiplier 3, protocol, (v6+) n countries, n u32 values; here n = 0
        n = reply[12]
        return reply[:12] + b"\x00" + reply[13 + 2 * n : 17 + 2 * n]

    with emu._lock:
        emu.device.execute = no_channels  # type: ignore[method-assign]
    assert device.Open(emu.url, 0, DeviceModel.SPECTRAL_PAYOUT) == CashSystemOpenResult.OK
    rec.wait_for(lambda: device.isOpen, what="open")
    if device.currencyAssignment:
        pytest.skip("the emulator's SETUP REQUEST layout changed")
    assert device.SetDenominationRoute(VCC(500, "EUR"), R.CASHBOX) == SDRRR.INVALID_INPUT
    assert device.SetDenominationRoute(0, R.CASHBOX) == SDRRR.INVALID_INPUT
    assert device.SetDenominationRouteSingleCurrency(500, R.CASHBOX) == SDRRR.INVALID_INPUT
