"""HTML for notebooks: a run's outcome as a table of final test scores."""

from __future__ import annotations

from typing import Any

from undertow.engine.notebook import html_table


def outcome_html(outcome: Any) -> str:
    """One row per run's final test record (task, optimizer, llm, seed, score, calls,
    cost), then the runs that failed with their errors."""
    finals: dict[tuple[str, str, str, int], Any] = {}
    for r in outcome.records:
        if r.split == "test":
            key = (r.task, r.optimizer, r.tag, r.seed)
            if key not in finals or r.step >= finals[key].step:
                finals[key] = r
    rows = [(r.task, r.optimizer, r.llm, r.seed, r.step, f"{r.score:.3f}", r.calls,
             f"${r.cost_usd:.4f}") for r in finals.values()]
    text = html_table(f"{len(outcome.done)} runs done, {len(outcome.failed)} failed "
                      f"({outcome.out})",
                      ("task", "optimizer", "llm", "seed", "step", "test score", "calls", "cost"),
                      rows)
    if outcome.failed:
        text += html_table("failed runs", ("run", "error"), outcome.failed.items())
    return text
