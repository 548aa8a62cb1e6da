"""Replying in the format a request asks for (JSON keys, a tag, fields, a fence, plain)."""

from __future__ import annotations

import json

from undertow.bench.sim.render import render_fields
from undertow.bench.sim.request import Format

_REASON = {"reasoning", "reason", "rationale", "explanation", "thoughts", "analysis", "justification"}


def reply_in(fmt: Format, value: object, why: str = "") -> str:
    """`value` as the reply: under the first non-reasoning JSON key (reasoning keys get `why`),
    inside the asked tag or fence, as `[[ ## field ## ]]` blocks, or bare."""
    if fmt.kind == "json":
        keys = fmt.keys or ["answer"]
        main = next((k for k in keys if k.lower() not in _REASON), keys[0])
        return json.dumps({k: (value if k == main else why) for k in keys})
    if fmt.kind == "tag":
        return f"<{fmt.tag}>{value}</{fmt.tag}>"
    if fmt.kind == "fence":
        return f"```\n{value}\n```"
    if fmt.kind == "fields" and fmt.keys:
        main = next((k for k in fmt.keys if k.lower() not in _REASON), fmt.keys[0])
        return render_fields(fmt, {k: (value if k == main else why) for k in fmt.keys})
    return str(value)
