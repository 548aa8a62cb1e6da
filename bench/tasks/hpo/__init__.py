"""Hyperparameter optimization of scikit-learn models on its bundled datasets.

Each task is a model, a dataset that ships inside scikit-learn (iris, wine, digits,
breast cancer: nothing is downloaded) and a mixed int/float/choice search space.
For a seed, the dataset is split once (stratified, seeded) into a training part and
a held-out test part; a configuration's score is its 3-fold stratified
cross-validated accuracy on the training part (folds seeded too), and the test
score is the accuracy of that configuration refit on the whole training part. The
same seed and configuration always give the same scores (models get
`random_state=seed`).

Evaluations are kept cheap (a few tenths of a second): digits is subsampled and
forests stay small. `TASKS` lists the tasks; `HPOProblem(name, seed)` is one built
for a seed. scikit-learn is the `hpo` extra: `pip install 'undertow[hpo]'`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from undertow.optimizers.search_space import Dim, Space


@dataclass(frozen=True)
class HPOTask:
    """A model on a dataset: the space, how to build the model, and its description."""

    name: str
    dataset: str
    model: str
    space: Space
    build: Callable[[dict[str, Any], int], Any]   # (config, seed) -> an unfitted estimator
    subsample: int | None = None                  # rows kept (stratified) to keep fits fast

    def description(self) -> str:
        """What an LLM (or a person) is told about the task: dataset, model, metric, space."""
        return (f"Tune a scikit-learn {self.model} classifier on the {self.dataset} dataset. "
                f"Metric: 3-fold cross-validated accuracy (higher is better).\n"
                f"Search space:\n{self.space.describe()}")


def _knn(c: dict[str, Any], seed: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), KNeighborsClassifier(
        n_neighbors=c["n_neighbors"], weights=c["weights"], p=c["p"]))


def _svm(c: dict[str, Any], seed: int) -> Any:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return make_pipeline(StandardScaler(), SVC(C=c["C"], gamma=c["gamma"], kernel=c["kernel"],
                                               max_iter=20_000, random_state=seed))


def _rf(c: dict[str, Any], seed: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    features = None if c["max_features"] == "all" else c["max_features"]
    return RandomForestClassifier(n_estimators=c["n_estimators"], max_depth=c["max_depth"],
                                  max_features=features, min_samples_leaf=c["min_samples_leaf"],
                                  random_state=seed, n_jobs=1)


def _mlp(c: dict[str, Any], seed: int) -> Any:
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(c["hidden_units"],), activation=c["activation"], alpha=c["alpha"],
        learning_rate_init=c["learning_rate_init"], max_iter=30, random_state=seed))


TASKS: dict[str, HPOTask] = {t.name: t for t in (
    HPOTask("knn_iris", "iris", "k-nearest-neighbours (standardized features)", Space((
        Dim("n_neighbors", "int", 5, 1, 60, help="neighbours that vote"),
        Dim("weights", "choice", "uniform", choices=("uniform", "distance"), help="vote weighting"),
        Dim("p", "int", 2, 1, 3, help="Minkowski power (1 Manhattan, 2 Euclidean)"),
    )), _knn),
    HPOTask("svm_breast_cancer", "breast cancer (Wisconsin)", "support vector machine (standardized features)",
            Space((
                Dim("C", "float", 1.0, 1e-3, 1e3, log=True, help="inverse regularization strength"),
                Dim("gamma", "float", 0.01, 1e-5, 10.0, log=True, help="kernel coefficient"),
                Dim("kernel", "choice", "rbf", choices=("rbf", "linear", "sigmoid", "poly"), help="kernel"),
            )), _svm),
    HPOTask("rf_wine", "wine", "random forest", Space((
        Dim("n_estimators", "int", 10, 2, 40, help="trees in the forest"),
        Dim("max_depth", "int", 3, 1, 12, help="deepest tree"),
        Dim("max_features", "choice", "sqrt", choices=("sqrt", "log2", "all"), help="features per split"),
        Dim("min_samples_leaf", "int", 5, 1, 30, help="fewest samples in a leaf"),
    )), _rf),
    HPOTask("mlp_digits", "digits (8x8 images, 500-row stratified subsample)",
            "one-hidden-layer perceptron (standardized features, 30 epochs)", Space((
                Dim("hidden_units", "int", 16, 4, 64, log=True, help="units of the hidden layer"),
                Dim("learning_rate_init", "float", 0.001, 1e-5, 0.5, log=True, help="Adam step size"),
                Dim("alpha", "float", 1e-4, 1e-6, 10.0, log=True, help="L2 penalty"),
                Dim("activation", "choice", "relu", choices=("relu", "tanh", "logistic"), help="activation"),
            )), _mlp, subsample=500),
)}


@cache
def _dataset(name: str) -> tuple[Any, Any]:
    from sklearn import datasets

    loaders = {"knn_iris": datasets.load_iris, "svm_breast_cancer": datasets.load_breast_cancer,
               "rf_wine": datasets.load_wine, "mlp_digits": datasets.load_digits}
    data = loaders[name]()
    return data.data, data.target


def get_task(name: str) -> HPOTask:
    """The task called `name` (with or without the `hpo:` prefix)."""
    key = name.removeprefix("hpo:")
    if key not in TASKS:
        raise KeyError(f"unknown HPO task {name!r}; choose one of {', '.join('hpo:' + t for t in TASKS)}")
    return TASKS[key]


class HPOProblem:
    """One task built for one seed: seeded splits, and cached scores per configuration."""

    def __init__(self, name: str, seed: int) -> None:
        try:
            from sklearn.model_selection import StratifiedKFold, train_test_split
        except ImportError:
            raise ImportError("the hpo:* tasks need scikit-learn: pip install 'undertow[hpo]'") from None
        self.task = get_task(name)
        self.seed = seed
        x, y = _dataset(self.task.name)
        if self.task.subsample is not None and self.task.subsample < len(y):
            x, _, y, _ = train_test_split(x, y, train_size=self.task.subsample, stratify=y,
                                          random_state=10_000 + seed)
        self.x_train, self.x_test, self.y_train, self.y_test = train_test_split(
            x, y, test_size=0.25, stratify=y, random_state=seed)
        self.folds = list(StratifiedKFold(3, shuffle=True, random_state=seed).split(self.x_train, self.y_train))
        self._cv: dict[tuple[Any, ...], float] = {}
        self.evaluations = 0   # distinct configurations scored

    def _key(self, config: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(config[n] for n in self.task.space.names())

    def check(self, config: dict[str, Any]) -> dict[str, Any]:
        """`config` validated against the space (through the engine's parameters)."""
        missing = [n for n in self.task.space.names() if n not in config]
        if missing:
            raise ValueError(f"configuration lacks {', '.join(missing)}; give every dimension of the space")
        out = {}
        for p in self.task.space.parameters():
            p.set(config[p.label])
            out[p.label] = p.value
        return out

    def score(self, config: dict[str, Any]) -> float:
        """Cross-validated accuracy of `config` on the training part (cached)."""
        config = self.check(config)
        key = self._key(config)
        if key not in self._cv:
            accs = []
            for train, val in self.folds:
                model = self._fit(config, self.x_train[train], self.y_train[train])
                accs.append(float((model.predict(self.x_train[val]) == self.y_train[val]).mean()))
            self._cv[key] = sum(accs) / len(accs)
            self.evaluations += 1
        return self._cv[key]

    def test_score(self, config: dict[str, Any]) -> float:
        """Accuracy on the held-out part of `config` refit on the whole training part."""
        config = self.check(config)
        model = self._fit(config, self.x_train, self.y_train)
        return float((model.predict(self.x_test) == self.y_test).mean())

    def _fit(self, config: dict[str, Any], x: Any, y: Any) -> Any:
        from threadpoolctl import threadpool_limits

        model = self.task.build(config, self.seed)
        # one BLAS thread: these fits are small, and threads fighting over a busy machine
        # made one fit ten times slower (and results depend on the thread count)
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")  # convergence warnings are part of a bad configuration
            model.fit(x, y)
        return model
