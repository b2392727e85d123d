"""Specs, initial params, forward / predict / backward, dtypes and immutability."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fcfun
from tests._bounds import (
    ACTIVATION_ULPS,
    assert_within,
    both,
    forward_pass,
    gradient_error,
    matmul_error,
)

SPEC = fcfun.mlp(
    [5, 7, 4, 3],
    hidden=[fcfun.tanh, fcfun.relu],
    output=fcfun.softmax,
    loss=fcfun.softmax_cross_entropy,
)


def batch(dtype: Any = np.float64, m: int = 9) -> tuple[fcfun.FloatArray, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(0)
    return rng.normal(0, 1, (m, 5)).astype(dtype), rng.integers(0, 3, m)


def test_spec_is_static_and_hashable() -> None:
    again = fcfun.mlp(
        (5, 7, 4, 3),
        hidden=(fcfun.tanh, fcfun.relu),
        output=fcfun.softmax,
        loss=fcfun.softmax_cross_entropy,
    )
    assert again == SPEC
    assert hash(again) == hash(SPEC)
    assert SPEC.n_layers == 3
    assert SPEC.fused
    assert not fcfun.mlp([2, 1], output=fcfun.identity, loss=fcfun.mean_squared_error).fused


def test_init_shapes_dtypes_and_streams() -> None:
    params = fcfun.init(SPEC, seed=4)
    assert [(p.W.shape, p.b.shape) for p in params] == [
        ((5, 7), (7,)),
        ((7, 4), (4,)),
        ((4, 3), (3,)),
    ]
    again = fcfun.init(SPEC, seed=4)
    for p, q in zip(params, again, strict=True):
        np.testing.assert_array_equal(p.W, q.W)
    other = fcfun.init(SPEC, seed=5)
    assert not np.array_equal(params[0].W, other[0].W)
    single = fcfun.init(
        fcfun.mlp([5, 7, 4], output=fcfun.identity, loss=fcfun.mean_squared_error), seed=4
    )
    # Each layer has its own stream: the first layer does not depend on the depth.
    np.testing.assert_array_equal(single[0].W, params[0].W)
    f32 = fcfun.init(SPEC, seed=4, dtype=np.float32)
    assert all(p.W.dtype == np.float32 and p.b.dtype == np.float32 for p in f32)
    np.testing.assert_array_equal(f32[0].W, params[0].W.astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_end_to_end(dtype: Any) -> None:
    params = fcfun.init(SPEC, seed=0, dtype=dtype)
    X, Y = batch(np.float64)  # float64 data is computed in the params' dtype
    output, caches = fcfun.forward(SPEC, params, X)
    loss, grads = fcfun.loss_and_grad(SPEC, params, X, Y, alpha=0.1)
    assert output.dtype == dtype
    assert all(c.X.dtype == dtype and c.Z.dtype == dtype and c.A.dtype == dtype for c in caches)
    assert all(g.W.dtype == dtype and g.b.dtype == dtype for g in grads)
    assert fcfun.predict(SPEC, params, X).dtype == dtype
    assert isinstance(loss, float)


def test_float32_agrees_with_float64() -> None:
    """The same (float32) params and data in both dtypes: they differ by float32's
    rounding alone, within the bounds of tests/_bounds (forward_pass, gradient_error)."""
    X64, Y = batch()
    X = X64.astype(np.float32)
    params32 = fcfun.init(SPEC, seed=0, dtype=np.float32)
    params64 = tuple(fcfun.Dense(W.astype(np.float64), b.astype(np.float64)) for W, b in params32)
    loss64, grads64 = fcfun.loss_and_grad(SPEC, params64, X.astype(np.float64), Y)
    loss32, grads32 = fcfun.loss_and_grad(SPEC, params32, X, Y)
    # Cross-entropy from the logits: -log softmax_y(z) is 2-Lipschitz in max |dz| (its
    # gradient e_y - s has L1 norm <= 2); the mean of m terms adds gamma_m, log-sum-exp
    # ACTIVATION_ULPS.
    dZ = forward_pass(SPEC, params32, X).pre_activations[-1][1]
    rounding = both(len(Y) + ACTIVATION_ULPS, np.float32) * abs(loss64)
    assert abs(loss32 - loss64) <= float(np.mean(2 * dZ.max(axis=1))) + rounding
    one_hot = np.eye(3, dtype=np.float32)[Y]
    bounds = gradient_error(SPEC, params32, X, one_hot)
    for g32, g64, (bound_W, bound_b) in zip(grads32, grads64, bounds, strict=True):
        assert_within(g32.W, g64.W, bound_W)
        assert_within(g32.b, g64.b, bound_b)


def test_predict_in_chunks_equals_forward() -> None:
    X, _ = batch(m=1000)
    params = fcfun.init(SPEC, seed=1)
    output, _ = fcfun.forward(SPEC, params, X)
    np.testing.assert_array_equal(fcfun.predict(SPEC, params, X, chunk_size=7), output)
    np.testing.assert_array_equal(fcfun.predict(SPEC, params, X), output)


def test_backward_equals_loss_and_grad() -> None:
    X, Y = batch()
    params = fcfun.init(SPEC, seed=2)
    _, caches = fcfun.forward(SPEC, params, X)
    _, grads = fcfun.loss_and_grad(SPEC, params, X, Y)
    for g, h in zip(fcfun.backward(SPEC, params, caches, Y), grads, strict=True):
        np.testing.assert_array_equal(g.W, h.W)
        np.testing.assert_array_equal(g.b, h.b)


def test_layer_functions_compose_to_the_network() -> None:
    X, Y = batch()
    params = fcfun.init(SPEC, seed=2)
    A = X
    caches = []
    for layer, act in zip(params, SPEC.activations, strict=True):
        A, cache = fcfun.dense_forward(layer, act, A)
        caches.append(cache)
    output, _ = fcfun.forward(SPEC, params, X)
    np.testing.assert_array_equal(A, output)
    # Through the unfused softmax backward, from dL/dA of the logits-free CE on probabilities.
    one_hot = np.eye(3)[Y]
    dA = -(one_hot / A) / len(Y)
    grads = []
    for layer, act, cache in reversed(list(zip(params, SPEC.activations, caches, strict=True))):
        dA, grad = fcfun.dense_backward(layer, act, cache, dA)
        grads.append(grad)
    _, expected = fcfun.loss_and_grad(SPEC, params, X, Y)
    # Two implementations of one backward pass. The unfused start, s (-y / (s m) + 1 / m),
    # rounds 4 times in terms of size 1 / m: within the output's own rounding (>= 2
    # ACTIVATION_ULPS eps / m on A = s), which gradient_error already carries.
    bounds = gradient_error(SPEC, params, X, one_hot)
    for g, e, (bound_W, bound_b) in zip(reversed(grads), expected, bounds, strict=True):
        assert_within(g.W, e.W, bound_W)
        assert_within(g.b, e.b, bound_b)
    Z, linear_cache = fcfun.linear_forward(params[0], X)
    dX, grad = fcfun.linear_backward(params[0], linear_cache, np.ones_like(Z))
    ones = np.ones_like(Z)
    assert_within(dX, ones @ params[0].W.T, 2 * matmul_error(ones, params[0].W.T))
    np.testing.assert_array_equal(grad.b, np.full(7, len(X)))  # sums of ones: exact


# Immutability ---------------------------------------------------------------------


def snapshot(tree: object) -> list[tuple[str, bytes]]:
    """Every array's dtype, shape and bytes, depth first."""
    if isinstance(tree, np.ndarray):
        return [(f"{tree.dtype}{tree.shape}", tree.tobytes())]
    if isinstance(tree, tuple):
        return [item for child in tree for item in snapshot(child)]
    return [(repr(tree), b"")]


