"""BeamSearch: APO-style beam search over prompts, with bandit selection of the beam.

One ``step()`` is one round. For every prompt in the beam: run the task model on a
training batch, split the failures into error groups, ask for a critique of each
group (a textual "gradient"), ask for edits that apply each critique, and ask for
paraphrases of each edit (a local Monte Carlo move). The candidates, each prompt of
the beam included as a "keep" child, are the open frontier of the store; a bandit
then spends the evaluation budget: every candidate is scored once on a random
minibatch of the validation items, and the remaining pulls go, a batch of
``parallel`` at a time, to the candidates of highest UCB (the store's UCT score,
with the candidate's parent count as the pull count). The ``beam_width`` candidates
of best mean minibatch score form the next beam; the rest are pruned.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from undertow.engine import InvalidValueError, Module, Parameter
from undertow.engine.llm import LLM, run_sync
from undertow.optimizers.base import Optimizer, Proposal
from undertow.optimizers.search.forest import FLAG_PRUNED, Forest
from undertow.optimizers.search.prompting import (
    Item,
    Outcome,
    RunFn,
    ScoreFn,
    as_items,
    critique_request,
    mean_score,
    paraphrase_request,
    parse_critique,
    parse_suggestion,
    rewrite_request,
    run_prompt,
)
from undertow.optimizers.tree import TreeBackend


@dataclass
class BeamNode:
    """The payload of one candidate: its prompt, how it was made and its round."""

    prompt: str
    origin: str
    depth: int


class BeamSearch(Optimizer):
    """APO beam search over one ``text`` Parameter; ``step()`` runs one round.

    Args:
        parameters: exactly one ``text`` Parameter, or a Module holding one.
        llm: the optimizer LLM; ``task_llm`` answers items (default ``llm``).
        train: items to find errors on.
        val: items to select on.
        score: ``score(prediction, target) -> [0, 1]``.
        beam_width: prompts kept per round.
        error_groups: critiques per beam prompt (failures split into this many groups).
        edits: rewrites per critique.
        paraphrases: paraphrases per rewrite.
        minibatch: validation items per bandit pull.
        eval_budget: pulls per round (default: twice the number of candidates).
        parallel: pulls evaluated concurrently after the first sweep.
        exploration: UCB constant.
        train_batch, max_failures, temperature: as in PromptMCTS.
        capacity, backend, seed: store size, tree backend, seed of all sampling.
        run: how a candidate answers items, as in PromptMCTS.
    """

    def __init__(self, parameters: Iterable[Parameter] | Module, *, llm: LLM,
                 train: Sequence[Any], val: Sequence[Any], score: ScoreFn,
                 task_llm: LLM | None = None, beam_width: int = 3, error_groups: int = 2,
                 edits: int = 1, paraphrases: int = 1, minibatch: int = 8,
                 eval_budget: int | None = None, parallel: int = 4, exploration: float = 0.5,
                 train_batch: int = 12, max_failures: int = 3, temperature: float = 0.7,
                 capacity: int = 4096, backend: str | TreeBackend | None = None,
                 seed: int = 0, run: RunFn | None = None) -> None:
        super().__init__(parameters)
        if len(self.parameters) != 1 or self.parameters[0].kind != "text":
            raise ValueError("BeamSearch optimizes exactly one text Parameter (a prompt); "
                             f"got kinds {[p.kind for p in self.parameters]}; for a program with "
                             f"several parameters use WholeProgram(program, search_factory("
                             f"\"beam\", ...)) (undertow.optimizers.whole)")
        for name, v in (("beam_width", beam_width), ("error_groups", error_groups),
                        ("edits", edits), ("minibatch", minibatch), ("parallel", parallel),
                        ("train_batch", train_batch), ("max_failures", max_failures)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if not isinstance(paraphrases, int) or paraphrases < 0:
            raise ValueError(f"paraphrases must be an int >= 0, got {paraphrases!r}")
        if eval_budget is not None and eval_budget < 1:
            raise ValueError(f"eval_budget must be >= 1 pull per round, got {eval_budget}")
        self.param = self.parameters[0]
        self.llm, self.task_llm = llm, task_llm or llm
        self.train, self.val = as_items(train, "train"), as_items(val, "val")
        self.score_fn = score
        self.run_fn = run
        self.beam_width, self.error_groups, self.edits = beam_width, error_groups, edits
        self.paraphrases, self.minibatch, self.eval_budget = paraphrases, minibatch, eval_budget
        self.parallel, self.exploration = parallel, exploration
        self.train_batch, self.max_failures, self.temperature = (train_batch, max_failures,
                                                                 temperature)
        self.seed = seed
        self.forest = Forest(1, capacity, backend=backend, exploration=exploration,
                             payload_codec=(asdict, lambda d: BeamNode(**d)))
        self.forest.payloads[0, 0] = BeamNode(self.param.value, "initial", 0)
        self.beam: list[int] = [0]
        self.rounds = 0
        self.pulls = 0
        self.wall_seconds = 0.0

    async def _run(self, prompt: str, items: Sequence[Item]) -> list[Outcome]:
        if self.run_fn is not None:
            return list(await self.run_fn(prompt, items))
        return await run_prompt(self.task_llm, prompt, items, self.score_fn)

    def _name(self) -> str:
        return self.names[id(self.param)]

    # ---- candidates ------------------------------------------------------------------
    async def _candidates(self, node: int) -> list[BeamNode]:
        """Edits and paraphrases of one beam prompt, the prompt itself first."""
        info: BeamNode = self.forest.payloads[0, node]
        rng = random.Random(f"{self.seed}:beam:{self.rounds}:{node}")
        batch = rng.sample(self.train, min(self.train_batch, len(self.train)))
        outcomes = await self._run(info.prompt, batch)
        failures = [o for o in outcomes if o.score < 1.0]
        rng.shuffle(failures)
        groups = [g for g in (failures[i::self.error_groups][: self.max_failures]
                              for i in range(self.error_groups)) if g] or [[]]
        name = self._name()
        edits = await _gather([self._edits(name, info.prompt, g, i) for i, g in
                               enumerate(groups)])
        flat = [e for group in edits for e in group]
        paras = await self.llm.acomplete_many(
            [paraphrase_request(name, e) for e in flat for _ in range(self.paraphrases)],
            purpose="optimizer", temperature=self.temperature,
            sample_index=self.rounds % 1000)
        out = [BeamNode(info.prompt, "keep", info.depth + 1)]
        seen = {info.prompt}
        for origin, text in [("edit", e) for e in flat] + [
                ("paraphrase", parse_suggestion(r.text, name)) for r in paras]:
            value = self._valid(text)
            if value is not None and value not in seen:
                seen.add(value)
                out.append(BeamNode(value, origin, info.depth + 1))
        return out

    async def _edits(self, name: str, prompt: str, group: list[Outcome], index: int
                     ) -> list[str]:
        critique = ""
        if group:
            reply = await self.llm.acomplete(critique_request(name, prompt, group),
                                             purpose="optimizer")
            critique = parse_critique(reply.text)
        replies = await self.llm.acomplete_many(
            [rewrite_request(name, prompt, group, critique) for _ in range(self.edits)],
            purpose="optimizer", temperature=self.temperature,
            sample_index=(self.rounds * 97 + index) % 1000)
        return [t for t in (parse_suggestion(r.text, name) for r in replies) if t]

    def _valid(self, text: str | None) -> str | None:
        if text is None:
            return None
        with contextlib.suppress(InvalidValueError):
            return self.param.validate(text)
        return None

    # ---- the bandit --------------------------------------------------------------------
    async def _pull(self, nodes: Sequence[int]) -> np.ndarray:
        """Score each node's prompt on a fresh random minibatch of validation items."""
        async def one(node: int) -> float:
            rng = random.Random(f"{self.seed}:pull:{self.pulls}:{node}")
            self.pulls += 1
            items = rng.sample(self.val, min(self.minibatch, len(self.val)))
            prompt = self.forest.payloads[0, node].prompt
            return mean_score(await self._run(prompt, items))
        return np.array(await _gather([one(n) for n in nodes]), dtype=np.float64)

    async def _select(self, candidates: list[int]) -> list[int]:
        f = self.forest
        values = await self._pull(candidates)
        f.backup(np.array([candidates], dtype=np.int32), values[None, :], release=False)
        budget = (self.eval_budget or 2 * len(candidates)) - len(candidates)
        while budget > 0:
            width = min(self.parallel, budget, len(candidates))
            top = [int(n) for n in f.score("uct", width).index[0] if n >= 0]
            values = await self._pull(top)
            f.backup(np.array([top], dtype=np.int32), values[None, :], release=False)
            budget -= len(top)
        with f.timed():  # exploitation: best means, no exploration bonus
            f.store.exploration[:] = 0.0
        try:
            best = [int(n) for n in f.score("uct", self.beam_width).index[0] if n >= 0]
        finally:
            with f.timed():
                f.store.exploration[:] = self.exploration
        for n in candidates:
            if n not in best:
                f.mark(0, n, FLAG_PRUNED)
        return best

    # ---- one round -----------------------------------------------------------------------
    async def around(self) -> None:
        """One round: candidates from every beam prompt, then the bandit picks the beam."""
        f = self.forest
        kids = await _gather([self._candidates(n) for n in self.beam])
        slots = np.array([self.beam], dtype=np.int32)
        first = f.expand(slots, np.array([[len(k) for k in kids]], dtype=np.int32))
        candidates: list[int] = []
        for j, group in enumerate(kids):
            if first[0, j] < 0:  # store full: keep this beam prompt as it is
                candidates.append(self.beam[j])
                continue
            f.payloads.set_children(0, int(first[0, j]), group)
            candidates.extend(range(int(first[0, j]), int(first[0, j]) + len(group)))
        self.beam = await self._select(candidates)
        self.rounds += 1

    def mean_scores(self) -> dict[int, float]:
        """Mean minibatch score of each beam node (its backed-up value)."""
        visits, sums = self.forest.host("visits", 0), self.forest.host("value_sum", 0)
        return {n: float(sums[n]) / max(int(visits[n]), 1) for n in self.beam}

    def step(self) -> list[Proposal]:
        """One round; then set the prompt to the beam's best (by mean minibatch score)."""
        start = time.perf_counter()
        run_sync(self.around())
        self.steps += 1
        means = self.mean_scores()
        best = max(self.beam, key=lambda n: (means[n], -n))
        info: BeamNode = self.forest.payloads[0, best]
        self.wall_seconds += time.perf_counter() - start
        if info.prompt == self.param.value:
            return []
        return [self.propose(self.param, info.prompt, reason=f"best of the beam ({info.origin})",
                             meta={"mean_minibatch_score": means[best], "round": self.rounds,
                                   "pulls": self.pulls})]

    # ---- resumable state ---------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"forest": self.forest.state_dict(), "beam": list(self.beam),
                "rounds": self.rounds, "pulls": self.pulls, "wall_seconds": self.wall_seconds}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.forest.load_state_dict(state["forest"])
        self.beam = [int(n) for n in state["beam"]]
        self.rounds, self.pulls = int(state["rounds"]), int(state["pulls"])
        self.wall_seconds = float(state["wall_seconds"])


async def _gather(coros: list[Any]) -> list[Any]:
    import asyncio
    return list(await asyncio.gather(*coros))
