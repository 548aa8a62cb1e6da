"""Figures and tables of docs/evo-memory.md from finished bench runs (llm=sim marked).

    python -m undertow.bench.stream_evidence STREAM_RUN_DIR --out docs/img
    python -m undertow.bench.stream_evidence --warm-start --seeds 5

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


# -- warm start: is it retrieval that helps? -------------------------------------------------
def _stream(seed: int, folder: Path, mix: str) -> Any:
    from undertow.bench.entries.stream import StreamRun
    from undertow.bench.runner.tasks import SplitSizes, TaskContext
    from undertow.engine.llm import make_llm

    llm = make_llm("sim", cache_dir=False, seed=seed)
    return StreamRun(TaskContext(seed=seed, llm=llm, eval_llm=llm, sizes=SplitSizes(), batch_size=4,
                                 propagator="subgraph", run_dir=str(folder), steps=5), mix=mix)


def play(run: Any, optimizer: Any, steps: int = 5) -> float:
    """Answer a whole stream with `optimizer` (a stream memory, or `none`); its accuracy."""
    import random

    rng = random.Random(0)
    for _ in range(steps):
        run.run_step(optimizer, rng)
    return float(run.evaluate("test"))


def warm_store(path: Path, source: Any) -> Any:
    """A memory holding every experience (successes and failures) of a ReMem pass over `source`."""
    from undertow.bench.entries.stream import BASE_PROMPT
    from undertow.optimizers.experience import ExperienceStore, Trajectory
    from undertow.optimizers.experience.stream import SCOPE, ReMem

    store = ExperienceStore(path, ids="sequential")
    with ExperienceStore(path.with_suffix(".src.db"), ids="sequential") as src:
        play(source, ReMem(source.parameters, store=src, llm=source.llm, base_prompt=BASE_PROMPT))
        for rec in src.records(kinds=["trajectory"], scope=SCOPE):
            store.add(Trajectory(input=rec.input, output=rec.output, reward=rec.reward,  # type: ignore[attr-defined]
                                 status="active", scope=SCOPE, meta=rec.meta))
    store.commit_generation("warm")
    return store


def warm_start(folder: Path, seeds: tuple[int, ...] = (0, 1, 2), mix: str = "boolean_expressions",
               other: str = "word_sorting") -> dict[str, Any]:
    """Stream accuracy on `mix` streams of no memory, ExpRAG warm-started with the experiences
    of another stream of the same task, and ExpRAG warm-started with as many of `other`'s."""
    from undertow.bench.runner.baseline import KeepOptimizer
    from undertow.optimizers.experience.stream import ExpRAG

    got: dict[str, list[float]] = {"none": [], "relevant": [], "other": []}
    for seed in seeds:
        run = _stream(seed, folder / f"none{seed}", mix)
        got["none"].append(play(run, KeepOptimizer(run.parameters)))
        for name, src_mix in (("relevant", mix), ("other", other)):
            with warm_store(folder / f"{name}{seed}.db", _stream(seed + 100, folder / f"{name}src{seed}", src_mix)) as store:
                run = _stream(seed, folder / f"{name}{seed}", mix)
                got[name].append(play(run, ExpRAG(run.parameters, store=store, k=3)))
    return {"llm": "sim", "mix": mix, "other": other, "seeds": list(seeds), "accuracy": got,
            "mean": {k: round(statistics.mean(v), 4) for k, v in got.items()}}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, nargs="?", help="a finished `undertow bench run -t stream ...` folder")
    ap.add_argument("--out", type=Path, default=None, help="write the PNG plot here")
    ap.add_argument("--warm-start", action="store_true", help="run the warm-start experiment instead")
    ap.add_argument("--seeds", type=int, default=3, help="seeds of the warm-start experiment")
    args = ap.parse_args(argv)
    if args.warm_start:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(warm_start(Path(tmp), tuple(range(args.seeds))), indent=1))
        return
    if args.run is None:
        ap.error("give a stream run folder, or --warm-start")
    print(json.dumps(summarize(args.run), indent=1))
    if args.out:
        plot(args.run, args.out)


if __name__ == "__main__":
    main()
