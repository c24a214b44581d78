"""A bench test of a note recycler: open, print every variable, set routes, float, empty.

    python examples/bench_test.py                        # an emulated Spectral Payout
    python examples/bench_test.py --port /dev/ttyACM0    # a real recycler (moves its notes!)

Steps: Open; every read-only variable (GetCompleteCashDevice); route the lowest note to the
cashbox and back to the payout (SetDenominationRoute, confirmed by the device); Float leaving
``--keep`` of each note in the payout; SmartEmpty (everything to the cashbox); the levels after
each step.  Exit 0 when every step succeeded (a step the model has no command for, such as
Float on an NV11, is skipped).
"""

from __future__ import annotations

import json
import sys

from example_support import close_device, open_device, parser, run

from cashdevice import CashDevice, DenominationRoute, DispenseTransactionRequestResult


def levels(device: CashDevice) -> str:
    device.GetAllLevels()
    return ", ".join(f"{e.Value}:{e.Stored}/{e.StoredInCashbox}" for e in device.currencyAssignment)


def main() -> int:
    p = parser(__doc__, "SPECTRAL_PAYOUT", payout=True)
    p.add_argument("--keep", type=int, default=1, help="notes of each value left in the payout by Float")
    args = p.parse_args()
    device, emulator, events = open_device(args, levels={500: 4, 1000: 3, 2000: 2})
    say = events.say
    failures = 0
    try:
        say("-- every variable (GetCompleteCashDevice)")
        for name, value in device.GetCompleteCashDevice().items():
            say(f"{name} = {json.dumps(value)}")
        say(f"-- levels (value:payout/cashbox): {levels(device)}")

        lowest = device.currencyAssignment[0]
        for route in (DenominationRoute.CASHBOX, DenominationRoute.PAYOUT):
            result = device.SetDenominationRoute(lowest.ValueCountryCode, route)
            now = device.currencyAssignment[0].AcceptRoute
            say(
                f"-- SetDenominationRoute({lowest.Value} {lowest.CountryCode}, {route.name})"
                f" -> {result.name}; route now {now.name}"
            )
            failures += now != route

        for step, call in (
            ("Float", lambda: device.Float([args.keep] * len(device.currencyAssignment))),
            ("SmartEmpty", lambda: device.SmartEmpty(0)),
        ):
            done = len(events.log)
            result = call()
            say(f"-- {step} -> {result.name}")
            if result == DispenseTransactionRequestResult.NOT_SUPPORTED:
                say("   (this model has no such command: skipped)")  # an NV11 has no float
                continue
            if result != DispenseTransactionRequestResult.OK:
                failures += 1
                continue

            def finished(done: int = done) -> bool:
                return any(
                    e.state.name != "IN_PROGRESS"
                    for n, e in events.log[done:]
                    if n == "DispenserTransactionEvent"
                )

            failures += not events.wait_for(finished, 120)
            say(f"   levels: {levels(device)}")
        say(f"-- {'PASS' if not failures else f'FAIL ({failures})'}")
        return 1 if failures else 0
    finally:
        close_device(device, emulator, events)


if __name__ == "__main__":
    sys.exit(run(main))
