"""Ensembles in one pass: ``k`` networks trained together, their parameters stacked.

Member ``i`` is the network ``fit(spec, X, Y, optimizer=..., seed=seeds[i], ...)`` would
train: its own initial parameters ``init(spec, seeds[i])``, its own batch order
``epoch_order(seeds[i], e, m)`` and, with dropout, its own masks (those of
``StepKey(seeds[i], e, step)``). The members' arrays are stacked along a leading axis,
``W`` ``(k, n_in, n_out)`` and ``b`` ``(k, 1, n_out)`` (masks ``(k, rows, width)``), and a
step runs the network's one fold (``forward_pass`` / ``backward_pass``) on the stacked
arrays: one batched product per layer and direction instead of ``k``. Only the loss runs
member by member (a loss is a mean over one network's rows, a Python float). An optimizer
with a flat update (every fcfun optimizer: its reductions act on each member's vector,
the last axis) steps the ``(k, P)`` stack of the members' vectors at once; any other one
steps each member's slice in turn (``member_by_member``).

Batched ``matmul`` calls the same BLAS kernel on each member's matrices and every other
operation is elementwise or a reduction over one member's rows, so member ``i`` equals
the single ``fit`` bit for bit: parameters, optimizer state and training losses
(``tests/test_ensemble.py`` checks it for several networks, optimizers and dtypes).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, Generic, NamedTuple, TypeAlias, TypeVar

import numpy as np

from fcfun._blas import fixed_threads
from fcfun._dropout import Masks, StepKey, step_masks
from fcfun._flat import pack, vector_of, views
from fcfun._network import (
    CHUNK_ROWS,
    backward_pass,
    forward_pass,
    init,
    output_value_and_grad,
    penalty,
    training_activations,
)
from fcfun._optimizers import FlatParams, Optimizer, from_flat, optimizer_step
from fcfun._sources import check_rows, read_chunk, read_rows
from fcfun._spec import MLP, check_spec, params_dtype
from fcfun._training import (
    TrainConfig,
    all_finite,
    check_config,
    check_opt_state,
    data_dtype,
    dataset,
    epoch_order,
)
from fcfun._types import Dense, FloatArray, FloatDType, IntArray, Params, freeze, seal
from fcfun._validation import (
    check_bool,
    check_float_dtype,
    check_int,
    check_seed,
    describe,
    is_sparse,
)

S = TypeVar("S")

StackedGradient: TypeAlias = Callable[
    [Params, FloatArray, FloatArray, Masks], tuple[FloatArray, Params]
]
"""``(params, X, Y, masks) -> (losses, grads)`` of stacked members: one loss per member
and the stacked gradients, in arrays the caller owns."""

_MEMBERS_KEY = 0x656E73
"""The spawn key that tells member seeds apart from every other stream of a seed."""


def member_seeds(seed: int, k: int) -> tuple[int, ...]:
    """The seeds of an ensemble's ``k`` members, derived from one ``seed``.

    Member ``i``'s seed is the first 32-bit word of
    ``numpy.random.SeedSequence(seed, spawn_key=(0x656E73, i))``: independent streams,
    and the first ``j`` seeds do not depend on ``k``.

    >>> member_seeds(0, 3) == member_seeds(0, 5)[:3]
    True
    """
    seed, k = check_seed(seed), check_int(k, "k", minimum=1)
    return tuple(
        int(np.random.SeedSequence(seed, spawn_key=(_MEMBERS_KEY, i)).generate_state(1)[0])
        for i in range(k)
    )


class Ensemble(NamedTuple, Generic[S]):
    """``k`` networks trained together: what ``fit_ensemble`` returns and continues.

    Attributes:
        params: the members' parameters stacked, one ``Dense`` per layer with ``W``
            ``(k, n_in, n_out)`` and ``b`` ``(k, 1, n_out)``; ``member(ensemble, i)``
            is member ``i``'s ``Params``.
        opt_state: the optimizer's state for the stacked parameters (its vectors
            ``(k, P)``; for an optimizer without a flat update, the tuple of the members'
            states).
        epoch: the number of completed epochs.
        seeds: the members' seeds, one per member.
        train_loss: per member, its mean training loss of each epoch (as ``fit``'s
            ``History.train_loss``).
    """

    params: Params
    opt_state: S
    epoch: int
    seeds: tuple[int, ...]
    train_loss: tuple[tuple[float, ...], ...]


# Stacking ----------------------------------------------------------------------------


def stack_params(members: Sequence[Params]) -> Params:
    """The members' ``Params`` stacked: ``W`` ``(k, n_in, n_out)``, ``b`` ``(k, 1, n_out)``.

    >>> import fcfun
    >>> spec = fcfun.mlp([3, 2, 1], output="identity", loss="half_squared_error")
    >>> stacked = stack_params([fcfun.init(spec, seed) for seed in (0, 1)])
    >>> [(layer.W.shape, layer.b.shape) for layer in stacked]
    [((2, 3, 2), (2, 1, 2)), ((2, 2, 1), (2, 1, 1))]
    """
    if not isinstance(members, Sequence) or len(members) < 1:
        raise ValueError(
            f"members must be a non-empty sequence of Params (k >= 1), got {describe(members)}"
        )
    first = _shapes(members[0])
    for i, params in enumerate(members):
        if _shapes(params) != first or not first.startswith("layers"):
            raise ValueError(
                f"members must be Params of one network shape, got member 0 with {first} "
                f"and member {i} with {_shapes(params)}"
            )
    stacked = _stacked(members)
    return views(stacked, seal(pack(stacked)))  # one (k, P) vector (the flat layout)


def _stacked(members: Sequence[Params]) -> Params:
    """Stacked copies in new writeable arrays (unchecked)."""
    return tuple(
        Dense(
            np.stack([params[index].W for params in members]),
            np.stack([params[index].b for params in members])[:, None],
        )
        for index in range(len(members[0]))
    )


def _member(params: Params, i: int) -> Params:
    """Member ``i``'s views of stacked ``params`` (writeable when they are)."""
    return tuple(Dense(layer.W[i], layer.b[i, 0]) for layer in params)


