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
  output it is scikit-learn's ``squared_error`` loss of ``MLPRegressor``;
* ``poisson`` is half the Poisson deviance summed over outputs and averaged over samples,
  scikit-learn's ``poisson`` loss of ``MLPRegressor``; its link is ``exp`` (the log link),
  with the same fused gradient ``(A - Y) / m``.

Everything the network and the training loop need from a loss is a field of ``Loss`` that
a user's loss can fill too: its fused kernel (``link_value_and_grad``), how it prepares
targets (``targets``), its default metric and its smallest output width.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal, NamedTuple, TypeAlias, TypeVar

import numpy as np

from fcfun._activations import (
    Activation,
    exp,
    identity,
    sigmoid,
    sigmoid_function,
    softmax,
    softmax_function,
)
from fcfun._metrics import (
    Metric,
    accuracy,
    d2_poisson_score,
    label_accuracy,
    logit_label_accuracy,
    r2_score,
)
from fcfun._types import FloatArray
from fcfun._validation import cast_finite

Targets: TypeAlias = Callable[[np.ndarray[Any, Any], int, np.dtype[Any], str], FloatArray]
"""``(Y, n_out, dtype, name) -> Y``: a loss's target preparation (see ``Loss.targets``)."""

LossName: TypeAlias = Literal[
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "softmax_cross_entropy",
    "mean_squared_error",
    "half_squared_error",
    "mean_absolute_error",
    "poisson",
]


# Targets ----------------------------------------------------------------------------


def column_targets(
    Y: np.ndarray[Any, Any], k: int, dtype: np.dtype[Any], name: str = "Y"
) -> FloatArray:
    """Real targets ``(m, k)`` (or ``(m,)`` for one output, made a column), finite, as ``dtype``."""
    m = Y.shape[0]
    if Y.ndim == 1:
        if k != 1:
            raise ValueError(
                f"{name} must have shape ({m}, {k}) for a network with {k} outputs, "
                f"got shape {Y.shape}"
            )
        Y = Y[:, None]
    if Y.shape[1] != k:
        raise ValueError(f"{name} must have shape ({m}, {k}), got shape {Y.shape}")
    return cast_finite(Y, dtype, name)


def _binary_targets(loss_name: str) -> Targets:
    def targets(Y: np.ndarray[Any, Any], k: int, dtype: np.dtype[Any], name: str) -> FloatArray:
        out = column_targets(Y, k, dtype, name)
        outside = (out < 0) | (out > 1)
        if outside.any():
            raise ValueError(
                f"{name} must hold binary labels in {{0, 1}} (or probabilities in [0, 1]) "
                f"for {loss_name}, got {float(out[outside][0])!r}"
            )
        return out

    return targets


