"""Losses as values, each the mean over the batch of a per-sample loss.

A ``Loss`` knows its value and gradient with respect to the network output ``A``, and the
output activation it pairs with (its *link*). When a network's output activation is the
loss's link, fcfun computes the loss from the pre-activation ``Z`` (stable for any
finite logits) and uses the fused gradient ``dZ = (A - Y) / m``, never forming
``dL/dA``. The canonical pairs are sigmoid + ``binary_cross_entropy`` and softmax +
``softmax_cross_entropy``; identity + ``half_squared_error`` has the same fused form.

Conventions (``m`` samples, ``k`` outputs):

* cross-entropies sum over outputs and average over samples (scikit-learn's
  ``log_loss`` / ``binary_log_loss``), which is what makes ``(A - Y) / m`` their gradient;
* ``mean_squared_error`` averages over all ``m * k`` elements, as PyTorch's ``MSELoss``;
  its gradient is ``2 (A - Y) / (m k)``;
* ``half_squared_error`` is ``sum((A - Y)**2) / (2 m)``, gradient ``(A - Y) / m``; for one
  output it is scikit-learn's ``squared_error`` loss of ``MLPRegressor``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NamedTuple, TypeAlias

import numpy as np

from fcfun._activations import (
    Activation,
    identity,
    sigmoid,
    sigmoid_function,
    softmax,
    softmax_function,
)
from fcfun._types import FloatArray

LossName: TypeAlias = Literal[
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "softmax_cross_entropy",
    "mean_squared_error",
    "half_squared_error",
]


class Loss(NamedTuple):
    """A loss function of the network output ``A`` and targets ``Y`` (same shape).

    Attributes:
        name: how the loss is written in a saved spec.
        value: ``(A, Y) -> float``, the mean loss.
        grad: ``(A, Y) -> dA``, its gradient with respect to ``A`` (includes the ``1/m``).
        link: the output activation that fuses with this loss, or ``None``.
        link_value: ``(Z, Y) -> float``, the same loss written in the link's
            pre-activation ``Z``, for when the output activation is the link.
    """

    name: str
    value: Callable[[FloatArray, FloatArray], float]
    grad: Callable[[FloatArray, FloatArray], FloatArray]
    link: Activation | None
    link_value: Callable[[FloatArray, FloatArray], float]

    def __reduce__(self) -> tuple[Any, ...]:
        """fcfun's own losses pickle and copy as themselves, by name (see Activation)."""
        builtin = _BY_NAME.get(self.name)
        if builtin == self:
            return (parse_loss, (self.name,))
        return (Loss, tuple(self))


def _log1p_exp_neg_abs(Z: FloatArray) -> FloatArray:
    """``log(1 + exp(-|z|))``, finite for every finite ``z``."""
    return np.log1p(np.exp(-np.abs(Z)))


# Binary cross-entropy ---------------------------------------------------------------


def _bce_value(A: FloatArray, Y: FloatArray) -> float:
    eps = float(np.finfo(A.dtype).eps)
    P = np.clip(A, eps, 1.0 - eps)
    per_element = Y * np.log(P) + (1.0 - Y) * np.log1p(-P)
    return -float(per_element.sum()) / int(A.shape[0])


def _bce_grad(A: FloatArray, Y: FloatArray) -> FloatArray:
    # d/dp of -[y log p + (1 - y) log(1 - p)] is (p - y) / (p (1 - p)); zero where clipped.
    eps = float(np.finfo(A.dtype).eps)
    inside = (A > eps) & (A < 1.0 - eps)
    P = np.clip(A, eps, 1.0 - eps)
    dA = (P - Y) / (P * (1.0 - P))
    dA *= inside
    dA /= A.shape[0]
    return dA


def _bce_logits_value(Z: FloatArray, Y: FloatArray) -> float:
    # -[y log s(z) + (1 - y) log(1 - s(z))] = max(z, 0) - z y + log(1 + exp(-|z|)).
    per_element = np.maximum(Z, 0.0) - Z * Y + _log1p_exp_neg_abs(Z)
    return float(per_element.sum()) / int(Z.shape[0])


def _bce_logits_grad(Z: FloatArray, Y: FloatArray) -> FloatArray:
    dZ = sigmoid_function(Z)
    dZ -= Y
    dZ /= Z.shape[0]
    return dZ


binary_cross_entropy = Loss(
    "binary_cross_entropy", _bce_value, _bce_grad, sigmoid, _bce_logits_value
)
"""Binary cross-entropy of probabilities ``A`` in [0, 1], clipped to ``[eps, 1 - eps]``.

``L = -sum(Y log A + (1 - Y) log(1 - A)) / m``. Paired with a sigmoid output it is
computed from the logits instead, so saturated outputs give finite losses and gradients.
"""

binary_cross_entropy_with_logits = Loss(
    "binary_cross_entropy_with_logits",
    _bce_logits_value,
    _bce_logits_grad,
    None,
    _bce_logits_value,
)
"""Binary cross-entropy of logits ``A`` (use with an identity output).

``L = sum(max(A, 0) - A Y + log(1 + exp(-|A|))) / m``, ``dA = (sigmoid(A) - Y) / m``.
"""


