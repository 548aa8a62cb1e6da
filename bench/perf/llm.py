"""`undertow perf llm`: the LLM layer's cost on top of the provider SDKs.

- `cache_hit_us_p50/p99`: one `LLM.complete` answered from the disk cache (sim
  backend, so no SDK is involved), microseconds per call.
- `client_overhead_ratio`: our OpenAI backend (cache off) against the raw `openai`
  SDK, same local sim-server, same prompts, sequential, the two interleaved call by
  call; the median over rounds of (our total time / the SDK's).
- `concurrency`: 1000 calls, 64 in flight, 50 ms server-side latency: our async
  client (`acomplete_many`) against raw `AsyncOpenAI` under `asyncio.Semaphore(64)`,
  alternating, median wall times. `ideal_s` = calls / concurrency * latency.
The server runs in a child process so it does not share the client's GIL.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from typing import Any

PROMPT = "Sort these words alphabetically: {i} pear apple fig"


def _process_cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by process `pid` (Linux /proc); 0 elsewhere."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


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

    def raw_call(m: list[dict[str, str]]) -> None:
        raw.chat.completions.create(model="sim", messages=m)

    def our_call(m: list[dict[str, str]]) -> None:
        ours.complete(m)

    def one_round() -> tuple[float, float]:
        """Same prompts, calls interleaved one by one so both see the same machine."""
        spent = {raw_call: 0.0, our_call: 0.0}
        for i, m in enumerate(messages):
            for fn in ((raw_call, our_call) if i % 2 == 0 else (our_call, raw_call)):
                t0 = time.perf_counter()
                fn(m)
                spent[fn] += time.perf_counter() - t0
        return spent[raw_call], spent[our_call]

    one_round()  # warm connections and caches
    raw_s, ours_s = [], []
    for _ in range(rounds):
        r, o = one_round()
        raw_s.append(r)
        ours_s.append(o)
    ratios = [o / r for o, r in zip(ours_s, raw_s)]
    raw.close()
    ours.close()
    return {"client_overhead_ratio": round(statistics.median(ratios), 3),
            "overhead": {"calls_per_round": calls, "rounds": rounds,
                         "raw_sdk_ms_per_call": round(statistics.median(raw_s) / calls * 1e3, 3),
                         "ours_ms_per_call": round(statistics.median(ours_s) / calls * 1e3, 3),
                         "ratios": [round(x, 3) for x in ratios]}}


def bench_concurrency(base_url: str, calls: int, concurrency: int, latency_s: float,
                      repetitions: int, server_pid: int | None = None) -> dict[str, Any]:
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
    cpu: dict[str, list[float]] = {"ours": [], "raw": [], "server_ours": [], "server_raw": []}
    for r in range(repetitions):
        order = [(raw_run, raw_walls, "raw"), (ours_run, our_walls, "ours")]
        for fn, sink, name in (order if r % 2 == 0 else order[::-1]):
            c0, s0 = time.process_time(), _process_cpu_s(server_pid)
            sink.append(asyncio.run(fn()))
            cpu[name].append(time.process_time() - c0)
            cpu["server_" + name].append(_process_cpu_s(server_pid) - s0)
    wall, raw_wall = statistics.median(our_walls), statistics.median(raw_walls)
    per_call_ms = {k: round(statistics.median(v) / calls * 1e3, 3) for k, v in cpu.items()}
    ideal = calls / concurrency * latency_s
    return {"calls": calls, "concurrency": concurrency, "latency_s": latency_s,
            "wall_s": round(wall, 3), "raw_sdk_wall_s": round(raw_wall, 3),
            "ideal_s": round(ideal, 4), "ratio_vs_raw": round(wall / raw_wall, 3),
            "ratio": round(wall / ideal, 3), "repetitions": repetitions,
            "wall_s_all": [round(x, 3) for x in our_walls],
            "raw_sdk_wall_s_all": [round(x, 3) for x in raw_walls],
            "cpu_ms_per_call": {"client_ours": per_call_ms["ours"],
                                "client_raw_sdk": per_call_ms["raw"],
                                "server_during_ours": per_call_ms["server_ours"],
                                "server_during_raw_sdk": per_call_ms["server_raw"]},
            "cpu_cores": os.cpu_count()}


def run(quick: bool = False) -> dict[str, Any]:
    """Run the three measurements; `quick` takes a few seconds instead of a minute."""
    from undertow.bench.sim.server import start_in_subprocess

    out: dict[str, Any] = {"suite": "llm", "quick": quick}
    out.update(bench_cache_hits(hits=300 if quick else 3000, distinct=50 if quick else 200))
    with start_in_subprocess() as server:
        out.update(bench_overhead(server.openai_base_url, calls=40 if quick else 200,
                                  rounds=3 if quick else 7))
    latency = 0.05
    with start_in_subprocess(latency_s=latency) as server:
        out["concurrency"] = bench_concurrency(
            server.openai_base_url, calls=1000, concurrency=64, latency_s=latency,
            repetitions=1 if quick else 5,
            server_pid=server.process.pid if server.process else None)
    out["targets"] = {"cache_hit_us_p50": 200, "client_overhead_ratio": 1.15,
                      "concurrency.ratio_vs_raw": 1.2}
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))
