"""ToolChain* end to end with the simulated LLM on the tool world, against ReAct at the same
per-question call budget, and the bench entry (`toolworld_search`)."""

from __future__ import annotations

import json

import pytest
from undertow.agents.plan_memory import PlanMemory
from undertow.agents.tool_baselines import react_solve, tree_solve
from undertow.agents.toolchain import ToolChainAgent
from undertow.bench.tasks.toolworld import make_world
from undertow.engine.llm import make_llm

BUDGET = 24


def _world(docs: str):
    w = make_world(0)
    return w.with_docs(w.true_docs()) if docs == "true" else w


@pytest.mark.parametrize("docs", ["true", "shipped"])
def test_toolchain_against_react_at_the_same_budget(docs: str) -> None:
    world = _world(docs)
    tasks = world.tasks(seed=3, n=10)
    qs = [t.question for t in tasks]
    llm = make_llm("sim", seed=0, cache_dir=False)
    chain = ToolChainAgent(llm, world, k=3, budget=BUDGET).solve_many(qs)
    react = react_solve(llm, world, qs, budget=BUDGET)
    s_chain = sum(world.check(t, r.answer) for t, r in zip(tasks, chain)) / len(tasks)
    s_react = sum(world.check(t, r.answer) for t, r in zip(tasks, react)) / len(tasks)
    assert all(r.calls <= BUDGET for r in chain) and all(r.calls <= BUDGET for r in react)
    # measured (docs/toolchain.md): A* stops at its first popped answer, so it spends fewer
    # calls than ReAct's vote; its success is within 0.2 of ReAct's here, not above it
    assert sum(r.calls for r in chain) < sum(r.calls for r in react)
    assert s_chain >= s_react - 0.2, (s_chain, s_react)
    if docs == "true":
        assert s_chain >= 0.7


def test_same_seed_same_results() -> None:
    world = _world("shipped")
    qs = [t.question for t in world.tasks(seed=4, n=5)]
    runs = [ToolChainAgent(make_llm("sim", seed=1, cache_dir=False), world, budget=BUDGET).solve_many(qs)
            for _ in range(2)]
    assert [(r.answer, r.calls, r.plan) for r in runs[0]] == [(r.answer, r.calls, r.plan) for r in runs[1]]
    # batched or one at a time: the same answers
    single = [ToolChainAgent(make_llm("sim", seed=1, cache_dir=False), world,
                             budget=BUDGET).solve_many([q])[0] for q in qs]
    assert [r.answer for r in single] == [r.answer for r in runs[0]]


def test_memory_learns_from_solved_training_questions(tmp_path) -> None:
    world = _world("true")
    llm = make_llm("sim", seed=0, cache_dir=False)
    memory = PlanMemory(tmp_path / "plans.sqlite", scope="w0")
    agent = ToolChainAgent(llm, world, budget=BUDGET, memory=memory)
    train = world.tasks(seed=1, n=10)
    kept = sum(agent.learn(r, world.check(t, r.answer) >= 1.0)
               for t, r in zip(train, agent.solve_many([t.question for t in train])))
    assert kept >= 5 and len(memory) >= 1
    # a remembered plan makes its first call cheaper for a new question of the same kind
    test = world.tasks(seed=2, n=5)
    res = agent.solve_many([t.question for t in test])
    solved = [r for t, r in zip(test, res) if world.check(t, r.answer) >= 1.0]
    assert solved and any(memory.bonus(r.question, r.plan.steps[:1]) > 0 for r in solved)


def test_tree_agent_baseline_runs_within_budget() -> None:
    world = _world("true")
    tasks = world.tasks(seed=3, n=4)
    out = tree_solve(make_llm("sim", seed=0, cache_dir=False), world, [t.question for t in tasks],
                     budget=BUDGET)
    assert all(0 < a.calls <= BUDGET for a in out)


def test_bench_run_smoke(tmp_path) -> None:
    from typer.testing import CliRunner
    from undertow.bench.bench_cli import bench_app as app

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "-t", "toolworld_search", "-o", "toolchain,react_tools",
                                      "--llm", "sim", "--steps", "1", "--n-train", "2", "--n-val", "2",
                                      "--n-test", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    tests = [r for r in records if r.get("split") == "test"]
    assert {r["optimizer"] for r in tests} == {"toolchain", "react_tools"}
    assert all(0.0 <= r["score"] <= 1.0 for r in tests)


def test_bench_refuses_other_tasks_and_agents() -> None:
    from undertow.bench.registry import get_optimizer_entry, get_task_entry, pairs
    from undertow.bench.runner.errors import BenchError

    with pytest.raises(BenchError):
        pairs(["navigation"], ["toolchain"])
    with pytest.raises(BenchError):  # the task's agent is chosen by its own optimizers only
        pairs(["toolworld_search"], ["none", "optoprime"])
    assert pairs(["toolworld_search"], ["toolchain", "none"]) == [("toolworld_search", "toolchain")]
    assert get_task_entry("toolworld_search").kinds <= get_optimizer_entry("toolchain").kinds
