"""The requests a QD search sends (generate, mutate, cross over, rate quality, rate an
axis, judge a triplet) and the parsers of their replies.

Texts travel inside tags (`<text>...</text>`); the instruction says what to do and how
to reply. Parsers accept the reply formats models use (bare text, JSON, tags, `Label:`
lines, code fences) and return None when nothing usable is there, so a bad reply costs
its call and is logged, never crashes the search.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .spec import Axis, QDProblem

Messages = list[dict[str, str]]
SYSTEM_WRITER = "You are a careful creative writer. Reply with the requested text only."
SYSTEM_JUDGE = "You are a strict, consistent judge of short texts."


def _msgs(system: str, user: str) -> Messages:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def generate(problem: QDProblem) -> Messages:
    """A fresh text from the brief (no archive feedback)."""
    return _msgs(SYSTEM_WRITER, f"{problem.brief}\n\nRules: {problem.rule}")


def mutate(problem: QDProblem, parent: str, target: str | None) -> Messages:
    """Rewrite `parent`; toward the cell described by `target` ("tone: cheerful; ...") if given,
    else into a variation that differs from it."""
    goal = (f"Rewrite the text below so that it fits this description: {target}."
            if target else "Rewrite the text below into a new variation that clearly differs from it.")
    return _msgs(SYSTEM_WRITER, f"{goal}\n{problem.brief}\n\nRules: {problem.rule}\n\n<text>\n{parent}\n</text>")


def improve(problem: QDProblem, parent: str, score: float) -> Messages:
    """Rewrite `parent` to score higher on the quality rule (the single-objective baseline)."""
    return _msgs(SYSTEM_WRITER, f"Improve the text below so that it follows the rules better "
                 f"(its quality score is {score * 10:.0f}/10).\n{problem.brief}\n\nRules: {problem.rule}"
                 f"\n\n<text>\n{parent}\n</text>")


def crossover(problem: QDProblem, first: str, second: str, target: str | None) -> Messages:
    """Combine two parents into one new text (toward `target` when given)."""
    goal = f" The new text should fit this description: {target}." if target else ""
    return _msgs(SYSTEM_WRITER, f"Combine the two texts below into one new text that mixes "
                 f"their features.{goal}\n{problem.brief}\n\nRules: {problem.rule}\n\n"
                 f"<text_1>\n{first}\n</text_1>\n\n<text_2>\n{second}\n</text_2>")


def rate_quality(problem: QDProblem, text: str) -> Messages:
    """A 0..10 quality score of `text` against the rule."""
    return _msgs(SYSTEM_JUDGE, f"Score the quality of the text below against this rule: "
                 f"{problem.rule}\nUse a scale from 0 (breaks every rule) to 10 (follows all of them). "
                 f'Reply in JSON with the key "score".\n\n<text>\n{text}\n</text>')


def rate_axis(axis: Axis, text: str) -> Messages:
    """Which bin of `axis` the text falls in."""
    options = " | ".join(axis.bins)
    return _msgs(SYSTEM_JUDGE, f"Classify the text below on one axis, {axis.name}: {axis.description}\n"
                 f"Options: {options}\nPick exactly one option. "
                 f'Reply in JSON with the key "label".\n\n<text>\n{text}\n</text>')


def triplet(anchor: str, b: str, c: str) -> Messages:
    """Which of B and C is more like A (QDHF's similarity judgement)."""
    return _msgs(SYSTEM_JUDGE, "Which of the texts B and C is more similar to text A, in content "
                 "and style? Reply in JSON with the key \"choice\" (B or C).\n\n"
                 f"<text_a>\n{anchor}\n</text_a>\n\n<text_b>\n{b}\n</text_b>\n\n<text_c>\n{c}\n</text_c>")


# -- parsing -----------------------------------------------------------------------------
_FENCE = re.compile(r"^```[\w-]*\s*\n(.*?)\n```\s*$", re.DOTALL)
_TAG = re.compile(r"^\s*<(\w+)[^>]*>\s*(.*?)\s*</\1\s*>\s*$", re.DOTALL)
_LABEL_LINE = re.compile(r"^\s*(?:story|text|poem|answer|reply|output|rewrite|result)\s*:\s*",
                         re.IGNORECASE)


def _json(reply: str) -> Any:
    s = reply.strip()
    m = _FENCE.match(s)
    s = m.group(1).strip() if m else s
    if not s.startswith("{"):
        return None
    try:
        return json.loads(s)
    except ValueError:
        return None


def parse_text(reply: str) -> str | None:
    """The written text: a JSON object's (only or longest) string value, a tag's body, a
    fence's body, or the bare reply; None when empty."""
    obj = _json(reply)
    if isinstance(obj, dict):
        strings = [v for v in obj.values() if isinstance(v, str)]
        text = max(strings, key=len) if strings else ""
    else:
        text = reply.strip()
        for pat in (_FENCE, _TAG):
            m = pat.match(text)
            if m:
                text = m.group(m.lastindex or 1).strip()
        text = _LABEL_LINE.sub("", text, count=1)
    text = text.strip()
    return text or None


_NUMBER = re.compile(r"(-?\d+(?:\.\d+)?)\s*(?:/\s*(\d+))?")


def parse_score(reply: str) -> float | None:
    """A 0..10 score (JSON "score"/"rating"/first number; "7/10" read as 7 of 10) as [0, 1]."""
    obj = _json(reply)
    raw: Any = None
    if isinstance(obj, dict):
        raw = next((obj[k] for k in obj if k.lower() in ("score", "rating", "quality", "grade")), None)
        if raw is None:
            raw = next((v for v in obj.values() if isinstance(v, (int, float))), None)
    text = str(raw) if raw is not None else reply
    m = _NUMBER.search(text)
    if m is None:
        return None
    value, scale = float(m.group(1)), float(m.group(2) or 10)
    if scale <= 0:
        return None
    return min(1.0, max(0.0, value / scale))


def parse_label(reply: str, bins: tuple[str, ...]) -> int | None:
    """The index of the bin the reply names (the longest bin label found wins, so
    "very gloomy" beats "gloomy"); None when no bin is named."""
    obj = _json(reply)
    if isinstance(obj, dict):
        strings = [str(v) for v in obj.values() if isinstance(v, (str, int, float))]
        text = " ".join(strings)
    else:
        text = reply
    low = text.lower()
    for exact in (True, False):
        for i in sorted(range(len(bins)), key=lambda j: -len(bins[j])):
            b = bins[i].lower()
            if (exact and low.strip().strip(".\"'") == b) or (
                    not exact and re.search(rf"(?<![\w-]){re.escape(b)}(?![\w-])", low)):
                return i
    return None


def parse_choice(reply: str) -> str | None:
    """"B" or "C" (JSON "choice", or the letter on its own), else None."""
    obj = _json(reply)
    text = " ".join(str(v) for v in obj.values()) if isinstance(obj, dict) else reply
    m = re.search(r"(?<![A-Za-z])([BC])(?![A-Za-z])", text.strip())
    if m is None:
        m = re.search(r"\btext[ _]?([bc])\b", text, re.IGNORECASE)
    return m.group(1).upper() if m else None
