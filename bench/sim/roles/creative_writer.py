"""Sim role: write, rewrite or combine a short creative text (see bench/sim/creative/writing.py)."""

from __future__ import annotations

import random

from undertow.bench.sim.creative import asks
from undertow.bench.sim.creative.reply import reply_in
from undertow.bench.sim.creative.writing import choose, compose, read_ask
from undertow.bench.sim.roles import RoleRequest


class _Writer:
    name = "creative_write"
    priority = 45

    def claims(self, request: RoleRequest) -> bool:
        return asks.asks_writing(request.text)

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        ask = read_ask(request.text)
        text = compose(ask, choose(ask, rng), rng)
        evidence = ask.obj is not None and (ask.cap is not None or ask.must_mention)
        return reply_in(request.fmt, text), evidence


ROLE = _Writer()
