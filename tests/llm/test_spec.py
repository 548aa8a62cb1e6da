"""Spec strings pick a backend; anything else is a clear SpecError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.engine.llm import Spec, SpecError, parse_spec


@pytest.mark.parametrize("text, expected", [
    ("sim", Spec("sim", "sim")),
    ("sim:sim", Spec("sim", "sim")),
    ("openai/gpt-4o-mini", Spec("openai", "gpt-4o-mini")),
    ("anthropic/claude-3-5-haiku-latest", Spec("anthropic", "claude-3-5-haiku-latest")),
    ("gemini/gemini-2.0-flash", Spec("litellm", "gemini/gemini-2.0-flash")),
    ("ollama_chat/llama3:8b", Spec("litellm", "ollama_chat/llama3:8b")),
    ("litellm:bedrock/anthropic.claude-3", Spec("litellm", "bedrock/anthropic.claude-3")),
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
    ("sim:foo", "one model"),
    ("sim/foo", "one model"),
    ("openai/", "model name"),
    ("litellm:gpt-4o", "PROVIDER/MODEL"),
    ("openai-compatible/m", "openai-compatible:"),
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
    assert spec.provider in ("openai", "anthropic", "openai-compatible", "litellm", "sim")
    assert spec.model and not any(c.isspace() for c in spec.model)


@given(st.sampled_from(["openai", "anthropic", "gemini", "ollama_chat", "bedrock"]),
       st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,30}", fullmatch=True))
def test_litellm_style_strings_round_trip(provider: str, model: str) -> None:
    spec = parse_spec(f"{provider}/{model}")
    native = provider in ("openai", "anthropic")
    assert spec.provider == (provider if native else "litellm")
    assert spec.model == (model if native else f"{provider}/{model}")
    assert parse_spec(str(spec)) == spec