# Softmax cross-entropy --------------------------------------------------------------


def _as_one_hot(Y: FloatArray, Z: FloatArray) -> FloatArray:
    """Integer class labels ``(m,)`` as one-hot rows like ``Z``; other ``Y`` unchanged."""
    if Y.ndim == 1 and np.issubdtype(Y.dtype, np.integer):
        one_hot = np.zeros_like(Z)
        one_hot[np.arange(Z.shape[0]), Y] = 1.0
        return one_hot
    return Y


def _softmax_ce_of_shifted(S: FloatArray, exp_sums: FloatArray, Y: FloatArray) -> float:
    """The mean loss from ``S = Z - max_row(Z)`` and ``exp_sums = sum_row(exp(S))`` (a column).

    Overwrites ``S`` with ``log softmax(Z) = S - log(exp_sums)``; the loss is
    ``-sum_ij y_ij log softmax(z_i)_j / m``, one dot product.
    """
    S -= np.log(exp_sums)
    return -float(np.vdot(Y, S)) / int(S.shape[0])


def _softmax_ce_value(Z: FloatArray, Y: FloatArray) -> float:
    Y = _as_one_hot(Y, Z)
    S = Z - np.maximum.reduce(Z, axis=1, keepdims=True)
    return _softmax_ce_of_shifted(S, np.add.reduce(np.exp(S), axis=1, keepdims=True), Y)


def softmax_cross_entropy_delta(Z: FloatArray, Y: FloatArray) -> tuple[float, FloatArray]:
    """The loss of a softmax output with logits ``Z`` and ``dZ = (softmax(Z) - Y) / m``.

    Overwrites ``Z`` (the caller must own it and not need it again) with the shifted
    logits, and returns ``dZ`` in a new array. The loss and ``dZ`` are bit-identical to
    ``_softmax_ce_value(Z, Y)`` and ``(softmax_function(Z) - Y) / m``: the same operations
    on the same values. ``ufunc.reduce`` skips the ``ndarray.sum`` wrapper's overhead.
    """
    Z -= np.maximum.reduce(Z, axis=1, keepdims=True)
    dZ = np.exp(Z)
    exp_sums = np.add.reduce(dZ, axis=1, keepdims=True)
    loss = _softmax_ce_of_shifted(Z, exp_sums, Y)
    dZ /= exp_sums
    dZ -= Y
    dZ /= Z.shape[0]
    return loss, dZ


def _softmax_ce_grad(Z: FloatArray, Y: FloatArray) -> FloatArray:
    Y = _as_one_hot(Y, Z)
    dZ = softmax_function(Z)
    dZ *= Y.sum(axis=1, keepdims=True)
    dZ -= Y
    dZ /= Z.shape[0]
    return dZ


softmax_cross_entropy = Loss(
    "softmax_cross_entropy",
    _softmax_ce_value,
    _softmax_ce_grad,
    softmax,
    _softmax_ce_value,
)
"""Cross-entropy of the softmax of logits ``A`` against one-hot rows or integer labels.

``L = sum(logsumexp(A) - sum_j Y_j A_j) / m``, ``dA = (softmax(A) - Y) / m`` (for rows of
``Y`` summing to 1). Paired with a softmax output it reads the logits ``Z``.
"""


# Squared errors ---------------------------------------------------------------------


def _mse_value(A: FloatArray, Y: FloatArray) -> float:
    diff = A - Y
    return float(np.vdot(diff, diff)) / int(diff.size)


def _mse_grad(A: FloatArray, Y: FloatArray) -> FloatArray:
    dA = A - Y
    dA *= 2.0 / dA.size
    return dA


def _half_se_value(A: FloatArray, Y: FloatArray) -> float:
    diff = A - Y
    return float(np.vdot(diff, diff)) / (2 * int(diff.shape[0]))


def _half_se_grad(A: FloatArray, Y: FloatArray) -> FloatArray:
    dA = A - Y
    dA /= dA.shape[0]
    return dA


mean_squared_error = Loss("mean_squared_error", _mse_value, _mse_grad, None, _mse_value)
"""``L = sum((A - Y)**2) / (m k)``, PyTorch's ``MSELoss``; ``dA = 2 (A - Y) / (m k)``."""

half_squared_error = Loss(
    "half_squared_error", _half_se_value, _half_se_grad, identity, _half_se_value
)
"""``L = sum((A - Y)**2) / (2 m)``; with an identity output ``dZ = (A - Y) / m``."""


_BY_NAME: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        binary_cross_entropy,
        binary_cross_entropy_with_logits,
        softmax_cross_entropy,
        mean_squared_error,
        half_squared_error,
    )
}


def loss(name: LossName) -> Loss:
    """Look a loss up by name.

    >>> loss("softmax_cross_entropy") is softmax_cross_entropy
    True
    """
    return parse_loss(name)


def parse_loss(name: str) -> Loss:
    """Look a loss up by the name a saved spec holds."""
    if not isinstance(name, str):
        raise TypeError(f"loss name must be a str, got {type(name).__name__}")
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(_BY_NAME)
        raise ValueError(f"unknown loss {name!r}; expected one of: {known}") from None
