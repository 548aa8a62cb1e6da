"""Evidence for LLAMBO: best-so-far curves and a final table from a finished bench run.

    undertow bench run -t hpo:knn_iris,hpo:svm_breast_cancer,hpo:rf_wine,hpo:mlp_digits,traffic \\
        -o llambo,tpe,random --llm sim --seeds 5 --steps 25 --budget calls=1000 --out RUN
    python -m undertow.bench.hpo_evidence RUN --img docs/img/llambo.png

A run's val records are the score of each configuration it scored: the task's default
(step 0), then one new configuration per step, so after `--steps 25` every optimizer
has scored 26 configurations. The curve is the running best of those (mean and
spread over seeds); the table gives the best score after all evaluations and the
held-out test score of the configuration each run kept, mean ± sd over seeds, with
the LLM each optimizer used (`llm=none` for TPE and random search).
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from pathlib import Path

from undertow.bench.runner.records import StepRecord, load_jsonl

Curves = dict[tuple[str, str], list[list[float]]]


def best_so_far(records: list[StepRecord]) -> tuple[Curves, dict[tuple[str, str], list[float]], dict[str, str]]:
    """Per (task, optimizer): running-best val curves (one per seed), test scores, and LLM labels."""
    runs: dict[tuple[str, str, int], list[StepRecord]] = defaultdict(list)
    tests: dict[tuple[str, str], list[float]] = defaultdict(list)
    llms: dict[str, str] = {}
    for r in records:
        llms[r.optimizer] = r.llm
        if r.split == "val":
            runs[(r.task, r.optimizer, r.seed)].append(r)
        else:
            tests[(r.task, r.optimizer)].append(r.score)
    curves: Curves = defaultdict(list)
    for (task, opt, _), rows in sorted(runs.items()):
        best, curve = float("-inf"), []
        for r in sorted(rows, key=lambda r: r.step):
            best = max(best, r.score)
            curve.append(best)
        curves[(task, opt)].append(curve)
    return curves, tests, llms


def _mean_sd(xs: list[float]) -> str:
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.fmean(xs):.4f} ± {sd:.4f}"


def table(curves: Curves, tests: dict[tuple[str, str], list[float]], llms: dict[str, str]) -> str:
    """A markdown table: best CV score after all evaluations and test score, mean ± sd."""
    lines = ["| task | optimizer | llm | seeds | evaluations | best score | test score |",
             "|---|---|---|---|---|---|---|"]
    for (task, opt), cs in sorted(curves.items()):
        finals = [c[-1] for c in cs]
        n = min(len(c) for c in cs)
        lines.append(f"| {task} | {opt} | llm={llms[opt]} | {len(cs)} | {n} | {_mean_sd(finals)} | "
                     f"{_mean_sd(tests[(task, opt)])} |")
    return "\n".join(lines)


def plot(curves: Curves, llms: dict[str, str], path: Path) -> None:
    """One panel per task: mean running best against evaluations, band = ±1 sd over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({t for t, _ in curves})
    cols = min(3, len(tasks))
    rows = -(-len(tasks) // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes[len(tasks):]:
        ax.axis("off")
    for ax, task in zip(axes, tasks, strict=False):
        floor = float("inf")
        for (t, opt), cs in sorted(curves.items()):
            if t != task:
                continue
            n = min(len(c) for c in cs)
            xs = list(range(1, n + 1))
            mean = [statistics.fmean(c[i] for c in cs) for i in range(n)]
            sd = [statistics.pstdev([c[i] for c in cs]) for i in range(n)]
            line, = ax.plot(xs, mean, label=f"{opt} (llm={llms[opt]})")
            ax.fill_between(xs, [m - s for m, s in zip(mean, sd, strict=True)],
                            [m + s for m, s in zip(mean, sd, strict=True)], color=line.get_color(), alpha=0.15)
            floor = min(floor, mean[n // 5])
        top = max(max(statistics.fmean(c[-1] for c in cs) + statistics.pstdev([c[-1] for c in cs])
                      for (t, _), cs in curves.items() if t == task), floor + 1e-9)
        ax.set_ylim(floor - 0.05 * (top - floor), top + 0.05 * (top - floor))  # the first draws can be far off
        ax.set_title(task, fontsize=10)
        ax.set_xlabel("configurations evaluated")
        ax.grid(alpha=0.3)
        ax.set_ylabel("best score so far", fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    if len(axes) > len(tasks):
        axes[-1].legend(handles, labels, loc="center", fontsize=10,
                        title="CV accuracy (traffic: -delay per car, s)")
    else:
        axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"LLAMBO vs TPE vs random search, {len(next(iter(curves.values())))} seeds, "
                 "mean ± sd (LLAMBO llm=sim)", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=90)
    tmp.replace(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished `undertow bench run` folder")
    parser.add_argument("--img", type=Path, default=None, help="write the curves to this PNG")
    args = parser.parse_args(argv)
    results = args.run / "results.jsonl"
    if not results.is_file():
        parser.error(f"{results} does not exist: finish the run first (`undertow bench resume {args.run}`)")
    curves, tests, llms = best_so_far(load_jsonl(results))
    print(table(curves, tests, llms))
    if args.img is not None:
        plot(curves, llms, args.img)
        print(f"\nplot: {args.img}")


if __name__ == "__main__":
    main()
