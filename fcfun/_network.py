"""Networks of any depth: a static spec, initial params, forward, backward and loss.

Public functions validate their arguments once and call the unchecked ``_``-prefixed
versions, which the training loop calls directly on data checked once per ``fit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from fcfun._activations import (
    Activation,
    ActivationName,
    backward_in_place,
    forward_in_place,
    parse_activation,
    relu,
)
from fcfun._initializers import Initializer, glorot_uniform, zeros
from fcfun._layers import affine, owned_linear_grads, seal_tree
from fcfun._losses import (
    Loss,
    LossName,
    parse_loss,
    softmax_cross_entropy,
    softmax_cross_entropy_delta,
)
from fcfun._types import (
    Caches,
    Dense,
    DenseCache,
    FloatArray,
    FloatDType,
    Params,
    freeze,
)
from fcfun._validation import (
    check_float_dtype,
    check_real,
    check_seed,
    check_sizes,
    check_targets,
    check_X,
    describe,
    params_dtype,
)


class MLP(NamedTuple):
    """A fully connected network's static description (hashable, comparable).

    Attributes:
        sizes: ``(n_in, n_hidden..., n_out)``.
        activations: one per layer, ``len(sizes) - 1`` of them; the last is the output's.
        loss: the training loss.
    """

    sizes: tuple[int, ...]
    activations: tuple[Activation, ...]
    loss: Loss

    @property
    def n_layers(self) -> int:
        """Number of ``Dense`` layers."""
        return len(self.sizes) - 1

    @property
    def output(self) -> Activation:
        """The output layer's activation."""
        return self.activations[-1]

    @property
    def fused(self) -> bool:
        """True when the output activation is the loss's link: ``dZ = (A - Y) / m``."""
        return self.output is self.loss.link


def mlp(
    sizes: Sequence[int],
    *,
    hidden: Activation | ActivationName | Sequence[Activation | ActivationName] = relu,
    output: Activation | ActivationName,
    loss: Loss | LossName,
) -> MLP:
    """Describe a network: layer sizes, hidden activations, output activation and loss.

    Args:
        sizes: ``[n_in, n_hidden..., n_out]``, at least two positive integers.
        hidden: one activation for every hidden layer, or one per hidden layer; an
            ``Activation`` or its name.
        output: the output layer's activation, or its name.
        loss: the loss to train with, or its name.

    >>> import fcfun
    >>> spec = fcfun.mlp([4, 8, 3], output=fcfun.softmax, loss=fcfun.softmax_cross_entropy)
    >>> [a.name for a in spec.activations], spec.fused
    (['relu', 'softmax'], True)
    >>> fcfun.mlp([4, 8, 3], hidden="tanh", output="softmax", loss="softmax_cross_entropy") == (
    ...     fcfun.mlp([4, 8, 3], hidden=fcfun.tanh, output=fcfun.softmax,
    ...               loss=fcfun.softmax_cross_entropy))
    True
    """
    checked = check_sizes(sizes)
    n_hidden = len(checked) - 2
    if isinstance(hidden, Activation | str):
        hidden_activations = (_activation_arg(hidden, "hidden"),) * n_hidden
    else:
        if not isinstance(hidden, Sequence):
            raise TypeError(
                f"hidden must be an Activation, a name or a sequence of them, "
                f"got {describe(hidden)}"
            )
        hidden_activations = tuple(_activation_arg(a, f"hidden[{i}]") for i, a in enumerate(hidden))
        if len(hidden_activations) != n_hidden:
            raise ValueError(
                f"hidden must be one activation or a sequence of {n_hidden} (one per hidden "
                f"layer of sizes {checked}), got {len(hidden_activations)}"
            )
    output_activation = _activation_arg(output, "output")
    if isinstance(loss, str):
        loss = parse_loss(loss)
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be an fcfun Loss or a loss name, got {describe(loss)}")
    if loss is softmax_cross_entropy and checked[-1] < 2:
        raise ValueError(
            f"sizes[-1] must be at least 2 for softmax_cross_entropy (one output per class), "
            f"got {checked[-1]}; for two classes use one output with sigmoid and "
            "binary_cross_entropy"
        )
    return MLP(checked, (*hidden_activations, output_activation), loss)


def _activation_arg(value: object, name: str) -> Activation:
    if isinstance(value, str):
        return parse_activation(value)
    if not isinstance(value, Activation):
        raise TypeError(
            f"{name} must be an fcfun Activation or an activation name, got {describe(value)}"
        )
    return value


