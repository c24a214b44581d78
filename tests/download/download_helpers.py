"""Helpers shared by the download tests: fast timings and a callback recorder."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from cashdevice.download import DownloadTiming
from cashdevice.enums import DownloadState

FAST = DownloadTiming(
    baud_settle=0.0,
    ram_start=0.02,
    reply_timeout=0.5,
    ssp_timeout=0.2,
    ssp_retries=2,
    reset_timeout=3.0,
    reopen_interval=0.05,
)
"""Short pauses for tests (the manual's are 0.5 s / 2.5 s / 1 s / 10 s)."""


@dataclass
class Recorder:
    """Collects both callbacks in arrival order (the BufferedReader pattern of the style guide)."""

    events: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_state(self, state: DownloadState, message: str) -> None:
        with self.lock:
            self.events.append(("state", (state, message)))

    def on_block(self, ram: int, total_ram: int, block: int, total: int) -> None:
        with self.lock:
            self.events.append(("block", (ram, total_ram, block, total)))

    def states(self) -> list[DownloadState]:
        with self.lock:
            return [e[1][0] for e in self.events if e[0] == "state"]  # type: ignore[misc]

    def blocks(self) -> list[tuple[object, ...]]:
        with self.lock:
            return [e[1] for e in self.events if e[0] == "block"]
