"""Activations: values against the textbook formulas, derivatives against differences."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fcfun
from tests._bounds import ACTIVATION_ULPS, assert_within, both, central_difference_error, gamma

Array = fcfun.FloatArray

ALL = [
    fcfun.identity,
    fcfun.sigmoid,
    fcfun.relu,
    fcfun.leaky_relu(0.1),
    fcfun.tanh,
    fcfun.softplus,
    fcfun.softmax,
    fcfun.exp,
    fcfun.sort,
]

# Scalar reference formulas, written with the math module (elementwise activations).
SCALAR: dict[str, Callable[[float], float]] = {
    "identity": lambda z: z,
    "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
    "relu": lambda z: max(z, 0.0),
    "leaky_relu(0.1)": lambda z: z if z > 0 else 0.1 * z,
    "tanh": math.tanh,
    "softplus": lambda z: math.log(1 + math.exp(z)),
    "exp": math.exp,
}


def sample(shape: tuple[int, int], seed: int = 0) -> Array:
    """Moderate values away from relu's kink at 0."""
    Z = np.random.default_rng(seed).uniform(-4, 4, shape)
    Z[np.abs(Z) < 1e-3] = 0.5
    return Z


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_forward_matches_scalar_formula(name: str) -> None:
    act = next(a for a in ALL if a.name == name)
    Z = sample((5, 7))
    expected = np.vectorize(SCALAR[name])(Z)
    # Each side: a library formula of a few functions, within ACTIVATION_ULPS of g(z),
    # relative; absolute too, for the reference softplus's log(1 + e^z), whose rounded
    # argument 1 + e^z is an absolute error of u in the log (relative: u / softplus(z)).
    bound = both(ACTIVATION_ULPS, Z.dtype)
    np.testing.assert_allclose(act.forward(Z), expected, rtol=bound, atol=bound)


def test_softmax_forward_matches_definition() -> None:
    Z = sample((5, 7))
    expected = np.array([[math.exp(z) / sum(math.exp(v) for v in row) for z in row] for row in Z])
    # Each side: 7 exps (within ACTIVATION_ULPS), a sum of 7 and a division (no cancellation).
    rtol = both(Z.shape[1] + ACTIVATION_ULPS, Z.dtype)
    np.testing.assert_allclose(fcfun.softmax.forward(Z), expected, rtol=rtol)


@pytest.mark.parametrize("act", ALL, ids=lambda a: a.name)
def test_backward_is_the_vector_jacobian_product(act: fcfun.Activation) -> None:
    """Against central differences of sum(dA * g(Z)) in every entry of Z."""
    Z = sample((4, 5), seed=1)
    dA = np.random.default_rng(2).standard_normal(Z.shape)
    h = 1e-5  # near u^(1/3), where truncation and rounding balance
    numerical = np.empty_like(Z)
    for index in np.ndindex(Z.shape):
        plus, minus = Z.copy(), Z.copy()
        plus[index] += h
        minus[index] -= h
        numerical[index] = (np.sum(dA * act.forward(plus)) - np.sum(dA * act.forward(minus))) / (
            2 * h
        )
    dZ = act.backward(dA, Z, act.forward(Z))
    # The sum of 20 terms, each an activation within ACTIVATION_ULPS: within gamma_{20+16}
    # of sum |dA g(Z)|. |g'''| <= 2 e^|z| for every activation here (exp: e^z, tanh: 2 at 0,
    # sigmoid 1/8, softplus < 1/10, softmax's <= 1 per unit of sum |dA|; relu, sort: 0 away
    # from kinks and ties, which sample keeps 1e-3 >> h away). backward: n + 16 roundings.
    rounding = gamma(Z.size + ACTIVATION_ULPS, np.float64) * np.sum(np.abs(dA * act.forward(Z)))
    third = 2 * np.exp(np.abs(Z)) * np.abs(dA).sum(axis=1, keepdims=True)
    bound = central_difference_error(h, rounding, third, np.abs(dZ), Z)
    own = gamma(Z.shape[1] + ACTIVATION_ULPS, np.float64) * np.abs(dZ)
    assert_within(dZ, numerical, bound + own)


def check_relu_backward(backward: Callable[[Array, Array], Array]) -> None:
    """relu's backward must pass dA through where Z > 0 and block it elsewhere."""
    dA = np.array([[2.0, -3.0, 0.5, 7.0]])
    Z = np.array([[1.0, 2.0, -1.0, 0.0]])
    np.testing.assert_array_equal(backward(dA, Z), [[2.0, -3.0, 0.0, 0.0]])


def seed_relu_backward(dA: Array, Z: Array) -> Array:
    """The seed notebook's version, verbatim: it returns 1 where Z > 0 and drops dA."""
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    dZ[Z > 0] = 1
    return dZ


