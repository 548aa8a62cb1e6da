"""DRAFT's three requests: explore (propose probe calls), analyze (compare), rewrite."""

from __future__ import annotations

EXPLORE_SYSTEM = (
    "You test a software tool against its documentation. Propose up to {k} new calls that probe "
    "the documented behaviour: the documented examples, every parameter and option the "
    "documentation mentions, edge cases, and anything earlier results suggest (tokens they return, "
    "formats error messages ask for). Do not repeat calls already made. Write one call per line, "
    "as tool_name[input], and nothing else."
)

ANALYZE_SYSTEM = (
    "You compare a tool's documentation with what the tool actually did. For every claim in the "
    "documentation (example results, defaults, formats, parameters, page sizes, error codes), "
    "check the observed calls and list each discrepancy on its own line starting with '- ', "
    "naming the call as tool_name[input], what the documentation says and what was observed. "
    "If everything agrees, say that there are no discrepancies."
)

REWRITE_SYSTEM = (
    "You maintain a tool's documentation. Rewrite the documentation so that it agrees with the "
    "observed behaviour: fix every listed discrepancy using the observed results, remove claims "
    "the observations contradict, and keep everything else as it is. Reply with the complete "
    "corrected documentation inside <documentation></documentation> tags."
)


def explore_user(tool: str, doc: str, history: list[tuple[str, str]]) -> str:
    calls = "\n".join(f"{tool}[{a}] -> {r}" for a, r in history) or "(none yet)"
    return f"Tool: {tool}\n\nDocumentation:\n{doc}\n\nCalls already made:\n{calls}\n"


def analyze_user(tool: str, doc: str, observed: list[tuple[str, str]]) -> str:
    calls = "\n".join(f"{tool}[{a}] -> {r}" for a, r in observed)
    return f"Tool: {tool}\n\nDocumentation:\n{doc}\n\nObserved calls:\n{calls}\n"


def rewrite_user(tool: str, doc: str, observed: list[tuple[str, str]], issues: str) -> str:
    calls = "\n".join(f"{tool}[{a}] -> {r}" for a, r in observed)
    return (f"Tool: {tool}\n\nDocumentation:\n{doc}\n\nObserved calls:\n{calls}\n\n"
            f"Discrepancies found:\n{issues}\n")
