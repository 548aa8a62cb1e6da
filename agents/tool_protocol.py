"""The text protocol of the tool agents: how a request shows the tools, the question and
the steps so far, and how a reply names the next action or the remaining plan.

Shared by ToolChain* (`agents/toolchain.py`) and its baselines at matched calls
(`agents/tool_baselines.py`), so the three agents show the model the same thing.
Replies follow the ReAct convention (``Action: tool[input]`` / ``Final Answer: ...``);
JSON replies (``{"tool": ..., "input": ...}`` or ``{"answer": ...}``) are read too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from undertow.engine.llm.structured import StructuredOutputError, extract_json
from undertow.optimizers.search.toolchain import Action, Step

_ACTION = re.compile(r"^[ \t*>-]*Action\s*:\s*`?([A-Za-z_][\w.-]*)\s*\[(.*?)\]`?\s*$",
                     re.MULTILINE | re.IGNORECASE)
_FINAL = re.compile(r"^[ \t*>-]*Final Answer\s*:\s*(.*)$", re.MULTILINE | re.IGNORECASE)
_REMAINING = re.compile(r"remaining(?:\s+tool)?\s+(?:steps|calls)\s*[:=]\s*(\d+)", re.IGNORECASE)
_NUMBERED = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+\S", re.MULTILINE)
_ERROR = re.compile(r"^\s*Error\b", re.IGNORECASE)


@dataclass(frozen=True)
class ToolBox:
    """Tools as the agents see them: ``docs`` (name -> description) and ``call``.

    ``call(tool, args) -> observation`` must not raise for a tool error: errors come
    back as text starting with "Error" (as `ToolWorld.call` does).
    """

    docs: Mapping[str, str]
    call: Callable[[str, str], str]

    def run(self, tool: str, args: str) -> tuple[str, bool]:
        """The observation of one call and whether it is an error (unknown tools included)."""
        if tool not in self.docs:
            return (f"Error E_UNKNOWN_TOOL: no tool named {tool!r}; available: "
                    f"{', '.join(sorted(self.docs))}", True)
        try:
            obs = str(self.call(tool, args))
        except Exception as exc:  # noqa: BLE001 - a failing tool is an observation
            obs = f"Error {type(exc).__name__}: {exc}"
        return obs, bool(_ERROR.match(obs))


def toolbox(world: Any) -> ToolBox:
    """A `ToolBox` from a tool world (``docs()`` and ``call``) or from a name -> callable dict
    (docstrings as docs)."""
    if isinstance(world, ToolBox):
        return world
    if isinstance(world, Mapping):
        fns = dict(world)
        docs = {n: (f.__doc__ or n).strip().splitlines()[0] for n, f in fns.items()}
        return ToolBox(docs, lambda tool, args: str(fns[tool](args)))
    docs = world.docs()
    return ToolBox(dict(docs), world.call)


def tool_listing(docs: Mapping[str, str]) -> str:
    """Each tool's name and its documentation (lines kept: examples sit on their own lines)."""
    return "\n\n".join(f"### {name}\n{str(doc).strip()}" for name, doc in sorted(docs.items()))


SYSTEM = ("You answer questions by calling tools, one call per step. Tools:\n{tools}\n"
          "Reply with the next step only, either\n"
          "Thought: why\nAction: tool_name[input]\n"
          "or, when the observations so far answer the question,\n"
          "Final Answer: the answer")

ESTIMATE = ("Imagine the rest of the plan that answers the question below with these tools. "
            "List the remaining tool calls one per line, numbered, then end with the line "
            "'Remaining steps: N', where N counts those calls (0 when the observations "
            "already answer it).\nTools:\n{tools}")


def history(steps: Sequence[Step]) -> str:
    """The steps so far as Action/Observation lines."""
    return "\n".join(f"Action: {s.tool}[{s.args}]\nObservation: {s.observation}" for s in steps)


def step_messages(question: str, docs: Mapping[str, str], steps: Sequence[Step],
                  system: str = SYSTEM) -> list[dict[str, str]]:
    """The request for the next action after ``steps``."""
    user = f"Question: {question}"
    if steps:
        user += f"\n{history(steps)}"
    return [{"role": "system", "content": system.replace("{tools}", tool_listing(docs))},
            {"role": "user", "content": user}]


def estimate_messages(question: str, docs: Mapping[str, str],
                      steps: Sequence[Step]) -> list[dict[str, str]]:
    """The imagination request: the rest of the plan after ``steps``, and its length."""
    user = f"Question: {question}"
    if steps:
        user += f"\nSteps so far:\n{history(steps)}"
    return [{"role": "system", "content": ESTIMATE.replace("{tools}", tool_listing(docs))},
            {"role": "user", "content": user}]


def parse_action(reply: str) -> Action:
    """The action a reply names: the first ``Action: tool[input]`` unless a ``Final Answer``
    comes before it; a JSON object with ``tool``/``input`` or ``answer``; else the last
    line as the final answer (models often answer directly)."""
    action, final = _ACTION.search(reply), _FINAL.search(reply)
    if action and (not final or action.start() < final.start()):
        return Action(action.group(1), action.group(2).strip())
    if final:
        return Action(answer=final.group(1).strip())
    try:
        data = extract_json(reply)
    except StructuredOutputError:
        data = None
    if isinstance(data, dict):
        tool = data.get("tool") or data.get("action") or data.get("name")
        if isinstance(tool, str) and tool.strip() and tool.strip().lower() not in {"final", "answer"}:
            args = data.get("input", data.get("args", data.get("arguments", "")))
            return Action(tool.strip(), str(args if args is not None else "").strip())
        for key in ("answer", "final_answer", "final"):
            if key in data:
                return Action(answer=str(data[key]).strip())
    lines = [ln.strip() for ln in reply.strip().splitlines() if ln.strip()]
    return Action(answer=lines[-1] if lines else "")


def parse_remaining(reply: str) -> float:
    """The number of remaining tool calls an imagination reply states ("Remaining steps: N"),
    else the count of its numbered or bulleted lines."""
    m = _REMAINING.search(reply)
    if m:
        return float(m.group(1))
    return float(len(_NUMBERED.findall(reply)))
