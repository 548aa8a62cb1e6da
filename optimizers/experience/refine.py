"""Refining applicability conditions from the event log: where an insight hurt or was missed.

Every graded item a library optimizer sees is logged as one `item` event (record id
`scope:<scope>`, detail: input, output, expected, feedback and the ids injected for
it), so the log says, per item, what was shown and how it went. From the last
`window` item events of a scope:

- **hurt.** Insight X hurt on an item when the item failed with X injected and
  (a) *paired*: the same item (same input) succeeded in another event without X; or
  (b) *comparable*: X's items did worse on average than the scope's items without X
  (mean reward lower by more than `margin`, at least `min_items` on each side), in
  which case each failure with X counts. Paired evidence is the direct comparison;
  the unpaired one is confounded by time (items without X are often the older ones,
  seen before X existed), hence the margin and the minimum counts.
- **missed.** An item failed after X became active, X was not injected, and X ranks first among the scope's
  active insights by BM25 of the failure text (input, output, expected, feedback)
  against X's taxonomy, condition, explanation and example, with a score of at least
  `min_score`.
- **helped.** Items with X injected that succeeded (shown to the curator as the
  features where X is useful).

`find_refinements` returns the evidence per insight; `refine_conditions` sends each
flagged insight to the curator LLM as a REFINE_CONDITION request (the insight, the
items where it hurt, was missed and helped) and applies the validated reply: a new
version with the new condition, nothing deleted. A malformed reply changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from undertow.engine.llm import extract_json
from undertow.optimizers.experience.curation import CurationReport, apply_operations
from undertow.optimizers.experience.feedback import Example
from undertow.optimizers.experience.records import Event
from undertow.optimizers.experience.store import ExperienceStore

REFINE_INSTRUCTIONS = """You curate a library of insights for an AI agent. The insight below \
is retrieved for an item when its applicability condition matches the item. The examples show \
items where the insight was injected and the answer was still wrong although the item was solved \
without it (outcome "hurt"), items that failed while the insight was not retrieved though it \
applies (outcome "missed"), and items where it was injected and the answer was right \
(outcome "helped").
Refine the applicability condition of insight {rid}: narrow it to the kind of items where it \
helped or was missed, and exclude the kind of items where it hurt. Keep the explanation as it is.
Reply in JSON with keys "reasoning" and "operations": "operations" is a list holding one object \
whose "op" is REFINE_CONDITION, with the "id" of the insight and the new "condition"."""


def item_record_id(scope: str) -> str:
    """The record id under which a scope's item events are logged."""
    return f"scope:{scope}"


def log_items(store: ExperienceStore, examples: Sequence[Example], injected: Sequence[Sequence[str]], *,
              scope: str, run: str = "") -> None:
    """One `item` event per graded example, with the ids that were injected for it."""
    if not examples:
        return
    store.log_events({"record_id": item_record_id(scope), "kind": "item", "run": run, "reward": ex.reward,
                      "detail": {"input": ex.input, "output": ex.output[:1000], "expected": ex.expected,
                                 "feedback": ex.feedback[:500], "injected": list(ids)}}
                     for ex, ids in zip(examples, injected, strict=True))


@dataclass
class Refinement:
    """The evidence against one insight's condition: items (event details) by outcome."""

    id: str
    hurt: list[dict[str, Any]] = field(default_factory=list)
    missed: list[dict[str, Any]] = field(default_factory=list)
    helped: list[dict[str, Any]] = field(default_factory=list)
    #: Highest item-event sequence number among the hurt and missed items.
    last_seq: int = 0


def _detail(e: Event) -> dict[str, Any]:
    return {**e.detail, "reward": e.reward, "seq": e.seq}


def find_refinements(store: ExperienceStore, scope: str, *, window: int = 200, after_seq: int = 0,
                     min_items: int = 4, margin: float = 0.15, min_score: float = 0.0,
                     max_examples: int = 4) -> list[Refinement]:
    """Active insights of `scope` that hurt or were missed (see the module docstring).

    Only hurt and missed items newer than `after_seq` flag an insight (so the same
    evidence is not sent twice); older events still serve as the comparison.
    """
    items = store.events(item_record_id(scope), kinds=["item"])[-window:]
    active = {r.id: r for r in store.records(kinds=["insight"], statuses=["active"], scope=scope)}
    if not items or not active:
        return []
    found: dict[str, Refinement] = {rid: Refinement(rid) for rid in active}
    ok_without: dict[str, set[str]] = defaultdict(set)    # insight -> inputs solved without it
    for e in items:
        if (e.reward or 0.0) >= 0.5:
            for rid in active:
                if rid not in e.detail.get("injected", []):
                    ok_without[rid].add(e.detail.get("input", ""))
    for rid, ref in found.items():
        with_x = [e for e in items if rid in e.detail.get("injected", [])]
        without = [e for e in items if rid not in e.detail.get("injected", [])]
        failed_with = [e for e in with_x if (e.reward or 0.0) < 0.5]
        paired = [e for e in failed_with if e.detail.get("input", "") in ok_without[rid]]
        worse = (len(with_x) >= min_items and len(without) >= min_items
                 and _mean(with_x) + margin < _mean(without))
        hurt = failed_with if worse else paired
        ref.hurt = [_detail(e) for e in hurt if e.seq > after_seq][-max_examples:]
        ref.helped = [_detail(e) for e in with_x if (e.reward or 0.0) >= 0.5][-max_examples:]
    since = {rid: _active_since(store, rid) for rid in active}
    for e in items:
        if e.seq <= after_seq or (e.reward or 0.0) >= 0.5:
            continue
        rid = _best_match(store, e, active, min_score)
        if rid and rid not in e.detail.get("injected", []) and e.seq > since[rid]:
            found[rid].missed.append(_detail(e))
    out = []
    for ref in found.values():
        ref.missed = ref.missed[-max_examples:]
        if ref.hurt or ref.missed:
            ref.last_seq = max(d["seq"] for d in ref.hurt + ref.missed)
            out.append(ref)
    return out


