"""The benchmark runner: tasks x optimizers x seeds at a matched budget, in parallel,
checkpointed every step, with JSONL results and Markdown/HTML reports.

    from undertow.bench.runner import make_config, start, write_report
    config = make_config(["word_sorting"], ["none"], llm="sim", seeds=3, budget="calls=100")
    outcome = start(config, "bench-runs/demo")
    write_report("bench-runs/demo")

See docs/bench.md. The registry of tasks and optimizers is `undertow.bench.registry`
(it imports the runner's task adapters, and the runner imports it, so the names
below load lazily).
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "format_budget": "budget", "parse_budget": "budget",
    "RunConfig": "config", "RunSpec": "config", "load_config": "config",
    "BenchError": "errors",
    "InlineExecutor": "executor", "make_executor": "executor",
    "Curve": "leaderboard", "Row": "leaderboard", "curves": "leaderboard", "leaderboard": "leaderboard",
    "StepRecord": "records", "dump_jsonl": "records", "load_jsonl": "records",
    "Report": "report", "write_report": "report",
    "Outcome": "runner", "collect": "runner", "make_config": "runner", "resume": "runner", "start": "runner",
    "run_one": "worker", "ledger": "runner", "SweepLimits": "limits",
    "Interrupted": "runner", "describe": "show", "describe_run": "show", "estimate": "estimate",
}
__all__ = [
    "BenchError",
    "Interrupted",
    "describe",
    "describe_run",
    "estimate",
    "Curve",
    "InlineExecutor",
    "Outcome",
    "Report",
    "Row",
    "RunConfig",
    "RunSpec",
    "StepRecord",
    "SweepLimits",
    "collect",
    "curves",
    "dump_jsonl",
    "format_budget",
    "leaderboard",
    "ledger",
    "load_config",
    "load_jsonl",
    "make_config",
    "make_executor",
    "parse_budget",
    "resume",
    "run_one",
    "start",
    "write_report",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
