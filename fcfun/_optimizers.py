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

Speed through the protocol, not by recognition. An optimizer may also fill
``update_flat``: the same update on the flat vectors (``_flat``: one vector per network),
for a gradient vector the caller *donates* (see ``_types``), free to compute in it. Every
piece here is written once, as such a function: a handful of numpy calls on the whole
vector whatever the network's depth, its state holding vectors. Its ``update`` is that
function on the gradients packed into a new vector, its updates returned as layers, so
the two give the same bits by construction. ``chain`` has a flat update when all its
pieces do, and the training step (``optimizer_step``) runs it and adds the parameters into
the update vector when it is the caller's: ``update`` then ``apply_updates`` bit for bit,
with no per-layer call and no copy. (Measured against pure flat pieces that allocate
every result: as fast on the small networks, 8 to 10% faster on the large ones, whose
vectors are megabytes; see BENCHMARKS.md.) A user's optimizer with only ``update`` runs
through ``update`` and ``apply_updates``.

A flat update treats leading axes as members: its reductions (the global norm) act on
the last axis only, so a ``(k, P)`` stack of ``k`` networks steps at once and each member
gets the bits it would get alone (``fit_ensemble`` relies on it).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any, Generic, Literal, NamedTuple, TypeAlias, TypeVar

import numpy as np

from fcfun._flat import backing, pack, vector_of, views
from fcfun._schedules import Schedule
from fcfun._types import Dense, FloatArray, Params, freeze, seal, seal_tree
from fcfun._validation import check_bool, check_int, check_real, describe

S = TypeVar("S")
"""The state type of an ``Optimizer``."""

Update: TypeAlias = Callable[[Params, S, Params], tuple[Params, S]]
"""``(grads, state, params) -> (updates, new_state)``."""

Step: TypeAlias = Callable[[Params, S, Params], tuple[Params, S]]
"""``(grads, state, params) -> (new_params, new_state)``: an update and its apply."""

Objective: TypeAlias = Callable[[Params], tuple[float, Params]]
"""``params -> (loss, grads)``: the training step's batch objective (fresh gradients)."""

ObjectiveStep: TypeAlias = Callable[[Objective, S, Params], tuple[float, Params, S]]
"""``(objective, state, params) -> (loss at params, new_params, new_state)``."""


class FlatParams(NamedTuple):
    """The parameters in both forms a kernel may need: their ``vector`` (``(P,)``, or
    ``(k, P)`` for stacked members) and its ``layers`` (the views ``Params`` of it)."""

    vector: FloatArray
    layers: Params


FlatUpdate: TypeAlias = Callable[[FloatArray, S, FlatParams], tuple[FloatArray, S]]
"""``(gradient vector, state, params) -> (update vector, new_state)``: an update on the
flat vectors (see ``Optimizer.update_flat``)."""


