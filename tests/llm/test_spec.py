"""Spec strings pick a backend; anything else is a clear SpecError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.engine.llm import Spec, SpecError, parse_spec


@pytest.mark.parametrize("text, expected", [
    ("sim", Spec("sim", "sim")),
    ("sim:fast", Spec("sim", "fast")),
    ("openai:gpt-4o-mini", Spec("openai", "gpt-4o-mini")),
    ("anthropic:claude-3-5-haiku-latest", Spec("anthropic", "claude-3-5-haiku-latest")),
    ("openai-compatible:http://localhost:8000/v1#llama3:8b",
     Spec("openai-compatible", "llama3:8b", "http://localhost:8000/v1")),
    ("openai-compatible:https://host/v1/#m", Spec("openai-compatible", "m", "https://host/v1")),
])
def test_good_specs(text: str, expected: Spec) -> None:
    assert parse_spec(text) == expected
    assert parse_spec(str(expected)) == expected


@pytest.mark.parametrize("text, words", [
    ("gpt-4o", "PROVIDER:MODEL"),
    ("azure:gpt-4o", "unknown provider"),
    ("openai:", "model name"),
    ("openai:gpt 4", "spaces"),
    ("openai-compatible:http://localhost:8000/v1", "URL#MODEL"),
    ("openai-compatible:localhost:8000#m", "not an http(s) URL"),
    ("openai-compatible:http://h/v1#", "model name"),
])
def test_bad_specs_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(SpecError, match="bad LLM spec") as info:
        parse_spec(text)
    assert words in str(info.value)
    assert "Examples" in str(info.value)


def test_non_string_spec() -> None:
    with pytest.raises(SpecError, match="expected a string"):
        parse_spec(42)  # type: ignore[arg-type]


@given(st.text())
def test_parser_only_raises_spec_error(text: str) -> None:
    try:
        spec = parse_spec(text)
    except SpecError:
        return
    assert spec.provider in ("openai", "anthropic", "openai-compatible", "sim")
    assert spec.model and not any(c.isspace() for c in spec.model)
