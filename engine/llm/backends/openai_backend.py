"""OpenAI chat completions, and any OpenAI-compatible server (vLLM, Ollama, llama.cpp).

The `openai` SDK is imported when a backend is built, never at package import. The
SDK's retries are off (`max_retries=0`): the `LLM` client retries for every backend.
Async SDK clients are made per event loop, since their connections belong to one.
"""

from __future__ import annotations

import json
import os
from typing import Any

from undertow.engine.llm.backends.base import env_url, estimate_tokens, official, resolve_key
from undertow.engine.llm.backends.sdk import SDKBackend
from undertow.engine.llm.errors import (
    LLMConnectionError,
    LLMError,
    MalformedResponseError,
)
from undertow.engine.llm.types import LLMRequest, Reply

OPENAI_URL = "https://api.openai.com/v1"


class OpenAIBackend(SDKBackend):
    """Chat completions through the official SDK.

    `provider="openai"` reads `OPENAI_API_KEY` and honours the SDK's standard
    variables: `OPENAI_BASE_URL` (when `base_url` is not given), `OPENAI_ORG_ID` and
    `OPENAI_PROJECT_ID`. A key is required only for the public API: a server named by
    a base URL gets `OPENAI_API_KEY` if set, else a placeholder (local servers need
    none). `provider="openai-compatible"` needs a `base_url` and reads
    `OPENAI_COMPATIBLE_API_KEY` if set (the OpenAI key is never sent to another host). `http_client` and
    `async_http_client` (httpx2 clients) let tests and proxies plug in transports.
    """

    #: `response_format` (a JSON object or a JSON schema) is passed to the server as is.
    supports_json_mode = True

    def __init__(self, *, api_key: str | None = None, base_url: str | None = None,
                 provider: str = "openai", timeout: float | None = 60.0,
                 http_client: Any = None, async_http_client: Any = None,
                 default_headers: dict[str, str] | None = None) -> None:
        import openai

        if provider == "openai-compatible":
            if not base_url:
                raise LLMError("openai-compatible needs base_url (the server's /v1 URL)")
            key = api_key or os.environ.get("OPENAI_COMPATIBLE_API_KEY") or "EMPTY"
            self.endpoint = base_url.rstrip("/")
        else:
            self.endpoint = env_url(base_url, "OPENAI_BASE_URL", OPENAI_URL)
            if official(self.endpoint, OPENAI_URL):
                key = resolve_key(api_key, "OPENAI_API_KEY", provider)
            else:
                key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.provider = provider
        if provider == "openai":
            self.key_hint = " (check OPENAI_API_KEY)"
        options = {"api_key": key, "base_url": self.endpoint, "timeout": timeout,
                   "max_retries": 0, "default_headers": default_headers}
        self._connect(openai, openai.OpenAI, openai.AsyncOpenAI, options, http_client, async_http_client)

    reply_kind = "chat-completions JSON"
    stream_item = "chunk"

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

    def _create(self, client: Any, kwargs: dict[str, Any]) -> Any:
        if kwargs.get("stream"):
            return client.chat.completions.create(**kwargs)
        # A plain request goes through the SDK's own `post` (same auth, headers, errors and
        # reply type): `create` would first walk the whole body through its typed-dict
        # transform, about a third of the SDK's CPU per call on a large prompt, for a body
        # that is already plain JSON.
        body = dict(kwargs)
        body.update(body.pop("extra_body", None) or {})
        options = {"timeout": body.pop("timeout")} if "timeout" in body else {}
        return client.post("/chat/completions", body=body, cast_to=self._sdk.types.chat.ChatCompletion,
                           options=options)

    def _new_state(self, request: LLMRequest) -> dict[str, Any]:
        return {"usage": None, "finish": None, "model": request.model}

    def _finish_stream(self, parts: list[str], state: dict[str, Any]) -> Reply:
        finish, usage, model = state["finish"], state["usage"], state["model"]
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
