"""Role `tool_step`: a request that shows tools and a question and asks for the next action
gets one tool call (``Action: tool[input]``) or the final answer, read by
`bench/sim/tool_reading.py` from the documentation, the question and the steps shown.

Claimed from generic cues: the request documents tools (usage or example lines) and a
question, and asks for an action / tool call / next step / final answer, in any
layout. The reply follows the format asked: JSON (tool/input or answer keys) or the
ReAct lines.
"""

from __future__ import annotations

import json
import random

from undertow.bench.sim.profile import cue_in
from undertow.bench.sim.request import parse_variables
from undertow.bench.sim.roles import RoleRequest
from undertow.bench.sim.roles.tool_docs_agent import _IMPROVE
from undertow.bench.sim.tool_reading import next_action, read_request

ASK_ACTION = ("action", "next step", "tool call", "call a tool", "call one tool", "which tool",
              "final answer", "next call", "choose a tool", "pick a tool", "use a tool",
              "invoke", "tool to call", "what to do next")
#: the request demands the answer now (step limit): no more calls
FORCE_ANSWER = ("final answer now", "answer now", "step limit", "no more tool", "no more calls",
                "must answer", "out of steps", "budget is spent")
ASK_ESTIMATE = ("remaining steps", "steps remain", "steps are left", "steps left", "how many more",
                "rest of the plan", "remainder of the plan", "imagine", "estimate ... steps",
                "remaining tool calls", "calls remain", "calls are left")


def full_text(request: RoleRequest) -> str:
    """Every message, as shown (history sections included: the steps so far live there)."""
    return "\n".join(content for _, content in request.pairs)


def user_text(request: RoleRequest) -> str | None:
    """The first user message (the question when no label names it)."""
    return next((c for r, c in request.pairs if r == "user"), None)


def read(request: RoleRequest):  # noqa: ANN201 - ToolRequest | None
    """The tool request shown (see `tool_reading.read_request`)."""
    return read_request(full_text(request), user_text(request))


def asks(cues: tuple[str, ...], request: RoleRequest) -> bool:
    text = full_text(request)
    return any(cue_in(c, text) for c in cues)


class ToolStepRole:
    name = "tool_step"
    priority = 40

    def claims(self, request: RoleRequest) -> bool:
        if not asks(ASK_ACTION, request) or asks(ASK_ESTIMATE, request) or \
                _IMPROVE.search(request.instructions) or parse_variables(request.text):
            return False   # a request to improve variables that shows an agent's trace
        return read(request) is not None

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        req = read(request)
        assert req is not None
        tool, what = next_action(req, rng)
        if tool is not None and asks(FORCE_ANSWER, request):
            tool, what = None, next((c.observation for c in reversed(req.calls) if not c.error
                                     and c.observation), "I do not know")
        if request.fmt.kind == "json":
            keys = [k.lower() for k in request.fmt.keys]
            if tool is None:
                key = next((k for k in request.fmt.keys if k.lower() in ("answer", "final_answer", "final")),
                           "answer")
                return json.dumps({key: what}), True
            tkey = next((k for k in request.fmt.keys if k.lower() in ("tool", "action", "name")), "tool")
            akey = next((k for k in request.fmt.keys if k.lower() in ("input", "args", "arguments")), "input")
            out = {tkey: tool, akey: what}
            if "thought" in keys:
                out["thought"] = "next step of the question"
            return json.dumps(out), True
        if tool is None:
            return f"Thought: the observations answer the question.\nFinal Answer: {what}", True
        return f"Thought: the next step needs {tool}.\nAction: {tool}[{what}]", True


ROLE = ToolStepRole()
