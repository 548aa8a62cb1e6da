"""The curator's typed update operations, validated and applied in code.

A curator (an LLM, or a person) sends JSON operations:

    {"op": "ADD", "explanation": ..., "condition": ..., "taxonomy": [...], "example": ...}
    {"op": "EDIT", "id": ..., "explanation": ...}
    {"op": "UPVOTE", "id": ...}            {"op": "DOWNVOTE", "id": ...}
    {"op": "MERGE", "ids": [...], "explanation": ..., "condition": ...}
    {"op": "REFINE_CONDITION", "id": ..., "condition": ...}
    {"op": "DEPRECATE", "id": ..., "reason": ...}

Nothing the curator says is trusted: malformed operations and unknown or deprecated
ids are dropped with a reason, at most `cap` operations apply per call, and nothing is
deleted (deprecation and merging write new versions; the old ones stay in history).

Importance follows the counting of ExpeL, in our words: a new insight starts at 2, an
upvote adds 1, a downvote takes 1, an edit adds 1 (an edit that leaves the text as it
was is only an upvote), a merge starts at the sum of what it merges; an insight whose
importance falls to 0 or below is deprecated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from undertow.optimizers.experience.records import Insight, Provenance
from undertow.optimizers.experience.store import INITIAL_IMPORTANCE, ExperienceStore

MAX_TEXT = 2000


class _Op(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class _Text(_Op):
    @field_validator("explanation", "condition", check_fields=False)
    @classmethod
    def _bounded(cls, v: str) -> str:
        if len(v) > MAX_TEXT:
            raise ValueError(f"text longer than {MAX_TEXT} characters")
        return v


class Add(_Text):
    op: Literal["ADD"]
    explanation: str = Field(min_length=1)
    condition: str = ""
    taxonomy: list[str] = Field(default_factory=list)
    example: str = ""


class Edit(_Text):
    op: Literal["EDIT"]
    id: str
    explanation: str = Field(min_length=1)


class Upvote(_Op):
    op: Literal["UPVOTE"]
    id: str


class Downvote(_Op):
    op: Literal["DOWNVOTE"]
    id: str


class Merge(_Text):
    op: Literal["MERGE"]
    ids: list[str] = Field(min_length=2)
    explanation: str = Field(min_length=1)
    condition: str = ""
    taxonomy: list[str] = Field(default_factory=list)


class RefineCondition(_Text):
    op: Literal["REFINE_CONDITION"]
    id: str
    condition: str = Field(min_length=1)


class Deprecate(_Op):
    op: Literal["DEPRECATE"]
    id: str
    reason: str = ""


Operation = Annotated[Add | Edit | Upvote | Downvote | Merge | RefineCondition | Deprecate,
                      Field(discriminator="op")]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(Operation)
OP_NAMES = ("ADD", "EDIT", "UPVOTE", "DOWNVOTE", "MERGE", "REFINE_CONDITION", "DEPRECATE")


@dataclass
class CurationReport:
    """What one call applied, and what it dropped and why."""

    applied: list[str] = field(default_factory=list)
    dropped: list[tuple[Any, str]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    touched: list[str] = field(default_factory=list)


def parse_operations(data: Any) -> tuple[list[Any], list[tuple[Any, str]]]:
    """Operations from a reply: JSON text, a list, or a dict with an "operations" list.

    Returns (valid operations, dropped items with reasons). Never raises on bad input.
    """
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            return [], [(data[:200], f"not JSON: {exc}")]
    if isinstance(data, dict):
        data = data.get("operations", [data] if "op" in data else [])
    if not isinstance(data, list):
        return [], [(repr(data)[:200], "expected a list of operations")]
    ops, dropped = [], []
    for item in data:
        if not isinstance(item, dict):
            dropped.append((item, "an operation must be a JSON object"))
            continue
        item = {**item, "op": str(item.get("op", "")).strip().upper().replace("-", "_").replace(" ", "_")}
        if item["op"] not in OP_NAMES:
            dropped.append((item, f"unknown op; use one of {', '.join(OP_NAMES)}"))
            continue
        try:
            ops.append(_ADAPTER.validate_python(item))
        except ValidationError as exc:
            dropped.append((item, f"invalid {item['op']}: {exc.errors()[0]['msg']}"))
    return ops, dropped


def _same(a: str, b: str) -> bool:
    return re.sub(r"\s+", " ", a).strip().lower() == re.sub(r"\s+", " ", b).strip().lower()


def apply_operations(store: ExperienceStore, operations: Any, *, scope: str = "global", run: str = "",
                     source_tasks: Sequence[str] = (), cap: int = 5) -> CurationReport:
    """Validate and apply a curator's operations (any shape `parse_operations` accepts)."""
    if cap < 0:
        raise ValueError(f"cap must be >= 0, got {cap}")
    ops, dropped = (list(operations), []) if _all_ops(operations) else parse_operations(operations)
    report = CurationReport(dropped=list(dropped))
    importance = {rid: s.importance for rid, s in store.stats().items()}
    for n, op in enumerate(ops):
        if n >= cap:
            report.dropped.append((op.model_dump(), f"over the cap of {cap} operations per call"))
            continue
        reason = _apply_one(store, op, scope, run, list(source_tasks), importance, report)
        if reason:
            report.dropped.append((op.model_dump(), reason))
    return report


def _all_ops(operations: Any) -> bool:
    return isinstance(operations, (list, tuple)) and all(isinstance(o, _Op) for o in operations)


