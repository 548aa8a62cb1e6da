"""The simulated LLM reads retrieved experiences in any layout (llm=sim).

ExpRAG shows past items as `Input:` / `Output:` / `Feedback:` blocks under a header. The
sim must read them as demonstrations whatever the wording: labels renamed (the
synonyms docs/sim.md names), header reworded or absent, the block in the system
message or in the user message before the item, a failure's feedback before or after.
Right demonstrations that show the skill teach it; wrong ones (a failure with its
feedback) teach nothing.
"""

from __future__ import annotations

import random

from hypothesis import Phase, given, settings
from hypothesis import strategies as s
from undertow.bench.sim import SimLLM
from undertow.bench.tasks.reasoning import boolean_expressions as be

SIM = SimLLM([be.PROFILE])
SKILL = be.PROFILE.skill("and_before_or")


def _items(n: int, seed: int) -> list[str]:
    rng, out = random.Random(seed), []
    while len(out) < n:
        ex = be.generate(rng)
        if ex.meta["skills"] == ["and_before_or"]:
            out.append(ex.input)
    return out


DEMOS, TESTS = _items(3, 11), _items(40, 12)
HEADERS = ["Past experiences with similar items (with the feedback each got):", "Earlier attempts:",
           "## Memory", "Relevant experience from before", ""]


def _block(item: str, right: bool, labels: tuple[str, str, str], feedback_first: bool) -> str:
    inp, out, fb = labels
    answer = be.PROFILE.solve(item) if right else str(not eval(be.PROFILE.solve(item)))  # noqa: S307 - True/False
    verdict = "Correct" if right else f"Wrong: expected {be.PROFILE.solve(item)}"
    shown = f"Let me work through it step by step.\nRule used: {SKILL.fix}\nAnswer: {answer}"
    lines = [f"{inp}: {item}", f"{fb}: {verdict}", f"{out}: {shown}"] if feedback_first else \
        [f"{inp}: {item}", f"{out}: {shown}", f"{fb}: {verdict}"]
    return "\n".join(lines)


def _accuracy(memory: str, in_system: bool) -> float:
    right = 0
    for item in TESTS:
        base = "Answer the question. Think step by step, then end with a last line \"Answer: X\"."
        msgs = [{"role": "system", "content": f"{base}\n\n{memory}" if in_system and memory else base},
                {"role": "user", "content": item if in_system or not memory else f"{memory}\n\n{item}"}]
        got = be.PROFILE.parse_answer(SIM.complete(msgs).text)
        right += got is not None and be.PROFILE.same_answer(got, be.PROFILE.solve(item))
    return right / len(TESTS)


NONE = _accuracy("", True)


@settings(max_examples=6, phases=[Phase.explicit, Phase.generate])
@given(header=s.sampled_from(HEADERS),
       labels=s.tuples(s.sampled_from(["Input", "Question"]), s.sampled_from(["Output", "Answer"]),
                       s.sampled_from(["Feedback", "Result", "Evaluation", "Comment"])),
       feedback_first=s.booleans(), in_system=s.booleans())
def test_right_experiences_teach_in_any_layout_and_wrong_ones_do_not(header, labels, feedback_first, in_system):
    good = "\n\n".join(x for x in (header, *(_block(i, True, labels, feedback_first) for i in DEMOS)) if x)
    bad = "\n\n".join(x for x in (header, *(_block(i, False, labels, feedback_first) for i in DEMOS)) if x)
    taught, wrong = _accuracy(good, in_system), _accuracy(bad, in_system)
    assert taught > NONE + 0.25, (NONE, taught)
    assert wrong < taught - 0.2, (NONE, taught, wrong)
