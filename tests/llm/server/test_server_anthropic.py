"""The official anthropic SDK against the sim-server: messages, streaming events, faults."""

from __future__ import annotations

import time

import anthropic
import httpx2
import pytest

from .conftest import USER


def create(ant, **kw):
    kw.setdefault("model", "sim")
    kw.setdefault("max_tokens", 64)
    kw.setdefault("messages", USER)
    kw.setdefault("extra_body", {"temperature": 0.0})  # anthropic 2.x has no temperature argument
    return ant.with_options(**kw.pop("client_kw", {})).messages.create(**kw)


def expected(responder, messages, max_tokens=64, temperature=0.0):
    return responder.complete(messages, model="sim", temperature=temperature, seed=None,
                              sample_index=0, max_tokens=max_tokens)


STOP = {"stop": "end_turn", "length": "max_tokens"}


def test_system_and_blocks_become_simulator_messages(srv, ant, responder):
    reply = create(ant, system=[{"type": "text", "text": "You sort words."}],
                   messages=[{"role": "user", "content": [{"type": "text", "text": "pear apple"}]},
                             {"role": "assistant", "content": "apple pear"},
                             {"role": "user", "content": "and fig?"}])
    want = expected(responder, [{"role": "system", "content": "You sort words."},
                                {"role": "user", "content": "pear apple"},
                                {"role": "assistant", "content": "apple pear"},
                                {"role": "user", "content": "and fig?"}])
    assert reply.content[0].text == want.text
    assert reply.stop_reason == STOP.get(want.finish_reason, "end_turn")
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (want.prompt_tokens, want.completion_tokens)


def test_max_tokens_cap_reaches_the_responder(srv, ant, responder):
    reply = create(ant, max_tokens=2)
    want = expected(responder, USER, max_tokens=2)
    assert reply.content[0].text == want.text
    assert reply.stop_reason == STOP.get(want.finish_reason, "end_turn")


def test_stream_event_sequence_and_text(srv, ant, responder):
    with ant.messages.stream(model="sim", max_tokens=64, messages=USER) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    # no temperature sent: the sim's in-process default, not the API's 1.0
    want = expected(responder, USER, temperature=None)
    assert final.content[0].text == want.text
    assert final.usage.output_tokens == want.completion_tokens
    raw = [k for k in kinds if k not in ("text",)]  # the SDK adds derived `text` events
    assert raw[:2] == ["message_start", "content_block_start"]
    assert raw[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(raw[2:-3]) <= {"content_block_delta", "ping"}


def test_models_list(srv, ant):
    assert [m.id for m in ant.models.list()] == ["sim"]


@pytest.mark.parametrize("status,error", [(429, anthropic.RateLimitError),
                                          (500, anthropic.InternalServerError),
                                          (529, anthropic.OverloadedError)])
def test_status_fault_and_headers(srv, ant, status, error):
    srv.set_faults(f"status={status},times=1,retry_after=1")
    with pytest.raises(error) as info:
        create(ant)
    assert info.value.status_code == status
    assert info.value.response.headers["retry-after"] == "1"
    assert info.value.body["type"] == "error"


def test_sdk_retries_after_529_then_succeeds(srv, ant):
    srv.set_faults("status=529,times=2,retry_after_ms=100")
    start = time.perf_counter()
    assert create(ant, client_kw={"max_retries": 2}).content[0].text is not None
    assert time.perf_counter() - start >= 0.2
    assert srv.stats()["by_status"] == {"529": 2, "200": 1}


def test_malformed_body_raises(srv, ant):
    srv.set_faults("kind=malformed,times=2")
    with pytest.raises(ValueError):
        create(ant)
    with pytest.raises(ValueError), ant.messages.stream(model="sim", max_tokens=8,
                                                       messages=USER) as stream:
        stream.get_final_message()


def test_truncated_reply_raises(srv, ant):
    srv.set_faults("kind=truncate,times=2,truncate_after=3")
    with pytest.raises(anthropic.APIConnectionError):
        create(ant)
    # Mid-stream the anthropic SDK lets the transport's own error through.
    with pytest.raises((anthropic.APIConnectionError, httpx2.TransportError)), \
            ant.messages.stream(model="sim", max_tokens=8, messages=USER) as stream:
        stream.get_final_message()


def test_hang_times_out(srv, ant):
    srv.set_faults("kind=hang,times=1")
    with pytest.raises(anthropic.APITimeoutError):
        create(ant, client_kw={"timeout": 0.3})


def test_missing_max_tokens_is_a_clean_400(srv, ant):
    with pytest.raises(anthropic.BadRequestError) as info:
        ant.messages.create(model="sim", messages=USER, max_tokens=0)
    assert info.value.body["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in info.value.body["error"]["message"]
