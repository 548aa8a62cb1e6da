"""Evidence for AutoLibra on the bundled `autolibra` task (llm=sim): recovery of the planted
failure modes, coverage per iteration, and an optimizer trained on induced metrics vs the
same optimizer on the scalar score only, at matched LLM calls.

    python -m undertow.bench.metrics_evidence --seeds 5 --amortize-induction --out docs/img
    python -m undertow.bench.metrics_evidence --seeds 5 --out docs/img

Per seed: the starting agent answers `--n-induce` training questions; the simulated writer
gives free-text feedback; `induce` makes metrics (sim seeded by the seed). The metrics are
then rated on `--n-check` fresh validation runs, and each metric is matched to the planted
mode whose runs its negative verdicts best reproduce (F1 >= 0.5): precision = matched
metrics / metrics, recall = modes matched / 5.

Optimization: OptoPrime trains the agent's system prompt on minibatches of 4 training
questions until `--calls` LLM calls are spent, with either (a) `MetricFeedback` (the judge's
verdicts and the metrics' definitions as text, the rate as score) or (b) the scalar score
alone ("Score: 0.50"). Arm (a) pays for the induction and every judge call out of the same
`--calls`; both arms stop when less than one step's worst case is left. Test score: mean
trajectory score on `--n-test` test questions (unbudgeted scoring client).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from pathlib import Path
from typing import Any

from undertow.bench.tasks.autolibra import world, writer
from undertow.bench.tasks.autolibra.agent import INITIAL_PROMPT, CatalogAgent
from undertow.bench.tasks.autolibra.run import collect
from undertow.engine import Feedback, backward
from undertow.engine.files import atomic_write_text
from undertow.engine.llm import make_llm
from undertow.optimizers.metrics import MetricFeedback, MetricSet, evaluate, induce

BATCH = 4
STEP_WORST = BATCH * 5 + BATCH + 2  # forward calls (4 steps + final), judge calls, optimizer


def recovery(metric_set: MetricSet, check: list[Any], llm: Any) -> dict[str, Any]:
    """Precision / recall of the metrics against the planted modes on `check` runs [(traj, question)]."""
    judgements = evaluate([t for t, _ in check], metric_set.metrics, llm)
    bad = {m.name: {j.trajectory for j in judgements if j.metric == m.name and j.rating == "negative"}
           for m in metric_set.metrics}
    truth = {k: {t.id for t, q in check if k in writer.modes_of(t, q)} for k in writer.MODES}
    matches: dict[str, tuple[str, float]] = {}
    for name, flagged in bad.items():
        best = ("", 0.0)
        for mode, present in truth.items():
            tp = len(flagged & present)
            f1 = 2 * tp / (len(flagged) + len(present)) if flagged or present else 0.0
            if f1 > best[1]:
                best = (mode, f1)
        matches[name] = best
    matched = {n: m for n, (m, f) in matches.items() if f >= 0.5}
    present_modes = [k for k in writer.MODES if truth[k]]
    return {"precision": len(matched) / len(bad) if bad else 0.0,
            "recall": len({m for m in matched.values()}) / len(present_modes) if present_modes else 0.0,
            "matches": {n: {"mode": m, "f1": round(f, 3)} for n, (m, f) in matches.items()}}


def _runs(llm: Any, items: list[Any], prompt: str, tag: str, seed: int, phrasings: str = "standard") -> list[Any]:
    agent = CatalogAgent(llm, prompt)
    return [(t, ex.input) for (_, t), ex in zip(collect(agent, items, tag, seed, phrasings), items)]


def optimize(arm: str, seed: int, calls: int, metrics: list[Any] | None, offset: int,
             n_test: int, phrasings: str = "standard") -> dict[str, Any]:
    """One arm on one seed at one call budget (`offset`: calls already spent, e.g. on
    induction): test score before/after, steps and calls spent."""
    from undertow.optimizers.opto import OptoPrime

    train, _, test = world.make_splits(seed, 40, 40, n_test)
    llm = make_llm("sim", cache_dir=False, seed=seed)
    scorer = make_llm("sim", cache_dir=False, seed=seed)
    agent = CatalogAgent(llm, INITIAL_PROMPT)
    opt = OptoPrime([agent.prompt], llm, memory_size=3)
    judge = MetricFeedback(metrics, llm) if arm == "metrics" and metrics else None
    rng = random.Random(f"autolibra-evidence/{seed}")
    steps = 0
    while calls - offset - llm.accounting.spent().calls >= STEP_WORST:
        batch = rng.sample(train, BATCH)
        runs = collect(agent, batch, f"step{steps}", seed, phrasings)
        if judge is not None:
            fbs = [judge(t) for _, t in runs]
        else:
            fbs = [Feedback(f"Score: {t.score:.2f}", t.score) for _, t in runs]
        backward([n for n, _ in runs], fbs, "subgraph")
        opt.step()
        opt.zero_feedback()
        steps += 1
    final = _runs(scorer, test, agent.prompt.value, "test", seed)
    start = _runs(scorer, test, INITIAL_PROMPT, "test0", seed)
    mean = lambda rs: statistics.fmean(t.score for t, _ in rs)  # noqa: E731
    return {"arm": arm, "seed": seed, "budget": calls, "steps": steps,
            "calls": offset + llm.accounting.spent().calls,
            "test_start": round(mean(start), 4), "test_end": round(mean(final), 4),
            "prompt": agent.prompt.value}


def _plot_budgets(summary: dict[str, Any], budgets: list[int], path: Path, amortized: bool) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from undertow.engine.files import atomic_write_bytes

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for arm, label in (("metrics", "OptoPrime + induced-metric feedback"), ("scalar", "OptoPrime + scalar score only")):
        means, sds = [], []
        for b in budgets:
            ends = [r["test_end"] for r in summary["optimize"] if r["arm"] == arm and r["budget"] == b]
            means.append(statistics.fmean(ends) if ends else float("nan"))
            sds.append(statistics.pstdev(ends) if len(ends) > 1 else 0.0)
        ax.errorbar(budgets, means, yerr=sds, marker="o", capsize=3, label=label)
    ax.set_xlabel("LLM calls per run" + (" (induction not charged)" if amortized else " (induction charged)"))
    ax.set_ylabel("test trajectory score")
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("autolibra task, mean ± sd over seeds (llm=sim)", fontsize=10)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--n-induce", type=int, default=40)
    ap.add_argument("--n-check", type=int, default=40)
    ap.add_argument("--n-test", type=int, default=80)
    ap.add_argument("--calls", type=int, nargs="+", default=[150, 250, 400],
                    help="LLM-call budgets per optimization run")
    ap.add_argument("--amortize-induction", action="store_true",
                    help="do not charge the induction's calls to the metrics arm")
    ap.add_argument("--out", default="docs/img", help="folder of the PNG and the JSON summary")
    ap.add_argument("--skip-optimize", action="store_true")
    ap.add_argument("--phrasings", choices=sorted(writer.PHRASINGS), default="standard",
                    help="the writer's complaints: 'heldout' words them outside the sim's concept "
                         "lexicon (how much it flatters recovery); its files get a _heldout suffix")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"llm": "sim", "tag": "llm=sim", "args": vars(args), "induction": [], "optimize": []}
    series = {}
    induced: dict[int, MetricSet] = {}
    for seed in range(args.seeds):
        llm = make_llm("sim", cache_dir=False, seed=seed)
        train, val, _ = world.make_splits(seed, args.n_induce, args.n_check, 1)
        runs = _runs(llm, train, INITIAL_PROMPT, "induce", seed, args.phrasings)
        mset = induce([t for t, _ in runs], llm, llm_name="sim", seed=seed)
        rec = recovery(mset, _runs(llm, val, INITIAL_PROMPT, "check", seed, args.phrasings), llm)
        series[f"seed {seed}"] = mset.iterations
        induced[seed] = mset
        summary["induction"].append({"seed": seed, "metrics": [m.name for m in mset.metrics],
                                     "coverage": [round(i.coverage, 3) for i in mset.iterations],
                                     "redundancy": [round(i.redundancy, 3) for i in mset.iterations],
                                     "calls": mset.calls, **rec})
        print(json.dumps(summary["induction"][-1]))
    if not args.skip_optimize:
        for seed in range(args.seeds):
            for budget, arm in [(b, a) for b in args.calls for a in ("metrics", "scalar")]:
                mset = induced[seed]
                offset = 0 if arm == "scalar" or args.amortize_induction else mset.calls
                r = optimize(arm, seed, budget, mset.metrics, offset, args.n_test, args.phrasings)
                summary["optimize"].append(r)
                print(json.dumps({k: v for k, v in r.items() if k != "prompt"}))
    from undertow.bench.metrics_plot import plot_coverage

    suffix = "amortized" if args.amortize_induction else "charged"
    tail = "" if args.phrasings == "standard" else f"_{args.phrasings}"
    suffix += tail
    if not args.skip_optimize:
        _plot_budgets(summary, args.calls, out / f"autolibra_optimize_{suffix}.png", args.amortize_induction)
    plot_coverage(series, out / f"autolibra_coverage{tail}.png",
                  f"AutoLibra coverage per iteration, {args.seeds} seeds (llm=sim)")
    ind = summary["induction"]
    agg: dict[str, Any] = {"precision": statistics.fmean(r["precision"] for r in ind),
                           "recall": statistics.fmean(r["recall"] for r in ind)}
    for budget in args.calls:
        for arm in ("metrics", "scalar"):
            rows = [r for r in summary["optimize"] if r["arm"] == arm and r["budget"] == budget]
            if rows:
                ends = [r["test_end"] for r in rows]
                agg[f"{arm}@{budget}"] = {"test_end_mean": round(statistics.fmean(ends), 4),
                                          "test_end_sd": round(statistics.pstdev(ends), 4),
                                          "test_start_mean": round(statistics.fmean(r["test_start"] for r in rows), 4),
                                          "calls_mean": statistics.fmean(r["calls"] for r in rows),
                                          "steps_mean": statistics.fmean(r["steps"] for r in rows)}
    summary["aggregate"] = agg
    atomic_write_text(out / f"autolibra_evidence_{suffix}.json", json.dumps(summary, indent=1) + "\n")
    print(json.dumps(agg, indent=1))
    return summary


if __name__ == "__main__":
    main()
