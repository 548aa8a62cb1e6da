"""The real BIG-Bench Hard tasks (``bbh:<task>``) and GSM8K (``gsm8k``) as bench tasks.

The files are never shipped: the user points at a folder (``--data-dir`` or the
``UNDERTOW_DATA_DIR`` environment variable) laid out as

    DIR/bbh/<task>.json          the 27 BBH files, {"canary", "examples": [{"input", "target"}]}
    DIR/gsm8k/train.jsonl        GSM8K, one {"question", "answer"} a line, "#### <number>" last
    DIR/gsm8k/test.jsonl

(the layout of the public repositories; see docs/tasks.md). Splits are seeded: BBH
items are shuffled by the seed and cut into train / val / test; GSM8K train items
come from train.jsonl and val / test from test.jsonl. The agent is the reasoning
tasks' one (a trainable system prompt, `ReasoningRun`).

The simulated LLM answers only the BBH tasks whose items a bundled profile
recognises (`SIM_SERVED`); the others, and GSM8K, need a real model, and a run of
them with ``--llm sim`` stops at once with an error saying so.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from undertow.bench.runner.errors import BenchError
from undertow.bench.runner.tasks import ReasoningRun, TaskContext
from undertow.bench.tasks.base import Example
from undertow.bench.tasks.loaders import BBH_TASKS, load_bbh, load_gsm8k, score_gsm8k
from undertow.bench.tasks.reasoning import Splits
from undertow.engine import Feedback

DATA_ENV = "UNDERTOW_DATA_DIR"
#: BBH task -> the bundled task whose simulator profile recognises its items.
SIM_SERVED: dict[str, str] = {
    "boolean_expressions": "boolean_expressions", "dyck_languages": "dyck_languages",
    "multistep_arithmetic_two": "multistep_arithmetic", "navigate": "navigation",
    "object_counting": "object_counting", "word_sorting": "word_sorting",
}
LAYOUT = ("a folder holding bbh/<task>.json (the 27 BIG-Bench Hard files) and "
          "gsm8k/train.jsonl + gsm8k/test.jsonl")


def data_dir(given: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``given`` (--data-dir), else $UNDERTOW_DATA_DIR; a BenchError if neither."""
    root = given or os.environ.get(DATA_ENV)
    if not root:
        raise BenchError(f"the real-data tasks read local files: pass --data-dir DIR or set {DATA_ENV}=DIR, "
                         f"{LAYOUT} (see docs/tasks.md)")
    return Path(root).expanduser()


def required_file(task: str, root: Path) -> Path:
    """The file a real task needs under ``root``."""
    if task == "gsm8k":
        return root / "gsm8k" / "test.jsonl"
    return root / "bbh" / f"{task.removeprefix('bbh:')}.json"


def check_data(task: str, given: str | os.PathLike[str] | None = None) -> Path:
    """The data folder, checked: a BenchError naming the missing file and the fix."""
    root = data_dir(given)
    needed = [required_file(task, root)] + ([root / "gsm8k" / "train.jsonl"] if task == "gsm8k" else [])
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise BenchError(f"task {task} needs {', '.join(missing)}, which does not exist; point --data-dir "
                         f"(or {DATA_ENV}) at {LAYOUT} (see docs/tasks.md)")
    return root


def sim_note(task: str) -> str:
    """How the simulated LLM serves a real task (for `bench list` and errors)."""
    name = task.removeprefix("bbh:")
    if task.startswith("bbh:") and name in SIM_SERVED:
        return f"llm=sim answers it (profile {SIM_SERVED[name]})"
    return "needs a real model (the sim has no profile for it)"


def sim_serves(task: str) -> bool:
    """Whether the simulated LLM can answer the items of real-data ``task``."""
    return task.startswith("bbh:") and task[4:] in SIM_SERVED


def check_sim(task: str, llm_spec: str) -> None:
    """A BenchError when ``task`` runs on the simulator but the simulator cannot answer it."""
    if llm_spec.strip() == "sim" and not sim_serves(task):
        served = ", ".join(f"bbh:{t}" for t in SIM_SERVED)
        raise BenchError(f"task {task} needs a real model: the simulated LLM has no profile for its "
                         f"items; pass --llm openai:MODEL (or another real model), or pick one of {served}")


# -- scoring -------------------------------------------------------------------------------------
_FINAL = re.compile(r"(?:answer is|answer:)\s*(.+)", re.IGNORECASE)


