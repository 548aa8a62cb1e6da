"""The coverage-per-iteration plot of an AutoLibra induction (matplotlib, PNG, atomic)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from undertow.engine.files import atomic_write_bytes
from undertow.optimizers.metrics import Iteration


def plot_coverage(series: dict[str, Sequence[Iteration]], path: str | Path, title: str) -> Path:
    """Coverage and redundancy per iteration, one line per series (e.g. per seed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for k, (label, its) in enumerate(series.items()):
        xs = [it.iteration for it in its]
        color = f"C{k % 10}"
        ax.plot(xs, [it.coverage for it in its], marker="o", color=color, label=label or "coverage")
        ax.plot(xs, [it.redundancy for it in its], marker="x", linestyle="--", alpha=0.6, color=color)
    ax.set_xlabel("induction iteration")
    ax.set_ylabel("coverage (solid), redundancy (dashed)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center right")
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())
