"""``python -m cashdevice decode [TRACE ...]``: a raw hex trace as named SSP frames.

Reads pyserial ``spy://`` hex dumps (``000001.234 TX   0000  7F 80 01 11 65 82   ....e.``) and
cashdevice's raw-packet log lines (``-> 00 SYNC [7f 80 01 11 65 82]``, and the older bare
``-> 7f 80 01 11 65 82``; any prefix),
from files or stdin, reassembles the SSP packets of each direction (CRC checked, byte stuffing
undone) and prints one line per frame: direction, address, sequence bit, the command (from
:mod:`cashdevice.commands`) or the reply code and, for poll replies, the events (from
:mod:`cashdevice.events`).

eSSP frames (DATA starting 0x7E) are shown as ``encrypted`` unless ``--key`` gives the session's
AES key: 32 hex digits, or ``FIXED:NEGOTIATED`` (two 64-bit hex numbers).  The key exchange does
not let an observer compute the key, and the library never logs it; a raw-packet log written with
``device.log_decrypted = True`` names each plaintext itself, and decode shows those names.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from . import events as ev
from . import ssp
from .frame_names import RX, TX, FrameNamer, parse_raw_line

__all__ = ["Decoder", "build_parser", "main", "trace_chunks", "trace_frames"]

_SPY = re.compile(r"^\s*\d+\.\d+\s+(TX|RX)\s+[0-9A-Fa-f]{4}  (.{0,49})")
_RAW = re.compile(r"(?:^|\s)(->|<-)\s+((?:[0-9a-fA-F]{2}(?:\s+|$))+)")
"""The raw-packet log before frames were named (``-> 7f 80 01 11 65 82``)."""
_DECRYPTED = re.compile(r"(?:->|<-) \S\S encrypted (eCOUNT=\d+ [^\[]*?)\s*\[")
"""A raw-packet log line with the plaintext named (``log_decrypted``)."""


def trace_chunks(lines: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """``(direction, bytes)`` for every line of a spy:// dump or raw-packet log (named lines
    ``-> 00 SYNC [7f 80 01 11 65 82]`` and the older bare ``-> 7f 80 01 11 65 82``); other lines
    (control-line notes, decrypted-payload lines, prose) are skipped."""
    for direction, chunk, _ in trace_frames(lines):
        yield direction, chunk


def trace_frames(lines: Iterable[str]) -> Iterator[tuple[str, bytes, str | None]]:
    """:func:`trace_chunks` with, for a raw-packet log line written with ``log_decrypted``
    (``-> 00 encrypted eCOUNT=14 POLL_WITH_ACK [...]``), the plaintext's name it already carries
    (``eCOUNT=14 POLL_WITH_ACK``); None otherwise."""
    for line in lines:
        spy = _SPY.match(line)
        if spy:
            hex_bytes = re.findall(r"[0-9A-Fa-f]{2}", spy.group(2))
            yield (TX if spy.group(1) == "TX" else RX), bytes.fromhex("".join(hex_bytes)), None
            continue
        named = parse_raw_line(line)
        if named is not None:
            plain = _DECRYPTED.search(line)
            yield named[0], named[1], plain.group(1) if plain else None
            continue
        if " plain " in line:
            continue
        raw = _RAW.search(line)
        if raw:
            yield raw.group(1), bytes.fromhex(" ".join(raw.group(2).split())), None


@dataclass
class Decoder:
    """Stateful: pairs replies with commands per address and follows the protocol level and
    device family the trace negotiates (``family`` is the guess until SETUP REQUEST says);
    the names come from :class:`cashdevice.frame_names.FrameNamer`."""

    key: bytes | None = None
    level: int = 6
    family: ev.DeviceFamily = ev.DeviceFamily.VALIDATOR
    _parsers: dict[str, ssp.PacketParser] = field(default_factory=dict)
    _namer: FrameNamer = field(default_factory=FrameNamer)

    def __post_init__(self) -> None:
        self._namer.level, self._namer.family = self.level, self.family

    def feed(self, direction: str, chunk: bytes) -> list[str]:
        parser = self._parsers.setdefault(direction, ssp.PacketParser())
        return [self.describe(direction, packet) for packet in parser.feed(chunk)]

    def describe(self, direction: str, packet: ssp.Packet) -> str:
        namer = self._namer
        namer.level, namer.family = self.level, self.family
        text = namer.name(direction == TX, packet, self.key)
        self.level, self.family = namer.level, namer.family
        return f"{direction} {packet.address:02X} seq={int(packet.seq_flag)} {text}"


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
    except BrokenPipeError:
        raise  # the reader went away (``| head``): python -m cashdevice ends quietly
    except OSError as exc:
        print(f"decode: {exc}", file=sys.stderr)
        return 2
    return 0


def _decode(decoder: Decoder, lines: Iterable[str]) -> None:
    for direction, chunk, plain in trace_frames(lines):
        for line in decoder.feed(direction, chunk):
            if plain is not None and _STILL_ENCRYPTED.search(line):
                # no key given, but the log named the plaintext when it was written
                line = _STILL_ENCRYPTED.sub(f"encrypted {plain}", line)
            print(line)


_STILL_ENCRYPTED = re.compile(r"encrypted \(\d+ bytes\)$")


if __name__ == "__main__":
    sys.exit(main())
