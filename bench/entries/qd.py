"""Bench entries of the quality-diversity searches: the `qd_stories` task and the optimizers
`qdaif`, `qdhf`, `qd_random` (random sampling) and `qd_single` (single-objective).

The task trains one `json` parameter, the archive; its kind in the registry is
`qd_archive`, so only the QD searches pair with it. A step is one search iteration; the
score of the run is the QD-score (normalised, 0..1) of the *reference archive* holding
every candidate the search made (text axes judged by the unbudgeted evaluation client,
fitness = the task's checkable rule; see optimizers/qd/reference.py). Its coverage and
the search's own archive measures go to `qd_metrics.json` in the run's folder, with a
heatmap of the reference archive (`archive_heatmap.png`) after the test score.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

from undertow.bench.registry import (
    OptimizerEntry,
    TaskEntry,
    register_optimizer,
    register_task,
)
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.tasks import Feedback, SplitSizes, TaskContext
from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning import Splits
from undertow.bench.tasks.stories import task as stories
from undertow.engine import Node, Parameter, op
from undertow.engine.llm import LLM
from undertow.optimizers import Optimizer

KIND = "qd_archive"


@op
def elite_count(archive: dict[str, Any]) -> int:
    """How many elites the archive returned (the traced output of a QD run)."""
    return len(archive.get("elites", []))


class QDStoriesRun:
    """The stories task for one seed: the archive parameter, scored on the reference archive."""

    def __init__(self, ctx: TaskContext) -> None:
        from undertow.optimizers.qd import ReferenceScorer, archive_parameter

        self.seed = ctx.seed
        self.problem = stories.problem(ctx.seed)
        self.obj = stories.object_for(ctx.seed)
        self.archive = archive_parameter()
        self.parameters: list[Parameter] = [self.archive]
        self.scorer = (ReferenceScorer(self.problem, ctx.eval_llm, lambda t: stories.check(t, self.obj))
                       if ctx.eval_llm is not None else None)
        self.run_dir = Path(ctx.run_dir) if ctx.run_dir else None
        model = str(getattr(ctx.eval_llm, "model", "") or "none")
        self.llm_tag = "llm=sim" if model == "sim" or model.startswith("sim") else f"llm={model}"
        self.optimizer: Any = None

    def run_step(self, optimizer: Optimizer, rng: random.Random) -> None:
        from undertow.optimizers.qd import QDSearch

        if not isinstance(optimizer, QDSearch):
            raise BenchError("task qd_stories needs a quality-diversity optimizer: qdaif, qdhf, qd_random "
                             "or qd_single")
        self.optimizer = optimizer
        optimizer.step()

    def _reference(self) -> Any:
        texts = [c["text"] for c in self.archive.value.get("candidates", [])]
        if self.scorer is None:
            raise BenchError("task qd_stories scores with an LLM judge; pass --llm (e.g. --llm sim)")
        return self.scorer.archive(texts)

    def evaluate(self, split: str) -> float:
        ref = self._reference()
        if split == "test" and self.run_dir is not None:
            self._write(ref)
        return ref.qd_score_normalised()

    def _write(self, ref: Any) -> None:
        own = self.optimizer.measures() if self.optimizer is not None else {}
        history = getattr(self.optimizer, "history", [])
        metrics = {"llm": self.llm_tag, "reference": {"qd_score": ref.qd_score_normalised(), "coverage": ref.coverage(),
                                 "qd_score_raw": ref.qd_score(), "cells": ref.size},
                   "own_archive": own, "own_history": history,
                   "candidates": len(self.archive.value.get("candidates", []))}
        self.run_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
        _atomic_text(self.run_dir / "qd_metrics.json", json.dumps(metrics, indent=1))  # type: ignore[operator]
        heatmap(ref.grid(), self.run_dir / "archive_heatmap.png",  # type: ignore[operator]
                f"qd_stories seed {self.seed}: reference archive, {self.llm_tag}")

    def trace(self) -> Node:
        return elite_count(self.archive)


def _atomic_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)   # mkstemp makes 0600 files
    os.replace(tmp, path)


def heatmap(grid: Any, path: Path, title: str) -> None:
    """Tone x genre heatmaps of elite quality, one panel per length class (PNG, atomic)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    g = np.asarray(grid, dtype=float)
    axes = stories.AXES
    fig, panels = plt.subplots(1, g.shape[2], figsize=(3.4 * g.shape[2], 3.0), squeeze=False)
    for j in range(g.shape[2]):
        ax = panels[0][j]
        im = ax.imshow(g[:, :, j], vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(len(axes[1].bins)), [b[:7] for b in axes[1].bins], fontsize=6)
        ax.set_yticks(range(len(axes[0].bins)), axes[0].bins, fontsize=6)
        ax.set_title(axes[2].bins[j], fontsize=8)
    fig.colorbar(im, ax=panels[0].tolist(), shrink=0.8, label="rule quality")
    fig.suptitle(title, fontsize=9)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.chmod(tmp, 0o644)   # mkstemp makes 0600 files
    os.replace(tmp, path)


def _splits(seed: int, sizes: SplitSizes) -> Splits:
    item = Example(input=f"stories about a {stories.object_for(seed)} (seed {seed})", target="1.0",
                   meta={"seed": seed})
    return Splits([item], [item], [item])


register_task(TaskEntry(
    name="qd_stories", family="quality-diversity",
    description="varied good short stories: tone x genre x length archive (75 cells), checkable rule",
    metric="QD-score of the reference archive, normalised (coverage in qd_metrics.json)",
    kinds=frozenset({KIND}), uses_llm=False, splits=_splits,
    score=lambda prediction, target: float(prediction),
    feedback=lambda prediction, example: Feedback("QD report", float(prediction)),
    build=QDStoriesRun))


def _factory(cls_name: str) -> Any:
    def factory(params: list[Parameter], llm: LLM | None, task: TaskEntry, agent: Any) -> Optimizer:
        import undertow.optimizers.qd as qd

        if llm is None:
            raise BenchError(f"optimizer {cls_name} needs an LLM: pass --llm (e.g. --llm sim)")
        if not isinstance(agent, QDStoriesRun):
            raise BenchError(f"optimizer {cls_name} runs quality-diversity tasks only (qd_stories)")
        cls = getattr(qd, cls_name)
        kwargs: dict[str, Any] = {"seed": agent.seed}
        if cls_name == "QDHF":
            from undertow.optimizers.experience.embed import HashingEmbedder

            kwargs["embedder"] = HashingEmbedder(256)
        return cls(params, llm, agent.problem, **kwargs)
    return factory


for _name, _cls, _desc in (
        ("qdaif", "QDAIF", "QDAIF: MAP-Elites, LLM mutation/crossover toward empty cells, LLM-judged quality and axes"),
        ("qdhf", "QDHF", "QDHF: MAP-Elites on axes learned from LLM triplet judgements (contrastive projection)"),
        ("qd_random", "RandomSampling", "QD baseline: independent samples from the brief, judged and archived"),
        ("qd_single", "SingleObjective", "QD baseline: iterated best-of-n rewrites of the best text by quality")):
    register_optimizer(OptimizerEntry(name=_name, description=_desc, kinds=frozenset({KIND}), uses_llm=True,
                                      factory=_factory(_cls)))
