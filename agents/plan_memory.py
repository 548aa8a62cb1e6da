"""Long-term memory of successful tool plans, kept in the experience store.

After a plan solves a question (judged by the task's checker on *training* items, or
by a user), `PlanMemory.remember` stores it as a `Workflow` record: the question is
its condition, the tool names in order are its steps. While searching, ToolChain*
asks `bonus(question, tools_so_far)`: the word overlap (Jaccard) between the question
and the most similar stored question whose plan starts with the same tools. A plan
prefix that worked on similar questions becomes cheaper to extend, so A* tries it
first (g minus the bonus; see `optimizers/search/toolchain.py`).

Retrieval is the store's full-text search (BM25) for candidates, reranked by the
Jaccard similarity; results are cached per question (the store is read-mostly while
searching).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from undertow.optimizers.experience import ExperienceStore, Provenance, Workflow

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an the of in on at to for is are was what which who whom how many much "
                  "does do did and or by with from as be it its that this".split())
TAG = "toolchain-plan"


def words(text: str) -> frozenset[str]:
    """Content words of ``text`` (lower case, stop words out)."""
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOP)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


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

    def remember(self, question: str, tools: tuple[str, ...] | list[str], *, run: str = "",
                 source: str = "") -> Workflow:
        """Store one successful plan (its tools in order) for ``question``."""
        if not tools:
            raise ValueError("a plan to remember needs at least one tool call")
        digest = hashlib.sha1(repr((self.scope, question, tuple(tools))).encode()).hexdigest()[:12]
        rid = f"workflow-{digest}"  # the same plan twice is one record (and ids are reproducible)
        if self.store.exists(rid):
            return self.store.get(rid)  # type: ignore[return-value]
        record = Workflow(id=rid, condition=question, steps=list(tools), scope=self.scope,
                          taxonomy=[TAG], provenance=Provenance(source_tasks=[source] if source else [],
                                                                 run=run))
        saved = self.store.add(record, run=run)
        self._cache.clear()
        return saved  # type: ignore[return-value]

    def similar(self, question: str) -> list[tuple[float, tuple[str, ...]]]:
        """(similarity, tools) of the stored plans most like ``question``, best first."""
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

    def bonus(self, question: str, tools: tuple[str, ...]) -> float:
        """In [0, 1]: similarity of the closest stored plan that starts with ``tools``."""
        n = len(tools)
        return max((s for s, plan in self.similar(question) if plan[:n] == tuple(tools)),
                   default=0.0)

    def __len__(self) -> int:
        return sum(1 for r in self.store.records(kinds=["workflow"])
                   if TAG in r.taxonomy and r.scope == self.scope)

    def __call__(self, question: str, tools: tuple[str, ...]) -> float:
        return self.bonus(question, tools)

    def state(self) -> dict[str, Any]:
        """How many plans the memory holds (for reports)."""
        return {"plans": len(self), "scope": self.scope}
