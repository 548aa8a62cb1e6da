"""Every provider LiteLLM knows (Gemini, Bedrock, Azure, Vertex, Ollama, ...) behind
undertow's own client: `make_llm("litellm:gemini/gemini-2.0-flash")` or just
`make_llm("gemini/gemini-2.0-flash")`.

LiteLLM is an optional extra (`pip install 'undertow[litellm]'`), imported when a
backend is built. Only the call goes through LiteLLM: caching, retries, rate limits,
budgets and accounting stay in the `LLM` client, as for the native backends, so
LiteLLM's own retries are off. LiteLLM's exceptions subclass the OpenAI SDK's, and its
replies have the chat-completions shape, so errors and replies are read like
`OpenAIBackend`'s.
"""

from __future__ import annotations

import json
import os
from typing import Any

from undertow.engine.llm.backends.base import transport_errors
from undertow.engine.llm.backends.openai_backend import OpenAIBackend
from undertow.engine.llm.backends.sdk import SDKBackend
from undertow.engine.llm.errors import LLMConfigError, LLMError, MalformedResponseError
from undertow.engine.llm.types import LLMRequest, Reply

INSTALL_HINT = "pip install 'undertow[litellm]'"


def import_litellm() -> Any:
    """`litellm`, configured to read its bundled price table rather than fetch one
    over the network at import; a clear error when it is not installed."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError:
        raise LLMConfigError(f"the litellm backend needs LiteLLM: {INSTALL_HINT}") from None
    litellm.suppress_debug_info = True  # our errors say what happened; no banners on stdout
    return litellm


class LiteLLMBackend(SDKBackend):
    """One LiteLLM model string (`PROVIDER/MODEL`); `api_key` and `base_url` are passed
    to LiteLLM as `api_key` and `api_base` (LiteLLM reads each provider's standard
    variables when they are None)."""

    provider = "litellm"
    reply_kind = "chat-completions JSON (from LiteLLM)"
    stream_item = "chunk"
    key_hint = " (check the provider's API key variable)"

    def __init__(self, *, model: str, api_key: str | None = None, base_url: str | None = None,
                 timeout: float | None = 60.0, **options: Any) -> None:
        import openai

        self._litellm = import_litellm()
        self.model = model
        self.endpoint = _endpoint(model, base_url)
        self._sdk = openai  # LiteLLM's exceptions subclass openai's
        self._transport = transport_errors()
        self._options: dict[str, Any] = {"api_key": api_key, "timeout": timeout}
        self._call: dict[str, Any] = {"api_key": api_key, "api_base": base_url,
                                      "num_retries": 0, "max_retries": 0, **options}

    def __repr__(self) -> str:  # never shows the key
        return f"LiteLLMBackend(model={self.model!r}, endpoint={self.endpoint!r})"

    def _kwargs(self, request: LLMRequest, timeout: float | None, stream: bool) -> dict[str, Any]:
        kw = OpenAIBackend._kwargs(self, request, timeout, stream)  # type: ignore[arg-type]
        kw.pop("max_completion_tokens", None)
        if request.max_tokens is not None:
            kw["max_tokens"] = request.max_tokens
        kw.update(kw.pop("extra_body", {}))  # LiteLLM passes unknown keys to the provider
        kw["timeout"] = timeout if timeout is not None else self._options["timeout"]
        kw["model"] = self.model
        return {**{k: v for k, v in self._call.items() if v is not None}, **kw}

    def _create(self, client: Any, kwargs: dict[str, Any]) -> Any:
        return client(**kwargs)

    def _sdk_errors(self) -> tuple[type[BaseException], ...]:
        return (self._sdk.OpenAIError, ValueError)

    _reply = staticmethod(OpenAIBackend._reply)
    _absorb = staticmethod(OpenAIBackend._absorb)
    _finish_stream = OpenAIBackend._finish_stream

    def _new_state(self, request: LLMRequest) -> dict[str, Any]:
        return {"usage": None, "finish": None, "model": self.model}

    def complete(self, request: LLMRequest, *, timeout: float | None = None,
                 stream: bool = False) -> Reply:
        """One request through `litellm.completion`; a stream is joined into one reply."""
        try:
            resp = self._create(self._litellm.completion, self._kwargs(request, timeout, stream))
            if not stream:
                return self._reply(resp)
            parts: list[str] = []
            state = self._new_state(request)
            for item in resp:
                self._absorb(item, parts, state)
        except Exception as exc:
            raise self._mapped(exc) from exc
        return self._finish_stream(parts, state)

    async def acomplete(self, request: LLMRequest, *, timeout: float | None = None,
                        stream: bool = False) -> Reply:
        """Async twin of `complete` (`litellm.acompletion`)."""
        try:
            resp = await self._create(self._litellm.acompletion,
                                      self._kwargs(request, timeout, stream))
            if not stream:
                return self._reply(resp)
            parts: list[str] = []
            state = self._new_state(request)
            async for item in resp:
                self._absorb(item, parts, state)
        except Exception as exc:
            raise self._mapped(exc) from exc
        return self._finish_stream(parts, state)

    def _classify(self, exc: Exception) -> Exception:
        """LiteLLM reports a 200 reply it could not parse as HTTP 500, and a broken
        stream as a generic mid-stream error: look down the exception chain for what
        really happened, so that both get the same error as on the native backends."""
        if isinstance(exc, LLMError):
            return exc
        chain = _chain(exc)
        bad_json = next((e for e in chain if isinstance(e, json.JSONDecodeError)), None)
        if bad_json is not None:
            return MalformedResponseError(
                f"litellm: {self.endpoint} sent a reply that is not valid {self.reply_kind}: "
                f"{bad_json}")
        if type(exc).__name__ == "MidStreamFallbackError" and len(chain) > 1:
            return super()._classify(chain[1])  # type: ignore[arg-type]
        return super()._classify(exc)

    def _secrets(self) -> list[str]:
        """The key passed in, and every key-like variable LiteLLM may have read (it
        picks the provider's own variable, which this backend does not know)."""
        found = [v for k, v in os.environ.items()
                 if v and len(v) >= 8 and k.endswith(("_API_KEY", "_AUTH_TOKEN", "_ACCESS_KEY",
                                                       "_SECRET_ACCESS_KEY"))]
        return [s for s in (self._options.get("api_key"), *found) if s]

    def _mapped(self, exc: Exception) -> Exception:
        mapped = self._classify(exc)
        if mapped is exc:
            raise exc
        return mapped

    def close(self) -> None:
        """Nothing to release: LiteLLM keeps its own connection pools."""


#: Variables LiteLLM reads for a provider's endpoint, by model prefix: they enter the
#: endpoint (and so the cache key), so two servers never share cache entries.
_BASE_VARS = {"openai": ("OPENAI_BASE_URL", "OPENAI_API_BASE"),
              "anthropic": ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_BASE"),
              "azure": ("AZURE_API_BASE",), "ollama": ("OLLAMA_API_BASE",),
              "ollama_chat": ("OLLAMA_API_BASE",), "hosted_vllm": ("HOSTED_VLLM_API_BASE",)}


def _endpoint(model: str, base_url: str | None) -> str:
    """`base_url`, else `litellm://PROVIDER` (with the provider's base-URL variable
    when one is set)."""
    if base_url:
        return base_url.rstrip("/")
    prefix = model.partition("/")[0]
    for var in _BASE_VARS.get(prefix, ()):
        if os.environ.get(var):
            return f"litellm://{prefix}@{os.environ[var].rstrip('/')}"
    return f"litellm://{prefix}"


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it wraps (LiteLLM's `original_exception`, then
    Python's cause and context), outermost first."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in found):
        found.append(current)
        current = (getattr(current, "original_exception", None) or current.__cause__
                   or current.__context__)
    return found


def make_litellm_backend(*, model: str, api_key: str | None = None, base_url: str | None = None,
                         timeout: float | None = 60.0, **options: Any) -> LiteLLMBackend:
    """The factory `make_backend` calls for `litellm:` specs."""
    return LiteLLMBackend(model=model, api_key=api_key, base_url=base_url, timeout=timeout,
                          **options)
