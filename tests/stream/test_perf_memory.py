"""`undertow perf memory` prints its figures for every size (shape only: no time bounds)."""

from __future__ import annotations

from undertow.bench.perf.memory import run


def test_perf_memory_reports_each_size_and_timing():
    got = run(quick=True)
    assert got["suite"] == "memory" and set(got["sizes"]) == {"100", "400"}
    for cell in got["sizes"].values():
        for kind in ("warm", "after_write", "scan"):
            assert cell[kind]["median_ms"] >= 0 and cell[kind]["p95_ms"] >= cell[kind]["median_ms"]
