"""`ExperienceOptimizer`: learn insights from failures versus successes, keep what helps.

One `step()` after a batch (forward with the slot injected, feedback, `backward`):
1. log each item's reward as an outcome of the records injected for it;
2. ask the curator LLM to compare failures with successes (see curator.py) and apply
   the operations it sends (validated in code; new insights are candidates);
3. verify candidates: re-solve their source items (and this batch's failures) with the
   insight added to the slot (`solve(slot_text, item) -> reward`); a candidate passes
   when that solves more of them than the slot without it; passing ones become
   verified, then active (a failure costs one importance point);
4. commit a generation; with `validate(slot_text) -> score`, keep it only if the
   validation score does not drop below the best so far (otherwise the records it
   activated are deprecated and the previous generation stays pinned);
5. every `refine_every` steps, vote on insights by their measured effect (downvote
   those whose outcomes when injected are poor, upvote those that do well), and send
   insights that hurt or were missed (refine.py, from the `item` events) to the curator
   as REFINE_CONDITION requests;
6. refill the slot for the next batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from undertow.engine import Module, Parameter
from undertow.optimizers.base import Proposal
from undertow.optimizers.experience.curation import (
    CurationReport,
    apply_operations,
    verify_candidates,
)
from undertow.optimizers.experience.curator import SLOT, parse_reply, render_request
from undertow.optimizers.experience.feedback import Example
from undertow.optimizers.experience.library_base import LibraryOptimizer
from undertow.optimizers.experience.records import RecordBase
from undertow.optimizers.experience.refine import refine_conditions
from undertow.optimizers.experience.store import ExperienceStore


class ExperienceOptimizer(LibraryOptimizer):
    """AlphaOPT/ExpeL-style loop over an `ExperienceStore` (see the module docstring).

    Args:
        parameters: the slot (a text Parameter) the agent appends to its prompt.
        store: the library.
        llm: the curator (an `undertow.engine.llm.LLM`; calls are booked as "optimizer").
        base_prompt: the agent's prompt without the slot, shown to the curator.
        solve: re-solves one item with a given slot text; enables verification. Without
            it, candidates are promoted unverified (logged as such).
        validate: scores a slot text on validation items; enables the generation gate.
        cap: at most this many curator operations per step.
    """

    def __init__(self, parameters: Iterable[Parameter] | Module, *, store: ExperienceStore, llm: Any,
                 base_prompt: str = "", scope: str = "global",
                 solve: Callable[[str, str], float] | None = None,
                 validate: Callable[[str], float] | None = None, k: int = 5, token_budget: int = 300,
                 cap: int = 3, max_failures: int = 3, max_successes: int = 2, refine_every: int = 0,
                 verify_items: int = 6, run: str = "") -> None:
        super().__init__(parameters, store=store, scope=scope, k=k, token_budget=token_budget, run=run)
        self.llm, self.base_prompt, self.solve, self.validate = llm, base_prompt, solve, validate
        self.cap, self.max_failures, self.max_successes = cap, max_failures, max_successes
        self.refine_every, self.verify_items = refine_every, verify_items
        self.best_val: float | None = None
        #: Item events up to this sequence number were already used to refine conditions.
        self.refined_seq = 0
        self.reports: list[CurationReport] = []

    # -- one step --------------------------------------------------------------------
    def step(self) -> list[Proposal]:
        examples = self._examples()
        self._log_outcomes(examples)
        failures = [e for e in examples if not e.success][: self.max_failures]
        successes = [e for e in examples if e.success][: self.max_successes]
        report = self._curate(failures, successes) if failures else CurationReport()
        self.reports.append(report)
        fresh = [i for i in dict.fromkeys(report.added + report.touched)
                 if self.store.get(i).status == "candidate"]
        activated = self._verify_and_activate(fresh, failures)
        if report.applied or activated:
            self._commit(activated)
        self.steps += 1
        if self.refine_every and self.steps % self.refine_every == 0:
            self.refine()
        start = len(self.log)
        self.refresh_slot(" ".join(e.input for e in examples) or self.scope)
        return self.log[start:]

    def _known(self) -> list[RecordBase]:
        return self.store.records(kinds=["insight"], statuses=["verified", "active"], scope=self.scope)

    def _curate(self, failures: list[Example], successes: list[Example]) -> CurationReport:
        known = self._known()
        request = render_request(self.base_prompt, known, failures, successes)
        shown = "\n".join([self.base_prompt.strip(), *(r.render() for r in known)]).strip()
        reply = self.llm.complete(request, purpose="optimizer")
        ops = parse_reply(reply.text, shown, scope=self.scope, example=failures[0].input)
        return apply_operations(self.store, ops, scope=self.scope, run=self.run, cap=self.cap,
                                source_tasks=[f.input for f in failures])

    def _verify_and_activate(self, added: list[str], failures: list[Example]) -> list[str]:
        if not added:
            return []
        if self.solve is None:
            def passes(rec: RecordBase) -> bool:
                return True
        else:
            solve = self.solve

            def passes(rec: RecordBase) -> bool:
                with_it = "\n".join(x for x in (self.slot.value, f"- {rec.render()}") if x)
                sources = list(dict.fromkeys([*rec.provenance.source_tasks, *(f.input for f in failures)]))
                sources = sources[: self.verify_items]
                return sum(solve(with_it, s) for s in sources) > sum(solve(self.slot.value, s) for s in sources)
        result = verify_candidates(self.store, passes, ids=added, run=self.run)
        activated = []
        for rid, ok in result.items():
            if ok:
                self.store.set_status(rid, "active", reason="verified" if self.solve else "unverified",
                                      run=self.run)
                activated.append(rid)
        return activated

    def _commit(self, activated: list[str]) -> None:
        gen = self.store.commit_generation(f"{self.run} step {self.steps}")
        if self.validate is None:
            self.generation = gen
            return
        score = self.validate(self._slot_text(gen))
        if self.best_val is None or score >= self.best_val:
            self.best_val, self.generation = score, gen
            return
        for rid in activated:
            self.store.set_status(rid, "deprecated", reason=f"validation fell to {score:.3f} "
                                  f"from {self.best_val:.3f}", run=self.run)
        self.store.commit_generation(f"{self.run} step {self.steps}: rolled back")

    def _slot_text(self, generation: int) -> str:
        return self.retriever.retrieve(self.scope, scope=self.scope, kinds=self.kinds, k=self.k,
                                       token_budget=self.token_budget, generation=generation,
                                       fill=True, log=False).text

    def refine(self, min_outcomes: int = 3, low: float = 0.5, high: float = 0.8) -> CurationReport:
        """Vote on active insights by measured effect (mean outcome reward when injected), then
        refine the applicability conditions of those that hurt or were missed (refine.py)."""
        stats = self.store.stats()
        ops = []
        for rec in self.store.records(kinds=["insight"], statuses=["active"], scope=self.scope):
            s = stats.get(rec.id)
            if s is None or s.outcomes < min_outcomes or s.mean_reward is None:
                continue
            if s.mean_reward < low:
                ops.append({"op": "DOWNVOTE", "id": rec.id})
            elif s.mean_reward >= high:
                ops.append({"op": "UPVOTE", "id": rec.id})
        report = apply_operations(self.store, ops, scope=self.scope, run=self.run, cap=len(ops))
        refined, self.refined_seq = refine_conditions(self.store, self.llm, self.scope, run=self.run,
                                                      after_seq=self.refined_seq)
        report.applied += refined.applied
        report.touched += refined.touched
        report.dropped += refined.dropped
        self.reports.append(report)
        if report.applied:
            self.generation = self.store.commit_generation(f"{self.run} refine")
        return report

    def extra_state(self) -> dict[str, Any]:
        return {**super().extra_state(), "best_val": self.best_val, "refined_seq": self.refined_seq}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        super().load_extra_state(state)
        self.best_val = state.get("best_val")
        self.refined_seq = int(state.get("refined_seq", 0))


__all__ = ["SLOT", "ExperienceOptimizer"]
