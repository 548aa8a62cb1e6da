"""Typed values of the LLM layer: the request, the backend's raw reply, the response.

`LLMRequest` holds everything that can change what a model answers, and nothing
else: the cache key is a hash of it (see `cache.request_key`). How the call is made
(purpose, timeout, streaming) lives outside it, so it never splits the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, computed_field, model_validator

Role = Literal["system", "user", "assistant", "tool"]


class Message(BaseModel):
    """One chat message, as every provider understands it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    content: str
    name: str | None = None


class LLMRequest(BaseModel):
    """One request to one model: every field that can change the answer.

    `sample_index` tells apart the n samples drawn for the same prompt at
    temperature > 0, so that n samples are n cache entries rather than one.
    `extra` carries provider sampling options without a field of their own
    (`presence_penalty`, `reasoning_effort`, ...); they enter the cache key too.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    provider: str
    endpoint: str
    model: str
    messages: tuple[Message, ...] = Field(min_length=1)
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    tools: tuple[dict[str, Any], ...] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    sample_index: int = Field(default=0, ge=0)
    extra: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reply:
    """What a backend returns for one request (and what the cache stores)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    finish_reason: str | None = None
    usage_estimated: bool = False

    def to_json(self) -> dict[str, Any]:
        """A plain dict for the cache (never a pickle)."""
        return {"text": self.text, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "model": self.model,
                "finish_reason": self.finish_reason, "usage_estimated": self.usage_estimated}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        """Rebuild a reply from `to_json`'s dict."""
        return cls(**data)


class Usage(BaseModel):
    """Tokens of one call. `estimated` is true when the server did not report them."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


class LLMResponse(BaseModel):
    """The typed result of `LLM.complete`.

    `cached` responses cost nothing (`cost_usd == 0`) and say so; `usage` still shows
    the tokens the original call used. `parsed` holds the structured object when one
    was asked for (a pydantic model instance or plain JSON). `key` is the request's
    cache key; `attempts` counts tries including retries (0 for a cache hit).
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    text: str
    parsed: Any = None
    usage: Usage
    cost_usd: float = 0.0
    model: str
    provider: str
    latency_s: float
    cached: bool = False
    purpose: str = "forward"
    finish_reason: str | None = None
    attempts: int = 1
    #: the request answered (the client sets it): `key` is computed from it when first read
    _request: LLMRequest | None = PrivateAttr(default=None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def key(self) -> str:
        """The request's cache key (`cache.request_key`; "" when the request is unknown)."""
        # Made when first read, not at every call: hashing a long prompt's canonical JSON
        # costs more than the rest of the client's work on a reply. Kept in __dict__
        # under a name that is no field (equality and dumps look at fields only).
        got = self.__dict__.get(_KEY)
        if got is None:
            got = ""
            if self._request is not None:
                from undertow.engine.llm.cache import request_key

                got = request_key(self._request)
            self.__dict__[_KEY] = got
        return got

    @model_validator(mode="wrap")
    @classmethod
    def _given_key(cls, data: Any, handler: Any) -> Any:
        """A `key=` given (by the client when a cache lookup made it, or in a dump read
        back) is kept as the key."""
        made = handler(data)
        if isinstance(data, dict) and isinstance(data.get("key"), str):
            made.__dict__[_KEY] = data["key"]
        return made


_KEY = " key"  # no identifier: never a field's name
