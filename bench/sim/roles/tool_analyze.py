"""Sim role: compare a tool's documentation with observed calls (DRAFT's analyzer).

It reads the documented examples, parameters, date format and error codes, and the
calls shown with their results, and lists every disagreement it can see: a documented
result that differs from the observed one, a date format an error message contradicts,
a documented parameter the tool rejects, a parameter that works but is undocumented.
It misses an item now and then (seeded), like a real model.
"""

from __future__ import annotations

import random
import re

from undertow.bench.sim.roles import RoleRequest
from undertow.bench.sim.roles._draft import intent
from undertow.bench.sim.roles._reply import render
from undertow.bench.sim.roles._sections import sections
from undertow.bench.sim.roles._toolcalls import (
    FORMAT,
    PARAM,
    Example,
    canonical,
    date_format,
    examples,
    is_error,
    same_result,
)

MISS_RATE = 0.1


def discrepancies(doc: str, history: list[Example]) -> list[str]:
    """Every disagreement between `doc` and the observed calls, one sentence each."""
    fmt = date_format(doc)
    by_call: dict[str, list[Example]] = {}
    for h in history:
        by_call.setdefault(canonical(h.tool, h.args, fmt), []).append(h)
    found: list[str] = []
    for e in examples(doc):
        seen = by_call.get(canonical(e.tool, e.args, fmt), [])
        if not seen:
            continue
        ok = [h for h in seen if not is_error(h.result)]
        obs = ok[0] if ok else seen[0]
        if is_error(obs.result) and FORMAT.search(obs.result):
            continue  # a malformed call, not a wrong claim: the format item below covers it
        if not same_result(e.result, obs.result, fmt):
            found.append(f"- `{obs.tool}[{obs.args}]`: the documentation says `{e.result}`, "
                         f"observed `{obs.result}`.")
    doc_params = {name for name, _ in PARAM.findall(doc)}
    reported: set[tuple[str, bool]] = set()
    for h in history:
        wanted = FORMAT.search(h.result) if is_error(h.result) else None
        if wanted and fmt and wanted.group(0) != fmt:
            found.append(f"- date format: the documentation says {fmt}, but the tool requires "
                         f"{wanted.group(0)} (`{h.tool}[{h.args}]` -> `{h.result}`).")
        for name, _ in PARAM.findall(h.args):
            if (name, is_error(h.result)) in reported:
                continue
            reported.add((name, is_error(h.result)))
            if name in doc_params and is_error(h.result):
                found.append(f"- `{h.tool}[{h.args}]`: the documented parameter `{name}=` is rejected: "
                             f"`{h.result}`.")
            elif name not in doc_params and not is_error(h.result):
                found.append(f"- `{h.tool}[{h.args}]` works but `{name}=` is undocumented: -> `{h.result}`.")
    return list(dict.fromkeys(found))


class AnalyzeRole:
    name = "tool_analyze"
    priority = 29

    def claims(self, request: RoleRequest) -> bool:
        return intent(request) == "analyze"

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        secs = sections(request.pairs)
        doc = secs.get("doc") or secs.get("", "")
        history = examples(secs.get("history", ""))
        items = [d for d in discrepancies(doc, history) if rng.random() >= MISS_RATE]
        body = "\n".join(items) if items else "No discrepancies: the documentation agrees with every observation."
        return render(request.fmt, body, f"{len(items)} discrepancies.", items), bool(history)


ROLE = AnalyzeRole()
_ = re
