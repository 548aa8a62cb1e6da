"""Glue between a reasoning task module and the simulated LLM's `TaskProfile` protocol.

A task module defines its skills and item pattern in a `ReasoningProfile` subclass and
hands it the module's own `solve`, `answer_without` and `score`, so that the profile
and the module can never disagree about answers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from undertow.bench.sim.profile import TaskProfile


class ReasoningProfile(TaskProfile):
    """A `TaskProfile` whose answers come from a task module's functions."""

    def __init__(self, solve: Callable[[str], str],
                 answer_without: Callable[[str, frozenset[str]], str],
                 score: Callable[[str, str], float]) -> None:
        self._solve, self._answer_without, self._score = solve, answer_without, score

    def solve(self, item: str) -> str:
        return self._solve(item)

    def answer_without(self, item: str, missing: frozenset[str]) -> str:
        return self._answer_without(item, frozenset(missing))

    def same_answer(self, a: str, b: str) -> bool:
        """Answers agree when the task's tolerant metric accepts one for the other."""
        return self._score(a, b) == 1.0


def check_skills(task: str, missing: Collection[str], skills: tuple[str, ...]) -> None:
    """A clear error when `missing` names a skill the task does not have."""
    unknown = sorted(set(missing) - set(skills))
    if unknown:
        raise ValueError(f"{task}: unknown skills {unknown}; choose from {list(skills)}")