class Optimizer(NamedTuple, Generic[S]):
    """A gradient transformation: two pure functions over ``Params``, and an optional kernel.

    ``init(params)`` returns the initial state; ``update(grads, state, params)`` returns
    ``(updates, new_state)``. Updates are added to the parameters by ``apply_updates``.
    Generic over the state type ``S``: ``adam(...)`` is an ``Optimizer[ChainState]``.

    ``update_flat`` (optional) is ``update`` on the flat vectors: ``(g, state, params) ->
    (u, new_state)`` with ``g`` the gradient vector (``(P,)``, or ``(k, P)`` for stacked
    members, in the params' dtype), which the caller donates (it may be written into), and
    ``params`` a ``FlatParams`` (the vector and its layers, never written). It returns the
    update vector, which the caller then owns when it is writeable (``g``'s own array or a
    fresh one; a read-only update may be shared, an array of the state), and a state whose
    arrays are read-only and share no memory with a writeable update. Its reductions act
    on the last axis only, so that each member of a ``(k, P)`` stack gets the bits it
    would get alone. It must equal ``update`` bit for bit. The training loop uses it when
    present; every optimizer fcfun builds has one.

    A scale the run sets between epochs (``fit(..., plateau=...)``) lives in the state:
    ``set_scale(state, scale)`` replaces it in every state node that has a
    ``with_scale`` method (``scale_by_plateau``'s), wherever the node sits in a chain,
    a mask or a partition; no composer needs to know.
    ``step_with_objective`` (optional) is for an optimizer that evaluates the objective
    itself, as a line search does: the training step then calls it instead of computing
    the gradient and calling ``update``, with the batch's ``objective(params) -> (loss,
    grads)``, and it returns the loss at ``params`` (the step's loss), the new parameters
    (read-only) and the new state.

    What a state says of itself are its methods, found by a walk over the state
    (``state_says``), never fields of the optimizer: ``with_scale`` (above),
    ``finished()`` (``lbfgs``'s convergence: ``fit`` ends a run after the epoch whose
    state is finished) and ``fixed_objective()`` (the steps assume one objective
    throughout, as ``lbfgs`` reuses the loss and gradient of its last point: ``fit``
    refuses mini-batches and dropout, where every step's objective differs).
    """

    init: Callable[[Params], S]
    update: Update[S]
    update_flat: FlatUpdate[S] | None = None
    step_with_objective: ObjectiveStep[S] | None = None


class EmptyState(NamedTuple):
    """The state of a stateless piece."""


class ChainState(NamedTuple):
    """The state of ``chain(*optimizers)``: one inner state per optimizer, in order."""

    states: tuple[Any, ...]


class ScaleByPlateauState(NamedTuple):
    """The state of ``scale_by_plateau``: the scale the run set for this epoch."""

    scale: float = 1.0

    def with_scale(self, scale: float) -> ScaleByPlateauState:
        """The state with the scale the run sets for the next epoch (``set_scale``)."""
        return ScaleByPlateauState(scale)

    def check(self, where: str) -> None:
        """Refuse a scale no run sets: a plateau only lowers it from 1, never below 0."""
        check_real(self.scale, f"{where}.scale", low=0.0, high=1.0)


class ScaleByScheduleState(NamedTuple):
    """The state of ``scale_by_schedule``: the number of updates done."""

    step: int

    def check(self, where: str) -> None:
        """Refuse a negative count (the walk in ``fcfun._tree.check_values`` calls it)."""
        check_int(self.step, f"{where}.step", minimum=0)


class TraceState(NamedTuple):
    """The state of ``trace``: the momentum buffer (PyTorch's ``momentum_buffer``), a
    vector in the flat layout."""

    momentum_buffer: FloatArray


class ScaleByAdamState(NamedTuple):
    """The state of ``scale_by_adam``: update count, first and second moment averages
    (vectors in the flat layout)."""

    step: int
    mu: FloatArray
    nu: FloatArray

    def check(self, where: str) -> None:
        """Refuse a negative count (``mu`` and ``nu``, arrays, are checked finite by the
        walk in ``fcfun._tree.check_values``)."""
        check_int(self.step, f"{where}.step", minimum=0)


class ScaleByRmsState(NamedTuple):
    """The state of ``scale_by_rms``: the average of squared gradients (``square_avg``),
    a vector in the flat layout."""

    nu: FloatArray


class ScaleByStddevState(NamedTuple):
    """The state of ``scale_by_stddev``: averages of gradients and of their squares
    (vectors in the flat layout)."""

    mu: FloatArray
    nu: FloatArray


class ScaleByAdagradState(NamedTuple):
    """The state of ``scale_by_adagrad``: the running sum of squared gradients, a vector
    in the flat layout."""

    sum_of_squares: FloatArray


# ------------------------------------------------------------------ the kernel protocol


def flat_params(params: Params) -> FlatParams:
    """``params`` with their vector (no copy when they are its views, else packed)."""
    return FlatParams(vector_of(params), params)


