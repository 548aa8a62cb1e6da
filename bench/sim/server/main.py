"""Run the sim-server in the foreground: `python -m undertow.bench.sim.server --port N`.

`undertow sim-server` calls `serve` too. With `announce`, the first stdout line is
`{"url": "http://127.0.0.1:PORT"}` once the socket listens (how `start_in_subprocess`
learns a free port chosen by the OS).
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
from pathlib import Path

from pydantic import ValidationError

from .faults import FaultPlan, FaultSpecError, parse_fault_spec
from .httpd import Responder, SimServer


def load_responder(path: str | None, sim_seed: int = 0) -> Responder:
    """`module:factory` called with no arguments, or `SimLLM(seed=sim_seed)` when None."""
    if not path:
        from undertow.bench.sim import SimLLM

        return SimLLM(seed=sim_seed)
    module, _, attr = path.partition(":")
    if not module or not attr:
        raise ValueError(f"responder {path!r} is not 'module:factory'; e.g. 'mypkg.fakes:make_llm'")
    return getattr(importlib.import_module(module), attr)()


def build_plan(specs: list[str] = (), faults_json: str | None = None, latency_s: float | None = None,
               seed: int | None = None, rpm: float | None = None, rpm_burst: float | None = None) -> FaultPlan:
    """A plan from a JSON object or file (optional) plus `--fault` specs and overrides
    (`rpm`, `rpm_burst`: the server's requests-per-minute limit, see `FaultPlan`)."""
    plan = FaultPlan()
    if faults_json:
        text = Path(faults_json).read_text() if not faults_json.lstrip().startswith("{") else faults_json
        plan = FaultPlan.from_json(text)
    rules = list(plan.rules) + [parse_fault_spec(s) for s in specs]
    try:
        return FaultPlan(latency_s=plan.latency_s if latency_s is None else latency_s, rules=rules,
                         seed=plan.seed if seed is None else seed,
                         rpm=plan.rpm if rpm is None else rpm,
                         rpm_burst=plan.rpm_burst if rpm_burst is None else rpm_burst)
    except ValidationError as exc:
        raise FaultSpecError(f"invalid fault plan: {exc.errors()[0]['loc'][0]}: "
                             f"{exc.errors()[0]['msg']}") from None


def serve(host: str = "127.0.0.1", port: int = 8765, *, plan: FaultPlan | None = None,
          responder: Responder | None = None, announce: bool = False, verbose: bool = False) -> None:
    """Serve until SIGINT/SIGTERM, whenever it comes; stop cleanly (open connections
    dropped) and put back the SIGTERM handler found. Call from the main thread."""
    server = SimServer(host, port, responder=responder, faults=plan, verbose=verbose)

    def _stop(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _stop)
        if announce:
            print(json.dumps({"url": server.url}), flush=True)
        else:
            print(f"undertow sim-server (llm=sim) on {server.url}  OpenAI: {server.url}/v1  "
                  f"Anthropic: {server.url}", file=sys.stderr, flush=True)
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleanup short
        server.close()
        # None: a handler set outside Python, which cannot be put back; the default then
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m undertow.bench.sim.server", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--latency", type=float, default=None, help="seconds added to each completion request")
    ap.add_argument("--fault", action="append", default=[], help="rule spec, e.g. status=429,times=2")
    ap.add_argument("--faults-json", default=None, help="a FaultPlan as JSON text or a file path")
    ap.add_argument("--seed", type=int, default=None, help="seed of probabilistic faults")
    ap.add_argument("--rpm", type=float, default=None,
                    help="requests per minute accepted; past it: 429 with retry-after-ms")
    ap.add_argument("--rpm-burst", type=float, default=None,
                    help="requests accepted at once after an idle spell (default: a minute's worth)")
    ap.add_argument("--sim-seed", type=int, default=0, help="seed of the default SimLLM")
    ap.add_argument("--responder", default=None, help="module:factory of the responder")
    ap.add_argument("--announce", action="store_true", help="print {'url': ...} when listening")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    try:
        plan = build_plan(args.fault, args.faults_json, args.latency, args.seed, args.rpm, args.rpm_burst)
    except (FaultSpecError, OSError) as exc:
        ap.error(str(exc))
    serve(args.host, args.port, plan=plan, responder=load_responder(args.responder, args.sim_seed),
          announce=args.announce, verbose=args.verbose)
