"""Preference oracles for APOHF: who says which of two responses is better.

Both oracles answer ``prefer(item, left, right)`` with 1.0 (left is better), 0.0
(right is better) or 0.5 (a tie). The optimizer never sees ``item.target``; only the
simulated oracle reads it, standing in for a person who knows the answer.

- `SimulatedOracle`: Bradley-Terry on the task metric. With scores ``s_l, s_r`` of the
  two responses, it prefers left with probability ``sigmoid((s_l - s_r) / noise)``;
  equal scores are a tie (0.5) and ``noise = 0`` is a perfect judge. Seeded.
- `TerminalOracle`: a person at the terminal. Both responses are shown side by side
  (rich panels) and the person presses ``l`` (left), ``r`` (right) or ``t`` (tie).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import IO, Any, Protocol, runtime_checkable

from undertow.optimizers.search.prompting import Item

KEYS = {"l": 1.0, "left": 1.0, "r": 0.0, "right": 0.0, "t": 0.5, "tie": 0.5}


@runtime_checkable
class PreferenceOracle(Protocol):
    """Says which of two responses to one item is better (1 left, 0 right, 0.5 tie)."""

    def prefer(self, item: Item, left: str, right: str) -> float: ...


class SimulatedOracle:
    """Bradley-Terry preferences from the task metric, with a noise temperature.

    Args:
        score: ``score(prediction, target) -> float`` (the task metric).
        noise: the Bradley-Terry temperature; 0 gives noiseless preferences.
        seed: seeds the preference draws.
    """

    def __init__(self, score: Callable[[str, str], float], *, noise: float = 0.1, seed: int = 0) -> None:
        if noise < 0:
            raise ValueError(f"noise must be >= 0, got {noise}")
        self.score, self.noise = score, noise
        self.rng = random.Random(f"oracle:{seed}")
        self.asked = 0

    def prefer(self, item: Item, left: str, right: str) -> float:
        self.asked += 1
        gap = float(self.score(left, item.target)) - float(self.score(right, item.target))
        if gap == 0:  # the metric cannot tell them apart: a tie, as a person would say
            return 0.5
        if self.noise == 0:
            return float(gap > 0)
        p_left = 1.0 / (1.0 + math.exp(-gap / self.noise))
        return float(self.rng.random() < p_left)

    def state(self) -> dict[str, Any]:
        return {"rng": list(_jsonable_state(self.rng.getstate())), "asked": self.asked}

    def load_state(self, state: dict[str, Any]) -> None:
        if state:
            version, internal, gauss = state["rng"]
            self.rng.setstate((version, tuple(internal), gauss))
            self.asked = int(state["asked"])


def _jsonable_state(s: tuple[Any, ...]) -> tuple[Any, ...]:
    return (s[0], list(s[1]), s[2])


class TerminalOracle:
    """A person choosing in the terminal: both responses side by side, keys l / r / t.

    Args:
        console: a rich Console to draw on (default: a new one on stdout).
        input: where the keys are read from (default: stdin), one answer a line.
        width: the most characters of each response shown.
    """

    def __init__(self, console: Any = None, input: IO[str] | None = None, *, width: int = 1200) -> None:
        from rich.console import Console

        self.console = console or Console()
        self.input = input
        self.width = width
        self.asked = 0

    def _read(self) -> str | None:
        import sys

        line = (self.input or sys.stdin).readline()
        return None if line == "" else line.strip().lower()

    def prefer(self, item: Item, left: str, right: str) -> float:
        from rich.columns import Columns
        from rich.panel import Panel
        from rich.text import Text

        self.asked += 1
        self.console.rule(f"comparison {self.asked}")
        self.console.print(Panel(Text(item.input[: self.width]), title="input"))
        self.console.print(Columns([Panel(Text(left[: self.width]), title="\\[l] left", expand=True),
                                    Panel(Text(right[: self.width]), title="\\[r] right", expand=True)],
                                   equal=True, expand=True))
        while True:
            self.console.print("Which response is better? \\[l]eft, \\[r]ight or \\[t]ie: ", end="")
            key = self._read()
            if key is None:
                raise EOFError("the input ended before a preference was given (expected l, r or t)")
            if key in KEYS:
                return KEYS[key]
            self.console.print(f"[red]{key!r} is not an answer[/red]: press l, r or t, then Enter.")
