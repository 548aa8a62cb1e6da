"""Start a sim-server for a test or a benchmark, and steer its faults while it runs.

`running_server(...)` serves in a background thread of this process (fast to start,
best for tests); `start_in_subprocess(...)` serves from a child Python process, so
the server does not share the client's GIL (use it for benchmarks). Both are context
managers that pick a free loopback port and yield a `ServerHandle`; both stop the
server (and every open connection) on exit.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .faults import FaultPlan, FaultRule, parse_fault_spec
from .httpd import Responder, SimServer

RuleLike = FaultRule | dict[str, Any] | str


def make_plan(rules: tuple[RuleLike, ...] | list[RuleLike] = (), *, latency_s: float = 0.0,
              seed: int = 0, rpm: float | None = None, rpm_burst: float | None = None) -> FaultPlan:
    """A `FaultPlan` from rules given as `FaultRule`s, dicts or spec strings (and an
    optional requests-per-minute limit, `rpm` with `rpm_burst`)."""
    parsed = [r if isinstance(r, FaultRule) else parse_fault_spec(r) if isinstance(r, str)
              else FaultRule.model_validate(r) for r in rules]
    return FaultPlan(latency_s=latency_s, rules=parsed, seed=seed, rpm=rpm, rpm_burst=rpm_burst)


@dataclass(frozen=True)
class ServerHandle:
    """A running sim-server: its addresses and its control endpoints.

    `url` is `http://127.0.0.1:PORT`; give `openai_base_url` (`url + "/v1"`) to
    `openai.OpenAI(base_url=...)` and `anthropic_base_url` (`url`) to
    `anthropic.Anthropic(base_url=...)`; any API key string is accepted.
    """

    url: str
    process: subprocess.Popen | None = None
    server: SimServer | None = None

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def set_faults(self, *rules: RuleLike, latency_s: float = 0.0, seed: int = 0,
                   rpm: float | None = None, rpm_burst: float | None = None) -> dict:
        """Replace the fault plan, e.g. `set_faults("status=429,times=2,retry_after_ms=10")`.

        Rules fire in order (see `FaultSchedule`); `latency_s` is added to every API
        request. Returns the installed plan with the hits left per rule.
        """
        plan = make_plan(rules, latency_s=latency_s, seed=seed, rpm=rpm, rpm_burst=rpm_burst)
        return self._call("POST", "/_undertow/faults", plan.model_dump(mode="json"))

    def clear_faults(self) -> dict:
        """No faults and no added latency from now on."""
        return self._call("POST", "/_undertow/faults", {})

    def faults(self) -> dict:
        """The installed plan and the hits left per rule."""
        return self._call("GET", "/_undertow/faults")

    def stats(self) -> dict:
        """Request counters: requests, by_path, by_status, faults, streams, connections,
        in_flight, max_in_flight."""
        return self._call("GET", "/_undertow/stats")

    def arrivals(self) -> list[tuple[float, bool]]:
        """(seconds since the last stats reset, served) for every completion request;
        served is False for those the `rpm` limit refused with 429."""
        return [(float(t), bool(ok)) for t, ok in self._call("GET", "/_undertow/arrivals")["arrivals"]]

    def reset_stats(self) -> None:
        """Zero the request counters."""
        self._call("POST", "/_undertow/stats/reset", {})

    def _call(self, method: str, path: str, payload: dict | None = None) -> dict:
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            body = None if payload is None else json.dumps(payload).encode()
            conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = json.loads(resp.read() or b"null")
        finally:
            conn.close()
        if resp.status != 200:
            raise RuntimeError(f"sim-server control {method} {path} failed ({resp.status}): {data}")
        return data


@contextmanager
def running_server(responder: Responder | None = None, *rules: RuleLike, latency_s: float = 0.0,
                   seed: int = 0, host: str = "127.0.0.1", port: int = 0,
                   models: tuple[str, ...] = ("sim",), rpm: float | None = None,
                   rpm_burst: float | None = None) -> Iterator[ServerHandle]:
    """Serve `responder` (default: `SimLLM()`) from a background thread of this process."""
    server = SimServer(host, port, responder=responder, models=models,
                       faults=make_plan(rules, latency_s=latency_s, seed=seed, rpm=rpm, rpm_burst=rpm_burst))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="undertow-sim-server", daemon=True)
    thread.start()
    try:
        yield ServerHandle(server.url, server=server)
    finally:
        server.close()
        thread.join(timeout=5)


def _die_with_parent() -> None:
    from undertow.engine.sandbox.isolation import die_with_parent

    die_with_parent()


@contextmanager
def start_in_subprocess(responder: str | None = None, *rules: RuleLike, latency_s: float = 0.0,
                        seed: int = 0, sim_seed: int = 0, host: str = "127.0.0.1", port: int = 0,
                        startup_timeout_s: float = 60.0, rpm: float | None = None,
                        rpm_burst: float | None = None,
                        die_with_parent: bool = False) -> Iterator[ServerHandle]:
    """Serve from a child process (own GIL). `responder` is an import path `module:factory`
    called with no arguments (default: `SimLLM(seed=sim_seed)`). With `die_with_parent`
    the server is killed when the calling thread's process dies, even by SIGKILL (Linux);
    leave it off when the handle outlives the thread that started it."""
    plan = make_plan(rules, latency_s=latency_s, seed=seed, rpm=rpm, rpm_burst=rpm_burst)
    cmd = [sys.executable, "-m", "undertow.bench.sim.server", "--host", host, "--port", str(port),
           "--faults-json", plan.model_dump_json(), "--sim-seed", str(sim_seed), "--announce"]
    if responder:
        cmd += ["--responder", responder]
    # stderr goes to a file, not a pipe: nobody reads it while serving, and a pipe could fill.
    with tempfile.TemporaryFile(mode="w+") as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                preexec_fn=_die_with_parent if die_with_parent else None)
        try:
            url = _await_announcement(proc, startup_timeout_s, errors)
            yield ServerHandle(url, process=proc)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()


def _await_announcement(proc: subprocess.Popen, timeout_s: float, errors: Any) -> str:
    """Read the child's first stdout line `{"url": ...}`; fail clearly if it dies first."""
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    line = found[0] if found else ""
    try:
        return json.loads(line)["url"]
    except (ValueError, KeyError, TypeError):
        proc.kill()
        proc.wait()
        errors.seek(0)
        err = errors.read()
        raise RuntimeError(f"sim-server subprocess did not start within {timeout_s}s: "
                           f"stdout={line!r} stderr={err[-2000:]!r}") from None
