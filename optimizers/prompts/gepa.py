"""GEPA: reflective evolution of whole programs with Pareto selection over instances.

The algorithm of "GEPA: Reflective Prompt Evolution Can Outperform Reinforcement
Learning" (Agrawal et al., 2025), in this library's terms (docs/prompt-optimizers.md):

- **Pool**: candidate programs (a value for every parameter), each scored on every
  item of the Pareto set (``val``): a ``[candidates, instances]`` score table.
- **Parent selection**: the Pareto front over instances — for each instance the
  candidates that reach its best score; dominated ones are removed; a parent is
  drawn with probability proportional to the number of instances it is best on. So
  a candidate that is the only one solving a few items survives next to the one of
  best mean.
- **Reflective mutation**: one text parameter of the parent changes (round-robin per
  candidate; a child goes on from its parent's turn). The parent runs on a training
  minibatch; the optimizer model reads the parameter's value and, for each item, what
  that parameter's call saw and wrote, the final output, the expected answer and the
  feedback, and writes a new value. The child runs on the same minibatch; only if it
  scores higher on the items the parameter acted on is it scored on the Pareto set
  and added.
- **System-aware merge**: two front candidates descending from a common ancestor,
  each having changed *different* parameters since, are combined (each parameter
  from the side that changed it); the merge is kept if it scores at least as well
  as both on the Pareto set.
- **Budget**: every rollout (one item through the program) is counted by phase;
  ``max_rollouts`` stops the search.

After each step the parameters hold the candidate of best mean Pareto-set score.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from undertow.engine import StateError
from undertow.engine.llm import LLM, run_sync
from undertow.optimizers.base import Proposal
from undertow.optimizers.fanout import Fanout
from undertow.optimizers.program import Program, Rollout, mean
from undertow.optimizers.prompts.common import JSON_REPLY, ProgramOptimizer, rollout_blocks
from undertow.optimizers.search.prompting import Item, as_items, parse_suggestion, variable_block


def reflection_request(name: str, value: str, rollouts: Sequence[Rollout]) -> str:
    """Ask for a new value of one parameter from its execution traces and the feedback."""
    return (f"{variable_block(name, value)}\nThe variable above is one instruction of a larger "
            f"program. For each item below: the input this instruction's step received, the "
            f"program's final output, the expected answer and the feedback on it:\n"
            f"{rollout_blocks(rollouts, name)}\n"
            f"Reflect on what went wrong and which general rule of the task the instruction "
            f"misses, then write an improved value of the variable {name} that fixes these "
            f"errors without breaking what already works. {JSON_REPLY}")


class GEPA(ProgramOptimizer):
    """Reflective evolution with Pareto selection over a program's parameters.

    Args:
        program: the program (any number of parameters; its text ones evolve).
        llm: the reflection model.
        train: items for the feedback minibatches.
        val: the Pareto set: every kept candidate is scored on each of its items.
        minibatch: training items per reflective mutation.
        merge: try a merge every ``merge_every`` steps once one is possible (0: never).
        max_rollouts: stop when this many rollouts are spent (None: no limit).
        temperature, seed: the reflection's sampling temperature; seed of all draws.
        fanout: rollouts at once (a width or a `Fanout`; `undertow.optimizers.fanout`):
            minibatch and Pareto-set items as separate jobs. Results do not depend on it.
    """

    def __init__(self, program: Program, llm: LLM, *, train: Sequence[Any], val: Sequence[Any],
                 minibatch: int = 6, merge_every: int = 3, max_rollouts: int | None = None,
                 temperature: float = 0.7, seed: int = 0, fanout: Fanout | int | None = None) -> None:
        super().__init__(program, train=train, seed=seed, fanout=fanout)
        if not program.labelled:
            raise ValueError("GEPA scores candidates with the task metric and its feedback; give it "
                             "a program with a score function")
        if minibatch < 1 or merge_every < 0:
            raise ValueError(f"minibatch must be >= 1 and merge_every >= 0, got {minibatch}, {merge_every}")
        self.llm = llm
        self.val: list[Item] = as_items(val, "val")
        self.minibatch, self.merge_every, self.max_rollouts = minibatch, merge_every, max_rollouts
        self.temperature = temperature
        # {"values", "parents", "origin", "scores": [per Pareto item], "next_param", "step"}
        self.pool: list[dict[str, Any]] = []
        self.rollouts = 0
        self.events: list[dict[str, Any]] = []

    # -- bookkeeping -----------------------------------------------------------------------------
    async def _run(self, values: dict[str, Any], items: Sequence[Item], phase: str) -> list[Rollout]:
        out = await self.program.arun(values, items, fanout=self.fanout)
        self.rollouts += len(out)
        self.spend(phase, rollouts=len(out))
        return out

    async def _add(self, values: dict[str, Any], parents: list[int], origin: str) -> int:
        scores = [float(r.score or 0.0) for r in await self._run(values, self.val, "pareto")]
        self.pool.append({"values": dict(values), "parents": parents, "origin": origin,
                          "scores": scores, "next_param": 0, "step": self.steps})
        return len(self.pool) - 1

    def means(self) -> list[float]:
        return [sum(c["scores"]) / len(c["scores"]) for c in self.pool]

    def front(self) -> dict[int, int]:
        """The Pareto front over instances: candidate -> instances on which it is best.

        Candidates best on some instance are kept unless another such candidate
        dominates them (at least as good everywhere, better somewhere). Instances on
        which every candidate scores the same are left out.
        """
        wins: dict[int, int] = {}
        for i in range(len(self.val)):
            column = [c["scores"][i] for c in self.pool]
            if len(self.pool) > 1 and min(column) == max(column):
                continue  # every candidate alike here: the instance tells them nothing apart
            for k, c in enumerate(self.pool):
                if c["scores"][i] == max(column):
                    wins[k] = wins.get(k, 0) + 1
        if not wins:  # all alike everywhere: each live candidate is on the front
            wins = {k: 1 for k, c in enumerate(self.pool) if c["origin"] != "merge-rejected"}

        def dominated(a: int) -> bool:
            sa = self.pool[a]["scores"]
            return any(b != a and all(x >= y for x, y in zip(self.pool[b]["scores"], sa))
                       and self.pool[b]["scores"] != sa for b in wins)
        return {k: n for k, n in wins.items() if not dominated(k)}

    def select_parent(self, rng: random.Random) -> int:
        """A front candidate, drawn in proportion to the instances it is best on."""
        front = self.front()
        keys = sorted(front)
        return rng.choices(keys, weights=[front[k] for k in keys])[0]

    def ancestors(self, k: int) -> set[int]:
        seen: set[int] = set()
        todo = list(self.pool[k]["parents"])
        while todo:
            a = todo.pop()
            if a not in seen:
                seen.add(a)
                todo.extend(self.pool[a]["parents"])
        return seen

    def changed(self, k: int, ancestor: int) -> set[str]:
        a, c = self.pool[ancestor]["values"], self.pool[k]["values"]
        return {n for n in c if c[n] != a[n]}

    def merge_candidates(self) -> tuple[int, int, int] | None:
        """(i, j, common ancestor) of two front candidates that changed different parameters."""
        front = sorted(self.front())
        done = {tuple(c["parents"]) for c in self.pool if c["origin"] == "merge"}
        for x, i in enumerate(front):
            for j in front[x + 1:]:
                if (i, j) in done:
                    continue
                common = self.ancestors(i) & self.ancestors(j)
                for a in sorted(common, reverse=True):
                    ci, cj = self.changed(i, a), self.changed(j, a)
                    if ci and cj and not ci & cj:
                        return i, j, a
        return None

    # -- the step ----------------------------------------------------------------------------------
    async def _mutate(self, rng: random.Random) -> list[Proposal]:
        k = self.select_parent(rng)
        parent = self.pool[k]
        param = self.text_params[parent["next_param"] % len(self.text_params)]
        parent["next_param"] += 1
        name = param.label
        batch = rng.sample(self.train, min(self.minibatch, len(self.train)))
        before = await self._run(parent["values"], batch, "mutation")
        seen = [r for r in before if r.touched(name)] or before
        reply = await self.llm.acomplete(reflection_request(name, parent["values"][name], seen),
                                         purpose="optimizer", temperature=self.temperature,
                                         sample_index=self.steps % 1000)
        self.spend("mutation", requests=1)
        new = self.valid(param, parse_suggestion(reply.text, name))
        if new is None or new == parent["values"][name]:
            self.events.append({"step": self.steps, "kind": "mutation", "parent": k, "param": name,
                                "kept": False, "why": "no usable new value"})
            return []
        child = {**parent["values"], name: new}
        after = await self._run(child, batch, "mutation")
        # Compare on the items the parameter acted on (all of them for a one-prompt program).
        mine = [i for i, (b, a) in enumerate(zip(before, after)) if b.touched(name) or a.touched(name)]
        mine = mine or list(range(len(batch)))
        old, now = mean([before[i] for i in mine]), mean([after[i] for i in mine])
        if now <= old:
            self.events.append({"step": self.steps, "kind": "mutation", "parent": k, "param": name,
                                "kept": False, "why": f"minibatch {now:.3f} <= {old:.3f} on {len(mine)} items"})
            return []
        idx = await self._add(child, [k], f"mutation:{name}")
        self.pool[idx]["next_param"] = parent["next_param"]  # the child goes on to the next parameter
        self.events.append({"step": self.steps, "kind": "mutation", "parent": k, "param": name,
                            "kept": True, "child": idx, "pareto_mean": self.means()[idx]})
        return []

    async def _merge(self, pair: tuple[int, int, int]) -> None:
        i, j, a = pair
        ci = self.changed(i, a)
        merged = {n: (self.pool[i]["values"][n] if n in ci else self.pool[j]["values"][n])
                  for n in self.pool[a]["values"]}
        scores = [float(r.score or 0.0) for r in await self._run(merged, self.val, "merge")]
        m = sum(scores) / len(scores)
        means = self.means()
        kept = m >= max(means[i], means[j])
        if kept:
            self.pool.append({"values": merged, "parents": [i, j], "origin": "merge", "scores": scores,
                              "next_param": 0, "step": self.steps})
        else:  # remember the attempt, so the same pair is not merged again
            self.pool.append({"values": merged, "parents": [i, j], "origin": "merge-rejected",
                              "scores": [-1.0] * len(scores), "next_param": 0, "step": self.steps})
        self.events.append({"step": self.steps, "kind": "merge", "parents": [i, j], "ancestor": a,
                            "kept": kept, "mean": m})

    async def astep(self) -> list[Proposal]:
        if not self.pool:
            await self._add(self.program.current(), [], "initial")
        rng = random.Random(f"{self.seed}:gepa:{self.steps}")
        if self.max_rollouts is None or self.rollouts < self.max_rollouts:
            pair = self.merge_candidates() if self.merge_every and (self.steps + 1) % self.merge_every == 0 else None
            if pair is not None:
                await self._merge(pair)
            else:
                await self._mutate(rng)
        self.steps += 1
        return self._apply_best()

    def _apply_best(self) -> list[Proposal]:
        means = self.means()
        best = max(range(len(self.pool)), key=lambda k: (means[k], -k))
        proposals = []
        for name, value in self.pool[best]["values"].items():
            proposals += self.apply(name, value, reason=f"GEPA: candidate {best} has the best "
                                    f"Pareto-set mean ({means[best]:.3f})",
                                    meta={"candidate": best, "origin": self.pool[best]["origin"]})
        return proposals

    def step(self) -> list[Proposal]:
        """One merge (when due and possible) or one reflective mutation; apply the best candidate."""
        return run_sync(self.astep())

    # -- resumable state ------------------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {**self.base_state(), "pool": [dict(c, values=dict(c["values"])) for c in self.pool],
                "rollouts": self.rollouts, "events": [dict(e) for e in self.events]}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if not state:
            return
        pool = state.get("pool", [])
        if not isinstance(pool, list) or not all(isinstance(c, dict) and {"values", "scores", "parents"} <= set(c)
                                                 for c in pool):
            raise StateError("GEPA state: 'pool' must be a list of candidates with values, scores, parents")
        self.load_base_state(state)
        self.pool = [dict(c) for c in pool]
        self.rollouts = int(state.get("rollouts", 0))
        self.events = [dict(e) for e in state.get("events", [])]
