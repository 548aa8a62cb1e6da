"""The local HTTP gateway a peer talks to: an OpenAI-compatible counting proxy, plus
the feedback endpoint through which a peer's driver asks undertow to score an output.

Every chat completion the peer sends goes through here, so the run's budget is
matched where it is spent: a call slot is reserved before forwarding (parallel
requests cannot overshoot `max_calls`), tokens are booked from the reply's `usage`,
and once a cap is reached the request is refused with HTTP 400
(`undertow_budget_spent`, which SDKs do not retry) and the driver stops. The `model`
field is rewritten to the upstream's model, so a peer may name any model it likes.
Each forwarded exchange is appended to `requests.jsonl` (messages and reply text),
which is what the conformance report diagnoses.

Under a sweep's shared limits (`limiter`, `ledger`: the engine's `Limiter` and
`SpendLedger`, the very objects the run's own train client holds, see
`bench/runner/limits.py`), every forwarded request first waits for a grant of the
sweep's rate limiter (the same provider key as undertow's own clients, so peer and
undertow runs share one allowance; a peer's SDK retry is a new request and waits
for its own grant; a refusal's `retry-after` holds the limiter, so no other caller
of the sweep is granted before it ends), and every reply is booked in the run's
ledger entry as it arrives. Once the sweep budget is spent the ledger refuses, and
the gateway answers with the same `undertow_budget_spent` refusal as for the run's own cap (and
`/_undertow/budget` says `spent`, which is what the drivers stop on). Without them
(None) nothing of this happens.

Routes: `POST /v1/chat/completions` (also `/chat/completions`), `GET /v1/models`,
`POST /_undertow/feedback` `{"split", "index", "output"}` -> `{"score", "feedback"}`,
`GET /_undertow/budget` -> the counters.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from undertow.engine.llm import BudgetExceeded, Usage
from undertow.engine.llm.limits import Limiter, SpendLedger, hold_for, request_tokens
from undertow.engine.llm.retry import RetryPolicy, parse_retry_after

FeedbackFn = Callable[[str, int, str], tuple[float, str]]  # (split, index, output) -> score, sentence
PURPOSE = "peer"  # the purpose a peer's calls are booked under in the sweep's ledger
#: Upstream headers passed on with an error reply, so a peer's SDK can honour them.
PASSED_HEADERS = ("retry-after", "retry-after-ms")
#: The longest `retry-after` the gateway holds the sweep's limiter for (as our clients do).
MAX_HOLD_S = RetryPolicy.max_retry_after


@dataclass
class Upstream:
    """Where completions really go: an OpenAI-compatible base URL, its key and model."""

    base_url: str            # e.g. http://127.0.0.1:8765/v1
    model: str
    api_key: str = "undertow-local"
    stats: Callable[[], dict[str, Any]] | None = None  # a sim-server's counters, when it is one


@dataclass
class Meter:
    """Calls and tokens spent through the gateway, against optional caps."""

    max_calls: int | None = None
    max_tokens: int | None = None
    max_usd: float | None = None
    price: tuple[float, float] = (0.0, 0.0)   # (input, output) USD per million tokens
    calls: int = 0
    tokens: int = 0
    prompt_tokens: int = 0
    usd: float = 0.0
    refused: int = 0
    errors: int = 0
    sweep_stop: str = ""  # why the sweep's ledger refused (its budget is spent), once it has
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reserve(self) -> bool:
        with self.lock:
            if self.spent():
                self.refused += 1
                return False
            self.calls += 1
            return True

    def spent(self) -> bool:
        return (bool(self.sweep_stop)
                or (self.max_calls is not None and self.calls >= self.max_calls)
                or (self.max_tokens is not None and self.tokens >= self.max_tokens)
                or (self.max_usd is not None and self.usd >= self.max_usd))

    def book(self, usage: dict[str, Any] | None, fallback: int) -> tuple[int, int, float]:
        """Book one reply's usage (`fallback` tokens when it reports none); return what was
        booked: (prompt tokens, completion tokens, dollars)."""
        usage = usage if isinstance(usage, dict) else {}
        prompt, completion, total = (_count(usage.get(k)) for k in ("prompt_tokens", "completion_tokens",
                                                                     "total_tokens"))
        total = total or prompt + completion or fallback
        prompt = min(prompt, total)
        completion = total - prompt
        usd = (prompt * self.price[0] + completion * self.price[1]) / 1e6
        with self.lock:
            self.tokens += total
            self.prompt_tokens += prompt
            self.usd += usd
        return prompt, completion, usd

    def refuse(self, sweep_stop: str = "") -> None:
        """Count one refused request; `sweep_stop`: the sweep budget refused it (sticky)."""
        with self.lock:
            self.refused += 1
            if sweep_stop:
                self.sweep_stop = sweep_stop

    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return {"calls": self.calls, "tokens": self.tokens, "prompt_tokens": self.prompt_tokens,
                    "refused": self.refused, "errors": self.errors, "max_calls": self.max_calls,
                    "max_tokens": self.max_tokens, "usd": round(self.usd, 6), "max_usd": self.max_usd,
                    "sweep_stop": self.sweep_stop, "spent": self.spent()}


def _count(value: Any) -> int:
    """A token count from a server's `usage` (null, missing, negative or not a number: 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0
    return max(0, int(value))


