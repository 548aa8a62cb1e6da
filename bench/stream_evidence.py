"""Figures and tables of docs/evo-memory.md from finished bench runs (llm=sim marked).

    python -m undertow.bench.stream_evidence STREAM_RUN_DIR --out docs/img

Reads each stream run's `runs/<run>/stream.json` (the per-item log: correct, memory
size, retrieval latency) and prints one JSON object: per memory, the stream accuracy
(mean ± sd over seeds), accuracy in windows of 15 items, memory size at the end,
retrieval latency (median, p95, ms) and calls spent. With `--out`, also a PNG of
cumulative accuracy over the stream and of memory size over the stream.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from undertow.bench.runner import collect
from undertow.bench.runner.config import load_config

WINDOW = 15


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else 0.0


def summarize(out: Path) -> dict[str, Any]:
    """Per optimizer of the stream runs in `out`: the figures above."""
    config = load_config(out)
    rows = [r for r in collect(out, config) if r.split == "test" and r.task == "stream"]
    logs: dict[str, list[list[dict[str, Any]]]] = {}
    for run in config.runs:
        path = out / "runs" / run.run_id / "stream.json"
        if run.task == "stream" and path.is_file():
            logs.setdefault(run.optimizer, []).append(json.loads(path.read_text())["results"])
    summary: dict[str, Any] = {"llm": sorted({r.llm for r in rows}), "budget": config.budget, "steps": config.steps,
                               "memories": {}}
    for opt, runs in logs.items():
        scores = [r.score for r in rows if r.optimizer == opt]
        n = min(len(r) for r in runs)
        windows = [statistics.mean(sum(x["correct"] for x in r[i:i + WINDOW]) / len(r[i:i + WINDOW]) for r in runs)
                   for i in range(0, n, WINDOW)]
        lat = [x["retrieval_ms"] for r in runs for x in r if x["memory"] or x["retrieval_ms"]]
        summary["memories"][opt] = {
            "seeds": len(runs), "stream_accuracy_mean": round(statistics.mean(scores), 4),
            "stream_accuracy_sd": round(statistics.pstdev(scores), 4),
            "window_accuracy": [round(w, 4) for w in windows],
            "memory_at_end": {k: statistics.mean(r[-1]["memory"].get(k, 0) for r in runs)
                              for k in sorted({k for r in runs for k in r[-1]["memory"]})},
            "retrieval_ms_median": round(statistics.median(lat), 3) if lat else None,
            "retrieval_ms_p95": round(_pct(lat, 0.95), 3) if lat else None,
            "calls_mean": statistics.mean(r.calls for r in rows if r.optimizer == opt),
        }
    return summary


def plot(out: Path, img: Path) -> Path:
    """Cumulative accuracy and memory size along the stream, mean over seeds, per memory."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    config = load_config(out)
    logs: dict[str, list[list[dict[str, Any]]]] = {}
    for run in config.runs:
        path = out / "runs" / run.run_id / "stream.json"
        if run.task == "stream" and path.is_file():
            logs.setdefault(run.optimizer, []).append(json.loads(path.read_text())["results"])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.3))
    for opt, runs in sorted(logs.items()):
        n = min(len(r) for r in runs)
        cum = [statistics.mean(sum(x["correct"] for x in r[:i + 1]) / (i + 1) for r in runs) for i in range(n)]
        size = [statistics.mean(sum(r[i]["memory"].values()) for r in runs) for i in range(n)]
        a1.plot(range(1, n + 1), cum, label=opt)
        a2.plot(range(1, n + 1), size, label=opt)
    a1.set_xlabel("items answered")
    a1.set_ylabel("cumulative accuracy")
    a1.set_ylim(0, 1)
    a1.set_title(f"stream accuracy, {len(next(iter(logs.values())))} seeds (llm=sim)", fontsize=9)
    a2.set_xlabel("items answered")
    a2.set_ylabel("active records in memory")
    a2.set_title("memory size (llm=sim)", fontsize=9)
    a1.legend(fontsize=8)
    fig.tight_layout()
    img.mkdir(parents=True, exist_ok=True)
    path = img / "evo_memory_stream.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="a finished `undertow bench run -t stream ...` folder")
    ap.add_argument("--out", type=Path, default=None, help="write the PNG plot here")
    args = ap.parse_args(argv)
    print(json.dumps(summarize(args.run), indent=1))
    if args.out:
        plot(args.run, args.out)


if __name__ == "__main__":
    main()
