"""The report's plots: validation score against LLM calls and against dollars.

Sized for a laptop screen (about 1100 x 420 pixels for two panels). Optimizers that
made no LLM call are drawn as a dashed line at their final score (they have no
place on a calls axis); the cost panel is left out when nothing cost money (the
simulator is free); the spread over seeds is drawn as thin ±sd error bars, and only
from 3 seeds up (shaded bands of overlapping runs hid the lines, and the sd of two
seeds says little).
"""

from __future__ import annotations

from pathlib import Path

from undertow.bench.runner.leaderboard import Curve

WIDTH_IN, HEIGHT_IN, DPI = 11.0, 4.2, 100
MIN_SEEDS_FOR_BAND = 3


def _draw(ax, cs: list[Curve], xname: str, xlabel: str) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    palette = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, c in enumerate(cs):  # one colour per optimizer, the same in every panel
        color = palette[i % len(palette)]
        xs = getattr(c, xname)
        if not any(xs):  # nothing spent: no place on this axis, a dashed line at its final score
            what = "LLM calls" if xname == "calls" else "cost"
            ax.axhline(c.mean[-1], linestyle=(0, (5, 3)), linewidth=1.4, color=color,
                       label=f"{c.optimizer} (no {what}): final score")
            continue
        ax.plot(xs, c.mean, marker="o", markersize=3.5, linewidth=1.8, color=color, label=c.optimizer)
        if c.seeds >= MIN_SEEDS_FOR_BAND:
            ax.errorbar(xs, c.mean, yerr=c.sd, fmt="none", ecolor=color, elinewidth=0.8, capsize=2.5, alpha=0.55)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.25)
    ax.legend(fontsize=8, loc="best")


def plot_task(task: str, cs: list[Curve], folder: Path) -> Path:
    """`folder/<task>.png`: score vs calls (or vs step when no run called an LLM), and vs cost."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tags = ", ".join(sorted({f"llm={c.llm}" for c in cs}))
    seeds = max((c.seeds for c in cs), default=1)
    any_calls = any(any(c.calls) for c in cs)
    any_cost = any(any(c.cost) for c in cs)
    panels = 2 if any_cost else 1
    fig, axes = plt.subplots(1, panels, figsize=(WIDTH_IN if panels == 2 else WIDTH_IN * 0.75, HEIGHT_IN),
                             constrained_layout=True, squeeze=False)
    spread = "mean ± sd" if seeds >= MIN_SEEDS_FOR_BAND else "mean"
    ylabel = f"validation score ({spread} over {seeds} seed{'s' if seeds != 1 else ''})"
    first = axes[0][0]
    if any_calls:
        _draw(first, cs, "calls", "LLM calls spent (optimization)")
        first.set_title(f"{task}: score vs LLM calls ({tags})", fontsize=10)
    else:
        steps = [Curve(c.task, c.optimizer, c.llm, c.steps, [float(s) for s in c.steps], c.cost, c.mean, c.sd,
                       c.seeds) for c in cs]
        _draw(first, steps, "calls", "optimizer step")
        first.set_title(f"{task}: score vs step, no LLM calls ({tags})", fontsize=10)
    first.set_ylabel(ylabel)
    if any_cost:
        ax = axes[0][1]
        _draw(ax, cs, "cost", "dollars spent (optimization)")
        ax.set_title(f"{task}: score vs cost ({tags})", fontsize=10)
        ax.set_ylabel(ylabel)
    path = folder / f"{task}.png"
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
