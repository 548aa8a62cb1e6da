"""The plain-text requests AutoLibra sends: grounding, clustering and rating.

Each function returns chat messages (system + user). The wording is ours; replies are
read tolerantly by `parse.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

from undertow.optimizers.metrics.schemas import Behaviour, Metric, Trajectory

Messages = list[dict[str, str]]


def render_trajectory(traj: Trajectory, limit: int = 600) -> str:
    """A trajectory as numbered step lines (long step texts are shortened)."""
    lines = [f"Task: {traj.task}"]
    for s in traj.steps:
        text = " ".join(s.text.split())
        text = text if len(text) <= limit else text[: limit - 3] + "..."
        tool = f" ({s.tool})" if s.tool else ""
        lines.append(f"[step {s.index}] {s.kind}{tool}: {text}")
    return "\n".join(lines)


def grounding_request(traj: Trajectory) -> Messages:
    """Ask which behaviour of the trajectory each feedback sentence talks about."""
    system = ("You study the runs of an AI agent. A reviewer wrote free-text feedback on one run; "
              "you tie each remark to what the agent did.")
    user = (f"Agent run:\n{render_trajectory(traj)}\n\n"
            f"Reviewer's feedback:\n{traj.feedback.strip()}\n\n"
            "Go through the feedback sentence by sentence. For each remark, describe the agent "
            "behaviour it is about in a short phrase, give the number of the step where that "
            "behaviour shows, and say whether the reviewer judges it positive (good) or negative "
            "(bad).\n"
            'Answer in JSON: {"behaviours": [{"sentence": "<the feedback sentence>", "step": <number>, '
            '"polarity": "positive" or "negative", "behaviour": "<short description>"}]}')
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def clustering_request(behaviours: Sequence[Behaviour], existing: Sequence[Metric] = ()) -> Messages:
    """Ask to group behaviours into metrics, each with a name, definition and examples."""
    system = ("You design evaluation metrics for AI agents from what reviewers noticed in their runs.")
    listing = "\n".join(f"B{i + 1} ({b.polarity}): {b.text}" for i, b in enumerate(behaviours))
    known = ""
    if existing:
        known = ("\n\nMetrics already defined (do not repeat them):\n"
                 + "\n".join(f"- {m.name}: {m.definition}" for m in existing))
    user = (f"Behaviours seen in agent runs, with the reviewers' verdict:\n{listing}{known}\n\n"
            "Group the behaviours that are about the same aspect of the agent's conduct. Each group "
            "becomes a metric: a short snake_case name, a one-sentence definition of what it checks, "
            "and examples from the list of the behaviour done well (positive) and done badly "
            "(negative). List the behaviour ids in each group.\n"
            'Answer in JSON: {"metrics": [{"name": "...", "definition": "...", '
            '"positive_examples": ["..."], "negative_examples": ["..."], "behaviours": ["B1"]}]}')
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def rating_request(traj: Trajectory, metrics: Sequence[Metric]) -> Messages:
    """Ask for a positive / negative / n/a verdict of a trajectory on each metric."""
    system = "You grade runs of an AI agent against a list of metrics."
    blocks = []
    for i, m in enumerate(metrics, start=1):
        block = f"{i}. {m.name}: {m.definition}"
        if m.positive_examples:
            block += "\n   done well, e.g.: " + " | ".join(m.positive_examples[:3])
        if m.negative_examples:
            block += "\n   done badly, e.g.: " + " | ".join(m.negative_examples[:3])
        blocks.append(block)
    user = (f"Agent run:\n{render_trajectory(traj)}\n\nMetrics:\n" + "\n".join(blocks) + "\n\n"
            "For every metric, decide whether this run shows the behaviour done well (positive), "
            "done badly (negative), or whether the metric does not apply to this run (n/a). "
            "Give a one-line reason.\n"
            'Answer in JSON: {"ratings": [{"metric": "<name>", "rating": "positive" or "negative" '
            'or "n/a", "reason": "..."}]}')
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
