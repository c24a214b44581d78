"""The devices an OpenConnection created, each with its own worker threads.

Every device gets a small :class:`~concurrent.futures.ThreadPoolExecutor`; its routes run there, so a slow or
unplugged device only ever occupies its own workers and never the event loop or another device's routes.
``CashDevice`` itself is thread-safe (one link lock), so several workers may call it at once.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..cash_device import CashDevice
from ..enums import DeviceModel

WORKERS_PER_DEVICE = 4


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

    def get(self, device_id: str) -> DeviceEntry | None:
        with self.lock:
            return self.devices.get(device_id)

    def port_in_use(self, port: str) -> bool:
        with self.lock:
            return port in self.opening or any(e.port == port for e in self.devices.values())

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
        with self.lock:
            self.opening.discard(entry.port)
            self.devices[entry.device_id] = entry

    def remove(self, device_id: str) -> DeviceEntry | None:
        with self.lock:
            return self.devices.pop(device_id, None)

    def close_all(self) -> None:
        """Close every device and join every worker thread (server shutdown)."""
        with self.lock:
            entries = list(self.devices.values())
            self.devices.clear()
        for entry in entries:
            entry.device.Close()
            entry.executor.shutdown(wait=True, cancel_futures=True)
        if self.downloader is not None:
            self.downloader.Close()
        self.admin.shutdown(wait=True, cancel_futures=True)
        self.downloads.shutdown(wait=True, cancel_futures=True)