def writeable_arrays(tree: object) -> list[fcfun.FloatArray]:
    if isinstance(tree, np.ndarray):
        return [tree] if tree.flags.writeable else []
    if isinstance(tree, tuple):
        return [a for child in tree for a in writeable_arrays(child)]
    return []


def public_calls() -> list[tuple[str, Callable[..., Any], tuple[Any, ...]]]:
    X, Y = batch()
    params = fcfun.init(SPEC, seed=3)
    _, caches = fcfun.forward(SPEC, params, X)
    layer = params[0]
    return [
        ("forward", fcfun.forward, (SPEC, params, X)),
        ("predict", fcfun.predict, (SPEC, params, X)),
        ("backward", fcfun.backward, (SPEC, params, caches, Y)),
        ("loss_and_grad", fcfun.loss_and_grad, (SPEC, params, X, Y)),
        ("gradcheck", fcfun.gradcheck, (SPEC, params, X[:2], Y[:2])),
        ("linear_forward", fcfun.linear_forward, (layer, X)),
        ("dense_forward", fcfun.dense_forward, (layer, fcfun.tanh, X)),
        ("dense_backward", fcfun.dense_backward, (layer, fcfun.tanh, caches[0], X @ layer.W)),
        ("init", fcfun.init, (SPEC, 3)),
    ]


