"""SSP frames by name: ``POLL_WITH_ACK``, ``OK CREDIT channel 1 500 EUR``, ``encrypted (16 bytes)``.

Pure helpers shared by the raw-packet log (:meth:`cashdevice.link.SSPLink._record`) and the
``python -m cashdevice decode`` command (:mod:`cashdevice.decode_cli`).  A :class:`FrameNamer`
is stateful: it pairs each reply with the last command sent to its address (a reply code says
nothing by itself: the events of a poll reply are decoded because a POLL asked for them) and
follows the protocol level (HOST PROTOCOL VERSION) and device family (SETUP REQUEST) the
frames negotiate.  It never sees a key unless one is handed to it: an eSSP frame (DATA starting
``0x7E``) is named ``encrypted (N bytes)`` without one.

The raw-packet log line (:func:`raw_line`) is ``<direction> <address> <name> [<wire bytes>]``::

    -> 00 SYNC [7f 80 01 11 65 82]
    <- 00 OK [7f 80 01 f0 23 80]
    -> 00 POLL [7f 00 01 07 12 02]
    <- 00 OK CREDIT channel 1 5 EUR [7f 00 05 f0 ee 01 ...]
    -> 00 encrypted (16 bytes) [7f 80 11 7e ...]
    -> 00 encrypted eCOUNT=5 POLL_WITH_ACK [7f 80 11 7e ...]      (plaintext asked for)

:func:`parse_raw_line` gives the direction and wire bytes back (``decode`` reads these lines).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import events as ev
from . import ssp
from .commands import DEFAULT_COMMANDS

__all__ = ["FrameNamer", "TX", "RX", "command_name", "parse_raw_line", "raw_line"]

TX, RX = "->", "<-"
_FAMILIES = {
    0x00: ev.DeviceFamily.VALIDATOR,
    0x03: ev.DeviceFamily.SMART_HOPPER,
    0x06: ev.DeviceFamily.SMART_PAYOUT,
    0x07: ev.DeviceFamily.NV11,
    0x09: ev.DeviceFamily.SMART_SYSTEM,
}
_POLL_NAMES = frozenset({ssp.Command.POLL.name, ssp.Command.POLL_WITH_ACK.name})
_RAW_LINE = re.compile(r"(?:^|\s)(->|<-) \S\S .*?\[((?:[0-9a-fA-F]{2} ?)+)\]\s*$")


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
class FrameNamer:
    """Names the frames of one line, in the order they pass (see the module docstring).
    ``level`` and ``family`` are the guesses until the frames negotiate them."""

    level: int = 6
    family: ev.DeviceFamily = ev.DeviceFamily.VALIDATOR
    _last: dict[int, str] = field(default_factory=dict)
    _asked_level: dict[int, int] = field(default_factory=dict)

    def name(self, sending: bool, packet: ssp.Packet, key: bytes | None = None) -> str:
        """``SYNC``, ``OK ...``, ``encrypted (N bytes)`` or, with the session's ``key``,
        ``eCOUNT=N <name>`` (``encrypted (N bytes; not decrypted: why)`` if it does not fit)."""
        data = packet.data
        prefix = ""
        if packet.encrypted:
            if key is None:
                return f"encrypted ({len(data) - 1} bytes)"
            try:
                count, data = ssp.decrypt_data(key, data)
            except ssp.SSPEncryptionError as exc:
                return f"encrypted ({len(data) - 1} bytes; not decrypted: {exc})"
            prefix = f"eCOUNT={count} "
        if sending:
            return prefix + self._command(packet.address, data)
        return prefix + self._reply(packet.address, data)

    def _command(self, address: int, data: bytes) -> str:
        if not data:
            return "(empty)"
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
            self.family = _FAMILIES.get(body[0], self.family)
        if asked in _POLL_NAMES and body:
            try:
                events = ev.decode_events(body, self.level, self.family, unverified=True)
            except (ValueError, IndexError) as exc:
                return f"{text} (events not decoded: {exc})"
            return f"OK {'; '.join(_event_text(e) for e in events)}" if events else "OK (no events)"
        return text

    def line(self, sending: bool, wire: bytes, keys: Mapping[int, bytes] | None = None) -> str:
        """The raw-packet log line of one whole frame ``wire`` (:func:`raw_line`).  ``keys`` maps
        addresses to their session keys when the plaintext is wanted (None: never decrypt)."""
        parser = ssp.PacketParser()
        packets = parser.feed(wire)
        if len(packets) != 1:
            return raw_line(sending, None, "(not one frame)", wire)
        packet = packets[0]
        key = None if keys is None else keys.get(packet.address)
        text = self.name(sending, packet, key)
        if packet.encrypted and key is not None:
            text = f"encrypted {text}"
        return raw_line(sending, packet.address, text, wire)


def raw_line(sending: bool, address: int | None, text: str, wire: bytes) -> str:
    """``-> 00 POLL [7f 00 01 07 12 02]``: direction, address, name, the wire bytes."""
    where = "??" if address is None else f"{address:02X}"
    return f"{TX if sending else RX} {where} {text} [{wire.hex(' ')}]"


def parse_raw_line(line: str) -> tuple[str, bytes] | None:
    """The direction and wire bytes of a raw-packet log line (any prefix before the arrow:
    time, logger name, level), or None if ``line`` is not one."""
    match = _RAW_LINE.search(line)
    if match is None:
        return None
    return match.group(1), bytes.fromhex(match.group(2))
