"""TPE on the traffic-signal task, against the fixed-cycle baseline (no LLM)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("optuna")

from undertow.bench.tasks.traffic import FIXED_CYCLE, evaluate, generate
from undertow.engine import Parameter, backward
from undertow.optimizers.blackbox import TPE, feedback_score


def _optimize(scenario, steps, seed=0, opt=None, params=None):
    params = params or scenario.parameters()
    opt = opt or TPE(params, seed=seed)
    for _ in range(steps):
        out, fb = evaluate(scenario, params)
        backward(out, fb)
        opt.step()
        opt.zero_feedback()
    return opt, params


def test_tpe_beats_the_fixed_cycle():
    scenario = generate(1)
    fixed = scenario.simulate(*FIXED_CYCLE)["delay"]
    opt, params = _optimize(scenario, 30)
    opt.use_best()
    best = scenario.simulate(params[0].value, params[1].value)["delay"]
    assert best < fixed * 0.9, (best, fixed)
    assert -opt.best_score == pytest.approx(best)
    assert all(5 <= p.value <= 90 and isinstance(p.value, int) for p in params)


def test_resume_proposes_what_the_uninterrupted_run_would():
    scenario = generate(2)
    a, pa = _optimize(scenario, 12)
    state = json.loads(json.dumps(a.state_dict()))
    _optimize(scenario, 6, opt=a, params=pa)

    pb = scenario.parameters()
    b = TPE(pb, seed=0)
    b.load_state_dict(state)
    _optimize(scenario, 6, opt=b, params=pb)
    assert [p.value for p in pb] == [p.value for p in pa]
    assert b.history == a.history


def test_bad_setups_are_clear_errors():
    with pytest.raises(TypeError, match="TPE searches int, float and choice"):
        TPE([Parameter("text")])
    with pytest.raises(ValueError, match="needs both bounds"):
        TPE([Parameter(3, name="n")])
    p = Parameter(3, bounds=(1, 5), name="n")
    opt = TPE([p])
    backward(p * 1, "only words")
    with pytest.raises(ValueError, match="no score in the feedback"):
        opt.step()


@settings(max_examples=30)
@given(st.integers(0, 100), st.integers(5, 90), st.integers(5, 90))
def test_simulation_is_deterministic_and_sane(seed, g1, g2):
    sc = generate(seed)
    a, b = sc.simulate(g1, g2), sc.simulate(g1, g2)
    assert a == b and a["delay"] >= 0 and a["peak_ns"] >= 0


@given(st.one_of(st.floats(allow_nan=False), st.integers(), st.text(), st.booleans(),
                 st.dictionaries(st.text(), st.floats(allow_nan=False))))
def test_feedback_score_reads_numbers_only(item):
    s = feedback_score(item)
    if isinstance(item, (bool, str)):
        assert s is None
    elif isinstance(item, (int, float)):
        assert s == float(item)
