"""Requests per second of GetDeviceStatus and GetAllLevels with 10 concurrent clients.

Run: ``PYTHONPATH=. python3 benchmarks/rest_throughput.py [--seconds 5]`` — starts the REST app under uvicorn
on a free localhost port with an emulated SPECTRAL_PAYOUT, opens it, then 10 client threads (httpx) call each
route for the given time.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from cashdevice.emulator import Emulator
from cashdevice.enums import DeviceModel
from cashdevice.rest import EmulatedPort, create_app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    emu = Emulator("SPECTRAL_PAYOUT", "EUR")
    emu.start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = Path(tempfile.mkdtemp())
    app = create_app(
        credentials_path=tmp / "c.json",
        emulated=[EmulatedPort(emu.url, DeviceModel.SPECTRAL_PAYOUT, emu.address)],
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}/api"
    token = httpx.post(
        f"{base}/Users/Authenticate", json={"Username": "admin", "Password": "password"}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    device_id = httpx.post(
        f"{base}/CashDevice/OpenConnection", json={"ComPort": emu.url}, headers=headers, timeout=30
    ).json()["deviceID"]
    for route in ("GetDeviceStatus", "GetAllLevels"):
        counts = [0] * args.clients
        stop = time.monotonic() + args.seconds

        def client(i: int, route: str = route, stop: float = stop, counts: list[int] = counts) -> None:
            with httpx.Client(headers=headers, timeout=30) as c:
                while time.monotonic() < stop:
                    r = c.get(f"{base}/CashDevice/{route}", params={"deviceID": device_id})
                    assert r.status_code == 200
                    counts[i] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"{route}: {sum(counts) / args.seconds:.0f} requests/s with {args.clients} clients")
    server.should_exit = True
    thread.join()
    emu.stop()


if __name__ == "__main__":
    main()
