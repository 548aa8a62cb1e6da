"""The simulator reads a peer's stock request as it reads undertow's, for the same items,
outputs and feedback. Requests are generated here, from the installed peers (no peer
prompt text lives in the repository); each test skips, with the reason, where its peer
venv (or the simulator's `diagnose`) is absent."""

from __future__ import annotations

import pytest
from undertow.bench.peers.conformance import (
    COUNTERPART,
    _comparable,
    _normalized,
    capture_peer,
    capture_undertow,
    make_scenario,
    sim_can_diagnose,
)

from .conftest import need

PACKAGE = {"trace:optoprime": "trace-opt", "textgrad:tgd": "textgrad", "dspy:copro": "dspy",
           "gepa:optimize": "gepa"}


@pytest.fixture(scope="module")
def scenario():
    return make_scenario("boolean_expressions", seed=0, n=4)


@pytest.fixture(scope="module")
def ours(scenario):
    return {name: capture_undertow(name, scenario) for name in ("optoprime", "textgrad")}


def _text(messages: list[dict[str, str]]) -> str:
    return "\n".join(m["content"] for m in messages)


def test_scenario_has_evidence_to_find(scenario):
    assert len(scenario.items) == 4 and any(f.startswith("Wrong") for f in scenario.feedback)


@pytest.mark.parametrize("peer", ["trace:optoprime", "gepa:optimize"])
def test_peer_optimizer_request_carries_the_scenario(peer, scenario, tmp_path):
    """The scripted forward replies reach the peer's optimizer request: every item, every
    output and every wrong-answer sentence is in it (so a diagnosis can use them)."""
    need(PACKAGE[peer])
    got = capture_peer(peer, scenario, tmp_path)
    assert got.requests, got.error
    text = _text(got.requests[0])
    assert all(x.input in text for x in scenario.items)
    assert all(o.strip() in text for o in scenario.outputs)
    assert all(f in text for f in scenario.feedback if f.startswith("Wrong"))


def test_undertow_requests_carry_the_scenario(scenario, ours):
    text = _text(ours["optoprime"].requests[-1])
    assert all(x.input in text for x in scenario.items)
    assert all(f in text for f in scenario.feedback if f.startswith("Wrong"))


@pytest.mark.parametrize(("peer", "role"), [
    ("trace:optoprime", "optimize"),
    ("gepa:optimize", "optimize"),
])
def test_same_information_gets_the_same_diagnosis(peer, role, scenario, ours, tmp_path):
    """OptoPrime-like requests (items, outputs, feedback, the variable to rewrite): the
    simulator's whole reading must match its reading of undertow's OptoPrime request."""
    why = sim_can_diagnose()
    if why:
        pytest.skip(why)
    need(PACKAGE[peer])
    from undertow.bench.sim import SimLLM

    sim = SimLLM(seed=0)
    theirs = capture_peer(peer, scenario, tmp_path).first(sim, role)
    mine = ours[COUNTERPART[peer]].first(sim, role)
    assert theirs is not None, f"no {role} request from {peer}"
    assert mine is not None, f"no {role} request from undertow's {COUNTERPART[peer]}"
    assert _normalized(_comparable(theirs[1])) == _normalized(_comparable(mine[1]))


@pytest.mark.parametrize("role", ["critique", "optimize"])
def test_textgrad_requests_are_read_from_their_evidence(role, scenario, tmp_path):
    """TextGrad's gradient and update requests show a different slice of the same data than
    undertow's (its update quotes the question and answer, ours the critiques), so the
    check is that the simulator reads them: scenario items only, and from evidence."""
    why = sim_can_diagnose()
    if why:
        pytest.skip(why)
    need("textgrad")
    from undertow.bench.sim import SimLLM

    got = capture_peer("textgrad:tgd", scenario, tmp_path).first(SimLLM(seed=0), role)
    assert got is not None, f"no {role} request from textgrad:tgd"
    diagnosis = got[1]
    assert diagnosis.evidence is True
    inputs = {x.input for x in scenario.items}
    read = [v.item for v in diagnosis.items if v.item]  # blocks without an item: critiques quoted
    assert read and set(read) <= inputs


def test_copro_request_shows_no_outputs_so_it_is_a_guess(scenario, tmp_path):
    """COPRO's proposal request carries only the instruction: the simulator must not
    claim evidence it was not shown."""
    why = sim_can_diagnose()
    if why:
        pytest.skip(why)
    need("dspy")
    from undertow.bench.sim import SimLLM

    got = capture_peer("dspy:copro", scenario, tmp_path).first(SimLLM(seed=0), "optimize")
    assert got is not None and got[1].evidence is False
