"""Response bodies and server-sent-event streams of the two wire formats.

Pure functions from simulator replies to JSON-ready dicts / lists of SSE frames, so the
HTTP layer only moves bytes. `Sample` is the part of a simulator reply the server uses.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass

_OPENAI_FINISH = {"stop", "length", "content_filter", "tool_calls"}
_ANTHROPIC_STOP = {"stop": "end_turn", "length": "max_tokens", "max_tokens": "max_tokens",
                   "end_turn": "end_turn", "stop_sequence": "stop_sequence"}


@dataclass(frozen=True)
class Sample:
    """One completion: the text, its token counts and why it ended (OpenAI vocabulary)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


def pieces(text: str) -> list[str]:
    """Split text into stream deltas (a word with its leading spaces); joined back = text."""
    return re.findall(r"\s*\S+|\s+$", text)


def sse(data: dict | str, event: str | None = None) -> bytes:
    """One server-sent event frame."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def _openai_finish(reason: str) -> str:
    return reason if reason in _OPENAI_FINISH else "stop"


def _usage(samples: list[Sample]) -> dict:
    prompt = samples[0].prompt_tokens if samples else 0
    completion = sum(s.completion_tokens for s in samples)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def openai_completion(model: str, samples: list[Sample]) -> dict:
    """A `chat.completion` object; the prompt is counted once for n samples, as OpenAI does."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "undertow-sim",
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": s.text, "refusal": None},
                "logprobs": None,
                "finish_reason": _openai_finish(s.finish_reason),
            }
            for i, s in enumerate(samples)
        ],
        "usage": _usage(samples),
    }


def openai_stream(model: str, samples: list[Sample], include_usage: bool) -> list[bytes]:
    """`chat.completion.chunk` frames: per choice a role chunk, text deltas, a finish chunk;
    then a usage chunk (if asked) and `data: [DONE]`."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model, "system_fingerprint": "undertow-sim"}
    extra = {"usage": None} if include_usage else {}

    def chunk(index: int, delta: dict, finish: str | None = None) -> bytes:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        return sse({**base, "choices": [choice], **extra})

    frames = []
    for i, s in enumerate(samples):
        frames.append(chunk(i, {"role": "assistant", "content": ""}))
        frames += [chunk(i, {"content": p}) for p in pieces(s.text)]
        frames.append(chunk(i, {}, _openai_finish(s.finish_reason)))
    if include_usage:
        frames.append(sse({**base, "choices": [], "usage": _usage(samples)}))
    frames.append(sse("[DONE]"))
    return frames


def _anthropic_stop(reason: str) -> str:
    return _ANTHROPIC_STOP.get(reason, "end_turn")


def anthropic_message(model: str, sample: Sample) -> dict:
    """A `message` object with one text block."""
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": sample.text}],
        "stop_reason": _anthropic_stop(sample.finish_reason),
        "stop_sequence": None,
        "usage": {"input_tokens": sample.prompt_tokens, "output_tokens": sample.completion_tokens},
    }


def anthropic_stream(model: str, sample: Sample) -> list[bytes]:
    """message_start, content_block_start, ping, text deltas, content_block_stop,
    message_delta (stop reason, output tokens), message_stop."""
    start = anthropic_message(model, sample)
    start.update(content=[], stop_reason=None,
                 usage={"input_tokens": sample.prompt_tokens, "output_tokens": 0})
    frames = [
        sse({"type": "message_start", "message": start}, "message_start"),
        sse({"type": "content_block_start", "index": 0,
             "content_block": {"type": "text", "text": ""}}, "content_block_start"),
        sse({"type": "ping"}, "ping"),
    ]
    frames += [
        sse({"type": "content_block_delta", "index": 0,
             "delta": {"type": "text_delta", "text": p}}, "content_block_delta")
        for p in pieces(sample.text)
    ]
    frames += [
        sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        sse({"type": "message_delta",
             "delta": {"stop_reason": _anthropic_stop(sample.finish_reason), "stop_sequence": None},
             "usage": {"output_tokens": sample.completion_tokens}}, "message_delta"),
        sse({"type": "message_stop"}, "message_stop"),
    ]
    return frames


_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 405: "invalid_request_error", 408: "timeout_error",
                411: "invalid_request_error", 413: "request_too_large", 429: "rate_limit_error",
                500: "api_error", 502: "api_error", 503: "overloaded_error", 529: "overloaded_error"}


def error_body(api: str, status: int, message: str, param: str | None = None) -> dict:
    """A provider-shaped error: Anthropic `{"type":"error","error":{...}}`, else OpenAI's."""
    kind = _ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
    if api == "anthropic":
        return {"type": "error", "error": {"type": kind, "message": message}}
    code = "rate_limit_exceeded" if status == 429 else None
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def models_list(models: tuple[str, ...]) -> dict:
    """`GET /v1/models` in a shape both SDKs read (OpenAI's and Anthropic's keys together)."""
    data = [model_info(m) for m in models]
    return {"object": "list", "data": data, "has_more": False,
            "first_id": models[0] if models else None, "last_id": models[-1] if models else None}


def model_info(model: str) -> dict:
    return {"id": model, "object": "model", "created": 0, "owned_by": "undertow-sim",
            "type": "model", "display_name": f"{model} (undertow simulated LLM)",
            "created_at": "1970-01-01T00:00:00Z"}
