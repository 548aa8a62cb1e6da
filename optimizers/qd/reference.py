"""The common yardstick: every search's candidates placed in one archive on the text axes.

QDAIF, QDHF and the baselines each keep their own archive (QDHF's is on learned axes),
so they are compared on a *reference archive*: the problem's text axes judged by an
evaluation LLM (the same axis request QDAIF uses; its calls are not charged to the
searches) and fitness from a checkable quality function (the task's rule in code, not
an LLM's opinion). Judgements are memoised per text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from undertow.engine.llm import LLM

from . import prompts as P
from .archive import Archive
from .spec import QDProblem


class ReferenceScorer:
    """Place texts on `problem`'s axes with `llm`; fitness = `quality(text)` in [0, 1]."""

    def __init__(self, problem: QDProblem, llm: LLM, quality: Callable[[str], float]) -> None:
        self.problem, self.llm, self.quality = problem, llm, quality
        self._cells: dict[str, int] = {}

    def cells(self, texts: Sequence[str]) -> list[int]:
        """Flat cell per text (-1 when an axis judgement named no bin)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._cells]
        if todo:
            coords = np.zeros((len(todo), len(self.problem.axes)), dtype=np.int64)
            ok = np.ones(len(todo), dtype=bool)
            for k, axis in enumerate(self.problem.axes):
                replies = self.llm.complete_many([P.rate_axis(axis, t) for t in todo],
                                                 purpose="judge", temperature=0.0)
                for i, r in enumerate(replies):
                    b = P.parse_label(r.text, axis.bins)
                    ok[i] &= b is not None
                    coords[i, k] = b or 0
            archive = self.problem.archive()
            for i, t in enumerate(todo):
                self._cells[t] = int(archive.cell_index(coords[i])[0]) if ok[i] else -1
        return [self._cells[t] for t in texts]

    def archive(self, texts: Sequence[str]) -> Archive:
        """A fresh reference archive holding `texts` (ids: their positions)."""
        archive = self.problem.archive()
        cells = self.cells(texts)
        keep = [i for i, c in enumerate(cells) if c >= 0]
        archive.insert([cells[i] for i in keep], [self.quality(texts[i]) for i in keep], keep)
        return archive
