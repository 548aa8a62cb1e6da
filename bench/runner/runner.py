"""Start, resume and watch a bench run: tasks x optimizers x seeds at one budget.

`start(config, out)` checks everything a user can get wrong before any work (names,
LLM spec and key, budget, output folder), saves `out/config.json`, then hands one
job per run to an executor and shows progress (rich) read from the checkpoints.
`resume(out)` does the same for the runs not yet done. When all are done the
records go to `out/results.jsonl`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from undertow.bench.registry import get_optimizer_entry, get_task_entry, pairs
from undertow.bench.runner.budget import parse_budget
from undertow.bench.runner.checkpoint import read_json
from undertow.bench.runner.config import (
    CONFIG_FILE,
    RunConfig,
    RunSpec,
    load_config,
    save_config,
)
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.executor import make_executor
from undertow.bench.runner.real import REAL_TASKS, check_data, check_sim
from undertow.bench.runner.records import StepRecord, dump_jsonl, load_jsonl
from undertow.bench.runner.worker import CHECKPOINT, RECORDS, run_dir, run_one
from undertow.engine.llm import (
    LLMConfigError,
    MissingAPIKeyError,
    make_backend,
    parse_spec,
)

RESULTS = "results.jsonl"


@dataclass
class Outcome:
    """What a start/resume did: the runs that finished and those that failed (id -> error)."""

    out: Path
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    records: list[StepRecord] = field(default_factory=list)


def make_config(tasks: Iterable[str], optimizers: Iterable[str], *, llm: str = "sim", seeds: int = 1,
                budget: str = "calls=200", steps: int = 5, workers: int = 1, data_dir: str | None = None,
                **sizes: int) -> RunConfig:
    """A checked config for the compatible pairs of `tasks` x `optimizers` over seeds 0..seeds-1."""
    if seeds < 1:
        raise BenchError(f"--seeds must be at least 1, got {seeds}")
    grid = pairs(tasks, optimizers)
    runs = [RunSpec(task=t, optimizer=o, seed=s) for t, o in grid for s in range(seeds)]
    real = sorted({t for t, _ in grid if t in REAL_TASKS})
    for t in real:  # before any work: the files are there and the model can answer the task
        check_data(t, data_dir)
        check_sim(t, llm)
    if real and data_dir is not None:
        data_dir = str(Path(data_dir).expanduser().resolve())
    config = RunConfig(runs=runs, llm=llm.strip(), budget=budget, steps=steps, workers=workers,
                       data_dir=data_dir, **sizes)
    config.check()
    if any(get_task_entry(r.task).uses_llm or get_optimizer_entry(r.optimizer).uses_llm for r in runs):
        check_llm(config.llm)
    return config


def check_llm(spec: str) -> None:
    """Fail early, in one line, on a bad spec or a missing API key."""
    try:
        parsed = parse_spec(spec)
        if parsed.provider != "sim":
            make_backend(parsed)
    except MissingAPIKeyError as exc:
        raise BenchError(f"missing API key: {exc}") from None
    except LLMConfigError as exc:
        raise BenchError(str(exc).splitlines()[0]) from None


def _prepare_out(out: Path) -> None:
    if (out / CONFIG_FILE).exists():
        raise BenchError(f"{out} already holds a bench run; continue it with `undertow bench resume {out}` "
                         "or pick another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise BenchError(f"cannot write to output directory {out} ({exc.strerror or exc}); "
                         "pick a writable --out") from None


def start(config: RunConfig, out: str | Path, *, console: Console | None = None,
          executor: Executor | None = None) -> Outcome:
    """Save the config in `out` (a new folder) and run every run of it."""
    out = Path(out)
    config.check()
    _prepare_out(out)
    save_config(out, config)
    return _execute(out, config, console=console, executor=executor)


def resume(out: str | Path, *, workers: int | None = None, console: Console | None = None,
           executor: Executor | None = None) -> Outcome:
    """Finish the runs of `out` that are not done, from their last checkpoints."""
    out = Path(out)
    config = load_config(out)
    if workers is not None:
        config = config.model_copy(update={"workers": workers})
    return _execute(out, config, console=console, executor=executor)


def _status(out: Path, spec: RunSpec) -> dict[str, Any]:
    path = run_dir(out, spec.run_id) / CHECKPOINT
    if not path.is_file():
        return {"status": "pending", "step": 0}
    try:
        return read_json(path)
    except BenchError:
        return {"status": "pending", "step": 0}


def _execute(out: Path, config: RunConfig, *, console: Console | None,
             executor: Executor | None) -> Outcome:
    console = console or Console()
    outcome = Outcome(out)
    todo = [r for r in config.runs if _status(out, r).get("status") != "done"]
    outcome.done = [r.run_id for r in config.runs if r not in todo]
    label = f"llm={config.llm}" if config.llm else ""
    console.print(f"[bold]undertow bench[/bold] {len(config.runs)} runs ({len(todo)} to do), "
                  f"{config.steps} steps, budget {config.budget}, {label} -> {out}")
    pool = executor or make_executor(min(config.workers, max(1, len(todo))))
    stop = threading.Event()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        bars = {r.run_id: progress.add_task(r.run_id, total=config.steps, info="") for r in config.runs}
        watcher = threading.Thread(target=_watch, args=(out, config, progress, bars, stop), daemon=True)
        try:
            futures: dict[Future[Any], RunSpec] = {}
            for r in todo:
                futures[pool.submit(run_one, str(out), r.run_id)] = r
            watcher.start()
            for fut, r in futures.items():
                try:
                    fut.result()
                    outcome.done.append(r.run_id)
                except Exception as exc:  # noqa: BLE001 - reported per run, resume retries
                    outcome.failed[r.run_id] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise BenchError(f"interrupted; continue with `undertow bench resume {out}`") from None
        finally:
            stop.set()
            if watcher.is_alive():
                watcher.join()
            _refresh(out, config, progress, bars)
        pool.shutdown(wait=True)
    for run_id, error in outcome.failed.items():
        console.print(f"[red]run {run_id} failed:[/red] {error} (fix it, then `undertow bench resume {out}`)")
    if not outcome.failed:
        outcome.records = collect(out, config)
        dump_jsonl(out / RESULTS, outcome.records)
        console.print(f"results: {out / RESULTS} ({len(outcome.records)} records); "
                      f"report: `undertow bench report {out}`")
    return outcome


def _refresh(out: Path, config: RunConfig, progress: Progress, bars: dict[str, Any]) -> None:
    for r in config.runs:
        st = _status(out, r)
        records = st.get("records") or []
        info = ""
        if records:
            last = records[-1]
            info = f"{last['split']} {last['score']:.3f}  calls {last['calls']}"
        if st.get("status") in ("failed",):
            info = "[red]failed[/red]"
        total = config.steps if st.get("status") != "done" else int(st.get("step", 0))
        progress.update(bars[r.run_id], completed=int(st.get("step", 0)), total=max(total, 1), info=info)


def _watch(out: Path, config: RunConfig, progress: Progress, bars: dict[str, Any],
           stop: threading.Event) -> None:
    while not stop.wait(0.25):
        _refresh(out, config, progress, bars)


def collect(out: str | Path, config: RunConfig | None = None) -> list[StepRecord]:
    """Every record of every run in `out` (validated), in config order."""
    out = Path(out)
    config = config or load_config(out)
    records: list[StepRecord] = []
    for r in config.runs:
        path = run_dir(out, r.run_id) / RECORDS
        if path.is_file():
            records.extend(load_jsonl(path))
    return records


__all__ = ["RESULTS", "Outcome", "check_llm", "collect", "make_config", "parse_budget", "resume", "start"]
