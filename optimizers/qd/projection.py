"""QDHF's learned diversity axes: a linear projection of embeddings trained on triplets.

A triplet `(a, p, n)` says "p is more like a than n is". The projection `W: [d, K]` is
fitted by full-batch gradient descent (NumPy, seeded) on the triplet hinge loss with a
soft margin,

    L(W) = mean softplus((|W^T(x_a - x_p)|^2 - |W^T(x_a - x_n)|^2 + margin) / tau) + l2 |W|^2,

Steps are clipped to norm `lr`, so that in the K projected dimensions judged-similar texts are close. Bins on each
learned axis are quantiles of the projected pool (equal-count bins), refitted when the
projection is.
"""

from __future__ import annotations

import numpy as np


def fit_projection(x: np.ndarray, triplets: np.ndarray, k: int, *, seed: int = 0, steps: int = 300,
                   lr: float = 0.1, margin: float = 0.05, tau: float = 0.5, l2: float = 1e-3) -> np.ndarray:
    """`W [d, k]` from embeddings `x [n, d]` and `triplets [t, 3]` (anchor, closer, farther)."""
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(triplets, dtype=np.int64).reshape(-1, 3)
    if x.ndim != 2 or k < 1:
        raise ValueError(f"fit_projection needs x [n, d] and k >= 1, got shape {x.shape}, k={k}")
    if t.size and (t.min() < 0 or t.max() >= x.shape[0]):
        raise ValueError(f"triplet indices must lie in 0..{x.shape[0] - 1}")
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 1.0 / np.sqrt(x.shape[1]), size=(x.shape[1], k))
    if not t.size:
        return w
    dp = x[t[:, 0]] - x[t[:, 1]]            # [t, d]
    dn = x[t[:, 0]] - x[t[:, 2]]
    for _ in range(steps):
        pp, pn = dp @ w, dn @ w                # [t, k]
        z = ((pp ** 2).sum(1) - (pn ** 2).sum(1) + margin) / tau
        g = 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))   # d softplus / dz
        coef = (g / tau / len(t))[:, None]
        grad = 2.0 * (dp.T @ (coef * pp) - dn.T @ (coef * pn)) + 2.0 * l2 * w
        norm = float(np.linalg.norm(grad))
        w -= lr * grad / max(1.0, norm)       # clipped step: stable for any embedding scale
    return w


def triplet_accuracy(x: np.ndarray, triplets: np.ndarray, w: np.ndarray) -> float:
    """Share of triplets whose "closer" item is closer than the "farther" one after projection."""
    t = np.asarray(triplets, dtype=np.int64).reshape(-1, 3)
    if not t.size:
        return float("nan")
    z = np.asarray(x, dtype=np.float64) @ w
    dp = ((z[t[:, 0]] - z[t[:, 1]]) ** 2).sum(1)
    dn = ((z[t[:, 0]] - z[t[:, 2]]) ** 2).sum(1)
    return float((dp < dn).mean())


def quantile_edges(z: np.ndarray, bins: int) -> np.ndarray:
    """Inner bin edges `[K, bins-1]` of projected values `z [n, K]` (equal-count bins)."""
    qs = np.linspace(0, 1, bins + 1)[1:-1]
    return np.quantile(np.asarray(z, dtype=np.float64), qs, axis=0).T.reshape(z.shape[1], bins - 1)


def digitize(z: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin coordinates `[n, K]` of `z [n, K]` under `edges [K, bins-1]`."""
    return np.stack([np.searchsorted(edges[k], z[:, k], side="right") for k in range(z.shape[1])], axis=1)
