"""Many devices in one process: one PollGroup polls them all while they are idle.

python examples/many_devices.py                                   # 20 emulated SPECTRAL_PAYOUTs on ptys
python examples/many_devices.py --count 200                       # more
python examples/many_devices.py --ports /dev/ttyACM0,/dev/ttyACM1   # real devices: insert the notes

Each device still reports its own events on its own thread; the group only sends the idle polls
(one thread, one ``poll()`` for all of them).  Only ports with a POSIX descriptor are lent to a
group (serial devices, the emulator's pty); elsewhere a device polls from its own thread.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from example_support import FAST, parser, run, wait_until

from cashdevice import CashDevice, CashEventType, CashSystemOpenResult, DeviceModel, PollGroup
from cashdevice.emulator import MODELS, Emulator

CREDITS = (CashEventType.STORED, CashEventType.STACKED)


def main() -> int:
    p = parser(__doc__, "SPECTRAL_PAYOUT")
    p.add_argument("--ports", help="real devices' ports, comma-separated (default: emulators)")
    p.add_argument("--count", type=int, default=20, help="emulator: how many devices (default 20)")
    p.add_argument("--seconds", type=float, default=60, help="seconds to wait for the credits")
    args = p.parse_args()
    model: DeviceModel = MODELS[args.model].facts.model  # (the emulator's SMART_PAYOUT: SPECTRAL_DEVICE)
    emulators: list[Emulator] = []
    ports = args.ports.split(",") if args.ports else ([args.port] if args.port else [])
    if not ports:
        for _ in range(args.count):
            emulators.append(Emulator(args.model, currency=args.currency, **(FAST if args.fast else {})))
        ports = [emu.start_pty() for emu in emulators]
    address = args.address if args.address is not None else MODELS[args.model].facts.address

    group = PollGroup()
    credited: dict[int, int] = {}
    done = threading.Condition()

    def on_cash(index: int) -> Any:
        def receive(sender: Any, e: Any) -> None:
            if e.eventType in CREDITS:
                with done:
                    credited[index] = credited.get(index, 0) + e.value
                    done.notify_all()

        return receive

    devices = []
    try:
        for index, port in enumerate(ports):
            device = CashDevice(poll_group=group)
            device.CashEvent += on_cash(index)
            devices.append(device)
            if device.Open(port, address, model) != CashSystemOpenResult.OK:
                print(f"Open({port!r}) failed", flush=True)
                return 1
        print(f"{len(devices)} devices open; the group polls them while idle", flush=True)
        deadline = time.monotonic() + 2
        while group.lent < len(devices) and time.monotonic() < deadline:
            time.sleep(0.05)  # the first quiet polls, then each device is lent
        print(f"lent to the group: {group.lent} of {len(devices)}", flush=True)
        if emulators:
            for emu in emulators:  # a customer at every device
                emu.insert_note(1000)
        else:
            print("insert a note into every device", flush=True)
        wait_until(done, lambda: len(credited) == len(devices), args.seconds)
        print(f"credited: {len(credited)} of {len(devices)} devices, {sum(credited.values())} in all")
        c = group.counters
        print(
            f"group: {c.polls} polls, {c.quiet} quiet, {c.steps} repeating a note's step,"
            f" {c.handed} replies handed over,"
            f" {c.late} late (> 20 ms; the longest {c.max_lag * 1e3:.0f} ms)",
            flush=True,
        )
        return 0 if len(credited) == len(devices) else 1
    finally:
        for device in devices:
            device.Close()
        if emulators:
            print(f"emulator ledger balanced: {all(emu.ledger.balanced() for emu in emulators)}")
        for emu in emulators:
            emu.stop()


if __name__ == "__main__":
    sys.exit(run(main))
