"""`undertow perf bench --part fanout` and `--part limits`: parallel evaluation inside
optimizer steps, and what the sweep's shared limiter costs a call.

- `fanout`: wall time of GEPA steps and MCTS iterations with a fan-out width of 1 and of
  4 (`undertow.optimizers.fanout`), against a sim-server in its own process that adds
  `latency_s` to every request (so the wait is the provider's, as in real use); minimum
  over `repetitions`, a fresh optimizer and no response cache each time. `speedup` =
  width 1 / width 4. Both widths end with the same results (checked here too:
  `same_results`), as the tests check on the in-process sim.
- `limits`: microseconds per call that the sweep's shared limiter and ledger add
  (one `reserve` and one `book`), in-process, through the manager process that
  serves local worker processes, and through the Ray actor (a local Ray instance;
  null without Ray). Called from the driver here; a Ray task calls it the same way.
"""

from __future__ import annotations

import time
from typing import Any

WIDTHS = (1, 4)


def _gepa_steps(llm: Any, width: int, steps: int) -> tuple[float, Any]:
    from undertow.bench.runner.routed import RoutedRun
    from undertow.bench.runner.tasks import SplitSizes, TaskContext
    from undertow.optimizers.prompts import GEPA

    run = RoutedRun(TaskContext(seed=1, llm=llm, eval_llm=llm, sizes=SplitSizes(16, 8, 4), batch_size=4,
                                propagator="subgraph"))
    prog = run.program()
    g = GEPA(prog, llm, train=run.splits.train, val=run.splits.val, seed=3, minibatch=4, merge_every=3,
             fanout=width)
    start = time.perf_counter()
    for _ in range(steps):
        g.step()
    return time.perf_counter() - start, [c["scores"] for c in g.pool]


def _mcts_iterations(llm: Any, width: int, iterations: int) -> tuple[float, Any]:
    from undertow.bench.tasks.reasoning import get_task, make_splits
    from undertow.engine import Parameter
    from undertow.optimizers.search import PromptMCTS

    task, splits = get_task("boolean_expressions"), make_splits("boolean_expressions", 0, 12, 8, 4)
    p = Parameter("Answer the question.", kind="text", name="system_prompt")
    opt = PromptMCTS([p], llm=llm, train=splits.train, val=splits.val, score=task.score, num_trees=2,
                     paths=2, k=2, train_batch=4, seed=5, fanout=width)
    start = time.perf_counter()
    for _ in range(iterations):
        opt.step()
    return time.perf_counter() - start, sorted(opt.val_cache.items())


def fanout_figures(repetitions: int, latency_s: float = 0.05, quick: bool = False) -> dict[str, Any]:
    """GEPA and MCTS step walls at widths 1 and 4 against a latency-injected sim-server."""
    from undertow.bench.sim.server import start_in_subprocess
    from undertow.engine.llm import make_llm

    steps, iterations = (1, 1) if quick else (2, 2)
    walls: dict[str, dict[int, float]] = {"gepa": {}, "mcts": {}}
    results: dict[str, dict[int, Any]] = {"gepa": {}, "mcts": {}}
    with start_in_subprocess(latency_s=latency_s) as srv:
        spec = f"openai-compatible:{srv.openai_base_url}#sim"
        for _ in range(repetitions):
            for width in WIDTHS:
                for name, fn, n in (("gepa", _gepa_steps, steps), ("mcts", _mcts_iterations, iterations)):
                    llm = make_llm(spec, cache_dir=False)
                    try:
                        wall, outcome = fn(llm, width, n)
                    finally:
                        llm.close()
                    walls[name][width] = min(walls[name].get(width, float("inf")), wall)
                    results[name][width] = outcome
        requests = srv.stats()["by_path"].get("/v1/chat/completions", 0)
    out: dict[str, Any] = {"latency_s": latency_s, "widths": list(WIDTHS), "requests": requests}
    for name, n in (("gepa", steps), ("mcts", iterations)):
        w = walls[name]
        out[name] = {"steps": n, **{f"width_{k}_s": round(v, 3) for k, v in w.items()},
                     "speedup": round(w[WIDTHS[0]] / w[WIDTHS[-1]], 2),
                     "same_results": results[name][WIDTHS[0]] == results[name][WIDTHS[-1]]}
    return {"fanout": out}


def limits_figures(calls: int = 2000) -> dict[str, Any]:
    """Microseconds per call added by the shared limiter and ledger (reserve + book)."""
    import tempfile
    from pathlib import Path

    from undertow.bench.runner.executor import make_executor
    from undertow.bench.runner.limits import SweepLimits, serve_limits

    def per_call(service: Any) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            service.reserve("openai|x|m", 100)
            service.book("run", "train", 80, 20, 0.0)
        return (time.perf_counter() - start) / calls * 1e6

    local = per_call(SweepLimits(rpm=1e9, tpm=1e12))
    pool = make_executor(2)
    try:
        with tempfile.TemporaryDirectory() as tmp, \
                serve_limits(pool, Path(tmp), rpm=1e9, tpm=1e12) as (handle, _):
            managed = per_call(handle.connect())
    finally:
        pool.shutdown()
    figures = {"calls": calls, "in_process_us_per_call": round(local, 1),
               "manager_process_us_per_call": round(managed, 1), "ray_actor_us_per_call": None}
    try:
        from undertow.bench.runner.executor import make_named_executor

        ray_pool = make_named_executor("ray", 1)
    except Exception:  # noqa: BLE001 - Ray missing or unable to start: the figure stays null
        return {"limits": figures}
    try:
        with tempfile.TemporaryDirectory() as tmp, \
                serve_limits(ray_pool, Path(tmp), rpm=1e9, tpm=1e12) as (handle, _):
            figures["ray_actor_us_per_call"] = round(per_call(handle.connect()), 1)
    finally:
        ray_pool.shutdown()
    return {"limits": figures}
