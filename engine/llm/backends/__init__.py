"""Backends: one class per provider behind the `Backend` protocol (SDKs load lazily)."""

from undertow.engine.llm.backends.base import Backend, estimate_tokens

__all__ = ["Backend", "estimate_tokens"]
