"""`undertow perf bench --part runner` and `undertow perf tree --runs N`: the JSON carries
the issue's keys (never timed: only presence and consistency are checked)."""

from __future__ import annotations

import json

from typer.testing import CliRunner
from undertow.bench.cli import app


def test_runner_part_reports_ratios_load_and_the_machines_own_parallelism() -> None:
    result = CliRunner().invoke(app, ["perf", "bench", "--quick", "--part", "runner",
                                      "--runner-repetitions", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["llm"] == "sim" and data["runner_repetitions"] == 1
    for key in ("direct_s", "runner_s", "runner_2_workers_s", "runner_overhead_ratio",
                "runner_overhead_ratio_cpu", "scaling_2_workers", "cpu_parallelism_2"):
        assert data[key] > 0, key
    ratio = data["runner_s"] / data["direct_s"]  # from rounded seconds
    assert abs(data["runner_overhead_ratio"] - ratio) <= 0.02 * ratio
    assert len(data["scaling_2_workers_each"]) == 1
    assert len(data["load_avg"]) == 3 and set(data["runner_load_avg"]) == {"before", "after"}


def test_an_unknown_part_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["perf", "bench", "--part", "runnr"])
    assert result.exit_code != 0
    assert "unknown part runnr" in result.output and "runner" in result.output


def test_tree_runs_give_a_distribution_per_cell() -> None:
    result = CliRunner().invoke(app, ["perf", "tree", "--quick", "--runs", "2", "--runs-only"])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.output)["eta_runs"]
    assert runs["runs"] == 2 and runs["cells"]
    for cell in runs["cells"]:
        assert len(cell["eta_each"]) == 2 and 0 <= cell["runs_eta_ge_goal"] <= 2
        for key in ("eta", "ns_per_node", "triad_gbs"):
            s = cell[key]
            assert 0 < s["min"] <= s["median"] <= s["max"] and s["cv"] >= 0
    lo, hi = runs["eta_range_all_runs"]
    assert lo <= hi and 0.0 <= runs["share_of_runs_eta_ge_goal"] <= 1.0


def test_runs_only_needs_runs() -> None:
    result = CliRunner().invoke(app, ["perf", "tree", "--runs-only"])
    assert result.exit_code != 0 and "--runs" in result.output


def test_optoprime_rows_carry_min_median_and_the_sdk_share_on_both_sides() -> None:
    from undertow.bench.perf.bench import optoprime_table

    data = optoprime_table([10, 30], None, 60.0, repetitions=2)
    assert data["optoprime_repetitions"] == 2 and [r["N"] for r in data["optoprime"]] == [10, 30]
    sides = [r for r in data["optoprime"]] + [r["trace_opt"] for r in data["optoprime"] if r["trace_opt"]]
    for side in sides:
        assert side["repetitions"] >= 1 and side["requests"] >= 1 and side["tokens"] > 0
        assert 0 < side["cpu_ms"] <= side["cpu_ms_median"]
        assert side["framework_cpu_ms"] <= side["cpu_ms"] and side["sdk_cpu_ms_median"] > 0
        assert side["updated_fraction"] == 1.0
    for row in data["optoprime"]:  # our own counting is inside our step's CPU
        assert 0 < row["count_cpu_ms_median"] <= row["cpu_ms_median"]
    for row in data["optoprime"]:  # small cells: the frameworks take turns, a step a round at least
        assert row["rounds"] == 3 and row["repetitions"] == 3
        assert row["framework_cpu_ms_uncached"] > 0
    for row in data["optoprime"]:
        if row["trace_opt"] is None:
            assert data["trace_opt_skipped"]  # says why
        else:
            assert abs(row["cpu_ratio"] - row["trace_opt"]["cpu_ms"] / row["cpu_ms"]) <= 0.01 * row["cpu_ratio"] + 0.01
    assert data["optoprime_goals"]["every_parameter_updated"] is True
