"""loss_and_grad against central finite differences, for every activation and loss."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import fcfun
from tests._bounds import assert_within, both, forward_error, gradcheck_tolerance

HIDDEN = [
    fcfun.identity,
    fcfun.sigmoid,
    fcfun.relu,
    fcfun.leaky_relu(0.1),
    fcfun.tanh,
    fcfun.softplus,
    fcfun.softmax,
]

# (output activation, loss, smallest output size): the canonical pairs, the logits
# forms, and non-canonical pairs that take the general (unfused) path.
HEADS = [
    (fcfun.sigmoid, fcfun.binary_cross_entropy, 1),
    (fcfun.identity, fcfun.binary_cross_entropy_with_logits, 1),
    (fcfun.softmax, fcfun.softmax_cross_entropy, 2),
    (fcfun.identity, fcfun.softmax_cross_entropy, 2),
    (fcfun.identity, fcfun.mean_squared_error, 1),
    (fcfun.identity, fcfun.half_squared_error, 1),
    (fcfun.sigmoid, fcfun.mean_squared_error, 1),
    (fcfun.tanh, fcfun.mean_squared_error, 1),
    (fcfun.softplus, fcfun.half_squared_error, 1),
    (fcfun.leaky_relu(0.1), fcfun.mean_squared_error, 1),
    (fcfun.softmax, fcfun.mean_squared_error, 2),
    (fcfun.softmax, fcfun.binary_cross_entropy, 2),
]

KINKED = {"relu", "leaky_relu(0.1)"}


def targets(loss: fcfun.Loss, rng: np.random.Generator, m: int, k: int) -> np.ndarray[Any, Any]:
    if loss is fcfun.softmax_cross_entropy:
        return rng.integers(0, k, m)
    if loss.name.startswith("binary"):
        return rng.integers(0, 2, (m, k)).astype(float)
    return rng.normal(0, 1, (m, k))


@pytest.mark.parametrize("hidden", HIDDEN, ids=lambda a: a.name)
@pytest.mark.parametrize("head", HEADS, ids=lambda h: f"{h[0].name}+{h[1].name}")
@settings(max_examples=8)
@given(
    depth=st.integers(1, 4),
    widths=st.lists(st.integers(1, 5), min_size=5, max_size=5),
    m=st.integers(1, 6),
    alpha=st.sampled_from([0.0, 0.0, 0.7]),
    seed=st.integers(0, 2**32 - 1),
)
def test_loss_and_grad_matches_finite_differences(
    hidden: fcfun.Activation,
    head: tuple[fcfun.Activation, fcfun.Loss, int],
    depth: int,
    widths: list[int],
    m: int,
    alpha: float,
    seed: int,
) -> None:
    output, loss, min_out = head
    sizes = [widths[0], *widths[1:depth], max(widths[-1], min_out)]
    spec = fcfun.mlp(sizes, hidden=hidden, output=output, loss=loss)
    rng = np.random.default_rng(seed)
    params = tuple(
        fcfun.Dense(rng.normal(0, 1, layer.W.shape), rng.normal(0, 0.5, layer.b.shape))
        for layer in fcfun.init(spec, seed=0)
    )
    X = rng.normal(0, 1, (m, sizes[0]))
    Y = targets(loss, rng, m, sizes[-1])
    # A finite difference across a kink measures nothing: keep pre-activations away from it.
    _, caches = fcfun.forward(spec, params, X)
    for act, cache in zip(spec.activations, caches, strict=True):
        if act.name in KINKED:
            assume(float(np.abs(cache.Z).min()) > 1e-3)
    assert fcfun.gradcheck(spec, params, X, Y, alpha=alpha) < gradcheck_tolerance()


def test_gradcheck_catches_a_wrong_gradient() -> None:
    """An activation whose backward is the seed's relu (drops dA) is reported."""

    def seed_backward(
        dA: fcfun.FloatArray, Z: fcfun.FloatArray, A: fcfun.FloatArray
    ) -> fcfun.FloatArray:
        return (Z > 0).astype(dA.dtype)

    wrong = fcfun.Activation("seed_relu", fcfun.relu.forward, seed_backward)
    spec = fcfun.mlp([3, 4, 1], hidden=wrong, output=fcfun.sigmoid, loss=fcfun.binary_cross_entropy)
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (5, 3))
    Y = rng.integers(0, 2, 5)
    assert fcfun.gradcheck(spec, fcfun.init(spec, seed=1), X, Y) > 1e-2


