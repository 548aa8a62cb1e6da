"""OpenAI chat completions, and any OpenAI-compatible server (vLLM, Ollama, llama.cpp).

The `openai` SDK is imported when a backend is built, never at package import. The
SDK's retries are off (`max_retries=0`): the `LLM` client retries for every backend.
Async SDK clients are made per event loop, since their connections belong to one.
"""

from __future__ import annotations

import json
from typing import Any

from undertow.engine.llm.aio import LoopLocal
from undertow.engine.llm.backends.base import (
    estimate_tokens,
    redact,
    resolve_key,
    transport_errors,
)
from undertow.engine.llm.errors import (
    LLMAPIError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    MalformedResponseError,
)
from undertow.engine.llm.retry import parse_retry_after
from undertow.engine.llm.types import LLMRequest, Reply

OPENAI_URL = "https://api.openai.com/v1"


class OpenAIBackend:
    """Chat completions through the official SDK.

    `provider="openai"` reads `OPENAI_API_KEY`; `provider="openai-compatible"` needs a
    `base_url` and reads `OPENAI_COMPATIBLE_API_KEY` if set (many local servers need
    no key; the OpenAI key is never sent to another host). `http_client` and
    `async_http_client` (httpx2 clients) let tests and proxies plug in transports.
    """

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None,
                 provider: str = "openai", timeout: float | None = 60.0,
                 http_client: Any = None, async_http_client: Any = None,
                 default_headers: dict[str, str] | None = None) -> None:
        import openai

        if provider == "openai-compatible":
            if not base_url:
                raise LLMError("openai-compatible needs base_url (the server's /v1 URL)")
            import os
            key = api_key or os.environ.get("OPENAI_COMPATIBLE_API_KEY") or "EMPTY"
        else:
            key = resolve_key(api_key, "OPENAI_API_KEY", provider)
        self.provider = provider
        self.endpoint = (base_url or OPENAI_URL).rstrip("/")
        self._options = {"api_key": key, "base_url": self.endpoint, "timeout": timeout,
                         "max_retries": 0, "default_headers": default_headers}
        self._async_http_client = async_http_client
        self._client = openai.OpenAI(**self._options, http_client=http_client)
        self._sdk = openai
        self._transport = transport_errors()
        self._async = LoopLocal(lambda: self._sdk.AsyncOpenAI(**self._options,
                                                        http_client=self._async_http_client),
                                close=lambda client: client.close())

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIBackend(provider={self.provider!r}, endpoint={self.endpoint!r})"


    def _kwargs(self, request: LLMRequest, timeout: float | None, stream: bool) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "model": request.model,
            "messages": [m.model_dump(exclude_none=True) for m in request.messages],
        }
        if request.temperature is not None:
            kw["temperature"] = request.temperature
        if request.top_p is not None:
            kw["top_p"] = request.top_p
        if request.max_tokens is not None:
            kw["max_completion_tokens" if self.provider == "openai" else "max_tokens"] = \
                request.max_tokens
        if request.stop is not None:
            kw["stop"] = list(request.stop)
        if request.seed is not None:
            kw["seed"] = request.seed
        if request.tools is not None:
            kw["tools"] = list(request.tools)
        if request.tool_choice is not None:
            kw["tool_choice"] = request.tool_choice
        if request.response_format is not None:
            kw["response_format"] = request.response_format
        if request.extra:
            kw["extra_body"] = dict(request.extra)
        if timeout is not None and timeout != self._options["timeout"]:
            kw["timeout"] = timeout  # per-request options cost the SDK time: only when needed
        if stream:
            kw["stream"] = True
            kw["stream_options"] = {"include_usage": True}
        return kw

    def _translate(self, exc: Exception) -> LLMError:
        """Our error for an SDK error, with the API key scrubbed from its message."""
        key = self._options["api_key"]
        error = self._translate_raw(exc)
        error.args = tuple(redact(str(a), key) for a in error.args)
        exc.args = tuple(redact(str(a), key) for a in exc.args)  # it is chained as __cause__
        if isinstance(getattr(exc, "message", None), str):
            exc.message = redact(exc.message, key)  # type: ignore[attr-defined]
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
            hint = " (check the API key)" if status in (401, 403) else ""
            return LLMAPIError(f"{self.provider} HTTP {status}: {exc.message}{hint}",
                               status=status, provider=self.provider,
                               retry_after=parse_retry_after(exc.response.headers))
        return MalformedResponseError(f"{self.provider} sent a reply that is not valid "
                                      f"chat-completions JSON: {type(exc).__name__}: {exc}")

    def _sdk_errors(self) -> tuple[type[BaseException], ...]:
        return (self._sdk.OpenAIError, ValueError)

    @staticmethod
    def _reply(resp: Any) -> Reply:
        try:
            choice = resp.choices[0]
            text = choice.message.content or ""
            if not text and choice.message.tool_calls:
                text = json.dumps([c.model_dump() for c in choice.message.tool_calls])
            usage = resp.usage
            estimated = usage is None
            return Reply(text=text,
                         prompt_tokens=usage.prompt_tokens if usage else 0,
                         completion_tokens=usage.completion_tokens if usage else estimate_tokens(text),
                         model=resp.model or "", finish_reason=choice.finish_reason,
                         usage_estimated=estimated)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            raise MalformedResponseError(
                f"reply is not a chat completion ({type(exc).__name__}: {exc}); "
                f"got {str(resp)[:200]!r}") from None

    def _finish_stream(self, parts: list[str], finish: str | None, usage: Any,
                       model: str) -> Reply:
        if finish is None:
            raise LLMConnectionError(f"{self.provider} stream from {self.endpoint} ended "
                                     "before its last chunk (truncated stream)")
        text = "".join(parts)
        return Reply(text=text, prompt_tokens=usage.prompt_tokens if usage else 0,
                     completion_tokens=usage.completion_tokens if usage else estimate_tokens(text),
                     model=model, finish_reason=finish, usage_estimated=usage is None)

    @staticmethod
    def _absorb(chunk: Any, parts: list[str], state: dict[str, Any]) -> None:
        if getattr(chunk, "usage", None) is not None:
            state["usage"] = chunk.usage
        state["model"] = getattr(chunk, "model", None) or state["model"]
        for choice in chunk.choices or ():
            if choice.delta is not None and choice.delta.content:
                parts.append(choice.delta.content)
            if choice.finish_reason is not None:
                state["finish"] = choice.finish_reason

    def complete(self, request: LLMRequest, *, timeout: float | None = None,
                 stream: bool = False) -> Reply:
        """One chat completion; streamed replies are joined into one `Reply`."""
        try:
            resp = self._client.chat.completions.create(**self._kwargs(request, timeout, stream))
            if not stream:
                return self._reply(resp)
            parts: list[str] = []
            state: dict[str, Any] = {"usage": None, "finish": None, "model": request.model}
            with resp:
                for chunk in resp:
                    self._absorb(chunk, parts, state)
        except self._sdk_errors() as exc:
            raise self._translate(exc) from exc
        except self._transport as exc:
            raise LLMConnectionError(f"connection to {self.endpoint} broke mid-stream: "
                                     f"{exc} (truncated stream)") from exc
        except (AttributeError, TypeError) as exc:
            raise MalformedResponseError(f"malformed stream chunk: {exc}") from exc
        return self._finish_stream(parts, state["finish"], state["usage"], state["model"])

    async def acomplete(self, request: LLMRequest, *, timeout: float | None = None,
                        stream: bool = False) -> Reply:
        """Async twin of `complete`."""
        client = await self._async.get()
        try:
            resp = await client.chat.completions.create(**self._kwargs(request, timeout, stream))
            if not stream:
                return self._reply(resp)
            parts: list[str] = []
            state: dict[str, Any] = {"usage": None, "finish": None, "model": request.model}
            async with resp:
                async for chunk in resp:
                    self._absorb(chunk, parts, state)
        except self._sdk_errors() as exc:
            raise self._translate(exc) from exc
        except self._transport as exc:
            raise LLMConnectionError(f"connection to {self.endpoint} broke mid-stream: "
                                     f"{exc} (truncated stream)") from exc
        except (AttributeError, TypeError) as exc:
            raise MalformedResponseError(f"malformed stream chunk: {exc}") from exc
        return self._finish_stream(parts, state["finish"], state["usage"], state["model"])

    def close(self) -> None:
        """Close the sync client and the async clients of loops still running."""
        self._client.close()
        self._async.close_all()
