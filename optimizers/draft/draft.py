"""DRAFT: refine tool documentation by exploration (explore -> analyze -> rewrite).

Each round, for every tool whose doc has not converged: the LLM proposes probe calls
given the doc and the calls made so far (explorer), they run on the real tool, the LLM
lists where the doc and the observations disagree (analyzer), and the LLM rewrites the
doc to fix them (rewriter). A doc converges when `patience` rounds in a row change it
by at most `tolerance` (a difflib edit ratio) or find nothing to fix. Every accepted
rewrite is stored as a new version of one `DocPatch` record per tool.

The optimizer knows nothing about any tool: it gets the docs as text parameters and a
`probe(tool, args) -> observation` callable.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from undertow.engine import Parameter
from undertow.optimizers.base import Optimizer, Proposal
from undertow.optimizers.draft import prompts
from undertow.optimizers.experience.records import DocPatch, Provenance
from undertow.optimizers.experience.store import ExperienceStore

_CALL = re.compile(r"(?<![\w])([A-Za-z_][\w-]*)\[([^\[\]\n]*)\]")
_TAG = re.compile(r"<documentation>\s*(.*?)\s*</documentation>", re.S | re.I)
_FENCE = re.compile(r"```[\w-]*\n(.*?)```", re.S)


def parse_probes(reply: str, tool: str) -> list[str]:
    """The inputs of the `tool[...]` calls a reply proposes, in order, without duplicates."""
    seen: dict[str, None] = {}
    for name, args in _CALL.findall(reply):
        if name == tool and args.strip():
            seen.setdefault(args.strip(), None)
    return list(seen)


def parse_doc(reply: str) -> str:
    """The documentation in a rewriter reply: inside <documentation> tags, a fence, a JSON
    string value, or the whole reply."""
    m = _TAG.search(reply)
    if m:
        return m.group(1).strip()
    try:
        data = json.loads(reply)
    except ValueError:
        data = None
    if isinstance(data, dict):
        strings = [v for k, v in data.items() if isinstance(v, str) and "doc" in k.lower()] or \
                  [v for v in data.values() if isinstance(v, str)]
        if strings:
            return max(strings, key=len).strip()
    m = _FENCE.search(reply)
    return (m.group(1) if m else reply).strip()


def change(old: str, new: str) -> float:
    """How much a doc changed: 0 (same) .. 1 (nothing in common)."""
    return 1.0 - difflib.SequenceMatcher(None, old, new, autojunk=False).ratio()


class BudgetSpent(RuntimeError):
    """DRAFT's LLM-call budget is spent."""


