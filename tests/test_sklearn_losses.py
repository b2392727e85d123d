"""FCRegressor's losses: 'poisson' on MLPRegressor(loss='poisson')'s trajectory, fcfun's
'huber', 'absolute_error' and 'quantile' (non-crossing by default) fit, predict, score,
round-trip, and refuse what they cannot take."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import d2_pinball_score, r2_score
from sklearn.neural_network import MLPRegressor

import fcfun
from fcfun.sklearn import FCRegressor, sklearn_initial_params
from tests._bounds import assert_within, both, forward_error
from tests.test_sklearn import trajectory_rtol

Array = np.ndarray[Any, Any]


def counts(n: int = 300, seed: int = 0) -> tuple[Array, Array]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 3))
    return X, rng.poisson(np.exp(0.5 + X @ np.array([1.0, -0.5, 0.25]))).astype(float)


def noisy(n: int = 400, seed: int = 1) -> tuple[Array, Array]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 1))
    return X, 2 * X[:, 0] + rng.standard_t(3, size=n) * 0.3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_poisson_follows_mlpregressor_from_the_same_weights(solver: str) -> None:
    X, y = counts()
    settings: dict[str, Any] = {
        "hidden_layer_sizes": (5,),
        "activation": "tanh",
        "solver": solver,
        "momentum": 0.0,
        "shuffle": False,
        "batch_size": 50,
        "learning_rate_init": 0.01,
        "alpha": 1e-3,
        "max_iter": 15,
        "tol": 0.0,
        "n_iter_no_change": 1000,
    }
    initial = sklearn_initial_params([3, 5, 1], "tanh", random_state=3)
    reference = MLPRegressor(loss="poisson", random_state=3, **settings).fit(X, y)
    model = FCRegressor(loss="poisson", initial_params=initial, **settings).fit(X, y)
    assert model.out_activation_ == reference.out_activation_ == "exp"
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tol)
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=tol)
    assert model.score(X, y) == pytest.approx(reference.score(X, y), rel=tol)  # both R²


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_poisson_round_trips_through_sklearn_and_refuses_negative_targets() -> None:
    X, y = counts()
    model = FCRegressor((4,), loss="poisson", max_iter=5, random_state=0).fit(X, y)
    mlp = model.to_sklearn()
    assert mlp.loss == "poisson"
    bound = forward_error(model.spec_, model.params_, X).ravel()  # same weights
    assert_within(mlp.predict(X), model.predict(X), bound)
    back = FCRegressor.from_sklearn(mlp)
    assert back.loss == "poisson"
    assert back.spec_ == model.spec_
    assert_within(back.predict(X), model.predict(X), bound)
    with pytest.raises(ValueError, match=r"y must be non-negative .* for loss='poisson', got -1.0"):
        FCRegressor(loss="poisson").fit(X, np.where(y > 3, -1.0, y))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("params", "loss"),
    [
        ({"loss": "squared_error"}, fcfun.half_squared_error),
        ({"loss": "huber", "huber_delta": 0.5}, fcfun.huber(0.5)),
        ({"loss": "absolute_error"}, fcfun.mean_absolute_error),
        ({"loss": "quantile", "quantile": 0.5}, fcfun.quantile(0.5)),
    ],
    ids=lambda p: str(p.get("loss")) if isinstance(p, dict) else "",
)
def test_robust_losses_fit_predict_score_and_pickle(params: dict[str, Any], loss: Any) -> None:
    X, y = noisy()
    model = FCRegressor((16,), learning_rate_init=0.01, max_iter=150, random_state=0, **params)
    model.fit(X, y)
    assert model.spec_.loss is loss
    assert model.spec_.output is fcfun.identity
    prediction = model.predict(X)
    assert prediction.shape == (400,)
    expected = (
        d2_pinball_score(y, prediction, alpha=0.5)
        if params["loss"] == "quantile"
        else r2_score(y, prediction)
    )
    # Two computations of a score of 400 rows: sums of 400 terms each, a few roundings.
    assert model.score(X, y) == pytest.approx(expected, rel=both(400 + 16, np.float64))
    assert model.score(X, y) > 0.5
    copy = pickle.loads(pickle.dumps(model))
    assert copy.spec_ == model.spec_
    np.testing.assert_array_equal(copy.predict(X), prediction)
    assert clone(model).get_params() == model.get_params()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_default_loss_is_bit_identical_to_squared_error_named() -> None:
    X, y = noisy(100)
    default = FCRegressor((4,), max_iter=5, random_state=0).fit(X, y)
    named = FCRegressor((4,), loss="squared_error", max_iter=5, random_state=0).fit(X, y)
    assert fcfun.fingerprint(default.state_) == fcfun.fingerprint(named.state_)
    assert default.spec_.loss is fcfun.half_squared_error


LEVELS = (0.3, 0.35, 0.4, 0.45, 0.5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_quantiles_never_cross_unless_asked_and_score_is_mean_d2_pinball() -> None:
    rng = np.random.default_rng(6)
    X = rng.uniform(-1, 1, size=(60, 1))
    y = np.sin(3 * X[:, 0]) + rng.normal(0, 0.5, size=60)
    grid = np.linspace(-2, 2, 401)[:, None]
    settings: dict[str, Any] = {
        "hidden_layer_sizes": (32,),
        "activation": "tanh",
        "loss": "quantile",
        "quantile": LEVELS,
        "learning_rate_init": 0.01,
        "batch_size": 20,
        "max_iter": 300,
        "random_state": 0,
    }
    crossing = FCRegressor(non_crossing=False, **settings).fit(X, y)
    assert crossing.spec_.output is fcfun.identity
    assert (np.diff(crossing.predict(grid), axis=1) < 0).any()
    model = FCRegressor(**settings).fit(X, y)
    assert model.spec_.output is fcfun.sort
    assert model.spec_.loss is fcfun.quantile(*LEVELS)
    prediction = model.predict(grid)
    assert prediction.shape == (401, 5)
    assert (np.diff(prediction, axis=1) >= 0).all()
    A = model.predict(X)
    expected = np.mean([d2_pinball_score(y, A[:, j], alpha=q) for j, q in enumerate(LEVELS)])
    # Two computations of the mean of 5 scores of len(X) rows: sums of that many terms.
    assert model.score(X, y) == pytest.approx(expected, rel=both(len(X) + 16, np.float64))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_quantile_early_stopping_monitors_the_score() -> None:
    X, y = noisy()
    model = FCRegressor(
        (8,), loss="quantile", quantile=[0.1, 0.9], early_stopping=True, random_state=0
    ).fit(X, y)
    assert model.validation_scores_ is not None
    assert max(model.validation_scores_) == model.best_validation_score_
    assert 0 < model.best_validation_score_ < 1


@pytest.mark.parametrize(
    ("params", "y_columns", "message"),
    [
        ({"loss": "quantile", "quantile": (0.9, 0.1)}, 1, "strictly increasing for non_crossing"),
        ({"loss": "quantile", "quantile": (0.5, 1.5)}, 1, r"a quantile must be in \(0, 1\)"),
        ({"loss": "quantile"}, 2, "one target column for loss='quantile'"),
        ({"loss": "hinge"}, 1, "'loss' parameter"),
        ({"loss": "huber", "huber_delta": 0.0}, 1, "'huber_delta' parameter"),
    ],
)
def test_bad_losses_raise_clear_value_errors(
    params: dict[str, Any], y_columns: int, message: str
) -> None:
    X = np.ones((10, 2))
    y = np.ones((10, y_columns)) if y_columns > 1 else np.ones(10)
    with pytest.raises(ValueError, match=message):
        FCRegressor(**params).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_losses_without_an_mlpregressor_counterpart_refuse_to_sklearn() -> None:
    X, y = noisy(50)
    model = FCRegressor((2,), loss="huber", max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="loss='huber' has no MLPRegressor counterpart"):
        model.to_sklearn()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_weighted_poisson_follows_mlpregressor_with_the_same_weights() -> None:
    X, y = counts()
    weight = np.random.default_rng(9).uniform(0.0, 3.0, len(y))
    settings: dict[str, Any] = {
        "hidden_layer_sizes": (5,),
        "activation": "tanh",
        "solver": "sgd",
        "momentum": 0.0,
        "shuffle": False,
        "batch_size": len(y),  # mini-batches: scikit-learn's loss_curve_ weighs by rows
        "learning_rate_init": 0.01,
        "max_iter": 10,
        "tol": 0.0,
        "n_iter_no_change": 1000,
    }
    initial = sklearn_initial_params([3, 5, 1], "tanh", random_state=4)
    reference = MLPRegressor(loss="poisson", random_state=4, **settings)
    reference.fit(X, y, sample_weight=weight)
    model = FCRegressor(loss="poisson", initial_params=initial, **settings)
    model.fit(X, y, sample_weight=weight)
    tol = trajectory_rtol(model, len(X))  # tests/_bounds: stated there
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=tol)
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=tol)
