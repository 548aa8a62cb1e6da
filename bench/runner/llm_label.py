"""The `llm=` label of bench results: `sim` for the simulator, in process or over HTTP.

A spec `openai-compatible:URL#MODEL` that points at `undertow sim-server` is the
simulated LLM too: the server says so in the `x-undertow-llm: sim` header of every
response (and `owned_by: undertow-sim` in `/v1/models`). Results made through it are
labelled `llm=sim`, so that no report mistakes them for a real model's.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from functools import lru_cache

from undertow.engine.llm import parse_spec
from undertow.engine.llm.spec import SpecError

SIM_HEADER = "x-undertow-llm"
PROBE_TIMEOUT_S = 3.0


@lru_cache(maxsize=64)
def is_sim_server(base_url: str) -> bool:
    """Whether `base_url` (an OpenAI-compatible base, e.g. http://127.0.0.1:8765/v1) is an
    undertow sim-server; False when it cannot be reached or is something else."""
    base = base_url.rstrip("/")
    urls = [base + "/models"] + ([] if base.endswith("/v1") else [base + "/v1/models"])
    return any(_probe(u) for u in urls)


def _probe(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as resp:
            if (resp.headers.get(SIM_HEADER) or "").strip().lower() == "sim":
                return True
            body = json.loads(resp.read(1_000_000) or b"{}")
    except (urllib.error.URLError, OSError, ValueError):
        return False
    data = body.get("data") if isinstance(body, dict) else None
    return isinstance(data, list) and any(isinstance(m, dict) and m.get("owned_by") == "undertow-sim"
                                          for m in data)


def llm_label(spec: str) -> str:
    """`sim` when `spec` is the simulator (in process or a sim-server), else `spec` itself."""
    try:
        parsed = parse_spec(spec)
    except SpecError:
        return spec
    if parsed.provider == "sim":
        return "sim"
    if parsed.provider == "openai-compatible" and parsed.base_url and is_sim_server(parsed.base_url):
        return "sim"
    return spec
