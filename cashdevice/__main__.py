"""``python -m cashdevice <command>``: the command-line entry points.

Commands: ``demo`` (an emulated device driven by CashDevice, printing its events),
``download`` (firmware / dataset download with a progress bar), ``serve`` (ITL's REST API, needs the
``[rest]`` extra).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

COMMANDS = {
    "demo": "cashdevice.demo",
    "download": "cashdevice.download_cli",
    "serve": "cashdevice.rest.serve",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help") or args[0] not in COMMANDS:
        names = ",".join(COMMANDS)
        print(f"usage: python -m cashdevice {{{names}}} [options]", file=sys.stderr)
        for name, module in COMMANDS.items():
            print(f"  {name:10s} see: python -m cashdevice {name} --help  ({module})", file=sys.stderr)
        return 0 if args and args[0] in ("-h", "--help") else 2
    import importlib

    command = importlib.import_module(COMMANDS[args[0]])
    return int(command.main(args[1:]))


if __name__ == "__main__":
    sys.exit(main())
