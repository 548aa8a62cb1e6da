"""`undertow perf llm`: the LLM layer's cost on top of the provider SDKs.

- `cache_hit_us_p50/p99`: one `LLM.complete` answered from the disk cache (sim
  backend, so no SDK is involved), microseconds per call.
- `client_overhead_ratio`: our OpenAI backend (cache off) against the raw `openai`
  SDK, same local sim-server, same prompts, sequential, in alternating rounds; the
  median of the per-round ratios of total time.
- `concurrency`: 1000 calls, 64 in flight, 50 ms server-side latency: our async
  client (`acomplete_many`) against raw `AsyncOpenAI` under `asyncio.Semaphore(64)`,
  alternating, median wall times. `ideal_s` = calls / concurrency * latency.
The server runs in a child process so it does not share the client's GIL.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from typing import Any

PROMPT = "Sort these words alphabetically: {i} pear apple fig"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench_cache_hits(hits: int, distinct: int) -> dict[str, Any]:
    """Microseconds per cache hit, after filling `distinct` entries."""
    from undertow.engine.llm import make_llm

    with tempfile.TemporaryDirectory() as folder:
        llm = make_llm("sim", cache_dir=folder)
        prompts = [PROMPT.format(i=i) for i in range(distinct)]
        for p in prompts:
            llm.complete(p)
        times = []
        for k in range(hits):
            t0 = time.perf_counter_ns()
            response = llm.complete(prompts[k % distinct])
            times.append((time.perf_counter_ns() - t0) / 1e3)
            assert response.cached
        llm.close()
    return {"cache_hit_us_p50": round(_percentile(times, 0.5), 1),
            "cache_hit_us_p99": round(_percentile(times, 0.99), 1),
            "cache_hits": hits}


def bench_overhead(base_url: str, calls: int, rounds: int) -> dict[str, Any]:
    """Sequential calls: our client vs the raw SDK, alternating rounds."""
    import openai

    from undertow.engine.llm import make_llm

    raw = openai.OpenAI(base_url=base_url, api_key="bench", max_retries=0)
    ours = make_llm("openai:sim", base_url=base_url, api_key="bench", cache_dir=False)
    messages = [[{"role": "user", "content": PROMPT.format(i=i)}] for i in range(calls)]

    def run_raw() -> float:
        t0 = time.perf_counter()
        for m in messages:
            raw.chat.completions.create(model="sim", messages=m)
        return time.perf_counter() - t0

    def run_ours() -> float:
        t0 = time.perf_counter()
        for m in messages:
            ours.complete(m)
        return time.perf_counter() - t0

    run_raw(), run_ours()  # warm connections and caches
    raw_s, ours_s = [], []
    for r in range(rounds):
        first, second = (run_raw, run_ours) if r % 2 == 0 else (run_ours, run_raw)
        a, b = first(), second()
        (raw_s, ours_s)[first is run_ours].append(a)
        (raw_s, ours_s)[second is run_ours].append(b)
    ratios = [o / r for o, r in zip(ours_s, raw_s)]
    raw.close()
    ours.close()
    return {"client_overhead_ratio": round(statistics.median(ratios), 3),
            "overhead": {"calls_per_round": calls, "rounds": rounds,
                         "raw_sdk_ms_per_call": round(statistics.median(raw_s) / calls * 1e3, 3),
                         "ours_ms_per_call": round(statistics.median(ours_s) / calls * 1e3, 3),
                         "ratios": [round(x, 3) for x in ratios]}}


def bench_concurrency(base_url: str, calls: int, concurrency: int, latency_s: float,
                      repetitions: int) -> dict[str, Any]:
    """Wall time of `calls` async calls, `concurrency` in flight: ours vs raw SDK."""
    import openai

    from undertow.engine.llm import make_llm

    messages = [[{"role": "user", "content": PROMPT.format(i=i)}] for i in range(calls)]

    async def raw_run() -> float:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0)
        sem = asyncio.Semaphore(concurrency)

        async def one(m: list[dict[str, str]]) -> Any:
            async with sem:
                return await client.chat.completions.create(model="sim", messages=m)

        t0 = time.perf_counter()
        await asyncio.gather(*(one(m) for m in messages))
        wall = time.perf_counter() - t0
        await client.close()
        return wall

    async def ours_run() -> float:
        llm = make_llm("openai:sim", base_url=base_url, api_key="bench", cache_dir=False,
                       max_concurrency=concurrency)
        t0 = time.perf_counter()
        replies = await llm.acomplete_many(messages)
        wall = time.perf_counter() - t0
        assert len(replies) == calls
        return wall

    raw_walls, our_walls = [], []
    for r in range(repetitions):
        order = [(raw_run, raw_walls), (ours_run, our_walls)]
        for fn, sink in (order if r % 2 == 0 else order[::-1]):
            sink.append(asyncio.run(fn()))
    wall, raw_wall = statistics.median(our_walls), statistics.median(raw_walls)
    ideal = calls / concurrency * latency_s
    return {"calls": calls, "concurrency": concurrency, "latency_s": latency_s,
            "wall_s": round(wall, 3), "raw_sdk_wall_s": round(raw_wall, 3),
            "ideal_s": round(ideal, 4), "ratio_vs_raw": round(wall / raw_wall, 3),
            "ratio": round(wall / ideal, 3), "repetitions": repetitions,
            "wall_s_all": [round(x, 3) for x in our_walls],
            "raw_sdk_wall_s_all": [round(x, 3) for x in raw_walls]}


def run(quick: bool = False) -> dict[str, Any]:
    """Run the three measurements; `quick` takes a few seconds instead of a minute."""
    from undertow.engine.llm.server import start_in_subprocess

    out: dict[str, Any] = {"suite": "llm", "quick": quick}
    out.update(bench_cache_hits(hits=300 if quick else 3000, distinct=50 if quick else 200))
    with start_in_subprocess() as server:
        out.update(bench_overhead(server.openai_base_url, calls=40 if quick else 200,
                                  rounds=3 if quick else 7))
    latency = 0.05
    with start_in_subprocess(latency_s=latency) as server:
        out["concurrency"] = bench_concurrency(server.openai_base_url, calls=1000,
                                               concurrency=64, latency_s=latency,
                                               repetitions=1 if quick else 3)
    out["targets"] = {"cache_hit_us_p50": 200, "client_overhead_ratio": 1.15,
                      "concurrency.ratio_vs_raw": 1.2}
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))
