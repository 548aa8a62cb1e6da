"""The `undertow experience` sub-app, run through typer's runner on real files."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner
from undertow.optimizers.experience import (
    ExperienceStore,
    Insight,
    Trajectory,
    apply_operations,
)
from undertow.optimizers.experience.cli import experience_app

runner = CliRunner()


def _lib(path: Path) -> list[str]:
    with ExperienceStore(path) as s:
        a = s.add(Insight(explanation="Close brackets in reverse order.", taxonomy=["dyck"], status="active")).id
        b = s.add(Trajectory(input="2 + 3 * 4 =", output="14", scope="arith")).id
        apply_operations(s, [{"op": "UPVOTE", "id": a}])
        s.commit_generation()
    return [a, b]


def test_list_show_search_stats(tmp_path: Path) -> None:
    db = tmp_path / "lib.db"
    a, b = _lib(db)
    out = runner.invoke(experience_app, ["list", "--db", str(db)])
    assert out.exit_code == 0 and a in out.stdout and b in out.stdout and "imp=3" in out.stdout
    out = runner.invoke(experience_app, ["list", "--db", str(db), "--kind", "trajectory"])
    assert a not in out.stdout and b in out.stdout
    shown = json.loads(runner.invoke(experience_app, ["show", a, "--db", str(db)]).stdout)
    assert shown["record"]["explanation"].startswith("Close") and shown["stats"]["importance"] == 3
    out = runner.invoke(experience_app, ["search", "brackets reverse", "--db", str(db)])
    assert out.stdout.splitlines()[0].split("\t")[1] == a
    counts = json.loads(runner.invoke(experience_app, ["stats", "--db", str(db)]).stdout)
    assert counts["generation"] == 1 and counts["records"] == {"insight/active": 1, "trajectory/candidate": 1}


def test_export_import_round_trip(tmp_path: Path) -> None:
    db, copy, dump = tmp_path / "lib.db", tmp_path / "copy.db", tmp_path / "lib.jsonl"
    _lib(db)
    assert runner.invoke(experience_app, ["export", str(dump), "--db", str(db)]).exit_code == 0
    out = runner.invoke(experience_app, ["import", str(dump), "--db", str(copy)])
    assert json.loads(out.stdout) == {"added": 2, "skipped": 0}
    again = runner.invoke(experience_app, ["import", str(dump), "--db", str(copy)])
    assert json.loads(again.stdout) == {"added": 0, "skipped": 2}
    with ExperienceStore(db) as s1, ExperienceStore(copy) as s2:
        strip = (lambda rs: [r.model_dump(exclude={"version", "generation"}) for r in rs])
        assert strip(s1.records()) == strip(s2.records())
        assert {k: v.importance for k, v in s1.stats().items()} == {k: v.importance for k, v in s2.stats().items()}


def test_bad_inputs_give_clear_errors_and_change_nothing(tmp_path: Path) -> None:
    db, dump = tmp_path / "lib.db", tmp_path / "bad.jsonl"
    _lib(db)
    dump.write_text('{"record": {"kind": "insight", "id": "insight-aaaaaa", "explanation": "ok"}}\n'
                    '{"record": {"kind": "insight", "id": "insight-bbbbbb"}}\n')
    out = runner.invoke(experience_app, ["import", str(dump), "--db", str(db)])
    assert out.exit_code == 2 and "bad.jsonl:2" in out.stderr
    with ExperienceStore(db) as s:
        assert len(s.records()) == 2                     # the valid first line was not written either
    foreign = tmp_path / "notes.txt"
    foreign.write_text("hello")
    out = runner.invoke(experience_app, ["list", "--db", str(foreign)])
    assert out.exit_code == 2 and "not an SQLite database" in out.stderr
    assert foreign.read_text() == "hello"
    out = runner.invoke(experience_app, ["show", "insight-ffffff", "--db", str(db)])
    assert out.exit_code == 2 and "no record" in out.stderr
    out = runner.invoke(experience_app, ["list", "--db", str(tmp_path / "absent.db")])
    assert out.exit_code == 2 and not (tmp_path / "absent.db").exists()


def test_init_creates_the_default_library_that_list_then_reads(tmp_path: Path, monkeypatch) -> None:
    from undertow.optimizers.experience import cli

    monkeypatch.delenv(cli.ENV_VAR, raising=False)
    default = tmp_path / "data" / "undertow" / "experience.sqlite"
    monkeypatch.setattr(cli, "default_db", lambda: default)
    missing = runner.invoke(experience_app, ["list"])
    assert missing.exit_code == 2 and "undertow experience init" in missing.stderr
    made = runner.invoke(experience_app, ["init"])
    assert made.exit_code == 0 and "created library" in made.stdout and default.is_file()
    assert runner.invoke(experience_app, ["list"]).exit_code == 0
    with ExperienceStore(default) as s:
        s.add(Insight(explanation="Count the nots.", taxonomy=["bool"], status="active"))
        s.commit_generation()
    again = runner.invoke(experience_app, ["init"])
    assert again.exit_code == 0 and "already exists" in again.stdout and "1 records" in again.stdout
    assert "Count the nots." in runner.invoke(experience_app, ["list"]).stdout


def test_init_with_db_and_the_environment_variable(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "libs" / "team.sqlite"
    assert runner.invoke(experience_app, ["init", "--db", str(target)]).exit_code == 0
    monkeypatch.setenv("UNDERTOW_EXPERIENCE_DB", str(target))
    counts = json.loads(runner.invoke(experience_app, ["stats"]).stdout)
    assert counts["generation"] == 0 and counts["records"] == {}
