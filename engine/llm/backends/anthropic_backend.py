"""Anthropic messages API through the official SDK (imported when a backend is built).

System messages move to the `system` parameter; `max_tokens`, which the API
requires, defaults to `default_max_tokens`. The API has no `response_format`, so a
requested schema is stated in the system prompt instead. SDK retries are off.
"""

from __future__ import annotations

import json
import os
from typing import Any

from undertow.engine.llm.backends.base import env_url, estimate_tokens, official, resolve_key
from undertow.engine.llm.backends.sdk import SDKBackend
from undertow.engine.llm.errors import LLMConnectionError, MalformedResponseError
from undertow.engine.llm.types import LLMRequest, Reply

ANTHROPIC_URL = "https://api.anthropic.com"


class AnthropicBackend(SDKBackend):
    """Claude models; reads `ANTHROPIC_API_KEY` (or `ANTHROPIC_AUTH_TOKEN`) unless
    `api_key` is given, and `ANTHROPIC_BASE_URL` unless `base_url` is given. A key is
    required only for the public API (see `OpenAIBackend`)."""

    provider = "anthropic"
    key_hint = " (check ANTHROPIC_API_KEY)"
    reply_kind = "messages JSON"
    stream_item = "event"

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None,
                 timeout: float | None = 60.0, default_max_tokens: int = 1024,
                 http_client: Any = None, async_http_client: Any = None) -> None:
        import anthropic

        self.endpoint = env_url(base_url, "ANTHROPIC_BASE_URL", ANTHROPIC_URL)
        token = os.environ.get("ANTHROPIC_AUTH_TOKEN") if api_key is None else None
        if token and not os.environ.get("ANTHROPIC_API_KEY"):
            key = None  # the SDK sends the token as a bearer header
        elif official(self.endpoint, ANTHROPIC_URL):
            key = resolve_key(api_key, "ANTHROPIC_API_KEY", "anthropic")
        else:
            key = api_key or os.environ.get("ANTHROPIC_API_KEY") or "EMPTY"
        self.default_max_tokens = default_max_tokens
        options: dict[str, Any] = {"api_key": key, "base_url": self.endpoint,
                                   "timeout": timeout, "max_retries": 0}
        if key is None:
            options["auth_token"] = token
        self._connect(anthropic, anthropic.Anthropic, anthropic.AsyncAnthropic, options,
                      http_client, async_http_client)

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

    def _sdk_errors(self) -> tuple[type[BaseException], ...]:
        return (self._sdk.AnthropicError, ValueError)

    def _create(self, client: Any, kwargs: dict[str, Any]) -> Any:
        return client.messages.create(**kwargs)

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
    def _new_state(request: LLMRequest) -> dict[str, Any]:
        return {"model": request.model, "prompt": None, "completion": None,
                "finish": None, "stopped": False}
