"""`TrajectoryBootstrap`: self-generated in-context examples with measured utility.

Successful items (reward >= `keep_reward`) become `Trajectory` records (active at once:
a success is its own verification). `context_for(item)` retrieves the most similar
trajectories as few-shot examples; each later reward of an item is logged as an
outcome of the examples shown with it. Every step, examples that have been shown at
least `min_outcomes` times with a mean reward below `drop_below` are deprecated.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from undertow.engine import Module, Parameter
from undertow.optimizers.base import Proposal
from undertow.optimizers.experience.library_base import LibraryOptimizer
from undertow.optimizers.experience.records import Provenance, Trajectory
from undertow.optimizers.experience.store import ExperienceStore


class TrajectoryBootstrap(LibraryOptimizer):
    """Keeps successful trajectories as few-shot examples and drops those that do not help."""

    kinds = ("trajectory",)

    def __init__(self, parameters: Iterable[Parameter] | Module, *, store: ExperienceStore,
                 scope: str = "global", k: int = 3, token_budget: int = 400, keep_reward: float = 1.0,
                 max_new: int = 4, min_outcomes: int = 4, drop_below: float = 0.5, run: str = "") -> None:
        super().__init__(parameters, store=store, scope=scope, k=k, token_budget=token_budget, run=run)
        self.keep_reward, self.max_new = keep_reward, max_new
        self.min_outcomes, self.drop_below = min_outcomes, drop_below

    def step(self) -> list[Proposal]:
        examples = self._examples()
        self._log_outcomes(examples)
        known = {r.input for r in self.store.records(kinds=["trajectory"], scope=self.scope)}  # type: ignore[attr-defined]
        added = 0
        for ex in examples:
            if ex.reward >= self.keep_reward and ex.input not in known and added < self.max_new:
                self.store.add(Trajectory(input=ex.input, output=ex.trace or ex.output, reward=ex.reward, status="active",
                                          scope=self.scope, taxonomy=[self.scope],
                                          provenance=Provenance(source_tasks=[ex.input], run=self.run)),
                               run=self.run)
                known.add(ex.input)
                added += 1
        dropped = self.drop_unhelpful()
        if added or dropped:
            self.generation = self.store.commit_generation(f"{self.run} step {self.steps}")
        self.steps += 1
        start = len(self.log)
        self.refresh_slot(" ".join(e.input for e in examples) or self.scope)
        return self.log[start:]

    def drop_unhelpful(self) -> list[str]:
        """Deprecate trajectories whose measured mean reward when shown is below `drop_below`."""
        stats = self.store.stats()
        dropped = []
        for rec in self.store.records(kinds=["trajectory"], statuses=["active"], scope=self.scope):
            s = stats.get(rec.id)
            if s and s.outcomes >= self.min_outcomes and (s.mean_reward or 0.0) < self.drop_below:
                self.store.set_status(rec.id, "deprecated", run=self.run,
                                      reason=f"mean reward {s.mean_reward:.2f} over {s.outcomes} uses")
                dropped.append(rec.id)
        return dropped

    def extra_state(self) -> dict[str, Any]:
        return super().extra_state()
