"""`undertow perf bench`: what the runner costs, how it scales, and OptoPrime on large graphs.

Figures (one JSON object, `llm=sim`; every timing ratio uses the minimum over
`repetitions` (the runner part: `runner_repetitions`, 5 by default, direct / inline /
2 workers interleaved), steadier than the median on a shared machine):

- `runner_overhead_ratio`: wall time of a grid through the runner (inline, one
  worker: group-committed checkpoints, records, progress, graph.dot) / the same
  optimizer loops run directly (same agents, optimizers, LLM clients and caches;
  nothing saved), with the in-process zero-latency simulated LLM, at the runner's
  default split sizes. Goal <= 1.2. `runner_overhead_ratio_cpu` is the same ratio in
  CPU seconds of this process (everything runs in it), which other people's load
  on the machine moves much less than the wall.
- `scaling_2_workers`: the grid's wall time with 1 worker / with 2 (local process
  pool), and `scaling_2_workers_each` the ratio of each interleaved repetition. Goal
  >= 1.5 on 2 cores. `cpu_parallelism_2` is the machine's own 2-process speedup at
  the time (two pure-CPU jobs in turn / at once): the ceiling for `scaling_2_workers`
  while other processes share the cores. `load_avg` / `runner_load_avg`: the load
  averages around the measurement.
- `executor_overhead_per_run_s`: (wall of k tiny runs through an executor with one
  worker - wall inline) / k, for the process pool and for Ray (a local instance;
  its start-up is `ray_startup_s`, not counted per run); null where Ray is missing.
- `optoprime`: OptoPrime steps on N float parameters summed by a chain of additions
  (N = 10 ... 3000), both frameworks over HTTP to one sim-server in its own process,
  each framework in a fresh interpreter per N (`optoprime_probe.py`,
  `trace_opt_optoprime_probe.py`), after a warm-up step (N = 10) and repeated
  `optoprime_repetitions` times (up to N = `ROUNDS_UP_TO`, in `rounds` rounds of a
  fresh interpreter each, the two frameworks taking turns) on fresh graphs (values
  `i % 7 + k / 8` at the k-th step, for both) through one LLM client per interpreter
  (fewer when the steps pass half of `trace_opt_limit_s`): `tokens` (all
  prompts of the step, by `tokenizer`), `cpu_ms` (the minimum client CPU time of a
  step: report building, requests, parsing, applying; the server's work is in another
  process) with `cpu_ms_median`, `framework_cpu_ms` (the same less the CPU spent
  inside the OpenAI SDK's request call, which both frameworks make: the framework's
  own work) with its median, `sdk_cpu_ms_median`, `updated_fraction` (parameters whose
  value changed), `requests`, `count_cpu_ms_median` (undertow only: the part of its
  framework CPU spent counting tokens with the real tokenizer, which the report budget
  needs and trace-opt does not do; counts already made are kept, `tokens.COUNTS`, by
  digit shape and by line: the probes change every value at every step, so #Code and
  the instructions repeat as text and the values' lines by shape, as in a training
  loop of numbers), `framework_cpu_ms_uncached` (up
  to N = `UNCACHED_UP_TO`: the same steps with every section counted every step), and
  `trace_opt` (the same from trace-opt's OptoPrime in its own interpreter, or null: not installed, failed, or skipped past
  `trace_opt_limit_s`, noted in `trace_opt_skipped`); `cpu_ratio` and
  `framework_cpu_ratio` are trace-opt's minimum / undertow's (goal >= 10 from N = 100),
  summed up in `optoprime_goals`.
- `fanout` and `limits` (only when asked for with `--part`): see `bench/perf/fanout.py`.
- `backward_fanin`: subgraph backward seconds on the fan-in graph at N = 300 and
  3000 and `linearity` = t(3000) / t(300) (10 for linear; goal <= 15).
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PARTS = ("runner", "executors", "optoprime", "backward")
#: The `optoprime` rows measured a second time without the count cache, up to this N.
UNCACHED_UP_TO = 1000
#: Parts run only when named (`--part fanout --part limits`).
OPTIONAL_PARTS = ("fanout", "limits")


def _quiet_console() -> Any:
    import io

    from rich.console import Console

    return Console(file=io.StringIO(), width=120)


def _grid(seeds: int, steps: int, workers: int = 1) -> Any:
    from undertow.bench.runner import make_config

    # the runner's default split sizes (30 / 20 / 50 items, 4 per step): runs of a
    # realistic length, so the per-run costs (config, graph files) weigh what they do
    return make_config(["word_sorting", "numeric_dag"], ["none", "optoprime"], seeds=seeds, steps=steps,
                       budget="calls=1000", workers=workers)


def _through_runner(config: Any, executor: Any = None, cpu: list[float] | None = None) -> float:
    """Wall seconds of the grid through the runner; appends this process's CPU seconds to `cpu`."""
    from undertow.bench.runner import start

    with tempfile.TemporaryDirectory(prefix="undertow-perf-bench-") as d:
        t, c = time.perf_counter(), time.process_time()
        outcome = start(config, Path(d) / "run", console=_quiet_console(), executor=executor)
        wall = time.perf_counter() - t
        if cpu is not None:
            cpu.append(time.process_time() - c)
    if outcome.failed:
        raise RuntimeError(f"perf bench: runs failed: {outcome.failed}")
    return wall


