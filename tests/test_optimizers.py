"""Optimizers against plain transcriptions of PyTorch's published ``torch.optim`` pseudo-code.

The ``reference_*`` functions below are independent of fcfun: loops over lists of float64
arrays written from the algorithm boxes in PyTorch's documentation (SGD, Adam, AdamW,
RMSprop, Adagrad) and from ``torch.nn.utils.clip_grad_norm_``. Learning-rate schedules are
given to them as closed forms of the 1-based step ``t`` written out in each test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pytest

from fcfun._flat import pack, views
from fcfun._optimizers import (
    ChainState,
    EmptyState,
    Optimizer,
    ScaleByAdamState,
    ScaleByScheduleState,
    adagrad,
    adam,
    adamw,
    add_decayed_weights,
    apply_updates,
    chain,
    clip_by_global_norm,
    optimizer_step,
    rmsprop,
    scale,
    scale_by_adagrad,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_rms,
    scale_by_schedule,
    scale_by_stddev,
    sgd,
    trace,
)
from fcfun._schedules import exponential_decay, linear_warmup
from fcfun._types import Dense, FloatArray, Params
from tests._bounds import assert_network_close, assert_within, both, steps

Array: TypeAlias = FloatArray
Arrays: TypeAlias = list[Array]
Gradient: TypeAlias = Callable[[int, Arrays], Arrays]
"""``gradient(step, params)``: the gradient at a 0-based step for the current parameters."""
LearningRate: TypeAlias = Callable[[int], float]
"""The learning rate of the update with 1-based index ``t``, as in PyTorch's pseudo-code."""
Reference: TypeAlias = Callable[[Arrays, Gradient, int], Arrays]

SHAPES = ((3, 4), (4,), (4, 2), (2,))
STEPS = 100


# ------------------------------------------------------------------ the test problems


def _random_arrays(rng: np.random.Generator) -> Arrays:
    return [rng.normal(size=shape) for shape in SHAPES]


def _start() -> Arrays:
    return _random_arrays(np.random.default_rng(0))


def _objective_gradient() -> Gradient:
    """The gradient of ``sum(a p^2 / 2 + 0.3 log cosh(p) + c p)``: quadratic plus nonlinear."""
    rng = np.random.default_rng(1)
    curvature = [rng.uniform(0.5, 2.0, size=shape) for shape in SHAPES]
    shift = _random_arrays(rng)

    def gradient(step: int, params: Arrays) -> Arrays:
        return [
            a * p + 0.3 * np.tanh(p) + c for a, p, c in zip(curvature, params, shift, strict=True)
        ]

    return gradient


def _sequence_gradient() -> Gradient:
    """A fixed sequence of random gradients, independent of the parameters."""
    rng = np.random.default_rng(2)
    sequence = [_random_arrays(rng) for _ in range(STEPS)]

    def gradient(step: int, params: Arrays) -> Arrays:
        return sequence[step]

    return gradient


def _constant(value: float) -> LearningRate:
    return lambda t: value


# -------------------------------------------------- transcriptions of PyTorch's pseudo-code


def reference_clip_grad_norm(grads: Arrays, max_norm: float) -> tuple[Arrays, float]:
    """``torch.nn.utils.clip_grad_norm_``: norm of the per-tensor norms, clamped coefficient."""
    norms = [math.sqrt(sum(float(x) ** 2 for x in g.ravel())) for g in grads]
    total_norm = math.sqrt(sum(n**2 for n in norms))
    clip_coef = max_norm / (total_norm + 1e-6)
    clip_coef_clamped = min(clip_coef, 1.0)
    return [g * clip_coef_clamped for g in grads], clip_coef_clamped


