"""An approximate tokenizer: words and punctuation marks, long words split every 4 characters.

Close enough to BPE counts on English prose for budgets and accounting; the simulator
reports its usage with it, and `truncate` cuts a reply at `max_tokens`.
"""

from __future__ import annotations

import re

_PIECE = re.compile(r"\w+|[^\w\s]")
CHARS_PER_TOKEN = 4
#: Tokens a chat message costs beyond its content (role and separators).
MESSAGE_OVERHEAD = 4


def _token_ends(text: str) -> list[int]:
    ends = []
    for m in _PIECE.finditer(text):
        start, end = m.span()
        ends.extend(range(min(start + CHARS_PER_TOKEN, end), end, CHARS_PER_TOKEN))
        ends.append(end)
    return ends


def count_tokens(text: str) -> int:
    """Approximate token count of `text`."""
    return sum(max(1, -(-len(m.group(0)) // CHARS_PER_TOKEN)) for m in _PIECE.finditer(text))


def count_message_tokens(messages: list[tuple[str, str]]) -> int:
    """Approximate prompt tokens of (role, content) pairs."""
    return sum(count_tokens(content) + MESSAGE_OVERHEAD for _, content in messages)


def truncate(text: str, max_tokens: int) -> tuple[str, bool]:
    """`text` cut after its first `max_tokens` tokens, and whether anything was cut."""
    ends = _token_ends(text)
    if len(ends) <= max_tokens:
        return text, False
    return (text[: ends[max_tokens - 1]] if max_tokens > 0 else ""), True
