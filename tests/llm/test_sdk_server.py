"""Our OpenAI and Anthropic backends, through the official SDKs, and the LiteLLM backend
(extra `[litellm]`), against the sim-server on 127.0.0.1: one suite for all three --
replies, streaming, retries, timeouts, malformed bodies and key redaction."""

from __future__ import annotations

import time

import pytest
from undertow.engine.llm import (
    LLMConnectionError,
    LLMTimeoutError,
    MalformedResponseError,
    MissingAPIKeyError,
    RetriesExhaustedError,
    RetryPolicy,
    make_llm,
)

def _litellm_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("litellm") is not None


#: The litellm case skips (naming the extra) where LiteLLM is not installed.
NEEDS_LITELLM = pytest.mark.skipif(not _litellm_installed(),
                                   reason="LiteLLM not installed: pip install 'undertow[litellm]'")
PROVIDERS = ["openai", "anthropic", pytest.param("litellm", marks=NEEDS_LITELLM)]
QUESTION = "Sort these words alphabetically: pear apple fig"


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True])
def test_reply_matches_the_simulator(client_for, llm_sim, llm_server, provider, stream) -> None:
    llm = client_for(provider)
    response = llm.complete(QUESTION, stream=stream, max_tokens=200)
    expected = llm_sim.complete([{"role": "user", "content": QUESTION}], model="sim",
                                max_tokens=200)
    assert response.text == expected.text
    assert response.usage.completion_tokens == expected.completion_tokens
    assert response.usage.prompt_tokens > 0 and not response.cached
    assert response.provider == provider and response.attempts == 1
    assert llm_server.stats()["streams"] == int(stream)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_system_message_reaches_the_model(client_for, llm_sim, provider) -> None:
    prompt = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
    assert client_for(provider).complete(prompt).text == llm_sim.complete(prompt).text


@pytest.mark.parametrize("provider, header", [("openai", "retry_after_ms=400"),
                                              ("anthropic", "retry_after=0.4"),
                                              pytest.param("litellm", "retry_after_ms=400", marks=NEEDS_LITELLM)])
def test_429_then_success_honours_retry_after(client_for, llm_server, provider, header) -> None:
    llm = client_for(provider, retry=RetryPolicy(max_retries=3, base_delay=0.001))
    llm_server.set_faults(f"status=429,times=1,{header}")
    started = time.perf_counter()
    response = llm.complete(QUESTION)
    waited = time.perf_counter() - started
    assert response.attempts == 2 and response.text
    assert waited >= 0.4  # only the header explains the wait: the backoff base is 1 ms
    assert llm_server.stats()["by_status"] == {"429": 1, "200": 1}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_persistent_500_is_a_clear_error_after_the_retries(client_for, llm_server, provider) -> None:
    llm = client_for(provider, retry=RetryPolicy(max_retries=2, base_delay=0.001))
    llm_server.set_faults("status=500")
    with pytest.raises(RetriesExhaustedError, match=r"gave up after 3 attempt.*HTTP 500") as info:
        llm.complete(QUESTION)
    assert info.value.status == 500 and info.value.attempts == 3
    assert llm_server.stats()["by_status"] == {"500": 3}
    assert llm.accounting.spent().calls == 0 and llm.accounting.spent().errors == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_timeout(client_for, llm_server, provider) -> None:
    llm = client_for(provider, timeout=0.3, retry=RetryPolicy(max_retries=0))
    # past hang_s the server closes the connection (a connection error, not a timeout):
    # only the client's own 0.3 s timeout gives LLMTimeoutError
    llm_server.set_faults("kind=hang,times=1,hang_s=30")
    with pytest.raises(RetriesExhaustedError, match="timed out") as info:
        llm.complete(QUESTION)
    assert isinstance(info.value.last_error, LLMTimeoutError)
    assert llm.complete(QUESTION).text  # the hang was one request; the next one is served


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("stream", [False, True])
def test_malformed_body_is_a_clear_error(client_for, llm_server, provider, stream) -> None:
    llm = client_for(provider)
    llm_server.set_faults("kind=malformed,times=1")
    with pytest.raises(MalformedResponseError, match=f"{provider}|malformed"):
        llm.complete(QUESTION, stream=stream)
    assert llm_server.stats()["requests"] == 1  # not retried: the same server would say it again


@pytest.mark.parametrize("provider", PROVIDERS)
def test_truncated_stream_is_retried_then_fails_clearly(client_for, llm_server, provider) -> None:
    llm = client_for(provider)
    llm_server.set_faults("kind=truncate,times=1,stream=true,truncate_after=2")
    assert llm.complete(QUESTION, stream=True).attempts == 2
    llm_server.set_faults("kind=truncate,stream=true,truncate_after=2")
    with pytest.raises(RetriesExhaustedError) as info:
        llm.complete(QUESTION + "?", stream=True)
    assert isinstance(info.value.last_error, LLMConnectionError)


@pytest.mark.parametrize("provider, variable", [("openai", "OPENAI_API_KEY"),
                                                ("anthropic", "ANTHROPIC_API_KEY")])
def test_missing_key_names_the_variable(monkeypatch, provider, variable) -> None:
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(MissingAPIKeyError, match=variable):
        make_llm(f"{provider}:some-model", cache_dir=False)


def test_openai_compatible_needs_no_key(monkeypatch, llm_server, llm_sim) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_COMPATIBLE_API_KEY", raising=False)
    llm = make_llm(f"openai-compatible:{llm_server.openai_base_url}#sim", cache_dir=False)
    assert llm.complete(QUESTION).text == llm_sim.complete([{"role": "user", "content": QUESTION}]).text
    assert llm.backend.endpoint == llm_server.openai_base_url


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_server_echoing_the_key_does_not_leak_it(client_for, llm_server, provider) -> None:
    from undertow.engine.llm import LLMAPIError

    from .conftest import SECRET
    llm_server.set_faults({"kind": "status", "status": 401, "message": f"bad key {SECRET}"})
    with pytest.raises(LLMAPIError, match="HTTP 401") as info:
        client_for(provider).complete(QUESTION)
    assert "[redacted]" in str(info.value)
    for error in (info.value, info.value.__cause__):
        assert SECRET not in str(error) and SECRET not in repr(error.args)


def test_n_samples_are_n_entries(client_for, llm_server, tmp_path) -> None:
    llm = client_for("openai", cache_dir=tmp_path, temperature=1.0)
    samples = llm.sample("Name a fruit.", 4)
    assert len({s.key for s in samples}) == 4 and llm_server.stats()["requests"] == 4
    assert all(s.cached for s in llm.sample("Name a fruit.", 4))
