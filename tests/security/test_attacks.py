"""The red-team suite (undertow.bench.redteam) at every isolation level this machine reaches.

Each test runs one attack against a pool at one level and fails if the attack works
there while the level claims to stop it. Attacks a level makes no claim against skip
with the reason (docs/sandbox.md has the full table); so do levels this machine lacks.
"""

from __future__ import annotations

import pytest
from undertow.bench.redteam.attacks import ATTACKS
from undertow.bench.redteam.bait import Bait
from undertow.engine.sandbox import LEVELS, SandboxPool, available

_POOLS: dict[str, tuple[Bait, SandboxPool]] = {}


@pytest.fixture(scope="module")
def arena():
    """One bait and one pool per level, made on first use, closed at the end of the module."""
    def get(level: str) -> tuple[Bait, SandboxPool]:
        if level not in _POOLS:
            bait = Bait().__enter__()
            pool = SandboxPool(workers=2, isolation=level, cpu_seconds=2, memory_mb=256, timeout_s=6,
                               file_mb=16, max_result_mb=16, procs=32)
            _POOLS[level] = (bait, pool)
        return _POOLS[level]
    yield get
    for bait, pool in _POOLS.values():
        pool.close()
        bait.__exit__(None, None, None)
    _POOLS.clear()


@pytest.mark.slow
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_is_stopped(arena, level, attack):
    why = available()[level]
    if why is not None:
        pytest.skip(f"isolation level {level!r} is not available here: {why}")
    if level not in attack.defended_at:
        pytest.skip(f"{level!r} makes no claim against {attack.name} ({attack.description}); see docs/sandbox.md")
    bait, pool = arena(level)
    outcome = attack.run(pool, bait)
    bait.restore_sibling()
    assert outcome == "blocked", f"{attack.name} ({attack.description}) got through at level {level!r}"


def test_the_suite_has_at_least_forty_attacks_in_every_category():
    assert len(ATTACKS) >= 40
    assert len({a.name for a in ATTACKS}) == len(ATTACKS)
    categories = {a.category for a in ATTACKS}
    for needed in ("files", "env", "/proc", "signals", "forks", "threads", "sockets", "pipes", "results",
                   "pickling", "cpu and memory", "limits"):
        assert needed in categories
    # the strongest level claims to stop every attack
    assert all("bubblewrap" in a.defended_at for a in ATTACKS)
