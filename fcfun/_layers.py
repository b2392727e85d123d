"""Layer functions, mirroring the seed notebook with samples as rows.

``linear_forward`` computes ``Z = X @ W + b``; ``linear_backward`` the gradients
``dW = X.T @ dZ``, ``db = sum_rows(dZ)`` and ``dX = dZ @ W.T``. The ``1 / m`` of the
batch mean lives in the loss gradient, so these are exact vector-Jacobian products.
``dense_*`` adds the activation. Returned arrays are read-only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fcfun._activations import Activation
from fcfun._types import Dense, DenseCache, FloatArray, Params, freeze


class LinearCache(NamedTuple):
    """What ``linear_backward`` needs: the layer's input ``X`` (for ``dW = X.T @ dZ``)."""

    X: FloatArray


def affine(layer: Dense, X: FloatArray) -> FloatArray:
    """``X @ W + b`` into one new, writeable array (the hot path's building block)."""
    Z = X @ layer.W
    Z += layer.b
    return Z


def seal(a: FloatArray) -> FloatArray:
    """Make an array the calling code just allocated read-only, in place.

    Cheaper than ``freeze``'s view; only for arrays nobody else holds yet.
    """
    a.setflags(write=False)
    return a


def seal_tree(tree: Params) -> Params:
    """``seal`` every array of ``tree`` (fresh arrays nobody else holds); returns ``tree``."""
    for layer in tree:
        seal(layer.W)
        seal(layer.b)
    return tree


def linear_grads(layer: Dense, X: FloatArray, dZ: FloatArray, decay: float = 0.0) -> Dense:
    """``Dense(X.T @ dZ + decay * W, sum_rows(dZ))``, read-only (``decay``: the L2 term)."""
    dW, db = owned_linear_grads(layer, X, dZ, decay)
    return Dense(seal(dW), seal(db))


def owned_linear_grads(layer: Dense, X: FloatArray, dZ: FloatArray, decay: float = 0.0) -> Dense:
    """``linear_grads`` left writeable: fresh arrays that the caller owns."""
    dW = X.T @ dZ
    if decay != 0:
        dW += decay * layer.W
    # np.add.reduce is dZ.sum(axis=0) without the method's Python wrapper.
    return Dense(dW, np.add.reduce(dZ, 0))


def linear_forward(layer: Dense, X: FloatArray) -> tuple[FloatArray, LinearCache]:
    """``Z = X @ W + b`` and the cache ``linear_backward`` needs.

    >>> import numpy as np
    >>> layer = Dense(np.ones((3, 2)), np.array([0.0, 1.0]))
    >>> Z, cache = linear_forward(layer, np.ones((4, 3)))
    >>> Z[0].tolist()
    [3.0, 4.0]
    """
    return freeze(affine(layer, X)), LinearCache(freeze(X))


def linear_backward(layer: Dense, cache: LinearCache, dZ: FloatArray) -> tuple[FloatArray, Dense]:
    """Gradient with respect to the input, ``dX = dZ @ W.T``, and the layer's gradient."""
    return freeze(dZ @ layer.W.T), linear_grads(layer, cache.X, dZ)


def dense_forward(
    layer: Dense, activation: Activation, X: FloatArray
) -> tuple[FloatArray, DenseCache]:
    """``A = g(X @ W + b)`` and its cache ``DenseCache(X, Z, A)``."""
    Z = freeze(affine(layer, X))
    A = freeze(activation.forward(Z))
    return A, DenseCache(freeze(X), Z, A)


def dense_backward(
    layer: Dense, activation: Activation, cache: DenseCache, dA: FloatArray
) -> tuple[FloatArray, Dense]:
    """``dZ = g'(Z) * dA`` then ``linear_backward``: returns ``(dX, Dense(dW, db))``."""
    dZ = activation.backward(dA, cache.Z, cache.A)
    return linear_backward(layer, LinearCache(cache.X), dZ)
