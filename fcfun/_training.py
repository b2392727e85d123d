"""Training as toolz pipelines: a step is a reduce over batches, a run a stream of epochs.

An epoch is a pipeline over the epoch's row order: order -> batches -> gathered rows ->
``reduce(step)``. Epoch ``e`` visits the rows in the order
``default_rng([seed, e]).permutation(m)`` (or in storage order with ``shuffle=False``),
cut into batches of ``batch_size`` consecutive rows, the last one short. A run is the
lazy stream of epoch states, ``accumulate(epoch, range(start, epochs), state)``, and
``fit`` reads it through stages a user can compose in a script the same way::

    pipe(fit_iter(spec, X, Y, ...), observe(log), stop_early(rule), final(start))

With nothing watching, ``fit`` is ``reduce(epoch, range(start, epochs), state)``.
A run's settings travel together as one ``TrainConfig``. Nothing reads a clock or a
global generator, so the same arguments give bit-identical states, and a run resumed
from its ``TrainState`` at epoch ``k`` equals the uninterrupted run.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, Literal, NamedTuple, Protocol, TypeAlias, TypeVar

import numpy as np
from toolz import accumulate, drop, pipe

from fcfun._blas import fixed_threads
from fcfun._dropout import StepKey, step_masks
from fcfun._errors import DivergenceError
from fcfun._flat import owned
from fcfun._losses import weighted
from fcfun._metrics import Metric
from fcfun._network import init, output_and_value, training_activations, value_and_grad
from fcfun._optimizers import (
    ObjectiveStep,
    Optimizer,
    has_method,
    has_scale,
    optimizer_step,
    set_scale,
    state_says,
)
from fcfun._plateau import (
    ReduceOnPlateau,
    check_plateau,
    plateau_scores,
    plateau_tracker,
    plateau_walk,
)
from fcfun._sources import Rows, check_source, is_streamed, read_rows
from fcfun._spec import (
    MLP,
    check_sample_weight,
    check_spec,
    check_targets,
    params_dtype,
    scaled_alpha,
    scaled_weight,
)
from fcfun._state import History, TrainState, check_monitor, watched
from fcfun._tree import check_values, flatten, structure
from fcfun._types import Dense, FloatArray, FloatDType, IntArray, Params, freeze
from fcfun._validation import (
    check_bool,
    check_callable,
    check_float_dtype,
    check_int,
    check_real,
    check_seed,
    check_X,
    describe,
)

S = TypeVar("S")
T = TypeVar("T")
B = TypeVar("B")


Gradient: TypeAlias = Callable[[Params, B, StepKey], tuple[float, Params, float]]
"""``(params, batch, key) -> (mean loss, gradients, weight)``: the batch's weight in the
epoch's mean loss is its rows, or the sum of its samples' weights. The gradients are
fresh arrays the step owns (and donates to the optimizer). ``key`` names the step (its
run seed, epoch and index), which is all that the batch's dropout masks depend on."""

Epoch: TypeAlias = Callable[[TrainState[S], int], TrainState[S]]
"""``(state, epoch) -> state``: what a run reduces over its epochs."""

Validate: TypeAlias = Callable[[Params, bool], tuple[float, float]]
"""``(params, strict) -> (val_loss, val_metric)``; ``strict``: a non-finite loss is a
``ValueError``."""


class Stage(Protocol):
    """A run stage: a stream of epoch states in, a stream of the same type out.

    Generic in the optimizer state, so ``pipe(fit_iter(...), observe(log),
    stop_early(rule), last)`` type-checks whatever the optimizer (see ``observe``,
    ``stop_early``, ``stop_on_divergence``).
    """

    def __call__(self, states: Iterable[TrainState[T]], /) -> Iterator[TrainState[T]]:
        """The stream after this stage."""
        ...


class TrainConfig(NamedTuple, Generic[S]):
    """A run's settings: everything an epoch needs besides the data and the state.

    Attributes:
        spec: the network.
        optimizer: the optimizer.
        batch_size: rows per step; larger than ``m`` means full batch.
        alpha: L2 penalty, as in ``loss_and_grad``.
        shuffle: visit rows in a fresh order each epoch (``False``: storage order).
        metric: ``(A, Y) -> float`` for validation; ``None`` for the loss's own.
        plateau: a ``ReduceOnPlateau`` that sets the optimizer's learning-rate scale
            (``set_scale``, on its ``scale_by_plateau``) between epochs, or ``None``.
    """

    spec: MLP
    optimizer: Optimizer[S]
    batch_size: int
    alpha: float = 0.0
    shuffle: bool = True
    metric: Metric | None = None
    plateau: ReduceOnPlateau | None = None


def check_config(config: TrainConfig[S], has_validation: bool = True) -> TrainConfig[S]:
    """``config`` with every field checked (numbers normalised to Python types);
    ``has_validation``: whether the run has validation data (a plateau may monitor it)."""
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be an fcfun TrainConfig, got {describe(config)}")
    if not isinstance(config.optimizer, Optimizer):
        raise TypeError(f"optimizer must be an fcfun Optimizer, got {describe(config.optimizer)}")
    check_callable(config.metric, "metric")
    plateau = None if config.plateau is None else check_plateau(config.plateau, has_validation)
    return TrainConfig(
        check_spec(config.spec),
        config.optimizer,
        check_int(config.batch_size, "batch_size", minimum=1),
        check_real(config.alpha, "alpha", low=0.0),
        check_bool(config.shuffle, "shuffle"),
        config.metric,
        plateau,
    )


