"""Induced metrics as feedback for any optimizer.

`MetricFeedback(metrics, llm)(trajectory)` asks the judge to rate the trajectory on every
metric (one LLM call) and returns an engine `Feedback`: its text lists each applicable
metric's verdict with the metric's definition and the judge's reason (what `backward`
carries to OptoPrime, TextGrad, ...; bad verdicts first), its score is the share of positive verdicts among
applicable metrics (0.5 when no metric applies: neither praise nor blame).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from undertow.engine import Feedback
from undertow.optimizers.metrics.induce import Counter, evaluate
from undertow.optimizers.metrics.schemas import Judgement, Metric, Trajectory


def render_judgements(judgements: Sequence[Judgement], metrics: Sequence[Metric]) -> tuple[str, float]:
    """The text and score of a trajectory's judgements (see the module docstring).

    Bad verdicts come first, each with its metric's definition and the judge's reason;
    good ones follow as a list of names (optimizer requests often cut long feedback, so
    what needs fixing must not sit at the end)."""
    by_name = {m.name: m for m in metrics}
    bad = [j for j in judgements if j.rating == "negative"]
    good = [j for j in judgements if j.rating == "positive"]
    applicable = len(bad) + len(good)
    if not applicable:
        return "No induced metric applies to this run.", 0.5
    lines = [f"{len(bad)} of {applicable} applicable induced metrics judged this run bad."]
    for j in bad:
        m = by_name.get(j.metric)
        reason = f" Judge: {j.reason}." if j.reason else ""
        lines.append(f"BAD {j.metric}: {m.definition if m else ''}{reason}")
    if good:
        lines.append("Good: " + ", ".join(j.metric for j in good) + ".")
    return "\n".join(lines), len(good) / applicable


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
