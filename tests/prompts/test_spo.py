"""SPO never reads a target or the metric, judges in both orders, and keeps the current
prompt on a split (position-biased) verdict."""

from __future__ import annotations

import json

from undertow.engine import Parameter
from undertow.optimizers.prompts import SPO
from undertow.optimizers.prompts.spo import parse_verdict

from tests.prompts.helpers import WordProgram, items, scripted, suggest


def _raising_metric(prediction: str, target: str) -> float:
    raise AssertionError("SPO must not call the task metric")


def _llm(judge):
    def fn(text: str, request) -> str:
        if "Which response is better?" in text:
            return judge(text)
        return suggest("p", "better prompt")
    return scripted(fn)


def _first_side_has_fewer_wrongs(text: str) -> str:
    a, b = text.split('<response name="B">')
    return json.dumps({"reasoning": "fewer wrong outputs", "better": "A" if a.count("wrong") < b.count("wrong") else "B"})


def test_spo_adopts_a_prompt_the_judge_prefers_in_both_orders_without_labels():
    p = Parameter("start", kind="text", name="p")
    prog = WordProgram([p], {"start": 0.2, "better": 1.0}, score=_raising_metric)
    llm, backend = _llm(_first_side_has_fewer_wrongs)
    spo = SPO(prog, llm, train=items(10), n_inputs=4)
    proposals = spo.step()
    assert p.value == "better prompt" and proposals[0].accepted
    assert spo.verdicts[0]["verdicts"] == ["B", "A"]  # new is B first, then A after the swap
    # no target ever reached a model: items' targets are T<i>, outputs may be T<i> only if right
    judged = [s for s in backend.seen if "Which response is better?" in s]
    assert len(judged) == 2 and all("<expected>" not in s for s in backend.seen)


def test_position_bias_is_cancelled_by_the_swap():
    p = Parameter("start", kind="text", name="p")
    prog = WordProgram([p], {"start": 0.2, "better": 1.0}, score=_raising_metric)
    llm, _ = _llm(lambda text: json.dumps({"reasoning": "first is best", "better": "A"}))
    spo = SPO(prog, llm, train=items(10))
    assert spo.step() == []
    assert p.value == "start"
    assert spo.verdicts[0]["verdicts"] == ["A", "A"] and "split" in spo.verdicts[0]["winner"]


def test_unreadable_verdicts_keep_the_current_prompt_and_state_resumes():
    p = Parameter("start", kind="text", name="p")
    llm, _ = _llm(lambda text: "I cannot decide.")
    spo = SPO(WordProgram([p], {"better": 1.0}, score=_raising_metric), llm, train=items(5))
    spo.step()
    assert p.value == "start"
    state = spo.state_dict()
    spo2 = SPO(WordProgram([Parameter("start", kind="text", name="p")], {}), llm, train=items(5))
    spo2.load_state_dict(state)
    assert spo2.verdicts == spo.verdicts and spo2.steps == 1


def test_parse_verdict():
    assert parse_verdict('{"better": "B"}') == "B"
    assert parse_verdict('{"better": "Response A"}') == "A"
    assert parse_verdict('{"better": "both"}') is None
    assert parse_verdict("Response B is better.") == "B"
    assert parse_verdict("Response A is clearer but response B is right") is None


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.text(max_size=300))
def test_parse_verdict_never_raises_and_answers_a_b_or_none(text):
    assert parse_verdict(text) in ("A", "B", None)


@given(st.sampled_from(["A", "B"]), st.text(max_size=80))
def test_parse_verdict_reads_the_json_key_whatever_the_reasoning(side, reasoning):
    assert parse_verdict(json.dumps({"reasoning": reasoning, "better": side})) == side
