"""cashdevice: a pure-Python driver for Innovative Technology (ITL) cash devices over SSP / eSSP.

Layers (each imports only the ones before it): :mod:`cashdevice.ssp` (pure protocol bytes),
:mod:`cashdevice.events` and :mod:`cashdevice.replies` (pure event and reply codecs),
:mod:`cashdevice.link` (the serial link: one port, one lock, retries, eSSP sessions),
:mod:`cashdevice.cash_device` (the C# ``CashDevice`` facade).  :mod:`cashdevice.emulator` is
a virtual device built on the pure layers.

Importing cashdevice registers the ``cashdevice://`` pyserial URL scheme of the in-process
emulator (the module is only imported when such a URL is opened).
"""

from __future__ import annotations

import logging as _logging

import serial as _serial

from .cash_device import CashDevice, DeviceEvent
from .enums import (
    CashEventType,
    CashSystemOpenResult,
    CurrencyType,
    DenominationRoute,
    DeviceError,
    DeviceModel,
    DeviceState,
    DispenserTransactionState,
    DispenserTransactionType,
    DispenseTransactionRequestResult,
    SetDenominationRouteRequestResult,
    SetSorterRouteRequestResult,
)
from .link import LinkCounters, SSPLink
from .poll_group import PollGroup
from .records import CashEventResponse, CurrencyAssignmentEntry, DeviceStatusResponse, ValueCountryCode
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

if "cashdevice.emulator" not in _serial.protocol_handler_packages:
    _serial.protocol_handler_packages.append("cashdevice.emulator")

_logging.getLogger(__name__).addHandler(_logging.NullHandler())

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_FIXED_KEY",
    "CashDevice",
    "CashEventResponse",
    "CashEventType",
    "CashSystemOpenResult",
    "Command",
    "CurrencyAssignmentEntry",
    "CurrencyType",
    "DenominationRoute",
    "DeviceError",
    "DeviceEvent",
    "DeviceModel",
    "DeviceState",
    "DeviceStatusResponse",
    "DispenseTransactionRequestResult",
    "DispenserTransactionState",
    "DispenserTransactionType",
    "LinkCounters",
    "Packet",
    "PacketParser",
    "PollEvent",
    "PollGroup",
    "Response",
    "SSPEncryptionError",
    "SSPError",
    "SSPLink",
    "SSPPortError",
    "SSPReplyError",
    "SSPTimeoutError",
    "SetDenominationRouteRequestResult",
    "SetSorterRouteRequestResult",
    "ValueCountryCode",
    "__version__",
]
