"""tests/_bounds.py: the error bounds the tolerances come from hold, and are not vacuous."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fcfun
from fcfun._activations import _BY_NAME, parse_activation
from tests._bounds import (
    assert_within,
    forward_error,
    gamma,
    gradient_error,
    unit_roundoff,
)

ACTIVATIONS = [parse_activation(name) for name in _BY_NAME]


def test_gamma_is_highams_bound() -> None:
    u = unit_roundoff(np.float64)
    assert u == 2.0**-53
    assert gamma(1, np.float64) == u / (1 - u)
    assert gamma(10, np.float32) == pytest.approx(10 * 2.0**-24, rel=1e-5)
    with pytest.raises(AssertionError, match="unbounded"):
        gamma(2**24, np.float32)


def _float32_network(hidden: fcfun.Activation, output: fcfun.Activation) -> Any:
    spec = fcfun.mlp([5, 16, 16, 4], hidden=hidden, output=output, loss="half_squared_error")
    rng = np.random.default_rng(3)
    scale = 0.1 if hidden.max_input is not None or output.max_input is not None else 1.0
    params = tuple(
        fcfun.Dense(
            (scale * W).astype(np.float32), rng.normal(0, scale, b.shape).astype(np.float32)
        )
        for W, b in fcfun.init(spec, seed=3)
    )
    X = rng.normal(0, 2, (50, 5)).astype(np.float32)
    wide = tuple(fcfun.Dense(W.astype(np.float64), b.astype(np.float64)) for W, b in params)
    return spec, params, wide, X


@pytest.mark.parametrize("output", ACTIVATIONS, ids=lambda a: a.name)
@pytest.mark.parametrize("hidden", ACTIVATIONS, ids=lambda a: a.name)
def test_forward_error_bounds_float32_against_float64(
    hidden: fcfun.Activation, output: fcfun.Activation
) -> None:
    """float64 is all but exact next to float32: the float32 prediction of the same
    params is within the bound, which is within a few hundred ulps (not vacuous)."""
    spec, params, wide, X = _float32_network(hidden, output)
    narrow = fcfun.predict(spec, params, X)
    exact = fcfun.predict(spec, wide, X.astype(np.float64))
    bound = forward_error(spec, params, X)
    assert_within(narrow, exact, bound)
    assert float(np.median(bound / (np.abs(exact) + 1e-30))) < 1e-3


def test_gradient_error_bounds_float32_against_float64() -> None:
    spec = fcfun.mlp([5, 8, 3], hidden="tanh", output="softmax", loss="softmax_cross_entropy")
    params = fcfun.init(spec, seed=4, dtype=np.float32)
    wide = tuple(fcfun.Dense(W.astype(np.float64), b.astype(np.float64)) for W, b in params)
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(40, 5)).astype(np.float32), rng.integers(0, 3, 40)
    _, narrow = fcfun.loss_and_grad(spec, params, X, y, alpha=0.1)
    _, exact = fcfun.loss_and_grad(spec, wide, X.astype(np.float64), y, alpha=0.1)
    one_hot = np.eye(3, dtype=np.float32)[y]
    bounds = gradient_error(spec, params, X, one_hot, alpha=0.1)
    for n, e, (bound_W, bound_b) in zip(narrow, exact, bounds, strict=True):
        assert_within(n.W, e.W, bound_W)
        assert_within(n.b, e.b, bound_b)


def test_a_difference_beyond_the_bound_fails_with_where_and_by_how_much() -> None:
    with pytest.raises(AssertionError, match=r"at \(1,\): difference 0\.5"):
        assert_within(np.array([1.0, 2.5]), np.array([1.0, 2.0]), 0.1)
    assert_within(np.array([1.0, 2.05]), np.array([1.0, 2.0]), 0.1)
