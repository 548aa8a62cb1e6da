"""Sim role: propose probe calls that test a tool's documentation (DRAFT's explorer).

From the request alone: the documented examples not yet tried, the parameters the doc
mentions, tokens a past result hands back (`next_cursor` -> `cursor=`), dates rewritten
in a format an error message asks for, and seeded variations of documented calls.
Calls already made are not proposed again.
"""

from __future__ import annotations

import json
import random
import re

from undertow.bench.sim.roles import RoleRequest
from undertow.bench.sim.roles._draft import intent
from undertow.bench.sim.roles._reply import render
from undertow.bench.sim.roles._sections import sections
from undertow.bench.sim.roles._toolcalls import (
    FORMAT,
    NUMBER,
    PARAM,
    SLASHED,
    canonical,
    date_format,
    examples,
    from_iso,
    is_error,
    to_iso,
)

DEFAULT_LIMIT = 6
_LIMIT = re.compile(r"\b(?:up to|at most|no more than|maximum of|max(?:imum)?)\s+(\d{1,2})\b", re.I)


def _vary(args: str, rng: random.Random) -> str:
    """`args` with its plain numbers (not dates, not inside words) replaced by nearby ones."""
    masked = SLASHED.sub(lambda m: "\0" * len(m.group(0)), args)
    masked = re.sub(r"\d{4}-\d{2}-\d{2}", lambda m: "\0" * len(m.group(0)), masked)
    out, last = [], 0
    for m in NUMBER.finditer(masked):
        if m.start() and (masked[m.start() - 1].isalpha() or masked[m.start() - 1] == "/"):
            continue
        value = float(m.group(0))
        new = int(value) + rng.choice([1, 2, 3, 5, 7, 11]) if value.is_integer() else round(value * 1.5, 3)
        out.append(args[last:m.start()])
        out.append(str(new))
        last = m.end()
    out.append(args[last:])
    return "".join(out)


class ExploreRole:
    name = "tool_explore"
    priority = 30

    def claims(self, request: RoleRequest) -> bool:
        return intent(request) == "explore"

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        secs = sections(request.pairs)
        doc = secs.get("doc") or secs.get("", "")
        history = examples(secs.get("history", ""))
        fmt = date_format(doc)
        made = {canonical(h.tool, h.args, fmt) for h in history} | \
               {canonical(h.tool, h.args) for h in history}
        m = _LIMIT.search("\n".join(c for _, c in request.pairs))
        limit = int(m.group(1)) if m else DEFAULT_LIMIT
        doc_examples = examples(doc)
        proposals: list[tuple[str, str]] = []
        # 1. documented examples, as written
        proposals += [(e.tool, e.args) for e in doc_examples]
        # 2. parameters the doc mentions, on the example of their line
        for e in doc_examples:
            for name, value in PARAM.findall(e.line):
                value = value.rstrip(".,;:)`'\"") or "1"
                if f"{name}=" not in e.args:
                    proposals.append((e.tool, f"{e.args} {name}={value}"))
        # 3. tokens a result hands back (next_x -> x=value)
        for h in history:
            try:
                data = json.loads(h.result)
            except ValueError:
                continue
            if isinstance(data, dict):
                for key, value in data.items():
                    token = re.sub(r"^next_?|_?token$", "", key)
                    if value not in (None, "", False) and token and token != key:
                        base = re.sub(rf"\s*\b{re.escape(token)}=\S*", "", h.args)
                        proposals.append((h.tool, f"{base} {token}={value}"))
        # 4. dates rewritten in the format an error message asks for
        for h in history:
            if is_error(h.result):
                wanted = FORMAT.search(h.result)
                if wanted and SLASHED.search(h.args) and wanted.group(0) != fmt:
                    proposals.append((h.tool, from_iso(to_iso(h.args, fmt), wanted.group(0))))
        # 5. seeded variations of documented calls
        for e in rng.sample(doc_examples, k=min(len(doc_examples), 3)):
            proposals.append((e.tool, _vary(e.args, rng)))
        chosen, seen = [], set(made)
        for tool, args in proposals:
            key = canonical(tool, args, fmt)
            if key in seen or canonical(tool, args) in seen:
                continue
            seen.add(key)
            if rng.random() < 0.08:   # an imperfect explorer skips an idea now and then
                continue
            chosen.append(f"{tool}[{args}]")
            if len(chosen) >= limit:
                break
        body = "\n".join(chosen)
        return render(request.fmt, body, "Calls that test the documented claims.", chosen), bool(doc_examples)


ROLE = ExploreRole()
