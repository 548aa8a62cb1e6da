"""The sandbox worker: a child process that runs one function call at a time.

Started by `SandboxPool` as `python -I worker.py '<settings json>'`; it imports only
the standard library and `wire.py` beside it. Before any user code runs it
 1. moves the protocol to private file descriptors (fd 0 becomes /dev/null and fd 1
    goes to stderr, so `print` or `input()` in user code cannot corrupt it);
 2. lowers its resource limits: address space (RLIMIT_AS), file size
    (RLIMIT_FSIZE), no core dumps; CPU time (RLIMIT_CPU) is set per call;
 3. replaces `socket.socket`, `socket.create_connection`, `socket.getaddrinfo`
    and friends with functions that raise `SandboxNetworkError` (a guard inside
    Python, not an OS-level jail: see docs/sandbox.md).
Then it loops: read a request, compile the source (cached), call the function,
send back the value or a description of the exception. Every user failure is a
reply; only a crash (os._exit, a segfault, a kill) ends the process, and the pool
starts a new one.
"""

from __future__ import annotations

import collections
import io
import json
import linecache
import math
import os
import resource
import signal
import sys
import time
from typing import Any

# The engine's wire module (the protocol did not change): `engine/sandbox` sits three
# folders up, in a source checkout and in an installed package alike.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "engine", "sandbox"))
import wire  # found through the path set just above

del sys.path[0]

_WORKER_FILE = os.path.abspath(__file__)
_CACHE_SIZE = 32


class SandboxNetworkError(PermissionError):
    """Raised by every network entry point inside the sandbox."""


class CpuLimitExceeded(BaseException):
    """The call used more CPU time than allowed (raised from the SIGXCPU handler).

    A BaseException, so that user code's `except Exception` does not swallow it.
    """


_IN_USER_CODE = False
_SETTINGS: dict[str, Any] = {}
_LOOP: Any = None  # the event loop that runs `async def` functions


def _on_sigxcpu(signum: int, frame: Any) -> None:
    if _IN_USER_CODE:
        raise CpuLimitExceeded("CPU time limit exceeded")


def _block_network() -> list[str]:
    """Replace the socket module's entry points with functions that raise."""
    import _socket
    import socket

    def blocker(name: str) -> Any:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            raise SandboxNetworkError(
                f"network access is disabled in the undertow sandbox ({name} was called); "
                "pass the data the code needs as arguments instead")
        blocked.__name__ = name.rsplit(".", 1)[-1]
        return blocked

    def blocked_class(name: str, base: type) -> type:
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            blocker(name)()
        # Still a class, so that libraries subclassing socket.socket import fine.
        return type(base.__name__, (base,), {"__init__": __init__, "__module__": base.__module__})

    classes = ["socket", "SocketType"]
    functions = ["create_connection", "create_server", "getaddrinfo", "gethostbyname", "gethostbyname_ex",
                 "gethostbyaddr", "getnameinfo", "socketpair", "fromfd", "fromshare"]
    patched = []
    for module in (socket, _socket):
        for name in classes + functions:
            original = getattr(module, name, None)
            if original is None:
                continue
            label = f"{module.__name__}.{name}"
            setattr(module, name, blocked_class(label, original) if name in classes else blocker(label))
            patched.append(label)
    return patched


def _apply_limits(memory_mb: int | None, file_mb: int | None) -> dict[str, Any]:
    applied: dict[str, Any] = {}
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_mb is not None:
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        applied["memory_mb"] = memory_mb
    if file_mb is not None:
        cap = file_mb * 1024 * 1024
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write raises OSError instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
        applied["file_mb"] = file_mb
    signal.signal(signal.SIGXCPU, _on_sigxcpu)
    return applied


def _set_cpu_limit(seconds: float | None) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if seconds is None:
        resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Compiled:
    """Compiled functions by (filename, source, preamble), least recently used dropped."""

    def __init__(self) -> None:
        self._items: collections.OrderedDict[tuple[str, str, str], dict[str, Any]] = collections.OrderedDict()

    def namespace(self, filename: str, source: str, preamble: str) -> dict[str, Any]:
        key = (filename, source, preamble)
        ns = self._items.get(key)
        if ns is not None:
            self._items.move_to_end(key)
            return ns
        ns = {"__name__": "__sandbox__", "__builtins__": __builtins__}
        if preamble:
            pre_name = f"{filename} (preamble)"
            linecache.cache[pre_name] = (len(preamble), None, preamble.splitlines(keepends=True), pre_name)
            exec(compile(preamble, pre_name, "exec"), ns)  # noqa: S102 - inside the sandbox
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        exec(compile(source, filename, "exec"), ns)  # noqa: S102 - inside the sandbox
        self._items[key] = ns
        while len(self._items) > _CACHE_SIZE:
            old, _ = self._items.popitem(last=False)
            linecache.cache.pop(old[0], None)
        return ns


