"""Reading OptoPrime replies: the parser, name matching, value coercion, and the
invariant that no reply (JSON of any shape, or junk) corrupts a parameter."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from undertow.engine import Parameter, backward
from undertow.optimizers.opto import (
    REPLY_ENTRY,
    OptoPrime,
    SuggestionError,
    coerce,
    match_name,
    parse_reply,
)


class ScriptedLLM:
    """Stands in for a provider that returns the given texts (the sim never writes junk)."""

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.requests: list = []

    def complete(self, messages, **params):
        self.requests.append(messages)
        text = self.texts.pop(0) if len(self.texts) > 1 else self.texts[0]
        return type("Reply", (), {"text": text})()


# -- parse_reply --------------------------------------------------------------
@pytest.mark.parametrize("text", [
    '{"reasoning": "r", "suggestion": {"x": 1}}',
    'Sure!\n```json\n{"reasoning": "r", "suggestion": {"x": 1}}\n```\nDone.',
    'Here it is: {"reasoning": "r", "suggestion": {"x": 1}} hope it helps',
    '{"Reasoning": "r", "Suggestion": "{\\"x\\": 1}"}',
])
def test_parse_reply_finds_the_object_wherever_it_is(text):
    parsed = parse_reply(text)
    assert parsed.error is None and parsed.suggestion == {"x": 1} and parsed.reasoning == "r"


@pytest.mark.parametrize("text", ['{"reasoning": "fine as is", "suggestion": {}}',
                                  '{"reasoning": "fine", "suggestion": null}',
                                  '{"reasoning": "fine", "suggestion": ""}'])
def test_nothing_to_change(text):
    parsed = parse_reply(text)
    assert parsed.error is None and parsed.suggestion == {}


@pytest.mark.parametrize("text, problem", [
    ("I would change x to 3.", "no JSON object"),
    ("[1, 2, 3]", "no JSON object"),
    ('{"suggestion": [1, 2]}', "not a map"),
    ('{"suggestion": "make it bigger"}', "not a map"),
])
def test_unusable_replies_say_why(text, problem):
    parsed = parse_reply(text)
    assert parsed.error is not None and problem in parsed.error and parsed.suggestion == {}


def test_top_level_variable_keys_are_read_without_a_suggestion_key():
    assert parse_reply('{"reasoning": "r", "x": 2}').suggestion == {"x": 2}


@given(st.text(max_size=300))
def test_parse_reply_never_raises(text):
    parsed = parse_reply(text)
    assert isinstance(parsed.suggestion, dict)
    assert parsed.error is None or parsed.suggestion == {}


# -- names ----------------------------------------------------------------------
@pytest.mark.parametrize("key, expected", [
    ("x0", "x0"), ("x", "x0"), ("X0", "x0"), (" #x0 ", "x0"), ("(float) x0", "x0"),
    ("`x0`", "x0"), ("System Prompt", "system_prompt"), ("system-prompt", "system_prompt"),
    ("render.code", "render.code"),
])
def test_match_name_variants(key, expected):
    assert match_name(key, ["x0", "system_prompt", "render.code"]) == expected


def test_match_name_refuses_ambiguity_and_unknown_names():
    with pytest.raises(SuggestionError, match="several variables"):
        match_name("x", ["x0", "x1"])
    with pytest.raises(SuggestionError, match="names no variable; use one of: a, b"):
        match_name("zzz", ["a", "b"])


# -- values ---------------------------------------------------------------------
def test_strings_of_numbers_lists_and_maps_become_values():
    assert coerce(Parameter(1, name="n"), "3") == 3
    assert coerce(Parameter(1, name="n"), " 4.0 ") == 4
    assert coerce(Parameter(1.0, name="f"), "2.5") == 2.5
    assert coerce(Parameter([0], name="j"), "[1, 2]") == [1, 2]
    assert coerce(Parameter({"a": 1}, name="j"), '{"a": 2}') == {"a": 2}
    assert coerce(Parameter({"a": 1}, name="j"), "{'a': 3}") == {"a": 3}
    assert coerce(Parameter("red", kind="choice", choices=["red", "blue"], name="c"), "Blue") == "blue"
    assert coerce(Parameter(True, name="b"), "false") is False


def test_no_list_of_characters_and_no_silent_truncation():
    with pytest.raises(SuggestionError, match="not JSON data"):
        coerce(Parameter(["a"], name="j"), "abc")
    assert coerce(Parameter("text", name="t"), "[1, 2]") == "[1, 2]"   # text stays text
    with pytest.raises(SuggestionError, match="2.5 is not a whole number"):
        coerce(Parameter(1, name="n"), "2.5")
    with pytest.raises(SuggestionError, match="not a whole number"):
        coerce(Parameter(1, name="n"), 2.5)
    with pytest.raises(SuggestionError, match="not a number"):
        coerce(Parameter(1.0, name="f"), "two")
    with pytest.raises(SuggestionError, match="outside the bounds"):
        coerce(Parameter(1, bounds=(0, 5), name="n"), "9")
    with pytest.raises(SuggestionError, match="boolean"):
        coerce(Parameter(1, name="n"), True)


def test_schema_json_and_code_signature_are_enforced():
    class Cfg(BaseModel):
        k: int

    cfg = Parameter({"k": 1}, kind="json", schema=Cfg, name="cfg")
    assert coerce(cfg, '{"k": "2"}') == {"k": 2}
    with pytest.raises(SuggestionError, match="schema check failed"):
        coerce(cfg, '{"k": "many"}')
    code = Parameter("def f(a, b):\n    return a + b\n", kind="code", name="f.code")
    assert coerce(code, "```python\ndef f(a, b):\n    return a * b\n```") == "def f(a, b):\n    return a * b\n"
    with pytest.raises(SuggestionError, match="keep the function's name and parameters"):
        coerce(code, "def f(a):\n    return a\n")


# -- the invariant: whatever the reply, parameters stay valid -----------------------
def _params():
    return [Parameter("Be brief.", name="prompt"),
            Parameter(3, bounds=(0, 10), name="k0"),
            Parameter(0.5, bounds=(0.0, 1.0), name="rate"),
            Parameter("a", kind="choice", choices=["a", "b"], name="mode"),
            Parameter(["x"], name="tags"),
            Parameter("def g(v):\n    return v\n", kind="code", name="g.code")]


names = st.sampled_from(["prompt", "k", "K0", "#rate", "Mode", "tags", "g.code", "g", "zz", ""])
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                           | st.text(max_size=30)
                           | st.sampled_from(["7", "2.5", "[1, 2]", "b", "def g(v):\n    return 2 * v\n",
                                              "def h(v):\n    return v\n"]),
                           lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=3),
                           max_leaves=6)
replies = st.one_of(
    st.text(max_size=200),
    st.builds(lambda s: json.dumps({"reasoning": "r", "suggestion": s}),
              st.dictionaries(names, json_values, max_size=5)),
    st.builds(lambda s: json.dumps({"reasoning": "r", "suggestion": s}), json_values),
    st.builds(json.dumps, json_values),
)


@given(replies)
def test_no_reply_corrupts_a_parameter(reply):
    params = _params()
    before = {p.name: p.value for p in params}
    out = params[0] + str(params[1].value)
    for p in params[1:]:
        out = out + str(p.value) if p.kind != "json" else out
    backward(out, "wrong")
    for p in params[1:]:        # every parameter receives feedback
        backward(p + 0 if p.kind in ("int", "float") else p.eq(p.value), "wrong")
    opt = OptoPrime(params, ScriptedLLM(reply))
    proposals = opt.step()
    accepted = {p.parameter: p.new for p in proposals if p.accepted}
    for p in params:
        assert p.validate(p.value) == p.value
        assert p.value == accepted.get(p.name, before[p.name])
    assert all("prompt" in p.meta and p.meta["reply"] == reply for p in proposals)
    json.dumps(opt.state_dict())           # the log stays JSON


def test_step_logs_junk_and_empty_answers_and_feeds_rejections_back():
    x = Parameter(2, bounds=(0, 9), name="x0")
    backward(x + 1, "too small")
    llm = ScriptedLLM("no idea", '{"reasoning": "ok", "suggestion": {}}',
                      '{"reasoning": "r", "suggestion": {"x": "2.5"}}',
                      '{"reasoning": "r", "suggestion": {"x": "7"}}')
    opt = OptoPrime([x], llm, repair=False)  # the repair round is tested in test_optoprime_repair.py
    (junk,) = opt.step()
    assert junk.parameter == REPLY_ENTRY and not junk.accepted and "no JSON object" in junk.reason
    assert junk.meta["reply"] == "no idea" and "#Variables" in junk.meta["prompt"]
    (empty,) = opt.step()
    assert empty.reason == "the reply suggests no change" and x.value == 2
    (bad,) = opt.step()
    assert not bad.accepted and "2.5 is not a whole number" in bad.reason and x.value == 2
    (good,) = opt.step()
    assert good.accepted and x.value == 7
    third_prompt = llm.requests[3][1]["content"]
    assert "#Rejected" in third_prompt and "2.5 is not a whole number" in third_prompt


def test_code_that_breaks_the_signature_is_refused_and_the_reason_shown_next_step():
    code = Parameter("def policy(board):\n    return 0\n", kind="code", name="policy.code")
    backward(code.eq("x"), "the policy always shoots the same cell")
    bad = json.dumps({"reasoning": "r", "suggestion": {"policy": "def policy(board, rng):\n    return 1\n"}})
    good = json.dumps({"reasoning": "r", "suggestion": {"policy.code": "def policy(board):\n    return 1\n"}})
    llm = ScriptedLLM(bad, good)
    opt = OptoPrime([code], llm)
    (refused,) = opt.step()
    assert not refused.accepted and refused.parameter == "policy.code"
    assert "keep the function's name and parameters" in refused.reason
    assert code.value == "def policy(board):\n    return 0\n"
    (accepted,) = opt.step()
    assert accepted.accepted and code.value.endswith("return 1\n")
    second = llm.requests[1][1]["content"]
    assert "#Rejected" in second and "def policy(board, rng)" in second
