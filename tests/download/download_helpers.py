"""Helpers shared by the download tests: a callback recorder (fast timings: ``support.FAST_DOWNLOAD``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from cashdevice.enums import DownloadState


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
