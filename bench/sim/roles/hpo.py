"""Sim role: hyperparameter optimization requests (LLAMBO-style, any caller).

It claims a request that asks either to *propose* configurations / settings /
candidates or to *predict* (estimate, forecast) the score of candidate
configurations, and that carries a search space or configurations the sim can read
(`bench/sim/hpo_read.py`). Proposals without a scored history are a warm start;
with one, they move toward the target score; predictions come from the history
shown (`bench/sim/hpo_model.py`). The reply follows the format asked: JSON (bare
list, or an object under the key a schema names), a tag, or plain lines.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from undertow.bench.sim import hpo_model
from functools import lru_cache

from undertow.bench.sim.hpo_read import HPORequest
from undertow.bench.sim.hpo_read import read_request as _read_request
from undertow.bench.sim.roles import RoleRequest

_CUE = re.compile(r"hyper-?param|configuration|\bconfigs?\b|search space|\bsettings?\b|candidate", re.I)
_PROPOSE = re.compile(r"\b(propose|suggest|recommend|generate|give|list|sample|produce|provide|come up with|"
                      r"output|return|draw|pick|choose|write)\b[^.\n]{0,80}?\b(configurations?|configs?|"
                      r"settings?|points?|combinations?|hyper-?parameters?)\b", re.I)
_PREDICT = re.compile(r"\b(predict|estimate|forecast|guess|anticipate|expect(?:ed)?|assess)\w*\b[^.\n]{0,80}?"
                      r"\b(scores?|accurac\w*|performance|values?|results?|outcomes?|objective|metric)\b", re.I)


@lru_cache(maxsize=64)
def read_request(text: str) -> HPORequest:
    """`hpo_read.read_request`, remembered: `claims` and `reply` read the same text."""
    return _read_request(text)


def _all_text(request: RoleRequest) -> str:
    return "\n".join(content for _, content in request.pairs)


def _job(text: str) -> str | None:
    # the request's own words, with JSON data and data lines set aside
    words = re.sub(r"\{[^{}]*\}", " ", text)
    predict, propose = _PREDICT.search(words), _PROPOSE.search(words)
    if predict and (not propose or re.search(r"\b(predict|estimate|forecast)\w*", words, re.I)):
        return "predict"
    return "propose" if propose else None


class HPORole:
    name = "hpo"
    priority = 40

    def claims(self, request: RoleRequest) -> bool:
        text = _all_text(request)
        if not _CUE.search(text) or _job(text) is None:
            return False
        read = read_request(text)
        if _job(text) == "predict":
            return bool(read.candidates) and bool(read.dims)
        return bool(read.dims)

    def reply(self, request: RoleRequest, rng: random.Random) -> tuple[str, bool | None]:
        text = _all_text(request)
        read = read_request(text)
        if _job(text) == "predict" and read.candidates:
            scores = [hpo_model.predict(read.dims, read.history, c, rng) for c in read.candidates]
            return _render(request, text, scores, "predictions"), bool(read.history)
        n = read.n_wanted or 5
        if read.history:
            configs = hpo_model.conditional(read.dims, read.history, n, read.target, rng)
        else:
            configs = hpo_model.warm_start(read.dims, n, rng)
        return _render(request, text, configs, "configurations"), bool(read.history)


def _render(request: RoleRequest, text: str, items: list[Any], what: str) -> str:
    fmt = request.fmt
    dims = {d.name.lower() for d in read_request(text).dims}
    wrapper = [k for k in fmt.keys if k.lower() not in dims]
    if fmt.kind == "json" and len(wrapper) == 1 and len(fmt.keys) == 1:
        return json.dumps({wrapper[0]: items})
    if fmt.kind == "tag" and fmt.tag:
        return f"<{fmt.tag}>{json.dumps(items)}</{fmt.tag}>"
    if fmt.kind == "json" or re.search(r"\bjson\b", text, re.I):
        return json.dumps(items)
    if what == "predictions":
        return "\n".join(f"{i + 1}. {s}" for i, s in enumerate(items))
    return "\n".join(", ".join(f"{k}={v}" for k, v in c.items()) for c in items)


def read(request: RoleRequest) -> HPORequest:
    """What the role reads in `request` (for tests and diagnosis)."""
    return read_request(_all_text(request))


ROLE = HPORole()
