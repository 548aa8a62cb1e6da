"""Properties every generated reasoning task must have, checked over random seeds."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.bench.tasks.reasoning import get_task
from undertow.bench.sim.profile import check_profile

OURS = ("word_sorting", "object_counting", "multistep_arithmetic", "dyck_languages",
        "navigation", "date_arithmetic")
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@pytest.fixture(params=OURS, scope="module")
def task(request: pytest.FixtureRequest):
    return get_task(request.param)


@given(seed=seeds)
def test_solver_agrees_with_generator(task, seed: int) -> None:
    example = task.generate(random.Random(seed))
    assert task.solve(example.input) == example.target


@given(seed=seeds)
def test_generator_is_deterministic_per_seed(task, seed: int) -> None:
    assert task.generate(random.Random(seed)) == task.generate(random.Random(seed))


@given(seed=seeds)
def test_score_accepts_target_and_answer_phrasings(task, seed: int) -> None:
    target = task.generate(random.Random(seed)).target
    for reply in (target, f"  {target}\n", f"So the answer is {target}.",
                  f"Let me think.\nAnswer: {target}", f"The answer is **{target}**"):
        assert task.score(reply, target) == 1.0, reply


@given(seed=seeds)
def test_characteristic_errors_differ_exactly_on_items_that_need_the_skill(task, seed: int) -> None:
    example = task.generate(random.Random(seed))
    for skill in task.SKILLS:
        wrong = task.answer_without(example.input, {skill})
        assert (wrong != example.target) == (skill in example.meta["skills"]), skill
        if skill in example.meta["skills"]:
            assert task.score(wrong, example.target) == 0.0, (skill, wrong)
    assert task.answer_without(example.input, set()) == example.target


@given(seed=seeds)
def test_profile_agrees_with_generator_meta(task, seed: int) -> None:
    example = task.generate(random.Random(seed))
    assert task.PROFILE.needed_skills(example.input) == set(example.meta["skills"])
    assert set(example.meta["skills"]) <= set(task.SKILLS)
    assert 0.0 <= example.meta["difficulty"] <= 1.0


def test_profile_invariants_and_item_recognition_in_a_prompt(task) -> None:
    rng = random.Random(7)
    examples = [task.generate(rng) for _ in range(40)]
    check_profile(task.PROFILE, examples)
    assert [s.name for s in task.PROFILE.skills] == list(task.SKILLS)
    for ex in examples:
        prompt = f"Solve the task.\n\nQuestion: {ex.input}\nAnswer:"
        assert [m.text for m in task.PROFILE.find_items(prompt)] == [ex.input.strip()]
    assert task.PROFILE.find_items("Nothing to see here. Just prose (with words) = 3?") == []


def test_every_skill_is_needed_by_some_items(task) -> None:
    rng = random.Random(11)
    needed = {s for _ in range(400) for s in task.generate(rng).meta["skills"]}
    assert needed == set(task.SKILLS)


def test_unknown_skill_is_a_clear_error(task) -> None:
    example = task.generate(random.Random(0))
    with pytest.raises(ValueError, match="unknown skills"):
        task.answer_without(example.input, {"telepathy"})


def test_solver_rejects_text_that_is_not_an_item(task) -> None:
    with pytest.raises(ValueError, match=task.NAME):
        task.solve("What is the capital of France?")


@given(seed=seeds, other=seeds)
def test_score_rejects_another_items_answer(task, seed: int, other: int) -> None:
    a, b = task.generate(random.Random(seed)), task.generate(random.Random(other))
    if task.solve(b.input) != a.target:  # two items may share an answer (e.g. "Yes")
        assert task.score(b.target, a.target) == 0.0


def test_each_fix_teaches_its_own_skill_only(task) -> None:
    skills = task.PROFILE.all_skills()
    for skill in skills:
        assert [s.name for s in skills if s.taught_by(skill.fix)] == [skill.name]


def test_the_simulator_answers_better_when_the_prompt_teaches_the_skills(task) -> None:
    """End to end through SimLLM: the profile's fixes, put in a prompt, raise accuracy."""
    from undertow.bench.sim.llm import SimLLM

    llm = SimLLM(seed=3)
    rng = random.Random(5)
    items = [ex for ex in (task.generate(rng) for _ in range(200)) if ex.meta["skills"]][:40]
    taught = " ".join(s.fix for s in task.PROFILE.all_skills())

    def accuracy(instruction: str) -> float:
        replies = [llm.complete([{"role": "system", "content": instruction},
                                 {"role": "user", "content": ex.input}]).text for ex in items]
        return sum(task.score(r, ex.target) for r, ex in zip(replies, items, strict=True)) / len(items)

    bare, good = accuracy("Answer the question."), accuracy(f"Answer the question. {taught}")
    assert good >= 0.8 and good > bare + 0.3, (bare, good)
