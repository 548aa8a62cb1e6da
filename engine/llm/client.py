"""The `LLM` client: one object per model, the same for every provider.

`complete` / `acomplete` send one request through the pipeline every backend
shares: build the request -> cache lookup (a hit is free and says so) -> budget
check (nothing is sent past a budget) -> backend call with retries, where every
attempt, a retry too, is first granted by the rate limiter (a retry waits the
server's `retry-after`, then for its own grant) -> accounting and cache write (only
complete replies are stored) -> structured parsing with one repair round.
`complete_many` / `acomplete_many` fan out with at most `max_concurrency` requests
in flight; the sync forms work inside a running event loop too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, Self

from undertow.engine.callbacks import Callback, CallbackList, LLMCallEvent
from undertow.engine.llm.accounting import Accounting, BudgetExceeded, Reservation
from undertow.engine.llm.aio import LoopLocal, run_sync
from undertow.engine.llm.backends.base import Backend
from undertow.engine.llm.cache import ResponseCache, request_key
from undertow.engine.llm.errors import LLMConfigError, LLMError
from undertow.engine.llm.limits import Limiter, SpendLedger, hold_for, request_tokens
from undertow.engine.llm.retry import RetryPolicy, aretry_call, retry_call
from undertow.engine.llm.structured import (
    StructuredOutputError,
    parse_structured,
    repair_messages,
    response_format_for,
)
from undertow.engine.llm.types import LLMRequest, LLMResponse, Message, Reply, Usage

#: A prompt: one user string, one message, or a list of messages (dicts or `Message`).
Prompt = str | Message | Mapping[str, Any] | Sequence[str | Message | Mapping[str, Any]]

_UNSET: Any = object()
log = logging.getLogger("undertow.engine.llm")


def to_messages(prompt: Prompt) -> tuple[Message, ...]:
    """Normalize a prompt into messages (a bare string is one user message)."""
    if isinstance(prompt, (str, Message, Mapping)):
        prompt = [prompt]
    out = []
    for item in prompt:
        if isinstance(item, Message):
            out.append(item)
        elif isinstance(item, str):
            out.append(Message(role="user", content=item))
        elif isinstance(item, Mapping):
            out.append(Message(**item))
        else:
            raise LLMConfigError(f"a prompt item must be a str, a Message or a dict with "
                                 f"role and content; got {type(item).__name__}")
    if not out:
        raise LLMConfigError("the prompt is empty: pass at least one message")
    return tuple(out)


class LLM:
    """A client for one model of one backend.

    Args:
        backend: the provider (`OpenAIBackend`, `AnthropicBackend`, `SimBackend`, ...).
        model: the model name sent with every request.
        cache: a `ResponseCache`, or None for no caching.
        accounting: the ledger and budgets (share one between clients for one budget).
        retry: the retry policy (retries are ours; SDK retries are off).
        rate_limiter: optional requests/tokens-per-minute limits: a `RateLimiter`, or any
            `Limiter` (e.g. one shared by the processes of a sweep).
        ledger: optional `SpendLedger` told of every booked call (and asked before each),
            so spend can be summed, and capped, across clients and processes.
        max_concurrency: most requests in flight at once in async use.
        timeout: seconds per attempt (None: the SDK's default).
        purpose: the default accounting purpose ("forward", "optimizer", "judge", ...).
        stream: stream replies by default (the result is the same, joined).
        temperature: the default sampling temperature of every request.
        max_tokens: the default reply length cap of every request.
        seed: the default sampling seed of every request.
    """

    def __init__(self, backend: Backend, *, model: str, cache: ResponseCache | None = None,
                 accounting: Accounting | None = None, retry: RetryPolicy | None = None,
                 rate_limiter: Limiter | None = None, ledger: SpendLedger | None = None,
                 max_concurrency: int = 16,
                 timeout: float | None = 60.0, purpose: str = "forward", stream: bool = False,
                 temperature: float | None = None, max_tokens: int | None = None,
                 seed: int | None = None) -> None:
        if max_concurrency < 1:
            raise LLMConfigError(f"max_concurrency must be >= 1, got {max_concurrency}")
        self.backend = backend
        self.model = model
        self.cache = cache
        self.accounting = accounting if accounting is not None else Accounting()
        self.retry = retry if retry is not None else RetryPolicy()
        self.rate_limiter = rate_limiter
        self.ledger = ledger
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.purpose = purpose
        self.stream = stream
        self.defaults = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
        self._semaphores = LoopLocal(lambda: asyncio.Semaphore(max_concurrency))
        self.callbacks = CallbackList()

    def add_callback(self, callback: Callback) -> None:
        """Call `callback.on_llm_call` after every request (cache hits and failures too)."""
        self.callbacks.add(callback)

    def _observe(self, response: LLMResponse) -> LLMResponse:
        log.debug("llm %s:%s purpose=%s tokens=%d+%d cost=%.6f cached=%s %.3fs", response.provider,
                  response.model, response.purpose, response.usage.prompt_tokens,
                  response.usage.completion_tokens, response.cost_usd, response.cached, response.latency_s)
        if self.callbacks:
            self.callbacks.emit("on_llm_call", LLMCallEvent(
                provider=response.provider, model=response.model, purpose=response.purpose,
                input_tokens=response.usage.prompt_tokens, output_tokens=response.usage.completion_tokens,
                cost_usd=response.cost_usd, cached=response.cached, latency_s=response.latency_s,
                key=response.key, finish_reason=response.finish_reason))
        return response

    def _observe_failure(self, request: LLMRequest, key: str | None, purpose: str, started: float,
                         exc: BaseException) -> None:
        log.info("llm %s:%s purpose=%s failed: %s: %s", request.provider, request.model, purpose,
                 type(exc).__name__, exc)
        if self.callbacks:
            self.callbacks.emit("on_llm_call", LLMCallEvent(
                provider=request.provider, model=request.model, purpose=purpose, input_tokens=0,
                output_tokens=0, cost_usd=0.0, cached=False, latency_s=time.perf_counter() - started,
                key=request_key(request) if key is None else key, error=f"{type(exc).__name__}: {exc}"))

    def __repr__(self) -> str:
        return f"LLM({self.backend!r}, model={self.model!r})"

    def __copy__(self) -> LLM:
        new = object.__new__(LLM)
        new.__dict__.update(self.__dict__)
        new.defaults = dict(self.defaults)
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> LLM:
        """A copy is a second handle on the same model: by design it shares the
        connection pool (backend), the response cache, the accounting (so one budget
        still covers both), the rate limits and the concurrency limit. Its defaults
        (temperature, max_tokens, seed, purpose...) can then be changed on their own.
        Deep-copying sockets, locks and cache files would be meaningless."""
        new = self.__copy__()
        memo[id(self)] = new
        return new

    # building blocks ----------------------------------------------------------
    def request(self, prompt: Prompt, *, model: str | None = None, temperature: Any = _UNSET,
                top_p: float | None = None, max_tokens: Any = _UNSET, stop: Sequence[str] | None = None,
                seed: Any = _UNSET, tools: Sequence[Mapping[str, Any]] | None = None,
                tool_choice: str | Mapping[str, Any] | None = None,
                response_format: Mapping[str, Any] | None = None, sample_index: int = 0,
                **extra: Any) -> LLMRequest:
        """The `LLMRequest` that `complete` would send (client defaults filled in)."""
        d = self.defaults
        return LLMRequest(
            provider=self.backend.provider, endpoint=self.backend.endpoint,
            model=model or self.model, messages=to_messages(prompt),
            temperature=d["temperature"] if temperature is _UNSET else temperature,
            top_p=top_p, max_tokens=d["max_tokens"] if max_tokens is _UNSET else max_tokens,
            stop=tuple(stop) if stop is not None else None,
            seed=d["seed"] if seed is _UNSET else seed,
            tools=tuple(dict(t) for t in tools) if tools is not None else None,
            tool_choice=dict(tool_choice) if isinstance(tool_choice, Mapping) else tool_choice,
            response_format=dict(response_format) if response_format is not None else None,
            sample_index=sample_index, extra=extra)

    def _response(self, reply: Reply, request: LLMRequest, key: str | None, purpose: str,
                  started: float, *, cached: bool, cost: float, attempts: int) -> LLMResponse:
        usage = Usage(prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens,
                      estimated=reply.usage_estimated)
        response = LLMResponse(
            text=reply.text, usage=usage, cost_usd=cost,
            model=reply.model or request.model, provider=request.provider,
            latency_s=time.perf_counter() - started, cached=cached, purpose=purpose,
            finish_reason=reply.finish_reason, attempts=attempts,
            **({} if key is None else {"key": key}))
        response._request = request  # its key, when not known, is made on first use
        return response

    def _reserve(self, request: LLMRequest, purpose: str) -> Reservation:
        """Book the request's worst case (prompt bound + max_tokens, priced) under the budgets."""
        if self.ledger is not None:
            self.ledger.admit(purpose)
        return self.accounting.reserve(purpose, request.provider, request.model,
                                       prompt_tokens=prompt_token_bound(request),
                                       max_tokens=request.max_tokens)

    def _lookup(self, request: LLMRequest, purpose: str, started: float
                ) -> tuple[str | None, LLMResponse | None, Reservation | None]:
        """(cache key, None without a cache: the response makes it when asked; the cached
        response or None; the reservation of a call to send)."""
        if self.cache is None:
            return None, None, self._reserve(request, purpose)
        key = request_key(request)
        if (reply := self.cache.get(key)) is not None:
            self.accounting.record_hit(purpose)
            return key, self._response(reply, request, key, purpose, started,
                                       cached=True, cost=0.0, attempts=0), None
        return key, None, self._reserve(request, purpose)

    def _estimate(self, request: LLMRequest) -> int:
        return request_tokens((m.content for m in request.messages), request.max_tokens)

    def _book(self, reply: Reply, request: LLMRequest, key: str | None, purpose: str, started: float,
              attempts: int, estimate: int, held: Reservation | None = None) -> LLMResponse:
        usage = Usage(prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens)
        cost = self.accounting.record(purpose, request.provider, request.model, usage, held)
        if self.ledger is not None:
            self.ledger.book(purpose, usage, cost)
        if self.rate_limiter is not None:
            self.rate_limiter.settle(estimate, usage.total_tokens)
        cut_by_budget = held is not None and held.max_tokens is not None and reply.finish_reason == "length"
        if self.cache is not None and key is not None and not cut_by_budget:  # a reply cut short by the
            self.cache.set(key, reply)  # budget's limit is no answer to the request as asked
        return self._response(reply, request, key, purpose, started,
                              cached=False, cost=cost, attempts=attempts)

    # sync ------------------------------------------------------------------------
    def send(self, request: LLMRequest, *, purpose: str | None = None,
             stream: bool | None = None, timeout: float | None = None) -> LLMResponse:
        """Send a prepared request through cache, budget, rate limit and retries."""
        started = time.perf_counter()
        purpose = purpose or self.purpose
        key, hit, held = self._lookup(request, purpose, started)
        if hit is not None:
            return self._observe(hit)
        sent = _limited(request, held)
        estimate = self._estimate(sent) if self.rate_limiter is not None else 0
        stream = self.stream if stream is None else stream
        timeout = self.timeout if timeout is None else timeout

        def attempt() -> Reply:  # every attempt, retries too, waits for its own grant
            if self.rate_limiter is not None:
                wait = self.rate_limiter.reserve(estimate)
                if wait > 0:
                    time.sleep(wait)
            try:
                return self.backend.complete(sent, timeout=timeout, stream=stream)
            except LLMError as exc:  # a refusal's retry-after holds every caller of the limiter
                hold_for(self.rate_limiter, getattr(exc, "retry_after", None), self.retry.max_retry_after)
                raise

        try:
            reply, attempts = retry_call(attempt, self.retry)
        except BaseException as exc:
            self.accounting.record_failure(purpose, error=not isinstance(exc, asyncio.CancelledError),
                                           reservation=held)
            self._observe_failure(request, key, purpose, started, exc)
            raise
        return self._observe(self._book(reply, request, key, purpose, started, attempts, estimate, held))

    def complete(self, prompt: Prompt, *, purpose: str | None = None, schema: Any = None,
                 repair: bool = True, stream: bool | None = None, timeout: float | None = None,
                 **params: Any) -> LLMResponse:
        """Ask the model; return a typed `LLMResponse`.

        `params` are request fields (`temperature`, `max_tokens`, `top_p`, `stop`,
        `seed`, `tools`, `tool_choice`, `response_format`, `sample_index`, `model`) or
        provider extras. With `schema` (a pydantic model, a type, or a JSON-schema
        dict) the reply is parsed into `response.parsed`; a reply that cannot be
        parsed gets one repair round (unless `repair=False`), then raises
        `StructuredOutputError`.
        """
        if schema is not None and "response_format" not in params:
            params["response_format"] = response_format_for(schema)
        request = self.request(prompt, **params)
        response = self.send(request, purpose=purpose, stream=stream, timeout=timeout)
        if schema is None:
            return response
        parsed, fixed = _parse_or_repair(request, response, schema, repair)
        if fixed is None:
            return parsed
        second = self.send(fixed, purpose=purpose, stream=stream, timeout=timeout)
        return second.model_copy(update={"parsed": _parse_after_repair(second.text, schema)})

    def complete_many(self, prompts: Sequence[Prompt], *, return_exceptions: bool = False,
                      **kwargs: Any) -> list[Any]:
        """`complete` for many prompts at once, `max_concurrency` in flight; in order.

        The first error stops the calls not yet sent (calls already in flight finish,
        and are booked and cached) and is raised once they are done; past a budget,
        the calls it already admitted still go out. Unless
        `return_exceptions=True` puts errors in the list instead.
        """
        return run_sync(self.acomplete_many(prompts, return_exceptions=return_exceptions,
                                            **kwargs))

    def sample(self, prompt: Prompt, n: int, **kwargs: Any) -> list[LLMResponse]:
        """`n` samples of one prompt (`sample_index` 0..n-1, so n cache entries); pass
        `temperature` > 0 for them to differ."""
        return run_sync(self.asample(prompt, n, **kwargs))

    # async -----------------------------------------------------------------------
    async def asample(self, prompt: Prompt, n: int, **kwargs: Any) -> list[LLMResponse]:
        """Async twin of `sample`."""
        if n < 1:
            raise LLMConfigError(f"n must be >= 1, got {n}")
        return list(await asyncio.gather(*(self.acomplete(prompt, sample_index=i, **kwargs)
                                           for i in range(n))))

    async def asend(self, request: LLMRequest, *, purpose: str | None = None,
                    stream: bool | None = None, timeout: float | None = None,
                    _batch: _Batch | None = None) -> LLMResponse:
        """Async twin of `send`."""
        started = time.perf_counter()
        purpose = purpose or self.purpose
        key, hit, held = self._lookup(request, purpose, started)
        if hit is not None:
            return self._observe(hit)
        sent = _limited(request, held)
        estimate = self._estimate(sent) if self.rate_limiter is not None else 0
        stream = self.stream if stream is None else stream
        timeout = self.timeout if timeout is None else timeout

        async def attempt() -> Reply:  # every attempt, retries too, waits for its own grant
            if self.rate_limiter is not None:
                wait = self.rate_limiter.reserve(estimate)
                if wait > 0:
                    await asyncio.sleep(wait)
            try:
                return await self.backend.acomplete(sent, timeout=timeout, stream=stream)
            except LLMError as exc:
                hold_for(self.rate_limiter, getattr(exc, "retry_after", None), self.retry.max_retry_after)
                raise

        try:
            async with await self._semaphores.get():
                if _batch is not None and _batch.error is not None:
                    raise CallSkipped(f"not sent: an earlier call of the batch failed "
                                      f"({type(_batch.error).__name__})")
                reply, attempts = await aretry_call(attempt, self.retry)
        except BaseException as exc:
            self.accounting.record_failure(
                purpose, error=not isinstance(exc, (asyncio.CancelledError, CallSkipped)),
                reservation=held)
            if not isinstance(exc, (asyncio.CancelledError, CallSkipped)):
                self._observe_failure(request, key, purpose, started, exc)
            raise
        return self._observe(self._book(reply, request, key, purpose, started, attempts, estimate, held))

    async def acomplete(self, prompt: Prompt, *, purpose: str | None = None, schema: Any = None,
                        repair: bool = True, stream: bool | None = None,
                        timeout: float | None = None, _batch: _Batch | None = None,
                        **params: Any) -> LLMResponse:
        """Async twin of `complete`."""
        if schema is not None and "response_format" not in params:
            params["response_format"] = response_format_for(schema)
        request = self.request(prompt, **params)
        response = await self.asend(request, purpose=purpose, stream=stream, timeout=timeout,
                                    _batch=_batch)
        if schema is None:
            return response
        parsed, fixed = _parse_or_repair(request, response, schema, repair)
        if fixed is None:
            return parsed
        second = await self.asend(fixed, purpose=purpose, stream=stream, timeout=timeout,
                                  _batch=_batch)
        return second.model_copy(update={"parsed": _parse_after_repair(second.text, schema)})

    async def acomplete_many(self, prompts: Sequence[Prompt], *, return_exceptions: bool = False,
                             **kwargs: Any) -> list[Any]:
        """Async twin of `complete_many`."""
        if return_exceptions:
            return list(await asyncio.gather(*(self.acomplete(p, **kwargs) for p in prompts),
                                             return_exceptions=True))
        batch = _Batch()

        async def one(prompt: Prompt) -> LLMResponse:
            try:
                return await self.acomplete(prompt, _batch=batch, **kwargs)
            except Exception as exc:
                if not isinstance(exc, CallSkipped):
                    batch.first = batch.first or exc
                    # past a budget, calls already reserved within it still go out
                    if batch.error is None and not isinstance(exc, BudgetExceeded):
                        batch.error = exc
                raise

        results = await asyncio.gather(*(one(p) for p in prompts), return_exceptions=True)
        if batch.first is not None:
            raise batch.first
        return list(results)

    # lifetime --------------------------------------------------------------------
    def close(self) -> None:
        """Release the backend's connections and the cache's files."""
        self.backend.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def prompt_token_bound(request: LLMRequest) -> int:
    """An upper bound of the request's prompt tokens, for budget reservations.

    Every token of a byte-level tokenizer covers at least one byte, so a message costs
    at most its UTF-8 bytes plus a few framing tokens; tools and a response schema are
    counted the same way.
    """
    total = 8
    for m in request.messages:
        total += len(m.content.encode("utf-8")) + 8
    for extra in (request.tools, request.response_format):
        if extra is not None:
            total += len(json.dumps(extra, default=str).encode("utf-8"))
    return total


def _limited(request: LLMRequest, held: Reservation | None) -> LLMRequest:
    """The request to send: with the completion limit the budget set, when it set one."""
    if held is None or held.max_tokens is None:
        return request
    return request.model_copy(update={"max_tokens": held.max_tokens})


class CallSkipped(LLMError):
    """A batched call that was never sent because an earlier call of its batch failed."""


class _Batch:
    """Shared state of one `acomplete_many`: the first error stops calls not yet sent."""

    __slots__ = ("error", "first")

    def __init__(self) -> None:
        self.error: BaseException | None = None  # set: stop sending
        self.first: BaseException | None = None  # raised when the batch is done


def _parse_or_repair(request: LLMRequest, response: LLMResponse, schema: Any,
                     repair: bool) -> tuple[LLMResponse | None, LLMRequest | None]:
    """The first structured reply parsed, ``(response_with_parsed, None)``, or, when it
    does not parse, ``(None, the repair request)`` to send once (re-raises without
    ``repair``). Shared by `complete` and `acomplete`."""
    try:
        return response.model_copy(update={"parsed": parse_structured(response.text, schema)}), None
    except StructuredOutputError as error:
        if not repair:
            raise
        return None, request.model_copy(update={"messages": repair_messages(
            request.messages, response.text, error, schema)})


def _parse_after_repair(text: str, schema: Any) -> Any:
    try:
        return parse_structured(text, schema)
    except StructuredOutputError as error:
        raise StructuredOutputError(f"{error.reason} (still, after one repair round)",
                                    text) from None
