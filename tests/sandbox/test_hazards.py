"""Each hazard the issue names gives a clear error (value and node) and leaves the
parent and the other workers healthy."""

from __future__ import annotations

import socket

import pytest
from undertow.engine import ErrorNode, Parameter, backward, capture
from undertow.engine.sandbox import SandboxError, sandboxed_op

from .conftest import assert_healthy

HAZARDS = {
    # name: (source, expected kind, words the message must contain, failing line or None)
    "infinite_loop": ("def f(x):\n    while True: x += 1\n", "cpu", "cpu_seconds=1", "while True: x += 1"),
    "memory_bomb": ("def f(x):\n    hog = []\n    while True:\n        hog.append(bytearray(10**7))\n",
                    "memory", "memory_mb=256", "hog.append(bytearray(10**7))"),
    "os_exit": ("import os\ndef f(x):\n    os._exit(3)\n", "crash", "exited with code 3", None),
    "socket": ("import socket\ndef f(x):\n    s = socket.create_connection(('203.0.113.1', 80), timeout=1)\n",
               "network", "network access is disabled", "s = socket.create_connection"),
    "raw_socket": ("import socket\ndef f(x):\n    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n",
                   "network", "network access is disabled", "s = socket.socket("),
    "dns": ("import socket\ndef f(x):\n    return socket.getaddrinfo('example.com', 80)\n",
            "network", "getaddrinfo", "return socket.getaddrinfo"),
    "syntax_error": ("def f(x):\n    return x +* 2\n", "syntax", "SyntaxError", "return x +* 2"),
    # Parses (so a code parameter accepts it) but does not compile.
    "compile_error": ("def f(x):\n    return x\nbreak\n", "syntax", "'break' outside loop", "break"),
    "segfault": ("import ctypes\ndef f(x):\n    return ctypes.string_at(0)\n", "crash", "SIGSEGV", None),
}


@pytest.mark.parametrize("name", list(HAZARDS))
def test_hazard_is_a_clear_error_and_the_pool_survives(pool, name):
    source, kind, words, line = HAZARDS[name]
    pids_before = pool.worker_pids()
    res = pool.run(source, "f", [1])
    assert not res.ok and res.error is not None
    assert res.error.kind == kind, res.error
    assert words in res.error.summary() + res.error.message
    if line is not None:
        assert res.error.line is not None and line in res.error.line
    with pytest.raises(SandboxError) as info:
        res.unwrap()
    assert info.value.kind == kind
    # Each call runs in a child of its own: the workers themselves survive every hazard.
    assert pool.worker_pids() == pids_before
    assert_healthy(pool)
    # The parent is untouched: its own socket module was not patched.
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.close()


@pytest.mark.parametrize("name", ["infinite_loop", "os_exit", "socket", "compile_error"])
def test_hazard_becomes_an_error_node_with_feedback(pool, name):
    source, kind, _, line = HAZARDS[name]
    fn = sandboxed_op(source, pool, name="policy")
    x = Parameter(1, name="x")
    out = capture(fn, x)
    assert isinstance(out, ErrorNode)
    assert f"[sandbox: {kind}]" in out.value
    assert isinstance(out.exception, SandboxError)
    if line is not None:
        assert line in (out.source_line or "") and out.lineno is not None
    assert set(out.parents) == {x, fn.code}
    backward(out, "do not do that")
    assert fn.code.feedback and fn.code.feedback[0].outputs == [out]
    assert_healthy(pool)


def test_wall_clock_timeout_kills_the_call_and_keeps_the_worker(pool):
    before = pool.worker_pids()
    restarts = pool.restarts
    res = pool.run("import time\ndef f():\n    time.sleep(30)\n", "f", [], timeout_s=0.5)
    assert res.error is not None and res.error.kind == "timeout"
    assert "timeout_s=0.5" in res.error.message
    assert pool.worker_pids() == before and pool.restarts == restarts
    assert_healthy(pool)
