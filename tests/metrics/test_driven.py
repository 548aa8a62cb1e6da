"""`MetricDriven`: people's feedback until metrics are induced, the judge's after; resumable;
runs in the bench as optimizer `autolibra`."""

from __future__ import annotations

import json

from typer.testing import CliRunner
from undertow.bench.cli import app
from undertow.bench.tasks.autolibra.agent import CatalogAgent
from undertow.engine.llm import make_llm
from undertow.optimizers.metrics import MetricDriven
from undertow.optimizers.opto import OptoPrime


def _driven(llm):
    agent = CatalogAgent(llm)
    return MetricDriven(OptoPrime([agent.prompt], llm), llm, n_induce=12)


def test_switches_to_the_judge_and_resumes(sim_runs) -> None:
    llm = make_llm("sim", cache_dir=False, seed=0)
    opt = _driven(llm)
    trajs = [t for t, _ in sim_runs]
    first = opt.feedback_for(trajs[:12])
    assert [str(f) for f in first] == [t.feedback for t in trajs[:12]] and opt.metrics
    later = opt.feedback_for(trajs[12:14])
    assert all("induced metric" in f for f in later)
    restored = _driven(llm)
    restored.load_state_dict(json.loads(json.dumps(opt.state_dict())))
    assert restored.metrics == opt.metrics
    assert [str(f) for f in restored.feedback_for(trajs[12:14])] == [str(f) for f in later]


def test_bench_optimizer_autolibra(tmp_path) -> None:
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["bench", "run", "-t", "autolibra", "-o", "autolibra", "--llm", "sim",
                                   "--seeds", "1", "--steps", "5", "--n-train", "12", "--n-val", "4",
                                   "--n-test", "4", "--out", str(out)])
    assert res.exit_code == 0, res.output
    state = json.loads((out / "runs" / "autolibra__autolibra__s0" / "checkpoint.json").read_text())
    assert state["status"] == "done" and state["optimizer"]["extra"]["metrics"]


def test_registry_pairs_autolibra_only_with_run_loop_optimizers() -> None:
    import pytest

    from undertow.bench.registry import pairs
    from undertow.bench.runner.errors import BenchError

    assert pairs(["autolibra"], ["autolibra", "optoprime", "mcts"]) == [("autolibra", "autolibra"),
                                                                       ("autolibra", "optoprime")]
    with pytest.raises(BenchError):
        pairs(["boolean_expressions"], ["autolibra"])