class Batch(NamedTuple):
    """One mini-batch: rows ``X``, their targets ``Y`` and, for weighted data, their
    weights (``None``: all equal)."""

    X: FloatArray
    Y: FloatArray
    sample_weight: FloatArray | None = None


class Dataset(NamedTuple):
    """Checked training data: ``X`` ``(m, n_in)``, targets ``Y`` ``(m, n_out)`` and, for
    weighted data, the samples' weights ``(m,)``.

    Made by ``dataset``, which validates once, so the per-epoch code checks nothing.
    ``X`` is in memory in ``Y``'s dtype, or a streamed row source (a memmap or a dask
    array, read a batch at a time and converted to ``Y``'s dtype). A weight travels with
    its row: every epoch order and batch cut takes the same rows of all three.
    """

    X: Rows
    Y: FloatArray
    sample_weight: FloatArray | None = None

    @property
    def total_weight(self) -> float:
        """The rows, or the sum of the samples' weights: the epoch loss's denominator."""
        if self.sample_weight is None:
            return self.X.shape[0]
        return float(np.add.reduce(self.sample_weight))


class StepState(NamedTuple, Generic[S]):
    """What the reduce over one epoch's batches carries.

    Attributes:
        params: parameters after ``step`` steps of this epoch.
        opt_state: the optimizer state after ``step`` steps.
        loss_sum: sum over the steps so far of ``batch loss * batch weight`` (its rows, or
            its samples' total weight).
        step: number of steps done in this epoch.
        previous: ``(params, opt_state)`` before the last step, for a divergence report.
        seed: the run's seed.
        epoch: the epoch being trained (with ``seed`` and ``step``, the next batch's
            ``StepKey``).
    """

    params: Params
    opt_state: S
    loss_sum: float
    step: int
    previous: tuple[Params, S] | None
    seed: int = 0
    epoch: int = 0


