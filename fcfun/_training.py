"""Training as a pure reduce: ``fit = reduce(train_epoch, epochs, state)``.

An epoch is itself a reduce of ``train_step`` over the epoch's batches. Epoch ``e``
visits the rows in the order ``default_rng([seed, e]).permutation(m)`` (or in storage
order with ``shuffle=False``): the data is gathered into that order once per epoch and
cut into batches of ``batch_size`` consecutive rows, the last one short. Nothing reads
a clock or a global generator, so the same arguments give bit-identical states, and a
run resumed from its ``TrainState`` at epoch ``k`` equals the uninterrupted run.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, Literal, NamedTuple, TypeVar

import numpy as np
from toolz import accumulate, drop, last

from fcfun._errors import DivergenceError
from fcfun._metrics import Metric, default_metric
from fcfun._network import (
    MLP,
    _check_spec,
    _forward,
    _loss_and_owned_grad,
    _loss_value,
    _penalty,
    init,
)
from fcfun._optimizers import Optimizer, Step, update_and_apply
from fcfun._sources import Rows, check_source, is_streamed, read_rows
from fcfun._state import History, TrainState
from fcfun._types import FloatArray, FloatDType, IntArray, Params, freeze, own_params
from fcfun._validation import (
    check_float_dtype,
    check_int,
    check_real,
    check_seed,
    check_targets,
    check_X,
    describe,
    params_dtype,
)

S = TypeVar("S")
T = TypeVar("T")

Batch = tuple[FloatArray, FloatArray]
"""``(X, Y)`` rows of one mini-batch."""


class Dataset(NamedTuple):
    """Checked training data: ``X`` ``(m, n_in)`` and targets ``Y`` ``(m, n_out)``.

    Made by ``dataset``, which validates once, so the per-epoch code checks nothing.
    ``X`` is in memory in ``Y``'s dtype, or a streamed row source (a memmap or a dask
    array, read a batch at a time and converted to ``Y``'s dtype).
    """

    X: Rows
    Y: FloatArray


class StepState(NamedTuple, Generic[S]):
    """What the reduce over one epoch's batches carries.

    Attributes:
        params: parameters after ``step`` steps of this epoch.
        opt_state: the optimizer state after ``step`` steps.
        loss_sum: sum over the steps so far of ``batch loss * batch rows``.
        step: number of steps done in this epoch.
        previous: ``(params, opt_state)`` before the last step, for a divergence report.
    """

    params: Params
    opt_state: S
    loss_sum: float
    step: int
    previous: tuple[Params, S] | None


class EarlyStopping(NamedTuple):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``val_loss`` and ``train_loss`` improve downwards, ``val_metric`` upwards. With
    ``restore_best`` the returned state holds the best epoch's parameters (its epoch
    count and history still run to the last epoch trained).
    """

    patience: int = 10
    min_delta: float = 0.0
    monitor: Literal["val_loss", "val_metric", "train_loss"] = "val_loss"
    restore_best: bool = True


class _Diverged(Exception):
    """Internal: a step met a non-finite loss; carries what the report needs."""

    def __init__(self, step: int, loss: float, params: Params, opt_state: Any) -> None:
        super().__init__(step, loss)
        self.step, self.loss, self.params, self.opt_state = step, loss, params, opt_state


# Data ------------------------------------------------------------------------------


def dataset(spec: MLP, X: Any, Y: Any, dtype: FloatDType = np.float64) -> Dataset:
    """Check ``X`` and ``Y`` against ``spec`` once and convert them to ``dtype``.

    Integer class labels become one-hot rows for softmax cross-entropy; a 1-D ``Y``
    becomes a column for a single-output network.
    """
    spec = _check_spec(spec)
    resolved = check_float_dtype(dtype)
    if is_streamed(X):
        source = check_source(X, spec.sizes[0], resolved)
        return Dataset(source, freeze(check_targets(spec, Y, source.shape[0], resolved)))
    X_checked = check_X(X, spec.sizes[0], resolved)
    return Dataset(freeze(X_checked), freeze(check_targets(spec, Y, X_checked.shape[0], resolved)))


def epoch_order(seed: int, epoch: int, m: int) -> IntArray:
    """The order in which epoch ``epoch`` visits ``m`` rows: a function of its arguments.

    >>> epoch_order(0, 3, 5).tolist() == epoch_order(0, 3, 5).tolist()
    True
    >>> sorted(epoch_order(0, 3, 5).tolist())
    [0, 1, 2, 3, 4]
    """
    seed, epoch = check_seed(seed), check_int(epoch, "epoch", minimum=0)
    order: IntArray = np.random.default_rng([seed, epoch]).permutation(check_int(m, "m", minimum=0))
    return order


