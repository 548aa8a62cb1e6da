"""Writing optimizer and critic replies in the format a request asks for."""

from __future__ import annotations

import json
from collections.abc import Sequence

from undertow.bench.sim.request import Format, Variable

REASON_KEYS = {"reasoning", "reason", "rationale", "thought", "thoughts", "thinking",
               "explanation", "analysis", "critique", "feedback", "diagnosis"}
MAP_KEYS = {"suggestion", "suggestions", "update", "updates", "changes", "proposal",
            "new_values", "variables", "parameters"}
VALUE_KEYS = {"improved_variable", "improved_prompt", "improved_value", "new_prompt",
              "new_value", "new_variable", "prompt", "value", "revised_prompt",
              "updated_prompt", "updated_value", "revised_value", "output", "result"}


def render_proposal(fmt: Format, variables: Sequence[Variable], new_values: dict[str, object],
                    target: str | None, why: str) -> str:
    """The reply of the optimizer role: JSON, tag-wrapped or plain, as `fmt` says.

    `new_values` maps the names of changed variables to their new values; `target` is
    the main edited variable (its value fills single-value keys and plain replies).
    """
    current: dict[str, object] = {v.name: v.value for v in variables}
    main = new_values.get(target or "", current.get(target or "", ""))
    if fmt.kind == "json":
        keys = fmt.keys or ["reasoning", "suggestion"]
        obj: dict[str, object] = {}
        for k in keys:
            low = k.lower()
            if k in current:
                obj[k] = new_values.get(k, current[k])
            elif low in REASON_KEYS:
                obj[k] = why
            elif low in MAP_KEYS:
                obj[k] = dict(new_values)
            elif low in VALUE_KEYS:
                obj[k] = main
            else:
                obj[k] = ""
        if not any(k in current or k.lower() in MAP_KEYS | VALUE_KEYS for k in keys):
            obj["suggestion"] = dict(new_values)
        return json.dumps(obj, indent=1)
    if fmt.kind == "tag":
        return f"{why}\n<{fmt.tag}>\n{main}\n</{fmt.tag}>"
    if fmt.kind == "fence":  # the reader takes what lies between the first and last fence
        return f"{why}\n```\n{main}\n```"
    if fmt.kind == "fields":
        return render_fields(fmt, {k: (new_values.get(k, current[k]) if k in current else
                                       why if k.lower() in REASON_KEYS else
                                       dict(new_values) if k.lower() in MAP_KEYS else
                                       "Answer:" if "prefix" in k.lower() else main)
                                   for k in fmt.keys})
    return str(main)


def render_fields(fmt: Format, values: dict[str, object]) -> str:
    """A `[[ ## field ## ]]` reply: each output field in order, then the end marker."""
    parts = []
    for k in fmt.keys:
        v = values.get(k, "")
        parts.append(f"[[ ## {k} ## ]]\n{v if isinstance(v, str) else json.dumps(v)}")
    if fmt.end_marker:
        parts.append(fmt.end_marker)
    return "\n\n".join(parts)


def render_critique(fmt: Format, text: str) -> str:
    """The reply of the critic role in the requested format."""
    if fmt.kind == "json":
        keys = fmt.keys or ["critique"]
        return json.dumps({k: text if k.lower() in REASON_KEYS or k.lower() in VALUE_KEYS
                           else "" for k in keys})
    if fmt.kind == "tag":
        return f"<{fmt.tag}>\n{text}\n</{fmt.tag}>"
    if fmt.kind == "fence":
        return f"```\n{text}\n```"
    if fmt.kind == "fields":
        return render_fields(fmt, {k: text for k in fmt.keys})
    return text
