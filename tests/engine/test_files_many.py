"""`atomic_write_many`: several files replaced durably with one wait for the disk, in order,
and nothing half-written or left behind when one of them cannot be replaced."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from undertow.engine.files import atomic_write_bytes, atomic_write_many


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=4))
def test_every_file_gets_its_bytes(tmp_path_factory, blobs: list[bytes]) -> None:
    d = tmp_path_factory.mktemp("many")
    paths = atomic_write_many([(d / f"f{i}", b) for i, b in enumerate(blobs)])
    assert [p.read_bytes() for p in paths] == blobs
    assert not [p for p in d.iterdir() if p.name.endswith(".tmp")]


def test_all_are_fsynced_before_any_is_replaced(tmp_path, monkeypatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append(f"replace {os.path.basename(b)}"),
                                                     real_replace(a, b))[1])
    atomic_write_many([(tmp_path / "graph.dot", b"g"), (tmp_path / "records.jsonl", b"r"),
                       (tmp_path / "checkpoint.json", b"c")])
    assert events == ["fsync"] * 3 + ["replace graph.dot", "replace records.jsonl", "replace checkpoint.json"]


def test_a_failed_replace_leaves_no_temporary_files(tmp_path) -> None:
    atomic_write_bytes(tmp_path / "a", b"old")
    (tmp_path / "b").mkdir()  # a directory cannot be replaced by a file
    with pytest.raises(OSError):
        atomic_write_many([(tmp_path / "a", b"new"), (tmp_path / "b", b"x")])
    assert (tmp_path / "a").read_bytes() in (b"old", b"new")  # whole, either way
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_mode_follows_the_umask(tmp_path) -> None:
    old = os.umask(0o027)
    try:
        (path,) = atomic_write_many([(tmp_path / "m", b"x")])
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o640
