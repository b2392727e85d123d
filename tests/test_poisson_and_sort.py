"""The poisson loss and its exp link, and non-crossing quantiles through the sort output:
against hand-written numpy references and scikit-learn's definitions, in the gradient
check, through training, the codec and pickling."""

from __future__ import annotations

import pathlib
import pickle
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import d2_tweedie_score
from sklearn.neural_network._base import LOSS_FUNCTIONS

import fcfun
from fcfun._losses import parse_loss
from tests._bounds import assert_within, both, gradcheck_tolerance


def _reference_poisson(A: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
    """Half the Poisson deviance, sum over outputs, mean over rows, and dL/dA, by hand."""
    m = A.shape[0]
    per_element = np.zeros_like(A)
    for index in np.ndindex(A.shape):
        y, a = Y[index], A[index]
        per_element[index] = (y * np.log(y / a) if y > 0 else 0.0) - y + a
    return float(per_element.sum()) / m, (1 - Y / A) / m


def _counts(seed: int, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=shape)
    return Z, rng.poisson(np.exp(Z)).astype(float)


def test_poisson_equals_the_hand_written_reference_and_sklearns_value() -> None:
    Z, Y = _counts(0, (40, 3))
    assert (Y == 0).any()  # the 0 log 0 = 0 convention is exercised
    A = np.exp(Z)
    value, grad = _reference_poisson(A, Y)
    # Each element y log(y / a) - y + a within a few roundings (16, with the log) of its
    # terms' magnitudes, the sum of 120 within gamma_120: two implementations.
    magnitudes = np.abs(np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1) / A), 0)) + Y + A
    bound = both(A.size + 16, np.float64) * float(magnitudes.sum()) / A.shape[0]
    assert fcfun.poisson.value(A, Y) == pytest.approx(value, rel=0, abs=bound)
    assert fcfun.poisson.link_value(Z, Y) == pytest.approx(value, rel=0, abs=bound)
    # (1 - y / a) / m: a division, a difference of terms 1 and y / a, a division
    grad_bound = both(3, np.float64) * (1 + Y / A) / A.shape[0]
    assert_within(fcfun.poisson.grad(A, Y), grad, grad_bound)
    # MLPRegressor(loss="poisson")'s loss_curve_ values, with several outputs too.
    reference = LOSS_FUNCTIONS["poisson"](Y, A)
    assert fcfun.poisson.value(A, Y) == pytest.approx(reference, rel=0, abs=bound)
    assert fcfun.poisson.link is fcfun.exp


def test_the_fused_kernel_is_the_link_value_and_link_delta_bit_for_bit() -> None:
    Z, Y = _counts(1, (30, 2))
    for dtype in (np.float32, np.float64):
        Zd: fcfun.FloatArray = Z.astype(dtype)
        Yd: fcfun.FloatArray = Y.astype(dtype)
        fused = fcfun.poisson.link_value_and_grad
        assert fused is not None
        loss, dZ = fused(Zd, Yd)
        assert dZ.dtype == dtype
        assert loss == fcfun.poisson.link_value(Zd, Yd)
        expected = (np.exp(Zd) - Yd) / np.asarray(Zd.shape[0], dtype)
        assert dZ.tobytes() == expected.tobytes()


def test_the_link_form_is_finite_where_the_output_underflows() -> None:
    """exp(-800) is 0: the rate form would take log(0); the logit form does not."""
    Z, Y = np.array([[-800.0]]), np.array([[2.0]])
    expected = 2 * 800 + 2 * np.log(2) - 2  # sums of terms up to 1600: a few roundings
    assert fcfun.poisson.link_value(Z, Y) == pytest.approx(expected, rel=both(8, np.float64))


