"""ITL's Cash Device REST API served from Python (``python -m cashdevice serve``).

Needs the optional extra: ``pip install "cashdevice[rest]"`` (FastAPI and uvicorn).  :func:`create_app`
builds the ASGI application; :mod:`cashdevice.rest.serve` is the command line.
"""

from __future__ import annotations

from .app import create_app
from .registry import EmulatedPort

__all__ = ["EmulatedPort", "create_app"]
