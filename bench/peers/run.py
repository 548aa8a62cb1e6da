"""Run one peer optimizer on one task split, at a budget, against an LLM spec.

`run_peer` starts the LLM side (for `sim`, a sim-server child process seeded like
the run; for `openai:MODEL` or `openai-compatible:URL#MODEL`, that provider), puts a
counting gateway in front of it (`gateway.py`; under a sweep's shared limits, with the
sweep's rate limiter and the run's ledger entry), writes the job, starts the peer's
driver with the peer venv's python and a scrubbed environment that points every
client the peer has (Trace's CustomLLM, the OpenAI SDK, LiteLLM, DSPy) at the
gateway, waits, and returns the final prompt with what was spent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from undertow.bench.peers.catalog import OPTIMIZERS, package_of
from undertow.bench.peers.gateway import FeedbackFn, Meter, Upstream, serve
from undertow.bench.peers.install import require
from undertow.bench.runner.errors import BenchError
from undertow.engine.sandbox.isolation import die_with_parent
from undertow.engine.llm import Accounting, Budget, parse_spec
from undertow.engine.llm.limits import Limiter, SpendLedger

DRIVERS = Path(__file__).resolve().parent / "drivers"
API_KEY = "undertow-local"


@dataclass
class PeerResult:
    """How a peer run ended: its final prompt, why it stopped, and what it spent."""

    optimizer: str
    framework: str                      # e.g. "trace-opt 0.1.3.8"
    prompt: str
    stopped: str                        # steps | budget | error
    error: str = ""
    steps_done: int = 0
    spent: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


@contextmanager
def upstream_for(spec: str, seed: int) -> Iterator[Upstream]:
    """The OpenAI-compatible endpoint behind the gateway for an LLM spec."""
    parsed = parse_spec(spec)
    if parsed.provider == "sim":
        from undertow.bench.sim.server import start_in_subprocess

        with start_in_subprocess(sim_seed=seed, die_with_parent=True) as srv:
            yield Upstream(srv.openai_base_url, "sim", stats=srv.stats)
        return
    if parsed.provider == "openai":
        key = os.environ.get("OPENAI_API_KEY")
        if not key:
            raise BenchError("peers on openai:* need OPENAI_API_KEY in the environment")
        yield Upstream(os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1"), parsed.model, key)
        return
    if parsed.provider == "openai-compatible":
        yield Upstream(str(parsed.base_url), parsed.model, os.environ.get("OPENAI_API_KEY", API_KEY))
        return
    raise BenchError(f"peer optimizers speak the OpenAI chat API; --llm {spec} is not OpenAI-compatible "
                     "(use sim, openai:MODEL or openai-compatible:URL#MODEL)")


def usd_price(spec: str, model: str) -> tuple[float, float]:
    """(input, output) USD per million tokens of the upstream model, for a `usd=` budget;
    a `BenchError` when the price is unknown (the cap could not be enforced)."""
    provider = parse_spec(spec).provider
    price = Accounting().price(provider, model)
    if price is None:
        raise BenchError(f"--budget usd=... needs the price of {model!r}, which is unknown: install "
                         "LiteLLM's price table (pip install 'undertow[litellm]') or give calls= or "
                         "tokens= instead")
    return price


def known_price(spec: str, model: str) -> tuple[float, float]:
    """(input, output) USD per million tokens when the price is known, else (0, 0): what the
    run's own clients would book (`Accounting.cost`)."""
    return Accounting().price(parse_spec(spec).provider, model) or (0.0, 0.0)


def peer_env(gateway_url: str, model: str, workdir: Path) -> dict[str, str]:
    """A scrubbed environment: no real keys, every client pointed at the gateway, caches
    inside the run's folder (so no reply is reused across runs without being counted)."""
    base = f"{gateway_url}/v1"
    cache = workdir / "cache"
    shutil.rmtree(cache, ignore_errors=True)  # a peer's disk cache would serve replies no one counts
    cache.mkdir(parents=True)
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "TZ") if k in os.environ}
    return {
        **keep, "HOME": str(workdir), "XDG_CACHE_HOME": str(cache), "DSPY_CACHEDIR": str(cache / "dspy"),
        "PYTHONUNBUFFERED": "1", "PYTHONHASHSEED": "0", "TOKENIZERS_PARALLELISM": "false",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR",
        "OPENAI_BASE_URL": base, "OPENAI_API_BASE": base, "OPENAI_API_KEY": API_KEY,
        "TRACE_DEFAULT_LLM_BACKEND": "CustomLLM", "TRACE_CUSTOMLLM_URL": base,
        "TRACE_CUSTOMLLM_MODEL": model, "TRACE_CUSTOMLLM_API_KEY": API_KEY,
    }


