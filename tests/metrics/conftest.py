"""Shared helpers: a noise-free rng for the sim roles, and sim trajectories of the catalog task."""

from __future__ import annotations

import random
from typing import Any

import pytest


class NoNoise(random.Random):
    """An rng whose draws never trigger a sim role's noise (random() is always ~1)."""

    def random(self) -> float:
        return 0.999999

    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2

    def choice(self, seq: Any) -> Any:
        return seq[0]


def role_reply(messages: list[dict[str, str]]) -> tuple[str, str]:
    """(role name, noise-free reply) the sim gives `messages`."""
    from undertow.bench.sim import SimLLM

    sim = SimLLM()
    a = sim._analyse([(m["role"], m["content"]) for m in messages])
    if a.special is None:
        return a.role, ""
    role, request = a.special
    return role.name, role.reply(request, NoNoise())[0]


@pytest.fixture(scope="session")
def sim_runs() -> list[Any]:
    """40 runs of the starting catalog agent on the sim, with the writer's feedback: [(traj, question)]."""
    from undertow.bench.tasks.autolibra import world
    from undertow.bench.tasks.autolibra.agent import INITIAL_PROMPT, CatalogAgent
    from undertow.bench.tasks.autolibra.run import collect
    from undertow.engine.llm import make_llm

    llm = make_llm("sim", cache_dir=False, seed=0)
    train, _, _ = world.make_splits(0, 40, 0, 0)
    agent = CatalogAgent(llm, INITIAL_PROMPT)
    return [(t, ex.input) for (_, t), ex in zip(collect(agent, train, "fixture", 0), train)]