@pytest.mark.parametrize(
    ("output", "loss", "outputs"),
    [
        (fcfun.exp, fcfun.poisson, 2),
        (fcfun.softplus, fcfun.poisson, 2),
        (fcfun.sort, fcfun.quantile(0.1, 0.5, 0.9), 3),
    ],
    ids=["poisson-exp", "poisson-softplus", "non-crossing-quantiles"],
)
def test_the_gradient_check_passes(
    output: fcfun.Activation, loss: fcfun.Loss, outputs: int
) -> None:
    rng = np.random.default_rng(2)
    spec = fcfun.mlp([4, 6, outputs], hidden="tanh", output=output, loss=loss)
    params = fcfun.init(spec, seed=3)
    X = rng.normal(size=(20, 4))
    if loss is fcfun.poisson:
        Y = rng.poisson(2.0, size=(20, outputs)).astype(float)
    else:
        Y = rng.normal(size=20)
        A = fcfun.predict(spec, params, X)
        assert float(np.abs(A - Y[:, None]).min()) > 1e-3  # pinball's kink out of reach
        assert float(np.diff(A, axis=1).min()) > 1e-3  # sorted heads, no ties
    assert fcfun.gradcheck(spec, params, X, Y, alpha=0.1) < gradcheck_tolerance()


def test_negative_targets_are_refused_naming_y() -> None:
    spec = fcfun.mlp([2, 1], output="exp", loss="poisson")
    with pytest.raises(ValueError, match=r"Y must be non-negative \(counts or rates\) for poisson"):
        fcfun.fit(
            spec,
            np.ones((3, 2)),
            np.array([1.0, -2.0, 0.0]),
            optimizer=fcfun.sgd(0.1),
            epochs=1,
            batch_size=3,
            seed=0,
        )


def test_poisson_regression_learns_a_log_linear_rate_and_round_trips(
    tmp_path: pathlib.Path,
) -> None:
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, size=(2000, 1))
    y = rng.poisson(np.exp(1 + 1.5 * X[:, 0])).astype(float)
    spec = fcfun.mlp([1, 1], output="exp", loss="poisson")
    assert spec.fused
    state = fcfun.fit(spec, X, y, optimizer=fcfun.adam(0.05), epochs=60, batch_size=100, seed=0)
    (layer,) = state.params
    # A statistical tolerance, not a rounding one: the maximum-likelihood estimates of 2000
    # rows have the standard errors of the inverse Fisher information (about 0.02); 0.1 is
    # at least 4 of them, with room for Adam's last steps around the optimum.
    design = np.column_stack([X[:, 0], np.ones(len(X))])
    fisher = design.T @ (design * np.exp(1 + 1.5 * X[:, 0])[:, None])
    standard_errors = np.sqrt(np.diag(np.linalg.inv(fisher)))
    assert 4 * float(standard_errors.max()) <= 0.1
    np.testing.assert_allclose([layer.W[0, 0], layer.b[0]], [1.5, 1.0], atol=0.1)
    A = fcfun.predict(spec, state.params, X)
    assert fcfun.d2_poisson_score(A, y[:, None]) > 0.5
    fcfun.save(tmp_path / "run.npz", spec, state)
    loaded_spec, loaded = fcfun.load(tmp_path / "run.npz", optimizer=fcfun.adam(0.05))
    assert loaded_spec == spec
    assert loaded_spec.loss is fcfun.poisson
    assert loaded_spec.output is fcfun.exp
    assert fcfun.fingerprint(loaded) == fcfun.fingerprint(state)
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert parse_loss("poisson") is fcfun.loss("poisson") is fcfun.poisson


def test_an_exp_output_that_overflows_is_divergence_in_training_and_an_error_in_predict() -> None:
    spec = fcfun.mlp([1, 1], output="exp", loss="poisson")
    params = (fcfun.Dense(np.array([[1.0]]), np.array([0.0])),)
    with pytest.raises(ValueError, match="forward pass to stay within float64's range"):
        fcfun.predict(spec, params, np.array([[710.0]]))
    assert np.isfinite(fcfun.predict(spec, params, np.array([[709.0]]))).all()
    with pytest.raises(fcfun.DivergenceError):
        fcfun.fit(
            spec,
            np.array([[800.0]]),
            np.array([1.0]),
            optimizer=fcfun.sgd(0.1),
            epochs=1,
            batch_size=1,
            seed=0,
            params=params,
        )


