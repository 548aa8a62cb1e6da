"""`ExperienceStore`: a persistent, versioned library of records in one SQLite file.

- Every change writes a new row to the append-only `versions` table; `records` holds the
  latest version of each record for quick reads, and `records_fts` indexes it (FTS5).
- Every retrieval, injection, outcome, vote and status change is an event in the
  append-only `events` log; statistics (`RecordStats`) are computed from events.
- Writes go into the *open* generation (last committed + 1); `commit_generation()`
  closes it. The state and statistics "as of generation g" only read rows with
  generation <= g, which no later write can add to, so a pinned generation gives the
  same snapshot forever (see `retrieval.py`).
- Each write is one `BEGIN IMMEDIATE` transaction: a process killed mid-write leaves the
  last committed state, and several processes may write to one file at once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from undertow.optimizers.experience.records import (
    KINDS,
    STATUSES,
    TRANSITIONS,
    Event,
    RecordBase,
    RecordStats,
    new_id,
    parse_record,
)
from undertow.optimizers.experience.schema import ExperienceStoreError, open_database

#: Importance a record starts with when added (ExpeL-style counting; see curation.py).
INITIAL_IMPORTANCE = 2
EVENT_KINDS = ("retrieved", "injected", "outcome", "importance", "status", "verify", "note", "item")


def _dump(record: RecordBase) -> str:
    return record.model_dump_json()


def stats_of(row: Sequence[Any]) -> RecordStats:
    """A `RecordStats` from a `stats_rows` row (SQL's own numbers: built without validation)."""
    i, rt, inj, n, s, rs = row
    return RecordStats.model_construct(importance=int(i), retrieved=int(rt), injected=int(inj), outcomes=int(n),
                                       successes=int(s), reward_sum=float(rs))


class ExperienceStore:
    """An experience library backed by the SQLite file at `path` (created if absent).

    `check=True` runs SQLite's quick integrity check on open. A file that is not an
    experience library raises `ExperienceStoreError` and is never modified.
    """

    def __init__(self, path: str | Path, *, check: bool = True, timeout: float = 30.0,
                 ids: str = "random") -> None:
        if ids not in ("random", "sequential"):
            raise ValueError(f"ids must be 'random' or 'sequential', got {ids!r}")
        self.path = Path(path)
        self._conn = open_database(self.path, check=check, timeout=timeout)
        self._lock = threading.RLock()
        #: "sequential": a new record's id is its kind and the number of records before it
        #: (reproducible runs: the same writes give the same ids, so ties in retrieval,
        #: which break by id, break the same way); "random": unique across libraries.
        self.ids = ids

    # -- plumbing -----------------------------------------------------------------
    def __copy__(self) -> ExperienceStore:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ExperienceStore:
        """The same store: a library is one database that copies of an optimizer share
        by design (fork it on disk with a file copy if you need two)."""
        return self

    def close(self) -> None:
        """Close the connection (the file stays consistent whether or not this is called)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ExperienceStore({str(self.path)!r})"

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:
                raise ExperienceStoreError(f"reading {self.path} failed: {exc}") from exc

    @staticmethod
    def _open_gen(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT coalesce(max(gen), 0) FROM generations").fetchone()[0]) + 1

    # -- generations ----------------------------------------------------------------
    @property
    def generation(self) -> int:
        """The last committed generation (0 before the first commit)."""
        return int(self._read("SELECT coalesce(max(gen), 0) FROM generations")[0][0])

    def commit_generation(self, note: str = "") -> int:
        """Close the open generation: what was written so far becomes visible to pinned reads."""
        with self._tx() as conn:
            gen = self._open_gen(conn)
            conn.execute("INSERT INTO generations VALUES (?, ?, ?)", (gen, note, time.time()))
        return gen

    def generations(self) -> list[tuple[int, str, float]]:
        """(generation, note, time) of every committed generation, oldest first."""
        return [(int(g), n, float(a)) for g, n, a in self._read("SELECT gen, note, at FROM generations ORDER BY gen")]

    # -- writes -------------------------------------------------------------------------
    def _write_version(self, conn: sqlite3.Connection, record: RecordBase, op: str) -> RecordBase:
        gen = self._open_gen(conn)
        row = conn.execute("SELECT version FROM records WHERE id = ?", (record.id,)).fetchone()
        version = (int(row[0]) if row else 0) + 1
        record = record.model_copy(update={"version": version, "generation": gen})
        record = type(record).model_validate(record.model_dump())  # re-validate the copy
        body = _dump(record)
        conn.execute("INSERT INTO versions (record_id, version, generation, op, body, at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (record.id, version, gen, op, body, time.time()))
        conn.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                     "status = excluded.status, scope = excluded.scope, version = excluded.version, "
                     "generation = excluded.generation, body = excluded.body",
                     (record.id, record.kind, record.status, record.scope, version, gen, body))
        conn.execute("DELETE FROM records_fts WHERE id = ?", (record.id,))
        conn.execute("INSERT INTO records_fts VALUES (?, ?, ?, ?, ?)", (record.id, *record.search_fields()))
        return record

    def _event(self, conn: sqlite3.Connection, record_id: str, kind: str, *, run: str = "",
               reward: float | None = None, delta: int = 0, detail: dict[str, Any] | None = None) -> int:
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}; use one of {', '.join(EVENT_KINDS)}")
        cur = conn.execute(
            "INSERT INTO events (record_id, kind, generation, run, reward, delta, detail, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (record_id, kind, self._open_gen(conn), run, reward, int(delta),
             json.dumps(detail or {}, sort_keys=True), time.time()))
        return int(cur.lastrowid or 0)

    def add(self, record: RecordBase, *, run: str = "", op: str = "add",
            importance: int = INITIAL_IMPORTANCE) -> RecordBase:
        """Store a new record (an id is made if it has none); returns it as stored."""
        with self._tx() as conn:
            if not record.id:
                record = record.model_copy(update={"id": self._new_id(conn, record.kind)})
            if conn.execute("SELECT 1 FROM records WHERE id = ?", (record.id,)).fetchone():
                raise ValueError(f"record {record.id} already exists; use update() to change it")
            stored = self._write_version(conn, record, op)
            if importance:
                self._event(conn, stored.id, "importance", run=run, delta=importance, detail={"op": op})
        return stored

    def _new_id(self, conn: sqlite3.Connection, kind: str) -> str:
        if self.ids == "random":
            return new_id(kind)
        n = int(conn.execute("SELECT count(*) FROM records").fetchone()[0]) + 1
        return f"{kind}-{n:08x}"

    def update(self, record_id: str, *, op: str = "edit", run: str = "", **changes: Any) -> RecordBase:
        """Write a new version of `record_id` with `changes` (validated; the old one stays in history)."""
        if "id" in changes or "kind" in changes:
            raise ValueError("a record's id and kind cannot change; add a new record instead")
        with self._tx() as conn:
            current = self._get(conn, record_id)
            if "status" in changes and changes["status"] != current.status:
                self._check_transition(current, changes["status"])
            merged = {**current.model_dump(), **changes}
            stored = self._write_version(conn, type(current).model_validate(merged), op)
            if "status" in changes and changes["status"] != current.status:
                self._event(conn, record_id, "status", run=run,
                            detail={"from": current.status, "to": changes["status"], "op": op})
        return stored

    def set_status(self, record_id: str, status: str, *, reason: str = "", run: str = "") -> RecordBase:
        """Move a record along candidate -> verified -> active -> deprecated."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        return self.update(record_id, op=f"status:{status}" + (f" ({reason})" if reason else ""),
                           run=run, status=status)

    @staticmethod
    def _check_transition(record: RecordBase, status: str) -> None:
        if status not in TRANSITIONS.get(record.status, frozenset()):
            allowed = ", ".join(sorted(TRANSITIONS[record.status])) or "nothing"
            raise ValueError(f"record {record.id} is {record.status}; it can move to {allowed}, "
                             f"not {status}")

    def log_event(self, record_id: str, kind: str, *, run: str = "", reward: float | None = None,
                  delta: int = 0, detail: dict[str, Any] | None = None) -> int:
        """Append one event; returns its sequence number (committed when this returns)."""
        with self._tx() as conn:
            return self._event(conn, record_id, kind, run=run, reward=reward, delta=delta, detail=detail)

    def log_events(self, events: Iterable[dict[str, Any]]) -> list[int]:
        """Append several events in one transaction (all or none)."""
        with self._tx() as conn:
            return [self._event(conn, **e) for e in events]

    # -- reads ---------------------------------------------------------------------------
    def _get(self, conn: sqlite3.Connection, record_id: str) -> RecordBase:
        row = conn.execute("SELECT body FROM records WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            raise KeyError(f"no record {record_id!r} in {self.path}; `undertow experience list` shows the ids")
        return parse_record(json.loads(row[0]))

    def get(self, record_id: str, generation: int | None = None) -> RecordBase:
        """The record as it is now, or as it was at `generation`; KeyError if it did not exist."""
        if generation is None:
            with self._lock:
                return self._get(self._conn, record_id)
        rows = self._read("SELECT body FROM versions WHERE record_id = ? AND generation <= ? "
                          "ORDER BY seq DESC LIMIT 1", (record_id, generation))
        if not rows:
            raise KeyError(f"record {record_id!r} did not exist at generation {generation}")
        return parse_record(json.loads(rows[0][0]))

    def exists(self, record_id: str) -> bool:
        return bool(self._read("SELECT 1 FROM records WHERE id = ?", (record_id,)))

    def records(self, *, kinds: Sequence[str] | None = None, statuses: Sequence[str] | None = None,
                scope: str | None = None, generation: int | None = None) -> list[RecordBase]:
        """Records (latest, or as of `generation`), filtered; `scope` also admits 'global'. By id."""
        for k in kinds or ():
            if k not in KINDS:
                raise ValueError(f"unknown kind {k!r}; use one of {', '.join(KINDS)}")
        for s in statuses or ():
            if s not in STATUSES:
                raise ValueError(f"unknown status {s!r}; use one of {', '.join(STATUSES)}")
        if generation is None:
            rows = self._read("SELECT body FROM records ORDER BY id")
        else:
            rows = self._read(
                "SELECT body FROM (SELECT record_id, body, row_number() OVER "
                "(PARTITION BY record_id ORDER BY seq DESC) AS rn FROM versions WHERE generation <= ?) "
                "WHERE rn = 1 ORDER BY record_id", (generation,))
        out = [parse_record(json.loads(b)) for (b,) in rows]
        return [r for r in out if (not kinds or r.kind in kinds)
                and (not statuses or r.status in statuses)
                and (scope is None or r.scope in (scope, "global"))]

    def latest_versions(self, generation: int) -> dict[str, int]:
        """Record id -> the `seq` of its version as of `generation` (the version rows never
        change, so a seq names one record body forever)."""
        return {r: int(q) for r, q in self._read(
            "SELECT record_id, max(seq) FROM versions WHERE generation <= ? GROUP BY record_id", (generation,))}

    def version_bodies(self, seqs: Sequence[int]) -> dict[int, RecordBase]:
        """The records written by these versions (by `seq`)."""
        out: dict[int, RecordBase] = {}
        seqs = list(seqs)
        for i in range(0, len(seqs), 500):  # SQLite's limit on bound parameters
            part = seqs[i:i + 500]
            for q, body in self._read(f"SELECT seq, body FROM versions WHERE seq IN ({','.join('?' * len(part))})",
                                      part):
                out[int(q)] = parse_record(json.loads(body))
        return out

    def history(self, record_id: str) -> list[tuple[str, RecordBase]]:
        """Every version of a record, oldest first, with the operation that wrote it."""
        rows = self._read("SELECT op, body FROM versions WHERE record_id = ? ORDER BY seq", (record_id,))
        return [(op, parse_record(json.loads(b))) for op, b in rows]

    def events(self, record_id: str | None = None, *, kinds: Sequence[str] | None = None,
               generation: int | None = None) -> list[Event]:
        """Events, oldest first, optionally of one record, some kinds, up to a generation."""
        sql, args = "SELECT seq, record_id, kind, generation, run, reward, delta, detail, at FROM events WHERE 1=1", []
        if record_id is not None:
            sql += " AND record_id = ?"
            args.append(record_id)
        if generation is not None:
            sql += " AND generation <= ?"
            args.append(generation)
        if kinds:
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args += list(kinds)
        return [Event(seq=s, record_id=r, kind=k, generation=g, run=run, reward=rw, delta=d,
                      detail=json.loads(dt), at=at)
                for s, r, k, g, run, rw, d, dt, at in self._read(sql + " ORDER BY seq", args)]

    def stats(self, generation: int | None = None) -> dict[str, RecordStats]:
        """Statistics per record id, from events (up to `generation` when given)."""
        return {r: stats_of(row) for r, row in self.stats_rows(generation).items()}

    def stats_rows(self, generation: int | None = None) -> dict[str, tuple[Any, ...]]:
        """`stats` as raw rows (importance, retrieved, injected, outcomes, successes,
        reward sum), for readers that turn only some into `RecordStats` (`stats_of`)."""
        rows = self._read(
            "SELECT record_id, sum(CASE WHEN kind = 'importance' THEN delta ELSE 0 END), "
            "sum(kind = 'retrieved'), sum(kind = 'injected'), sum(kind = 'outcome'), "
            "sum(kind = 'outcome' AND reward >= 0.5), "
            "sum(CASE WHEN kind = 'outcome' THEN coalesce(reward, 0) ELSE 0 END) "
            "FROM events WHERE generation <= ? GROUP BY record_id",
            (generation if generation is not None else 1 << 62,))
        return {row[0]: row[1:] for row in rows}

    def search(self, query: str, *, limit: int = 10) -> list[tuple[RecordBase, float]]:
        """Full-text search over the latest records (BM25; higher is better)."""
        from undertow.optimizers.experience.retrieval import fts_query

        match = fts_query(query)
        if not match:
            return []
        rows = self._read("SELECT r.body, -bm25(records_fts, 2.0, 1.5, 1.0, 0.5) FROM records_fts "
                          "JOIN records r ON r.id = records_fts.id WHERE records_fts MATCH ? "
                          "ORDER BY 2 DESC, r.id LIMIT ?", (match, limit))
        return [(parse_record(json.loads(b)), float(s)) for b, s in rows]

    def counts(self) -> dict[str, Any]:
        """Totals for `stats`: records by kind and status, events by kind, generation."""
        by = self._read("SELECT kind, status, count(*) FROM records GROUP BY kind, status")
        ev = self._read("SELECT kind, count(*) FROM events GROUP BY kind")
        return {"generation": self.generation,
                "records": {f"{k}/{s}": int(n) for k, s, n in by},
                "events": {k: int(n) for k, n in ev},
                "versions": int(self._read("SELECT count(*) FROM versions")[0][0])}
