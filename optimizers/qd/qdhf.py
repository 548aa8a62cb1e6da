"""QDHF: quality diversity through human(-like) feedback, with axes learned from triplets.

Instead of axes written as text, QDHF learns K diversity axes from similarity judgements
("which of B and C is more like A?", asked of the LLM). Texts are embedded (MiniLM from
the `[embed]` extra when installed, else the dependency-free `HashingEmbedder`, a bag of
hashed words; `embedder=` picks one), a linear projection is fitted to the judgements
(`projection.fit_projection`), and each learned axis is cut into `bins` equal-count bins
of the projected pool. The archive on those axes then runs like QDAIF's, except that
placing a candidate costs no LLM call (the projection places it) and mutations ask for
"a variation that differs" (learned axes have no words for a target).

Schedule: the first `init` candidates are fresh generations; then `triplets` judgements
are collected and the projection is fitted; every `refit_every` iterations `triplets`
more are collected, the projection is refitted and the whole pool is re-inserted into a
fresh archive (one vectorized insert).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import prompts as P
from .projection import digitize, fit_projection, quantile_edges, triplet_accuracy
from .search import Candidate, QDSearch
from .spec import Axis, QDProblem


def default_embedder() -> Any:
    """MiniLM when the `[embed]` extra is installed, else `HashingEmbedder(256)` (documented fallback)."""
    from undertow.optimizers.experience.embed import HashingEmbedder

    try:
        from undertow.optimizers.experience.embed import MiniLMEmbedder

        return MiniLMEmbedder()
    except ImportError:
        return HashingEmbedder(256)


def learned_problem(problem: QDProblem, k: int, bins: int) -> QDProblem:
    """The same brief and rule, with K learned axes of `bins` bins each."""
    axes = tuple(Axis(f"learned_{i}", "a direction learned from similarity judgements",
                      tuple(f"q{j}" for j in range(bins))) for i in range(k))
    return QDProblem(problem.brief, problem.rule, axes)


class QDHF(QDSearch):
    """MAP-Elites on learned axes (see the module docstring)."""

    name = "qdhf"

    def __init__(self, parameters: Any, llm: Any, problem: QDProblem, *, k: int = 2, bins: int = 5,
                 init: int = 12, triplets: int = 16, refit_every: int = 5, p_crossover: float = 0.25,
                 embedder: Any = None, **kwargs: Any) -> None:
        self.text_problem = problem
        super().__init__(parameters, llm, learned_problem(problem, k, bins), judge_axes=False, **kwargs)
        self.k, self.bins, self.init = int(k), int(bins), int(init)
        self.n_triplets, self.refit_every, self.p_crossover = int(triplets), int(refit_every), float(p_crossover)
        self.embedder = embedder if embedder is not None else default_embedder()
        self.triplets: list[list[int]] = []          # (anchor, closer, farther) candidate ids
        self.w: np.ndarray | None = None
        self.edges: np.ndarray | None = None
        self.fit_accuracy = float("nan")
        self._emb: dict[int, np.ndarray] = {}

    # -- embeddings and the projection ----------------------------------------------------
    def embeddings(self, ids: list[int]) -> np.ndarray:
        missing = [i for i in ids if i not in self._emb]
        if missing:
            vecs = self.embedder.embed([self.candidates[i].text for i in missing])
            for i, v in zip(missing, vecs):
                self._emb[i] = np.asarray(v, dtype=np.float64)
        return np.stack([self._emb[i] for i in ids]) if ids else np.zeros((0, 1))

    def collect_triplets(self) -> None:
        """Ask `n_triplets` similarity judgements about random triples of the pool."""
        n = len(self.candidates)
        if n < 3:
            return
        triples = [self.rng.sample(range(n), 3) for _ in range(self.n_triplets)]
        replies = self._ask([P.triplet(*(self.candidates[i].text for i in t)) for t in triples], write=False)
        for (a, b, c), reply in zip(triples, replies):
            choice = P.parse_choice(reply)
            if choice == "B":
                self.triplets.append([a, b, c])
            elif choice == "C":
                self.triplets.append([a, c, b])

    def refit(self) -> None:
        """Fit the projection on all triplets so far, re-cut bins, re-insert the whole pool."""
        ids = list(range(len(self.candidates)))
        x = self.embeddings(ids)
        t = np.asarray(self.triplets, dtype=np.int64).reshape(-1, 3)
        self.w = fit_projection(x, t, self.k, seed=self.seed)
        self.fit_accuracy = triplet_accuracy(x, t, self.w)
        z = x @ self.w
        self.edges = quantile_edges(z, self.bins)
        self.archive = self.problem.archive(self.archive.backend_name)
        cells = self.archive.cell_index(digitize(z, self.edges))
        for c, cell in zip(self.candidates, cells):
            c.cell = int(cell)
        self.archive.insert(cells, [c.quality for c in self.candidates], ids)

    def place(self, new: list[Candidate]) -> None:
        super().place(new)                     # quality only (judge_axes is False)
        if self.w is None:
            return
        first = len(self.candidates)
        for j, c in enumerate(new):            # embed under the ids they are about to get
            self._emb[first + j] = np.asarray(self.embedder.embed([c.text])[0], dtype=np.float64)
        z = np.stack([self._emb[first + j] for j in range(len(new))]) @ self.w
        cells = self.archive.cell_index(digitize(z, self.edges))
        for c, cell in zip(new, cells):
            c.cell = int(cell)

    # -- the loop -------------------------------------------------------------------------
    def propose(self) -> list[tuple[P.Messages, str, list[int]]]:
        if self.w is None and len(self.candidates) >= self.init:
            self.collect_triplets()
            self.refit()
        elif self.w is not None and self.steps % self.refit_every == 0:
            self.collect_triplets()
            self.refit()
        out: list[tuple[P.Messages, str, list[int]]] = []
        for _ in range(self.batch):
            if self.w is None or not len(self.archive.filled):
                out.append((P.generate(self.problem), "generate", []))
                continue
            first = self.random_elite()
            if self.rng.random() < self.p_crossover and len(self.archive.filled) > 1:
                second = self.random_elite()
                out.append((P.crossover(self.problem, self.candidates[first].text,
                                        self.candidates[second].text, None), "crossover", [first, second]))
            else:
                out.append((P.mutate(self.problem, self.candidates[first].text, None), "mutate", [first]))
        return out

    # -- state ----------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        state = super().extra_state()
        state.update(triplets=self.triplets, w=None if self.w is None else self.w.tolist(),
                     edges=None if self.edges is None else self.edges.tolist(),
                     fit_accuracy=None if np.isnan(self.fit_accuracy) else self.fit_accuracy)
        return state

    def load_extra_state(self, state: dict[str, Any]) -> None:
        super().load_extra_state(state)
        if not state:
            return
        self.triplets = [list(t) for t in state.get("triplets", [])]
        self.w = None if state.get("w") is None else np.asarray(state["w"], dtype=np.float64)
        self.edges = None if state.get("edges") is None else np.asarray(state["edges"], dtype=np.float64)
        acc = state.get("fit_accuracy")
        self.fit_accuracy = float("nan") if acc is None else float(acc)
        self._emb = {}