def from_flat(init: Callable[[Params], S], update_flat: FlatUpdate[S]) -> Optimizer[S]:
    """The optimizer whose flat update is ``update_flat`` and whose ``update`` is
    ``update_flat`` on the gradients packed into a new vector (in the params' dtype), its
    update vector made read-only and returned as layers: one implementation, so the same
    bits either way."""

    def update(grads: Params, state: S, params: Params) -> tuple[Params, S]:
        flat = flat_params(params)
        g = pack(grads, flat.vector.dtype)
        updates, new_state = update_flat(g, state, flat)
        _check_update(updates, g)
        return views(params, freeze(updates)), new_state

    return Optimizer(init, update, update_flat)


def _stateless(kernel: Callable[[FloatArray, FlatParams], FloatArray]) -> Optimizer[EmptyState]:
    """The stateless optimizer whose flat updates are ``kernel(g, params)``."""

    def init(params: Params) -> EmptyState:
        return EmptyState()

    def update(
        g: FloatArray, state: EmptyState, params: FlatParams
    ) -> tuple[FloatArray, EmptyState]:
        return kernel(g, params), state

    return from_flat(init, update)


def _zeros_like(params: Params, value: float = 0.0) -> FloatArray:
    """A read-only vector shaped and typed like ``params``' vector, filled with ``value``."""
    return seal(np.full_like(vector_of(params), value))


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


def _scaled(g: FloatArray, factor: float, typed: dict[np.dtype[Any], FloatArray]) -> FloatArray:
    """``g * factor`` written into the donated ``g``; ``typed`` is ``_typed_factors(factor)``."""
    g *= typed.get(g.dtype, factor)
    return g


def _lerp_into(start: FloatArray, end: FloatArray, weight: float) -> FloatArray:
    """``start + weight * (end - start)`` in PyTorch's ``lerp`` arithmetic, written into
    ``end`` (donated)."""
    if weight < 0.5:
        end -= start
        end *= weight
        end += start
        return end
    difference = end - start
    difference *= 1.0 - weight
    end -= difference
    return end


def _lerp(start: FloatArray, end: FloatArray, weight: float) -> FloatArray:
    """``_lerp_into`` into a new array (``end`` left as it is)."""
    return _lerp_into(start, np.array(end), weight)


def _average_of_squares(nu: FloatArray, g: FloatArray, smoothing: float, step: float) -> FloatArray:
    """``nu * smoothing + step * g * g`` in a new array, in that arithmetic order."""
    new = nu * smoothing
    square = g * step
    square *= g
    new += square
    return new


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


def _learning_rate(lr: float | Schedule) -> float | Schedule:
    """``lr`` checked: a finite number ``>= 0`` as a float, or a schedule as is."""
    if callable(lr):
        return lr
    value: object = lr  # a user without a type checker may pass anything
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"lr must be a finite real number >= 0 or a Schedule, got {describe(value)}"
        )
    return check_real(value, "lr", low=0.0)


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
    return _add(params, updates)


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


def _add(params: Params, updates: Params) -> Params:
    """``params + updates`` in the params' dtype: one new read-only vector, as layers."""
    vector = vector_of(params)
    update_vector = backing(updates)
    if update_vector is None:  # updates of separate arrays, maybe of several float dtypes
        update_vector = pack(updates, np.result_type(*(a for layer in updates for a in layer)))
    total = np.add(vector, update_vector)
    if total.dtype != vector.dtype:
        total = total.astype(vector.dtype)
    return views(params, seal(total))


