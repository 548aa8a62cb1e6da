"""The figure of docs/scale.md "Shared limits": requests per second a rate-limited
sim-server saw from one sweep (2 worker processes), with and without the sweep's shared
limiter, and the 429s it answered.

    python -m undertow.bench.perf.limits_plot docs/img/shared-limits.png

Prints the figures as JSON (`llm=sim`) and writes the plot.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

RPM, SERVER_BURST, BURST = 600.0, 8.0, 2.0


def max_in_window(times: list[float], window: float) -> int:
    """The most arrival times (sorted) that fall in any span of `window` seconds."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def sweep(limited: bool) -> dict[str, Any]:
    """One sweep against a fresh server enforcing RPM; its arrivals and outcome."""
    from rich.console import Console

    from undertow.bench.runner import make_config, start
    from undertow.bench.sim.server import start_in_subprocess

    limits = {"rpm": RPM, "rpm_burst": BURST} if limited else {}
    with start_in_subprocess(rpm=RPM, rpm_burst=SERVER_BURST) as srv, tempfile.TemporaryDirectory() as tmp:
        config = make_config(["word_sorting"], ["none", "optoprime", "opro"], llm=f"openai-compatible:{srv.openai_base_url}#sim",
                             seeds=2, steps=2, budget="calls=40", workers=2, n_train=8, n_val=6, n_test=10, **limits)
        out = start(config, Path(tmp) / "sweep", console=Console(file=io.StringIO()))
        stats, arrivals = srv.stats(), srv.arrivals()
    return {"limited": limited, "requests": stats["by_path"].get("/v1/chat/completions", 0),
            "rate_limited": stats["rate_limited"], "runs_done": len(out.done), "runs": len(config.runs),
            "arrivals": arrivals}


def plot(results: list[dict[str, Any]], path: Path, *, rpm: float = RPM,
         with_title: str = "with --rpm (shared limiter)",
         title: str = "2 workers vs a sim-server accepting {rpm:g} requests/min (llm=sim)") -> None:
    """Requests per second (served, and refused with 429) of each sweep, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(10, 3.4), sharey=True)
    for ax, r in zip(axes, results):
        times = [t for t, _ in r["arrivals"]]
        end = int(max(times, default=0)) + 1
        served = [sum(1 for t, ok in r["arrivals"] if ok and s <= t < s + 1) for s in range(end)]
        refused = [sum(1 for t, ok in r["arrivals"] if not ok and s <= t < s + 1) for s in range(end)]
        ax.bar(range(end), served, color="tab:blue", label="served")
        ax.bar(range(end), refused, bottom=served, color="tab:red", label="429")
        ax.axhline(rpm / 60, color="black", linestyle="--", linewidth=1, label=f"limit {rpm / 60:g}/s")
        head = with_title if r["limited"] else "without"
        ax.set_title(f"{head}: {r['rate_limited']} x 429, runs {r['runs_done']}/{r['runs']}", fontsize=9)
        ax.set_xlabel("second of the sweep")
    axes[0].set_ylabel("requests")
    axes[0].legend(fontsize=8)
    fig.suptitle(title.format(rpm=rpm), fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0] if argv else "shared-limits.png")
    results = [sweep(True), sweep(False)]
    plot(results, path)
    print(json.dumps({"llm": "sim", "rpm": RPM, "server_burst": SERVER_BURST, "limiter_burst": BURST,
                      "sweeps": [{k: v for k, v in r.items() if k != "arrivals"} for r in results],
                      "plot": str(path)}, indent=1))


if __name__ == "__main__":
    main()
