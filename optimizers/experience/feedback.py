"""Reading what a slot parameter received from `backward` as (input, output, reward) examples.

Feedback on an output may be a number (the reward), a dict with `score`/`reward` and
optionally `expected`, `feedback` and `input`, or text (no reward: counted as a
failure, the text kept as feedback). The input is the user message of the LLM call
that produced the output (an `llm_call` node), else the dict's `input`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    #: The full reply of the LLM call behind `output` when `output` was parsed out of it
    #: (an answer extractor): what a kept trajectory shows, reasoning included.
    trace: str = ""

    @property
    def success(self) -> bool:
        return self.reward >= 0.5


def _is_llm(node: Any) -> bool:
    op = getattr(node, "op", None)
    return op is not None and getattr(op, "name", "") == "llm" and len(node.args or ()) >= 2


def _llm_node(out: Node, limit: int = 32) -> Node | None:
    """The nearest `llm_call` node at or above `out` (breadth-first over its arguments), so
    an output parsed out of a reply (an answer extractor) still names its item."""
    queue, seen = [out], set()
    while queue and len(seen) < limit:
        node = queue.pop(0)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if _is_llm(node):
            return node
        queue += [a for a in (*(getattr(node, "args", None) or ()),
                              *(getattr(node, "kwargs", None) or {}).values()) if isinstance(a, Node)]
    return None


def _input_of(out: Node) -> str:
    node = _llm_node(out)
    if node is None:
        return ""
    user = node.args[1]
    return str(user.value if isinstance(user, Node) else user)


def read_feedback(param: Parameter) -> list[Example]:
    """The examples in `param.feedback` (subgraph propagation), in the order received."""
    examples = []
    for fb in param.feedback:
        for out, f in zip(getattr(fb, "outputs", []), getattr(fb, "feedback", []), strict=False):
            ex = to_example(_input_of(out), str(out.value), f)
            node = _llm_node(out)
            if node is not None and node is not out:
                ex = replace(ex, trace=str(node.value))
            examples.append(ex)
    return examples


def to_example(input: str, output: str, feedback: Any) -> Example:
    """One `Example` from an item, the model's output and any supported feedback shape."""
    if isinstance(feedback, bool):
        return Example(input, output, float(feedback))
    if isinstance(feedback, int | float):
        return Example(input, output, float(feedback))
    score = getattr(feedback, "score", None)
    if isinstance(feedback, str) and isinstance(score, int | float):  # engine Feedback: text + score
        return Example(input, output, float(score), feedback=str.__str__(feedback))
    if isinstance(feedback, dict):
        reward = feedback.get("score", feedback.get("reward", 0.0))
        try:
            reward = float(reward)
        except (TypeError, ValueError):
            reward = 0.0
        return Example(str(feedback.get("input") or input), output, reward,
                       str(feedback.get("expected", "")), str(feedback.get("feedback", "")))
    return Example(input, output, 0.0, feedback=str(feedback))
