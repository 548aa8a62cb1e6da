"""Evidence for ToolChain*: success rate and LLM calls against ReAct and the tree agent at
matched per-question call budgets, over seeds, on the tool world (docs/toolchain.md).

    python -m undertow.bench.toolchain_evidence --seeds 5 --budgets 12,24,36 \\
        --out docs/img/toolchain.json --plot docs/img/toolchain.png

Per seed s: the world `make_world(s)`; test questions `world.tasks(10 s + 3, n_test)`;
ToolChain* first learns its plan memory on `world.tasks(10 s + 1, n_train)` (checked by
the world's checker, as training labels; those calls are reported apart), then every
agent answers the test questions with at most `budget` LLM calls each. Docs: the
shipped (flawed) ones, and the true ones. The LLM is the simulator (llm=sim).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

AGENTS = ("toolchain", "toolchain_nomem", "toolchain_noh", "react", "tree")


def _toolchain(llm: Any, world: Any, budget: int, memory: Any, use_estimate: bool = True) -> Any:
    from undertow.agents.toolchain import ToolChainAgent
    from undertow.optimizers.search.toolchain import Costs

    return ToolChainAgent(llm, world, k=3, budget=budget, memory=memory,
                          costs=Costs(use_estimate=use_estimate))


def run_cell(seed: int, budget: int, docs: str, agents: Sequence[str], n_train: int,
             n_test: int) -> list[dict[str, Any]]:
    """Rows (one per agent) for one seed, budget and docs setting."""
    from undertow.agents.plan_memory import PlanMemory
    from undertow.agents.tool_baselines import react_solve, tree_solve
    from undertow.bench.tasks.toolworld import make_world
    from undertow.engine.llm import make_llm

    world = make_world(seed)
    if docs == "true":
        world = world.with_docs(world.true_docs())
    test = world.tasks(seed * 10 + 3, n_test)
    questions = [t.question for t in test]
    llm = make_llm("sim", seed=seed, cache_dir=False)
    rows = []
    for name in agents:
        started = time.perf_counter()
        train_calls = 0
        if name.startswith("toolchain"):
            memory = None
            if name == "toolchain":
                folder = tempfile.mkdtemp(prefix="toolchain-evidence-")
                memory = PlanMemory(os.path.join(folder, "plans.sqlite"), scope=f"seed{seed}")
                learner = _toolchain(llm, world, budget, memory)
                train = world.tasks(seed * 10 + 1, n_train)
                for task, result in zip(train, learner.solve_many([t.question for t in train])):
                    train_calls += result.calls
                    learner.learn(result, world.check(task, result.answer) >= 1.0)
            agent = _toolchain(llm, world, budget, memory, use_estimate=name != "toolchain_noh")
            results = agent.solve_many(questions)
            answers = [(r.answer, r.calls) for r in results]
        else:
            solve: Callable[..., Any] = react_solve if name == "react" else tree_solve
            answers = [(a.answer, a.calls) for a in solve(llm, world, questions, budget=budget)]
        scores = [world.check(t, a) for t, (a, _) in zip(test, answers)]
        rows.append({"seed": seed, "budget": budget, "docs": docs, "agent": name, "llm": "sim",
                     "success": sum(scores) / len(scores),
                     "calls": sum(c for _, c in answers) / len(answers),
                     "max_calls": max(c for _, c in answers), "train_calls": train_calls,
                     "n_test": len(test), "seconds": round(time.perf_counter() - started, 2)})
    return rows


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and sd of success and calls per (docs, budget, agent) over seeds."""
    import numpy as np

    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["docs"], r["budget"], r["agent"]), []).append(r)
    out = []
    for (docs, budget, agent), rs in sorted(groups.items()):
        s = np.array([r["success"] for r in rs])
        c = np.array([r["calls"] for r in rs])
        out.append({"docs": docs, "budget": budget, "agent": agent, "seeds": len(rs),
                    "success_mean": round(float(s.mean()), 4), "success_sd": round(float(s.std()), 4),
                    "calls_mean": round(float(c.mean()), 2),
                    "train_calls_mean": round(float(np.mean([r["train_calls"] for r in rs])), 1),
                    "llm": "sim"})
    return out