def _live(store: ExperienceStore, rid: str, *, insight: bool = False) -> str:
    """'' if `rid` names a live record (an insight if asked), else why not."""
    if not store.exists(rid):
        return f"unknown id {rid!r}"
    rec = store.get(rid)
    if rec.status == "deprecated":
        return f"{rid} is deprecated"
    if insight and rec.kind != "insight":
        return f"{rid} is a {rec.kind}, not an insight"
    return ""


def _vote(store: ExperienceStore, rid: str, delta: int, run: str, why: str,
          importance: dict[str, int]) -> None:
    store.log_event(rid, "importance", run=run, delta=delta, detail={"op": why})
    importance[rid] = importance.get(rid, 0) + delta
    if importance[rid] <= 0:
        store.set_status(rid, "deprecated", reason="importance fell to 0", run=run)


def _apply_one(store: ExperienceStore, op: Any, scope: str, run: str, sources: list[str],
               importance: dict[str, int], report: CurationReport) -> str:
    if isinstance(op, Add):
        for rec in store.records(kinds=["insight"], scope=scope):
            if rec.status != "deprecated" and _same(rec.explanation, op.explanation):  # type: ignore[attr-defined]
                _vote(store, rec.id, 1, run, "ADD of an existing insight", importance)
                report.applied.append(f"UPVOTE {rec.id} (ADD repeated it)")
                report.touched.append(rec.id)
                return ""
        new = store.add(Insight(explanation=op.explanation, condition=op.condition, taxonomy=op.taxonomy,
                                example=op.example, scope=scope,
                                provenance=Provenance(source_tasks=sources, run=run)), run=run)
        importance[new.id] = INITIAL_IMPORTANCE
        report.applied.append(f"ADD {new.id}")
        report.added.append(new.id)
        return ""
    if isinstance(op, Merge):
        ids = list(dict.fromkeys(op.ids))
        if len(ids) < 2:
            return "MERGE needs two distinct ids"
        for rid in ids:
            if why := _live(store, rid, insight=True):
                return why
        sources_ = [store.get(rid) for rid in ids]
        order = {"candidate": 0, "verified": 1, "active": 2}
        status = min((s.status for s in sources_), key=lambda st: order[st])
        merged = store.add(Insight(explanation=op.explanation, condition=op.condition,
                                   taxonomy=op.taxonomy or sorted({t for s in sources_ for t in s.taxonomy}),
                                   scope=sources_[0].scope, status=status, merged_from=ids,
                                   provenance=Provenance(source_tasks=sorted({t for s in sources_ for t in
                                                                              s.provenance.source_tasks}),
                                                         run=run)),
                           run=run, op="merge", importance=max(1, sum(importance.get(r, 0) for r in ids)))
        for rid in ids:
            store.set_status(rid, "deprecated", reason=f"merged into {merged.id}", run=run)
        report.applied.append(f"MERGE {', '.join(ids)} -> {merged.id}")
        report.added.append(merged.id)
        report.touched += ids
        return ""
    rid = op.id
    if why := _live(store, rid, insight=isinstance(op, (Edit, RefineCondition))):
        return why
    report.touched.append(rid)
    if isinstance(op, Upvote | Downvote):
        _vote(store, rid, 1 if isinstance(op, Upvote) else -1, run, op.op, importance)
        report.applied.append(f"{op.op} {rid}")
    elif isinstance(op, Edit):
        if _same(store.get(rid).explanation, op.explanation):  # type: ignore[attr-defined]
            _vote(store, rid, 1, run, "EDIT identical to the text", importance)
            report.applied.append(f"UPVOTE {rid} (EDIT left the text as it was)")
        else:
            store.update(rid, op="edit", run=run, explanation=op.explanation)
            _vote(store, rid, 1, run, "EDIT", importance)
            report.applied.append(f"EDIT {rid}")
    elif isinstance(op, RefineCondition):
        if _same(store.get(rid).condition, op.condition):  # type: ignore[attr-defined]
            _vote(store, rid, 1, run, "REFINE_CONDITION identical", importance)
            report.applied.append(f"UPVOTE {rid} (condition unchanged)")
        else:
            store.update(rid, op="refine_condition", run=run, condition=op.condition)
            report.applied.append(f"REFINE_CONDITION {rid}")
    elif isinstance(op, Deprecate):
        store.set_status(rid, "deprecated", reason=op.reason or "curator", run=run)
        report.applied.append(f"DEPRECATE {rid}")
    return ""


def verify_candidates(store: ExperienceStore, verifier: Any, *, ids: Iterable[str] | None = None,
                      run: str = "") -> dict[str, bool]:
    """Run `verifier(record) -> bool` on candidates; promote passes to 'verified'.

    A failed check is logged and costs the candidate one importance point (at 0 it is
    deprecated), so a candidate that keeps failing leaves the library.
    """
    wanted = set(ids) if ids is not None else None
    importance = {rid: s.importance for rid, s in store.stats().items()}
    results: dict[str, bool] = {}
    for rec in store.records(statuses=["candidate"]):
        if wanted is not None and rec.id not in wanted:
            continue
        ok = bool(verifier(rec))
        results[rec.id] = ok
        store.log_event(rec.id, "verify", run=run, reward=1.0 if ok else 0.0, detail={"passed": ok})
        if ok:
            store.set_status(rec.id, "verified", reason="verification passed", run=run)
        else:
            _vote(store, rec.id, -1, run, "verification failed", importance)
    return results