def test_relu_backward_passes_dA_through() -> None:
    check_relu_backward(lambda dA, Z: fcfun.relu.backward(dA, Z, fcfun.relu.forward(Z)))


def test_the_seed_relu_backward_fails_the_same_check() -> None:
    with pytest.raises(AssertionError):
        check_relu_backward(seed_relu_backward)


@pytest.mark.parametrize("act", ALL, ids=lambda a: a.name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_are_finite_and_warning_free(
    act: fcfun.Activation, dtype: type[np.floating[Any]]
) -> None:
    # The suite turns warnings into errors, so an overflow warning fails here. An
    # activation whose range ends (exp) is held to its own max_input, and no further.
    top = act.max_input(np.dtype(dtype)) if act.max_input is not None else 1e4
    Z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=dtype).clip(max=top)
    A = act.forward(Z)
    dZ = act.backward(np.ones_like(Z), Z, A)
    assert A.dtype == dtype
    assert dZ.dtype == dtype
    assert np.isfinite(A).all()
    assert np.isfinite(dZ).all()


def test_saturated_values() -> None:
    Z = np.array([[-1e4, 1e4]])
    np.testing.assert_array_equal(fcfun.sigmoid.forward(Z), [[0.0, 1.0]])
    np.testing.assert_array_equal(fcfun.softplus.forward(Z), [[0.0, 1e4]])
    np.testing.assert_array_equal(fcfun.softmax.forward(Z), [[0.0, 1.0]])


def test_names_round_trip() -> None:
    for act in ALL:
        assert fcfun._activations.parse_activation(act.name) is act
    assert fcfun.activation("leaky_relu") is fcfun.leaky_relu()
    assert fcfun.leaky_relu(0.2) == fcfun.leaky_relu(0.2)
    with pytest.raises(ValueError, match="unknown activation 'relux'"):
        fcfun._activations.parse_activation("relux")
    with pytest.raises(ValueError, match="slope"):
        fcfun.leaky_relu(-1.0)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_in_place_is_maximum_with_zero_bit_for_bit(dtype: Any) -> None:
    """The training path's in-place relu against ``np.maximum(Z, 0.0)``,
    signed zeros, infinities and NaN included."""
    special = [-0.0, 0.0, -1.5, 2.5, np.inf, -np.inf, np.nan, 1e-30, -1e-30]
    # 1001 columns: the vectorised loop's main body and its remainder both run.
    Z = np.resize(np.array(special, dtype), (4, 1001))
    in_place = fcfun.relu.forward_in_place
    assert in_place is not None
    for given in (Z, Z[0]):
        written = given.copy()
        A = in_place(written)
        assert np.shares_memory(A, written)
        assert A.dtype == dtype
        assert A.tobytes() == np.maximum(given, 0.0).tobytes()


def test_every_builtin_is_tested_here() -> None:
    from fcfun._activations import _BY_NAME

    assert set(_BY_NAME) <= {a.name for a in ALL}


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_exp_max_input_is_the_last_finite_input(dtype: Any) -> None:
    """``exp`` is finite and warning-free up to ``max_input`` and overflows just above it:
    the bound it states is exact, not a safety margin."""
    assert fcfun.exp.max_input is not None
    top = np.asarray(fcfun.exp.max_input(np.dtype(dtype)), dtype)
    assert float(top) == fcfun.exp.max_input(np.dtype(dtype))  # representable in dtype
    assert np.isfinite(fcfun.exp.forward(top[None, None])).all()
    above = np.nextafter(top, np.asarray(np.inf, dtype))
    with pytest.warns(RuntimeWarning, match="overflow"):
        fcfun.exp.forward(above[None, None])
    # The last finite input of dtype is within one spacing of log(max) (math.log's own
    # rounding, in float64, is within one more).
    log_max = math.log(float(np.finfo(dtype).max))
    assert float(top) == pytest.approx(log_max, abs=2 * float(np.spacing(top)))
    assert all(a.max_input is None for a in ALL if a is not fcfun.exp)


def test_sort_sorts_rows_and_sends_gradients_back_to_their_heads() -> None:
    Z = np.array([[0.3, -2.0, 1.5], [2.0, 1.0, 0.0]])
    A = fcfun.sort.forward(Z)
    np.testing.assert_array_equal(A, [[-2.0, 0.3, 1.5], [0.0, 1.0, 2.0]])
    dA = np.array([[10.0, 20.0, 30.0], [1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(
        fcfun.sort.backward(dA, Z, A), [[20.0, 10.0, 30.0], [3.0, 2.0, 1.0]]
    )
