"""Tree backends chosen by size: NumPy below NUMBA_MIN_NODES (no JIT for small forests),
the fastest available above; a name or UNDERTOW_TREE_BACKEND overrides the size."""

from __future__ import annotations

import pytest
from undertow.optimizers.search.forest import Forest
from undertow.optimizers.tree.backends import (
    ENV_VAR,
    NUMBA_MIN_NODES,
    available_backends,
    get_backend,
)


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_small_forests_run_on_numpy_large_ones_on_the_fastest() -> None:
    assert get_backend(nodes=NUMBA_MIN_NODES - 1).name == "numpy"
    assert get_backend(nodes=NUMBA_MIN_NODES).name == available_backends()[0]
    assert get_backend().name == available_backends()[0]


def test_forest_default_follows_its_size() -> None:
    assert Forest(4, 1000).backend.name == "numpy"          # 4 x 1,000: no compilation
    big = NUMBA_MIN_NODES // 1000 + 1
    assert Forest(big, 1000).backend.name == available_backends()[0]


def test_a_name_or_the_variable_overrides_the_size(monkeypatch) -> None:
    if "numba" not in available_backends():
        pytest.skip("Numba not installed")
    assert Forest(4, 1000, backend="numba").backend.name == "numba"
    monkeypatch.setenv(ENV_VAR, "numba")
    assert get_backend(nodes=10).name == "numba"
