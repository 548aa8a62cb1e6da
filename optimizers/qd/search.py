"""The shared loop of every QD search here: make candidates with an LLM, judge them,
insert them into a MAP-Elites archive, log every proposal, keep resumable state.

A search is an `Optimizer` over one `json` parameter (the archive it returns: its
candidates and elites). Each `step()` is one iteration: `propose()` (subclasses) returns
requests for new texts, the LLM writes them, `place()` (subclasses may override) judges
quality and cells, and the archive takes the batch in one vectorized insert. `calls`
counts every LLM call the search made, so searches compare at matched calls.
"""

from __future__ import annotations

import random
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from undertow.engine import Parameter
from undertow.engine.llm import LLM
from undertow.optimizers.base import Optimizer, Proposal

from . import prompts as P
from .archive import Archive
from .spec import QDProblem


@dataclass
class Candidate:
    """One generated text: how it was made, its judged quality and cell (-1: unplaced)."""

    text: str
    op: str
    parents: list[int]
    quality: float = 0.0
    cell: int = -1
    step: int = 0


def archive_parameter(name: str = "archive") -> Parameter:
    """The json parameter a QD search writes its result to."""
    return Parameter({"candidates": [], "elites": []}, "json", name=name,
                     description="the archive of a quality-diversity search: every candidate and the elites")


