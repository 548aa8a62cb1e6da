"""The simulated LLM's profiles of the bundled tasks: reasoning, Battleship, code repair.

Registered under the entry-point group `undertow.sim_profiles` (see pyproject.toml), so
that `SimLLM()` finds them without the engine importing the bench.
"""

from __future__ import annotations

import importlib

from undertow.bench.sim.profile import TaskProfile

#: Task modules under `undertow.bench.tasks.reasoning` that define a `PROFILE`.
REASONING_TASKS = ("boolean_expressions", "word_sorting", "object_counting",
                   "multistep_arithmetic", "dyck_languages", "navigation", "date_arithmetic")
#: Other task modules with a `PROFILE` (code tasks: the profile offers code fixes).
CODE_TASKS = ("battleship", "code_repair")
#: Task modules whose `PROFILE` carries a numeric rule (`TaskProfile.numeric_plan`).
NUMERIC_TASKS = ("traffic_profile",)
#: Agent tasks whose `PROFILE` also plays the agent (`agent_step`, the sim's tool_agent role).
AGENT_TASKS = ("autolibra.profile",)


def all_profiles() -> list[TaskProfile]:
    """The profile of every bundled task whose module exists, sorted by name."""
    profiles = []
    names = [f"reasoning.{n}" for n in REASONING_TASKS] + list(CODE_TASKS) + list(NUMERIC_TASKS) + list(AGENT_TASKS)
    for name in names:
        module_name = f"undertow.bench.tasks.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:  # a real missing dependency inside the module
                raise
            continue
        profile = getattr(module, "PROFILE", None)
        if profile is not None:
            profiles.append(profile)
    return sorted(profiles, key=lambda p: p.name)
