"""The Evo-Memory stream task (`stream`) and its memories (`exprag`, `remem`).

`undertow bench run -t stream -o none,exprag,remem --llm sim` answers a seeded stream
of 60 items interleaved from three reasoning tasks (bench/tasks/stream.py), one at a
time; the run's steps split the stream into equal chunks. The score of a run is its
accuracy over the stream: after each step (val records) the accuracy over the items
answered so far, and at the end (the test record) correct answers over the whole
stream, items left unanswered when the budget ran out counting as wrong (so a memory
that spends calls on reflection pays for them). `none` answers with the bare prompt;
any other text optimizer (optoprime, ...) learns the prompt online from each chunk's
feedback; the stream memories answer each item with what they retrieve for it.

The per-item log (task, correct, memory size, retrieval latency) is kept in the run's
checkpoint (`agent`) and written to `runs/<run>/stream.json` at the end.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

from undertow.bench.registry import OptimizerEntry, TaskEntry, register_optimizer, register_task
from undertow.bench.runner.checkpoint import write_json
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.tasks import (
    Feedback,
    Split,
    TaskContext,
    _messages,
    _propagator,
    reasoning_feedback,
)
from undertow.bench.tasks import stream as st
from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning import Splits
from undertow.engine import Parameter, backward
from undertow.engine.llm import LLM, llm_call
from undertow.optimizers import Optimizer

#: The agent answers step by step (the chain-of-thought agent's default instruction), so a
#: kept reply shows how it was solved, which is what makes it a useful experience.
from undertow.agents.cot_qa import DEFAULT_INSTRUCTION as BASE_PROMPT  # noqa: E402
STREAM_LOG = "stream.json"
#: What runs on the stream: no memory, the two memories, and the prompt optimizers that
#: learn from per-item feedback alone (the others need a training split to search on).
STREAM_OPTIMIZERS = frozenset({"none", "exprag", "remem", "optoprime", "textgrad"})


class StreamRun:
    """One seeded stream, answered item by item (see the module docstring)."""

    def __init__(self, ctx: TaskContext, mix: str = "mixed") -> None:
        if ctx.llm is None or ctx.eval_llm is None:
            raise ValueError("task stream needs an LLM; pass --llm (e.g. --llm sim)")
        self.items = st.make_stream(ctx.seed, mix=mix)
        self.llm, self.eval_llm = ctx.llm, ctx.eval_llm
        self.run_dir = ctx.run_dir
        self.propagator = _propagator(ctx.propagator, ctx.llm)
        self.per_step = math.ceil(len(self.items) / max(1, ctx.steps))
        self.prompt = Parameter(BASE_PROMPT, name="system_prompt",
                                description="the system prompt of an agent answering a stream of mixed items")
        self.parameters = [self.prompt]
        self.results: list[dict[str, Any]] = []
        self._feedback = {t: reasoning_feedback(t) for t in {i.task for i in self.items}}

    # -- the runner's hooks ------------------------------------------------------------
    def run_step(self, optimizer: Optimizer, rng: random.Random) -> None:
        from undertow.optimizers.experience.stream import StreamMemory

        chunk = self.items[len(self.results): len(self.results) + self.per_step]
        if not chunk:
            optimizer.step()
            return
        if isinstance(optimizer, StreamMemory):
            for item in chunk:
                context = optimizer.context_for(item.example.input)
                system = "\n\n".join(x for x in (self.prompt.value, context) if x)
                reply = self.llm.complete(_messages(system, item.example.input), purpose="forward").text
                fb = self._feedback[item.task](reply, item.example)
                optimizer.observe(item.example.input, reply, float(fb.score or 0.0), fb.sentence)
                self._log(item, fb, optimizer.memory_size(), optimizer.latencies_ms[-1])
            optimizer.step()
            return
        outs = [llm_call(self.llm, item.example.input, system=self.prompt, purpose="forward") for item in chunk]
        fbs = [self._feedback[i.task](o.value, i.example) for o, i in zip(outs, chunk, strict=True)]
        for item, fb in zip(chunk, fbs, strict=True):
            self._log(item, fb, {}, 0.0)
        backward(outs, fbs, self.propagator)
        optimizer.step()
        optimizer.zero_feedback()

    def _log(self, item: st.StreamItem, fb: Feedback, memory: dict[str, int], latency_ms: float) -> None:
        self.results.append({"index": item.index, "task": item.task, "correct": float(fb.score or 0.0),
                             "memory": memory, "retrieval_ms": round(latency_ms, 4)})

    def evaluate(self, split: Split) -> float:
        """val: accuracy over the items answered so far; test: over the whole stream."""
        correct = sum(r["correct"] for r in self.results)
        if split == "val":
            return correct / len(self.results) if self.results else 0.0
        if self.run_dir:
            write_json(Path(self.run_dir) / STREAM_LOG, {"llm_items": len(self.items), "results": self.results})
        return correct / len(self.items)

    def trace(self) -> Any:
        return llm_call(self.eval_llm, self.items[0].example.input, system=self.prompt)

    def state_dict(self) -> dict[str, Any]:
        return {"results": self.results}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.results = [dict(r) for r in state.get("results", [])]


def _splits(seed: int, sizes: Any) -> Splits:
    item = Example(input=f"stream {seed}", target="1.0", meta={"seed": seed})
    return Splits([item], [item], [item])


register_task(TaskEntry(
    name="stream", family="memory",
    description=f"Evo-Memory stream: {st.STREAM_LEN} items interleaved from "
                f"{', '.join(st.MIXES['mixed'])}, answered in order (score: stream accuracy)",
    metric="accuracy over the stream", kinds=frozenset({"text"}), uses_llm=True, splits=_splits,
    score=lambda prediction, target: float(prediction),
    feedback=lambda prediction, example: Feedback("stream report", float(prediction)), build=StreamRun,
    optimizers=STREAM_OPTIMIZERS))


def _stream_run(agent: Any, name: str) -> StreamRun:
    if not isinstance(agent, StreamRun):
        raise BenchError(f"optimizer {name} is a stream memory; it runs on the task `stream` only")
    if not agent.run_dir:
        raise BenchError(f"optimizer {name} keeps its memory in the run's folder; run it with `undertow bench run`")
    return agent


def _exprag(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.experience.persist import PersistedExpRAG, fresh_store

    run = _stream_run(agent, "exprag")
    folder = Path(str(run.run_dir)) / "memory"
    return PersistedExpRAG(params, store=fresh_store(folder), folder=folder, k=5, token_budget=1200,
                           run="exprag")


def _remem(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
    from undertow.optimizers.experience.persist import PersistedReMem, fresh_store

    run = _stream_run(agent, "remem")
    if llm is None:
        raise BenchError("optimizer remem reflects with an LLM: pass --llm (e.g. --llm sim)")
    folder = Path(str(run.run_dir)) / "memory"
    return PersistedReMem(params, store=fresh_store(folder), folder=folder, llm=llm, base_prompt=BASE_PROMPT,
                          k=3, k_insights=3, run="remem")


_TEXT = frozenset({"text"})
register_optimizer(OptimizerEntry(
    name="exprag", description="ExpRAG stream memory: top-k past experiences (successes and failures, "
    "with feedback) retrieved into the prompt of each item (task: stream)", kinds=_TEXT, uses_llm=False,
    factory=_exprag, families=frozenset({"memory"})))
register_optimizer(OptimizerEntry(
    name="remem", description="ReMem-style stream memory: act, reflect on failures with the LLM, refine "
    "insights by curation ops, prune by measured effect (task: stream)", kinds=_TEXT, uses_llm=True,
    factory=_remem, families=frozenset({"memory"})))
