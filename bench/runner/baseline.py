"""`none`: the baseline optimizer that keeps every parameter as it is.

It spends no LLM calls, so its scores are what the starting agent gets; any
optimizer worth running should beat it at the same budget.
"""

from __future__ import annotations

from undertow.optimizers import Optimizer, Proposal


class KeepOptimizer(Optimizer):
    """Proposes the current value of every parameter (logged, so runs show the step)."""

    def step(self) -> list[Proposal]:
        proposals = [self.propose(p, p.value, reason="baseline: keep the current value")
                     for p in self.parameters]
        self.steps += 1
        return proposals
