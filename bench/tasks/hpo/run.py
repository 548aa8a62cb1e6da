"""The bench's view of an HPO task: one `HPOProblem` per seed behind the `TaskRun` hooks.

A training step scores the current configuration (a traced op whose parents are all
the hyperparameters, so feedback reaches each of them), passes the score back as
feedback and lets the optimizer step: one step is one evaluation, so `--steps N` is
N evaluations for every optimizer. `evaluate("val")` is the cross-validated accuracy
of the current configuration (cached, so it costs nothing after the step that
scored it); `evaluate("test")` refits it on the whole training part and scores the
held-out part.
"""

from __future__ import annotations

import random
from typing import Any

from undertow.bench.runner.tasks import Split, TaskContext, _propagator
from undertow.bench.tasks.hpo import HPOProblem
from undertow.engine import Feedback, Node, backward, op
from undertow.optimizers import Optimizer


@op
def cross_validate(problem: HPOProblem, *values: Any) -> float:
    """Cross-validated accuracy of the configuration `values` (in the space's order)."""
    return problem.score(dict(zip(problem.task.space.names(), values, strict=True)))


class HPORun:
    """One scikit-learn HPO task for one seed (see the module docstring)."""

    def __init__(self, name: str, ctx: TaskContext) -> None:
        self.problem = HPOProblem(name, ctx.seed)
        self.seed = ctx.seed
        self.space = self.problem.task.space
        self.parameters = self.space.parameters()
        self.propagator = _propagator(ctx.propagator, ctx.llm)

    def config(self) -> dict[str, Any]:
        return {p.label: p.value for p in self.parameters}

    def trace(self) -> Node:
        return cross_validate(self.problem, *self.parameters)

    def run_step(self, optimizer: Optimizer, rng: random.Random) -> None:
        out = self.trace()
        score = float(out.value)
        backward(out, Feedback(f"cross-validated accuracy {score:.4f}", score), self.propagator)
        optimizer.step()
        optimizer.zero_feedback()

    def evaluate(self, split: Split) -> float:
        if split == "test":
            return self.problem.test_score(self.config())
        return self.problem.score(self.config())
