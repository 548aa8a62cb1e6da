"""A real run killed with SIGKILL mid-way resumes to the same results as an unkilled one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from undertow.bench.runner import collect, resume, start
from undertow.bench.runner.checkpoint import read_json
from undertow.bench.runner.config import load_config
from undertow.bench.runner.executor import InlineExecutor

ARGS = ["--task", "word_sorting,numeric_dag", "--optimizer", "none,adam", "--seeds", "2", "--steps", "25",
        "--budget", "calls=60", "--n-train", "20", "--n-val", "30", "--n-test", "20", "--batch-size", "3",
        "--workers", "2"]


def _cli(out: Path) -> list[str]:
    return [sys.executable, "-m", "undertow.bench.runner", "run", *ARGS, "--out", str(out)]


def _comparable(records):
    """Everything but wall time, which no two runs share."""
    return [r.model_dump(exclude={"wall_s"}) for r in records]


def _steps(out: Path) -> list[int]:
    found = []
    for ck in (out / "runs").glob("*/checkpoint.json"):
        try:
            found.append(json.loads(ck.read_text())["step"])
        except (OSError, ValueError):
            continue
    return found


@pytest.mark.slow
def test_sigkill_then_resume_matches_an_unkilled_run(tmp_path, quiet):
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_cli(killed), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        steps = _steps(killed)
        if any(s >= 3 for s in steps):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed; make it longer"
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes, mid-step
    proc.wait()
    states = [read_json(p) for p in (killed / "runs").glob("*/checkpoint.json")]
    assert any(s["status"] != "done" for s in states) or len(states) < len(load_config(killed).runs)
    assert not (killed / "results.jsonl").exists()

    outcome = resume(killed, console=quiet, executor=InlineExecutor())
    assert outcome.failed == {}

    clean = tmp_path / "clean"
    done = subprocess.run(_cli(clean), check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    a, b = collect(killed), collect(clean)
    assert _comparable(a) == _comparable(b)
    # no step lost or done twice: each run has val steps 0..last once, then one test record
    for run in load_config(killed).runs:
        mine = [r for r in a if (r.task, r.optimizer, r.seed) == (run.task, run.optimizer, run.seed)]
        vals = [r.step for r in mine if r.split == "val"]
        assert vals == list(range(len(vals))) and [r.split for r in mine].count("test") == 1
        state = read_json(killed / "runs" / run.run_id / "checkpoint.json")
        assert state["optimizer"] == read_json(clean / "runs" / run.run_id / "checkpoint.json")["optimizer"]
    # the budget bound the LLM runs (60 calls / 3 per step), the step count the others
    stops = {(r.task, r.stopped) for r in a if r.split == "test"}
    assert stops == {("word_sorting", "budget"), ("numeric_dag", "steps")}


def test_resume_of_a_finished_run_changes_nothing(tmp_path, quiet):
    from undertow.bench.runner import make_config

    config = make_config(["word_sorting"], ["none"], seeds=1, steps=2, n_train=6, n_val=4, n_test=4)
    start(config, tmp_path / "r", console=quiet, executor=InlineExecutor())
    before = (tmp_path / "r" / "results.jsonl").read_text()
    outcome = resume(tmp_path / "r", console=quiet, executor=InlineExecutor())
    assert outcome.done == ["word_sorting__none__s0"]
    assert (tmp_path / "r" / "results.jsonl").read_text() == before


def test_resume_after_a_crash_inside_a_step(tmp_path, quiet, monkeypatch):
    """A process dying after the LLM calls of step 2 but before its checkpoint: the
    resumed run redoes step 2 (its calls come from the cache and are booked the same)
    and ends equal to a straight run."""
    from undertow.bench.runner import make_config
    from undertow.bench.runner.tasks import ReasoningRun

    config = make_config(["word_sorting"], ["none"], seeds=1, steps=3, n_train=6, n_val=4, n_test=4)
    straight = start(config, tmp_path / "a", console=quiet, executor=InlineExecutor()).records

    real = ReasoningRun.run_step

    def dies_in_step_two(self, optimizer, rng):
        real(self, optimizer, rng)
        if optimizer.steps == 2:
            raise SystemExit("killed")  # not an Exception: nothing is marked or saved

    monkeypatch.setattr(ReasoningRun, "run_step", dies_in_step_two)
    with pytest.raises(SystemExit):
        start(config, tmp_path / "b", console=quiet, executor=InlineExecutor())
    state = read_json(tmp_path / "b" / "runs" / "word_sorting__none__s0" / "checkpoint.json")
    assert (state["status"], state["step"]) == ("running", 1)
    monkeypatch.setattr(ReasoningRun, "run_step", real)
    resumed = resume(tmp_path / "b", console=quiet, executor=InlineExecutor())
    assert _comparable(resumed.records) == _comparable(straight)


def _descendants(pid: int) -> set[int]:
    """Every live process below `pid` (through /proc/<pid>/task/*/children)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            for k in kids:
                if k not in found:
                    found.add(k)
                    todo.append(k)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.slow
def test_sigkill_of_the_runner_alone_leaves_no_process_and_resume_matches(tmp_path, quiet):
    """Only the CLI process is killed (not its group): its workers must die with it, the
    lock must refuse a resume while any of them lives, and the resumed results must
    equal an uninterrupted run's."""
    from undertow.bench.runner import BenchError
    from undertow.bench.runner.runner import run_lock

    killed = tmp_path / "killed"
    proc = subprocess.Popen(_cli(killed), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if any(s >= 3 for s in _steps(killed)):
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed; make it longer"
    with pytest.raises(BenchError, match="in use by a live"):
        with run_lock(killed, wait_s=0):
            pass
    family = _descendants(proc.pid)
    assert len(family) >= 2  # the two bench worker processes (and any sandbox workers)
    os.kill(proc.pid, signal.SIGKILL)  # the runner alone, mid-step
    proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(p) for p in family):
        time.sleep(0.05)
    assert not [p for p in family if _alive(p)], "processes outlived the killed runner"
    steps_after = sorted(_steps(killed))
    time.sleep(0.5)
    assert sorted(_steps(killed)) == steps_after  # nothing advances a checkpoint any more

    outcome = resume(killed, console=quiet, executor=InlineExecutor())
    assert outcome.failed == {}
    clean = tmp_path / "clean"
    done = subprocess.run(_cli(clean), check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _comparable(collect(killed)) == _comparable(collect(clean))
