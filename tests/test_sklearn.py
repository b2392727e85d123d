"""fcfun.sklearn: scikit-learn's estimator contract, its MLP trajectory, interop and accuracy."""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import fcfun
from fcfun._training import patience_exhausted
from fcfun.sklearn import (
    FCClassifier,
    FCRegressor,
    params_from_sklearn,
    params_to_sklearn,
    sklearn_initial_params,
)
from tests._bounds import network_rtol, steps

Data = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]


def iris() -> Data:
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def breast_cancer(n: int = 150) -> Data:
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X)[:n], y[:n]


def max_difference(a: list[Any], b: list[Any]) -> float:
    return max(
        float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(a, b, strict=True)
    )


def largest(arrays: list[Any]) -> float:
    """The largest magnitude in a list of arrays (their scale)."""
    return max(float(np.max(np.abs(np.asarray(x)))) for x in arrays)


def trajectory_rtol(model: Any, n_samples: int) -> float:
    """fcfun's run against scikit-learn's from the same weights: the same steps by two
    implementations, each step's gradient within ``network_rtol`` of its batch
    (tests/_bounds), the steps' differences summed (``steps``: a rate below 2 / L does not
    amplify them), relative to the scale of what is compared (losses, weights,
    probabilities)."""
    batch = n_samples if model.solver == "lbfgs" else model._batch_size(n_samples)
    count = max(len(model.loss_curve_), 1) * -(-n_samples // batch)
    return steps(count, network_rtol(model.spec_, batch, model.params_[0].W.dtype))


# (a) scikit-learn's estimator checks ----------------------------------------------------


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    """None: every check passes on scikit-learn 1.9. A check that cannot pass goes here
    as ``{"check_name": "reason"}``; with ``xfail_strict`` a listed check that passes
    fails the suite, so the list stays true."""
    return {}


# Random data in the checks does not converge in 100 epochs; the checks then see
# ConvergenceWarning, which this suite turns into errors: ignored here, and only here.
ESTIMATOR_CHECKS: pytest.MarkDecorator = parametrize_with_checks(
    [
        FCClassifier((8,), learning_rate_init=0.01, max_iter=100),
        FCRegressor((8,), learning_rate_init=0.01, max_iter=100),
        # leaky_relu's function is a closure: pickling must still work (check_estimators_pickle).
        FCClassifier((8,), "leaky_relu", solver="rmsprop", learning_rate_init=0.01, max_iter=100),
    ],
    expected_failed_checks=expected_failed_checks,
    xfail_strict=True,
)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@ESTIMATOR_CHECKS
def test_estimator_checks(estimator: Any, check: Callable[[Any], None]) -> None:
    check(estimator)


# (b) The same trajectory as scikit-learn's MLPClassifier ---------------------------------


def sgd_settings(
    hidden: tuple[int, ...], activation: str, max_iter: int, n_samples: int
) -> dict[str, Any]:
    """Plain full-batch gradient descent in storage order, never stopping early."""
    return {
        "hidden_layer_sizes": hidden,
        "activation": activation,
        "solver": "sgd",
        "momentum": 0.0,
        "shuffle": False,
        "batch_size": n_samples,
        "learning_rate_init": 0.1,
        "alpha": 1e-3,
        "max_iter": max_iter,
        "tol": 0.0,
        "n_iter_no_change": 1000,
    }


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("data", "n_outputs", "activation"),
    [
        (breast_cancer, 1, "relu"),  # binary: one sigmoid output, binary cross-entropy
        (breast_cancer, 1, "logistic"),
        (iris, 3, "relu"),  # multiclass: softmax, softmax cross-entropy
        (iris, 3, "tanh"),
    ],
)
def test_sgd_follows_mlpclassifier_from_the_same_weights(
    data: Callable[[], Data], n_outputs: int, activation: str
) -> None:
    X, y = data()
    settings = sgd_settings((8, 6), activation, max_iter=20, n_samples=len(X))
    initial = sklearn_initial_params([X.shape[1], 8, 6, n_outputs], activation, random_state=7)
    reference = MLPClassifier(random_state=7, **settings).fit(X, y)
    model = FCClassifier(initial_params=initial, **settings).fit(X, y)
    assert len(model.loss_curve_) == len(reference.loss_curve_) == 20
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tol)
    assert max_difference(model.coefs_, reference.coefs_) <= tol * largest(reference.coefs_)
    assert max_difference(model.intercepts_, reference.intercepts_) <= tol * largest(
        reference.intercepts_
    )
    assert model.out_activation_ == reference.out_activation_
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=tol)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("data", "n_outputs", "batch"), [(breast_cancer, 1, None), (iris, 3, None), (iris, 3, 16)]
)
def test_adam_follows_mlpclassifier_from_the_same_weights(
    data: Callable[[], Data], n_outputs: int, batch: int | None
) -> None:
    """solver='adam' is scikit-learn's rule: epsilon on the raw root, corrections in the
    step size (fcfun.adam(rule='sklearn')), so the trajectories agree to rounding."""
    X, y = data()
    settings = sgd_settings((8, 6), "relu", max_iter=20, n_samples=len(X))
    settings.update(solver="adam", learning_rate_init=0.01, batch_size=batch or len(X))
    initial = sklearn_initial_params([X.shape[1], 8, 6, n_outputs], "relu", random_state=7)
    reference = MLPClassifier(random_state=7, **settings).fit(X, y)
    model = FCClassifier(initial_params=initial, **settings).fit(X, y)
    assert len(model.loss_curve_) == len(reference.loss_curve_) == 20
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tol)
    assert max_difference(model.coefs_, reference.coefs_) <= tol * largest(reference.coefs_)
    assert max_difference(model.intercepts_, reference.intercepts_) <= tol * largest(
        reference.intercepts_
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("solver", "tol", "patience"), [("sgd", 1e-3, 2), ("adam", 1e-4, 5)])
def test_training_stops_after_the_same_epoch_as_mlpclassifier(
    solver: str, tol: float, patience: int
) -> None:
    """scikit-learn's stopping rule: n_iter_ and loss_curve_ match on the same trajectory."""
    X, y = iris()
    settings = sgd_settings((8, 6), "relu", max_iter=500, n_samples=len(X))
    settings.update(solver=solver, tol=tol, n_iter_no_change=patience, batch_size=16)
    settings.update(learning_rate_init=0.01)
    initial = sklearn_initial_params([X.shape[1], 8, 6, 3], "relu", random_state=3)
    reference = MLPClassifier(random_state=3, **settings).fit(X, y)
    model = FCClassifier(initial_params=initial, **settings).fit(X, y)
    assert reference.n_iter_ < 500
    assert model.n_iter_ == reference.n_iter_
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tol)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_learning_rates_follow_mlpclassifier(learning_rate: str, momentum: float) -> None:
    """'invscaling' (lr / (t + 1) ** power_t, t the samples seen) and 'adaptive' (lr / 5
    when the count exceeds n_iter_no_change, stop at lr <= 1e-6) as MLPClassifier's sgd,
    with its momentum (the velocity carries the rates it was made with): the same
    trajectory, the same epoch count."""
    X, y = iris()
    settings = sgd_settings((8, 6), "relu", max_iter=300, n_samples=len(X))
    settings.update(learning_rate=learning_rate, momentum=momentum, batch_size=16, tol=1e-3)
    settings.update(n_iter_no_change=3, learning_rate_init=0.05, power_t=0.25)
    initial = sklearn_initial_params([X.shape[1], 8, 6, 3], "relu", random_state=3)
    reference = MLPClassifier(random_state=3, **settings).fit(X, y)
    model = FCClassifier(initial_params=initial, **settings).fit(X, y)
    assert model.n_iter_ == reference.n_iter_ < 300
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tol)
    assert max_difference(model.coefs_, reference.coefs_) <= tol * largest(reference.coefs_)
    assert max_difference(model.intercepts_, reference.intercepts_) <= tol * largest(
        reference.intercepts_
    )
    if learning_rate == "adaptive":  # reduced to the end: stopped by the rate, not the count
        assert reference._optimizer.learning_rate <= 1e-6