def bbh_answer(prediction: str) -> str:
    """The final answer in a reply: after the last "answer is"/"Answer:", else its last line."""
    found = _FINAL.findall(prediction)
    if found:
        text = found[-1]
    else:
        lines = [ln for ln in prediction.strip().splitlines() if ln.strip()]
        text = lines[-1] if lines else ""
    return text.strip().rstrip(".").strip()


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().strip("*").strip().rstrip(".")).lower()


def bbh_score(prediction: str, target: str) -> float:
    """1.0 when the reply's final answer is the target (multiple choice: "(A)" or "A")."""
    got, want = _norm(bbh_answer(prediction)), _norm(target)
    if got == want:
        return 1.0
    choice = re.fullmatch(r"\(([a-z])\)", want)
    if choice and re.fullmatch(rf"\(?{choice.group(1)}\)?(?:\s.*)?", got):
        return 1.0
    return 0.0


def scorer(task: str) -> Any:
    """The metric of a real task: the bundled task's tolerant score where there is one."""
    if task == "gsm8k":
        return score_gsm8k
    name = task.removeprefix("bbh:")
    if name in SIM_SERVED:
        from undertow.bench.tasks.reasoning import get_task

        bundled = get_task(SIM_SERVED[name]).score
        return lambda p, t: max(bundled(p, t), bbh_score(p, t))
    return bbh_score


# -- splits --------------------------------------------------------------------------------------
def real_splits(task: str, seed: int, sizes: Any, root: str | os.PathLike[str] | None = None) -> Splits:
    """Seeded train / val / test of a real task (disjoint; fewer when the file is small)."""
    folder = check_data(task, root)
    rng = random.Random(f"undertow-real/{task}/{seed}")
    if task == "gsm8k":
        train = load_gsm8k("train", path=folder / "gsm8k")
        test = load_gsm8k("test", path=folder / "gsm8k")
        rng.shuffle(train)
        rng.shuffle(test)
        return Splits(train[: sizes.n_train], test[: sizes.n_val],
                      test[sizes.n_val: sizes.n_val + sizes.n_test])
    items: list[Example] = load_bbh(task.removeprefix("bbh:"), path=folder / "bbh")
    rng.shuffle(items)
    a, b = sizes.n_train, sizes.n_train + sizes.n_val
    if len(items) < b + 1:
        raise BenchError(f"task {task} has {len(items)} items, too few for --n-train {sizes.n_train} "
                         f"and --n-val {sizes.n_val} with any test items left; lower them")
    return Splits(items[:a], items[a:b], items[b: b + sizes.n_test])


class ScoredTask:
    """What `ReasoningRun` reads of a task module (`NAME`, `score`), for a task without one."""

    def __init__(self, name: str, score: Any) -> None:
        self.NAME, self.score = name, score


def feedback_from(task: Any) -> Callable[[str, Example], Feedback]:
    """"Correct", or "Wrong: expected X, got Y" by ``task.score`` (Y: the reply's last line)."""
    def feedback(prediction: str, example: Example) -> Feedback:
        score = task.score(prediction, example.target)
        if score >= 1.0:
            return Feedback("Correct", score)
        lines = [ln.strip() for ln in str(prediction).splitlines() if ln.strip()]
        got = lines[-1] if lines else "(an empty reply)"
        return Feedback(f"Wrong: expected {example.target}, got {got[:160]}", score)
    return feedback


class RealRun(ReasoningRun):
    """`ReasoningRun` on a real BBH task or GSM8K, from the files under the data folder."""

    def __init__(self, name: str, ctx: TaskContext) -> None:
        if ctx.llm is None or ctx.eval_llm is None:
            raise ValueError(f"task {name} needs an LLM; pass --llm")
        task = ScoredTask(name, scorer(name))
        self._set_up(name, ctx, task, real_splits(name, ctx.seed, ctx.sizes, ctx.data_dir), feedback_from(task))


REAL_TASKS: tuple[str, ...] = tuple(f"bbh:{t}" for t in BBH_TASKS) + ("gsm8k",)


def all_tasks(known: Iterable[str], llm_spec: str, given: str | os.PathLike[str] | None = None) -> list[str]:
    """What `--task all` means here: every bundled task; the real-data ones only when a
    data folder is given (--data-dir or $UNDERTOW_DATA_DIR), and on the simulated LLM
    only those it can answer. Without a folder `all` must still run (or dry-run) as the
    docs promise, instead of failing on files a user never asked for."""
    has_data = bool(given or os.environ.get(DATA_ENV))
    on_sim = llm_spec.strip() == "sim"
    return [t for t in known if t not in REAL_TASKS or (has_data and (not on_sim or sim_serves(t)))]