def reference_sgd(
    start: Arrays,
    gradient: Gradient,
    steps: int,
    lr: LearningRate,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    max_norm: float | None = None,
) -> Arrays:
    """``torch.optim.SGD`` with dampening 0, optionally after ``clip_grad_norm_``."""
    params = [p.copy() for p in start]
    buffers: list[Array] = [np.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        grads = gradient(t - 1, params)
        if max_norm is not None:
            grads, _ = reference_clip_grad_norm(grads, max_norm)
        for i in range(len(params)):
            g = grads[i]
            if weight_decay != 0:
                g = g + weight_decay * params[i]
            if momentum != 0:
                buffers[i] = momentum * buffers[i] + g if t > 1 else g.copy()
                g = g + momentum * buffers[i] if nesterov else buffers[i]
            params[i] = params[i] - lr(t) * g
    return params


def reference_adam(
    start: Arrays,
    gradient: Gradient,
    steps: int,
    lr: LearningRate,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled: bool = False,
) -> Arrays:
    """``torch.optim.Adam`` (L2 decay) or, with ``decoupled``, ``torch.optim.AdamW``."""
    params = [p.copy() for p in start]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        grads = gradient(t - 1, params)
        for i in range(len(params)):
            g = grads[i]
            if decoupled:
                params[i] = params[i] - lr(t) * weight_decay * params[i]
            elif weight_decay != 0:
                g = g + weight_decay * params[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g**2
            m_hat = m[i] / (1 - beta1**t)
            v_hat = v[i] / (1 - beta2**t)
            params[i] = params[i] - lr(t) * m_hat / (np.sqrt(v_hat) + eps)
    return params


def reference_rmsprop(
    start: Arrays,
    gradient: Gradient,
    steps: int,
    lr: LearningRate,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
) -> Arrays:
    """``torch.optim.RMSprop``."""
    params = [p.copy() for p in start]
    v = [np.zeros_like(p) for p in params]
    g_ave = [np.zeros_like(p) for p in params]
    b = [np.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        grads = gradient(t - 1, params)
        for i in range(len(params)):
            g = grads[i]
            if weight_decay != 0:
                g = g + weight_decay * params[i]
            v[i] = alpha * v[i] + (1 - alpha) * g**2
            v_tilde = v[i]
            if centered:
                g_ave[i] = g_ave[i] * alpha + (1 - alpha) * g
                v_tilde = v_tilde - g_ave[i] ** 2
            if momentum > 0:
                b[i] = momentum * b[i] + g / (np.sqrt(v_tilde) + eps)
                params[i] = params[i] - lr(t) * b[i]
            else:
                params[i] = params[i] - lr(t) * g / (np.sqrt(v_tilde) + eps)
    return params


def reference_adagrad(
    start: Arrays,
    gradient: Gradient,
    steps: int,
    lr: LearningRate,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
) -> Arrays:
    """``torch.optim.Adagrad``."""
    params = [p.copy() for p in start]
    state_sum = [np.full_like(p, initial_accumulator_value) for p in params]
    for t in range(1, steps + 1):
        grads = gradient(t - 1, params)
        for i in range(len(params)):
            g = grads[i]
            lr_tilde = lr(t) / (1 + (t - 1) * lr_decay)
            if weight_decay != 0:
                g = g + weight_decay * params[i]
            state_sum[i] = state_sum[i] + g**2
            params[i] = params[i] - lr_tilde * g / (np.sqrt(state_sum[i]) + eps)
    return params


# ------------------------------------------------------------------- running fcfun


def _to_params(arrays: Arrays) -> Params:
    return tuple(Dense(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2))


def _flatten(params: Params) -> Arrays:
    return [array for layer in params for array in layer]


def run(optimizer: Optimizer[Any], start: Arrays, gradient: Gradient, steps: int) -> Arrays:
    """Run ``optimizer`` for ``steps`` updates from ``start``."""
    params = _to_params([p.copy() for p in start])
    state = optimizer.init(params)
    for step in range(steps):
        grads = _to_params(gradient(step, _flatten(params)))
        updates, state = optimizer.update(grads, state, params)
        params = apply_updates(params, updates)
    return _flatten(params)


def _warmup_then_decay(t: int) -> float:
    """A warmup-then-exponential learning rate, written out for the 1-based step ``t``."""
    step = t - 1
    return 0.05 * step / 10 if step < 10 else 0.05 * 0.9 ** (step - 10)


CASES: list[tuple[str, Callable[[], Optimizer[Any]], Reference]] = [
    ("sgd", lambda: sgd(0.05), lambda s, g, n: reference_sgd(s, g, n, _constant(0.05))),
    (
        "sgd-momentum",
        lambda: sgd(0.05, momentum=0.9),
        lambda s, g, n: reference_sgd(s, g, n, _constant(0.05), momentum=0.9),
    ),
    (
        "sgd-nesterov-weight-decay",
        lambda: sgd(0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
        lambda s, g, n: reference_sgd(
            s, g, n, _constant(0.05), momentum=0.8, nesterov=True, weight_decay=0.1
        ),
    ),
    (
        "sgd-exponential-schedule",
        lambda: sgd(exponential_decay(0.05, 0.97), momentum=0.5),
        lambda s, g, n: reference_sgd(s, g, n, lambda t: 0.05 * 0.97 ** (t - 1), momentum=0.5),
    ),
    (
        "clip-then-sgd",
        lambda: chain(clip_by_global_norm(2.0), sgd(0.05, momentum=0.9)),
        lambda s, g, n: reference_sgd(s, g, n, _constant(0.05), momentum=0.9, max_norm=2.0),
    ),
    ("adam", lambda: adam(0.05), lambda s, g, n: reference_adam(s, g, n, _constant(0.05))),
    (
        "adam-weight-decay",
        lambda: adam(0.02, b1=0.8, b2=0.99, eps=1e-6, weight_decay=0.1),
        lambda s, g, n: reference_adam(
            s, g, n, _constant(0.02), beta1=0.8, beta2=0.99, eps=1e-6, weight_decay=0.1
        ),
    ),
    (
        "adam-warmup-schedule",
        lambda: adam(linear_warmup(0.0, 0.05, 10, after=exponential_decay(0.05, 0.9))),
        lambda s, g, n: reference_adam(s, g, n, _warmup_then_decay),
    ),
    (
        "adamw",
        lambda: adamw(0.05),
        lambda s, g, n: reference_adam(s, g, n, _constant(0.05), weight_decay=0.01, decoupled=True),
    ),
    (
        "adamw-strong-decay",
        lambda: adamw(0.02, b1=0.5, weight_decay=0.5),
        lambda s, g, n: reference_adam(
            s, g, n, _constant(0.02), beta1=0.5, weight_decay=0.5, decoupled=True
        ),
    ),
    (
        "rmsprop",
        lambda: rmsprop(0.01),
        lambda s, g, n: reference_rmsprop(s, g, n, _constant(0.01)),
    ),
    (
        "rmsprop-centered",
        lambda: rmsprop(0.01, centered=True),
        lambda s, g, n: reference_rmsprop(s, g, n, _constant(0.01), centered=True),
    ),
    (
        "rmsprop-momentum",
        lambda: rmsprop(0.005, momentum=0.9),
        lambda s, g, n: reference_rmsprop(s, g, n, _constant(0.005), momentum=0.9),
    ),
    (
        "rmsprop-centered-momentum-weight-decay",
        lambda: rmsprop(0.005, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1),
        lambda s, g, n: reference_rmsprop(
            s, g, n, _constant(0.005), alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1
        ),
    ),
    (
        "adagrad",
        lambda: adagrad(0.1),
        lambda s, g, n: reference_adagrad(s, g, n, _constant(0.1)),
    ),
    (
        "adagrad-lr-decay-weight-decay",
        lambda: adagrad(0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5),
        lambda s, g, n: reference_adagrad(
            s, g, n, _constant(0.1), lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5
        ),
    ),
]
CASE_IDS = [name for name, _, _ in CASES]
GRADIENTS = {"objective": _objective_gradient, "random-sequence": _sequence_gradient}


@pytest.mark.parametrize("source", list(GRADIENTS))
@pytest.mark.parametrize(("name", "make", "reference"), CASES, ids=CASE_IDS)
def test_trajectory_matches_pytorch_pseudo_code(
    name: str, make: Callable[[], Optimizer[Any]], reference: Reference, source: str
) -> None:
    expected = reference(_start(), GRADIENTS[source](), STEPS)
    actual = run(make(), _start(), GRADIENTS[source](), STEPS)
    # Elementwise rules (no sums): each step a dozen roundings per entry on either side,
    # the differences of STEPS steps adding up, relative to the parameters' scale.
    rtol = steps(STEPS, both(16, np.float64))
    for got, want in zip(actual, expected, strict=True):
        assert_network_close(got, want, rtol)


def test_trajectories_actually_move() -> None:
    """Guard the comparisons above: the parameters travel far from their start."""
    start = _start()
    for _, make, _ in CASES:
        end = run(make(), start, _objective_gradient(), STEPS)
        assert max(float(np.max(np.abs(e - s))) for e, s in zip(end, start, strict=True)) > 0.05


def test_clipping_is_both_active_and_inactive_on_the_clip_trajectory() -> None:
    """The ``clip-then-sgd`` case exercises both branches of the clamped coefficient."""
    gradient, params, coefficients = _objective_gradient(), _start(), []
    optimizer = sgd(0.05, momentum=0.9)
    state = optimizer.init(_to_params(params))
    for step in range(STEPS):
        clipped, coefficient = reference_clip_grad_norm(gradient(step, params), 2.0)
        coefficients.append(coefficient)
        updates, state = optimizer.update(_to_params(clipped), state, _to_params(params))
        params = _flatten(apply_updates(_to_params(params), updates))
    assert min(coefficients) < 0.5
    assert coefficients.count(1.0) > 10


def test_clip_by_global_norm_matches_torch_formula() -> None:
    rng = np.random.default_rng(3)
    for max_norm in (0.1, 1.0, 3.0, 100.0):
        grads = _random_arrays(rng)
        optimizer = clip_by_global_norm(max_norm)
        updates, _ = optimizer.update(_to_params(grads), EmptyState(), _to_params(grads))
        expected, _ = reference_clip_grad_norm(grads, max_norm)
        # The global norm sums every entry's square (n roundings), then a root, a division
        # and a product: relative, no cancellation.
        rtol = both(sum(g.size for g in grads) + 4, np.float64)
        for got, want in zip(_flatten(updates), expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=rtol, atol=0.0)


def test_clip_below_threshold_is_exact_identity() -> None:
    grads = _to_params([0.01 * a for a in _start()])
    updates, _ = clip_by_global_norm(1.0).update(grads, EmptyState(), grads)
    for got, want in zip(_flatten(updates), _flatten(grads), strict=True):
        assert got.tobytes() == want.tobytes()


# ------------------------------------------------------------------ purity and dtypes


def _leaves(tree: object) -> list[object]:
    """Every array and int in a nest of tuples (states, params), depth first."""
    if isinstance(tree, np.ndarray | int):
        return [tree]
    if isinstance(tree, tuple):
        return [leaf for item in tree for leaf in _leaves(item)]
    raise AssertionError(f"unexpected leaf {tree!r}")


def _arrays(tree: object) -> list[npt.NDArray[Any]]:
    return [leaf for leaf in _leaves(tree) if isinstance(leaf, np.ndarray)]


def _fingerprint(tree: object) -> list[object]:
    """A bit-exact, comparable summary of a nest of arrays and ints."""
    return [
        (leaf.dtype.str, leaf.shape, leaf.tobytes()) if isinstance(leaf, np.ndarray) else leaf
        for leaf in _leaves(tree)
    ]


ALL_OPTIMIZERS = [make for _, make, _ in CASES] + [
    lambda: chain(),
    lambda: scale(-0.5),
    lambda: scale_by_rms(),
    lambda: scale_by_stddev(alpha=0.5),
    lambda: scale_by_adagrad(0.1),
    lambda: trace(0.9, nesterov=True),
    lambda: chain(scale_by_adam(), add_decayed_weights(0.1), scale_by_learning_rate(0.1)),
]


def _problem(dtype: type[np.floating[Any]]) -> tuple[Params, Params]:
    rng = np.random.default_rng(4)
    params = _to_params([a.astype(dtype) for a in _random_arrays(rng)])
    grads = _to_params([a.astype(dtype) for a in _random_arrays(rng)])
    return params, grads


@pytest.mark.parametrize("make", ALL_OPTIMIZERS)
def test_float32_in_float32_out(make: Callable[[], Optimizer[Any]]) -> None:
    optimizer = make()
    params, grads = _problem(np.float32)
    state = optimizer.init(params)
    for _ in range(3):
        updates, state = optimizer.update(grads, state, params)
        params = apply_updates(params, updates)
        for array in _arrays((updates, state, params)):
            assert array.dtype == np.float32


@pytest.mark.parametrize("make", ALL_OPTIMIZERS)
def test_inputs_unchanged_outputs_read_only(make: Callable[[], Optimizer[Any]]) -> None:
    optimizer = make()
    params, grads = _problem(np.float64)
    before = _fingerprint(params)
    state = optimizer.init(params)
    assert _fingerprint(params) == before
    for _ in range(3):
        seen = _fingerprint((grads, state, params))
        updates, new_state = optimizer.update(grads, state, params)
        assert _fingerprint((grads, state, params)) == seen
        new_params = apply_updates(params, updates)
        assert _fingerprint((grads, state, params)) == seen
        for array in _arrays((state, updates, new_state, new_params)):
            assert not array.flags.writeable
        params, state = new_params, new_state


@pytest.mark.parametrize("make", ALL_OPTIMIZERS)
def test_same_inputs_give_bit_identical_outputs(make: Callable[[], Optimizer[Any]]) -> None:
    params, grads = _problem(np.float64)
    first, second = make(), make()
    state = first.init(params)
    assert _fingerprint(state) == _fingerprint(second.init(params))
    for _ in range(3):
        updates, new_state = first.update(grads, state, params)
        again = second.update(grads, state, params)
        assert _fingerprint((updates, new_state)) == _fingerprint(again)
        params, state = apply_updates(params, updates), new_state


def test_apply_updates_keeps_dtype_and_checks_structure() -> None:
    params, _ = _problem(np.float32)
    updates = _to_params([np.ones_like(a, dtype=np.float64) for a in _flatten(params)])
    new = apply_updates(params, updates)
    for got, old in zip(_flatten(new), _flatten(params), strict=True):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, old + np.float32(1.0))
        assert not got.flags.writeable
    with pytest.raises(ValueError, match="updates must be a tuple of 2 Dense"):
        apply_updates(params, updates[:1])
    wrong_shape = (updates[0], Dense(updates[1].W[:, :1], updates[1].b))
    with pytest.raises(ValueError, match=r"updates\[1\]\.W must be a float array of shape"):
        apply_updates(params, wrong_shape)


def test_states_are_named_tuples_with_int_counts() -> None:
    params, grads = _problem(np.float64)
    optimizer = adam(0.1)
    state: ChainState = optimizer.init(params)
    for _ in range(4):
        _, state = optimizer.update(grads, state, params)
    adam_state, schedule_state = state.states
    assert isinstance(adam_state, ScaleByAdamState)
    assert isinstance(schedule_state, ScaleByScheduleState)
    assert type(adam_state.step) is int
    assert adam_state.step == schedule_state.step == 4


def test_schedule_is_called_with_the_update_count() -> None:
    calls: list[int] = []

    def schedule(count: int) -> float:
        calls.append(count)
        return 1.0

    params, grads = _problem(np.float64)
    optimizer = scale_by_schedule(schedule)
    state = optimizer.init(params)
    for _ in range(3):
        _, state = optimizer.update(grads, state, params)
    assert calls == [0, 1, 2]
    assert state == ScaleByScheduleState(3)


def test_adamw_decay_is_lr_times_weight_decay_times_params() -> None:
    """With zero gradients Adam's step is 0, leaving ``theta (1 - lr wd)``."""
    params, _ = _problem(np.float64)
    zeros = _to_params([np.zeros_like(a) for a in _flatten(params)])
    optimizer = adamw(0.1, weight_decay=0.5)
    updates, _ = optimizer.update(zeros, optimizer.init(params), params)
    for got, theta in zip(_flatten(apply_updates(params, updates)), _flatten(params), strict=True):
        np.testing.assert_allclose(got, theta * (1 - 0.1 * 0.5), rtol=both(3, np.float64))


# ------------------------------------------------------------------------- validation

INVALID: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: sgd(-0.1), ValueError, "lr must be a finite real number >= 0"),
    (lambda: sgd(math.nan), ValueError, "lr must be a finite real number"),
    (lambda: adam(math.inf), ValueError, "lr must be a finite real number"),
    (lambda: sgd("0.1"), TypeError, "lr must be a finite real number >= 0 or a Schedule"),  # type: ignore[arg-type]
    (
        lambda: sgd(0.1, momentum=-0.5),
        ValueError,
        "momentum must be a finite real number >= 0, got -0.5",
    ),
    (lambda: sgd(0.1, nesterov=True), ValueError, "nesterov=True requires momentum > 0"),
    (lambda: sgd(0.1, momentum=0.9, nesterov=1), TypeError, "nesterov must be True or False"),  # type: ignore[arg-type]
    (
        lambda: sgd(0.1, weight_decay=-1.0),
        ValueError,
        "weight_decay must be a finite real number >= 0",
    ),
    (lambda: adam(b1=1.0), ValueError, r"b1 must be a finite real number in \[0, 1\), got 1.0"),
    (lambda: adam(b2=-0.1), ValueError, r"b2 must be a finite real number in \[0, 1\)"),
    (lambda: adamw(eps=0.0), ValueError, "eps must be a finite real number > 0, got 0.0"),
    (lambda: adamw(weight_decay=math.inf), ValueError, "weight_decay must be a finite real number"),
    (lambda: adam(b1=None), TypeError, "b1 must be a finite real number"),  # type: ignore[arg-type]
    (lambda: rmsprop(alpha=1.5), ValueError, "alpha must be a finite real number in"),
    (lambda: rmsprop(momentum=math.nan), ValueError, "momentum must be a finite real number"),
    (lambda: rmsprop(centered="yes"), TypeError, "centered must be True or False"),  # type: ignore[arg-type]
    (lambda: adagrad(lr_decay=-0.1), ValueError, "lr_decay must be a finite real number >= 0"),
    (lambda: adagrad(initial_accumulator_value=-1), ValueError, "initial_accumulator_value"),
    (lambda: adagrad(eps=-1e-10), ValueError, "eps must be a finite real number > 0"),
    (
        lambda: clip_by_global_norm(0.0),
        ValueError,
        "max_norm must be a finite real number > 0, got 0.0",
    ),
    (lambda: clip_by_global_norm(math.inf), ValueError, "max_norm must be a finite real number"),
    (lambda: scale_by_schedule(0.1), TypeError, "schedule must be callable"),  # type: ignore[arg-type]
    (lambda: trace(True), TypeError, "momentum must be a finite real number"),
]


@pytest.mark.parametrize(("build", "error", "message"), INVALID)
def test_invalid_hyperparameters_raise_naming_the_argument(
    build: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        build()


def test_learning_rate_zero_and_numpy_scalars_are_accepted() -> None:
    params, grads = _problem(np.float32)
    for optimizer in (sgd(0), adam(np.float64(1e-3)), rmsprop(lr=1)):
        updates, _ = optimizer.update(grads, optimizer.init(params), params)
        assert all(a.dtype == np.float32 for a in _flatten(updates))


# ------------------------------------------- the training step's donated update-and-apply

BUILT_IN: list[Callable[[], Optimizer[Any]]] = [
    lambda: sgd(0.05),
    lambda: sgd(exponential_decay(0.1, gamma=0.5)),
    lambda: scale_by_learning_rate(0.3),
    lambda: scale_by_schedule(lambda count: 0.5 - count),
    lambda: sgd(0.05, momentum=0.9),
    lambda: sgd(0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda: adam(0.01),
    lambda: adam(0.01, weight_decay=0.1),
    lambda: adamw(0.01),
    lambda: rmsprop(0.01),
    lambda: rmsprop(0.01, momentum=0.5, centered=True, weight_decay=0.1),
    lambda: adagrad(0.01, lr_decay=0.1),
    lambda: chain(clip_by_global_norm(0.1), adam(0.01)),
    lambda: chain(scale_by_stddev(0.5), trace(0.3), scale(-0.5)),
    lambda: scale(-0.5),
    lambda: chain(),
]


def _owned_copy(tree: Params) -> Params:
    return tuple(Dense(layer.W.copy(), layer.b.copy()) for layer in tree)


@pytest.mark.parametrize("make", BUILT_IN)
@pytest.mark.parametrize(
    "dtypes",
    [(np.float32,) * 2, (np.float64,) * 2, (np.float32, np.float64), (np.float64, np.float32)],
)
def test_the_flat_step_equals_update_then_apply_updates(
    make: Callable[[], Optimizer[Any]], dtypes: tuple[type[np.floating[Any]], ...]
) -> None:
    """Bit for bit, over three steps, against the two public calls; every built-in has a
    flat update, the gradients and the state it is given are left as they were, and the
    new parameters are read-only in the params' dtype."""
    params_dtype, grads_dtype = dtypes
    rng = np.random.default_rng(5)
    params = _to_params([a.astype(params_dtype) for a in _random_arrays(rng)])
    optimizer, reference = make(), make()
    assert optimizer.update_flat is not None
    step = optimizer_step(optimizer)
    state = ref_state = optimizer.init(params)
    ref_params = params
    for _ in range(3):
        grads = _to_params([a.astype(grads_dtype) for a in _random_arrays(rng)])
        seen = _fingerprint((grads, params, state))
        new_params, new_state = step(grads, state, params)
        assert _fingerprint((grads, params, state)) == seen
        state = new_state
        updates, ref_state = reference.update(grads, ref_state, ref_params)
        ref_params = apply_updates(ref_params, updates)
        assert _fingerprint((new_params, state)) == _fingerprint((ref_params, ref_state))
        for new in _flatten(new_params):
            assert new.dtype == params_dtype
            assert not new.flags.writeable
        params = new_params


def test_the_flat_step_writes_the_new_params_into_the_donated_gradient_vector() -> None:
    """No allocation for sgd(lr) and momentum: the new parameters live in the gradient
    vector (the flat layout the network's backward pass writes), one read-only vector;
    gradients of separate arrays are packed first and left as they were."""
    rng = np.random.default_rng(7)
    params = _to_params(_random_arrays(rng))
    grads = _to_params(_random_arrays(rng))
    for optimizer in (sgd(0.1), sgd(0.1, momentum=0.9)):
        gradient_vector = pack(grads)
        new_params, _ = optimizer_step(optimizer)(
            views(grads, gradient_vector), optimizer.init(params), params
        )
        assert all(new.base is gradient_vector for new in _flatten(new_params))
        assert not gradient_vector.flags.writeable
    before = _fingerprint(grads)
    new_params, _ = optimizer_step(adam(0.01))(grads, adam(0.01).init(params), params)
    assert _fingerprint(grads) == before
    vector = new_params[0].W.base
    assert isinstance(vector, np.ndarray)
    assert vector.shape == (sum(map(np.size, _flatten(params))),)
    assert all(new.base is vector for new in _flatten(new_params))
    assert not vector.flags.writeable


def test_an_optimizer_without_a_flat_update_runs_its_update() -> None:
    """A user's Optimizer(init, update) is stepped through update and apply_updates; one
    that replaces update drops the flat update with it, as the protocol asks."""
    base = sgd(0.1)

    def doubled(grads: Params, state: Any, params: Params) -> tuple[Params, Any]:
        twice = tuple(Dense(2 * layer.W, 2 * layer.b) for layer in grads)
        return base.update(twice, state, params)

    rng = np.random.default_rng(6)
    params = _to_params(_random_arrays(rng))
    grads = _to_params(_random_arrays(rng))
    expected = [p - 0.2 * g for p, g in zip(_flatten(params), _flatten(grads), strict=True)]
    for optimizer in (
        Optimizer(base.init, doubled),
        base._replace(update=doubled, update_flat=None),
    ):
        new_params, _ = optimizer_step(optimizer)(_owned_copy(grads), base.init(params), params)
        for new, want, p, g in zip(
            _flatten(new_params), expected, _flatten(params), _flatten(grads), strict=True
        ):
            # p - 0.1 (2 g) against p - 0.2 g: 3 roundings of terms |p| and |0.2 g| each
            assert_within(new, want, both(3, np.float64) * (np.abs(p) + np.abs(0.2 * g)))
            assert not new.flags.writeable


def test_scikit_learn_adam_against_its_published_rule() -> None:
    """scikit-learn's AdamOptimizer written out: moments, then the corrected step size."""
    rng = np.random.default_rng(4)
    params = _to_params(_random_arrays(rng))
    optimizer = adam(0.01, rule="sklearn")
    state = optimizer.init(params)
    theta = [np.array(a) for a in _flatten(params)]
    m = [np.zeros_like(a) for a in theta]
    v = [np.zeros_like(a) for a in theta]
    for t in range(1, 30):
        grads = _to_params(_random_arrays(rng))
        updates, state = optimizer.update(grads, state, params)
        params = apply_updates(params, updates)
        step = 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        for i, g in enumerate(_flatten(grads)):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g**2
            theta[i] = theta[i] - step * m[i] / (np.sqrt(v[i]) + 1e-8)
    rtol = steps(29, both(16, np.float64))  # 29 elementwise steps, as the trajectories above
    for got, want in zip(_flatten(params), theta, strict=True):
        assert_network_close(got, want, rtol)
    with pytest.raises(ValueError, match="rule must be 'pytorch' or 'sklearn'"):
        adam(0.01, rule="keras")  # type: ignore[arg-type]
