"""Retrieval: filter, BM25 candidates (optionally fused with embeddings), rerank, pack.

1. Filter the records of a generation's snapshot by scope (the given scope or
   'global'), status (default: active) and kind.
2. Candidates by BM25 (FTS5 over taxonomy, condition, content, example), fused by
   reciprocal rank with cosine similarity when an `Embedder` is given.
3. Rerank by relevance x measured utility (mean outcome reward when injected, shrunk
   toward 0.5 while outcomes are few), then pick greedily with a diversity penalty (the
   word overlap with what is already picked).
4. Pack into a token budget: the best that fit, at most `k`.

Snapshots are read as of a committed generation, which never changes, so retrieving
with the same query at a pinned generation gives the same result forever.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from undertow.engine.tokens import count_tokens
from undertow.optimizers.experience.embed import Embedder
from undertow.optimizers.experience.records import RecordBase, RecordStats
from undertow.optimizers.experience.store import ExperienceStore, stats_of

_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
#: Reciprocal-rank-fusion constant.
RRF_K = 60
#: BM25 column weights: taxonomy, condition, content, example.
BM25_WEIGHTS = (2.0, 1.5, 1.0, 0.5)


def fts_query(text: str, max_terms: int = 64) -> str:
    """An FTS5 MATCH expression: the distinct words of `text`, quoted, joined by OR."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))[:max_terms]
    return " OR ".join(f'"{w}"' for w in words)


@dataclass
class Retrieved:
    """One picked record with its scores."""

    record: RecordBase
    relevance: float
    utility: float
    score: float


@dataclass
class Retrieval:
    """What a retrieval returned: picked records (best first), the generation, the packed text."""

    items: list[Retrieved]
    generation: int
    query: str
    tokens: int = 0
    ids: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(f"- {it.record.render()}" for it in self.items)


class _LazyStats(Mapping[str, RecordStats]):
    """Record id -> `RecordStats`, each built when first read: a retrieval reads the few
    candidates it reranks, not every record of the memory."""

    def __init__(self, rows: dict[str, tuple[Any, ...]]) -> None:
        self._rows = rows
        self._made: dict[str, RecordStats] = {}

    def __getitem__(self, record_id: str) -> RecordStats:
        got = self._made.get(record_id)
        if got is None:
            got = self._made[record_id] = stats_of(self._rows[record_id])
        return got

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class _Snapshot:
    """The records and statistics of one committed generation, with its own FTS5 index.

    Built from a `base` snapshot of another generation when one is at hand: the records
    whose version is the same are reused, and the index is a copy of the base's (SQLite's
    backup, page by page) with only the changed rows replaced, each row keyed by its
    version's `seq`. So a stream that commits after every write pays for what changed,
    not for the whole memory; the result is the snapshot a fresh build gives (tested).
    """

    def __init__(self, store: ExperienceStore, generation: int, base: _Snapshot | None = None) -> None:
        self.generation = generation
        self.seqs = store.latest_versions(generation)
        reuse = base.by_seq if base is not None else {}
        fresh = store.version_bodies(sorted(q for q in self.seqs.values() if q not in reuse))
        self.by_seq = {q: reuse.get(q) or fresh[q] for q in self.seqs.values()}
        self.records = [self.by_seq[self.seqs[i]] for i in sorted(self.seqs)]
        self.stats = _LazyStats(store.stats_rows(generation))
        self.by_id = {r.id: r for r in self.records}
        self.conn = sqlite3.connect(":memory:", check_same_thread=False)
        if base is None:
            self.conn.execute("CREATE VIRTUAL TABLE fts USING fts5(id UNINDEXED, taxonomy, condition, content, "
                              "example)")
            added = sorted(self.seqs.values())
        else:
            with base.lock:
                base.conn.backup(self.conn)
            gone = [q for q in base.by_seq if q not in self.by_seq]
            self.conn.executemany("DELETE FROM fts WHERE rowid = ?", [(q,) for q in gone])
            added = sorted(q for q in self.by_seq if q not in base.by_seq)
        self.conn.executemany("INSERT INTO fts(rowid, id, taxonomy, condition, content, example) "
                              "VALUES (?, ?, ?, ?, ?, ?)",
                              [(q, self.by_seq[q].id, *self.by_seq[q].search_fields()) for q in added])
        self.conn.commit()  # an open write transaction would stall a later backup from it
        self.lock = threading.Lock()
        self.vectors: dict[int, np.ndarray] = {}

    def bm25(self, query: str) -> list[tuple[str, float]]:
        match = fts_query(query)
        if not match:
            return []
        with self.lock:
            rows = self.conn.execute(f"SELECT id, -bm25(fts, {', '.join(map(str, BM25_WEIGHTS))}) FROM fts "
                                     "WHERE fts MATCH ? ORDER BY 2 DESC, id", (match,)).fetchall()
        return [(i, float(s)) for i, s in rows]


