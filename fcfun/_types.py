"""The data fcfun passes around: array aliases, parameters, caches, and who owns an array.

Naming rule (after stax): a name says what a thing is in the math. ``X`` is a batch with
samples as rows, ``W`` / ``b`` a layer's weights and bias, ``Z = X @ W + b`` its
pre-activation, ``A = g(Z)`` its output, and a leading ``d`` is the gradient of the
loss with respect to the named thing (``dW``, ``dZ``).

Ownership (the one contract the fast paths share; JAX calls it donation). Every array a
public function returns is read-only, and no public function writes to its arguments.
Inside fcfun, an array is *owned* by the code that just allocated it: nobody else holds
it, so it may be written in place. A function that *takes a donated* argument may
overwrite it; the caller gives it up and must not read it again. Only three kinds of
function take donated arrays, each documented where it is declared: an activation's
``forward_in_place`` / ``backward_in_place``, an optimizer's ``update_flat`` (the
gradient vector), and the layer functions called with ``donate=True``. An owned array is
made read-only with ``seal`` (in place, no copy) before anyone else sees it.
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.floating[Any]]
"""A float32 or float64 array."""

IntArray: TypeAlias = npt.NDArray[np.integer[Any]]
"""An integer array (class indices)."""

FloatDType: TypeAlias = type[np.float32] | type[np.float64] | np.dtype[np.floating[Any]]
"""The float dtypes fcfun computes in."""


class Dense(NamedTuple):
    """One fully connected layer: ``Z = X @ W + b``.

    ``W`` is ``(n_in, n_out)`` and ``b`` is ``(n_out,)`` (scikit-learn's ``coefs_`` layout).
    The gradient of a layer has the same type, with ``dW`` in ``W`` and ``db`` in ``b``.
    """

    W: FloatArray
    b: FloatArray


Params: TypeAlias = tuple[Dense, ...]
"""A network's parameters, one ``Dense`` per layer; gradients have this type too."""


class DenseCache(NamedTuple):
    """What a dense layer's backward pass needs from its forward pass.

    ``X`` is the layer's input (for ``dW = X.T @ dZ``), ``Z`` its pre-activation and ``A``
    its output (activation derivatives are written in whichever is cheaper). For the
    identity activation ``A`` is ``Z`` itself, not a copy; on fcfun's own passes (layers
    called with ``donate=True``) an activation with an in-place kernel writes ``A`` over
    ``Z``, and then ``Z`` is ``A`` too (its backward gives the same result from ``A``).
    """

    X: FloatArray
    Z: FloatArray
    A: FloatArray


Caches: TypeAlias = tuple[DenseCache, ...]
"""One ``DenseCache`` per layer, in forward order."""


def seal(a: FloatArray) -> FloatArray:
    """Make an owned array read-only, in place, and return it.

    Cheaper than ``freeze``'s view; only for arrays that nobody else holds yet.
    """
    a.setflags(write=False)
    return a


def seal_tree(tree: Params) -> Params:
    """``seal`` every array of an owned ``tree``, and the vector they are views of (the
    flat layout), if any; returns ``tree``."""
    for layer in tree:
        layer.W.setflags(write=False)
        layer.b.setflags(write=False)
    base = tree[0].W.base if tree else None
    if isinstance(base, np.ndarray) and sum(a.size for layer in tree for a in layer) == base.size:
        base.setflags(write=False)  # the tree is all of it (the flat layout): nobody else's
    return tree


def freeze(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Return ``a`` as a read-only array without copying.

    A writeable array gets a read-only view, so the caller's own array keeps its flags.
    """
    if hasattr(a, "tocsr"):  # a sparse matrix fcfun made (a checked X's rows)
        return _frozen_sparse(a)
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view


def _frozen_sparse(matrix: Any) -> npt.NDArray[Any]:
    """A CSR matrix fcfun made, its three arrays made read-only in place."""
    for array in (matrix.data, matrix.indices, matrix.indptr):
        array.flags.writeable = False
    frozen: npt.NDArray[Any] = matrix  # sparse rows travel as FloatArray (see check_sparse)
    return frozen


def unchangeable(a: npt.NDArray[Any]) -> bool:
    """Whether nobody can write ``a``'s memory: it is read-only, and so is the array that
    owns its memory (a read-only view of a writeable array still changes with it)."""
    if a.flags.writeable:
        return False
    base = a.base
    return not (isinstance(base, np.ndarray) and base.flags.writeable)


def read_only_copy(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``a`` if nobody can write its memory, else a read-only copy that nobody else can."""
    if unchangeable(a):
        return a
    copy = a.copy()
    copy.flags.writeable = False
    return copy


def own_params(params: Params) -> Params:
    """``params`` with every array whose memory can still change replaced by a read-only
    copy (``_flat.owned`` does it into one vector, as a run keeps them).

    For state that outlives the call (a run's starting point): a view would still change
    when the caller writes to the array it came from.
    """
    return tuple(Dense(read_only_copy(layer.W), read_only_copy(layer.b)) for layer in params)
