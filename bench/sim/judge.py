"""The judge role: which of the shown outputs is better, or how good one output is.

A judge request shows a task item and two or more candidate outputs (labelled A/B,
1/2, "response", "candidate", "option" ...) and asks which is better, or asks for a
score of one output. The sim reads each candidate's final answer with the task's
profile: a right answer beats a wrong one (from evidence); when all are right or all
wrong, or no item can be read, the choice is a guess. Scores: 9 for a right answer,
2 for a wrong one, 5 for a guess.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence

from undertow.bench.sim.items import last_item
from undertow.bench.sim.profile import TaskProfile, cue_in
from undertow.bench.sim.reader import Field, words
from undertow.bench.sim.request import Format

_COMPARE = ("which ... better", "which ... best", "which ... prefer", "which response",
            "which output", "which answer", "compare", "pairwise", "better of", "preferred")
_SCORE = ("score ... from", "rate ... from", "rate ... scale", "score ... scale",
          "score between", "give ... score", "rate the", "score the")
_CANDIDATE = re.compile(r"(?:response|output|answer|candidate|option|completion|prediction|"
                        r"solution|assistant)\s*([a-z]|\d+)$|^([a-z]|\d+)$", re.IGNORECASE)


def wants_judgement(asked: str, fields: Sequence[Field]) -> bool:
    """A request asking to compare outputs or to score one."""
    return any(cue_in(c, asked) for c in _COMPARE + _SCORE)


def _candidates(fields: Sequence[Field]) -> list[tuple[str, str]]:
    out = []
    for f in fields:
        m = _CANDIDATE.search(words(f.label).replace(" ", "") if len(f.label) <= 2
                              else words(f.label))
        if m and f.kind in ("output", "other", "input") and f.role != "system":
            out.append(((m.group(1) or m.group(2) or "").upper(), f.value))
    return out


def judge(fields: Sequence[Field], fmt: Format, profiles: Sequence[TaskProfile],
          rng: random.Random | None) -> tuple[str, bool]:
    """The judge's reply and whether it was made from evidence (`rng` None: no reply text
    needed, nothing drawn)."""
    item = None
    for f in fields:
        if f.kind == "input" and f.role != "system":
            item = last_item(f.value, profiles) or item
    if item is None:
        for f in fields:
            if f.role != "system":
                item = item or last_item(f.value, profiles)
    cands = _candidates(fields)
    verdicts: dict[str, bool] = {}
    if item is not None:
        profile, it = item
        right = profile.solve(it.text)
        for label, value in cands:
            got = profile.parse_answer(value)
            verdicts[label] = got is not None and profile.same_answer(got, right)
    good = [c for c, ok in verdicts.items() if ok]
    evidence = bool(verdicts) and 0 < len(good) < len(verdicts) or (
        len(verdicts) == 1 and item is not None)
    if rng is None:
        return "", evidence
    labels = [c for c, _ in cands] or ["A", "B"]
    if len(cands) >= 2:
        choice = good[0] if evidence and good else rng.choice(labels)
        why = (f"Only {choice} gives the right final answer." if evidence else
               "Both read alike; nothing shown separates them, so this is a guess.")
        score = None
    else:
        ok = verdicts.get(labels[0]) if verdicts else None
        score = 9 if ok else 2 if ok is False else 5
        choice = labels[0]
        why = ("The final answer is right." if ok else "The final answer is wrong."
               if ok is False else "I cannot check the answer, so this is a guess.")
    value: object = score if score is not None else choice
    if fmt.kind == "json":
        keys = fmt.keys or (["reasoning", "score"] if score is not None else ["reasoning", "better"])
        obj = {k: why if k.lower() in ("reasoning", "reason", "rationale", "explanation",
                                        "analysis") else value for k in keys}
        return json.dumps(obj), evidence
    if fmt.kind == "fields":
        from undertow.bench.sim.render import render_fields

        return render_fields(fmt, {k: why if "reason" in k.lower() else str(value)
                                   for k in fmt.keys}), evidence
    if fmt.kind == "tag":
        return f"{why}\n<{fmt.tag}>{value}</{fmt.tag}>", evidence
    return f"{why}\nAnswer: {value}", evidence
