"""Request counters of the sim-server, served at `GET /_undertow/stats`.

Tests read them to check what a client really sent: how many requests (retries
included), which statuses came back, which faults fired, how many overlapped.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Stats:
    """Thread-safe request counters served at `/_undertow/stats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests = 0  # valid API requests (chat, messages, models); control calls excluded
            self.by_path: Counter[str] = Counter()
            self.by_status: Counter[int] = Counter()
            self.faults: Counter[str] = Counter()
            self.streams = 0
            self.connections = 0
            self.in_flight = 0
            self.max_in_flight = 0

    def begin(self, path: str, stream: bool = False) -> None:
        with self._lock:
            self.requests += 1
            self.by_path[path] += 1
            self.streams += stream
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def count(self, counter: str, key: Any) -> None:
        with self._lock:
            getattr(self, counter)[key] += 1

    def connection(self) -> None:
        with self._lock:
            self.connections += 1

    def to_dict(self) -> dict:
        with self._lock:
            return {"requests": self.requests, "by_path": dict(self.by_path),
                    "by_status": {str(k): v for k, v in self.by_status.items()},
                    "faults": dict(self.faults), "streams": self.streams,
                    "connections": self.connections, "in_flight": self.in_flight,
                    "max_in_flight": self.max_in_flight}
