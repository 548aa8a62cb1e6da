"""LLAMBO: LLM-driven Bayesian optimization of int/float/choice hyperparameters
(warm start, candidate sampling toward a target score, discriminative surrogate)."""

from undertow.optimizers.llambo.optimizer import LLAMBO, expected_improvement
from undertow.optimizers.llambo.parse import parse_configs, parse_scores

__all__ = ["LLAMBO", "expected_improvement", "parse_configs", "parse_scores"]