def optimizer_step(optimizer: Optimizer[S]) -> Step[S]:
    """``optimizer.update`` then ``apply_updates``, for gradients the caller donates.

    With ``update_flat`` the step runs on the flat vectors, a handful of numpy calls for
    the whole network, and writes the new parameters into the update vector when it is
    the caller's (no copy): they are the views of one read-only vector. Without it the
    gradients are sealed and the two public calls run. Either way the result equals
    ``update`` then ``apply_updates`` bit for bit. The gradients are given up to the step:
    the vector behind them, when they are its views (the network's gradients are), may be
    written; gradients of separate arrays are packed first and left as they are.
    """
    update_flat = optimizer.update_flat
    if update_flat is None:
        update = optimizer.update

        def step(grads: Params, state: S, params: Params) -> tuple[Params, S]:
            updates, new_state = update(seal_tree(grads), state, params)
            _check_same_structure(params, updates)
            return _add(params, updates), new_state

        return step

    def flat_step(grads: Params, state: S, params: Params) -> tuple[Params, S]:
        flat = flat_params(params)
        g = vector_of(grads)
        if g.dtype != flat.vector.dtype:  # the pieces compute in the params' dtype
            g = g.astype(flat.vector.dtype)
        updates, new_state = update_flat(g, state, flat)
        _check_update(updates, g)
        if updates.flags.writeable and updates.dtype == flat.vector.dtype:
            updates += flat.vector  # the caller's: IEEE addition commutes, params + updates
            return views(params, seal(updates)), new_state
        total = np.add(flat.vector, updates)  # a shared update, or a wider one
        if total.dtype != flat.vector.dtype:
            total = total.astype(flat.vector.dtype)
        return views(params, seal(total)), new_state

    return flat_step


def _check_update(updates: object, g: FloatArray) -> None:
    """A flat update must be a float vector of the gradient vector's shape."""
    if not (
        isinstance(updates, np.ndarray) and updates.shape == g.shape and updates.dtype.kind == "f"
    ):
        raise ValueError(
            f"update_flat must return a float array of the gradient vector's shape {g.shape}, "
            f"got {describe(updates)}"
        )


donated_step = optimizer_step
"""The former name of ``optimizer_step``."""


def chain(*optimizers: Optimizer[Any]) -> Optimizer[ChainState]:
    """Compose optimizers: each one transforms the updates of the one before.

    Args:
        *optimizers: the pieces, applied left to right; none gives the identity
            (with the updates frozen, as every optimizer returns them).

    Returns:
        An optimizer whose state is ``ChainState`` of the pieces' states; it has a flat
        update when every piece has one.

    >>> params = (Dense(np.array([[2.0]]), np.array([1.0])),)
    >>> opt = chain(scale(0.5), scale(-2.0))
    >>> updates, _ = opt.update(params, opt.init(params), params)
    >>> updates[0].W
    array([[-2.]])
    """
    refuse_objective_steps(optimizers, "optimizers")
    return _chain(optimizers)


def refuse_objective_steps(optimizers: tuple[Optimizer[Any], ...], name: str) -> None:
    """Refuse an optimizer that steps with its objective (``lbfgs``) as a piece of a
    composition: composers transform updates, and it has none to give."""
    for i, opt in enumerate(optimizers):
        if opt.step_with_objective is not None:
            raise ValueError(
                f"{name}[{i}] must be an optimizer of updates to be composed, got one that "
                "steps with its objective (a line search, as lbfgs); train with it alone"
            )


def _chain(optimizers: tuple[Optimizer[Any], ...]) -> Optimizer[ChainState]:
    """``chain`` of checked pieces."""

    def init(params: Params) -> ChainState:
        return ChainState(tuple(opt.init(params) for opt in optimizers))

    kernels = [opt.update_flat for opt in optimizers]
    if not all(kernel is not None for kernel in kernels):

        def update(grads: Params, state: ChainState, params: Params) -> tuple[Params, ChainState]:
            new_states = []
            for opt, inner in zip(optimizers, state.states, strict=True):
                grads, inner = opt.update(grads, inner, params)
                new_states.append(inner)
            if any(layer.W.flags.writeable or layer.b.flags.writeable for layer in grads):
                grads = tuple(Dense(freeze(layer.W), freeze(layer.b)) for layer in grads)
            return grads, ChainState(tuple(new_states))

        return Optimizer(init, update)
    steps: list[FlatUpdate[Any]] = [kernel for kernel in kernels if kernel is not None]
    if len(steps) == 1:  # sgd(lr): no loop per step
        (only,) = steps

        def update_one(
            g: FloatArray, state: ChainState, params: FlatParams
        ) -> tuple[FloatArray, ChainState]:
            updates, inner = only(g, state.states[0], params)
            return updates, ChainState((inner,))

        return from_flat(init, update_one)

    run = in_sequence(steps)

    def update_flat(
        g: FloatArray, state: ChainState, params: FlatParams
    ) -> tuple[FloatArray, ChainState]:
        updates, states = run(g, state.states, params)
        return updates, ChainState(states)

    return from_flat(init, update_flat)


