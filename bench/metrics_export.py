"""Export a bench run directory to AutoLibra trajectories (JSONL).

A run directory (`undertow bench run --out DIR`) holds `config.json` and, per run,
`runs/<run_id>/checkpoint.json` with the parameter values the run reached. The records
hold scores, not trajectories, so the exporter *replays*: for each run of a task whose
agent can record trajectories (`TaskRun.trajectories`, e.g. `autolibra`), it rebuilds the
agent for the run's seed with the checkpoint's parameter values and runs it on a split
with the run's LLM spec (through the run's cache, so replies the run already got are
reused). Each trajectory carries the task's feedback text and score, and an id
`<run_id>/<split>-<i>`.
"""

from __future__ import annotations

import json
from pathlib import Path

from undertow.bench.registry import get_task_entry
from undertow.bench.runner.config import load_config
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.metered import build_llms
from undertow.bench.runner.tasks import TaskContext
from undertow.bench.runner.worker import CHECKPOINT, run_dir
from undertow.optimizers.metrics import Trajectory


def export_run_dir(out: str | Path, split: str = "test", tasks: set[str] | None = None) -> list[Trajectory]:
    """Trajectories of every exportable run in the bench run directory `out`."""
    out = Path(out)
    config = load_config(out)
    found: list[Trajectory] = []
    exportable = 0
    for spec in config.runs:
        if tasks and spec.task not in tasks:
            continue
        entry = get_task_entry(spec.task)
        llm, eval_llm = build_llms(config.llm, seed=spec.seed, cache_dir=out / "cache", budget=None)
        ctx = TaskContext(seed=spec.seed, llm=llm, eval_llm=eval_llm, sizes=config.sizes,
                          batch_size=config.batch_size, propagator="subgraph", data_dir=config.data_dir)
        run = entry.build(ctx)
        if not hasattr(run, "trajectories"):
            continue
        exportable += 1
        path = run_dir(out, spec.run_id) / CHECKPOINT
        if path.is_file():
            values = json.loads(path.read_text(encoding="utf-8")).get("optimizer", {}).get("parameters", {})
            for p in run.parameters:
                if p.name in values:
                    p.value = values[p.name]
        for t in run.trajectories(split):
            found.append(t.model_copy(update={"id": f"{spec.run_id}/{t.id}"}))
    if not exportable:
        raise BenchError(f"{out}: no run of a task that records trajectories (tasks here: "
                         f"{sorted({r.task for r in config.runs})}); run e.g. `undertow bench run -t autolibra`")
    return found
