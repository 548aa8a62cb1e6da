"""Evidence for QDAIF and QDHF: QD-score and coverage against LLM calls, at matched calls,
over seeds, against random sampling and a single-objective optimizer (docs/quality-diversity.md).

    python -m undertow.bench.qd_evidence --seeds 5 --calls 400 --out docs/img

Every search runs on the bundled stories task (`bench/tasks/stories`) with the given LLM
(default `sim`) and stops once it has made `--calls` calls. After each iteration all the
candidates it has made are placed in the *reference archive* (text axes judged by an
evaluation client whose calls are not charged; fitness = the task's checkable rule), and
the QD-score (normalised) and coverage are read at a grid of call counts (the state
after the last iteration that had made at most that many calls). Writes a JSON file, a
plot of both measures against calls (mean and min-max band over seeds), and heatmaps of
one seed's final archives.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from undertow.bench.tasks.stories import task as stories
from undertow.engine.llm import make_llm
from undertow.optimizers.qd import (
    QDAIF,
    QDHF,
    RandomSampling,
    ReferenceScorer,
    SingleObjective,
    archive_parameter,
)



class UnjudgedRandom(RandomSampling):
    """Random sampling that spends every call on generation (no judging: its candidates are
    placed only by the reference archive), the most generous reading of "matched calls"."""

    name = "random_unjudged"

    def place(self, new: list[Any]) -> None:
        return None


METHODS = {"qdaif": QDAIF, "qdhf": QDHF, "random": RandomSampling, "single": SingleObjective,
           "random_unjudged": UnjudgedRandom}
DEFAULT_METHODS = "qdaif,qdhf,random,single,random_unjudged"


def build(method: str, llm: Any, seed: int, batch: int = 4) -> Any:
    """The search called `method` for the stories task of `seed`."""
    if method not in METHODS:
        raise ValueError(f"unknown QD method {method!r}; choose from {sorted(METHODS)}")
    kwargs: dict[str, Any] = {"batch": batch, "seed": seed}
    if method == "qdhf":
        from undertow.optimizers.experience.embed import HashingEmbedder

        kwargs["embedder"] = HashingEmbedder(256)   # the documented fallback: same numbers everywhere
    return METHODS[method]([archive_parameter()], llm, stories.problem(seed), **kwargs)


def run(method: str, seed: int, calls: int, *, llm_spec: str = "sim", batch: int = 4,
        grid: list[int] | None = None) -> dict[str, Any]:
    """One search to `calls` calls; the reference QD-score and coverage at each grid point."""
    llm = make_llm(llm_spec, cache_dir=False, seed=seed)
    judge = make_llm(llm_spec, cache_dir=False, seed=seed)
    obj = stories.object_for(seed)
    scorer = ReferenceScorer(stories.problem(seed), judge, lambda t: stories.check(t, obj))
    search = build(method, llm, seed, batch)
    trace = [(0, 0.0, 0.0)]
    while search.calls < calls:
        search.step()
        ref = scorer.archive([c.text for c in search.candidates])
        trace.append((search.calls, ref.qd_score_normalised(), ref.coverage()))
    grid = grid or list(range(0, calls + 1, max(1, calls // 16)))
    at = [max((t for t in trace if t[0] <= g), key=lambda t: t[0]) for g in grid]
    final = scorer.archive([c.text for c in search.candidates])
    last = at[-1]
    return {"method": method, "seed": seed, "grid": grid, "qd_score": [a[1] for a in at],
            "coverage": [a[2] for a in at], "calls_made": search.calls,
            "candidates": len(search.candidates), "grid_final": {"qd_score": last[1], "coverage": last[2]},
            "mean_rule_quality": float(np.mean([stories.check(c.text, obj) for c in search.candidates])),
            "own_archive": search.measures(), "heatmap": final.grid().tolist(),
            "fit_accuracy": getattr(search, "fit_accuracy", None)}


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in METHODS:
        rows = [r for r in results if r["method"] == m]
        if not rows:
            continue
        qd = np.array([r["qd_score"] for r in rows])
        cov = np.array([r["coverage"] for r in rows])
        out[m] = {"qd_score_mean": qd[:, -1].mean(), "qd_score_std": qd[:, -1].std(),
                  "coverage_mean": cov[:, -1].mean(), "coverage_std": cov[:, -1].std(),
                  "candidates_mean": float(np.mean([r["candidates"] for r in rows])),
                  "mean_rule_quality": float(np.mean([r["mean_rule_quality"] for r in rows])),
                  "seeds": len(rows)}
    return out


def plot(results: list[dict[str, Any]], out: Path, title: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for m in METHODS:
        rows = [r for r in results if r["method"] == m]
        if not rows:
            continue
        grid = rows[0]["grid"]
        for ax, key in zip(axes, ("qd_score", "coverage")):
            arr = np.array([r[key] for r in rows])
            ax.plot(grid, arr.mean(0), label=m)
            ax.fill_between(grid, arr.min(0), arr.max(0), alpha=0.15)
    for ax, label in zip(axes, ("QD-score (normalised)", "coverage")):
        ax.set_xlabel("LLM calls")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    curves = out / "qd_curves.png"
    _save(fig, curves)
    plt.close(fig)
    seed0 = min(r["seed"] for r in results)
    rows = [r for r in results if r["seed"] == seed0]
    axes_ = stories.AXES
    fig, grid_axes = plt.subplots(len(rows), 3, figsize=(10, 2.6 * len(rows)), squeeze=False)
    for i, r in enumerate(rows):
        g = np.array(r["heatmap"], dtype=float)   # [tone, genre, length]
        for j in range(g.shape[2]):
            ax = grid_axes[i][j]
            ax.imshow(g[:, :, j], vmin=0, vmax=1, cmap="viridis")
            ax.set_xticks(range(len(axes_[1].bins)), [b[:7] for b in axes_[1].bins], fontsize=6)
            ax.set_yticks(range(len(axes_[0].bins)), axes_[0].bins, fontsize=6)
            ax.set_title(f"{r['method']} - {axes_[2].bins[j].split()[0]}", fontsize=8)
    fig.suptitle(f"reference archive after the run, seed {seed0} (colour: rule quality; blank: empty)", fontsize=9)
    fig.tight_layout()
    heat = out / "qd_heatmaps.png"
    _save(fig, heat)
    plt.close(fig)
    return [curves, heat]


def _save(fig: Any, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=110)
    os.chmod(tmp, 0o644)   # mkstemp makes 0600 files
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--llm", default="sim")
    ap.add_argument("--methods", default=DEFAULT_METHODS)
    ap.add_argument("--out", default="docs/img")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = [run(m, s, args.calls, llm_spec=args.llm, batch=args.batch)
               for m in args.methods.split(",") for s in range(args.seeds)]
    summary = summarise(results)
    title = f"stories task, llm={args.llm}, {args.seeds} seeds, {args.calls} calls, batch {args.batch}"
    report = {"llm": args.llm, "seeds": args.seeds, "calls": args.calls, "batch": args.batch,
              "summary": summary, "runs": results}
    fd, tmp = tempfile.mkstemp(dir=out, suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(report, f, indent=1)
    os.chmod(tmp, 0o644)   # mkstemp makes 0600 files
    os.replace(tmp, out / "qd_evidence.json")
    plot(results, out, title)
    print(json.dumps({"llm": args.llm, "summary": summary}, indent=1))
    return report


if __name__ == "__main__":
    main()
