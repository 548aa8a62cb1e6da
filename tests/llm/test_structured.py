"""Structured output: JSON pulled tolerantly from replies; only StructuredOutputError escapes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel
from undertow.engine.llm import StructuredOutputError, extract_json, parse_structured


class Verdict(BaseModel):
    answer: str
    confidence: float


@pytest.mark.parametrize("text, expected", [
    ('{"a": 1}', {"a": 1}),
    ('```json\n{"a": [1, 2]}\n```', {"a": [1, 2]}),
    ('Sure! Here it is:\n```\n{"a": true}\n```\nHope that helps.', {"a": True}),
    ('The result is {"a": null} as requested. {not json}', {"a": None}),
    ("{'a': 'single', 'b': True, 'c': None}", {"a": "single", "b": True, "c": None}),
    ('{"a": 1, "b": [1, 2,],}', {"a": 1, "b": [1, 2]}),
    ("prefix {'x': true, 'y': null} suffix", {"x": True, "y": None}),
    ("[1, 2, 3] trailing words", [1, 2, 3]),
    ("42", 42),
    ('```json\n{"a": "unterminated fence"}', {"a": "unterminated fence"}),
])
def test_extracts_json(text: str, expected: object) -> None:
    assert extract_json(text) == expected


@pytest.mark.parametrize("text", ["", "no json here", "{broken", "{'a': }", "[1, 2"])
def test_no_json_is_a_clear_error(text: str) -> None:
    with pytest.raises(StructuredOutputError, match="could not read structured output"):
        extract_json(text)


def test_schema_picks_the_candidate_that_validates() -> None:
    text = 'Example: {"foo": 1}. Answer: {"answer": "yes", "confidence": 0.9}'
    assert parse_structured(text, Verdict) == Verdict(answer="yes", confidence=0.9)


def test_schema_mismatch_names_the_field() -> None:
    with pytest.raises(StructuredOutputError, match="confidence"):
        parse_structured('{"answer": "yes"}', Verdict)


def test_plain_types_and_json_schema_dicts() -> None:
    assert parse_structured("[1, 2]", list[int]) == [1, 2]
    assert parse_structured('{"a": 1}', {"type": "object"}) == {"a": 1}


def test_non_text_is_its_own_error() -> None:
    with pytest.raises(StructuredOutputError, match="expected reply text"):
        extract_json(None)  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)


@given(st.text())
def test_extractor_only_raises_its_own_error(text: str) -> None:
    for schema in (None, Verdict):
        try:
            parse_structured(text, schema)
        except StructuredOutputError:
            pass


@given(st.text(alphabet="{}[]'\":,\\ \n`truefalsnl0123456789.-abcjso", max_size=200))
def test_extractor_only_raises_its_own_error_on_jsonish_text(text: str) -> None:
    try:
        extract_json(text)
    except StructuredOutputError:
        pass


@given(st.dictionaries(st.text(max_size=6), json_values, min_size=1, max_size=4),
       st.text(alphabet=st.characters(blacklist_characters="{}[]'\"`"), max_size=40),
       st.text(alphabet=st.characters(blacklist_characters="{}[]'\"`"), max_size=40),
       st.booleans())
def test_an_object_in_prose_is_recovered(obj: dict, before: str, after: str, fenced: bool) -> None:
    body = json.dumps(obj, indent=1)
    text = f"{before}\n```json\n{body}\n```\n{after}" if fenced else f"{before} {body} {after}"
    assert extract_json(text) == obj


def test_absurd_nesting_is_our_error() -> None:
    with pytest.raises(StructuredOutputError):
        extract_json("[" * 100_000)
