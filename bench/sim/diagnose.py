"""The optimizer and critic roles: diagnose from what a request shows, then propose or criticize.

Evidence comes only from the request: a shown item whose shown output matches the
characteristic error of a skill points at that skill; feedback text that names a
skill's keywords points at it too. With no evidence the simulator guesses (rates
below; rules in docs/sim.md).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from undertow.bench.sim.items import last_item, profiles_in_play, without_items
from undertow.bench.sim.profile import ANSWER_FORMAT, Skill, TaskProfile
from undertow.bench.sim.request import Block, Variable

#: With evidence, the simulator still picks a random skill this often (a misreading).
MISDIAGNOSE = 0.1
#: With no evidence, this share of guesses is a generic edit that teaches nothing.
USELESS_GUESS = 0.5
#: Evidence weight of each skill an input/expected demonstration needs (a shown
#: failure gives 1 point, shared among the skills that explain it).
DEMO_WEIGHT = 0.25
#: At most this many skills are fixed by one proposal.
MAX_FIXES = 2
GENERIC_EDITS = ("Read the question carefully before answering.",
                 "Be precise and double-check your work.",
                 "Take care to avoid mistakes.",
                 "Answer as accurately as you can.")


@dataclass
class Diagnosis:
    """What the simulator concluded: the skills to teach (with their profile), or a guess."""

    fixes: list[tuple[TaskProfile, Skill]] = field(default_factory=list)
    generic: str = ""
    guessed: bool = True
    notes: list[str] = field(default_factory=list)
    #: What the evidence points at, before any random misreading.
    intended: list[tuple[TaskProfile, Skill]] = field(default_factory=list)


def _expected(profile: TaskProfile, item: str, block: Block) -> str:
    shown = block.fields.get("expected")
    if shown:
        return profile.parse_answer(shown) or shown.strip()
    return profile.solve(item)


def gather_evidence(blocks: Sequence[Block], profiles: Sequence[TaskProfile]
                    ) -> tuple[dict[tuple[str, str], float], list[str]]:
    """Evidence per (profile name, skill name), and notes saying what was seen."""
    evidence: dict[tuple[str, str], float] = defaultdict(float)
    notes: list[str] = []
    for block in blocks:
        found = last_item(block.fields.get("input") or block.raw, profiles)
        targets = [found[0]] if found else list(profiles)
        output = block.fields.get("output")
        if found and not output and block.fields.get("expected"):
            # a demonstration (item and expected answer, no model output): the skills
            # its answer needs are visible, at a lower weight than a shown failure
            profile, item = found
            for s in sorted(profile.needed_skills(item.text)):
                evidence[profile.name, s] += DEMO_WEIGHT
            if profile.needed_skills(item.text):
                notes.append(f"{item.text!r} -> {_expected(profile, item.text, block)} needs "
                             + ", ".join(profile.skill(s).description
                                         for s in sorted(profile.needed_skills(item.text))))
        if found and output:
            profile, item = found
            expected = _expected(profile, item.text, block)
            got = profile.parse_answer(output)
            if got is None:
                evidence[profile.name, ANSWER_FORMAT.name] += 1.0
                notes.append(f"for {item.text!r} no final answer can be read off the output")
            elif not profile.same_answer(got, expected):
                cands = [s for s in sorted(profile.needed_skills(item.text))
                         if profile.same_answer(profile.answer_without(item.text, frozenset({s})),
                                                got)]
                for s in cands:
                    evidence[profile.name, s] += 1.0 / len(cands)
                notes.append(f"for {item.text!r} the output says {got} where {expected} is right")
        # Labelled feedback counts keywords and cues; unlabelled text (which holds the
        # request's own instructions too) counts only the diagnostic keywords.
        labelled = block.fields.get("feedback")
        feedback = labelled or ("" if block.fields else block.raw)
        for profile in targets:
            text = without_items(feedback, profile)
            for s in profile.all_skills():
                if s.named_in(text, cues=bool(labelled)):
                    evidence[profile.name, s.name] += 1.0
    return evidence, notes


def diagnose(text: str, blocks: Sequence[Block], prompt: str,
             profiles: Sequence[TaskProfile], rng: random.Random | None) -> Diagnosis:
    """Choose the skills to teach from the evidence in a request, or guess.

    `intended` is what the evidence points at (deterministic: ties broken by name);
    with `rng` None nothing random is drawn (`fixes` = `intended`, no guess made).
    """
    playing = profiles_in_play(text, profiles)
    by_name = {p.name: p for p in playing}
    evidence, notes = gather_evidence(blocks, playing)
    untaught = [(p, s) for p in playing for s in p.all_skills() if not s.taught_by(prompt)]
    ranked = sorted(((w, pn, sn) for (pn, sn), w in evidence.items()
                     if w > 0 and pn in by_name and not by_name[pn].skill(sn).taught_by(prompt)),
                    key=lambda t: (-t[0], t[1], t[2]))
    diag = Diagnosis(notes=notes)
    if ranked:
        diag.guessed = False
        top = ranked[0][0]
        diag.intended = [(by_name[pn], by_name[pn].skill(sn))
                         for w, pn, sn in ranked if w >= top / 2][:MAX_FIXES]
        if rng is not None and rng.random() < MISDIAGNOSE and untaught:
            diag.fixes = [rng.choice(untaught)]
        else:
            diag.fixes = list(diag.intended)
        return diag
    if rng is None:
        return diag
    if untaught and rng.random() >= USELESS_GUESS:
        diag.fixes = [rng.choice(untaught)]
    else:
        fresh = [g for g in GENERIC_EDITS if g not in prompt] or list(GENERIC_EDITS)
        diag.generic = rng.choice(fresh)
    return diag


def revise(current: str, diag: Diagnosis) -> str:
    """`current` with the diagnosis's fix sentences appended (nothing is removed)."""
    added = " ".join(s.fix for _, s in diag.fixes) or diag.generic
    return f"{current.rstrip()}\n{added}" if current.strip() else added


