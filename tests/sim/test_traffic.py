"""The simulator on the traffic task (llm=sim): the shared-resource rule for int variables.

Measured over seeds with the real simulated LLM and OptoPrime: proposals cut the delay
when the feedback names the approach that waits most, and do clearly better than with
that sentence removed (where the simulator can only guess).
"""

from __future__ import annotations

import json
import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.agents import SignalController
from undertow.bench.sim import numeric as num
from undertow.bench.tasks import traffic
from undertow.bench.tasks import traffic_profile as alloc
from undertow.engine import Feedback, backward
from undertow.engine.llm import make_llm
from undertow.optimizers.opto import OptoPrime

SEEDS = range(4)


def _optimize(seed: int, steps: int, *, name_starved: bool = True) -> list[float]:
    """Delays after each OptoPrime step on the sim (the first is the fixed cycle)."""
    scenario = traffic.generate(seed)
    agent = SignalController()
    opt = OptoPrime(agent.parameters(), make_llm("sim", cache_dir=False), memory_size=3)
    delays = []
    for _ in range(steps):
        out = agent.plan(scenario)
        fb = scenario.feedback(out.value)
        text = str(fb["text"]) if name_starved else str(fb["text"]).split("; the ")[0]
        delays.append(out.value["delay"])
        backward(out, Feedback(text, float(fb["score"])), "subgraph")
        opt.step()
        opt.zero_feedback()
        lo, hi = 5, 90
        assert all(isinstance(g, int) and lo <= g <= hi for g in agent.greens)
    delays.append(scenario.simulate(*agent.greens)["delay"])
    return delays


def test_feedback_sentence_cuts_delay_and_beats_guessing():
    with_fb = [_optimize(s, 6) for s in SEEDS]
    blind = [_optimize(s, 6, name_starved=False) for s in SEEDS]
    fixed = statistics.mean(d[0] for d in with_fb)
    after = statistics.mean(d[-1] for d in with_fb)
    guessed = statistics.mean(d[-1] for d in blind)
    assert after < 0.25 * fixed, (fixed, after)          # large cut from the fixed cycle
    assert all(d[-1] < d[0] for d in with_fb)            # on every seed
    assert after < 0.5 * guessed, (after, guessed)       # clearly better than a guess


def _request(ns: int, ew: int, feedback: str, memory: str = "", bounds: str = "[5, 90]") -> str:
    def var(name: str, value: int, side: str) -> str:
        return (f'<variable name="{name}" kind="int">{value}</variable>\n'
                f"description: green time of the {side} approach, seconds\n"
                f"constraints: bounds {bounds}\n")
    mem = f"#Memory (earlier values)\n{memory}\n\n" if memory else ""
    return ("#Variables\n" + var("green_ns", ns, "north-south") + var("green_ew", ew, "east-west")
            + "\n" + mem + f'#Outputs and feedback\n<example output="r">\n<feedback>{feedback}</feedback>\n'
            '</example>\n\n#Reply\nPropose new values for the variables. Reply in JSON only, with keys '
            '"reasoning" and "suggestion" (a map from variable name to its new value).')


def _suggest(text: str, seed: int = 0) -> dict:
    llm = make_llm("sim", cache_dir=False, seed=seed)
    return json.loads(llm.complete([{"role": "user", "content": text}]).text)["suggestion"]


FB = "average delay 90.0 s per car; peak queue {a} cars north-south and {b} east-west; the {s} approach waits most"


def test_starved_side_gets_more_and_the_other_less():
    s = _suggest(_request(30, 30, FB.format(a=80, b=6, s="north-south")))
    assert s["green_ns"] > 30 and s["green_ew"] < 30
    s = _suggest(_request(30, 30, FB.format(a=6, b=80, s="east-west")))
    assert s["green_ew"] > 30 and s["green_ns"] < 30


def test_step_shrinks_after_the_starved_side_flips():
    fb = FB.format(a=80, b=6, s="north-south")
    same = "step 1: green_ns = 20; green_ew = 40; feedback: " + FB.format(a=90, b=5, s="north-south")
    flip = "step 1: green_ns = 40; green_ew = 20; feedback: " + FB.format(a=5, b=90, s="east-west")
    grow = [_suggest(_request(30, 30, fb, same), seed)["green_ns"] - 30 for seed in range(8)]
    shrink = [_suggest(_request(30, 30, fb, flip), seed)["green_ns"] - 30 for seed in range(8)]
    assert min(grow) > 0 and min(shrink) > 0
    assert statistics.mean(shrink) < 0.5 * statistics.mean(grow)


def test_bounds_shown_are_respected():
    s = _suggest(_request(88, 6, FB.format(a=200, b=1, s="north-south"), bounds="[5, 90]"))
    assert 5 <= s.get("green_ns", 88) <= 90 and 5 <= s.get("green_ew", 6) <= 90


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_feedback_parsers_never_crash(text):
    side = alloc.starved_side(text)
    assert side is None or side == side.lower()
    counts = alloc.side_counts(text)
    assert all(isinstance(v, float) for v in counts.values())


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 500), st.integers(0, 500), st.sampled_from(["north-south", "east-west"]),
       st.integers(5, 90), st.integers(5, 90), st.integers(0, 10**6))
def test_proposals_are_bounded_ints(a, b, side, ns, ew, seed):
    from undertow.bench.sim.request import (
        parse_blocks,
        parse_variables,
        split_history,
    )

    text, history = split_history(_request(ns, ew, FB.format(a=a, b=b, s=side)))
    xs = num.numeric_variables(parse_variables(text), text)
    assert [(x.low, x.high) for x in xs] == [(5.0, 90.0), (5.0, 90.0)]
    plan = num.propose(xs, parse_blocks(text), text, num.parse_history(history, ["green_ns", "green_ew"]),
                       random.Random(seed), [alloc.PROFILE])
    assert plan.values and all(isinstance(v, int) and 5 <= v <= 90 for v in plan.values.values())


def test_no_side_named_is_only_a_guess():
    reply = _suggest(_request(30, 30, "average delay 90.0 s per car; the queues are long"))
    assert len(reply) <= 1  # one variable moved at random, at most


@pytest.mark.parametrize("fb", ["", "larger", "correct"])
def test_non_queue_feedback_keeps_the_numeric_rule(fb):
    text = _request(30, 30, fb)
    blocks_fb = num.feedback_direction([])
    assert blocks_fb == 0
    reply = _suggest(text)
    if fb == "larger":
        assert reply["green_ns"] > 30 and reply["green_ew"] > 30
    else:
        assert reply == {}
