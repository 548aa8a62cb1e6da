"""In-context examples count (docs/sim.md, "In-context examples"): a right demonstration
whose shown reasoning applies a skill teaches it, at a lower rate than an explicit
instruction; demonstrations without the skill teach nothing."""

from __future__ import annotations

import random

from undertow.bench.sim import SimLLM
from undertow.bench.sim.answer import DEMO_SLIP, TAUGHT_SLIP, UNTAUGHT_LUCK
from undertow.bench.tasks.reasoning import boolean_expressions as be

SIM = SimLLM([be.PROFILE])
SKILL = be.PROFILE.skill("and_before_or")
FORMAT = be.PROFILE.skill("answer_format").fix


def _items(n: int, seed: int) -> list[str]:
    rng, out = random.Random(seed), []
    while len(out) < n:
        ex = be.generate(rng)
        if ex.meta["skills"] == ["and_before_or"]:
            out.append(ex.input)
    return out


DEMO_ITEMS = _items(3, 1)
TEST_ITEMS = _items(150, 2)


def _demos(with_skill: bool, chat: bool) -> list[dict]:
    msgs = []
    for item in DEMO_ITEMS:
        why = f"Rule used: {SKILL.fix}" if with_skill else "I read it carefully."
        shown = f"{why}\nAnswer: {be.PROFILE.solve(item)}"
        if chat:
            msgs += [{"role": "user", "content": item}, {"role": "assistant", "content": shown}]
        else:
            msgs.append({"role": "system", "content": f"Input: {item}\nOutput: {shown}"})
    return msgs


def _accuracy(prefix: list[dict], instruction: str = "") -> float:
    right = 0
    for item in TEST_ITEMS:
        msgs = [{"role": "system", "content": f"Evaluate the expression. {instruction} {FORMAT}"},
                *prefix, {"role": "user", "content": item}]
        got = be.PROFILE.parse_answer(SIM.complete(msgs).text)
        right += got is not None and be.PROFILE.same_answer(got, be.PROFILE.solve(item))
    return right / len(TEST_ITEMS)


def test_the_rates_are_ordered() -> None:
    assert TAUGHT_SLIP < DEMO_SLIP < 1 - UNTAUGHT_LUCK


def test_demonstrations_with_the_skill_teach_it_below_an_instruction() -> None:
    none = _accuracy([])
    for chat in (True, False):
        with_skill = _accuracy(_demos(True, chat))
        without = _accuracy(_demos(False, chat))
        assert with_skill > none + 0.25, (chat, none, with_skill)
        assert abs(without - none) < 0.12, (chat, none, without)
    taught = _accuracy([], SKILL.fix)
    for chat in (True, False):
        assert taught > _accuracy(_demos(True, chat)) + 0.15
