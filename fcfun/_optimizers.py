r"""Optimizers as pairs of pure functions, composed from small gradient transformations.

After optax: an ``Optimizer`` is ``(init, update)`` with ``init(params) -> state`` and
``update(grads, state, params) -> (updates, state)``; ``apply_updates`` adds the updates
to the parameters. Big optimizers are chains of small pieces, for example
``adamw = chain(scale_by_adam(), add_decayed_weights(wd), scale_by_learning_rate(lr))``.
The update rules and defaults follow PyTorch's ``torch.optim`` (CPU, single-tensor code
path), transcribed in its arithmetic order where the composition allows, so a float64
trajectory matches PyTorch's to rounding.

Conventions:

* Naming rule: each state is a NamedTuple named after the piece that holds it, with
  fields named after the math (``mu`` / ``nu`` for the first / second moment averages,
  ``momentum_buffer``, ``sum_of_squares``). Stateless pieces hold an ``EmptyState()``.
* ``step`` (in the states that need one; optax calls it ``count``, a name a NamedTuple
  field cannot take without shadowing ``tuple.count``) is a Python ``int``: the number of
  updates done so far, ``0`` before the first update; a schedule is called with it, so
  ``schedule(0)`` is the learning rate of the first update. After ``k`` updates
  ``step == k``, which is PyTorch's ``state["step"]``.
* Everything is pure: inputs are never written to, every array in returned updates, states
  and parameters is read-only, and hyperparameters are Python floats so that float32
  stays float32 (numpy 2 treats Python scalars as weak).
* Hyperparameters are validated when an optimizer is built: ``TypeError`` for a
  non-number, ``ValueError`` (naming the argument, the expectation and the value) for a
  bad one.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any, Generic, NamedTuple, TypeVar, cast

import numpy as np

from fcfun._layers import seal, seal_tree
from fcfun._schedules import Schedule
from fcfun._types import Dense, FloatArray, Params, freeze
from fcfun._validation import check_bool, check_real, describe

S = TypeVar("S")
"""The state type of an ``Optimizer``."""


class Optimizer(NamedTuple, Generic[S]):
    """A gradient transformation: two pure functions over ``Params``.

    ``init(params)`` returns the initial state; ``update(grads, state, params)`` returns
    ``(updates, new_state)``. Updates are added to the parameters by ``apply_updates``.
    Generic over the state type ``S``: ``adam(...)`` is an ``Optimizer[ChainState]``.
    """

    init: Callable[[Params], S]
    update: Callable[[Params, S, Params], tuple[Params, S]]


class EmptyState(NamedTuple):
    """The state of a stateless piece."""


class ChainState(NamedTuple):
    """The state of ``chain(*optimizers)``: one inner state per optimizer, in order."""

    states: tuple[Any, ...]


class ScaleByScheduleState(NamedTuple):
    """The state of ``scale_by_schedule``: the number of updates done."""

    step: int


class TraceState(NamedTuple):
    """The state of ``trace``: the momentum buffer (PyTorch's ``momentum_buffer``)."""

    momentum_buffer: Params


class ScaleByAdamState(NamedTuple):
    """The state of ``scale_by_adam``: update count, first and second moment averages."""

    step: int
    mu: Params
    nu: Params


class ScaleByRmsState(NamedTuple):
    """The state of ``scale_by_rms``: the average of squared gradients (``square_avg``)."""

    nu: Params


class ScaleByStddevState(NamedTuple):
    """The state of ``scale_by_stddev``: averages of gradients and of their squares."""

    mu: Params
    nu: Params


class ScaleByAdagradState(NamedTuple):
    """The state of ``scale_by_adagrad``: the running sum of squared gradients."""

    sum_of_squares: Params


# ---------------------------------------------------------------------------- helpers


def _map(fn: Callable[..., FloatArray], *trees: Params) -> Params:
    """Apply ``fn`` array by array across ``trees``; every result is frozen."""
    # Plain loops building a list, with the one- and two-tree cases (every per-step use)
    # written out: no generators or argument unpacking per array.
    mapped = []
    if len(trees) == 1:
        for layer in trees[0]:
            mapped.append(Dense(_owned(fn(layer.W)), _owned(fn(layer.b))))
    elif len(trees) == 2:
        for x, y in zip(*trees, strict=True):
            mapped.append(Dense(_owned(fn(x.W, y.W)), _owned(fn(x.b, y.b))))
    else:
        for layers in zip(*trees, strict=True):
            W = fn(*[layer.W for layer in layers])
            b = fn(*[layer.b for layer in layers])
            mapped.append(Dense(_owned(W), _owned(b)))
    return tuple(mapped)


def _owned(a: FloatArray) -> FloatArray:
    """``a`` read-only: sealed in place if it owns fresh data, else a frozen view."""
    flags = a.flags
    return seal(a) if a.base is None and flags.owndata and flags.writeable else freeze(a)


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _typed_factors(factor: float) -> dict[np.dtype[Any], FloatArray]:
    """``factor`` as a 0-d float32 and float64 array, keyed by dtype, for ``_scaled``.

    An array times a 0-d array of its own dtype is bit-identical to the array times the
    Python float (numpy casts the float to the array's dtype first), without numpy's
    per-call handling of a Python scalar: about 0.25 µs less per array. Empty, so the
    Python float is used as is, when float32 cannot hold ``factor`` (or it is NaN).
    """
    if not abs(factor) <= _FLOAT32_MAX:
        return {}
    return {
        np.dtype(np.float32): np.array(factor, dtype=np.float32),
        np.dtype(np.float64): np.array(factor, dtype=np.float64),
    }


def _scaled(grads: Params, factor: float, typed: dict[np.dtype[Any], FloatArray]) -> Params:
    """``g * factor`` array by array, sealed; ``typed`` is ``_typed_factors(factor)``."""
    # Written out for speed (every optimizer ends in a scaling, on every step): a plain
    # loop, the ufunc called directly, and a product is fresh, so it is sealed in place.
    multiply = np.multiply
    scaled = []
    for layer in grads:
        W, b = layer
        W = multiply(W, typed.get(W.dtype, factor))
        b = multiply(b, typed.get(b.dtype, factor))
        scaled.append(Dense(seal(W), seal(b)))
    return tuple(scaled)


def _read_only(tree: Params) -> bool:
    return not any(layer.W.flags.writeable or layer.b.flags.writeable for layer in tree)


def _full_like(params: Params, value: float) -> Params:
    """Return read-only arrays shaped and typed like ``params``, filled with ``value``."""
    return _map(lambda p: np.full_like(p, value), params)


def _lerp(start: FloatArray, end: FloatArray, weight: float) -> FloatArray:
    """Return ``start + weight * (end - start)`` in PyTorch's ``lerp`` arithmetic."""
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


class _Constant:
    """The schedule of a constant learning rate: ``value`` at every count.

    A class rather than a closure so that ``scale_by_learning_rate`` can read ``value``
    once instead of calling the schedule at every step.
    """

    __slots__ = ("value",)

    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, count: int) -> float:
        return self.value


