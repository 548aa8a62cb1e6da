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

import logging
import random
import time
from collections.abc import Iterable
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
from undertow.bench.runner.llm_label import llm_label
from undertow.bench.runner.metered import build_llms, spend
from undertow.bench.runner.records import StepRecord, dump_jsonl
from undertow.bench.runner.tasks import TaskContext
from undertow.engine import GraphvizNotFoundError, render, to_dot
from undertow.engine.callbacks import Callback, CallbackList, RunEvent, StepEvent
from undertow.engine.llm import BudgetExceeded

log = logging.getLogger("undertow.bench.runner")

CHECKPOINT = "checkpoint.json"


def _version() -> str:
    from undertow import __version__

    return __version__
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


def run_one(out: str | Path, run_id: str, callbacks: Iterable[Callback] = ()) -> dict[str, Any]:
    """Run (or finish) one run of the bench in `out`; return its checkpoint summary.

    `callbacks` see the run, its steps, its optimizer's proposals and its LLM calls
    (in the process that runs it: with worker processes, each gets a copy).
    """
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
    return _Run(out, config, spec, folder, CallbackList(callbacks)).go(saved)


def _summary(state: dict[str, Any]) -> dict[str, Any]:
    return {k: state.get(k) for k in ("run_id", "status", "step", "error", "stopped")}


