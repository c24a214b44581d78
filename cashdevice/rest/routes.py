"""Every route of ITL's REST API (seed L615-L11126), each mapped onto its ``CashDevice`` call.

A handler receives a :class:`Call` (the device, its deviceID and the parsed JSON body) and returns a
:class:`Reply`: a ``str`` is answered as bare ``text/plain`` (as ASP.NET's ``Ok("...")``), anything else as
JSON.  Texts and JSON keys follow the seed's examples; the ``<deviceID>: `` prefix is used exactly where the
seed's example response shows it.  Handlers run on the device's own worker threads.

The plumbing is in :mod:`cashdevice.rest._routing`; the handlers in :mod:`cashdevice.rest._device_routes`
(users, connection, notes, escrow, barcode, payouts) and :mod:`cashdevice.rest._coin_routes` (coins,
service, state checks, download).  This module gathers them.
"""

from __future__ import annotations

from ..records import ValueCountryCode

# importing the route modules fills ROUTES, in the order of ITL's REST API documentation
from . import _coin_routes, _device_routes  # noqa: F401
from ._device_routes import undelivered_status
from ._routing import ROUTES, Call, Reply, Route, Server

__all__ = ["ROUTES", "Call", "Reply", "Route", "Server", "ValueCountryCode", "undelivered_status"]