def _direct(config: Any, cpu: list[float] | None = None) -> float:
    """The grid's optimizer loops without the runner: same objects, nothing saved (wall
    seconds; appends the CPU seconds to `cpu`)."""
    from undertow.bench.registry import get_optimizer_entry, get_task_entry
    from undertow.bench.runner.budget import parse_budget
    from undertow.bench.runner.metered import build_llms
    from undertow.bench.runner.tasks import TaskContext

    with tempfile.TemporaryDirectory(prefix="undertow-perf-direct-") as d:
        t, c = time.perf_counter(), time.process_time()
        for spec in config.runs:
            task, entry = get_task_entry(spec.task), get_optimizer_entry(spec.optimizer)
            llm = eval_llm = None
            if task.uses_llm or entry.uses_llm:
                llm, eval_llm = build_llms(config.llm, seed=spec.seed, cache_dir=Path(d) / "cache",
                                           budget=parse_budget(config.budget))
            ctx = TaskContext(seed=spec.seed, llm=llm, eval_llm=eval_llm, sizes=config.sizes,
                              batch_size=config.batch_size, propagator=entry.propagator)
            agent = task.build(ctx)
            agent.run_seed = spec.seed
            opt = entry.factory(agent.parameters, llm, task, agent)
            rng = random.Random(f"undertow-bench/{spec.run_id}")
            agent.evaluate("val")
            for _ in range(config.steps):
                agent.run_step(opt, rng)
                agent.evaluate("val")
            opt.finalize()
            agent.evaluate("test")
            for client in (llm, eval_llm):
                if client is not None:
                    client.close()
        if cpu is not None:
            cpu.append(time.process_time() - c)
        return time.perf_counter() - t


def _burn(n: int) -> float:
    """Pure-Python CPU work (no I/O, no shared state): seconds to do it."""
    t = time.perf_counter()
    acc = 0
    for i in range(n):
        acc += i * i
    return time.perf_counter() - t


def cpu_parallelism(repetitions: int, n: int = 2_000_000) -> float:
    """The machine's own 2-process speedup at this moment: two equal pure-CPU jobs run one
    after the other / on a 2-process pool (min over repetitions each). What
    `scaling_2_workers` can reach at best while other people share the cores."""
    from undertow.bench.runner.executor import make_executor

    pool = make_executor(2)
    try:
        list(pool.map(_burn, [10, 10]))  # start the workers
        serial, parallel = [], []
        for _ in range(repetitions):
            t = time.perf_counter()
            _burn(n), _burn(n)
            serial.append(time.perf_counter() - t)
            t = time.perf_counter()
            list(pool.map(_burn, [n, n]))
            parallel.append(time.perf_counter() - t)
    finally:
        pool.shutdown(wait=True)
    return round(min(serial) / min(parallel), 3)


