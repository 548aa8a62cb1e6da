"""The test-time tree-search agent on reasoning tasks with the simulated LLM (llm=sim)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.agents.tree_agent import TreeSearchAgent, final_answer, verdict_value

from .helpers import heldout_score, sim, task_setup


@pytest.mark.parametrize("name", ["boolean_expressions", "navigation"])
def test_beats_single_sample_and_majority_vote(name: str) -> None:
    task, splits = task_setup(name, n_test=40)
    llm = sim()
    items = splits.test
    agent = TreeSearchAgent(llm, k=3, iterations=3)
    answers = agent.solve_many([e.input for e in items])
    tree = sum(task.score(a.reply, e.target) for a, e in zip(answers, items)) / len(items)
    single = heldout_score(llm, "Answer the question.", items, task.score)
    # Self-consistency with as many answer samples as the tree may draw (9 per item).
    votes = []
    for e in items:
        msgs = [{"role": "system", "content": "Answer the question."},
                {"role": "user", "content": e.input}]
        replies = [r.text for r in llm.sample(msgs, 9, temperature=0.8)]
        top = Counter(final_answer(r) for r in replies).most_common(1)[0][0]
        votes.append(task.score(next(r for r in replies if final_answer(r) == top), e.target))
    vote = sum(votes) / len(items)
    assert tree >= single + 0.2 and tree > vote, (name, tree, single, vote)
    assert all(a.attempts <= 9 for a in answers)
    assert int(agent.forest.host("inflight").sum()) == 0
    assert agent.forest.batch == len(items)                 # one tree per item


def test_value_fn_replaces_self_evaluation() -> None:
    task, splits = task_setup(n_test=10)
    items = splits.test
    targets = {e.input: e.target for e in items}

    def verifier(question: str, reply: str) -> tuple[float, str]:
        return task.score(reply, targets[question]), ""

    agent = TreeSearchAgent(sim(), k=3, iterations=4, value_fn=verifier)
    answers = agent.solve_many([e.input for e in items])
    for a, e in zip(answers, items):
        assert (a.value == 1.0) == (task.score(a.reply, e.target) == 1.0)
    # A verified answer stops its tree: fewer attempts than the full budget somewhere.
    assert min(a.attempts for a in answers) < 12


@given(st.text())
def test_verdict_value_is_total(text: str) -> None:
    value, reflection = verdict_value(text)
    assert value in (0.0, 0.5, 1.0) and isinstance(reflection, str)


def test_verdict_value_reads_verdicts_and_wording() -> None:
    assert verdict_value('{"critique": "ok", "verdict": "wrong"}')[0] == 0.0
    assert verdict_value('{"critique": "The output is wrong because x", "verdict": ""}') == (
        0.0, "The output is wrong because x")
    assert verdict_value("The answer is correct.")[0] == 1.0
    assert verdict_value("The response may be wrong, but nothing says why.")[0] == 0.5


@given(st.text())
def test_final_answer_is_total_and_normalized(text: str) -> None:
    out = final_answer(text)
    assert out == out.lower() and "  " not in out


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="temperature"):
        TreeSearchAgent(sim(), temperature=0.0)
    with pytest.raises(ValueError, match="k and iterations"):
        TreeSearchAgent(sim(), k=0)
    with pytest.raises(ValueError, match="questions is empty"):
        TreeSearchAgent(sim()).solve_many([])
