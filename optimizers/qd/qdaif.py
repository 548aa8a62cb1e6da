"""QDAIF: quality-diversity through AI feedback (MAP-Elites with LLM operators and judges).

Each iteration makes `batch` candidates. Until `init` candidates exist (or while the
archive is empty) they are fresh generations from the brief. After that each one is,
with probability `p_crossover`, a crossover of two elites, otherwise a mutation of one
elite; parents are drawn uniformly over the filled cells. Both operators name a *target
cell* in words ("tone: cheerful; genre: mystery; length: long"): an empty cell one bin
away from the parent on one axis when there is one, else any empty cell, else a random
cell. Every candidate is judged by the LLM for quality (the rule, 0..10) and for each
axis (one bin label among the axis's bins), then inserted.
"""

from __future__ import annotations

from typing import Any

from . import prompts as P
from .search import QDSearch


class QDAIF(QDSearch):
    """MAP-Elites whose variation and evaluation are LLM calls (see the module docstring)."""

    name = "qdaif"

    def __init__(self, *args: Any, init: int = 8, p_crossover: float = 0.25, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not 0.0 <= p_crossover <= 1.0:
            raise ValueError(f"p_crossover must lie in [0, 1], got {p_crossover}")
        self.init, self.p_crossover = int(init), float(p_crossover)

    def target_cell(self, parent_cell: int) -> int:
        """An empty neighbour of `parent_cell` (one bin away on one axis), else an empty cell,
        else any cell."""
        a = self.archive
        coords = a.cell_coords([parent_cell])[0] if parent_cell >= 0 else None
        empty = set(int(c) for c in (a.payload < 0).nonzero()[0])
        if coords is not None:
            near = []
            for k, size in enumerate(a.shape):
                for d in (-1, 1):
                    c = coords.copy()
                    c[k] += d
                    if 0 <= c[k] < size:
                        cell = int(a.cell_index(c)[0])
                        if cell in empty:
                            near.append(cell)
            if near:
                return self.rng.choice(sorted(near))
        if empty:
            return self.rng.choice(sorted(empty))
        return self.rng.randrange(a.size)

    def describe(self, cell: int) -> str:
        return self.problem.cell_name(self.archive.cell_coords([cell])[0].tolist())

    def propose(self) -> list[tuple[P.Messages, str, list[int]]]:
        out: list[tuple[P.Messages, str, list[int]]] = []
        for _ in range(self.batch):
            if len(self.candidates) + len(out) < self.init or not len(self.archive.filled):
                out.append((P.generate(self.problem), "generate", []))
                continue
            first = self.random_elite()
            target = self.describe(self.target_cell(self.candidates[first].cell))
            if self.rng.random() < self.p_crossover and len(self.archive.filled) > 1:
                second = self.random_elite()
                out.append((P.crossover(self.problem, self.candidates[first].text,
                                        self.candidates[second].text, target), "crossover", [first, second]))
            else:
                out.append((P.mutate(self.problem, self.candidates[first].text, target), "mutate", [first]))
        return out
