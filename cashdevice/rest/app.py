"""The ASGI application: FastAPI for routing and the OpenAPI page (``/docs``, ``/openapi.json``).

Request handling follows ASP.NET's, which the seed's clients rely on: route paths match case-insensitively
(``ExtendeDGetFirmwareVersion``), JSON keys too, a GET may carry a body, text answers are bare
``text/plain``.  Order of checks: bearer token (401), deviceID (400 when missing, 404 when no OpenConnection
created it), then the body (400).  Handlers run on the device's own threads, never on the event loop,
except GetDeviceStatus, which only drains a queue on the host: it runs on the loop, so that device calls
blocked on a slow or unplugged device cannot delay it past its client's timeout, and a client gone away
before its answer was sent leaves its events queued for the next call.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import __version__
from . import binding as b
from .auth import CredentialStore, TokenStore
from .registry import EmulatedPort, Registry
from .routes import ROUTES, Call, Reply, Route, Server, undelivered_status

log = logging.getLogger("cashdevice.rest")


class CaseInsensitivePaths:
    """Rewrite a request path to the route's own spelling when they differ only in case."""

    def __init__(self, app: ASGIApp, paths: list[str]) -> None:
        self.app = app
        self.paths = {p.lower(): p for p in paths}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            canonical = self.paths.get(path.rstrip("/").lower())
            if canonical is not None and canonical != path:
                scope = dict(scope, path=canonical, raw_path=canonical.encode("ascii"))
        await self.app(scope, receive, send)


def _reply(reply: Reply) -> Response:
    if isinstance(reply.content, str):
        return PlainTextResponse(reply.content, reply.status, headers=reply.headers)
    return JSONResponse(reply.content, reply.status, headers=reply.headers)


def _bad_request(exc: b.BadRequest) -> Response:
    return JSONResponse(
        {
            "title": "One or more validation errors occurred.",
            "status": 400,
            "message": exc.message,
            "errors": {exc.field: [exc.message]},
        },
        400,
    )


def _query(request: Request, name: str) -> str | None:
    for key, value in request.query_params.multi_items():
        if key.lower() == name.lower():
            return value
    return None


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _endpoint(server: Server, route: Route) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        token = _bearer(request)
        if route.auth and not (token and server.tokens.valid(token)):
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        call = Call(server, None, token=token)
        executor = server.registry.admin
        if route.needs_device:
            device_id = _query(request, "deviceID")
            if device_id is None or not device_id.strip():
                return _bad_request(b.BadRequest("The deviceID query parameter is required.", "deviceID"))
            entry = server.registry.get(device_id)
            if entry is None:
                kept = undelivered_status(server, device_id) if route.name == "GetDeviceStatus" else None
                if kept is not None:  # (what the device's close fired after the last call)
                    return await _deliver(request, route, lambda: kept)
                if route.name == "DisconnectDevice":  # the seed's own text (L1536)
                    return PlainTextResponse(f"Device with ID {device_id} not found.", 404)
                return PlainTextResponse(f"{device_id}: Cash device not found.", 404)
            call.device_id, call.entry, executor = device_id, entry, entry.executor
        try:
            call.body = b.parse_json(await request.body())
        except b.BadRequest as exc:
            return _bad_request(exc)

        gone = threading.Event()

        def handle() -> Reply | Response:
            try:
                if call.entry is not None and not route.inline:
                    # a payout is not started once its client has gone (it would never learn of it)
                    with call.entry.device._caller(gone.is_set):
                        return route.handler(call)
                return route.handler(call)
            except b.BadRequest as exc:
                return _bad_request(exc)
            except Exception as exc:  # a handler never raises out of the server
                log.exception("%s failed", route.name)
                return PlainTextResponse(
                    f"{call.device_id or route.name}: Internal error: {type(exc).__name__}", 500
                )

        def run() -> Response:
            reply = handle()
            return reply if isinstance(reply, Response) else _reply(reply)

        if route.inline:
            return await _deliver(request, route, handle)
        watch = asyncio.ensure_future(_watch_disconnect(request, gone)) if call.entry is not None else None
        try:
            return await asyncio.wrap_future(executor.submit(run))
        except RuntimeError:  # executor shut down: the device was disconnected meanwhile
            return PlainTextResponse(f"{call.device_id}: Cash device not found.", 404)
        finally:
            if watch is not None:
                watch.cancel()

    endpoint.__name__ = route.name
    return endpoint


async def _watch_disconnect(request: Request, gone: threading.Event) -> None:
    """Set ``gone`` when the client goes away while its call runs (the body is read: the next ASGI
    message is the disconnect, which the server sends when the connection closes)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


async def _deliver(request: Request, route: Route, handle: Callable[[], Reply | Response]) -> Response:
    """An inline route (GetDeviceStatus): run on the event loop, and when the client has gone away
    by the time the answer is ready, undo what the handler took (its events go back to the queue
    for the next call).  An answer that leaves but never arrives (the connection breaks while it
    is on its way) cannot be told from one that arrived: ITL's API has no acknowledgement."""
    if await request.is_disconnected():
        log.info("%s: the client went away before the call ran; nothing taken", route.name)
        return Response(status_code=499)
    reply = handle()
    if isinstance(reply, Response):
        return reply
    if reply.undo is not None and await request.is_disconnected():
        reply.undo()
        log.warning("%s: the client went away before the answer was sent; its events stay queued", route.name)
        return Response(status_code=499)
    return _reply(reply)


def create_app(
    *,
    credentials_path: Path | str | None = None,
    token_ttl: float = 3600.0,
    emulated: list[EmulatedPort] | None = None,
    on_shutdown: Callable[[], None] | None = None,
) -> FastAPI:
    """Build the server.  ``emulated`` lists emulators started alongside (opened with their own model);
    ``on_shutdown`` runs after every device has been closed (stops those emulators)."""
    registry = Registry()
    for port in emulated or []:
        registry.emulated[port.port] = port
    server = Server(registry, CredentialStore(credentials_path), TokenStore(token_ttl))
    if server.credentials.is_default:
        log.warning(
            "REST server: default credentials (admin/password) in use; "
            "change them with POST /api/Users/UpdateCredentials"
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await asyncio.get_running_loop().run_in_executor(None, registry.close_all)
            if on_shutdown is not None:
                on_shutdown()

    app = FastAPI(
        title="cashdevice REST server",
        version=__version__,
        description="ITL's Cash Device REST API served by cashdevice (routes and examples: ITL SDK "
        "documentation, REST API chapter).  Authenticate first, then send `Authorization: Bearer <token>`.",
        lifespan=lifespan,
    )
    app.state.server = server
    for route in ROUTES:
        extra: dict[str, Any] = {"x-seed-line": route.seed_line}
        if route.body:
            extra["requestBody"] = {
                "content": {"application/json": {"schema": {}, "example": route.body}},
                "description": f"As in the seed: {route.body}",
            }
        app.add_api_route(
            route.path,
            _endpoint(server, route),
            methods=[route.method],
            name=route.name,
            summary=route.name,
            description=f"ITL REST API {route.name} (seed L{route.seed_line}).",
            tags=[route.group],
            openapi_extra=extra,
        )
    app.add_middleware(CaseInsensitivePaths, paths=[r.path for r in ROUTES])
    return app