def init(
    spec: MLP,
    seed: int,
    *,
    dtype: FloatDType = np.float64,
    weights: Initializer = glorot_uniform,
) -> Params:
    """Initial parameters: ``weights`` for every ``W``, zeros for every ``b``.

    Layer ``l`` draws from its own stream, ``SeedSequence(seed).spawn(n_layers)[l]``.

    >>> import fcfun
    >>> spec = fcfun.mlp([3, 2, 1], output=fcfun.sigmoid, loss=fcfun.binary_cross_entropy)
    >>> [p.W.shape for p in fcfun.init(spec, seed=0)]
    [(3, 2), (2, 1)]
    """
    spec = _check_spec(spec)
    seed = check_seed(seed)
    resolved = check_float_dtype(dtype)
    streams = np.random.SeedSequence(seed).spawn(spec.n_layers)
    layers: list[Dense] = []
    for stream, n_in, n_out in zip(streams, spec.sizes, spec.sizes[1:], strict=False):
        W = weights(stream, n_in, n_out, resolved)
        if not (isinstance(W, np.ndarray) and W.shape == (n_in, n_out) and W.dtype == resolved):
            raise ValueError(
                f"weights must return a {resolved} array of shape {(n_in, n_out)} for "
                f"layer {len(layers)}, got {describe(W)}"
            )
        if not np.isfinite(W).all():
            raise ValueError("weights must return finite values, got NaN or inf")
        layers.append(Dense(freeze(W), zeros(n_out, resolved)))
    return tuple(layers)


# Unchecked math: the hot path ------------------------------------------------------


def _forward(spec: MLP, params: Params, X: FloatArray) -> tuple[FloatArray, Caches]:
    caches = []
    A = X
    for layer, activation in zip(params, spec.activations, strict=True):
        X_layer = A
        Z = affine(layer, X_layer)
        A = activation.forward(Z)
        caches.append(DenseCache(X_layer, Z, A))
    return A, tuple(caches)


def _loss_value(spec: MLP, caches: Caches, Y: FloatArray) -> float:
    last = caches[-1]
    return spec.loss.link_value(last.Z, Y) if spec.fused else spec.loss.value(last.A, Y)


def _output_delta(spec: MLP, last: DenseCache, Y: FloatArray) -> FloatArray:
    """``dZ`` of the output layer, fused when the output activation is the loss's link."""
    if spec.fused:
        dZ = last.A - Y
        dZ /= Y.shape[0]
        return dZ
    return spec.output.backward(spec.loss.grad(last.A, Y), last.Z, last.A)


def _backward(
    spec: MLP, params: Params, caches: Caches, Y: FloatArray, alpha: float = 0.0
) -> Params:
    dZ = _output_delta(spec, caches[-1], Y)
    hidden = caches[:-1]
    inputs = [cache.X for cache in caches]
    grads = _owned_gradients(
        spec, params, inputs, [c.Z for c in hidden], [c.A for c in hidden], dZ, alpha
    )
    return seal_tree(grads)


def _owned_gradients(
    spec: MLP,
    params: Params,
    inputs: Sequence[FloatArray],
    hidden_Z: Sequence[FloatArray],
    hidden_A: Sequence[FloatArray],
    dZ: FloatArray,
    alpha: float = 0.0,
) -> Params:
    """The gradients from the output layer's ``dZ`` (owned: it may be overwritten), left
    writeable: fresh arrays that the caller owns.

    ``inputs[l]`` is layer ``l``'s input; ``hidden_Z[l]`` and ``hidden_A[l]`` are hidden
    layer ``l``'s pre-activation and activation (plain lists, not ``DenseCache``: the
    training step builds them on every batch).
    """
    grads: list[Dense] = []
    decay = alpha / dZ.shape[0]
    activations = spec.activations
    for index in range(len(params) - 1, -1, -1):
        layer = params[index]
        grads.append(owned_linear_grads(layer, inputs[index], dZ, decay))
        if index > 0:  # the gradient with respect to the network input is never needed
            below = index - 1
            dA = dZ @ layer.W.T
            dZ = backward_in_place(activations[below], dA, hidden_Z[below], hidden_A[below])
    grads.reverse()
    return tuple(grads)


