"""CPU per call of the pure protocol pieces: CRC-16, packet parsing, eSSP encryption.

    python3 benchmarks/primitives.py [--cold] [--short]

Best of 5 ``process_time`` runs per figure, in µs per call; with ``--cold``, the mean thread time
of 200 calls each made right after a 10 ms sleep (as the idle poll thread makes them).  The packets
are what a POLL exchange carries: a plain POLL reply (``7F 80 01 F0 ..``), an encrypted POLL reply
(0x7E + 16 bytes) and a 200-byte reply with stuffed bytes, fed in one chunk.  The cipher rows
use :class:`cashdevice.ssp.ESSPCipher` when the library has it (one AES object per session),
else the per-call functions; with the ``[fast]`` extra, the CRC and cipher rows are measured
for each implementation (crcmod and ours; cryptography and pycryptodome).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable

from _common import table

from cashdevice import ssp

KEY = ssp.aes_key(ssp.DEFAULT_FIXED_KEY, 0x1234567)


def after_sleep(fn: Callable[[], object], number: int) -> float:
    """Mean thread CPU µs of one call made right after a 10 ms sleep: what the idle poll thread
    pays, since this kind of machine runs code several times slower after every sleep."""
    pause = threading.Event()
    used = 0
    for _ in range(number):
        pause.wait(0.01)
        start = time.thread_time_ns()
        fn()
        used += time.thread_time_ns() - start
    return used / number / 1e3


def per_call(fn: Callable[[], object], number: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(number):
            fn()
        best = min(best, time.process_time() - start)
    return best / number * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--number", type=int, default=20000, help="calls per run")
    parser.add_argument(
        "--cold", action="store_true", help="each call right after a 10 ms sleep (200 calls, mean)"
    )
    parser.add_argument("--short", action="store_true", help="a quick run (smoke test)")
    args = parser.parse_args(argv)
    n = 200 if args.short else args.number
    measure = per_call
    if args.cold:  # the same rows, each call measured right after a sleep
        n, measure = (20 if args.short else 200), after_sleep
    plain = ssp.encode_packet(0, True, b"\xf0")
    encrypted = ssp.encode_packet(0, True, ssp.encrypt_data(KEY, 1, b"\xf0\xe8", bytes(7)))
    long = ssp.encode_packet(0, True, bytes(range(200)) + b"\x7f" * 5)
    rows = []
    crcs: list[tuple[str, Callable[[bytes], int]]] = [("crc16", ssp.crc16)]
    python_crc = getattr(ssp, "crc16_python", ssp.crc16)
    if python_crc is not ssp.crc16:  # the [fast] extra's crcmod, and ours
        crcs = [("crc16 (crcmod)", ssp.crc16), ("crc16_python", python_crc)]
    sizes = (("3 bytes", plain[1:4]), ("18 bytes", encrypted[1:19]), ("205 bytes", long[1:206]))
    for label, crc in crcs:
        for name, data in sizes:
            rows.append((f"{label}, {name}", f"{measure(lambda c=crc, d=data: c(d), n):.2f}"))
    replies = (("plain POLL reply", plain), ("encrypted POLL reply", encrypted), ("200-byte reply", long))
    for name, wire in replies:
        feed = ssp.PacketParser().feed
        us = measure(lambda f=feed, w=wire: f(w), n)
        rows.append((f"PacketParser.feed, {name} ({len(wire)} B)", f"{us:.2f}"))
    cipher_cls = getattr(ssp, "ESSPCipher", None)
    field = ssp.encrypt_data(KEY, 1, b"\xf0\xe8", bytes(7))
    if cipher_cls is None:
        enc: Callable[[], object] = lambda: ssp.encrypt_data(KEY, 1, b"\x07")  # noqa: E731
        dec: Callable[[], object] = lambda: ssp.decrypt_data(KEY, field)  # noqa: E731
        rows.append(("encrypt POLL (encrypt_data)", f"{measure(enc, n):.2f}"))
        rows.append(("decrypt reply (decrypt_data)", f"{measure(dec, n):.2f}"))
    for backend in getattr(ssp, "AES_BACKENDS", (None,)) if cipher_cls is not None else ():
        cipher = cipher_cls(KEY) if backend is None else cipher_cls(KEY, backend=backend)
        how = "ESSPCipher" if backend is None else f"ESSPCipher, {backend}"
        enc = lambda c=cipher: c.encrypt(1, b"\x07")  # noqa: E731
        dec = lambda c=cipher: c.decrypt(field)  # noqa: E731
        rows.append((f"encrypt POLL ({how})", f"{measure(enc, n):.2f}"))
        rows.append((f"decrypt reply ({how})", f"{measure(dec, n):.2f}"))
    how = "mean of calls right after a 10 ms sleep, thread_time" if args.cold else "best of 5, process_time"
    table(f"SSP primitives, host CPU µs per call ({how})", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
