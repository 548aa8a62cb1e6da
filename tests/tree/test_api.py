"""Backend selection, clear errors on bad input, payloads, and the perf suite's shape."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from undertow.optimizers.tree import PayloadTable, Policy, as_policy, get_backend
from undertow.optimizers.tree.backends import ENV_VAR, available_backends, cupy_usable


def test_selection_prefers_fastest_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    expected = "cupy" if cupy_usable() else "numba"
    assert get_backend().name == expected
    assert available_backends()[-1] == "numpy"
    monkeypatch.setenv(ENV_VAR, "numpy")
    assert get_backend().name == "numpy"


def test_unknown_or_missing_backend_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown tree backend 'tpu'"):
        get_backend("tpu")
    if not cupy_usable():
        with pytest.raises(RuntimeError, match="not available here.*GPU"):
            get_backend("cupy")


@given(st.text(max_size=8))
def test_policy_parser_accepts_names_and_rejects_the_rest(text: str) -> None:
    key = text.strip().lower()
    if key in {"uct", "puct", "astar", "a*", "a_star"}:
        assert isinstance(as_policy(text), Policy)
    else:
        with pytest.raises(ValueError, match="unknown policy"):
            as_policy(text)


@pytest.mark.parametrize("name", ["numpy", "numba"])
def test_bad_arguments_name_the_problem(name: str) -> None:
    be = get_backend(name)
    store = be.new_store(2, 8)
    with pytest.raises(ValueError, match="k must be a positive int"):
        be.score(store, "uct", k=0)
    with pytest.raises(ValueError, match=r"leaves must have shape \[B\] or \[B, P\] with B=2"):
        be.expand(store, [0, 0, 0], 2)
    with pytest.raises(ValueError, match=r"leaves must lie in \[-1, M=8\)"):
        be.expand(store, [0, 9], 2)
    with pytest.raises(ValueError, match="k must be >= 0"):
        be.expand(store, [0, 0], [1, -1])
    with pytest.raises(ValueError, match="prior must have shape"):
        be.expand(store, [0, 0], 2, prior=np.ones((2, 1)))
    with pytest.raises(ValueError, match="values must be finite"):
        be.backup(store, [0, 0], [1.0, np.nan])
    with pytest.raises(ValueError, match="values must have the leaves' shape"):
        be.backup(store, [0, 0], [1.0])
    with pytest.raises(ValueError, match="num_paths must be a positive int"):
        be.descend(store, "uct", num_paths=0)
    with pytest.raises(ValueError, match="exploration must be a scalar or have shape"):
        be.new_store(2, 8, exploration=[1.0, 2.0, 3.0])


@given(st.dictionaries(st.tuples(st.integers(0, 2), st.integers(0, 50)), st.text(), max_size=20))
def test_payload_table_round_trips(entries: dict) -> None:
    table = PayloadTable(3)
    for key, payload in entries.items():
        table[key] = payload
    assert len(table) == len(entries)
    for key, payload in entries.items():
        assert key in table and table[key] == payload
    for tree in range(3):
        nodes = [n for n, _ in table.tree_items(tree)]
        assert nodes == sorted(k[1] for k in entries if k[0] == tree)


def test_payload_errors_say_what_to_do() -> None:
    table = PayloadTable(2)
    table.set_children(1, 4, ["a", "b"])
    assert table[1, 5] == "b" and table.get(0, 4) is None
    with pytest.raises(KeyError, match="set it when the node is created"):
        table[0, 4]
    with pytest.raises(IndexError, match="out of range"):
        table[2, 0] = "x"


def test_perf_tree_quick_has_the_issue_fields() -> None:
    from undertow.bench.perf.tree import run

    out = run(quick=True, backends=["numpy", "numba"])
    assert out["bandwidth_gbs"] > 0 and out["object_tree_nodes_per_s"] > 0
    assert out["object_tree_lean_nodes_per_s"] > out["object_tree_nodes_per_s"]
    mcts = out["promptmcts"]
    assert mcts["llm"] == "sim" and 0.0 < mcts["tree_share"] < 1.0
    assert out["repetitions"] >= 2 and isinstance(out["skipped"], list)
    keys = {"backend", "op", "policy", "B", "M", "nodes_per_s", "eta"}
    seen = {(r["backend"], r["op"], r["policy"]) for r in out["results"]}
    for r in out["results"]:
        assert keys <= set(r) and r["nodes_per_s"] > 0 and r["eta"] > 0
    for backend in ("numpy", "numba"):
        for policy in ("uct", "puct", "astar"):
            assert (backend, "score", policy) in seen
        for op in ("descend", "expand", "backup"):
            assert any(s[:2] == (backend, op) for s in seen)
    with pytest.raises(ValueError, match="unknown backends"):
        run(quick=True, backends=["tpu"])
