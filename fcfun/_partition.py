"""Optimizers that act on a subset of the parameters: masks and labels, as in optax.

fcfun's parameters are a tuple of ``Dense(W, b)``, so a mask or a labelling has the same
shape: a tuple with one ``Leaves(W=..., b=...)`` per layer, of ``bool`` for a mask and of
``str`` for labels (a mypy error where the structure is wrong, a ``ValueError`` naming the
layer where its length is).

An inner optimizer sees the whole tree with the leaves it does not own replaced by empty
arrays (on the flat vectors: the elements of the leaves it owns, taken along the last
axis), so every piece (elementwise, or a global norm over the leaves it owns) runs
unchanged and its state holds only what it needs; the updates of the other leaves pass
through untouched (``masked``) or come from their own label's optimizer
(``multi_transform``). Both have flat updates when their inner optimizers do (a mask
picks whole leaves, the same for each member of a stacked ensemble).

>>> import fcfun, numpy as np
>>> spec = fcfun.mlp([3, 4, 2], output="softmax", loss="softmax_cross_entropy")
>>> decay_weights_only = masked(fcfun.add_decayed_weights(0.1), weights_only(spec))
>>> optimizer = fcfun.chain(decay_weights_only, fcfun.scale_by_learning_rate(0.5))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np

from fcfun._flat import views
from fcfun._optimizers import (
    EmptyState,
    FlatParams,
    Optimizer,
    Update,
    from_flat,
    in_sequence,
)
from fcfun._spec import MLP, check_spec
from fcfun._types import Dense, FloatArray, IntArray, Params, freeze
from fcfun._validation import describe

T = TypeVar("T")


class Leaves(NamedTuple, Generic[T]):
    """One layer's ``W`` and ``b`` as something other than arrays: a mask or labels."""

    W: T
    b: T


Mask = tuple[Leaves[bool], ...]
"""Which leaves an optimizer acts on, one ``Leaves(W, b)`` of bools per layer."""

Labels = tuple[Leaves[str], ...]
"""Each leaf's label, one ``Leaves(W, b)`` of strs per layer."""


def weights_only(spec: MLP) -> Mask:
    """The mask of every ``W`` and no ``b`` (scikit-learn's ``alpha`` decays weights only).

    >>> import fcfun
    >>> weights_only(fcfun.mlp([2, 3, 1], output="identity", loss="half_squared_error"))
    (Leaves(W=True, b=False), Leaves(W=True, b=False))
    """
    return tuple(Leaves(True, False) for _ in range(check_spec(spec).n_layers))


def layer_labels(*names: str) -> Labels:
    """Labels by layer: layer ``l``'s ``W`` and ``b`` are both ``names[l]``.

    >>> layer_labels("frozen", "train")
    (Leaves(W='frozen', b='frozen'), Leaves(W='train', b='train'))
    """
    return tuple(Leaves(name, name) for name in names)


class MaskedState(NamedTuple):
    """The state of ``masked``: the inner optimizer's state on the masked leaves."""

    inner: Any


class MultiTransformState(NamedTuple):
    """The state of ``multi_transform``: one inner state per label, in sorted label order."""

    states: tuple[Any, ...]


def _restricted(tree: Params, mask: Mask) -> Params:
    """``tree`` with the leaves outside ``mask`` replaced by empty arrays of their kind."""
    return tuple(
        Dense(
            layer.W if keep.W else np.empty((*layer.W.shape[:-2], 0, 0), layer.W.dtype),
            layer.b if keep.b else np.empty((*layer.b.shape[:-1], 0), layer.b.dtype),
        )
        for layer, keep in zip(tree, mask, strict=True)
    )