def reasoning(diag: Diagnosis) -> str:
    """The reasoning an optimizer reply shows."""
    if diag.guessed:
        lead = ("No failing example or feedback shown points at a specific mistake, "
                "so this is a guess.")
    else:
        lead = "The examples show: " + "; ".join(diag.notes[:3]) + "." if diag.notes else \
            "The feedback points at a specific mistake."
    if diag.fixes:
        why = " ".join(f"The model {s.error or 'lacks this'}, and the prompt never says that "
                       f"{s.description}." for _, s in diag.fixes)
        return f"{lead} {why} I add an instruction for it."
    return f"{lead} I add a general reminder."


def critique(diag: Diagnosis) -> str:
    """A TextGrad-style critique of a variable: names the missing skill when it can tell."""
    if diag.fixes and not diag.guessed:
        return " ".join(
            f"The output is wrong because the model {s.error or 'makes a systematic mistake'}. "
            f"The prompt never states that {s.description}. It should add an instruction "
            f"such as: {s.fix}" for _, s in diag.fixes)
    if diag.fixes:
        _, s = diag.fixes[0]
        return f"It is unclear what went wrong. Perhaps the prompt should also say: {s.fix}"
    return ("The response may be wrong, but nothing shown says why. The prompt could ask for "
            "more care and a double check of the result.")


def choose_target(variables: Sequence[Variable]) -> Variable | None:
    """The text variable to edit: one named like a prompt or instruction, else the first."""
    texts = [v for v in variables if v.kind == "text"]
    for v in texts:
        if any(w in v.name.lower() for w in ("prompt", "system", "instruction")):
            return v
    return texts[0] if texts else None


def strip_for_prompt(value: str, profiles: Sequence[TaskProfile]) -> str:
    """A variable's value without task items, for checking which skills it teaches."""
    for p in profiles:
        value = without_items(value, p)
    return value
