"""PromptMCTS: Monte Carlo tree search over prompts (PromptAgent semantics).

States are prompts. Expanding a node runs the task model with its prompt on a
training batch, asks the optimizer LLM to explain the errors, then asks for ``k``
rewrites that fix them, each shown a different subset of the failures, the critique
and the lineage of ancestor prompts with their scores. A child's reward is its
held-out (validation) score. Selection is UCT on the vectorised store, several paths
per tree at once under virtual loss; a batch of ``num_trees`` independent trees (each
drawing its own training batches) grows in one call per store operation, and every
LLM call of one iteration, over all trees and leaves, runs concurrently.

Values: a path's leaf backs up the best validation score seen in its expansion (its
own, or its best child's), so a node's Q is the mean over visits of the best score
reached through it. Children at ``depth_limit`` are terminal; a child scoring more
than ``prune_margin`` below its tree's best is pruned. The search stops early when a
prompt reaches ``target_score`` or when ``patience`` iterations bring no improvement.
The answer is the best-scoring node on the best path (most visited children from the
root) of the tree whose such node scores highest.
"""

from __future__ import annotations

import asyncio
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
from undertow.optimizers.fanout import Fanout, as_fanout, per_item
from undertow.optimizers.search.forest import FLAG_PRUNED, FLAG_TERMINAL, Forest
from undertow.optimizers.search.prompting import (
    Item,
    Outcome,
    RunFn,
    ScoreFn,
    as_items,
    critique_request,
    mean_score,
    parse_critique,
    parse_suggestion,
    rewrite_request,
    run_prompt,
)
from undertow.optimizers.tree import TreeBackend


@dataclass
class PromptNode:
    """The payload of one node: its prompt, held-out score and depth."""

    prompt: str
    score: float
    depth: int


