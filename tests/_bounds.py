"""Tolerances derived from error bounds, for a dtype and an operation, never measured.

Two computations of the same value (fcfun and a reference, two dtypes, two summation
orders, another BLAS kernel or SIMD path) each carry rounding errors; a test's tolerance is
a bound on their difference, so that it holds on any CPU. The bounds are the standard ones
(N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.), with ``u`` the
unit roundoff (half the dtype's ``eps``):

* ``k`` roundings in sequence (a product, a quotient, a correctly rounded function of ``k``
  operations, no cancellation): relative error ``gamma_k = k u / (1 - k u)`` (Lemma 3.1).
* A dot product of length ``n``, in any order, FMA or not: ``|fl(a . b) - a . b| <=
  gamma_n |a| . |b|`` (eq. 3.5); a matrix product elementwise the same with ``|A| |B|``.
* A differentiable function of a perturbed input: ``|f(z + d) - f(z)| <= |J| |d|`` with
  the Jacobian's magnitude taken at the worst end of the segment (first order; the
  perturbations here are a few ulps, so the second order is below them).
* A network: the per-layer bounds chained, each layer's input error carried through its
  weights (``|dA| |W|``) and its activation's Jacobian.

A difference of two such computations is bounded by the sum of their two bounds.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

import fcfun

Array = np.ndarray[Any, Any]

# A library elementwise function (exp, log, tanh, log1p, ...) is within 4 ulps of the exact
# value: numpy's SIMD float32 paths document at most 3.83 ulps (log; exp 2.52), glibc's
# double ones at most 1-2, onnxruntime's MLAS the same order. fcfun's stable formulas
# compose up to 4 such operations (sigmoid: exp, add, divide, select), hence 16 ulps for one
# implementation of an activation.
ACTIVATION_ULPS = 16


def eps(dtype: Any) -> float:
    """The dtype's machine epsilon (the gap from 1 to the next float)."""
    return float(np.finfo(dtype).eps)


def unit_roundoff(dtype: Any) -> float:
    """``u``: the largest relative error of one correctly rounded operation (eps / 2)."""
    return eps(dtype) / 2


def gamma(n: int, dtype: Any) -> float:
    """``gamma_n = n u / (1 - n u)``: the relative error bound of ``n`` roundings in sequence."""
    nu = n * unit_roundoff(dtype)
    assert nu < 1, f"gamma_{n} is unbounded in {np.dtype(dtype)}"
    return nu / (1 - nu)


def both(n: int, dtype: Any) -> float:
    """The relative difference of two computations of ``n`` roundings each (no cancellation):
    ``2 gamma_n``."""
    return 2 * gamma(n, dtype)


def matmul_error(A: Array, B: Array) -> Array:
    """Elementwise bound on the rounding error of ``A @ B`` (any order): ``gamma_n |A| |B|``."""
    return gamma(A.shape[-1], np.result_type(A, B)) * (np.abs(A) @ np.abs(B))


def steps(count: int, per_step: float) -> float:
    """The relative difference after ``count`` steps of an iteration that does not amplify
    a difference (gradient descent with a rate below ``2 / L`` on a smooth loss, a schedule's
    recurrence): the per-step differences add up, ``count * per_step``."""
    return count * per_step


def central_difference_error(
    h: float, rounding: Array | float, third: Array | float, slope: Array | float, z: Any
) -> Array:
    """Bound on ``|(f(z + h) - f(z - h)) / (2 h) - f'(z)|`` in float64, for an ``f``
    computed within ``rounding`` (absolute): the truncation ``h^2 / 6 max|f'''|`` (``third``),
    the two values' rounding over ``2 h`` (``rounding / h``), and the rounding of the steps
    ``z +- h`` themselves (a relative error ``u (|z| + h) / h`` of ``2 h``, on ``|f'| <=
    slope``)."""
    u = unit_roundoff(np.float64)
    truncation = h**2 / 6 * np.asarray(third)
    steps = u * (np.abs(z) + h) / h * np.asarray(slope)
    return np.asarray(truncation + np.asarray(rounding) / h + steps)


def _jacobian(activation: fcfun.Activation, Z: Array) -> Array:
    """``J`` per row: ``(m, n, n)`` with ``J[i, k, j] = dA_k / dZ_j`` at row ``i``, from the
    activation's own vector-Jacobian product (its ``backward``), for any activation."""
    A = activation.forward(Z)
    n = Z.shape[-1]
    rows = [activation.backward(np.broadcast_to(e, Z.shape).copy(), Z, A) for e in np.eye(n)]
    return np.stack(rows, axis=1)


