"""The `Backend` protocol every provider implements, and helpers they share.

A backend turns one `LLMRequest` into one `Reply`, sync or async, and translates
its SDK's exceptions into `undertow.engine.llm.errors`. It does no caching, retrying,
rate limiting or accounting: the `LLM` client does those once for every backend.
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

from undertow.engine.llm.errors import MissingAPIKeyError
from undertow.engine.llm.types import LLMRequest, Reply

# The rough estimate for servers that report no usage and for rate-limit reservations.
from undertow.engine.tokens import estimate_tokens

__all__ = ["Backend", "estimate_tokens", "resolve_key"]


@runtime_checkable
class Backend(Protocol):
    """One provider. `endpoint` (a URL) enters every cache key, so two servers never
    share entries; `provider` names the backend in responses and accounting."""

    provider: str
    endpoint: str

    def complete(self, request: LLMRequest, *, timeout: float | None = None,
                 stream: bool = False) -> Reply:
        """Send `request` and return the complete reply (streamed or not)."""
        ...

    async def acomplete(self, request: LLMRequest, *, timeout: float | None = None,
                        stream: bool = False) -> Reply:
        """Async twin of `complete`."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def resolve_key(api_key: str | None, env_var: str, provider: str) -> str:
    """`api_key`, else the environment variable; raise `MissingAPIKeyError` naming it."""
    key = api_key if api_key is not None else os.environ.get(env_var)
    if not key:
        raise MissingAPIKeyError(provider, env_var)
    return key


def env_url(base_url: str | None, env_var: str, default: str) -> str:
    """The endpoint: `base_url`, else the SDK's standard variable (`OPENAI_BASE_URL`,
    `ANTHROPIC_BASE_URL`) when set, else the provider's public URL."""
    return (base_url or os.environ.get(env_var) or default).rstrip("/")


def official(url: str, default: str) -> bool:
    """Whether `url` is the provider's public API (where a missing key is an error;
    local or proxy servers named by a base URL often need none)."""
    return url.rstrip("/") == default.rstrip("/")


def redact(text: str, secret: str | None) -> str:
    """`text` with `secret` (an API key) replaced, for error messages from servers
    that echo what they were sent."""
    return text.replace(secret, "[redacted]") if secret and len(secret) >= 4 else text


def transport_errors() -> tuple[type[BaseException], ...]:
    """The HTTP libraries' own error bases (`httpx`, `httpx2`, whichever are installed).

    SDKs wrap errors of the request itself, but an error while *iterating* a stream
    (a connection cut mid-reply) comes through raw; backends catch these too.
    """
    found: list[type[BaseException]] = []
    for name in ("httpx", "httpx2"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        found.append(module.HTTPError)
        found.append(module.StreamError)
    return tuple(found)
