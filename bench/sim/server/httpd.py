"""The HTTP server: a threaded HTTP/1.1 keep-alive server speaking both wire formats.

One thread per connection, Nagle off (otherwise delayed ACKs add ~40 ms per request),
a deep listen backlog for bursts of connections. Latency and hangs wait in the
connection's own thread on the server's stop event, so they never block other
connections and end at once when the server stops.

Routes:
  POST /v1/chat/completions   OpenAI chat completions (`/chat/completions` too)
  POST /v1/messages           Anthropic messages (`/messages` too)
  GET  /v1/models[/ID]        model list (both SDKs read it)
  GET  /_undertow/health      liveness
  GET  /_undertow/stats       request counters (JSON)
  GET  /_undertow/arrivals    arrival time of every completion request since the last reset
  POST /_undertow/stats/reset zero the counters
  GET  /_undertow/faults      the installed fault plan and the hits left per rule
  POST /_undertow/faults      install a new plan (a `FaultPlan` JSON object)
"""

from __future__ import annotations

import inspect
import json
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .faults import FaultPlan, FaultRule, FaultSchedule, FaultSpecError
from .headers import HeaderError, read_headers
from .replies import (
    Sample,
    anthropic_message,
    anthropic_stream,
    error_body,
    model_info,
    models_list,
    openai_completion,
    openai_stream,
)
from .schemas import ChatRequest, Message, MessagesRequest, RequestError, parse_body
from .stats import Stats

MAX_BODY = 32 * 2**20
#: Header on every response: the server is the simulated LLM (results are `llm=sim`).
LLM_HEADER = "x-undertow-llm"
Responder = Any  # an object with `.complete(messages, *, model, temperature, seed, sample_index, max_tokens)`, or that callable


def default_responder() -> Responder:
    """The simulated LLM with its default profiles (imported only when needed)."""
    from undertow.bench.sim import SimLLM

    return SimLLM()