def in_sequence(steps: list[FlatUpdate[Any]]) -> FlatUpdate[tuple[Any, ...]]:
    """The flat updates ``steps`` one after the other, each on the updates of the one
    before, over the tuple of their states (``chain``'s, ``multi_transform``'s)."""

    def run(
        g: FloatArray, states: tuple[Any, ...], params: FlatParams
    ) -> tuple[FloatArray, tuple[Any, ...]]:
        new_states = []
        for step, inner in zip(steps, states, strict=True):
            g, inner = step(g, inner, params)
            new_states.append(inner)
        return g, tuple(new_states)

    return run


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
    return _stateless(lambda g, params: _scaled(g, factor, typed))


def scale_by_plateau() -> Optimizer[ScaleByPlateauState]:
    r"""Multiply the updates by the scale the run sets between epochs.

    .. math:: u = s \, g

    ``s`` starts at 1; ``fit(..., plateau=rule)`` sets it after every epoch to
    ``plateau_scale(rule, history)`` with ``set_scale``. Place it after
    ``scale_by_learning_rate`` (``chain(adam(1e-3), scale_by_plateau())``) and it scales
    the learning rate, as PyTorch's ``ReduceLROnPlateau`` does.

    Returns:
        An optimizer whose state is ``ScaleByPlateauState(scale)``.

    >>> params = (Dense(np.array([[1.0]]), np.array([1.0])),)
    >>> opt = scale_by_plateau()
    >>> state = set_scale(opt.init(params), 0.5)
    >>> opt.update(params, state, params)[0][0].W
    array([[0.5]])
    """

    def init(params: Params) -> ScaleByPlateauState:
        return ScaleByPlateauState()

    def update(
        g: FloatArray, state: ScaleByPlateauState, params: FlatParams
    ) -> tuple[FloatArray, ScaleByPlateauState]:
        if state.scale != 1.0:  # g * 1.0 is g: skipped
            _scaled(g, state.scale, _typed_factors(state.scale))
        return g, state

    return from_flat(init, update)


def set_scale(state: S, scale: float) -> S:
    """``state`` with the scale a run sets replaced by ``scale`` in every node that has a
    ``with_scale`` method (``ScaleByPlateauState``), wherever it sits: a walk over the
    state's tuples and NamedTuples, so a ``scale_by_plateau`` inside ``chain``,
    ``masked`` or ``multi_transform`` is reached.

    >>> set_scale(ChainState((EmptyState(), ScaleByPlateauState())), 0.25)
    ChainState(states=(EmptyState(), ScaleByPlateauState(scale=0.25)))
    """
    checked = check_real(scale, "scale", low=0.0, high=1.0)  # what a plateau sets
    replaced: S = _with_scale(state, checked)
    return replaced


def has_scale(state: object) -> bool:
    """Whether ``state`` holds a scale a run can set (a node with ``with_scale``)."""
    return has_method(state, "with_scale")


def has_method(state: object, name: str) -> bool:
    """Whether a node of ``state`` (a tuple or NamedTuple tree) has the method ``name``."""
    if not isinstance(state, np.ndarray) and callable(getattr(state, name, None)):
        return True
    return isinstance(state, tuple) and any(has_method(child, name) for child in state)


