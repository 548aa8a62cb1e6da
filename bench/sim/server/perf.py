"""Benchmark of the sim-server alone: what it adds per request and under concurrency.

The client is deliberately minimal (stdlib `http.client`, one keep-alive connection per
thread), so the figures describe the server, not an SDK. The server runs in a child
process, as in the LLM benchmark. `server_perf()` returns a JSON-ready dict; the lead can
expose it as `undertow perf sim-server`.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .harness import ServerHandle, start_in_subprocess

_BODY = {"model": "sim", "temperature": 0.0, "messages": [{"role": "user", "content": "Say hi."}]}


def _connect(srv: ServerHandle) -> http.client.HTTPConnection:
    host, port = srv.url.removeprefix("http://").rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=60)


def _call(conn: http.client.HTTPConnection, body: bytes) -> None:
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"sim-server answered {resp.status}: {data[:200]!r}")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc); NaN elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_perf(sequential: int = 1000, calls: int = 1000, concurrency: int = 64,
                latency_s: float = 0.05, repeats: int = 3) -> dict:
    """Round-trip time of sequential keep-alive calls (no latency), the server's CPU per
    call, and `calls` at `concurrency` with `latency_s` server-side delay against the
    ideal `calls / concurrency * latency_s`. Each figure is the median of `repeats`."""
    body = json.dumps(_BODY).encode()
    with start_in_subprocess() as srv:
        assert srv.process is not None
        conn = _connect(srv)
        rtts, cpus = [], []
        for _ in range(repeats):
            cpu0 = _cpu_s(srv.process.pid)
            for _ in range(sequential):
                t = time.perf_counter()
                _call(conn, body)
                rtts.append(time.perf_counter() - t)
            cpus.append((_cpu_s(srv.process.pid) - cpu0) / sequential)
        conn.close()

        srv.set_faults(latency_s=latency_s)
        local = threading.local()

        def one(_: int) -> None:
            if not hasattr(local, "conn"):
                local.conn = _connect(srv)
            _call(local.conn, body)

        walls = []
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(concurrency)))  # open every connection first
            for _ in range(repeats):
                t = time.perf_counter()
                list(pool.map(one, range(calls)))
                walls.append(time.perf_counter() - t)
        stats = srv.stats()
    ideal = calls / concurrency * latency_s
    wall = statistics.median(walls)
    rtts.sort()
    return {
        "llm": "sim",
        "sequential_calls": sequential * repeats,
        "rtt_us_p50": round(rtts[len(rtts) // 2] * 1e6, 1),
        "rtt_us_p99": round(rtts[int(len(rtts) * 0.99)] * 1e6, 1),
        "server_cpu_us_per_call": round(statistics.median(cpus) * 1e6, 1),
        "concurrency": {"calls": calls, "concurrency": concurrency, "latency_s": latency_s,
                        "wall_s": round(wall, 3), "walls_s": [round(w, 3) for w in walls],
                        "ideal_s": round(ideal, 3), "ratio": round(wall / ideal, 3),
                        "max_in_flight": stats["max_in_flight"], "repeats": repeats},
    }


if __name__ == "__main__":
    print(json.dumps(server_perf(), indent=2))
