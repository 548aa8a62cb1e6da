"""Black-box search for `int`, `float` and `choice` parameters: Optuna's TPE.

A numeric parameter whose description says "log scale" is sampled log-uniformly.

It fits the same loop as every optimizer: run the system, `backward(outputs,
feedback)` with a score in the feedback, `step()`. Each `step()` reports the score
the current values earned (the mean of the numbers found in the feedback the
parameters received) to Optuna, asks for the next trial, and writes its values.
The best values seen are kept (`best_values`, `best_score`); `use_best()` restores
them. Feedback scores are maximized.

Feedback items may be numbers, dicts with a "score" key, or objects with a
`score` attribute; text alone carries no score and is an error here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from undertow.engine import Module, Parameter
from undertow.optimizers.base import Optimizer, Proposal

SEARCHABLE = ("int", "float", "choice")


def feedback_score(item: Any) -> float | None:
    """The number a feedback item carries, or None."""
    if isinstance(item, bool):
        return None
    if isinstance(item, (int, float)):
        return float(item)
    if isinstance(item, dict) and isinstance(item.get("score"), (int, float)):
        return float(item["score"])
    score = getattr(item, "score", None)
    return float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None


class ScoreHistory:
    """What black-box searches share: the current values by name, the score the current
    configuration earned (the mean of the scores in its feedback), and the best of
    `history` ([{"values": {...}, "score": x}]; scores are maximized)."""

    names: dict[int, str]
    parameters: list[Parameter]
    history: list[dict[str, Any]]

    def current_values(self) -> dict[str, Any]:
        return {self.names[id(p)]: p.value for p in self.parameters}

    def _observed_score(self) -> float | None:
        scores = []
        for p in self.parameters:
            for received in p.feedback:
                for item in getattr(received, "feedback", [received]):
                    s = feedback_score(item)
                    if s is not None and math.isfinite(s):
                        scores.append(s)
        return sum(scores) / len(scores) if scores else None

    @property
    def best_score(self) -> float | None:
        return max((h["score"] for h in self.history), default=None)

    @property
    def best_values(self) -> dict[str, Any] | None:
        if not self.history:
            return None
        return max(self.history, key=lambda h: h["score"])["values"]


class TPE(ScoreHistory, Optimizer):
    """Tree-structured Parzen Estimator over bounded numeric and choice parameters.

    Args:
        parameters: `int`/`float` parameters need both bounds; `choice` parameters
            need their choices (these define the search space).
        seed: seeds Optuna's sampler, so a run is reproducible.
        n_startup_trials: random trials before TPE starts modelling.
    """

    def __init__(self, parameters: Iterable[Parameter] | Module, *, seed: int = 0,
                 n_startup_trials: int = 8) -> None:
        super().__init__(parameters)
        for p in self.parameters:
            name = self.names[id(p)]
            if p.kind not in SEARCHABLE:
                raise TypeError(f"TPE searches int, float and choice parameters; {name} is {p.kind}: "
                                "use an LLM optimizer for text, code and json")
            if p.kind != "choice" and (p.bounds is None or None in p.bounds):
                raise ValueError(f"TPE needs both bounds on {name}: Parameter(..., bounds=(low, high))")
        try:
            import optuna
        except ImportError:
            raise ImportError("TPE needs Optuna: pip install 'undertow[tpe]'") from None

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.seed = seed
        self.n_startup_trials = n_startup_trials
        self.history: list[dict[str, Any]] = []  # {"values": {...}, "score": float}

    def _study(self) -> Any:
        """A study holding the history, its sampler seeded by (seed, step).

        Rebuilt for each step, so the next trial depends only on the history and
        the step: a resumed run proposes exactly what the uninterrupted one would.
        """
        import optuna

        sampler = optuna.samplers.TPESampler(seed=self.seed * 1_000_003 + self.steps,
                                             n_startup_trials=self.n_startup_trials)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        dists = self._distributions()
        for h in self.history:
            study.add_trial(optuna.trial.create_trial(params=h["values"], distributions=dists, value=h["score"]))
        return study

    def _distributions(self) -> dict[str, Any]:
        import optuna.distributions as d

        out: dict[str, Any] = {}
        for p in self.parameters:
            name = self.names[id(p)]
            # a log-scale hint in the description (as `search_space.Dim` writes it) samples log-uniformly
            log = "log scale" in (p.description or "").lower() and p.bounds[0] > 0
            if p.kind == "int":
                out[name] = d.IntDistribution(int(p.bounds[0]), int(p.bounds[1]), log=log)
            elif p.kind == "float":
                out[name] = d.FloatDistribution(float(p.bounds[0]), float(p.bounds[1]), log=log)
            else:
                out[name] = d.CategoricalDistribution(list(p.choices))
        return out

    def step(self) -> list[Proposal]:
        score = self._observed_score()
        if score is None:
            raise ValueError(
                "TPE found no score in the feedback: pass numbers (or {'score': x}) to backward(), "
                "e.g. backward(output, [0.73])"
            )
        self.history.append({"values": self.current_values(), "score": score})
        trial = self._study().ask(self._distributions())
        proposals = [self.propose(p, trial.params[self.names[id(p)]], reason=f"TPE trial {trial.number}",
                                  meta={"observed_score": score}) for p in self.parameters]
        self.steps += 1
        return proposals

    def finalize(self) -> list[Proposal]:
        """The best values seen so far (the parameters hold the next trial until then)."""
        return self.use_best()

    def use_best(self) -> list[Proposal]:
        """Set every parameter to the best values observed so far."""
        best = self.best_values
        if best is None:
            return []
        return [self.propose(p, best[self.names[id(p)]], reason="best observed") for p in self.parameters]

    def extra_state(self) -> dict[str, Any]:
        return {"seed": self.seed, "n_startup_trials": self.n_startup_trials, "history": list(self.history)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.seed = state.get("seed", self.seed)
        self.n_startup_trials = state.get("n_startup_trials", self.n_startup_trials)
        self.history = [dict(h) for h in state.get("history", [])]
