"""The baselines QDAIF and QDHF are compared with, at matched LLM calls.

- `RandomSampling`: every candidate is a fresh generation from the brief (no archive
  feedback reaches the writer); candidates are judged and placed like QDAIF's, so the
  archive it returns is built the same way.
- `SingleObjective`: iterated best-of-n: each iteration rewrites the single best
  candidate so far (by judged quality) `batch` times and keeps the best; it places its
  candidates in the archive only to be scored, never to choose parents.
"""

from __future__ import annotations

from typing import Any

from . import prompts as P
from .search import QDSearch


class RandomSampling(QDSearch):
    """Independent samples from the brief (see the module docstring)."""

    name = "random"

    def propose(self) -> list[tuple[P.Messages, str, list[int]]]:
        return [(P.generate(self.problem), "generate", []) for _ in range(self.batch)]


class SingleObjective(QDSearch):
    """Iterated best-of-n on judged quality (see the module docstring)."""

    name = "single"

    def __init__(self, *args: Any, init: int = 4, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.init = int(init)

    def best(self) -> int:
        """The id of the best candidate so far (earliest on ties)."""
        return max(range(len(self.candidates)), key=lambda i: (self.candidates[i].quality, -i))

    def propose(self) -> list[tuple[P.Messages, str, list[int]]]:
        if len(self.candidates) < self.init:
            return [(P.generate(self.problem), "generate", []) for _ in range(self.batch)]
        b = self.best()
        parent = self.candidates[b]
        return [(P.improve(self.problem, parent.text, parent.quality), "improve", [b])
                for _ in range(self.batch)]