@pytest.mark.parametrize("call", public_calls(), ids=lambda c: c[0])
def test_public_calls_leave_arguments_unchanged_and_return_read_only(
    call: tuple[str, Callable[..., Any], tuple[Any, ...]],
) -> None:
    _, function, args = call
    # Hand the call writeable copies, as a user would, and compare byte for byte after.
    args = tuple(np.array(a) if isinstance(a, np.ndarray) else a for a in args)
    before = snapshot(args)
    result = function(*args)
    assert snapshot(args) == before
    assert writeable_arrays(result) == []
    assert all(a.flags.writeable for a in args if isinstance(a, np.ndarray))


def test_params_cannot_be_written() -> None:
    params = fcfun.init(SPEC, seed=0)
    with pytest.raises(ValueError, match="read-only"):
        params[0].W[0, 0] = 1.0
    W = params[0].W
    with pytest.raises(ValueError, match="read-only"):
        W += 1
    _, grads = fcfun.loss_and_grad(SPEC, params, *batch())
    with pytest.raises(ValueError, match="read-only"):
        grads[0].b[0] = 1.0


HEADS = [
    ("sigmoid", "binary_cross_entropy"),
    ("identity", "binary_cross_entropy_with_logits"),
    ("softmax", "softmax_cross_entropy"),
    ("identity", "softmax_cross_entropy"),
    ("identity", "mean_squared_error"),
    ("softplus", "half_squared_error"),
]


@pytest.mark.parametrize("head", HEADS, ids=lambda h: "+".join(h))
@pytest.mark.parametrize("hidden", ["sigmoid", "relu", "tanh", "softplus", "leaky_relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_but_finite_inputs_give_finite_results_without_warnings(
    head: tuple[str, str], hidden: str, dtype: Any
) -> None:
    """Inputs of 1e6 drive logits to about ±1e4 and beyond and outputs to exactly 0 and 1;
    the suite turns any numpy warning into an error."""
    output, loss = head
    spec = fcfun.mlp([3, 4, 2], hidden=hidden, output=output, loss=loss)  # type: ignore[arg-type]
    params = fcfun.init(spec, seed=0, dtype=dtype)
    X = np.array([[1e6, -1e6, 1e6], [-1e6, 1e6, -1e6], [1e4, 0.0, -1e4]])
    Y = np.array([0, 1, 1]) if loss == "softmax_cross_entropy" else np.array([[0.0, 1.0]] * 3)
    A, _ = fcfun.forward(spec, params, X)
    value, grads = fcfun.loss_and_grad(spec, params, X, Y, alpha=0.1)
    assert np.isfinite(A).all()
    assert np.isfinite(value)
    assert all(np.isfinite(g.W).all() and np.isfinite(g.b).all() for g in grads)
    assert all(g.W.dtype == dtype for g in grads)


def test_summary_counts_parameters_and_bytes_and_reports_norms() -> None:
    spec = fcfun.mlp([5, 7, 2], hidden="tanh", output="sigmoid", loss="binary_cross_entropy")
    params = fcfun.init(spec, seed=1, dtype=np.float32)
    text = fcfun.summary(spec, params)
    lines = text.splitlines()
    assert lines[0] == ("MLP 5-7-2, loss binary_cross_entropy (fused with the sigmoid output)")
    assert lines[1].split()[:5] == ["layer", "shape", "activation", "parameters", "bytes"]
    counts = [5 * 7 + 7, 7 * 2 + 2]
    for line, count, layer in zip(lines[2:4], counts, params, strict=True):
        cells = line.split()
        assert cells[-4:-2] == [f"{count:,}", f"{count * 4:,}"]
        # printed to 4 significant digits: within half a unit of the 4th, 5e-4 relative
        assert float(cells[-2]) == pytest.approx(float(np.linalg.norm(layer.W)), rel=5e-4)
        assert float(cells[-1]) == 0.0
    assert lines[4].split() == ["total", f"{sum(counts):,}", f"{sum(counts) * 4:,}"]
    plain = fcfun.summary(spec._replace(loss=fcfun.mean_squared_error))
    assert "on the sigmoid output" in plain.splitlines()[0]
    assert "bytes (float64)" in plain
