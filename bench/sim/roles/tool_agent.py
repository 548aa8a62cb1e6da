"""The sim plays a tool-using (ReAct-style) agent, one step per request.

Claims a request that (1) states a tool protocol (an action/tool step and a final answer),
(2) holds an item of a task whose profile knows how its agent acts (`agent_step`), and
(3) asks for no new value, critique or judgement (no variables shown). The agent's
behaviour depends on what the system prompt teaches: each of the profile's skills that
the prompt does not teach fails with the profile's `FAILURE` rate (a taught one slips at
`TAUGHT_SLIP`), drawn from the request's seeded rng. Past actions and observations are
read from `Action: tool[input]` / `Observation:` lines of the conversation.
"""

from __future__ import annotations

import random
import re
from typing import Any

from undertow.bench.sim.items import last_item, without_items
from undertow.bench.sim.profile import cue_in
from undertow.bench.sim.request import classify, parse_variables
from undertow.bench.sim.roles import RoleRequest

_ACTION = re.compile(r"^\s*Action\s*:\s*([A-Za-z_][\w-]*)\s*\[(.*?)\]\s*$", re.MULTILINE | re.IGNORECASE)
_OBSERVATION = re.compile(r"^\s*Observation\s*:\s*(.*)$", re.MULTILINE | re.IGNORECASE)
_TOOL_LINE = re.compile(r"^\s*[-*]\s*([A-Za-z_][\w-]*)\s*:", re.MULTILINE)
_JUDGING = ("feedback", "metric", "rate each", "grade", "evaluate", "critique", "improve")


def _agent_profiles(request: RoleRequest) -> list[Any]:
    return [p for p in request.profiles if callable(getattr(p, "agent_step", None))]


def _conversation(request: RoleRequest) -> tuple[str, str]:
    system = "\n".join(c for r, c in request.pairs if r == "system")
    rest = "\n".join(c for r, c in request.pairs if r != "system")
    return system, rest


class ToolAgentRole:
    name = "tool_agent"
    priority = 30   # before tool_docs_agent: it claims only items of a profile that knows its agent

    def claims(self, request: RoleRequest) -> bool:
        text = request.text
        if not (cue_in("action", text) and (cue_in("final answer", text) or cue_in("tool", text))):
            return False
        if any(cue_in(c, request.instructions) for c in _JUDGING):
            return False
        if parse_variables(text) or classify(request.instructions, False) != "answer":
            return False
        _, rest = _conversation(request)
        return last_item(rest, _agent_profiles(request)) is not None

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        system, rest = _conversation(request)
        found = last_item(rest, _agent_profiles(request))
        assert found is not None
        profile, item = found
        prompt = without_items(system, profile)
        module = __import__(type(profile).__module__, fromlist=["FAILURE"])
        failure = getattr(module, "FAILURE", {})
        slip = getattr(module, "TAUGHT_SLIP", 0.03)
        missing = frozenset(s.name for s in profile.skills
                            if rng.random() < (slip if s.taught_by(prompt) else failure.get(s.name, 0.5)))
        actions = [(m.group(1), m.group(2).strip()) for m in _ACTION.finditer(rest)]
        observations = [m.group(1).strip() for m in _OBSERVATION.finditer(rest)]
        tools = _TOOL_LINE.findall(system) or sorted({a for a, _ in _ACTION.findall(system)})
        return profile.agent_step(item.text, actions, observations, missing, tools), None


ROLE = ToolAgentRole()
