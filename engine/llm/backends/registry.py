"""Backends that live outside the engine register here by provider name.

The engine ships the real providers (OpenAI, Anthropic, OpenAI-compatible servers).
Anything else -- the simulated LLM of `undertow.bench.sim`, a plugin for another
provider -- is found by name: first among backends registered in this process with
`register_backend`, then among the installed packages' entry points in the group
`undertow.llm_backends`. So `make_llm("sim")` works without the engine importing
the bench.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from undertow.engine.llm.backends.base import Backend

#: The entry-point group that packages use to provide backends.
GROUP = "undertow.llm_backends"

BackendFactory = Callable[..., Backend]
_FACTORIES: dict[str, BackendFactory] = {}


def register_backend(provider: str, factory: BackendFactory) -> None:
    """Make `make_llm("<provider>:MODEL")` build its backend with `factory`.

    `factory(model=..., api_key=..., base_url=..., timeout=..., **options)` returns a
    `Backend`. A later registration of the same name replaces the earlier one.
    """
    if not provider or ":" in provider:
        raise ValueError(f"bad provider name {provider!r}: use a short name without ':'")
    _FACTORIES[provider] = factory


def find_backend(provider: str) -> BackendFactory | None:
    """The factory registered for `provider`, from this process or an entry point."""
    if provider in _FACTORIES:
        return _FACTORIES[provider]
    for ep in entry_points(group=GROUP):
        if ep.name == provider:
            factory: Any = ep.load()
            _FACTORIES[provider] = factory
            return factory
    return None


def registered_providers() -> list[str]:
    """Every provider name a plugin offers (registered or installed), sorted."""
    return sorted(set(_FACTORIES) | {ep.name for ep in entry_points(group=GROUP)})
