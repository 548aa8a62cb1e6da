"""Long-term memory of successful tool plans, kept in the experience store.

After a plan solves a question (judged by the task's checker on *training* items, or
by a user), `PlanMemory.remember` stores it as a `Workflow` record: the question is
its condition and each successful call is a step written as its *shape*: the tool and
its arguments with the values abstracted (``calc[N**N]``, ``calendar[weekday D]``,
``kv[list P cursor=V]``), so that a plan learnt on one item applies to items of the
same kind with other values. Failed calls are left out: the memory keeps what worked.

While searching, ToolChain* asks `bonus(question, steps_so_far)`: the word overlap
(Jaccard) between the question and the most similar stored question whose plan
starts with the same shapes. A plan prefix that worked on similar questions becomes
cheaper to extend, so A* tries it first (g minus the bonus; see
`optimizers/search/toolchain.py`). Retrieval is the store's full-text search (BM25)
for candidates, reranked by that similarity, cached per question.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from undertow.optimizers.experience import ExperienceStore, Provenance, Workflow
from undertow.optimizers.search.toolchain import Step

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an the of in on at to for is are was what which who whom how many much "
                  "does do did and or by with from as be it its that this".split())
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_PATH = re.compile(r"[A-Za-z_][\w.-]*/[\w./-]*")
_VALUE = re.compile(r"=([^\s=]+)")
TAG = "toolchain-plan"


def words(text: str) -> frozenset[str]:
    """Content words of ``text`` (lower case, stop words and numbers out)."""
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP and not w.isdigit())


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def shape(tool: str, args: str) -> str:
    """A call with its values abstracted: dates D, paths P, parameter values V, numbers N."""
    text = _VALUE.sub("=V", " ".join(str(args).split()))
    text = _DATE.sub("D", text)
    text = _PATH.sub("P", text)
    text = _NUMBER.sub("N", text)
    return f"{tool}[{text}]"


def plan_shapes(steps: Sequence[Step | tuple[str, str]]) -> tuple[str, ...]:
    """The shapes of a plan's successful calls, in order."""
    out = []
    for s in steps:
        if isinstance(s, Step):
            if not s.error:
                out.append(shape(s.tool, s.args))
        else:
            out.append(shape(s[0], s[1]))
    return tuple(out)


class PlanMemory:
    """Successful plans in an `ExperienceStore` (a path or an open store).

    Args:
        store: the experience store, or the path of its SQLite file.
        scope: the records' scope (e.g. the tool world's name), so that plans of one
            tool set are not offered to another.
        candidates: records fetched by full-text search per question.
    """

    def __init__(self, store: ExperienceStore | str | Path, *, scope: str = "global",
                 candidates: int = 20) -> None:
        self.store = store if isinstance(store, ExperienceStore) else ExperienceStore(store)
        self.scope = scope
        self.candidates = candidates
        self._cache: dict[str, list[tuple[float, tuple[str, ...]]]] = {}

    def remember(self, question: str, steps: Sequence[Step | tuple[str, str]], *, run: str = "",
                 source: str = "") -> Workflow:
        """Store one successful plan for ``question`` (its successful calls, as shapes)."""
        shapes = plan_shapes(steps)
        if not shapes:
            raise ValueError("a plan to remember needs at least one successful tool call")
        digest = hashlib.sha1(repr((self.scope, question, shapes)).encode()).hexdigest()[:12]
        rid = f"workflow-{digest}"  # the same plan twice is one record (and ids are reproducible)
        if self.store.exists(rid):
            return self.store.get(rid)  # type: ignore[return-value]
        record = Workflow(id=rid, condition=question, steps=list(shapes), scope=self.scope,
                          taxonomy=[TAG], provenance=Provenance(source_tasks=[source] if source else [],
                                                                 run=run))
        saved = self.store.add(record, run=run)
        self._cache.clear()
        return saved  # type: ignore[return-value]

    def similar(self, question: str) -> list[tuple[float, tuple[str, ...]]]:
        """(similarity, shapes) of the stored plans most like ``question``, best first."""
        if question not in self._cache:
            q = words(question)
            hits: list[tuple[float, tuple[str, ...]]] = []
            for record, _ in self.store.search(question, limit=self.candidates):
                if not isinstance(record, Workflow) or TAG not in record.taxonomy \
                        or record.scope != self.scope:
                    continue
                hits.append((jaccard(q, words(record.condition)), tuple(record.steps)))
            self._cache[question] = sorted(hits, key=lambda h: (-h[0], h[1]))
        return self._cache[question]

    def bonus(self, question: str, steps: Sequence[Step | tuple[str, str]]) -> float:
        """In [0, 1]: similarity of the closest stored plan that starts with these calls' shapes
        (0 when the last call failed or no stored plan starts that way)."""
        if steps and isinstance(steps[-1], Step) and steps[-1].error:
            return 0.0
        prefix = plan_shapes(steps)
        n = len(prefix)
        return max((s for s, plan in self.similar(question) if plan[:n] == prefix), default=0.0)

    def __call__(self, question: str, steps: tuple[Step, ...]) -> float:
        return self.bonus(question, steps)

    def __len__(self) -> int:
        return sum(1 for r in self.store.records(kinds=["workflow"])
                   if TAG in r.taxonomy and r.scope == self.scope)

    def state(self) -> dict[str, Any]:
        """How many plans the memory holds (for reports)."""
        return {"plans": len(self), "scope": self.scope}
