"""Role `tool_estimate`: asked to imagine the rest of a tool plan (how many steps remain),
the simulator lists the remaining calls it sees (question steps not yet done, a pending
next page) and states their count, with seeded noise (off by one now and then).

Claimed from generic cues: tools and a question are shown and the request asks for the
remaining steps / the rest of the plan / how many more calls.
"""

from __future__ import annotations

import json
import random

from undertow.bench.sim.roles import RoleRequest
from undertow.bench.sim.roles.tool_docs_agent import _IMPROVE
from undertow.bench.sim.roles.tool_step import ASK_ESTIMATE, asks, read
from undertow.bench.sim.tool_reading import progress, remaining

#: how often the estimate is off by one (either way)
MISCOUNT = 0.2


class ToolEstimateRole:
    name = "tool_estimate"
    priority = 27

    def claims(self, request: RoleRequest) -> bool:
        return asks(ASK_ESTIMATE, request) and not _IMPROVE.search(request.instructions) and read(request) is not None

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        req = read(request)
        assert req is not None
        n = remaining(req)
        if rng.random() < MISCOUNT:
            n = max(0, n + rng.choice((-1, 1)))
        idx, _ = progress(req)
        todo = req.steps[idx:idx + n] + ["one more call"] * max(0, n - len(req.steps[idx:]))
        if request.fmt.kind == "json":
            key = next((k for k in request.fmt.keys if "step" in k.lower() or "remain" in k.lower()),
                       "remaining_steps")
            return json.dumps({"plan": todo, key: n}), True
        lines = [f"{i}. {s}" for i, s in enumerate(todo, 1)]
        return "\n".join(lines + [f"Remaining steps: {n}"]), True


ROLE = ToolEstimateRole()
