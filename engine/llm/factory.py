"""`make_llm(spec, ...)`: a ready `LLM` from a spec string and a few options."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from undertow.engine.llm.accounting import Accounting, Budget
from undertow.engine.llm.backends.base import Backend
from undertow.engine.llm.backends.registry import GROUP, find_backend
from undertow.engine.llm.cache import ResponseCache, default_cache_dir
from undertow.engine.llm.client import LLM
from undertow.engine.llm.errors import LLMConfigError
from undertow.engine.llm.ratelimit import RateLimiter
from undertow.engine.llm.retry import RetryPolicy
from undertow.engine.llm.spec import Spec, parse_spec

#: Providers whose backends ship with the engine; every other name is looked up in
#: the backend registry (`undertow.engine.llm.backends.registry`).
NATIVE_PROVIDERS = frozenset({"openai", "anthropic", "openai-compatible", "litellm"})


def make_backend(spec: str | Spec, *, api_key: str | None = None, base_url: str | None = None,
                 timeout: float | None = 60.0, **options: Any) -> Backend:
    """The backend a spec names. `base_url` overrides the provider's URL (proxies,
    local test servers); `options` go to the backend class."""
    parsed = spec if isinstance(spec, Spec) else parse_spec(spec)
    if parsed.provider not in NATIVE_PROVIDERS:
        factory = find_backend(parsed.provider)
        if factory is None:
            raise LLMConfigError(
                f"no backend is installed for provider {parsed.provider!r}: the simulated LLM "
                f"comes with undertow's bench (entry point group {GROUP!r}); reinstall undertow "
                "(`pip install -e .` in a checkout) so its entry points are registered")
        return factory(model=parsed.model, api_key=api_key, base_url=base_url, timeout=timeout,
                       **options)
    if parsed.provider == "litellm":
        from undertow.engine.llm.backends.litellm_backend import make_litellm_backend

        return make_litellm_backend(model=parsed.model, api_key=api_key, base_url=base_url,
                                    timeout=timeout, **options)
    if parsed.provider == "anthropic":
        from undertow.engine.llm.backends.anthropic_backend import AnthropicBackend

        return AnthropicBackend(api_key=api_key, base_url=base_url, timeout=timeout, **options)
    from undertow.engine.llm.backends.openai_backend import OpenAIBackend

    return OpenAIBackend(api_key=api_key, base_url=base_url or parsed.base_url,
                         provider=parsed.provider, timeout=timeout, **options)


def make_llm(spec: str | Spec, *, cache_dir: str | Path | Literal[False] | None = None,
             budget: Budget | Mapping[str, Any] | None = None,
             accounting: Accounting | None = None,
             prices: Mapping[str, tuple[float, float]] | None = None,
             api_key: str | None = None, base_url: str | None = None,
             timeout: float | None = 60.0, max_retries: int = 3, retry: RetryPolicy | None = None,
             requests_per_minute: float | None = None, tokens_per_minute: float | None = None,
             max_concurrency: int = 16, purpose: str = "forward", stream: bool = False,
             temperature: float | None = None, max_tokens: int | None = None,
             seed: int | None = None, profiles: Sequence[Any] | None = None,
             **backend_options: Any) -> LLM:
    """Build an `LLM` from a spec (`openai:MODEL`, `anthropic:MODEL`,
    `openai-compatible:URL#MODEL`, `litellm:PROVIDER/MODEL`, `sim`; LiteLLM-style
    `openai/MODEL`, `anthropic/MODEL` and `PROVIDER/MODEL` are accepted too).

    The endpoint is `base_url`, else the SDK's standard variable (`OPENAI_BASE_URL`,
    `ANTHROPIC_BASE_URL`), else the provider's public URL.

    `cache_dir`: None uses the default cache folder (`default_cache_dir()`), a path
    uses that folder, False turns caching off. `budget` (a `Budget` or its fields as
    a dict) creates a fresh `Accounting`; pass `accounting` instead to share one
    ledger and budget between several clients. `profiles` and `seed` configure
    the simulator (`seed` is also the default sampling seed of real providers).
    """
    parsed = spec if isinstance(spec, Spec) else parse_spec(spec)
    if accounting is not None and (budget is not None or prices is not None):
        raise LLMConfigError("pass budget/prices or accounting, not both: a shared "
                             "Accounting carries its own budget and prices")
    if accounting is None:
        if isinstance(budget, Mapping):
            budget = Budget(**budget)
        accounting = Accounting(budget, prices=prices)
    if parsed.provider == "sim":
        backend_options.setdefault("profiles", profiles)
        backend_options.setdefault("seed", seed or 0)
    elif profiles is not None:
        raise LLMConfigError("profiles= only applies to the sim backend")
    backend = make_backend(parsed, api_key=api_key, base_url=base_url, timeout=timeout,
                           **backend_options)
    cache = None
    if cache_dir is not False:
        cache = ResponseCache(default_cache_dir() if cache_dir is None else cache_dir)
    limiter = None
    if requests_per_minute or tokens_per_minute:
        limiter = RateLimiter(requests_per_minute, tokens_per_minute)
    return LLM(backend, model=parsed.model, cache=cache, accounting=accounting,
               retry=retry or RetryPolicy(max_retries=max_retries), rate_limiter=limiter,
               max_concurrency=max_concurrency, timeout=timeout, purpose=purpose,
               stream=stream, temperature=temperature, max_tokens=max_tokens,
               seed=None if parsed.provider == "sim" else seed)
