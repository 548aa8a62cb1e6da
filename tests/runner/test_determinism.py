"""The same grid gives the same result rows at 1 and 2 workers and after a kill + resume.

Grid: a reasoning task x (textgrad, optoprime, mcts) x 2 seeds, llm=sim, small budget.
The killed run is a real process killed with SIGKILL in the middle of a step (a
callback kills it on an LLM call), resumed here after unrelated nodes were made.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from undertow.bench.runner import collect, make_config, resume, start
from undertow.bench.runner.checkpoint import read_json
from undertow.bench.runner.executor import InlineExecutor, make_executor
from undertow.engine import Node

from .conftest import SMALL, kill_script

GRID = {"tasks": ["word_sorting"], "optimizers": ["textgrad", "optoprime", "mcts"], "seeds": 2,
        "budget": "calls=60", "steps": 3, **SMALL}
VICTIM = "word_sorting__textgrad__s1"

# Runs the grid at --workers 1 and SIGKILLs itself on the 3rd LLM call of step 2 of VICTIM.
KILLER = kill_script(VICTIM, 2, 3, f"config = make_config(**{GRID!r})")


def _rows(out: Path) -> list[dict]:
    return [r.model_dump(exclude={"wall_s"}) for r in collect(out)]


def _timeless(x):
    """`x` without the time measurements (`*_seconds`) that no two runs share."""
    if isinstance(x, dict):
        return {k: _timeless(v) for k, v in x.items() if not k.endswith("seconds")}
    if isinstance(x, list):
        return [_timeless(v) for v in x]
    return x


def _final_states(out: Path) -> dict[str, dict]:
    """Each run's optimizer state: parameters, every proposal, trees."""
    return {p.parent.name: _timeless(read_json(p)["optimizer"])
            for p in sorted((out / "runs").glob("*/checkpoint.json"))}


def test_workers_and_kill_resume_give_identical_rows(tmp_path, quiet):
    config = make_config(**GRID)
    one = start(config, tmp_path / "w1", console=quiet, executor=InlineExecutor())
    [Node(i) for i in range(7)]  # unrelated nodes: must not change anything below
    two = start(config.model_copy(update={"workers": 2}), tmp_path / "w2", console=quiet,
                executor=make_executor(2))
    assert one.failed == two.failed == {}
    rows = _rows(tmp_path / "w1")
    assert sum(r["split"] == "test" for r in rows) == 6 and len(rows) > 6 * 3  # 6 runs, several steps each
    assert {r["optimizer"] for r in rows} == {"textgrad", "optoprime", "mcts"}
    assert _rows(tmp_path / "w2") == rows
    assert _final_states(tmp_path / "w2") == _final_states(tmp_path / "w1")

    killed = tmp_path / "killed"
    proc = subprocess.run([sys.executable, "-c", KILLER, str(killed)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == -9, proc.stderr  # it really died mid-run
    victim = json.loads((killed / "runs" / VICTIM / "checkpoint.json").read_text())
    assert victim["status"] == "running" and victim["step"] == 1  # step 2 was half done
    assert not (killed / "results.jsonl").exists()
    [Node(i) for i in range(11)]
    again = resume(killed, console=quiet, executor=InlineExecutor())
    assert again.failed == {}
    assert _rows(killed) == rows
    assert _final_states(killed) == _final_states(tmp_path / "w1")