class PromptMCTS(Optimizer):
    """MCTS over the value of one ``text`` Parameter; ``step()`` runs one iteration.

    Args:
        parameters: exactly one ``text`` Parameter (the prompt), or a Module holding one.
        llm: the optimizer LLM (critiques and rewrites).
        train: items the task model is run on to find errors (``.input``/``.target``).
        val: held-out items; a prompt's reward is its mean score on them.
        score: ``score(prediction, target) -> float`` in [0, 1].
        task_llm: the model that answers items under the prompt (default ``llm``).
        num_trees: B, independent trees searched side by side.
        k: rewrites per expansion.
        paths: leaves selected per tree per iteration (virtual loss spreads them).
        depth_limit: maximum edit depth below the initial prompt.
        train_batch: training items run per expansion.
        max_failures: failing examples shown per rewrite request.
        exploration: UCT constant c.
        prune_margin: children scoring this far below their tree's best are pruned.
        target_score: stop once a prompt scores at least this on ``val``.
        patience: stop after this many iterations without a better prompt (None: never).
        temperature: sampling temperature of the rewrite requests.
        capacity: nodes per tree (default fits ``64`` iterations).
        backend: tree backend name or object (default: chosen by the forest's size).
        seed: seeds the training batches and failure subsets.
        fanout: jobs at once (a width or a `Fanout`; `undertow.optimizers.fanout`): leaf
            expansions, the scoring of their children and the items of a batch. None:
            expansions all at once, children scored in turn. Results do not depend on it.
        run: ``await run(prompt, items) -> [Outcome]``, how a candidate answers items
            (default: the prompt as the system prompt of ``task_llm``); whole-program
            searches pass one that runs the program with the candidate in place.
    """

    def __init__(self, parameters: Iterable[Parameter] | Module, *, llm: LLM,
                 train: Sequence[Any], val: Sequence[Any], score: ScoreFn,
                 task_llm: LLM | None = None, num_trees: int = 1, k: int = 3, paths: int = 2,
                 depth_limit: int = 4, train_batch: int = 8, max_failures: int = 3,
                 exploration: float = 1.0, prune_margin: float = 0.2,
                 target_score: float = 1.0, patience: int | None = None,
                 temperature: float = 0.7, capacity: int | None = None,
                 backend: str | TreeBackend | None = None, seed: int = 0,
                 run: RunFn | None = None, fanout: Fanout | int | None = None) -> None:
        super().__init__(parameters)
        if len(self.parameters) != 1 or self.parameters[0].kind != "text":
            raise ValueError("PromptMCTS optimizes exactly one text Parameter (a prompt); "
                             f"got kinds {[p.kind for p in self.parameters]}; for a program with "
                             f"several parameters use WholeProgram(program, search_factory("
                             f"\"mcts\", ...)) (undertow.optimizers.whole)")
        for name, v in (("num_trees", num_trees), ("k", k), ("paths", paths),
                        ("depth_limit", depth_limit), ("train_batch", train_batch),
                        ("max_failures", max_failures)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        self.param = self.parameters[0]
        self.llm, self.task_llm = llm, task_llm or llm
        self.train, self.val = as_items(train, "train"), as_items(val, "val")
        self.score_fn = score
        self.run_fn = run
        self.k, self.paths, self.depth_limit = k, paths, depth_limit
        self.train_batch, self.max_failures = train_batch, max_failures
        self.prune_margin, self.target_score, self.patience = prune_margin, target_score, patience
        self.temperature, self.seed = temperature, seed
        capacity = capacity or 1 + 64 * paths * k
        self.forest = Forest(num_trees, capacity, backend=backend, exploration=exploration,
                             discount=1.0, payload_codec=(asdict, lambda d: PromptNode(**d)))
        self.val_cache: dict[str, float] = {}
        self.fanout = as_fanout(fanout)
        self._scoring: dict[str, Any] = {}  # prompt -> its validation scoring in flight
        self.best: tuple[float, str] | None = None
        self.iterations = 0
        self.stale = 0
        self.done = False
        self.wall_seconds = 0.0

    async def _run(self, prompt: str, items: Sequence[Item]) -> list[Outcome]:
        if self.fanout is not None:
            return await per_item(self.fanout, lambda part: self._run_all(prompt, part), items)
        return await self._run_all(prompt, items)

    async def _run_all(self, prompt: str, items: Sequence[Item]) -> list[Outcome]:
        if self.run_fn is not None:
            return list(await self.run_fn(prompt, items))
        return await run_prompt(self.task_llm, prompt, items, self.score_fn)

    # ---- scoring -----------------------------------------------------------------
    async def _val_score(self, prompt: str) -> float:
        """The prompt's validation score, computed once: concurrent jobs asking for the same
        prompt share one scoring (so the calls spent do not depend on the fan-out)."""
        if prompt in self.val_cache:
            return self.val_cache[prompt]
        pending = self._scoring.get(prompt)
        if pending is None:
            pending = self._scoring[prompt] = asyncio.ensure_future(self._run(prompt, self.val))
        try:
            outcomes = await asyncio.shield(pending)
        finally:
            if pending.done():
                self._scoring.pop(prompt, None)
        self.val_cache[prompt] = mean_score(outcomes)
        return self.val_cache[prompt]

    def _rng(self, tree: int, node: int) -> random.Random:
        return random.Random(f"{self.seed}:{tree}:{node}")

    # ---- one expansion -------------------------------------------------------------
    async def _expand(self, tree: int, node: int) -> list[PromptNode]:
        """Children of one node: critique its errors on a train batch, then k rewrites."""
        info: PromptNode = self.forest.payloads[tree, node]
        rng = self._rng(tree, node)
        batch = rng.sample(self.train, min(self.train_batch, len(self.train)))
        outcomes = await self._run(info.prompt, batch)
        failures = [o for o in outcomes if o.score < 1.0]
        name = self.names[id(self.param)]
        critique = ""
        if failures:
            reply = await self.llm.acomplete(
                critique_request(name, info.prompt, failures[: self.max_failures]),
                purpose="optimizer")
            critique = parse_critique(reply.text)
        lineage = [(self.forest.payloads[tree, n].prompt, self.forest.payloads[tree, n].score)
                   for n in self.forest.path_to_root(tree, node)[:-1]]
        requests = [rewrite_request(name, info.prompt, _subset(failures, j, self.max_failures,
                                                               rng), critique, lineage)
                    for j in range(self.k)]
        replies = await self.llm.acomplete_many(
            requests, purpose="optimizer", temperature=self.temperature,
            sample_index=node % 1000)
        new: list[str] = []
        for r in replies:
            text = parse_suggestion(r.text, name)
            if text is None or text == info.prompt or text in new:
                continue
            with contextlib.suppress(InvalidValueError):  # a constraint rejects it
                new.append(self.param.validate(text))
        if self.fanout is None:
            scores = [await self._val_score(p) for p in new]
        else:
            scores = await self.fanout.map(self._val_score, new)
        return [PromptNode(p, s, info.depth + 1) for p, s in zip(new, scores)]

    # ---- one iteration -------------------------------------------------------------
    async def _root(self) -> None:
        if (0, 0) in self.forest.payloads:
            return
        s = await self._val_score(self.param.value)
        for b in range(self.forest.batch):
            self.forest.payloads[b, 0] = PromptNode(self.param.value, s, 0)
        self.best = (s, self.param.value)

    async def astep_search(self) -> None:
        """One search iteration over all trees (async; ``step`` wraps it)."""
        await self._root()
        f = self.forest
        leaves = f.descend("uct", self.paths)
        jobs: dict[tuple[int, int], Any] = {}
        for b in range(f.batch):
            for leaf in dict.fromkeys(int(x) for x in leaves[b]):
                if self._expandable(b, leaf):
                    jobs[b, leaf] = self._expand(b, leaf)
        try:
            gather = self.fanout.gather if self.fanout is not None else _gather
            results = dict(zip(jobs, await gather(list(jobs.values()))))
        except BaseException:
            f.backup(leaves, self._own_scores(leaves))  # release virtual loss, then stop
            raise
        values = self._own_scores(leaves)
        self._grow(results, leaves, values)
        f.backup(leaves, values)
        self.iterations += 1

    def _expandable(self, tree: int, node: int) -> bool:
        flags = int(self.forest.host("flags", tree)[node])
        return not flags & int(FLAG_TERMINAL) and not self.forest.children(tree, node)

    def _own_scores(self, leaves: np.ndarray) -> np.ndarray:
        return np.array([[self.forest.payloads[b, int(n)].score for n in row]
                         for b, row in enumerate(leaves)], dtype=np.float64)

    def _grow(self, results: dict[tuple[int, int], list[PromptNode]], leaves: np.ndarray,
              values: np.ndarray) -> None:
        f = self.forest
        width = max((sum(1 for (b, _) in results if b == t) for t in range(f.batch)), default=0)
        if width == 0:
            return
        slots = np.full((f.batch, width), -1, dtype=np.int32)
        ks = np.zeros((f.batch, width), dtype=np.int32)
        used = [0] * f.batch
        for (b, leaf), kids in results.items():
            slots[b, used[b]], ks[b, used[b]] = leaf, len(kids)
            used[b] += 1
        first = f.expand(slots, ks)
        improved = False
        for (b, leaf), kids in results.items():
            slot = int(np.flatnonzero(slots[b] == leaf)[0])
            if not kids or first[b, slot] < 0:  # nothing usable, or the tree is full
                f.mark(b, leaf, FLAG_TERMINAL)
                continue
            f.payloads.set_children(b, int(first[b, slot]), kids)
            f.init_children(b, int(first[b, slot]), [kid.score for kid in kids])
            best_in_tree = max(p.score for _, p in f.payloads.tree_items(b))
            for j, kid in enumerate(kids):
                node = int(first[b, slot]) + j
                if kid.depth >= self.depth_limit:
                    f.mark(b, node, FLAG_TERMINAL)
                if kid.score < best_in_tree - self.prune_margin:
                    f.mark(b, node, FLAG_PRUNED)
                if self.best is None or kid.score > self.best[0]:
                    self.best, improved = (kid.score, kid.prompt), True
            top = max(kid.score for kid in kids)
            values[b][leaves[b] == leaf] = np.maximum(values[b][leaves[b] == leaf], top)
        self.stale = 0 if improved else self.stale + 1

    # ---- the answer ----------------------------------------------------------------
    def best_on_best_path(self) -> PromptNode:
        """The best-scoring node on the most-visited path of the best tree."""
        best: PromptNode | None = None
        for b in range(self.forest.batch):
            visits = self.forest.host("visits", b)
            node, path = 0, [0]
            while kids := self.forest.children(b, node):
                node = max(kids, key=lambda c: (int(visits[c]), -c))
                path.append(node)
            for n in path:
                info = self.forest.payloads.get(b, n)
                if info is not None and (best is None or info.score > best.score):
                    best = info
        if best is None:
            raise RuntimeError("the search has no scored node yet; call step() first")
        return best

    def step(self) -> list[Proposal]:
        """One iteration; then set the prompt to the best node on the best path."""
        if self.done:
            return []
        start = time.perf_counter()
        run_sync(self.astep_search())
        self.steps += 1
        answer = self.best_on_best_path()
        self.done = bool(answer.score >= self.target_score or (
            self.patience is not None and self.stale >= self.patience))
        self.wall_seconds += time.perf_counter() - start
        if answer.prompt == self.param.value:
            return []
        return [self.propose(self.param, answer.prompt, reason="best node on the best path",
                             meta={"val_score": answer.score, "depth": answer.depth,
                                   "iteration": self.iterations})]

    # ---- resumable state -------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"forest": self.forest.state_dict(), "val_cache": dict(self.val_cache),
                "best": list(self.best) if self.best else None, "iterations": self.iterations,
                "stale": self.stale, "done": self.done, "wall_seconds": self.wall_seconds}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if not state:
            return
        self.forest.load_state_dict(state["forest"])
        self.val_cache = {str(k): float(v) for k, v in state["val_cache"].items()}
        self.best = (float(state["best"][0]), str(state["best"][1])) if state["best"] else None
        self.iterations, self.stale = int(state["iterations"]), int(state["stale"])
        self.done, self.wall_seconds = bool(state["done"]), float(state["wall_seconds"])


