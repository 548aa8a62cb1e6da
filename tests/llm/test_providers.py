"""Provider strings and the SDKs' standard variables: `OPENAI_BASE_URL` and
`ANTHROPIC_BASE_URL` alone lead a client to the sim-server, in both spec forms; prices
come from LiteLLM's table when it is installed."""

from __future__ import annotations

import importlib.util

import pytest
from undertow.engine.llm import Accounting, MissingAPIKeyError, make_llm

QUESTION = "Sort these words alphabetically: pear apple fig"
_SDK_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL",
             "ANTHROPIC_AUTH_TOKEN")


@pytest.fixture
def clean_env(monkeypatch):
    for name in _SDK_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("spec", ["openai/sim", "openai:sim"])
def test_openai_base_url_alone_reaches_the_server(clean_env, llm_server, llm_sim, spec) -> None:
    clean_env.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    llm = make_llm(spec, cache_dir=False)
    expected = llm_sim.complete([{"role": "user", "content": QUESTION}]).text
    assert llm.complete(QUESTION).text == expected
    assert llm.backend.endpoint == llm_server.openai_base_url
    assert llm_server.stats()["requests"] == 1


@pytest.mark.parametrize("spec", ["anthropic/sim", "anthropic:sim"])
def test_anthropic_base_url_alone_reaches_the_server(clean_env, llm_server, llm_sim, spec) -> None:
    clean_env.setenv("ANTHROPIC_BASE_URL", llm_server.anthropic_base_url)
    llm = make_llm(spec, cache_dir=False)
    assert llm.complete(QUESTION).text == llm_sim.complete(
        [{"role": "user", "content": QUESTION}]).text
    assert llm_server.stats()["requests"] == 1


def test_an_explicit_base_url_beats_the_variable(clean_env, llm_server) -> None:
    clean_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    llm = make_llm("openai/sim", base_url=llm_server.openai_base_url, cache_dir=False)
    assert llm.backend.endpoint == llm_server.openai_base_url and llm.complete(QUESTION).text


def test_the_public_api_still_needs_a_key(clean_env) -> None:
    with pytest.raises(MissingAPIKeyError, match="OPENAI_API_KEY"):
        make_llm("openai/gpt-4o-mini", cache_dir=False)
    with pytest.raises(MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        make_llm("anthropic/claude-3-5-haiku-latest", cache_dir=False)


def test_the_endpoint_from_the_variable_enters_the_cache_key(clean_env, llm_server, tmp_path) -> None:
    clean_env.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    first = make_llm("openai/sim", cache_dir=tmp_path).complete(QUESTION)
    clean_env.setenv("OPENAI_BASE_URL", llm_server.openai_base_url + "/")  # same server
    again = make_llm("openai:sim", cache_dir=tmp_path).complete(QUESTION)
    assert not first.cached and again.cached and again.text == first.text


def test_unknown_provider_without_litellm_names_the_extra(clean_env, monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_litellm(name, *args, **kwargs):
        if name == "litellm":
            raise ImportError("no litellm")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_litellm)
    from undertow.engine.llm import LLMConfigError
    with pytest.raises(LLMConfigError, match=r"undertow\[litellm\]"):
        make_llm("gemini/gemini-2.0-flash", cache_dir=False)


@pytest.mark.skipif(importlib.util.find_spec("litellm") is None, reason="LiteLLM not installed")
def test_prices_come_from_litellms_table_when_installed() -> None:
    from undertow.engine.llm.prices import litellm_prices

    table = litellm_prices()
    assert table is not None and len(table) > 100
    acc = Accounting()
    assert acc.price("openai", "gpt-4o-mini") == table["gpt-4o-mini"]
    gemini = next(name for name in table if name.startswith("gemini/"))
    assert acc.price("litellm", gemini) == table[gemini]
    assert acc.price("openai", "gpt-4o-mini") not in (None, (0.0, 0.0))
    assert Accounting(prices={"gpt-4o-mini": (9.0, 9.0)}).price("openai", "gpt-4o-mini") == (9.0, 9.0)


def test_builtin_prices_without_litellm(monkeypatch) -> None:
    from undertow.engine.llm import prices

    monkeypatch.setattr(prices, "litellm_prices", lambda: None)
    acc = Accounting()
    assert acc.price("openai", "gpt-4o-mini-2024-07-18") == prices.BUILTIN_PRICES["gpt-4o-mini"]


@pytest.mark.skipif(importlib.util.find_spec("litellm") is None, reason="LiteLLM not installed")
def test_litellm_endpoint_follows_the_base_url_variable(clean_env, llm_server, llm_sim) -> None:
    """LiteLLM reads OPENAI_BASE_URL itself; the endpoint (a cache-key part) says so."""
    clean_env.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    clean_env.setenv("OPENAI_API_KEY", "sk-litellm-env-SECRET-123")
    llm = make_llm("litellm:openai/sim", cache_dir=False)
    assert llm.backend.endpoint == f"litellm://openai@{llm_server.openai_base_url}"
    assert llm.complete(QUESTION).text == llm_sim.complete(
        [{"role": "user", "content": QUESTION}]).text
    assert make_llm("gemini/gemini-2.0-flash", cache_dir=False).backend.endpoint == "litellm://gemini"


@pytest.mark.skipif(importlib.util.find_spec("litellm") is None, reason="LiteLLM not installed")
def test_litellm_scrubs_a_key_it_read_from_the_environment(clean_env, llm_server) -> None:
    from undertow.engine.llm import LLMAPIError, RetryPolicy

    secret = "sk-litellm-env-SECRET-456"
    clean_env.setenv("OPENAI_API_KEY", secret)
    llm_server.set_faults({"kind": "status", "status": 401, "message": f"bad key {secret}"})
    llm = make_llm("litellm:openai/sim", base_url=llm_server.openai_base_url, cache_dir=False,
                   retry=RetryPolicy(max_retries=0))
    with pytest.raises(LLMAPIError, match="HTTP 401") as info:
        llm.complete(QUESTION)
    assert secret not in str(info.value) and "[redacted]" in str(info.value)