def _scheduled_value(schedule: Schedule, count: int, name: str, *, low: float = -math.inf) -> float:
    """``schedule(count)``, refused unless it is a finite real number ``>= low``.

    Checked at every step, since only the schedule knows its values; the common case (a
    finite Python float) costs one type test and two comparisons.
    """
    value: object = schedule(count)
    if type(value) is float and low <= value < math.inf:
        return value
    if isinstance(value, np.ndarray | np.generic) and value.shape == ():
        value = value.item()  # e.g. np.where(step < 100, 0.1, 0.01)
    try:
        return check_real(value, f"{name}({count})", low=low)
    except TypeError:
        raise TypeError(
            f"{name} must return a real number, got {describe(value)} at step {count}"
        ) from None


def _learning_rate(lr: float | Schedule) -> Schedule:
    """Return ``lr`` as a schedule, checking that a constant is finite and ``>= 0``."""
    if callable(lr):
        return lr
    value: object = lr  # a user without a type checker may pass anything
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"lr must be a finite real number >= 0 or a Schedule, got {describe(value)}"
        )
    return _Constant(check_real(value, "lr", low=0.0))


# ------------------------------------------------------------------- core and pieces


def apply_updates(params: Params, updates: Params) -> Params:
    r"""Return ``params + updates``, array by array, keeping each parameter's dtype.

    .. math:: \theta \leftarrow \theta + u

    Args:
        params: the current parameters.
        updates: the updates from an optimizer's ``update``, same structure.

    Returns:
        New read-only parameters with the dtypes of ``params``.

    >>> p = (Dense(np.ones((1, 2), np.float32), np.zeros(2, np.float32)),)
    >>> new = apply_updates(p, (Dense(np.full((1, 2), 0.5), np.ones(2)),))
    >>> new[0].W, new[0].W.dtype, new[0].W.flags.writeable
    (array([[1.5, 1.5]], dtype=float32), dtype('float32'), False)
    """
    _check_same_structure(params, updates)
    return _apply_updates(params, updates)


