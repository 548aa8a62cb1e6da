"""APOHF: prompt optimization from preferences only, with a linear dueling bandit.

The algorithm of "Prompt Optimization with Human Feedback" (Lin et al., 2024), in this
library's terms (docs/prompt-optimizers.md):

- **Arms**: candidate prompts written by the optimizer model from the current prompt
  and its outputs on unlabeled inputs (and paraphrases of it). Each is embedded
  (`default_embedder`: all-MiniLM-L6-v2 from the ``[embed]`` extra when installed,
  else the hashing embedding, below).
- **Model**: the latent quality of a prompt is linear in its embedding,
  ``f(p) = theta . phi(p)``; a preference between two prompts follows a logistic
  (Bradley-Terry) link on ``f(p1) - f(p2)``. ``theta`` is the L2-regularised maximum
  likelihood fit of all duels so far (Newton's method); ``V = lambda I + sum d d^T``
  over the duel differences ``d``.
- **A duel** (``duels`` per ``step()``): draw an input; the first prompt is the one
  of highest ``f`` (ties broken at random); the second maximises the optimistic gain
  over it, ``f(p) + nu * ||phi(p) - phi(p1)||_{V^-1}``; both answer the input, the
  oracle states a preference (the two shown in a random order), and the model is
  refitted.
- **Answer**: after each step the parameter holds the prompt of highest ``f``.

The optimizer never reads a target or the metric: it runs the program `Unlabeled`,
and only the oracle (`SimulatedOracle` on the metric, or `TerminalOracle`, a person)
judges. Each step works on one text parameter (round-robin).

**Hashing embedding** (`HashingEmbedder`): lower-cased words hashed with SHA-1 into
256 signed buckets, L2-normalised. Prompts sharing words get similar vectors; it
needs nothing installed and is deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np
from undertow.engine import StateError
from undertow.engine.llm import LLM, run_sync
from undertow.optimizers.base import Proposal
from undertow.optimizers.experience.embed import Embedder, HashingEmbedder
from undertow.optimizers.program import Program, Unlabeled
from undertow.optimizers.prompts.common import ProgramOptimizer
from undertow.optimizers.prompts.oracles import PreferenceOracle
from undertow.optimizers.prompts.spo import improve_request
from undertow.optimizers.search.prompting import Item, as_items, paraphrase_request, parse_suggestion


def default_embedder() -> Embedder:
    """all-MiniLM-L6-v2 when the ``[embed]`` extra is installed, else `HashingEmbedder`."""
    try:
        from undertow.optimizers.experience.embed import MiniLMEmbedder

        return MiniLMEmbedder()
    except ImportError:
        return HashingEmbedder()


def fit_theta(diffs: np.ndarray, prefs: np.ndarray, lam: float, iters: int = 25) -> np.ndarray:
    """L2-regularised logistic MLE of ``theta`` from duel differences and preferences.

    ``diffs``: ``[n, d]`` rows ``phi(first) - phi(second)``; ``prefs``: ``[n]`` in
    [0, 1], 1 when the first won. Newton's method on a strictly convex loss.
    """
    d = diffs.shape[1] if diffs.ndim == 2 else 0
    theta = np.zeros(d)
    if len(prefs) == 0:
        return theta
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-diffs @ theta))
        grad = diffs.T @ (p - prefs) + lam * theta
        hess = (diffs * (p * (1 - p))[:, None]).T @ diffs + lam * np.eye(d)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.linalg.norm(step) < 1e-9:
            break
    return theta


class APOHF(ProgramOptimizer):
    """Preference-only prompt optimization (linear dueling bandit over prompt embeddings).

    Args:
        program: what to optimize; APOHF runs it `Unlabeled`.
        llm: the optimizer model (writes the candidate prompts).
        oracle: a `PreferenceOracle` (`SimulatedOracle`, `TerminalOracle`, ...).
        train: items whose inputs the duels use (the oracle may read their targets).
        n_candidates: candidate prompts written on the first visit of a parameter.
        duels: duels per ``step()``.
        nu: the exploration weight of the second prompt's bonus.
        lam: the ridge weight of the fit (and of ``V``).
        embedder: maps prompts to vectors (default `default_embedder()`).
        n_inputs: unlabeled inputs shown when asking for candidates.
        temperature, seed: sampling temperature; seed of the draws.
    """

    def __init__(self, program: Program, llm: LLM, oracle: PreferenceOracle, *, train: Sequence[Any],
                 n_candidates: int = 8, duels: int = 4, nu: float = 1.0, lam: float = 1.0,
                 embedder: Embedder | None = None, n_inputs: int = 3, temperature: float = 0.9,
                 seed: int = 0) -> None:
        super().__init__(Unlabeled(program), train=train, seed=seed)
        if not isinstance(oracle, PreferenceOracle):
            raise TypeError("oracle must have prefer(item, left, right) -> 1.0 | 0.0 | 0.5")
        if n_candidates < 1 or duels < 1 or n_inputs < 1 or lam <= 0 or nu < 0:
            raise ValueError("APOHF: n_candidates, duels and n_inputs must be >= 1, lam > 0, nu >= 0")
        self.llm, self.oracle = llm, oracle
        self.items: list[Item] = as_items(train, "train")  # with targets, for the oracle only
        self.n_candidates, self.duels, self.nu, self.lam = n_candidates, duels, nu, lam
        self.n_inputs, self.temperature = n_inputs, temperature
        self.embedder = embedder or default_embedder()
        self.arms: dict[str, list[str]] = {}           # parameter -> candidate prompts
        self.history: list[dict[str, Any]] = []        # duels: param, first, second, pref, item
        self._phi: dict[str, np.ndarray] = {}

    # -- arms and model ----------------------------------------------------------------------
    def features(self, name: str) -> np.ndarray:
        """``[K, d]`` embeddings of the parameter's candidates (cached per parameter)."""
        arms = self.arms[name]
        cached = self._phi.get(name)
        if cached is None or len(cached) != len(arms):
            cached = self._phi[name] = np.asarray(self.embedder.embed(arms), dtype=np.float64)
        return cached

    def model(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(theta, V)`` fitted on this parameter's duels."""
        phi = self.features(name)
        duels = [h for h in self.history if h["param"] == name]
        diffs = np.array([phi[h["first"]] - phi[h["second"]] for h in duels]).reshape(len(duels), phi.shape[1])
        prefs = np.array([h["pref"] for h in duels], dtype=np.float64)
        theta = fit_theta(diffs, prefs, self.lam)
        v = self.lam * np.eye(phi.shape[1]) + diffs.T @ diffs
        return theta, v

    def pick(self, name: str, rng: random.Random) -> tuple[int, int]:
        """The duel's two arms: greedy first, optimistic (UCB on the gain) second."""
        phi = self.features(name)
        theta, v = self.model(name)
        f = phi @ theta
        top = np.flatnonzero(np.isclose(f, f.max()))
        first = int(top[rng.randrange(len(top))])
        d = phi - phi[first]
        bonus = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", d, np.linalg.inv(v), d), 0.0))
        ucb = f + self.nu * bonus
        ucb[first] = -np.inf
        second = int(np.argmax(ucb)) if len(phi) > 1 else first
        return first, second

    def best(self, name: str) -> int:
        """The arm of highest fitted quality (the earliest among equals)."""
        theta, _ = self.model(name)
        return int(np.argmax(self.features(name) @ theta))

    async def _candidates(self, name: str, rng: random.Random) -> None:
        param = self.by_name(name)
        items = rng.sample(self.train, min(self.n_inputs, len(self.train)))
        outs = await self.program.arun(self.program.current(), items)
        self.spend("candidates", rollouts=len(outs))
        requests = [improve_request(name, param.value, outs) if j % 2 == 0 else
                    paraphrase_request(name, param.value) for j in range(self.n_candidates)]
        replies = await self.llm.acomplete_many(requests, purpose="optimizer",
                                                temperature=self.temperature,
                                                sample_index=self.steps % 1000)
        self.spend("candidates", requests=len(requests))
        arms = [param.value]
        for r in replies:
            v = self.valid(param, parse_suggestion(r.text, name))
            if v is not None and v not in arms:
                arms.append(v)
        self.arms[name] = arms

    async def _duel(self, name: str, rng: random.Random) -> None:
        first, second = self.pick(name, rng)
        k = rng.randrange(len(self.items))
        item = self.items[k]
        arms = self.arms[name]
        values = self.program.current()
        a = (await self.program.arun(self.program.with_value(name, arms[first], values), [item]))[0]
        b = (await self.program.arun(self.program.with_value(name, arms[second], values), [item]))[0]
        self.spend("duel", rollouts=2)
        swap = rng.random() < 0.5  # which one is shown on the left
        pref = self.oracle.prefer(item, b.output, a.output) if swap else \
            self.oracle.prefer(item, a.output, b.output)
        pref = 1.0 - pref if swap else pref
        if pref not in (0.0, 0.5, 1.0):
            raise ValueError(f"the oracle answered {pref!r}; it must answer 1.0, 0.0 or 0.5")
        self.history.append({"param": name, "first": first, "second": second, "pref": pref,
                             "item": k, "step": self.steps})

    async def astep(self) -> list[Proposal]:
        param = self.target()
        name = param.label
        rng = random.Random(f"{self.seed}:apohf:{self.steps}:{name}")
        if name not in self.arms:
            await self._candidates(name, rng)
        if len(self.arms[name]) > 1:
            for _ in range(self.duels):
                await self._duel(name, rng)
        best = self.best(name)
        self.steps += 1
        value = self.arms[name][best]
        theta, _ = self.model(name)
        return self.apply(name, value, reason="APOHF: the prompt of highest fitted preference",
                          meta={"arm": best, "arms": len(self.arms[name]),
                                "duels": sum(h["param"] == name for h in self.history),
                                "quality": float(self.features(name)[best] @ theta)})

    def step(self) -> list[Proposal]:
        """Write the arms (first visit), run ``duels`` duels, apply the best arm."""
        return run_sync(self.astep())

    # -- resumable state ----------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        state = getattr(self.oracle, "state", None)
        return {**self.base_state(), "arms": {k: list(v) for k, v in self.arms.items()},
                "history": [dict(h) for h in self.history],
                "oracle": state() if callable(state) else None}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if not state:
            return
        arms, history = state.get("arms", {}), state.get("history", [])
        if not isinstance(arms, dict) or not isinstance(history, list):
            raise StateError("APOHF state: 'arms' must map parameters to prompts and 'history' list duels")
        self.load_base_state(state)
        self.arms = {str(k): [str(x) for x in v] for k, v in arms.items()}
        self.history = [dict(h) for h in history]
        self._phi = {}
        loader = getattr(self.oracle, "load_state", None)
        if callable(loader) and state.get("oracle"):
            loader(state["oracle"])
