"""Seed flows end to end: OpenConnection with the seed's own body, credits, escrow, payouts, disconnect,
download status, concurrent clients, and the seed's curl commands."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from cashdevice.rest.registry import WORKERS_PER_DEVICE

from .rig import Rig, seed_examples, served, status_scope

SECTIONS = {s["name"]: s for s in seed_examples()["sections"]}


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    r = Rig(tmp_path_factory.mktemp("flows"), ["SPECTRAL_PAYOUT", "NV4000"])
    yield r
    r.close()


def _events_until(rig: Rig, device_id: str, wanted: str, timeout: float = 5.0) -> list[dict[str, Any]]:
    """GetDeviceStatus until an event whose message contains ``wanted`` (deadline, no fixed sleep)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        r = rig.client.get(rig.url("GetDeviceStatus", device_id), headers=rig.auth)
        assert r.status_code == 200
        seen += r.json()
        if any(wanted in e.get("message", "") for e in seen):
            return seen
        pause.wait(0.02)
    raise AssertionError(f"no {wanted!r} in {seen}")


def test_open_connection_with_the_seeds_body(rig: Rig) -> None:
    section = SECTIONS["OpenConnection"]
    body = dict(section["request"]["body_json"])
    emu = rig.emulators["SPECTRAL_PAYOUT"]
    body["ComPort"], body["LogFilePath"] = emu.url, None
    r = rig.client.post("/api/CashDevice/OpenConnection", json=body, headers=rig.auth)
    assert r.status_code == 200, r.text
    seed = next(x["json"] for x in section["responses"] if x["status"] == 200)
    got = r.json()
    assert list(got)[: len(seed)] == list(seed)
    assert got["deviceID"] == f"SPECTRAL_DEVICE-{emu.url}"
    assert got["inhibits"] == "SUCCESS: 2000 GBP INHIBITED.\nSUCCESS: 5000 GBP INHIBITED.\n"
    assert (
        got["routes"]
        == "SUCCESS: Set route for 500 GBP to PAYOUT.\nSUCCESS: Set route for 1000 GBP to PAYOUT.\n"
    )
    assert got["acceptorEnabled"] and got["autoAcceptEscrowEnabled"] and got["payoutEnabled"]
    rig.ids["SPECTRAL_PAYOUT"] = got["deviceID"]


def test_credit_and_payout(rig: Rig) -> None:
    device_id = rig.ids["SPECTRAL_PAYOUT"]
    emu = rig.emulators["SPECTRAL_PAYOUT"]
    emu.insert_note(1000)
    events = _events_until(rig, device_id, "Cash event: STORED - Value: 1000")
    assert any(e["type"] == "CashEventResponse" and e["countryCode"] == "GBP" for e in events)
    r = rig.client.post(
        rig.url("DispenseValue", device_id), json={"Value": 1000, "CountryCode": "GBP"}, headers=rig.auth
    )
    assert r.status_code == 200 and r.text == "Dispense operation initiated successfully."
    _events_until(rig, device_id, "NOTE_IN_BEZEL_HOLD")
    emu.take_notes()
    _events_until(rig, device_id, "Cash event: DISPENSED")


def _stored(rig: Rig, device_id: str, value: int) -> None:
    """Insert a note and wait, on the server's own CashDevice, until its STORED is queued for
    GetDeviceStatus (no REST call takes anything meanwhile)."""
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


def _get_status_from_a_client_that_leaves(rig: Rig, device_id: str, *, leaves_at_once: bool) -> int:
    """GetDeviceStatus straight through the ASGI app, from a client that disconnects: at once
    (``leaves_at_once``), or while the server prepares its answer (the second time the server
    looks).  Returns the status the server sent (to nobody)."""
    looks = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal looks
        looks += 1
        if looks == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        if looks == 2 and not leaves_at_once:
            await asyncio.Event().wait()  # still there: nothing to receive (the server moves on)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(rig.app(status_scope(rig, device_id), receive, send))
    status: int = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status


