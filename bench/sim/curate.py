"""The curator role: extract insights from failures versus successes, refine their conditions.

A curator request (docs/sim.md, "Curator role") shows a task's examples and the
library's insights as `<insight id="...">` blocks, and asks for a JSON reply with an
"operations" key. Two modes:

- *extract*: plain `<example>` blocks (failures and successes). The sim diagnoses the
  missing skill from the failures exactly as the optimizer role does, then writes
  typed operations: UPVOTE for a shown insight that already teaches the skill, ADD
  (taxonomy, condition, explanation, example from the skill's profile data) otherwise.
- *refine*: examples marked `outcome="helped"`, `"hurt"` or `"missed"`. The first
  insight shown gets one REFINE_CONDITION whose condition names the skills the helped
  and missed items need (the item features where the insight is useful) and excludes
  those only the hurt items need.

Like the other roles it reads only the request: items are found by the profiles, and
an insight's meaning is which skills its text teaches (by cues).
"""

from __future__ import annotations

import html
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from undertow.bench.sim import diagnose as dg
from undertow.bench.sim.items import last_item, profiles_in_play
from undertow.bench.sim.profile import ANSWER_FORMAT, Skill, TaskProfile
from undertow.bench.sim.request import Block, Format, Variable, parse_blocks

_INSIGHT = re.compile(r"<insight\b([^>]*)>(.*?)</insight\s*>", re.IGNORECASE | re.DOTALL)
_ID = re.compile(r"""\bid\s*=\s*["']([^"']+)["']""")
_OUTCOME_EXAMPLE = re.compile(r"<example\b[^>]*\boutcome\s*=\s*[\"'](helped|hurt|missed)[\"'][^>]*>(.*?)"
                              r"</example\s*>", re.IGNORECASE | re.DOTALL)
#: The words a refined condition uses to list the skills it covers (matched by retrieval too).
MAX_SKILLS_IN_CONDITION = 3


@dataclass(frozen=True)
class ShownInsight:
    """An insight shown in a curator request: its id and its text."""

    id: str
    text: str


def parse_insights(text: str) -> list[ShownInsight]:
    """The `<insight id="...">text</insight>` blocks of a request, in order (id required)."""
    out = []
    for m in _INSIGHT.finditer(text):
        found = _ID.search(m.group(1))
        if found:
            out.append(ShownInsight(found.group(1).strip(), html.unescape(m.group(2).strip())))
    return out


def strip_insights(text: str) -> str:
    """`text` without its insight blocks (their example items are not evidence)."""
    return _INSIGHT.sub(" ", text)


#: What each operation the sim writes means: words that name it, and its fields' meanings.
OP_MEANINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "add": (("ADD", "NEW", "CREATE", "INSERT"), ("explanation", "condition", "taxonomy", "example")),
    "upvote": (("UPVOTE", "SUPPORT", "CONFIRM", "ENDORSE", "VOTE_UP"), ("id",)),
    "refine": (("REFINE", "NARROW", "CONDITION"), ("id", "condition")),
}
_FIELD_WORDS = {"explanation": ("explanation", "text", "insight", "content", "rule", "lesson"),
                "condition": ("condition", "when", "applies", "applicability", "scope"),
                "taxonomy": ("taxonomy", "tags", "category", "categories", "labels"),
                "example": ("example", "demo", "illustration"),
                "id": ("id", "insight_id", "target")}
_OP_DEF = re.compile(r"\b([A-Z][A-Z_]{2,})\b(?:\s*\(with\s+([^)]*)\))?")


@dataclass(frozen=True)
class OpSpec:
    """How the request names one operation and its fields (read off the request)."""

    name: str
    fields: dict[str, str]