@pytest.mark.parametrize("learning_rate", ["invscaling", "adaptive"])
def test_partial_fit_keeps_the_learning_rate_as_mlpclassifier(learning_rate: str) -> None:
    X, y = iris()
    settings = sgd_settings((8,), "relu", max_iter=1, n_samples=len(X))
    settings.update(learning_rate=learning_rate, batch_size=50, tol=0.05, n_iter_no_change=1)
    initial = sklearn_initial_params([X.shape[1], 8, 3], "relu", random_state=5)
    reference = MLPClassifier(random_state=5, **settings)
    model = FCClassifier(initial_params=initial, **settings)
    for _ in range(25):
        reference.partial_fit(X, y, classes=[0, 1, 2])
        model.partial_fit(X, y, classes=[0, 1, 2])
    assert reference._optimizer.learning_rate < 0.1 * settings["learning_rate_init"]
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tol)
    assert max_difference(model.coefs_, reference.coefs_) <= tol * largest(reference.coefs_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_warm_start_invscaling_rate_counts_every_fits_samples_as_mlpclassifier() -> None:
    """A second warm_start fit restarts at learning_rate_init for its first epoch (a new
    optimizer), then lr / (t + 1) ** power_t with t counting the first fit's samples too."""
    X, y = iris()
    settings = sgd_settings((8,), "relu", max_iter=4, n_samples=len(X))
    settings.update(learning_rate="invscaling", power_t=0.5, batch_size=50, warm_start=True)
    initial = sklearn_initial_params([X.shape[1], 8, 3], "relu", random_state=6)
    reference = MLPClassifier(random_state=6, **settings)
    model = FCClassifier(initial_params=initial, **settings)
    for _ in range(2):
        reference.fit(X, y)
        model.fit(X, y)
    assert model.t_ == reference.t_ == 8 * len(X)
    assert model.to_sklearn().t_ == FCClassifier.from_sklearn(reference).t_ == 8 * len(X)
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tol)
    assert max_difference(model.coefs_, reference.coefs_) <= tol * largest(reference.coefs_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_after_fit_continues_the_invscaling_rate_as_mlpregressor() -> None:
    """A partial_fit runs at the rate the kept optimizer's last epoch left, lr / (t_ + 1)
    ** power_t with t_ every sample seen so far, whatever the rows of this call."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X[:, 0] + 0.1 * rng.normal(size=40)
    settings = sgd_settings((4,), "tanh", max_iter=3, n_samples=40)
    settings.update(learning_rate="invscaling", power_t=0.5, learning_rate_init=0.1, batch_size=10)
    initial = sklearn_initial_params([3, 4, 1], "tanh", random_state=1)
    reference = MLPRegressor(random_state=1, **settings).fit(X, y)
    model = FCRegressor(initial_params=initial, **settings).fit(X, y)
    for rows in (slice(0, 10), slice(10, 35)):
        reference.partial_fit(X[rows], y[rows])
        model.partial_fit(X[rows], y[rows])
    assert model.t_ == reference.t_ == 3 * 40 + 10 + 25
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tol)
    assert max_difference(model.coefs_, reference.coefs_) <= tol * largest(reference.coefs_)


def test_the_sklearn_rule_moves_the_best_by_any_improvement() -> None:
    """min_delta 0.1: 0.95, 0.91, 0.89 each improve by less than 0.1 on the best before
    them, so scikit-learn's count runs to 3; measured from the last improvement by more
    than 0.1 (1.0), 0.89 is one, and the plain rule's count restarts."""
    scores = [1.0, 0.95, 0.91, 0.89]
    sklearn_rule = fcfun.EarlyStopping(patience=3, min_delta=0.1, rule="sklearn")
    plain = fcfun.EarlyStopping(patience=3, min_delta=0.1)
    assert patience_exhausted(sklearn_rule, scores)
    assert not patience_exhausted(plain, scores)
    assert not patience_exhausted(sklearn_rule, [1.0, 0.95, 0.84, 0.83, 0.82])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_single_class_fits_and_predicts_that_class_as_mlpclassifier_does() -> None:
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.full(20, "only")
    model = FCClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    reference = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    assert model.classes_.tolist() == reference.classes_.tolist() == ["only"]
    assert model.predict(X).tolist() == reference.predict(X).tolist() == ["only"] * 20
    assert model.predict_proba(X).shape == reference.predict_proba(X).shape == (20, 2)
    assert model.out_activation_ == reference.out_activation_ == "logistic"
    imported = FCClassifier.from_sklearn(reference)
    assert imported.predict(X).tolist() == ["only"] * 20


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_to_sklearn_continues_with_warm_start_on_the_same_trajectory() -> None:
    X, y = iris()
    model = FCClassifier(**sgd_settings((5,), "relu", max_iter=10, n_samples=len(X))).fit(X, y)
    reference = model.to_sklearn()
    np.testing.assert_array_equal(reference.predict(X), model.predict(X))
    # Same weights, two forward passes of a row each; probabilities are at most 1.
    proba_tol = network_rtol(model.spec_, 1)
    np.testing.assert_allclose(reference.predict_proba(X), model.predict_proba(X), atol=proba_tol)
    reference.set_params(warm_start=True).fit(X, y)
    model.set_params(warm_start=True).fit(X, y)
    assert model.state_.epoch == 20
    assert len(reference.loss_curve_) == 20
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tol)
    assert max_difference(model.coefs_, reference.coefs_) <= tol * largest(reference.coefs_)


