"""Backend spec strings: `openai:MODEL`, `anthropic:MODEL`,
`openai-compatible:URL#MODEL`, `litellm:PROVIDER/MODEL` and `sim`.

One string picks a backend, for configs and the command line. LiteLLM-style strings
(`openai/gpt-4o-mini`, `anthropic/claude-...`) are accepted too, since that is what
users of DSPy, GEPA and TextGrad already have: `openai/` and `anthropic/` go to the
native backends, any other `PROVIDER/MODEL` (`gemini/...`, `ollama_chat/...`) to the
optional `litellm` backend. Parsing is pure and raises `SpecError` naming what is
wrong and what a good spec looks like.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from undertow.engine.llm.errors import LLMConfigError

PROVIDERS = ("openai", "anthropic", "openai-compatible", "litellm", "sim")
#: LiteLLM-style prefixes served by a native backend; other prefixes go to `litellm`.
NATIVE_SLASH = ("openai", "anthropic")
_EXAMPLES = ("openai:gpt-4o-mini (or openai/gpt-4o-mini), anthropic:claude-3-5-haiku-latest, "
             "openai-compatible:http://localhost:8000/v1#llama3, "
             "litellm:gemini/gemini-2.0-flash (or gemini/gemini-2.0-flash), sim")


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
    if text in ("sim", "sim:sim"):
        return Spec("sim", "sim")
    head, slash, tail = text.partition("/")
    if slash and ":" not in head and head:  # LiteLLM style: PROVIDER/MODEL
        return _parse_slash(spec, head, tail)
    provider, sep, rest = text.partition(":")
    if not sep:
        raise _fail(spec, "expected PROVIDER:MODEL or PROVIDER/MODEL")
    if provider == "sim":
        raise _fail(spec, "the simulated LLM has one model; write just 'sim'")
    if provider == "litellm":
        if "/" not in rest or any(c.isspace() for c in rest) or rest.startswith("/"):
            raise _fail(spec, "litellm needs a LiteLLM model string PROVIDER/MODEL, "
                              "e.g. litellm:gemini/gemini-2.0-flash")
        return Spec(provider, rest)
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


def _parse_slash(spec: str, provider: str, model: str) -> Spec:
    """`PROVIDER/MODEL` (LiteLLM's form): native backends for OpenAI and Anthropic,
    the `litellm` backend for everything else."""
    if not model.strip() or any(c.isspace() for c in model):
        raise _fail(spec, "the model name after '/' is empty or contains spaces")
    if any(c.isspace() for c in provider):
        raise _fail(spec, "the provider before '/' contains spaces")
    if provider == "sim":
        raise _fail(spec, "the simulated LLM has one model; write just 'sim'")
    if provider in ("openai-compatible", "litellm"):
        raise _fail(spec, f"write {provider}:..., not {provider}/...")
    if provider in NATIVE_SLASH:
        return Spec(provider, model)
    return Spec("litellm", f"{provider}/{model}")