class QDSearch(Optimizer):
    """Base class of QDAIF, QDHF and the baselines (see the module docstring).

    `batch`: candidates per iteration; `judge_axes`: place candidates by LLM axis
    judgements (K calls each); `seed`: the search's own RNG (selection, operators).
    """

    #: The operator names this search logs.
    name = "qd"

    def __init__(self, parameters: Sequence[Parameter], llm: LLM, problem: QDProblem, *,
                 batch: int = 4, seed: int = 0, judge_axes: bool = True, backend: str | None = None,
                 temperature: float = 1.0) -> None:
        super().__init__(parameters)
        if len(self.parameters) != 1 or self.parameters[0].kind != "json":
            raise ValueError(f"{type(self).__name__} optimizes one json parameter (the archive; "
                             "build it with undertow.optimizers.qd.archive_parameter())")
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self.llm, self.problem, self.batch = llm, problem, int(batch)
        self.judge_axes, self.temperature = judge_axes, temperature
        self.archive: Archive = problem.archive(backend)
        self.candidates: list[Candidate] = []
        self.rng = random.Random(f"qd/{type(self).__name__}/{seed}")
        self.seed = seed
        self.calls = 0
        self.draws = 0          # generation requests sent (the sample index of repeated ones)
        self.history: list[dict[str, float]] = []   # after each step: calls, qd_score, coverage

    # -- LLM -------------------------------------------------------------------------------
    def _ask(self, requests: list[P.Messages], *, write: bool) -> list[str]:
        """Send requests (writers sampled at `temperature`, judges at 0); count the calls."""
        if not requests:
            return []
        if write:
            kw: list[dict[str, Any]] = []
            for _ in requests:
                kw.append({"temperature": self.temperature, "sample_index": self.draws})
                self.draws += 1
            out = []
            for r, k in zip(requests, kw):
                self.calls += 1
                out.append(self.llm.complete(r, purpose="optimizer", **k).text)
            return out
        self.calls += len(requests)
        replies = self.llm.complete_many(requests, purpose="optimizer", temperature=0.0)
        return [r.text for r in replies]

    # -- the loop ----------------------------------------------------------------------------
    @abstractmethod
    def propose(self) -> list[tuple[P.Messages, str, list[int]]]:
        """Requests for this iteration's new texts: (messages, operator, parent ids)."""

    def place(self, new: list[Candidate]) -> None:
        """Judge quality (1 call each) and, with `judge_axes`, each axis (K calls each)."""
        scores = self._ask([P.rate_quality(self.problem, c.text) for c in new], write=False)
        for c, s in zip(new, scores):
            c.quality = P.parse_score(s) or 0.0
        if not self.judge_axes:
            return
        coords = np.zeros((len(new), len(self.problem.axes)), dtype=np.int64)
        ok = np.ones(len(new), dtype=bool)
        for k, axis in enumerate(self.problem.axes):
            labels = self._ask([P.rate_axis(axis, c.text) for c in new], write=False)
            for i, reply in enumerate(labels):
                b = P.parse_label(reply, axis.bins)
                if b is None:
                    ok[i] = False
                else:
                    coords[i, k] = b
        for i, c in enumerate(new):
            c.cell = int(self.archive.cell_index(coords[i])[0]) if ok[i] else -1

    def step(self) -> list[Proposal]:
        self.steps += 1
        requests = self.propose()
        replies = self._ask([r for r, _, _ in requests], write=True)
        new: list[Candidate] = []
        dropped = []
        for (_, op, parents), reply in zip(requests, replies):
            text = P.parse_text(reply)
            if text is None:
                dropped.append(op)
                continue
            new.append(Candidate(text=text, op=op, parents=parents, step=self.steps))
        if new:
            self.place(new)
        first = len(self.candidates)
        self.candidates.extend(new)
        placed = self._insert(new, first)
        proposals = []
        for j, c in enumerate(new):
            proposals.append(self.record(Proposal(
                step=self.steps, parameter=self.names[id(self.parameters[0])], old=None, new=c.text,
                accepted=bool(placed[j]), reason="new elite" if placed[j] else
                ("no cell (an axis judgement named no bin)" if c.cell < 0 else "not better than the elite"),
                meta={"op": c.op, "parents": c.parents, "quality": c.quality, "cell": c.cell,
                      "id": first + j})))
        for op in dropped:
            proposals.append(self.record(Proposal(
                step=self.steps, parameter=self.names[id(self.parameters[0])], old=None, new="",
                accepted=False, reason="the reply held no text", meta={"op": op})))
        self._publish()
        self.history.append({"step": self.steps, "calls": self.calls, **self.measures()})
        return proposals

    def _insert(self, new: list[Candidate], first: int) -> np.ndarray:
        placed = np.zeros(len(new), dtype=bool)
        idx = [j for j, c in enumerate(new) if c.cell >= 0]
        if idx:
            got = self.archive.insert([new[j].cell for j in idx], [new[j].quality for j in idx],
                                      [first + j for j in idx])
            placed[idx] = got
        return placed

    def measures(self) -> dict[str, float]:
        """The search's own archive: QD-score (normalised) and coverage."""
        return {"qd_score": self.archive.qd_score_normalised(), "coverage": self.archive.coverage()}

    def elites(self) -> list[dict[str, Any]]:
        """The archive's elites: cell, bins, quality, text."""
        out = []
        for cell in self.archive.filled:
            c = self.candidates[int(self.archive.payload[cell])]
            coords = self.archive.cell_coords([cell])[0].tolist()
            out.append({"cell": int(cell), "coords": coords, "quality": c.quality, "text": c.text})
        return out

    def _publish(self) -> None:
        """Write the result (all candidates, the elites' ids) to the parameter."""
        value = {"candidates": [{"text": c.text, "op": c.op} for c in self.candidates],
                 "elites": [int(self.archive.payload[c]) for c in self.archive.filled]}
        self.parameters[0].set(value)

    # -- selection helpers -------------------------------------------------------------------
    def random_elite(self) -> int:
        """A candidate id, uniform over the filled cells."""
        filled = self.archive.filled
        return int(self.archive.payload[filled[self.rng.randrange(len(filled))]])

    # -- state ---------------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"candidates": [asdict(c) for c in self.candidates], "archive": self.archive.state_dict(),
                "rng": _rng_json(self.rng.getstate()), "calls": self.calls, "draws": self.draws,
                "history": self.history}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.candidates = [Candidate(**c) for c in state["candidates"]]
        self.archive.load_state_dict(state["archive"])
        self.rng.setstate(_rng_restore(state["rng"]))
        self.calls, self.draws = int(state["calls"]), int(state["draws"])
        self.history = list(state.get("history", []))


def _rng_json(state: tuple[Any, ...]) -> list[Any]:
    version, inner, gauss = state
    return [version, list(inner), gauss]


def _rng_restore(data: list[Any]) -> tuple[Any, ...]:
    return (data[0], tuple(data[1]), data[2])