def _check_structure(tree: Params, leaves: tuple[Leaves[Any], ...], name: str) -> None:
    if not isinstance(leaves, tuple) or len(leaves) != len(tree):
        count = len(leaves) if isinstance(leaves, tuple) else describe(leaves)
        raise ValueError(
            f"{name} must hold one Leaves(W, b) per layer, {len(tree)} for these params, "
            f"got {count}"
        )
    for index, layer in enumerate(leaves):
        if not isinstance(layer, Leaves):
            raise ValueError(f"{name}[{index}] must be a Leaves(W, b), got {describe(layer)}")


def _check_leaves(leaves: object, kind: type, name: str) -> None:
    """A tuple of ``Leaves`` whose values are of ``kind`` (bool for a mask, str for labels)."""
    if not isinstance(leaves, tuple):
        raise TypeError(
            f"{name} must be a tuple of Leaves(W, b), one per layer, got {describe(leaves)}"
        )
    for index, layer in enumerate(leaves):
        if not isinstance(layer, Leaves) or not all(isinstance(v, kind) for v in layer):
            raise TypeError(
                f"{name}[{index}] must be a Leaves(W, b) of {kind.__name__}, got {describe(layer)}"
            )


def _check_optimizer(value: object, name: str) -> None:
    if not isinstance(value, Optimizer):
        raise TypeError(f"{name} must be an fcfun Optimizer, got {describe(value)}")
    if value.step_with_objective is not None:
        raise ValueError(
            f"{name} must be an optimizer of updates to act on part of the parameters, got "
            "one that steps with its objective (a line search, as lbfgs); train with it alone"
        )


def masked(inner: Optimizer[Any], mask: Mask) -> Optimizer[MaskedState]:
    """``inner`` on the leaves ``mask`` marks; the other leaves' updates pass unchanged.

    Args:
        inner: the optimizer to apply to the masked leaves.
        mask: one ``Leaves(W, b)`` of bools per layer (``weights_only(spec)``, ...).

    Returns:
        An optimizer whose state is ``MaskedState(inner_state)``.
    """
    _check_optimizer(inner, "inner")
    _check_leaves(mask, bool, "mask")

    def init(params: Params) -> MaskedState:
        _check_structure(params, mask, "mask")
        return MaskedState(inner.init(_restricted(params, mask)))

    def combine(grads: Params, inner_updates: Params) -> Params:
        return tuple(
            Dense(update.W if keep.W else layer.W, update.b if keep.b else layer.b)
            for layer, update, keep in zip(grads, inner_updates, mask, strict=True)
        )

    def apply(update: Update[Any]) -> Update[MaskedState]:
        def run(grads: Params, state: MaskedState, params: Params) -> tuple[Params, MaskedState]:
            updates, inner_state = update(
                _restricted(grads, mask), state.inner, _restricted(params, mask)
            )
            return combine(grads, updates), MaskedState(inner_state)

        return run

    kernel = inner.update_flat
    if kernel is None:
        pure = apply(inner.update)

        def update(grads: Params, state: MaskedState, params: Params) -> tuple[Params, MaskedState]:
            updates, new_state = pure(grads, state, params)
            return tuple(Dense(freeze(u.W), freeze(u.b)) for u in updates), new_state

        return Optimizer(init, update)
    selections: dict[tuple[tuple[int, ...], ...], IntArray] = {}  # a memo by layer shapes

    def on_vector(
        g: FloatArray, state: MaskedState, params: FlatParams
    ) -> tuple[FloatArray, MaskedState]:
        shapes = tuple(a.shape for layer in params.layers for a in layer)
        index = selections.get(shapes)
        if index is None:
            index = selections.setdefault(shapes, _selection(params.layers, mask))
        restricted = _restricted(params.layers, mask)
        vector = np.take(params.vector, index, axis=-1)  # C-ordered, as a member's alone
        updates, inner_state = kernel(
            np.take(g, index, axis=-1), state.inner, FlatParams(vector, views(restricted, vector))
        )
        g[..., index] = updates  # donated; the other elements' updates pass unchanged
        return g, MaskedState(inner_state)

    return from_flat(init, on_vector)


