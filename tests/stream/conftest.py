"""Helpers of the stream tests: a stream run over the simulated LLM, driven like the bench does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from undertow.bench import stream_evidence as evidence
from undertow.bench.entries.stream import BASE_PROMPT, StreamRun
from undertow.bench.runner.tasks import SplitSizes, TaskContext
from undertow.engine.llm import make_llm
from undertow.optimizers.experience import ExperienceStore
from undertow.optimizers.experience.stream import ExpRAG, ReMem


def stream_run(seed: int, folder: Path, steps: int = 5, mix: str = "mixed") -> StreamRun:
    llm = make_llm("sim", cache_dir=False, seed=seed)
    ctx = TaskContext(seed=seed, llm=llm, eval_llm=llm, sizes=SplitSizes(), batch_size=4, propagator="subgraph",
                      run_dir=str(folder), steps=steps)
    return StreamRun(ctx, mix=mix)


def memory(kind: str, run: StreamRun, store: ExperienceStore, **kw: Any) -> Any:
    if kind == "exprag":
        return ExpRAG(run.parameters, store=store, **kw)
    return ReMem(run.parameters, store=store, llm=run.llm, base_prompt=BASE_PROMPT, **kw)


play = evidence.play  # answer a whole stream; its accuracy (the evidence script's loop)
