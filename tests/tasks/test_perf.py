"""The task throughput benchmark returns a well-formed dict (its figures are not asserted)."""

from __future__ import annotations

from undertow.bench.tasks.reasoning import available
from undertow.bench.tasks.reasoning.perf import run


def test_quick_benchmark_reports_every_task_and_operation() -> None:
    result = run(quick=True)
    assert result["repeats"] == 3 and set(result["tasks"]) == set(available())
    for figures in result["tasks"].values():
        assert set(figures) == {"generate", "solve", "score", "make_splits"}
        for entry in figures.values():
            assert len(entry["runs_per_s"]) == 3 and entry["median_per_s"] > 0
