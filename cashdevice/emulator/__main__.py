"""Command line: run an emulated device and drive it with typed commands.

    python -m cashdevice.emulator --model SPECTRAL_PAYOUT --currency EUR --pty

prints the port (``PTY /tmp/.../tty``, ``TCP 127.0.0.1:PORT``) on stdout, then reads one
command a line from stdin: ``insert 2000 [EUR]``, ``coin 100``, ``take``, ``status``,
``power-cycle``, ``unplug``, ``replug``, ``jam [safe|unsafe]``, ``clear-jam``, ``coin-jam``,
``coin-return``, ``payout-error [CODE]``, ``cashbox remove|replace``, ``path open|close``,
``ledger``, ``help``, ``quit``.
Results go to stdout, diagnostics to stderr.  When stdin ends (started in the background, or
under systemd) the emulator keeps serving until SIGTERM or SIGINT (``--exit-on-eof``: it stops).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TextIO

from .datasets import MODELS
from .emulator import Emulator

__all__ = ["main"]


def _out(text: str, stream: TextIO | None = None) -> None:
    target = stream if stream is not None else sys.stdout
    target.write(text + "\n")
    target.flush()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cashdevice.emulator", description="Emulated ITL SSP/eSSP cash device"
    )
    p.add_argument("--model", required=True, choices=sorted(MODELS), help="device model")
    p.add_argument("--currency", default="EUR", help="dataset currency, e.g. EUR or EUR,GBP")
    p.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal")
    p.add_argument("--link", help="path of the pty symlink (default: a temporary path)")
    p.add_argument("--tcp", type=int, metavar="PORT", help="serve on TCP 127.0.0.1:PORT (0 = any free port)")
    p.add_argument("--host", default="127.0.0.1", help="TCP bind address")
    p.add_argument("--address", type=lambda s: int(s, 0), help="SSP address (default: the model's)")
    p.add_argument("--protocol-max", type=int, help="highest HOST PROTOCOL VERSION accepted")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--escrow-timeout", type=float, default=10.0)
    p.add_argument("--payout-step", type=float, default=1.0, help="seconds per note paid")
    p.add_argument("--auto-take", type=float, help="customer takes paid notes after this many seconds")
    p.add_argument(
        "--pacing", action="store_true", help="model the line both ways (11 bits a byte) plus turnaround"
    )
    p.add_argument("--turnaround", type=float, default=0.003, help="paced: seconds from command to reply")
    p.add_argument("--read-time", type=float, default=1.0, help="seconds a note is read (validation)")
    p.add_argument("--stack-time", type=float, default=1.5, help="seconds a note takes to stack or store")
    p.add_argument("--level", action="append", default=[], metavar="VALUE=COUNT", help="initial store level")
    p.add_argument("-v", "--verbose", action="count", default=0, help="log to stderr (-vv: debug)")
    p.add_argument("--exit-on-eof", action="store_true", help="stop when stdin ends (default: keep serving)")
    return p


USAGE: dict[str, tuple[str, str]] = {
    "insert": ("VALUE [CURRENCY]", "a customer inserts a note (minor units), e.g. insert 2000 EUR"),
    "coin": ("VALUE [CURRENCY]", "a customer drops a coin (minor units), e.g. coin 100"),
    "take": ("", "the customer takes the notes held in the bezel"),
    "status": ("", "the device state as JSON"),
    "power-cycle": ("", "power off and on (SLAVE RESET)"),
    "unplug": ("", "pull the cable"),
    "replug": ("", "plug the cable back"),
    "jam": ("[safe|unsafe]", "jam the note path (default safe)"),
    "clear-jam": ("", "clear a jam"),
    "coin-jam": ("", "jam the coin mech"),
    "coin-return": ("", "press the coin mech's return lever"),
    "payout-error": ("[CODE]", "the next note paid fails (CODE 0..4, default 0)"),
    "cashbox": ("remove|replace", "take the cashbox out, or put it back emptied"),
    "path": ("open|close", "open or close the note path"),
    "ledger": ("", "the ledger (balanced, counts) as JSON"),
    "help": ("", "this list"),
    "quit": ("", "stop the emulator and exit"),
}
"""Command -> (arguments, what it does): ``help`` and the usage hints."""


def _usage(name: str) -> str:
    return f"usage: {name} {USAGE[name][0]}".rstrip()


def _help() -> str:
    lines = ["commands:"]
    lines += [f"  {(name + ' ' + a).strip():28s} {text}" for name, (a, text) in USAGE.items()]
    return "\n".join(lines)


class _UsageError(ValueError):
    """The command's arguments are missing or malformed: print its usage line."""


def _value(args: list[str]) -> int:
    if not args or not args[0].isdigit():
        raise _UsageError
    return int(args[0])


