"""What the simulated LLM did, counted: a first-class statistic of every sim.

`SimLLM.stats` (a `SimStats`) counts each request by the role the sim chose, and for
the roles that change a parameter or judge one (optimize, critique, curate, judge)
whether the reply was made *from evidence* (a shown failing item, feedback naming a
mistake, a direction for a number) or was a *guess*. The share answered from evidence
is how a fair judge is checked: a framework whose requests carry the same information
as undertow's should get the same share (docs/sim.md, "Reading requests").

The sim-server serves the same counters under the key "sim" of `GET /_undertow/stats`
and zeroes them with `POST /_undertow/stats/reset`.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

#: Roles whose replies are judged "from evidence" or "guess".
EVIDENCE_ROLES = ("optimize", "critique", "curate", "judge")


class SimStats:
    """Thread-safe counters: requests per role, evidence versus guesses per role."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self.by_role: Counter[str] = Counter()
            self.from_evidence: Counter[str] = Counter()
            self.guessed: Counter[str] = Counter()

    def record(self, role: str, evidence: bool | None) -> None:
        """Count one request of `role`; `evidence` None for roles that are not judged."""
        with self._lock:
            self.by_role[role] += 1
            if evidence is True:
                self.from_evidence[role] += 1
            elif evidence is False:
                self.guessed[role] += 1

    def evidence_share(self, roles: tuple[str, ...] = ("optimize",)) -> float | None:
        """The share of requests of `roles` answered from evidence (None when there were none)."""
        with self._lock:
            ev = sum(self.from_evidence[r] for r in roles)
            total = ev + sum(self.guessed[r] for r in roles)
        return None if total == 0 else ev / total

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready counters, with the optimizer and critic evidence shares."""
        share = self.evidence_share()
        critic = self.evidence_share(("critique",))
        with self._lock:
            return {"requests": sum(self.by_role.values()), "by_role": dict(self.by_role),
                    "from_evidence": dict(self.from_evidence), "guessed": dict(self.guessed),
                    "optimizer_evidence_share": share, "critic_evidence_share": critic}
