"""401 / 400 / 404, credentials storage, token expiry and ASP.NET-like binding."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from cashdevice.rest.auth import CredentialStore, TokenStore

from .rig import Rig


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    r = Rig(tmp_path_factory.mktemp("sec"), ["SPECTRAL_PAYOUT"])
    r.open("SPECTRAL_PAYOUT")
    yield r
    r.close()


def test_every_route_answers_401_without_a_valid_token(rig: Rig) -> None:
    from cashdevice.rest.routes import ROUTES

    for route in ROUTES:
        if not route.auth:
            continue
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
            r = rig.client.request(route.method, route.path + "?deviceID=x", headers=headers, content=b"{bad")
            assert r.status_code == 401, (route.name, headers, r.status_code)  # token checked before the body


def test_authenticate_wrong_credentials_is_400_with_the_seeds_message(rig: Rig) -> None:
    r = rig.client.post("/api/Users/Authenticate", json={"Username": "admin", "Password": "nope"})
    assert r.status_code == 400
    assert r.json() == {"message": "Username or password is incorrect"}
    r = rig.client.post("/api/Users/Authenticate", content=b"{not json")
    assert r.status_code == 400 and "not valid JSON" in r.json()["message"]


def test_default_credentials_warn(rig: Rig) -> None:
    r = rig.client.post("/api/Users/Authenticate", json={"username": "admin", "PASSWORD": "password"})
    assert r.status_code == 200 and "UpdateCredentials" in r.headers["x-credentials-warning"]


def test_malformed_input_is_400_and_reaches_no_device(rig: Rig) -> None:
    device_id = rig.ids["SPECTRAL_PAYOUT"]
    emu = rig.emulators["SPECTRAL_PAYOUT"]
    before = emu.status()
    cases = [
        ("POST", "DispenseValue", b"{bad json"),
        ("POST", "DispenseValue", b'{"Value": "1500", "CountryCode": "GBP"}'),
        ("POST", "DispenseValue", b'{"Value": -5, "CountryCode": "GBP"}'),
        ("POST", "DispenseValue", b'{"CountryCode": "GBP"}'),
        ("POST", "DispenseValue", b'{"Value": 500, "CountryCode": "EURO"}'),
        ("POST", "SetAutoAccept", b'"yes"'),
        ("POST", "SetAutoAccept", b""),
        ("POST", "Float", b"[1, true]"),
        ("POST", "Float", b"[]"),
        ("POST", "SendCustomCommand", b'{"CustomCommandDataString": "zz"}'),
        ("POST", "SetDenominationInhibits", b'{"ValueCountryCodes": ["twenty GBP"], "Inhibit": true}'),
        ("POST", "SetDenominationRoute", b'{"Value": 500, "CountryCode": "GBP", "Route": 99}'),
        ("POST", "DeviceState_StartupReady", b"400"),
        ("GET", "GetCoinAcceptance", b"[]"),
    ]
    for method, name, body in cases:
        r = rig.client.request(method, rig.url(name, device_id), content=body, headers=rig.auth)
        assert r.status_code == 400, (name, body, r.status_code, r.text)
        assert r.json()["message"], r.text
    r = rig.client.post(
        "/api/CashDevice/DispenseValue", json={"Value": 1, "CountryCode": "GBP"}, headers=rig.auth
    )
    assert r.status_code == 400 and "deviceID" in r.json()["message"]
    assert emu.status()["ledger"] == before["ledger"] if "ledger" in before else True


def test_unknown_device_id_is_404(rig: Rig) -> None:
    for name in ("GetDeviceStatus", "GetAllLevels", "DispenseValue"):
        r = rig.client.post(rig.url(name, "SPECTRAL_PAYOUT-/dev/ttyACM0"), headers=rig.auth)
        assert r.status_code in (404, 405)
    r = rig.client.get(rig.url("GetDeviceStatus", "SPECTRAL_PAYOUT-/dev/ttyACM0"), headers=rig.auth)
    assert r.status_code == 404 and r.text == "SPECTRAL_PAYOUT-/dev/ttyACM0: Cash device not found."
    r = rig.client.post(rig.url("DisconnectDevice", "NV200"), headers=rig.auth)
    assert r.status_code == 404 and r.text == "Device with ID NV200 not found."


def test_open_connection_of_an_already_open_port_is_refused(rig: Rig) -> None:
    emu = rig.emulators["SPECTRAL_PAYOUT"]
    r = rig.client.post("/api/CashDevice/OpenConnection", json={"ComPort": emu.url}, headers=rig.auth)
    assert r.status_code == 400 and r.json()["openResult"] == "ALREADY_OPEN"
    r = rig.client.post(
        "/api/CashDevice/OpenConnection", json={"ComPort": "/nonexistent/port"}, headers=rig.auth
    )
    assert r.status_code == 400
    assert r.json() == {"deviceID": "", "openResult": "PORT_ERROR", "error": "Failed to open device."}


def test_case_insensitive_paths_and_keys_get_with_body_and_encoded_ids(rig: Rig) -> None:
    device_id = rig.ids["SPECTRAL_PAYOUT"]
    encoded = quote(device_id, safe="")
    assert "%3A%2F%2F" in encoded  # cashdevice://... arrives URL-encoded
    r = rig.client.get(f"/API/cashdevice/getALLlevels?DEVICEID={encoded}", headers=rig.auth)
    assert r.status_code == 200 and r.json()["success"] is True
    r = rig.client.request("GET", rig.url("GetCoinAcceptance", device_id), content=b"0", headers=rig.auth)
    assert r.status_code in (200, 400)  # a GET with a body is bound; a note validator has no coin acceptance
    r = rig.client.post(
        rig.url("SetDenominationInhibit", device_id),
        json={"value": 1000, "COUNTRYCODE": "gbp", "inhibit": False},
        headers=rig.auth,
    )
    assert r.status_code == 200 and r.text.endswith(
        "Denomination 1000 for country GBP successfully uninhibited."
    )


def test_credentials_are_hashed_in_an_owner_only_file_and_updatable(rig: Rig) -> None:
    path = rig.credentials
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["kdf"] == "scrypt" and "password" not in path.read_text()
    token = rig.authenticate()
    headers = {"Authorization": f"Bearer {token}"}
    bad = {
        "CurrentUsername": "admin",
        "CurrentPassword": "wrong",
        "NewUsername": "ops",
        "NewPassword": "s3cret-pass",
    }
    r = rig.client.post("/api/Users/UpdateCredentials", json=bad, headers=headers)
    assert r.status_code == 401 and r.text == "Old username or password is incorrect"
    good = {
        "OldUsername": "admin",
        "OldPassword": "password",
        "NewUsername": "ops",
        "NewPassword": "s3cret-pass",
    }
    r = rig.client.post("/api/Users/UpdateCredentials", json=good, headers=headers)
    assert r.status_code == 200 and r.json() == {"message": "Credentials updated successfully"}
    assert CredentialStore(path).verify("ops", "s3cret-pass") and not CredentialStore(path).is_default
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    r = rig.client.get(rig.url("GetAllLevels", rig.ids["SPECTRAL_PAYOUT"]), headers=rig.auth)
    assert r.status_code == 401  # other tokens were revoked
    rig.token = rig.authenticate("ops", "s3cret-pass")
    back = {
        "OldUsername": "ops",
        "OldPassword": "s3cret-pass",
        "NewUsername": "admin",
        "NewPassword": "password",
    }
    r = rig.client.post("/api/Users/UpdateCredentials", json=back, headers=rig.auth)
    assert r.status_code == 200


def test_tokens_expire() -> None:
    now = [100.0]
    tokens = TokenStore(ttl=60.0, clock=lambda: now[0])
    token = tokens.issue()
    assert tokens.valid(token) and not tokens.valid(token + "x")
    now[0] += 59.0
    assert tokens.valid(token)
    now[0] += 2.0
    assert not tokens.valid(token)
