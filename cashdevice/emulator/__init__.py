"""Emulated ITL cash devices speaking SSP / eSSP, for testing hosts without hardware.

    >>> from cashdevice.emulator import Emulator
    >>> emu = Emulator("SPECTRAL_PAYOUT", currency="EUR")
    >>> port = emu.start_pty()      # or emu.start_tcp() -> port; emu.url -> cashdevice://<id>

See ``cashdevice/emulator/README.md`` for the models, transports, faults and the choices made
where sources conflict.  Importing this package registers the ``cashdevice://`` pyserial
URL scheme.
"""

from __future__ import annotations

import serial

from .clock import VirtualClock
from .datasets import MODELS, Denomination, ModelSpec
from .emulator import Emulator
from .faults import Direction, Faults
from .ledger import Counts, LedgerEntry, LedgerView

if "cashdevice.emulator" not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append("cashdevice.emulator")

__all__ = [
    "MODELS",
    "Counts",
    "Denomination",
    "Direction",
    "Emulator",
    "Faults",
    "LedgerEntry",
    "LedgerView",
    "ModelSpec",
    "VirtualClock",
]