class _Run:
    def __init__(self, out: Path, config: Any, spec: RunSpec, folder: Path,
                 callbacks: CallbackList | None = None) -> None:
        self.config, self.spec, self.folder = config, spec, folder
        self.callbacks = callbacks or CallbackList()
        self.task = get_task_entry(spec.task)
        self.opt_entry = get_optimizer_entry(spec.optimizer)
        self.uses_llm = self.task.uses_llm or self.opt_entry.uses_llm
        # `sim` also when the spec points at a sim-server (results made with it are llm=sim)
        self.llm_name = llm_label(config.llm) if self.uses_llm else "none"
        self.budget = parse_budget(config.budget)
        llm = eval_llm = None
        if self.uses_llm:
            llm, eval_llm = build_llms(config.llm, seed=spec.seed, cache_dir=out / "cache",
                                       budget=self.budget)
        self.llm, self.eval_llm = llm, eval_llm
        ctx = TaskContext(seed=spec.seed, llm=llm, eval_llm=eval_llm, sizes=config.sizes,
                          batch_size=config.batch_size, propagator=self.opt_entry.propagator,
                          data_dir=config.data_dir, run_dir=str(folder))
        self.agent = self.task.build(ctx)
        self.optimizer = self.opt_entry.factory(self.agent.parameters, llm, self.task, self.agent)
        for cb in self.callbacks:
            self.optimizer.add_callback(cb)
            for client in (llm, eval_llm):
                if client is not None:
                    client.add_callback(cb)
        # what the run started from, for `bench show` and the report (before any resume restores)
        self.initial = {
            self.optimizer.names[id(p)]: {"kind": p.kind, "description": p.description, "value": p.value}
            for p in self.optimizer.parameters}
        self.rng = random.Random(f"undertow-bench/{spec.run_id}")
        self.records: list[StepRecord] = []
        self.log_marks: list[int] = []  # len(optimizer.log) at each val record: proposals per step
        self.step = 0
        self.wall_before = 0.0
        self.started = time.perf_counter()
        self.framework = self.opt_entry.peer or f"undertow {_version()}"
        self.peer_spent: dict[str, Any] | None = None  # peers: what the gateway counted

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
            "wall_s": self._wall(), "error": "", "stopped": "", "initial": self.initial, "log_marks": self.log_marks,
            "task": self.spec.task, "optimizer_name": self.spec.optimizer, "seed": self.spec.seed,
            "llm": self.llm_name, **extra,
        }

    def _restore(self, saved: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(saved["optimizer"])
        self.rng.setstate(rng_restore(saved["rng"]))
        if self.llm is not None and self.eval_llm is not None:
            self.llm.accounting.load_state_dict(saved["accounting"])
            self.eval_llm.accounting.load_state_dict(saved["eval_accounting"])
        self.records = [StepRecord.model_validate(r) for r in saved["records"]]
        self.log_marks = [int(m) for m in saved.get("log_marks", [])]
        self.step = int(saved["step"])
        self.wall_before = float(saved.get("wall_s", 0.0))

    def _save(self, state: dict[str, Any]) -> None:
        write_json(self.folder / CHECKPOINT, state)
        dump_jsonl(self.folder / RECORDS, self.records)

    def _record(self, split: str, score: float, stopped: str = "") -> None:
        used = spend(self.llm) if self.llm is not None else {"calls": 0, "tokens": 0, "cost_usd": 0.0}
        if self.peer_spent is not None:
            used = {"calls": self.peer_spent["calls"], "tokens": self.peer_spent["tokens"], "cost_usd": 0.0}
        evals = spend(self.eval_llm)["calls"] if self.eval_llm is not None else 0
        if split == "val":
            self.log_marks.append(len(self.optimizer.log))
        self.records.append(StepRecord(
            task=self.spec.task, optimizer=self.spec.optimizer, llm=self.llm_name,
            budget=self.config.budget, seed=self.spec.seed, step=self.step, split=split,
            score=score, eval_calls=evals, wall_s=round(self._wall(), 4), stopped=stopped,
            framework=self.framework, **used))

    # the loop -----------------------------------------------------------------------
    def _event(self, status: str, error: str = "") -> RunEvent:
        return RunEvent(run_id=self.spec.run_id, task=self.spec.task, optimizer=self.spec.optimizer,
                        seed=self.spec.seed, llm=self.llm_name, steps=self.config.steps, status=status,
                        error=error, attrs={"budget": self.config.budget, "step": self.step})

    def _step_event(self) -> StepEvent:
        used = spend(self.llm) if self.llm is not None else {"calls": 0, "tokens": 0, "cost_usd": 0.0}
        score = self.records[-1].score if self.records else None
        return StepEvent(run_id=self.spec.run_id, step=self.step, score=score, **used)

    def go(self, saved: dict[str, Any] | None) -> dict[str, Any]:
        self.callbacks.emit("on_run_start", self._event("running"))
        log.info("run %s %s at step %d", self.spec.run_id, "resumes" if saved else "starts",
                 int(saved["step"]) if saved else 0)
        try:
            result = self._go(saved)
        except BaseException as exc:
            if isinstance(exc, Exception):
                self._mark_failed(exc)
                log.error("run %s failed: %s: %s", self.spec.run_id, type(exc).__name__, exc)
                self.callbacks.emit("on_error", exc, self.spec.run_id)
            status = "failed" if isinstance(exc, Exception) else "interrupted"
            self.callbacks.emit("on_run_end", self._event(status, f"{type(exc).__name__}: {exc}"))
            raise
        else:
            log.info("run %s done at step %d (%s)", self.spec.run_id, self.step, result.get("stopped"))
            self.callbacks.emit("on_run_end", self._event("done"))
            return result
        finally:
            for llm in (self.llm, self.eval_llm):
                if llm is not None:
                    llm.close()

    def _go(self, saved: dict[str, Any] | None) -> dict[str, Any]:
        if self.opt_entry.peer:
            return self._go_peer()
        if saved is not None:
            self._restore(saved)
        else:
            self._record("val", self.agent.evaluate("val"))
            self._save(self._state("running"))
        last = self.optimizer.state_dict()
        stopped = "steps"
        while self.step < self.config.steps:
            self.callbacks.emit("on_step_start", StepEvent(run_id=self.spec.run_id, step=self.step + 1))
            try:
                self.agent.run_step(self.optimizer, self.rng)
            except Exception as exc:
                if not _budget_hit(exc):
                    raise
                self.optimizer.load_state_dict(last)  # drop a half-done step
                stopped = "budget"
                log.info("run %s: budget %s reached at step %d", self.spec.run_id, self.config.budget,
                         self.step + 1)
                self.callbacks.emit("on_step", StepEvent(run_id=self.spec.run_id, step=self.step + 1))
                break
            self.step += 1
            self._record("val", self.agent.evaluate("val"))
            self._save(self._state("running"))
            last = self.optimizer.state_dict()
            log.debug("run %s step %d val %.4f", self.spec.run_id, self.step, self.records[-1].score)
            self.callbacks.emit("on_step", self._step_event())
        self.optimizer.finalize()  # e.g. TPE: from the next trial back to the best one seen
        self._record("test", self.agent.evaluate("test"), stopped=stopped)
        self._write_graph()
        state = self._state("done", stopped=stopped)
        self._save(state)
        return _summary(state)

    def _go_peer(self) -> dict[str, Any]:
        """A peer optimizer runs as one subprocess (bench/peers/run.py), so a killed peer run
        starts again from step 0; its val record at the end carries what the gateway counted."""
        from undertow.bench.peers.run import run_peer
        from undertow.bench.peers.tasks import check_supported, reasoning_feedback_fn, reasoning_job

        name = self.spec.optimizer
        check_supported(name, self.task.name, self.task.family)
        self.records, self.step = [], 0
        self._record("val", self.agent.evaluate("val"))
        self._save(self._state("running"))
        options = {"max_metric_calls": self.budget.max_calls or 10 * self.config.steps * self.config.batch_size}
        job = reasoning_job(self.agent, steps=self.config.steps, batch_size=self.config.batch_size,
                            options=options)
        result = run_peer(name, llm=self.config.llm, seed=self.spec.seed, budget=self.budget, job=job,
                          feedback=reasoning_feedback_fn(self.agent), workdir=self.folder / "peer")
        write_json(self.folder / "peer" / "summary.json", {
            "framework": result.framework, "stopped": result.stopped, "error": result.error,
            "steps_done": result.steps_done, "spent": result.spent, "notes": result.notes,
            "prompt": result.prompt})
        self.peer_spent = result.spent
        if result.stopped == "error":
            raise RuntimeError(f"peer {name} ({result.framework}) failed: {result.error[:500]} "
                               f"(log: {self.folder / 'peer' / 'peer.log'})")
        self.agent.prompt.value = result.prompt
        self.step = max(1, result.steps_done)
        self._record("val", self.agent.evaluate("val"))
        self._record("test", self.agent.evaluate("test"), stopped=result.stopped)
        self._write_graph()
        state = self._state("done", stopped=result.stopped)
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