def batches(data: Dataset, batch_size: int) -> Iterator[Batch]:
    """Consecutive ``batch_size``-row slices of ``data`` (views, no copies); the last may
    be short, and a ``batch_size`` beyond the data gives one full batch.

    >>> d = Dataset(np.arange(10.0).reshape(5, 2), np.zeros((5, 1)))
    >>> [len(X) for X, _ in batches(d, 2)]
    [2, 2, 1]
    """
    data, batch_size = _check_dataset(data), check_int(batch_size, "batch_size", minimum=1)
    m, dtype = data.X.shape[0], data.Y.dtype
    return (
        (read_rows(data.X, slice(i, i + batch_size), dtype), data.Y[i : i + batch_size])
        for i in range(0, m, batch_size)
    )


def _check_dataset(data: object, spec: MLP | None = None, name: str = "data") -> Dataset:
    """A ``Dataset`` (made by ``dataset``), and one for ``spec``'s sizes when given."""
    if not isinstance(data, Dataset):
        raise TypeError(
            f"{name} must be an fcfun Dataset (from fcfun.dataset), got {describe(data)}"
        )
    if spec is not None and (
        data.X.shape[1] != spec.sizes[0] or data.Y.shape[1:] != (spec.sizes[-1],)
    ):
        raise ValueError(
            f"{name} must have {spec.sizes[0]} input and {spec.sizes[-1]} target columns for "
            f"this spec, got X of shape {tuple(data.X.shape)} and Y of shape {data.Y.shape}"
        )
    return data


def epoch_data(data: Dataset, seed: int, epoch: int, shuffle: bool) -> Dataset:
    """The data in epoch ``epoch``'s order, gathered once for the whole epoch."""
    if not shuffle:
        return data
    order = epoch_order(seed, epoch, data.X.shape[0])
    return Dataset(
        freeze(read_rows(data.X, order, data.Y.dtype)), freeze(np.take(data.Y, order, axis=0))
    )


_EPOCH_GATHER_BYTES = 1 << 24
"""Data up to this size (16 MiB) is gathered once per epoch; bigger data, batch by batch."""


def _epoch_batches(
    data: Dataset, seed: int, epoch: int, shuffle: bool, batch_size: int
) -> Iterator[Batch]:
    """The batches of ``batches(epoch_data(data, seed, epoch, shuffle), batch_size)``.

    Big data, and any streamed source, is gathered one batch at a time instead: the same
    rows in the same order, without an epoch-sized copy, and each batch is still in cache
    when the first layer reads it. Small data keeps the single gather, one call per epoch,
    and is sliced here rather than through ``batches``, whose per-batch ``read_rows``
    dispatch (for streamed sources) a gathered in-memory epoch does not need.
    """
    dtype = data.Y.dtype
    size = data.X.shape[0] * data.X.shape[1] * dtype.itemsize + data.Y.nbytes
    if not shuffle:
        return batches(data, batch_size)
    if size <= _EPOCH_GATHER_BYTES and not is_streamed(data.X):
        X, Y = epoch_data(data, seed, epoch, shuffle)  # in memory: slices are views
        return (
            (X[i : i + batch_size], Y[i : i + batch_size]) for i in range(0, X.shape[0], batch_size)
        )
    order = epoch_order(seed, epoch, data.X.shape[0])
    return (
        (read_rows(data.X, rows, dtype), np.take(data.Y, rows, axis=0))
        for rows in (order[i : i + batch_size] for i in range(0, order.shape[0], batch_size))
    )


# Steps -----------------------------------------------------------------------------


def train_step(
    spec: MLP, optimizer: Optimizer[S], state: StepState[S], batch: Batch, *, alpha: float = 0.0
) -> StepState[S]:
    """One optimizer step on one batch: loss and gradient, update, apply.

    The inner loop's building block, and the one public function that checks nothing: it
    runs once per batch, on batches that ``batches`` cut from a checked ``Dataset`` and on
    a state that ``train_epoch`` checked. Raises ``DivergenceError`` (through
    ``train_epoch``) when the batch loss is not finite.

    On a batch of the parameters' dtype it equals, bit for bit, ``loss_and_grad`` then
    ``optimizer.update`` then ``apply_updates``; for plain gradient descent the last two
    run fused, in the fresh gradients' arrays (see ``update_and_apply``).
    """
    return _train_step(spec, update_and_apply(optimizer), alpha, state, batch)