def test_from_sklearn_predicts_as_the_mlp() -> None:
    X, y = iris()
    mlp = MLPClassifier((6,), learning_rate_init=0.01, batch_size=16, random_state=0).fit(X, y)
    model = FCClassifier.from_sklearn(mlp)
    assert model.get_params()["hidden_layer_sizes"] == (6,)
    assert model.n_iter_ == 0
    # Same weights, two forward passes of a row each; probabilities are at most 1.
    proba_tol = network_rtol(model.spec_, 1)
    np.testing.assert_allclose(model.predict_proba(X), mlp.predict_proba(X), atol=proba_tol)
    np.testing.assert_array_equal(model.predict(X), mlp.predict(X))
    model.partial_fit(X, y)  # continues from the MLP's weights
    assert model.state_.epoch == 1


def test_params_round_trip_through_sklearn_layout() -> None:
    spec = fcfun.mlp([4, 3, 2], output=fcfun.softmax, loss=fcfun.softmax_cross_entropy)
    params = fcfun.init(spec, seed=1)
    coefs, intercepts = params_to_sklearn(params)
    assert all(c.flags.writeable for c in coefs)
    back = params_from_sklearn(coefs, intercepts)
    coefs[0][0, 0] = 99.0  # the converted params own their arrays
    for a, b in zip(params, back, strict=True):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.b, b.b)
        assert not b.W.flags.writeable
    with pytest.raises(ValueError, match="one entry per layer"):
        params_from_sklearn(coefs, intercepts[:1])


