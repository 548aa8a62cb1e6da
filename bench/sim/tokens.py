"""The simulator's token counts: the engine's approximate tokenizer (`undertow.engine.tokens`).

Close enough to BPE counts on English prose for budgets and accounting; the simulator
reports its usage with it, and `truncate` cuts a reply at `max_tokens`.
"""

from undertow.engine.tokens import (
    CHARS_PER_TOKEN,
    MESSAGE_OVERHEAD,
    count_message_tokens,
    count_tokens,
    truncate,
)

__all__ = ["CHARS_PER_TOKEN", "MESSAGE_OVERHEAD", "count_message_tokens", "count_tokens", "truncate"]
