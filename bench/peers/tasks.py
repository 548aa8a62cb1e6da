"""What a peer optimizes, per task: the job it is given and the way its result comes back.

Peers optimize the reasoning tasks, whose one trainable parameter is the agent's
system prompt. The job carries the train and val items (inputs and targets); the
feedback callback is the task's own (score and sentence, as undertow's optimizers
get). Other task families raise a `BenchError` naming the ones a peer supports.
"""

from __future__ import annotations

from typing import Any

from undertow.bench.peers.catalog import SUPPORTED_FAMILIES
from undertow.bench.peers.gateway import FeedbackFn
from undertow.bench.runner.errors import BenchError


def check_supported(optimizer: str, task_name: str, family: str) -> None:
    if family not in SUPPORTED_FAMILIES:
        raise BenchError(f"peer optimizer {optimizer} trains prompts of the reasoning tasks only "
                         f"(e.g. boolean_expressions); task {task_name} is a {family or 'other'} task. "
                         "See docs/peers.md")


def reasoning_job(agent: Any, *, steps: int, batch_size: int, options: dict[str, Any] | None = None
                  ) -> dict[str, Any]:
    """The job for a `ReasoningRun`: its splits' train/val items and its current prompt."""
    items = lambda xs: [{"input": x.input, "target": x.target} for x in xs]  # noqa: E731
    return {"task": agent.task.__name__.rsplit(".", 1)[-1], "initial_prompt": agent.prompt.value,
            "train": items(agent.splits.train), "val": items(agent.splits.val),
            "steps": steps, "batch_size": batch_size, "options": options or {}}


def reasoning_feedback_fn(agent: Any) -> FeedbackFn:
    """(split, index, output) -> (score, sentence) with the task's own feedback."""
    splits = {"train": agent.splits.train, "val": agent.splits.val}

    def feedback(split: str, index: int, output: str) -> tuple[float, str]:
        if split not in splits:
            raise ValueError(f"split must be train or val, got {split!r}")
        fb = agent.feedback(output, splits[split][index])
        return float(fb.score if fb.score is not None else 0.0), str(fb.sentence)

    return feedback