def _jacobian_ends(activation: fcfun.Activation, Z: Array, dZ: Array) -> tuple[Array, Array]:
    """``(|J|, |dJ|)``: the Jacobian's largest magnitude over ``Z - dZ``, ``Z`` and ``Z + dZ``
    (a kink such as relu's, or a permutation such as sort's that changes inside the segment,
    is covered by the end where it is largest), and its largest change from ``J(Z)`` there."""
    top = np.inf if activation.max_input is None else activation.max_input(Z.dtype)
    with np.errstate(all="ignore"):
        ends = (Z - dZ, np.minimum(Z + dZ, np.asarray(top, Z.dtype)))
        at_Z = _jacobian(activation, Z)
        others = [_jacobian(activation, end.astype(Z.dtype)) for end in ends]
    J = np.maximum.reduce([np.abs(at_Z), *(np.abs(other) for other in others)])
    dJ = np.maximum.reduce([np.abs(other - at_Z) for other in others])
    return J, dJ


def activation_error(activation: fcfun.Activation, Z: Array, dZ: Array) -> Array:
    """Elementwise bound on ``|g(Z') - g(Z)|`` for any ``|Z' - Z| <= dZ``: ``|J| dZ``."""
    J, _ = _jacobian_ends(activation, Z, dZ)
    bound: Array = np.einsum("ikj,ij->ik", J, dZ)
    return bound


class Forward(NamedTuple):
    """A forward pass with its error bounds: per layer the input ``A`` and ``dA``, the
    pre-activation ``Z`` and ``dZ``; and the output and its bound."""

    inputs: list[tuple[Array, Array]]
    pre_activations: list[tuple[Array, Array]]
    output: Array
    error: Array


def forward_pass(
    spec: fcfun.MLP,
    params: fcfun.Params,
    X: Array,
    dX: Array | float = 0.0,
    masks: tuple[Array | None, ...] = (),
) -> Forward:
    """The bounds of ``forward_error``, layer by layer; a hidden layer's dropout mask (in
    ``masks``) scales its output, and its bound, with one more rounding."""
    dtype = params[0].W.dtype
    tiny = float(np.finfo(dtype).tiny)
    A = np.asarray(X, dtype)
    dA = np.broadcast_to(np.asarray(dX, dtype), A.shape)
    inputs, pre_activations = [], []
    for layer, activation in zip(params, spec.activations, strict=True):
        W, b = layer
        inputs.append((A, dA))
        Z = A @ W + b
        sums = 2 * gamma(W.shape[0] + 1, dtype) * (np.abs(A) @ np.abs(W) + np.abs(b))
        dZ = sums + dA @ np.abs(W)
        pre_activations.append((Z, dZ))
        A = activation.forward(Z)
        rounding = 2 * ACTIVATION_ULPS * eps(dtype) * np.abs(A)
        dA = activation_error(activation, Z, dZ) + rounding + 2 * tiny
        mask = masks[len(inputs) - 1] if len(inputs) <= len(masks) else None
        if mask is not None:
            A = A * mask
            dA = dA * np.abs(mask) + both(1, dtype) * np.abs(A)
    return Forward(inputs, pre_activations, A, dA)


def forward_error(
    spec: fcfun.MLP, params: fcfun.Params, X: Array, dX: Array | float = 0.0
) -> Array:
    """Elementwise bound on the difference of two implementations of ``predict(spec, params,
    X)`` in the params' dtype: each sums a layer's products in its own order (``gamma_{n+1}
    (|A| |W| + |b|)`` each) and evaluates activations within ``ACTIVATION_ULPS`` ulps, plus
    the smallest normal number where a result underflows (one of them may flush it to
    zero). The errors are chained through the layers (``|dA| |W|`` and ``|J|``), from an
    input known to within ``dX`` (0: both read the same ``X``)."""
    return forward_pass(spec, params, X, dX).error


