"""The client pipeline end to end against the sim-server: cache across processes,
budgets that stop a run, bounded concurrency, structured output with a repair round."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError
from undertow.engine.llm import (
    Budget,
    BudgetExceeded,
    ResponseCache,
    StructuredOutputError,
    make_llm,
)
from undertow.bench.sim.server import running_server
from undertow.bench.sim import SimReply

from .conftest import SECRET

SECOND_PROCESS = """
import json, sys
from undertow.engine.llm import make_llm
llm = make_llm("openai:sim", base_url=sys.argv[1], api_key=sys.argv[2], cache_dir=sys.argv[3])
r = llm.complete("Sort these words alphabetically: kiwi banana")
print(json.dumps({"text": r.text, "cached": r.cached, "cost": r.cost_usd,
                  "hits": llm.accounting.spent().cache_hits, "calls": llm.accounting.spent().calls}))
"""


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_cache_hit_in_a_second_process(client_for, llm_server, tmp_path: Path, provider) -> None:
    if provider == "anthropic":  # the child below speaks OpenAI; check Anthropic in-process
        llm = client_for(provider, cache_dir=tmp_path)
        first = llm.complete("hello")
        again = client_for(provider, cache_dir=tmp_path).complete("hello")
        assert again.cached and again.text == first.text and again.cost_usd == 0
        assert llm_server.stats()["requests"] == 1
        return
    first = client_for(provider, cache_dir=tmp_path).complete("Sort these words alphabetically: kiwi banana")
    assert not first.cached
    out = subprocess.run([sys.executable, "-c", SECOND_PROCESS, llm_server.openai_base_url,
                          SECRET, str(tmp_path)], capture_output=True, text=True, check=True)
    child = json.loads(out.stdout)
    assert child == {"text": first.text, "cached": True, "cost": 0.0, "hits": 1, "calls": 0}
    assert llm_server.stats()["requests"] == 1  # the child never reached the server


def test_api_key_never_reaches_the_cache(client_for, tmp_path: Path) -> None:
    llm = client_for("openai", cache_dir=tmp_path)
    llm.complete("keep my secret")
    llm.cache.close()
    blobs = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert blobs and SECRET.encode() not in blobs
    assert SECRET not in repr(llm) and SECRET not in repr(llm.backend)


def test_cache_separates_sample_index_and_endpoint(client_for, llm_server, tmp_path: Path) -> None:
    llm = client_for("openai", cache_dir=tmp_path, temperature=1.0)
    a = llm.complete("Name a fruit.", sample_index=0)
    b = llm.complete("Name a fruit.", sample_index=1)
    assert a.key != b.key and not b.cached
    assert llm.complete("Name a fruit.", sample_index=1).cached
    other = client_for("anthropic", cache_dir=tmp_path, temperature=1.0)
    assert not other.complete("Name a fruit.", sample_index=0).cached
    assert llm_server.stats()["requests"] == 3


def test_cached_values_are_copies(tmp_path: Path) -> None:
    llm = make_llm("sim", cache_dir=tmp_path)
    first = llm.complete("Sort these words alphabetically: b a")
    hit1, hit2 = (llm.complete("Sort these words alphabetically: b a") for _ in range(2))
    assert hit1.cached and hit1 == hit2.model_copy(update={"latency_s": hit1.latency_s})
    with pytest.raises(ValidationError):
        hit1.text = "tampered"  # type: ignore[misc]
    assert hit1 is not hit2 and hit1.usage == first.usage


def test_budget_stops_a_run_mid_way(client_for, llm_server, tmp_path: Path) -> None:
    llm = client_for("openai", cache_dir=tmp_path, budget=Budget(max_calls=5))
    done = []
    with pytest.raises(BudgetExceeded, match="max_calls=5") as info:
        for i in range(10):
            done.append(llm.complete(f"Count to {i}."))
    assert len(done) == 5 and info.value.spent["calls"] == 5
    assert info.value.by_purpose["forward"]["calls"] == 5
    assert llm_server.stats()["requests"] == 5 and len(llm.cache) == 5  # nothing half-written
    assert llm.complete("Count to 3.").cached  # cache hits still work past the budget


def test_async_budget_stop_sends_exactly_the_cap(client_for, llm_server) -> None:
    llm = client_for("anthropic", budget={"max_calls": 7}, max_concurrency=4)
    with pytest.raises(BudgetExceeded):
        llm.complete_many([f"Count to {i}." for i in range(30)])
    assert llm_server.stats()["requests"] == 7 == llm.accounting.spent().calls


def test_200_concurrent_async_calls(client_for, llm_server, llm_sim) -> None:
    llm_server.set_faults(latency_s=0.05)
    llm = client_for("openai", max_concurrency=64)
    prompts = [f"Sort these words alphabetically: w{i} a{i}" for i in range(200)]

    async def run() -> list:
        return await llm.acomplete_many(prompts)

    replies = asyncio.run(run())
    stats = llm_server.stats()
    assert [r.text for r in replies] == \
        [llm_sim.complete([{"role": "user", "content": p}]).text for p in prompts]
    assert stats["requests"] == 200 and 8 < stats["max_in_flight"] <= 64
    assert llm.accounting.spent().calls == 200


def test_sync_many_works_inside_a_running_loop(client_for) -> None:
    llm = client_for("openai")

    async def inside() -> list:
        return llm.complete_many(["a", "b", "c"])  # sync call from async code

    assert [r.text for r in asyncio.run(inside())] == [llm.complete(p).text for p in "abc"]
    llm.close()  # also closes the async SDK client living on the background loop
    assert llm.backend._async.values() == []


def test_threads_share_one_budget(client_for, llm_server) -> None:
    from concurrent.futures import ThreadPoolExecutor

    llm = client_for("openai", budget={"max_calls": 12})

    def call(i: int) -> str:
        try:
            return llm.complete(f"Count to {i}.").text
        except BudgetExceeded:
            return "stopped"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(40)))
    assert results.count("stopped") == 28
    assert llm_server.stats()["requests"] == 12 == llm.accounting.spent().calls


class Verdict(BaseModel):
    answer: str
    confidence: float


class Scripted:
    """A stand-in model that replies with the scripted texts in turn (a provider
    double: our own code runs for real on the other side of the HTTP server)."""

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.seen: list[list[dict]] = []

    def complete(self, messages, **_: object) -> SimReply:
        self.seen.append(messages)
        text = self.texts.pop(0)
        return SimReply(text=text, prompt_tokens=5, completion_tokens=len(text) // 4)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_structured_output_with_one_repair_round(provider) -> None:
    model = Scripted("I think yes.", 'Sure: ```json\n{"answer": "yes", "confidence": 0.8}\n```')
    with running_server(model) as srv:
        url = srv.openai_base_url if provider == "openai" else srv.anthropic_base_url
        llm = make_llm(f"{provider}:sim", base_url=url, api_key="x", cache_dir=False)
        response = llm.complete("Is the sky blue?", schema=Verdict, purpose="judge")
    assert response.parsed == Verdict(answer="yes", confidence=0.8)
    repair = model.seen[1][-1]["content"]
    assert "could not be read" in repair and "confidence" in repair
    assert llm.accounting.spent("judge").calls == 2


def test_structured_output_fails_clearly_after_the_repair() -> None:
    model = Scripted("no json", "still none")
    with running_server(model) as srv:
        llm = make_llm("openai:sim", base_url=srv.openai_base_url, api_key="x", cache_dir=False)
        with pytest.raises(StructuredOutputError, match="after one repair round"):
            llm.complete("Is the sky blue?", schema=Verdict)


def test_cache_entry_is_plain_json(tmp_path: Path) -> None:
    llm = make_llm("sim", cache_dir=tmp_path)
    response = llm.complete("hi")
    cache = ResponseCache(tmp_path)
    raw = cache._cache.get(response.key)
    assert json.loads(raw)["text"] == response.text


def test_a_client_without_a_cache_gives_the_same_keys_made_when_read(client_for, llm_server,
                                                                     tmp_path: Path) -> None:
    """Without a cache the key is made only when read (`LLMResponse.key`), and it is
    the key a cached client stores the reply under; call events carry it too, failed
    calls included."""
    from undertow.engine.callbacks import Callback
    from undertow.engine.llm import LLMResponse
    from undertow.engine.llm.cache import request_key

    seen: list[str] = []

    class Keys(Callback):
        def on_llm_call(self, event) -> None:  # type: ignore[no-untyped-def]
            seen.append(event.key)

    plain = client_for("openai")
    a = plain.complete("Name a fruit.", sample_index=3)
    assert " key" not in a.__dict__  # not made yet: nothing asked for it
    b = client_for("openai", cache_dir=tmp_path).complete("Name a fruit.", sample_index=3)
    watched = client_for("openai")
    watched.add_callback(Keys())
    watched.complete("Name a fruit.", sample_index=3)
    assert a.key == b.key == request_key(plain.request("Name a fruit.", sample_index=3)) == seen[0]
    assert len(a.key) == 64 and a == a.model_copy()
    assert LLMResponse.model_validate(a.model_dump()).key == a.key  # a dump read back keeps it
    with pytest.raises(ValidationError):
        a.key = "other"  # type: ignore[misc]
    assert plain.complete("Name a fruit.", sample_index=4).key != a.key
    llm_server.set_faults("status=400,times=1")
    with pytest.raises(Exception):
        watched.complete("Name a fruit.", sample_index=5)
    assert seen[-1] == request_key(watched.request("Name a fruit.", sample_index=5))
