"""A tool world: deterministic local tools whose shipped docs are wrong in planted ways.

    from undertow.bench.tasks.toolworld import make_world
    world = make_world(0)
    world.call("calc", "2^3")        # '1' (the doc says ^ is a power: 8)
    task = world.tasks(seed=0, n=1)[0]
    world.check(task, task.answer)   # 1.0

See docs/toolworld.md for the tools, the planted flaws and DRAFT.
"""

from undertow.bench.tasks.toolworld.base import PlantedFlaw, Tool, ToolError, ToolTask
from undertow.bench.tasks.toolworld.world import ToolWorld, make_world

__all__ = ["PlantedFlaw", "Tool", "ToolError", "ToolTask", "ToolWorld", "make_world"]