class SimServer(ThreadingHTTPServer):
    """The simulated LLM over HTTP. Serve with `serve_forever()`; stop with `close()`.

    `responder` answers each completion (default: a fresh `SimLLM()`); `faults` is the
    starting fault plan (change it later with `set_faults` or `POST /_undertow/faults`);
    `models` are the ids listed by `GET /v1/models`. Binds loopback unless told otherwise.
    """

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, responder: Responder | None = None,
                 faults: FaultPlan | None = None, models: tuple[str, ...] = ("sim",),
                 verbose: bool = False) -> None:
        self.responder = responder if responder is not None else default_responder()
        self._complete: Callable[..., Any] = getattr(self.responder, "complete", self.responder)
        if not callable(self._complete):
            raise TypeError("responder must have a .complete(messages, ...) method or be callable")
        try:
            params = inspect.signature(self._complete).parameters
            self.takes_response_format = "response_format" in params or any(
                p.kind is p.VAR_KEYWORD for p in params.values())
        except (TypeError, ValueError):
            self.takes_response_format = False
        self.schedule = FaultSchedule(faults)
        self.stats = Stats()
        self.models = tuple(models)
        self.verbose = verbose
        self.stopping = threading.Event()
        self._serving = False
        self._state_lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def set_faults(self, plan: FaultPlan) -> None:
        """Replace the fault plan (thread-safe; hit counts start afresh)."""
        self.schedule.replace(plan)

    def complete(self, messages: list[Message], *, model: str, temperature: float | None,
                 seed: int | None, sample_index: int, max_tokens: int | None,
                 **extra: Any) -> Sample:
        """Ask the responder for one sample and check what it returned."""
        reply = self._complete(messages, model=model, temperature=temperature, seed=seed,
                               sample_index=sample_index, max_tokens=max_tokens, **extra)
        try:
            sample = Sample(str(reply.text), int(reply.prompt_tokens), int(reply.completion_tokens),
                            str(reply.finish_reason))
        except (AttributeError, TypeError, ValueError) as exc:
            raise TypeError(f"responder returned {type(reply).__name__}, not a SimReply-like "
                            f"object with text/prompt_tokens/completion_tokens/finish_reason: {exc}") from None
        if not isinstance(reply.text, str) or sample.prompt_tokens < 0 or sample.completion_tokens < 0:
            raise TypeError(f"responder returned an invalid reply: {reply!r}")
        return sample

    def finish_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        self.stats.connection()
        try:
            super().finish_request(request, client_address)
        finally:
            with self._conns_lock:
                self._conns.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.verbose:
            super().handle_error(request, client_address)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until `close()` (from another thread) or an exception in this one; at
        once if `close()` came first."""
        try:
            with self._state_lock:
                if self.stopping.is_set():
                    return
                self._serving = True
            super().serve_forever(poll_interval)
        finally:
            self._serving = False

    def close(self) -> None:
        """Stop serving, end hangs and delays, and drop every open connection. Safe
        whether or not the server ever served: `shutdown()` alone would wait forever
        for a loop that never started (a SIGTERM just before it, say)."""
        with self._state_lock:
            self.stopping.set()
            serving = self._serving
        if serving:
            self.shutdown()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server_close()


_CHAT = ("/v1/chat/completions", "/chat/completions")
_MESSAGES = ("/v1/messages", "/messages")


class _Abort(Exception):
    """The connection is gone or was cut on purpose: stop without answering."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "undertow-sim/1"
    sys_version = ""
    server: SimServer
    _control_route = False

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def parse_request(self) -> bool:
        """The request line and headers, with the fast header reader (see headers.py).
        Anything but a plain `METHOD PATH HTTP/1.x` line goes to the standard parser."""
        words = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n").split()
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0"):
            return super().parse_request()
        self.requestline = " ".join(words)
        self.command, self.path, self.request_version = words
        self.close_connection = self.request_version != "HTTP/1.1"
        try:
            self.headers = read_headers(self.rfile)  # type: ignore[assignment]
        except HeaderError as exc:
            self.close_connection = True
            self.send_error(exc.status, str(exc))
            return False
        connection = (self.headers.get("Connection") or "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        expect = (self.headers.get("Expect") or "").lower()
        if expect == "100-continue" and self.request_version == "HTTP/1.1":
            return self.handle_expect_100()
        return True

    # -- plumbing ---------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str = "application/json",
              headers: dict[str, str] | None = None, length: int | None = None) -> None:
        lines = [f"HTTP/1.1 {status} {self.responses.get(status, ('Error',))[0]}",
                 f"Content-Type: {content_type}", f"Content-Length: {len(body) if length is None else length}",
                 f"Server: {self.server_version}", f"{LLM_HEADER}: sim"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if self.close_connection:
            lines.append("Connection: close")
        if not self._control_route:  # counted before sending: a client reading stats next sees it
            self.server.stats.count("by_status", status)
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        self.log_request(status)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj, separators=(",", ":")).encode(), headers=headers)

    def _error(self, api: str, status: int, message: str, param: str | None = None,
               headers: dict[str, str] | None = None) -> None:
        self._json(status, error_body(api, status, message, param), headers)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""  # HTTP/1.1: no length and not chunked means no body
        try:
            length = int(raw)
        except ValueError:
            self.close_connection = True  # the body's end is unknown: this connection is done
            raise RequestError(f"bad Content-Length {raw!r}; send a byte count", status=400) from None
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            raise RequestError(f"body of {length} bytes is outside 0..{MAX_BODY}", status=413)
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise RequestError("malformed chunked request body", status=400) from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY:
                self.close_connection = True
                raise RequestError(f"body larger than {MAX_BODY} bytes", status=413)
            body += self.rfile.read(size)
            self.rfile.readline(1024)

    def _wait(self, seconds: float) -> None:
        """Sleep in this connection's thread; ends early when the server stops."""
        if seconds > 0 and self.server.stopping.wait(seconds):
            raise _Abort

    def _hang(self, limit: float) -> None:
        """Answer nothing until the client closes, the server stops or `limit` passes."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        break  # client closed
                except OSError:
                    break
                time.sleep(0.05)
        raise _Abort

    # -- dispatch ---------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_OPTIONS(self) -> None:
        self._dispatch("OPTIONS")

    def _dispatch(self, method: str) -> None:
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        self._control_route = path.startswith("/_undertow/")  # not counted in the stats
        if path in _CHAT or path in _MESSAGES:  # the route decides the wire format...
            api = "anthropic" if path in _MESSAGES else "openai"
        else:  # ...elsewhere only the error's shape, from the SDK's header
            api = "anthropic" if "anthropic-version" in self.headers else "openai"
        try:
            body = self._read_body()
            if self._control_route:
                self._control(method, path, body)
            elif path in _CHAT or path in _MESSAGES:
                if method != "POST":
                    raise RequestError(f"{path} takes POST, not {method}", status=405)
                self._completion(api, body)
            elif path in ("/v1/models", "/models") or path.startswith(("/v1/models/", "/models/")):
                if method != "GET":
                    raise RequestError(f"{path} takes GET, not {method}", status=405)
                self._models(path)
            else:
                raise RequestError(f"no route {method} {path}; the API lives under /v1 "
                                   "(chat/completions, messages, models)", status=404)
        except RequestError as exc:
            self.close_connection = self.close_connection or exc.status == 413
            self._error(api, exc.status, str(exc), exc.param)
        except _Abort:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - a bug here or in the responder: clean 500, trace logged
            if self.server.verbose:
                traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            self._error(api, 500, f"internal error in the sim-server: {type(exc).__name__}: {exc}")

    def _models(self, path: str) -> None:
        self.server.stats.begin("/v1/models")
        try:
            model = path.split("/models", 1)[1].lstrip("/")
            if not model:
                return self._json(200, models_list(self.server.models))
            if model not in self.server.models:
                raise RequestError(f"model {model!r} not found; available: {list(self.server.models)}",
                                   status=404)
            self._json(200, model_info(model))
        finally:
            self.server.stats.end()

    def _control(self, method: str, path: str, body: bytes) -> None:
        server = self.server
        if (method, path) == ("GET", "/_undertow/health"):
            return self._json(200, {"ok": True})
        if (method, path) == ("GET", "/_undertow/stats"):
            out = server.stats.to_dict()
            sim_stats = getattr(server.responder, "stats", None)
            if sim_stats is not None and hasattr(sim_stats, "to_dict"):
                out["sim"] = sim_stats.to_dict()
            return self._json(200, out)
        if (method, path) == ("GET", "/_undertow/arrivals"):
            return self._json(200, server.stats.arrivals_dict())
        if (method, path) == ("POST", "/_undertow/stats/reset"):
            server.stats.reset()
            sim_stats = getattr(server.responder, "stats", None)
            if sim_stats is not None and hasattr(sim_stats, "reset"):
                sim_stats.reset()
            return self._json(200, {"ok": True})
        if (method, path) == ("GET", "/_undertow/faults"):
            return self._json(200, server.schedule.snapshot())
        if (method, path) == ("POST", "/_undertow/faults"):
            try:
                server.set_faults(FaultPlan.from_json(body or b"{}"))
            except FaultSpecError as exc:
                raise RequestError(str(exc)) from None
            return self._json(200, server.schedule.snapshot())
        raise RequestError(f"no control route {method} {path}", status=404)

    # -- completions ------------------------------------------------------------------
    def _completion(self, api: str, body: bytes) -> None:
        schema = MessagesRequest if api == "anthropic" else ChatRequest
        request = parse_body(body, schema)
        route = "/v1/messages" if api == "anthropic" else "/v1/chat/completions"
        self.server.stats.begin(route, request.stream)
        try:
            wait = self.server.schedule.rate_limit()
            self.server.stats.arrive(admitted=wait == 0.0)
            if wait > 0.0:
                return self._rate_limited(api, wait)
            rule = self.server.schedule.pick(api, request.stream)
            self._wait(self.server.schedule.latency_s + (rule.delay_s if rule else 0.0))
            if rule is not None:
                self.server.stats.count("faults", rule.kind if rule.kind != "status" else str(rule.status))
                if rule.kind == "hang":
                    self._hang(rule.hang_s)
                if rule.kind == "status":
                    return self._status_fault(api, rule)
            samples = self._samples(api, request)
            if request.stream:
                self._stream(api, request, samples, rule)
            else:
                self._whole(api, request, samples, rule)
        finally:
            self.server.stats.end()

    def _samples(self, api: str, request: ChatRequest | MessagesRequest) -> list[Sample]:
        messages = request.to_messages()
        if isinstance(request, ChatRequest):
            n, cap, seed = request.n, request.token_cap, request.seed
        else:
            n, cap, seed = 1, request.max_tokens, None
        # A request without a temperature gets the responder's own default (the sim's
        # in-process default), so that the sim over HTTP answers as it does in process.
        extra = {}
        fmt = getattr(request, "response_format", None)
        if fmt is not None and self.server.takes_response_format:
            extra["response_format"] = fmt
        return [self.server.complete(messages, model=request.model, temperature=request.temperature,
                                     seed=seed, sample_index=i, max_tokens=cap, **extra)
                for i in range(n)]

    def _rate_limited(self, api: str, wait: float) -> None:
        """429 for a request past the `rpm` limit, saying when the next one will be let in."""
        ms = max(1, int(wait * 1000 + 0.999))
        headers = {"retry-after-ms": str(ms), "retry-after": str(max(1, int(wait + 0.999))),
                   "x-should-retry": "true"}
        self._error(api, 429, f"rate limit reached: this server accepts {self.server.schedule.rpm:g} "
                    f"requests per minute; retry in {ms} ms", headers=headers)

    def _status_fault(self, api: str, rule: FaultRule) -> None:
        headers = {}
        if rule.retry_after is not None:
            ra = rule.retry_after
            headers["retry-after"] = str(int(ra)) if float(ra).is_integer() else repr(float(ra))
        if rule.retry_after_ms is not None:
            headers["retry-after-ms"] = str(rule.retry_after_ms)
        headers["x-should-retry"] = "true" if rule.status in (408, 409, 429) or rule.status >= 500 else "false"
        message = rule.message or f"injected fault: HTTP {rule.status} from the undertow sim-server"
        self._error(api, rule.status, message, headers=headers)

    def _whole(self, api: str, request: Any, samples: list[Sample], rule: FaultRule | None) -> None:
        obj = anthropic_message(request.model, samples[0]) if api == "anthropic" \
            else openai_completion(request.model, samples)
        body = json.dumps(obj, separators=(",", ":")).encode()
        kind = rule.kind if rule else None
        if kind == "malformed":
            self._send(200, body[: max(1, len(body) // 2)] + b"<<not json")
        elif kind == "truncate":
            self.close_connection = True
            self._send(200, body[: len(body) // 2], length=len(body))
            self._cut()
        else:
            self._send(200, body)

    def _stream(self, api: str, request: Any, samples: list[Sample], rule: FaultRule | None) -> None:
        frames = anthropic_stream(request.model, samples[0]) if api == "anthropic" \
            else openai_stream(request.model, samples, request.include_usage)
        kind = rule.kind if rule else None
        if kind == "malformed":
            broken = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{<<not json\n\n' \
                if api == "anthropic" else b'data: {"id":"chatcmpl-broken","choices":[{<<not json\n\n'
            frames = frames[:1] + [broken] + frames[1:]
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                f"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\nServer: {self.server_version}\r\n"
                f"{LLM_HEADER}: sim\r\n\r\n")
        self.log_request(200)
        self.server.stats.count("by_status", 200)
        write = self.wfile.write
        write(head.encode("latin-1"))
        for i, frame in enumerate(frames):
            if kind == "truncate" and i >= rule.truncate_after:  # type: ignore[union-attr]
                self.close_connection = True
                self._cut()
            write(b"%x\r\n%s\r\n" % (len(frame), frame))
        write(b"0\r\n\r\n")

    def _cut(self) -> None:
        """Close the connection now, mid-body (truncation fault)."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise _Abort
