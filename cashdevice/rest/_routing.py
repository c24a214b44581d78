"""What every REST route uses: :class:`Call`, :class:`Reply`, the route table ``ROUTES`` and
the ``@route`` decorator that fills it, and the seed's reply texts (:func:`kv`, :func:`simple`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..cash_device import CashDevice
from ..enums import (
    DeviceError,
    DeviceModel,
    DeviceState,
)
from .auth import CredentialStore, TokenStore
from .registry import DeviceEntry, Registry

log = logging.getLogger("cashdevice.rest")


@dataclass
class Reply:
    status: int
    content: Any
    headers: dict[str, str] | None = None
    undo: Callable[[], None] | None = None
    """Puts back what the handler took (GetDeviceStatus's events) when the answer cannot be
    delivered: the client went away before it was sent."""


@dataclass
class Server:
    """What handlers share: devices, credentials, tokens."""

    registry: Registry
    credentials: CredentialStore
    tokens: TokenStore


@dataclass
class Call:
    server: Server
    body: Any
    device_id: str = ""
    entry: DeviceEntry | None = None
    token: str = ""

    @property
    def dev(self) -> CashDevice:
        assert self.entry is not None
        return self.entry.device


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    group: str
    seed_line: int
    handler: Handler
    needs_device: bool = True
    auth: bool = True
    body: str = ""  # OpenAPI hint: the seed's body shape
    inline: bool = False
    """Runs on the event loop, not on the device's workers: a host-side read that never waits for
    the device (GetDeviceStatus), so that calls blocked on a slow or unplugged device cannot hold
    it up until its client gives up."""

    @property
    def path(self) -> str:
        return f"/api/{self.group}/{self.name}"


ROUTES: list[Route] = []


def route(
    name: str,
    method: str,
    line: int,
    *,
    group: str = "CashDevice",
    device: bool = True,
    auth: bool = True,
    body: str = "",
    inline: bool = False,
) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        ROUTES.append(Route(name, method, group, line, fn, device, auth, body, inline))
        return fn

    return register


def ok(text: str) -> Reply:
    return Reply(200, text)


def cs(value: Any) -> str:
    """C# ``ToString()`` of a value inside an anonymous object: ``True``/``False``, enum names."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return ""
    if isinstance(value, (DeviceState, DeviceError, DeviceModel)):
        return value.name
    return str(value)


def kv(c: Call, **pairs: Any) -> str:
    """The seed's getter text: ``<deviceID>: { Key = value, Key2 = value2 }`` (C# anonymous object)."""
    inner = ", ".join(f"{k} = {cs(v)}" for k, v in pairs.items())
    return f"{c.device_id}: {{ {inner} }}"


def read(c: Call, done: bool, failure: str, **pairs: Any) -> Reply:
    """A getter: 400 ``<deviceID>: <failure>`` unless ``done``, else the values as :func:`kv` text.
    Called as ``read(c, c.dev.GetX(), "...", Key=c.dev.x)``: Python evaluates ``done`` first, so
    the values are read after the device call."""
    if not done:
        return Reply(400, f"{c.device_id}: {failure}")
    return ok(kv(c, **pairs))


def simple(
    c: Call, done: bool | None, success: str, failure: str, *, prefix: bool = True, fail_status: int = 400
) -> Reply:
    """``done`` None means the C# method is void (always succeeds)."""
    pre = f"{c.device_id}: " if prefix else ""
    if done is None or done:
        return ok(pre + success)
    return Reply(fail_status, f"{c.device_id}: {failure}")


def hex2(value: Any) -> str:
    return f"{int(value or 0) & 0xFF:02X}"
