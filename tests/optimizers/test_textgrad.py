"""TextGrad-style descent: end to end on the simulator (llm=sim), constraints, fuzzed replies, resume."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from undertow.engine import Parameter, TextualPropagator, backward
from undertow.engine.llm import Budget, BudgetExceeded, llm_call, make_llm
from undertow.optimizers import _prompting as pr
from undertow.optimizers.textgrad import TAG, TextGrad

from ._tg_opro_task import SPLITS, START, accuracy, feedback, scripted_llm


def _train_step(llm, prompt: Parameter, opt: TextGrad, batch) -> None:
    outs = [llm_call(llm, e.input, system=prompt) for e in batch]
    backward(outs, [feedback(o.value, e.target) for o, e in zip(outs, batch, strict=True)],
             TextualPropagator(llm))
    opt.step()
    opt.zero_feedback()


@pytest.mark.parametrize("momentum", [0, 2])
def test_held_out_accuracy_improves_on_the_simulator(momentum):
    llm = make_llm("sim", cache_dir=False, seed=0)
    prompt = Parameter(START, name="system_prompt")
    opt = TextGrad([prompt], llm, momentum=momentum)
    before = accuracy(llm, prompt.value, SPLITS.test)
    for s in range(3):
        _train_step(llm, prompt, opt, SPLITS.train[5 * s:5 * s + 5])
    after = accuracy(llm, prompt.value, SPLITS.test)
    assert after >= before + 0.2, (before, after, prompt.value)   # llm=sim
    assert prompt.value.startswith(START)
    entry = opt.log[0]
    assert entry.accepted and entry.old == START
    assert "<variable name=\"system_prompt\" kind=\"text\">" in entry.meta["prompt"][1]["content"]
    assert f"<{TAG}>" in entry.meta["reply"] and entry.meta["critiques"]
    if momentum:
        assert "<past_value" in opt.log[-1].meta["prompt"][1]["content"]


def test_constraint_violations_are_rejected_and_logged():
    llm = make_llm("sim", cache_dir=False)
    prompt = Parameter(START, name="system_prompt", max_length=len(START) + 5)
    opt = TextGrad([prompt], llm)
    _train_step(llm, prompt, opt, SPLITS.train[:4])
    (entry,) = opt.log
    assert not entry.accepted and "max_length" in entry.reason
    assert prompt.value == START


def test_parameters_without_critiques_are_left_alone_and_wrong_feedback_is_named():
    a, b = Parameter("alpha", name="a"), Parameter("beta", name="b")
    opt = TextGrad([a, b], make_llm("sim", cache_dir=False))
    assert opt.step() == [] and opt.steps == 1
    backward(a + "!", "too short")   # the subgraph propagator: not critiques
    with pytest.raises(TypeError, match="TextualPropagator"):
        opt.step()


@pytest.mark.parametrize("reply, expected", [
    (f"Reasoning mentions <{TAG}> tags.\n<{TAG}>\n  new value \n</{TAG}>", "new value"),
    ("no tags at all", None),
    (f"<{TAG}>unterminated", None),
    (f"<{TAG}>   </{TAG}>", None),
])
def test_reply_parsing(reply, expected):
    p = Parameter("old", name="p")
    p.feedback.append("make it new")
    opt = TextGrad([p], scripted_llm(reply))
    (proposal,) = opt.step()
    assert p.value == (expected or "old")
    assert proposal.accepted == (expected is not None)
    assert proposal.meta["reply"] == reply


class Cfg(BaseModel):
    depth: int
    mode: str


def _params() -> list[Parameter]:
    return [Parameter("keep me", name="text", max_length=40),
            Parameter(0.5, name="rate", bounds=(0.0, 1.0)),
            Parameter(3, name="count", bounds=(1, 9)),
            Parameter("b", kind="choice", choices=["a", "b", 7], name="pick"),
            Parameter({"depth": 1, "mode": "x"}, schema=Cfg, name="cfg"),
            Parameter("def f(x):\n    return x\n", kind="code", name="f")]


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=8)
_replies = (st.text(max_size=200)
            | _json.map(json.dumps)
            | _json.map(lambda v: f"ok\n<{TAG}>{json.dumps(v)}</{TAG}>")
            | st.text(max_size=60).map(lambda t: f"<{TAG}>{t}</{TAG}>")
            | st.sampled_from(["0.25", "7", "1e400", "nan", "3.0", "3.5", "a", "def f(y):\n    return y",
                               "def f(x):\n    return x + 1", '{"depth": 2, "mode": "y"}', '{"depth": "deep"}'])
            .map(lambda t: f"<{TAG}>{t}</{TAG}>"))


@given(_replies)
def test_arbitrary_replies_never_corrupt_a_parameter(reply):
    params = _params()
    for p in params:
        p.feedback.append("change it")
    before = [p.value for p in params]
    opt = TextGrad(params, scripted_llm(reply))
    proposals = opt.step()
    assert len(proposals) == len(params) == len(opt.log)
    for p, old, prop in zip(params, before, proposals, strict=True):
        assert p.validate(p.value) == p.value          # constraints hold
        assert p.value == old or prop.accepted         # only an accepted proposal changes a value
        assert prop.accepted or prop.reason
    json.dumps(opt.state_dict())                       # the state stays plain JSON


def test_state_round_trip_resumes_identically():
    def run(resume: bool) -> tuple[str, list]:
        llm = make_llm("sim", cache_dir=False)
        prompt = Parameter(START, name="system_prompt")
        opt = TextGrad([prompt], llm, momentum=2)
        _train_step(llm, prompt, opt, SPLITS.train[:5])
        if resume:
            state = json.loads(json.dumps(opt.state_dict()))
            prompt = Parameter(START, name="system_prompt")
            opt = TextGrad([prompt], llm, momentum=2)
            opt.load_state_dict(state)
        _train_step(llm, prompt, opt, SPLITS.train[5:10])
        return prompt.value, [p.model_dump() for p in opt.log]

    straight, resumed = run(False), run(True)
    assert straight == resumed
    assert "<past_value" in resumed[1][-1]["meta"]["prompt"][1]["content"]


_no_tag = st.text(max_size=80).filter(lambda t: "<" not in t and ">" not in t)


@given(_no_tag, _no_tag, _no_tag)
def test_tagged_reads_the_last_pair_whatever_surrounds_it(before, value, after):
    text = f"{before} mentions <{TAG}> and </{TAG}>.\n<{TAG}>{value}</{TAG}>{after}"
    assert pr.tagged(text, TAG) == value.strip()
    with pytest.raises(pr.ReplyError):
        pr.tagged(before + value, TAG)


def test_a_budget_stop_changes_nothing():
    llm = make_llm("sim", cache_dir=False)
    a, b = Parameter(START, name="a"), Parameter(START, name="b")
    opt = TextGrad([a, b], llm)
    outs = [llm_call(llm, e.input, system=a + b) for e in SPLITS.train[:3]]
    backward(outs, ["Wrong"] * 3, TextualPropagator(llm))
    llm.accounting.budget = Budget(max_calls=llm.accounting.summary()["total"]["calls"] + 1)
    with pytest.raises(BudgetExceeded):
        opt.step()                       # two requests, one call left
    assert a.value == START and b.value == START and opt.log == []


def test_a_reply_fed_alone_into_a_parser_is_critiqued_with_the_item_it_answered():
    """A critique request on an intermediate (a reply that a parser reads alone) carries the
    task item the reply answered, so a critic can judge the reply against it."""
    from undertow.bench.sim import SimLLM
    from undertow.engine import op
    from undertow.engine.propagators.textual import critique_request

    @op
    def final_answer(reply: str) -> str:
        """the last line of the reply"""
        return reply.strip().splitlines()[-1]

    llm = make_llm("sim", cache_dir=False, seed=0)
    item = SPLITS.train[0]
    prompt = Parameter(START, name="system_prompt")
    reply = llm_call(llm, item.input, system=prompt)
    out = final_answer(reply)
    messages = critique_request(reply, out, [feedback(out.value, item.target)], 2000, "reply")
    body = messages[1]["content"]
    assert item.input.strip()[:40] in body
    assert "<input></input>" not in body
    (seen,) = SimLLM(seed=0).diagnose(messages).items
    assert seen.item is not None                        # the critic can find the item
