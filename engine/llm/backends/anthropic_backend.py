"""Anthropic messages API through the official SDK (imported when a backend is built).

System messages move to the `system` parameter; `max_tokens`, which the API
requires, defaults to `default_max_tokens`. The API has no `response_format`, so a
requested schema is stated in the system prompt instead. SDK retries are off.
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

ANTHROPIC_URL = "https://api.anthropic.com"


class AnthropicBackend:
    """Claude models; reads `ANTHROPIC_API_KEY` unless `api_key` is given."""

    provider = "anthropic"

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None,
                 timeout: float | None = 60.0, default_max_tokens: int = 1024,
                 http_client: Any = None, async_http_client: Any = None) -> None:
        import anthropic

        key = resolve_key(api_key, "ANTHROPIC_API_KEY", "anthropic")
        self.endpoint = (base_url or ANTHROPIC_URL).rstrip("/")
        self.default_max_tokens = default_max_tokens
        self._options = {"api_key": key, "base_url": self.endpoint, "timeout": timeout,
                         "max_retries": 0}
        self._async_http_client = async_http_client
        self._client = anthropic.Anthropic(**self._options, http_client=http_client)
        self._sdk = anthropic
        self._transport = transport_errors()
        self._async = LoopLocal(lambda: self._sdk.AsyncAnthropic(**self._options,
                                                        http_client=self._async_http_client),
                                close=lambda client: client.close())

    def __repr__(self) -> str:  # never shows the key
        return f"AnthropicBackend(endpoint={self.endpoint!r})"


    def _kwargs(self, request: LLMRequest, timeout: float | None, stream: bool) -> dict[str, Any]:
        system = [m.content for m in request.messages if m.role == "system"]
        if request.response_format is not None:
            schema = request.response_format.get("json_schema", {}).get("schema")
            system.append("Reply with only a JSON value" + (
                f" matching this JSON schema: {json.dumps(schema)}" if schema else "") + ".")
        kw: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens or self.default_max_tokens,
            "messages": [{"role": m.role, "content": m.content}
                         for m in request.messages if m.role != "system"],
        }
        if system:
            kw["system"] = "\n\n".join(system)
        if request.stop is not None:
            kw["stop_sequences"] = list(request.stop)
        if request.tools is not None:
            kw["tools"] = list(request.tools)
        if request.tool_choice is not None:  # OpenAI-style "auto" -> {"type": "auto"}
            choice = request.tool_choice
            kw["tool_choice"] = {"type": choice} if isinstance(choice, str) else choice
        body = dict(request.extra)
        for name in ("temperature", "top_p"):
            if (value := getattr(request, name)) is not None:
                body[name] = value
        if body:
            kw["extra_body"] = body
        if timeout is not None and timeout != self._options["timeout"]:
            kw["timeout"] = timeout  # per-request options cost the SDK time: only when needed
        if stream:
            kw["stream"] = True
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
            return LLMTimeoutError(f"anthropic request to {self.endpoint} timed out "
                                   "(raise timeout=..., or check the server)")
        if isinstance(exc, sdk.APIConnectionError):
            return LLMConnectionError(f"anthropic connection to {self.endpoint} failed: "
                                      f"{exc.__cause__ or exc}")
        if isinstance(exc, sdk.APIStatusError):
            status = exc.status_code
            hint = " (check ANTHROPIC_API_KEY)" if status in (401, 403) else ""
            return LLMAPIError(f"anthropic HTTP {status}: {exc.message}{hint}", status=status,
                               provider="anthropic",
                               retry_after=parse_retry_after(exc.response.headers))
        return MalformedResponseError(f"anthropic sent a reply that is not valid messages "
                                      f"JSON: {type(exc).__name__}: {exc}")

    @staticmethod
    def _reply(resp: Any) -> Reply:
        try:
            text = "".join(block.text for block in resp.content if block.type == "text")
            if not text:
                tools = [b.model_dump() for b in resp.content if b.type == "tool_use"]
                text = json.dumps(tools) if tools else ""
            return Reply(text=text, prompt_tokens=resp.usage.input_tokens,
                         completion_tokens=resp.usage.output_tokens, model=resp.model or "",
                         finish_reason=resp.stop_reason)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            raise MalformedResponseError(
                f"reply is not an Anthropic message ({type(exc).__name__}: {exc}); "
                f"got {str(resp)[:200]!r}") from None

    @staticmethod
    def _absorb(event: Any, parts: list[str], state: dict[str, Any]) -> None:
        kind = event.type
        if kind == "message_start":
            state["model"] = event.message.model or state["model"]
            state["prompt"] = event.message.usage.input_tokens
        elif kind == "content_block_delta" and getattr(event.delta, "type", "") == "text_delta":
            parts.append(event.delta.text)
        elif kind == "message_delta":
            state["finish"] = event.delta.stop_reason or state["finish"]
            if event.usage is not None:
                state["completion"] = event.usage.output_tokens
        elif kind == "message_stop":
            state["stopped"] = True

    @staticmethod
    def _finish_stream(parts: list[str], state: dict[str, Any]) -> Reply:
        if not state["stopped"]:
            raise LLMConnectionError("anthropic stream ended before message_stop "
                                     "(truncated stream)")
        text = "".join(parts)
        estimated = state["completion"] is None
        return Reply(text=text, prompt_tokens=state["prompt"] or 0,
                     completion_tokens=estimate_tokens(text) if estimated else state["completion"],
                     model=state["model"], finish_reason=state["finish"],
                     usage_estimated=estimated)

    @staticmethod
    def _state(request: LLMRequest) -> dict[str, Any]:
        return {"model": request.model, "prompt": None, "completion": None,
                "finish": None, "stopped": False}

    def complete(self, request: LLMRequest, *, timeout: float | None = None,
                 stream: bool = False) -> Reply:
        """One message; a streamed reply is joined into one `Reply`."""
        try:
            resp = self._client.messages.create(**self._kwargs(request, timeout, stream))
            if not stream:
                return self._reply(resp)
            parts: list[str] = []
            state = self._state(request)
            with resp:
                for event in resp:
                    self._absorb(event, parts, state)
        except (self._sdk.AnthropicError, ValueError) as exc:
            raise self._translate(exc) from exc
        except self._transport as exc:
            raise LLMConnectionError(f"connection to {self.endpoint} broke mid-stream: "
                                     f"{exc} (truncated stream)") from exc
        except (AttributeError, TypeError) as exc:
            raise MalformedResponseError(f"malformed stream event: {exc}") from exc
        return self._finish_stream(parts, state)

    async def acomplete(self, request: LLMRequest, *, timeout: float | None = None,
                        stream: bool = False) -> Reply:
        """Async twin of `complete`."""
        client = await self._async.get()
        try:
            resp = await client.messages.create(**self._kwargs(request, timeout, stream))
            if not stream:
                return self._reply(resp)
            parts: list[str] = []
            state = self._state(request)
            async with resp:
                async for event in resp:
                    self._absorb(event, parts, state)
        except (self._sdk.AnthropicError, ValueError) as exc:
            raise self._translate(exc) from exc
        except self._transport as exc:
            raise LLMConnectionError(f"connection to {self.endpoint} broke mid-stream: "
                                     f"{exc} (truncated stream)") from exc
        except (AttributeError, TypeError) as exc:
            raise MalformedResponseError(f"malformed stream event: {exc}") from exc
        return self._finish_stream(parts, state)

    def close(self) -> None:
        """Close the sync client and the async clients of loops still running."""
        self._client.close()
        self._async.close_all()
