"""QDHF's projection learns a planted similarity axis from triplets."""

from __future__ import annotations

import numpy as np
import pytest

from undertow.optimizers.qd import fit_projection, triplet_accuracy
from undertow.optimizers.qd.projection import digitize, quantile_edges


def _planted(seed: int, n: int = 120, d: int = 32, t: int = 400):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    direction = rng.normal(size=d)
    direction /= np.linalg.norm(direction)
    s = x @ direction                               # the judge sees only this direction
    triples = rng.integers(0, n, size=(t, 3))
    triples = triples[(triples[:, 0] != triples[:, 1]) & (triples[:, 0] != triples[:, 2]) & (triples[:, 1] != triples[:, 2])]
    closer = np.abs(s[triples[:, 0]] - s[triples[:, 1]]) < np.abs(s[triples[:, 0]] - s[triples[:, 2]])
    labelled = np.where(closer[:, None], triples, triples[:, [0, 2, 1]])
    return x, labelled, direction


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_learns_planted_axis_on_held_out_triplets(seed):
    x, t, direction = _planted(seed)
    train, test = t[: len(t) // 2], t[len(t) // 2:]
    w = fit_projection(x, train, 1, seed=seed)
    untrained = fit_projection(x, train[:0], 1, seed=seed)
    acc = triplet_accuracy(x, test, w)
    assert acc >= 0.8                                  # chance is 0.5
    assert acc > triplet_accuracy(x, test, untrained) + 0.1
    cos = abs(float(direction @ w[:, 0]) / np.linalg.norm(w[:, 0]))
    assert cos > 0.6                                   # the learned axis points along the planted one


def test_same_seed_same_projection_and_bins():
    x, t, _ = _planted(5)
    a, b = fit_projection(x, t, 2, seed=3), fit_projection(x, t, 2, seed=3)
    assert np.array_equal(a, b)
    z = x @ a
    edges = quantile_edges(z, 4)
    bins = digitize(z, edges)
    assert bins.shape == (len(x), 2) and bins.min() == 0 and bins.max() == 3
    counts = np.bincount(bins[:, 0], minlength=4)
    assert counts.min() >= len(x) // 4 - 1          # equal-count bins


def test_bad_triplets_are_refused():
    with pytest.raises(ValueError, match="triplet indices"):
        fit_projection(np.zeros((3, 4)), np.array([[0, 1, 5]]), 1)
