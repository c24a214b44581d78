"""The devices an OpenConnection created, each with its own worker threads.

Every device gets a small :class:`~concurrent.futures.ThreadPoolExecutor`; its routes run there, so a slow or
unplugged device only ever occupies its own workers and never the event loop or another device's routes.
``CashDevice`` itself is thread-safe (one link lock), so several workers may call it at once.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .._port_claims import port_key
from ..cash_device import CashDevice
from ..enums import DeviceModel
from ..records import CashEventResponse, DispenserTransactionEventResponse

WORKERS_PER_DEVICE = 4

log = logging.getLogger("cashdevice.rest")


@dataclass
class EmulatedPort:
    """An emulator the server started: its port, model and SSP address."""

    port: str
    model: DeviceModel
    address: int


@dataclass
class DeviceEntry:
    device_id: str
    port: str
    device: CashDevice
    executor: ThreadPoolExecutor
    closing: bool = False
    """A DisconnectDevice is closing it: its other calls go on (and fail as on a closed device)."""


@dataclass
class Registry:
    emulated: dict[str, EmulatedPort] = field(default_factory=dict)
    devices: dict[str, DeviceEntry] = field(default_factory=dict)
    opening: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    admin: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="rest-admin")
    )
    downloads: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="rest-download")
    )
    downloader: CashDevice | None = None
    download_port: str = ""
    """The port of :attr:`downloader`'s last StartDownload."""
    undelivered: dict[str, tuple[str, list[Any]]] = field(default_factory=dict)
    """Per port: ``(deviceID, events)`` that a device's close fired after its client's last
    GetDeviceStatus (a credited note's STACKED, a payout's COMPLETED in the last poll): answered by
    the next GetDeviceStatus of that deviceID, or put first in the queue of the next device opened
    on the port, so that none is lost."""

    def get(self, device_id: str) -> DeviceEntry | None:
        with self.lock:
            return self.devices.get(device_id)

    def port_in_use(self, port: str) -> bool:
        with self.lock:
            return port in self.opening or any(e.port == port for e in self.devices.values())

    def downloading_to(self, port: str) -> bool:
        """True while the server's firmware download runs on ``port``."""
        with self.lock:
            downloader, download_port = self.downloader, self.download_port
        if downloader is None or not downloader.isDownloading:
            return False
        return port_key(download_port) == port_key(port)

    def device_id_on(self, port: str) -> str:
        """The deviceID of the device open on ``port``; "" when none is (or it is still opening)."""
        with self.lock:
            return next((e.device_id for e in self.devices.values() if e.port == port), "")

    def reserve(self, port: str) -> bool:
        """Mark ``port`` as being opened; False if it is open or being opened already."""
        with self.lock:
            if port in self.opening or any(e.port == port for e in self.devices.values()):
                return False
            self.opening.add(port)
            return True

    def release(self, port: str) -> None:
        with self.lock:
            self.opening.discard(port)

    def add(self, entry: DeviceEntry) -> None:
        """``entry`` is open; events of an earlier device of its port that no client has taken go
        first in its queue (before anyone can reach it)."""
        with self.lock:
            self.opening.discard(entry.port)
            left = self.undelivered.pop(entry.port, None)
            if left is not None:
                entry.device._return_status(left[1])
            self.devices[entry.device_id] = entry

    def begin_close(self, device_id: str) -> DeviceEntry | None:
        """The entry of ``device_id``, marked closing; None when there is none or it is closing."""
        with self.lock:
            entry = self.devices.get(device_id)
            if entry is None or entry.closing:
                return None
            entry.closing = True
            return entry

    def finish_close(self, entry: DeviceEntry) -> None:
        """``entry`` is closed: out of the registry, and what its close fired kept for a client
        (:attr:`undelivered`).  Until now a GetDeviceStatus still drained its queue."""
        with self.lock:
            if self.devices.get(entry.device_id) is entry:
                del self.devices[entry.device_id]
            left = list(entry.device.GetDeviceStatus())
            if left:
                earlier = self.undelivered.get(entry.port)
                if earlier is not None:
                    left = earlier[1] + left
                self.undelivered[entry.port] = (entry.device_id, left)

    def return_status(self, entry: DeviceEntry, events: list[Any]) -> None:
        """Put back events a GetDeviceStatus took from ``entry`` (its client went away): into its
        queue while it is in the registry, else (closed meanwhile) before what its close left."""
        with self.lock:
            if self.devices.get(entry.device_id) is entry:
                entry.device._return_status(events)
            else:
                self._put_back(entry.device_id, entry.port, events)

    def take_undelivered(self, device_id: str) -> tuple[str, list[Any]] | None:
        """``(port, events)`` kept for ``device_id`` (and forgotten here), None when there are none."""
        with self.lock:
            for port, (owner, events) in self.undelivered.items():
                if owner == device_id:
                    del self.undelivered[port]
                    return port, events
            return None

    def keep_undelivered(self, device_id: str, port: str, events: list[Any]) -> None:
        """Put back events :meth:`take_undelivered` gave (their client went away), before any
        kept since."""
        with self.lock:
            self._put_back(device_id, port, events)

    def _put_back(self, device_id: str, port: str, events: list[Any]) -> None:
        """``events`` first among those kept for ``port`` (under :attr:`lock`); when a device has
        been opened on the port meanwhile, first in its queue (as :meth:`add` does), where its
        GetDeviceStatus finds them: kept aside, nothing would read them until that device closed."""
        current = next((e for e in self.devices.values() if e.port == port), None)
        if current is not None:
            current.device._return_status(events)
            return
        later = self.undelivered.get(port)
        self.undelivered[port] = (device_id, events + (later[1] if later is not None else []))

    def close_all(self) -> None:
        """Close every device and join every worker thread (server shutdown).  Events no client
        took (a credit, a payout's end) are logged: nobody can ask for them any more."""
        with self.lock:
            entries = list(self.devices.values())
            self.devices.clear()
        for entry in entries:
            entry.device.Close()
            entry.executor.shutdown(wait=True, cancel_futures=True)
            left = list(entry.device.GetDeviceStatus())
            if left:
                self.undelivered.setdefault(entry.port, (entry.device_id, []))[1].extend(left)
        for device_id, events in self.undelivered.values():
            for event in events:
                if isinstance(event, (CashEventResponse, DispenserTransactionEventResponse)):
                    log.warning("%s: not delivered to any client before shutdown: %s", device_id, event)
        self.undelivered.clear()
        if self.downloader is not None:
            self.downloader.Close()
        self.admin.shutdown(wait=True, cancel_futures=True)
        self.downloads.shutdown(wait=True, cancel_futures=True)
