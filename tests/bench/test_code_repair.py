"""The code-repair task: buggy functions fail their tests, reference fixes pass them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.agents.code_agent import CodeAgent
from undertow.bench.tasks.code_repair import (
    PROBLEMS,
    get_problem,
    make_splits,
    run_tests,
)
from undertow.engine import backward


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda p: p.name)
def test_bug_fails_and_fix_passes(problem):
    agent = CodeAgent(problem.buggy, description=problem.description)
    score, report, outputs = run_tests(problem, agent)
    assert score < 1.0 and "FAIL" in report and len(outputs) == len(problem.tests)
    backward(outputs, [report] * len(outputs))
    assert agent.code.feedback  # the test report reaches the code
    agent.code.value = problem.fixed  # same signature: accepted
    score, report, _ = run_tests(problem, agent)
    assert score == 1.0, report


def test_an_exception_is_a_failed_test_with_its_line():
    problem = get_problem("average")
    score, report, _ = run_tests(problem, CodeAgent(problem.buggy))
    assert "ZeroDivisionError" in report and "line 2" in report and 0 < score < 1


@given(st.integers(0, 10_000))
def test_splits_are_disjoint_and_reproducible(seed):
    a = make_splits(seed)
    assert a == make_splits(seed)
    names = [p.name for split in a for p in split]
    assert len(names) == len(set(names)) == 10


def test_unknown_problem_lists_the_choices():
    with pytest.raises(KeyError, match="choose one of max_of_list"):
        get_problem("nope")