def runner_figures(repetitions: int, quick: bool) -> dict[str, Any]:
    """Direct, inline runner and 2-worker runner, interleaved repetition by repetition (so
    a burst of load from other processes hits all three alike), minimum of each."""
    from undertow.bench.runner.executor import make_executor

    seeds, steps = (1, 2) if quick else (2, 3)
    one = _grid(seeds, steps, 1)
    two = _grid(seeds, steps, 2)
    _direct(one), _through_runner(one)  # warm-up: imports, caches, the sim's profiles
    direct, runner, parallel = [], [], []
    direct_cpu: list[float] = []
    runner_cpu: list[float] = []
    load_before = os.getloadavg()
    for _ in range(repetitions):
        direct.append(_direct(one, direct_cpu))
        runner.append(_through_runner(one, cpu=runner_cpu))
        parallel.append(_through_runner(two, make_executor(2)))
    return {
        "grid": {"tasks": ["word_sorting", "numeric_dag"], "optimizers": ["none", "optoprime"],
                 "seeds": seeds, "steps": steps, "runs": len(one.runs)},
        "runner_repetitions": repetitions,
        "direct_s": round(min(direct), 3), "runner_s": round(min(runner), 3),
        "runner_2_workers_s": round(min(parallel), 3),
        "runner_overhead_ratio": round(min(runner) / min(direct), 3),
        # CPU time of this process (inline: everything runs here): steadier under others' load
        "runner_overhead_ratio_cpu": round(min(runner_cpu) / min(direct_cpu), 3),
        "scaling_2_workers": round(min(runner) / min(parallel), 3),
        "scaling_2_workers_each": sorted(round(a / b, 3) for a, b in zip(runner, parallel)),
        "cpu_parallelism_2": cpu_parallelism(repetitions),
        "runner_load_avg": {"before": [round(x, 2) for x in load_before],
                     "after": [round(x, 2) for x in os.getloadavg()]},
    }


def executor_figures(repetitions: int, k: int = 4) -> dict[str, Any]:
    """Per-run overhead of the process pool and of Ray, one worker each, on k tiny runs."""
    from undertow.bench.runner import make_config
    from undertow.bench.runner.executor import InlineExecutor

    config = make_config(["numeric_dag"], ["none"], seeds=k, steps=1, budget="calls=10",
                         n_train=4, n_val=4, n_test=4, batch_size=2)
    inline = min(_through_runner(config, InlineExecutor()) for _ in range(repetitions))
    pool = min(_through_runner(config, make_executor_one()) for _ in range(repetitions))
    out: dict[str, Any] = {"runs": k, "inline_s": round(inline, 4),
                           "executor_overhead_per_run_s": {"process_pool": round((pool - inline) / k, 4),
                                                           "ray": None},
                           "ray_startup_s": None}
    try:
        import ray  # noqa: F401
    except ImportError:
        return out
    from undertow.bench.runner.ray_executor import RayExecutor

    samples = []
    startup = []
    for _ in range(repetitions):
        t = time.perf_counter()
        ex = RayExecutor(workers=1)
        startup.append(time.perf_counter() - t)
        samples.append(_through_runner(config, ex))  # the runner shuts the instance down
    out["executor_overhead_per_run_s"]["ray"] = round((min(samples) - inline) / k, 4)
    out["ray_startup_s"] = round(min(startup), 3)
    return out


