"""Arbitrary input never crashes the server: a valid reply or a clean 4xx JSON error."""

from __future__ import annotations

import http.client
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
BASE = {"model": "sim", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
FIELDS = ["model", "max_tokens", "messages", "n", "stream", "temperature", "seed", "system",
          "max_completion_tokens", "stream_options"]
message_values = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system", "tool", "bogus"]) | json_values,
     "content": st.text(max_size=30) | st.lists(st.fixed_dictionaries(
         {"type": st.sampled_from(["text", "image", "tool_result", "tool_use"]) | json_values,
          "text": json_values}), max_size=3) | json_values})
near_valid = st.builds(
    lambda changes, drops: {**{k: v for k, v in BASE.items() if k not in drops}, **changes},
    st.dictionaries(st.sampled_from(FIELDS), json_values | st.lists(message_values, max_size=3)
                    | st.integers(-2, 200) | st.booleans(), max_size=3),
    st.sets(st.sampled_from(list(BASE))))


def post(url: str, path: str, body: bytes, headers: dict | None = None) -> tuple[int, str, bytes]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)  # a hang fails the test
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type", ""), resp.read()
    finally:
        conn.close()


def check(status: int, ctype: str, body: bytes, path: str) -> None:
    if status == 200 and ctype.startswith("text/event-stream"):
        tail = body.decode().rstrip()
        assert tail.endswith(("data: [DONE]", 'data: {"type":"message_stop"}'))
        return
    data = json.loads(body)
    if status == 200:
        if path.endswith("messages"):
            assert data["type"] == "message" and isinstance(data["content"][0]["text"], str)
        else:
            assert data["object"] == "chat.completion" and data["choices"]
        return
    assert 400 <= status < 500, (status, data)
    error = data["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in error["message"]


@given(body=json_values | near_valid)
def test_any_json_body_gets_a_reply_or_a_clean_4xx(server, body):
    raw = json.dumps(body).encode()
    for path in ("/v1/chat/completions", "/v1/messages"):
        check(*post(server.url, path, raw), path)


@given(st.binary(max_size=64))
def test_any_bytes_get_a_reply_or_a_clean_4xx(server, raw):
    for path in ("/v1/chat/completions", "/v1/messages"):
        check(*post(server.url, path, raw), path)


@pytest.mark.parametrize("raw,headers,status", [
    (b'{"model": NaN}', {}, 400),
    (b"\xff\xfe", {}, 400),
    (b"[1, 2]", {}, 400),
    (b"{}", {"Content-Length": "abc"}, 400),
    (b"{}", {"Content-Length": str(64 * 2**20)}, 413),
])
def test_bad_bodies_name_the_problem(server, raw, headers, status):
    got, _, body = post(server.url, "/v1/chat/completions", raw, headers)
    assert got == status
    assert json.loads(body)["error"]["message"]


def test_chunked_request_body_is_read(server):
    body = json.dumps(BASE).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    status, _, reply = post(server.url, "/v1/messages", chunked, {"Transfer-Encoding": "chunked"})
    assert status == 200 and json.loads(reply)["type"] == "message"


def test_unknown_route_and_wrong_method(server):
    assert post(server.url, "/v2/nothing", b"{}")[0] == 404
    assert post(server.url, "/v1/models", b"{}")[0] == 405