class EarlyStopping(NamedTuple):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``val_loss`` and ``train_loss`` improve downwards, ``val_metric`` upwards. With
    ``restore_best`` the returned state holds the best epoch's parameters (its epoch
    count and history still run to the last epoch trained).

    ``rule`` says what "the best so far" is. ``"min_delta"``: the last value that improved
    by more than ``min_delta``; an epoch counts as an improvement when it beats it by more
    than ``min_delta``. ``"sklearn"`` (scikit-learn's MLPs): the best value seen, moved by
    any improvement, however small; the count of epochs without improvement restarts only
    when an epoch beats the previous best by ``min_delta`` or more.
    """

    patience: int = 10
    min_delta: float = 0.0
    monitor: Literal["val_loss", "val_metric", "train_loss"] = "val_loss"
    restore_best: bool = True
    rule: Literal["min_delta", "sklearn"] = "min_delta"


class _Diverged(Exception):
    """Internal: a step met a non-finite loss or overflowed; carries what the report needs."""

    def __init__(
        self, step: int, loss: float, params: Params, opt_state: Any, what: str = ""
    ) -> None:
        super().__init__(step, loss)
        self.step, self.loss, self.params, self.opt_state = step, loss, params, opt_state
        self.what = what


_OVERFLOWED = "an overflow (a value beyond the dtype's range) in the {} of this step"


# Data ------------------------------------------------------------------------------


def dataset(
    spec: MLP, X: Any, Y: Any, dtype: FloatDType = np.float64, sample_weight: Any = None
) -> Dataset:
    """Check ``X``, ``Y`` and ``sample_weight`` against ``spec`` once, in ``dtype``.

    Integer class labels become one-hot rows for softmax cross-entropy; a 1-D ``Y``
    becomes a column for a single-output network. ``sample_weight`` ``(m,)``: finite,
    non-negative, not all zero (``None``: every sample weighs the same).
    """
    spec = check_spec(spec)
    resolved = check_float_dtype(dtype)
    if is_streamed(X):
        rows: Rows = check_source(X, spec.sizes[0], resolved)
    else:
        rows = freeze(check_X(X, spec.sizes[0], resolved))
    m = rows.shape[0]
    targets = freeze(check_targets(spec, Y, m, resolved))
    return Dataset(rows, targets, check_sample_weight(spec, sample_weight, m, resolved))


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
    >>> [len(batch.X) for batch in batches(d, 2)]
    [2, 2, 1]
    """
    data, batch_size = _check_dataset(data), check_int(batch_size, "batch_size", minimum=1)
    m, dtype, weight = data.X.shape[0], data.Y.dtype, data.sample_weight
    return (
        Batch(
            read_rows(data.X, rows, dtype), data.Y[rows], None if weight is None else weight[rows]
        )
        for rows in (slice(i, i + batch_size) for i in range(0, m, batch_size))
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
    weight = data.sample_weight
    return Dataset(
        freeze(read_rows(data.X, order, data.Y.dtype)),
        freeze(np.take(data.Y, order, axis=0)),
        None if weight is None else freeze(np.take(weight, order)),
    )


_EPOCH_GATHER_BYTES = 1 << 24
"""Data up to this size (16 MiB) is gathered once per epoch; bigger data, batch by batch."""


def epoch_batches(
    data: Dataset, batch_size: int, shuffle: bool
) -> Callable[[int, int], Iterator[Batch]]:
    """``(seed, epoch) -> batches``: the rows of ``batches(epoch_data(...), batch_size)``.

    The epoch's pipeline: its order, cut into batches, each batch's rows gathered. Small
    in-memory data is gathered once per epoch and sliced (views); big data, and any
    streamed source, is gathered one batch at a time instead: the same rows in the same
    order, without an epoch-sized copy, and each batch still in cache when the first
    layer reads it.
    """
    dtype, m = data.Y.dtype, data.X.shape[0]
    size = m * data.X.shape[1] * dtype.itemsize + data.Y.nbytes
    gather_once = (
        size <= _EPOCH_GATHER_BYTES and isinstance(data.X, np.ndarray) and not is_streamed(data.X)
    )
    # (not for a streamed source, nor for sparse rows, which are gathered batch by batch)

    def of_epoch(seed: int, epoch: int) -> Iterator[Batch]:
        if not shuffle:
            return batches(data, batch_size)
        if gather_once:  # in memory: the batches are slices (views) of the epoch's data
            X, Y, W = epoch_data(data, seed, epoch, shuffle)
            return (
                Batch(
                    X[i : i + batch_size],
                    Y[i : i + batch_size],
                    W if W is None else W[i : i + batch_size],
                )
                for i in range(0, m, batch_size)
            )
        order = epoch_order(seed, epoch, m)
        spans = (order[i : i + batch_size] for i in range(0, m, batch_size))
        weight = data.sample_weight
        return (
            Batch(
                read_rows(data.X, rows, dtype),
                np.take(data.Y, rows, axis=0),
                None if weight is None else np.take(weight, rows),
            )
            for rows in spans
        )

    return of_epoch


# Steps -----------------------------------------------------------------------------


def batch_gradient(spec: MLP, alpha: float = 0.0) -> Gradient[Batch]:
    """The ``Gradient`` of a batch ``(X, Y)``: the penalized loss and its gradient, with
    the step's dropout masks when ``spec`` has dropout."""
    activations = training_activations(spec)
    rates, widths = spec.dropout, spec.sizes[1:-1]

    def gradient(params: Params, batch: Batch, key: StepKey) -> tuple[float, Params, float]:
        X, Y, sample_weight = batch
        weight = None if sample_weight is None else weighted(sample_weight)
        if weight is not None and weight.total == 0:  # a batch that weighs nothing
            return 0.0, tuple(Dense(np.zeros_like(p.W), np.zeros_like(p.b)) for p in params), 0.0
        masks = step_masks(rates, widths, key, X.shape[0], X.dtype) if rates else ()
        loss, grads = value_and_grad(spec, activations, params, X, Y, alpha, masks, weight)
        return loss, grads, (X.shape[0] if weight is None else weight.total)

    return gradient


def make_step(
    gradient: Gradient[B], optimizer: Optimizer[S]
) -> Callable[[StepState[S], B], StepState[S]]:
    """The one training step, ``(state, batch) -> state``: gradient, update, apply.

    Built once per run (the optimizer's step is looked up here, not per batch).
    Raises ``_Diverged`` (reported by the epoch as ``DivergenceError``) when the batch
    loss is not finite.
    """
    update = optimizer_step(optimizer)
    searched = optimizer.step_with_objective

    def step(state: StepState[S], batch: B) -> StepState[S]:
        if searched is not None:
            return _searched_step(searched, gradient, state, batch)
        try:
            key = StepKey(state.seed, state.epoch, state.step)
            loss, grads, rows = gradient(state.params, batch, key)
        except FloatingPointError:  # inside an epoch, numpy raises on overflow
            what = _OVERFLOWED.format("loss and gradient")
            raise _Diverged(state.step, math.inf, state.params, state.opt_state, what) from None
        if rows == 0:  # a batch whose samples all weigh 0 changes nothing
            return state._replace(step=state.step + 1)
        if not math.isfinite(loss):
            # Finite parameters whose loss overflowed are the last finite state; parameters
            # made non-finite by the previous step are not, and the state before them is.
            if state.previous is None or all_finite(state.params):
                raise _Diverged(state.step, loss, state.params, state.opt_state)
            raise _Diverged(state.step - 1, loss, *state.previous)
        try:
            params, opt_state = update(grads, state.opt_state, state.params)
        except FloatingPointError:  # the optimizer state or the params would leave the range
            what = _OVERFLOWED.format("optimizer update")
            raise _Diverged(state.step, loss, state.params, state.opt_state, what) from None
        return StepState(
            params,
            opt_state,
            state.loss_sum + loss * rows,
            state.step + 1,
            (state.params, state.opt_state),
            state.seed,
            state.epoch,
        )

    return step


def _searched_step(
    searched: ObjectiveStep[S], gradient: Gradient[B], state: StepState[S], batch: B
) -> StepState[S]:
    """The step of an optimizer that evaluates the batch's objective itself (a line
    search): it gets ``params -> (loss, grads)`` and returns the loss at the step's start.
    Every evaluation of one step has the step's key (the same dropout masks)."""
    rows: list[float] = []  # the batch's weight in the epoch's mean, once per evaluation
    key = StepKey(state.seed, state.epoch, state.step)

    def objective(params: Params) -> tuple[float, Params]:
        loss, grads, count = gradient(params, batch, key)
        rows.append(count)
        return loss, grads

    try:
        loss, params, opt_state = searched(objective, state.opt_state, state.params)
    except FloatingPointError:  # at the step's start point: the line search takes the rest
        what = _OVERFLOWED.format("loss and gradient")
        raise _Diverged(state.step, math.inf, state.params, state.opt_state, what) from None
    if not math.isfinite(loss):
        raise _Diverged(state.step, loss, state.params, state.opt_state)
    previous = (state.params, state.opt_state)
    if not rows:  # the optimizer used no evaluation (a cached loss): the batch's weight
        rows.append(gradient(state.params, batch, key)[2])
    loss_sum, count = state.loss_sum + loss * rows[0], state.step + 1
    return StepState(params, opt_state, loss_sum, count, previous, state.seed, state.epoch)


def train_step(
    spec: MLP,
    optimizer: Optimizer[S],
    state: StepState[S],
    batch: Batch | tuple[FloatArray, FloatArray],
    *,
    alpha: float = 0.0,
) -> StepState[S]:
    """One optimizer step on one batch: loss and gradient, update, apply.

    The inner loop's building block, and the one public function that checks nothing: it
    runs once per batch, on batches that ``batches`` cut from a checked ``Dataset`` and on
    a state that ``train_epoch`` checked. ``fit`` builds the same step once per run
    (``make_step``). Raises ``DivergenceError`` (holding the last finite parameters and
    optimizer state in a ``TrainState`` with an empty history) when the batch loss is not
    finite or a value overflows.

    On a batch of the parameters' dtype it equals, bit for bit, ``loss_and_grad`` then
    ``optimizer.update`` then ``apply_updates``; an optimizer with a flat update (every
    built-in) runs it on the network's vectors (see ``optimizer_step``). An
    ``(X, Y)`` pair is taken as ``Batch(X, Y)``.
    """
    step = make_step(batch_gradient(spec, alpha), optimizer)
    try:  # as in an epoch: an overflow is a divergence, never a warning
        with fixed_threads(), np.errstate(over="raise", invalid="raise", divide="ignore"):
            return step(state, Batch(*batch))  # a plain (X, Y) pair: a batch without weights
    except _Diverged as diverged:
        last_finite = TrainState(
            diverged.params, diverged.opt_state, state.epoch, state.seed, History()
        )
        raise DivergenceError(
            state.epoch, diverged.step, diverged.loss, last_finite, diverged.what
        ) from None


def all_finite(params: Params) -> bool:
    """Whether every array of ``params`` is finite."""
    return all(np.isfinite(layer.W).all() and np.isfinite(layer.b).all() for layer in params)


# Epochs ----------------------------------------------------------------------------


def evaluate(
    spec: MLP, params: Params, data: Dataset, metric: Metric, *, alpha: float = 0.0
) -> tuple[float, float]:
    """``(loss, metric)`` of ``params`` on checked ``data`` (a streamed ``X`` is read whole)."""
    spec = check_spec(spec)
    _check_same_dtype(_check_dataset(data, spec), params_dtype(spec, params))
    check_callable(metric, "metric")
    alpha = check_real(alpha, "alpha", low=0.0)
    validate = validator(spec, data, metric, alpha)
    assert validate is not None
    with fixed_threads():
        return validate(params, True)


def epoch_function(
    step: Callable[[StepState[S], B], StepState[S]],
    batches_of: Callable[[int, int], Iterable[B]],
    m: float,
    validate: Validate | None = None,
) -> Epoch[S]:
    """``(state, epoch) -> state``: ``reduce(step)`` over the epoch's batches, recorded.

    Args:
        step: the training step (``make_step``).
        batches_of: ``(seed, epoch) -> batches`` (``epoch_batches``).
        m: the rows in an epoch, or their samples' total weight (the training loss is
            their mean, or weighted mean).
        validate: ``params -> (val_loss, val_metric)``, or ``None``.

    A non-finite loss, an overflow in a step (the loss, the gradient, the optimizer state or
    the parameters) raises ``DivergenceError`` with the last finite state; so does a
    non-finite validation loss, with the epoch's finished state (its validation scores nan).
    """

    def train(state: TrainState[S], epoch: int) -> TrainState[S]:
        start = StepState(state.params, state.opt_state, 0.0, 0, None, state.seed, epoch)
        try:
            # An overflow anywhere in a step (the loss, the gradient, the optimizer's state
            # or the new params) stops the run as a DivergenceError at that step, with the
            # state before it; never a numpy warning, never a state gone quietly infinite.
            with fixed_threads(), np.errstate(over="raise", invalid="raise", divide="ignore"):
                done = functools.reduce(step, batches_of(state.seed, epoch), start)
        except _Diverged as diverged:
            raise _divergence(state, epoch, diverged) from None
        if not all_finite(done.params):
            assert done.previous is not None
            raise _divergence(state, epoch, _Diverged(done.step - 1, math.nan, *done.previous))
        history = state.history
        train_loss = (*history.train_loss, done.loss_sum / m)
        if validate is None:
            history = history._replace(train_loss=train_loss)
        else:
            with fixed_threads():
                val_loss, val_metric = validate(done.params, False)
            history = History(
                train_loss, (*history.val_loss, val_loss), (*history.val_metric, val_metric)
            )
            if not math.isfinite(val_loss):  # the params are finite; only their outputs are not
                finished = TrainState(
                    done.params, done.opt_state, state.epoch + 1, state.seed, history
                )
                what = (
                    "the validation loss is not finite: this epoch's params (finite, in "
                    ".state) overflow on the validation set"
                )
                raise DivergenceError(epoch, done.step, val_loss, finished, what)
        return TrainState(done.params, done.opt_state, state.epoch + 1, state.seed, history)

    return train


def epoch_of(config: TrainConfig[S], data: Dataset, validation: Dataset | None = None) -> Epoch[S]:
    """The ``(state, epoch) -> state`` function of a checked ``config`` on checked data
    (weighted data's weights and the L2 term's ``alpha`` scaled once: ``scaled_weight``)."""
    alpha = config.alpha
    if data.sample_weight is not None:
        weight, exponent = scaled_weight(data.sample_weight)
        data, alpha = data._replace(sample_weight=weight), scaled_alpha(alpha, exponent)
    step = make_step(batch_gradient(config.spec, alpha), config.optimizer)
    validate = validator(config.spec, validation, config.metric, config.alpha)
    of_epoch = epoch_batches(data, config.batch_size, config.shuffle)
    epoch = epoch_function(step, of_epoch, data.total_weight, validate)
    if config.plateau is None:
        return epoch
    return with_scale(epoch, config.plateau)


def with_scale(epoch: Epoch[S], rule: ReduceOnPlateau) -> Epoch[S]:
    """``epoch``, then the optimizer state's scale set to ``plateau_scale(rule, history)``:
    the next epoch's scale, a function of the history alone (a resumed run takes the same)."""
    track = plateau_tracker(rule)

    def train(state: TrainState[S], epoch_index: int) -> TrainState[S]:
        done = epoch(state, epoch_index)
        return done._replace(opt_state=set_scale(done.opt_state, track(done.history).scale))

    return train


def validator(
    spec: MLP, validation: Dataset | None, metric: Metric | None, alpha: float
) -> Validate | None:
    """``params -> (val_loss, val_metric)`` on checked data (the loss's own metric when
    ``metric`` is ``None``), or ``None`` without validation data. A non-finite loss is a
    ValueError when ``strict``, else the pair ``(nan, nan)``."""
    if validation is None:
        return None
    checked_metric = metric or spec.loss.metric

    def validate(params: Params, strict: bool) -> tuple[float, float]:
        try:
            with np.errstate(over="raise", invalid="raise", divide="ignore"):
                A, loss = output_and_value(spec, params, validation.X, validation.Y, alpha)
        except FloatingPointError:
            loss = math.nan
        if not math.isfinite(loss) and not strict:
            return math.nan, math.nan
        if not math.isfinite(loss):
            raise ValueError(
                f"validation X must be small enough for the loss and metric to stay within "
                f"{validation.Y.dtype}'s range with these params, got a non-finite loss or "
                "an overflow"
            )
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return loss, float(checked_metric(A, validation.Y))  # whatever the metric says

    return validate


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

    A checked call of ``epoch_of(TrainConfig(...), data, validation)(state, epoch)``,
    which is what ``fit`` reduces over epochs.
    """
    config = check_config(TrainConfig(spec, optimizer, batch_size, alpha, shuffle, metric))
    _check_epoch_arguments(config, data, state, epoch, validation)
    return epoch_of(config, data, validation)(state, epoch)


def _check_epoch_arguments(
    config: TrainConfig[Any],
    data: Dataset,
    state: object,
    epoch: int,
    validation: Dataset | None,
) -> None:
    if not isinstance(state, TrainState):
        raise TypeError(f"state must be an fcfun TrainState, got {describe(state)}")
    dtype = params_dtype(config.spec, state.params)
    _check_same_dtype(_check_dataset(data, config.spec), dtype)
    if validation is not None:
        _check_same_dtype(
            _check_dataset(validation, config.spec, "validation"), dtype, "validation"
        )
    check_int(epoch, "epoch", minimum=0)


def _check_same_dtype(data: Dataset, dtype: np.dtype[Any], name: str = "data") -> None:
    if data.Y.dtype != dtype:
        raise TypeError(
            f"{name} must be in the params' dtype {dtype} (make it with fcfun.dataset(spec, X, "
            f"Y, {dtype})), got {data.Y.dtype}"
        )


def _divergence(start: TrainState[S], epoch: int, diverged: _Diverged) -> DivergenceError:
    """The report: the epoch's start state with the last finite params and opt state."""
    last_finite = start._replace(params=diverged.params, opt_state=diverged.opt_state)
    return DivergenceError(epoch, diverged.step, diverged.loss, last_finite, diverged.what)


# Runs ------------------------------------------------------------------------------


class Run(NamedTuple, Generic[S]):
    """A checked run: its first state, its epoch function and the epochs left to train."""

    start: TrainState[S]
    epoch: Epoch[S]
    epochs: range

    @property
    def can_finish(self) -> bool:
        """Whether its optimizer state can say it is ``finished()`` (``lbfgs``'s can)."""
        return has_method(self.start.opt_state, "finished")


def start_state(
    spec: MLP,
    optimizer: Optimizer[S],
    seed: int | None,
    params: Params | TrainState[S] | None,
    dtype: FloatDType,
) -> tuple[TrainState[S], np.dtype[Any]]:
    """The state a run starts from, checked, and its parameters' dtype.

    A ``TrainState`` is continued (``seed`` must be ``None`` or its seed); otherwise
    ``params`` (or ``init(spec, seed, dtype=dtype)``) start a fresh run at epoch 0. Give
    ``data_dtype(X)`` for fit's default, ``dtype=None``.
    """
    if isinstance(params, TrainState):
        if seed is not None and check_seed(seed) != params.seed:
            raise ValueError(
                f"seed must be None or the state's seed {params.seed} when continuing a "
                f"TrainState, got {seed}"
            )
        dtype = params_dtype(spec, params.params)
        check_opt_state(optimizer, params.params, params.opt_state)
        return params._replace(params=owned(params.params)), dtype
    if seed is None:
        raise TypeError("seed must be a non-negative integer, got None")
    seed = check_seed(seed)
    initial = init(spec, seed, dtype=dtype) if params is None else params
    resolved = params_dtype(spec, initial)
    initial = owned(initial)  # a caller's writeable arrays are never kept or handed back
    return TrainState(initial, optimizer.init(initial), 0, seed, History()), resolved


def check_opt_state(optimizer: Optimizer[Any], params: Params, opt_state: object) -> None:
    """Refuse an optimizer state that ``optimizer`` does not produce for ``params`` (a run
    continued with another optimizer, or another configuration of it), or one that holds
    values no run produces (``fcfun._tree.check_values``)."""
    template = optimizer.init(params)
    if structure(opt_state) != structure(template):
        raise ValueError(
            "params (a TrainState) must hold a state of this optimizer to be continued, got "
            f"a state of another one ({type(opt_state).__name__} structured otherwise than "
            f"optimizer.init(params)); to switch optimizers, continue from "
            "TrainState.params instead"
        )
    for (path, leaf), (_, expected) in zip(flatten(opt_state), flatten(template), strict=True):
        if isinstance(expected, np.ndarray) and (
            not isinstance(leaf, np.ndarray)
            or leaf.shape != expected.shape
            or leaf.dtype != expected.dtype
        ):
            raise ValueError(
                f"params (a TrainState) must hold this optimizer's state, got {path} of "
                f"{describe(leaf)} where optimizer.init(params) has shape {expected.shape} "
                f"and dtype {expected.dtype}"
            )
    check_values(opt_state, "params.opt_state")  # the rule save and load apply


def data_dtype(X: object) -> np.dtype[Any]:
    """The parameters' dtype that ``dtype=None`` means: ``X``'s if it is float32 or float64,
    float64 otherwise (integer, bool, lists of Python numbers).

    >>> data_dtype(np.zeros(3, np.float32)), data_dtype([[1, 2]])
    (dtype('float32'), dtype('float64'))
    """
    try:
        given = np.dtype(getattr(X, "dtype", None) or np.float64)
    except TypeError:  # a dtype numpy does not know (another library's array)
        return np.dtype(np.float64)
    return given if given in (np.float32, np.float64) else np.dtype(np.float64)


def check_fixed_objective(
    opt_state: object, spec: MLP, batch_size: int, m: int, name: str = "optimizer"
) -> None:
    """Refuse mini-batches or dropout for an optimizer whose steps assume one objective
    (its state says ``fixed_objective()``)."""
    if not state_says(opt_state, "fixed_objective"):
        return
    fixed = f"{name} steps one fixed objective (full batch, no dropout), as lbfgs does"
    if batch_size < m:
        raise ValueError(
            f"{fixed}: batch_size must be at least the {m} rows, got batch_size={batch_size}"
        )
    if spec.dropout:
        raise ValueError(f"{fixed}: spec.dropout must be (), got dropout={spec.dropout}")


def validation_data(
    spec: MLP, validation: tuple[Any, Any] | None, dtype: np.dtype[Any]
) -> Dataset | None:
    """``(X_val, Y_val)`` checked once, or ``None``; a streamed ``X_val`` stays streamed
    (validation reads it a chunk at a time)."""
    if validation is None:
        return None
    if not isinstance(validation, tuple) or len(validation) != 2:
        raise TypeError(f"validation must be a pair (X_val, Y_val), got {describe(validation)}")
    X_val, Y_val = validation
    if is_streamed(X_val):
        source = check_source(X_val, spec.sizes[0], dtype, name="validation X")
        targets = check_targets(spec, Y_val, source.shape[0], dtype, name="validation Y")
        return Dataset(source, freeze(targets))
    val_X = check_X(X_val, spec.sizes[0], dtype, name="validation X")
    val_Y = check_targets(spec, Y_val, val_X.shape[0], dtype, name="validation Y")
    return Dataset(freeze(val_X), freeze(val_Y))


def prepare(
    config: TrainConfig[S],
    X: Any,
    Y: Any,
    *,
    epochs: int,
    seed: int | None = None,
    params: Params | TrainState[S] | None = None,
    validation: tuple[Any, Any] | None = None,
    dtype: FloatDType | None = None,
    sample_weight: Any = None,
) -> Run[S]:
    """Check a run once: its settings, its start and its data; then nothing per epoch.

    With a plateau, the start's scale is set from its history, as after every epoch.
    """
    config = check_config(config, has_validation=validation is not None)
    epochs = check_int(epochs, "epochs", minimum=0)
    fresh_dtype = data_dtype(X) if dtype is None else dtype
    start, resolved = start_state(config.spec, config.optimizer, seed, params, fresh_dtype)
    if config.plateau is not None:
        if not has_scale(start.opt_state):
            raise ValueError(
                "optimizer must have a learning-rate scale the run can set (a "
                "scale_by_plateau piece) to use plateau, e.g. chain(optimizer, "
                "scale_by_plateau()), got one without"
            )
        scale = plateau_walk(config.plateau, plateau_scores(config.plateau, start.history)).scale
        start = start._replace(opt_state=set_scale(start.opt_state, scale))
    data = dataset(config.spec, X, Y, resolved, sample_weight)
    check_fixed_objective(start.opt_state, config.spec, config.batch_size, data.X.shape[0])
    checked_validation = validation_data(config.spec, validation, resolved)
    epoch = epoch_of(config, data, checked_validation)
    epochs_left = range(start.epoch, max(epochs, start.epoch))
    return Run(start, epoch, epochs_left)


def states(run: Run[S], epochs: Iterable[int] | None = None) -> Iterator[TrainState[S]]:
    """The lazy stream of the run's states, one per epoch trained (not the start); it ends
    after a state whose optimizer state says it is ``finished()`` (``lbfgs``'s)."""
    if not run.can_finish:
        return drop(1, accumulate(run.epoch, run.epochs if epochs is None else epochs, run.start))
    if state_says(run.start.opt_state, "finished"):
        return iter(())  # a run continued from a finished state has nothing to train
    stream = drop(1, accumulate(run.epoch, run.epochs if epochs is None else epochs, run.start))
    return _until_finished(stream)


def _until_finished(stream: Iterable[TrainState[S]]) -> Iterator[TrainState[S]]:
    for state in stream:
        yield state
        if state_says(state.opt_state, "finished"):
            return


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
    dtype: FloatDType | None = None,
    sample_weight: Any = None,
    plateau: ReduceOnPlateau | None = None,
) -> Iterator[TrainState[S]]:
    """A lazy iterator of states, one per epoch trained (arguments as ``fit``).

    Arguments are checked when this is called; each epoch runs when its state is pulled.
    Compose it with the run stages (``observe``, ``stop_early``, ``stop_on_plateau``,
    ``stop_on_divergence``, ``final``) as ``fit`` does.
    """
    config = TrainConfig(spec, optimizer, batch_size, alpha, shuffle, metric, plateau)
    run = prepare(
        config,
        X,
        Y,
        epochs=epochs,
        seed=seed,
        params=params,
        validation=validation,
        dtype=dtype,
        sample_weight=sample_weight,
    )
    return states(run)


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
    dtype: FloatDType | None = None,
    on_divergence: Literal["raise", "stop"] = "raise",
    sample_weight: Any = None,
    plateau: ReduceOnPlateau | None = None,
) -> TrainState[S]:
    """Train ``spec`` on ``(X, Y)``: ``reduce(epoch, range(start, epochs), state)``.

    Args:
        spec: the network, from ``mlp``.
        X: inputs ``(m, n_in)``; integer and bool arrays are converted. A numpy memmap
            or a dask array is streamed: checked block by block, then read one batch of
            rows at a time, so data larger than memory trains in bounded memory. A scipy
            sparse matrix stays sparse (CSR): only the first layer's products read it.
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
        dtype: dtype of freshly initialized parameters; ``None`` (the default) for the
            floating dtype of ``X`` (float32 data trains float32 parameters), float64 for
            integer or bool data.
        on_divergence: ``"raise"`` a ``DivergenceError`` holding the last finite state,
            or ``"stop"`` and return that state.
        sample_weight: ``(m,)`` weights of the samples (finite, non-negative, not all
            zero), travelling with their rows through every epoch order and batch: each
            batch's loss is ``sum_i s_i l_i / sum_i s_i`` over its rows, its L2 penalty
            ``alpha / (2 sum_i s_i) * sum ||W||^2``, and the epoch's training loss the
            batches' losses averaged by their weights. A batch whose samples all weigh 0
            is a step that changes nothing (no update, no weight in the mean). Only their
            ratios matter to the loss: they are scaled once per run by the power of two
            that puts the largest in [0.5, 1), and ``alpha`` with them (exact: the run's
            bits are those of the weights as given whenever those stayed in range; a
            weight below the largest times the dtype's smallest subnormal becomes 0; see
            ``scaled_weight``). ``None``: all samples weigh the same (bit for bit the
            unweighted run).
        plateau: a ``ReduceOnPlateau`` that sets the learning-rate scale after every
            epoch (``plateau_scale(plateau, history)``) in the optimizer's
            ``scale_by_plateau`` piece (``chain(adam(1e-3), scale_by_plateau())``);
            with ``rule="sklearn"`` it also ends the run once exhausted.

    Returns:
        The final ``TrainState``: the last of ``pipe(states, observe(callback),
        stop_early(rule), stop_on_plateau(plateau), stop_on_divergence(...))``.
    """
    config = TrainConfig(spec, optimizer, batch_size, alpha, shuffle, metric, plateau)
    run = prepare(
        config,
        X,
        Y,
        epochs=epochs,
        seed=seed,
        params=params,
        validation=validation,
        dtype=dtype,
        sample_weight=sample_weight,
    )
    check_callable(progress, "progress")
    epochs_seq: Iterable[int] = run.epochs if progress is None else progress(run.epochs)
    watch = Watch(callback, early_stopping, plateau, on_divergence)
    return watched_run(run, watch, has_validation=validation is not None, epochs=epochs_seq)


