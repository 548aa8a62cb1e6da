"""Held-out accuracy against training items seen, with and without the library (llm=sim).

    python -m undertow.optimizers.experience.evidence --task boolean_expressions --seeds 5

A tiny agent answers each item with the system prompt `BASE` (+ the experience slot).
"with library": `ExperienceOptimizer` learns from batches of training items; "without":
the same agent, prompt never changed. Test accuracy is measured after 0, 25, 50, 100 and
200 training items. The agent and loop here are also what the tests drive.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from undertow.engine import Parameter, backward, op
from undertow.engine.llm import llm_call, make_llm
from undertow.optimizers.experience.optimizer import ExperienceOptimizer
from undertow.optimizers.experience.store import ExperienceStore

BASE = "Answer the question."
CHECKPOINTS = (0, 25, 50, 100, 200)


def system_prompt(slot_text: str) -> str:
    return f"{BASE}\n{slot_text}" if slot_text else BASE


@op
def compose(slot_text: str) -> str:
    """The agent's system prompt with the experience slot (traced: the slot gets feedback)."""
    return system_prompt(slot_text)


def make_agent(llm: Any, task: Any, targets: dict[str, str]) -> tuple[Callable[[str, str], float], Callable[[str, list[Any]], float]]:
    """`solve(slot_text, item_input) -> reward` and `accuracy(slot_text, examples)`."""
    def solve(slot_text: str, inp: str) -> float:
        reply = llm.complete([{"role": "system", "content": system_prompt(slot_text)},
                              {"role": "user", "content": inp}])
        return float(task.score(reply.text, targets[inp]))

    def accuracy(slot_text: str, items: list[Any]) -> float:
        return sum(solve(slot_text, e.input) for e in items) / max(1, len(items))
    return solve, accuracy


def train_curve(task_name: str, seed: int, *, library: bool, checkpoints: tuple[int, ...] = CHECKPOINTS,
                batch: int = 5, n_val: int = 20, n_test: int = 100, db: Path | None = None) -> dict[int, float]:
    """Test accuracy after each checkpoint's number of training items (llm=sim)."""
    from undertow.bench.tasks.reasoning import (  # the bench is only used here
        get_task,
        make_splits,
    )

    task = get_task(task_name)
    splits = make_splits(task_name, seed, max(checkpoints), n_val, n_test)
    targets = {e.input: e.target for e in (*splits.train, *splits.val, *splits.test)}
    llm = make_llm("sim", cache_dir=False, seed=seed)
    solve, accuracy = make_agent(llm, task, targets)
    slot = Parameter("", name="experience")
    curve = {0: accuracy(slot.value, splits.test)}
    if not library:
        return {c: curve[0] for c in checkpoints}
    with tempfile.TemporaryDirectory() as tmp, ExperienceStore(db or Path(tmp) / "lib.db", ids="sequential") as store:
        opt = ExperienceOptimizer([slot], store=store, llm=llm, base_prompt=BASE, scope=task_name, solve=solve,
                                  validate=lambda s: accuracy(s, splits.val), run=f"evidence-{seed}",
                                  k=8, token_budget=600, refine_every=2)
        for start in range(0, max(checkpoints), batch):
            items = splits.train[start:start + batch]
            outs = [llm_call(llm, e.input, system=compose(slot)) for e in items]
            backward(outs, [{"score": task.score(o.value, e.target), "expected": e.target}
                            for o, e in zip(outs, items, strict=True)])
            opt.step()
            opt.zero_feedback()
            seen = start + len(items)
            if seen in checkpoints:
                curve[seen] = accuracy(slot.value, splits.test)
    return curve


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="boolean_expressions")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=None, help="Write the table (Markdown) and a PNG plot here.")
    args = ap.parse_args(argv)
    rows = {mode: [train_curve(args.task, s, library=mode == "library") for s in range(args.seeds)]
            for mode in ("library", "none")}
    print(json.dumps({"llm": "sim", "task": args.task, "curves": rows}))
    if args.out:
        write_report(args.task, rows, args.out)


def write_report(task: str, rows: dict[str, list[dict[int, float]]], out: Path) -> None:
    """A Markdown table (mean ± sd over seeds) and a matplotlib plot, both marked llm=sim."""
    import statistics

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    lines = ["| items seen | with library (llm=sim) | without (llm=sim) |", "|---|---|---|"]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for mode, label in (("library", "with library"), ("none", "without library")):
        means = [statistics.mean(r[c] for r in rows[mode]) for c in CHECKPOINTS]
        sds = [statistics.pstdev(r[c] for r in rows[mode]) for c in CHECKPOINTS]
        line, = ax.plot(CHECKPOINTS, means, marker="o", label=f"{label} (mean)")
        ax.fill_between(CHECKPOINTS, [m - d for m, d in zip(means, sds, strict=True)],
                        [m + d for m, d in zip(means, sds, strict=True)], color=line.get_color(),
                        alpha=0.2, label=f"{label} (± sd)")
    for c in CHECKPOINTS:
        cell = {m: (statistics.mean(r[c] for r in rows[m]), statistics.pstdev(r[c] for r in rows[m]))
                for m in rows}
        lines.append(f"| {c} | {cell['library'][0]:.3f} ± {cell['library'][1]:.3f} | "
                     f"{cell['none'][0]:.3f} ± {cell['none'][1]:.3f} |")
    ax.set_xlabel("training items seen")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{task}: held-out accuracy, {len(rows['library'])} seeds (llm=sim)", fontsize=9)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out / f"experience_{task}.png", dpi=100)
    (out / f"experience_{task}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
