"""BeamSearch (APO) end to end on the simulated LLM (llm=sim)."""

from __future__ import annotations

import json

import pytest
from undertow.optimizers.search import BeamSearch
from undertow.optimizers.tree import FLAG_PRUNED

from .helpers import heldout_score, prompt_param, sim, task_setup


def _beam(p, splits, task, **kw):
    return BeamSearch([p], llm=sim(), train=splits.train, val=splits.val, score=task.score,
                      **kw)


@pytest.mark.parametrize("name", ["boolean_expressions", "word_sorting"])
def test_improves_over_initial_prompt(name: str) -> None:
    task, splits = task_setup(name)
    p = prompt_param()
    opt = _beam(p, splits, task, seed=1)
    for _ in range(2):
        opt.step()
    llm = sim()
    before = heldout_score(llm, "Answer the question.", splits.test, task.score)
    after = heldout_score(llm, p.value, splits.test, task.score)
    assert after >= before + 0.25, (name, before, after, p.value)


def test_bandit_spends_the_budget_and_prunes_the_rest() -> None:
    task, splits = task_setup()
    opt = _beam(prompt_param(), splits, task, eval_budget=20, beam_width=2)
    opt.step()
    f = opt.forest
    kids = list(f.children(0, 0))
    visits = f.host("visits", 0)
    assert int(visits[kids].sum()) == 20 == opt.pulls       # every pull is one backup
    assert all(visits[n] >= 1 for n in kids)                 # every candidate pulled once
    assert len(opt.beam) == 2 and set(opt.beam) <= set(kids)
    flags = f.host("flags", 0)
    means = {n: float(f.host("value_sum", 0)[n]) / int(visits[n]) for n in kids}
    for n in kids:
        assert bool(flags[n] & FLAG_PRUNED) == (n not in opt.beam)
    # The beam holds the best means (ties broken by lower index).
    ranked = sorted(kids, key=lambda n: (-means[n], n))
    assert opt.beam == ranked[:2]


def test_resume_gives_the_same_rounds() -> None:
    task, splits = task_setup()
    p = prompt_param()
    opt = _beam(p, splits, task)
    opt.step()
    saved = json.loads(json.dumps(opt.state_dict()))
    opt.step()
    q = prompt_param()
    again = _beam(q, splits, task, backend="numpy")
    again.load_state_dict(saved)
    again.step()
    assert q.value == p.value and again.beam == opt.beam and again.pulls == opt.pulls


def test_bad_arguments_are_named() -> None:
    task, splits = task_setup()
    with pytest.raises(ValueError, match="paraphrases"):
        _beam(prompt_param(), splits, task, paraphrases=-1)
    with pytest.raises(ValueError, match="eval_budget"):
        _beam(prompt_param(), splits, task, eval_budget=0)
