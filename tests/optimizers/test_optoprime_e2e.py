"""OptoPrime end to end on the simulated LLM (llm=sim): a prompt task improves, candidates
are chosen on a validation batch, memory shows up, and the whole state resumes."""

from __future__ import annotations

import json

import pytest
from undertow.bench.tasks.reasoning import get_task, make_splits
from undertow.engine import Parameter, backward, no_trace
from undertow.engine.llm import llm_call, make_llm
from undertow.optimizers.opto import OptoPrime

TASK = get_task("boolean_expressions")


def _setup(seed=0):
    splits = make_splits("boolean_expressions", seed=seed, n_train=24, n_val=12, n_test=60)
    llm = make_llm("sim", cache_dir=False, seed=seed)
    prompt = Parameter("Evaluate the boolean expression.", name="system_prompt")
    return splits, llm, prompt


def accuracy(llm, prompt, items):
    with no_trace():
        return sum(TASK.score(llm_call(llm, it.input, system=prompt), it.target)
                   for it in items) / len(items)


def train_step(opt, llm, prompt, batch):
    outs = [llm_call(llm, it.input, system=prompt) for it in batch]
    feedback = ["Correct" if TASK.score(o.value, it.target) else f"Wrong: expected {it.target}"
                for o, it in zip(outs, batch, strict=True)]
    backward(outs, feedback)
    proposals = opt.step()
    opt.zero_feedback()
    return proposals


@pytest.mark.parametrize("seed", [0, 1])
def test_held_out_accuracy_improves_on_boolean_expressions(seed):
    splits, llm, prompt = _setup(seed)
    before = accuracy(llm, prompt, splits.test)
    opt = OptoPrime([prompt], llm, memory_size=2)
    for step in range(3):
        train_step(opt, llm, prompt, splits.train[step * 8:(step + 1) * 8])
    after = accuracy(llm, prompt, splits.test)
    assert after > before + 0.15, (before, after, prompt.value)
    assert any(p.accepted for p in opt.log)
    calls = llm.accounting.summary()["by_purpose"]["optimizer"]["calls"]
    assert calls == 3


def test_candidates_are_chosen_on_a_validation_batch():
    splits, llm, prompt = _setup(0)
    scored: list[float] = []

    def evaluate(values):
        assert prompt.value == values["system_prompt"]   # the candidate is in place
        scored.append(accuracy(llm, prompt, splits.val))
        return scored[-1]

    opt = OptoPrime([prompt], llm, n_candidates=3, evaluate=evaluate)
    start = prompt.value
    proposals = train_step(opt, llm, prompt, splits.train[:8])
    scores = proposals[0].meta["scores"]
    assert "current" in scores and len(scores) >= 2
    (chosen,) = [p for p in proposals if p.accepted]       # seeded: a candidate wins
    best = max(v for k, v in scores.items() if k != "current")
    assert best > scores["current"] and scores[f"candidate {chosen.meta['candidate']}"] == best
    assert prompt.value == chosen.new and prompt.value != start
    assert len(scored) == len(scores)                       # current + each candidate, once
    assert all("not selected" in p.reason for p in proposals if not p.accepted)
    with pytest.raises(ValueError, match="needs evaluate"):
        OptoPrime([prompt], llm, n_candidates=2)


def test_memory_appears_in_the_next_report_and_state_resumes():
    splits, llm, prompt = _setup(0)
    opt = OptoPrime([prompt], llm, memory_size=3)
    train_step(opt, llm, prompt, splits.train[:6])
    state = json.loads(json.dumps(opt.state_dict()))
    outs = [llm_call(llm, it.input, system=prompt) for it in splits.train[6:12]]
    backward(outs, ["Wrong"] * len(outs))
    report = opt.report().text
    assert "#Memory" in report and "step 0: system_prompt = \"Evaluate the boolean expression.\"" in report

    _, llm2, prompt2 = _setup(0)
    again = OptoPrime([prompt2], llm2, memory_size=3)
    again.load_state_dict(state)
    assert prompt2.value == prompt.value and again.memory == opt.memory and again.steps == 1
    backward([llm_call(llm2, it.input, system=prompt2) for it in splits.train[6:12]], ["Wrong"] * 6)
    assert again.report().text == report


def test_without_feedback_step_changes_nothing_and_calls_no_llm():
    _, llm, prompt = _setup(0)
    opt = OptoPrime([prompt], llm)
    assert opt.step() == [] and opt.report() is None
    assert llm.accounting.summary()["by_purpose"].get("optimizer", {}).get("calls", 0) == 0


def test_textual_feedback_is_refused_with_the_fix():
    _, llm, prompt = _setup(0)
    prompt.feedback.append("a critique")  # what another propagator would leave
    with pytest.raises(TypeError, match='default "subgraph" propagator'):
        OptoPrime([prompt], llm).step()


def test_numeric_dag_loss_drops_on_most_seeds():
    """The numeric DAG task (Trace paper) through the sim's numeric rules (llm=sim)."""
    from statistics import median

    from undertow.bench.tasks import numeric_dag

    before, after = [], []
    for seed in range(5):
        problem = numeric_dag.generate(seed)
        xs = problem.parameters()
        opt = OptoPrime(xs, make_llm("sim", cache_dir=False, seed=seed), memory_size=5)
        with no_trace():
            before.append(abs(problem.forward([x.value for x in xs]) - problem.target))
        for _ in range(8):
            out = problem.forward(xs)
            backward(out, problem.feedback(out))
            opt.step()
            opt.zero_feedback()
        with no_trace():
            after.append(abs(problem.forward([x.value for x in xs]) - problem.target))
        assert all(x.validate(x.value) == x.value for x in xs)
    assert sum(a < b for a, b in zip(after, before, strict=True)) >= 4, (before, after)
    assert median(after) < median(before) / 2, (before, after)


@pytest.mark.parametrize("seed", [0, 1])
def test_battleship_code_policy_improves(seed):
    """A trainable code policy (Trace paper's Battleship) through the sim's code fixes."""
    from undertow.agents.battleship import BattleshipPlayer
    from undertow.bench.tasks import battleship as bs

    splits = bs.make_splits(seed=seed, n_train=4, n_val=4, n_test=8)
    player = BattleshipPlayer()
    before = bs.score(bs.run_policy(player.source, splits.test))
    opt = OptoPrime(player, make_llm("sim", cache_dir=False, seed=seed))
    for _ in range(3):
        outs = [player(bs.BattleshipGame(board)) for board in splits.train]
        backward(outs, [bs.feedback(o.value) for o in outs])
        opt.step()
        opt.zero_feedback()
    after = bs.score(bs.run_policy(player.source, splits.test))
    assert after > before + 0.3, (before, after)
    assert player.policy.code.validate(player.source) == player.source   # signature kept