def _selection(layers: Params, mask: Mask) -> IntArray:
    """The positions, along the flat layout's last axis, of the leaves ``mask`` marks."""
    members = layers[0].W.size // (layers[0].W.shape[-2] * layers[0].W.shape[-1])
    parts, start = [], 0
    for layer, keep in zip(layers, mask, strict=True):
        for array, kept in ((layer.W, keep.W), (layer.b, keep.b)):
            size = array.size // members
            if kept:
                parts.append(np.arange(start, start + size))
            start += size
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.intp)


def set_to_zero() -> Optimizer[EmptyState]:
    """Updates of zero: with ``masked`` or ``multi_transform``, frozen parameters.

    >>> import fcfun, numpy as np
    >>> p = (fcfun.Dense(np.ones((1, 1)), np.ones(1)),)
    >>> set_to_zero().update(p, EmptyState(), p)[0][0].W
    array([[0.]])
    """

    def init(params: Params) -> EmptyState:
        return EmptyState()

    def update(
        g: FloatArray, state: EmptyState, params: FlatParams
    ) -> tuple[FloatArray, EmptyState]:
        g.fill(0.0)
        return g, state

    return from_flat(init, update)


def multi_transform(
    transforms: Mapping[str, Optimizer[Any]], labels: Labels
) -> Optimizer[MultiTransformState]:
    """Each leaf updated by the optimizer of its label (optax's ``multi_transform``).

    Args:
        transforms: an optimizer per label.
        labels: one ``Leaves(W, b)`` of labels per layer; every label must have a
            transform (``ValueError`` naming the first that has none).

    Returns:
        An optimizer whose state is ``MultiTransformState`` of the transforms' states on
        their leaves, in sorted label order.
    """
    if not isinstance(transforms, Mapping) or not all(isinstance(k, str) for k in transforms):
        raise TypeError(
            f"transforms must map labels (str) to optimizers, got {describe(transforms)}"
        )
    for label, transform in transforms.items():
        _check_optimizer(transform, f"transforms[{label!r}]")
    _check_leaves(labels, str, "labels")
    names: Sequence[str] = sorted(transforms)
    used = {label for layer in labels for label in layer}
    missing = sorted(used - set(names))
    if missing:
        raise ValueError(
            f"labels must name transforms that exist ({', '.join(names)}), got {missing[0]!r}"
        )
    parts = [
        masked(transforms[name], tuple(Leaves(leaf.W == name, leaf.b == name) for leaf in labels))
        for name in names
    ]

    def init(params: Params) -> MultiTransformState:
        _check_structure(params, labels, "labels")
        return MultiTransformState(tuple(part.init(params) for part in parts))

    def update(
        grads: Params, state: MultiTransformState, params: Params
    ) -> tuple[Params, MultiTransformState]:
        updates, new_states = grads, []
        for part, name, inner in zip(parts, names, state.states, strict=True):
            part_updates, inner = part.update(grads, inner, params)
            updates = _take(updates, part_updates, labels, name)
            new_states.append(inner)
        return updates, MultiTransformState(tuple(new_states))

    kernels = [part.update_flat for part in parts]
    if not all(kernel is not None for kernel in kernels):
        return Optimizer(init, update)
    # Each part replaces the updates of its own (disjoint) leaves and reads only theirs,
    # so in sequence every part sees the raw gradients of its leaves.
    run = in_sequence([kernel for kernel in kernels if kernel is not None])

    def on_vector(
        g: FloatArray, state: MultiTransformState, params: FlatParams
    ) -> tuple[FloatArray, MultiTransformState]:
        updates, states = run(g, state.states, params)
        return updates, MultiTransformState(states)

    return from_flat(init, on_vector)


def _take(updates: Params, part: Params, labels: Labels, name: str) -> Params:
    """``updates`` with the leaves labelled ``name`` taken from ``part``."""
    return tuple(
        Dense(new.W if label.W == name else old.W, new.b if label.b == name else old.b)
        for old, new, label in zip(updates, part, labels, strict=True)
    )
