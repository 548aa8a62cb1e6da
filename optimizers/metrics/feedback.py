"""Induced metrics as feedback for any optimizer.

`MetricFeedback(metrics, llm)(trajectory)` asks the judge to rate the trajectory on every
metric (one LLM call) and returns an engine `Feedback`: its text lists each applicable
metric's verdict with the metric's definition and the judge's reason (what `backward`
carries to OptoPrime, TextGrad, ...), its score is the share of positive verdicts among
applicable metrics (0.5 when no metric applies: neither praise nor blame).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from undertow.engine import Feedback
from undertow.optimizers.metrics.induce import Counter, evaluate
from undertow.optimizers.metrics.schemas import Judgement, Metric, Trajectory


def render_judgements(judgements: Sequence[Judgement], metrics: Sequence[Metric]) -> tuple[str, float]:
    """The text and score of a trajectory's judgements (see the module docstring)."""
    by_name = {m.name: m for m in metrics}
    lines = []
    pos = applicable = 0
    for j in judgements:
        if j.rating == "n/a":
            continue
        applicable += 1
        pos += j.rating == "positive"
        m = by_name.get(j.metric)
        definition = m.definition if m else ""
        verdict = "good" if j.rating == "positive" else "BAD"
        reason = f" ({j.reason})" if j.reason else ""
        lines.append(f"- {j.metric}: {verdict}. Metric: {definition}{reason}")
    if not applicable:
        return "No induced metric applies to this run.", 0.5
    score = pos / applicable
    return f"Judged on {applicable} induced metric(s), {pos} good:\n" + "\n".join(lines), score


class MetricFeedback:
    """Feedback from induced metrics, for `backward` (see the module docstring)."""

    def __init__(self, metrics: Sequence[Metric], llm: Any) -> None:
        if not metrics:
            raise ValueError("MetricFeedback needs at least one metric; induce some with "
                             "`undertow metrics induce`")
        self.metrics = list(metrics)
        self.llm = llm
        self.counter = Counter()

    def judge(self, trajectory: Trajectory) -> list[Judgement]:
        """The judge's verdicts on `trajectory` (one LLM call)."""
        return evaluate([trajectory], self.metrics, self.llm, self.counter)

    def __call__(self, trajectory: Trajectory) -> Feedback:
        text, score = render_judgements(self.judge(trajectory), self.metrics)
        return Feedback(text, score)