def make_executor_one() -> Any:
    """A process pool of one worker (the local executor's kind, sized to compare with Ray)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    return ProcessPoolExecutor(max_workers=1, mp_context=ctx)


def _undertow_step(n: int, llm: Any, sdk: list[float], count: Any, shift: float = 0.0) -> dict[str, Any]:
    """One OptoPrime step on a fresh graph of `n` parameters summed (see the docstring),
    through `llm`, the client the probe makes once for all its steps (as trace-opt's probe
    makes its `CustomLLM` once), whose SDK time `_time_sdk` adds to `sdk`. The values are
    `i % 7 + shift`: the probes change `shift` every step, so that, as in a training loop,
    every value and every intermediate result differs from the step before (only the code
    and the instructions repeat)."""
    from undertow.engine import Parameter, backward
    from undertow.optimizers.opto import OptoPrime

    xs = [Parameter(float(i % 7) + shift, name=f"x{i}") for i in range(n)]
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    t = time.perf_counter()
    backward(total, f"The sum should be {2.0 * n}; make it larger")
    backward_ms = (time.perf_counter() - t) * 1e3
    counting = [0.0]
    opt = OptoPrime(xs, llm, tokenizer=_timed_counter(count, counting))
    before = [x.value for x in xs]
    sdk_before = sdk[0]
    c, w = time.process_time(), time.perf_counter()
    proposals = opt.step()
    cpu_ms = (time.process_time() - c) * 1e3
    wall_s = time.perf_counter() - w
    prompts = {p.meta["prompt"] for p in proposals if "prompt" in p.meta}
    return {"tokens": sum(count(p) for p in prompts), "cpu_ms": cpu_ms, "sdk_cpu_ms": (sdk[0] - sdk_before) * 1e3,
            "count_cpu_ms": counting[0] * 1e3,
            "updated_fraction": round(sum(1 for x, b in zip(xs, before) if x.value != b) / n, 4),
            "requests": len(prompts), "backward_ms": backward_ms, "step_wall_s": wall_s}


def _cpu_into(fn: Any, cell: list[float]) -> Any:
    """`fn`, adding the CPU seconds each call spends (in whichever thread) to `cell[0]`."""
    def timed(*args: Any) -> Any:
        c = time.thread_time()
        try:
            return fn(*args)
        finally:
            cell[0] += time.thread_time() - c

    return timed


def _timed_counter(count: Any, cell: list[float]) -> Any:
    """`count` (a `TokenCounter`) adding the CPU seconds it spends to `cell`."""
    return dataclasses.replace(count, count=_cpu_into(count.count, cell))


def _time_sdk(backend: Any) -> list[float]:
    """Add the CPU seconds each call spends in the provider SDK (`backend._create`: the
    OpenAI SDK's request and reply parsing) to the returned cell."""
    cell = [0.0]
    backend._create = _cpu_into(backend._create, cell)
    return cell


def _summary(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """A row's figures from repeated steps: minimum CPU (and of the framework's own part:
    the step's CPU less the SDK's), the median beside it, the first step's counts."""
    cpu = sorted(s["cpu_ms"] for s in steps)
    own = sorted(s["cpu_ms"] - s["sdk_cpu_ms"] for s in steps)
    return {"cpu_ms": round(cpu[0], 2), "cpu_ms_median": round(cpu[len(cpu) // 2], 2),
            "framework_cpu_ms": round(own[0], 2), "framework_cpu_ms_median": round(own[len(own) // 2], 2),
            "sdk_cpu_ms_median": round(sorted(s["sdk_cpu_ms"] for s in steps)[len(steps) // 2], 2),
            **({"count_cpu_ms_median": round(sorted(s["count_cpu_ms"] for s in steps)[len(steps) // 2], 2)}
               if all("count_cpu_ms" in s for s in steps) else {}),
            "backward_ms": round(min(s["backward_ms"] for s in steps), 2), "repetitions": len(steps)}


def _undertow_steps(n: int, base_url: str, repetitions: int, limit_s: float,
                    cached: bool = True) -> list[dict[str, Any]]:
    """Our steps at `n`, timed in a fresh interpreter (`optoprime_probe.py`) as trace-opt's are."""
    proc = subprocess.run([sys.executable, "-m", "undertow.bench.perf.optoprime_probe", str(n), base_url,
                           str(repetitions), str(limit_s), *([] if cached else ["uncached"])],
                          capture_output=True, text=True, check=False)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])["steps"]
    except (json.JSONDecodeError, IndexError, KeyError):
        raise RuntimeError(f"undertow's OptoPrime probe failed at N={n}: {proc.stderr.strip()[-2000:]}") from None


def _undertow_row(n: int, steps: list[dict[str, Any]]) -> dict[str, Any]:
    first = steps[0]
    return {"N": n, "tokens": first["tokens"], **_summary(steps),
            "updated_fraction": first["updated_fraction"], "requests": first["requests"]}


def _trace_opt_steps(python: str, n: int, base_url: str, limit_s: float,
                     repetitions: int) -> dict[str, Any] | str:
    """trace-opt's steps at `n` in a fresh interpreter: `steps`, the first step's
    `prompt`, `updated` and `requests`; or a string saying why there are none."""
    script = Path(__file__).with_name("trace_opt_optoprime_probe.py")
    with tempfile.TemporaryDirectory(prefix="undertow-perf-trace-") as d:
        prompt_file = Path(d) / "prompt.txt"
        try:
            # the limit bounds the steps; interpreter start-up and imports get a minute more
            proc = subprocess.run([python, str(script), str(n), base_url, str(prompt_file), str(repetitions),
                                   str(limit_s / 2)], capture_output=True, text=True, timeout=limit_s + 60)
            data = json.loads(proc.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            return f"N={n}: stopped, ran past {limit_s:.0f} s with start-up"
        except (OSError, json.JSONDecodeError, IndexError):
            return f"N={n}: trace-opt probe failed"
        if "error" in data:
            return f"N={n}: {data['error']}"
        text = prompt_file.read_text() if prompt_file.is_file() else ""
    steps = [{"cpu_ms": c, "sdk_cpu_ms": s, "backward_ms": b}
             for c, s, b in zip(data["cpu_ms"], data["sdk_cpu_ms"], data["backward_ms"])]
    return {"steps": steps, "prompt": text, "updated": data["updated"], "requests": data.get("requests")}


def _trace_opt_row(n: int, rounds: list[dict[str, Any]], count: Any) -> dict[str, Any]:
    steps = [s for r in rounds for s in r["steps"]]
    first = rounds[0]
    return {"tokens": count(first["prompt"]), **_summary(steps), "updated_fraction": round(first["updated"] / n, 4),
            "requests": first["requests"],
            # its own work (CPU), not the wall: on a loaded machine the wall is mostly waiting
            "work_s": (min(s["backward_ms"] for s in steps) + min(s["cpu_ms"] for s in steps)) / 1e3}


#: Cells up to this N are measured in `OPTOPRIME_ROUNDS` rounds, undertow's and trace-opt's
#: probes taking turns, so that the machine's drift over the minutes of a cell (load
#: from other people, frequency) weighs on both frameworks alike; past it, the time
#: limit allows only a few steps, all in one round.
ROUNDS_UP_TO, OPTOPRIME_ROUNDS = 300, 3


def optoprime_table(sizes: list[int], trace_opt_python: str | None, limit_s: float,
                    repetitions: int = 30) -> dict[str, Any]:
    """The `optoprime` rows. Each cell keeps the minimum of up to `repetitions` steps
    (30: a minimum of 5 still moved by a third between runs on a shared machine; the
    time limit stops the large cells after a few), taken in turns (`ROUNDS_UP_TO`)."""
    from undertow.bench.peers.install import python_of
    from undertow.bench.sim.server import start_in_subprocess
    from undertow.optimizers.opto.tokens import token_counter

    count = token_counter()
    python = os.path.expanduser(trace_opt_python) if trace_opt_python else str(python_of("trace-opt"))
    have_trace = os.path.exists(python)
    rows, skipped = [], []
    last: tuple[int, float] | None = None  # (N, trace-opt's backward + step CPU seconds)
    with start_in_subprocess() as server:
        url = server.openai_base_url
        for n in sizes:
            # trace-opt's step grows about as N^2 (measured): skip a cell predicted past the limit
            predicted = None if last is None else last[1] * (n / last[0]) ** 2
            run_trace = have_trace and (predicted is None or predicted <= limit_s)
            if have_trace and not run_trace:
                skipped.append(f"N={n}: skipped, predicted {predicted:.0f} s from N={last[0]} "  # type: ignore[index]
                               f"(N^2 growth), past the {limit_s:.0f} s limit")
            rounds = OPTOPRIME_ROUNDS if n <= ROUNDS_UP_TO else 1
            each, limit = max(1, repetitions // rounds), limit_s / rounds
            ours: list[dict[str, Any]] = []
            uncached: list[dict[str, Any]] = []
            theirs: list[dict[str, Any]] = []
            failed: str | None = None
            for _ in range(rounds):
                ours += _undertow_steps(n, url, each, limit / 2)
                if n <= UNCACHED_UP_TO:
                    uncached += _undertow_steps(n, url, each, limit / 2, cached=False)
                if run_trace and failed is None:
                    got = _trace_opt_steps(python, n, url, limit, each)
                    if isinstance(got, str):
                        failed = got
                    else:
                        theirs.append(got)
            row = _undertow_row(n, ours)
            if uncached:
                row["framework_cpu_ms_uncached"] = _summary(uncached)["framework_cpu_ms"]
            row["rounds"] = rounds
            row["trace_opt"] = None
            if failed is not None:
                skipped.append(failed)
                last = (n, float("inf"))
            elif theirs:
                got_row = _trace_opt_row(n, theirs, count)
                last = (n, got_row.pop("work_s"))
                row["trace_opt"] = got_row
                row["cpu_ratio"] = round(got_row["cpu_ms"] / row["cpu_ms"], 2)
                row["framework_cpu_ratio"] = round(got_row["framework_cpu_ms"] / row["framework_cpu_ms"], 2)
            rows.append(row)
    if not have_trace:
        skipped.append(f"trace-opt interpreter not found at {python}")
    compared = [r for r in rows if r["N"] >= 100 and r.get("cpu_ratio") is not None]
    return {"optoprime": rows, "tokenizer": count.name, "trace_opt_skipped": skipped,
            "trace_opt_limit_s": limit_s, "optoprime_repetitions": repetitions,
            # the goals, over the rows where trace-opt ran
            "optoprime_goals": {
                "every_parameter_updated": all(r["updated_fraction"] == 1.0 for r in rows),
                "cpu_ratio_min_from_100": min((r["cpu_ratio"] for r in compared), default=None),
                "framework_cpu_ratio_min_from_100": min((r["framework_cpu_ratio"] for r in compared),
                                                        default=None)}}


def run(quick: bool = False, trace_opt_python: str | None = None, limit_s: float = 60.0,
        parts: tuple[str, ...] = PARTS,
        runner_repetitions: int | None = None) -> dict[str, Any]:
    """Measure and return the figures described in the module docstring."""
    from undertow.bench.perf.engine import _fanin, _time_graph

    repetitions = 2 if quick else 3
    result: dict[str, Any] = {"suite": "bench", "llm": "sim", "python": sys.version.split()[0],
                              "machine": platform.machine(), "cpus": os.cpu_count(),
                              "repetitions": repetitions,
                              "load_avg": [round(x, 2) for x in os.getloadavg()]}
    if "runner" in parts:
        result.update(runner_figures(runner_repetitions or (2 if quick else 5), quick))
    if "executors" in parts:
        result.update(executor_figures(repetitions))
    if "optoprime" in parts:
        sizes = [10, 100, 300] if quick else [10, 100, 300, 1000, 3000]
        result.update(optoprime_table(sizes, trace_opt_python, limit_s))
    if "fanout" in parts:
        from undertow.bench.perf.fanout import fanout_figures

        result.update(fanout_figures(repetitions, quick=quick))
    if "limits" in parts:
        from undertow.bench.perf.fanout import limits_figures

        result.update(limits_figures())
    if "backward" in parts:
        reps = 5 if quick else 7
        t = {n: _time_graph(_fanin, n, reps) for n in (300, 3000)}
        result["backward_fanin"] = {"300": round(t[300], 5), "3000": round(t[3000], 5),
                                    "linearity": round(t[3000] / t[300], 2), "repetitions": reps}
    return result