# (c) Accuracy on real data ----------------------------------------------------------------


def test_breast_cancer_accuracy_at_least_mlpclassifiers() -> None:
    from examples import breast_cancer as example

    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    settings = example.hyperparameters(max_iter=500)
    model = FCClassifier(**settings).fit(X_train, y_train)
    reference = MLPClassifier(**settings).fit(X_train, y_train)
    assert model.spec_.sizes == (30, 3, 4, 1)
    assert model.spec_.loss is fcfun.binary_cross_entropy
    assert model.score(X_test, y_test) >= reference.score(X_test, y_test)
    assert model.score(X_test, y_test) >= 0.95


def test_digits_accuracy_at_least_97_percent() -> None:
    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    model = FCClassifier((48,), learning_rate_init=0.01, batch_size=64, random_state=0)
    model.fit(X_train, y_train)
    assert model.n_iter_ < 200  # stopped: training loss no longer improved by tol
    assert model.score(X_test, y_test) >= 0.97


# (d) Pipelines and grid search ------------------------------------------------------------


def test_pipeline_and_grid_search() -> None:
    X, y = load_iris(return_X_y=True)
    net = FCClassifier(learning_rate_init=0.01, batch_size=16, max_iter=1000, random_state=0)
    pipeline = Pipeline([("scale", StandardScaler()), ("net", net)])
    grid = GridSearchCV(
        pipeline, {"net__hidden_layer_sizes": [(2,), (16,)], "net__alpha": [1e-4, 10.0]}, cv=3
    )
    grid.fit(X, y)  # every fit converges: a ConvergenceWarning would fail it here
    assert not np.isnan(grid.cv_results_["mean_test_score"]).any()
    assert grid.best_params_["net__alpha"] == 1e-4  # alpha=10 underfits
    assert grid.best_score_ > 0.9
    best = grid.best_estimator_
    assert best["net"].spec_.sizes == (4, *best["net"].hidden_layer_sizes, 3)
    assert best.score(X, y) > 0.95
    assert net.get_params()["hidden_layer_sizes"] == (100,)  # the original is never fitted
    assert not hasattr(net, "state_")


