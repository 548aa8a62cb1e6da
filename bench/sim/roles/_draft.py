"""What a tool-documentation request asks for: explore, analyze or rewrite.

The intent is read from the request's instructions (the lines that hold no call,
example or JSON data), by families of synonyms, and only when the request shows a
tool documentation (example calls `name[input] -> result`).
"""

from __future__ import annotations

import re

from undertow.bench.sim.roles import RoleRequest
from undertow.bench.sim.roles._sections import sections
from undertow.bench.sim.roles._toolcalls import EXAMPLE, split_instructions

CUES: dict[str, re.Pattern[str]] = {
    "rewrite": re.compile(r"\b(rewrite|re-write|revise|revised|redraft|amend|patch(?:ed)? (?:the )?doc"
                          r"|(?:fix|correct|update|repair|edit)(?:ed)?\s+(?:the\s+|this\s+)?(?:tool\s+)?"
                          r"(?:doc|docs|documentation|manual|reference|description)"
                          r"|(?:corrected|updated|fixed|new|improved)\s+(?:version of (?:the )?)?"
                          r"(?:doc|docs|documentation|manual|reference))\b", re.I),
    "analyze": re.compile(r"\b(compare|comparing|discrepanc\w*|mismatch\w*|contradict\w*|inconsisten\w*"
                          r"|disagree\w*|differ\w*|conflict\w*|where .{0,30}\b(?:doc|docs|documentation)\b"
                          r".{0,20}\bwrong)\b", re.I),
    "explore": re.compile(r"\b(propose|suggest|design|devise|plan|choose|pick|generate|come up with|list)\b"
                          r".{0,80}\b(calls?|probes?|experiments?|tests?|inputs?|queries|invocations?)\b"
                          r"|\b(probe|explore|exercise)\b", re.I),
}
_DOC_WORD = re.compile(r"\b(doc|docs|documentation|manual|reference|spec|description|readme)\b", re.I)


def intent(request: RoleRequest) -> str:
    """'rewrite', 'analyze', 'explore' or '' for a request about a tool's documentation."""
    text = "\n".join(c for _, c in request.pairs)
    if not EXAMPLE.search(text):
        return ""
    if re.search(r"^\s*Final Answer\s*:", text, re.M | re.I) or re.search(r"\bAction\s*:", text):
        return ""  # an agent's protocol, not a documentation job
    secs = sections(request.pairs)
    shown = any(secs.get(k) for k in ("doc", "history", "discrepancies"))
    instructions = split_instructions(secs.get("", "") if shown else text)
    if not _DOC_WORD.search(instructions) and not secs.get("doc"):
        return ""
    for name in ("rewrite", "analyze", "explore"):
        if CUES[name].search(instructions):
            return name
    return ""
