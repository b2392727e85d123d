"""A network is a fold of its layers: one forward and one backward, on every path.

``forward_pass`` folds ``dense_forward`` over the layers and ``backward_pass`` folds
``dense_backward`` back; ``forward``, ``predict`` (chunked), ``backward``,
``loss_and_grad``, the training step and the sharded gradients all run these two.
A loss whose link is the output activation (``spec.fused``) takes the output layer's
logits: the training passes run that layer as identity and let the loss compute its
value and ``dZ`` from ``Z`` (``link_value_and_grad``).

Public functions validate their arguments once and run with the BLAS single-threaded
(``_blas``: the bits do not depend on the thread count); ``value_and_grad`` is the
unchecked core the training loop calls on data checked once per ``fit``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fcfun._activations import Activation, identity
from fcfun._blas import fixed_threads
from fcfun._dropout import Masks, StepKey, check_key, sealed, step_masks
from fcfun._flat import layer_views, n_params, size_of, views
from fcfun._initializers import Initializer, glorot_uniform
from fcfun._layers import dense_backward, dense_forward
from fcfun._losses import (
    SampleWeight,
    link_delta,
    link_value_and_grad,
    weighted,
    weighted_value,
    weighted_value_and_grad,
)
from fcfun._sources import Rows, check_rows, read_chunk, read_rows
from fcfun._spec import (
    MLP,
    check_sample_weight,
    check_spec,
    check_targets,
    params_dtype,
    scaled_alpha,
    scaled_weight,
)
from fcfun._types import (
    Caches,
    DenseCache,
    FloatArray,
    FloatDType,
    Params,
    freeze,
    seal,
    seal_tree,
)
from fcfun._validation import (
    check_float_dtype,
    check_int,
    check_real,
    check_seed,
    check_X,
    describe,
)


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
    spec = check_spec(spec)
    seed = check_seed(seed)
    resolved = check_float_dtype(dtype)
    streams = np.random.SeedSequence(seed).spawn(spec.n_layers)
    vector = np.zeros(n_params(spec.sizes), dtype=resolved)  # every b starts at zero
    layers = layer_views(spec.sizes, vector)
    for index, (stream, n_in, n_out) in enumerate(
        zip(streams, spec.sizes, spec.sizes[1:], strict=False)
    ):
        W = weights(stream, n_in, n_out, resolved)
        if not (isinstance(W, np.ndarray) and W.shape == (n_in, n_out) and W.dtype == resolved):
            raise ValueError(
                f"weights must return a {resolved} array of shape {(n_in, n_out)} for "
                f"layer {index}, got {describe(W)}"
            )
        if not np.isfinite(W).all():
            raise ValueError("weights must return finite values, got NaN or inf")
        layers[index].W[...] = W
    return layer_views(spec.sizes, seal(vector))  # read-only views of a read-only vector


def unflat(spec: MLP, vector: Any) -> Params:
    """The parameters held by one vector of the flat layout (``flat``'s inverse): views of
    it, no copy, read-only.

    ``vector`` is ``(P,)`` for one network, or ``(k, P)`` for ``k`` stacked members
    (layers ``(k, n_in, n_out)`` and ``(k, 1, n_out)``), of float32 or float64; ``P`` is
    the spec's parameter count, layer by layer, ``W`` (row-major) then ``b``.

    >>> import fcfun, numpy as np
    >>> spec = fcfun.mlp([2, 3, 1], output="identity", loss="half_squared_error")
    >>> params = fcfun.unflat(spec, np.arange(13.0))
    >>> params[0].W.tolist(), params[0].b.tolist(), params[1].b.tolist()
    ([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], [6.0, 7.0, 8.0], [12.0])
    """
    spec = check_spec(spec)
    size = n_params(spec.sizes)
    if not (
        isinstance(vector, np.ndarray)
        and vector.ndim in (1, 2)
        and vector.shape[-1] == size
        and vector.dtype in (np.float32, np.float64)
    ):
        raise ValueError(
            f"vector must be a float32 or float64 array of shape ({size},) or (k, {size}) "
            f"(the spec's {size} parameters), got {describe(vector)}"
        )
    contiguous = vector if vector.flags.c_contiguous else np.ascontiguousarray(vector)
    return layer_views(spec.sizes, freeze(contiguous))


# The two folds -----------------------------------------------------------------------


def forward_pass(
    params: Params,
    activations: tuple[Activation, ...],
    X: FloatArray,
    *,
    donate: bool,
    masks: Masks = (),
) -> tuple[FloatArray, Caches]:
    """Fold ``dense_forward`` over the layers: the output and every layer's cache.

    ``masks[l]`` (dropout), when given and not ``None``, multiplies hidden layer ``l``'s
    output into a new array that the next layer takes as its input; the layer's own cache
    keeps its unmasked output (what its activation's backward reads).
    """
    caches = []
    A = X
    for index, (layer, activation) in enumerate(zip(params, activations, strict=True)):
        A, cache = dense_forward(layer, activation, A, donate=donate)
        caches.append(cache)
        mask = masks[index] if index < len(masks) else None
        if mask is not None:
            A = A * mask if donate else freeze(A * mask)
    return A, tuple(caches)


def backward_pass(
    params: Params,
    activations: tuple[Activation, ...],
    caches: Caches,
    dA: FloatArray,
    *,
    decay: float = 0.0,
    donate: bool,
    masks: Masks = (),
) -> Params:
    """Fold ``dense_backward`` back over the layers from the output's ``dA``.

    With ``donate`` every ``dA`` is donated to the layer below (the output's is the loss's
    gradient, a new array by the ``Loss`` contract) and the gradients are left writeable.
    ``masks`` are the forward pass's: the gradient reaching a masked hidden output is
    multiplied by its mask. Never forms the gradient with respect to the network input.
    Every layer's gradient is written into one new vector (``(k, P)`` for stacked
    members) in the flat layout of ``_flat``; the returned layers are its views.
    """
    dtype = np.result_type(params[0].W.dtype, dA.dtype)
    vector = np.empty((*params[0].W.shape[:-2], size_of(params)), dtype=dtype)
    grads = views(params, vector)
    for index in range(len(params) - 1, -1, -1):
        mask = masks[index] if index < len(masks) else None
        if mask is not None:
            if donate:
                dA *= mask
            else:
                dA = dA * mask
        dX, _ = dense_backward(
            params[index],
            activations[index],
            caches[index],
            dA,
            decay=decay,
            donate=donate,
            input_grad=index > 0,
            out=grads[index],
        )
        if dX is not None:
            dA = dX
    if not donate:
        seal(vector)
    return grads


def training_activations(spec: MLP) -> tuple[Activation, ...]:
    """The activations the training passes run: the output as identity when fused."""
    return (*spec.activations[:-1], identity) if spec.fused else spec.activations


def penalty(params: Params, alpha: float, m: float) -> float:
    """``alpha / (2 m) * sum_l ||W_l||^2`` (scikit-learn's L2 convention; ``m`` the rows,
    or the sum of the samples' weights)."""
    if alpha == 0:
        return 0.0
    return alpha / (2 * m) * sum(float(np.vdot(layer.W, layer.W)) for layer in params)


def output_value_and_grad(
    spec: MLP, A: FloatArray, Y: FloatArray, weight: SampleWeight | None = None
) -> tuple[float, FloatArray]:
    """The loss and its gradient at the output of ``training_activations``' forward pass:
    ``dZ`` from the logits when fused, else ``dA``; weighted by the samples' ``weight``
    when given."""
    if weight is not None:
        return weighted_value_and_grad(spec.loss, A, Y, weight, link=spec.fused)
    if spec.fused:
        return link_value_and_grad(spec.loss, A, Y)
    return spec.loss.value(A, Y), spec.loss.grad(A, Y)


CHUNK_ROWS = 8192
"""Rows per chunk when a whole data set is passed forward (``predict``, validation)."""


def outputs(
    params: Params,
    activations: tuple[Activation, ...],
    X: Rows,
    dtype: np.dtype[Any],
    chunk_size: int = CHUNK_ROWS,
) -> FloatArray:
    """The last layer's output for every row of ``X``, ``chunk_size`` rows at a time.

    Memory beyond the output is one chunk's activations (and, for a streamed source or
    data of another dtype, one chunk converted), whatever the number of rows.
    """
    m = X.shape[0]
    if m <= chunk_size:
        A, _ = forward_pass(params, activations, read_rows(X, slice(None), dtype), donate=True)
        return A
    out = np.empty((m, params[-1].b.shape[0]), dtype=dtype)
    for start in range(0, m, chunk_size):
        rows = slice(start, start + chunk_size)
        out[rows], _ = forward_pass(params, activations, read_rows(X, rows, dtype), donate=True)
    return out


def output_and_value(
    spec: MLP,
    params: Params,
    X: Rows,
    Y: FloatArray,
    alpha: float = 0.0,
    masks: Masks = (),
    weight: SampleWeight | None = None,
) -> tuple[FloatArray, float]:
    """The network's output and the penalized mean loss over checked data, a chunk of rows
    at a time (unchecked; for evaluation, validation and gradient checks). With dropout
    ``masks`` (rows of ``X``'s, in memory) the data is passed whole; with samples'
    ``weight`` the loss is their weighted mean."""
    activations = training_activations(spec)
    if masks:  # X is in memory (dense or sparse): read whole
        A, _ = forward_pass(
            params, activations, read_rows(X, slice(None), Y.dtype), donate=True, masks=masks
        )
    else:
        A = outputs(params, activations, X, Y.dtype)
    if weight is not None:
        loss = weighted_value(spec.loss, A, Y, weight, link=spec.fused)
        A = spec.output.forward(A) if spec.fused else A
        return A, loss + penalty(params, alpha, weight.total)
    if spec.fused:  # A holds the logits
        loss = spec.loss.link_value(A, Y)
        A = spec.output.forward(A)
    else:
        loss = spec.loss.value(A, Y)
    return A, loss + penalty(params, alpha, X.shape[0])


def value_and_grad(
    spec: MLP,
    activations: tuple[Activation, ...],
    params: Params,
    X: FloatArray,
    Y: FloatArray,
    alpha: float = 0.0,
    masks: Masks = (),
    weight: SampleWeight | None = None,
) -> tuple[float, Params]:
    """The penalized loss and its gradient, in writeable arrays the caller owns.

    Unchecked: the training step's core. ``activations`` is
    ``training_activations(spec)``, computed once per run; ``masks`` the batch's dropout
    masks (``()``: none); ``weight`` the samples' weights (``None``: all equal), which
    make the loss ``sum_i s_i l_i / sum_i s_i`` and the penalty ``alpha / (2 sum_i s_i)``.
    """
    A, caches = forward_pass(params, activations, X, donate=True, masks=masks)
    loss, dA = output_value_and_grad(spec, A, Y, weight)
    m: float = X.shape[0] if weight is None else weight.total
    grads = backward_pass(
        params, activations, caches, dA, decay=alpha / m, donate=True, masks=masks
    )
    return loss + penalty(params, alpha, m), grads  # also makes a loss of -0.0 read 0.0


# Public, checked -------------------------------------------------------------------


def checked_arguments(
    spec: object, params: object, X: object, Y: object = None
) -> tuple[MLP, Params, FloatArray, FloatArray]:
    """``(spec, params, X, Y)`` checked, ``X`` and ``Y`` in the params' dtype (``Y`` empty
    when not given)."""
    checked_spec = check_spec(spec)
    dtype = params_dtype(checked_spec, params)
    assert isinstance(params, tuple)
    X_checked = check_X(X, checked_spec.sizes[0], dtype)
    if Y is None:
        return checked_spec, params, X_checked, X_checked[:0]
    Y_checked = check_targets(checked_spec, Y, X_checked.shape[0], dtype)
    return checked_spec, params, X_checked, Y_checked


def forward(
    spec: MLP, params: Params, X: FloatArray, *, masks: Masks | None = None
) -> tuple[FloatArray, Caches]:
    """The network's output for a batch ``X`` ``(m, n_in)`` and every layer's cache.

    ``X`` is converted to the parameters' dtype. Output and caches are read-only. No
    dropout unless ``masks`` are given (from ``dropout_masks``, one per hidden layer).
    """
    spec, params, X, _ = checked_arguments(spec, params, X)
    checked_masks = check_masks(spec, masks, X.shape[0], X.dtype)
    with fixed_threads(), np.errstate(over="ignore", invalid="ignore"):
        A, caches = forward_pass(params, spec.activations, X, donate=False, masks=checked_masks)
    _require_finite(lambda: _forward_overflow(params, spec.activations, X, checked_masks), A)
    return A, caches


def predict(spec: MLP, params: Params, X: Any, *, chunk_size: int = CHUNK_ROWS) -> FloatArray:
    """The network's output for ``X``, computed ``chunk_size`` rows at a time.

    Memory beyond the output is bounded by one chunk's activations, whatever ``m``: a
    numpy memmap or a dask array is read, converted to the params' dtype and checked a
    chunk at a time, and so is in-memory data of another dtype.

    >>> import fcfun, numpy as np
    >>> spec = fcfun.mlp([2, 3, 1], output=fcfun.sigmoid, loss=fcfun.binary_cross_entropy)
    >>> fcfun.predict(spec, fcfun.init(spec, seed=0), np.zeros((5, 2))).shape
    (5, 1)
    """
    spec = check_spec(spec)
    dtype = params_dtype(spec, params)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    rows = check_rows(X, spec.sizes[0])
    out = np.empty((rows.shape[0], spec.sizes[-1]), dtype=dtype)
    with fixed_threads(), np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, rows.shape[0], chunk_size):
            span = slice(start, start + chunk_size)
            out[span] = _predict_chunk(spec, params, read_chunk(rows, span, dtype))
    return freeze(out)


def _predict_chunk(spec: MLP, params: Params, X: FloatArray) -> FloatArray:
    """One chunk's output (its arrays are freed before the next chunk is read)."""
    A, _ = forward_pass(params, spec.activations, X, donate=True)
    _require_finite(lambda: _forward_overflow(params, spec.activations, X), A)
    return A


def backward(
    spec: MLP, params: Params, caches: Caches, Y: Any, *, masks: Masks | None = None
) -> Params:
    """Gradients of the mean loss with respect to every ``W`` and ``b``.

    Takes the caches of ``forward(spec, params, X)`` and targets ``Y`` for that ``X``,
    and the dropout ``masks`` that forward was given, if any. Never forms the gradient
    with respect to the network input.
    """
    spec = check_spec(spec)
    dtype = params_dtype(spec, params)
    _check_caches(spec, caches, dtype)
    Y = check_targets(spec, Y, caches[-1].A.shape[0], dtype)
    checked_masks = check_masks(spec, masks, caches[-1].A.shape[0], dtype)
    A = caches[-1].A
    activations = training_activations(spec)
    with fixed_threads(), np.errstate(over="ignore", invalid="ignore"):
        dA = link_delta(A, Y) if spec.fused else spec.loss.grad(A, Y)
        grads = backward_pass(params, activations, caches, dA, donate=False, masks=checked_masks)
    _require_finite(lambda: _gradient_overflow(params, caches[0].X), *(a for g in grads for a in g))
    return grads


def _check_caches(spec: MLP, caches: object, dtype: np.dtype[Any]) -> None:
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


def loss_and_grad(
    spec: MLP,
    params: Params,
    X: FloatArray,
    Y: Any,
    *,
    alpha: float = 0.0,
    masks: Masks | None = None,
    sample_weight: Any = None,
) -> tuple[float, Params]:
    """The mean loss over the batch and its gradient with respect to ``params``.

    ``alpha`` adds scikit-learn's L2 penalty on the weights (not the biases):
    ``loss + alpha / (2 m) * sum_l ||W_l||^2``, whose gradient adds ``alpha / m * W_l``.
    No dropout unless ``masks`` are given (``dropout_masks`` draws a training step's).
    ``sample_weight`` ``(m,)`` (non-negative, not all zero) makes the loss the weighted
    mean ``sum_i s_i l_i / sum_i s_i`` and the penalty ``alpha / (2 sum_i s_i) * ...``
    (scikit-learn's convention); only their ratios matter to the mean, so weights near
    either end of the float range work: they are scaled by an exact power of two first,
    and ``alpha`` with them (a weight below the largest times the dtype's smallest
    subnormal becomes 0; see ``scaled_weight``).

    >>> import fcfun, numpy as np
    >>> spec = fcfun.mlp([2, 1], output=fcfun.identity, loss=fcfun.half_squared_error)
    >>> params = (fcfun.Dense(np.array([[1.0], [2.0]]), np.array([0.5])),)
    >>> loss, grads = fcfun.loss_and_grad(spec, params, np.array([[1.0, 1.0]]), np.array([3.0]))
    >>> loss, grads[0].W.ravel().tolist(), grads[0].b.tolist()
    (0.125, [0.5, 0.5], [0.5])
    """
    alpha = check_real(alpha, "alpha", low=0.0)
    spec, params, X, Y_checked = checked_arguments(spec, params, X, Y)
    checked_masks = check_masks(spec, masks, X.shape[0], X.dtype)
    checked_weight = check_sample_weight(spec, sample_weight, X.shape[0], X.dtype)
    weight = None
    if checked_weight is not None:
        checked_weight, exponent = scaled_weight(checked_weight)
        alpha = scaled_alpha(alpha, exponent)
        weight = weighted(checked_weight)
    with fixed_threads(), np.errstate(over="ignore", invalid="ignore"):
        loss, grads = value_and_grad(
            spec, training_activations(spec), params, X, Y_checked, alpha, checked_masks, weight
        )
    _require_finite(
        lambda: _loss_overflow(spec, params, X, Y_checked, checked_masks, weight),
        np.asarray(loss),
        *(a for g in grads for a in g),
    )
    return loss, seal_tree(grads)


def _require_finite(cause: Callable[[], str], *results: FloatArray) -> None:
    """Refuse a result that overflowed (finite inputs can still exceed the dtype's range);
    ``cause`` says what overflowed, and runs only then."""
    if all(np.isfinite(r).all() for r in results):
        return
    raise ValueError(cause())


# What overflowed: found after the fact, by passing the inputs again a stage at a time.


def _largest(array: FloatArray) -> float:
    return float(abs(array).max()) if array.shape[0] else 0.0


def _forward_overflow(
    params: Params, activations: tuple[Activation, ...], X: FloatArray, masks: Masks = ()
) -> str:
    """The first layer whose output is not finite, with its params and its input."""
    dtype = params[0].W.dtype
    with np.errstate(all="ignore"):
        _, caches = forward_pass(params, activations, X, donate=False, masks=masks)
    for index, cache in enumerate(caches):
        if np.isfinite(cache.Z).all() and np.isfinite(cache.A).all():
            continue
        inputs = _largest(cache.X)
        source = (
            f"X with largest magnitude {inputs:.3g}"
            if index == 0
            else f"layer {index - 1}'s output with largest magnitude {inputs:.3g} (X's: "
            f"{_largest(X):.3g})"
        )
        return (
            f"{'params' if inputs == 0 else 'X and params'} must be small enough for the "
            f"forward pass to stay within {dtype}'s range: layer {index}'s output is not "
            f"finite, got params[{index}] with largest |W| {_largest(params[index].W):.3g} "
            f"and |b| {_largest(params[index].b):.3g} on {source}"
        )
    return _gradient_overflow(params, X)


def _loss_overflow(
    spec: MLP,
    params: Params,
    X: FloatArray,
    Y: FloatArray,
    masks: Masks,
    weight: SampleWeight | None,
) -> str:
    """The forward pass, else the loss at the output, else the backward pass."""
    activations = training_activations(spec)
    with np.errstate(all="ignore"):
        A, _ = forward_pass(params, activations, X, donate=False, masks=masks)
        if np.isfinite(A).all():
            loss, dA = output_value_and_grad(spec, A, Y, weight)
            if np.isfinite(loss) and np.isfinite(dA).all():
                return _gradient_overflow(params, X)
        else:
            return _forward_overflow(params, activations, X, masks)
    weights = (
        ""
        if weight is None
        else f", weighted by sample_weight (scaled: {float(weight.weight.min()):.3g} to "
        f"{float(weight.weight.max()):.3g})"
    )
    values = "pre-activations" if spec.fused else "outputs"
    return (
        f"Y and params must be small enough for the loss to stay within {A.dtype}'s range: "
        f"the loss or its gradient at the output is not finite, got the output layer's "
        f"{values} with largest magnitude {_largest(A):.3g} "
        f"from params[{len(params) - 1}] and targets Y with largest magnitude "
        f"{_largest(Y):.3g}{weights}"
    )


def _gradient_overflow(params: Params, X: FloatArray) -> str:
    largest = max(_largest(array) for layer in params for array in layer)
    return (
        f"params must be small enough for the backward pass to stay within "
        f"{params[0].W.dtype}'s range: a gradient is not finite, got params with largest "
        f"magnitude {largest:.3g} on X with largest magnitude {_largest(X):.3g}"
    )


# Dropout masks ---------------------------------------------------------------------


def dropout_masks(spec: MLP, key: StepKey, rows: int, *, dtype: FloatDType = np.float64) -> Masks:
    """The dropout masks training draws for the batch of step ``key`` (read-only).

    One mask per hidden layer, ``(rows, width)`` of ``0`` and ``1 / (1 - rate)``
    (``None`` where the layer's rate is 0; ``()`` for a spec without dropout): a pure
    function of ``key``'s seed, epoch, step and row offset (see ``StepKey``). Pass them
    to ``forward``, ``backward``, ``loss_and_grad`` or ``gradcheck`` to compute what a
    training step computes.

    >>> import fcfun
    >>> spec = fcfun.mlp([2, 4, 1], output="identity", loss="mean_squared_error", dropout=0.5)
    >>> masks = fcfun.dropout_masks(spec, fcfun.StepKey(seed=0, epoch=0, step=0), rows=3)
    >>> sorted(set(masks[0].ravel().tolist()))
    [0.0, 2.0]
    """
    spec = check_spec(spec)
    key = check_key(key)
    rows = check_int(rows, "rows", minimum=0)
    resolved = check_float_dtype(dtype)
    return sealed(step_masks(spec.dropout, spec.sizes[1:-1], key, rows, resolved))


def check_masks(spec: MLP, masks: object, m: int, dtype: np.dtype[Any]) -> Masks:
    """``()`` for ``None``; else one mask (or ``None``) per hidden layer, each ``(m, width)``
    of ``dtype`` and finite."""
    if masks is None:
        return ()
    widths = spec.sizes[1:-1]
    if not isinstance(masks, tuple):
        raise TypeError(
            f"masks must be None or a tuple of {len(widths)} masks (one per hidden layer, "
            f"from fcfun.dropout_masks), got {describe(masks)}"
        )
    if len(masks) != len(widths):
        raise ValueError(
            f"masks must be None or a tuple of {len(widths)} masks (one per hidden layer, "
            f"from fcfun.dropout_masks), got {describe(masks)}"
        )
    for i, (mask, width) in enumerate(zip(masks, widths, strict=True)):
        if mask is None:
            continue
        if not (isinstance(mask, np.ndarray) and mask.shape == (m, width) and mask.dtype == dtype):
            raise ValueError(
                f"masks[{i}] must be None or a {dtype} array of shape {(m, width)}, "
                f"got {describe(mask)}"
            )
        if not np.isfinite(mask).all():
            raise ValueError(f"masks[{i}] must be finite, got NaN or inf")
    return tuple(masks)