# (e) warm_start and partial_fit continue ------------------------------------------------


def test_warm_start_continues_the_run() -> None:
    X, y = iris()
    settings: dict[str, Any] = {
        "hidden_layer_sizes": (8,),
        "solver": "sgd",
        "momentum": 0.0,
        "batch_size": 16,
    }
    settings |= {"learning_rate_init": 0.01, "n_iter_no_change": np.inf, "random_state": 3}
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        whole = FCClassifier(max_iter=10, **settings).fit(X, y)
    model = FCClassifier(max_iter=4, warm_start=True, **settings)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    with pytest.warns(ConvergenceWarning):
        model.set_params(max_iter=6).fit(X, y)
    # SGD without momentum has no optimizer state, and epoch e's order is a function of
    # (seed, e): 4 + 6 warm-started epochs are the 10-epoch run, bit for bit.
    assert model.state_.epoch == 10
    assert model.n_iter_ == 6
    assert len(model.loss_curve_) == 10
    assert model.loss_curve_ == whole.loss_curve_
    for a, b in zip(
        model.coefs_ + model.intercepts_, whole.coefs_ + whole.intercepts_, strict=True
    ):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="same classes"):
        model.fit(X[y < 2], y[y < 2])


def test_partial_fit_is_fit_one_epoch_at_a_time() -> None:
    X, y = iris()
    settings: dict[str, Any] = {
        "hidden_layer_sizes": (8,),
        "learning_rate_init": 0.01,
        "random_state": 1,
    }
    with pytest.warns(ConvergenceWarning):
        whole = FCClassifier(max_iter=3, **settings).fit(X, y)
    model = FCClassifier(**settings)
    with pytest.raises(ValueError, match="classes must be passed"):
        model.partial_fit(X, y)
    model.partial_fit(X, y, classes=[0, 1, 2])
    for _ in range(2):
        model.partial_fit(X, y)
    assert model.n_iter_ == 1
    assert model.state_.epoch == 3
    assert model.loss_curve_ == whole.loss_curve_  # Adam's state carries over
    np.testing.assert_array_equal(model.coefs_[0], whole.coefs_[0])
    with pytest.raises(ValueError, match=r"not in `self\.classes_`"):
        model.partial_fit(X, y + 1)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        model.set_params(early_stopping=True).partial_fit(X, y)


