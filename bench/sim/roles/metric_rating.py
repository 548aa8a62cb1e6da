"""The sim rates an agent run on a list of metrics: positive, negative or not applicable.

Claims a request that shows an agent run (numbered steps) and a list of metrics or
criteria (`name: definition` lines, or JSON objects with a name and a definition) and
asks to rate, grade, judge or score the run on each. A metric is read through the
concepts its name, definition and examples name (see `_agent_reading.CONCEPTS`); the run
is checked for each concept with generic observations a reader can make of any run:
identical tool calls (repetition), a final answer that is a question (asking the user),
a refusal with no tool call (giving up), a number with or without a unit token after it,
the final answer's length, whether any tool was called. A metric naming no concept it
can check falls back to word overlap of its bad and good examples with the run, and is
`n/a` when neither side is close. Noise (seeded): a verdict is flipped 7% of the time.
Evidence: True when steps and at least one metric were read.
"""

from __future__ import annotations

import json
import random
import re

from undertow.bench.sim.profile import cue_in
from undertow.bench.sim.roles import RoleRequest
from undertow.bench.sim.roles._agent_reading import (
    _STEP,
    StepLine,
    concepts_in,
    content_words,
    json_keys,
    read_steps,
)

FLIP = 0.07
LONG_WORDS, SHORT_WORDS = 30, 15
_METRIC = re.compile(r"^[ \t]*(?:\d+[.)]|[-*])[ \t]*\**([A-Za-z][\w -]{0,40}?)\**[ \t]*(?::|—|--| - )[ \t]*(.+)$",
                     re.MULTILINE)
_EXAMPLE = re.compile(r"^[ \t]+(.{0,40}?)(?:e\.g\.|example\w*)?[ \t]*:[ \t]*(.+)$", re.MULTILINE | re.IGNORECASE)
_REFUSAL = re.compile(r"don't know|do not know|sorry|cannot|can't|could not|unable|no idea", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?:\s*([A-Za-z%€$]{1,12}))?")


def read_metrics(text: str) -> list[tuple[str, str, str, str]]:
    """(name, definition, good examples, bad examples) of each listed metric."""
    found: list[tuple[str, str, str, str]] = []
    for m in re.finditer(r"\{[^{}]*\}", text):
        try:
            obj = json.loads(m.group(0))
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("name"), str) and isinstance(obj.get("definition"), str):
            found.append((obj["name"], obj["definition"], " ".join(map(str, obj.get("positive_examples", []))),
                          " ".join(map(str, obj.get("negative_examples", [])))))
    if found:
        return found
    lines = text.splitlines(keepends=True)
    pos = 0
    for i, line in enumerate(lines):
        m = _METRIC.match(line.rstrip("\n"))
        pos += len(line)
        if not m or _STEP.match(line) or "step" in m.group(1).lower():
            continue
        good, bad = [], []
        for nxt in lines[i + 1:]:
            e = _EXAMPLE.match(nxt.rstrip("\n"))
            if not e or not nxt[:1].isspace():
                break
            label = e.group(1).lower()
            (bad if any(w in label for w in ("bad", "negative", "poor", "wrong")) else good).append(e.group(2))
        found.append((m.group(1).strip(), m.group(2).strip(), " ".join(good), " ".join(bad)))
    return found


def _observe(concept: str, steps: list[StepLine]) -> str | None:
    """What the run shows about `concept`: 'negative', 'positive' or None (cannot tell / n/a)."""
    calls = [s.text for s in steps if s.kind == "tool_call"]
    outs = [s.text for s in steps if s.kind == "output"] or [steps[-1].text]
    final = outs[-1]
    asks = final.rstrip().endswith("?")
    refuses = not calls and bool(_REFUSAL.search(final)) and not asks
    if concept == "repetition":
        return None if not calls else "negative" if len(set(calls)) < len(calls) else "positive"
    if concept == "asking_user":
        return "negative" if asks else "positive"
    if concept == "giving_up":
        return "negative" if refuses else "positive" if calls else None
    if concept == "tool_use":
        return "positive" if calls else "negative"
    if concept == "units":
        numbers = _NUMBER.findall(final)
        if not numbers:
            return None
        return "positive" if all(u and not u[0].isdigit() for _, u in numbers[:1]) else "negative"
    if concept == "length":
        n = len(final.split())
        return "negative" if n > LONG_WORDS else "positive" if n <= SHORT_WORDS else None
    if concept == "errors":
        failed = any(re.search(r"\berror\b|exception|traceback", s.text, re.I) for s in steps)
        return "negative" if failed else "positive"
    return None


def _fallback(good: str, bad: str, steps: list[StepLine]) -> str | None:
    run = set(content_words(" ".join(s.text for s in steps)))
    g = len(run & set(content_words(good))) / (1 + len(set(content_words(good))))
    b = len(run & set(content_words(bad))) / (1 + len(set(content_words(bad))))
    if max(g, b) < 0.3:
        return None
    return "positive" if g >= b else "negative"


def rate(name: str, definition: str, good: str, bad: str, steps: list[StepLine],
         flip: bool = False) -> tuple[str, str]:
    """The verdict and a reason for one metric on one run (`flip`: misread the run)."""
    concepts = concepts_in(f"{name.replace('_', ' ')}. {definition}") or concepts_in(f"{bad} {good}")
    for c in concepts:
        seen = _observe(c, steps)
        if seen is not None and flip:
            seen = "positive" if seen == "negative" else "negative"
        if seen is not None:
            return seen, f"on {c.replace('_', ' ')} the run does {'badly' if seen == 'negative' else 'well'}"
    seen = _fallback(good, bad, steps)
    if seen is not None and flip:
        seen = "positive" if seen == "negative" else "negative"
    if seen is None:
        return "n/a", "nothing in the run bears on this metric"
    return seen, f"the run resembles the {'good' if seen == 'positive' else 'bad'} examples"


class MetricRatingRole:
    name = "metric_rating"
    priority = 42

    def claims(self, request: RoleRequest) -> bool:
        asked = request.instructions
        if not any(cue_in(c, asked) for c in ("rate", "grade", "judge", "score", "evaluate", "assess", "verdict")):
            return False
        if not any(cue_in(c, asked) for c in ("metric", "metrics", "criteria", "criterion", "rubric")):
            return False
        return bool(read_steps(request.text)) and bool(read_metrics(request.text))

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        steps = read_steps(request.text)
        keys = json_keys(list(request.fmt.keys),
                         {"list": ("ratings", "judgement", "judgment", "scores", "verdicts", "results"),
                          "metric": ("metric", "name", "criterion"), "rating": ("rating", "verdict", "label", "grade"),
                          "reason": ("reason", "why", "explan", "rational")},
                         {"list": "ratings", "metric": "metric", "rating": "rating", "reason": "reason"})
        out = []
        for name, definition, good, bad in read_metrics(request.text):
            verdict, reason = rate(name, definition, good, bad, steps, flip=rng.random() < FLIP)
            out.append({keys["metric"]: name, keys["rating"]: verdict, keys["reason"]: reason})
        return json.dumps({keys["list"]: out}, indent=1), bool(steps and out)


ROLE = MetricRatingRole()
