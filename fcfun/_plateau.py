r"""Learning-rate scales that read the run: ``ReduceOnPlateau`` and its pure walk.

The scale a run trains an epoch with is a pure function of the history before it:
``plateau_scale(rule, history)``. Nothing else is stored, so a run resumed from a
``TrainState`` (through ``save`` / ``load`` too) takes the same scales as the
uninterrupted one. The run sets it between epochs in the optimizer's state
(``scale_by_plateau``'s piece), see ``fit(..., plateau=rule)``.

Naming rule: a *bad epoch* is one whose monitored value does not improve on the best by
the threshold; ``patience`` bad epochs in a row are allowed, one more is a plateau, which
multiplies the scale by ``factor``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Literal, NamedTuple

from fcfun._state import History, check_monitor, watched
from fcfun._validation import check_int, check_real, describe


class ReduceOnPlateau(NamedTuple):
    r"""Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    PyTorch's ``ReduceLROnPlateau`` (``mode='min'``) on a scale that starts at 1: after
    each epoch the monitored value ``a`` is compared with the best so far; it improves when

    .. math::
        a < b - \tau \ (\text{abs}), \qquad a < b - |b| \, \tau \ (\text{rel})

    (``b`` the best, ``tau`` the threshold). After more than ``patience`` bad epochs in a
    row the scale becomes ``max(scale * factor, min_scale)`` (kept when that changes it
    by ``eps`` or less), the count restarts and ``cooldown`` epochs follow in which bad
    epochs are not counted.

    PyTorch's relative rule is ``a < b (1 - tau)``, the same for ``b >= 0``; for a
    negative best it would take a worse value (``-9.5`` after ``-10`` with ``tau = 0.1``)
    as an improvement. The rule here asks for ``tau |b|`` below the best at any sign.

    ``eps`` and ``min_scale`` apply to the scale, not to the learning rate as PyTorch's
    ``eps`` and ``min_lr`` do: PyTorch keeps the learning rate when
    ``old_lr - new_lr <= eps``; the rule here keeps the scale when
    ``scale - reduced <= eps``. The scale multiplies whatever the optimizer computes and
    knows no learning rate (a schedule changes it every step), so for a constant learning
    rate ``lr``, PyTorch's ``eps=e, min_lr=l`` is ``eps=e / lr, min_scale=l / lr`` here.
    With the defaults (``eps=1e-8``) the two differ only once ``lr * scale`` is about
    ``1e-8 / (1 - factor)``: PyTorch then stops reducing, this rule goes on until the
    scale itself is that small.

    ``rule="sklearn"`` is scikit-learn's ``learning_rate='adaptive'``: the best moves by
    any improvement, the count restarts only for one by the threshold or more
    (``a <= b - tau``), the scale is multiplied by ``factor`` without a floor, and when a
    reduction is due at a scale already at or below ``min_scale`` the run ends instead.

    Attributes:
        patience: bad epochs allowed in a row, ``>= 0``.
        factor: the multiplier, in ``(0, 1)``.
        threshold: ``tau``, ``>= 0``.
        threshold_mode: ``"rel"`` or ``"abs"``.
        cooldown: epochs after a reduction in which bad epochs are not counted, ``>= 0``.
        min_scale: the lowest scale (PyTorch's ``min_lr`` over the learning rate), ``>= 0``.
        eps: a reduction of the scale (not of the learning rate, as PyTorch's) by this
            or less is skipped, ``>= 0``.
        monitor: ``"train_loss"``, ``"val_loss"`` or ``"val_metric"`` (higher is better).
        rule: ``"pytorch"`` or ``"sklearn"``.

    >>> rule = ReduceOnPlateau(patience=1, factor=0.5)
    >>> plateau_scale(rule, History(train_loss=(3.0, 2.0, 2.5, 2.4, 1.0)))
    0.5
    """

    patience: int = 10
    factor: float = 0.1
    threshold: float = 1e-4
    threshold_mode: Literal["rel", "abs"] = "rel"
    cooldown: int = 0
    min_scale: float = 0.0
    eps: float = 1e-8
    monitor: Literal["train_loss", "val_loss", "val_metric"] = "train_loss"
    rule: Literal["pytorch", "sklearn"] = "pytorch"


class Plateau(NamedTuple):
    """Where ``rule`` stands after some epochs: the scale for the next one, the best value,
    the bad epochs counted, the cooldown left, and whether the run is over (``"sklearn"``)."""

    scale: float = 1.0
    best: float = math.inf
    bad_epochs: int = 0
    cooldown: int = 0
    exhausted: bool = False


def check_plateau(rule: object, has_validation: bool) -> ReduceOnPlateau:
    """``rule`` checked once per run (``plateau``), numbers normalised."""
    if not isinstance(rule, ReduceOnPlateau):
        raise TypeError(f"plateau must be a ReduceOnPlateau, got {describe(rule)}")
    if rule.threshold_mode not in ("rel", "abs"):
        raise ValueError(
            f"plateau.threshold_mode must be 'rel' or 'abs', got {rule.threshold_mode!r}"
        )
    if rule.rule not in ("pytorch", "sklearn"):
        raise ValueError(f"plateau.rule must be 'pytorch' or 'sklearn', got {rule.rule!r}")
    check_monitor(rule.monitor, "plateau.monitor", has_validation)
    factor = check_real(
        rule.factor, "plateau.factor", low=0.0, high=1.0, low_open=True, high_open=True
    )
    return rule._replace(
        patience=check_int(rule.patience, "plateau.patience", minimum=0),
        factor=factor,
        threshold=check_real(rule.threshold, "plateau.threshold", low=0.0),
        cooldown=check_int(rule.cooldown, "plateau.cooldown", minimum=0),
        min_scale=check_real(rule.min_scale, "plateau.min_scale", low=0.0),
        eps=check_real(rule.eps, "plateau.eps", low=0.0),
    )


def plateau_scores(rule: ReduceOnPlateau, history: History) -> tuple[float, ...]:
    """The values ``rule`` watches, one per epoch, oriented so that lower is better."""
    return watched(history, rule.monitor)


def _bar(rule: ReduceOnPlateau, best: float) -> float:
    """The value an epoch must beat to improve on ``best`` by the threshold."""
    if rule.threshold_mode == "abs":
        return best - rule.threshold
    return best - abs(best) * rule.threshold if math.isfinite(best) else best


def plateau_step(rule: ReduceOnPlateau, state: Plateau, score: float) -> Plateau:
    """``state`` after one more epoch whose monitored value is ``score`` (lower is better)."""
    scale, best, bad, cooldown, _ = state
    bar = _bar(rule, best)
    if rule.rule == "sklearn":
        bad = 0 if score <= bar else bad + 1
        best = score if score < best else best  # NaN never becomes the best
    elif score < bar:
        best, bad = score, 0
    else:
        bad += 1
    if cooldown > 0:
        cooldown, bad = cooldown - 1, 0
    if bad <= rule.patience:
        return Plateau(scale, best, bad, cooldown, False)
    if rule.rule == "sklearn":
        if scale <= rule.min_scale:
            return Plateau(scale, best, bad, cooldown, True)
        return Plateau(scale * rule.factor, best, 0, rule.cooldown, False)
    reduced = max(scale * rule.factor, rule.min_scale)
    return Plateau(reduced if scale - reduced > rule.eps else scale, best, 0, rule.cooldown, False)


def plateau_walk(rule: ReduceOnPlateau, scores: Iterable[float]) -> Plateau:
    """Where ``rule`` stands after ``scores`` (lower is better), from a scale of 1."""
    state = Plateau()
    for score in scores:
        state = plateau_step(rule, state, score)
    return state


def plateau_scale(rule: ReduceOnPlateau, history: History) -> float:
    """The learning-rate scale ``rule`` gives the epoch after ``history``.

    A pure function of the history, so a resumed run takes the same scales.

    Args:
        rule: a ``ReduceOnPlateau``.
        history: the run's history so far (``TrainState.history``).

    Returns:
        The scale, ``1.0`` before any reduction.

    >>> rule = ReduceOnPlateau(patience=0, factor=0.5, threshold=0.0)
    >>> plateau_scale(rule, History(train_loss=(1.0, 1.0, 1.0)))
    0.25
    """
    return plateau_walk(rule, plateau_scores(rule, history)).scale


def plateau_tracker(rule: ReduceOnPlateau) -> Callable[[History], Plateau]:
    """``history -> plateau_walk(rule, plateau_scores(rule, history))``, one step per epoch.

    The same result as the walk (a pure function of the history); it remembers the last
    history's scores and steps on from there when the next one extends them, so a run
    of ``n`` epochs costs ``n`` steps, not ``n**2 / 2``.
    """
    memo: list[tuple[tuple[float, ...], Plateau]] = [((), Plateau())]

    def track(history: History) -> Plateau:
        scores = plateau_scores(rule, history)
        seen, state = memo[0]
        if scores[: len(seen)] != seen:  # not an extension: walk from the start
            seen, state = (), Plateau()
        for score in scores[len(seen) :]:
            state = plateau_step(rule, state, score)
        memo[0] = (scores, state)
        return state

    return track