def _commands(emu: Emulator) -> dict[str, Callable[[list[str]], str]]:
    def insert(args: list[str]) -> str:
        ok = emu.insert_note(_value(args), args[1] if len(args) > 1 else None)
        return "inserted" if ok else "refused (unit not accepting)"

    def coin(args: list[str]) -> str:
        ok = emu.insert_coin(_value(args), args[1] if len(args) > 1 else None)
        return "inserted" if ok else "refused (unit not accepting)"

    def cashbox(args: list[str]) -> str:
        if args and args[0] == "remove":
            emu.remove_cashbox()
            return "cashbox removed"
        emu.replace_cashbox(emptied=True)
        return "cashbox replaced (emptied)"

    def path(args: list[str]) -> str:
        if args and args[0] == "open":
            emu.open_note_path()
            return "note path open"
        emu.close_note_path()
        return "note path closed"

    def ledger(args: list[str]) -> str:
        view = emu.ledger
        rows = {str(d): {k: v for k, v in vars(c).items() if v} for d, c in sorted(view.counts.items())}
        return json.dumps({"balanced": view.balanced(), "counts": rows})

    def payout_error(args: list[str]) -> str:
        emu.payout_error(int(args[0]) if args else 0)
        return "the next note paid will fail"

    def jam(args: list[str]) -> str:
        emu.jam(args[0] if args else "safe")
        return "jammed"

    def action(fn: Callable[[], object], text: str) -> Callable[[list[str]], str]:
        def run(args: list[str]) -> str:
            fn()
            return text

        return run

    return {
        "insert": insert,
        "coin": coin,
        "take": lambda args: f"taken {emu.take_notes()}",
        "status": lambda args: json.dumps(emu.status()),
        "power-cycle": action(emu.power_cycle, "power cycled"),
        "unplug": action(emu.unplug, "unplugged"),
        "replug": action(emu.replug, "replugged"),
        "jam": jam,
        "clear-jam": action(emu.clear_jam, "jam cleared"),
        "coin-jam": action(emu.coin_mech_jam, "coin mech jammed"),
        "coin-return": action(emu.press_coin_return, "coin return pressed"),
        "payout-error": payout_error,
        "cashbox": cashbox,
        "path": path,
        "ledger": ledger,
    }


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verbose:
        logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose > 1 else logging.INFO)
    if not args.pty and args.tcp is None:
        args.pty = True
    levels = {}
    for item in args.level:
        value, _, count = item.partition("=")
        levels[int(value)] = int(count)
    try:
        emu = Emulator(
            args.model,
            args.currency,
            address=args.address,
            protocol_max=args.protocol_max,
            seed=args.seed,
            escrow_timeout=args.escrow_timeout,
            payout_step=args.payout_step,
            auto_take=args.auto_take,
            pacing=args.pacing,
            turnaround=args.turnaround,
            read_time=args.read_time,
            stack_time=args.stack_time,
            levels=levels or None,
        )
    except ValueError as exc:
        _out(f"error: {exc}", sys.stderr)
        return 2
    stream = stdin if stdin is not None else sys.stdin
    commands = _commands(emu)
    try:
        if args.pty:
            _out(f"PTY {emu.start_pty(args.link)}")
        if args.tcp is not None:
            _out(f"TCP {args.host}:{emu.start_tcp(args.tcp, args.host)}")
        _out(f"READY {emu.model} address 0x{emu.address:02X}")
        if _serve_commands(stream, commands) or args.exit_on_eof:
            return 0
        _out("stdin closed; serving until SIGTERM / SIGINT", sys.stderr)
        _wait_for_termination()
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
    return 0


def _serve_commands(stream: TextIO, commands: dict[str, Callable[[list[str]], str]]) -> bool:
    """Run the commands read from ``stream``; True after ``quit``, False at end of input."""
    for line in stream:
        words = line.split()
        if not words:
            continue
        name, rest = words[0].lower(), words[1:]
        if name in ("quit", "exit"):
            return True
        if name == "help":
            _out(_help())
            continue
        handler = commands.get(name)
        if handler is None:
            _out(f"unknown command {name!r} (try help)", sys.stderr)
            continue
        try:
            _out(handler(rest))
        except _UsageError:
            _out(_usage(name), sys.stderr)
        except (ValueError, TypeError, IndexError) as exc:  # bad arguments or wrong model
            _out(f"error: {exc}; {_usage(name)}", sys.stderr)
    return False


def _wait_for_termination() -> None:
    """Block until SIGTERM (or SIGINT, as KeyboardInterrupt) arrives."""
    stop = threading.Event()

    def on_term(signum: int, frame: object) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
