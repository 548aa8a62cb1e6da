"""LLAMBO: Bayesian optimization with an LLM in three roles (Liu et al., 2024).

1. **Warm start.** Before any model of the task exists, the LLM proposes
   `n_initial` configurations from the task description and the space alone.
2. **Candidate sampling.** Each later step asks for `n_candidates` configurations
   expected to reach a target score a little above the best so far,
   `target = best + alpha * (best - worst)`, with the history in context.
3. **Discriminative surrogate.** The LLM predicts the score of every candidate from
   the history in context, `n_surrogate_samples` times (temperature > 0, distinct
   sample indices); the mean and spread of the predictions give expected
   improvement over the best score, and the candidate with the highest expected
   improvement is evaluated next.

Every proposal is coerced onto the space (kinds, bounds, choices; the engine's
parameters enforce them again on `set`). Replies that cannot be read are skipped
and counted (`stats`); when a step gets nothing usable it falls back to a seeded
random draw (counted too), so a bad model never crashes a run. `max_llm_calls`
caps the LLM calls (steps past it draw at random) and `max_evaluations` the
configurations scored (steps past it hold the best one); `state_dict()` holds the history,
the warm-start queue and the counters, so a resumed run continues exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from undertow.engine import Module, Parameter
from undertow.engine.llm import LLM
from undertow.optimizers.llambo import prompts
from undertow.optimizers.llambo.parse import parse_configs, parse_scores
from undertow.optimizers.random_search import HistorySearch


def expected_improvement(mean: float, std: float, best: float, xi: float = 0.0) -> float:
    """E[max(f - best - xi, 0)] for f ~ Normal(mean, std) (the improvement when std = 0)."""
    gain = mean - best - xi
    if std <= 0:
        return max(gain, 0.0)
    z = gain / std
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    return gain * cdf + std * pdf


class LLAMBO(HistorySearch):
    """LLM-driven Bayesian optimization over int/float/choice parameters.

    Args:
        parameters: `int`/`float` parameters need both bounds, `choice` their choices.
        llm: the model playing the three roles.
        task_description: what is tuned, on what data, for which metric (shown to the LLM).
        log_scale: names of log-scale dimensions (shown as hints; a parameter whose
            description says "log scale" is one too).
        n_initial: configurations asked for in the warm start.
        n_candidates: configurations asked for per sampling step.
        n_surrogate_samples: surrogate samples per step (mean and std of the predictions).
        alpha: how far above the best score the sampling target sits, as a fraction of
            the observed score range.
        temperature: sampling temperature of every request (> 0 so samples differ).
        max_llm_calls: stop calling the LLM after this many calls (None: no cap).
        max_evaluations: after this many scored configurations, stop searching: every
            later step sets the best configuration seen and calls no LLM (None: no cap).
        seed: seeds the random fallbacks.
    """

    def __init__(self, parameters: Iterable[Parameter] | Module, llm: LLM, task_description: str, *,
                 log_scale: Iterable[str] = (), n_initial: int = 5, n_candidates: int = 8,
                 n_surrogate_samples: int = 5, alpha: float = 0.1, temperature: float = 0.8,
                 max_llm_calls: int | None = None, max_evaluations: int | None = None,
                 seed: int = 0) -> None:
        super().__init__(parameters, seed=seed, log_scale=log_scale)
        if n_initial < 0 or n_candidates < 1 or n_surrogate_samples < 1:
            raise ValueError("LLAMBO needs n_initial >= 0, n_candidates >= 1 and n_surrogate_samples >= 1")
        if temperature <= 0 and n_surrogate_samples > 1:
            raise ValueError("surrogate samples differ only at temperature > 0: raise temperature "
                             "or set n_surrogate_samples=1")
        self.llm = llm
        self.task_description = task_description.strip()
        self.n_initial, self.n_candidates = n_initial, n_candidates
        self.n_surrogate_samples, self.alpha = n_surrogate_samples, alpha
        self.temperature, self.max_llm_calls = temperature, max_llm_calls
        self.max_evaluations = max_evaluations
        self.queue: list[dict[str, Any]] = []     # warm-start configurations not yet evaluated
        self.warm_started = False
        self.stats = {"llm_calls": 0, "malformed_configs": 0, "malformed_predictions": 0,
                      "random_fallbacks": 0, "duplicates": 0}

    # -- LLM access ----------------------------------------------------------------------
    def _calls_left(self) -> float:
        return math.inf if self.max_llm_calls is None else self.max_llm_calls - self.stats["llm_calls"]

    def _ask(self, messages: list[dict[str, str]], n: int = 1) -> list[str]:
        n = int(min(n, self._calls_left()))
        if n < 1:
            return []
        self.stats["llm_calls"] += n
        if n == 1:
            return [self.llm.complete(messages, purpose="optimizer", temperature=self.temperature).text]
        return [r.text for r in self.llm.sample(messages, n, purpose="optimizer", temperature=self.temperature)]

    def _configs(self, reply: str) -> list[dict[str, Any]]:
        configs, bad = parse_configs(reply, self.space)
        self.stats["malformed_configs"] += bad
        fresh: list[dict[str, Any]] = []
        for c in configs:
            if self.seen(c) or c in fresh or c in self.queue:
                self.stats["duplicates"] += 1
            else:
                fresh.append(c)
        return fresh

    # -- the three roles -----------------------------------------------------------------
    def target(self) -> float:
        """The score candidates are asked to reach: best + alpha * (best - worst)."""
        scores = [h["score"] for h in self.history]
        best, worst = max(scores), min(scores)
        spread = best - worst if best > worst else max(abs(best), 1.0) * 0.01
        return best + self.alpha * spread

    def _warm_start(self) -> None:
        self.warm_started = True
        if self.n_initial == 0:
            return
        for reply in self._ask(prompts.warm_start(self.task_description, self.space, self.n_initial)):
            self.queue.extend(self._configs(reply)[: self.n_initial])

    def _candidates(self) -> list[dict[str, Any]]:
        messages = prompts.sample(self.task_description, self.space, self.history, self.target(),
                                  self.n_candidates)
        found: list[dict[str, Any]] = []
        for reply in self._ask(messages):
            for c in self._configs(reply):
                if c not in found:
                    found.append(c)
        return found[: self.n_candidates]

    def _predict(self, candidates: list[dict[str, Any]]) -> list[tuple[float, float]] | None:
        """(mean, std) of the surrogate's predictions per candidate, or None if none could be read."""
        messages = prompts.surrogate(self.task_description, self.space, self.history, candidates)
        samples = []
        for reply in self._ask(messages, self.n_surrogate_samples):
            scores = parse_scores(reply, len(candidates))
            if scores is None:
                self.stats["malformed_predictions"] += 1
            else:
                samples.append(scores)
        if not samples:
            return None
        out = []
        for i in range(len(candidates)):
            xs = [s[i] for s in samples]
            mean = sum(xs) / len(xs)
            std = math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs))
            out.append((mean, std))
        return out

    # -- one step ------------------------------------------------------------------------
    def _fallback(self, why: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
        self.stats["random_fallbacks"] += 1
        for attempt in range(20):
            config = self.random_config(str(attempt))
            if not self.seen(config):
                break
        return config, f"random draw ({why})", {"role": "fallback"}

    def next_config(self) -> tuple[dict[str, Any], str, dict[str, Any]]:
        if self.max_evaluations is not None and len(self.history) >= self.max_evaluations:
            return dict(self.best_values or {}), "evaluation budget spent: best configuration seen", {
                "role": "done"}
        if not self.warm_started:
            self._warm_start()
        while self.queue:
            config = self.queue.pop(0)
            if not self.seen(config):
                return config, "LLAMBO warm start (zero-shot from the task description)", {"role": "warm_start"}
        if self._calls_left() < 1:
            return self._fallback("LLM call budget spent")
        candidates = self._candidates()
        if not candidates:
            return self._fallback("no valid candidate in the sampling reply")
        predicted = self._predict(candidates) if self._calls_left() >= 1 and len(candidates) > 1 else None
        if predicted is None:
            return candidates[0], "LLAMBO sampled candidate (no surrogate prediction)", {"role": "sample"}
        best = max(h["score"] for h in self.history)
        eis = [expected_improvement(m, s, best) for m, s in predicted]
        i = max(range(len(candidates)), key=lambda j: (eis[j], predicted[j][0]))
        return candidates[i], "LLAMBO: highest expected improvement among sampled candidates", {
            "role": "surrogate", "target": self.target(), "predicted_mean": predicted[i][0],
            "predicted_std": predicted[i][1], "expected_improvement": eis[i], "candidates": len(candidates)}

    def extra_state(self) -> dict[str, Any]:
        return {**super().extra_state(), "queue": [dict(c) for c in self.queue],
                "warm_started": self.warm_started, "stats": dict(self.stats)}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        super().load_extra_state(state)
        self.queue = [dict(c) for c in state.get("queue", [])]
        self.warm_started = bool(state.get("warm_started", False))
        self.stats.update(state.get("stats", {}))
