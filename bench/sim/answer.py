"""The answering role: a task item in the messages gets an answer whose accuracy depends
on what the prompt around it teaches (rates below; rules in docs/sim.md)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from undertow.bench.sim.items import items_in, last_item, without_items
from undertow.bench.sim.profile import ANSWER_FORMAT, Skill, TaskProfile
from undertow.bench.sim.reader import read_fields
from undertow.bench.sim.request import Format, parse_format

#: A needed skill that the prompt teaches is still misapplied this often.
TAUGHT_SLIP = 0.05
#: A needed skill that the prompt does not teach is applied right anyway this often.
UNTAUGHT_LUCK = 0.15
#: A careless mistake on any item, whatever the prompt.
BASE_SLIP = 0.02
#: A needed skill shown applied in the reasoning of a right demonstration (and not
#: taught by an instruction) is misapplied this often: demonstrations teach, at a lower
#: rate than an explicit instruction (docs/sim.md, "In-context examples").
DEMO_SLIP = 0.4
#: Without a format instruction, the answer is buried in a sentence this often
#: (more often when the prompt asks for step-by-step reasoning).
CHATTY = 0.35
CHATTY_STEPS = 0.6

STEP_BY_STEP = Skill(
    name="step_by_step",
    description="reason step by step before answering",
    cues=("step by step", "step-by-step", "think ... before ... answer", "show your work",
          "reason ... carefully"),
    fix="Think step by step before giving the answer.",
)

_ANSWER_KEYS = {"answer", "final_answer", "result", "output", "prediction", "value"}
_REASON_KEYS = {"reasoning", "reason", "rationale", "thought", "thoughts", "thinking",
                "explanation", "analysis", "steps"}


@lru_cache(maxsize=4096)
def _taught(profile: TaskProfile, text: str) -> frozenset[str]:
    """The skills `text` teaches (its items left out), remembered."""
    bare = without_items(text, profile)
    return frozenset(s.name for s in profile.all_skills() if s.taught_by(bare))


@lru_cache(maxsize=16384)
def _needed(profile: TaskProfile, item: str) -> frozenset[str]:
    return profile.needed_skills(item)


def answer(messages: Sequence[tuple[str, str]], profiles: Sequence[TaskProfile],
           rng: random.Random, temperature: float, fmt: Format | None = None) -> str | None:
    """The reply to a task item in `messages`, or None when no message holds an item."""
    found = None
    for _, content in reversed(messages):
        found = last_item(content, profiles)
        if found:
            break
    if found is None:
        return None
    profile, item = found
    demos = demonstrations(messages, profile, item.text)
    pieces = [p for d in demos for p in d.pieces]
    parts = []
    for _, content in messages:
        for piece in pieces:  # a demonstration's reasoning is not an instruction
            if piece in content:
                content = content.replace(piece, " ")
        parts.append(without_items(content, profile))
    prompt = "\n".join(parts)
    taught = set(_taught(profile, prompt))
    shown = {n for d in demos if d.right for n in _taught(profile, d.text)} - taught
    steps = STEP_BY_STEP.taught_by(prompt)
    heat = 1.0 + max(0.0, min(temperature, 2.0))
    slip_scale = heat * (0.5 if steps else 1.0)

    missing = set()
    for name in sorted(_needed(profile, item.text)):
        draw = rng.random()
        if name in taught:
            lost = draw < TAUGHT_SLIP * slip_scale
        elif name in shown:
            lost = draw < DEMO_SLIP * heat
        else:
            lost = draw >= UNTAUGHT_LUCK
        if lost:
            missing.add(name)
    result = profile.answer_without(item.text, frozenset(missing))
    if rng.random() < BASE_SLIP * slip_scale:
        result = profile.slip(item.text, rng)

    fmt = fmt if fmt is not None and fmt.kind != "plain" else parse_format(prompt)
    reasoning = ""
    if steps:  # the reasoning names each needed skill the model applied
        applied = [profile.skill(n) for n in sorted(_needed(profile, item.text) - missing)]
        reasoning = " ".join([profile.explain(item.text, result)]
                             + [f"Rule used: {s.fix}" for s in applied])
    if fmt.kind == "json":
        keys = fmt.keys or ["answer"]
        obj = {k: result if k.lower() in _ANSWER_KEYS else
               (reasoning or "Evaluated directly.") if k.lower() in _REASON_KEYS else ""
               for k in keys}
        if not any(k.lower() in _ANSWER_KEYS for k in keys):
            obj["answer"] = result
        return json.dumps(obj)
    if fmt.kind == "tag":
        return f"{reasoning}\n<{fmt.tag}>{result}</{fmt.tag}>".strip()
    if fmt.kind == "fields":
        from undertow.bench.sim.render import render_fields

        return render_fields(fmt, {k: result if k.lower() in _ANSWER_KEYS or k.lower() not in
                                   _REASON_KEYS else (reasoning or "Evaluated directly.")
                                   for k in fmt.keys})
    if ANSWER_FORMAT.name in taught:
        return f"{reasoning}\nAnswer: {result}".strip()
    if rng.random() < (CHATTY_STEPS if steps else CHATTY):
        return f"{reasoning}\n{profile.verbose_template.format(answer=result)}".strip()
    return f"{reasoning}\n{result}".strip()


@dataclass(frozen=True)
class Demo:
    """A demonstration shown in the messages: its item, the text shown for it
    (reasoning and answer) and whether that answer is right."""

    item: str
    text: str
    right: bool
    #: The shown texts (each a substring of a message) that make up `text`.
    pieces: tuple[str, ...] = ()


def demonstrations(messages: Sequence[tuple[str, str]], profile: TaskProfile,
                   asked: str) -> list[Demo]:
    """Solved examples of `profile`'s task shown before the asked item: an assistant
    message answering an earlier user message's item (chat few-shot), or the fields
    that follow an input holding an item inside a message (`Input: ... Output: ...`)."""
    out: list[Demo] = []
    last_user_item: str | None = None
    for role, content in messages:
        if role == "assistant":
            if last_user_item and last_user_item != asked and content.strip():
                out.append(_demo(profile, last_user_item, [content]))
            last_user_item = None
            continue
        found = items_in(profile, content)
        last_user_item = found[-1].text if found else None
    inline = [(r, c) for r, c in messages if r != "assistant"]
    if not any(m.text != asked for _, c in inline for m in items_in(profile, c)):
        return out  # no other item shown inline: no inline demonstration
    fields = read_fields(inline)
    for msg in sorted({f.msg for f in fields}):
        seq = sorted((f for f in fields if f.msg == msg), key=lambda f: f.start)
        for k, f in enumerate(seq):
            if f.kind != "input":
                continue
            items = items_in(profile, f.value)
            if not items or items[-1].text == asked:
                continue
            shown, answers = [], []
            for g in seq[k + 1:]:
                if g.kind == "input":
                    break
                if g.value not in shown:
                    shown.append(g.value)
                    if g.kind not in _NOT_THE_ANSWER:
                        answers.append(g.value)
            if shown:
                out.append(_demo(profile, items[-1].text, shown, answers))
    return out


#: Fields said *about* a demonstration's answer (a verdict, the right answer): its answer
#: is read from the other fields, wherever these stand ("Feedback: Correct" after it).
_NOT_THE_ANSWER = ("feedback", "expected")


def _demo(profile: TaskProfile, item: str, pieces: list[str], answers: list[str] | None = None) -> Demo:
    text = "\n".join(pieces)
    answers = answers or pieces
    got = profile.parse_answer("\n".join(answers)) or profile.parse_answer(answers[-1])
    return Demo(item, text, got is not None and profile.same_answer(got, profile.solve(item)),
                tuple(pieces))
