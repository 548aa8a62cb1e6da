"""Budget strings of the command line: `calls=200`, `tokens=50000`, `usd=1.5`, or
several joined by commas (`calls=200,usd=2`): the run stops at the first cap reached."""

from __future__ import annotations

import math

from undertow.bench.runner.errors import BenchError
from undertow.engine.llm import Budget

_FIELDS = {"calls": "max_calls", "tokens": "max_tokens", "usd": "max_usd"}
_EXAMPLE = "write e.g. --budget calls=200, --budget tokens=50000 or --budget usd=1.5"


def parse_budget(text: str) -> Budget:
    """A `Budget` from `calls=N`, `tokens=N`, `usd=X` (comma-joined); `BenchError` otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise BenchError(f"empty budget; {_EXAMPLE}")
    caps: dict[str, float | int] = {}
    for part in text.split(","):
        key, sep, raw = part.strip().partition("=")
        key, raw = key.strip().lower(), raw.strip()
        if not sep or key not in _FIELDS:
            raise BenchError(f"bad budget part {part.strip()!r}: expected calls=, tokens= or usd=; {_EXAMPLE}")
        if _FIELDS[key] in caps:
            raise BenchError(f"budget sets {key} twice; give each of calls, tokens, usd once")
        try:
            value: float | int = float(raw) if key == "usd" else int(raw)
        except ValueError:
            kind = "a number" if key == "usd" else "a whole number"
            raise BenchError(f"bad budget {key}={raw!r}: {key} needs {kind}; {_EXAMPLE}") from None
        if not math.isfinite(value) or value < 0:
            raise BenchError(f"bad budget {key}={raw}: it must be a positive, finite number")
        if value == 0:
            raise BenchError(f"budget of zero ({key}=0) allows no LLM call; give a positive {key}")
        caps[_FIELDS[key]] = value
    return Budget(**caps)


def format_budget(budget: Budget) -> str:
    """The inverse of `parse_budget` (for configs, tables and titles)."""
    parts = [f"{short}={getattr(budget, field)}" for short, field in _FIELDS.items()
             if getattr(budget, field) is not None]
    return ",".join(parts) or "unlimited"
