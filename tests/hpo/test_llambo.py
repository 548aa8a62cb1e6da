"""LLAMBO: the three roles, valid proposals whatever the model says, exact resume."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.engine.llm import make_llm
from undertow.optimizers import LLAMBO, RandomSearch
from undertow.optimizers.llambo import expected_improvement

from tests.hpo._helpers import MIXED, scripted_llm


def objective(c):
    """A smooth synthetic score, best near lr=0.03, depth=7, kind=b."""
    return (1.0 - (math.log10(c["lr"]) + 1.5) ** 2 / 9 - (c["depth"] - 7) ** 2 / 50
            + (0.1 if c["kind"] == "b" else 0.0))


def drive(opt, params, steps):
    """The optimizer loop: score the current values, feed the score back, step."""
    for _ in range(steps):
        config = {p.label: p.value for p in params}
        for p in params:
            p.feedback.append(objective(config))
        opt.step()
        opt.zero_feedback()


def _inside(params):
    for p, d in zip(params, MIXED.dims, strict=True):
        if d.kind == "choice":
            assert p.value in d.choices
        else:
            assert d.low <= p.value <= d.high


replies = st.one_of(
    st.text(max_size=200),
    st.lists(st.fixed_dictionaries({"lr": st.floats(allow_nan=True), "depth": st.integers(-50, 50),
                                    "kind": st.sampled_from(["a", "B", "zzz", 3])}),
             max_size=5).map(json.dumps),
    st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=8).map(json.dumps),
)


@given(st.lists(replies, min_size=1, max_size=6), st.integers(0, 3))
@settings(max_examples=40, deadline=None)
def test_proposals_stay_in_the_space_whatever_the_model_says(script, seed):
    calls = iter(range(10**6))
    llm = scripted_llm(lambda request: script[next(calls) % len(script)])
    params = MIXED.parameters()
    opt = LLAMBO(params, llm, "synthetic", n_initial=2, n_candidates=3, n_surrogate_samples=2, seed=seed)
    drive(opt, params, 6)
    _inside(params)
    assert len(opt.history) == 6
    assert opt.stats["llm_calls"] >= 1


def test_garbage_is_counted_and_falls_back_to_random():
    params = MIXED.parameters()
    opt = LLAMBO(params, scripted_llm(lambda r: "I cannot help with that."), "synthetic",
                 n_initial=2, n_candidates=3, n_surrogate_samples=2)
    drive(opt, params, 4)
    assert opt.stats["random_fallbacks"] == 4
    bad = scripted_llm(lambda r: '[{"lr": "fast", "depth": 2, "kind": "a"}]')
    opt2 = LLAMBO(MIXED.parameters(), bad, "synthetic", n_initial=1)
    drive(opt2, opt2.parameters, 2)
    assert opt2.stats["malformed_configs"] >= 2


def test_the_three_requests_and_the_target():
    llm = make_llm("sim", cache_dir=False)
    params = MIXED.parameters()
    opt = LLAMBO(params, llm, "tune a synthetic model", n_initial=3, n_candidates=4,
                 n_surrogate_samples=3, seed=1)
    drive(opt, params, 6)
    roles = [p.meta.get("role") for p in opt.log if p.parameter == "lr"]
    assert roles[:3] == ["warm_start"] * 3 and roles[3:] == ["surrogate"] * 3
    # 1 warm start + 3 steps x (1 sampling + 3 surrogate samples)
    assert opt.stats["llm_calls"] == 1 + 3 * 4
    scores = [h["score"] for h in opt.history]
    assert opt.target() == max(scores) + 0.1 * (max(scores) - min(scores))
    assert opt.stats["malformed_configs"] == opt.stats["malformed_predictions"] == 0


def test_llm_call_cap_falls_back_without_calls():
    llm = make_llm("sim", cache_dir=False)
    params = MIXED.parameters()
    opt = LLAMBO(params, llm, "synthetic", n_initial=1, n_surrogate_samples=2, max_llm_calls=4)
    drive(opt, params, 6)
    assert opt.stats["llm_calls"] == 4
    assert opt.stats["random_fallbacks"] >= 1
    _inside(params)


def test_state_dict_resumes_exactly():
    def run(split):
        llm = make_llm("sim", cache_dir=False)
        params = MIXED.parameters()
        opt = LLAMBO(params, llm, "synthetic", n_initial=3, n_candidates=4, n_surrogate_samples=2, seed=2)
        if split is None:
            drive(opt, params, 7)
            return opt
        drive(opt, params, split)
        state = json.loads(json.dumps(opt.state_dict()))
        params2 = MIXED.parameters()
        opt2 = LLAMBO(params2, make_llm("sim", cache_dir=False), "synthetic", n_initial=3, n_candidates=4,
                      n_surrogate_samples=2, seed=2)
        opt2.load_state_dict(state)
        drive(opt2, params2, 7 - split)
        return opt2

    full = run(None)
    for split in (2, 4):  # inside the warm start and after it
        resumed = run(split)
        assert resumed.history == full.history
        assert resumed.stats == full.stats


def test_llambo_beats_random_on_a_smooth_objective():
    """Median best over 5 seeds after 15 evaluations (llm=sim)."""
    def best(make):
        out = []
        for seed in range(5):
            params = MIXED.parameters()
            opt = make(params, seed)
            drive(opt, params, 15)
            out.append(opt.best_score)
        return sorted(out)[2]

    llambo = best(lambda ps, s: LLAMBO(ps, make_llm("sim", cache_dir=False, seed=s), "synthetic", seed=s))
    rand = best(lambda ps, s: RandomSearch(ps, seed=s))
    assert llambo > rand, (llambo, rand)


@given(st.floats(-5, 5), st.floats(0, 3), st.floats(-5, 5))
def test_expected_improvement_properties(mean, std, best):
    ei = expected_improvement(mean, std, best)
    assert ei >= max(mean - best, 0.0) - 1e-9          # never below the sure gain
    assert ei <= max(mean - best, 0.0) + std + 1e-9    # bounded by gain + spread
    assert expected_improvement(mean + 1, std, best) >= ei - 1e-9


def test_random_search_is_seeded_and_inside():
    a, b = MIXED.parameters(), MIXED.parameters()
    ra, rb = RandomSearch(a, seed=5), RandomSearch(b, seed=5)
    drive(ra, a, 5)
    drive(rb, b, 5)
    assert ra.history == rb.history
    _inside(a)
    # log-uniform: most draws of lr fall below the arithmetic midpoint
    c = MIXED.parameters()
    rc = RandomSearch(c, seed=0)
    drive(rc, c, 40)
    assert sum(h["values"]["lr"] < 0.5 for h in rc.history) > 30


def test_evaluation_budget_holds_the_best_without_calls():
    params = MIXED.parameters()
    opt = LLAMBO(params, make_llm("sim", cache_dir=False), "synthetic", n_initial=2, n_surrogate_samples=2,
                 max_evaluations=4)
    drive(opt, params, 4)
    calls = opt.stats["llm_calls"]
    drive(opt, params, 3)
    assert opt.stats["llm_calls"] == calls
    assert {p.label: p.value for p in params} == opt.best_values
    assert len({json.dumps(h["values"], sort_keys=True) for h in opt.history}) == 4
