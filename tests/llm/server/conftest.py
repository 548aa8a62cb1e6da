"""Fixtures: one sim-server per test module, its faults and counters reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from undertow.bench.sim.server import ServerHandle, running_server
from undertow.bench.sim import SimLLM

USER = [{"role": "user", "content": "Sort these words alphabetically: pear apple fig"}]


@pytest.fixture(scope="module")
def responder():
    """What the server answers with; tests compare the HTTP replies against it directly."""
    return SimLLM()


@pytest.fixture(scope="module")
def server(responder) -> Iterator[ServerHandle]:
    with running_server(responder) as handle:
        yield handle


@pytest.fixture
def srv(server: ServerHandle) -> ServerHandle:
    """The module's server with no faults, no latency and zeroed counters."""
    server.clear_faults()
    server.reset_stats()
    return server


@pytest.fixture(scope="module")
def oai(server: ServerHandle):
    """One openai client per module (building one costs ~0.2 s); vary it with `with_options`."""
    import openai

    return openai.OpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0)


@pytest.fixture(scope="module")
def ant(server: ServerHandle):
    """One anthropic client per module; vary it with `with_options`."""
    import anthropic

    return anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="sk-ant-test", max_retries=0)