def _check_same_structure(params: Params, updates: Params) -> None:
    if not isinstance(updates, tuple) or len(updates) != len(params):
        raise ValueError(
            f"updates must be a tuple of {len(params)} Dense, like params, got "
            + (f"{len(updates)}" if isinstance(updates, tuple) else describe(updates))
        )
    for i, (layer, update) in enumerate(zip(params, updates, strict=True)):
        for field in ("W", "b"):
            p, u = getattr(layer, field), getattr(update, field, None)
            if not isinstance(u, np.ndarray) or u.shape != p.shape or u.dtype.kind != "f":
                raise ValueError(
                    f"updates[{i}].{field} must be a float array of shape {p.shape} like "
                    f"params[{i}].{field}, got {describe(u)}"
                )


def _apply_updates(params: Params, updates: Params) -> Params:
    """``apply_updates`` without the structure check, for the training loop."""
    # Written out for speed (it runs on every training step): a plain loop building a list,
    # the ufunc called directly, and the dtypes compared by identity in the usual case.
    add = np.add
    new_params = []
    for layer, update in zip(params, updates, strict=True):
        W, b = add(layer.W, update.W), add(layer.b, update.b)
        if W.dtype is not layer.W.dtype or b.dtype is not layer.b.dtype:
            W, b = _as_dtype(W, layer.W.dtype), _as_dtype(b, layer.b.dtype)
        new_params.append(Dense(seal(W), seal(b)))
    return tuple(new_params)


def _as_dtype(a: FloatArray, dtype: np.dtype[Any]) -> FloatArray:
    """``a`` itself if it has ``dtype``, else a fresh copy cast to it."""
    return a if a.dtype == dtype else a.astype(dtype)


def chain(*optimizers: Optimizer[Any]) -> Optimizer[ChainState]:
    """Compose optimizers: each one transforms the updates of the one before.

    Args:
        *optimizers: the pieces, applied left to right; none gives the identity
            (with the updates frozen, as every optimizer returns them).

    Returns:
        An optimizer whose state is ``ChainState`` of the pieces' states.

    >>> params = (Dense(np.array([[2.0]]), np.array([1.0])),)
    >>> opt = chain(scale(0.5), scale(-2.0))
    >>> updates, _ = opt.update(params, opt.init(params), params)
    >>> updates[0].W
    array([[-2.]])
    """

    def init(params: Params) -> ChainState:
        return ChainState(tuple(opt.init(params) for opt in optimizers))

    def update(grads: Params, state: ChainState, params: Params) -> tuple[Params, ChainState]:
        new_states = []
        for opt, inner in zip(optimizers, state.states, strict=True):
            grads, inner = opt.update(grads, inner, params)
            new_states.append(inner)
        if not _read_only(grads):
            grads = _map(freeze, grads)
        return grads, ChainState(tuple(new_states))

    if len(optimizers) == 1:
        return Optimizer(init, _ChainOfOne(optimizers[0]))
    return Optimizer(init, update)


class _ChainOfOne:
    """``chain(optimizer)``'s update without the loop: the common ``sgd(lr)`` case."""

    __slots__ = ("inner",)

    def __init__(self, optimizer: Optimizer[Any]) -> None:
        self.inner = optimizer.update

    def __call__(
        self, grads: Params, state: ChainState, params: Params
    ) -> tuple[Params, ChainState]:
        (inner,) = state.states
        updates, inner = self.inner(grads, inner, params)
        if not _read_only(updates):
            updates = _map(freeze, updates)
        return updates, ChainState((inner,))


Step = Callable[[Params, S, Params], tuple[Params, S]]
"""``(grads, state, params) -> (new_params, new_state)``: an update and its apply."""


def update_and_apply(optimizer: Optimizer[S]) -> Step[S]:
    """``optimizer.update`` then ``apply_updates``, for gradients the caller owns and gives up.

    The gradients must be fresh, writeable arrays that nobody else holds. A plain
    (scheduled) descent, whose update is ``factor * grads`` (``sgd`` without momentum or
    weight decay, ``scale_by_learning_rate``, ``scale_by_schedule``), writes the new
    parameters into the gradients' arrays: the same arithmetic as the two calls, bit for
    bit, without the intermediate updates. Any other optimizer gets the gradients sealed
    read-only and runs the two calls. Recognised by type, once per call of this function.
    """
    update: object = optimizer.update
    if isinstance(update, _ScaleBySchedule):
        return cast("Step[S]", update.descend)
    if isinstance(update, _ChainOfOne) and isinstance(update.inner, _ScaleBySchedule):
        return cast("Step[S]", update.inner.descend_chained)

    def step(grads: Params, state: S, params: Params) -> tuple[Params, S]:
        updates, new_state = optimizer.update(seal_tree(grads), state, params)
        return _apply_updates(params, updates), new_state

    return step


