"""Learning-rate schedules: pure functions from the step count to a Python float.

Naming rule: a ``Schedule`` is called with ``step``, the number of updates already done
(``0`` for the first update), and returns the value to use in the update with that count.
``init_value`` is the value at step 0; every factory validates its arguments once, when it
is called, and raises ``ValueError`` (bad value) or ``TypeError`` (not a number) naming the
argument. The returned functions are plain closures over Python floats: no state, no RNG.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeAlias

from fcfun._validation import check_int, check_real

Schedule: TypeAlias = Callable[[int], float]
"""A pure function of the step count (``0`` for the first update) giving a Python float."""


def _power_decay(init_value: float, factor: float, exponent: int) -> float:
    """``init_value * factor ** exponent``; ``inf`` (refused where a step uses it) rather than
    Python's ``OverflowError`` when it leaves the float range."""
    try:
        return float(init_value * factor**exponent)
    except OverflowError:
        return math.inf


def constant(value: float) -> Schedule:
    """Return the schedule that is ``value`` at every step.

    Args:
        value: the constant, a finite number.

    Returns:
        ``step -> value``.

    >>> constant(0.1)(1000)
    0.1
    """
    result = check_real(value, "value")

    def schedule(step: int) -> float:
        return result

    return schedule


def step_decay(init_value: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r"""Return PyTorch ``StepLR`` over steps: decay by ``gamma`` every ``step_size`` steps.

    .. math:: \eta_t = \eta_0 \, \gamma^{\lfloor t / \text{step\_size} \rfloor}

    This is StepLR's closed form; ``StepLR.step()`` multiplies by ``gamma`` repeatedly
    instead, so the two agree to rounding (a few ulps), not bit for bit.

    Args:
        init_value: ``eta_0``, a finite number.
        step_size: steps between decays, a positive integer.
        gamma: multiplicative factor per decay, finite and ``>= 0``.

    Returns:
        ``step -> init_value * gamma ** (step // step_size)``.

    >>> schedule = step_decay(1.0, step_size=2, gamma=0.5)
    >>> [schedule(t) for t in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    eta_0 = check_real(init_value, "init_value")
    size = check_int(step_size, "step_size", minimum=1)
    factor = check_real(gamma, "gamma", low=0.0)

    def schedule(step: int) -> float:
        return _power_decay(eta_0, factor, step // size)

    return schedule


def exponential_decay(init_value: float, gamma: float) -> Schedule:
    r"""Return PyTorch ``ExponentialLR`` over steps: decay by ``gamma`` every step.

    .. math:: \eta_t = \eta_0 \, \gamma^t

    Args:
        init_value: ``eta_0``, a finite number.
        gamma: multiplicative factor per step, finite and ``>= 0``.

    Returns:
        ``step -> init_value * gamma ** step``.

    >>> exponential_decay(2.0, 0.5)(3)
    0.25
    """
    eta_0 = check_real(init_value, "init_value")
    factor = check_real(gamma, "gamma", low=0.0)

    def schedule(step: int) -> float:
        return _power_decay(eta_0, factor, step)

    return schedule


def cosine_decay(init_value: float, decay_steps: int, alpha: float = 0.0) -> Schedule:
    r"""Return a half-cosine decay from ``init_value`` to ``alpha * init_value``.

    .. math::
        \eta_t = \eta_{min} + (\eta_0 - \eta_{min})
                  \frac{1 + \cos(\pi \min(t, T) / T)}{2},
        \qquad \eta_{min} = \alpha \, \eta_0

    This is optax's ``cosine_decay_schedule`` written as PyTorch ``CosineAnnealingLR``'s
    closed form with ``T_max = decay_steps`` and ``eta_min = alpha * init_value``. After
    ``decay_steps`` it stays at ``eta_min`` (as optax does); torch's scheduler would follow
    the cosine back up.

    Args:
        init_value: ``eta_0``, a finite number.
        decay_steps: ``T``, steps to reach the minimum, a positive integer.
        alpha: the minimum as a fraction of ``init_value``, in ``[0, 1]``.

    Returns:
        The schedule.

    >>> schedule = cosine_decay(1.0, decay_steps=4, alpha=0.1)
    >>> [round(schedule(t), 6) for t in (0, 2, 4, 9)]
    [1.0, 0.55, 0.1, 0.1]
    """
    eta_0 = check_real(init_value, "init_value")
    total = check_int(decay_steps, "decay_steps", minimum=1)
    fraction = check_real(alpha, "alpha", low=0.0, high=1.0)
    eta_min = fraction * eta_0

    def schedule(step: int) -> float:
        progress = min(step, total)
        cosine = 1.0 + math.cos(math.pi * progress / total)
        return float(eta_min + (eta_0 - eta_min) * cosine / 2.0)

    return schedule


def cosine_warm_restarts(
    init_value: float, period: int, period_multiplier: int = 1, alpha: float = 0.0
) -> Schedule:
    r"""Return cosine annealing with warm restarts (SGDR, PyTorch ``CosineAnnealingWarmRestarts``).

    .. math::
        \eta_t = \eta_{min} + (\eta_0 - \eta_{min}) \frac{1 + \cos(\pi t_{cur} / T_i)}{2}

    where cycle ``i`` lasts ``T_i = period * period_multiplier ** i`` steps and ``t_cur``
    counts the steps since the cycle began (Loshchilov and Hutter, 2017). A pure function
    of the step, so a resumed run continues the same curve.

    Args:
        init_value: ``eta_0``, the value at each restart, a finite number.
        period: ``T_0``, the first cycle's length in steps, a positive integer.
        period_multiplier: ``T_mult``, each cycle's length over the previous one's, >= 1.
        alpha: ``eta_min`` as a fraction of ``init_value``, in ``[0, 1]``.

    Returns:
        The schedule.

    >>> schedule = cosine_warm_restarts(1.0, period=2, period_multiplier=2)
    >>> [round(schedule(t), 3) for t in range(8)]
    [1.0, 0.5, 1.0, 0.854, 0.5, 0.146, 1.0, 0.962]
    """
    eta_0 = check_real(init_value, "init_value")
    first = check_int(period, "period", minimum=1)
    multiplier = check_int(period_multiplier, "period_multiplier", minimum=1)
    eta_min = check_real(alpha, "alpha", low=0.0, high=1.0) * eta_0

    def schedule(step: int) -> float:
        length, start = first, step
        while start >= length:  # at most log(step) cycles when the multiplier is above 1
            start -= length
            length *= multiplier
            if multiplier == 1:
                start %= length
        cosine = 1.0 + math.cos(math.pi * start / length)
        return float(eta_min + (eta_0 - eta_min) * cosine / 2.0)

    return schedule


def linear_warmup(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    after: Schedule | None = None,
) -> Schedule:
    r"""Return a linear ramp from ``init_value`` to ``peak_value``, then ``after``.

    .. math::
        \eta_t = \eta_0 + (\eta_{peak} - \eta_0) \, t / W \quad (t < W), \qquad
        \eta_t = \text{after}(t - W) \quad (t \ge W)

    Args:
        init_value: ``eta_0``, the value at step 0, a finite number.
        peak_value: the value the ramp reaches at step ``W``, a finite number.
        warmup_steps: ``W``, a non-negative integer (``0``: no ramp).
        after: the schedule from step ``W`` on, called with ``t - W`` so that it starts
            at its own step 0; ``None`` stays at ``peak_value``.

    Returns:
        The schedule.

    >>> schedule = linear_warmup(0.0, 1.0, warmup_steps=4, after=exponential_decay(1.0, 0.5))
    >>> [schedule(t) for t in range(7)]
    [0.0, 0.25, 0.5, 0.75, 1.0, 0.5, 0.25]
    """
    eta_0 = check_real(init_value, "init_value")
    peak = check_real(peak_value, "peak_value")
    ramp = check_int(warmup_steps, "warmup_steps", minimum=0)
    if after is not None and not callable(after):
        raise TypeError(f"after must be a Schedule (callable) or None, got {after!r}")
    then = constant(peak) if after is None else after

    def schedule(step: int) -> float:
        if step < ramp:
            return float(eta_0 + (peak - eta_0) * step / ramp)
        return float(then(step - ramp))

    return schedule


def inverse_scaling(init_value: float, power_t: float = 0.5) -> Schedule:
    r"""Return scikit-learn's ``'invscaling'`` schedule: ``init / (step + 1) ** power_t``.

    .. math:: \eta_t = \eta_0 / (t + 1)^{p}

    scikit-learn's ``SGDOptimizer.iteration_ends(time_step)`` sets exactly
    ``learning_rate_init / (time_step + 1) ** power_t`` (its docstring says
    ``pow(t, power_t)``), where ``MLPClassifier`` passes ``time_step = t_``, the number of
    training *samples* seen, once per epoch. Here ``t`` is the update count; to reproduce
    scikit-learn exactly, call it with the samples seen before the current epoch.

    Args:
        init_value: ``eta_0``, a finite number.
        power_t: the exponent ``p``, finite and ``>= 0`` (scikit-learn's constraint).

    Returns:
        The schedule.

    >>> schedule = inverse_scaling(1.0, power_t=0.5)
    >>> [schedule(t) for t in (0, 3, 8)]
    [1.0, 0.5, 0.3333333333333333]
    """
    eta_0 = check_real(init_value, "init_value")
    power = check_real(power_t, "power_t", low=0.0)

    def schedule(step: int) -> float:
        return float(eta_0 / (step + 1) ** power)

    return schedule
