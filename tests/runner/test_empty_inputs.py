"""Finding 8 of issue 12: empty task lists and empty or foreign files are clear errors."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from undertow.bench.bench_cli import bench_app
from undertow.optimizers.experience import ExperienceStore, ExperienceStoreError


runner = CliRunner()
SMALL = ["--steps", "1", "--n-train", "2", "--n-val", "2", "--n-test", "2"]


@pytest.mark.parametrize("args", [["--task", ""], ["--task", " , "], ["--task", "word_sorting", "--optimizer", ""]])
def test_an_option_that_names_nothing_is_an_error(tmp_path, args) -> None:
    result = runner.invoke(bench_app, ["run", *args, "--out", str(tmp_path / "r"), *SMALL])
    assert result.exit_code == 2
    assert "names nothing" in result.output and "'all'" in result.output
    assert not (tmp_path / "r").exists()


def test_an_empty_file_is_not_silently_made_a_library(tmp_path) -> None:
    path = tmp_path / "lib.db"
    path.write_bytes(b"")
    with pytest.raises(ExperienceStoreError, match="empty file"):
        ExperienceStore(path)
    assert path.read_bytes() == b""  # left untouched


def test_foreign_files_are_refused_untouched(tmp_path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ExperienceStoreError, match="not an SQLite database"):
        ExperienceStore(text)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(ExperienceStoreError, match="another application"):
        ExperienceStore(other)
    assert text.read_text() == "hello"


def test_a_missing_file_still_starts_a_new_library(tmp_path) -> None:
    with ExperienceStore(tmp_path / "new.db") as store:
        assert store.path.exists()


def test_an_empty_or_foreign_module_file_is_refused(tmp_path) -> None:
    from undertow.engine import Module, Parameter, StateError

    class Agent(Module):
        def __init__(self) -> None:
            self.prompt = Parameter("Be brief.", name="prompt")

    empty, foreign = tmp_path / "empty.json", tmp_path / "foreign.json"
    empty.write_text("")
    foreign.write_text("[1, 2]")
    agent = Agent()
    with pytest.raises(StateError, match="is empty"):
        agent.load(empty)
    with pytest.raises(StateError, match="not an undertow module file"):
        agent.load(foreign)
    assert agent.prompt.value == "Be brief."
