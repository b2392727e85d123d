"""Huber, mean absolute error and quantile (pinball) losses: against hand-written numpy
references, in the gradient check, through training, the codec and pickling."""

from __future__ import annotations

import pathlib
import pickle

import numpy as np
import pytest

import fcfun
from fcfun._losses import parse_loss
from tests._bounds import both, gradcheck_tolerance


def _reference_huber(A: np.ndarray, Y: np.ndarray, delta: float) -> tuple[float, np.ndarray]:
    r = A - Y
    small = np.abs(r) <= delta
    values = np.where(small, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
    grads = np.where(small, r, delta * np.sign(r))
    return float(values.mean()), grads / r.size


def _reference_pinball(
    A: np.ndarray, y: np.ndarray, levels: tuple[float, ...]
) -> tuple[float, np.ndarray]:
    total, grads = 0.0, np.zeros_like(A)
    for j, q in enumerate(levels):
        r = y - A[:, j]
        total += float(np.mean(np.where(r > 0, q * r, (q - 1) * r)))
        grads[:, j] = np.where(r > 0, -q, 1 - q) / len(y)
    return total, grads


def test_the_losses_equal_hand_written_references() -> None:
    rng = np.random.default_rng(0)
    A, Y = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    for delta in (0.3, 1.0, 5.0):
        value, grad = _reference_huber(A, Y, delta)
        loss = fcfun.huber(delta)
        # means of 150 non-negative terms of a few roundings each (relative: no cancellation
        # but in A - Y, whose rounding is relative to the result); gradients elementwise
        assert loss.value(A, Y) == pytest.approx(value, rel=both(A.size + 8, np.float64))
        np.testing.assert_allclose(loss.grad(A, Y), grad, rtol=both(4, np.float64))
    mae = fcfun.mean_absolute_error
    expected = float(np.abs(A - Y).mean())
    assert mae.value(A, Y) == pytest.approx(expected, rel=both(A.size + 4, np.float64))
    np.testing.assert_allclose(mae.grad(A, Y), np.sign(A - Y) / A.size, rtol=both(2, np.float64))
    levels = (0.1, 0.5, 0.9)
    y = rng.normal(size=50)
    value, grad = _reference_pinball(A, y, levels)
    pinball = fcfun.quantile(*levels)
    Y_repeated = pinball.targets(y, 3, np.dtype(np.float64), "Y")
    assert Y_repeated.shape == (50, 3)
    # sums of 150 non-negative terms (3 means of 50, summed); gradients elementwise
    assert pinball.value(A, Y_repeated) == pytest.approx(value, rel=both(A.size + 8, np.float64))
    np.testing.assert_allclose(pinball.grad(A, Y_repeated), grad, rtol=both(4, np.float64))


@pytest.mark.parametrize(
    ("loss", "outputs"),
    [
        (fcfun.huber(0.7), 2),
        (fcfun.mean_absolute_error, 2),
        (fcfun.quantile(0.2, 0.5, 0.8), 3),
        (fcfun.quantile(0.95), 1),
    ],
    ids=["huber", "mae", "quantiles", "one-quantile"],
)
def test_the_gradient_check_passes(loss: fcfun.Loss, outputs: int) -> None:
    rng = np.random.default_rng(1)
    spec = fcfun.mlp([4, 6, outputs], hidden="tanh", output="identity", loss=loss)
    params = fcfun.init(spec, seed=2)
    X = rng.normal(size=(20, 4))
    Y = rng.normal(size=(20,)) if loss.name.startswith("quantile") else rng.normal(size=(20, 2))
    A = fcfun.predict(spec, params, X)
    target = loss.targets(np.asarray(Y), outputs, np.dtype(np.float64), "Y")
    # Kinks (r = 0, |r| = delta for the second derivative only) stay out of reach of h.
    assert float(np.abs(A - target).min()) > 1e-3
    assert fcfun.gradcheck(spec, params, X, Y, alpha=0.1) < gradcheck_tolerance()


def test_quantile_regression_trains_ordered_quantiles_and_round_trips(
    tmp_path: pathlib.Path,
) -> None:
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(400, 1))
    y = 2 * X[:, 0] + rng.normal(0, 0.5, size=400)
    spec = fcfun.mlp(
        [1, 16, 3], hidden="tanh", output="identity", loss=fcfun.quantile(0.1, 0.5, 0.9)
    )
    assert parse_loss("quantile(0.1, 0.5, 0.9)") is spec.loss
    assert parse_loss("huber(0.25)") is fcfun.huber(0.25)
    assert parse_loss("huber(1)") is parse_loss("huber") is fcfun.huber(1.0)  # as leaky_relu
    state = fcfun.fit(spec, X, y, optimizer=fcfun.adam(0.02), epochs=60, batch_size=40, seed=0)
    A = fcfun.predict(spec, state.params, X)
    below = (y[:, None] < A).mean(axis=0)
    # Statistical: the share of 400 rows below a q-quantile has the binomial standard
    # deviation sqrt(q (1 - q) / 400), at most 0.025; 0.06 is 2.4 of them.
    np.testing.assert_allclose(below, [0.1, 0.5, 0.9], atol=0.06)
    fcfun.save(tmp_path / "run.npz", spec, state)
    loaded_spec, loaded = fcfun.load(tmp_path / "run.npz", optimizer=fcfun.adam(0.02))
    assert loaded_spec == spec
    assert fcfun.fingerprint(loaded) == fcfun.fingerprint(state)
    assert pickle.loads(pickle.dumps(spec)) == spec


def test_bad_quantiles_and_deltas_are_refused() -> None:
    with pytest.raises(ValueError, match=r"a quantile must be in \(0, 1\), got 1.5"):
        fcfun.quantile(0.5, 1.5)
    with pytest.raises(ValueError, match="at least one quantile"):
        fcfun.quantile()
    with pytest.raises(ValueError, match="delta must be a finite real number > 0"):
        fcfun.huber(0.0)
    spec = fcfun.mlp([2, 2], output="identity", loss=fcfun.quantile(0.1, 0.5, 0.9))
    with pytest.raises(ValueError, match="3 outputs, one per quantile"):
        fcfun.fit(
            spec,
            np.ones((4, 2)),
            np.ones(4),
            optimizer=fcfun.sgd(0.1),
            epochs=1,
            batch_size=2,
            seed=0,
        )


def test_huber_trains_through_outliers_that_would_overflow_a_square() -> None:
    """Only the selected branch is computed: a float32 residual of 1e20 is linear, not inf."""
    spec = fcfun.mlp([1, 1], output="identity", loss=fcfun.huber(1.0))
    X, y = np.zeros((4, 1), np.float32), np.array([0, 0, 0, 1e20], np.float32)
    state = fcfun.fit(spec, X, y, optimizer=fcfun.sgd(0.1), epochs=2, batch_size=4, seed=0)
    assert np.isfinite(state.history.train_loss).all()
    assert (
        fcfun.huber(1.0).value(np.zeros((1, 1), np.float32), np.full((1, 1), 1e20, np.float32)) > 0
    )