def _subset(failures: list[Outcome], j: int, size: int, rng: random.Random) -> list[Outcome]:
    """The failures shown to rewrite ``j``: a different random subset for each rewrite."""
    if len(failures) <= size:
        return list(failures)
    return random.Random(f"{rng.random()}:{j}").sample(failures, size)


async def _gather(coros: list[Any]) -> list[Any]:
    import asyncio
    return list(await asyncio.gather(*coros))


def _warm_up(backend: str | TreeBackend | None) -> float:
    """Run each store kernel once so that JIT compilation is not counted as search time."""
    start = time.perf_counter()
    f = Forest(2, 8, backend=backend)
    f.expand(np.zeros(2, dtype=np.int32), 2)
    f.backup(f.descend("uct", 2), np.zeros((2, 2)))
    f.score("uct", 1)
    return time.perf_counter() - start


def mcts_time_share(train: Sequence[Any], val: Sequence[Any], score: ScoreFn, *,
                    llm: LLM | None = None, prompt: str = "Answer the question.",
                    iterations: int = 6, **options: Any) -> dict[str, Any]:
    """Run one PromptMCTS search and report the share of its wall time in tree operations.

    Tree time is the wall time of every store call (descend, expand, backup, flag and
    field reads), measured with ``time.perf_counter`` around each; the rest is LLM calls,
    scoring and Python bookkeeping. ``llm`` defaults to the simulator (``llm=sim`` in
    the result). ``options`` go to :class:`PromptMCTS` (patience, target_score are off
    unless given, so that every iteration runs).
    """
    from undertow.engine.llm import make_llm

    spec = "sim" if llm is None else getattr(llm, "model", "?")
    llm = llm or make_llm("sim", cache_dir=False)
    options.setdefault("target_score", 2.0)
    param = Parameter(prompt, kind="text", name="system_prompt")
    opt = PromptMCTS([param], llm=llm, train=train, val=val, score=score, **options)
    warmup = _warm_up(opt.forest.backend)  # the backend chosen for this forest's size
    initial = None
    for _ in range(iterations):
        opt.step()
        initial = initial if initial is not None else opt.forest.payloads[0, 0].score
    f = opt.forest
    return {"llm": spec, "backend": f.backend.name, "iterations": opt.iterations,
            "num_trees": f.batch, "nodes": int(f.host("num_nodes").sum()),
            "wall_s": opt.wall_seconds, "tree_s": f.tree_seconds, "tree_calls": f.tree_calls,
            "tree_share": f.tree_seconds / opt.wall_seconds if opt.wall_seconds else 0.0,
            "initial_val": initial, "best_val": opt.best_on_best_path().score,
            "llm_calls": llm.accounting.summary()["total"]["calls"], "jit_warmup_s": warmup}