class Retriever:
    """Retrieves from an `ExperienceStore`; see the module docstring for the steps."""

    def __init__(self, store: ExperienceStore, *, embedder: Embedder | None = None,
                 diversity: float = 0.3, candidates: int = 50, cache_size: int = 4) -> None:
        if not 0.0 <= diversity <= 1.0:
            raise ValueError(f"diversity must be in [0, 1], got {diversity}")
        self.store = store
        self.embedder = embedder
        self.diversity = diversity
        self.candidates = candidates
        self._cache: OrderedDict[int, _Snapshot] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def __copy__(self) -> Retriever:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Retriever:
        """The same retriever: a read cache over the store, shared by copies of an optimizer
        by design (like the store itself)."""
        return self

    def snapshot(self, generation: int) -> _Snapshot:
        with self._lock:
            snap = self._cache.get(generation)
            if snap is None:
                # the nearest cached generation is the cheapest base (fewest changes)
                base = min(self._cache.values(), key=lambda c: abs(c.generation - generation), default=None)
                snap = self._cache[generation] = _Snapshot(self.store, generation, base)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            self._cache.move_to_end(generation)
            return snap

    def retrieve(self, query: str, *, scope: str | None = None, statuses: tuple[str, ...] = ("active",),
                 kinds: tuple[str, ...] | None = None, k: int = 5, token_budget: int = 400,
                 generation: int | None = None, fill: bool = False, log: bool = True,
                 run: str = "") -> Retrieval:
        """The best records for `query` that fit `token_budget` (at most `k`).

        `generation` pins the snapshot (default: the last committed one). `fill=True`
        also considers filtered records that share no word with the query (ranked by
        utility alone). `log=True` appends a 'retrieved' event per picked record.
        """
        if k < 0 or token_budget < 0:
            raise ValueError(f"k and token_budget must be >= 0, got k={k}, token_budget={token_budget}")
        gen = self.store.generation if generation is None else generation
        if gen > self.store.generation:
            raise ValueError(f"generation {gen} is not committed yet (last is {self.store.generation})")
        snap = self.snapshot(gen)
        allowed = {r.id for r in snap.records if r.status in statuses
                   and (scope is None or r.scope in (scope, "global")) and (kinds is None or r.kind in kinds)}
        relevance = self._relevance(snap, query, allowed)
        if fill:
            for rid in sorted(allowed - set(relevance)):
                relevance[rid] = 0.0
        picked = self._rerank(snap, relevance, k, token_budget)
        out = Retrieval(items=picked, generation=gen, query=query,
                        tokens=sum(count_tokens(it.record.render()) for it in picked),
                        ids=[it.record.id for it in picked])
        if log and picked:
            self.store.log_events({"record_id": it.record.id, "kind": "retrieved", "run": run,
                                   "detail": {"generation": gen, "score": round(it.score, 6)}}
                                  for it in picked)
        return out

    def _relevance(self, snap: _Snapshot, query: str, allowed: set[str]) -> dict[str, float]:
        bm = [(i, s) for i, s in snap.bm25(query) if i in allowed][: self.candidates]
        if self.embedder is None:
            top = max((s for _, s in bm), default=0.0)
            return {i: (s / top if top > 0 else 1.0) for i, s in bm}
        ids = sorted(allowed)
        sims = self._cosines(snap, query, ids)
        dense = sorted(zip(ids, sims, strict=True), key=lambda t: (-t[1], t[0]))[: self.candidates]
        fused: dict[str, float] = {}
        for ranking in (bm, dense):
            for rank, (rid, _) in enumerate(ranking):
                fused[rid] = fused.get(rid, 0.0) + 1.0 / (RRF_K + rank + 1)
        top = max(fused.values(), default=0.0)
        return {i: s / top for i, s in fused.items()} if top > 0 else {}

    def _cosines(self, snap: _Snapshot, query: str, ids: list[str]) -> list[float]:
        assert self.embedder is not None
        key = id(self.embedder)
        if key not in snap.vectors:
            snap.vectors[key] = self.embedder.embed([" ".join(r.search_fields()) for r in snap.records])
        index = {r.id: n for n, r in enumerate(snap.records)}
        rows = snap.vectors[key][[index[i] for i in ids]] if ids else np.zeros((0, 1))
        q = self.embedder.embed([query])[0]
        return [float(x) for x in (rows @ q if len(ids) else [])]

    def _rerank(self, snap: _Snapshot, relevance: dict[str, float], k: int, budget: int) -> list[Retrieved]:
        pool: list[tuple[float, str, float, float]] = []
        for rid, rel in relevance.items():
            u = snap.stats.get(rid, RecordStats()).utility()
            pool.append(((max(rel, 1e-3)) * (0.5 + u), rid, rel, u))
        words = {rid: set(_WORD.findall(" ".join(snap.by_id[rid].search_fields()).lower())) for _, rid, _, _ in pool}
        picked: list[Retrieved] = []
        used = 0
        while pool and len(picked) < k:
            def value(entry: tuple[float, str, float, float]) -> tuple[float, str]:
                overlap = max((_jaccard(words[entry[1]], words[p.record.id]) for p in picked), default=0.0)
                return entry[0] - self.diversity * overlap, entry[1]
            best = max(pool, key=lambda e: (value(e)[0], _neg(e[1])))
            pool.remove(best)
            rec = snap.by_id[best[1]]
            cost = count_tokens(rec.render())
            if used + cost > budget:
                continue
            used += cost
            picked.append(Retrieved(record=rec, relevance=best[2], utility=best[3], score=value(best)[0]))
        return picked


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _neg(s: str) -> tuple[int, ...]:
    """Sort key that prefers the smaller id on ties (max() with it picks the smallest)."""
    return tuple(-ord(c) for c in s)


__all__ = ["Retrieval", "Retrieved", "Retriever", "count_tokens", "fts_query"]
