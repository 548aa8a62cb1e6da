"""Fault rules: the spec parser (property-tested), the schedule's order and draws."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.bench.sim.server import (
    FaultPlan,
    FaultRule,
    FaultSchedule,
    FaultSpecError,
    format_fault_spec,
    parse_fault_spec,
)

finite = {"allow_nan": False, "allow_infinity": False}
safe_text = st.text(st.characters(blacklist_characters=",", blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                    min_size=1, max_size=20)

status_rules = st.builds(
    FaultRule, kind=st.just("status"), status=st.integers(400, 599),
    retry_after=st.none() | st.floats(0, 86400, **finite), retry_after_ms=st.none() | st.integers(0, 10**6),
    times=st.none() | st.integers(0, 100), probability=st.floats(0, 1, **finite),
    delay_s=st.floats(0, 10, **finite), api=st.sampled_from(["any", "openai", "anthropic"]),
    stream=st.none() | st.booleans(), message=st.none() | safe_text)
other_rules = st.builds(
    FaultRule, kind=st.sampled_from(["malformed", "truncate", "hang", "delay"]),
    times=st.none() | st.integers(0, 100), truncate_after=st.integers(0, 50),
    hang_s=st.floats(0.01, 3600, **finite), delay_s=st.floats(0, 10, **finite))


@given(status_rules | other_rules)
def test_spec_round_trip(rule):
    assert parse_fault_spec(format_fault_spec(rule)) == rule


@given(st.text(max_size=60))
def test_parser_raises_only_its_own_error(text):
    try:
        rule = parse_fault_spec(text)
    except FaultSpecError as exc:
        assert str(exc)
    else:
        assert isinstance(rule, FaultRule)


@pytest.mark.parametrize("spec,hint", [("", "empty"), ("status=429,,times=1", "stray comma"),
                                       ("sttaus=429", "known keys"), ("status=99", "status"),
                                       ("times=1,times=2", "twice"), ("kind=hang,retry_after=1", "kind=status"),
                                       ("probability=2", "probability")])
def test_bad_specs_name_the_problem(spec, hint):
    with pytest.raises(FaultSpecError, match=hint):
        parse_fault_spec(spec)


def test_shorthand_and_dashes():
    assert parse_fault_spec("503, retry-after-ms=20") == FaultRule(status=503, retry_after_ms=20)


def test_rules_fire_in_order_as_a_queue():
    sched = FaultSchedule(FaultPlan(rules=[FaultRule(status=429, times=2), FaultRule(status=500, times=1)]))
    fired = [sched.pick("openai", False) for _ in range(5)]
    assert [r.status if r else None for r in fired] == [429, 429, 500, None, None]
    assert sched.snapshot()["left"] == [0, 0]


@given(st.floats(0, 1), st.integers(0, 2**32))
def test_probability_draws_are_seeded_and_near_their_rate(p, seed):
    plan = FaultPlan(rules=[FaultRule(kind="delay", probability=p)], seed=seed)
    runs = [[s.pick("openai", False) is not None for _ in range(400)]
            for s in (FaultSchedule(plan), FaultSchedule(plan))]
    assert runs[0] == runs[1]  # same seed, same faults
    assert abs(sum(runs[0]) / 400 - p) < 0.1


def test_filters_skip_to_the_next_rule():
    sched = FaultSchedule(FaultPlan(rules=[FaultRule(status=529, api="anthropic"),
                                           FaultRule(kind="truncate", stream=True, times=1)]))
    assert sched.pick("openai", False) is None
    assert sched.pick("openai", True).kind == "truncate"
    assert sched.pick("anthropic", False).status == 529


def test_plan_json_errors_are_clear():
    with pytest.raises(FaultSpecError, match="rules.0.status"):
        FaultPlan.from_json('{"rules": [{"status": 200}]}')
    with pytest.raises(FaultSpecError, match="latency_s"):
        FaultPlan.from_json('{"latency_s": -1}')
