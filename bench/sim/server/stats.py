"""Request counters of the sim-server, served at `GET /_undertow/stats`.

Tests read them to check what a client really sent: how many requests (retries
included), which statuses came back, which faults fired, how many overlapped, and
(at `GET /_undertow/arrivals`) when each completion request came in.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

#: Arrival times kept (per reset) for `GET /_undertow/arrivals`.
MAX_ARRIVALS = 200_000


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
            self.rate_limited = 0  # completions refused by the server's rpm limit (429)
            self.origin = time.monotonic()
            self.arrivals: list[tuple[float, int]] = []  # (seconds since reset, 1 served / 0 refused)

    def arrive(self, admitted: bool) -> None:
        """Note a completion request's arrival (its time, whether the rpm limit let it in)."""
        with self._lock:
            if not admitted:
                self.rate_limited += 1
            if len(self.arrivals) < MAX_ARRIVALS:
                self.arrivals.append((round(time.monotonic() - self.origin, 6), int(admitted)))

    def arrivals_dict(self) -> dict:
        with self._lock:
            return {"arrivals": [list(a) for a in self.arrivals], "truncated": len(self.arrivals) >= MAX_ARRIVALS}

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
                    "max_in_flight": self.max_in_flight, "rate_limited": self.rate_limited}