def _stateless(fn: Callable[[Params, Params], Params]) -> Optimizer[EmptyState]:
    """Return the stateless optimizer whose updates are ``fn(grads, params)``."""

    def init(params: Params) -> EmptyState:
        return EmptyState()

    def update(grads: Params, state: EmptyState, params: Params) -> tuple[Params, EmptyState]:
        return fn(grads, params), state

    return Optimizer(init, update)


def scale(step_size: float) -> Optimizer[EmptyState]:
    r"""Multiply the updates by a constant.

    .. math:: u = \alpha \, g

    Args:
        step_size: ``alpha``, a finite number (negative to descend).

    Returns:
        A stateless optimizer.
    """
    factor = check_real(step_size, "step_size")
    typed = _typed_factors(factor)
    return _stateless(lambda grads, params: _scaled(grads, factor, typed))


def scale_by_schedule(schedule: Schedule) -> Optimizer[ScaleByScheduleState]:
    r"""Multiply the updates by ``schedule(count)``, ``count`` the updates done so far.

    .. math:: u_t = s(t) \, g_t

    Args:
        schedule: a pure function of the count giving a number.

    Returns:
        An optimizer whose state is ``ScaleByScheduleState(step)``.

    >>> params = (Dense(np.array([[1.0]]), np.array([1.0])),)
    >>> opt = scale_by_schedule(lambda count: 10.0**count)
    >>> state = opt.init(params)
    >>> for _ in range(3):
    ...     updates, state = opt.update(params, state, params)
    >>> updates[0].W, state.step
    (array([[100.]]), 3)
    """
    if not callable(schedule):
        raise TypeError(f"schedule must be callable, got {schedule!r}")

    def init(params: Params) -> ScaleByScheduleState:
        return ScaleByScheduleState(step=0)

    return Optimizer(init, _ScaleBySchedule(schedule))


class _ScaleBySchedule:
    """The update of ``scale_by_schedule``: a class so that a training step can recognise a
    plain (scheduled) descent and fuse it with ``apply_updates`` (``descend``).

    A constant (``_Constant``) is read once, not called per step.
    """

    __slots__ = ("factor", "schedule", "typed")

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.factor = schedule.value if isinstance(schedule, _Constant) else None
        self.typed = {} if self.factor is None else _typed_factors(self.factor)

    def _factor(self, step: int) -> tuple[float, dict[np.dtype[Any], FloatArray]]:
        if self.factor is not None:
            return self.factor, self.typed
        factor = _scheduled_value(self.schedule, step, "schedule")
        return factor, _typed_factors(factor)

    def __call__(
        self, grads: Params, state: ScaleByScheduleState, params: Params
    ) -> tuple[Params, ScaleByScheduleState]:
        factor, typed = self._factor(state.step)
        return _scaled(grads, factor, typed), ScaleByScheduleState(state.step + 1)

    def descend(
        self, grads: Params, state: ScaleByScheduleState, params: Params
    ) -> tuple[Params, ScaleByScheduleState]:
        """``apply_updates(params, updates)`` and the new state, in the arrays of ``grads``."""
        factor, typed = self._factor(state.step)
        return _descended(params, grads, factor, typed), ScaleByScheduleState(state.step + 1)

    def descend_chained(
        self, grads: Params, state: ChainState, params: Params
    ) -> tuple[Params, ChainState]:
        """``descend`` for ``chain(self)`` (``sgd(lr)``), without a second call per step."""
        (inner,) = state.states
        factor, typed = self._factor(inner.step)
        new_state = ChainState((ScaleByScheduleState(inner.step + 1),))
        return _descended(params, grads, factor, typed), new_state


def _descended(
    params: Params, grads: Params, factor: float, typed: dict[np.dtype[Any], FloatArray]
) -> Params:
    """``_apply_updates(params, _scaled(grads, factor, typed))`` written into ``grads``.

    ``grads`` must be fresh, writeable arrays that the caller owns and gives up. The same
    two ufunc calls per array as the unfused pair, so the same bits, without allocating.
    """
    new_params = []
    for layer, grad in zip(params, grads, strict=True):
        W, b = grad
        # In-place operators are the ufuncs with out=, minus argument parsing; and the sum
        # is the same either way round (IEEE addition is commutative).
        W *= typed.get(W.dtype, factor)
        b *= typed.get(b.dtype, factor)
        if W.dtype is layer.W.dtype and b.dtype is layer.b.dtype:
            W += layer.W
            b += layer.b
        else:  # gradients of another dtype (train_step checks nothing): as _apply_updates
            W = _as_dtype(np.add(layer.W, W), layer.W.dtype)
            b = _as_dtype(np.add(layer.b, b), layer.b.dtype)
        W.setflags(write=False)  # seal(W) and seal(b), inline
        b.setflags(write=False)
        new_params.append(Dense(W, b))
    return tuple(new_params)


