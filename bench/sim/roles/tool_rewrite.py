"""Sim role: rewrite a tool's documentation so it agrees with what was observed (DRAFT's rewriter).

It fixes what the listed discrepancies point at, using the observed results shown:
a documented example whose result was wrong becomes an observed example and loses the
claim around it; a contradicted date format is replaced (and every date in the doc
rewritten); calls that revealed undocumented parameters or rejected documented ones
are added as observed examples. With no discrepancy listed it returns the doc as is.
"""

from __future__ import annotations

import random

from undertow.bench.sim.roles import RoleRequest
from undertow.bench.sim.roles._draft import intent
from undertow.bench.sim.roles._reply import render
from undertow.bench.sim.roles._sections import sections
from undertow.bench.sim.roles._toolcalls import (
    CALL,
    FORMAT,
    PARAM,
    Example,
    canonical,
    date_format,
    examples,
    is_error,
    same_result,
    to_iso,
)

SLIP_RATE = 0.05


def rewrite(doc: str, history: list[Example], issues: str, rng: random.Random) -> str:
    """`doc` fixed where `issues` point, with the results in `history`."""
    fmt = date_format(doc)
    flagged = {canonical(t, a, fmt) for t, a in CALL.findall(issues)}
    observed: dict[str, Example] = {}
    for h in history:
        key = canonical(h.tool, h.args, fmt)
        if key not in observed or (is_error(observed[key].result) and not is_error(h.result)):
            observed[key] = h
    lines = doc.splitlines()
    out: list[str] = []
    for line in lines:
        fixes = []
        for e in examples(line):
            key = canonical(e.tool, e.args, fmt)
            obs = observed.get(key)
            if key in flagged and obs is not None and not same_result(e.result, obs.result, fmt) \
                    and not (is_error(obs.result) and FORMAT.search(obs.result)) \
                    and rng.random() >= SLIP_RATE:
                fixes.append(f"{obs.tool}[{obs.args}] -> {obs.result}")
        if fixes:
            out.append("- Observed (the earlier description was wrong): " + "; ".join(fixes))
        else:
            out.append(line)
    shown = {(name, is_error(e.result)) for e in examples("\n".join(out)) for name, _ in PARAM.findall(e.args)}
    for tool, args in CALL.findall(issues):
        obs = observed.get(canonical(tool, args, fmt))
        if obs is None:
            continue
        params = {(name, is_error(obs.result)) for name, _ in PARAM.findall(args)}
        if params and not params <= shown and rng.random() >= SLIP_RATE:
            out.append(f"- Observed: {obs.tool}[{obs.args}] -> {obs.result}")
            shown |= params
    new_doc = "\n".join(out)
    wanted = [m.group(0) for m in FORMAT.finditer(issues) if m.group(0) != fmt]
    if fmt and wanted and wanted[0].startswith("YYYY") and rng.random() >= SLIP_RATE:
        new_doc = to_iso(new_doc, fmt).replace(fmt, wanted[0])
    return new_doc


class RewriteRole:
    name = "tool_rewrite"
    priority = 28

    def claims(self, request: RoleRequest) -> bool:
        return intent(request) == "rewrite"

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        secs = sections(request.pairs)
        doc = secs.get("doc") or secs.get("", "")
        history = examples(secs.get("history", ""))
        issues = secs.get("discrepancies", "")
        new_doc = rewrite(doc, history, issues, rng) if issues else doc
        return render(request.fmt, new_doc, "The documentation, corrected to match the observations."), \
            bool(issues and history)


ROLE = RewriteRole()
