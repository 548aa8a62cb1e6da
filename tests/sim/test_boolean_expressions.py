"""The boolean-expressions task: generator, exact solver, score, and its sim profile."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.bench.sim import check_profile
from undertow.bench.tasks.reasoning import boolean_expressions as be

atoms = st.sampled_from(["True", "False"])
exprs = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.builds(lambda e: f"not {e}", inner),
        st.builds(lambda e: f"( {e} )", inner),
        st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from(["and", "or"]), inner),
    ),
    max_leaves=8,
)


@given(exprs)
def test_solver_agrees_with_python(expr: str) -> None:
    # Python's own boolean precedence is the oracle: same grammar, independent code.
    assert be.solve(expr + " is") == str(eval(expr))


@given(st.text(max_size=60))
def test_solver_rejects_garbage_with_a_clear_error(text: str) -> None:
    try:
        answer = be.solve(text)
    except ValueError as exc:
        assert "boolean_expressions" in str(exc)
    else:
        assert answer in ("True", "False")


def test_solver_matches_real_bbh(shared_data) -> None:
    items = json.loads((shared_data / "bbh" / "boolean_expressions.json").read_text())["examples"]
    assert len(items) > 100
    assert all(be.solve(e["input"]) == e["target"] for e in items)


def test_generator_is_seeded_and_consistent() -> None:
    a = [be.generate(random.Random(7)) for _ in range(3)]
    b = [be.generate(random.Random(7)) for _ in range(3)]
    assert a == b
    rng = random.Random(0)
    examples = [be.generate(rng) for _ in range(300)]
    check_profile(be.PROFILE, examples)
    assert len({e.input for e in examples}) > 250
    # Every skill is needed by some items, and some items need none.
    needed = [set(e.meta["skills"]) for e in examples]
    assert set().union(*needed) == {s.name for s in be.PROFILE.skills}
    assert any(not n for n in needed)


@pytest.mark.parametrize(("item", "skill", "wrong"), [
    ("not True and False is", "not_scope", "True"),          # not (True and False)
    ("True or False and False is", "and_before_or", "False"),  # (True or False) and False
    ("False and ( False or True ) is", "parentheses", "True"),  # (False and False) or True
    ("( True ) and False is", "parentheses", None),            # parentheses change nothing
    ("not not True is", "double_negation", "False"),
])
def test_characteristic_errors(item: str, skill: str, wrong: str | None) -> None:
    answer = be.PROFILE.answer_without(item, frozenset({skill}))
    if wrong is None:
        assert skill not in be.PROFILE.needed_skills(item)
    else:
        assert answer == wrong != be.solve(item)
        assert skill in be.PROFILE.needed_skills(item)


@pytest.mark.parametrize(("prediction", "score"), [
    ("True", 1.0), (" true ", 1.0), ("Answer: True", 1.0), ("So the answer is **True**.", 1.0),
    ("Reasoning...\nAnswer: False", 0.0), ("So the expression evaluates to True.", 0.0), ("", 0.0),
])
def test_score_is_tolerant_of_format_only(prediction: str, score: float) -> None:
    assert be.score(prediction, "True") == score


def test_find_items_in_prose() -> None:
    text = "Q: Evaluate: not ( True ) and ( True ) is\nA: Let's think. True is a value."
    items = be.PROFILE.find_items(text)
    assert [i.text for i in items] == ["not ( True ) and ( True ) is"]
    assert text[items[0].start:items[0].end] == items[0].text
    with pytest.raises(KeyError, match="unknown skills"):
        be.PROFILE.answer_without("True and False is", frozenset({"nope"}))
