"""The sim backend through the client, lazy SDK imports, and client-side validation."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from undertow.engine.llm import (
    LLMConfigError,
    LLMRequest,
    Message,
    make_llm,
    run_sync,
    to_messages,
)
from undertow.bench.sim import SimLLM


def test_importing_the_engine_loads_no_sdk() -> None:
    code = ("import sys, undertow.engine, undertow.engine.llm as L;"
            "llm = L.make_llm('sim', cache_dir=False); llm.complete('hi');"
            "print(sorted(m for m in ('openai', 'anthropic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sim_backend_gives_the_simulators_reply() -> None:
    llm = make_llm("sim", cache_dir=False, purpose="optimizer")
    prompt = "Sort these words alphabetically: pear apple fig"
    reply = llm.complete(prompt)
    expected = SimLLM().complete([{"role": "user", "content": prompt}], model="sim")
    assert (reply.text, reply.usage.completion_tokens) == (expected.text, expected.completion_tokens)
    assert reply.provider == "sim" and reply.cost_usd == 0 and reply.purpose == "optimizer"
    assert llm.accounting.spent("optimizer").calls == 1


def test_sim_seed_is_part_of_the_cache_key(tmp_path: Path) -> None:
    a = make_llm("sim", cache_dir=tmp_path, seed=1).complete("hi")
    b = make_llm("sim", cache_dir=tmp_path, seed=2).complete("hi")
    assert a.key != b.key and not b.cached


def test_many_in_order_and_async_twin() -> None:
    llm = make_llm("sim", cache_dir=False)
    prompts = [f"Sort these words alphabetically: b{i} a{i}" for i in range(20)]
    sync = [r.text for r in llm.complete_many(prompts)]
    assert sync == [llm.complete(p).text for p in prompts]
    assert [r.text for r in asyncio.run(llm.acomplete_many(prompts))] == sync


def test_run_sync_inside_a_running_loop() -> None:
    async def seven() -> int:
        await asyncio.sleep(0)
        return 7

    async def outer() -> int:
        return run_sync(seven())

    assert asyncio.run(outer()) == 7 and run_sync(seven()) == 7


def test_prompts_and_their_errors() -> None:
    assert to_messages("hi") == (Message(role="user", content="hi"),)
    assert to_messages([{"role": "system", "content": "s"}, "u"])[1].role == "user"
    with pytest.raises(LLMConfigError, match="empty"):
        to_messages([])
    with pytest.raises(LLMConfigError, match="prompt item"):
        to_messages([3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="role"):
        to_messages([{"role": "wizard", "content": "x"}])


def test_requests_refuse_non_finite_numbers() -> None:
    with pytest.raises(ValueError):
        LLMRequest(provider="sim", endpoint="sim://", model="sim",
                   messages=(Message(role="user", content="x"),), temperature=float("nan"))


def test_make_llm_option_errors() -> None:
    with pytest.raises(LLMConfigError, match="not both"):
        from undertow.engine.llm import Accounting
        make_llm("sim", cache_dir=False, budget={"max_calls": 1}, accounting=Accounting())
    with pytest.raises(LLMConfigError, match="in process"):
        make_llm("sim", cache_dir=False, base_url="http://x")
    with pytest.raises(LLMConfigError, match="max_concurrency"):
        make_llm("sim", cache_dir=False, max_concurrency=0)
