"""Schedules against hand-derived values and PyTorch's / scikit-learn's scheduler rules.

``torch_*`` functions transcribe the recursive ``get_lr`` of PyTorch's ``StepLR``,
``ExponentialLR`` and ``CosineAnnealingLR`` (what ``scheduler.step()`` computes), so they
check fcfun's closed forms against an independent formula, to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

import fcfun
from fcfun._schedules import (
    Schedule,
    constant,
    cosine_decay,
    exponential_decay,
    inverse_scaling,
    linear_warmup,
    step_decay,
)
from tests._bounds import both, eps, steps


def _values(schedule: Schedule, steps: int) -> list[float]:
    return [schedule(t) for t in range(steps)]


def torch_step_lr(base_lr: float, step_size: int, gamma: float, steps: int) -> list[float]:
    """``StepLR``: multiply by ``gamma`` whenever ``last_epoch % step_size == 0``."""
    lrs, lr = [base_lr], base_lr
    for last_epoch in range(1, steps):
        if last_epoch % step_size == 0:
            lr = lr * gamma
        lrs.append(lr)
    return lrs


def torch_exponential_lr(base_lr: float, gamma: float, steps: int) -> list[float]:
    """``ExponentialLR``: multiply by ``gamma`` at every step."""
    lrs, lr = [base_lr], base_lr
    for _ in range(1, steps):
        lr = lr * gamma
        lrs.append(lr)
    return lrs


def torch_cosine_annealing_lr(
    base_lr: float, t_max: int, eta_min: float, steps: int
) -> list[float]:
    """``CosineAnnealingLR.get_lr``, the recursive form used by ``scheduler.step()``."""
    lrs, lr = [base_lr], base_lr
    for last_epoch in range(1, steps):
        if (last_epoch - 1 - t_max) % (2 * t_max) == 0:
            lr = lr + (base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        else:
            lr = (1 + math.cos(math.pi * last_epoch / t_max)) / (
                1 + math.cos(math.pi * (last_epoch - 1) / t_max)
            ) * (lr - eta_min) + eta_min
        lrs.append(lr)
    return lrs


def test_constant() -> None:
    assert _values(constant(0.25), 5) == [0.25] * 5


def test_step_decay_hand_values() -> None:
    assert _values(step_decay(1.0, step_size=3, gamma=0.5), 8) == [
        1.0,
        1.0,
        1.0,
        0.5,
        0.5,
        0.5,
        0.25,
        0.25,
    ]


@pytest.mark.parametrize(("step_size", "gamma"), [(1, 0.9), (7, 0.1), (30, 0.5)])
def test_step_decay_matches_torch_step_lr(step_size: int, gamma: float) -> None:
    expected = torch_step_lr(0.1, step_size, gamma, 200)
    # torch multiplies by gamma at each decay (up to 200 roundings), fcfun takes a power
    rtol = both(200 + 4, np.float64)
    np.testing.assert_allclose(_values(step_decay(0.1, step_size, gamma), 200), expected, rtol=rtol)


def test_exponential_decay_hand_values_and_torch() -> None:
    schedule = exponential_decay(3.0, 0.5)
    assert _values(schedule, 4) == [3.0, 1.5, 0.75, 0.375]
    np.testing.assert_allclose(
        _values(exponential_decay(0.1, 0.97), 200),
        torch_exponential_lr(0.1, 0.97, 200),
        rtol=both(200 + 4, np.float64),  # 200 products in turn against a power
    )


def test_cosine_decay_hand_values() -> None:
    schedule = cosine_decay(2.0, decay_steps=4, alpha=0.25)
    # eta_min = 0.5; at t = 1: 0.5 + 1.5 * (1 + cos(pi/4)) / 2
    expected = [
        2.0,
        0.5 + 1.5 * (1 + math.sqrt(0.5)) / 2,
        1.25,
        0.5 + 1.5 * (1 - math.sqrt(0.5)) / 2,
    ]
    np.testing.assert_allclose(_values(schedule, 4), expected, rtol=both(8, np.float64))
    assert [schedule(t) for t in (4, 5, 100)] == [0.5, 0.5, 0.5]
    # (1 + cos(fl(pi))) / 2: cos within an ulp of -1, its square term far below
    assert abs(cosine_decay(1.0, 10)(10)) <= eps(np.float64)


@pytest.mark.parametrize(("t_max", "alpha"), [(10, 0.0), (50, 0.1), (97, 0.5)])
def test_cosine_decay_matches_torch_cosine_annealing(t_max: int, alpha: float) -> None:
    base_lr = 0.1
    expected = torch_cosine_annealing_lr(base_lr, t_max, alpha * base_lr, t_max + 1)
    actual = _values(cosine_decay(base_lr, t_max, alpha), t_max + 1)
    # torch's recursive form: each step's ratio (1 + cos a) / (1 + cos b) rounds 8 times
    # and carries the last rate's error on; near the end, where 1 + cos cancels, an error
    # of u in it is one of u (base_lr - eta_min) in the rate: absolute at base_lr's scale.
    tolerance = steps(t_max + 1, both(8, np.float64))
    np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance * base_lr)


def test_linear_warmup_to_peak_then_constant() -> None:
    schedule = linear_warmup(0.1, 1.1, warmup_steps=5)
    expected = [0.1, 0.3, 0.5, 0.7, 0.9, 1.1, 1.1, 1.1]  # a product and a sum, each rounded
    np.testing.assert_allclose(_values(schedule, 8), expected, rtol=both(4, np.float64))


def test_linear_warmup_hands_over_shifted() -> None:
    after = step_decay(1.0, step_size=2, gamma=0.5)
    schedule = linear_warmup(0.0, 1.0, warmup_steps=2, after=after)
    assert _values(schedule, 7) == [0.0, 0.5, 1.0, 1.0, 0.5, 0.5, 0.25]
    assert _values(linear_warmup(5.0, 1.0, warmup_steps=0, after=after), 4) == _values(after, 4)


def test_inverse_scaling_hand_values() -> None:
    schedule = inverse_scaling(0.6, power_t=0.5)
    np.testing.assert_allclose(
        _values(schedule, 4),
        [0.6, 0.6 / math.sqrt(2), 0.6 / math.sqrt(3), 0.3],
        rtol=both(3, np.float64),  # a power (or root) and a division
    )
    assert _values(inverse_scaling(0.2, power_t=0.0), 3) == [0.2, 0.2, 0.2]
    assert inverse_scaling(1.0, power_t=1.0)(9) == 0.1


def test_inverse_scaling_matches_scikit_learn() -> None:
    """scikit-learn's SGDOptimizer sets ``init / (time_step + 1) ** power_t``."""
    optimizers = pytest.importorskip("sklearn.neural_network._stochastic_optimizers")
    schedule = inverse_scaling(0.01, power_t=0.25)
    for time_step in (0, 1, 200, 12345):
        reference = optimizers.SGDOptimizer(
            [np.zeros(1)], learning_rate_init=0.01, lr_schedule="invscaling", power_t=0.25
        )
        reference.iteration_ends(time_step)
        assert schedule(time_step) == reference.learning_rate


