"""`MetricDriven`: any optimizer, fed by metrics AutoLibra induces from people's feedback.

A person writes free-text feedback on the first runs; once `n_induce` of them are in,
the metrics are induced from them, and from then on the judge rates every new run on
those metrics (`MetricFeedback`: verdicts and definitions as text, the rate as score).
The task's run loop asks `feedback_for(trajectories)` for the feedback to pass to
`backward`; `step()` is the wrapped optimizer's. Resumable: the metrics and the pending
runs are part of `state_dict()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from undertow.engine import Feedback
from undertow.optimizers.base import Optimizer, Proposal
from undertow.optimizers.metrics.feedback import MetricFeedback
from undertow.optimizers.metrics.induce import induce
from undertow.optimizers.metrics.schemas import Metric, Trajectory


class MetricDriven(Optimizer):
    """Wraps `inner`; feedback from metrics induced after `n_induce` runs with feedback."""

    def __init__(self, inner: Optimizer, llm: Any, *, n_induce: int = 16, seed: int = 0) -> None:
        super().__init__(inner.parameters)
        if n_induce < 1:
            raise ValueError("n_induce must be at least 1")
        self.inner, self.llm, self.n_induce, self.seed = inner, llm, n_induce, seed
        self.names, self.log = inner.names, inner.log
        self.pending: list[Trajectory] = []
        self.metrics: list[Metric] = []
        self._judge: MetricFeedback | None = None

    def add_callback(self, callback: Any) -> None:
        self.inner.add_callback(callback)

    def feedback_for(self, trajectories: Sequence[Trajectory]) -> list[Feedback]:
        """The feedback for these runs: their own (people's) until the metrics exist, then the judge's."""
        if not self.metrics:
            self.pending.extend(t for t in trajectories if t.feedback.strip())
            out = [Feedback(t.feedback, t.score) for t in trajectories]
            if len(self.pending) >= self.n_induce:
                self._set_metrics(induce(self.pending, self.llm, seed=self.seed).metrics)
                self.pending = []
            return out
        assert self._judge is not None
        return [self._judge(t) for t in trajectories]

    def _set_metrics(self, metrics: list[Metric]) -> None:
        self.metrics = list(metrics)
        self._judge = MetricFeedback(self.metrics, self.llm) if self.metrics else None

    def step(self) -> list[Proposal]:
        proposals = self.inner.step()
        self.steps = self.inner.steps
        return proposals

    def zero_feedback(self) -> None:
        self.inner.zero_feedback()

    def finalize(self) -> list[Proposal]:
        return self.inner.finalize()

    def extra_state(self) -> dict[str, Any]:
        return {"inner": self.inner.state_dict(), "metrics": [m.model_dump() for m in self.metrics],
                "pending": [t.model_dump() for t in self.pending]}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.inner.load_state_dict(state["inner"])
        self._set_metrics([Metric.model_validate(m) for m in state.get("metrics", [])])
        self.pending = [Trajectory.model_validate(t) for t in state.get("pending", [])]
        self.log = self.inner.log