class Gateway(ThreadingHTTPServer):
    """The gateway's server; `limiter` and `ledger` are the sweep's (None: no shared limits)."""

    daemon_threads = True

    def __init__(self, upstream: Upstream, meter: Meter, feedback: FeedbackFn | None,
                 log_path: Path | None, limiter: Limiter | None = None,
                 ledger: SpendLedger | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream, self.meter, self.feedback = upstream, meter, feedback
        self.limiter, self.ledger = limiter, ledger
        self.log_path = log_path
        self.log_lock = threading.Lock()

    def sweep_refusal(self) -> str:
        """Why the sweep's ledger refuses another call ("" while it admits one)."""
        if self.ledger is None:
            return ""
        if self.meter.sweep_stop:
            return self.meter.sweep_stop
        try:
            self.ledger.admit(PURPOSE)
        except BudgetExceeded as exc:
            with self.meter.lock:
                self.meter.sweep_stop = str(exc)
            return str(exc)
        return ""

    def book(self, prompt: int, completion: int, usd: float) -> None:
        """Book one forwarded call in the sweep's ledger (a failed one with no tokens)."""
        if self.ledger is not None:
            self.ledger.book(PURPOSE, Usage(prompt_tokens=prompt, completion_tokens=completion), usd)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def log(self, entry: dict[str, Any]) -> None:
        if self.log_path is None:
            return
        with self.log_lock, self.log_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


class _Handler(BaseHTTPRequestHandler):
    server: Gateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode())

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _refuse(self, why: str) -> None:
        self._json(400, {"error": {"message": f"undertow_budget_spent: {why}",
                                   "type": "invalid_request_error", "code": "undertow_budget_spent"}})

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/_undertow/budget":
            self.server.sweep_refusal()  # a sweep budget spent by other runs stops this one too
            return self._json(200, self.server.meter.to_dict())
        if path in ("/v1/models", "/models"):
            model = self.server.upstream.model
            return self._json(200, {"object": "list", "data": [{"id": model, "object": "model",
                                                                 "owned_by": "undertow"}]})
        self._json(404, {"error": {"message": f"no route GET {path}"}})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        try:
            payload = json.loads(self._body() or b"{}")
        except ValueError:
            return self._json(400, {"error": {"message": "body is not JSON"}})
        if path == "/_undertow/feedback":
            return self._feedback(payload)
        if path in ("/v1/chat/completions", "/chat/completions"):
            return self._chat(payload)
        self._json(404, {"error": {"message": f"no route POST {path}"}})

    def _feedback(self, payload: dict[str, Any]) -> None:
        if self.server.feedback is None:
            return self._json(404, {"error": {"message": "this gateway scores nothing"}})
        try:
            score, sentence = self.server.feedback(str(payload["split"]), int(payload["index"]),
                                                   str(payload.get("output") or ""))
        except (KeyError, IndexError, ValueError) as exc:
            return self._json(400, {"error": {"message": f"bad feedback request: {exc}"}})
        self._json(200, {"score": score, "feedback": sentence})

    def _wait_for_grant(self, payload: dict[str, Any]) -> int:
        """Wait for the sweep's rate limiter to grant this request (as the run's own clients
        do: its messages' tokens plus the reply's cap); return the token estimate reserved."""
        limiter = self.server.limiter
        if limiter is None:
            return 0
        cap = payload.get("max_completion_tokens") or payload.get("max_tokens")
        estimate = request_tokens((str(m.get("content") or "") for m in payload.get("messages") or []
                                   if isinstance(m, dict)), cap if isinstance(cap, int) and cap > 0 else None)
        wait = limiter.reserve(estimate)
        if wait > 0:
            time.sleep(wait)
        return estimate

    def _chat(self, payload: dict[str, Any]) -> None:
        meter, up = self.server.meter, self.server.upstream
        if payload.get("stream"):
            return self._json(400, {"error": {"message": "the undertow gateway does not stream; "
                                              "call without stream=true", "type": "invalid_request_error"}})
        sweep_stop = self.server.sweep_refusal()
        if sweep_stop:
            meter.refuse(sweep_stop)
            return self._refuse(f"the sweep's LLM budget is used up ({sweep_stop})")
        if not meter.reserve():
            return self._refuse("this run's LLM budget is used up")
        asked_model = payload.get("model")
        payload = {**payload, "model": up.model}
        estimate = self._wait_for_grant(payload)
        passed: dict[str, str] = {}
        req = urllib.request.Request(up.base_url.rstrip("/") + "/chat/completions",
                                     data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {up.api_key}"})
        try:
            with urllib.request.urlopen(req, timeout=600) as resp:
                status, body = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
            passed = {h: exc.headers[h] for h in PASSED_HEADERS if exc.headers.get(h) is not None}
            # the sweep's other callers wait the refusal out too
            hold_for(self.server.limiter, parse_retry_after(passed), MAX_HOLD_S)
        except OSError as exc:
            with meter.lock:
                meter.errors += 1
            self.server.book(0, 0, 0.0)
            return self._json(502, {"error": {"message": f"upstream unreachable: {exc}"}})
        try:
            reply = json.loads(body)
        except ValueError:
            reply = None
        if status != 200 or not isinstance(reply, dict):
            with meter.lock:
                meter.errors += 1
            self.server.book(0, 0, 0.0)  # a call the run's meter counted: the ledger counts it too
            return self._send(status, body, passed)
        text = ""
        try:
            text = reply["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            pass
        size = sum(len(str(m.get("content", ""))) for m in payload.get("messages", [])) + len(text)
        prompt, completion, usd = meter.book(reply.get("usage"), fallback=max(1, size // 4))
        self.server.book(prompt, completion, usd)
        if self.server.limiter is not None:
            self.server.limiter.settle(estimate, prompt + completion)
        if asked_model:
            reply["model"] = asked_model
        self.server.log({"messages": payload.get("messages", []), "reply": text,
                         "temperature": payload.get("temperature")})
        self._json(200, reply)


@contextmanager
def serve(upstream: Upstream, meter: Meter | None = None, feedback: FeedbackFn | None = None,
          log_path: Path | None = None, *, limiter: Limiter | None = None,
          ledger: SpendLedger | None = None) -> Iterator[Gateway]:
    """Run a gateway in a background thread for the duration of the block; `limiter` and
    `ledger` put its calls under a sweep's shared limits (see the module docstring)."""
    gw = Gateway(upstream, meter or Meter(), feedback, log_path, limiter, ledger)
    thread = threading.Thread(target=gw.serve_forever, kwargs={"poll_interval": 0.05},
                              name="undertow-peer-gateway", daemon=True)
    thread.start()
    try:
        yield gw
    finally:
        gw.shutdown()
        gw.server_close()
        thread.join(timeout=5)
