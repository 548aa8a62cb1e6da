"""Evo-Memory streams: items of several reasoning tasks arriving one at a time.

A stream is a seeded, interleaved mix of items drawn from some of the reasoning tasks
(`MIXES`). An agent answers them in order and may remember what happened; the score
is accuracy over the stream. Because the tasks are interleaved, a memory helps only if
it retrieves experiences of the right task for each new item.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from undertow.bench.tasks.base import Example
from undertow.bench.tasks.reasoning import TASK_NAMES, get_task, make_splits

#: Named task mixes. "mixed": three tasks whose skills differ, so that retrieving another
#: task's experience teaches nothing.
MIXES: dict[str, tuple[str, ...]] = {
    "mixed": ("boolean_expressions", "multistep_arithmetic", "word_sorting"),
    "all": TASK_NAMES,
}
STREAM_LEN = 60


@dataclass(frozen=True)
class StreamItem:
    """One item of a stream: its position, the task it comes from, and the item."""

    index: int
    task: str
    example: Example


def parse_mix(text: str) -> tuple[str, ...]:
    """A mix name of `MIXES` or task names joined by '+' (e.g. 'navigation+word_sorting')."""
    text = (text or "").strip()
    if text in MIXES:
        return MIXES[text]
    names = tuple(t.strip() for t in text.split("+") if t.strip())
    if not names:
        raise ValueError(f"empty stream mix; use one of {', '.join(MIXES)} or tasks joined by '+'")
    for name in names:
        if name not in TASK_NAMES:
            raise ValueError(f"stream mix names unknown task {name!r}; use reasoning tasks "
                             f"({', '.join(TASK_NAMES)}) joined by '+', or a mix: {', '.join(MIXES)}")
    if len(set(names)) != len(names):
        raise ValueError(f"stream mix {text!r} names a task twice; name each task once")
    return names


def make_stream(seed: int, n: int = STREAM_LEN, mix: str = "mixed") -> list[StreamItem]:
    """`n` items, about evenly from each task of `mix`, in a seeded interleaved order.

    The same (seed, n, mix) gives the same stream in any process. Items come from the
    test split of each task at this seed (items the tasks' own runs never train on).
    """
    if n < 1:
        raise ValueError(f"a stream needs at least one item, got n={n}")
    tasks = parse_mix(mix)
    per = [n // len(tasks) + (1 if i < n % len(tasks) else 0) for i in range(len(tasks))]
    labels = [t for t, k in zip(tasks, per, strict=True) for _ in range(k)]
    random.Random(f"undertow-stream/{mix}/{seed}/{n}").shuffle(labels)
    pools = {t: list(make_splits(t, seed, 0, 0, k).test) for t, k in zip(tasks, per, strict=True) if k}
    return [StreamItem(i, t, pools[t].pop(0)) for i, t in enumerate(labels)]


def score(item: StreamItem, reply: str) -> float:
    """The item's task metric on a reply."""
    return float(get_task(item.task).score(reply, item.example.target))


__all__ = ["MIXES", "STREAM_LEN", "StreamItem", "make_stream", "parse_mix", "score"]
