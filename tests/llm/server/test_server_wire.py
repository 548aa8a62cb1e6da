"""Wire formats without a socket: stream deltas, SSE frames, Anthropic-to-sim messages."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.bench.sim.server.replies import (
    Sample,
    anthropic_stream,
    openai_stream,
    pieces,
)
from undertow.bench.sim.server.schemas import MessagesRequest, RequestError, parse_body

samples = st.builds(Sample, st.text(max_size=200), st.integers(0, 10**6), st.integers(0, 10**6),
                    st.sampled_from(["stop", "length", "odd"]))


def events(frames: list[bytes]) -> list[tuple[str | None, str]]:
    """Parse SSE frames back into (event, data) pairs, as an SDK would."""
    out = []
    for frame in frames:
        assert frame.endswith(b"\n\n")
        event, data = None, None
        for line in frame.decode().rstrip("\n").split("\n"):
            field, _, value = line.partition(": ")
            if field == "event":
                event = value
            elif field == "data":
                data = value
        out.append((event, data))
    return out


@given(st.text())
def test_pieces_join_back_to_the_text(text):
    assert "".join(pieces(text)) == text
    assert all(p.strip() for p in pieces(text)[:-1])  # only a trailing piece may be blank


@given(st.lists(samples, min_size=1, max_size=4), st.booleans())
def test_openai_stream_reassembles_every_choice(batch, include_usage):
    parsed = events(openai_stream("sim", batch, include_usage))
    assert parsed[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in parsed[:-1]]
    texts = [""] * len(batch)
    finishes: list[str | None] = [None] * len(batch)
    for chunk in chunks:
        for choice in chunk["choices"]:
            texts[choice["index"]] += choice["delta"].get("content", "")
            finishes[choice["index"]] = choice["finish_reason"] or finishes[choice["index"]]
    assert texts == [s.text for s in batch]
    assert finishes == [s.finish_reason if s.finish_reason in ("stop", "length") else "stop" for s in batch]
    if include_usage:
        assert chunks[-1]["choices"] == []
        assert chunks[-1]["usage"]["completion_tokens"] == sum(s.completion_tokens for s in batch)


@given(samples)
def test_anthropic_stream_sequence(sample):
    parsed = events(anthropic_stream("sim", sample))
    names = [event for event, _ in parsed]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    datas = [json.loads(d) for _, d in parsed]
    assert all(d["type"] == name for d, name in zip(datas, names, strict=True))
    text = "".join(d["delta"]["text"] for d in datas if d["type"] == "content_block_delta")
    assert text == sample.text
    assert datas[-2]["usage"]["output_tokens"] == sample.completion_tokens


text_blocks = st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=20)}),
                       min_size=1, max_size=3)


@given(st.none() | st.text(max_size=20) | text_blocks,
       st.lists(st.tuples(st.sampled_from(["user", "assistant"]), st.text(max_size=20) | text_blocks),
                min_size=1, max_size=4))
def test_anthropic_request_becomes_openai_style_messages(system, turns):
    body = {"model": "sim", "max_tokens": 5, "messages": [{"role": r, "content": c} for r, c in turns]}
    if system is not None:
        body["system"] = system
    request = parse_body(json.dumps(body).encode(), MessagesRequest)
    messages = request.to_messages()

    def flat(content):
        return content if isinstance(content, str) else "\n".join(b["text"] for b in content)

    expected = [{"role": r, "content": flat(c)} for r, c in turns]
    if system is not None and flat(system):
        expected.insert(0, {"role": "system", "content": flat(system)})
    assert messages == expected


@pytest.mark.parametrize("body,param", [
    ({"model": "sim", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
    ({"model": "sim", "max_tokens": 5, "messages": []}, "messages"),
    ({"model": "sim", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "text"}]}]},
     "messages.0"),
    ({"model": "sim", "max_tokens": "5", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
])
def test_invalid_anthropic_requests_name_the_field(body, param):
    with pytest.raises(RequestError) as info:
        parse_body(json.dumps(body).encode(), MessagesRequest)
    assert info.value.status == 400 and info.value.param.startswith(param)
