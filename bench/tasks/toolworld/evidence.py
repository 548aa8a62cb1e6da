"""Evidence for DRAFT on the tool world: flaws found, convergence, ReAct success before/after.

    python -m undertow.bench.tasks.toolworld.evidence --seeds 5 --budgets 12,24,36,48,72 \
        --n-test 50 --json docs/img/toolworld.json --plot docs/img/toolworld.png

For each seed and each LLM-call budget, DRAFT refines the shipped docs (llm=sim, the
simulator seeded by the run seed); the refined docs are scored by how many planted
flaws they state the truth of, and a ReAct agent (`DocReActAgent`) is scored on the
seed's test tasks with the shipped docs, the refined docs and the true docs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from undertow.agents.doc_react import DocReActAgent
from undertow.bench.tasks.toolworld.world import ToolWorld, make_world
from undertow.engine import Parameter, no_trace
from undertow.engine.llm import make_llm
from undertow.optimizers.draft import DRAFT
from undertow.optimizers.experience.store import ExperienceStore


def success(world: ToolWorld, docs: dict[str, str], llm: Any, seed: int, n: int) -> float:
    """ReAct task success with `docs` on `n` test tasks of `seed`."""
    agent = DocReActAgent(llm, world.callables(), docs)
    tasks = world.tasks(3_000 + seed, n)
    with no_trace():
        return sum(world.check(t, str(agent(t.question))) for t in tasks) / max(1, n)


def run_seed(seed: int, budget: int, n_test: int, store: ExperienceStore | None = None) -> dict[str, Any]:
    """DRAFT at one call budget on world `seed`; what it found and what the agent scores."""
    world = make_world(seed)
    llm = make_llm("sim", seed=seed, cache_dir=False)
    params = {t: Parameter(d, name=f"doc_{t}") for t, d in world.docs().items()}
    draft = DRAFT(params, llm, world.call, probes_per_round=6, max_rounds=8, patience=2,
                  max_calls=budget, store=store, run=f"evidence-s{seed}-b{budget}")
    draft.fit()
    docs = {t: str(p.value) for t, p in params.items()}
    summary = draft.summary()
    agent_llm = make_llm("sim", seed=seed, cache_dir=False)
    return {
        "seed": seed, "budget": budget, "calls": summary["calls"],
        "flaws_found": world.flaws_found(docs), "flaws_total": len(world.flaws),
        "rounds": {t: s["rounds"] for t, s in summary["tools"].items()},
        "converged": {t: s["converged"] for t, s in summary["tools"].items()},
        "versions": {t: s["versions"] for t, s in summary["tools"].items()},
        "success_shipped": success(world, world.docs(), agent_llm, seed, n_test),
        "success_draft": success(world, docs, agent_llm, seed, n_test),
        "success_true": success(world, world.true_docs(), agent_llm, seed, n_test),
    }


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Left: ReAct success by docs at the largest budget; right: flaws found vs budget."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    budgets = sorted({r["budget"] for r in rows})
    top = [r for r in rows if r["budget"] == budgets[-1]]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    labels = ["shipped docs", "DRAFT docs", "true docs"]
    keys = ["success_shipped", "success_draft", "success_true"]
    means = [statistics.mean(r[k] for r in top) for k in keys]
    ax1.bar(labels, means, color=["#c44", "#48c", "#6a6"])
    for i, k in enumerate(keys):
        ax1.scatter([i] * len(top), [r[k] for r in top], color="k", s=12, zorder=3)
    ax1.set_ylim(0, 1.05)
    ax1.set_ylabel("ReAct task success (test)")
    ax1.set_title(f"{len(top)} seeds, DRAFT budget {budgets[-1]} calls (llm=sim)")
    total = top[0]["flaws_total"]
    for seed in sorted({r["seed"] for r in rows}):
        pts = [(r["budget"], len(r["flaws_found"])) for r in rows if r["seed"] == seed]
        ax2.plot(*zip(*sorted(pts)), color="#48c", alpha=0.35, marker="o", ms=3)
    ax2.plot(budgets, [statistics.mean(len(r["flaws_found"]) for r in rows if r["budget"] == b)
                       for b in budgets], color="#048", lw=2.5, label="mean over seeds")
    ax2.axhline(total, color="#6a6", ls="--", label=f"planted flaws ({total})")
    ax2.set_xlabel("DRAFT LLM calls (budget)")
    ax2.set_ylabel("planted flaws found")
    ax2.set_title("flaws found vs budget (llm=sim)")
    ax2.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budgets", default="12,24,36,48,72", help="comma-separated DRAFT call budgets")
    ap.add_argument("--n-test", type=int, default=50)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--plot", type=Path, default=None)
    args = ap.parse_args(argv)
    try:
        budgets = [int(b) for b in args.budgets.split(",") if b.strip()]
    except ValueError:
        ap.error(f"--budgets must be comma-separated integers, got {args.budgets!r}")
    rows = [run_seed(s, b, args.n_test) for s in range(args.seeds) for b in budgets]
    for r in rows:
        print(json.dumps({k: r[k] for k in ("seed", "budget", "calls", "success_shipped", "success_draft",
                                             "success_true")} | {"found": len(r["flaws_found"]),
                                                                 "rounds": r["rounds"]}))
    if args.json:
        _atomic_write(args.json, json.dumps({"llm": "sim", "rows": rows}, indent=1))
    if args.plot:
        plot(rows, args.plot)
    return rows


if __name__ == "__main__":
    main()
