"""The official openai SDK against the sim-server: replies, streaming, n, and every fault."""

from __future__ import annotations

import time

import openai
import pytest

from .conftest import USER


def expected(responder, messages=USER, **kw):
    kw.setdefault("temperature", 0.0)
    kw.setdefault("seed", None)
    kw.setdefault("max_tokens", None)
    return responder.complete(messages, model="sim", **kw)


def test_plain_reply_is_the_responders(srv, oai, responder):
    reply = oai.chat.completions.create(model="sim", messages=USER, temperature=0.0)
    want = expected(responder)
    assert reply.choices[0].message.content == want.text
    assert reply.choices[0].finish_reason == want.finish_reason
    assert reply.usage.prompt_tokens == want.prompt_tokens
    assert reply.usage.completion_tokens == want.completion_tokens
    assert reply.usage.total_tokens == want.prompt_tokens + want.completion_tokens
    assert reply.model == "sim"


def test_system_developer_and_parts_reach_the_responder(srv, oai, responder):
    messages = [{"role": "developer", "content": "Be terse."},
                {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]}]
    reply = oai.chat.completions.create(model="sim", messages=messages, temperature=0.0,
                                                seed=7, max_completion_tokens=3)
    want = expected(responder, [{"role": "system", "content": "Be terse."},
                                {"role": "user", "content": "one\ntwo"}], seed=7, max_tokens=3)
    assert reply.choices[0].message.content == want.text


def test_n_maps_to_sample_indices(srv, oai, responder):
    reply = oai.chat.completions.create(model="sim", messages=USER, n=3, temperature=0.7)
    wants = [expected(responder, temperature=0.7, sample_index=i) for i in range(3)]
    assert [c.index for c in reply.choices] == [0, 1, 2]
    assert [c.message.content for c in reply.choices] == [w.text for w in wants]
    assert reply.usage.completion_tokens == sum(w.completion_tokens for w in wants)
    assert reply.usage.prompt_tokens == wants[0].prompt_tokens


def test_stream_joins_to_the_plain_reply_and_reports_usage(srv, oai, responder):
    chunks = list(oai.chat.completions.create(
        model="sim", messages=USER, n=2, temperature=0.0, stream=True,
        stream_options={"include_usage": True}))
    texts = ["", ""]
    finish = [None, None]
    for chunk in chunks[:-1]:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            finish[choice.index] = choice.finish_reason or finish[choice.index]
    want = [expected(responder, sample_index=i) for i in range(2)]
    assert texts == [w.text for w in want]
    assert finish == [w.finish_reason for w in want]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == sum(
        w.completion_tokens for w in want)
    assert srv.stats()["streams"] == 1


def test_models_list(srv, oai):
    assert [m.id for m in oai.models.list()] == ["sim"]
    assert oai.models.retrieve("sim").id == "sim"
    with pytest.raises(openai.NotFoundError):
        oai.models.retrieve("gpt-nope")


@pytest.mark.parametrize("status,error", [(429, openai.RateLimitError), (500, openai.InternalServerError),
                                          (503, openai.InternalServerError), (529, openai.InternalServerError)])
def test_status_fault_and_retry_headers_reach_the_sdk(srv, oai, status, error):
    srv.set_faults(f"status={status},times=1,retry_after=2,retry_after_ms=1500")
    with pytest.raises(error) as info:
        oai.chat.completions.create(model="sim", messages=USER)
    assert info.value.status_code == status
    assert info.value.response.headers["retry-after"] == "2"
    assert info.value.response.headers["retry-after-ms"] == "1500"
    assert "injected fault" in info.value.message
    oai.chat.completions.create(model="sim", messages=USER)  # times=1: then it succeeds


def test_sdk_retries_honour_retry_after_ms_then_succeed(srv, oai):
    srv.set_faults("status=429,times=2,retry_after_ms=150")
    start = time.perf_counter()
    reply = oai.with_options(max_retries=2).chat.completions.create(model="sim", messages=USER)
    elapsed = time.perf_counter() - start
    assert reply.choices[0].message.content
    assert elapsed >= 0.3  # two waits of 150 ms, as the header asked
    stats = srv.stats()
    assert stats["by_status"] == {"429": 2, "200": 1}
    assert srv.faults()["left"] == [0]


def test_persistent_500_exhausts_retries(srv, oai):
    srv.set_faults("status=500,retry_after_ms=1")
    with pytest.raises(openai.InternalServerError):
        oai.with_options(max_retries=2).chat.completions.create(model="sim", messages=USER)
    assert srv.stats()["by_status"] == {"500": 3}


def test_latency_is_added(srv, oai):
    srv.set_faults(latency_s=0.2)
    start = time.perf_counter()
    oai.chat.completions.create(model="sim", messages=USER)
    assert time.perf_counter() - start >= 0.2


@pytest.mark.parametrize("stream", [False, True])
def test_malformed_body_makes_the_sdk_raise(srv, oai, stream):
    srv.set_faults("kind=malformed,times=1")
    with pytest.raises(ValueError):  # json.JSONDecodeError from the SDK's parser
        reply = oai.chat.completions.create(model="sim", messages=USER, stream=stream)
        if stream:
            list(reply)


@pytest.mark.parametrize("stream", [False, True])
def test_truncated_reply_makes_the_sdk_raise(srv, oai, stream):
    srv.set_faults("kind=truncate,times=1,truncate_after=2")
    with pytest.raises(openai.APIConnectionError):
        reply = oai.chat.completions.create(model="sim", messages=USER, stream=stream)
        if stream:
            list(reply)
    assert oai.chat.completions.create(model="sim", messages=USER).choices


def test_hang_makes_the_sdk_time_out(srv, oai):
    # the hang lasts 300 s and then closes the connection (APIConnectionError): only the
    # client's own timeout gives APITimeoutError
    srv.set_faults("kind=hang,times=1")
    with pytest.raises(openai.APITimeoutError):
        oai.with_options(timeout=0.3).chat.completions.create(model="sim", messages=USER)
    assert oai.chat.completions.create(model="sim", messages=USER).choices


def test_rules_filter_by_api_and_stream(srv, oai):
    srv.set_faults("status=503,api=anthropic", "status=500,stream=true")
    assert oai.chat.completions.create(model="sim", messages=USER).choices  # neither applies
    with pytest.raises(openai.InternalServerError):
        oai.chat.completions.create(model="sim", messages=USER, stream=True)


def test_bad_request_is_a_clean_400(srv, oai):
    with pytest.raises(openai.BadRequestError) as info:
        oai.chat.completions.create(model="sim", messages=USER, n=0)
    assert "n" in info.value.message
