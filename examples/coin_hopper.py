"""A coin hopper: take coins, then pay an amount out.

python examples/coin_hopper.py                              # an emulated SMART Hopper (address 16)
python examples/coin_hopper.py --port /dev/ttyACM0 --pay 150 # a real hopper: insert coins yourself
"""

from __future__ import annotations

import sys

from example_support import close_device, open_device, parser, run

from cashdevice import DispenseTransactionRequestResult, ValueCountryCode


def main() -> int:
    p = parser(__doc__, "SMART_HOPPER")
    p.add_argument(
        "--coins", default="100,200,50", help="emulator: the customer's coins (default 100,200,50)"
    )
    p.add_argument("--take", type=int, default=350, help="value to take before paying out (default 350)")
    p.add_argument("--pay", type=int, default=150, help="value to pay out (default 150)")
    p.add_argument("--timeout", type=float, default=120, help="seconds to wait for the coins")
    args = p.parse_args()
    device, emulator, events = open_device(args, levels={50: 10, 100: 10})
    say = events.say
    try:
        currency = device.currencyAssignment[0].CountryCode
        say(f"Insert {args.take} {currency} in coins.")
        if emulator is not None:  # the scripted customer
            for value in (int(v) for v in args.coins.split(",")):
                say(f"(customer drops {value})")
                emulator.insert_coin(value, wait=30)
        if not events.wait_for(lambda: events.paid() >= args.take, args.timeout):
            say(f"took {events.paid()} of {args.take}")
            return 1
        say(f"Took {events.paid()} {currency}")
        device.GetAllLevels()
        say("levels: " + ", ".join(f"{e.Value}x{e.Stored}" for e in device.currencyAssignment))
        result = device.DispenseValue(ValueCountryCode(args.pay, currency))
        say(f"DispenseValue({args.pay} {currency}) -> {result.name}")
        if result != DispenseTransactionRequestResult.OK:
            return 1
        if not events.wait_for(events.finished, 60):
            say("payout did not finish")
            return 1
        device.GetAllLevels()
        say("levels: " + ", ".join(f"{e.Value}x{e.Stored}" for e in device.currencyAssignment))
        return 0
    finally:
        close_device(device, emulator, events)


if __name__ == "__main__":
    sys.exit(run(main))
