"""The data AutoLibra works on: trajectories with free-text feedback, the behaviours
grounded in them, the metrics induced from the behaviours, and the judgements.

All are pydantic models, so files written by one version are checked on reading
(see `io.py` for the JSONL reader, which names line, field and fix on bad input).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

StepKind = Literal["thought", "tool_call", "observation", "output"]
Polarity = Literal["positive", "negative"]
Rating = Literal["positive", "negative", "n/a"]


class Step(BaseModel):
    """One step of a traced agent run: a thought, a tool call, what the tool returned, or an output."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(ge=0)
    kind: StepKind
    text: str
    tool: str | None = None


class Trajectory(BaseModel):
    """A traced run of an agent on one task, with the free-text feedback someone wrote on it.

    `score` is an optional scalar the run was given (kept for comparison, not used by induction).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    task: str
    steps: list[Step]
    feedback: str = ""
    score: float | None = None

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: list[Step]) -> list[Step]:
        indexes = [s.index for s in steps]
        if len(set(indexes)) != len(indexes):
            raise ValueError(f"step indexes must be unique, got {indexes}")
        return sorted(steps, key=lambda s: s.index)

    def step(self, index: int) -> Step | None:
        """The step with this index, or None."""
        return next((s for s in self.steps if s.index == index), None)


class Behaviour(BaseModel):
    """A behaviour one feedback sentence is about: where it happened and whether it was good."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trajectory: str
    step: int | None = None
    polarity: Polarity
    text: str = Field(min_length=1)
    feedback_sentence: str = ""


class Metric(BaseModel):
    """An induced metric: a behaviour to look for, with examples of it done well and badly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    positive_examples: list[str] = Field(default_factory=list)
    negative_examples: list[str] = Field(default_factory=list)


class Judgement(BaseModel):
    """How one trajectory does on one metric (`n/a`: the metric does not apply to it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trajectory: str
    metric: str
    rating: Rating
    reason: str = ""


class Iteration(BaseModel):
    """One round of induction: the metrics it had and how well they explain the feedback."""

    model_config = ConfigDict(extra="forbid")

    iteration: int
    metrics: list[Metric]
    coverage: float
    redundancy: float
    covered: int
    behaviours: int


class MetricSet(BaseModel):
    """What `induce` returns and `undertow metrics induce` writes: the final metrics and the history."""

    model_config = ConfigDict(extra="forbid")

    llm: str
    tag: str = ""
    metrics: list[Metric]
    iterations: list[Iteration] = Field(default_factory=list)
    behaviours: list[Behaviour] = Field(default_factory=list)
    calls: int = 0
    skipped_replies: int = 0