def class_targets(
    Y: np.ndarray[Any, Any], k: int, dtype: np.dtype[Any], name: str = "Y"
) -> FloatArray:
    """Integer labels ``(m,)`` as one-hot rows, or probability rows ``(m, k)``, as ``dtype``."""
    m = Y.shape[0]
    if Y.ndim == 1:
        if Y.dtype.kind not in "iub":
            raise TypeError(
                f"{name} must be integer class labels of shape ({m},) or one-hot rows of "
                f"shape ({m}, {k}), got dtype {Y.dtype} with shape {Y.shape}"
            )
        outside = (Y < 0) | (Y >= k)
        if outside.any():
            raise ValueError(
                f"{name} must hold class indices in 0..{k - 1} for a network with {k} "
                f"outputs, got {int(Y[outside][0])}"
            )
        one_hot = np.zeros((m, k), dtype=dtype)
        one_hot[np.arange(m), Y.astype(np.intp)] = 1
        return one_hot
    if Y.shape[1] != k:
        raise ValueError(
            f"{name} must be one-hot rows of shape ({m}, {k}) or integer labels of "
            f"shape ({m},), got shape {Y.shape}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        out = Y.astype(dtype, copy=False)
    tolerance = 8 * float(np.finfo(dtype).eps) * k
    not_distributions = (
        ~np.isfinite(out).all(axis=1)
        | (out < 0).any(axis=1)
        | (np.abs(out.sum(axis=1) - 1) > tolerance)
    )
    if not_distributions.any():
        row = int(np.flatnonzero(not_distributions)[0])
        raise ValueError(
            f"{name} must be one-hot rows (or probability rows summing to 1) for "
            f"softmax_cross_entropy; row {row} is {Y[row].tolist()!r}"
        )
    return out


class Loss(NamedTuple):
    """A loss function of the network output ``A`` and targets ``Y`` (same shape).

    Attributes:
        name: how the loss is written in a saved spec.
        value: ``(A, Y) -> float``, the mean loss.
        grad: ``(A, Y) -> dA``, its gradient with respect to ``A`` (includes the ``1/m``),
            in a new array (fcfun's passes may write into it).
        link: the output activation that fuses with this loss, or ``None``.
        link_value: ``(Z, Y) -> float``, the same loss written in the link's
            pre-activation ``Z``, for when the output activation is the link.
        link_value_and_grad: optional fused kernel ``(Z, Y) -> (loss, dZ)`` for a link
            output, equal to ``link_value(Z, Y)`` and ``link_delta`` (the default when
            ``None``) in one pass; ``dZ`` in a new array.
        targets: ``(Y, n_out, dtype, name) -> Y``, the checked targets as an
            ``(m, n_out)`` array of ``dtype`` from an ``(m,)`` or ``(m, k)`` real array
            (``ValueError`` naming ``name`` for targets this loss cannot take).
        metric: the default validation metric ``(A, Y) -> float``, higher is better.
        min_outputs: the fewest network outputs the loss works with.
        rows: optional ``(A, Y) -> (m,)``, each sample's loss (``value`` is their mean);
            what weighted training (``sample_weight``) needs.
        link_rows: optional ``(Z, Y) -> (m,)``, the same from a link output's logits.
    """

    name: str
    value: Callable[[FloatArray, FloatArray], float]
    grad: Callable[[FloatArray, FloatArray], FloatArray]
    link: Activation | None
    link_value: Callable[[FloatArray, FloatArray], float]
    link_value_and_grad: Callable[[FloatArray, FloatArray], tuple[float, FloatArray]] | None = None
    targets: Targets = column_targets
    metric: Metric = r2_score
    min_outputs: int = 1
    rows: Callable[[FloatArray, FloatArray], FloatArray] | None = None
    link_rows: Callable[[FloatArray, FloatArray], FloatArray] | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """fcfun's own losses pickle and copy as themselves, by name (see Activation)."""
        if is_builtin_loss(self):
            return (parse_loss, (self.name,))
        return (Loss, tuple(self))


def link_delta(A: FloatArray, Y: FloatArray) -> FloatArray:
    """``dZ = (A - Y) / m``: the output gradient of a loss through its canonical link."""
    dZ = A - Y
    dZ /= Y.shape[0]
    return dZ


def link_value_and_grad(loss: Loss, Z: FloatArray, Y: FloatArray) -> tuple[float, FloatArray]:
    """The loss and ``dZ`` of a link output from its logits ``Z`` (the loss's own kernel
    when it has one)."""
    fused = loss.link_value_and_grad
    if fused is not None:
        return fused(Z, Y)
    assert loss.link is not None
    A = loss.link.forward(Z)
    return loss.link_value(Z, Y), link_delta(A, Y)


def _row_sums(per_element: FloatArray) -> FloatArray:
    """Each row's sum, ``(m,)`` (``ufunc.reduce``: no ``ndarray.sum`` wrapper)."""
    sums: FloatArray = np.add.reduce(per_element, axis=1)
    return sums


def _log1p_exp_neg_abs(Z: FloatArray) -> FloatArray:
    """``log(1 + exp(-|z|))``, finite for every finite ``z``."""
    return np.log1p(np.exp(-np.abs(Z)))


# Binary cross-entropy ---------------------------------------------------------------


def _bce_value(A: FloatArray, Y: FloatArray) -> float:
    eps = float(np.finfo(A.dtype).eps)
    P = np.clip(A, eps, 1.0 - eps)
    per_element = Y * np.log(P) + (1.0 - Y) * np.log1p(-P)
    return -float(per_element.sum()) / int(A.shape[0])


def _bce_rows(A: FloatArray, Y: FloatArray) -> FloatArray:
    eps = float(np.finfo(A.dtype).eps)
    P = np.clip(A, eps, 1.0 - eps)
    per_element = Y * np.log(P) + (1.0 - Y) * np.log1p(-P)
    return -_row_sums(per_element)


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


def _bce_logits_rows(Z: FloatArray, Y: FloatArray) -> FloatArray:
    per_element = np.maximum(Z, 0.0) - Z * Y + _log1p_exp_neg_abs(Z)
    return _row_sums(per_element)


def _bce_logits_grad(Z: FloatArray, Y: FloatArray) -> FloatArray:
    dZ = sigmoid_function(Z)
    dZ -= Y
    dZ /= Z.shape[0]
    return dZ


binary_cross_entropy = Loss(
    "binary_cross_entropy",
    _bce_value,
    _bce_grad,
    sigmoid,
    _bce_logits_value,
    targets=_binary_targets("binary_cross_entropy"),
    metric=label_accuracy,
    rows=_bce_rows,
    link_rows=_bce_logits_rows,
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
    targets=_binary_targets("binary_cross_entropy_with_logits"),
    metric=logit_label_accuracy,
    rows=_bce_logits_rows,
    link_rows=_bce_logits_rows,
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


def _softmax_ce_rows(Z: FloatArray, Y: FloatArray) -> FloatArray:
    Y = _as_one_hot(Y, Z)
    S = Z - np.maximum.reduce(Z, axis=1, keepdims=True)
    S -= np.log(np.add.reduce(np.exp(S), axis=1, keepdims=True))
    S *= Y
    return -_row_sums(S)


def _softmax_ce_value_and_grad(Z: FloatArray, Y: FloatArray) -> tuple[float, FloatArray]:
    """The loss of a softmax output with logits ``Z`` and ``dZ = (softmax(Z) - Y) / m``.

    Bit-identical to ``_softmax_ce_value(Z, Y)`` and ``(softmax_function(Z) - Y) / m``
    (the same operations on the same values) in one pass over ``Z``; ``Y`` is one-hot
    rows. ``ufunc.reduce`` skips the ``ndarray.sum`` wrapper's overhead.
    """
    S = Z - np.maximum.reduce(Z, axis=1, keepdims=True)
    dZ = np.exp(S)
    exp_sums = np.add.reduce(dZ, axis=1, keepdims=True)
    loss = _softmax_ce_of_shifted(S, exp_sums, Y)
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
    link_value_and_grad=_softmax_ce_value_and_grad,
    targets=class_targets,
    metric=accuracy,
    min_outputs=2,
    rows=_softmax_ce_rows,
    link_rows=_softmax_ce_rows,
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


def _mse_rows(A: FloatArray, Y: FloatArray) -> FloatArray:
    diff = A - Y
    diff *= diff
    sums = _row_sums(diff)
    sums /= diff.shape[1]
    return sums


def _half_se_rows(A: FloatArray, Y: FloatArray) -> FloatArray:
    diff = A - Y
    diff *= diff
    return 0.5 * _row_sums(diff)


mean_squared_error = Loss(
    "mean_squared_error", _mse_value, _mse_grad, None, _mse_value, rows=_mse_rows
)
"""``L = sum((A - Y)**2) / (m k)``, PyTorch's ``MSELoss``; ``dA = 2 (A - Y) / (m k)``."""

half_squared_error = Loss(
    "half_squared_error",
    _half_se_value,
    _half_se_grad,
    identity,
    _half_se_value,
    rows=_half_se_rows,
    link_rows=_half_se_rows,
)
"""``L = sum((A - Y)**2) / (2 m)``; with an identity output ``dZ = (A - Y) / m``."""


# Poisson deviance -------------------------------------------------------------------


def _poisson_targets(
    Y: np.ndarray[Any, Any], k: int, dtype: np.dtype[Any], name: str
) -> FloatArray:
    out = column_targets(Y, k, dtype, name)
    negative = out < 0
    if negative.any():
        raise ValueError(
            f"{name} must be non-negative (counts or rates) for poisson, "
            f"got {float(out[negative][0])!r}"
        )
    return out


def _poisson_constant(Y: FloatArray) -> FloatArray:
    """``y log(y) - y`` (``0 log 0 = 0``): the terms that make the loss 0 at ``A = Y``."""
    return Y * np.log(np.where(Y > 0, Y, 1.0)) - Y


def _poisson_elements(A: FloatArray, Y: FloatArray) -> FloatArray:
    # A - y log A + y log y - y, with A clipped to the smallest normal number (as the
    # cross-entropy clips its probabilities): finite for every A, its gradient 0 below.
    P = np.maximum(A, np.finfo(A.dtype).tiny)
    per_element = P - Y * np.log(P)
    per_element += _poisson_constant(Y)
    return per_element


def _poisson_value(A: FloatArray, Y: FloatArray) -> float:
    return float(np.add.reduce(_poisson_elements(A, Y), axis=None)) / int(A.shape[0])


def _poisson_rows(A: FloatArray, Y: FloatArray) -> FloatArray:
    return _row_sums(_poisson_elements(A, Y))


def _poisson_link_elements(Z: FloatArray, Y: FloatArray, exp_Z: FloatArray) -> FloatArray:
    per_element = exp_Z - Y * Z
    per_element += _poisson_constant(Y)
    return per_element


def _poisson_link_rows(Z: FloatArray, Y: FloatArray) -> FloatArray:
    return _row_sums(_poisson_link_elements(Z, Y, np.exp(Z)))


def _poisson_grad(A: FloatArray, Y: FloatArray) -> FloatArray:
    # 1 - Y / A where A > tiny, 0 where the loss clips A (never Y / tiny: it overflows)
    tiny = np.finfo(A.dtype).tiny
    inside = A > tiny
    dA = np.divide(Y, A, out=np.zeros_like(A), where=inside)
    np.subtract(1.0, dA, out=dA, where=inside)
    dA /= A.shape[0]
    return dA


def _poisson_link_value(Z: FloatArray, Y: FloatArray) -> float:
    return _poisson_link_value_and_grad(Z, Y)[0]


def _poisson_link_value_and_grad(Z: FloatArray, Y: FloatArray) -> tuple[float, FloatArray]:
    """The loss of an ``exp`` output with logits ``Z`` and ``dZ = (exp(Z) - Y) / m``.

    ``exp(z) - y z + y log y - y`` needs no ``log`` of the output, so an output that
    underflows to 0 still has a finite loss; ``exp`` overflows only where the output
    itself does (``z > exp.max_input``), which training reports as divergence.
    """
    dZ = np.exp(Z)
    per_element = _poisson_link_elements(Z, Y, dZ)
    loss = float(np.add.reduce(per_element, axis=None)) / int(Z.shape[0])
    dZ -= Y
    dZ /= Z.shape[0]
    return loss, dZ


poisson = Loss(
    "poisson",
    _poisson_value,
    _poisson_grad,
    exp,
    _poisson_link_value,
    link_value_and_grad=_poisson_link_value_and_grad,
    targets=_poisson_targets,
    metric=d2_poisson_score,
    rows=_poisson_rows,
    link_rows=_poisson_link_rows,
)
"""Half the Poisson deviance of a rate ``A > 0`` against counts or rates ``Y >= 0``.

``L = sum(Y log(Y / A) - Y + A) / m`` (``0 log 0 = 0``): summed over outputs, averaged
over samples, and with the constant terms ``Y log Y - Y`` that make it 0 at ``A = Y``,
so its value is scikit-learn's ``MLPRegressor(loss="poisson")`` loss (``loss_curve_``);
the gradient does not depend on them. Its link is ``exp`` (the log link): with an
``exp`` output it reads the logits, ``L = sum(exp(Z) - Y Z + Y log Y - Y) / m`` and
``dZ = (exp(Z) - Y) / m``. Other outputs use ``dA = (1 - Y / A) / m``, ``A`` clipped to
the smallest normal number. Negative targets raise ``ValueError``; the default metric is
``d2_poisson_score``.

>>> import numpy as np
>>> Z, Y = np.log(np.array([[2.0], [1.0]])), np.array([[2.0], [0.0]])
>>> round(poisson.link_value(Z, Y), 12)  # (0 + (0 - 0 + 1)) / 2
0.5
"""


# Robust and quantile losses ---------------------------------------------------------


def _mae_value(A: FloatArray, Y: FloatArray) -> float:
    return float(np.abs(A - Y).sum()) / int(A.size)


def _mae_grad(A: FloatArray, Y: FloatArray) -> FloatArray:
    dA = np.sign(A - Y)
    dA /= dA.size
    return dA


def _mae_rows(A: FloatArray, Y: FloatArray) -> FloatArray:
    sums = _row_sums(np.abs(A - Y))
    sums /= A.shape[1]
    return sums


mean_absolute_error = Loss(
    "mean_absolute_error", _mae_value, _mae_grad, None, _mae_value, rows=_mae_rows
)
"""``L = sum|A - Y| / (m k)`` (PyTorch's ``L1Loss``); ``dA = sign(A - Y) / (m k)``."""


def huber(delta: float = 1.0) -> Loss:
    """The Huber loss: quadratic within ``delta`` of the target, linear beyond.

    ``L = mean over the m k elements of 0.5 r**2 if |r| <= delta else delta (|r| - delta / 2)``
    with ``r = A - Y`` (PyTorch's ``HuberLoss``); ``dA = clip(r, -delta, delta) / (m k)``.
    The same ``delta`` gives the same object, so specs compare equal.

    >>> huber(0.5).name, huber(0.5) is huber(0.5)
    ('huber(0.5)', True)
    """
    value = _positive(delta, "delta")
    return _made(_HUBERS, value, _huber)


def _huber(delta: float) -> Loss:
    def value(A: FloatArray, Y: FloatArray) -> float:
        r = np.abs(A - Y)
        # q (r - q / 2) with q = min(r, delta) is 0.5 r**2 within delta and
        # delta (r - delta / 2) beyond, without squaring a large residual that is not used.
        q = np.minimum(r, delta)
        per_element = q * (r - 0.5 * q)
        return float(per_element.sum()) / int(A.size)

    def grad(A: FloatArray, Y: FloatArray) -> FloatArray:
        dA = np.clip(A - Y, -delta, delta)
        dA /= dA.size
        return dA

    def rows(A: FloatArray, Y: FloatArray) -> FloatArray:
        r = np.abs(A - Y)
        q = np.minimum(r, delta)
        sums = _row_sums(q * (r - 0.5 * q))
        sums /= A.shape[1]
        return sums

    return Loss(f"huber({delta!r})", value, grad, None, value, rows=rows)


def quantile(*quantiles: float) -> Loss:
    """The pinball loss of one or several quantiles: one network output per quantile.

    Output ``j`` estimates the ``q_j`` quantile of a single target: with ``r = Y - A_j``,
    ``L = sum_j mean_i max(q_j r, (q_j - 1) r)``; ``dA_j = -(q_j if r > 0 else q_j - 1) / m``.
    Targets are one column (``(m,)`` or ``(m, 1)``), repeated for every output. The
    default metric is the negated mean pinball loss (higher is better).

    Separate heads can cross (a 0.9 quantile predicted below the 0.1 quantile). With
    the levels in increasing order, the output activation ``sort`` makes output ``j``
    the ``j``-th smallest head, so predictions never cross; see ``sort``.

    >>> quantile(0.1, 0.5, 0.9).name
    'quantile(0.1, 0.5, 0.9)'
    """
    if not quantiles:
        raise ValueError("quantile needs at least one quantile in (0, 1), got none")
    levels = tuple(_level(q) for q in quantiles)
    return _made(_QUANTILES, levels, _quantile)


def _level(q: object) -> float:
    if isinstance(q, bool) or not isinstance(q, int | float | np.floating):
        raise TypeError(f"a quantile must be a real number in (0, 1), got {type(q).__name__}")
    level = float(q)
    if not 0.0 < level < 1.0:
        raise ValueError(f"a quantile must be in (0, 1), got {level!r}")
    return level


def _quantile(levels: tuple[float, ...]) -> Loss:
    q = np.array(levels)

    def value(A: FloatArray, Y: FloatArray) -> float:
        r = Y - A
        per_element = np.maximum(q.astype(A.dtype) * r, (q.astype(A.dtype) - 1) * r)
        return float(per_element.sum()) / int(A.shape[0])

    def grad(A: FloatArray, Y: FloatArray) -> FloatArray:
        levels_ = q.astype(A.dtype)
        dA = np.where(Y - A > 0, -levels_, 1 - levels_)
        dA /= A.shape[0]
        return dA

    def targets(Y: np.ndarray[Any, Any], k: int, dtype: np.dtype[Any], name: str) -> FloatArray:
        if k != len(levels):
            raise ValueError(
                f"{name} needs a network with {len(levels)} outputs, one per quantile of "
                f"quantile{levels}, got {k}"
            )
        column = column_targets(Y if Y.ndim == 1 else Y[:, :1], 1, dtype, name)
        if Y.ndim == 2 and Y.shape[1] != 1:
            raise ValueError(
                f"{name} must be one target column (m,) or (m, 1) for quantile{levels}, got "
                f"shape {Y.shape}"
            )
        return np.repeat(column, len(levels), axis=1)

    def metric(A: FloatArray, Y: FloatArray) -> float:
        return -value(A, Y)

    def rows(A: FloatArray, Y: FloatArray) -> FloatArray:
        r = Y - A
        levels_ = q.astype(A.dtype)
        return _row_sums(np.maximum(levels_ * r, (levels_ - 1) * r))

    name = f"quantile({', '.join(repr(level) for level in levels)})"
    return Loss(name, value, grad, None, value, targets=targets, metric=metric, rows=rows)


_HUBERS: dict[float, Loss] = {}
_QUANTILES: dict[tuple[float, ...], Loss] = {}
_MADE_LOCK = threading.Lock()

K = TypeVar("K")


def _made(cache: dict[K, Loss], key: K, make: Callable[[K], Loss]) -> Loss:
    """One loss object per parameter value, made once, from any thread."""
    with _MADE_LOCK:
        made = cache.get(key)
        if made is None:
            made = cache[key] = make(key)
    return made


def _positive(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise TypeError(f"{name} must be a finite real number > 0, got {type(value).__name__}")
    number = float(value)
    if not (np.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite real number > 0, got {number!r}")
    return number


_BY_NAME: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        binary_cross_entropy,
        binary_cross_entropy_with_logits,
        softmax_cross_entropy,
        mean_squared_error,
        half_squared_error,
        mean_absolute_error,
        poisson,
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
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name == "huber":
        return huber()
    for prefix, make in (("huber(", huber), ("quantile(", quantile)):
        if name.startswith(prefix) and name.endswith(")"):
            try:
                numbers = [float(part) for part in name[len(prefix) : -1].split(",")]
                return make(*numbers)  # "huber(1)" is huber(1.0), as leaky_relu's names are
            except (TypeError, ValueError):
                break
    known = ", ".join([*_BY_NAME, "huber(<delta>)", "quantile(<q>, ...)"])
    raise ValueError(f"unknown loss {name!r}; expected one of: {known}")


def is_builtin_loss(value: Loss) -> bool:
    """Whether ``value`` is fcfun's own loss of its name (what its name brings back)."""
    try:
        return parse_loss(value.name) == value
    except (TypeError, ValueError):
        return False


class SampleWeight(NamedTuple):
    """Samples' weights ``s`` and their sum, taken once per batch (``weighted``)."""

    weight: FloatArray
    total: float


def weighted(weight: FloatArray) -> SampleWeight:
    """``weight`` with its sum."""
    return SampleWeight(weight, float(np.add.reduce(weight)))


def weighted_value(
    loss: Loss, A: FloatArray, Y: FloatArray, weight: SampleWeight, *, link: bool
) -> float:
    """The weighted mean loss ``sum_i s_i l_i / sum_i s_i`` (unchecked; ``A`` the logits of
    a link output with ``link``). Needs ``rows`` (or ``link_rows``), which the caller
    checked, and a positive total."""
    rows_of = loss.link_rows if link else loss.rows
    assert rows_of is not None
    return float(np.dot(weight.weight, rows_of(A, Y))) / weight.total


def weighted_value_and_grad(
    loss: Loss, A: FloatArray, Y: FloatArray, weight: SampleWeight, *, link: bool
) -> tuple[float, FloatArray]:
    """``weighted_value`` and its gradient: the loss's own, each row ``i`` scaled by
    ``m s_i / sum_i s_i`` (the loss's gradient holds the ``1 / m``)."""
    value = weighted_value(loss, A, Y, weight, link=link)
    dA = link_value_and_grad(loss, A, Y)[1] if link else loss.grad(A, Y)
    dA *= (weight.weight * (A.shape[0] / weight.total))[:, None]
    return value, dA