def _train_step(
    spec: MLP, step: Step[S], alpha: float, state: StepState[S], batch: Batch
) -> StepState[S]:
    """``train_step`` with the optimizer resolved once to its ``update_and_apply``."""
    X, Y = batch
    loss, grads = _loss_and_owned_grad(spec, state.params, X, Y, alpha)
    if not math.isfinite(loss):
        # Finite parameters whose loss overflowed are the last finite state; parameters
        # made non-finite by the previous step are not, and the state before them is.
        if state.previous is None or all_finite(state.params):
            raise _Diverged(state.step, loss, state.params, state.opt_state)
        raise _Diverged(state.step - 1, loss, *state.previous)
    params, opt_state = step(grads, state.opt_state, state.params)
    return StepState(
        params,
        opt_state,
        state.loss_sum + loss * X.shape[0],
        state.step + 1,
        (state.params, state.opt_state),
    )


def evaluate(
    spec: MLP, params: Params, data: Dataset, metric: Metric, *, alpha: float = 0.0
) -> tuple[float, float]:
    """``(loss, metric)`` of ``params`` on checked ``data`` (a streamed ``X`` is read whole)."""
    spec = _check_spec(spec)
    _check_same_dtype(_check_dataset(data, spec), params_dtype(spec, params))
    _check_callable(metric, "metric")
    alpha = check_real(alpha, "alpha", low=0.0)
    A, caches = _forward(spec, params, read_rows(data.X, slice(None), data.Y.dtype))
    value = _loss_value(spec, caches, data.Y) + _penalty(params, alpha, data.X.shape[0])
    return value, metric(A, data.Y)


def all_finite(params: Params) -> bool:
    """Whether every array of ``params`` is finite."""
    return all(np.isfinite(layer.W).all() and np.isfinite(layer.b).all() for layer in params)


def train_epoch(
    spec: MLP,
    optimizer: Optimizer[S],
    data: Dataset,
    state: TrainState[S],
    epoch: int,
    *,
    batch_size: int,
    alpha: float = 0.0,
    shuffle: bool = True,
    validation: Dataset | None = None,
    metric: Metric | None = None,
) -> TrainState[S]:
    """Train one epoch: a reduce of ``train_step`` over the epoch's batches.

    Bind everything before ``state`` with ``functools.partial`` to get the
    ``(state, epoch) -> state`` function that ``fit`` reduces over epochs. The arguments
    are checked once per epoch (cheaply: ``data`` was checked when it was made).
    """
    _check_epoch_arguments(spec, optimizer, data, state, epoch, batch_size, validation)
    return _train_epoch(
        spec,
        optimizer,
        data,
        state,
        epoch,
        batch_size=batch_size,
        alpha=alpha,
        shuffle=shuffle,
        validation=validation,
        metric=metric,
    )


def _train_epoch(
    spec: MLP,
    optimizer: Optimizer[S],
    data: Dataset,
    state: TrainState[S],
    epoch: int,
    *,
    batch_size: int,
    alpha: float = 0.0,
    shuffle: bool = True,
    validation: Dataset | None = None,
    metric: Metric | None = None,
) -> TrainState[S]:
    """``train_epoch`` without its argument checks: ``fit`` checked them once."""
    step = functools.partial(_train_step, spec, update_and_apply(optimizer), alpha)
    start = StepState(state.params, state.opt_state, 0.0, 0, None)
    try:
        # A diverging run overflows on its way to the non-finite loss that stops it: that
        # is reported as a DivergenceError, not as numpy warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            epoch_batches = _epoch_batches(data, state.seed, epoch, shuffle, batch_size)
            done = functools.reduce(step, epoch_batches, start)
    except _Diverged as diverged:
        raise _divergence(state, epoch, diverged) from None
    if not all_finite(done.params):
        assert done.previous is not None
        raise _divergence(state, epoch, _Diverged(done.step - 1, math.nan, *done.previous))
    history = state.history
    train_loss = (*history.train_loss, done.loss_sum / data.X.shape[0])
    if validation is None:
        history = history._replace(train_loss=train_loss)
    else:
        val_loss, val_metric = evaluate(
            spec, done.params, validation, metric or default_metric(spec.loss), alpha=alpha
        )
        history = History(
            train_loss, (*history.val_loss, val_loss), (*history.val_metric, val_metric)
        )
    return TrainState(done.params, done.opt_state, state.epoch + 1, state.seed, history)