class Watch(NamedTuple):
    """What watches a run's stream of states: the stages ``fit`` and ``fit_sharded`` pipe
    it through (``observe``, ``stop_early``, ``stop_on_plateau``, ``stop_on_divergence``)."""

    callback: Callable[[TrainState[Any]], object] | None = None
    early_stopping: EarlyStopping | None = None
    plateau: ReduceOnPlateau | None = None
    on_divergence: Literal["raise", "stop"] = "raise"


def check_watch(watch: Watch, has_validation: bool) -> None:
    """Refuse a ``Watch`` no run can follow (cheap: a run may call it before its work)."""
    check_callable(watch.callback, "callback")
    if watch.on_divergence not in ("raise", "stop"):
        raise ValueError(f"on_divergence must be 'raise' or 'stop', got {watch.on_divergence!r}")
    if watch.early_stopping is not None:
        _check_early_stopping(watch.early_stopping, has_validation)


def watched_run(
    run: Run[S], watch: Watch, *, has_validation: bool, epochs: Iterable[int] | None = None
) -> TrainState[S]:
    """The run's final state through the stages of ``watch`` (checked by ``check_watch``);
    ``reduce(epoch, epochs, start)`` when nothing watches."""
    check_watch(watch, has_validation)
    epochs_seq = run.epochs if epochs is None else epochs
    stops = watch.plateau is not None and watch.plateau.rule == "sklearn"
    watched = run.can_finish or watch.early_stopping is not None or stops
    if watch.callback is None and not watched and watch.on_divergence == "raise":
        return functools.reduce(run.epoch, epochs_seq, run.start)  # nothing watches
    return pipe(
        states(run, epochs_seq),
        observe(watch.callback),
        stop_early(watch.early_stopping),
        stop_on_plateau(watch.plateau),
        stop_on_divergence(watch.on_divergence == "stop"),
        final(run.start),
    )