def gradient_error(
    spec: fcfun.MLP,
    params: fcfun.Params,
    X: Array,
    Y: Array,
    masks: tuple[Array | None, ...] = (),
    *,
    alpha: float = 0.0,
    sample_weight: Array | None = None,
) -> list[tuple[Array, Array]]:
    """Elementwise bounds on the difference of two implementations of ``loss_and_grad``'s
    ``dW``, one per layer, for a loss fused with its output (``dZ = (A - Y) / m`` at the
    output: softmax with cross-entropy, sigmoid with binary cross-entropy, identity with
    half squared error; ``Y`` one-hot or values), with dropout ``masks``, the L2 penalty
    ``alpha / (2 S) sum ||W||^2`` and sample weights (``S``: their sum, or ``m``) if given:
    ``(dW, db)`` per layer. At the output ``G = s_i (A - Y) / S``, within its inputs' and
    3 roundings plus ``S``'s own (``gamma_m``). Backward from
    ``forward_pass``'s bounds: ``dW = A^T G`` within ``2 gamma_m |A|^T |G| + dA^T |G| +
    |A|^T dG``; ``G W^T`` within ``2 gamma_n |G| |W|^T + dG |W|^T``; through a hidden
    activation ``|J| e + |dJ| |G W^T|`` and its ulps."""
    dtype = params[0].W.dtype
    run = forward_pass(spec, params, X, masks=masks)
    m = X.shape[0]
    weight = np.ones(m, dtype) if sample_weight is None else np.asarray(sample_weight, dtype)
    total = float(weight.sum())
    residual = run.output - Y
    G = weight[:, None] * residual / total
    dG = weight[:, None] * (run.error + both(3, dtype) * np.abs(residual)) / total
    dG = dG + 2 * gamma(m, dtype) * np.abs(G)
    bounds: list[tuple[Array, Array]] = []
    for index in reversed(range(len(params))):
        A, dA = run.inputs[index]
        sums = 2 * gamma(m, dtype) * (np.abs(A).T @ np.abs(G))
        db = 2 * gamma(m, dtype) * np.abs(G).sum(axis=0) + dG.sum(axis=0)
        W = params[index].W
        penalty = both(2, dtype) * alpha / total * np.abs(W)  # its own two roundings
        bounds.insert(0, (sums + dA.T @ np.abs(G) + np.abs(A).T @ dG + penalty, db))
        if index == 0:
            break
        back = G @ W.T
        e_back = 2 * gamma(W.shape[1], dtype) * (np.abs(G) @ np.abs(W).T) + dG @ np.abs(W).T
        mask = masks[index - 1] if index - 1 < len(masks) else None
        if mask is not None:
            back = back * mask
            e_back = e_back * np.abs(mask) + both(1, dtype) * np.abs(back)
        Z, dZ = run.pre_activations[index - 1]
        activation = spec.activations[index - 1]
        J, dJ = _jacobian_ends(activation, Z, dZ)
        G = activation.backward(back, Z, activation.forward(Z))
        through = np.einsum("ikj,ik->ij", J, e_back) + np.einsum("ikj,ik->ij", dJ, np.abs(back))
        dG = through + 2 * ACTIVATION_ULPS * eps(dtype) * np.abs(G)
    return bounds


def assert_within(actual: Array, expected: Array, bound: Array | float) -> None:
    """``|actual - expected| <= bound`` elementwise, with the worst excess in the message."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    excess = difference - np.asarray(bound, np.float64)
    where = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.ndim else ()
    worst = tuple(int(i) for i in where)
    limit = float(np.broadcast_to(bound, difference.shape)[worst])
    assert np.all(excess <= 0), (
        f"|actual - expected| exceeds its bound at {worst}: difference "
        f"{float(difference[worst])!r}, bound {limit!r}"
    )


def gradcheck_tolerance(h: float = 1e-5, growth: float = 4000.0) -> float:
    """The most ``fcfun.gradcheck`` (step ``h``) may report for a right gradient.

    gradcheck subtracts its differences' rounding noise, which leaves the truncation of
    fourth-order central differences, ``h^4 / 30 |f^(5)|`` relative to ``|f'|``. With each
    derivative at most ``growth`` times the one before, that is ``h^4 growth^4 / 30``. The
    steepest losses here are cross-entropies on probabilities (binary cross-entropy on a
    softmax output), whose k-th derivative in the logits grows like ``k / a`` per order for
    a probability ``a``: 4000 covers probabilities down to 1e-3 with inputs and weights of a
    few units (8.5e-8); a network on logits alone (tanh, softmax cross-entropy), whose
    derivatives grow like k, takes 1000 (3.3e-10). A gradient wrong by 1e-6 relative
    reports about 5e-7.
    """
    return h**4 * growth**4 / 30


def roundings(spec: fcfun.MLP, m: int) -> int:
    """The longest chain of roundings in a loss or gradient of ``spec`` on ``m`` rows: the
    sum over rows (``m``), each layer's sum over its fan-in (forward and back), each
    activation and its derivative (``2 ACTIVATION_ULPS``), and the loss's few (16)."""
    return m + 2 * sum(spec.sizes) + 2 * spec.n_layers * ACTIVATION_ULPS + 16


def network_rtol(spec: fcfun.MLP, m: int, dtype: Any = np.float64) -> float:
    """Two implementations of a loss or gradient of ``spec`` on ``m`` rows: ``2 gamma_K``,
    ``K = roundings(spec, m)``, relative to the magnitudes summed. For a loss (a sum of
    non-negative terms) that is relative to the value; for a gradient, whose sums cancel,
    compare against ``network_rtol * the array's largest entry`` as well (an entry that
    cancels keeps the absolute error of the magnitudes it sums, which are of that size on
    these well-scaled networks: weights and inputs of order 1)."""
    return both(roundings(spec, m), dtype)


def assert_network_close(actual: Array, expected: Array, rtol: float) -> None:
    """``|actual - expected| <= rtol (|expected| + max |expected|)``: relative, and absolute
    at the array's scale for the entries whose sums cancel (see ``network_rtol``)."""
    expected = np.asarray(expected)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    assert_within(actual, expected, rtol * (np.abs(expected) + scale))
