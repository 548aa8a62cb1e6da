"""The judge role: which of the shown outputs is better, or how good one output is.

Two request shapes are read:

- **sides**: two or more blocks, one per candidate (`<response name="A">`, `<candidate
  id="2">`, ...), each holding the candidate's outputs for the shown inputs (as
  records: `<example><input>...</input><output>...</output></example>`, label lines,
  JSON). Each side scores one point per output whose final answer (read with the
  task's profile) is right; the side with more points wins (from evidence); a tie is
  a guess;
- **labelled candidates**: one item and fields labelled `Response A` / `Output 1` /
  `Candidate B` ...: a right answer beats a wrong one.

A request for a *score* of one output gets 9 for a right answer, 2 for a wrong one, 5
when it cannot be checked. `JUDGE_NOISE` of the verdicts made from evidence are
flipped (a misreading); the candidates' order never matters (no position bias).
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

#: Share of evidence-based verdicts that pick another candidate (a misreading).
JUDGE_NOISE = 0.05
_COMPARE = ("which ... better", "which ... best", "which ... prefer", "which response",
            "which output", "which answer", "compare", "pairwise", "better of", "preferred")
_SCORE = ("score ... from", "rate ... from", "rate ... scale", "score ... scale",
          "score between", "give ... score", "rate the", "score the")
_CANDIDATE = re.compile(r"(?:response|output|answer|candidate|option|completion|prediction|"
                        r"solution|assistant)\s*([a-z]|\d+)$|^([a-z]|\d+)$", re.IGNORECASE)
_SIDE = re.compile(r"<(\w+)\s+(?:name|id|label)\s*=\s*[\"']?([\w\-]+)[\"']?\s*>(.*?)</\1\s*>",
                   re.IGNORECASE | re.DOTALL)
_REASON_KEYS = ("reasoning", "reason", "rationale", "explanation", "analysis")


def wants_judgement(asked: str, fields: Sequence[Field] | None = None, text: str = "") -> bool:
    """A request asking to compare shown candidates or to score a shown output.

    With `fields` None only the wording is checked (a cheap first look); otherwise the
    request must also show what is to be judged: two or more candidate blocks or
    labelled candidates for a comparison, an output for a score."""
    compare = any(cue_in(c, asked) for c in _COMPARE)
    score = any(cue_in(c, asked) for c in _SCORE)
    if fields is None or not (compare or score):
        return compare or score
    if compare and (len({m.group(2) for m in _SIDE.finditer(text)}) >= 2 or len(_labelled(fields)) >= 2):
        return True
    return score and any(f.kind == "output" and f.role != "system" for f in fields)


def _labelled(fields: Sequence[Field]) -> list[tuple[str, str]]:
    out = []
    for f in fields:
        m = _CANDIDATE.search(words(f.label))
        if m and f.kind in ("output", "other", "input") and f.role != "system":
            out.append(((m.group(1) or m.group(2) or "").upper(), f.value))
    return out


def _side_points(text: str, profiles: Sequence[TaskProfile]) -> dict[str, tuple[int, int]]:
    """(right, read) per side block, for requests that show one block per candidate."""
    from undertow.bench.sim.reader import read_blocks

    sides: dict[str, tuple[int, int]] = {}
    for m in _SIDE.finditer(text):
        blocks, _ = read_blocks([("user", m.group(3))], profiles)
        right = read = 0
        for b in blocks:
            found = last_item(b.fields.get("input", ""), profiles) if b.fields.get("input") else None
            out = b.fields.get("output")
            if not found or not out:
                continue
            profile, item = found
            got = profile.parse_answer(out)
            read += 1
            right += got is not None and profile.same_answer(got, profile.solve(item.text))
        if read:
            sides[m.group(2)] = (right, read)
    return sides if len(sides) >= 2 else {}


def judge(fields: Sequence[Field], fmt: Format, profiles: Sequence[TaskProfile],
          rng: random.Random | None, text: str = "") -> tuple[str, bool]:
    """The judge's reply and whether it was made from evidence (`rng` None: only the
    evidence flag is computed, nothing is drawn)."""
    sides = _side_points(text, profiles) if text else {}
    score = None
    if sides:
        labels = list(sides)
        best = max(r for r, _ in sides.values())
        good = sorted(k for k, (r, _) in sides.items() if r == best)
        evidence = len(good) < len(sides)
        why_ok = "right on " + ", ".join(f"{k}: {r}/{n}" for k, (r, n) in sides.items())
    else:
        item = None
        for f in fields:
            if f.kind == "input" and f.role != "system":
                item = last_item(f.value, profiles) or item
        cands = _labelled(fields)
        labels = [c for c, _ in cands] or ["A", "B"]
        verdicts: dict[str, bool] = {}
        if item is not None:
            profile, it = item
            right = profile.solve(it.text)
            for label, value in cands:
                got = profile.parse_answer(value)
                verdicts[label] = got is not None and profile.same_answer(got, right)
        good = sorted(c for c, ok in verdicts.items() if ok)
        if len(cands) >= 2:
            evidence = bool(verdicts) and 0 < len(good) < len(verdicts)
        else:
            evidence = bool(verdicts)
            ok = verdicts.get(labels[0]) if verdicts else None
            score = 9 if ok else 2 if ok is False else 5
        why_ok = "the final answers checked"
    if rng is None:
        return "", evidence
    if score is not None:
        value: object = score
        why = ("The final answer is right." if score == 9 else "The final answer is wrong."
               if score == 2 else "I cannot check the answer, so this is a guess.")
    else:
        if evidence and rng.random() >= JUDGE_NOISE:
            value = rng.choice(good)
            why = f"{value} is better: {why_ok}."
        else:
            value = rng.choice(sorted(labels))
            why = (f"Nothing shown separates them ({why_ok}), so this is a guess." if not evidence
                   else f"On balance {value} reads better.")
    if fmt.kind == "json":
        keys = fmt.keys or (["reasoning", "score"] if score is not None else ["reasoning", "better"])
        return json.dumps({k: why if k.lower() in _REASON_KEYS else value for k in keys}), evidence
    if fmt.kind == "fields":
        from undertow.bench.sim.render import render_fields

        return render_fields(fmt, {k: why if "reason" in k.lower() else str(value)
                                   for k in fmt.keys}), evidence
    if fmt.kind == "tag":
        return f"{why}\n<{fmt.tag}>{value}</{fmt.tag}>", evidence
    return f"{why}\nAnswer: {value}", evidence