class DRAFT(Optimizer):
    """Explore, analyze, rewrite tool docs until they converge.

    Args:
        docs: tool name -> its doc as a text `Parameter`.
        llm: the model playing explorer, analyzer and rewriter.
        probe: runs one call on the real tool: `probe(tool, args) -> observation text`.
        probes_per_round: most calls the explorer may propose per round and tool.
        max_rounds: rounds per tool at most.
        patience: unchanged rounds in a row that mean convergence.
        tolerance: a change ratio at or below this counts as unchanged.
        max_calls: LLM-call budget for the whole run (None: unlimited).
        store: where each accepted rewrite goes as a versioned `DocPatch` (None: nowhere).
        run: the run name recorded in patches (also seeds the record ids).
    """

    def __init__(self, docs: dict[str, Parameter], llm: Any, probe: Callable[[str, str], str], *,
                 probes_per_round: int = 6, max_rounds: int = 6, patience: int = 2,
                 tolerance: float = 0.0, max_calls: int | None = None,
                 store: ExperienceStore | None = None, run: str = "draft") -> None:
        if not docs:
            raise ValueError("DRAFT needs at least one tool doc parameter")
        if probes_per_round < 1 or max_rounds < 1 or patience < 1:
            raise ValueError("probes_per_round, max_rounds and patience must be >= 1")
        super().__init__(list(docs.values()))
        self.docs = dict(docs)
        self.llm = llm
        self.probe = probe
        self.k = probes_per_round
        self.max_rounds = max_rounds
        self.patience = patience
        self.tolerance = tolerance
        self.max_calls = max_calls
        self.store = store
        self.run_name = run
        self.calls = 0
        self.state: dict[str, dict[str, Any]] = {
            t: {"history": [], "rounds": 0, "quiet": 0, "converged": False, "version": 0,
                "patch_id": "", "changes": []} for t in docs}

    # -- the loop ------------------------------------------------------------------------
    @property
    def converged(self) -> bool:
        """Every doc has converged or used its rounds."""
        return all(s["converged"] or s["rounds"] >= self.max_rounds for s in self.state.values())

    def _ask(self, system: str, user: str) -> str:
        if self.max_calls is not None and self.calls >= self.max_calls:
            raise BudgetSpent(f"DRAFT used its {self.max_calls} LLM calls")
        self.calls += 1
        return str(self.llm.complete([{"role": "system", "content": system},
                                      {"role": "user", "content": user}], purpose="optimizer").text)

    def step(self) -> list[Proposal]:
        """One round for every tool that is still refining; stops early when the budget is spent."""
        out: list[Proposal] = []
        self.steps += 1
        for tool in self.docs:
            st = self.state[tool]
            if st["converged"] or st["rounds"] >= self.max_rounds:
                continue
            try:
                proposal = self._round(tool)
            except BudgetSpent:
                break
            if proposal is not None:
                out.append(proposal)
        return out

    def fit(self) -> int:
        """Run rounds until every doc converges or the budget is spent; the rounds run."""
        rounds = 0
        while not self.converged:
            before = self.calls
            self.step()
            rounds += 1
            if self.calls == before:
                break
        return rounds

    def _round(self, tool: str) -> Proposal | None:
        st = self.state[tool]
        param = self.docs[tool]
        doc = str(param.value)
        history = [tuple(h) for h in st["history"]]
        reply = self._ask(prompts.EXPLORE_SYSTEM.format(k=self.k), prompts.explore_user(tool, doc, history))
        made = {a for a, _ in history}
        new = [a for a in parse_probes(reply, tool) if a not in made][: self.k]
        for args in new:
            st["history"].append([args, str(self.probe(tool, args))])
        st["rounds"] += 1
        observed = [tuple(h) for h in st["history"]]
        if not observed:
            return self._quiet(tool, 0.0)
        issues = self._ask(prompts.ANALYZE_SYSTEM, prompts.analyze_user(tool, doc, observed)).strip()
        if not re.search(r"^\s*[-*\d]", issues, re.M) or re.search(r"\bno discrepanc", issues, re.I):
            return self._quiet(tool, 0.0)
        new_doc = parse_doc(self._ask(prompts.REWRITE_SYSTEM, prompts.rewrite_user(tool, doc, observed, issues)))
        delta = change(doc, new_doc)
        if not new_doc or delta <= self.tolerance:
            return self._quiet(tool, delta)
        proposal = self.propose(param, new_doc, reason=issues[:2000],
                                meta={"tool": tool, "round": st["rounds"], "change": round(delta, 4)})
        if proposal.accepted:
            st["quiet"] = 0
            st["version"] += 1
            st["changes"].append(round(delta, 4))
            self._store_patch(tool, new_doc, issues)
        return proposal

    def _quiet(self, tool: str, delta: float) -> None:
        st = self.state[tool]
        st["quiet"] += 1
        st["changes"].append(round(delta, 4))
        if st["quiet"] >= self.patience:
            st["converged"] = True
        return None

    def _store_patch(self, tool: str, doc: str, issues: str) -> None:
        if self.store is None:
            return
        st = self.state[tool]
        meta = {"version": st["version"], "round": st["rounds"], "tool": tool}
        if not st["patch_id"]:
            rid = "doc_patch-" + hashlib.sha256(f"{self.run_name}:{tool}".encode()).hexdigest()[:12]
            if self.store.exists(rid):
                self.store.update(rid, patch=doc, condition=issues[:1000], meta=meta, op="edit",
                                  run=self.run_name)
            else:
                self.store.add(DocPatch(id=rid, target=tool, patch=doc, condition=issues[:1000],
                                        taxonomy=["tool-doc", tool], meta=meta,
                                        provenance=Provenance(run=self.run_name)), run=self.run_name)
            st["patch_id"] = rid
        else:
            self.store.update(st["patch_id"], patch=doc, condition=issues[:1000], meta=meta, op="edit",
                              run=self.run_name)

    # -- state -----------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Per tool: rounds run, versions accepted, converged, probes made; and LLM calls."""
        return {"calls": self.calls,
                "tools": {t: {"rounds": s["rounds"], "versions": s["version"], "converged": s["converged"],
                              "probes": len(s["history"])} for t, s in self.state.items()}}

    def extra_state(self) -> dict[str, Any]:
        return {"calls": self.calls, "state": json.loads(json.dumps(self.state))}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.calls = int(state["calls"])
        unknown = set(state["state"]) - set(self.docs)
        if unknown:
            raise ValueError(f"DRAFT state has tools {sorted(unknown)} this optimizer was not built with")
        self.state.update(state["state"])
