"""``python -m cashdevice decode [TRACE ...]``: a raw hex trace as named SSP frames.

Reads pyserial ``spy://`` hex dumps (``000001.234 TX   0000  7F 80 01 11 65 82   ....e.``) and
cashdevice's raw-packet log lines (``-> 7f 80 01 11 65 82``, ``<- 7f 80 01 f0 23 80``, any prefix),
from files or stdin, reassembles the SSP packets of each direction (CRC checked, byte stuffing
undone) and prints one line per frame: direction, address, sequence bit, the command (from
:mod:`cashdevice.commands`) or the reply code and, for poll replies, the events (from
:mod:`cashdevice.events`).

eSSP frames (DATA starting 0x7E) are shown as ``encrypted`` unless ``--key`` gives the session's
AES key: 32 hex digits, or ``FIXED:NEGOTIATED`` (two 64-bit hex numbers).  The key exchange does
not let an observer compute the key; it comes from the device's owner.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from . import events as ev
from . import ssp
from .commands import DEFAULT_COMMANDS
from .models import UNIT_TYPE_FAMILY

__all__ = ["Decoder", "build_parser", "main", "trace_chunks"]

TX, RX = "->", "<-"
_SPY = re.compile(r"^\s*\d+\.\d+\s+(TX|RX)\s+[0-9A-Fa-f]{4}  (.{0,49})")
_RAW = re.compile(r"(?:^|\s)(->|<-)\s+((?:[0-9a-fA-F]{2}(?:\s+|$))+)")
_POLLS = {ssp.Command.POLL, ssp.Command.POLL_WITH_ACK}


def trace_chunks(lines: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """``(direction, bytes)`` for every line of a spy:// dump or raw-packet log; other lines
    (control-line notes, decrypted-payload lines, prose) are skipped."""
    for line in lines:
        spy = _SPY.match(line)
        if spy:
            hex_bytes = re.findall(r"[0-9A-Fa-f]{2}", spy.group(2))
            yield (TX if spy.group(1) == "TX" else RX), bytes.fromhex("".join(hex_bytes))
            continue
        if " plain " in line:
            continue
        raw = _RAW.search(line)
        if raw:
            yield raw.group(1), bytes.fromhex(" ".join(raw.group(2).split()))


def command_name(data: bytes) -> tuple[str, bytes]:
    """The command table's name for a command DATA (longest matching prefix) and its parameters."""
    best = None
    for spec in DEFAULT_COMMANDS.values():
        if data.startswith(spec.prefix) and (best is None or len(spec.prefix) > len(best.prefix)):
            best = spec
    if best is None:
        try:
            return ssp.Command(data[0]).name, data[1:]
        except ValueError:
            return f"0x{data[0]:02X}", data[1:]
    return best.name, data[len(best.prefix) :]


def _event_text(event: ev.Event) -> str:
    parts = [event.name]
    if event.channel is not None:
        parts.append(f"channel {event.channel}")
    parts.extend(f"{a.value} {a.country}".rstrip() for a in event.amounts)
    if event.error is not None:
        parts.append(f"error {event.error}")
    return " ".join(parts)


@dataclass
class Decoder:
    """Stateful: pairs replies with commands per address and follows the protocol level and
    device family the trace negotiates (``family`` is the guess until SETUP REQUEST says)."""

    key: bytes | None = None
    level: int = 6
    family: ev.DeviceFamily = ev.DeviceFamily.VALIDATOR
    _parsers: dict[str, ssp.PacketParser] = field(default_factory=dict)
    _last: dict[int, str] = field(default_factory=dict)
    _asked_level: dict[int, int] = field(default_factory=dict)

    def feed(self, direction: str, chunk: bytes) -> list[str]:
        parser = self._parsers.setdefault(direction, ssp.PacketParser())
        return [self.describe(direction, packet) for packet in parser.feed(chunk)]

    def describe(self, direction: str, packet: ssp.Packet) -> str:
        head = f"{direction} {packet.address:02X} seq={int(packet.seq_flag)}"
        data = packet.data
        if packet.encrypted:
            if self.key is None:
                return f"{head} encrypted ({len(data) - 1} bytes)"
            try:
                count, data = ssp.decrypt_data(self.key, data)
            except ssp.SSPEncryptionError as exc:
                return f"{head} encrypted ({len(data) - 1} bytes; not decrypted: {exc})"
            head += f" eCOUNT={count}"
        if direction == TX:
            return f"{head} {self._command(packet.address, data)}"
        return f"{head} {self._reply(packet.address, data)}"

    def _command(self, address: int, data: bytes) -> str:
        name, params = command_name(data)
        self._last[address] = name
        if name == "HOST_PROTOCOL_VERSION" and params:
            self._asked_level[address] = params[0]
        return f"{name} {params.hex(' ')}".rstrip()

    def _reply(self, address: int, data: bytes) -> str:
        if not data:
            return "(empty)"
        try:
            code = ssp.Response(data[0]).name
        except ValueError:
            code = f"0x{data[0]:02X}"
        body = data[1:]
        asked = self._last.pop(address, "")
        text = f"{code} {body.hex(' ')}".rstrip()
        if data[0] != ssp.Response.OK:
            return f"{text} (to {asked})" if asked else text
        if asked == "HOST_PROTOCOL_VERSION" and address in self._asked_level:
            self.level = self._asked_level.pop(address)
        if asked == "SETUP_REQUEST" and body:
            self.family = UNIT_TYPE_FAMILY.get(body[0], self.family)
        if asked in {c.name for c in _POLLS} and body:
            try:
                events = ev.decode_events(body, self.level, self.family, unverified=True)
            except (ValueError, IndexError) as exc:
                return f"{text} (events not decoded: {exc})"
            return f"OK {'; '.join(_event_text(e) for e in events)}" if events else "OK (no events)"
        return text


def _key(text: str) -> bytes:
    try:
        if ":" in text:
            fixed, negotiated = (int(part, 16) for part in text.split(":", 1))
            return ssp.aes_key(fixed, negotiated)
        key = bytes.fromhex(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a key: {text!r}") from None
    if len(key) != 16:
        raise argparse.ArgumentTypeError("the AES key is 16 bytes (32 hex digits)")
    return key


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cashdevice decode",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("trace", nargs="*", metavar="TRACE", help="trace files (default: stdin)")
    parser.add_argument("--key", type=_key, help="session AES key: 32 hex digits, or FIXED:NEGOTIATED in hex")
    parser.add_argument(
        "--family",
        choices=[f.name for f in ev.DeviceFamily],
        type=str.upper,
        help="event dialect until the trace's SETUP REQUEST says (default VALIDATOR)",
    )
    parser.add_argument("--level", type=int, default=6, help="protocol level until the trace negotiates one")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    decoder = Decoder(key=args.key, level=args.level)
    if args.family:
        decoder.family = ev.DeviceFamily[args.family]
    try:
        for path in args.trace or ["-"]:
            if path == "-":
                _decode(decoder, sys.stdin)
                continue
            with open(path, encoding="utf-8", errors="replace") as stream:
                _decode(decoder, stream)
    except OSError as exc:
        print(f"decode: {exc}", file=sys.stderr)
        return 2
    return 0


def _decode(decoder: Decoder, lines: Iterable[str]) -> None:
    for direction, chunk in trace_chunks(lines):
        for line in decoder.feed(direction, chunk):
            print(line)


if __name__ == "__main__":
    sys.exit(main())