def _active_since(store: ExperienceStore, rid: str) -> int:
    """The sequence number of the event that made `rid` active (an item before it cannot miss it)."""
    moves = [e.seq for e in store.events(rid, kinds=["status"]) if e.detail.get("to") == "active"]
    return moves[-1] if moves else 0


def _mean(events: Sequence[Event]) -> float:
    return sum(e.reward or 0.0 for e in events) / max(1, len(events))


def _best_match(store: ExperienceStore, e: Event, active: dict[str, Any], min_score: float) -> str | None:
    """The active insight that BM25 ranks first for an item's failure text, if any."""
    d = e.detail
    text = " ".join(str(d.get(k, "")) for k in ("input", "output", "expected", "feedback"))
    for rec, score in store.search(text, limit=50):
        if rec.id in active:
            return rec.id if score >= min_score else None
    return None


def _example(d: dict[str, Any], outcome: str) -> str:
    parts = [f'<example outcome="{outcome}">', f"<input>{escape(str(d.get('input', '')), quote=False)}</input>",
             f"<output>{escape(str(d.get('output', '')), quote=False)}</output>"]
    if d.get("expected"):
        parts.append(f"<expected>{escape(str(d['expected']), quote=False)}</expected>")
    verdict = "Correct." if (d.get("reward") or 0.0) >= 0.5 else (d.get("feedback") or "Wrong answer.")
    parts += [f"<feedback>{escape(str(verdict), quote=False)}</feedback>", "</example>"]
    return "\n".join(parts)


def render_refine_request(store: ExperienceStore, ref: Refinement) -> str:
    """The curator's user message for one insight (docs/sim.md, curator role, refine mode)."""
    rec = store.get(ref.id)
    cond = escape(getattr(rec, "condition", "") or "(none)", quote=False)
    head = (f'<insight id="{rec.id}">{escape(getattr(rec, "explanation", rec.render()), quote=False)}'
            f"</insight>\nIts current applicability condition: {cond}")
    shown = [_example(d, "hurt") for d in ref.hurt] + [_example(d, "missed") for d in ref.missed] \
        + [_example(d, "helped") for d in ref.helped]
    return "\n".join([head, *shown, REFINE_INSTRUCTIONS.format(rid=rec.id)])


def parse_refine_reply(text: str, rid: str) -> tuple[list[dict[str, Any]], list[tuple[Any, str]]]:
    """The REFINE_CONDITION operations for `rid` in a reply; everything else is dropped with a reason."""
    try:
        obj = extract_json(text)
    except Exception:  # noqa: BLE001 - an unreadable reply means "no operations"
        return [], [(text[:200], "reply is not JSON")]
    ops = obj.get("operations") if isinstance(obj, dict) else obj
    if not isinstance(ops, list):
        return [], [(repr(obj)[:200], 'no "operations" list in the reply')]
    keep, dropped = [], []
    for o in ops:
        if (isinstance(o, dict) and str(o.get("op", "")).strip().upper() == "REFINE_CONDITION"
                and o.get("id") == rid):
            keep.append(o)
        else:
            dropped.append((o, f"a refine request accepts only REFINE_CONDITION of {rid}"))
    return keep[:1], dropped


def refine_conditions(store: ExperienceStore, llm: Any, scope: str, *, run: str = "", after_seq: int = 0,
                      max_insights: int = 2, **find: Any) -> tuple[CurationReport, int]:
    """Ask the curator to refine the conditions of insights that hurt or were missed; apply the
    validated operations. Returns the report and the highest item sequence number used."""
    report = CurationReport()
    last = after_seq
    refs = sorted(find_refinements(store, scope, after_seq=after_seq, **find),
                  key=lambda r: -(len(r.hurt) + len(r.missed)))[:max_insights]
    for ref in refs:
        reply = llm.complete(render_refine_request(store, ref), purpose="optimizer")
        ops, dropped = parse_refine_reply(reply.text, ref.id)
        got = apply_operations(store, ops, scope=scope, run=run, cap=1)
        report.applied += got.applied
        report.touched += got.touched
        report.dropped += dropped + got.dropped
        last = max(last, ref.last_seq)
    return report, last