def member(ensemble: Ensemble[Any] | Params, i: int) -> Params:
    """Member ``i``'s parameters: read-only views of the stacked arrays.

    Args:
        ensemble: an ``Ensemble``, or stacked params (``stack_params``).
        i: the member, ``0 <= i < k``.

    >>> import fcfun
    >>> spec = fcfun.mlp([3, 2, 1], output="identity", loss="half_squared_error")
    >>> stacked = stack_params([fcfun.init(spec, seed) for seed in (0, 1)])
    >>> bool((member(stacked, 1)[0].W == fcfun.init(spec, 1)[0].W).all())
    True
    """
    params = ensemble.params if isinstance(ensemble, Ensemble) else ensemble
    k = _stack_size(params)
    index = check_int(i, "i", minimum=0)
    if index >= k:
        raise ValueError(f"i must be a member index in 0..{k - 1}, got {index}")
    return tuple(Dense(freeze(W), freeze(b)) for W, b in _member(params, index))


def _stack_size(params: object) -> int:
    """``k`` of stacked params, refused unless every layer is ``Dense`` of 3-D arrays
    with the same number of members."""
    expected = "stacked params (one Dense(W (k, n_in, n_out), b (k, 1, n_out)) per layer)"
    if not (
        isinstance(params, tuple)
        and params
        and all(
            isinstance(layer, Dense)
            and isinstance(layer.W, np.ndarray)
            and isinstance(layer.b, np.ndarray)
            and layer.W.ndim == 3
            and layer.b.ndim == 3
            and layer.b.shape[1] == 1
            for layer in params
        )
    ):
        raise ValueError(f"ensemble must be an Ensemble or {expected}, got {_shapes(params)}")
    k: int = params[0].W.shape[0]
    if any(layer.W.shape[0] != k or layer.b.shape[0] != k for layer in params):
        shapes = [(layer.W.shape, layer.b.shape) for layer in params]
        raise ValueError(f"ensemble must be {expected} with one k, got shapes {shapes}")
    return k