def _call(request: dict[str, Any], compiled: _Compiled) -> dict[str, Any]:
    global _IN_USER_CODE
    filename = request["filename"]
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    reply: dict[str, Any]
    cpu0, t0 = _cpu_now(), time.perf_counter()
    stage = "syntax"
    try:
        _set_cpu_limit(request.get("cpu_seconds"))
        _IN_USER_CODE = True
        ns = compiled.namespace(filename, request["source"], request.get("preamble", ""))
        fn = ns.get(request["function"])
        if fn is None:
            raise NameError(f"the code defines no function named {request['function']!r}")
        if not callable(fn):
            raise TypeError(f"{request['function']!r} in the code is a {type(fn).__name__}, not a function")
        stage = "exception"
        value = fn(*request["args"], **request["kwargs"])
        if hasattr(value, "__await__"):
            value = _LOOP.run_until_complete(value)
        _IN_USER_CODE = False
        problem = wire.plain_problem(value, "the result")
        if problem is not None:
            reply = {"ok": False, "error": {"kind": "result", "type": "NotPlainDataError",
                                            "message": problem, "filename": filename, "lineno": None,
                                            "line": None, "traceback": ""}}
        else:
            reply = {"ok": True, "value": value}
    except CpuLimitExceeded as exc:
        reply = {"ok": False, "error": wire.describe_exception(exc, filename, "cpu", skip=_WORKER_FILE)}
    except MemoryError as exc:
        reply = {"ok": False, "error": wire.describe_exception(exc, filename, "memory", skip=_WORKER_FILE)}
    except SandboxNetworkError as exc:
        reply = {"ok": False, "error": wire.describe_exception(exc, filename, "network", skip=_WORKER_FILE)}
    except SyntaxError as exc:
        kind = "syntax" if stage == "syntax" else "exception"
        reply = {"ok": False, "error": wire.describe_exception(exc, filename, kind, skip=_WORKER_FILE)}
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything, SystemExit included
        reply = {"ok": False, "error": wire.describe_exception(exc, filename, "exception", skip=_WORKER_FILE)}
    finally:
        _IN_USER_CODE = False
        _set_cpu_limit(None)
        sys.stdout, sys.stderr = saved
    error = reply.get("error")
    if error is not None and error["kind"] == "cpu":
        error["message"] = f"the call used more than cpu_seconds={request.get('cpu_seconds'):g} of CPU time"
    elif error is not None and error["kind"] == "memory" and not error["message"]:
        error["message"] = ("out of memory: the worker's address space is capped at "
                            f"memory_mb={_SETTINGS.get('memory_mb')}")
    reply["stdout"] = wire.clip(out.getvalue())
    reply["stderr"] = wire.clip(err.getvalue())
    reply["cpu_s"] = _cpu_now() - cpu0
    reply["wall_s"] = time.perf_counter() - t0
    return reply


def main() -> None:
    settings = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    _SETTINGS.update(settings)
    in_fd, out_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    out = os.fdopen(out_fd, "wb")
    applied = _apply_limits(settings.get("memory_mb"), settings.get("file_mb"))
    global _LOOP
    import asyncio

    # Made before the guard: an event loop needs a socketpair for its self-pipe.
    _LOOP = asyncio.new_event_loop()
    applied["network_guard"] = bool(_block_network()) if settings.get("block_network", True) else False
    wire.write_frame(out, {"ready": True, "pid": os.getpid(), "limits": applied})
    compiled = _Compiled()
    while True:
        try:
            header = wire.read_exact(in_fd, wire.HEADER_SIZE)
            request = wire.loads(wire.read_exact(in_fd, wire.frame_length(header)))
        except EOFError:
            return
        if request.get("op") == "exit":
            return
        if request.get("op") == "ping":
            wire.write_frame(out, {"ok": True, "value": "pong"})
            continue
        try:
            reply = _call(request, compiled)
            reply["id"] = request.get("id")
            frame = wire.encode_frame(reply)
        except BaseException as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
            frame = wire.encode_frame({"id": request.get("id"), "ok": False, "stdout": "", "stderr": "",
                                       "error": wire.describe_exception(exc, request.get("filename", ""), "result", skip=_WORKER_FILE)})
        out.write(frame)
        out.flush()


if __name__ == "__main__":
    main()