def _penalty(params: Params, alpha: float, m: int) -> float:
    """``alpha / (2 m) * sum_l ||W_l||^2`` (scikit-learn's L2 convention)."""
    if alpha == 0:
        return 0.0
    return alpha / (2 * m) * sum(float(np.vdot(layer.W, layer.W)) for layer in params)


def _training_forward(
    spec: MLP, params: Params, X: FloatArray
) -> tuple[FloatArray, list[FloatArray], list[FloatArray]]:
    """The output layer's logits ``Z``, each layer's input and each hidden layer's ``Z``.

    For ``_loss_and_owned_grad`` only. Hidden activations overwrite their fresh ``Z`` where
    ``forward_in_place`` allows, and then the hidden ``Z`` is the activation itself; the
    activations are ``inputs[1:]``.
    """
    inputs = [X]
    hidden_Z: list[FloatArray] = []
    A = X
    for layer, activation in zip(params[:-1], spec.activations, strict=False):
        Z, A = forward_in_place(activation, affine(layer, A))
        hidden_Z.append(Z)
        inputs.append(A)
    return affine(params[-1], A), inputs, hidden_Z


def _output_loss_and_delta(spec: MLP, Z: FloatArray, Y: FloatArray) -> tuple[float, FloatArray]:
    """Loss and output ``dZ`` from the output layer's fresh logits ``Z`` (may overwrite it)."""
    if spec.fused and spec.loss is softmax_cross_entropy:
        return softmax_cross_entropy_delta(Z, Y)
    A = spec.output.forward(Z)
    last = DenseCache(Z, Z, A)
    return _loss_value(spec, (last,), Y), _output_delta(spec, last, Y)


def _loss_and_grad(
    spec: MLP, params: Params, X: FloatArray, Y: FloatArray, alpha: float = 0.0
) -> tuple[float, Params]:
    value, grads = _loss_and_owned_grad(spec, params, X, Y, alpha)
    return value, seal_tree(grads)


def _loss_and_owned_grad(
    spec: MLP, params: Params, X: FloatArray, Y: FloatArray, alpha: float = 0.0
) -> tuple[float, Params]:
    """``_loss_and_grad`` with the gradients left writeable, for a caller that owns them."""
    Z, inputs, hidden_Z = _training_forward(spec, params, X)
    value, dZ = _output_loss_and_delta(spec, Z, Y)
    value += _penalty(params, alpha, X.shape[0])
    return value, _owned_gradients(spec, params, inputs, hidden_Z, inputs[1:], dZ, alpha)


def _predict(spec: MLP, params: Params, X: FloatArray, chunk_size: int) -> FloatArray:
    out = np.empty((X.shape[0], spec.sizes[-1]), dtype=params[0].W.dtype)
    for start in range(0, X.shape[0], chunk_size):
        A = X[start : start + chunk_size]
        for layer, activation in zip(params, spec.activations, strict=True):
            _, A = forward_in_place(activation, affine(layer, A))
        out[start : start + chunk_size] = A
    return out


# Public, checked -------------------------------------------------------------------


def _check_spec(spec: object) -> MLP:
    if not isinstance(spec, MLP):
        raise TypeError(f"spec must be an fcfun MLP (from fcfun.mlp), got {describe(spec)}")
    return spec


def _checked(
    spec: object, params: object, X: object, Y: object = None
) -> tuple[MLP, Params, FloatArray, FloatArray]:
    checked_spec = _check_spec(spec)
    dtype = params_dtype(checked_spec, params)
    assert isinstance(params, tuple)
    X_checked = check_X(X, checked_spec.sizes[0], dtype)
    if Y is None:
        return checked_spec, params, X_checked, X_checked[:0]
    Y_checked = check_targets(checked_spec, Y, X_checked.shape[0], dtype)
    return checked_spec, params, X_checked, Y_checked


def _freeze_caches(caches: Caches) -> Caches:
    return tuple(DenseCache(freeze(c.X), freeze(c.Z), freeze(c.A)) for c in caches)


def forward(spec: MLP, params: Params, X: FloatArray) -> tuple[FloatArray, Caches]:
    """The network's output for a batch ``X`` ``(m, n_in)`` and every layer's cache.

    ``X`` is converted to the parameters' dtype. Output and caches are read-only.
    """
    spec, params, X, _ = _checked(spec, params, X)
    with np.errstate(over="ignore", invalid="ignore"):
        A, caches = _forward(spec, params, X)
    _require_finite("forward pass", X, A)
    return freeze(A), _freeze_caches(caches)


