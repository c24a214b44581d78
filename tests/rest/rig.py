"""A REST server (in-process, FastAPI TestClient) over emulated devices, shared by a test module
(imported by this folder's conftest when the [rest] extra is installed)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from support import FAST, assert_no_new_threads

from cashdevice.emulator import Emulator
from cashdevice.enums import DeviceModel
from cashdevice.rest import EmulatedPort, create_app

HERE = Path(__file__).resolve().parent


@contextlib.contextmanager
def served(tmp: Path, emu: Emulator) -> Iterator[tuple[Any, int]]:
    """A real uvicorn server on a free localhost port, serving a new app with ``emu`` (a
    SPECTRAL_PAYOUT) as an emulated port: ``(app, port)``; stopped on exit."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(
        credentials_path=tmp / "c.json",
        emulated=[EmulatedPort(emu.url, DeviceModel.SPECTRAL_PAYOUT, emu.address)],
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-test")
    thread.start()
    try:
        started = threading.Event()
        for _ in range(500):  # (10 s at most)
            if server.started or started.wait(0.02):
                break
        assert server.started, "uvicorn did not start"
        yield app, port
    finally:
        server.should_exit = True
        thread.join(15)


FIXTURE = HERE / "seed_examples.json"
# emulator model and currency for each deviceID prefix the seed's examples use
MODELS = {
    "SPECTRAL_PAYOUT": ("SPECTRAL_PAYOUT", "GBP"),
    "NV200S": ("SPECTRAL_PAYOUT", "GBP"),
    "NV4000": ("NV4000", "EUR"),
    "SMART_COIN_SYSTEM": ("SMART_COIN_SYSTEM", "GBP"),
    "TWIN_SMART_COIN_SYSTEM": ("TWIN_SMART_COIN_SYSTEM", "GBP"),
}


def seed_examples() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


@pytest.fixture(autouse=True)
def _no_stray_threads() -> Iterator[None]:
    """Replaces the per-test leak check: a module's server lives across its tests (see _module_threads)."""
    yield


@pytest.fixture(scope="module", autouse=True)
def _module_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    assert_no_new_threads(before)


def status_scope(rig: Rig, device_id: str) -> dict[str, Any]:
    """The ASGI scope of an authenticated GetDeviceStatus of ``device_id``, for a test that plays
    the client's side of the connection itself (a client that leaves mid-request)."""
    path = "/api/CashDevice/GetDeviceStatus"
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": f"deviceID={quote(device_id, safe='')}".encode(),
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {rig.token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


class Rig:
    """A running server, its emulators and an authenticated client."""

    def __init__(self, tmp: Path, prefixes: list[str]) -> None:
        self.emulators: dict[str, Emulator] = {}
        ports = []
        for prefix in prefixes:
            model, currency = MODELS[prefix]
            emu = Emulator(model, currency, levels=_levels(model), **FAST)  # type: ignore[arg-type]
            emu.start()
            self.emulators[prefix] = emu
            ports.append(EmulatedPort(emu.url, DeviceModel[model], emu.address))
        self.credentials = tmp / "credentials.json"
        self.app = create_app(credentials_path=self.credentials, emulated=ports)
        self.client = TestClient(self.app)
        self.client.__enter__()
        self.token = self.authenticate()
        self.ids: dict[str, str] = {}

    def authenticate(self, username: str = "admin", password: str = "password") -> str:
        r = self.client.post("/api/Users/Authenticate", json={"Username": username, "Password": password})
        assert r.status_code == 200, r.text
        token: str = r.json()["token"]
        return token

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def open(self, prefix: str, **extra: Any) -> str:
        emu = self.emulators[prefix]
        body = {"ComPort": emu.url, "SspAddress": emu.address, "EnableAcceptor": True, **extra}
        r = self.client.post("/api/CashDevice/OpenConnection", json=body, headers=self.auth)
        assert r.status_code == 200, r.text
        device_id: str = r.json()["deviceID"]
        self.ids[prefix] = device_id
        return device_id

    def url(self, name: str, device_id: str) -> str:
        return f"/api/CashDevice/{name}?deviceID={quote(device_id, safe='')}"

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        for emu in self.emulators.values():
            emu.stop()


def _levels(model: str) -> dict[Any, int] | None:
    if model == "SPECTRAL_PAYOUT":
        return {500: 5, 1000: 5, 2000: 5}
    if model in ("SMART_COIN_SYSTEM", "TWIN_SMART_COIN_SYSTEM"):
        return {(100, "GBP"): 20, (10, "GBP"): 20}
    return None


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    r = Rig(tmp_path_factory.mktemp("rest"), list(MODELS))
    for prefix in MODELS:
        if prefix != "NV200S":
            r.open(prefix)
    r.ids["NV200S"] = r.ids["SPECTRAL_PAYOUT"]
    yield r
    r.close()
