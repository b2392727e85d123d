"""Activations as values: a name, a forward and a backward function, and optional kernels.

``forward(Z) -> A`` and ``backward(dA, Z, A) -> dZ``; each backward uses whichever of ``Z``
and ``A`` makes the derivative cheapest and exact. Every function is written so that no
finite input up to the activation's ``max_input`` emits an overflow warning, and every
built-in but ``exp`` has no ``max_input``: any finite input, however large. ``exp``'s output
is beyond the float range above ``log(finfo(dtype).max)``, and it says so
(``exp.max_input(dtype)``) instead of clamping: the network's checked entry points turn
the overflow into ``ValueError`` (``predict``) or ``DivergenceError`` (``fit``).

What makes a built-in fast is a field any ``Activation`` can fill: ``forward_in_place``
and ``backward_in_place`` are kernels for arrays the caller donates (see ``_types``).
fcfun's passes use them when present and fall back to ``forward`` / ``backward``.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable
from typing import Any, Literal, NamedTuple, TypeAlias

import numpy as np

from fcfun._types import FloatArray

ActivationName: TypeAlias = Literal[
    "identity", "sigmoid", "relu", "leaky_relu", "tanh", "softplus", "softmax", "exp", "sort"
]


class Activation(NamedTuple):
    """An elementwise (or row-wise, for softmax) nonlinearity ``A = g(Z)``.

    Attributes:
        name: how the activation is written in a saved spec, e.g. ``"relu"`` or
            ``"leaky_relu(0.01)"``.
        forward: ``Z -> A``; returns a new array.
        backward: ``(dA, Z, A) -> dZ``, the vector-Jacobian product ``dA * g'(Z)``.
        forward_in_place: optional ``Z -> A`` that writes ``A`` over ``Z`` (donated: a
            fresh array the caller gives up) and returns it. Allowed only when
            ``backward(dA, A, A)`` equals ``backward(dA, Z, A)`` bit for bit, since the
            caller then keeps ``A`` in place of ``Z``; and it must equal ``forward(Z)``.
        backward_in_place: optional ``(dA, Z, A) -> dZ`` that may write ``dZ`` over
            ``dA`` (donated); it must equal ``backward(dA, Z, A)``.
        max_input: ``dtype -> z_max``, the largest input of ``dtype`` for which
            ``forward`` and ``backward`` are finite and emit no overflow warning, for an
            activation whose range ends (``exp``); ``None``, the default, promises that
            for every finite input.

    >>> import numpy as np
    >>> def cube(Z): return Z**3
    >>> def cube_backward(dA, Z, A): return dA * 3 * Z**2
    >>> Activation("cube", cube, cube_backward).forward_in_place is None
    True
    """

    name: str
    forward: Callable[[FloatArray], FloatArray]
    backward: Callable[[FloatArray, FloatArray, FloatArray], FloatArray]
    forward_in_place: Callable[[FloatArray], FloatArray] | None = None
    backward_in_place: Callable[[FloatArray, FloatArray, FloatArray], FloatArray] | None = None
    max_input: Callable[[np.dtype[Any]], float] | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """fcfun's own activations pickle and copy as themselves, by name.

        A spec keeps its activations after a round trip through pickle or
        ``copy.deepcopy`` (it also makes ``leaky_relu``'s closures picklable). A user's
        activation pickles as a plain tuple of its functions, which pickle by reference
        (or fail to pickle: never replaced by a look-alike).
        """
        if is_builtin_activation(self):
            return (parse_activation, (self.name,))
        return (Activation, tuple(self))


def _identity_forward(Z: FloatArray) -> FloatArray:
    return Z


def _identity_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return dA


identity = Activation(
    "identity", _identity_forward, _identity_backward, forward_in_place=_identity_forward
)
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


def _relu_in_place(Z: FloatArray) -> FloatArray:
    """``np.maximum(Z, 0.0, out=Z)`` for a float ``Z``, bit for bit.

    The 0 is a row of zeros, not a scalar: numpy's vectorised loop needs both operands
    contiguous along the inner axis, and on some CPUs a scalar does not take it. Measured on
    a 256 x 512 batch: 3x faster on an AMD EPYC (AVX-512), level on an Intel Xeon, where
    the row's allocation costs about 0.5 µs on small batches.
    """
    return np.maximum(Z, np.zeros(Z.shape[-1:], Z.dtype), out=Z)


def _relu_backward_in_place(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    # A > 0 exactly where Z > 0, so this is also right when handed A in place of Z.
    return np.multiply(dA, Z > 0, out=dA)


relu = Activation(
    "relu",
    _relu_forward,
    _relu_backward,
    forward_in_place=_relu_in_place,
    backward_in_place=_relu_backward_in_place,
)
"""``g(z) = max(z, 0)``; backward passes ``dA`` where ``z > 0`` and 0 elsewhere."""


def _tanh_forward(Z: FloatArray) -> FloatArray:
    return np.tanh(Z)


def _tanh_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return dA * (1.0 - A * A)


def _tanh_in_place(Z: FloatArray) -> FloatArray:
    return np.tanh(Z, out=Z)


tanh = Activation("tanh", _tanh_forward, _tanh_backward, forward_in_place=_tanh_in_place)
"""``g(z) = tanh(z)``, ``g' = 1 - A**2``."""


def _softplus_forward(Z: FloatArray) -> FloatArray:
    return np.maximum(Z, 0.0) + np.log1p(np.exp(-np.abs(Z)))


def _softplus_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return dA * sigmoid_function(Z)


softplus = Activation("softplus", _softplus_forward, _softplus_backward)
"""``g(z) = log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|))``, ``g' = sigmoid(z)``."""


def softmax_function(Z: FloatArray) -> FloatArray:
    """Row-wise softmax ``exp(z - max z) / sum exp(z - max z)`` (over the last axis, so
    stacked members' rows too).

    >>> softmax_function(np.array([[0.0, 0.0], [1e4, -1e4]])).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    A: FloatArray = Z - Z.max(axis=-1, keepdims=True)
    np.exp(A, out=A)
    A /= A.sum(axis=-1, keepdims=True)
    return A


def _softmax_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    # dZ_i = A_i (dA_i - sum_j dA_j A_j), the Jacobian-vector product of softmax.
    dZ = dA * A
    dZ -= A * dZ.sum(axis=-1, keepdims=True)
    return dZ


softmax = Activation("softmax", softmax_function, _softmax_backward)
"""Row-wise softmax for a multiclass output layer."""


def _exp_forward(Z: FloatArray) -> FloatArray:
    return np.exp(Z)


def _exp_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    return dA * A


def _exp_in_place(Z: FloatArray) -> FloatArray:
    return np.exp(Z, out=Z)


@functools.cache
def _exp_max_input(dtype: np.dtype[Any]) -> float:
    """The largest ``z`` of ``dtype`` whose ``exp`` is finite: ``log(finfo.max)``, rounded
    down until numpy's ``exp`` no longer overflows (709.78 in float64, 88.72 in float32)."""
    float_type = np.dtype(dtype).type
    z = float_type(np.log(np.finfo(dtype).max))
    with np.errstate(over="ignore"):
        while not np.isfinite(np.exp(z)):
            z = np.nextafter(z, float_type(0))
    return float(z)


exp = Activation(
    "exp", _exp_forward, _exp_backward, forward_in_place=_exp_in_place, max_input=_exp_max_input
)
"""``g(z) = exp(z)``, ``g' = A``: the inverse of the log link, the output of ``poisson``.

Its output is finite only for ``z <= exp.max_input(dtype)`` (709.78 in float64, 88.72 in
float32); above that ``predict`` raises ``ValueError`` and training ``DivergenceError``.

>>> exp.max_input(np.dtype(np.float32)) < 88.73 < exp.max_input(np.dtype(np.float64))
True
"""


def _sort_forward(Z: FloatArray) -> FloatArray:
    return np.sort(Z, axis=-1)


def _sort_backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
    # A_j = Z_order[j]: the gradient of A_j goes back to the entry it came from.
    dZ = np.empty_like(dA)
    np.put_along_axis(dZ, np.argsort(Z, axis=-1, kind="stable"), dA, axis=-1)
    return dZ


sort = Activation("sort", _sort_forward, _sort_backward)
"""Row-wise ascending sort ``A = sort(Z)``: the monotone rearrangement of a row.

An output of ``quantile(l_1, ..., l_k)`` with ``l_1 < ... < l_k`` that never crosses:
output ``j`` is the ``j``-th smallest head. Sorting never increases a row's pinball loss
(the rearrangement inequality), and the true quantiles are already sorted, so the loss's
minimiser is unchanged (Chernozhukov, Fernández-Val and Galichon, 2010); the gradient
of ``A_j`` flows to the head it came from. Row-wise like softmax; it never overflows.

>>> sort.forward(np.array([[0.9, -1.0, 0.1]])).tolist()
[[-1.0, 0.1, 0.9]]
"""


def leaky_relu(slope: float = 0.01) -> Activation:
    """``g(z) = z`` for ``z > 0`` and ``slope * z`` otherwise.

    Calls with the same slope value return the same object, however it is written (``-0.0``
    is ``0.0``), from any thread, so specs that use it compare equal and name it alike.

    >>> leaky_relu(0.1).name
    'leaky_relu(0.1)'
    >>> leaky_relu() is leaky_relu(0.01) and leaky_relu(1) is leaky_relu(slope=1.0)
    True
    """
    if isinstance(slope, bool) or not isinstance(slope, int | float):
        raise TypeError(f"slope must be a real number, got {type(slope).__name__}")
    if not (math.isfinite(slope) and slope >= 0):
        raise ValueError(f"slope must be finite and >= 0, got {slope!r}")
    value = float(slope) + 0.0  # -0.0 + 0.0 is 0.0: one name for one slope
    with _LEAKY_LOCK:
        made = _LEAKY.get(value)
        if made is None:
            made = _LEAKY[value] = _leaky_relu(value)
    return made


_LEAKY: dict[float, Activation] = {}
"""The leaky relus made so far, by slope (each slope's one object)."""

_LEAKY_LOCK = threading.Lock()


def _leaky_relu(slope: float) -> Activation:
    def forward(Z: FloatArray) -> FloatArray:
        return np.where(Z > 0, Z, slope * Z)

    def backward(dA: FloatArray, Z: FloatArray, A: FloatArray) -> FloatArray:
        return np.where(Z > 0, dA, slope * dA)

    return Activation(f"leaky_relu({slope!r})", forward, backward)


_BY_NAME: dict[str, Activation] = {
    a.name: a for a in (identity, sigmoid, relu, tanh, softplus, softmax, exp, sort)
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


def is_builtin_activation(value: Activation) -> bool:
    """Whether ``value`` is fcfun's own activation of its name (what its name brings back).

    >>> is_builtin_activation(relu), is_builtin_activation(Activation("relu", abs, abs))
    (True, False)
    """
    try:
        return parse_activation(value.name) == value
    except (TypeError, ValueError):
        return False
