"""Losses: values against per-sample formulas, gradients against differences, extremes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import fcfun
from tests._bounds import ACTIVATION_ULPS, assert_within, both, central_difference_error, gamma

Array = fcfun.FloatArray
ALL = [
    fcfun.binary_cross_entropy,
    fcfun.binary_cross_entropy_with_logits,
    fcfun.softmax_cross_entropy,
    fcfun.mean_squared_error,
    fcfun.half_squared_error,
]


def data(loss: fcfun.Loss, m: int = 6, k: int = 3, seed: int = 0) -> tuple[Array, Array]:
    rng = np.random.default_rng(seed)
    if loss is fcfun.binary_cross_entropy:
        return rng.uniform(0.05, 0.95, (m, k)), rng.integers(0, 2, (m, k)).astype(float)
    if loss is fcfun.binary_cross_entropy_with_logits:
        return rng.normal(0, 3, (m, k)), rng.integers(0, 2, (m, k)).astype(float)
    if loss is fcfun.softmax_cross_entropy:
        return rng.normal(0, 3, (m, k)), np.eye(k)[rng.integers(0, k, m)]
    return rng.normal(0, 1, (m, k)), rng.normal(0, 1, (m, k))


def reference_value(loss: fcfun.Loss, A: Array, Y: Array) -> float:
    """Textbook definitions, one scalar at a time."""
    m, k = int(A.shape[0]), int(A.shape[1])
    if loss is fcfun.binary_cross_entropy:
        total = 0.0
        for a, y in zip(A.flat, Y.flat, strict=True):
            total -= float(y) * math.log(a) + (1 - float(y)) * math.log(1 - a)
        return total / m
    if loss is fcfun.binary_cross_entropy_with_logits:
        total = 0.0
        for z, y in zip(A.flat, Y.flat, strict=True):
            p = 1 / (1 + math.exp(-float(z)))
            total -= float(y) * math.log(p) + (1 - float(y)) * math.log(1 - p)
        return total / m
    if loss is fcfun.softmax_cross_entropy:
        total = 0.0
        for z, y in zip(A, Y, strict=True):
            norm = sum(math.exp(float(v)) for v in z)
            for v, t in zip(z, y, strict=True):
                total -= float(t) * math.log(math.exp(float(v)) / norm)
        return total / m
    squares = sum((float(a) - float(y)) ** 2 for a, y in zip(A.flat, Y.flat, strict=True))
    if loss is fcfun.mean_squared_error:  # torch.nn.MSELoss(reduction="mean")
        return squares / (m * k)
    return squares / (2 * m)


@pytest.mark.parametrize("loss", ALL, ids=lambda loss: loss.name)
def test_value_matches_definition(loss: fcfun.Loss) -> None:
    A, Y = data(loss)
    # means of m k non-negative terms of a few library functions each, either way
    rel = both(A.size + ACTIVATION_ULPS, np.float64)
    assert loss.value(A, Y) == pytest.approx(reference_value(loss, A, Y), rel=rel)


@pytest.mark.parametrize("loss", ALL, ids=lambda loss: loss.name)
def test_grad_matches_central_differences(loss: fcfun.Loss) -> None:
    A, Y = data(loss, seed=1)
    h = 1e-5  # near u^(1/3), where truncation and rounding balance
    numerical = np.empty_like(A)
    for index in np.ndindex(A.shape):
        plus, minus = A.copy(), A.copy()
        plus[index] += h
        minus[index] -= h
        numerical[index] = (loss.value(plus, Y) - loss.value(minus, Y)) / (2 * h)
    grad = loss.grad(A, Y)
    # The value: a mean of m k non-negative terms of up to 4 library functions each, within
    # gamma_{mk + 16} of itself. |d^3 loss / dA^3| per entry is at most 2 / (m a^3) (binary
    # cross-entropy on probabilities a >= 0.05; the logit losses' <= 1 / m, squares' 0). The
    # gradient itself: a few roundings (gamma_16).
    m = A.shape[0]
    rounding = gamma(A.size + ACTIVATION_ULPS, np.float64) * loss.value(A, Y)
    bound = central_difference_error(h, rounding, 2 / (m * 0.05**3), np.abs(grad), A)
    assert_within(grad, numerical, bound + gamma(ACTIVATION_ULPS, np.float64) * np.abs(grad))


def test_linked_losses_read_logits() -> None:
    """With its link as output activation, a loss is the cross-entropy of link(Z)."""
    rng = np.random.default_rng(3)
    Z = rng.normal(0, 2, (6, 3))
    Y_binary = rng.integers(0, 2, (6, 3)).astype(float)
    probabilities = 1 / (1 + np.exp(-Z))
    expected = -np.sum(Y_binary * np.log(probabilities) + (1 - Y_binary) * np.log1p(-probabilities))
    bce = fcfun.binary_cross_entropy
    assert bce.link is fcfun.sigmoid
    rel = both(Z.size + ACTIVATION_ULPS, np.float64)  # as test_value_matches_definition
    assert bce.link_value(Z, Y_binary) == pytest.approx(expected / 6, rel=rel)

    Y_onehot = np.eye(3)[rng.integers(0, 3, 6)]
    softmax = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    expected = -np.sum(Y_onehot * np.log(softmax))
    ce = fcfun.softmax_cross_entropy
    assert ce.link is fcfun.softmax
    assert ce.link_value(Z, Y_onehot) == pytest.approx(expected / 6, rel=rel)


def test_integer_labels_equal_one_hot() -> None:
    Z, _ = data(fcfun.softmax_cross_entropy, seed=4)
    labels = np.array([0, 2, 1, 1, 0, 2])
    one_hot = np.eye(3)[labels]
    ce = fcfun.softmax_cross_entropy
    assert ce.value(Z, labels) == ce.value(Z, one_hot)
    np.testing.assert_array_equal(ce.grad(Z, labels), ce.grad(Z, one_hot))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_give_finite_losses_and_gradients(
    dtype: type[np.floating[Any]],
) -> None:
    Z = np.array([[1e4, -1e4], [-1e4, 1e4], [0.0, 1e4]], dtype=dtype)
    Y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]], dtype=dtype)
    for loss in (fcfun.binary_cross_entropy_with_logits, fcfun.softmax_cross_entropy):
        value, grad = loss.value(Z, Y), loss.grad(Z, Y)
        assert math.isfinite(value)
        assert np.isfinite(grad).all()
        assert grad.dtype == dtype
    # Wrong by 2e4 nats for the first sample of the softmax loss: log-sum-exp keeps it exact.
    value = fcfun.softmax_cross_entropy.value(Z[:1], Y[:1])
    assert value == pytest.approx(2e4, rel=both(8, dtype))  # log-sum-exp: a few roundings
    assert math.isfinite(fcfun.binary_cross_entropy.link_value(Z, Y))


def test_probabilities_of_exactly_zero_and_one() -> None:
    A = np.array([[0.0], [1.0], [1.0], [0.0]])
    Y = np.array([[1.0], [0.0], [1.0], [0.0]])
    bce = fcfun.binary_cross_entropy
    assert math.isfinite(bce.value(A, Y))
    assert np.isfinite(bce.grad(A, Y)).all()


def test_mse_is_the_mean_over_all_elements() -> None:
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    Y = np.zeros((2, 2))
    assert fcfun.mean_squared_error.value(A, Y) == (1 + 4 + 9 + 16) / 4
    assert fcfun.half_squared_error.value(A, Y) == (1 + 4 + 9 + 16) / 4
    assert fcfun.half_squared_error.value(A[:, :1], Y[:, :1]) == (1 + 9) / 4
