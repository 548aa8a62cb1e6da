"""The store: versions, events, statuses, generations, and refusing files that are not ours."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.optimizers.experience import (
    ExperienceStore,
    ExperienceStoreError,
    Insight,
    Trajectory,
    parse_record,
)


def test_add_update_keeps_every_version(store: ExperienceStore) -> None:
    rec = store.add(Insight(explanation="Evaluate not first.", taxonomy=["boolean"]))
    assert rec.id.startswith("insight-") and rec.version == 1 and rec.status == "candidate"
    store.update(rec.id, explanation="Apply not before and.")
    store.set_status(rec.id, "verified")
    hist = store.history(rec.id)
    assert [v.version for _, v in hist] == [1, 2, 3]
    assert hist[0][1].explanation == "Evaluate not first."
    assert store.get(rec.id).explanation == "Apply not before and."
    assert store.get(rec.id).status == "verified"


def test_history_and_events_cannot_be_rewritten(store: ExperienceStore) -> None:
    rec = store.add(Insight(explanation="x"))
    raw = sqlite3.connect(store.path)
    for sql in ("DELETE FROM versions", "UPDATE events SET delta = 9", "DELETE FROM events",
                "DELETE FROM records"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only|never deleted"):
            raw.execute(sql)
    raw.close()
    assert store.exists(rec.id)


def test_status_life_cycle_is_enforced(store: ExperienceStore) -> None:
    rec = store.add(Insight(explanation="x"))
    with pytest.raises(ValueError, match="can move to deprecated, verified"):
        store.set_status(rec.id, "active")
    store.set_status(rec.id, "deprecated")
    with pytest.raises(ValueError, match="can move to nothing"):
        store.set_status(rec.id, "candidate")
    with pytest.raises(ValueError, match="unknown status"):
        store.set_status(rec.id, "alive")


def test_unknown_id_error_names_the_fix(store: ExperienceStore) -> None:
    with pytest.raises(KeyError, match="experience list"):
        store.get("insight-abcdef")


def test_pinned_generation_is_a_fixed_snapshot(store: ExperienceStore) -> None:
    a = store.add(Insight(explanation="one", status="active"))
    g1 = store.commit_generation("first")
    store.update(a.id, explanation="two")
    store.add(Trajectory(input="q", output="a", status="active"))
    store.log_event(a.id, "outcome", reward=1.0)
    assert [r.explanation for r in store.records(generation=g1)] == ["one"]
    assert store.stats(g1)[a.id].outcomes == 0
    g2 = store.commit_generation()
    assert g2 == g1 + 1
    assert len(store.records(generation=g2)) == 2 and store.stats(g2)[a.id].outcomes == 1
    assert store.get(a.id, generation=g1).explanation == "one"


def test_records_round_trip_through_json() -> None:
    rec = Trajectory(id="trajectory-0a0b0c", input="in", output="out", reward=0.5, taxonomy=["t"])
    assert parse_record(rec.model_dump(mode="json")) == rec
    with pytest.raises(ValueError, match="must look like"):
        Insight(id="bad id", explanation="x")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["retrieved", "injected", "up", "down", "win", "loss"]), max_size=30))
def test_stats_are_derived_from_events(tmp_path_factory: pytest.TempPathFactory, moves: list[str]) -> None:
    with ExperienceStore(tmp_path_factory.mktemp("s") / "lib.db") as store:
        rid = store.add(Insight(explanation="x")).id
        for m in moves:
            if m in ("retrieved", "injected"):
                store.log_event(rid, m)
            elif m in ("up", "down"):
                store.log_event(rid, "importance", delta=1 if m == "up" else -1)
            else:
                store.log_event(rid, "outcome", reward=1.0 if m == "win" else 0.0)
        s = store.stats()[rid]
        assert s.importance == 2 + moves.count("up") - moves.count("down")
        assert (s.retrieved, s.injected) == (moves.count("retrieved"), moves.count("injected"))
        assert (s.outcomes, s.successes) == (moves.count("win") + moves.count("loss"), moves.count("win"))
        assert 0.0 <= s.utility() <= 1.0


def _unchanged(path: Path, before: bytes) -> None:
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


def test_a_text_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my precious notes\n")
    before = path.read_bytes()
    with pytest.raises(ExperienceStoreError, match="not an SQLite database.*left untouched"):
        ExperienceStore(path)
    _unchanged(path, before)


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (n INTEGER)")
    conn.execute("INSERT INTO invoices VALUES (1)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(ExperienceStoreError, match="another application"):
        ExperienceStore(path)
    _unchanged(path, before)


def test_a_corrupt_library_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    with ExperienceStore(path) as s:
        for i in range(50):
            s.add(Insight(explanation=f"insight number {i} " * 20))
    data = bytearray(path.read_bytes())
    for i in range(4096, len(data), 7):   # scribble over every page after the first
        data[i] = (data[i] * 31 + 7) % 256
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(ExperienceStoreError, match="left untouched"):
        ExperienceStore(path)
    assert path.read_bytes() == before


def test_a_directory_path_gets_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExperienceStoreError, match="is a directory"):
        ExperienceStore(tmp_path)
