"""What the OpenAI and Anthropic backends share: the call, streaming, and errors.

Both official SDKs have the same shape — a sync and an async client, a `create`
call that returns a reply or a stream, and the same exception hierarchy
(`APITimeoutError`, `APIConnectionError`, `APIStatusError`). `SDKBackend` holds the
request/stream loop and the error translation once; a subclass says how to build
the call's arguments, which method to call, and how to read replies and stream items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from undertow.engine.llm.aio import LoopLocal
from undertow.engine.llm.backends.base import redact, transport_errors
from undertow.engine.llm.errors import (
    LLMAPIError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    MalformedResponseError,
)
from undertow.engine.llm.retry import parse_retry_after
from undertow.engine.llm.types import LLMRequest, Reply


class SDKBackend:
    """Base of the backends built on an official SDK.

    Subclasses set `provider`, `endpoint`, `key_hint` (shown on 401/403),
    `reply_kind` (what a valid reply is, for error messages) and `stream_item`
    ("chunk", "event"), call `_connect` from their constructor, and implement
    `_kwargs`, `_create`, `_reply`, `_new_state`, `_absorb` and `_finish_stream`.
    """

    provider: str
    endpoint: str
    key_hint = " (check the API key)"
    reply_kind = "reply"
    stream_item = "chunk"

    def _connect(self, sdk: Any, sync_cls: Callable[..., Any], async_cls: Callable[..., Any],
                 options: dict[str, Any], http_client: Any, async_http_client: Any) -> None:
        """Make the sync client now and async clients per event loop (their connections
        belong to one loop)."""
        self._sdk = sdk
        self._options = options
        self._client = sync_cls(**options, http_client=http_client)
        self._transport = transport_errors()
        self._async = LoopLocal(lambda: async_cls(**options, http_client=async_http_client),
                                close=lambda client: client.close())

    # -- subclass hooks ---------------------------------------------------------
    def _kwargs(self, request: LLMRequest, timeout: float | None, stream: bool) -> dict[str, Any]:
        raise NotImplementedError

    def _create(self, client: Any, kwargs: dict[str, Any]) -> Any:
        """Call the SDK (sync or async client: the same method path)."""
        raise NotImplementedError

    def _reply(self, resp: Any) -> Reply:
        raise NotImplementedError

    def _new_state(self, request: LLMRequest) -> dict[str, Any]:
        raise NotImplementedError

    def _absorb(self, item: Any, parts: list[str], state: dict[str, Any]) -> None:
        raise NotImplementedError

    def _finish_stream(self, parts: list[str], state: dict[str, Any]) -> Reply:
        raise NotImplementedError

    def _sdk_errors(self) -> tuple[type[BaseException], ...]:
        raise NotImplementedError

    # -- the shared call ----------------------------------------------------------
    def complete(self, request: LLMRequest, *, timeout: float | None = None,
                 stream: bool = False) -> Reply:
        """One request; a streamed reply is joined into one `Reply`."""
        try:
            resp = self._create(self._client, self._kwargs(request, timeout, stream))
            if not stream:
                return self._reply(resp)
            parts: list[str] = []
            state = self._new_state(request)
            with resp:
                for item in resp:
                    self._absorb(item, parts, state)
        except Exception as exc:
            mapped = self._classify(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        return self._finish_stream(parts, state)

    async def acomplete(self, request: LLMRequest, *, timeout: float | None = None,
                        stream: bool = False) -> Reply:
        """Async twin of `complete`."""
        client = await self._async.get()
        try:
            resp = await self._create(client, self._kwargs(request, timeout, stream))
            if not stream:
                return self._reply(resp)
            parts: list[str] = []
            state = self._new_state(request)
            async with resp:
                async for item in resp:
                    self._absorb(item, parts, state)
        except Exception as exc:
            mapped = self._classify(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        return self._finish_stream(parts, state)

    def close(self) -> None:
        """Close the sync client and the async clients of loops still running."""
        self._client.close()
        self._async.close_all()

    # -- errors -------------------------------------------------------------------
    def _classify(self, exc: Exception) -> Exception:
        """Our error for anything raised during a call (our own errors pass through)."""
        if isinstance(exc, LLMError):
            return exc
        if isinstance(exc, self._sdk_errors()):
            return self._translate(exc)
        if isinstance(exc, self._transport):
            return LLMConnectionError(f"connection to {self.endpoint} broke mid-stream: "
                                      f"{exc} (truncated stream)")
        if isinstance(exc, (AttributeError, TypeError)):
            return MalformedResponseError(f"malformed stream {self.stream_item}: {exc}")
        return exc

    def _secrets(self) -> list[str]:
        """What must never appear in an error message: the key this backend sends."""
        key = self._options.get("api_key") or self._options.get("auth_token")
        return [key] if key else []

    def _translate(self, exc: Exception) -> LLMError:
        """Our error for an SDK error, with the API key scrubbed from its message."""
        secrets = self._secrets()

        def scrub(text: str) -> str:
            for secret in secrets:
                text = redact(text, secret)
            return text

        error = self._translate_raw(exc)
        error.args = tuple(scrub(str(a)) for a in error.args)
        exc.args = tuple(scrub(str(a)) for a in exc.args)  # it is chained as __cause__
        if isinstance(getattr(exc, "message", None), str):
            exc.message = scrub(exc.message)  # type: ignore[attr-defined]
        return error

    def _translate_raw(self, exc: Exception) -> LLMError:
        sdk = self._sdk
        if isinstance(exc, sdk.APITimeoutError):
            return LLMTimeoutError(f"{self.provider} request to {self.endpoint} timed out "
                                   "(raise timeout=..., or check the server)")
        if isinstance(exc, sdk.APIConnectionError):
            return LLMConnectionError(f"{self.provider} connection to {self.endpoint} failed: "
                                      f"{exc.__cause__ or exc}")
        if isinstance(exc, sdk.APIStatusError):
            status = exc.status_code
            hint = self.key_hint if status in (401, 403) else ""
            return LLMAPIError(f"{self.provider} HTTP {status}: {exc.message}{hint}",
                               status=status, provider=self.provider,
                               retry_after=parse_retry_after(exc.response.headers))
        return MalformedResponseError(f"{self.provider} sent a reply that is not valid "
                                      f"{self.reply_kind}: {type(exc).__name__}: {exc}")