@pytest.mark.parametrize("leaves_at_once", [True, False], ids=["before the call", "while it runs"])
def test_get_device_status_keeps_its_events_for_a_client_that_went_away(
    rig: Rig, leaves_at_once: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """A credit in GetDeviceStatus's queue is not lost when the client that asked for it times out
    or disconnects before the answer is sent: the next call still gets it (the queue is drained
    as it is read, so without this the STORED was gone)."""
    device_id = rig.ids["SPECTRAL_PAYOUT"]
    assert rig.client.get(rig.url("GetDeviceStatus", device_id), headers=rig.auth).status_code == 200
    _stored(rig, device_id, 1000)
    with caplog.at_level(logging.INFO, logger="cashdevice.rest"):
        assert _get_status_from_a_client_that_leaves(rig, device_id, leaves_at_once=leaves_at_once) == 499
    said = "nothing taken" if leaves_at_once else "its events stay queued"
    assert any(said in r.getMessage() for r in caplog.records)
    r = rig.client.get(rig.url("GetDeviceStatus", device_id), headers=rig.auth)
    assert r.status_code == 200
    stored = [e for e in r.json() if "Cash event: STORED - Value: 1000" in e.get("message", "")]
    assert len(stored) == 1, r.json()


def test_get_device_status_answers_while_the_devices_workers_are_busy(rig: Rig) -> None:
    """Device calls that wait for a slow or unplugged device fill the device's workers; the event
    queue still answers at once (it needs no device), so a client's timeout does not cost it the
    credits GetDeviceStatus took for it."""
    device_id = rig.ids["SPECTRAL_PAYOUT"]
    entry = rig.app.state.server.registry.get(device_id)
    gate = threading.Event()
    busy = [entry.executor.submit(gate.wait, 30) for _ in range(WORKERS_PER_DEVICE)]
    try:
        _stored(rig, device_id, 500)
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(
                lambda: rig.client.get(rig.url("GetDeviceStatus", device_id), headers=rig.auth)
            )
            r = answer.result(timeout=5)
        assert r.status_code == 200
        assert any("Cash event: STORED - Value: 500" in e.get("message", "") for e in r.json())
        assert not any(f.done() for f in busy)  # the workers were busy all along
    finally:
        gate.set()
    for f in busy:
        f.result(timeout=5)


def test_download_routes(rig: Rig, tmp_path: Any) -> None:
    r = rig.client.post(
        "/api/Download/StartDownload",
        headers=rig.auth,
        json={"DownloadFileName": str(tmp_path / "missing.bv1"), "ComPort": "COM9"},
    )
    assert r.status_code == 400
    assert r.text == "Invalid parameters. Please provide a valid file name and COM port."
    r = rig.client.get("/api/Download/GetDownloadStatus", headers=rig.auth)
    assert r.status_code == 200 and set(r.json()) == {
        "state",
        "currentDownloadBlock",
        "totalDownloadBlock",
        "success",
    }


def _result(future: Future[int], timeout: float) -> int:
    """``future.result(timeout)``; when it times out, the failure shows where every thread waited
    (this test failed twice in about 17 full runs under four workers, never alone)."""
    try:
        return future.result(timeout=timeout)
    except futures.TimeoutError:  # the builtin TimeoutError only from Python 3.11
        names = {t.ident: t.name for t in threading.enumerate()}
        stacks = "\n".join(
            f"--- {names.get(ident, ident)}\n" + "".join(traceback.format_stack(frame)[-6:])
            for ident, frame in sys._current_frames().items()
        )
        raise AssertionError(f"no answer within {timeout} s; threads:\n{stacks}") from None


def test_concurrent_clients_and_a_slow_device_does_not_block_another(rig: Rig) -> None:
    nv4000 = rig.open("NV4000")
    spectral = rig.ids["SPECTRAL_PAYOUT"]

    def get(args: tuple[str, str]) -> int:
        return rig.client.get(rig.url(*args), headers=rig.auth).status_code

    calls = [("GetDeviceStatus", spectral), ("GetAllLevels", spectral), ("GetAllLevels", nv4000)] * 20
    with ThreadPoolExecutor(10) as pool:
        assert set(pool.map(get, calls)) == {200}
    # NV4000 unplugged: its calls wait for the link timeouts; Spectral's answer meanwhile.
    rig.emulators["NV4000"].power_off()
    try:
        with ThreadPoolExecutor(6) as pool:
            slow = [pool.submit(get, ("GetAllLevels", nv4000)) for _ in range(2)]
            fast = [pool.submit(get, ("GetAllLevels", spectral)) for _ in range(2)]
            assert [_result(f, 5) for f in fast] == [200, 200]
            assert not all(f.done() for f in slow)  # the Spectral answered while the NV4000 hangs
            for f in slow:
                f.result(timeout=30)
    finally:
        rig.emulators["NV4000"].power_on()


def test_disconnect_device(rig: Rig) -> None:
    device_id = rig.ids["NV4000"]
    r = rig.client.post(rig.url("DisconnectDevice", device_id), headers=rig.auth)
    assert r.status_code == 200 and r.text == f"{device_id}: Device disconnected and cleaned up successfully."
    assert rig.client.get(rig.url("GetAllLevels", device_id), headers=rig.auth).status_code == 404


def test_reset_device(rig: Rig) -> None:
    r = rig.client.post(rig.url("ResetDevice", rig.ids["SPECTRAL_PAYOUT"]), headers=rig.auth)
    assert r.status_code == 200 and r.text == "Device reset successfully."


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_seeds_curl_commands(tmp_path: Any) -> None:
    """Authenticate, OpenConnection (the seed's JSON file, ComPort replaced) and GetDeviceStatus, run with the
    seed's curl command lines (L324-L416) against a real uvicorn server."""
    from cashdevice.emulator import Emulator

    curl = {c["line"]: c for c in seed_examples()["curl"]}
    emu = Emulator("SPECTRAL_PAYOUT", "EUR")
    emu.start()
    try:
        with served(tmp_path, emu) as (_, port):
            _curl_flow(curl, emu, port, tmp_path)
    finally:
        emu.stop()


def _curl_flow(curl: dict[int, Any], emu: Any, port: int, tmp_path: Any) -> None:
    def run(command: str) -> str:
        command = command.split(" |", 1)[0].split("|jq", 1)[0].replace("-v ", "-s ")
        command = command.replace("localhost:5000", f"localhost:{port}").replace("/[PATH]/", f"{tmp_path}/")
        return subprocess.run(
            command, shell=True, capture_output=True, text=True, timeout=30, check=True
        ).stdout

    (tmp_path / "Authenticate.json").write_text('{"Username": "admin", "Password": "password"}')
    token = json.loads(run(curl[346]["command"]))["token"]
    opened = dict(curl[358]["open_connection_json"], ComPort=emu.url, LogFilePath=None)
    (tmp_path / "OpenConnectionSpectralPayout.json").write_text(json.dumps(opened))
    reply = json.loads(run(curl[404]["command"].replace("[Bearer Token]", token)))
    assert reply["deviceID"] == f"SPECTRAL_DEVICE-{emu.url}" and reply["payoutEnabled"] is True
    status = curl[415]["command"].replace("[Bearer Token]", token)
    status = status.replace("SEPCTRAL_PAYOUT-/dev/ttyACM0", reply["deviceID"].replace("://", "%3A%2F%2F"))
    events = json.loads(run(status))
    assert isinstance(events, list) and events


def test_escrow_hold_accept_and_return(rig: Rig) -> None:
    """SetAutoAccept false holds a note in escrow; AcceptFromEscrow stores it, ReturnFromEscrow
    gives the next one back (seed L3997, L4100, L4203)."""
    device_id = rig.ids["SPECTRAL_PAYOUT"]
    emu = rig.emulators["SPECTRAL_PAYOUT"]
    r = rig.client.post(rig.url("SetAutoAccept", device_id), content="false", headers=rig.auth)
    assert r.status_code == 200 and r.text.endswith("Auto-accept set to False"), r.text
    try:
        # an earlier test may have reset the unit: wait until the host has set it up again
        assert emu.wait_for(lambda e: e.status()["enabled"] and e.status()["inhibits"] != 0, 10)
        rig.client.get(rig.url("GetDeviceStatus", device_id), headers=rig.auth)  # drain
        assert emu.insert_note(1000, wait=5)  # earlier seed replays inhibit the higher channels
        _events_until(rig, device_id, "Cash event: ESCROW - Value: 1000")
        r = rig.client.post(rig.url("AcceptFromEscrow", device_id), headers=rig.auth)
        assert r.status_code == 200 and r.text.endswith(": Note can be accepted from escrow."), r.text
        _events_until(rig, device_id, "Cash event: STORED - Value: 1000")
        assert emu.insert_note(500, wait=5)
        _events_until(rig, device_id, "Cash event: ESCROW - Value: 500")
        r = rig.client.post(rig.url("ReturnFromEscrow", device_id), headers=rig.auth)
        assert r.status_code == 200 and r.text.endswith(": Note can be returned from escrow."), r.text
        _events_until(rig, device_id, "Cash event: REJECTED - Value: 500")
    finally:
        rig.client.post(rig.url("SetAutoAccept", device_id), content="true", headers=rig.auth)
