"""Tolerant readers of the replies to AutoLibra's requests.

A reply that holds no JSON raises `ReplyError` (the caller counts it as skipped);
entries inside a readable reply that miss a field or hold a bad value are skipped and
counted in the returned `skipped`, never raised. Key names are read with synonyms
(`behaviour`/`behavior`/`description`, `polarity`/`sentiment`, ...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from undertow.engine.llm import StructuredOutputError, extract_json
from undertow.optimizers.metrics.schemas import Behaviour, Metric, Polarity, Rating


class ReplyError(ValueError):
    """A reply with nothing readable in it."""


def _entries(reply: str, keys: Sequence[str]) -> list[Any]:
    try:
        data = extract_json(reply)
    except StructuredOutputError as exc:
        raise ReplyError(f"no JSON in the reply ({exc})") from None
    if isinstance(data, dict):
        for k in keys:
            for key, value in data.items():
                if key.lower() == k and isinstance(value, list):
                    return value
        lists = [v for v in data.values() if isinstance(v, list)]
        if lists:
            return lists[0]
        return [data]
    if isinstance(data, list):
        return data
    raise ReplyError(f"the reply's JSON is a {type(data).__name__}, not a list of entries")


def _get(entry: dict[str, Any], *names: str) -> Any:
    lowered = {str(k).lower().replace("-", "_").replace(" ", "_"): v for k, v in entry.items()}
    for n in names:
        if n in lowered and lowered[n] is not None:
            return lowered[n]
    return None


_NEG = ("neg", "bad", "poor", "fail", "wrong", "-")
_POS = ("pos", "good", "well", "fine", "succe", "+")


def read_polarity(value: Any) -> Polarity | None:
    """`positive`/`negative` from the many ways a reply can say it, else None."""
    if isinstance(value, bool):
        return "positive" if value else "negative"
    if isinstance(value, (int, float)):
        return "positive" if value > 0 else "negative" if value < 0 else None
    if not isinstance(value, str):
        return None
    v = value.strip().lower()
    if not v:
        return None
    if any(v.startswith(p) for p in _NEG):
        return "negative"
    if any(v.startswith(p) for p in _POS):
        return "positive"
    return None


def read_rating(value: Any) -> Rating | None:
    """`positive`/`negative`/`n/a` from a reply's value, else None."""
    if isinstance(value, str):
        v = value.strip().lower()
        if v.replace(" ", "") in ("n/a", "na", "notapplicable", "none", "null", "irrelevant",
                                  "not_applicable", "0", "neutral"):
            return "n/a"
        if v.startswith("not appl") or v.startswith("does not apply"):
            return "n/a"
    if value is None:
        return None
    return read_polarity(value)


def _step(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str):
        m = re.search(r"\d+", value)
        return int(m.group(0)) if m else None
    if isinstance(value, list) and value:
        return _step(value[0])
    return None


def parse_grounding(reply: str, trajectory: str) -> tuple[list[Behaviour], int]:
    """Behaviours from a grounding reply, and how many entries were skipped."""
    found, skipped = [], 0
    for e in _entries(reply, ("behaviours", "behaviors", "items", "remarks")):
        if not isinstance(e, dict):
            skipped += 1
            continue
        text = _get(e, "behaviour", "behavior", "description", "text", "summary")
        polarity = read_polarity(_get(e, "polarity", "sentiment", "valence", "verdict", "judgement"))
        if not isinstance(text, str) or not text.strip() or polarity is None:
            skipped += 1
            continue
        sentence = _get(e, "sentence", "feedback", "feedback_sentence", "quote", "remark")
        found.append(Behaviour(trajectory=trajectory, step=_step(_get(e, "step", "step_index", "index")),
                               polarity=polarity, text=text.strip(),
                               feedback_sentence=sentence.strip() if isinstance(sentence, str) else ""))
    return found, skipped


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [str(v).strip() for v in value if isinstance(v, (str, int, float)) and str(v).strip()]
    return []


def snake(name: str) -> str:
    """A metric name as snake_case ASCII (empty if nothing is left)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60]


def parse_clusters(reply: str) -> tuple[list[tuple[Metric, list[str]]], int]:
    """Metrics (with the behaviour ids of each group) from a clustering reply, and skips."""
    found: list[tuple[Metric, list[str]]] = []
    names: set[str] = set()
    skipped = 0
    for e in _entries(reply, ("metrics", "clusters", "groups")):
        if not isinstance(e, dict):
            skipped += 1
            continue
        raw_name = _get(e, "name", "metric", "title")
        definition = _get(e, "definition", "description", "explanation")
        name = snake(raw_name) if isinstance(raw_name, str) else ""
        if not name or not isinstance(definition, str) or not definition.strip():
            skipped += 1
            continue
        base, k = name, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.add(name)
        metric = Metric(name=name, definition=definition.strip(),
                        positive_examples=_strings(_get(e, "positive_examples", "positive", "good_examples",
                                                        "positives", "good")),
                        negative_examples=_strings(_get(e, "negative_examples", "negative", "bad_examples",
                                                        "negatives", "bad")))
        ids = [i.upper() for i in _strings(_get(e, "behaviours", "behaviors", "members", "ids", "items"))]
        found.append((metric, ids))
    return found, skipped


def parse_ratings(reply: str, metrics: Sequence[str]) -> tuple[dict[str, tuple[Rating, str]], int]:
    """metric name -> (rating, reason) from a rating reply, and skips. Names are matched
    case- and punctuation-insensitively; an entry naming no known metric is skipped."""
    known = {snake(m): m for m in metrics}
    found: dict[str, tuple[Rating, str]] = {}
    skipped = 0
    entries = _entries(reply, ("ratings", "judgements", "judgments", "metrics", "scores"))
    for position, e in enumerate(entries):
        if not isinstance(e, dict):
            skipped += 1
            continue
        name = _get(e, "metric", "name", "metric_name")
        rating = read_rating(_get(e, "rating", "verdict", "judgement", "judgment", "label", "score"))
        if isinstance(name, str) and snake(name) in known:
            key = known[snake(name)]
        elif name is None and position < len(metrics):
            key = metrics[position]
        else:
            skipped += 1
            continue
        if rating is None:
            skipped += 1
            continue
        reason = _get(e, "reason", "why", "explanation", "rationale")
        found[key] = (rating, reason.strip() if isinstance(reason, str) else "")
    return found, skipped
