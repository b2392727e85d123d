"""Metrics of a network's output ``A`` against prepared targets ``Y`` (higher is better).

Each ``Loss`` names its default metric (``Loss.metric``): accuracy for the
classification losses, D² of the Poisson deviance for ``poisson``, R² otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import numpy as np

from fcfun._types import FloatArray

Metric: TypeAlias = Callable[[FloatArray, FloatArray], float]
"""``(A, Y) -> float``, computed on the network output and one-hot or column targets."""


def accuracy(A: FloatArray, Y: FloatArray) -> float:
    """Fraction of rows whose arg-max class is the one-hot target's (works on logits too).

    >>> accuracy(np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([[0.0, 1.0], [0.0, 1.0]]))
    0.5
    """
    return float(np.mean(A.argmax(axis=1) == Y.argmax(axis=1)))


def label_accuracy(A: FloatArray, Y: FloatArray, threshold: float = 0.5) -> float:
    """Fraction of rows whose every label ``A > threshold`` matches ``Y > 0.5``.

    >>> label_accuracy(np.array([[0.9, 0.2], [0.4, 0.3]]), np.array([[1.0, 0.0], [1.0, 0.0]]))
    0.5
    """
    return float(np.mean(np.all((A > threshold) == (Y > 0.5), axis=1)))


def logit_label_accuracy(A: FloatArray, Y: FloatArray) -> float:
    """``label_accuracy`` of logits: a label is on where its logit is positive."""
    return label_accuracy(A, Y, threshold=0.0)


def r2_score(A: FloatArray, Y: FloatArray) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot``, averaged over outputs.

    >>> r2_score(np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.0], [3.0]]))
    1.0
    """
    residual = ((Y - A) ** 2).sum(axis=0)
    total = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
    safe_total = np.where(total > 0, total, 1.0)
    scores = np.where(total > 0, 1.0 - residual / safe_total, np.where(residual > 0, 0.0, 1.0))
    return float(np.mean(scores))


def d2_poisson_score(A: FloatArray, Y: FloatArray) -> float:
    """Fraction of Poisson deviance explained, ``1 - D(Y, A) / D(Y, mean(Y))``, averaged
    over outputs (scikit-learn's ``d2_tweedie_score(power=1)`` for one output).

    ``D(Y, A) = 2 sum(Y log(Y / A) - Y + A)`` (``0 log 0 = 0``), with ``A`` clipped to the
    dtype's smallest normal number as the ``poisson`` loss clips it (a non-positive output
    scores as that number, so the score is at most 1). As ``r2_score``, a constant column scores 1
    if predicted exactly, else 0.

    >>> d2_poisson_score(np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.0], [3.0]]))
    1.0
    """
    residual = _poisson_deviance(A, Y)
    total = _poisson_deviance(np.broadcast_to(Y.mean(axis=0), Y.shape), Y)
    safe_total = np.where(total > 0, total, 1.0)
    scores = np.where(total > 0, 1.0 - residual / safe_total, np.where(residual > 0, 0.0, 1.0))
    return float(np.mean(scores))


def _poisson_deviance(A: FloatArray, Y: FloatArray) -> FloatArray:
    """Each column's ``2 sum(Y log(Y / A) - Y + A)``, ``A`` clipped to the smallest normal."""
    clipped = np.maximum(A, np.finfo(A.dtype).tiny)
    log_ratio = np.log(np.where(Y > 0, Y, 1.0)) - np.log(clipped)
    per_element: FloatArray = np.where(Y > 0, Y * log_ratio, 0.0) - Y + clipped
    deviance: FloatArray = 2 * per_element.sum(axis=0)
    return deviance
