"""The library optimizers in the bench: listed, runnable, and their libraries resume.

Grid: boolean_expressions x (experience, bootstrap) and stream x (exprag, remem), llm=sim.
A run killed with SIGKILL in the middle of a step (a callback kills the process on an
LLM call) resumes, with the library its last checkpoint names, to the same result rows
and optimizer states as an unkilled run; 1 and 2 workers give the same rows.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner
from undertow.bench.runner import collect, make_config, resume, start
from undertow.bench.runner.checkpoint import read_json
from undertow.bench.runner.executor import InlineExecutor, make_executor

from .conftest import SMALL, kill_script

GRID = {"tasks": ["boolean_expressions", "stream"], "optimizers": ["experience", "bootstrap", "exprag", "remem"],
        "seeds": 1, "budget": "calls=80", "steps": 3, **SMALL}
STREAM_OPTS = ("exprag", "remem")


def config():
    c = make_config(**GRID)
    runs = [r for r in c.runs if (r.task == "stream") == (r.optimizer in STREAM_OPTS)]
    return c.model_copy(update={"runs": runs})


def killer(victim: str, at: int) -> str:
    """The sweep of `config()` in a child process, SIGKILLed at call `at` of step 2 of `victim`."""
    return kill_script(victim, 2, at, f"""
        config = make_config(**{GRID!r})
        config = config.model_copy(update={{"runs": [r for r in config.runs
                                                    if (r.task == "stream") == (r.optimizer in {STREAM_OPTS!r})]}})
    """)


def _rows(out: Path) -> list[dict]:
    return [r.model_dump(exclude={"wall_s"}) for r in collect(out)]


def _states(out: Path) -> dict[str, dict]:
    return {p.parent.name: read_json(p)["optimizer"] for p in sorted((out / "runs").glob("*/checkpoint.json"))}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "w1"
    from rich.console import Console
    import io

    outcome = start(config(), out, console=Console(file=io.StringIO()), executor=InlineExecutor())
    assert outcome.failed == {}
    return out


def test_bench_list_shows_the_stream_task_and_the_library_optimizers():
    from undertow.bench.bench_cli import bench_app

    got = CliRunner().invoke(bench_app, ["list"], terminal_width=200)
    assert got.exit_code == 0, got.output
    for name in ("stream", "experience", "bootstrap", "exprag", "remem"):
        assert f"│ {name} " in got.output, name


def test_runs_leave_their_library_in_the_run_folder(clean):
    rows = _rows(clean)
    assert {(r["task"], r["optimizer"]) for r in rows if r["split"] == "test"} == {
        ("boolean_expressions", "experience"), ("boolean_expressions", "bootstrap"),
        ("stream", "exprag"), ("stream", "remem")}
    assert all(r["llm"] == "sim" for r in rows)
    for run in config().runs:
        folder = clean / "runs" / run.run_id
        lib = folder / ("memory" if run.task == "stream" else "experience")
        state = read_json(folder / "checkpoint.json")
        assert (lib / "library.db").is_file()
        assert (lib / "snapshots" / state["optimizer"]["extra"]["snapshot"]).is_file()
    stream = json.loads((clean / "runs" / "stream__exprag__s0" / "stream.json").read_text())["results"]
    assert len(stream) == 60 and stream[-1]["memory"] == {"trajectory": 60}


def test_two_workers_give_the_same_rows(clean, tmp_path, quiet):
    two = start(config().model_copy(update={"workers": 2}), tmp_path / "w2", console=quiet, executor=make_executor(2))
    assert two.failed == {}
    assert _rows(tmp_path / "w2") == _rows(clean)
    assert _states(tmp_path / "w2") == _states(clean)


@pytest.mark.parametrize("victim, at", [("boolean_expressions__experience__s0", 3),
                                        ("boolean_expressions__bootstrap__s0", 2),
                                        ("stream__remem__s0", 9)])
def test_killed_mid_step_resumes_to_the_same_rows(clean, tmp_path, quiet, victim, at):
    killed = tmp_path / "killed"
    proc = subprocess.run([sys.executable, "-c", killer(victim, at), str(killed)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == -9, proc.stderr  # it really died mid-step
    state = json.loads((killed / "runs" / victim / "checkpoint.json").read_text())
    assert state["status"] == "running" and state["step"] == 1
    again = resume(killed, console=quiet, executor=InlineExecutor())
    assert again.failed == {}
    assert _rows(killed) == _rows(clean)
    assert _states(killed) == _states(clean)