def state_says(state: object, capability: str) -> bool:
    """Whether a node of ``state`` has the method ``capability`` and it returns true
    (``"finished"``, ``"fixed_objective"``: see ``Optimizer``).

    >>> from fcfun import lbfgs
    >>> p = (Dense(np.ones((1, 1)), np.zeros(1)),)
    >>> state_says(lbfgs().init(p), "fixed_objective"), state_says(EmptyState(), "finished")
    (True, False)
    """
    method = getattr(state, capability, None)
    if callable(method) and not isinstance(state, np.ndarray) and method() is True:
        return True
    return isinstance(state, tuple) and any(state_says(child, capability) for child in state)


def _with_scale(node: Any, scale: float) -> Any:
    with_scale = getattr(node, "with_scale", None)
    if callable(with_scale):
        return with_scale(scale)
    if not isinstance(node, tuple) or not has_scale(node):
        return node
    children = [_with_scale(child, scale) for child in node]
    if hasattr(node, "_fields"):  # a NamedTuple
        return type(node)(*children)
    return tuple(children)


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

    def factor(step: int) -> float:
        return _scheduled_value(schedule, step, "schedule")

    return _scale_by_count(factor)


def _scale_by_count(factor: Callable[[int], float] | float) -> Optimizer[ScaleByScheduleState]:
    """``scale_by_schedule`` of a checked schedule, or of a constant read once (no call per
    step)."""

    def init(params: Params) -> ScaleByScheduleState:
        return ScaleByScheduleState(step=0)

    if callable(factor):
        schedule = factor

        def update(
            g: FloatArray, state: ScaleByScheduleState, params: FlatParams
        ) -> tuple[FloatArray, ScaleByScheduleState]:
            value = schedule(state.step)
            return _scaled(g, value, _typed_factors(value)), ScaleByScheduleState(state.step + 1)

        return from_flat(init, update)
    constant, typed = factor, _typed_factors(factor)

    def update_constant(
        g: FloatArray, state: ScaleByScheduleState, params: FlatParams
    ) -> tuple[FloatArray, ScaleByScheduleState]:
        return _scaled(g, constant, typed), ScaleByScheduleState(state.step + 1)

    return from_flat(init, update_constant)


def scale_by_learning_rate(lr: float | Schedule) -> Optimizer[ScaleByScheduleState]:
    r"""Multiply the updates by ``-lr``: the gradient-descent step.

    .. math:: u_t = -\eta_t \, g_t

    Args:
        lr: ``eta``, a finite number ``>= 0`` or a schedule of the update count.

    Returns:
        An optimizer whose state is ``ScaleByScheduleState(step)``.
    """
    learning_rate = _learning_rate(lr)
    if not callable(learning_rate):
        return _scale_by_count(-learning_rate)
    schedule = learning_rate

    def negated(count: int) -> float:
        return -_scheduled_value(schedule, count, "lr schedule", low=0.0)

    return _scale_by_count(negated)


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

    def decay(g: FloatArray, params: FlatParams) -> FloatArray:
        g += rate * params.vector
        return g

    return _stateless(decay)


