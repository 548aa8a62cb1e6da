"""Black-box search from a history of (configuration, score): the shared loop, and
random search.

`HistorySearch` fits the same loop as every optimizer: run the system with the current
values, `backward(outputs, feedback)` with a score in the feedback, `step()`. Each
`step()` records the score the current configuration earned, asks `next_config()` for
the next one and writes it through `Parameter.set` (so kinds, bounds and choices
hold). The best configuration seen is kept; `finalize()` restores it. Scores are
maximized. `RandomSearch` draws each next configuration uniformly (log-uniformly on
log-scale dimensions), seeded by (seed, step) so a resumed run draws what the
uninterrupted one would have.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from undertow.engine import Module, Parameter
from undertow.optimizers.base import Optimizer, Proposal
from undertow.optimizers.blackbox import ScoreHistory
from undertow.optimizers.search_space import Space, dims_from_parameters


class HistorySearch(ScoreHistory, Optimizer):
    """Base of black-box searches that keep `history`: [{"values": {...}, "score": x}]."""

    def __init__(self, parameters: Iterable[Parameter] | Module, *, seed: int = 0,
                 log_scale: Iterable[str] = ()) -> None:
        super().__init__(parameters)
        self.space: Space = dims_from_parameters(self.parameters, [self.names[id(p)] for p in self.parameters],
                                                 frozenset(log_scale))
        self.seed = seed
        self.history: list[dict[str, Any]] = []

    # -- what subclasses define ----------------------------------------------------------
    def next_config(self) -> tuple[dict[str, Any], str, dict[str, Any]]:
        """The next configuration to evaluate, a reason, and metadata for the log."""
        raise NotImplementedError

    # -- the loop ------------------------------------------------------------------------

    def seen(self, config: dict[str, Any]) -> bool:
        return any(h["values"] == config for h in self.history)

    def random_config(self, salt: str = "") -> dict[str, Any]:
        """A seeded uniform draw from the space, depending only on (seed, step, salt)."""
        rng = random.Random(f"{type(self).__name__}/{self.seed}/{self.steps}/{salt}")
        return {d.name: d.sample(rng) for d in self.space.dims}

    def step(self) -> list[Proposal]:
        score = self._observed_score()
        if score is None:
            raise ValueError(f"{type(self).__name__} found no score in the feedback: pass numbers "
                             "(or {'score': x}) to backward(), e.g. backward(output, [0.73])")
        self.history.append({"values": self.current_values(), "score": score})
        config, reason, meta = self.next_config()
        meta = {"observed_score": score, **meta}
        proposals = [self.propose(p, config[self.names[id(p)]], reason=reason, meta=meta)
                     for p in self.parameters]
        self.steps += 1
        return proposals

    def finalize(self) -> list[Proposal]:
        """Set every parameter to the best values observed so far."""
        best = self.best_values
        if best is None:
            return []
        return [self.propose(p, best[self.names[id(p)]], reason="best observed") for p in self.parameters]

    use_best = finalize

    def extra_state(self) -> dict[str, Any]:
        return {"seed": self.seed, "history": [dict(h) for h in self.history]}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.seed = state.get("seed", self.seed)
        self.history = [dict(h) for h in state.get("history", [])]


class RandomSearch(HistorySearch):
    """Uniform random search over int/float/choice parameters (no LLM).

    Args:
        parameters: `int`/`float` parameters need both bounds, `choice` their choices.
        seed: seeds the draws (with the step index).
        log_scale: names of dimensions drawn log-uniformly (a parameter whose
            description says "log scale" is one too).
    """

    def next_config(self) -> tuple[dict[str, Any], str, dict[str, Any]]:
        for attempt in range(20):  # a fresh point when the space has one
            config = self.random_config(str(attempt))
            if not self.seen(config):
                break
        return config, f"random draw {self.steps}", {}