def _shapes(params: object) -> str:
    """The layers' shapes when ``params`` is a tuple of ``Dense`` arrays, else its kind."""
    if isinstance(params, tuple) and all(
        isinstance(layer, Dense) and all(isinstance(a, np.ndarray) for a in layer)
        for layer in params
    ):
        return "layers of shapes " + ", ".join(
            f"W {layer.W.shape} b {layer.b.shape}" for layer in params
        )
    return describe(params)


def _check_stacked(spec: MLP, params: object) -> tuple[int, np.dtype[Any]]:
    """``(k, dtype)`` of stacked params that fit ``spec``, every member checked."""
    k = _stack_size(params)
    assert isinstance(params, tuple)
    dtypes = {params_dtype(spec, _member(params, i)) for i in range(k)}
    return k, dtypes.pop()


# Optimizers --------------------------------------------------------------------------


def member_by_member(optimizer: Optimizer[S], k: int) -> Optimizer[tuple[S, ...]]:
    """``optimizer`` run on each member's slice of stacked params in turn.

    Its state is the tuple of the members' states, each what ``optimizer`` holds for
    that member alone; the updates are stacked back. For optimizers without a flat update
    (a user's optimizer of layers): member ``i`` gets the update it would get alone, bit
    for bit.
    """

    def init(params: Params) -> tuple[S, ...]:
        return tuple(optimizer.init(_member(params, i)) for i in range(k))

    def kernel(
        g: FloatArray, states: tuple[S, ...], params: FlatParams
    ) -> tuple[FloatArray, tuple[S, ...]]:
        updates, new_states = [], []
        for i, state in enumerate(states):
            own = _member(params.layers, i)
            layers, new_state = optimizer.update(views(own, freeze(g[i])), state, own)
            updates.append(vector_of(layers))
            new_states.append(new_state)
        return np.stack(updates), tuple(new_states)

    return from_flat(init, kernel)


def stacked_optimizer(optimizer: Optimizer[Any], k: int) -> Optimizer[Any]:
    """The optimizer an ensemble of ``k`` runs: ``optimizer`` itself when it is
    one with a flat update, else ``member_by_member(optimizer, k)``."""
    return optimizer if optimizer.update_flat is not None else member_by_member(optimizer, k)


# Training ----------------------------------------------------------------------------


def ensemble_gradient(spec: MLP, alpha: float, k: int) -> StackedGradient:
    """``(params, X, Y, masks) -> (losses, grads)`` of stacked members on their batches
    ``X`` ``(k, b, n_in)``, ``Y`` ``(k, b, n_out)`` with their stacked dropout ``masks``
    (``stacked_masks``; ``()`` without dropout): one fold forward and back; the loss (and
    its L2 penalty) per member, as ``value_and_grad``."""
    activations = training_activations(spec)

    def gradient(
        params: Params, X: FloatArray, Y: FloatArray, masks: Masks
    ) -> tuple[FloatArray, Params]:
        A, caches = forward_pass(params, activations, X, donate=True, masks=masks)
        outputs = [output_value_and_grad(spec, A[i], Y[i]) for i in range(k)]
        dA = np.stack([d for _, d in outputs])
        m = X.shape[1]
        grads = backward_pass(
            params, activations, caches, dA, decay=alpha / m, donate=True, masks=masks
        )
        if alpha == 0:  # penalty(...) is 0.0; the sum still makes a loss of -0.0 read 0.0
            return np.array([loss + 0.0 for loss, _ in outputs]), grads
        losses = [
            loss + penalty(_member(params, i), alpha, m) for i, (loss, _) in enumerate(outputs)
        ]
        return np.array(losses), grads

    return gradient


def stacked_masks(
    spec: MLP, seeds: tuple[int, ...], epoch: int, step: int, rows: int, dtype: np.dtype[Any]
) -> Masks:
    """Every member's dropout masks for one step, stacked: hidden layer ``l``'s is
    ``(k, rows, width)``, member ``i``'s slice the mask ``fit`` with ``seeds[i]`` draws
    (``StepKey(seeds[i], epoch, step)``); ``()`` without dropout."""
    if not spec.dropout:
        return ()
    widths = spec.sizes[1:-1]
    members = [
        step_masks(spec.dropout, widths, StepKey(seed, epoch, step), rows, dtype) for seed in seeds
    ]
    drawn = ([mask for mask in layer if mask is not None] for layer in zip(*members, strict=True))
    return tuple(np.stack(layer) if layer else None for layer in drawn)