def scale_by_learning_rate(lr: float | Schedule) -> Optimizer[ScaleByScheduleState]:
    r"""Multiply the updates by ``-lr``: the gradient-descent step.

    .. math:: u_t = -\eta_t \, g_t

    Args:
        lr: ``eta``, a finite number ``>= 0`` or a schedule of the update count.

    Returns:
        An optimizer whose state is ``ScaleByScheduleState(step)``.
    """
    learning_rate = _learning_rate(lr)
    if isinstance(learning_rate, _Constant):
        return scale_by_schedule(_Constant(-learning_rate.value))

    def negated(count: int) -> float:
        return -_scheduled_value(learning_rate, count, "lr schedule", low=0.0)

    return scale_by_schedule(negated)


def add_decayed_weights(weight_decay: float) -> Optimizer[EmptyState]:
    r"""Add ``weight_decay * params`` to the updates.

    .. math:: u = g + \lambda \, \theta

    First in a chain this is PyTorch's L2 ``weight_decay`` (added to the gradient). After
    ``scale_by_adam`` and before ``scale_by_learning_rate`` it is AdamW's decoupled decay,
    multiplied by the learning rate: ``theta - lr * (adam_step + wd * theta)``.

    Args:
        weight_decay: ``lambda``, finite and ``>= 0``.

    Returns:
        A stateless optimizer.
    """
    rate = check_real(weight_decay, "weight_decay", low=0.0)
    return _stateless(lambda grads, params: _map(lambda g, p: g + rate * p, grads, params))


def clip_by_global_norm(max_norm: float) -> Optimizer[EmptyState]:
    r"""Scale the updates down when their global L2 norm exceeds ``max_norm``.

    PyTorch's ``clip_grad_norm_``: the total norm is the norm of the per-array norms, and

    .. math:: u = g \, \min\!\left(\frac{c}{\lVert g \rVert_2 + 10^{-6}}, 1\right)

    Args:
        max_norm: ``c``, finite and ``> 0``.

    Returns:
        A stateless optimizer.

    >>> grads = (Dense(np.array([[3.0]]), np.array([4.0])),)
    >>> opt = clip_by_global_norm(1.0)
    >>> updates, _ = opt.update(grads, opt.init(grads), grads)
    >>> [round(float(updates[0].W[0, 0]), 6), round(float(updates[0].b[0]), 6)]
    [0.6, 0.8]
    """
    limit = check_real(max_norm, "max_norm", low=0.0, low_open=True)

    def clip(grads: Params, params: Params) -> Params:
        norms = [np.linalg.norm(a) for layer in grads for a in layer]
        total = float(np.linalg.norm(np.array(norms)))
        factor = min(limit / (total + 1e-6), 1.0)
        return _scaled(grads, factor, _typed_factors(factor))

    return _stateless(clip)


def trace(decay: float, nesterov: bool = False) -> Optimizer[TraceState]:
    r"""Accumulate a momentum buffer, PyTorch SGD style (no dampening).

    .. math::
        b_t = \mu \, b_{t-1} + g_t, \quad b_0 = 0, \qquad
        u_t = g_t + \mu \, b_t \ \text{(nesterov)} \ \text{or} \ b_t

    With ``b_0 = 0`` the first buffer is exactly the first gradient, as in PyTorch.

    Args:
        decay: ``mu``, the momentum, finite and ``>= 0``.
        nesterov: whether to use Nesterov momentum.

    Returns:
        An optimizer whose state is ``TraceState(momentum_buffer)``.
    """
    momentum = check_real(decay, "momentum", low=0.0)
    look_ahead = check_bool(nesterov, "nesterov")

    def init(params: Params) -> TraceState:
        return TraceState(_full_like(params, 0.0))

    def update(grads: Params, state: TraceState, params: Params) -> tuple[Params, TraceState]:
        buffer = _map(lambda b, g: b * momentum + g, state.momentum_buffer, grads)
        if not look_ahead:
            return buffer, TraceState(buffer)
        return _map(lambda g, b: g + momentum * b, grads, buffer), TraceState(buffer)

    return Optimizer(init, update)