def _check_epoch_arguments(
    spec: MLP,
    optimizer: object,
    data: Dataset,
    state: object,
    epoch: int,
    batch_size: int,
    validation: Dataset | None,
) -> None:
    spec = _check_spec(spec)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an fcfun Optimizer, got {describe(optimizer)}")
    if not isinstance(state, TrainState):
        raise TypeError(f"state must be an fcfun TrainState, got {describe(state)}")
    dtype = params_dtype(spec, state.params)
    _check_same_dtype(_check_dataset(data, spec), dtype)
    if validation is not None:
        _check_same_dtype(_check_dataset(validation, spec, "validation"), dtype, "validation")
    check_int(epoch, "epoch", minimum=0)
    check_int(batch_size, "batch_size", minimum=1)


def _check_same_dtype(data: Dataset, dtype: np.dtype[Any], name: str = "data") -> None:
    if data.Y.dtype != dtype:
        raise TypeError(
            f"{name} must be in the params' dtype {dtype} (make it with fcfun.dataset(spec, X, "
            f"Y, {dtype})), got {data.Y.dtype}"
        )


def _divergence(start: TrainState[S], epoch: int, diverged: _Diverged) -> DivergenceError:
    """The report: the epoch's start state with the last finite params and opt state."""
    last_finite = start._replace(params=diverged.params, opt_state=diverged.opt_state)
    return DivergenceError(epoch, diverged.step, diverged.loss, last_finite)


# Runs ------------------------------------------------------------------------------


class _Run(NamedTuple, Generic[S]):
    """A checked run: the initial state and the bound ``(state, epoch) -> state``."""

    start: TrainState[S]
    epoch_fn: Callable[[TrainState[S], int], TrainState[S]]
    epochs: range


def _prepare(
    spec: MLP,
    X: Any,
    Y: Any,
    *,
    optimizer: Optimizer[S],
    epochs: int,
    batch_size: int,
    seed: int | None,
    params: Params | TrainState[S] | None,
    validation: tuple[Any, Any] | None,
    alpha: float,
    shuffle: bool,
    metric: Metric | None,
    dtype: FloatDType,
) -> _Run[S]:
    spec = _check_spec(spec)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an fcfun Optimizer, got {describe(optimizer)}")
    epochs = check_int(epochs, "epochs", minimum=0)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    alpha = check_real(alpha, "alpha", low=0.0)
    if not isinstance(shuffle, bool | np.bool_):
        raise TypeError(f"shuffle must be True or False, got {describe(shuffle)}")
    _check_callable(metric, "metric")
    start, resolved = start_state(spec, optimizer, seed, params, dtype)
    data = dataset(spec, X, Y, resolved)
    checked_validation = validation_data(spec, validation, resolved)
    epoch_fn = functools.partial(
        _train_epoch,
        spec,
        optimizer,
        data,
        batch_size=batch_size,
        alpha=alpha,
        shuffle=shuffle,
        validation=checked_validation,
        metric=metric,
    )
    return _Run(start, epoch_fn, range(start.epoch, max(epochs, start.epoch)))


def start_state(
    spec: MLP,
    optimizer: Optimizer[S],
    seed: int | None,
    params: Params | TrainState[S] | None,
    dtype: FloatDType,
) -> tuple[TrainState[S], np.dtype[Any]]:
    """The state a run starts from, checked, and its parameters' dtype.

    A ``TrainState`` is continued (``seed`` must be ``None`` or its seed); otherwise
    ``params`` (or ``init(spec, seed, dtype=dtype)``) start a fresh run at epoch 0.
    """
    if isinstance(params, TrainState):
        if seed is not None and check_seed(seed) != params.seed:
            raise ValueError(
                f"seed must be None or the state's seed {params.seed} when continuing a "
                f"TrainState, got {seed}"
            )
        return params._replace(params=own_params(params.params)), params_dtype(spec, params.params)
    if seed is None:
        raise TypeError("seed must be a non-negative integer, got None")
    seed = check_seed(seed)
    initial = init(spec, seed, dtype=dtype) if params is None else params
    resolved = params_dtype(spec, initial)
    initial = own_params(initial)  # a caller's writeable arrays are never kept or handed back
    return TrainState(initial, optimizer.init(initial), 0, seed, History()), resolved


