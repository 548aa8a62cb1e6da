"""Specialist roles of the simulator: jobs beyond answer/optimize/critique/judge/curate.

Each module in this package defines `ROLE`, an object with

- `name: str` (the role's name in `SimLLM.stats` and `diagnose`),
- `priority: int` (lower is asked first),
- `claims(request: RoleRequest) -> bool`: does this request ask for this job? It must
  decide from what the request says (its instructions and the data it carries, in
  whatever layout), never from one caller's exact wording;
- `reply(request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]`: the
  reply text, and whether it was made from evidence the request carries (None when the
  role is not judged on evidence).

Modules are found by listing the package, so adding a role is adding a file.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from undertow.bench.sim.profile import TaskProfile
from undertow.bench.sim.request import Format


@dataclass(frozen=True)
class RoleRequest:
    """What a specialist role gets to read: the messages, their text and the reply format."""

    pairs: list[tuple[str, str]]          # (chat role, content)
    text: str                             # every message joined, history removed
    instructions: str                     # the text with shown values and insights removed
    fmt: Format                           # the reply format asked for
    response_format: Any                  # as given by the caller (OpenAI style), or None
    profiles: tuple[TaskProfile, ...]


class SpecialRole(Protocol):
    """The contract of a module's `ROLE` (see the module docstring)."""

    name: str
    priority: int

    def claims(self, request: RoleRequest) -> bool: ...

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]: ...


@cache
def special_roles() -> tuple[SpecialRole, ...]:
    """Every `ROLE` of this package, in priority order (then by name)."""
    found: list[SpecialRole] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        role = getattr(module, "ROLE", None)
        if role is not None:
            found.append(role)
    return tuple(sorted(found, key=lambda r: (r.priority, r.name)))


def claiming_role(request: RoleRequest) -> SpecialRole | None:
    """The first specialist role that claims `request`, or None."""
    for role in special_roles():
        if role.claims(request):
            return role
    return None
