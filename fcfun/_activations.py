"""Activations as values: a name, a forward and a backward function.

``forward(Z) -> A`` and ``backward(dA, Z, A) -> dZ``; each backward uses whichever of ``Z``
and ``A`` makes the derivative cheapest and exact. Every function is written so that no
finite input, however large, emits an overflow warning.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, Literal, NamedTuple, TypeAlias

import numpy as np

from fcfun._types import FloatArray

ActivationName: TypeAlias = Literal[
    "identity", "sigmoid", "relu", "leaky_relu", "tanh", "softplus", "softmax"
]


class Activation(NamedTuple):
    """An elementwise (or row-wise, for softmax) nonlinearity ``A = g(Z)``.

    Attributes:
        name: how the activation is written in a saved spec, e.g. ``"relu"`` or
            ``"leaky_relu(0.01)"``.
        forward: ``Z -> A``; returns a new array.
        backward: ``(dA, Z, A) -> dZ``, the vector-Jacobian product ``dA * g'(Z)``.
    """

    name: str
    forward: Callable[[FloatArray], FloatArray]
    backward: Callable[[FloatArray, FloatArray, FloatArray], FloatArray]

    def __reduce__(self) -> tuple[Any, ...]:
        """fcfun's own activations pickle and copy as themselves, by name.

        fcfun recognises its activations by identity, so a spec must keep them after a
        round trip through pickle or ``copy.deepcopy`` (it also makes ``leaky_relu``'s
        closures picklable). A user's activation pickles as a plain tuple.
        """
        try:
            builtin = parse_activation(self.name)
        except ValueError:
            builtin = None
        if builtin == self:
            return (parse_activation, (self.name,))
        return (Activation, tuple(self))


def _identity_forward(Z: FloatArray) -> FloatArray:
    return Z


def _identity_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return dA


identity = Activation("identity", _identity_forward, _identity_backward)
"""``g(z) = z``. Its output is its input: no copy is made."""


def sigmoid_function(Z: FloatArray) -> FloatArray:
    """Logistic sigmoid ``1 / (1 + exp(-z))``, computed without overflow.

    With ``e = exp(-|z|)`` (never above 1): ``1 / (1 + e)`` for ``z >= 0`` and
    ``e / (1 + e)`` for ``z < 0``.

    >>> sigmoid_function(np.array([-1e4, 0.0, 1e4])).tolist()
    [0.0, 0.5, 1.0]
    """
    e = np.exp(-np.abs(Z))
    A = np.where(Z < 0, e, 1.0)
    e += 1.0
    A /= e
    return A


def _sigmoid_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return dA * A * (1.0 - A)


sigmoid = Activation("sigmoid", sigmoid_function, _sigmoid_backward)
"""``g(z) = 1 / (1 + exp(-z))``, ``g' = A (1 - A)``."""


def _relu_forward(Z: FloatArray) -> FloatArray:
    return np.maximum(Z, 0.0)


def _relu_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return dA * (Z > 0)


relu = Activation("relu", _relu_forward, _relu_backward)
"""``g(z) = max(z, 0)``; backward passes ``dA`` where ``z > 0`` and 0 elsewhere."""


def _tanh_forward(Z: FloatArray) -> FloatArray:
    return np.tanh(Z)


def _tanh_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return dA * (1.0 - A * A)


tanh = Activation("tanh", _tanh_forward, _tanh_backward)
"""``g(z) = tanh(z)``, ``g' = 1 - A**2``."""


def _softplus_forward(Z: FloatArray) -> FloatArray:
    return np.maximum(Z, 0.0) + np.log1p(np.exp(-np.abs(Z)))


def _softplus_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return dA * sigmoid_function(Z)


softplus = Activation("softplus", _softplus_forward, _softplus_backward)
"""``g(z) = log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|))``, ``g' = sigmoid(z)``."""


