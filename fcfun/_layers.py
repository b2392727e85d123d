"""The layer: the unit a network folds over, mirroring the seed notebook with samples as rows.

``linear_forward`` computes ``Z = X @ W + b``; ``linear_backward`` the gradients
``dW = X.T @ dZ``, ``db = sum_rows(dZ)`` and ``dX = dZ @ W.T``. The ``1 / m`` of the
batch mean lives in the loss gradient, so these are exact vector-Jacobian products.
``dense_forward`` / ``dense_backward`` add the activation; they are what ``fcfun``'s
network runs, layer by layer, on every path (``forward``, ``predict``,
``loss_and_grad``, training and the sharded gradients).

Every function also runs ``k`` networks at once, stacked along a leading member axis:
``X`` ``(k, m, n_in)``, ``W`` ``(k, n_in, n_out)``, ``b`` ``(k, 1, n_out)`` (what
``fcfun.fit_ensemble`` trains). The products are then batched per member (``matmul``
calls the same BLAS kernel on each member's matrices), transposes swap the last two
axes (``.mT``) and the bias sums run over the row axis (``-2``), so member ``i``'s
arrays are the bits of the same call on that member alone.

Returned arrays are read-only, except with ``donate=True``: fcfun's own passes hand
over arrays they own and get writeable results that they own in turn (see ``_types``).
The network's functions run these with a fixed BLAS thread count (``_blas``), so that
their bits do not depend on the machine; called directly, they run in whatever BLAS
setting the caller has.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from fcfun._activations import Activation
from fcfun._types import Dense, DenseCache, FloatArray, freeze, seal


class LinearCache(NamedTuple):
    """What ``linear_backward`` needs: the layer's input ``X`` (for ``dW = X.T @ dZ``)."""

    X: FloatArray


def affine(layer: Dense, X: FloatArray) -> FloatArray:
    """``X @ W + b`` into one new, writeable array."""
    Z = X @ layer.W
    Z += layer.b
    return Z


def linear_grads(
    layer: Dense, X: FloatArray, dZ: FloatArray, decay: float = 0.0, out: Dense | None = None
) -> Dense:
    """``Dense(X.T @ dZ + decay * W, sum_rows(dZ))`` (``decay``: the L2 term), written into
    ``out`` (writeable arrays of the gradient's shapes: the layer's views of the network's
    gradient vector) or into new writeable arrays; ``db`` has ``b``'s shape (``(k, 1,
    n_out)`` for stacked members)."""
    XT = X.mT if X.ndim > 2 else X.T  # .T: a sparse first-layer X has no .mT
    stacked = layer.b.ndim > 1  # stacked members: b and db are (k, 1, n_out)
    dW: FloatArray
    db: FloatArray
    if out is None:
        dW = XT @ dZ
        # np.add.reduce is dZ.sum(axis=...) without the method's Python wrapper.
        db = np.add.reduce(dZ, -2, keepdims=True) if stacked else np.add.reduce(dZ, 0)
    else:
        dW, db = out
        if hasattr(XT, "tocsr"):  # a sparse X: scipy's product, then into the vector
            dW[...] = XT @ dZ
        else:
            np.matmul(XT, dZ, out=dW)
        if stacked:
            np.add.reduce(dZ, -2, keepdims=True, out=db)
        else:
            np.add.reduce(dZ, 0, out=db)
    if decay != 0:
        dW += decay * layer.W
    return Dense(dW, db)


def linear_forward(layer: Dense, X: FloatArray) -> tuple[FloatArray, LinearCache]:
    """``Z = X @ W + b`` and the cache ``linear_backward`` needs.

    >>> import numpy as np
    >>> layer = Dense(np.ones((3, 2)), np.array([0.0, 1.0]))
    >>> Z, cache = linear_forward(layer, np.ones((4, 3)))
    >>> Z[0].tolist()
    [3.0, 4.0]
    """
    return seal(affine(layer, X)), LinearCache(freeze(X))


def linear_backward(layer: Dense, cache: LinearCache, dZ: FloatArray) -> tuple[FloatArray, Dense]:
    """Gradient with respect to the input, ``dX = dZ @ W.T``, and the layer's gradient."""
    dW, db = linear_grads(layer, cache.X, dZ)
    return seal(dZ @ layer.W.mT), Dense(seal(dW), seal(db))


def dense_forward(
    layer: Dense, activation: Activation, X: FloatArray, *, donate: bool = False
) -> tuple[FloatArray, DenseCache]:
    """``A = g(X @ W + b)`` and its cache ``DenseCache(X, Z, A)``.

    With ``donate=True`` (fcfun's own passes) the activation's ``forward_in_place``, if
    it has one, writes ``A`` over the fresh ``Z`` (the cache then holds ``A`` as ``Z``),
    and ``Z`` and ``A`` are left writeable for the caller, who owns them.

    >>> import fcfun
    >>> layer = Dense(np.array([[1.0], [-1.0]]), np.array([0.5]))
    >>> A, cache = dense_forward(layer, fcfun.relu, np.array([[1.0, 3.0]]))
    >>> A.tolist(), cache.Z.tolist()
    ([[0.0]], [[-1.5]])
    """
    Z = affine(layer, X)
    if not donate:
        seal(Z)
        A = activation.forward(Z)
        return freeze(A), DenseCache(freeze(X), Z, freeze(A))
    in_place = activation.forward_in_place
    if in_place is None:
        A = activation.forward(Z)
        return A, DenseCache(X, Z, A)
    A = in_place(Z)
    return A, DenseCache(X, A, A)


def dense_backward(
    layer: Dense,
    activation: Activation,
    cache: DenseCache,
    dA: FloatArray,
    *,
    decay: float = 0.0,
    donate: bool = False,
    input_grad: bool = True,
    out: Dense | None = None,
) -> tuple[FloatArray | None, Dense]:
    """``dZ = g'(Z) * dA`` then the linear layer's: returns ``(dX, Dense(dW, db))``.

    Args:
        layer: the layer's parameters.
        activation: its activation.
        cache: what ``dense_forward`` returned for this layer.
        dA: the gradient of the loss with respect to the layer's output ``A``.
        decay: adds ``decay * W`` to ``dW`` (the gradient of an L2 penalty).
        donate: fcfun's own passes: ``dA`` is donated (the activation's
            ``backward_in_place`` may overwrite it) and the results are left writeable.
        input_grad: ``False`` skips ``dX`` (``None``), which a first layer never needs.
        out: where to write ``dW`` and ``db`` (the network's passes give the layer's views
            of one gradient vector); new arrays when ``None``.
    """
    X, Z, A = cache
    in_place = activation.backward_in_place if donate else None
    dZ = activation.backward(dA, Z, A) if in_place is None else in_place(dA, Z, A)
    dW, db = linear_grads(layer, X, dZ, decay, out)
    dX = dZ @ layer.W.mT if input_grad else None
    if donate:
        return dX, Dense(dW, db)
    return (None if dX is None else seal(dX)), Dense(seal(dW), seal(db))