def test_convergence_warning_only_when_max_iter_is_reached() -> None:
    X, y = iris()
    settings: dict[str, Any] = {
        "hidden_layer_sizes": (8,),
        "learning_rate_init": 0.01,
        "batch_size": 16,
    }
    model = FCClassifier(max_iter=500, **settings).fit(X, y)  # no warning: tol stopped it
    assert model.n_iter_ < 500
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(5\)"):
        FCClassifier(max_iter=5, **settings).fit(X, y)


def test_early_stopping_restores_the_best_validation_epoch() -> None:
    digits = load_digits()
    X, y = digits.data[:600] / 16.0, digits.target[:600]
    model = FCClassifier(
        (32,), learning_rate_init=0.01, early_stopping=True, n_iter_no_change=3, random_state=5
    ).fit(X, y)
    assert model.validation_scores_ is not None
    assert model.best_loss_ is None
    assert len(model.validation_scores_) == model.n_iter_ < 200
    assert model.best_validation_score_ == max(model.validation_scores_)
    # The validation split is train_test_split(random_state=seed_) of the data; the kept
    # parameters are the best epoch's, so they score best_validation_score_ on it.
    _, X_val, _, y_val = train_test_split(X, y, random_state=5, test_size=0.1)
    assert model.score(X_val, y_val) == model.best_validation_score_


# (f) Multilabel classification and multi-output regression --------------------------------


def test_multilabel_shapes() -> None:
    X, Y = make_multilabel_classification(n_samples=80, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    model = FCClassifier((16,), learning_rate_init=0.01, batch_size=16, max_iter=50)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, Y)
    assert model.out_activation_ == "logistic"
    assert model.spec_.loss is fcfun.binary_cross_entropy
    assert model.n_outputs_ == 4
    assert model.classes_.tolist() == [0, 1, 2, 3]
    assert model.predict(X).shape == (80, 4)
    probabilities = model.predict_proba(X)
    assert probabilities.shape == (80, 4)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    assert model.score(X, Y) > 0.7  # subset accuracy on the training data


def test_multi_output_regression_shapes_and_loss_convention() -> None:
    X, Y = make_regression(n_samples=60, n_features=5, n_targets=3, noise=0.1, random_state=0)
    Y = Y / Y.std(axis=0)
    settings = sgd_settings((6,), "relu", max_iter=15, n_samples=len(X)) | {
        "alpha": 0.0,
        "learning_rate_init": 0.05,
    }
    initial = sklearn_initial_params([5, 6, 3], random_state=2)
    with pytest.warns(ConvergenceWarning):
        model = FCRegressor(initial_params=initial, **settings).fit(X, Y)
    with pytest.warns(ConvergenceWarning):
        reference = MLPRegressor(random_state=2, **settings).fit(X, Y)
    assert model.predict(X).shape == (60, 3)
    assert model.n_outputs_ == 3
    # Same gradient, so the same weights; fcfun's loss sums the 3 outputs, sklearn's averages.
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    assert max_difference(model.coefs_, reference.coefs_) <= tol * largest(reference.coefs_)
    np.testing.assert_allclose(model.loss_curve_, 3 * np.array(reference.loss_curve_), rtol=tol)
    one = FCRegressor((4,), learning_rate_init=0.01, max_iter=500).fit(X, Y[:, 0])
    assert one.predict(X).shape == (60,)
    assert one.n_outputs_ == 1


# Hyperparameters, seeds, pickling and read-only results ------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"solver": "newton"}, "solver"),
        ({"solver": "lbfgs", "max_fun": 0}, "max_fun"),
        ({"activation": "softmax"}, "activation"),
        ({"hidden_layer_sizes": (4, 0)}, "hidden_layer_sizes"),
        ({"batch_size": 0}, "batch_size"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"learning_rate_init": 0.0}, "learning_rate_init"),
        ({"learning_rate": "optimal"}, "learning_rate"),
        ({"power_t": -0.5}, "power_t"),
        ({"random_state": -1}, "random_state"),
        ({"initial_params": ((1, 2),)}, "initial_params"),
    ],
)
def test_bad_hyperparameters_raise_clear_value_errors(params: dict[str, Any], message: str) -> None:
    X, y = iris()
    with pytest.raises(ValueError, match=message):
        FCClassifier(**params).fit(X, y)


