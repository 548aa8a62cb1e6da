"""Memories for streams of items (Evo-Memory): ExpRAG and a ReMem-style loop.

An agent on a stream answers item after item. A `StreamMemory` gives it, for each new
item, the text to add to its prompt (`context_for`), then hears how the item went
(`observe`). Both kinds keep their memory in an `ExperienceStore`:

- `ExpRAG`: every answered item becomes an experience (a `Trajectory` record, status
  active) with its reward and feedback, failures as well as successes. For a new item
  it retrieves the top-k experiences by the store's retrieval (BM25 over input and
  output, reranked by measured utility) and shows them as in-context experiences:
  the item, the answer given, and the feedback it got.
- `ReMem`: ExpRAG's experiences, plus a loop of act, reflect, refine. After a failure it
  asks the LLM to reflect on the attempt (the curator request of curator.py: what the
  failure lacks against recent successes) and applies the returned operations (ADD,
  EDIT, UPVOTE, MERGE, ...) with `apply_operations`, as one unit: if applying raises,
  the library is restored to what it was before (`atomic_ops`). Every `prune_every`
  items it votes on insights by measured effect (mean reward of the items they were
  shown with), so insights that do not help lose importance and are deprecated at 0.
  Its prompt context is the relevant insights followed by the relevant experiences.

Both are `Optimizer`s over the agent's (unchanged) prompt so the bench can run them;
`step()` commits a generation (what later retrievals read) and counts a step.
Retrieval latency of every call is kept in `latencies_ms` (reported, not asserted).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from html import escape
from typing import Any

from undertow.engine import Module, Parameter
from undertow.optimizers.base import Optimizer, Proposal
from undertow.optimizers.experience.curation import CurationReport, apply_operations
from undertow.optimizers.experience.curator import parse_reply, render_request
from undertow.optimizers.experience.feedback import Example
from undertow.optimizers.experience.records import Provenance, Trajectory
from undertow.optimizers.experience.retrieval import Retriever
from undertow.optimizers.experience.store import ExperienceStore

SCOPE = "stream"


def render_experience(rec: Trajectory) -> str:
    """One past experience as shown to the agent: item, answer, and the feedback it got."""
    verdict = str(rec.meta.get("feedback") or ("Correct" if rec.reward >= 0.5 else "Wrong"))
    return f"Input: {rec.input}\nOutput: {rec.output}\nFeedback: {verdict}"


@contextmanager
def atomic_ops(store: ExperienceStore) -> Iterator[None]:
    """Run a group of library writes as one unit: if the block raises, the library is put
    back exactly as it was before it (an in-memory copy taken on entry), then it re-raises."""
    saved = sqlite3.connect(":memory:")
    try:
        with store._lock:
            store._conn.backup(saved)
        try:
            yield
        except BaseException:
            with store._lock:
                saved.backup(store._conn)
            raise
    finally:
        saved.close()


class StreamMemory(Optimizer):
    """Base of stream memories: an experience store, retrieval, latency log, snapshots."""

    def __init__(self, parameters: Iterable[Parameter] | Module, *, store: ExperienceStore,
                 k: int = 3, token_budget: int = 600, run: str = "stream") -> None:
        super().__init__(parameters)
        self.store, self.k, self.token_budget, self.run = store, k, token_budget, run
        self.retriever = Retriever(store, diversity=0.3)
        self.generation = store.generation
        self.latencies_ms: list[float] = []
        self._shown: dict[str, list[str]] = {}

    # -- what the agent sees ---------------------------------------------------------
    def _experiences(self, item: str) -> list[Trajectory]:
        got = self.retriever.retrieve(item, scope=SCOPE, kinds=("trajectory",), k=self.k,
                                      token_budget=self.token_budget, generation=self.generation,
                                      log=False)
        return [it.record for it in got.items]  # type: ignore[misc]

    def context_for(self, item: str) -> str:
        """The text to add to the prompt for `item` (empty while memory is empty)."""
        started = time.perf_counter()
        text, ids = self._context(item)
        self.latencies_ms.append((time.perf_counter() - started) * 1000.0)
        self._shown[item] = ids
        return text

    def _context(self, item: str) -> tuple[str, list[str]]:
        recs = self._experiences(item)
        if not recs:
            return "", []
        blocks = "\n\n".join(render_experience(r) for r in recs)
        return f"Past experiences with similar items (with the feedback each got):\n\n{blocks}", \
            [r.id for r in recs]

    # -- what happened -----------------------------------------------------------------
    def observe(self, item: str, output: str, reward: float, feedback: str = "") -> None:
        """Remember one answered item (success or failure) and log it as an outcome of
        the records shown for it."""
        shown = self._shown.pop(item, [])
        if shown:
            self.store.log_events({"record_id": rid, "kind": "outcome", "reward": reward, "run": self.run,
                                   "detail": {"item": item[:200]}} for rid in shown)
        self.store.add(Trajectory(input=item, output=output, reward=reward, status="active", scope=SCOPE,
                                  meta={"feedback": feedback},
                                  provenance=Provenance(source_tasks=[item], run=self.run)), run=self.run)
        self._after_observe(Example(item, output, reward, feedback=feedback))
        # experiences are visible to the next item at once (a stream has no batches)
        self.generation = self.store.commit_generation(f"{self.run} item")

    def _after_observe(self, example: Example) -> None:
        """Subclasses: reflect and refine after an item."""

    def memory_size(self) -> dict[str, int]:
        """Active records by kind (what retrieval can return)."""
        out: dict[str, int] = {}
        for rec in self.store.records(statuses=["active"], scope=SCOPE):
            out[rec.kind] = out.get(rec.kind, 0) + 1
        return out

    def step(self) -> list[Proposal]:
        self.steps += 1
        return []

    def extra_state(self) -> dict[str, Any]:
        return {"generation": self.generation}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.generation = int(state.get("generation", self.store.generation))
        self.retriever._cache.clear()


class ExpRAG(StreamMemory):
    """Retrieve the top-k past experiences (successes and failures, with feedback) for
    each item; store every answered item."""


class ReMem(StreamMemory):
    """Act with insights and experiences, reflect on failures with the LLM, refine the
    library with curation operations (atomically), prune insights that do not help."""

    def __init__(self, parameters: Iterable[Parameter] | Module, *, store: ExperienceStore, llm: Any,
                 base_prompt: str = "", k: int = 3, k_insights: int = 3, token_budget: int = 600,
                 cap: int = 3, prune_every: int = 10, successes: int = 2, run: str = "stream") -> None:
        super().__init__(parameters, store=store, k=k, token_budget=token_budget, run=run)
        self.llm, self.base_prompt, self.k_insights, self.cap = llm, base_prompt, k_insights, cap
        self.prune_every, self.n_successes = prune_every, successes
        self.seen = 0
        self.reports: list[CurationReport] = []
        self.failed_ops = 0

    def _context(self, item: str) -> tuple[str, list[str]]:
        got = self.retriever.retrieve(item, scope=SCOPE, kinds=("insight",), k=self.k_insights,
                                      token_budget=self.token_budget // 2, generation=self.generation,
                                      log=False)
        text, ids = super()._context(item)
        if got.items:
            text = "\n\n".join(x for x in (f"Insights from earlier items:\n{got.text}", text) if x)
        return text, [*got.ids, *ids]

    def _recent_successes(self, item: str) -> list[Example]:
        recs = [r for r in self._experiences(item) if r.reward >= 0.5][: self.n_successes]
        return [Example(r.input, r.output, r.reward, feedback=str(r.meta.get("feedback", ""))) for r in recs]

    def _after_observe(self, example: Example) -> None:
        self.seen += 1
        if not example.success:
            self.reflect(example)
        if self.prune_every and self.seen % self.prune_every == 0:
            self.prune()

    def reflect(self, failure: Example) -> CurationReport:
        """Ask the LLM what the failed attempt lacked; apply its operations as one unit."""
        known = self.store.records(kinds=["insight"], statuses=["active"], scope=SCOPE)
        request = render_request(self.base_prompt, known, [failure], self._recent_successes(failure.input))
        shown = "\n".join([self.base_prompt.strip(), *(r.render() for r in known)]).strip()
        reply = self.llm.complete(request, purpose="optimizer")
        ops = parse_reply(reply.text, shown, scope=SCOPE, example=failure.input)
        return self.refine(ops, sources=[failure.input])

    def refine(self, ops: Any, *, sources: Iterable[str] = (), cap: int | None = None) -> CurationReport:
        """Apply curation operations as one unit; new insights become active (a stream has
        no held-out items to verify them on: measured effect prunes them later). If
        anything raises, the library is as it was and the report lists the error."""
        try:
            with atomic_ops(self.store):
                report = apply_operations(self.store, ops, scope=SCOPE, run=self.run,
                                          cap=self.cap if cap is None else cap,
                                          source_tasks=list(sources))
                for rid in report.added:
                    if self.store.get(rid).status == "candidate":
                        self.store.set_status(rid, "verified", reason="stream: unverified", run=self.run)
                        self.store.set_status(rid, "active", reason="stream: unverified", run=self.run)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the library unchanged
            self.failed_ops += 1
            report = CurationReport(dropped=[(escape(str(ops))[:200], f"not applied: {type(exc).__name__}: {exc}")])
        self.reports.append(report)
        return report

    def prune(self, min_outcomes: int = 3, low: float = 0.4) -> CurationReport:
        """Downvote active insights whose items did poorly when they were shown."""
        stats = self.store.stats()
        ops = [{"op": "DOWNVOTE", "id": r.id}
               for r in self.store.records(kinds=["insight"], statuses=["active"], scope=SCOPE)
               if (s := stats.get(r.id)) and s.outcomes >= min_outcomes and (s.mean_reward or 0.0) < low]
        return self.refine(ops, cap=len(ops)) if ops else CurationReport()

    def extra_state(self) -> dict[str, Any]:
        return {**super().extra_state(), "seen": self.seen, "failed_ops": self.failed_ops}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        super().load_extra_state(state)
        self.seen = int(state.get("seen", 0))
        self.failed_ops = int(state.get("failed_ops", 0))


__all__ = ["SCOPE", "ExpRAG", "ReMem", "StreamMemory", "atomic_ops", "render_experience"]
