"""APE: instructions induced from demonstrations, raced, and resampled around the best.

The algorithm of "Large Language Models Are Human-Level Prompt Engineers" (Zhou et
al., 2022), in the terms of this library (docs/prompt-optimizers.md):

1. **Induction** (first step on a parameter): the optimizer model sees a few
   input -> expected-output demonstrations and writes the instruction that would
   produce them, once per demonstration subset. Two templates alternate: *forward*
   (the demonstrations, then "the instruction was ...") and *fill-in* (the
   instruction slot sits between demonstrations, to be filled).
2. **Racing**: candidates are scored on growing subsets of the scoring items
   (``stages``, e.g. 4, 8, 16 items). After each stage the candidates whose mean is
   below the leader's by more than a confidence margin are dropped, and at least the
   worst ``drop`` fraction goes, so most of the budget goes to the promising ones.
3. **Monte Carlo resampling** (every later step on the parameter): the best
   ``keep`` candidates are paraphrased (same meaning, new wording) and the new
   pool races again; the best seen so far is applied when it beats the current value
   on the items both were scored on. (Scores measured while the program's other
   parameters held other values are dropped before a race.)

Each step works on one text parameter of the program (round-robin). ``pool`` keeps
every candidate with its origin and race record; ``budget`` says where the rollouts
and requests went (induction, race, resample).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from typing import Any

from undertow.engine import StateError
from undertow.engine.llm import LLM, run_sync
from undertow.optimizers.base import Proposal
from undertow.optimizers.program import Program, gather
from undertow.optimizers.prompts.common import JSON_REPLY, ProgramOptimizer, demo_blocks
from undertow.optimizers.search.prompting import Item, paraphrase_request, parse_suggestion, variable_block

TEMPLATES = ("forward", "fill-in")


def induction_request(name: str, demos: Sequence[tuple[str, str]], template: str,
                      current: str = "") -> str:
    """Ask for the instruction that maps each demonstration's input to its output."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown APE template {template!r}; use one of {TEMPLATES}")
    var = variable_block(name, current)
    if template == "forward":
        return (f"I gave a friend an instruction and some inputs. The friend read the instruction "
                f"and wrote the expected output for every input. The demonstrations:\n"
                f"{demo_blocks(demos)}\nThe instruction was the value of this variable:\n{var}\n"
                f"Write a new value of the variable: the instruction that turns each input into "
                f"its expected output. {JSON_REPLY}")
    half = max(1, len(demos) // 2)
    return (f"A teacher wrote an instruction, then graded these demonstrations of it:\n"
            f"{demo_blocks(demos[:half])}\nThe instruction sits here, in the variable:\n{var}\n"
            f"More demonstrations that follow it:\n{demo_blocks(demos[half:])}\n"
            f"Fill in the blank: write a new value of the variable, the instruction that turns "
            f"each input into its expected output. {JSON_REPLY}")


class APE(ProgramOptimizer):
    """Automatic Prompt Engineer over the text parameters of a program.

    Args:
        program: what to optimize (`PromptProgram` for one prompt, any `Program`).
        llm: the optimizer model (induction and resampling requests).
        train: labelled items: demonstrations and the racing items come from here.
        n_prompts: induction requests per induction step (one candidate each).
        n_demos: demonstrations shown per induction request.
        stages: racing subset sizes, increasing (capped at the number of items).
        drop: at least this fraction of the survivors is dropped after each stage.
        confidence: z of the margin below the leader that drops a candidate.
        keep: candidates paraphrased per resampling step.
        n_resample: paraphrases per kept candidate.
        temperature: sampling temperature of the optimizer requests.
        seed: seeds the demonstration subsets and racing order.
    """

    def __init__(self, program: Program, llm: LLM, *, train: Sequence[Any], n_prompts: int = 6,
                 n_demos: int = 5, stages: Sequence[int] = (4, 8, 16), drop: float = 0.5,
                 confidence: float = 1.0, keep: int = 2, n_resample: int = 2,
                 temperature: float = 0.7, seed: int = 0) -> None:
        super().__init__(program, train=train, seed=seed)
        if not program.labelled:
            raise ValueError("APE scores candidates with the task metric; give it a program with "
                             "a score function (not Unlabeled)")
        stages = [int(s) for s in stages]
        if not stages or any(s < 1 for s in stages) or stages != sorted(set(stages)):
            raise ValueError(f"stages must be increasing positive sizes, got {stages}")
        if not 0.0 <= drop < 1.0:
            raise ValueError(f"drop must be in [0, 1), got {drop}")
        for label, v in (("n_prompts", n_prompts), ("n_demos", n_demos), ("keep", keep),
                         ("n_resample", n_resample)):
            if v < 1:
                raise ValueError(f"{label} must be >= 1, got {v}")
        self.llm = llm
        self.n_prompts, self.n_demos, self.stages = n_prompts, n_demos, stages
        self.drop, self.confidence, self.keep, self.n_resample = drop, confidence, keep, n_resample
        self.temperature = temperature
        # Every candidate: {"param", "value", "origin", "step", "scores": {item index: score},
        # "dropped_at": stage size or None}.
        self.pool: list[dict[str, Any]] = []

    # -- candidates ------------------------------------------------------------------------
    def _candidates(self, name: str) -> list[dict[str, Any]]:
        return [c for c in self.pool if c["param"] == name]

    def _add(self, name: str, value: str, origin: str) -> dict[str, Any] | None:
        if any(c["value"] == value for c in self._candidates(name)):
            return None
        cand = {"param": name, "value": value, "origin": origin, "step": self.steps,
                "scores": {}, "dropped_at": None}
        self.pool.append(cand)
        return cand

    async def _demos(self, name: str, rng: random.Random) -> list[tuple[str, str]]:
        """(input the parameter sees, expected final output) pairs for its demonstrations."""
        items = rng.sample(self.train, min(len(self.train), 4 * self.n_demos))
        if len(self.parameters) == 1:
            return [(it.input, it.target) for it in items]
        rollouts = await self.program.arun(self.program.current(), items)
        self.spend("induction", rollouts=len(rollouts))
        return [(next(c.input for c in r.calls if c.parameter == name), r.item.target)
                for r in rollouts if r.touched(name)]

    async def _induce(self, name: str, rng: random.Random) -> None:
        pairs = await self._demos(name, rng)
        if not pairs:
            return
        requests = []
        for j in range(self.n_prompts):
            demos = rng.sample(pairs, min(self.n_demos, len(pairs)))
            requests.append(induction_request(name, demos, TEMPLATES[j % 2], ""))
        replies = await self.llm.acomplete_many(requests, purpose="optimizer",
                                                temperature=self.temperature,
                                                sample_index=self.steps % 1000)
        self.spend("induction", requests=len(requests))
        param = self.by_name(name)
        for j, r in enumerate(replies):
            value = self.valid(param, parse_suggestion(r.text, name))
            if value is not None:
                self._add(name, value, f"induction:{TEMPLATES[j % 2]}")

    async def _resample(self, name: str) -> None:
        alive = sorted(self._candidates(name), key=lambda c: -_lower(c))[: self.keep]
        requests = [paraphrase_request(name, c["value"]) for c in alive for _ in range(self.n_resample)]
        replies = await self.llm.acomplete_many(requests, purpose="optimizer",
                                                temperature=self.temperature,
                                                sample_index=self.steps % 1000)
        self.spend("resample", requests=len(requests))
        param = self.by_name(name)
        for r in replies:
            value = self.valid(param, parse_suggestion(r.text, name))
            if value is not None:
                self._add(name, value, "resample")

    # -- racing ------------------------------------------------------------------------------
    def race_items(self, name: str) -> list[Item]:
        """The racing items of a parameter, in a fixed order (the same for every step)."""
        items = list(self.train)
        random.Random(f"{self.seed}:ape-race:{name}").shuffle(items)
        return items[: self.stages[-1]]

    async def _race(self, name: str, racers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Score ``racers`` on growing prefixes of the race items, dropping the worst early."""
        items = self.race_items(name)
        alive = list(racers)
        for k, size in enumerate(self.stages):
            size = min(size, len(items))
            jobs = [(c, [i for i in range(size) if str(i) not in c["scores"]]) for c in alive]
            jobs = [(c, todo) for c, todo in jobs if todo]
            results = await gather([self.program.arun(self.program.with_value(name, c["value"]),
                                                      [items[i] for i in todo]) for c, todo in jobs])
            for (c, todo), rollouts in zip(jobs, results):
                self.spend("race", rollouts=len(rollouts))
                for i, r in zip(todo, rollouts):
                    c["scores"][str(i)] = float(r.score or 0.0)
            if k == len(self.stages) - 1 or size == len(items):
                break
            alive = self._cut(alive, size)
            if len(alive) <= 1:
                break
        return alive

    def _cut(self, alive: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
        """Drop racers far below the leader, and at least the worst ``drop`` fraction."""
        ranked = sorted(alive, key=lambda c: (-_mean(c), alive.index(c)))
        lead = _mean(ranked[0])
        margin = self.confidence * math.sqrt(0.25 / max(size, 1))  # sd of a mean of 0/1 scores
        keep_n = max(1, math.ceil(len(ranked) * (1.0 - self.drop)))
        survivors = [c for c in ranked[:keep_n] if _mean(c) >= lead - margin]
        for c in ranked:
            if c not in survivors:
                c["dropped_at"] = size
        return survivors

    # -- the step ------------------------------------------------------------------------------
    async def astep(self) -> list[Proposal]:
        param = self.target()
        name = param.label
        rng = random.Random(f"{self.seed}:ape:{self.steps}:{name}")
        current = next((c for c in self._candidates(name) if c["value"] == param.value), None)
        if current is None:
            current = self._add(name, param.value, "current")
        fresh_start = len(self._candidates(name)) <= 1
        before = {id(c) for c in self._candidates(name)}
        if fresh_start:
            await self._induce(name, rng)
        else:
            await self._resample(name)
        new = [c for c in self._candidates(name) if id(c) not in before]
        assert current is not None
        current["dropped_at"] = None  # the incumbent always races
        context = json.dumps({k: v for k, v in self.program.current().items() if k != name},
                             sort_keys=True, default=repr)
        for c in [current, *new]:
            if c.get("context") != context:  # scored while other parameters held other values
                c["scores"], c["context"] = {}, context
        survivors = await self._race(name, [current, *new])
        best = max(survivors, key=lambda c: (_lower(c), -survivors.index(c)))
        self.steps += 1
        if best is current or not _beats(best, current):
            return []
        return self.apply(name, best["value"], reason=f"APE: best of the race ({best['origin']})",
                          meta={"mean": _mean(best), "items": len(best["scores"]),
                                "incumbent_mean": _mean(current), "origin": best["origin"]})

    def step(self) -> list[Proposal]:
        """Induce (first visit of a parameter) or resample (later visits), race, apply the best."""
        return run_sync(self.astep())

    def report(self) -> dict[str, Any]:
        """The candidate pool (value, origin, items scored, mean, where dropped) and the budget."""
        return {"pool": [{"param": c["param"], "origin": c["origin"], "step": c["step"],
                          "items": len(c["scores"]), "mean": _mean(c), "dropped_at": c["dropped_at"],
                          "value": c["value"]} for c in self.pool],
                "budget": dict(self.budget)}

    # -- resumable state -------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {**self.base_state(), "pool": [dict(c, scores=dict(c["scores"])) for c in self.pool]}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if not state:
            return
        pool = state.get("pool", [])
        if not isinstance(pool, list) or not all(isinstance(c, dict) and {"param", "value", "scores"} <= set(c)
                                                 for c in pool):
            raise StateError("APE state: 'pool' must be a list of candidates with param, value, scores")
        self.load_base_state(state)
        self.pool = [dict(c, scores={str(k): float(v) for k, v in c["scores"].items()}) for c in pool]


def _mean(c: dict[str, Any]) -> float:
    s = c["scores"]
    return sum(s.values()) / len(s) if s else -1.0


def _lower(c: dict[str, Any]) -> float:
    """A pessimistic mean: the mean less one standard error of a 0/1 score."""
    n = len(c["scores"])
    return _mean(c) - math.sqrt(0.25 / n) if n else -2.0


def _beats(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """``a`` scores higher than ``b`` on the items both were scored on."""
    common = set(a["scores"]) & set(b["scores"])
    if not common:
        return False
    return sum(a["scores"][i] for i in common) > sum(b["scores"][i] for i in common)
