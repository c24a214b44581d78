"""The floor for idle CPU: a bare poller, against the same emulator the library's figures use.

    python3 benchmarks/bare_poller.py [--seconds 30] [--interval 0.2] [--short]

Issue 14 measures the library's idle CPU against "a bare poller (raw reads, one AES object, no
event handling)".  This is one: a thread that every ``--interval`` seconds encrypts and decrypts
one block with one pycryptodome AES object, computes two CRCs, discards stale bytes with
``poll(0)``, writes a plain POLL with ``os.write``, waits with ``poll()`` and reads the reply with
``os.read`` — the system calls and the cryptography of an encrypted poll, none of the library.  The
emulated SPECTRAL_PAYOUT runs in another process (benchmarks/emulator_farm.py, pty), as for
``credit_latency.py``; the figure is the thread's own CPU clock over ``--seconds``, as a
percentage of one core.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import threading
import time

from _common import Farm, synced_raw_port, table
from Crypto.Cipher import AES

from cashdevice.ssp import crc16_python, encode_packet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=0.2, help="poll interval (s)")
    parser.add_argument("--short", action="store_true", help="a quick run (smoke test)")
    args = parser.parse_args(argv)
    if args.short:
        args.seconds = 0.5
    with Farm(1) as farm:
        path, address = farm.ports[0]
        port, fd, ready = synced_raw_port(path, address)
        try:
            polls = [encode_packet(address, flag, b"\x07") for flag in (False, True)]
            aes = AES.new(secrets.token_bytes(16), AES.MODE_ECB)
            stop = threading.Event()
            result: dict[str, float] = {}

            def run() -> None:
                flag, turns, replies = 0, 0, 0
                cpu0, wall0 = time.thread_time(), time.monotonic()
                while not stop.wait(args.interval):
                    block = aes.encrypt(bytes(16))
                    crc16_python(block)
                    if ready.poll(0):
                        os.read(fd, 4096)
                    os.write(fd, polls[flag])
                    flag ^= 1
                    if ready.poll(1000):
                        reply = os.read(fd, 4096)
                        crc16_python(reply[1:-2])
                        aes.decrypt(block)
                        replies += 1
                    turns += 1
                result.update(
                    cpu=time.thread_time() - cpu0, wall=time.monotonic() - wall0, turns=turns, replies=replies
                )

            thread = threading.Thread(target=run, name="bare-poller")
            thread.start()
            threading.Event().wait(args.seconds)
            stop.set()
            thread.join()
        finally:
            port.close()
    turns = max(1, int(result["turns"]))
    table(
        f"Bare poller, poll interval {args.interval * 1e3:.0f} ms (thread CPU; emulator in another process)",
        [
            ("idle CPU, % of one core", f"{100 * result['cpu'] / result['wall']:.3f}"),
            ("CPU per turn (µs)", f"{result['cpu'] / turns * 1e6:.0f}"),
            ("turns / replies", f"{int(result['turns'])} / {int(result['replies'])}"),
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
