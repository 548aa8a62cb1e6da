"""The issue's command runs: `undertow bench run -t boolean_expressions -o ape,spo,apohf,gepa
--llm sim` (small splits), and the two-prompt task appears next to bbh:* and gsm8k."""

from __future__ import annotations

from typer.testing import CliRunner
from undertow.bench.bench_cli import bench_app
from undertow.bench.runner import collect


def test_the_four_seed_optimizers_run_from_the_command_line(tmp_path):
    out = tmp_path / "r"
    result = CliRunner().invoke(bench_app, [
        "run", "-t", "boolean_expressions", "-o", "ape,spo,apohf,gepa", "--llm", "sim", "--steps", "2",
        "--n-train", "12", "--n-val", "6", "--n-test", "6", "--batch-size", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    records = collect(out)
    assert {r.optimizer for r in records} == {"ape", "spo", "apohf", "gepa"}
    assert all(r.tag == "llm=sim" for r in records)


def test_bench_list_shows_the_new_tasks_and_optimizers():
    result = CliRunner().invoke(bench_app, ["list"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    for name in ("two_prompt", "gsm8k", "bbh:web_of_lies", "bbh:navigate", "ape", "spo", "apohf", "gepa"):
        assert name in result.output, name
