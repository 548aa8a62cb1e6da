"""Fixtures for the client tests: one in-process sim-server per module (names are
prefixed `llm_` so they never shadow the server suite's own fixtures)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from undertow.engine.llm import LLM, RetryPolicy, make_llm
from undertow.bench.sim.server import ServerHandle, running_server
from undertow.bench.sim import SimLLM

#: A key that must never show up in a cache entry, a log or an error.
SECRET = "sk-test-SECRET-5f2b9c"


@pytest.fixture(scope="module")
def llm_sim() -> SimLLM:
    """The simulator the server answers with; replies are checked against it directly."""
    return SimLLM()


@pytest.fixture(scope="module")
def llm_server_module(llm_sim: SimLLM) -> Iterator[ServerHandle]:
    with running_server(llm_sim) as handle:
        yield handle


@pytest.fixture
def llm_server(llm_server_module: ServerHandle) -> ServerHandle:
    """The module's server with no faults and zeroed counters."""
    llm_server_module.clear_faults()
    llm_server_module.reset_stats()
    return llm_server_module


@pytest.fixture
def client_for(llm_server: ServerHandle) -> Iterator[Callable[..., LLM]]:
    """`client_for(provider, **options)`: an `LLM` for the test server through the real
    SDK; `litellm` goes through LiteLLM to the server's OpenAI-compatible endpoint."""
    made: list[LLM] = []

    def build(provider: str, **options: Any) -> LLM:
        url = llm_server.anthropic_base_url if provider == "anthropic" else llm_server.openai_base_url
        options.setdefault("cache_dir", False)
        options.setdefault("retry", RetryPolicy(max_retries=2, base_delay=0.01))
        spec = "litellm:openai/sim" if provider == "litellm" else f"{provider}:sim"
        llm = make_llm(spec, base_url=url, api_key=SECRET, **options)
        made.append(llm)
        return llm

    yield build
    for llm in made:
        llm.close()