def test_d2_poisson_score_is_sklearns_d2_tweedie_score_with_power_1() -> None:
    Z, Y = _counts(5, (50, 2))
    A = np.exp(Z + 0.3)
    expected = np.mean([d2_tweedie_score(Y[:, j], A[:, j], power=1) for j in range(2)])
    # Two computations of a ratio of deviances, each a sum of 50 non-negative terms
    assert fcfun.d2_poisson_score(A, Y) == pytest.approx(expected, rel=both(50 + 16, np.float64))
    assert fcfun.poisson.metric is fcfun.d2_poisson_score


# Non-crossing quantiles ------------------------------------------------------------------


LEVELS = (0.3, 0.35, 0.4, 0.45, 0.5)


def _fit_quantiles(output: Any) -> tuple[fcfun.MLP, fcfun.Params, np.ndarray, np.ndarray]:
    """Close levels on few noisy rows: separate heads cross between (and beyond) the data."""
    rng = np.random.default_rng(6)
    X = rng.uniform(-1, 1, size=(60, 1))
    y = np.sin(3 * X[:, 0]) + rng.normal(0, 0.5, size=60)
    spec = fcfun.mlp(
        [1, 32, len(LEVELS)], hidden="tanh", output=output, loss=fcfun.quantile(*LEVELS)
    )
    state = fcfun.fit(spec, X, y, optimizer=fcfun.adam(0.01), epochs=300, batch_size=20, seed=0)
    return spec, state.params, X, y


def test_sorted_heads_never_cross_where_separate_heads_do() -> None:
    grid = np.linspace(-2, 2, 401)[:, None]
    spec, params, X, y = _fit_quantiles("identity")
    plain = fcfun.predict(spec, params, grid)
    assert (np.diff(plain, axis=1) < 0).any()  # the plain heads cross somewhere
    spec, params, X, y = _fit_quantiles("sort")
    ordered = fcfun.predict(spec, params, grid)
    assert (np.diff(ordered, axis=1) >= 0).all()
    assert (np.diff(fcfun.predict(spec, params, X), axis=1) >= 0).all()
    # Still quantiles: the share of targets below each output is near its level.
    below = (y[:, None] < fcfun.predict(spec, params, X)).mean(axis=0)
    # Statistical: the share of 60 rows below a q-quantile has the binomial standard
    # deviation sqrt(q (1 - q) / 60), at most 0.065; 0.1 is 1.5 of them, which these
    # fixed seeds meet (a rounding change moves no target across a fitted quantile here).
    np.testing.assert_allclose(below, LEVELS, atol=0.1)


def test_sorting_never_increases_a_rows_pinball_loss() -> None:
    """The rearrangement inequality behind ``sort``: with increasing levels, any row's
    sorted heads have a pinball loss no larger than the heads in any other order."""
    rng = np.random.default_rng(7)
    loss = fcfun.quantile(*LEVELS)
    for _ in range(200):
        A = rng.normal(size=(1, len(LEVELS)))
        Y = np.full_like(A, rng.normal())
        assert loss.value(np.sort(A, axis=1), Y) <= loss.value(A, Y) + 1e-15


def test_a_sort_output_round_trips_through_save_and_pickle(tmp_path: pathlib.Path) -> None:
    spec = fcfun.mlp([2, 4, 3], hidden="relu", output="sort", loss=fcfun.quantile(0.1, 0.5, 0.9))
    state = fcfun.fit(
        spec, np.ones((4, 2)), np.ones(4), optimizer=fcfun.sgd(0.01), epochs=1, batch_size=2, seed=0
    )
    fcfun.save(tmp_path / "q.npz", spec, state)
    loaded_spec, _ = fcfun.load(tmp_path / "q.npz", optimizer=fcfun.sgd(0.01))
    assert loaded_spec == spec
    assert loaded_spec.output is fcfun.sort
    assert pickle.loads(pickle.dumps(spec)) == spec