def predict(spec: MLP, params: Params, X: FloatArray, *, chunk_size: int = 8192) -> FloatArray:
    """The network's output for ``X``, computed ``chunk_size`` rows at a time.

    Memory beyond the output is bounded by one chunk's activations, whatever ``m``.

    >>> import fcfun, numpy as np
    >>> spec = fcfun.mlp([2, 3, 1], output=fcfun.sigmoid, loss=fcfun.binary_cross_entropy)
    >>> fcfun.predict(spec, fcfun.init(spec, seed=0), np.zeros((5, 2))).shape
    (5, 1)
    """
    spec, params, X, _ = _checked(spec, params, X)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        A = _predict(spec, params, X, chunk_size)
    _require_finite("forward pass", X, A)
    return freeze(A)


def backward(spec: MLP, params: Params, caches: Caches, Y: Any) -> Params:
    """Gradients of the mean loss with respect to every ``W`` and ``b``.

    Takes the caches of ``forward(spec, params, X)`` and targets ``Y`` for that ``X``.
    Never forms the gradient with respect to the network input.
    """
    spec = _check_spec(spec)
    dtype = params_dtype(spec, params)
    if not isinstance(caches, tuple) or len(caches) != spec.n_layers:
        raise ValueError(
            f"caches must be the {spec.n_layers} caches that forward returned, "
            f"got {describe(caches)}"
        )
    m = caches[-1].A.shape[0] if isinstance(caches[-1], DenseCache) else 0
    for i, (cache, n_in, n_out) in enumerate(zip(caches, spec.sizes, spec.sizes[1:], strict=False)):
        shapes = (m, n_in), (m, n_out), (m, n_out)
        if not isinstance(cache, DenseCache) or any(
            not isinstance(a, np.ndarray) or a.shape != shape or a.dtype != dtype
            for a, shape in zip(cache, shapes, strict=True)
        ):
            given = (
                ", ".join(
                    f"{field} {describe(a)}" for field, a in zip(cache._fields, cache, strict=True)
                )
                if isinstance(cache, DenseCache)
                else describe(cache)
            )
            raise ValueError(
                f"caches[{i}] must be forward's DenseCache(X, Z, A) with shapes {shapes} and "
                f"dtype {dtype}, got {given}"
            )
    Y = check_targets(spec, Y, caches[-1].A.shape[0], dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        grads = _backward(spec, params, caches, Y)
    _require_finite("backward pass", caches[0].X, *(a for g in grads for a in g))
    return grads


def loss_and_grad(
    spec: MLP, params: Params, X: FloatArray, Y: Any, *, alpha: float = 0.0
) -> tuple[float, Params]:
    """The mean loss over the batch and its gradient with respect to ``params``.

    ``alpha`` adds scikit-learn's L2 penalty on the weights (not the biases):
    ``loss + alpha / (2 m) * sum_l ||W_l||^2``, whose gradient adds ``alpha / m * W_l``.

    >>> import fcfun, numpy as np
    >>> spec = fcfun.mlp([2, 1], output=fcfun.identity, loss=fcfun.half_squared_error)
    >>> params = (fcfun.Dense(np.array([[1.0], [2.0]]), np.array([0.5])),)
    >>> loss, grads = fcfun.loss_and_grad(spec, params, np.array([[1.0, 1.0]]), np.array([3.0]))
    >>> loss, grads[0].W.ravel().tolist(), grads[0].b.tolist()
    (0.125, [0.5, 0.5], [0.5])
    """
    alpha = check_real(alpha, "alpha", low=0.0)
    spec, params, X, Y_checked = _checked(spec, params, X, Y)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grads = _loss_and_grad(spec, params, X, Y_checked, alpha)
    _require_finite("loss", X, np.asarray(loss), *(a for g in grads for a in g))
    return loss, grads


def _require_finite(what: str, X: FloatArray, *results: FloatArray) -> None:
    """Refuse a result that overflowed (finite inputs can still exceed the dtype's range)."""
    if all(np.isfinite(r).all() for r in results):
        return
    largest = float(np.abs(X).max())
    raise ValueError(
        f"X must be small enough for the {what} to stay within {X.dtype}'s range "
        f"with these params, got X with largest magnitude {largest:.3g} and a non-finite result"
    )