# Run stages ------------------------------------------------------------------------


def observe(callback: Callable[[TrainState[Any]], object] | None) -> Stage:
    """A stage that calls ``callback`` with each state as it passes (``None``: no call).

    >>> seen = []
    >>> stage = observe(seen.append)
    >>> list(stage(iter(["state 1", "state 2"]))), seen
    (['state 1', 'state 2'], ['state 1', 'state 2'])
    """

    def stage(run_states: Iterable[TrainState[T]]) -> Iterator[TrainState[T]]:
        for state in run_states:
            if callback is not None:
                callback(state)
            yield state

    return stage


def stop_early(rule: EarlyStopping | None) -> Stage:
    """A stage that ends the stream once ``rule``'s patience is exhausted (``None``: never).

    It passes each state on; with ``rule.restore_best`` each carries the parameters of
    the best epoch so far (training itself goes on from its own parameters), so the
    stream's last state is the one ``fit`` returns.
    """

    def stage(run_states: Iterable[TrainState[T]]) -> Iterator[TrainState[T]]:
        if rule is None:
            yield from run_states
            return
        best: TrainState[T] | None = None
        best_score, since_best = math.inf, 0
        for state in run_states:
            score = monitored(rule, state.history)[-1]
            new_best, since_best = _watch(rule, score, best_score, since_best)
            if new_best != best_score:
                best, best_score = state, new_best
            restored = best is not None and rule.restore_best
            yield state._replace(params=best.params) if restored and best else state
            if since_best >= rule.patience:
                return

    return stage


