"""Live progress of a bench run, read from the run folder (never from the workers).

One overall bar counts optimizer steps over every run of the grid, with the ETA and
what was spent so far; below it, one line per run in progress (at most about
`--workers` of them), so the display stays a few lines high for any grid size. A
watcher thread refreshes it from the checkpoints, so it moves at every worker count:
with `--workers 1` the runs execute in the calling thread while the watcher reads.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from undertow.bench.runner.checkpoint import read_json
from undertow.bench.runner.config import RunConfig, RunSpec
from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.worker import CHECKPOINT, run_dir


def run_status(out: Path, spec: RunSpec) -> dict[str, Any]:
    """The run's checkpoint, or `{"status": "pending", "step": 0}` if it has none yet."""
    path = run_dir(out, spec.run_id) / CHECKPOINT
    if not path.is_file():
        return {"status": "pending", "step": 0}
    try:
        return read_json(path)
    except (BenchError, OSError):
        return {"status": "pending", "step": 0}


class LiveProgress:
    """The overall bar plus the active runs; `start()`/`stop()` run the watcher thread."""

    def __init__(self, out: Path, config: RunConfig, console: Console, interval: float = 0.4) -> None:
        self.out, self.config, self.interval = out, config, interval
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
            console=console, transient=False)
        total = len(config.runs) * config.steps
        self.overall = self.progress.add_task("all runs (steps)", total=max(total, 1), info="")
        self.active: dict[str, Any] = {}
        self._final: dict[str, dict[str, Any]] = {}  # finished runs: read once, never again
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="undertow-progress", daemon=True)

    def __enter__(self) -> LiveProgress:
        self.progress.__enter__()
        self.refresh()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.refresh()
        self.progress.__exit__(None, None, None)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.refresh()

    def refresh(self) -> None:
        """Re-read every checkpoint and redraw."""
        done_steps = calls = 0
        cost = 0.0
        finished = failed = 0
        for spec in self.config.runs:
            st = self._final.get(spec.run_id) or run_status(self.out, spec)
            if st.get("status") == "done" and spec.run_id not in self._final:
                self._final[spec.run_id] = {"status": "done", "step": st.get("step", 0),
                                            "records": (st.get("records") or [])[-1:]}
            status, step = st.get("status"), int(st.get("step", 0))
            records = st.get("records") or []
            if records:
                calls += int(records[-1].get("calls", 0))
                cost += float(records[-1].get("cost_usd", 0.0))
            # a run stopped early by its budget counts as all its steps
            done_steps += self.config.steps if status == "done" else step
            finished += status == "done"
            failed += status == "failed"
            self._show_active(spec.run_id, status, step, records)
        info = f"runs {finished}/{len(self.config.runs)}"
        if failed:
            info += f" [red]{failed} failed[/red]"
        info += f"  calls {calls}  ${cost:.4f}"
        self.progress.update(self.overall, completed=done_steps, info=info)

    def _show_active(self, run_id: str, status: Any, step: int, records: list[dict[str, Any]]) -> None:
        if status == "running":
            info = ""
            if records:
                last = records[-1]
                info = f"val {last['score']:.3f}  calls {last['calls']}"
            if run_id not in self.active:
                self.active[run_id] = self.progress.add_task(f"  {run_id}", total=self.config.steps, info=info)
            self.progress.update(self.active[run_id], completed=step, info=info)
        elif run_id in self.active:
            self.progress.remove_task(self.active.pop(run_id))