def plot(summary: list[dict[str, Any]], path: Path) -> None:
    """Success against calls used, one panel per docs setting, one line per agent."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    docs_settings = sorted({r["docs"] for r in summary})
    fig, axes = plt.subplots(1, len(docs_settings), figsize=(5.5 * len(docs_settings), 4), squeeze=False)
    for ax, docs in zip(axes[0], docs_settings):
        for agent in AGENTS:
            rs = sorted((r for r in summary if r["docs"] == docs and r["agent"] == agent),
                        key=lambda r: r["budget"])
            if not rs:
                continue
            ax.errorbar([r["calls_mean"] for r in rs], [r["success_mean"] for r in rs],
                        yerr=[r["success_sd"] for r in rs], marker="o", capsize=3, label=agent)
            for r in rs:
                ax.annotate(str(r["budget"]), (r["calls_mean"], r["success_mean"]), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
        ax.set_title(f"tool world, {docs} docs (llm=sim, {summary[0]['seeds']} seeds)")
        ax.set_xlabel("LLM calls per question (used; labels: budget)")
        ax.set_ylabel("success rate")
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budgets", default="12,24,36")
    ap.add_argument("--docs", default="shipped,true")
    ap.add_argument("--agents", default=",".join(AGENTS))
    ap.add_argument("--n-train", type=int, default=20)
    ap.add_argument("--n-test", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path("toolchain_evidence.json"))
    ap.add_argument("--plot", type=Path, default=None)
    ap.add_argument("--merge", type=Path, nargs="*", default=None,
                    help="instead of running: merge the printed row lines of earlier runs "
                         "(their stdout logs), then summarize and plot")
    args = ap.parse_args(argv)
    if args.merge:
        rows = merge_logs(args.merge)
        _write(rows, args, argv)
        return
    agents = [a for a in args.agents.split(",") if a]
    bad = sorted(set(agents) - set(AGENTS))
    if bad:
        raise SystemExit(f"unknown agents {bad}; choose from {', '.join(AGENTS)}")
    rows = []
    for docs in args.docs.split(","):
        for budget in (int(b) for b in args.budgets.split(",")):
            for seed in range(args.seeds):
                rows.extend(run_cell(seed, budget, docs, agents, args.n_train, args.n_test))
                print(json.dumps(rows[-len(agents):]), flush=True)
    _write(rows, args, argv)


def merge_logs(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The rows printed by earlier runs (one JSON list per line), one per (docs, budget, seed,
    agent): a later line replaces an earlier one."""
    keyed: dict[tuple[Any, ...], dict[str, Any]] = {}
    for path in paths:
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line.startswith("["):
                continue
            for r in json.loads(line):
                keyed[(r["docs"], r["budget"], r["seed"], r["agent"])] = r
    return [keyed[k] for k in sorted(keyed)]


def _write(rows: list[dict[str, Any]], args: argparse.Namespace, argv: Sequence[str] | None) -> None:
    summary = summarize(rows)
    data = {"llm": "sim", "command": "python -m undertow.bench.toolchain_evidence "
            + " ".join(argv if argv is not None else __import__("sys").argv[1:]),
            "summary": summary, "rows": rows}
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, args.out)
    if args.plot:
        plot(summary, args.plot)
    for r in summary:
        print(json.dumps(r))
    print(table(summary))


def table(summary: list[dict[str, Any]]) -> str:
    """A Markdown table: success (mean ± sd over seeds) and calls used, per docs and budget."""
    lines = ["| docs | budget | agent | success | calls/question | training calls |",
             "|---|---|---|---|---|---|"]
    for r in summary:
        lines.append(f"| {r['docs']} | {r['budget']} | {r['agent']} | {r['success_mean']:.2f} ± "
                     f"{r['success_sd']:.2f} | {r['calls_mean']:.1f} | {r['train_calls_mean']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
