"""Check analytical gradients against central finite differences."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fcfun._blas import fixed_threads
from fcfun._dropout import Masks
from fcfun._losses import SampleWeight, weighted
from fcfun._network import (
    check_masks,
    checked_arguments,
    output_and_value,
    training_activations,
    value_and_grad,
)
from fcfun._spec import MLP, check_sample_weight, scaled_alpha, scaled_weight
from fcfun._types import Dense, FloatArray, Params
from fcfun._validation import check_real


def _loss(
    spec: MLP,
    params: Params,
    X: FloatArray,
    Y: FloatArray,
    alpha: float,
    masks: Masks,
    weight: SampleWeight | None,
) -> float:
    return output_and_value(spec, params, X, Y, alpha, masks, weight)[1]


def _with_entry(params: Params, layer: int, field: int, index: int, value: float) -> Params:
    """``params`` with one entry of one array replaced (a copy of that array only)."""
    array = params[layer][field].copy()
    array.flat[index] = value
    replaced = params[layer]._replace(**{Dense._fields[field]: array})
    return (*params[:layer], replaced, *params[layer + 1 :])


def numerical_grad(
    spec: MLP,
    params: Params,
    X: FloatArray,
    Y: FloatArray,
    alpha: float,
    eps: float,
    masks: Masks = (),
    weight: SampleWeight | None = None,
) -> Params:
    """Fourth-order central differences of the loss in every parameter.

    ``f'(x) ~ (f(x - 2h) - 8 f(x - h) + 8 f(x + h) - f(x + 2h)) / (12 h)``, error ``O(h^4)``.
    """
    grads = []
    for index, layer in enumerate(params):
        fields = []
        for field, array in enumerate(layer):
            grad = np.empty(array.shape, dtype=np.float64)
            for i, entry in enumerate(array.flat):
                x = float(entry)
                values = [
                    _loss(
                        spec,
                        _with_entry(params, index, field, i, x + k * eps),
                        X,
                        Y,
                        alpha,
                        masks,
                        weight,
                    )
                    for k in (-2, -1, 1, 2)
                ]
                grad.flat[i] = (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * eps)
            fields.append(grad)
        grads.append(Dense(*fields))
    return tuple(grads)


def gradcheck(
    spec: MLP,
    params: Params,
    X: FloatArray,
    Y: Any,
    *,
    alpha: float = 0.0,
    eps: float = 1e-5,
    masks: Masks | None = None,
    sample_weight: Any = None,
) -> float:
    """Worst relative error between ``loss_and_grad`` and central finite differences.

    For every parameter array, with ``a`` the analytical and ``n`` the numerical gradient
    (fourth-order central differences with step ``eps``):

        max(||a - n|| - noise, 0) / (||a|| + ||n||)

    where ``noise = 16 * machine_eps * (|loss| + 1) / eps * sqrt(a.size)`` bounds the
    rounding error of the differences: only disagreement beyond what the differences can
    resolve counts, so ``0.0`` means agreement to within that resolution, and an
    exactly-zero gradient (a dead relu layer) against differences of rounding noise is
    agreement, not error 1. The maximum over arrays is returned. float32 params are
    checked in float64 (the same code in the other dtype): float32 differences are too
    coarse to check anything. A kink (relu at 0) within ``2 * eps`` of a pre-activation
    makes any finite-difference check meaningless. A network with dropout is checked
    with its masks fixed: pass a step's ``masks`` (``dropout_masks``); without them it is
    checked as ``forward`` computes it, with no dropout. ``sample_weight`` checks the
    gradient of the weighted loss.

    >>> import fcfun, numpy as np
    >>> spec = fcfun.mlp([3, 4, 2], hidden=fcfun.tanh, output=fcfun.softmax,
    ...                  loss=fcfun.softmax_cross_entropy)
    >>> X = np.random.default_rng(0).standard_normal((5, 3))
    >>> fcfun.gradcheck(spec, fcfun.init(spec, seed=0), X, np.array([0, 1, 1, 0, 1])) < 1e-8
    True
    """
    alpha = check_real(alpha, "alpha", low=0.0)
    eps = check_real(eps, "eps", low=0.0, low_open=True)
    spec, params, X_checked, Y_checked = checked_arguments(spec, params, X, Y)
    params = tuple(
        Dense(layer.W.astype(np.float64), layer.b.astype(np.float64)) for layer in params
    )
    fixed = tuple(
        None if mask is None else mask.astype(np.float64)
        for mask in check_masks(spec, masks, X_checked.shape[0], X_checked.dtype)
    )
    checked_weight = check_sample_weight(
        spec, sample_weight, X_checked.shape[0], np.dtype(np.float64)
    )
    weight = None
    if checked_weight is not None:
        checked_weight, exponent = scaled_weight(checked_weight)
        alpha = scaled_alpha(alpha, exponent)
        weight = weighted(checked_weight)
    X_checked, Y_checked = X_checked.astype(np.float64), Y_checked.astype(np.float64)
    activations = training_activations(spec)
    with fixed_threads():
        loss, analytical = value_and_grad(
            spec, activations, params, X_checked, Y_checked, alpha, fixed, weight
        )
        numerical = numerical_grad(spec, params, X_checked, Y_checked, alpha, eps, fixed, weight)
    unit_noise = 16 * float(np.finfo(np.float64).eps) * (abs(loss) + 1) / eps
    worst = 0.0
    for a_layer, n_layer in zip(analytical, numerical, strict=True):
        for a, n in zip(a_layer, n_layer, strict=True):
            noise = unit_noise * math.sqrt(a.size)
            excess = max(float(np.linalg.norm(a - n)) - noise, 0.0)
            if excess > 0:
                worst = max(worst, excess / float(np.linalg.norm(a) + np.linalg.norm(n)))
    return worst