def validation_data(
    spec: MLP, validation: tuple[Any, Any] | None, dtype: np.dtype[Any]
) -> Dataset | None:
    """``(X_val, Y_val)`` checked once, or ``None``."""
    if validation is None:
        return None
    if not isinstance(validation, tuple) or len(validation) != 2:
        raise TypeError(f"validation must be a pair (X_val, Y_val), got {describe(validation)}")
    val_X = check_X(validation[0], spec.sizes[0], dtype, name="validation X")
    val_Y = check_targets(spec, validation[1], val_X.shape[0], dtype, name="validation Y")
    return Dataset(freeze(val_X), freeze(val_Y))


def fit_iter(
    spec: MLP,
    X: Any,
    Y: Any,
    *,
    optimizer: Optimizer[S],
    epochs: int,
    batch_size: int,
    seed: int | None = None,
    params: Params | TrainState[S] | None = None,
    validation: tuple[Any, Any] | None = None,
    alpha: float = 0.0,
    shuffle: bool = True,
    metric: Metric | None = None,
    dtype: FloatDType = np.float64,
) -> Iterator[TrainState[S]]:
    """A lazy iterator of states, one per epoch trained (arguments as ``fit``).

    Arguments are checked when this is called; each epoch runs when its state is pulled.
    """
    run = _prepare(
        spec,
        X,
        Y,
        optimizer=optimizer,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        params=params,
        validation=validation,
        alpha=alpha,
        shuffle=shuffle,
        metric=metric,
        dtype=dtype,
    )
    return drop(1, accumulate(run.epoch_fn, run.epochs, run.start))


def fit(
    spec: MLP,
    X: Any,
    Y: Any,
    *,
    optimizer: Optimizer[S],
    epochs: int,
    batch_size: int,
    seed: int | None = None,
    params: Params | TrainState[S] | None = None,
    validation: tuple[Any, Any] | None = None,
    alpha: float = 0.0,
    shuffle: bool = True,
    metric: Metric | None = None,
    early_stopping: EarlyStopping | None = None,
    callback: Callable[[TrainState[S]], object] | None = None,
    progress: Callable[[Iterable[int]], Iterable[int]] | None = None,
    dtype: FloatDType = np.float64,
    on_divergence: Literal["raise", "stop"] = "raise",
) -> TrainState[S]:
    """Train ``spec`` on ``(X, Y)``: ``reduce(train_epoch, range(start, epochs), state)``.

    Args:
        spec: the network, from ``mlp``.
        X: inputs ``(m, n_in)``; integer and bool arrays are converted. A numpy memmap
            or a dask array is streamed: checked block by block, then read one batch of
            rows at a time, so data larger than memory trains in bounded memory.
        Y: targets: ``(m, n_out)``, or ``(m,)`` for one output, or integer class labels
            ``(m,)`` for softmax cross-entropy.
        optimizer: an ``Optimizer`` such as ``sgd(0.1)`` or ``adam(1e-3)``.
        epochs: the epoch count to reach; a run continued from a ``TrainState`` at epoch
            ``k`` trains epochs ``k .. epochs - 1``.
        batch_size: rows per step; larger than ``m`` means full batch.
        seed: the run's seed (initial parameters and every epoch's order); ``None`` when
            continuing a ``TrainState``, which carries its own.
        params: ``None`` for ``init(spec, seed, dtype=dtype)``, initial ``Params``, or a
            ``TrainState`` to continue.
        validation: ``(X_val, Y_val)`` to record validation loss and metric per epoch.
        alpha: L2 penalty, as in ``loss_and_grad``.
        shuffle: visit rows in a fresh order each epoch (``False``: storage order).
        metric: ``(A, Y) -> float`` for validation; default accuracy or R² by loss.
        early_stopping: an ``EarlyStopping`` rule, or ``None`` to train every epoch.
        callback: called with each epoch's state (to log); its result is ignored.
        progress: wraps the epoch range, e.g. ``tqdm.tqdm``; changes no result.
        dtype: dtype of freshly initialized parameters.
        on_divergence: ``"raise"`` a ``DivergenceError`` holding the last finite state,
            or ``"stop"`` and return that state.

    Returns:
        The final ``TrainState``.
    """
    run = _prepare(
        spec,
        X,
        Y,
        optimizer=optimizer,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        params=params,
        validation=validation,
        alpha=alpha,
        shuffle=shuffle,
        metric=metric,
        dtype=dtype,
    )
    _check_callable(callback, "callback")
    _check_callable(progress, "progress")
    if on_divergence not in ("raise", "stop"):
        raise ValueError(f"on_divergence must be 'raise' or 'stop', got {on_divergence!r}")
    if early_stopping is not None:
        _check_early_stopping(early_stopping, validation is not None)
    epoch_fn = run.epoch_fn if callback is None else _observed(run.epoch_fn, callback)
    epochs_seq: Iterable[int] = run.epochs if progress is None else progress(run.epochs)
    try:
        if early_stopping is None:
            return functools.reduce(epoch_fn, epochs_seq, run.start)
        return _early_stopped(early_stopping, accumulate(epoch_fn, epochs_seq, run.start))
    except DivergenceError as error:
        if on_divergence == "stop":
            state: TrainState[S] = error.state
            return state
        raise


