"""The estimators' sample_weight (scikit-learn 1.7's convention) and class_weight."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor

from fcfun.sklearn import FCClassifier, FCRegressor, sklearn_initial_params
from tests.test_sklearn import (
    breast_cancer,
    iris,
    largest,
    max_difference,
    sgd_settings,
    trajectory_rtol,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize(("solver", "batch"), [("sgd", None), ("adam", None), ("sgd", 16)])
def test_weighted_fits_follow_mlpclassifier_from_the_same_weights(
    solver: str, batch: int | None
) -> None:
    X, y = iris()
    weight = np.random.default_rng(3).uniform(0.2, 3.0, len(y))
    settings = sgd_settings((8, 6), "relu", max_iter=15, n_samples=len(X))
    settings.update(solver=solver, learning_rate_init=0.01, batch_size=batch or len(X))
    initial = sklearn_initial_params([X.shape[1], 8, 6, 3], "relu", random_state=7)
    reference = MLPClassifier(random_state=7, **settings).fit(X, y, sample_weight=weight)
    model = FCClassifier(initial_params=initial, **settings).fit(X, y, sample_weight=weight)
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    assert max_difference(model.coefs_, reference.coefs_) <= tol * largest(reference.coefs_)
    assert max_difference(model.intercepts_, reference.intercepts_) <= tol * largest(
        reference.intercepts_
    )
    if batch is None:  # one batch: the epoch losses agree too (see the module docstring)
        np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tol)


def test_a_weighted_regressor_follows_mlpregressor() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=60)
    weight = rng.uniform(0.0, 2.0, 60)
    settings = sgd_settings((6,), "tanh", max_iter=10, n_samples=60)
    initial = sklearn_initial_params([5, 6, 1], "tanh", random_state=2)
    reference = MLPRegressor(random_state=2, **settings).fit(X, y, sample_weight=weight)
    model = FCRegressor(initial_params=initial, **settings).fit(X, y, sample_weight=weight)
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    assert max_difference(model.coefs_, reference.coefs_) <= tol * largest(reference.coefs_)
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tol)


def test_balanced_class_weight_is_the_hand_computed_sample_weight() -> None:
    X, y = breast_cancer()
    counts = {c: int(np.count_nonzero(y == c)) for c in np.unique(y)}
    by_hand = np.array([len(y) / (2 * counts[c]) for c in y])
    settings: dict[str, Any] = {"hidden_layer_sizes": (5,), "max_iter": 5, "random_state": 0}
    balanced = FCClassifier(class_weight="balanced", **settings).fit(X, y)
    weighted = FCClassifier(**settings).fit(X, y, sample_weight=by_hand)
    assert max_difference(balanced.coefs_, weighted.coefs_) == 0.0


def test_a_class_weight_dict_multiplies_the_sample_weights() -> None:
    X, y = iris()
    weight = np.linspace(0.5, 1.5, len(y))
    settings: dict[str, Any] = {"hidden_layer_sizes": (5,), "max_iter": 3, "random_state": 1}
    by_dict = FCClassifier(class_weight={0: 2.0, 2: 0.5}, **settings).fit(
        X, y, sample_weight=weight
    )
    by_hand = FCClassifier(**settings).fit(
        X, y, sample_weight=weight * np.choose(y, [2.0, 1.0, 0.5])
    )
    assert max_difference(by_dict.coefs_, by_hand.coefs_) == 0.0
    assert max_difference(by_dict.coefs_, FCClassifier(**settings).fit(X, y).coefs_) > 0


def test_weights_follow_their_rows_into_the_validation_split() -> None:
    X, y = iris()
    weight = np.where(y == 0, 0.0, 1.0)  # class 0 never trains
    model = FCClassifier((8,), early_stopping=True, max_iter=30, random_state=0,
                         learning_rate_init=0.05).fit(X, y, sample_weight=weight)  # fmt: skip
    proba = model.predict_proba(X[y == 0])
    assert proba[:, 0].mean() < proba[:, 1:].sum(axis=1).mean()


@pytest.mark.parametrize(
    ("weight", "text"),
    [
        (-np.ones(150), "sample_weight must be non-negative"),
        (np.full(150, np.nan), "sample_weight must be finite"),
        (np.zeros(150), "sample_weight must have a positive sum"),
    ],
)
def test_bad_sample_weights_are_refused(weight: Any, text: str) -> None:
    X, y = iris()
    with pytest.raises(ValueError, match=text):
        FCClassifier((4,), max_iter=2).fit(X, y, sample_weight=weight)


def test_class_weights_naming_unknown_classes_are_refused() -> None:
    X, y = iris()
    with pytest.raises(ValueError, match=r"class_weight must name classes of y, \[0, 1, 2\], got"):
        FCClassifier((4,), max_iter=2, class_weight={5: 2.0}).fit(X, y)


def test_class_weight_is_refused_for_multilabel_targets() -> None:
    X, _ = iris()
    Y = np.random.default_rng(0).integers(0, 2, (len(X), 3))
    with pytest.raises(ValueError, match="class_weight must be None for multilabel targets"):
        FCClassifier((4,), max_iter=2, class_weight="balanced").fit(X, Y)


def test_the_classifier_takes_every_shared_hyperparameter_and_class_weight() -> None:
    """FCClassifier spells out its __init__ (scikit-learn reads parameters from it): it
    must list the shared ones, in their order, then class_weight."""
    import inspect

    from fcfun.sklearn import _FCBase

    shared = list(inspect.signature(_FCBase.__init__).parameters)
    own = list(inspect.signature(FCClassifier.__init__).parameters)
    assert own == [*shared, "class_weight"]
    losses = ["loss", "huber_delta", "quantile", "non_crossing"]
    assert list(inspect.signature(FCRegressor.__init__).parameters) == [*shared, *losses]


def test_weighted_lbfgs_follows_mlpclassifier() -> None:
    X, y = breast_cancer()
    weight = np.random.default_rng(5).uniform(0.2, 2.0, len(y))
    settings: dict[str, Any] = {
        "hidden_layer_sizes": (6,),
        "activation": "tanh",
        "solver": "lbfgs",
        "max_iter": 15,
        "alpha": 1e-3,
    }
    initial = sklearn_initial_params([X.shape[1], 6, 1], "tanh", random_state=4)
    reference = MLPClassifier(random_state=4, **settings).fit(X, y, sample_weight=weight)
    model = FCClassifier(initial_params=initial, **settings).fit(X, y, sample_weight=weight)
    assert model.n_iter_ == reference.n_iter_
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    assert max_difference(model.coefs_, reference.coefs_) <= tol * largest(reference.coefs_)