SCHEDULES: list[Schedule] = [
    constant(1.0),
    step_decay(0.1, 3),
    exponential_decay(0.1, 0.9),
    cosine_decay(0.1, 10, 0.1),
    linear_warmup(0.0, 0.1, 5),
    linear_warmup(0.0, 0.1, 5, after=lambda step: np.float64(0.1)),
    inverse_scaling(0.1),
]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedules_return_python_floats_and_are_pure(schedule: Schedule) -> None:
    forward = [schedule(t) for t in range(20)]
    backward = [schedule(t) for t in reversed(range(20))][::-1]
    assert forward == backward
    for t in (0, 7, 19):
        assert type(schedule(t)) is float
        assert type(schedule(np.int64(t))) is float  # type: ignore[arg-type]


INVALID: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: constant(math.nan), ValueError, "value must be a finite real number"),
    (lambda: constant("1"), TypeError, "value must be a finite real number"),  # type: ignore[arg-type]
    (lambda: step_decay(0.1, 0), ValueError, "step_size must be an integer >= 1, got 0"),
    (lambda: step_decay(0.1, 2.0), TypeError, "step_size must be an integer >= 1"),  # type: ignore[arg-type]
    (lambda: step_decay(0.1, 2, gamma=-0.1), ValueError, "gamma must be a finite real number >= 0"),
    (lambda: step_decay(math.inf, 2), ValueError, "init_value must be a finite real number"),
    (lambda: exponential_decay(0.1, math.nan), ValueError, "gamma must be a finite real number"),
    (lambda: cosine_decay(0.1, 0), ValueError, "decay_steps must be an integer >= 1, got 0"),
    (lambda: cosine_decay(0.1, True), TypeError, "decay_steps must be an integer >= 1"),
    (
        lambda: cosine_decay(0.1, 10, alpha=1.5),
        ValueError,
        r"alpha must be a finite real number in \[0, 1\]",
    ),
    (lambda: linear_warmup(0.0, 1.0, -1), ValueError, "warmup_steps must be an integer >= 0"),
    (
        lambda: linear_warmup(0.0, math.inf, 5),
        ValueError,
        "peak_value must be a finite real number",
    ),
    (lambda: linear_warmup(0.0, 1.0, 5, after=1.0), TypeError, "after must be a Schedule"),  # type: ignore[arg-type]
    (
        lambda: inverse_scaling(0.1, power_t=-0.5),
        ValueError,
        "power_t must be a finite real number >= 0",
    ),
    (lambda: inverse_scaling(None), TypeError, "init_value must be a finite real number"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("build", "error", "message"), INVALID)
def test_invalid_arguments_raise_naming_the_argument(
    build: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        build()


def _sgdr_reference(step: int, eta_0: float, T_0: int, T_mult: int, eta_min: float) -> float:
    """PyTorch CosineAnnealingWarmRestarts' documented rule, written out independently."""
    T_i, T_cur = T_0, step
    while T_cur >= T_i:
        T_cur -= T_i
        T_i *= T_mult
    return eta_min + (eta_0 - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2


@pytest.mark.parametrize(("period", "multiplier", "alpha"), [(3, 1, 0.0), (2, 2, 0.1), (5, 3, 0.5)])
def test_cosine_warm_restarts_follows_the_sgdr_rule(
    period: int, multiplier: int, alpha: float
) -> None:
    schedule = fcfun.cosine_warm_restarts(0.4, period, multiplier, alpha)
    for step in range(200):
        expected = _sgdr_reference(step, 0.4, period, multiplier, alpha * 0.4)
        # a cycle's start, a cosine and its scaling: 16 roundings, at 0.4's scale at most
        bound = both(16, np.float64)
        assert schedule(step) == pytest.approx(expected, rel=bound, abs=bound * 0.4)
    assert schedule(10**12) <= 0.4  # far steps cost a few cycles' arithmetic, not a loop
