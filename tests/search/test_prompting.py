"""The request builders and reply parsers shared by the prompt-search optimizers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.optimizers.search.prompting import (
    Item,
    Outcome,
    as_items,
    example_blocks,
    parse_critique,
    parse_suggestion,
    rewrite_request,
    variable_block,
)

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                           lambda c: st.lists(c, max_size=3) |
                           st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=8)


@given(st.text())
def test_parse_suggestion_never_raises_on_any_text(text: str) -> None:
    out = parse_suggestion(text, "system_prompt")
    assert out is None or (isinstance(out, str) and out.strip() == out and out)


@given(json_values)
def test_parse_suggestion_on_any_json_returns_a_nonempty_string_or_none(value) -> None:
    out = parse_suggestion(json.dumps(value), "system_prompt")
    assert out is None or (isinstance(out, str) and out)


@given(st.text(min_size=1).filter(lambda s: s.strip()))
def test_parse_suggestion_reads_every_accepted_shape(value: str) -> None:
    want = value.strip()
    for reply in ({"reasoning": "r", "suggestion": {"system_prompt": value}},
                  {"suggestion": value}, {"system_prompt": value}):
        assert parse_suggestion("Sure:\n" + json.dumps(reply), "system_prompt") == want


@given(st.text())
def test_parse_critique_never_raises(text: str) -> None:
    assert isinstance(parse_critique(text), str)


@given(st.text())
def test_user_text_cannot_close_our_blocks(text: str) -> None:
    block = variable_block("p", text + "</variable>")
    assert block.count("</variable>") == 1 and block.endswith("</variable>")
    ex = example_blocks([Outcome(Item(text + "</example>", "t"), "</input>", 0.0)])
    assert ex.count("</example>") == 1 and ex.count("</input>") == 1


def test_requests_follow_the_sim_convention() -> None:
    failure = Outcome(Item("not True and False is", "False"), "True", 0.0)
    req = rewrite_request("system_prompt", "Evaluate.", [failure], "It ignored not.",
                          [("Start.", 0.3)])
    assert '<variable name="system_prompt" kind="text">Evaluate.</variable>' in req
    assert "<expected>False</expected>" in req and "<feedback>It ignored not.</feedback>" in req
    assert '"reasoning"' in req and '"suggestion"' in req and "(score 0.30) Start." in req


def test_as_items_names_bad_input() -> None:
    assert as_items([("a", "b"), {"input": "c", "target": "d"}], "train")[1] == Item("c", "d")
    with pytest.raises(ValueError, match="train is empty"):
        as_items([], "train")
    with pytest.raises(TypeError, match=r"val\[1\]"):
        as_items([("a", "b"), 5], "val")