def run_peer(optimizer: str, *, llm: str, seed: int, budget: Budget, job: dict[str, Any],
             feedback: FeedbackFn, workdir: Path, timeout_s: float = 3600.0,
             limiter: Limiter | None = None, ledger: SpendLedger | None = None) -> PeerResult:
    """Run peer `optimizer` (e.g. "dspy:copro") on `job` (train/val items, initial prompt,
    steps, batch_size, options); `feedback(split, index, output)` scores outputs.

    `limiter` and `ledger` are the sweep's shared limits as the run's own train client
    holds them (`bench/runner/metered.py::build_llms`): every call the gateway forwards
    waits for a grant of `limiter` and is booked in `ledger` as its reply arrives, and
    `ledger` refusing (the sweep budget is spent) stops the peer like its own budget."""
    if optimizer not in OPTIMIZERS:
        raise BenchError(f"unknown peer optimizer {optimizer!r}; known: {', '.join(OPTIMIZERS)}")
    entry = OPTIMIZERS[optimizer]
    python = require(entry.package)
    workdir = Path(workdir).resolve()  # the driver runs with cwd=workdir, so relative paths would break
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "requests.jsonl"
    log.unlink(missing_ok=True)
    meter = Meter(max_calls=budget.max_calls, max_tokens=budget.max_tokens, max_usd=budget.max_usd)
    with upstream_for(llm, seed) as upstream, \
            serve(upstream, meter, feedback, log, limiter=limiter, ledger=ledger) as gw:
        # dollars are counted at the model's price (a `usd=` budget needs it known)
        meter.price = usd_price(llm, upstream.model) if budget.max_usd is not None else known_price(
            llm, upstream.model)
        job = {**job, "gateway": gw.url, "model": upstream.model, "seed": seed}
        (workdir / "job.json").write_text(json.dumps(job), encoding="utf-8")
        result_path = workdir / "result.json"
        result_path.unlink(missing_ok=True)
        with (workdir / "peer.log").open("w", encoding="utf-8") as out:
            try:
                proc = subprocess.run([str(python), str(DRIVERS / entry.driver), str(workdir / "job.json"),
                                       str(result_path)], stdout=out, stderr=subprocess.STDOUT,
                                      env=peer_env(gw.url, upstream.model, workdir), cwd=workdir,
                                      timeout=timeout_s, preexec_fn=die_with_parent)
                rc: int | None = proc.returncode
            except subprocess.TimeoutExpired:
                rc = None
        spent = meter.to_dict()
        sim_stats = _sim_stats(upstream)
    if not result_path.is_file():
        why = "timed out" if rc is None else f"exited {rc} without a result"
        return PeerResult(optimizer, package_of(optimizer).label, job["initial_prompt"], "error",
                          f"driver {why}; see {workdir / 'peer.log'}", spent=spent)
    got = json.loads(result_path.read_text(encoding="utf-8"))
    notes = dict(got.get("notes", {}))
    if sim_stats is not None:
        notes["sim"] = sim_stats
    return PeerResult(optimizer, package_of(optimizer).label, str(got["prompt"]), str(got["stopped"]),
                      str(got.get("error", "")), int(got.get("steps_done", 0)), spent, notes)


def _sim_stats(upstream: Upstream) -> dict[str, Any] | None:
    """The simulator's own counters (roles, answered from evidence) when the upstream is a
    sim-server that reports them (`GET /_undertow/stats` -> "sim")."""
    if upstream.stats is None:
        return None
    try:
        return upstream.stats().get("sim")
    except (OSError, RuntimeError, ValueError):
        return None
