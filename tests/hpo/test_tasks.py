"""The scikit-learn HPO tasks: spaces, determinism per seed, clear errors."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from undertow.bench.tasks.hpo import TASKS, HPOProblem, get_task  # noqa: E402
from undertow.engine import InvalidValueError  # noqa: E402


@pytest.mark.parametrize("name", sorted(TASKS))
def test_space_is_mixed_and_default_is_valid(name):
    task = TASKS[name]
    kinds = {d.kind for d in task.space.dims}
    assert "choice" in kinds and kinds & {"int", "float"}
    params = task.space.parameters()
    assert [p.label for p in params] == task.space.names()
    for p, d in zip(params, task.space.dims, strict=True):
        assert p.value == d.default
        if d.kind == "choice":
            assert p.choices == list(d.choices)
        else:
            assert tuple(p.bounds) == (d.low, d.high)
            with pytest.raises(InvalidValueError):
                p.set(d.high + 1)
    assert all(d.name in task.description() for d in task.space.dims)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_scores_are_deterministic_per_seed(name):
    default = TASKS[name].space.default()
    a, b = HPOProblem(name, 3), HPOProblem(name, 3)
    assert a.score(default) == b.score(default)
    assert a.test_score(default) == b.test_score(default)
    assert 0.0 <= a.score(default) <= 1.0
    # another seed cuts other splits
    c = HPOProblem(name, 4)
    assert [f[1].tolist() for f in c.folds] != [f[1].tolist() for f in a.folds]


def test_scores_are_cached_and_configs_checked():
    p = HPOProblem("knn_iris", 0)
    config = {"n_neighbors": 7, "weights": "distance", "p": 1}
    p.score(config)
    p.score(dict(config))
    assert p.evaluations == 1
    with pytest.raises(ValueError, match="lacks weights"):
        p.score({"n_neighbors": 7, "p": 1})
    with pytest.raises(InvalidValueError, match="outside the bounds"):
        p.score({**config, "n_neighbors": 500})
    with pytest.raises(InvalidValueError, match="not one of the choices"):
        p.score({**config, "weights": "gaussian"})


def test_the_space_matters():
    p = HPOProblem("svm_breast_cancer", 0)
    good = p.score({"C": 1.0, "gamma": 0.01, "kernel": "rbf"})
    bad = p.score({"C": 0.001, "gamma": 10.0, "kernel": "rbf"})
    assert good > bad + 0.2


def test_unknown_task_names_the_choices():
    with pytest.raises(KeyError, match="hpo:knn_iris"):
        get_task("hpo:knn_wine")
