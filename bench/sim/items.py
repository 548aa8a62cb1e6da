"""Finding the task item a message asks about, the same way whatever profiles are loaded."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from undertow.bench.sim.profile import ItemMatch, TaskProfile


@lru_cache(maxsize=16384)
def items_in(profile: TaskProfile, text: str) -> tuple[ItemMatch, ...]:
    """`profile.find_items(text)`, remembered: the same texts are read many times."""
    return tuple(profile.find_items(text))


def last_item(text: str, profiles: Sequence[TaskProfile]) -> tuple[TaskProfile, ItemMatch] | None:
    """The item of `text` a reader would answer: the one ending last, then the longest,
    then the profile name first in alphabetical order (so the choice never depends on
    which other profiles are loaded unless they find an item that ends later)."""
    best: tuple[tuple[int, int, str], TaskProfile, ItemMatch] | None = None
    for p in profiles:
        for m in items_in(p, text):
            key = (m.end, m.end - m.start, _neg(p.name))
            if best is None or key > best[0]:
                best = (key, p, m)
    return None if best is None else (best[1], best[2])


def _neg(name: str) -> str:
    # Larger key wins; invert the name so that alphabetical order wins ties.
    return "".join(chr(0x10FFFF - ord(c)) for c in name)


@lru_cache(maxsize=4096)
def without_items(text: str, profile: TaskProfile, placeholder: str = " [item] ") -> str:
    """`text` with every item of `profile` replaced by a placeholder (so that an item's
    own words never count as a prompt's cue or a feedback keyword)."""
    items = items_in(profile, text)
    for m in reversed(items):
        text = text[: m.start] + placeholder + text[m.end:]
    return text


def profiles_in_play(text: str, profiles: Sequence[TaskProfile]) -> list[TaskProfile]:
    """The profiles a request is about: those with items in it, else those whose keywords
    it mentions, else all."""
    with_items = [p for p in profiles if items_in(p, text)]
    if with_items:
        return with_items
    from undertow.bench.sim.profile import cue_in

    named = [p for p in profiles if any(cue_in(k, text) for k in p.keywords)]
    # profiles without items or skills (a numeric rule only) teach nothing to guess at
    return named or [p for p in profiles if p.skills or p.item_pattern is not None]
