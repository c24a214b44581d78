"""Every route with odd bodies, on three models: none answers 500 from an exception (a soak: about 25 s)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cashdevice.rest.routes import ROUTES

from .rig import Rig

BODIES: list[Any] = [
    None,
    {},
    [],
    "x",
    0,
    -1,
    2**32,
    2**64,
    1.5,
    True,
    "",
    [0],
    [2**31] * 25,
    [-1, 0],
    [[1]],
    {"a": 1},
    {"Value": 0, "CountryCode": "GBP"},
    {"Value": 2**32 - 1, "CountryCode": "GBP"},
    {"Value": 500, "CountryCode": "XXX"},
    {"Value": 500, "CountryCode": "GBP", "NumNotes": 2**32 - 1},
    {"Value": 500, "CountryCode": "GBP", "NumNotes": 0},
    {"Value": 500, "CountryCode": "GBP", "Route": 7},
    {"Value": 500, "CountryCode": "GBP", "Inhibit": True, "NumCoinsToAdd": 65535},
    {"Index": 2**32 - 1, "Inhibit": True},
    {"Index": 3, "Inhibit": True},
    {"ValueCountryCodes": ["500 GBP", "9999999999 GBP"], "Inhibit": True},
    {"ValueCountryCodes": [], "Inhibit": True},
    {"ModuleNumber": 255, "IsNV4000": True},
    {"CustomCommandDataString": "ff" * 255},
    {"CustomCommandDataString": "00"},
    {"EnableReaders": 255, "BarCodeFormat": 255, "NumberOfCharacters": 255},
    {"Reg0": 255, "Reg1": 255},
    {"Device": 255, "Hopper": 255},
    {"Day": 31, "Month": 2, "Year": 99},
    {"Day": 0, "Month": 13, "Year": 255, "Hour": 99, "Minute": 99, "Second": 99},
    {"DownloadFileName": "/etc/passwd", "ComPort": "COM9"},
    {"DownloadFileName": "\x00", "ComPort": "\x00"},
    {"ValueCountryCodes": ["500 GBP"], "Inhibit": False},
    {"Username": "x", "Password": "y"},
    {"ComPort": "cashdevice://nope", "SspAddress": 0},
]


@pytest.mark.soak
def test_no_route_answers_500_from_an_exception(rig: Rig) -> None:
    bad = []
    for route in ROUTES:
        if route.name in ("DisconnectDevice", "UpdateCredentials", "ResetDevice", "StartDownload"):
            continue
        ids = (
            [rig.ids["SPECTRAL_PAYOUT"], rig.ids["SMART_COIN_SYSTEM"], rig.ids["NV4000"]]
            if route.needs_device
            else [""]
        )
        for device_id in ids:
            url = rig.url(route.name, device_id) if route.needs_device else route.path
            for body in BODIES:
                content = b"" if body is None else json.dumps(body).encode()
                r = rig.client.request(
                    route.method,
                    url,
                    content=content,
                    headers={**rig.auth, "content-type": "application/json"},
                )
                if r.status_code >= 500 and (
                    "Internal error" in r.text or "Internal Server Error" in r.text or not r.text
                ):
                    bad.append((route.name, device_id.split("-")[0], body, r.status_code, r.text[:120]))
    assert not bad, "\n".join(map(str, bad))
