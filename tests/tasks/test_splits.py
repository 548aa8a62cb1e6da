"""The reasoning-task registry and its seeded splits."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.bench.tasks import reasoning
from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning import (
    TASK_NAMES,
    ReasoningTask,
    available,
    get_task,
    make_splits,
)


def test_every_task_is_available_and_follows_the_pattern() -> None:
    assert available() == list(TASK_NAMES)
    for name in TASK_NAMES:
        task = get_task(name)
        assert isinstance(task, ReasoningTask)
        assert task.NAME == name == task.PROFILE.name


def test_unknown_task_suggests_close_names() -> None:
    with pytest.raises(KeyError, match="did you mean dyck_languages"):
        get_task("dyck_language")
    with pytest.raises(KeyError, match="known: boolean_expressions"):
        get_task("chess")


@settings(max_examples=10)
@given(name=st.sampled_from(TASK_NAMES), seed=st.integers(0, 10**6),
       sizes=st.tuples(st.integers(0, 30), st.integers(0, 15), st.integers(0, 30)))
def test_splits_are_disjoint_sized_and_reproducible(name: str, seed: int,
                                                    sizes: tuple[int, int, int]) -> None:
    splits = make_splits(name, seed, *sizes)
    assert tuple(map(len, splits)) == sizes
    inputs = [ex.input for part in splits for ex in part]
    assert len(inputs) == len(set(inputs))
    assert make_splits(name, seed, *sizes) == splits
    task = get_task(name)
    assert all(task.solve(ex.input) == ex.target for part in splits for ex in part)


def test_seeds_give_different_splits_and_test_set_ignores_train_size() -> None:
    a = make_splits("navigation", 1, 10, 5, 20)
    b = make_splits("navigation", 2, 10, 5, 20)
    assert [e.input for e in a.test] != [e.input for e in b.test]
    bigger = make_splits("navigation", 1, 50, 5, 20)
    assert bigger.test == a.test and bigger.val == a.val


def test_bad_sizes_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="n_val must be a non-negative int"):
        make_splits("word_sorting", 0, 1, -1, 1)


def test_a_task_with_few_distinct_items_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in task with three possible items cannot fill four slots."""
    tiny = SimpleNamespace(generate=lambda rng: Example(input=str(rng.randrange(3)), target="x"))
    monkeypatch.setattr(reasoning, "get_task", lambda name: tiny)
    assert len(make_splits("tiny", 0, 1, 1, 1).train) == 1
    with pytest.raises(ValueError, match="tiny yielded only 1 new distinct items for train"):
        make_splits("tiny", 0, 2, 1, 1)
