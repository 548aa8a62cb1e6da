"""The three requests LLAMBO sends: warm start, conditional sampling, surrogate.

Each shows the task description and the search space (names, kinds, ranges or
choices, log-scale hints) and asks for JSON, so any chat model can answer; the
history is shown as (configuration, score) pairs, best first.
"""

from __future__ import annotations

import json
from typing import Any

from undertow.optimizers.search_space import Space

SYSTEM = ("You are an expert in machine learning and hyperparameter optimization. "
          "You answer with valid JSON only.")


def _config(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=False)


def _score(x: float) -> str:
    return f"{x:.4f}"


def _space(space: Space) -> str:
    return "Search space (stay inside it):\n" + space.describe()


def _history(history: list[dict[str, Any]]) -> str:
    rows = sorted(history, key=lambda h: -h["score"])
    lines = [f"{_config(h['values'])} -> score {_score(h['score'])}" for h in rows]
    return "Configurations evaluated so far, with their scores (higher is better):\n" + "\n".join(lines)


def warm_start(description: str, space: Space, n: int) -> list[dict[str, str]]:
    """Zero-shot: n initial configurations from the task description and the space."""
    keys = ", ".join(space.names())
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": (
                f"Task: {description}\n\n{_space(space)}\n\n"
                f"Propose {n} diverse, promising configurations to evaluate first. Reply with a JSON "
                f"list of {n} objects, each with exactly the keys {keys}.")}]


def sample(description: str, space: Space, history: list[dict[str, Any]], target: float,
           n: int) -> list[dict[str, str]]:
    """Conditional sampling: n configurations expected to reach `target`."""
    keys = ", ".join(space.names())
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": (
                f"Task: {description}\n\n{_space(space)}\n\n{_history(history)}\n\n"
                f"Propose {n} new configurations, not yet evaluated, that you expect to reach a score "
                f"of {_score(target)}. Reply with a JSON list of {n} objects, each with exactly the "
                f"keys {keys}.")}]


def surrogate(description: str, space: Space, history: list[dict[str, Any]],
              candidates: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Discriminative surrogate: a predicted score for each candidate, from the history."""
    shown = "\n".join(f"{i + 1}. {_config(c)}" for i, c in enumerate(candidates))
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": (
                f"Task: {description}\n\n{_space(space)}\n\n{_history(history)}\n\n"
                f"Candidate configurations (not evaluated yet):\n{shown}\n\n"
                f"Predict the score each candidate will get. Reply with a JSON list of "
                f"{len(candidates)} numbers, in the order of the candidates.")}]
