"""A note-recycler kiosk: take notes until the price is paid, then pay the change.

python examples/kiosk.py                          # an emulated Spectral Payout, scripted customer
python examples/kiosk.py --port /dev/ttyACM0      # a real recycler: insert notes yourself
"""

from __future__ import annotations

import sys

from example_support import close_device, open_device, parser, run

from cashdevice import DispenseTransactionRequestResult, ValueCountryCode


def main() -> int:
    p = parser(__doc__, "SPECTRAL_PAYOUT", payout=True)
    p.add_argument("--price", type=int, default=1500, help="price in minor units (default 1500)")
    p.add_argument("--notes", default="1000,2000", help="emulator: the customer's notes (default 1000,2000)")
    p.add_argument("--timeout", type=float, default=120, help="seconds to wait for payment")
    args = p.parse_args()
    device, emulator, events = open_device(args, levels={500: 10, 1000: 5}, auto_take=0.2)
    say = events.say
    try:
        currency = device.currencyAssignment[0].CountryCode
        say(f"Price: {args.price} {currency}. Please insert notes.")
        if emulator is not None:  # the scripted customer
            for value in (int(v) for v in args.notes.split(",")):
                if events.paid() >= args.price:
                    break
                say(f"(customer inserts {value})")
                before = events.paid()
                emulator.insert_note(value, wait=30)
                events.wait_for(lambda before=before: events.paid() > before, 30)
        if not events.wait_for(lambda: events.paid() >= args.price, args.timeout):
            say(f"not paid: {events.paid()} of {args.price}")
            return 1
        change = events.paid() - args.price
        say(f"Paid {events.paid()} {currency}; change {change}")
        if change:
            result = device.DispenseValue(ValueCountryCode(change, currency))
            say(f"DispenseValue({change} {currency}) -> {result.name}")
            if result != DispenseTransactionRequestResult.OK:
                say(f"cannot pay the change of {change} {currency}: call staff")
                return 1
            if not events.wait_for(events.finished, 60):
                say("payout did not finish")
                return 1
        say("Thank you.")
        return 0
    finally:
        close_device(device, emulator, events)


if __name__ == "__main__":
    sys.exit(run(main))
