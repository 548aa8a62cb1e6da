"""A responder with SimLLM's signature, used only until `engine/llm/sim` provides SimLLM."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


class StandIn:
    """Deterministic text from a hash of the messages, seed and sample index."""

    def complete(self, messages, *, model="sim", temperature=0.0, seed=None, sample_index=0,
                 max_tokens=None) -> Reply:
        key = repr((messages, model, temperature, seed, sample_index)).encode()
        words = [hashlib.sha256(key + bytes([i])).hexdigest()[:5] for i in range(8)]
        finish = "stop"
        if max_tokens is not None and max_tokens < len(words):
            words, finish = words[:max_tokens], "length"
        prompt = sum(len(m["content"].split()) for m in messages)
        return Reply(" ".join(words), prompt, len(words), finish)
