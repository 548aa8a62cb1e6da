"""Start, resume and watch a bench run: tasks x optimizers x seeds at one budget.

`start(config, out)` checks everything a user can get wrong before any work (names,
LLM spec and key, budget, output folder), saves `out/config.json`, then hands one
job per run to an executor and shows progress (rich) read from the checkpoints.
`resume(out)` does the same for the runs not yet done. When all are done the
records go to `out/results.jsonl`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import pickle
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from undertow.bench.registry import get_optimizer_entry, get_task_entry, pairs
from undertow.bench.runner.budget import parse_budget
from undertow.bench.runner.checkpoint import read_json, write_json
from undertow.bench.runner.config import (
    CONFIG_FILE,
    RunConfig,
    RunSpec,
    load_config,
    save_config,
)
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.executor import InlineExecutor, make_executor, stop_now
from undertow.bench.runner.limits import LEDGER_FILE, SweepLimits, serve_limits
from undertow.bench.runner.progress import LiveProgress, run_status
from undertow.bench.runner.real import REAL_TASKS, check_data, check_sim
from undertow.bench.runner.records import StepRecord, dump_jsonl, load_jsonl
from undertow.bench.runner.worker import RECORDS, RunFailed, run_dir, run_one
from undertow.engine.callbacks import Callback
from undertow.engine.llm import (
    LLMConfigError,
    MissingAPIKeyError,
    make_backend,
    parse_spec,
)

RESULTS = "results.jsonl"
log = logging.getLogger("undertow.bench.runner")


@dataclass
class Outcome:
    """What a start/resume did: the runs that finished and those that failed (id -> error)."""

    out: Path
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    records: list[StepRecord] = field(default_factory=list)

    def _repr_html_(self) -> str:
        """Notebooks show the final test score of every run, and the failures."""
        from undertow.bench.runner.notebook import outcome_html

        return outcome_html(self)


def make_config(tasks: Iterable[str], optimizers: Iterable[str], *, llm: str = "sim", seeds: int = 1,
                budget: str = "calls=200", steps: int = 5, workers: int = 1, check_key: bool = True,
                data_dir: str | None = None, rpm: float | None = None, tpm: float | None = None,
                rpm_burst: float | None = None, sweep_budget: str | None = None, **sizes: int) -> RunConfig:
    """A checked config for the compatible pairs of `tasks` x `optimizers` over seeds 0..seeds-1.

    `check_key=False` checks the LLM spec but not the API key (a dry run sends nothing).
    `rpm`, `tpm` (and `rpm_burst`) are the provider's limits, shared by every run of the
    sweep; `sweep_budget` caps the training spend of all runs together.
    """
    for name, value in (("--rpm", rpm), ("--tpm", tpm), ("--rpm-burst", rpm_burst)):
        if value is not None and not value > 0:
            raise BenchError(f"{name} must be a positive number per minute, got {value}")
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
                       data_dir=data_dir, rpm=rpm, tpm=tpm, rpm_burst=rpm_burst, sweep_budget=sweep_budget,
                       **sizes)
    config.check()
    if any(get_task_entry(r.task).uses_llm or get_optimizer_entry(r.optimizer).uses_llm for r in runs):
        check_llm(config.llm, check_key=check_key)
    return config


def check_llm(spec: str, *, check_key: bool = True) -> None:
    """Fail early, in one line, on a bad spec or a missing API key."""
    try:
        parsed = parse_spec(spec)
        if parsed.provider != "sim" and check_key:
            make_backend(parsed)
    except MissingAPIKeyError as exc:
        raise BenchError(f"missing API key: {exc}") from None
    except LLMConfigError as exc:
        raise BenchError(str(exc).splitlines()[0]) from None


def _prepare_out(out: Path) -> None:
    if (out / CONFIG_FILE).exists():
        if (out / RESULTS).exists():  # written once every run is done
            raise BenchError(f"{out} already holds a finished bench run; see it with `undertow bench report {out}` "
                             f"(or `undertow bench show {out}`), or pick another --out")
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
          executor: Executor | None = None, callbacks: Iterable[Callback] = ()) -> Outcome:
    """Save the config in `out` (a new folder) and run every run of it.

    `callbacks` (`undertow.engine.Callback`) see every run, step, proposal and LLM
    call; with worker processes each process calls its own copy.
    """
    out = Path(out)
    config.check()
    _prepare_out(out)
    save_config(out, config)
    return _execute(out, config, console=console, executor=executor, callbacks=callbacks)


def resume(out: str | Path, *, workers: int | None = None, console: Console | None = None,
           executor: Executor | None = None, callbacks: Iterable[Callback] = ()) -> Outcome:
    """Finish the runs of `out` that are not done, from their last checkpoints."""
    out = Path(out)
    config = load_config(out)
    if workers is not None:
        config = config.model_copy(update={"workers": workers})
    return _execute(out, config, console=console, executor=executor, callbacks=callbacks)


class Interrupted(BenchError):
    """The user stopped the run (SIGINT / Ctrl-C); the runs resume from their checkpoints."""


def _execute(out: Path, config: RunConfig, *, console: Console | None,
             executor: Executor | None, callbacks: Iterable[Callback] = ()) -> Outcome:
    with run_lock(out):
        return _execute_locked(out, config, console=console, executor=executor, callbacks=callbacks)


LOCK_FILE = ".lock"


@contextlib.contextmanager
def run_lock(out: Path, wait_s: float = 5.0) -> Iterator[None]:
    """Hold the run folder's lock; BenchError if another live process holds it.

    An advisory `flock` on `out/.lock`: the kernel drops it when every process holding
    it (the runner and its forked workers) has exited, so a killed run never leaves a
    stale lock, and a resume can never write beside a run that is still alive.
    """
    path = out / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s  # processes being killed release it within moments
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            raise BenchError(f"{out} is in use by a live `undertow bench` process (pid {holder}); wait for it "
                             "to finish or stop it, then resume") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def _execute_locked(out: Path, config: RunConfig, *, console: Console | None,
                    executor: Executor | None, callbacks: Iterable[Callback] = ()) -> Outcome:
    console = console or Console()
    callbacks = list(callbacks)
    outcome = Outcome(out)
    todo = [r for r in config.runs if run_status(out, r).get("status") != "done"]
    outcome.done = [r.run_id for r in config.runs if r not in todo]
    label = f"llm={config.llm}" if config.llm else ""
    console.print(f"[bold]undertow bench[/bold] {len(config.runs)} runs ({len(todo)} to do), "
                  f"{config.steps} steps, budget {config.budget}, {label} -> {out}")
    log.info("bench %s: %d runs, %d to do, workers=%d", out, len(config.runs), len(todo), config.workers)
    pool = executor or make_executor(min(config.workers, max(1, len(todo))))
    if not isinstance(pool, InlineExecutor):
        todo = longest_first(config, todo)
    if callbacks and not isinstance(pool, InlineExecutor):
        try:  # worker processes get a copy of each callback
            pickle.dumps(callbacks)
        except Exception as exc:  # noqa: BLE001 - any pickling failure
            raise BenchError(f"a callback cannot be sent to worker processes ({exc}); "
                             "run with --workers 1") from None
    shared = serve_limits(pool, out, rpm=config.rpm, tpm=config.tpm, burst=config.rpm_burst,
                          sweep_budget=parse_budget(config.sweep_budget).model_dump(exclude_none=True)
                          if config.sweep_budget else None, ledger=_done_spend(out, config, outcome.done))
    with shared as (handle, service), LiveProgress(out, config, console):
        # the watcher is already running: with the inline executor the runs execute
        # right here, inside submit(), while the bars move
        try:
            futures: dict[Future[Any], RunSpec] = {}
            for r in todo:
                futures[pool.submit(run_one, str(out), r.run_id, callbacks, handle)] = r
            for fut, r in futures.items():
                try:
                    fut.result()
                    outcome.done.append(r.run_id)
                except KeyboardInterrupt:
                    raise
                except Exception as exc:  # noqa: BLE001 - reported per run, resume retries
                    outcome.failed[r.run_id] = _describe(exc)
        except KeyboardInterrupt:
            stop_now(pool)
            left = sum(run_status(out, r).get("status") != "done" for r in config.runs)
            raise Interrupted(f"interrupted: {len(config.runs) - left} of {len(config.runs)} runs done, "
                              f"{left} stopped at their last checkpoint; continue with "
                              f"`undertow bench resume {out}`") from None
        finally:
            if handle is None:  # the runs had no shared service: their checkpoints hold the spend
                done = [r.run_id for r in config.runs if run_status(out, r).get("status") == "done"]
                service = SweepLimits(ledger=_done_spend(out, config, done))
            _save_ledger(out, service)
    pool.shutdown(wait=True)
    order = {r.run_id: i for i, r in enumerate(config.runs)}
    outcome.done.sort(key=order.__getitem__)
    outcome.failed = dict(sorted(outcome.failed.items(), key=lambda kv: order[kv[0]]))
    for run_id, error in outcome.failed.items():
        console.print(f"[red]run {run_id} failed:[/red] {escape(error)} "  # "[tpe]" is no markup
                      f"(fix it, then `undertow bench resume {escape(str(out))}`)")
    if not outcome.failed:
        outcome.records = collect(out, config)
        dump_jsonl(out / RESULTS, outcome.records)
        console.print(f"results: {out / RESULTS} ({len(outcome.records)} records); "
                      f"report: `undertow bench report {out}`")
    return outcome


def _describe(exc: Exception) -> str:
    """One line naming a failed run's error: its type (the one the run raised, for an error
    that crossed from a worker as `RunFailed`) and the first line of its message."""
    kind = exc.kind if isinstance(exc, RunFailed) else type(exc).__name__
    text = str(exc)
    return f"{kind}: {text.splitlines()[0] if text else ''}"


def _done_spend(out: Path, config: RunConfig, done: list[str]) -> dict[str, Any]:
    """The ledger entries of the runs already done, from their final checkpoints (so a
    resumed sweep's ledger covers them even if the sweep that ran them was killed)."""
    entries: dict[str, Any] = {}
    specs = {r.run_id: r for r in config.runs}
    for run_id in done:
        path = run_dir(out, run_id) / "checkpoint.json"
        if not path.is_file():
            continue
        state = read_json(path)
        entry = {side: _summed((state.get(key) or {}).get("by_purpose", {}))
                 for side, key in (("train", "accounting"), ("eval", "eval_accounting"))}
        if get_optimizer_entry(specs[run_id].optimizer).peer and state.get("records"):
            last = state["records"][-1]  # a peer's calls went through its gateway: its records say
            prompt = _peer_prompt_tokens(run_dir(out, run_id), last["tokens"])
            entry["train"] = {"calls": last["calls"], "prompt_tokens": prompt,
                              "completion_tokens": last["tokens"] - prompt, "cost_usd": last["cost_usd"]}
        entries[run_id] = entry
    return entries


def _peer_prompt_tokens(folder: Path, tokens: int) -> int:
    """A peer run's prompt tokens as its gateway counted them (`peer/summary.json`), so a
    rebuilt ledger splits its tokens as the live one did; all of `tokens` when unknown."""
    try:
        prompt = int(read_json(folder / "peer" / "summary.json")["spent"]["prompt_tokens"])
    except (OSError, ValueError, KeyError, TypeError):  # BenchError (bad JSON) is a ValueError
        return tokens
    return prompt if 0 <= prompt <= tokens else tokens


def _summed(by_purpose: dict[str, Any]) -> dict[str, Any]:
    return {k: sum(p.get(k, 0) for p in by_purpose.values())
            for k in ("calls", "prompt_tokens", "completion_tokens", "cost_usd")}


def _save_ledger(out: Path, service: Any) -> None:
    """Write the sweep's ledger (`out/ledger.json`, atomically); never hides the sweep's own error."""
    try:
        write_json(out / LEDGER_FILE, service.snapshot())
    except Exception as exc:  # noqa: BLE001 - e.g. the service's process died with a killed sweep
        log.warning("could not save the sweep's ledger: %s", exc)


def ledger(out: str | Path) -> dict[str, Any]:
    """The sweep's ledger saved in `out` (`ledger.json`): per run and side (train, eval), and totals."""
    path = Path(out) / LEDGER_FILE
    if not path.is_file():
        raise BenchError(f"{out} holds no ledger ({LEDGER_FILE}); it is written when a sweep ends")
    return read_json(path)


def longest_first(config: RunConfig, todo: list[RunSpec]) -> list[RunSpec]:
    """`todo` with the runs expected to be longest first (ties in config order).

    Workers take runs in submission order, so starting the long ones first keeps a
    long run from starting last while the other workers idle (longest-processing-time
    scheduling). The expected length is the dry-run estimate's tokens (optimizer and
    scoring); the order changes no result: each run depends only on its config and seed.
    """
    from undertow.bench.runner.estimate import estimate

    rows = {e.run_id: e.tokens + e.eval_tokens for e in estimate(config.model_copy(update={"runs": todo}))}
    return sorted(todo, key=lambda r: -rows[r.run_id])


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


__all__ = ["RESULTS", "Interrupted", "Outcome", "check_llm", "collect", "ledger", "make_config", "parse_budget",
           "resume", "start"]
