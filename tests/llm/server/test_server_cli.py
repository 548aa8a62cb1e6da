"""`undertow sim-server` and `python -m undertow.bench.sim.server` from the outside."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def test_cli_help_lists_the_fault_options():
    out = subprocess.run([sys.executable, "-m", "undertow", "sim-server", "--help"],
                         check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for option in ("--port", "--latency", "--fault", "--faults-json"):
        assert option in out.stdout


def test_cli_rejects_a_bad_fault_spec():
    out = subprocess.run([sys.executable, "-m", "undertow.bench.sim.server", "--fault", "status=200"],
                         check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "status" in out.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_serves_with_its_fault_options():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "undertow", "sim-server", "--port", str(port), "--latency", "0.01",
         "--fault", "429,times=2,retry-after-ms=10", "--fault", "kind=hang,api=anthropic"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_undertow/faults", timeout=2) as r:
                    plan = json.load(r)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"sim-server did not come up: {proc.stderr.read() if proc.poll() else ''}")
                time.sleep(0.1)
        assert plan["latency_s"] == 0.01
        assert [(r["kind"], r["status"], r["times"], r["api"]) for r in plan["rules"]] == [
            ("status", 429, 2, "any"), ("hang", 429, None, "anthropic")]
        assert plan["rules"][0]["retry_after_ms"] == 10
    finally:
        proc.terminate()
        proc.wait(timeout=120)  # a guard against a hang, not a speed bound
        proc.stderr.close()


STOP_DURING_BANNER = """
import signal, sys
from undertow.bench.sim import SimLLM
from undertow.bench.sim.server import serve

class Out:
    fired = False
    def write(self, text):
        if not Out.fired:
            Out.fired = True
            signal.raise_signal(signal.SIGTERM)
        return len(text)
    def flush(self):
        pass

sys.stdout = Out()
serve(port=0, responder=SimLLM(), announce=True)
assert Out.fired
assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
sys.__stdout__.write("stopped")
"""


def test_sigterm_before_the_loop_starts_stops_the_server():
    """SIGTERM after the handler is set but before serving begins (here: while the banner
    is written) ends `serve` cleanly and puts the default handler back."""
    out = subprocess.run([sys.executable, "-c", STOP_DURING_BANNER], check=False, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and out.stdout == "stopped", out.stderr


def test_close_is_safe_before_and_without_serving():
    import threading

    from undertow.bench.sim import SimLLM
    from undertow.bench.sim.server import SimServer

    never = SimServer(port=0, responder=SimLLM())
    closer = threading.Thread(target=never.close, daemon=True)
    closer.start()
    closer.join(120)  # BaseServer.shutdown() alone waits forever for a loop never started
    assert not closer.is_alive()

    early = SimServer(port=0, responder=SimLLM())
    early.close()
    loop = threading.Thread(target=early.serve_forever, daemon=True)
    loop.start()
    loop.join(120)
    assert not loop.is_alive(), "serve_forever after close() should return at once"
