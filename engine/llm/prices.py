"""Model prices in USD per million tokens (input, output).

LiteLLM keeps the most complete public price table; when LiteLLM is installed its
bundled copy is read (as a JSON file, without importing LiteLLM, which is slow to
import and would fetch a fresh table over the network). Otherwise a small built-in
table covers the common OpenAI and Anthropic models.
"""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path

#: List prices when written; `Accounting(prices=...)` overrides any entry.
BUILTIN_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-opus-4": (15.00, 75.00),
    "sim": (0.0, 0.0),
}
_TABLE = "model_prices_and_context_window_backup.json"


@lru_cache(maxsize=1)
def litellm_prices() -> dict[str, tuple[float, float]] | None:
    """LiteLLM's bundled price table as {model: (input, output) per million tokens},
    or None when LiteLLM is not installed (or its table cannot be read)."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / _TABLE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        table: dict[str, tuple[float, float]] = {}
        for name, entry in raw.items():
            if not isinstance(entry, dict):
                continue
            cost_in, cost_out = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
            if isinstance(cost_in, int | float) and isinstance(cost_out, int | float):
                table[name] = (round(cost_in * 1e6, 6), round(cost_out * 1e6, 6))
        return table
    return None


def lookup_litellm(provider: str, model: str) -> tuple[float, float] | None:
    """The LiteLLM price of `model` (tried as given, as `provider/model`, and without
    its `provider/` prefix); None when LiteLLM is absent or does not list it."""
    table = litellm_prices()
    if table is None:
        return None
    for name in (model, f"{provider}/{model}", model.partition("/")[2]):
        if name and name in table:
            return table[name]
    return None
