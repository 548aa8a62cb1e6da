"""The simulated LLM: a rule-based stand-in for a real model, for offline tests and benchmarks.

See `docs/sim.md` for its rules. Task profiles (`profile.py`) tell it about tasks.
"""

from undertow.bench.sim.llm import SimLLM, SimReply
from undertow.bench.sim.profile import (
    ANSWER_FORMAT,
    CodeFix,
    ItemMatch,
    Skill,
    TaskProfile,
    check_profile,
    cue_in,
    load_profiles,
    normalize,
)

__all__ = [
    "ANSWER_FORMAT",
    "CodeFix",
    "ItemMatch",
    "SimLLM",
    "SimReply",
    "Skill",
    "TaskProfile",
    "check_profile",
    "cue_in",
    "load_profiles",
    "normalize",
]
