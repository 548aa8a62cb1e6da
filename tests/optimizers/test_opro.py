"""OPRO: end to end on the simulator (llm=sim), the meta-prompt, fuzzed replies, resume."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.engine import Parameter
from undertow.engine.llm import make_llm
from undertow.optimizers import _prompting as pr
from undertow.optimizers.opro import OPRO, Evaluation

from ._tg_opro_task import SPLITS, START, accuracy, answers, scripted_llm


def _evaluator(llm, *, show_failures: bool = True):
    """Training-batch accuracy, with the failed items as examples (when asked)."""
    def evaluate(value: str) -> Evaluation:
        results = answers(llm, value, SPLITS.train)
        failed = [{"input": e.input, "output": text, "expected": e.target}
                  for (text, score), e in zip(results, SPLITS.train, strict=True) if not score]
        return Evaluation(sum(s for _, s in results) / len(results), failed if show_failures else [])
    return evaluate


def test_held_out_accuracy_improves_on_the_simulator():
    llm = make_llm("sim", cache_dir=False, seed=0)
    prompt = Parameter(START, name="system_prompt")
    opt = OPRO([prompt], llm, _evaluator(llm), k=4, examples=SPLITS.train[:2])
    before = accuracy(llm, prompt.value, SPLITS.test)
    for _ in range(3):
        opt.step()
    after = accuracy(llm, prompt.value, SPLITS.test)
    assert after >= before + 0.2, (before, after, prompt.value)   # llm=sim
    scores = [h["score"] for h in opt.history]
    assert opt.score_of(prompt.value) == max(scores) > scores[0]
    assert len(opt.log) == 3 * 4 and sum(p.accepted for p in opt.log) >= 1
    for p in opt.log:
        assert p.meta["prompt"] and p.meta["reply"] and p.reason


def test_the_meta_prompt_sorts_solutions_ascending_and_shows_failures():
    llm = make_llm("sim", cache_dir=False)
    prompt = Parameter(START, name="system_prompt")
    opt = OPRO([prompt], llm, _evaluator(llm), k=3, top=3)
    opt.step()
    opt.step()
    text = opt.log[-1].meta["prompt"][1]["content"]
    shown = [float(s.split('"')[0]) for s in text.split('<solution score="')[1:]]
    earlier = [h["score"] for h in opt.history if h["step"] < 1]   # scored before step 1's request
    assert shown == sorted(shown) == sorted(earlier)[-3:]
    assert '<variable name="system_prompt" kind="text">' in text
    assert "<output>" in text and "<expected>" in text


def test_only_a_better_value_is_applied():
    llm = make_llm("sim", cache_dir=False)
    prompt = Parameter(START, name="system_prompt")
    opt = OPRO([prompt], llm, lambda v: 1.0 if v == START else 0.0, k=3)
    proposals = opt.step()
    assert prompt.value == START and not any(p.accepted for p in proposals)
    assert all("does not beat" in p.reason or "already tried" in p.reason for p in proposals)


def test_bad_configuration_and_bad_scores_are_named():
    llm = make_llm("sim", cache_dir=False)
    a, b = Parameter("a", name="a"), Parameter("b", name="b")
    with pytest.raises(ValueError, match="one parameter"):
        OPRO([a, b], llm, len)
    with pytest.raises(ValueError, match="temperature"):
        OPRO([a], llm, len, temperature=0)
    with pytest.raises(ValueError, match="finite number"):
        OPRO([a], llm, lambda v: float("nan")).step()
    with pytest.raises(ValueError, match="example keys"):
        OPRO([a], llm, len, examples=[{"question": "?"}])


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=8)
_replies = (st.text(max_size=200)
            | _json.map(json.dumps)
            | _json.map(lambda v: json.dumps({"reasoning": "r", "suggestion": {"x": v}}))
            | _json.map(lambda v: json.dumps({"suggestion": v}))
            | _json.map(lambda v: json.dumps({"new_value": v})))


@given(_replies, st.sampled_from(["text", "float", "int", "choice", "json"]))
def test_arbitrary_replies_never_corrupt_the_parameter(reply, kind):
    initial = {"text": "start", "float": 0.5, "int": 2, "choice": "b", "json": {"a": [1]}}[kind]
    extra = {"text": {"max_length": 30}, "float": {"bounds": (0.0, 1.0)}, "int": {"bounds": (0, 5)},
             "choice": {"choices": ["a", "b", 3]}, "json": {}}[kind]
    x = Parameter(initial, kind=kind, name="x", **extra)
    opt = OPRO([x], scripted_llm(reply), lambda v: float(len(json.dumps(v)) % 5), k=2)
    proposals = opt.step()
    assert len(proposals) == 2
    assert x.validate(x.value) == x.value
    assert x.value == initial or any(p.accepted for p in proposals)
    json.loads(json.dumps(opt.state_dict()))


def test_state_round_trip_resumes_identically():
    def run(resume: bool):
        llm = make_llm("sim", cache_dir=False)
        prompt = Parameter(START, name="system_prompt")
        opt = OPRO([prompt], llm, _evaluator(llm), k=3)
        opt.step()
        if resume:
            state = json.loads(json.dumps(opt.state_dict()))
            prompt = Parameter(START, name="system_prompt")
            opt = OPRO([prompt], llm, _evaluator(llm), k=3)
            opt.load_state_dict(state)
        opt.step()
        return prompt.value, opt.history, [p.model_dump() for p in opt.log]

    assert run(False) == run(True)


@given(st.integers(-10**6, 10**6))
def test_coerce_reads_ints_exactly(n):
    p = Parameter(0, name="n")
    assert pr.coerce(p, str(n)) == n == pr.coerce(p, f"{n}.0")
    with pytest.raises(pr.ReplyError):
        pr.coerce(p, f"{n}.5")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_coerce_reads_floats_exactly(x):
    assert pr.coerce(Parameter(0.0, name="x"), repr(x)) == x


@given(_json, st.text(max_size=30))
def test_json_value_finds_the_suggestion_or_says_why_not(value, noise):
    text = f"{noise.replace('{', '').replace('[', '')}\n" + json.dumps({"reasoning": "r", "suggestion": {"x": value}})
    assert json.dumps(pr.json_value(text, "x")) == json.dumps(value)
    try:
        pr.json_value(noise, "x")
    except pr.ReplyError:
        pass
