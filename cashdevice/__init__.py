"""cashdevice: a pure-Python driver for Innovative Technology (ITL) cash devices over SSP / eSSP.

Layers (each imports only the ones before it): :mod:`cashdevice.ssp` (pure protocol bytes),
:mod:`cashdevice.link` (the serial link: one port, one lock, retries, eSSP sessions).
"""

from __future__ import annotations

from .link import LinkCounters, SSPLink
from .ssp import (
    DEFAULT_FIXED_KEY,
    Command,
    Packet,
    PacketParser,
    PollEvent,
    Response,
    SSPEncryptionError,
    SSPError,
    SSPPortError,
    SSPReplyError,
    SSPTimeoutError,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_FIXED_KEY",
    "Command",
    "LinkCounters",
    "Packet",
    "PacketParser",
    "PollEvent",
    "Response",
    "SSPEncryptionError",
    "SSPError",
    "SSPLink",
    "SSPPortError",
    "SSPReplyError",
    "SSPTimeoutError",
    "__version__",
]
