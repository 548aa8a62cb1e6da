"""`undertow metrics` through typer's CliRunner, and the exporter on a real small bench run."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner
from undertow.bench.cli import app
from undertow.optimizers.metrics import read_metric_set, read_trajectories, write_trajectories

runner = CliRunner()


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "run"
    res = runner.invoke(app, ["bench", "run", "-t", "autolibra", "-o", "none", "--llm", "sim", "--seeds", "1",
                              "--steps", "1", "--n-train", "4", "--n-val", "4", "--n-test", "12",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


def test_help_lists_commands() -> None:
    res = runner.invoke(app, ["metrics", "--help"])
    assert res.exit_code == 0 and all(c in res.output for c in ("induce", "eval", "export"))


def test_export_induce_eval(bench_run, tmp_path) -> None:
    runs = tmp_path / "runs.jsonl"
    res = runner.invoke(app, ["metrics", "export", str(bench_run), "-o", str(runs)])
    assert res.exit_code == 0, res.output
    trajs = read_trajectories(runs)
    assert len(trajs) == 12 and all(t.id.startswith("autolibra__none__s0/test-") for t in trajs)
    assert all(t.feedback and t.steps[-1].kind == "output" for t in trajs)
    # the replay uses the run's final parameters and is reproducible
    again = tmp_path / "again.jsonl"
    runner.invoke(app, ["metrics", "export", str(bench_run), "-o", str(again)])
    assert again.read_text() == runs.read_text()

    out = tmp_path / "m"
    res = runner.invoke(app, ["metrics", "induce", str(runs), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "llm=sim" in res.output and "coverage" in res.output
    mset = read_metric_set(out / "metrics.json")
    assert mset.metrics and (out / "coverage.png").read_bytes()[:4] == b"\x89PNG"

    judged = tmp_path / "j.jsonl"
    res = runner.invoke(app, ["metrics", "eval", str(runs), "--metrics", str(out / "metrics.json"),
                              "--out", str(judged)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in judged.read_text().splitlines()]
    assert len(rows) == len(trajs) * len(mset.metrics)
    assert mset.metrics[0].name in res.output


def test_bad_inputs_exit_with_a_clear_message(tmp_path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a"}\n')
    res = runner.invoke(app, ["metrics", "induce", str(bad)])
    assert res.exit_code == 2 and "bad.jsonl:1" in res.output and "task" in res.output
    res = runner.invoke(app, ["metrics", "export", str(tmp_path), "-o", str(tmp_path / "x.jsonl")])
    assert res.exit_code == 2 and "error" in res.output
    empty = tmp_path / "nofb.jsonl"
    from undertow.optimizers.metrics import Step, Trajectory

    write_trajectories(empty, [Trajectory(id="a", task="t", steps=[Step(index=0, kind="output", text="x")])])
    res = runner.invoke(app, ["metrics", "induce", str(empty)])
    assert res.exit_code == 2 and "no trajectory has feedback" in res.output


def test_export_of_a_run_without_trajectories(tmp_path) -> None:
    out = tmp_path / "dag"
    res = runner.invoke(app, ["bench", "run", "-t", "numeric_dag", "-o", "none", "--seeds", "1", "--steps", "1",
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["metrics", "export", str(out), "-o", str(tmp_path / "x.jsonl")])
    assert res.exit_code == 2 and "records trajectories" in res.output