def fit_ensemble(
    config: TrainConfig[Any],
    X: Any,
    Y: Any,
    *,
    epochs: int,
    seeds: Sequence[int] | None = None,
    params: Ensemble[Any] | None = None,
    dtype: FloatDType | None = None,
) -> Ensemble[Any]:
    """Train ``len(seeds)`` members of ``config.spec`` together, in one pass per step.

    Member ``i`` equals ``fit(spec, X, Y, optimizer=config.optimizer, epochs=epochs,
    batch_size=config.batch_size, seed=seeds[i], alpha=config.alpha,
    shuffle=config.shuffle, dtype=dtype)``, bit for bit: its ``params`` are
    ``member(ensemble, i)`` and its ``history.train_loss`` is ``ensemble.train_loss[i]``.
    With dropout in ``config.spec`` each member draws the masks its own ``fit`` draws.

    Args:
        config: the members' shared settings (``config.metric`` is unused: no validation;
            ``config.plateau`` must be ``None``: a plateau reads a run's history, and the
            members' histories differ).
        X: inputs ``(m, n_in)``, as ``fit`` takes them.
        Y: targets, as ``fit`` takes them.
        epochs: the epoch count to reach.
        seeds: one seed per member (``member_seeds(seed, k)`` derives ``k`` from one);
            ``None`` when continuing an ``Ensemble``, which carries its own.
        params: an ``Ensemble`` to continue (``None``: a fresh run, each member from
            ``init(spec, seeds[i], dtype=dtype)``).
        dtype: as ``fit``'s: ``None`` for the floating dtype of ``X``.

    Returns:
        The ``Ensemble`` after ``epochs`` epochs.

    Raises:
        FloatingPointError: a member's loss or step left the dtype's range; the message
            names the member and its seed (``fit`` with that seed reports its last
            finite state).
    """
    config = check_config(config, has_validation=False)
    if config.optimizer.step_with_objective is not None:
        raise ValueError(
            "config.optimizer must be an optimizer of updates for fit_ensemble, got one that "
            "steps with its objective (a line search, as lbfgs); fit each member with fcfun.fit"
        )
    if is_sparse(X):
        raise TypeError(
            "X must be a dense array or a row source for fit_ensemble, got a sparse matrix; "
            "densify it, or fit each member with fcfun.fit"
        )
    if config.plateau is not None:
        raise ValueError(
            "config.plateau must be None for fit_ensemble (each member's plateau would read "
            "its own history; use a schedule, or fit each member), got a ReduceOnPlateau"
        )
    epochs = check_int(epochs, "epochs", minimum=0)
    start = _start(config, seeds, params, data_dtype(X) if dtype is None else dtype)
    k, resolved = _check_stacked(config.spec, start.params)
    data = dataset(config.spec, X, Y, resolved)
    update = optimizer_step(stacked_optimizer(config.optimizer, k))
    gradient = ensemble_gradient(config.spec, config.alpha, k)
    m, n_in, batch_size = data.X.shape[0], data.X.shape[1], config.batch_size

    def batch_step(state: _Carry, rows: IntArray) -> _Carry:
        params_, opt_state, loss_sum, step, epoch = state
        X_batch = read_rows(data.X, rows.ravel(), resolved).reshape(k, -1, n_in)
        Y_batch = np.take(data.Y, rows, axis=0)
        masks = stacked_masks(config.spec, start.seeds, epoch, step, rows.shape[1], resolved)
        try:
            losses, grads = gradient(params_, X_batch, Y_batch, masks)
        except FloatingPointError:
            what = "an overflow in the loss and gradient"
            raise _Diverged(step, np.full(k, math.inf), what) from None
        if not np.isfinite(losses).all():
            raise _Diverged(step, losses, "a non-finite loss")
        try:
            params_, opt_state = update(grads, opt_state, params_)
        except FloatingPointError:
            raise _Diverged(step, losses, "an overflow in the optimizer update") from None
        return _Carry(params_, opt_state, loss_sum + losses * rows.shape[1], step + 1, epoch)

    def epoch_step(state: Ensemble[Any], epoch: int) -> Ensemble[Any]:
        if config.shuffle:
            orders = np.stack([epoch_order(seed, epoch, m) for seed in state.seeds])
        else:
            orders = np.broadcast_to(np.arange(m), (k, m))
        batches = (orders[:, i : i + batch_size] for i in range(0, m, batch_size))
        begin = _Carry(state.params, state.opt_state, np.zeros(k), 0, epoch)
        try:
            with fixed_threads(), np.errstate(over="raise", invalid="raise", divide="ignore"):
                params_, opt_state, loss_sum, *_ = functools.reduce(batch_step, batches, begin)
        except _Diverged as diverged:
            raise diverged.report(epoch, state.seeds) from None
        if not all_finite(params_):
            raise _Diverged(-1, np.full(k, math.nan), "non-finite parameters").report(
                epoch, state.seeds
            )
        means: list[float] = (loss_sum / m).tolist()
        train_loss = tuple(
            (*history, mean) for history, mean in zip(state.train_loss, means, strict=True)
        )
        return Ensemble(params_, opt_state, state.epoch + 1, state.seeds, train_loss)

    return functools.reduce(epoch_step, range(start.epoch, max(epochs, start.epoch)), start)


