"""Reasoning tasks generated procedurally in the style of BIG-Bench Hard.

Each task is a module `undertow.bench.tasks.reasoning.<name>` with the same shape
(see `ReasoningTask`): `NAME`, `generate(rng) -> Example`, an exact `solve(input)`
that reads the item text alone, a tolerant `score(prediction, target)`, and `PROFILE`
for the simulated LLM. This package finds them by name and cuts fixed splits:

    >>> from undertow.bench.tasks.reasoning import make_splits
    >>> splits = make_splits("word_sorting", seed=0, n_train=20, n_val=10, n_test=50)
    >>> len(splits.train), len(splits.val), len(splits.test)
    (20, 10, 50)
"""

from __future__ import annotations

import difflib
import importlib
import random
from types import ModuleType
from typing import NamedTuple, Protocol, cast, runtime_checkable

from undertow.bench.tasks.base import Example
from undertow.bench.sim.profile import TaskProfile

#: Every bundled reasoning task, by module name.
TASK_NAMES: tuple[str, ...] = (
    "boolean_expressions", "date_arithmetic", "dyck_languages", "multistep_arithmetic",
    "navigation", "object_counting", "word_sorting",
)


@runtime_checkable
class ReasoningTask(Protocol):
    """The module pattern every reasoning task follows."""

    NAME: str
    PROFILE: TaskProfile

    def generate(self, rng: random.Random) -> Example: ...
    def solve(self, input: str) -> str: ...
    def score(self, prediction: str, target: str) -> float: ...


def _import(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


def get_task(name: str) -> ReasoningTask:
    """The task module called `name`; a clear error with close matches if unknown."""
    if name not in TASK_NAMES:
        close = difflib.get_close_matches(name, TASK_NAMES, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(TASK_NAMES)}"
        raise KeyError(f"unknown reasoning task {name!r}; {hint}")
    try:
        module = _import(name)
    except ImportError as exc:
        raise ImportError(f"reasoning task {name!r} failed to import ({exc}); "
                          "check that its module and dependencies are installed") from exc
    return cast(ReasoningTask, module)


def available() -> list[str]:
    """Names of the tasks whose modules import here (a broken or absent one is skipped)."""
    names = []
    for name in TASK_NAMES:
        try:
            _import(name)
        except ImportError:
            continue
        names.append(name)
    return names


class Splits(NamedTuple):
    """Fixed train / validation / test lists; no input occurs in two of them."""

    train: list[Example]
    val: list[Example]
    test: list[Example]


def make_splits(name: str, seed: int, n_train: int, n_val: int, n_test: int) -> Splits:
    """Seeded, disjoint splits of task `name`, the same for the same arguments.

    Each split draws from its own random stream (derived from task, seed and split), and
    skips inputs already taken by the splits drawn before it (test, then val, then
    train); so the test set of a seed does not move when `n_train` or `n_val` change.
    Raises ValueError if the task cannot produce that many distinct items.
    """
    for label, n in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"make_splits: {label} must be a non-negative int, got {n!r}")
    task = get_task(name)
    seen: set[str] = set()
    drawn: dict[str, list[Example]] = {}
    for split, n in (("test", n_test), ("val", n_val), ("train", n_train)):
        rng = random.Random(f"undertow/{name}/{seed}/{split}")
        items: list[Example] = []
        misses = 0
        while len(items) < n:
            example = task.generate(rng)
            if example.input in seen:
                misses += 1
                if misses > 1000 + 20 * n:
                    raise ValueError(
                        f"make_splits: {name} yielded only {len(items)} new distinct items "
                        f"for {split} (asked {n}); ask for fewer items")
                continue
            seen.add(example.input)
            items.append(example)
        drawn[split] = items
    return Splits(train=drawn["train"], val=drawn["val"], test=drawn["test"])


__all__ = ["TASK_NAMES", "ReasoningTask", "Splits", "available", "get_task", "make_splits"]
