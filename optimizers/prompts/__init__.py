"""Prompt optimizers of the seed papers, on `Program`s (see docs/prompt-optimizers.md).

- `APE`: instruction induction from demonstrations, racing, Monte Carlo resampling.
- `SPO`: no labels; pairwise judgements of outputs, order-swapped.
- `APOHF`: preferences only; a linear dueling bandit over prompt embeddings.
- `GEPA`: reflective mutation of one parameter at a time, Pareto selection, merge.
"""

from undertow.optimizers.prompts.ape import APE
from undertow.optimizers.prompts.apohf import APOHF, default_embedder, fit_theta
from undertow.optimizers.prompts.gepa import GEPA
from undertow.optimizers.prompts.oracles import PreferenceOracle, SimulatedOracle, TerminalOracle
from undertow.optimizers.prompts.spo import SPO

__all__ = ["APE", "APOHF", "GEPA", "SPO", "PreferenceOracle", "SimulatedOracle", "TerminalOracle",
           "default_embedder", "fit_theta"]
