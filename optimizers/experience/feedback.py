"""Reading what a slot parameter received from `backward` as (input, output, reward) examples.

Feedback on an output may be a number (the reward), a dict with `score`/`reward` and
optionally `expected`, `feedback` and `input`, or text (no reward: counted as a
failure, the text kept as feedback). The input is the user message of the LLM call
that produced the output (an `llm_call` node), else the dict's `input`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from undertow.engine import Node, Parameter


@dataclass(frozen=True)
class Example:
    """One graded item, as an optimizer of this package sees it."""

    input: str
    output: str
    reward: float
    expected: str = ""
    feedback: str = ""

    @property
    def success(self) -> bool:
        return self.reward >= 0.5


def _input_of(out: Node) -> str:
    op = getattr(out, "op", None)
    if op is not None and getattr(op, "name", "") == "llm" and len(out.args or ()) >= 2:
        user = out.args[1]
        return str(user.value if isinstance(user, Node) else user)
    return ""


def read_feedback(param: Parameter) -> list[Example]:
    """The examples in `param.feedback` (subgraph propagation), in the order received."""
    examples = []
    for fb in param.feedback:
        for out, f in zip(getattr(fb, "outputs", []), getattr(fb, "feedback", []), strict=False):
            examples.append(to_example(_input_of(out), str(out.value), f))
    return examples


def to_example(input: str, output: str, feedback: Any) -> Example:
    """One `Example` from an item, the model's output and any supported feedback shape."""
    if isinstance(feedback, bool):
        return Example(input, output, float(feedback))
    if isinstance(feedback, int | float):
        return Example(input, output, float(feedback))
    if isinstance(feedback, dict):
        reward = feedback.get("score", feedback.get("reward", 0.0))
        try:
            reward = float(reward)
        except (TypeError, ValueError):
            reward = 0.0
        return Example(str(feedback.get("input") or input), output, reward,
                       str(feedback.get("expected", "")), str(feedback.get("feedback", "")))
    return Example(input, output, 0.0, feedback=str(feedback))
