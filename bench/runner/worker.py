"""One run, step by step, with a checkpoint after every optimizer step.

`run_one(out, run_id)` takes only strings, so it can run in another process (or
on another machine sharing the folder). It continues from the run's checkpoint when
there is one. The checkpoint holds the step index, the optimizer's `state_dict()`
(parameter values included), the minibatch RNG state, the LLM accounting and the
records so far, and is written atomically; so a run killed at any point resumes at
the last finished step, redoes the unfinished one (its LLM calls come back from the
cache, and are booked the same: see `metered.py`) and ends with the same results.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from undertow.bench.registry import get_optimizer_entry, get_task_entry
from undertow.bench.runner.budget import parse_budget
from undertow.bench.runner.checkpoint import (
    read_json,
    rng_restore,
    rng_state,
    write_atomic,
    write_json,
)
from undertow.bench.runner.config import RunSpec, load_config
from undertow.bench.runner.metered import build_llms, spend
from undertow.bench.runner.records import StepRecord, dump_jsonl
from undertow.bench.runner.tasks import TaskContext
from undertow.engine import GraphvizNotFoundError, render, to_dot
from undertow.engine.llm import BudgetExceeded

CHECKPOINT = "checkpoint.json"
RECORDS = "records.jsonl"


def run_dir(out: Path, run_id: str) -> Path:
    return Path(out) / "runs" / run_id


def _budget_hit(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BudgetExceeded):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def run_one(out: str | Path, run_id: str) -> dict[str, Any]:
    """Run (or finish) one run of the bench in `out`; return its checkpoint summary."""
    out = Path(out)
    config = load_config(out)
    spec = next((r for r in config.runs if r.run_id == run_id), None)
    if spec is None:
        raise KeyError(f"run {run_id!r} is not part of the config in {out}")
    folder = run_dir(out, run_id)
    path = folder / CHECKPOINT
    saved = read_json(path) if path.is_file() else None
    if saved is not None and saved.get("status") == "done":
        return _summary(saved)
    return _Run(out, config, spec, folder).go(saved)


def _summary(state: dict[str, Any]) -> dict[str, Any]:
    return {k: state.get(k) for k in ("run_id", "status", "step", "error", "stopped")}


class _Run:
    def __init__(self, out: Path, config: Any, spec: RunSpec, folder: Path) -> None:
        self.config, self.spec, self.folder = config, spec, folder
        self.task = get_task_entry(spec.task)
        self.opt_entry = get_optimizer_entry(spec.optimizer)
        self.uses_llm = self.task.uses_llm or self.opt_entry.uses_llm
        self.llm_name = config.llm if self.uses_llm else "none"
        self.budget = parse_budget(config.budget)
        llm = eval_llm = None
        if self.uses_llm:
            llm, eval_llm = build_llms(config.llm, seed=spec.seed, cache_dir=out / "cache",
                                       budget=self.budget)
        self.llm, self.eval_llm = llm, eval_llm
        ctx = TaskContext(seed=spec.seed, llm=llm, eval_llm=eval_llm, sizes=config.sizes,
                          batch_size=config.batch_size, propagator=self.opt_entry.propagator,
                          data_dir=config.data_dir)
        self.agent = self.task.build(ctx)
        self.optimizer = self.opt_entry.factory(self.agent.parameters, llm, self.task, self.agent)
        self.rng = random.Random(f"undertow-bench/{spec.run_id}")
        self.records: list[StepRecord] = []
        self.step = 0
        self.wall_before = 0.0
        self.started = time.perf_counter()

    # state ------------------------------------------------------------------------
    def _wall(self) -> float:
        return self.wall_before + time.perf_counter() - self.started

    def _state(self, status: str, **extra: Any) -> dict[str, Any]:
        return {
            "version": 1, "run_id": self.spec.run_id, "status": status, "step": self.step,
            "steps": self.config.steps, "optimizer": self.optimizer.state_dict(),
            "rng": rng_state(self.rng.getstate()),
            "accounting": self.llm.accounting.state_dict() if self.llm else None,
            "eval_accounting": self.eval_llm.accounting.state_dict() if self.eval_llm else None,
            "records": [r.model_dump(mode="json") for r in self.records],
            "wall_s": self._wall(), "error": "", "stopped": "", **extra,
        }

    def _restore(self, saved: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(saved["optimizer"])
        self.rng.setstate(rng_restore(saved["rng"]))
        if self.llm is not None and self.eval_llm is not None:
            self.llm.accounting.load_state_dict(saved["accounting"])
            self.eval_llm.accounting.load_state_dict(saved["eval_accounting"])
        self.records = [StepRecord.model_validate(r) for r in saved["records"]]
        self.step = int(saved["step"])
        self.wall_before = float(saved.get("wall_s", 0.0))

    def _save(self, state: dict[str, Any]) -> None:
        write_json(self.folder / CHECKPOINT, state)
        dump_jsonl(self.folder / RECORDS, self.records)

    def _record(self, split: str, score: float, stopped: str = "") -> None:
        used = spend(self.llm) if self.llm is not None else {"calls": 0, "tokens": 0, "cost_usd": 0.0}
        evals = spend(self.eval_llm)["calls"] if self.eval_llm is not None else 0
        self.records.append(StepRecord(
            task=self.spec.task, optimizer=self.spec.optimizer, llm=self.llm_name,
            budget=self.config.budget, seed=self.spec.seed, step=self.step, split=split,
            score=score, eval_calls=evals, wall_s=round(self._wall(), 4), stopped=stopped, **used))

    # the loop -----------------------------------------------------------------------
    def go(self, saved: dict[str, Any] | None) -> dict[str, Any]:
        try:
            return self._go(saved)
        except Exception as exc:
            self._mark_failed(exc)
            raise
        finally:
            for llm in (self.llm, self.eval_llm):
                if llm is not None:
                    llm.close()

    def _go(self, saved: dict[str, Any] | None) -> dict[str, Any]:
        if saved is not None:
            self._restore(saved)
        else:
            self._record("val", self.agent.evaluate("val"))
            self._save(self._state("running"))
        last = self.optimizer.state_dict()
        stopped = "steps"
        while self.step < self.config.steps:
            try:
                self.agent.run_step(self.optimizer, self.rng)
            except Exception as exc:
                if not _budget_hit(exc):
                    raise
                self.optimizer.load_state_dict(last)  # drop a half-done step
                stopped = "budget"
                break
            self.step += 1
            self._record("val", self.agent.evaluate("val"))
            self._save(self._state("running"))
            last = self.optimizer.state_dict()
        self.optimizer.finalize()  # e.g. TPE: from the next trial back to the best one seen
        self._record("test", self.agent.evaluate("test"), stopped=stopped)
        self._write_graph()
        state = self._state("done", stopped=stopped)
        self._save(state)
        return _summary(state)

    def _mark_failed(self, exc: Exception) -> None:
        """Keep the last good checkpoint, flagged failed with the error (resume retries)."""
        path = self.folder / CHECKPOINT
        if path.is_file():
            write_json(path, {**read_json(path), "status": "failed",
                              "error": f"{type(exc).__name__}: {exc}"})

    def _write_graph(self) -> None:
        """The traced graph of one forward pass: DOT always, SVG where graphviz is."""
        outputs = self.agent.trace()
        write_atomic(self.folder / "graph.dot", to_dot(outputs))
        try:
            render(outputs, self.folder / "graph.svg")
        except GraphvizNotFoundError:
            pass