class _Carry(NamedTuple):
    """What the reduce over an epoch's batches carries (``StepState``'s fields, with one
    loss sum per member)."""

    params: Params
    opt_state: Any
    loss_sum: FloatArray
    step: int
    epoch: int


class _Diverged(Exception):
    """Internal: a step went out of range; ``report`` names the member."""

    def __init__(self, step: int, losses: FloatArray, what: str) -> None:
        super().__init__(step, what)
        self.step, self.losses, self.what = step, losses, what

    def report(self, epoch: int, seeds: tuple[int, ...]) -> FloatingPointError:
        bad = np.flatnonzero(~np.isfinite(self.losses))
        i = int(bad[0]) if bad.size else 0
        where = f"step {self.step}" if self.step >= 0 else "its last step"
        return FloatingPointError(
            f"training diverged in epoch {epoch}, {where}: {self.what} of member {i} "
            f"(seed {seeds[i]}); fcfun.fit with seed={seeds[i]} reports its last finite state"
        )


def _start(
    config: TrainConfig[Any],
    seeds: Sequence[int] | None,
    params: Ensemble[Any] | None,
    dtype: FloatDType,
) -> Ensemble[Any]:
    """The ensemble a run starts from: ``params`` continued, or fresh members of ``seeds``."""
    if params is not None:
        if not isinstance(params, Ensemble):
            raise TypeError(f"params must be an fcfun Ensemble to continue, got {describe(params)}")
        k, _ = _check_stacked(config.spec, params.params)
        if seeds is not None and tuple(seeds) != params.seeds:
            raise ValueError(
                f"seeds must be None or the ensemble's seeds {params.seeds} when continuing an "
                f"Ensemble, got {seeds!r}"
            )
        check_opt_state(stacked_optimizer(config.optimizer, k), params.params, params.opt_state)
        return params
    if seeds is None:
        raise TypeError("seeds must be a sequence of one seed per member, got None")
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence):
        raise TypeError(f"seeds must be a sequence of one seed per member, got {describe(seeds)}")
    if len(seeds) < 1:
        raise ValueError("seeds must hold one seed per member, at least one (k >= 1), got none")
    checked = tuple(check_seed(seed) for seed in seeds)
    resolved = check_float_dtype(dtype)
    stacked = stack_params([init(config.spec, seed, dtype=resolved) for seed in checked])
    optimizer = stacked_optimizer(config.optimizer, len(checked))
    return Ensemble(stacked, optimizer.init(stacked), 0, checked, tuple(() for _ in checked))


