"""``python -m cashdevice <command>``: the command-line entry points.

Each command is a module with ``main(argv) -> int``, listed in :data:`COMMANDS`; adding a command
is one line there.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("cashdevice.demo", "an emulated device driven by CashDevice, printing its events"),
    "ports": ("cashdevice.ports_cli", "list serial ports, ITL devices (USB 0x191C) marked"),
    "run": ("cashdevice.run_cli", "open a device and print its events until Ctrl-C / SIGTERM"),
    "decode": ("cashdevice.decode_cli", "a raw hex trace (spy:// or raw-packet log) as SSP frames"),
    "download": ("cashdevice.download_cli", "firmware / dataset download with a progress bar"),
    "serve": ("cashdevice.rest.serve", "ITL's REST API over HTTP (needs the [rest] extra)"),
    "soak": ("cashdevice.soak", "CashDevice against the emulator under faults: lost / duplicated table"),
}
"""name -> (module with ``main(argv) -> int``, one-line description)."""


def usage() -> str:
    lines = [f"usage: python -m cashdevice {{{','.join(COMMANDS)}}} [options]   (or --version)"]
    lines += [f"  {name:10s} {text}" for name, (_, text) in COMMANDS.items()]
    lines.append("  python -m cashdevice COMMAND --help   shows a command's options")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--version":
        from . import __version__

        print(f"cashdevice {__version__}")
        return 0
    if not args or args[0] in ("-h", "--help"):
        # asked for: on stdout (``| less``), as argparse and every command's --help; missing: an error
        print(usage(), file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    if args[0] not in COMMANDS:
        print(f"python -m cashdevice: unknown command {args[0]!r}", file=sys.stderr)
        print(usage(), file=sys.stderr)
        return 2
    try:
        command = importlib.import_module(COMMANDS[args[0]][0])
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if not missing or missing == __package__:
            raise  # our own module: a bug, not an install
        extra = " (the [rest] extra: pip install 'cashdevice[rest]')" if args[0] == "serve" else ""
        needs = f"needs {missing}, which is not installed{extra}"
        print(f"python -m cashdevice {args[0]}: {needs}", file=sys.stderr)
        return 2
    try:
        return int(command.main(args[1:]))
    except BrokenPipeError:
        # the reader went away (``... | head``): no traceback, and none when Python flushes
        # stdout at exit (the recipe of the Python docs, "Note on SIGPIPE")
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
