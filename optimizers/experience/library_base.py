"""What both library optimizers share: a slot parameter, per-item retrieval, outcome logging."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from undertow.engine import Module, Parameter
from undertow.optimizers.base import Optimizer
from undertow.optimizers.experience.feedback import Example, read_feedback
from undertow.optimizers.experience.refine import log_items
from undertow.optimizers.experience.retrieval import Retrieval, Retriever
from undertow.optimizers.experience.store import ExperienceStore


class LibraryOptimizer(Optimizer):
    """Base of optimizers whose parameter is a prompt slot filled from an `ExperienceStore`.

    The first parameter (a text Parameter) is the slot. `context_for(item)` retrieves
    for one item (and remembers what it injected, so that the item's reward is logged
    as an outcome of those records); `step()` also refreshes the slot itself for the
    batch as a whole. Retrieval reads the generation this optimizer accepted last.
    """

    kinds: tuple[str, ...] = ("insight",)

    def __init__(self, parameters: Iterable[Parameter] | Module, *, store: ExperienceStore,
                 scope: str = "global", k: int = 5, token_budget: int = 300,
                 retriever: Retriever | None = None, run: str = "") -> None:
        super().__init__(parameters)
        self.slot = self.parameters[0]
        if self.slot.kind != "text":
            raise TypeError(f"the experience slot must be a text Parameter, got kind {self.slot.kind!r}")
        self.store, self.scope, self.k, self.token_budget = store, scope, k, token_budget
        self.retriever = retriever or Retriever(store)
        self.run = run or f"{type(self).__name__}"
        self.generation = store.generation
        self.slot_ids: list[str] = []
        self._injected: dict[str, list[str]] = {}

    def retrieve(self, query: str, *, log: bool = True) -> Retrieval:
        return self.retriever.retrieve(query, scope=self.scope, kinds=self.kinds, k=self.k,
                                       token_budget=self.token_budget, generation=self.generation,
                                       fill=True, log=log, run=self.run)

    def context_for(self, item: str) -> str:
        """The packed experience for one item (logged as injected for that item)."""
        got = self.retrieve(item)
        self._injected[item] = got.ids
        if got.ids:
            self.store.log_events({"record_id": i, "kind": "injected", "run": self.run} for i in got.ids)
        return got.text

    def refresh_slot(self, query: str) -> None:
        """Fill the slot with what retrieval finds for `query` at the accepted generation."""
        got = self.retrieve(query)
        self.slot_ids = got.ids
        self.propose(self.slot, got.text, reason=f"retrieved {len(got.ids)} records",
                     meta={"generation": self.generation, "ids": got.ids})

    def _examples(self) -> list[Example]:
        return read_feedback(self.slot)

    def _log_outcomes(self, examples: list[Example]) -> None:
        """Each item's reward as an outcome of the records injected for it, plus one `item`
        event per item (what was injected, how it went: the evidence refine.py reads)."""
        events: list[dict[str, Any]] = []
        injected: list[list[str]] = []
        for ex in examples:
            ids = list(self._injected.pop(ex.input, self.slot_ids))
            injected.append(ids)
            for rid in ids:
                events.append({"record_id": rid, "kind": "outcome", "reward": ex.reward, "run": self.run,
                               "detail": {"item": ex.input[:200]}})
        if events:
            self.store.log_events(events)
        log_items(self.store, examples, injected, scope=self.scope, run=self.run)

    def extra_state(self) -> dict[str, Any]:
        return {"generation": self.generation, "slot_ids": self.slot_ids, "store": str(self.store.path)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.generation = int(state.get("generation", self.store.generation))
        self.slot_ids = list(state.get("slot_ids", []))
