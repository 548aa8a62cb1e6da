"""Token estimates, one home for every part of undertow that needs one.

- `estimate_tokens`: about 4 characters a token; the fastest (rate-limit reservations,
  usage when a server reports none, budgets of reports);
- `count_tokens`: words and punctuation marks, long words one token per 4 characters
  (rounded down);
  closer to BPE counts on English prose (the simulated LLM's usage, retrieval budgets);
- `truncate`: text cut after its first `max_tokens` tokens (as `count_tokens` counts).
"""

from __future__ import annotations

import re

_PIECE = re.compile(r"\w+|[^\w\s]")
CHARS_PER_TOKEN = 4
#: Tokens a chat message costs beyond its content (role and separators).
MESSAGE_OVERHEAD = 4


def estimate_tokens(text: str) -> int:
    """A rough token count: about 4 characters a token, at least 1."""
    return max(1, (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN)


def _pieces(length: int) -> int:
    # a word of up to 7 characters is one token, then one more per 4 characters
    return max(1, length // CHARS_PER_TOKEN)


def count_tokens(text: str) -> int:
    """Approximate tokens of `text`: words and punctuation marks, a long word one token
    per 4 characters (rounded down)."""
    return sum(_pieces(len(m.group(0))) for m in _PIECE.finditer(text))


def count_message_tokens(messages: list[tuple[str, str]]) -> int:
    """Approximate prompt tokens of (role, content) pairs."""
    return sum(count_tokens(content) + MESSAGE_OVERHEAD for _, content in messages)


def _token_ends(text: str) -> list[int]:
    ends = []
    for m in _PIECE.finditer(text):
        start, end = m.span()
        n = _pieces(end - start)
        ends.extend(start + CHARS_PER_TOKEN * k for k in range(1, n))
        ends.append(end)
    return ends


def truncate(text: str, max_tokens: int) -> tuple[str, bool]:
    """`text` cut after its first `max_tokens` tokens, and whether anything was cut."""
    ends = _token_ends(text)
    if len(ends) <= max_tokens:
        return text, False
    return (text[: ends[max_tokens - 1]] if max_tokens > 0 else ""), True