def test_alpha_is_scikit_learns_l2_penalty() -> None:
    spec = fcfun.mlp([3, 2, 1], output=fcfun.identity, loss=fcfun.half_squared_error)
    params = fcfun.init(spec, seed=3)
    X = np.random.default_rng(1).normal(0, 1, (4, 3))
    Y = np.zeros(4)
    plain, grads = fcfun.loss_and_grad(spec, params, X, Y)
    penalized, grads_alpha = fcfun.loss_and_grad(spec, params, X, Y, alpha=0.5)
    squares = sum(float(np.sum(layer.W**2)) for layer in params)
    # non-negative sums (the loss, the squares of 8 weights) of a few roundings each
    assert penalized == pytest.approx(plain + 0.5 / (2 * 4) * squares, rel=both(8 + 8, np.float64))
    for g, ga, p in zip(grads, grads_alpha, params, strict=True):
        # g + alpha / m W: a product and a sum of terms |g| and |alpha / m W|, either way
        bound = both(3, np.float64) * (np.abs(g.W) + np.abs(0.5 / 4 * p.W))
        assert_within(ga.W, g.W + 0.5 / 4 * p.W, bound)
        np.testing.assert_array_equal(ga.b, g.b)  # biases are not penalized


def test_gradcheck_resolves_errors_far_below_the_test_threshold() -> None:
    """A backward off by one part in a million is reported far above gradcheck_tolerance."""
    slightly_wrong = fcfun.Activation(
        "tanh_off_by_1e-6",
        fcfun.tanh.forward,
        lambda dA, Z, A: dA * (1.0 - A * A) * (1.0 + 1e-6),
    )
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 3))
    Y = np.array([0, 1, 1, 0, 1])
    right = fcfun.mlp([3, 4, 2], hidden=fcfun.tanh, output="softmax", loss="softmax_cross_entropy")
    wrong = fcfun.mlp(
        [3, 4, 2], hidden=slightly_wrong, output="softmax", loss="softmax_cross_entropy"
    )
    params = fcfun.init(right, seed=0)
    assert fcfun.gradcheck(right, params, X, Y) < gradcheck_tolerance(growth=1000)  # logits
    # The hidden layer's gradient is off by 1e-6 relative: ||a - n|| / (||a|| + ||n||) =
    # 1e-6 / 2, less the rounding noise gradcheck subtracts (16 eps (|loss| + 1) / h
    # sqrt(12), below a tenth of it here).
    assert fcfun.gradcheck(wrong, params, X, Y) > 0.9 * 1e-6 / 2


def test_a_user_activation_that_borrows_a_name_keeps_its_own_functions() -> None:
    """fcfun's fast paths recognise its own activations by identity, not by name."""
    sine = fcfun.Activation("tanh", np.sin, lambda dA, Z, A: dA * np.cos(Z))
    spec = fcfun.mlp([3, 4, 2], hidden=sine, output="softmax", loss="softmax_cross_entropy")
    params = fcfun.init(spec, seed=0)
    X = np.random.default_rng(1).standard_normal((5, 3))
    Y = np.array([0, 1, 1, 0, 1])
    logits = np.sin(X @ params[0].W + params[0].b) @ params[1].W + params[1].b
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    output, _ = fcfun.forward(spec, params, X)
    assert_within(output, expected, forward_error(spec, params, X))  # two implementations
    np.testing.assert_array_equal(fcfun.predict(spec, params, X), output)
    assert fcfun.gradcheck(spec, params, X, Y) < gradcheck_tolerance()