def softmax_function(Z: FloatArray) -> FloatArray:
    """Row-wise softmax ``exp(z - max z) / sum exp(z - max z)``.

    >>> softmax_function(np.array([[0.0, 0.0], [1e4, -1e4]])).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    A: FloatArray = Z - Z.max(axis=1, keepdims=True)
    np.exp(A, out=A)
    A /= A.sum(axis=1, keepdims=True)
    return A


def _softmax_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    # dZ_i = A_i (dA_i - sum_j dA_j A_j), the Jacobian-vector product of softmax.
    dZ = dA * A
    dZ -= A * dZ.sum(axis=1, keepdims=True)
    return dZ


softmax = Activation("softmax", softmax_function, _softmax_backward)
"""Row-wise softmax for a multiclass output layer."""


def leaky_relu(slope: float = 0.01) -> Activation:
    """``g(z) = z`` for ``z > 0`` and ``slope * z`` otherwise.

    Calls with the same slope value return the same object, however it is written, so
    specs that use it compare equal.

    >>> leaky_relu(0.1).name
    'leaky_relu(0.1)'
    >>> leaky_relu() is leaky_relu(0.01) and leaky_relu(1) is leaky_relu(slope=1.0)
    True
    """
    if isinstance(slope, bool) or not isinstance(slope, int | float):
        raise TypeError(f"slope must be a real number, got {type(slope).__name__}")
    if not (math.isfinite(slope) and slope >= 0):
        raise ValueError(f"slope must be finite and >= 0, got {slope!r}")
    return _leaky_relu(float(slope))


@functools.cache
def _leaky_relu(slope: float) -> Activation:
    def forward(Z: FloatArray) -> FloatArray:
        return np.where(Z > 0, Z, slope * Z)

    def backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
        return np.where(Z > 0, dA, slope * dA)

    return Activation(f"leaky_relu({slope!r})", forward, backward)


def _relu_in_place(Z: FloatArray) -> FloatArray:
    """``np.maximum(Z, 0.0, out=Z)`` for a float ``Z``, bit for bit, faster.

    The 0 is a row of zeros, not a scalar: numpy's vectorised loop needs both operands
    contiguous along the inner axis, and a scalar is not. On a 256 x 512 batch this runs in
    a third of the time (float32) or half (float64).
    """
    return np.maximum(Z, np.zeros(Z.shape[-1:], Z.dtype), out=Z)


def _tanh_in_place(Z: FloatArray) -> FloatArray:
    return np.tanh(Z, out=Z)


def forward_in_place(activation: Activation, Z: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(Z_for_backward, A)`` for a ``Z`` the caller owns and needs no more.

    Overwrites ``Z`` with ``A`` when the activation allows it, and then returns ``A`` for
    both: ``backward(dA, A, A)`` equals ``backward(dA, Z, A)`` for these activations.
    """
    # These may overwrite Z because their backward gives the same dZ when handed A in
    # place of Z (relu: A > 0 exactly where Z > 0; tanh reads only A). Compared by
    # identity: a user's activation that borrows a name keeps its own functions.
    if activation is relu:
        A = _relu_in_place(Z)
    elif activation is tanh:
        A = _tanh_in_place(Z)
    elif activation is identity:
        A = Z
    else:
        return Z, activation.forward(Z)
    return A, A


def backward_in_place(
    activation: Activation, dA: FloatArray, Z: FloatArray, A: FloatArray
) -> FloatArray:
    """``activation.backward(dA, Z, A)``, overwriting ``dA`` (which the caller owns) for relu."""
    if activation is relu:
        return np.multiply(dA, Z > 0, out=dA)
    return activation.backward(dA, Z, A)


_BY_NAME: dict[str, Activation] = {
    a.name: a for a in (identity, sigmoid, relu, tanh, softplus, softmax)
}


def activation(name: ActivationName) -> Activation:
    """Look an activation up by name (``"leaky_relu"`` has slope 0.01).

    >>> activation("relu") is relu
    True
    """
    return parse_activation(name)


def parse_activation(name: str) -> Activation:
    """Look an activation up by the name a saved spec holds, e.g. ``"leaky_relu(0.2)"``.

    >>> parse_activation("leaky_relu(0.2)") is leaky_relu(0.2)
    True
    """
    if not isinstance(name, str):
        raise TypeError(f"activation name must be a str, got {type(name).__name__}")
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name == "leaky_relu":
        return leaky_relu()
    if name.startswith("leaky_relu(") and name.endswith(")"):
        try:
            slope = float(name[len("leaky_relu(") : -1])
        except ValueError:
            pass
        else:
            return leaky_relu(slope)
    known = ", ".join([*_BY_NAME, "leaky_relu", "leaky_relu(<slope>)"])
    raise ValueError(f"unknown activation {name!r}; expected one of: {known}")