def scale_by_adam(
    b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> Optimizer[ScaleByAdamState]:
    r"""Rescale updates by Adam's bias-corrected moment estimates (PyTorch ``Adam``).

    .. math::
        m_t = m_{t-1} + (1 - \beta_1)(g_t - m_{t-1}), \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2,

        u_t = \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    Args:
        b1: ``beta_1``, in ``[0, 1)``.
        b2: ``beta_2``, in ``[0, 1)``.
        eps: ``epsilon``, finite and ``> 0``, added outside the square root.

    Returns:
        An optimizer whose state is ``ScaleByAdamState(step, mu, nu)``.
    """
    beta1 = check_real(b1, "b1", low=0.0, high=1.0, high_open=True)
    beta2 = check_real(b2, "b2", low=0.0, high=1.0, high_open=True)
    epsilon = check_real(eps, "eps", low=0.0, low_open=True)

    def init(params: Params) -> ScaleByAdamState:
        return ScaleByAdamState(0, _full_like(params, 0.0), _full_like(params, 0.0))

    def update(
        grads: Params, state: ScaleByAdamState, params: Params
    ) -> tuple[Params, ScaleByAdamState]:
        t = state.step + 1
        mu = _map(lambda m, g: _lerp(m, g, 1 - beta1), state.mu, grads)
        nu = _map(lambda v, g: v * beta2 + (1 - beta2) * g * g, state.nu, grads)
        correction1 = 1 - beta1**t
        correction2_sqrt = (1 - beta2**t) ** 0.5
        updates = _map(
            lambda m, v: (m / correction1) / (np.sqrt(v) / correction2_sqrt + epsilon), mu, nu
        )
        return updates, ScaleByAdamState(t, mu, nu)

    return Optimizer(init, update)


def scale_by_rms(alpha: float = 0.99, eps: float = 1e-8) -> Optimizer[ScaleByRmsState]:
    r"""Divide updates by the root mean square of past gradients (PyTorch ``RMSprop``).

    .. math::
        v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2, \qquad u_t = g_t / (\sqrt{v_t} + \epsilon)

    Args:
        alpha: the smoothing constant, in ``[0, 1)``.
        eps: ``epsilon``, finite and ``> 0``, added outside the square root.

    Returns:
        An optimizer whose state is ``ScaleByRmsState(nu)``.
    """
    smoothing = check_real(alpha, "alpha", low=0.0, high=1.0, high_open=True)
    epsilon = check_real(eps, "eps", low=0.0, low_open=True)

    def init(params: Params) -> ScaleByRmsState:
        return ScaleByRmsState(_full_like(params, 0.0))

    def update(
        grads: Params, state: ScaleByRmsState, params: Params
    ) -> tuple[Params, ScaleByRmsState]:
        nu = _map(lambda v, g: v * smoothing + (1 - smoothing) * g * g, state.nu, grads)
        return _map(lambda g, v: g / (np.sqrt(v) + epsilon), grads, nu), ScaleByRmsState(nu)

    return Optimizer(init, update)


def scale_by_stddev(alpha: float = 0.99, eps: float = 1e-8) -> Optimizer[ScaleByStddevState]:
    r"""Divide updates by the running standard deviation of gradients (centered RMSprop).

    .. math::
        m_t = m_{t-1} + (1 - \alpha)(g_t - m_{t-1}), \qquad
        v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2,

        u_t = g_t / (\sqrt{\max(v_t - m_t^2, 0)} + \epsilon)

    The ``max(., 0)`` only differs from PyTorch where rounding makes ``v - m^2`` negative
    (PyTorch then gives NaN).

    Args:
        alpha: the smoothing constant, in ``[0, 1)``.
        eps: ``epsilon``, finite and ``> 0``, added outside the square root.

    Returns:
        An optimizer whose state is ``ScaleByStddevState(mu, nu)``.
    """
    smoothing = check_real(alpha, "alpha", low=0.0, high=1.0, high_open=True)
    epsilon = check_real(eps, "eps", low=0.0, low_open=True)

    def init(params: Params) -> ScaleByStddevState:
        return ScaleByStddevState(_full_like(params, 0.0), _full_like(params, 0.0))

    def update(
        grads: Params, state: ScaleByStddevState, params: Params
    ) -> tuple[Params, ScaleByStddevState]:
        nu = _map(lambda v, g: v * smoothing + (1 - smoothing) * g * g, state.nu, grads)
        mu = _map(lambda m, g: _lerp(m, g, 1 - smoothing), state.mu, grads)
        updates = _map(
            lambda g, m, v: g / (np.sqrt(np.maximum(v - m * m, 0.0)) + epsilon), grads, mu, nu
        )
        return updates, ScaleByStddevState(mu, nu)

    return Optimizer(init, update)


def scale_by_adagrad(
    initial_accumulator_value: float = 0.0, eps: float = 1e-10
) -> Optimizer[ScaleByAdagradState]:
    r"""Divide updates by the root of the sum of all past squared gradients (``Adagrad``).

    .. math:: s_t = s_{t-1} + g_t^2, \quad s_0 = a, \qquad u_t = g_t / (\sqrt{s_t} + \epsilon)

    Args:
        initial_accumulator_value: ``a``, finite and ``>= 0``.
        eps: ``epsilon``, finite and ``> 0``.

    Returns:
        An optimizer whose state is ``ScaleByAdagradState(sum_of_squares)``.
    """
    start = check_real(initial_accumulator_value, "initial_accumulator_value", low=0.0)
    epsilon = check_real(eps, "eps", low=0.0, low_open=True)

    def init(params: Params) -> ScaleByAdagradState:
        return ScaleByAdagradState(_full_like(params, start))

    def update(
        grads: Params, state: ScaleByAdagradState, params: Params
    ) -> tuple[Params, ScaleByAdagradState]:
        sums = _map(lambda s, g: s + g * g, state.sum_of_squares, grads)
        updates = _map(lambda g, s: g / (np.sqrt(s) + epsilon), grads, sums)
        return updates, ScaleByAdagradState(sums)

    return Optimizer(init, update)


# --------------------------------------------------------------------------- aliases


def _weight_decay(weight_decay: float) -> list[Optimizer[Any]]:
    """Return ``[add_decayed_weights(wd)]``, or ``[]`` when ``wd == 0`` (as PyTorch skips it)."""
    rate = check_real(weight_decay, "weight_decay", low=0.0)
    return [add_decayed_weights(rate)] if rate != 0.0 else []


def sgd(
    lr: float | Schedule,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> Optimizer[ChainState]:
    r"""PyTorch ``SGD`` (no dampening): L2 decay, optional (Nesterov) momentum.

    .. math::
        g_t \leftarrow g_t + \lambda \theta_{t-1}, \quad
        b_t = \mu b_{t-1} + g_t \ (b_1 = g_1), \quad
        \theta_t = \theta_{t-1} - \eta_t (g_t + \mu b_t \ \text{or} \ b_t)

    Args:
        lr: ``eta``, a number ``>= 0`` or a schedule of the update count.
        momentum: ``mu``, ``>= 0``.
        nesterov: Nesterov momentum; requires ``momentum > 0``.
        weight_decay: ``lambda``, L2 penalty added to the gradient, ``>= 0``.

    Returns:
        ``chain(add_decayed_weights, trace, scale_by_learning_rate)``, without the
        pieces that would do nothing.

    >>> params = (Dense(np.array([[1.0]]), np.array([0.5])),)
    >>> opt = sgd(0.1)
    >>> updates, state = opt.update(params, opt.init(params), params)  # grads = params
    >>> apply_updates(params, updates)[0].W
    array([[0.9]])
    """
    learning_rate = _learning_rate(lr)
    mu = check_real(momentum, "momentum", low=0.0)
    if check_bool(nesterov, "nesterov") and mu <= 0.0:
        raise ValueError(f"nesterov=True requires momentum > 0, got momentum={mu!r}")
    pieces = _weight_decay(weight_decay)
    if mu > 0.0:
        pieces.append(trace(mu, nesterov))
    return chain(*pieces, scale_by_learning_rate(learning_rate))


def adam(
    lr: float | Schedule = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
) -> Optimizer[ChainState]:
    r"""PyTorch ``Adam``: L2 weight decay added to the gradient, then the Adam step.

    .. math:: \theta_t = \theta_{t-1} - \eta_t \, \hat m_t / (\sqrt{\hat v_t} + \epsilon)
        \quad \text{(see scale\_by\_adam for the exact form)}

    Args:
        lr: ``eta``, a number ``>= 0`` or a schedule of the update count.
        b1: ``beta_1``, in ``[0, 1)``.
        b2: ``beta_2``, in ``[0, 1)``.
        eps: ``epsilon``, ``> 0``.
        weight_decay: L2 penalty added to the gradient, ``>= 0``.

    Returns:
        ``chain(add_decayed_weights, scale_by_adam, scale_by_learning_rate)``.

    >>> params = (Dense(np.array([[1.0]]), np.array([-1.0])),)
    >>> opt = adam(0.1)
    >>> updates, state = opt.update(params, opt.init(params), params)
    >>> updates[0].W, updates[0].b  # the first Adam step is -lr * sign(g)
    (array([[-0.1]]), array([0.1]))
    """
    learning_rate = _learning_rate(lr)
    adam_step = scale_by_adam(b1, b2, eps)
    pieces = _weight_decay(weight_decay)
    return chain(*pieces, adam_step, scale_by_learning_rate(learning_rate))


def adamw(
    lr: float | Schedule = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.01,
) -> Optimizer[ChainState]:
    r"""PyTorch ``AdamW``: the Adam step plus decoupled weight decay scaled by ``lr``.

    .. math:: \theta_t = \theta_{t-1}(1 - \eta_t \lambda) - \eta_t \, \text{adam}_t

    Args:
        lr: ``eta``, a number ``>= 0`` or a schedule of the update count.
        b1: ``beta_1``, in ``[0, 1)``.
        b2: ``beta_2``, in ``[0, 1)``.
        eps: ``epsilon``, ``> 0``.
        weight_decay: ``lambda``, ``>= 0``.

    Returns:
        ``chain(scale_by_adam, add_decayed_weights, scale_by_learning_rate)``.
    """
    learning_rate = _learning_rate(lr)
    adam_step = scale_by_adam(b1, b2, eps)
    pieces = _weight_decay(weight_decay)
    return chain(adam_step, *pieces, scale_by_learning_rate(learning_rate))


def rmsprop(
    lr: float | Schedule = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    momentum: float = 0.0,
    centered: bool = False,
    weight_decay: float = 0.0,
) -> Optimizer[ChainState]:
    r"""PyTorch ``RMSprop``: optional L2 decay, centering and momentum.

    .. math::
        d_t = g_t / (\sqrt{v_t - [m_t^2]} + \epsilon), \quad
        b_t = \mu b_{t-1} + d_t \ (b_0 = 0), \quad \theta_t = \theta_{t-1} - \eta_t b_t

    (without momentum ``theta_t = theta_{t-1} - eta_t d_t``).

    Args:
        lr: ``eta``, a number ``>= 0`` or a schedule of the update count.
        alpha: the smoothing constant, in ``[0, 1)``.
        eps: ``epsilon``, ``> 0``.
        momentum: ``mu``, ``>= 0``.
        centered: subtract the squared running mean of the gradients (``[m_t^2]``).
        weight_decay: L2 penalty added to the gradient, ``>= 0``.

    Returns:
        ``chain(add_decayed_weights, scale_by_rms or scale_by_stddev, trace,
        scale_by_learning_rate)``, without the pieces that would do nothing.
    """
    learning_rate = _learning_rate(lr)
    mu = check_real(momentum, "momentum", low=0.0)
    rms = (
        scale_by_stddev(alpha, eps)
        if check_bool(centered, "centered")
        else scale_by_rms(alpha, eps)
    )
    pieces = [*_weight_decay(weight_decay), rms]
    if mu > 0.0:
        pieces.append(trace(mu))
    return chain(*pieces, scale_by_learning_rate(learning_rate))


def adagrad(
    lr: float | Schedule = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
) -> Optimizer[ChainState]:
    r"""PyTorch ``Adagrad``: optional L2 decay and ``lr`` decay by the update count.

    .. math::
        \tilde\eta_t = \eta_t / (1 + (t - 1) \, \delta), \qquad
        \theta_t = \theta_{t-1} - \tilde\eta_t \, g_t / (\sqrt{s_t} + \epsilon)

    where ``t`` is 1 for the first update (the schedule is called with ``t - 1``).

    Args:
        lr: ``eta``, a number ``>= 0`` or a schedule of the update count.
        lr_decay: ``delta``, ``>= 0``.
        weight_decay: L2 penalty added to the gradient, ``>= 0``.
        initial_accumulator_value: the starting sum of squares, ``>= 0``.
        eps: ``epsilon``, ``> 0``.

    Returns:
        ``chain(add_decayed_weights, scale_by_adagrad, scale_by_learning_rate)``.
    """
    learning_rate = _learning_rate(lr)
    decay = check_real(lr_decay, "lr_decay", low=0.0)
    accumulate = scale_by_adagrad(initial_accumulator_value, eps)
    pieces = _weight_decay(weight_decay)

    def decayed(count: int) -> float:
        return float(learning_rate(count)) / (1 + count * decay)

    return chain(*pieces, accumulate, scale_by_learning_rate(decayed))
