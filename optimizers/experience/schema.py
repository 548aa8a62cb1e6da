"""The SQLite layout of an experience library, and opening a file safely.

Tables: `records` (the latest version of each record, a convenience view kept in step),
`versions` (append-only history: every change is a new row), `events` (append-only
log: retrieved / injected / outcome / importance / status...), `generations` (one row
per committed batch), `records_fts` (FTS5 over taxonomy, condition, content, example)
and `meta`. Triggers forbid updating or deleting history, events and generations, and
deleting records: nothing is ever deleted outright.

Opening never overwrites a file that is not ours: a non-SQLite file, a database of
another application, or a corrupt one raises `ExperienceStoreError` and is left as it was.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

#: `PRAGMA application_id` of an experience library ("UXPL").
APPLICATION_ID = 0x5558504C
SCHEMA_VERSION = 1
SQLITE_HEADER = b"SQLite format 3\x00"

DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, scope TEXT NOT NULL,
    version INTEGER NOT NULL, generation INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL, version INTEGER NOT NULL,
    generation INTEGER NOT NULL, op TEXT NOT NULL, body TEXT NOT NULL, at REAL NOT NULL,
    UNIQUE (record_id, version));
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL, kind TEXT NOT NULL,
    generation INTEGER NOT NULL, run TEXT NOT NULL DEFAULT '', reward REAL,
    delta INTEGER NOT NULL DEFAULT 0, detail TEXT NOT NULL DEFAULT '{}', at REAL NOT NULL);
CREATE INDEX events_by_record ON events (record_id, generation);
CREATE INDEX versions_by_generation ON versions (generation, record_id);
CREATE TABLE generations (gen INTEGER PRIMARY KEY, note TEXT NOT NULL, at REAL NOT NULL);
CREATE VIRTUAL TABLE records_fts USING fts5(
    id UNINDEXED, taxonomy, condition, content, example, tokenize = 'unicode61');
CREATE TRIGGER versions_append_only_u BEFORE UPDATE ON versions
    BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;
CREATE TRIGGER versions_append_only_d BEFORE DELETE ON versions
    BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;
CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_d BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER generations_append_only_d BEFORE DELETE ON generations
    BEGIN SELECT RAISE(ABORT, 'generations are append-only'); END;
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
    BEGIN SELECT RAISE(ABORT, 'records are never deleted; deprecate them'); END;
"""


class ExperienceStoreError(RuntimeError):
    """The library file cannot be used as it is (foreign, corrupt, newer schema, locked)."""


def _check_header(path: Path) -> None:
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_HEADER))
    if head != SQLITE_HEADER:
        raise ExperienceStoreError(
            f"{path} is not an SQLite database (it starts with {head[:8]!r}), so it is not an "
            "experience library; it was left untouched. Pass the path of a library or of a new file.")


def _fail(path: Path, exc: sqlite3.DatabaseError) -> ExperienceStoreError:
    return ExperienceStoreError(
        f"{path} is a corrupt or unreadable SQLite database ({exc}); it was left untouched. "
        "Restore it from a backup or a JSONL export (`undertow experience import`) into a new file.")


def open_database(path: Path, *, check: bool = True, timeout: float = 30.0) -> sqlite3.Connection:
    """Open (or create) the library at `path` in WAL mode, refusing anything that is not ours."""
    if path.is_dir():
        raise ExperienceStoreError(f"{path} is a directory; pass a file path such as {path / 'experience.db'}")
    exists = path.exists()
    if exists and path.stat().st_size == 0:
        raise ExperienceStoreError(
            f"{path} is an empty file (0 bytes), not an experience library; it was left untouched. "
            "Pass the path of a library, or of a file that does not exist yet to start a new one "
            "(delete the empty file first if that is what you meant).")
    if exists:
        _check_header(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "rw" if exists else "rwc"
    conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, timeout=timeout,
                           isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id != APPLICATION_ID and tables:
            raise ExperienceStoreError(
                f"{path} is an SQLite database of another application (application_id "
                f"{app_id:#x}, {tables} schema objects), not an experience library; it was left "
                "untouched. Pass the path of a library or of a new file.")
        if check:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise ExperienceStoreError(
                    f"{path} failed SQLite's integrity check ({verdict}); it was left untouched. "
                    "Restore it from a backup or a JSONL export into a new file.")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a killed process loses no commit
        conn.execute("PRAGMA foreign_keys = ON")
        if not tables:
            _create(conn)
        else:
            found = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(found[0]) if found else 0
            if version != SCHEMA_VERSION:
                raise ExperienceStoreError(
                    f"{path} has experience-library schema version {version}, this undertow reads "
                    f"version {SCHEMA_VERSION}; upgrade undertow or export/import the library.")
    except ExperienceStoreError:
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _fail(path, exc) from exc
    return conn


def _create(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            conn.execute("ROLLBACK")  # another process created it first
            return
        for statement in re.split(r";\s*\n(?=CREATE)", DDL.strip()):
            conn.execute(statement)
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
