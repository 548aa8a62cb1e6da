"""One run, step by step, with a checkpoint after every optimizer step.

`run_one(out, run_id)` takes only strings, so it can run in another process (or
on another machine sharing the folder). It continues from the run's checkpoint when
there is one. The checkpoint holds the step index, the optimizer's `state_dict()`
(parameter values included), the minibatch RNG state, the LLM accounting and the
records so far, and is written atomically; so a run killed at any point resumes at
the last finished step, redoes the unfinished one (its LLM calls come back from the
cache, and are booked the same: see `metered.py`) and ends with the same results.

Durability is group-committed: every step's checkpoint replaces the last one
atomically (a killed process never leaves half a file: the data is in the OS's page
cache), but it is fsync'd only when `SYNC_EVERY_S` has passed since the run's last
fsync, and always at the run's end (graph.dot, records and the checkpoint fsync'd
together, then put in place, the checkpoint last) and on failure. So a kill loses at
most the unfinished step; a crash of the whole machine loses at most the steps of the
last `SYNC_EVERY_S` seconds, which resume redoes. The traced graph is saved once per
run as `graph.dot`; `bench report` renders it to SVG when it needs one.
"""

from __future__ import annotations

import logging
import pickle
import random
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from undertow.bench.registry import get_optimizer_entry, get_task_entry
from undertow.bench.runner.budget import parse_budget
from undertow.bench.runner.checkpoint import (
    json_text,
    read_json,
    rng_restore,
    rng_state,
    write_json,
)
from undertow.bench.runner.config import RunSpec, load_config
from undertow.bench.runner.llm_label import llm_label
from undertow.bench.runner.metered import build_llms, spend
from undertow.bench.runner.records import StepRecord, dump_jsonl, records_text
from undertow.bench.runner.tasks import TaskContext
from undertow.engine import to_dot
from undertow.engine.callbacks import Callback, CallbackList, RunEvent, StepEvent
from undertow.engine.errors import ExecutionError
from undertow.engine.files import atomic_write_many
from undertow.engine.llm import BudgetExceeded

log = logging.getLogger("undertow.bench.runner")

CHECKPOINT = "checkpoint.json"
SYNC_EVERY_S = 1.0  # group commit: fsync a running run's checkpoint at most this often


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


def run_one(out: str | Path, run_id: str, callbacks: Iterable[Callback] = (),
            limits: Any = None) -> dict[str, Any]:
    """Run (or finish) one run of the bench in `out`; return its checkpoint summary.

    `callbacks` see the run, its steps, its optimizer's proposals and its LLM calls
    (in the process that runs it: with worker processes, each gets a copy). `limits` is
    the handle of the sweep's shared rate limits and ledger (`limits.py`), if any.
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
    service = limits.connect() if limits is not None else None
    try:
        return _Run(out, config, spec, folder, CallbackList(callbacks), limits=service).go(saved)
    except Exception as exc:
        raise portable_error(exc) from None


class RunFailed(Exception):
    """A run's error as it crosses to the process that started it: `kind` is the name of
    the exception that stopped the run (for an error inside traced code, the one the
    code raised, not the `ExecutionError` wrapping it), the message is its text."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind

    def __reduce__(self) -> tuple[Any, ...]:
        return (RunFailed, (self.kind, str(self)))


def portable_error(exc: Exception) -> Exception:
    """`exc` as a worker process can send it back: the pool pickles a run's error, and one
    holding a client or a graph node cannot be pickled (the run would then fail with the
    pickling error instead of its own). Errors from traced code are unwrapped to their cause."""
    if isinstance(exc, ExecutionError) and isinstance(exc.exception, Exception):
        exc = exc.exception
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - whatever stops it from crossing
        return RunFailed(type(exc).__name__, str(exc))
    return exc


def _summary(state: dict[str, Any]) -> dict[str, Any]:
    return {k: state.get(k) for k in ("run_id", "status", "step", "error", "stopped")}


