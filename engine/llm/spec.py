"""Backend spec strings: `openai:MODEL`, `anthropic:MODEL`,
`openai-compatible:URL#MODEL` and `sim` (or `sim:MODEL`).

One string picks a backend, for configs and the command line. Parsing is pure and
raises `SpecError` naming what is wrong and what a good spec looks like.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from undertow.engine.llm.errors import LLMConfigError

PROVIDERS = ("openai", "anthropic", "openai-compatible", "sim")
_EXAMPLES = ("openai:gpt-4o-mini, anthropic:claude-3-5-haiku-latest, "
             "openai-compatible:http://localhost:8000/v1#llama3, sim")


class SpecError(LLMConfigError):
    """A backend spec string could not be understood."""


@dataclass(frozen=True, slots=True)
class Spec:
    """A parsed spec: which provider, which model, and (compatible servers) the URL."""

    provider: str
    model: str
    base_url: str | None = None

    def __str__(self) -> str:
        if self.provider == "openai-compatible":
            return f"{self.provider}:{self.base_url}#{self.model}"
        return f"{self.provider}:{self.model}"


def _fail(spec: object, why: str) -> SpecError:
    return SpecError(f"bad LLM spec {spec!r}: {why}. Examples: {_EXAMPLES}")


def parse_spec(spec: str) -> Spec:
    """Parse a spec string into a `Spec`; raise `SpecError` on anything else."""
    if not isinstance(spec, str):
        raise _fail(spec, f"expected a string, got {type(spec).__name__}")
    text = spec.strip()
    if text == "sim":
        return Spec("sim", "sim")
    provider, sep, rest = text.partition(":")
    if not sep:
        raise _fail(spec, "expected PROVIDER:MODEL")
    if provider not in PROVIDERS:
        raise _fail(spec, f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    if provider == "openai-compatible":
        url, hash_sign, model = rest.rpartition("#")
        if not hash_sign or not url:
            raise _fail(spec, "openai-compatible needs URL#MODEL")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _fail(spec, f"{url!r} is not an http(s) URL")
        if not model.strip() or any(c.isspace() for c in model):
            raise _fail(spec, "the model name after '#' is empty or contains spaces")
        return Spec(provider, model, url.rstrip("/"))
    if not rest.strip() or any(c.isspace() for c in rest):
        raise _fail(spec, "the model name is empty or contains spaces")
    return Spec(provider, rest)
