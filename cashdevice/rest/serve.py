"""``python -m cashdevice serve [--host 127.0.0.1] [--port 5000] [--emulator MODEL[:CURRENCY]]...``"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from collections.abc import Sequence

log = logging.getLogger("cashdevice.rest")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cashdevice serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1 only)")
    parser.add_argument("--port", type=int, default=5000, help="TCP port (default 5000, as the seed)")
    parser.add_argument(
        "--emulator",
        action="append",
        default=[],
        metavar="MODEL[:CURRENCY]",
        help="start an in-process emulated device (repeatable), e.g. SPECTRAL_PAYOUT:EUR",
    )
    parser.add_argument(
        "--credentials",
        default=None,
        help="credentials file (default ~/.config/cashdevice/rest-credentials.json)",
    )
    parser.add_argument("--token-ttl", type=float, default=3600.0, help="bearer token lifetime, seconds")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    try:
        import uvicorn

        from ..emulator import Emulator
        from ..enums import DeviceModel
        from .app import create_app
        from .registry import EmulatedPort
    except ImportError as exc:
        sys.stderr.write(f"serve needs the REST extra: pip install 'cashdevice[rest]' ({exc})\n")
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    emulators: list[Emulator] = []
    ports: list[EmulatedPort] = []
    for spec in args.emulator:
        model, _, currency = spec.partition(":")
        model = model.strip().upper()
        try:
            emu = Emulator(model, currency.strip() or None)
        except ValueError as exc:
            sys.stderr.write(f"--emulator {spec}: {exc}\n")
            return 2
        emu.start()
        emulators.append(emu)
        hint = DeviceModel.__members__.get(model, DeviceModel.NOTE_VALIDATOR)
        ports.append(EmulatedPort(emu.url, hint, emu.address))
        sys.stdout.write(
            f"emulator {model} {','.join(emu.currencies)}: OpenConnection with "
            f'"ComPort": "{emu.url}", "SspAddress": {emu.address}\n'
        )
        sys.stdout.flush()

    def stop_emulators() -> None:
        for emu in emulators:
            emu.stop()

    if not _is_loopback(args.host):
        log.warning(
            "listening on %s: the cash API is reachable from other machines; "
            "protect it (firewall, TLS proxy) and change the default credentials",
            args.host,
        )
    app = create_app(
        credentials_path=args.credentials,
        token_ttl=args.token_ttl,
        emulated=ports,
        on_shutdown=stop_emulators,
    )
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level.lower())
    finally:
        stop_emulators()
    return 0


if __name__ == "__main__":
    sys.exit(main())
