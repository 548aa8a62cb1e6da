"""The simulated LLM as a backend: offline, deterministic, free.

The simulator (`undertow.bench.sim.SimLLM`) sees only the messages. Its seed
and its task profiles change its answers, so both enter the endpoint string, and
with it every cache key: a cache filled under one seed never answers for another.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from undertow.engine.llm.types import LLMRequest, Reply


class SimBackend:
    """Runs `SimLLM` in process; `acomplete` runs it inline (it is CPU-only and fast)."""

    provider = "sim"

    def __init__(self, *, profiles: Sequence[Any] | None = None, seed: int = 0,
                 sim: Any = None) -> None:
        if sim is None:
            from undertow.bench.sim import SimLLM

            sim = SimLLM(profiles=profiles, seed=seed)
        self._sim = sim
        names = "default" if profiles is None else ",".join(
            sorted(str(getattr(p, "name", type(p).__name__)) for p in profiles))
        self.endpoint = f"sim://local?seed={seed}&profiles={names}"

    def __repr__(self) -> str:
        return f"SimBackend(endpoint={self.endpoint!r})"

    def complete(self, request: LLMRequest, *, timeout: float | None = None,
                 stream: bool = False) -> Reply:
        """Ask the simulator (timeout and streaming do not apply in process)."""
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        out = self._sim.complete(messages, model=request.model,
                                 temperature=request.temperature or 0.0, seed=request.seed,
                                 sample_index=request.sample_index,
                                 max_tokens=request.max_tokens)
        return Reply(text=out.text, prompt_tokens=out.prompt_tokens,
                     completion_tokens=out.completion_tokens, model=request.model,
                     finish_reason=out.finish_reason)

    async def acomplete(self, request: LLMRequest, *, timeout: float | None = None,
                        stream: bool = False) -> Reply:
        """Async twin of `complete`."""
        return self.complete(request, timeout=timeout, stream=stream)

    def close(self) -> None:
        """Nothing to release."""


def make_sim_backend(*, model: str = "sim", api_key: str | None = None,
                     base_url: str | None = None, timeout: float | None = None,
                     profiles: Sequence[Any] | None = None, seed: int = 0,
                     sim: Any = None) -> SimBackend:
    """The factory `make_llm("sim")` finds through the `undertow.llm_backends` entry point."""
    from undertow.engine.llm.errors import LLMConfigError

    if api_key is not None or base_url is not None:
        raise LLMConfigError("the sim backend runs in process: it takes no api_key or "
                             "base_url (for the HTTP sim-server use openai-compatible:URL#sim)")
    return SimBackend(profiles=profiles, seed=seed, sim=sim)
