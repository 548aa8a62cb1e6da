"""AutoLibra's meta-metrics, computed without any LLM from explicit data.

- *coverage*: the share of feedback behaviours that some metric captures: the behaviour is
  assigned to a metric and the metric's judgement of that trajectory has the behaviour's
  polarity (a complaint is covered by a negative verdict, praise by a positive one);
- *redundancy*: the share of metrics that capture no feedback behaviour at all.

`assign` ties behaviours to metrics: a behaviour keeps the metric it was clustered into;
one never clustered goes to the metric whose words it shares most (`lexical_match`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from undertow.optimizers.metrics.schemas import Behaviour, Metric, Rating

_STOP = frozenset("""a an the and or but of to in on at for with by from as is are was were be been
being it its this that these those he she they them his her their i you we our your my me us not no
do does did done so than then too very can could would should will shall may might must has have had
having just also only about into over after before again out up down off there here what which who
whom when where why how all any both each few more most other some such own same if because while
agent reviewer run""".split())


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A crude English stem: enough to let `repeats`, `repeated` and `repeating` meet."""
    w = word.lower()
    for suffix in ("ingly", "edly", "ing", "ed", "es", "ly", "s"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            w = w[: -len(suffix)]
            break
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w


def words(text: str) -> frozenset[str]:
    """The stemmed content words of `text`."""
    return frozenset(stem(w) for w in re.findall(r"[a-zA-Z][a-zA-Z']+", text.replace("'", " "))
                     if w.lower() not in _STOP and len(w) > 2)


def metric_words(metric: Metric) -> frozenset[str]:
    """The words a metric is about: its name, definition and examples."""
    return words(" ".join([metric.name.replace("_", " "), metric.definition,
                           *metric.positive_examples, *metric.negative_examples]))


def lexical_match(behaviour: Behaviour, metrics: Sequence[Metric], threshold: float = 0.25) -> str | None:
    """The metric sharing the largest share of the behaviour's words (at least `threshold`), or None."""
    own = words(behaviour.text + " " + behaviour.feedback_sentence)
    if not own:
        return None
    best, best_score = None, threshold
    for m in metrics:
        score = len(own & metric_words(m)) / len(own)
        if score >= best_score and (best is None or score > best_score):
            best, best_score = m.name, score
    return best


def assign(behaviours: Sequence[Behaviour], metrics: Sequence[Metric],
           membership: Mapping[int, str] | None = None) -> list[str | None]:
    """The metric each behaviour belongs to (by index), or None."""
    names = {m.name for m in metrics}
    membership = membership or {}
    out: list[str | None] = []
    for i, b in enumerate(behaviours):
        m = membership.get(i)
        out.append(m if m in names else lexical_match(b, metrics))
    return out


def covered(behaviours: Sequence[Behaviour], assignment: Sequence[str | None],
            judgements: Mapping[tuple[str, str], Rating]) -> list[bool]:
    """Per behaviour: is it captured (its metric rates its trajectory with its polarity)?"""
    if len(assignment) != len(behaviours):
        raise ValueError(f"{len(behaviours)} behaviours but {len(assignment)} assignments")
    return [m is not None and judgements.get((b.trajectory, m)) == b.polarity
            for b, m in zip(behaviours, assignment)]


def coverage(behaviours: Sequence[Behaviour], assignment: Sequence[str | None],
             judgements: Mapping[tuple[str, str], Rating]) -> float:
    """Share of behaviours captured by some metric (0.0 when there are none)."""
    flags = covered(behaviours, assignment, judgements)
    return sum(flags) / len(flags) if flags else 0.0


def redundancy(metrics: Sequence[Metric], behaviours: Sequence[Behaviour],
               assignment: Sequence[str | None], judgements: Mapping[tuple[str, str], Rating]) -> float:
    """Share of metrics that capture no behaviour (0.0 when there are no metrics)."""
    if not metrics:
        return 0.0
    flags = covered(behaviours, assignment, judgements)
    used = {m for m, f in zip(assignment, flags) if f}
    return sum(1 for m in metrics if m.name not in used) / len(metrics)