# Prediction --------------------------------------------------------------------------


PREDICT_CHUNK_BYTES = 1 << 25
"""A bound on the activations ``predict_ensemble`` holds at once (32 MiB), unless one
member's chunk of rows needs more (then that: what ``predict`` of one member holds)."""


def _members(params: Params, members: slice) -> Params:
    """The stacked layers of some members (views)."""
    return tuple(Dense(layer.W[members], layer.b[members]) for layer in params)


def predict_ensemble(
    spec: MLP,
    ensemble: Ensemble[Any] | Params,
    X: Any,
    *,
    average: bool = True,
    chunk_size: int = CHUNK_ROWS,
) -> FloatArray:
    """The members' outputs for ``X``: their mean, or each member's.

    With ``average`` the result is ``(m, n_out)``, the mean over members of their outputs
    (probabilities, for a sigmoid or softmax output: the ensemble's probabilities),
    accumulated without forming the ``(k, m, n_out)`` outputs but with the bits of
    ``np.mean`` over them: member 0, each next member added in order, one division by
    ``k``. Otherwise ``(k, m, n_out)``, member ``i``'s slice equal to ``predict(spec,
    member(ensemble, i), X)``. The rows go ``chunk_size`` at a time as in ``predict`` (the
    same products, so the same bits), and the members as many at a time (one batched
    product per layer) as keep the activations within ``PREDICT_CHUNK_BYTES``: memory
    beyond the result is bounded in bytes whatever ``k`` and ``m`` (a smaller
    ``chunk_size`` lowers it further).

    >>> import fcfun, numpy as np
    >>> spec = fcfun.mlp([2, 3, 1], output="sigmoid", loss="binary_cross_entropy")
    >>> stacked = stack_params([fcfun.init(spec, seed) for seed in (0, 1, 2)])
    >>> predict_ensemble(spec, stacked, np.zeros((5, 2)), average=False).shape
    (3, 5, 1)
    """
    spec = check_spec(spec)
    params = ensemble.params if isinstance(ensemble, Ensemble) else ensemble
    k, dtype = _check_stacked(spec, params)
    average = check_bool(average, "average")
    chunk = check_int(chunk_size, "chunk_size", minimum=1)
    if is_sparse(X):
        raise TypeError(
            "X must be a dense array or a row source for predict_ensemble, got a sparse "
            "matrix; densify it, or predict each member with fcfun.predict"
        )
    rows = check_rows(X, spec.sizes[0])
    m, n_out = rows.shape[0], spec.sizes[-1]
    # One member's activations for a chunk: each layer's Z and A (the caches), at most.
    member_bytes = np.dtype(dtype).itemsize * 2 * sum(spec.sizes[1:]) * min(chunk, m)
    group = max(1, PREDICT_CHUNK_BYTES // max(member_bytes, 1))
    # One element per member is summed pairwise by np.mean: those k outputs are kept.
    accumulate = average and m * n_out > 1
    out = np.empty((m, n_out) if accumulate else (k, m, n_out), dtype=dtype)
    with fixed_threads(), np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, m, chunk):
            span = slice(start, start + chunk)
            X_chunk = read_chunk(rows, span, dtype)
            for first in range(0, k, group):
                members = slice(first, first + group)
                A, _ = forward_pass(
                    _members(params, members), spec.activations, X_chunk, donate=True
                )
                if not np.isfinite(A).all():
                    raise ValueError(
                        f"X must be small enough for the forward pass to stay within "
                        f"{dtype}'s range with these params, got X with largest magnitude "
                        f"{float(np.abs(X_chunk).max()):.3g} and a non-finite result"
                    )
                if not accumulate:
                    out[members, span] = A
                    continue
                total = out[span]
                if first == 0:
                    np.copyto(total, A[0])
                for member in A[1:] if first == 0 else A:
                    np.add(total, member, out=total)
        if accumulate:  # the division np.mean makes: by an intp, cast back
            np.true_divide(out, np.intp(k), out=out, casting="unsafe")
    return freeze(out if accumulate or not average else np.mean(out, axis=0))
