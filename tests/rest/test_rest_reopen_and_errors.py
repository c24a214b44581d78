"""The REST server against the seed's REST chapter, endpoint by endpoint: what a probe found that
differed from the seed or lost track of money (events given back after the port was reopened, an
ALREADY_OPEN without its deviceID, ``Error: None``, OpenConnection during a download)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from .rig import Rig, status_scope


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    r = Rig(tmp_path_factory.mktemp("restdoc"), ["SPECTRAL_PAYOUT", "SMART_COIN_SYSTEM"])
    r.open("SPECTRAL_PAYOUT")
    r.open("SMART_COIN_SYSTEM")
    yield r
    r.close()


def _status(rig: Rig, device_id: str) -> list[dict[str, Any]]:
    r = rig.client.get(rig.url("GetDeviceStatus", device_id), headers=rig.auth)
    assert r.status_code == 200, r.text
    out: list[dict[str, Any]] = r.json()
    return out


def _stored_in_queue(rig: Rig, device_id: str, value: int) -> None:
    """Insert a note and wait, on the server's own CashDevice, until its STORED is queued (no REST
    call takes anything meanwhile)."""
    device = rig.app.state.server.registry.get(device_id).device
    stored = threading.Event()

    def on_cash(sender: Any, e: Any) -> None:
        if e.eventType.name == "STORED" and e.value == value:
            stored.set()

    device.CashEvent.connect(on_cash)
    try:
        assert rig.emulators["SPECTRAL_PAYOUT"].insert_note(value, wait=5)
        assert stored.wait(5), "no STORED"
    finally:
        device.CashEvent.disconnect(on_cash)


def _status_from_a_client_that_leaves(rig: Rig, device_id: str, taken: Any, meanwhile: Any) -> int:
    """GetDeviceStatus straight through the ASGI app, from a client that is there until the server
    has ``taken()`` its events, then goes away; ``meanwhile()`` runs just before the server learns
    it has gone."""
    looks = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal looks
        looks += 1
        if looks == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        if not taken():
            await asyncio.Event().wait()  # still there (the server stops listening and moves on)
        meanwhile()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(rig.app(status_scope(rig, device_id), receive, send))
    status: int = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status


def test_credit_given_back_after_its_port_was_reopened_reaches_the_new_device(rig: Rig) -> None:
    """A note is credited; the integrator disconnects before it polled (the STORED is kept for the
    next GetDeviceStatus of that deviceID, cashdevice/rest/README.md).  Its GetDeviceStatus takes the
    STORED, but its client goes away before the answer is sent, and meanwhile the kiosk's OpenConnection
    of the same port completes.  The STORED is given back -- to the closed device's leftovers, which
    nothing reads while the port stays open: the new device's GetDeviceStatus never reports the credit
    (only a later DisconnectDevice, or the server's shutdown log, would)."""
    device_id = rig.ids["SPECTRAL_PAYOUT"]
    emu = rig.emulators["SPECTRAL_PAYOUT"]
    _status(rig, device_id)
    credited = emu.ledger.get(1000, "GBP").credited
    _stored_in_queue(rig, device_id, 1000)
    r = rig.client.post(rig.url("DisconnectDevice", device_id), headers=rig.auth)
    assert r.status_code == 200, r.text
    reopened: list[str] = []

    def reopen() -> None:
        if not reopened:
            reopened.append(rig.open("SPECTRAL_PAYOUT"))

    registry = rig.app.state.server.registry
    port = emu.url
    assert port in registry.undelivered  # the STORED, kept for the next GetDeviceStatus of device_id

    def taken() -> bool:
        return port not in registry.undelivered

    assert _status_from_a_client_that_leaves(rig, device_id, taken, reopen) == 499
    assert reopened == [device_id]  # (same port, same model: same deviceID)
    assert emu.ledger.get(1000, "GBP").credited == credited + 1
    seen: list[dict[str, Any]] = []
    start = emu.exchanges
    pause = threading.Event()
    while emu.exchanges < start + 10:  # ten exchanges of the new session: it is well under way
        seen += _status(rig, device_id)
        pause.wait(0.02)
    seen += _status(rig, device_id)
    stored = [e["message"] for e in seen if e.get("eventTypeAsString") == "STORED"]
    assert stored == ["Cash event: STORED - Value: 1000 Value2: 0 - CountryCode: GBP"], seen


@pytest.mark.parametrize("name", ["EnablePayoutDevice", "EnablePayoutDeviceWithByte"])
def test_enable_payout_device_failure_says_why(rig: Rig, name: str) -> None:
    """The seed's failure text is ``Failed to enable payout device. Error: {error_message}`` (L3453,
    L3598) and EnablePayoutDevice promises ``enablePayoutDeviceError`` "says why".  On a unit with no
    payout device (a SMART Coin System) the reason was never set: the answer read "Error: None" (a
    Python None where C# prints a message, or at least nothing)."""
    device_id = rig.ids["SMART_COIN_SYSTEM"]
    body = {"EnablePayoutDeviceByte": 0} if name.endswith("Byte") else None
    r = rig.client.post(rig.url(name, device_id), json=body, headers=rig.auth)
    assert r.status_code == 500, r.text
    assert r.text.startswith("Failed to enable payout device. Error: "), r.text
    reason = r.text.removeprefix("Failed to enable payout device. Error: ")
    assert reason and reason != "None", r.text


def test_open_connection_retried_after_a_lost_answer_tells_the_device_id(rig: Rig) -> None:
    """A kiosk's OpenConnection times out on its side (a slow start-up) while the server completes
    it: the device is open, its acceptor enabled (the body asked for it), and it takes the customer's
    note.  The kiosk retries and gets 400 ALREADY_OPEN with ``"deviceID": ""``: no route tells it the
    deviceID, so it can poll neither the credit nor the device (nor disconnect it).  The ALREADY_OPEN
    answer names the open device's deviceID, so the retry can carry on with it."""
    emu = rig.emulators["SPECTRAL_PAYOUT"]
    device_id = rig.ids["SPECTRAL_PAYOUT"]  # (the answer the kiosk never saw)
    _status(rig, device_id)
    credited = emu.ledger.get(500, "GBP").credited
    _stored_in_queue(rig, device_id, 500)
    assert emu.ledger.get(500, "GBP").credited == credited + 1
    body = {"ComPort": emu.url, "SspAddress": emu.address, "EnableAcceptor": True}
    r = rig.client.post("/api/CashDevice/OpenConnection", json=body, headers=rig.auth)
    assert r.status_code == 400 and r.json()["openResult"] == "ALREADY_OPEN", r.text
    told = r.json()["deviceID"]
    assert told == device_id, r.text
    stored = [e["message"] for e in _status(rig, told) if e.get("eventTypeAsString") == "STORED"]
    assert stored == ["Cash event: STORED - Value: 500 Value2: 0 - CountryCode: GBP"]


def test_open_connection_during_a_download_leaves_the_download_alone(rig: Rig, tmp_path: Any) -> None:
    """StartDownload refuses a port the server has open (cashdevice/rest/README.md); the converse was
    not checked.  On a serial port the OS's exclusive lock refuses the OpenConnection (PORT_ERROR) and
    the download goes on; on the emulator's ``cashdevice://`` port (``serve --emulator``, where
    integrators try this out) the OpenConnection took the device from the download, which FAILED.
    An OpenConnection of a port being downloaded to is refused before it touches the port."""
    from itl_files import make_itl_file

    emu = rig.emulators["SMART_COIN_SYSTEM"]
    device_id = rig.ids["SMART_COIN_SYSTEM"]
    assert rig.client.post(rig.url("DisconnectDevice", device_id), headers=rig.auth).status_code == 200
    path = tmp_path / "update.bv1"
    path.write_bytes(make_itl_file(ram_size=1000, data_size=8000))
    body = {"DownloadFileName": str(path), "ComPort": emu.url, "SspAddress": emu.address}
    r = rig.client.post("/api/Download/StartDownload", json=body, headers=rig.auth)
    assert r.status_code == 200, r.text
    r = rig.client.post(
        "/api/CashDevice/OpenConnection",
        json={"ComPort": emu.url, "SspAddress": emu.address},
        headers=rig.auth,
    )
    assert r.status_code == 400 and r.json()["openResult"] == "PORT_ERROR", r.text
    pause = threading.Event()
    for _ in range(600):  # (60 s at most)
        state = rig.client.get("/api/Download/GetDownloadStatus", headers=rig.auth).json()
        if state["state"] not in ("IDLE", "UPDATING"):
            break
        pause.wait(0.1)
    assert state["state"] == "COMPLETE" and state["success"] is True, state
