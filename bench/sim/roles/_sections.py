"""Cutting a request into labelled sections, whatever the layout.

A section starts at a markdown heading (`# Docs`), a label line (`Documentation:`),
an XML-ish tag (`<history>`), a `[[ ## field ## ]]` marker, or a JSON key (a message
that is a JSON object). Each section's label is then sorted into what it holds:
documentation, past calls and their results, or a list of discrepancies.
"""

from __future__ import annotations

import json
import re

from undertow.bench.sim.roles._toolcalls import CALL

_HEAD = re.compile(
    r"^\s*(?:#{1,6}\s*(?P<md>[^\n#]{1,60}?)\s*#*\s*$"
    r"|\[\[\s*##\s*(?P<dspy>[^#\]]{1,60}?)\s*##\s*\]\]\s*$"
    r"|<(?P<tag>[A-Za-z][\w-]{0,40})(?:\s[^>]*)?>\s*(?P<tagrest>.*)$"
    r"|(?P<label>[A-Za-z][\w ()/-]{0,50}?)\s*:\s*(?P<rest>.*)$)")
_CLOSE = re.compile(r"^\s*</[A-Za-z][\w-]*>\s*$")

KINDS: dict[str, tuple[str, ...]] = {
    "discrepancies": ("discrepanc", "mismatch", "finding", "issue", "problem", "difference",
                      "contradiction", "inconsistenc", "analysis", "disagree", "flaw"),
    "history": ("history", "already", "previous", "past", "tried", "made", "observation", "observed",
                "result", "log", "probe", "experiment", "evidence", "outcome", "trace", "record", "run"),
    "doc": ("doc", "manual", "reference", "spec", "description", "readme", "help", "usage", "api"),
}


def _kind(label: str) -> str:
    low = label.lower()
    for kind, cues in KINDS.items():
        if any(c in low for c in cues):
            return kind
    return ""


def _json_sections(content: str) -> list[tuple[str, str]] | None:
    try:
        data = json.loads(content)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    out = []
    for key, value in data.items():
        if isinstance(value, list):
            value = "\n".join(v if isinstance(v, str) else json.dumps(v) for v in value)
        elif not isinstance(value, str):
            value = json.dumps(value)
        out.append((str(key), value))
    return out


def sections(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """kind ('doc', 'history', 'discrepancies', '') -> the text of the sections of that kind."""
    found: dict[str, list[str]] = {}
    for _, content in pairs:
        js = _json_sections(content.strip())
        if js is not None:
            for label, body in js:
                found.setdefault(_kind(label), []).append(body)
            continue
        kind, buf = "", []
        for line in content.splitlines():
            m = _HEAD.match(line)
            label = None
            if m and not _CLOSE.match(line):
                label = m.group("md") or m.group("dspy") or m.group("tag") or m.group("label")
                # a `label: text` line only opens a section when its label names one and
                # it is not a call or an example line
                if m.group("label") is not None and (CALL.search(line) or not _kind(label)):
                    label = None
            if label is not None and _kind(label):
                found.setdefault(kind, []).append("\n".join(buf))
                kind, buf = _kind(label), []
                rest = (m.group("rest") or m.group("tagrest") or "") if m else ""
                if rest.strip():
                    buf.append(rest)
                continue
            if _CLOSE.match(line):
                continue
            buf.append(line)
        found.setdefault(kind, []).append("\n".join(buf))
    return {k: "\n".join(v).strip() for k, v in found.items()}