class _Run:
    def __init__(self, out: Path, config: Any, spec: RunSpec, folder: Path,
                 callbacks: CallbackList | None = None, limits: Any = None) -> None:
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
            llm, eval_llm = build_llms(
                config.llm, seed=spec.seed, cache_dir=out / "cache", budget=self.budget, limits=limits,
                run_id=spec.run_id, rate_limited=bool(config.rpm or config.tpm),
                tokens_limited=bool(config.tpm), sweep_capped=config.sweep_budget is not None)
        self.limits = limits
        self.llm, self.eval_llm = llm, eval_llm
        ctx = TaskContext(seed=spec.seed, llm=llm, eval_llm=eval_llm, sizes=config.sizes,
                          batch_size=config.batch_size, propagator=self.opt_entry.propagator,
                          data_dir=config.data_dir, run_dir=str(folder), steps=config.steps)
        self.agent = self.task.build(ctx)
        self.agent.run_seed = spec.seed  # for factories of seeded optimizers (see TaskRun)
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
        self.synced = time.monotonic()  # last fsync of this run's files (group commit)
        self.graph_dot: str | None = None  # DOT of the traced graph, saved at the end

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
            "llm": self.llm_name, "agent": self._agent_state(), **extra,
        }

    def _agent_state(self) -> Any:
        """The agent's own state, for runs whose agent keeps one (see `TaskRun`)."""
        get = getattr(self.agent, "state_dict", None)
        return get() if callable(get) else None

    def _load_agent(self, state: Any) -> None:
        load = getattr(self.agent, "load_state_dict", None)
        if callable(load) and state is not None:
            load(state)

    def _restore(self, saved: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(saved["optimizer"])
        self._load_agent(saved.get("agent"))
        self.rng.setstate(rng_restore(saved["rng"]))
        if self.llm is not None and self.eval_llm is not None:
            self.llm.accounting.load_state_dict(saved["accounting"])
            self.eval_llm.accounting.load_state_dict(saved["eval_accounting"])
        self.records = [StepRecord.model_validate(r) for r in saved["records"]]
        self.log_marks = [int(m) for m in saved.get("log_marks", [])]
        self.step = int(saved["step"])
        self.wall_before = float(saved.get("wall_s", 0.0))

    def _save(self, state: dict[str, Any], *, final: bool = False) -> None:
        """Records, then the checkpoint, each replaced atomically; fsync'd at the end of the
        run and otherwise at most every `SYNC_EVERY_S` (see the module docstring)."""
        now = time.monotonic()
        if final:  # graph, records, then the checkpoint saying "done": fsync'd together
            files = [(self.folder / RECORDS, records_text(self.records).encode()),
                     (self.folder / CHECKPOINT, json_text(state).encode())]
            if self.graph_dot is not None:
                files.insert(0, (self.folder / "graph.dot", self.graph_dot.encode()))
            atomic_write_many(files)
            self.synced = now
            return
        durable = now - self.synced >= SYNC_EVERY_S
        if durable:
            self.synced = now
        dump_jsonl(self.folder / RECORDS, self.records, durable=durable)
        write_json(self.folder / CHECKPOINT, state, durable=durable, compact=True)

    def _record(self, split: str, score: float, stopped: str = "") -> None:
        used = spend(self.llm) if self.llm is not None else {"calls": 0, "tokens": 0, "cost_usd": 0.0}
        if self.peer_spent is not None:
            used = {"calls": self.peer_spent["calls"], "tokens": self.peer_spent["tokens"],
                    "cost_usd": float(self.peer_spent.get("usd", 0.0))}
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

    def _open_ledger(self) -> None:
        """(Re)start this run's entry in the sweep's ledger from what its accounting holds."""
        if self.limits is None:
            return
        spent = {}
        for side, client in (("train", self.llm), ("eval", self.eval_llm)):
            if client is not None:
                total = client.accounting.spent()
                spent[side] = {"calls": total.calls, "prompt_tokens": total.prompt_tokens,
                               "completion_tokens": total.completion_tokens, "cost_usd": total.cost_usd}
        if self.peer_spent is not None:  # a peer's calls go through its gateway, not our clients
            peer = self.peer_spent
            spent["train"] = {"calls": peer["calls"], "prompt_tokens": peer["prompt_tokens"],
                              "completion_tokens": peer["tokens"] - peer["prompt_tokens"],
                              "cost_usd": float(peer.get("usd", 0.0))}
        self.limits.open_run(self.spec.run_id, spent)

    def _go(self, saved: dict[str, Any] | None) -> dict[str, Any]:
        if self.opt_entry.peer:
            return self._go_peer()
        if saved is not None:
            self._restore(saved)
        self._open_ledger()
        if saved is None:
            self._record("val", self.agent.evaluate("val"))
            self._save(self._state("running"))
        last, last_agent = self.optimizer.state_dict(), self._agent_state()
        stopped = "steps"
        while self.step < self.config.steps:
            self.callbacks.emit("on_step_start", StepEvent(run_id=self.spec.run_id, step=self.step + 1))
            try:
                self.agent.run_step(self.optimizer, self.rng)
            except Exception as exc:
                if not _budget_hit(exc):
                    raise
                self.optimizer.load_state_dict(last)  # drop a half-done step
                self._load_agent(last_agent)
                stopped = "budget"
                log.info("run %s: budget %s reached at step %d", self.spec.run_id, self.config.budget,
                         self.step + 1)
                self.callbacks.emit("on_step", StepEvent(run_id=self.spec.run_id, step=self.step + 1))
                break
            self.step += 1
            self._record("val", self.agent.evaluate("val"))
            state = self._state("running")
            self._save(state)
            last, last_agent = state["optimizer"], state["agent"]
            log.debug("run %s step %d val %.4f", self.spec.run_id, self.step, self.records[-1].score)
            self.callbacks.emit("on_step", self._step_event())
        self.optimizer.finalize()  # e.g. TPE: from the next trial back to the best one seen
        self._record("test", self.agent.evaluate("test"), stopped=stopped)
        self._write_graph()
        state = self._state("done", stopped=stopped)
        self._save(state, final=True)
        return _summary(state)

    def _go_peer(self) -> dict[str, Any]:
        """A peer optimizer runs as one subprocess (bench/peers/run.py), so a killed peer run
        starts again from step 0; its val record at the end carries what the gateway counted.
        Under the sweep's shared limits its gateway takes the train client's limiter and
        ledger entry: the peer's calls wait for the sweep's rate limiter and are booked (and
        refused past the sweep budget) as they happen."""
        from undertow.bench.peers.run import run_peer
        from undertow.bench.peers.tasks import check_supported, reasoning_feedback_fn, reasoning_job

        name = self.spec.optimizer
        check_supported(name, self.task.name, self.task.family)
        self.records, self.step = [], 0
        self._open_ledger()  # a peer run redone from step 0 starts its ledger entry afresh
        self._record("val", self.agent.evaluate("val"))
        self._save(self._state("running"))
        options = {"max_metric_calls": self.budget.max_calls or 10 * self.config.steps * self.config.batch_size}
        job = reasoning_job(self.agent, steps=self.config.steps, batch_size=self.config.batch_size,
                            options=options)
        result = run_peer(name, llm=self.config.llm, seed=self.spec.seed, budget=self.budget, job=job,
                          feedback=reasoning_feedback_fn(self.agent), workdir=self.folder / "peer",
                          limiter=self.llm.rate_limiter if self.llm is not None else None,
                          ledger=self.llm.ledger if self.llm is not None else None)
        write_json(self.folder / "peer" / "summary.json", {
            "framework": result.framework, "stopped": result.stopped, "error": result.error,
            "steps_done": result.steps_done, "spent": result.spent, "notes": result.notes,
            "prompt": result.prompt})
        self.peer_spent = result.spent
        self._open_ledger()
        if result.stopped == "error":
            raise RuntimeError(f"peer {name} ({result.framework}) failed: {result.error[:500]} "
                               f"(log: {self.folder / 'peer' / 'peer.log'})")
        self.agent.prompt.value = result.prompt
        self.step = max(1, result.steps_done)
        self._record("val", self.agent.evaluate("val"))
        self._record("test", self.agent.evaluate("test"), stopped=result.stopped)
        self._write_graph()
        state = self._state("done", stopped=result.stopped)
        self._save(state, final=True)
        return _summary(state)

    def _mark_failed(self, exc: Exception) -> None:
        """Keep the last good checkpoint, flagged failed with the error (resume retries)."""
        path = self.folder / CHECKPOINT
        if path.is_file():
            write_json(path, {**read_json(path), "status": "failed",
                              "error": f"{type(exc).__name__}: {exc}"})

    def _write_graph(self) -> None:
        """The traced graph of one forward pass, as DOT text, saved with the final checkpoint.
        Rendering it (graphviz's `dot`, tens of ms a graph) is left to whoever shows it:
        `bench report` renders the best run's graph to SVG, `undertow.engine.render_dot`
        renders any saved one."""
        self.graph_dot = to_dot(self.agent.trace())