def _check_callable(value: object, name: str) -> None:
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be a function or None, got {describe(value)}")


def _observed(
    epoch_fn: Callable[[TrainState[S], int], TrainState[S]],
    callback: Callable[[TrainState[S]], object],
) -> Callable[[TrainState[S], int], TrainState[S]]:
    def observed(state: TrainState[S], epoch: int) -> TrainState[S]:
        new = epoch_fn(state, epoch)
        callback(new)
        return new

    return observed


# Early stopping --------------------------------------------------------------------


class _Watch(NamedTuple, Generic[S]):
    state: TrainState[S]
    best: TrainState[S]
    best_score: float
    since_best: int


def _check_early_stopping(rule: EarlyStopping, has_validation: bool) -> None:
    if not isinstance(rule, EarlyStopping):
        raise TypeError(f"early_stopping must be an EarlyStopping, got {describe(rule)}")
    check_int(rule.patience, "early_stopping.patience", minimum=1)
    check_real(rule.min_delta, "early_stopping.min_delta", low=0.0)
    if rule.monitor not in ("val_loss", "val_metric", "train_loss"):
        raise ValueError(
            "early_stopping.monitor must be 'val_loss', 'val_metric' or 'train_loss', "
            f"got {rule.monitor!r}"
        )
    if rule.monitor != "train_loss" and not has_validation:
        raise ValueError(
            f"early_stopping.monitor={rule.monitor!r} needs validation data, got "
            "validation=None; pass validation=(X_val, Y_val) or monitor='train_loss'"
        )


def monitored(rule: EarlyStopping, history: History) -> tuple[float, ...]:
    """The values ``rule`` watches, one per epoch, oriented so that lower is better."""
    if rule.monitor == "val_metric":
        return tuple(-value for value in history.val_metric)
    return history.val_loss if rule.monitor == "val_loss" else history.train_loss


def _improves(rule: EarlyStopping, score: float, best: float) -> bool:
    return score < best - rule.min_delta


def _watch(rule: EarlyStopping, watch: _Watch[S], state: TrainState[S]) -> _Watch[S]:
    score = monitored(rule, state.history)[-1]
    if _improves(rule, score, watch.best_score):
        return _Watch(state, state, score, 0)
    return _Watch(state, watch.best, watch.best_score, watch.since_best + 1)


def patience_exhausted(rule: EarlyStopping, scores: Iterable[float]) -> bool:
    """Whether ``rule`` stops a run after these scores (lower is better), as ``fit`` does.

    >>> patience_exhausted(EarlyStopping(patience=2), [3.0, 2.0, 2.5, 2.1])
    True
    """
    best, since_best = math.inf, 0
    for score in scores:
        best, since_best = (score, 0) if _improves(rule, score, best) else (best, since_best + 1)
    return since_best >= rule.patience


def take_through(predicate: Callable[[T], bool], items: Iterable[T]) -> Iterator[T]:
    """Items up to and including the first for which ``predicate`` holds (lazily).

    Unlike ``takewhile`` it never pulls the item after the stopping one, so no epoch is
    trained only to be thrown away.

    >>> list(take_through(lambda x: x >= 2, iter([0, 1, 2, 3])))
    [0, 1, 2]
    """
    for item in items:
        yield item
        if predicate(item):
            return


def _early_stopped(rule: EarlyStopping, states: Iterator[TrainState[S]]) -> TrainState[S]:
    start = next(states)
    watches = accumulate(functools.partial(_watch, rule), states, _Watch(start, start, math.inf, 0))
    final = last(take_through(lambda w: w.since_best >= rule.patience, watches))
    if rule.restore_best:
        return final.state._replace(params=final.best.params)
    return final.state
