"""Reading LLAMBO's replies: configurations and predicted scores, whatever the layout.

A model may answer with a JSON list, a JSON object wrapping a list, objects inside
prose or code fences, or plain `name = value` lines. `parse_configs` finds every
configuration-like object, coerces it onto the space (ints rounded, numbers clipped to
the bounds, choices matched case-insensitively) and counts what it had to drop;
`parse_scores` finds one number per candidate. Neither raises on any text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from undertow.optimizers.search_space import Dim, Space

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SCORE_KEYS = ("score", "predicted_score", "prediction", "predicted", "accuracy", "value", "y", "mean")


def json_values(text: str) -> Iterator[Any]:
    """Every top-level JSON object or array in `text`, in order (invalid ones skipped)."""
    decoder = json.JSONDecoder()
    i = 0
    while i < len(text):
        if text[i] in "[{":
            try:
                value, end = decoder.raw_decode(text, i)
            except ValueError:
                i += 1
                continue
            yield value
            i = end
        else:
            i += 1


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            if isinstance(v, (dict, list)):
                yield from _dicts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _dicts(v)


def coerce_value(dim: Dim, raw: Any) -> Any:
    """`raw` as a valid value of `dim` (rounded, clipped, matched), or ValueError."""
    if dim.kind == "choice":
        for c in dim.choices:
            if raw == c and type(raw) is type(c):
                return c
        for c in dim.choices:
            if str(raw).strip().strip("'\"").lower() == str(c).lower():
                return c
        raise ValueError(f"{raw!r} is not one of {list(dim.choices)}")
    if isinstance(raw, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(raw, str):
        m = re.fullmatch(rf"\s*({_NUMBER})\s*", raw)
        if m is None:
            raise ValueError(f"{raw!r} is not a number")
        raw = float(m.group(1))
    if not isinstance(raw, (int, float)) or not math.isfinite(float(raw)):
        raise ValueError(f"{raw!r} is not a finite number")
    assert dim.low is not None and dim.high is not None
    x = min(dim.high, max(dim.low, float(raw)))
    if dim.kind == "int":
        return int(min(dim.high, max(dim.low, round(x))))
    return float(x)


def coerce_config(raw: dict[str, Any], space: Space) -> dict[str, Any] | None:
    """A full configuration from a dict naming every dimension (case-insensitive), or None."""
    lowered = {str(k).strip().lower(): v for k, v in raw.items()}
    out = {}
    for dim in space.dims:
        if dim.name.lower() not in lowered:
            return None
        try:
            out[dim.name] = coerce_value(dim, lowered[dim.name.lower()])
        except ValueError:
            return None
    return out


def _mentions(raw: dict[str, Any], space: Space) -> bool:
    keys = {str(k).strip().lower() for k in raw}
    return any(d.name.lower() in keys for d in space.dims)


def _line_configs(text: str, space: Space) -> list[dict[str, Any]]:
    """`name = value` / `name: value` pairs, one configuration per line that has them."""
    found = []
    for line in text.splitlines():
        raw: dict[str, Any] = {}
        for dim in space.dims:
            m = re.search(rf"(?<![\w.]){re.escape(dim.name)}\s*[:=]\s*['\"]?([\w.+-]+)", line, re.I)
            if m:
                raw[dim.name] = m.group(1)
        if raw:
            found.append(raw)
    return found


def parse_configs(text: str, space: Space) -> tuple[list[dict[str, Any]], int]:
    """The configurations in `text` coerced onto `space`, and how many were malformed
    (an object naming some dimensions but not valid for all of them)."""
    good: list[dict[str, Any]] = []
    bad = 0
    raws = [d for v in json_values(text) for d in _dicts(v) if _mentions(d, space)]
    # a wrapper such as {"config": {...}, "score": 1} mentions no dimension itself, so
    # only the innermost objects naming dimensions are read
    if not raws:
        raws = _line_configs(text, space)
    for raw in raws:
        config = coerce_config(raw, space)
        if config is None:
            bad += 1
        else:
            good.append(config)
    return good, bad


def _score_of(item: Any) -> float | None:
    if isinstance(item, bool):
        return None
    if isinstance(item, (int, float)):
        return float(item) if math.isfinite(float(item)) else None
    if isinstance(item, str):
        m = re.search(_NUMBER, item)
        return float(m.group()) if m else None
    if isinstance(item, dict):
        lowered = {str(k).lower(): v for k, v in item.items()}
        for key in _SCORE_KEYS:
            if key in lowered:
                return _score_of(lowered[key])
    return None


def parse_scores(text: str, n: int) -> list[float] | None:
    """`n` predicted scores, in order, or None when the reply does not hold exactly `n`.

    Read from a JSON list (of numbers, or of objects with a score-like key), a JSON
    object holding such a list, or else one number per line (the last number of each
    line, so `1. 0.93` and `candidate 2 -> 0.91` both read as the score).
    """
    for value in json_values(text):
        lists = [value] if isinstance(value, list) else [v for v in value.values() if isinstance(v, list)]
        for items in lists:
            scores = [_score_of(i) for i in items]
            if len(scores) == n and all(s is not None for s in scores):
                return [float(s) for s in scores if s is not None]
    per_line = []
    for line in text.splitlines():
        numbers = re.findall(_NUMBER, line)
        if numbers:
            x = float(numbers[-1])
            if math.isfinite(x):
                per_line.append(x)
    return per_line if len(per_line) == n else None