def op_vocabulary(instructions: str) -> dict[str, OpSpec]:
    """The operation names and field names a curator request defines (`ADD (with
    "explanation", ...)`), by meaning; a meaning the request does not define keeps its
    plain name (`ADD`, `UPVOTE`, `REFINE_CONDITION`) and field names."""
    found: dict[str, tuple[str, list[str]]] = {}
    for m in _OP_DEF.finditer(instructions):
        name, listed = m.group(1), re.findall(r"[\"'`](\w+)[\"'`]", m.group(2) or "")
        for meaning, (words, _) in OP_MEANINGS.items():
            if meaning not in found and any(w in name for w in words):
                if meaning == "upvote" and "DOWN" in name:
                    continue
                found[meaning] = (name, listed)
    plain = {"add": "ADD", "upvote": "UPVOTE", "refine": "REFINE_CONDITION"}
    out = {}
    for meaning, (_, wanted) in OP_MEANINGS.items():
        name, listed = found.get(meaning, (plain[meaning], []))
        fields = {}
        for f in wanted:
            match = next((k for k in listed if any(w == k.lower() or w in k.lower().split("_")
                                                   for w in _FIELD_WORDS[f])), None)
            fields[f] = match or f
        out[meaning] = OpSpec(name, fields)
    return out


def _op(spec: OpSpec, **values: object) -> dict[str, object]:
    return {"op": spec.name, **{spec.fields[k]: v for k, v in values.items()}}


def is_curate_request(instructions: str, fmt: Format) -> bool:
    """A curator request asks for JSON with an "operations" key and talks about insights."""
    return (fmt.kind == "json" and any(k.lower() == "operations" for k in fmt.keys)
            and re.search(r"\binsights?\b", instructions, re.IGNORECASE) is not None)


def curate(text: str, variables: Sequence[Variable], fmt: Format, profiles: Sequence[TaskProfile],
           rng: random.Random) -> dict[str, object]:
    """The reply object (before JSON encoding) of the curator role; keys follow `fmt`."""
    insights = parse_insights(text)
    body = strip_insights(text)
    refine = [(m.group(1).lower(), m.group(2)) for m in _OUTCOME_EXAMPLE.finditer(body)]
    playing = profiles_in_play(body, profiles)
    vocab = op_vocabulary(strip_insights(text))
    if refine:
        why, ops, new_value = _refine(refine, insights, playing, vocab)
    else:
        why, ops, new_value = _extract(body, variables, insights, playing, rng, vocab)
    target = dg.choose_target(variables)
    obj: dict[str, object] = {}
    for k in fmt.keys:
        low = k.lower()
        if low == "operations":
            obj[k] = ops
        elif low in ("reasoning", "reason", "rationale", "analysis", "thoughts"):
            obj[k] = why
        elif low in ("suggestion", "suggestions", "update", "updates") and target is not None:
            obj[k] = {target.name: new_value if new_value is not None else target.value}
        else:
            obj[k] = ""
    return obj


# -- extract: failures versus successes -> ADD / UPVOTE --------------------------------------
def _extract(body: str, variables: Sequence[Variable], insights: list[ShownInsight],
             profiles: Sequence[TaskProfile], rng: random.Random, vocab: dict[str, OpSpec]
             ) -> tuple[str, list[dict[str, object]], str | None]:
    target = dg.choose_target(variables)
    prompt = target.value if target else ""
    for ins in insights:                       # the prompt without the insights' own words
        prompt = prompt.replace(ins.text, " ")
    prompt = dg.strip_for_prompt(prompt, profiles)
    blocks = parse_blocks(body)
    evidence, notes = dg.gather_evidence(blocks, profiles)
    by_name = {p.name: p for p in profiles}
    ranked = sorted(((w, rng.random(), pn, sn) for (pn, sn), w in evidence.items()
                     if w > 0 and pn in by_name and not by_name[pn].skill(sn).taught_by(prompt)),
                    reverse=True)
    untaught = [(p, s) for p in profiles for s in p.all_skills() if not s.taught_by(prompt)]
    if ranked:
        if rng.random() < dg.MISDIAGNOSE and untaught:
            chosen = [rng.choice(untaught)]
        else:
            chosen = [(by_name[pn], by_name[pn].skill(sn)) for w, _, pn, sn in ranked
                      if w >= ranked[0][0] / 2][: dg.MAX_FIXES]
        lead = "The failures show: " + "; ".join(notes[:3]) + "." if notes else \
            "The feedback points at a specific mistake."
    elif untaught and rng.random() >= dg.USELESS_GUESS:
        chosen, lead = [rng.choice(untaught)], "No failure shown points at a mistake; this is a guess."
    else:
        return ("No failure shown points at a specific mistake, so no insight can be drawn.", [],
                None)
    ops: list[dict[str, object]] = []
    added: list[str] = []
    why = [lead]
    for profile, skill in chosen:
        teacher = next((i for i in insights if skill.taught_by(i.text)), None)
        if teacher is not None:
            ops.append(_op(vocab["upvote"], id=teacher.id))
            why.append(f"Insight {teacher.id} already says that {skill.description}; it still "
                       "applies.")
            continue
        ops.append(_op(vocab["add"], explanation=skill.fix,
                       condition=condition_for(profile, [skill]),
                       taxonomy=[profile.name, skill.name],
                       example=_example_for(blocks, profile, skill)))
        added.append(skill.fix)
        why.append(f"The model {skill.error or 'lacks this'}, and no insight says that "
                   f"{skill.description}.")
    new_value = None
    if target is not None and added:
        new_value = f"{target.value.rstrip()}\n{' '.join(added)}".strip()
    return " ".join(why), ops, new_value


