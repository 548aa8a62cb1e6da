"""The fast request-header reader: agrees with what was sent, fails only with its own error."""

from __future__ import annotations

import io
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.bench.sim.server.headers import MAX_HEADERS, HeaderError, read_headers

token = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"),
                min_size=1, max_size=20)
value = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40)


@given(st.dictionaries(token, value, max_size=20))
def test_reads_back_what_was_sent(fields):
    unique = {}
    for name, val in fields.items():  # names differing only in case are one field
        unique.setdefault(name.lower(), []).append(val)
    raw = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode() + b"\r\nBODY"
    stream = io.BufferedReader(io.BytesIO(raw))
    headers = read_headers(stream)
    assert dict(headers) == {k: ", ".join(v) for k, v in unique.items()}
    assert stream.read() == b"BODY"  # stops at the blank line
    for name in fields:
        assert name.upper() in headers and headers.get(name.swapcase()) == headers[name]


@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_headers_or_a_header_error(raw):
    try:
        read_headers(io.BufferedReader(io.BytesIO(raw)))
    except HeaderError as exc:
        assert exc.status in (400, 431)


def test_folded_lines_continue_the_field():
    raw = b"X-Long: one\r\n  two\r\n\r\n"
    assert read_headers(io.BufferedReader(io.BytesIO(raw)))["x-long"] == "one two"


@pytest.mark.parametrize("raw,status", [
    (b"A: " + b"x" * 70000 + b"\r\n\r\n", 431),
    (b"".join(b"H%d: v\r\n" % i for i in range(MAX_HEADERS + 1)) + b"\r\n", 431),
    (b"no colon here\r\n\r\n", 400),
    (b" folded first\r\n\r\n", 400),
])
def test_bad_header_blocks(raw, status):
    with pytest.raises(HeaderError) as info:
        read_headers(io.BufferedReader(io.BytesIO(raw)))
    assert info.value.status == status


def test_server_answers_bad_headers_and_odd_request_lines(server):
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    for request, status in [(b"GET /v1/models HTTP/1.1\r\nbroken\r\n\r\n", b"400"),
                            (b"GET /v1/models HTTP/1.0\r\n\r\n", b"200"),
                            (b"GET  /v1/models   HTTP/1.1\r\nHost: x\r\n\r\n", b"200")]:
        with socket.create_connection((host, int(port)), timeout=60) as sock:
            sock.sendall(request)
            assert sock.recv(64).split(b" ")[1] == status, request