def test_initial_params_must_fit_the_network() -> None:
    X, y = iris()
    wrong = sklearn_initial_params([4, 5, 3])
    with pytest.raises(ValueError, match=r"initial_params must be fcfun Params for layer sizes"):
        FCClassifier((6,), initial_params=wrong).fit(X, y)


def test_random_state_conventions() -> None:
    X, y = iris()
    settings: dict[str, Any] = {
        "hidden_layer_sizes": (4,),
        "batch_size": 16,
        "learning_rate_init": 0.01,
    }
    default = FCClassifier(**settings).fit(X, y)
    zero = FCClassifier(random_state=0, **settings).fit(X, y)
    assert default.seed_ == 0
    assert default.loss_curve_ == zero.loss_curve_
    drawn = FCClassifier(random_state=np.random.RandomState(0), **settings).fit(X, y)
    assert drawn.seed_ == np.random.RandomState(0).randint(np.iinfo(np.int32).max)


def test_pickle_round_trip_and_read_only_results() -> None:
    X, y = iris()
    model = FCClassifier((4,), "leaky_relu", learning_rate_init=0.01, batch_size=16)
    model.fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    assert restored.spec_ == model.spec_
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    for array in (model.predict(X), model.predict_proba(X), model.coefs_[0]):
        assert not array.flags.writeable
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(ValueError, match="no scikit-learn counterpart"):
        model.to_sklearn()


# (g) import fcfun stays free of the optional extras ---------------------------------------


def test_import_fcfun_does_not_import_sklearn_or_matplotlib() -> None:
    code = (
        "import sys, fcfun; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'matplotlib')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_lbfgs_with_dropout_is_refused_in_the_estimators_words() -> None:
    X_small = np.random.default_rng(0).standard_normal((20, 3))
    with pytest.raises(ValueError, match=r"^dropout must be 0 with solver='lbfgs'") as caught:
        FCClassifier((4,), solver="lbfgs", dropout=0.2).fit(X_small, np.arange(20) % 2)
    assert "batch_size" not in str(caught.value)  # a setting the user never gave


def test_a_diverging_fit_with_early_stopping_keeps_the_best_weights_as_mlpregressor() -> None:
    """scikit-learn's test_mlp_diverging_loss setting: the weights overflow on the
    validation set (score nan, warned, training goes on), then training itself diverges
    (one more nan epoch, warned, the fit stops); the best epoch's weights are kept."""
    X, y = load_iris(return_X_y=True)
    arguments: dict[str, Any] = {"solver": "sgd", "learning_rate_init": 1.0, "max_iter": 20}
    model = FCRegressor(100, activation="identity", early_stopping=True, random_state=0)
    with pytest.warns(RuntimeWarning) as caught:
        model.set_params(**arguments).fit(X, y)
    messages = [str(w.message) for w in caught]
    assert any("validation loss is not finite" in m for m in messages), messages
    assert any("Training diverged" in m for m in messages), messages
    scores = np.array(model.validation_scores_)
    assert np.isnan(scores[-1])
    assert len(scores) == model.n_iter_ < 20
    finite = scores[np.isfinite(scores)]
    assert model.best_validation_score_ == finite.max()
    best = int(np.nanargmax(scores)) + 1  # the epoch whose weights are kept
    again = FCRegressor(100, activation="identity", early_stopping=True, random_state=0)
    again.set_params(**{**arguments, "max_iter": best}, n_iter_no_change=np.inf)
    with pytest.warns(ConvergenceWarning):
        again.fit(X, y)
    for kept, trained in zip(model.coefs_, again.coefs_, strict=True):
        np.testing.assert_array_equal(kept, trained)  # the same run: exact