def clip_by_global_norm(max_norm: float) -> Optimizer[EmptyState]:
    r"""Scale the updates down when their global L2 norm exceeds ``max_norm``.

    PyTorch's ``clip_grad_norm_`` rule, with the norm of the whole update vector
    (PyTorch's is the norm of the per-tensor norms: the same number, rounded in another
    order), of each member's vector for stacked members:

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

    def clip(g: FloatArray, params: FlatParams) -> FloatArray:
        # The sum of squares along the last axis, in float64, of a C-ordered square:
        # numpy's pairwise sum then runs on each contiguous row exactly as on a member's
        # vector alone. The factor is rounded to g's dtype.
        squares = np.square(g, dtype=np.float64, order="C")
        total = np.sqrt(np.add.reduce(squares, axis=-1, keepdims=True))
        factor = np.minimum(limit / (total + 1e-6), 1.0)
        g *= factor.astype(g.dtype)
        return g

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
        return TraceState(_zeros_like(params))

    def update(
        g: FloatArray, state: TraceState, params: FlatParams
    ) -> tuple[FloatArray, TraceState]:
        buffer = state.momentum_buffer * momentum
        buffer += g
        if look_ahead:
            g += momentum * buffer  # the update g + mu b, in g's array
        else:
            g[...] = buffer  # the update is the buffer; the state keeps its own array
        return g, TraceState(seal(buffer))

    return from_flat(init, update)


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
    beta1, beta2, epsilon = _adam_hyperparameters(b1, b2, eps)

    def moments_at(t: int) -> _Moments:
        correction1 = 1 - beta1**t
        correction2_sqrt = (1 - beta2**t) ** 0.5

        def moments(m: FloatArray, v: FloatArray, g: FloatArray) -> tuple[FloatArray, ...]:
            nu = v * beta2
            scratch = g * (1 - beta2)
            scratch *= g
            nu += scratch  # v * b2 + ((1 - b2) * g) * g
            mu = seal(_lerp_into(m, g, 1 - beta1))  # g's array holds m_t from here
            u = mu / correction1
            denominator = np.sqrt(seal(nu), out=scratch)
            denominator /= correction2_sqrt
            denominator += epsilon
            u /= denominator
            return u, mu, nu

        return moments

    return _scale_by_moments(moments_at)


def scale_by_adam_sklearn(
    b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> Optimizer[ScaleByAdamState]:
    r"""Rescale updates by Adam's moments as scikit-learn's MLPs do (``AdamOptimizer``).

    .. math::
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2,

        u_t = \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} \, \frac{m_t}{\sqrt{v_t} + \epsilon}

    Unlike ``scale_by_adam`` (PyTorch), ``epsilon`` is added to the raw root and both bias
    corrections fold into the step size, so ``epsilon`` weighs ``1 / sqrt(1 - beta_2^t)``
    times more in the first steps. With ``scale_by_learning_rate`` after it, this follows
    scikit-learn's trajectory to rounding.

    Args:
        b1: ``beta_1``, in ``[0, 1)``.
        b2: ``beta_2``, in ``[0, 1)``.
        eps: ``epsilon``, finite and ``> 0``, added to the root of ``v_t``.

    Returns:
        An optimizer whose state is ``ScaleByAdamState(step, mu, nu)``.
    """
    beta1, beta2, epsilon = _adam_hyperparameters(b1, b2, eps)

    def moments_at(t: int) -> _Moments:
        factor = math.sqrt(1 - beta2**t) / (1 - beta1**t)

        def moments(m: FloatArray, v: FloatArray, g: FloatArray) -> tuple[FloatArray, ...]:
            mu = m * beta1
            scratch = g * (1 - beta1)
            mu += scratch
            nu = v * beta2
            np.multiply(g, g, out=scratch)
            scratch *= 1 - beta2
            nu += scratch
            u = mu * factor
            denominator = np.sqrt(seal(nu), out=scratch)
            denominator += epsilon
            u /= denominator
            return u, seal(mu), nu

        return moments

    return _scale_by_moments(moments_at)


_Moments: TypeAlias = Callable[[FloatArray, FloatArray, FloatArray], tuple[FloatArray, ...]]
"""``(m, v, g) -> (update, mu, nu)`` on the vectors, ``g`` donated."""


def _adam_hyperparameters(b1: float, b2: float, eps: float) -> tuple[float, float, float]:
    return (
        check_real(b1, "b1", low=0.0, high=1.0, high_open=True),
        check_real(b2, "b2", low=0.0, high=1.0, high_open=True),
        check_real(eps, "eps", low=0.0, low_open=True),
    )


def _scale_by_moments(moments_at: Callable[[int], _Moments]) -> Optimizer[ScaleByAdamState]:
    """The Adam family's optimizer: ``moments_at(t)`` on every array at update ``t``."""

    def init(params: Params) -> ScaleByAdamState:
        return ScaleByAdamState(0, _zeros_like(params), _zeros_like(params))

    def update(
        g: FloatArray, state: ScaleByAdamState, params: FlatParams
    ) -> tuple[FloatArray, ScaleByAdamState]:
        t = state.step + 1
        u, mu, nu = moments_at(t)(state.mu, state.nu, g)
        return u, ScaleByAdamState(t, mu, nu)

    return from_flat(init, update)


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
        return ScaleByRmsState(_zeros_like(params))

    def rescale(v: FloatArray, g: FloatArray) -> tuple[FloatArray, FloatArray]:
        nu = seal(_average_of_squares(v, g, smoothing, 1 - smoothing))
        denominator = np.sqrt(nu)
        denominator += epsilon
        g /= denominator
        return g, nu

    def update(
        g: FloatArray, state: ScaleByRmsState, params: FlatParams
    ) -> tuple[FloatArray, ScaleByRmsState]:
        u, nu = rescale(state.nu, g)
        return u, ScaleByRmsState(nu)

    return from_flat(init, update)


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
        return ScaleByStddevState(_zeros_like(params), _zeros_like(params))

    def rescale(
        m: FloatArray, v: FloatArray, g: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        nu = seal(_average_of_squares(v, g, smoothing, 1 - smoothing))
        mu = seal(_lerp(m, g, 1 - smoothing))
        denominator = mu * mu
        np.subtract(nu, denominator, out=denominator)
        np.maximum(denominator, 0.0, out=denominator)
        np.sqrt(denominator, out=denominator)
        denominator += epsilon
        g /= denominator
        return g, mu, nu

    def update(
        g: FloatArray, state: ScaleByStddevState, params: FlatParams
    ) -> tuple[FloatArray, ScaleByStddevState]:
        u, mu, nu = rescale(state.mu, state.nu, g)
        return u, ScaleByStddevState(mu, nu)

    return from_flat(init, update)


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
        return ScaleByAdagradState(_zeros_like(params, start))

    def rescale(s: FloatArray, g: FloatArray) -> tuple[FloatArray, FloatArray]:
        total = g * g
        total += s
        seal(total)
        denominator = np.sqrt(total)
        denominator += epsilon
        g /= denominator
        return g, total

    def update(
        g: FloatArray, state: ScaleByAdagradState, params: FlatParams
    ) -> tuple[FloatArray, ScaleByAdagradState]:
        u, total = rescale(state.sum_of_squares, g)
        return u, ScaleByAdagradState(total)

    return from_flat(init, update)


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
    rule: Literal["pytorch", "sklearn"] = "pytorch",
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
        rule: ``"pytorch"`` (``scale_by_adam``) or ``"sklearn"``
            (``scale_by_adam_sklearn``: epsilon on the raw root, scikit-learn's MLPs).

    Returns:
        ``chain(add_decayed_weights, scale_by_adam, scale_by_learning_rate)``.

    >>> params = (Dense(np.array([[1.0]]), np.array([-1.0])),)
    >>> opt = adam(0.1)
    >>> updates, state = opt.update(params, opt.init(params), params)
    >>> updates[0].W, updates[0].b  # the first Adam step is -lr * sign(g)
    (array([[-0.1]]), array([0.1]))
    """
    learning_rate = _learning_rate(lr)
    if rule not in ("pytorch", "sklearn"):
        raise ValueError(f"rule must be 'pytorch' or 'sklearn', got {rule!r}")
    adam_step = (
        scale_by_adam(b1, b2, eps) if rule == "pytorch" else scale_by_adam_sklearn(b1, b2, eps)
    )
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
        rate = learning_rate(count) if callable(learning_rate) else learning_rate
        return float(rate) / (1 + count * decay)

    return chain(*pieces, accumulate, scale_by_learning_rate(decayed))
