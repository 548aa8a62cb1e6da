"""Writing a tool-documentation reply in the format the request asks for."""

from __future__ import annotations

import json

from undertow.bench.sim.render import REASON_KEYS
from undertow.bench.sim.request import Format


def render(fmt: Format, body: str, why: str = "", items: list[str] | None = None) -> str:
    """`body` as a JSON value (list keys get `items`), inside a tag or fence, or plain."""
    if fmt.kind == "json":
        obj: dict[str, object] = {}
        for key in fmt.keys or ["result"]:
            low = key.lower()
            if low in REASON_KEYS:
                obj[key] = why
            elif items is not None and low.endswith(("s", "list")):
                obj[key] = items
            else:
                obj[key] = body
        return json.dumps(obj, indent=1)
    if fmt.kind == "tag":
        return f"{why}\n<{fmt.tag}>\n{body}\n</{fmt.tag}>".strip()
    if fmt.kind == "fence":
        return f"{why}\n```\n{body}\n```".strip()
    if fmt.kind == "fields":
        parts = [f"[[ ## {k} ## ]]\n{why if k.lower() in REASON_KEYS else body}" for k in fmt.keys]
        if fmt.end_marker:
            parts.append(fmt.end_marker)
        return "\n\n".join(parts)
    return body