def condition_for(profile: TaskProfile, skills: Sequence[Skill], excluded: Sequence[Skill] = ()) -> str:
    """An applicability condition naming the skills an item must need (and those it must not)."""
    need = "; ".join(s.description for s in skills)
    text = f"{profile.name} items whose answer depends on this: {need}"
    if excluded:
        text += ". Not for items whose only difficulty is: " + "; ".join(s.description for s in excluded)
    return text


def _example_for(blocks: Sequence[Block], profile: TaskProfile, skill: Skill) -> str:
    """A failing item that needs `skill`, with its right answer ('' if none is shown)."""
    for b in blocks:
        found = last_item(b.fields.get("input") or b.raw, [profile])
        if found and b.fields.get("output"):
            item = found[1].text
            got = profile.parse_answer(b.fields["output"])
            right = profile.solve(item)
            if got is not None and not profile.same_answer(got, right) and (
                    skill.name == ANSWER_FORMAT.name or skill.name in profile.needed_skills(item)):
                return f"{item} -> {right}"
    return ""


# -- refine: helped / hurt / missed -> REFINE_CONDITION ----------------------------------------
def _refine(examples: list[tuple[str, str]], insights: list[ShownInsight],
            profiles: Sequence[TaskProfile], vocab: dict[str, OpSpec]
            ) -> tuple[str, list[dict[str, object]], None]:
    if not insights:
        return "No insight is shown, so there is no condition to refine.", [], None
    target = insights[0]
    pos: Counter[tuple[str, str]] = Counter()
    neg: Counter[tuple[str, str]] = Counter()
    n_pos = 0
    by_name: dict[str, TaskProfile] = {}
    for outcome, raw in examples:
        block = parse_blocks(f"<example>{raw}</example>")[0]
        found = last_item(block.fields.get("input") or raw, profiles)
        if not found:
            continue
        profile, item = found
        by_name[profile.name] = profile
        feats = {(profile.name, s) for s in profile.needed_skills(item.text)}
        if outcome == "hurt":
            neg.update(feats)
        else:
            n_pos += 1
            pos.update(feats)
    if not by_name:
        return "No example shown is a task item I can read, so the condition stays.", [], None
    kept = [k for k, n in pos.most_common() if n * 2 >= n_pos][:MAX_SKILLS_IN_CONDITION]
    if not kept:                       # nothing helped: fall back to what the insight teaches
        kept = [(p.name, s.name) for p in by_name.values() for s in p.all_skills()
                if s.taught_by(target.text)][:MAX_SKILLS_IN_CONDITION]
    excluded = [k for k in neg if k not in pos][:MAX_SKILLS_IN_CONDITION]
    if not kept:
        return "The items shown share no skill this insight teaches; the condition stays.", [], None
    profile = by_name[kept[0][0]]
    skills = [profile.skill(s) for p, s in kept if p == profile.name]
    out = [profile.skill(s) for p, s in excluded if p == profile.name]
    cond = condition_for(profile, skills, out)
    why = (f"Where {target.id} helped or was missed, the items need: "
           + "; ".join(s.description for s in skills) + "."
           + (" Where it hurt, they needed only: " + "; ".join(s.description for s in out) + "."
              if out else ""))
    return why, [_op(vocab["refine"], id=target.id, condition=cond)], None
