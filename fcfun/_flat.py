"""One vector per network: the parameters' layers are views into one contiguous array.

A network with layers ``(n_0, n_1), (n_1, n_2), ...`` has ``P = sum_l n_l n_{l+1} +
n_{l+1}`` parameters, laid out layer by layer, each layer's ``W`` (row-major, the
``(n_in, n_out)`` of scikit-learn's ``coefs_``) then its ``b``: the order in which a
tree walk meets them (``params/0/W``, ``params/0/b``, ``params/1/W``, ...). ``init``
builds parameters that way, the backward pass writes every layer's gradient into one
fresh vector, and the optimizer pieces step the vector with one set of numpy calls
whatever the depth.

Leading axes are members: a ``(k, P)`` stack holds ``k`` networks, and its layers are
``(k, n_in, n_out)`` and ``(k, 1, n_out)`` views (the layout ``fit_ensemble`` trains).

``flat(params)`` returns the vector behind ``params`` without copying when they are
views of one vector in this layout, else packs them into a new one; ``unflat(spec,
vector)`` is the inverse, views of the vector (of a contiguous copy when it is not
contiguous). Both results are read-only.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from fcfun._types import Dense, FloatArray, Params, freeze, seal
from fcfun._validation import describe


class LayerViews(tuple[Dense, ...]):
    """Layers that are the views of one whole vector in the flat layout: ``views`` and
    ``layer_views`` return them when their vector owns its memory, so that ``backing``
    finds the vector in one read (``self[0].W.base``, the memory's owner) instead of
    checking every array's offset. A plain tuple to everything else; it pickles and
    copies as one (its arrays then no longer share a vector)."""

    __slots__ = ()

    def __reduce__(self) -> tuple[type[tuple[Dense, ...]], tuple[tuple[Dense, ...]]]:
        return tuple, (tuple(self),)


def _arrays(params: Params) -> list[FloatArray]:
    return [a for layer in params for a in layer]


def _as_layers(layers: list[Dense], vector: FloatArray, end: int) -> Params:
    """``layers`` as ``LayerViews`` when they end at ``vector``'s end (``end``) and
    ``vector`` is the whole of its memory (its views' ``base``), else a plain tuple."""
    owner = vector if vector.base is None else vector.base
    whole = (
        end == vector.shape[-1]
        and isinstance(owner, np.ndarray)
        and owner.shape == vector.shape
        and owner.dtype == vector.dtype
        and vector.flags.c_contiguous
        and owner.flags.c_contiguous
    )
    return LayerViews(layers) if whole and layers else tuple(layers)


def views(template: Params, vector: FloatArray) -> Params:
    """``vector`` ``(..., P)`` as layers shaped like ``template``'s arrays: views, no copy.

    Unchecked: ``vector``'s last axis must hold exactly ``template``'s elements per
    member (``template`` may be stacked, its arrays with the leading axes of ``vector``).
    The views are as writeable as ``vector``. (It runs twice a training step: the 1-D
    case slices without an ellipsis and leaves a 1-D ``b`` unreshaped.)
    """
    layers = []
    start = 0
    if vector.ndim == 1:
        for W, b in template:
            w_end = start + W.size
            b_end = w_end + b.size
            bias = vector[w_end:b_end]
            layers.append(
                Dense(
                    vector[start:w_end].reshape(W.shape),
                    bias if b.ndim == 1 else bias.reshape(b.shape),
                )
            )
            start = b_end
        return _as_layers(layers, vector, start)
    per_member = int(np.prod(vector.shape[:-1], dtype=np.int64))
    for W, b in template:
        w_end = start + W.size // per_member
        b_end = w_end + b.size // per_member
        layers.append(
            Dense(
                vector[..., start:w_end].reshape(W.shape), vector[..., w_end:b_end].reshape(b.shape)
            )
        )
        start = b_end
    return _as_layers(layers, vector, start)


def layer_views(sizes: tuple[int, ...], vector: FloatArray) -> Params:
    """``vector`` ``(..., P)`` as the layers of a network of ``sizes``: views, no copy
    (stacked ``b`` are ``(k, 1, n_out)``); unchecked."""
    lead = vector.shape[:-1]
    bias_lead = (*lead, 1) if lead else ()
    layers = []
    start = 0
    for n_in, n_out in pairwise(sizes):
        w_end = start + n_in * n_out
        b_end = w_end + n_out
        layers.append(
            Dense(
                vector[..., start:w_end].reshape(*lead, n_in, n_out),
                vector[..., w_end:b_end].reshape(*bias_lead, n_out),
            )
        )
        start = b_end
    return _as_layers(layers, vector, start)


def n_params(sizes: tuple[int, ...]) -> int:
    """``P``, the number of parameters of a network of ``sizes``."""
    return sum(n_in * n_out + n_out for n_in, n_out in pairwise(sizes))


def size_of(params: Params) -> int:
    """``P`` of ``params`` (per member, for stacked members)."""
    lead = _lead(params)
    members = int(np.prod(lead, dtype=np.int64)) if lead else 1
    return sum(a.size for a in _arrays(params)) // members


def _lead(params: Params) -> tuple[int, ...]:
    """The members' leading axes: those of the first ``W`` beyond its ``(n_in, n_out)``."""
    return params[0].W.shape[:-2]


def backing(params: Params) -> FloatArray | None:
    """The vector whose views ``params`` are, in the flat layout, or ``None``.

    Checks that every array is a C-contiguous view of one array that holds exactly the
    layers, at the offsets of the layout: a tree that shares a buffer in another order
    is not the vector's.
    """
    first = params[0].W
    base = first.base
    if type(params) is LayerViews:  # built by views: the whole of its vector's memory
        return base
    if not isinstance(base, np.ndarray) or not base.flags.c_contiguous:
        return None
    lead = _lead(params)
    if base.shape[:-1] != lead:
        return None
    itemsize = base.dtype.itemsize
    address = base.__array_interface__["data"][0]
    members = int(np.prod(lead, dtype=np.int64)) if lead else 1
    member_strides = base.strides[:-1]  # from one member's row to the next
    offset = 0
    for array in _arrays(params):
        if array.base is not base or array.dtype != base.dtype:
            return None
        per_member = array.size // members
        # Each member's part must be contiguous and start at its offset in its row.
        if array.__array_interface__["data"][0] != address + offset * itemsize:
            return None
        if array.strides[: len(lead)] != member_strides:
            return None
        if not _contiguous_tail(array, len(lead)):
            return None
        offset += per_member
    if offset != base.shape[-1]:
        return None
    return base


def _contiguous_tail(array: FloatArray, skip: int) -> bool:
    """Whether ``array``'s axes after the first ``skip`` are C-contiguous."""
    step = array.dtype.itemsize
    for size, stride in zip(
        reversed(array.shape[skip:]), reversed(array.strides[skip:]), strict=True
    ):
        if size != 1 and stride != step:
            return False
        step *= size
    return True


def pack(params: Params, dtype: np.dtype[Any] | None = None) -> FloatArray:
    """A new writeable ``(..., P)`` vector holding ``params`` in the flat layout (in
    ``dtype``, or the first ``W``'s)."""
    if dtype is None and len({a.dtype for a in _arrays(params)}) > 1:
        raise ValueError(
            "params must be of one float dtype (one vector holds them), got "
            + ", ".join(sorted({str(a.dtype) for a in _arrays(params)}))
        )
    lead = _lead(params)
    members = int(np.prod(lead, dtype=np.int64)) if lead else 1
    parts = [a.reshape(*lead, a.size // members) for a in _arrays(params)]
    target = params[0].W.dtype if dtype is None else dtype
    total = sum(part.shape[-1] for part in parts)
    out = np.empty((*lead, total), dtype=target)
    start = 0
    for part in parts:
        end = start + part.shape[-1]
        out[..., start:end] = part
        start = end
    return out


def vector_of(params: Params) -> FloatArray:
    """The vector behind ``params`` if they are its views (no copy), else a new packed
    one; as writeable as it is (unchecked, the core's ``flat``)."""
    base = backing(params)
    return pack(params) if base is None else base


def owned(params: Params) -> Params:
    """``params`` as a run keeps them: views of one read-only vector that nobody else can
    write (``params`` themselves when they are that already, else a packed copy)."""
    base = backing(params)
    if base is not None and not base.flags.writeable:
        return params if type(params) is LayerViews else views(params, base)
    return views(params, seal(pack(params)))


def flat(params: Params) -> FloatArray:
    """The one read-only vector that holds every parameter, layer by layer (``W`` then ``b``).

    No copy when ``params`` are the views of one vector (every network ``init``, ``fit``
    and the optimizers build); parameters built by hand are packed into a new vector.
    Stacked members (``(k, n_in, n_out)`` and ``(k, 1, n_out)``) give a ``(k, P)`` stack.

    >>> import fcfun
    >>> spec = fcfun.mlp([3, 2, 1], output="identity", loss="half_squared_error")
    >>> params = fcfun.init(spec, seed=0)
    >>> vector = fcfun.flat(params)
    >>> vector.shape, np.shares_memory(vector, params[1].b), vector.flags.writeable
    ((11,), True, False)
    """
    _check_tree(params, "params")
    base = backing(params)
    if base is None:
        return seal(pack(params))
    return freeze(base)


def _check_tree(params: object, name: str) -> None:
    if (
        not isinstance(params, tuple)
        or not params
        or not all(
            isinstance(layer, Dense)
            and isinstance(layer.W, np.ndarray)
            and isinstance(layer.b, np.ndarray)
            for layer in params
        )
    ):
        raise TypeError(
            f"{name} must be a non-empty tuple of Dense(W, b) of numpy arrays, got "
            f"{describe(params)}"
        )