def stop_on_plateau(rule: ReduceOnPlateau | None) -> Stage:
    """A stage that ends the stream after the state at which ``rule`` (``rule="sklearn"``)
    is exhausted: a reduction due at a scale at or below ``min_scale`` (``None``, or the
    ``"pytorch"`` rule: never)."""

    def stage(run_states: Iterable[TrainState[T]]) -> Iterator[TrainState[T]]:
        if rule is None or rule.rule != "sklearn":
            yield from run_states
            return
        track = plateau_tracker(rule)
        for state in run_states:
            yield state
            if track(state.history).exhausted:
                return

    return stage


def stop_on_divergence(stop: bool) -> Stage:
    """A stage that ends the stream with the last finite state when a ``DivergenceError``
    comes through it (``stop=False``: lets it propagate)."""

    def stage(run_states: Iterable[TrainState[T]]) -> Iterator[TrainState[T]]:
        try:
            yield from run_states
        except DivergenceError as error:
            if not stop:
                raise
            last_finite: TrainState[T] = error.state
            yield last_finite

    return stage


def final(start: TrainState[S]) -> Callable[[Iterable[TrainState[S]]], TrainState[S]]:
    """The last state of a stream, or ``start`` when it is empty (no epoch to train)."""

    def last_state(run_states: Iterable[TrainState[S]]) -> TrainState[S]:
        return functools.reduce(lambda _, state: state, run_states, start)

    return last_state


