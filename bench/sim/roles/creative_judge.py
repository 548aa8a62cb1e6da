"""Sim roles: rate a creative text on an axis, rate its quality against stated rules, and
say which of two texts is more like a third (see bench/sim/creative/judging.py)."""

from __future__ import annotations

import random

from undertow.bench.sim.creative import asks, judging
from undertow.bench.sim.creative import reading as R
from undertow.bench.sim.creative.reply import reply_in
from undertow.bench.sim.roles import RoleRequest


class _Axis:
    name = "creative_axis"
    priority = 41

    def claims(self, request: RoleRequest) -> bool:
        return asks.asks_axis(request.text)

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        instr = R.instructions(request.text)
        opts = judging.options(instr)
        text = R.passages(request.text)[-1].body
        return reply_in(request.fmt, judging.rate_axis(text, opts, instr, rng)), True


class _Quality:
    name = "creative_quality"
    priority = 42

    def claims(self, request: RoleRequest) -> bool:
        return asks.asks_quality(request.text)

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        instr = R.instructions(request.text)
        text = R.passages(request.text)[-1].body
        score, stated = judging.rate_quality(text, instr, rng)
        value: object = int(score) if float(score).is_integer() else score
        return reply_in(request.fmt, value, "checked the rules the request states"), stated


class _Similar:
    name = "creative_similar"
    priority = 40

    def claims(self, request: RoleRequest) -> bool:
        return asks.asks_similarity(request.text)

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        ps = R.passages(request.text)
        anchor, first, second = _roles_of(ps)
        pick = judging.more_similar(anchor.body, first.body, second.body, rng)
        chosen = (first, second)[pick]
        name = R.suffix(chosen.label).upper() or ("B" if pick == 0 else "C")
        return reply_in(request.fmt, name), True


def _roles_of(ps: list[R.Passage]) -> tuple[R.Passage, R.Passage, R.Passage]:
    """(anchor, first candidate, second candidate): the anchor is the passage labelled
    anchor/reference/original/a/1 when there is one, else the first."""
    anchor_words = ("anchor", "reference", "original", "target", "query")
    anchor = next((p for p in ps if any(w in p.label for w in anchor_words)), None)
    if anchor is None:
        anchor = next((p for p in ps if R.suffix(p.label) in ("a", "1")), ps[0])
    rest = [p for p in ps if p is not anchor][:2]
    return anchor, rest[0], rest[1]


class _Roles:
    """Three roles in one module: the registry takes one `ROLE` per module, so this one
    dispatches to the first of them that claims the request."""

    name = "creative_judge"
    priority = 40

    def __init__(self) -> None:
        self.roles = (_Similar(), _Axis(), _Quality())

    def _pick(self, request: RoleRequest):  # noqa: ANN202
        return next((r for r in self.roles if r.claims(request)), None)

    def claims(self, request: RoleRequest) -> bool:
        return self._pick(request) is not None

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        role = self._pick(request)
        assert role is not None  # claims() said so
        return role.reply(request, rng)


ROLE = _Roles()
