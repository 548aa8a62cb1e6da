"""Request schemas of the two wire formats, and their conversion to simulator messages.

Only the fields the simulator needs are typed; any other field a real API accepts
(top_p, stop, tools, metadata, ...) is accepted and ignored, so real SDK calls go
through. Validation is strict on types (a string is not a number) and bounds the
values a responder sees, so bad input becomes a clean 400, never a crash inside it.
`parse_body` turns raw bytes into a request or raises `RequestError`.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Message = dict[str, str]  # {"role": ..., "content": ...}: what the responder receives
_INT64 = 2**63 - 1
_MAX_TOKENS = 1_000_000


class RequestError(ValueError):
    """A request the server refuses: carries the HTTP status, the offending field, a hint."""

    def __init__(self, message: str, *, status: int = 400, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.param = param


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


def _block_text(block: dict[str, Any], where: str) -> str | None:
    """Text of one content block/part; None for kinds the simulator cannot read (images)."""
    kind = block.get("type")
    if not isinstance(kind, str):
        # ValueError, not TypeError: pydantic turns only ValueErrors into validation errors.
        raise ValueError(f"{where}: every content block needs a string 'type'")  # noqa: TRY004
    if kind == "text":
        text = block.get("text")
        if not isinstance(text, str):
            raise ValueError(f"{where}: a text block needs a string 'text'")
        return text
    if kind == "tool_result":
        inner = block.get("content", "")
        if isinstance(inner, str):
            return inner
        if isinstance(inner, list) and all(isinstance(b, dict) for b in inner):
            parts = [_block_text(b, where) for b in inner]
            return "\n".join(p for p in parts if p is not None)
        raise ValueError(f"{where}: tool_result content must be a string or a list of blocks")
    if kind == "tool_use":
        return json.dumps(block.get("input", {}), sort_keys=True)
    return None


def _flatten(content: str | list[dict[str, Any]] | None, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = [_block_text(block, f"{where}.{i}") for i, block in enumerate(content)]
    return "\n".join(p for p in parts if p is not None)


class OpenAIMessage(_Lenient):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _readable(self) -> OpenAIMessage:
        _flatten(self.content, "content")
        return self


class StreamOptions(_Lenient):
    include_usage: bool = False


class ChatRequest(_Lenient):
    """`POST /v1/chat/completions` (OpenAI chat completions)."""

    model: str = Field(min_length=1)
    messages: list[OpenAIMessage] = Field(min_length=1)
    n: int = Field(1, ge=1, le=128)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    seed: int | None = Field(None, ge=-_INT64 - 1, le=_INT64)
    max_tokens: int | None = Field(None, ge=1, le=_MAX_TOKENS)
    max_completion_tokens: int | None = Field(None, ge=1, le=_MAX_TOKENS)
    #: OpenAI `response_format` ({"type": "json_schema", "json_schema": {...}} ...), passed on.
    response_format: dict[str, Any] | None = None

    def to_messages(self) -> list[Message]:
        # `developer` is the newer name of `system`; the simulator knows the classic roles.
        return [
            {"role": "system" if m.role == "developer" else m.role, "content": _flatten(m.content, "content")}
            for m in self.messages
        ]

    @property
    def token_cap(self) -> int | None:
        return self.max_completion_tokens if self.max_completion_tokens is not None else self.max_tokens

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class AnthropicMessage(_Lenient):
    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]]

    @model_validator(mode="after")
    def _readable(self) -> AnthropicMessage:
        _flatten(self.content, "content")
        return self


class MessagesRequest(_Lenient):
    """`POST /v1/messages` (Anthropic messages)."""

    model: str = Field(min_length=1)
    max_tokens: int = Field(ge=1, le=_MAX_TOKENS)
    messages: list[AnthropicMessage] = Field(min_length=1)
    system: str | list[dict[str, Any]] | None = None
    temperature: float | None = Field(None, ge=0.0, le=1.0)
    stream: bool = False

    @model_validator(mode="after")
    def _system_readable(self) -> MessagesRequest:
        _flatten(self.system, "system")
        return self

    def to_messages(self) -> list[Message]:
        """Top-level `system` becomes a leading system message; blocks become text."""
        out: list[Message] = []
        system = _flatten(self.system, "system")
        if system:
            out.append({"role": "system", "content": system})
        out += [{"role": m.role, "content": _flatten(m.content, "content")} for m in self.messages]
        return out


R = TypeVar("R", bound=BaseModel)


def parse_body(raw: bytes, schema: type[R]) -> R:
    """Decode a JSON object body and validate it against `schema`, or raise RequestError."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError("request body is not UTF-8; send UTF-8 encoded JSON") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise RequestError(f"request body is not valid JSON ({exc}); send a JSON object") from None
    except RecursionError:
        raise RequestError("request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise RequestError(f"request body must be a JSON object, got {type(data).__name__}")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        param = ".".join(str(p) for p in err["loc"]) or None
        more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
        raise RequestError(f"invalid request: {param or 'body'}: {err['msg']}{more}", param=param) from None
    except RecursionError:
        raise RequestError("request body is nested too deeply") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON; use a finite number")