# Early stopping --------------------------------------------------------------------


def _check_early_stopping(rule: EarlyStopping, has_validation: bool) -> None:
    if not isinstance(rule, EarlyStopping):
        raise TypeError(f"early_stopping must be an EarlyStopping, got {describe(rule)}")
    check_int(rule.patience, "early_stopping.patience", minimum=1)
    check_real(rule.min_delta, "early_stopping.min_delta", low=0.0)
    if rule.rule not in ("min_delta", "sklearn"):
        raise ValueError(f"early_stopping.rule must be 'min_delta' or 'sklearn', got {rule.rule!r}")
    check_monitor(rule.monitor, "early_stopping.monitor", has_validation)


def monitored(rule: EarlyStopping, history: History) -> tuple[float, ...]:
    """The values ``rule`` watches, one per epoch, oriented so that lower is better."""
    return watched(history, rule.monitor)


def _watch(rule: EarlyStopping, score: float, best: float, since_best: int) -> tuple[float, int]:
    """The best value and the epochs without improvement after one more ``score``."""
    if rule.rule == "sklearn":
        since_best = 0 if score <= best - rule.min_delta else since_best + 1
        return (score if score < best else best), since_best  # NaN never becomes the best
    if score < best - rule.min_delta:
        return score, 0
    return best, since_best + 1


def patience_exhausted(rule: EarlyStopping, scores: Iterable[float]) -> bool:
    """Whether ``rule`` stops a run after these scores (lower is better), as ``fit`` does.

    >>> patience_exhausted(EarlyStopping(patience=2), [3.0, 2.0, 2.5, 2.1])
    True
    """
    best, since_best = math.inf, 0
    for score in scores:
        best, since_best = _watch(rule, score, best, since_best)
    return since_best >= rule.patience
