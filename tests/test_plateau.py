"""ReduceOnPlateau: PyTorch's documented rule (and scikit-learn's 'adaptive'), in the run.

The references here are transcriptions written from the published rules, not from
fcfun's code: PyTorch's ``ReduceLROnPlateau`` (``mode='min'``: ``step(metrics)``,
``is_better``, ``_reduce_lr``) and scikit-learn's ``_fit_stochastic`` loop with
``SGDOptimizer.trigger_stopping`` (``learning_rate='adaptive'``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fcfun
from fcfun import History, ReduceOnPlateau, plateau_scale
from fcfun._plateau import plateau_walk
from tests._bounds import both

# PyTorch's ReduceLROnPlateau, mode='min', transcribed ---------------------------------


class TorchPlateau:
    """``torch.optim.lr_scheduler.ReduceLROnPlateau`` with ``mode='min'`` on one group.

    ``negative_fix``: the relative threshold measured from ``|best|`` (fcfun's rule);
    ``False`` is PyTorch's literal ``a < best * (1 - threshold)``.
    """

    def __init__(self, rule: ReduceOnPlateau, lr: float = 1.0, negative_fix: bool = True):
        self.patience, self.factor, self.threshold = rule.patience, rule.factor, rule.threshold
        self.threshold_mode, self.cooldown, self.min_lr = (
            rule.threshold_mode,
            rule.cooldown,
            rule.min_scale,
        )
        self.eps, self.lr, self.negative_fix = rule.eps, lr, negative_fix
        self.best, self.num_bad_epochs, self.cooldown_counter = math.inf, 0, 0

    def is_better(self, a: float, best: float) -> bool:
        if self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.negative_fix and best < 0:
            return a < best + best * self.threshold  # best - |best| * threshold
        return a < best * (1.0 - self.threshold)

    def step(self, metric: float) -> None:
        if self.is_better(metric, self.best):
            self.best, self.num_bad_epochs = metric, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0


def torch_scales(
    rule: ReduceOnPlateau, losses: list[float], negative_fix: bool = True
) -> list[float]:
    scheduler = TorchPlateau(rule, negative_fix=negative_fix)
    scales = []
    for loss in losses:
        scheduler.step(loss)
        scales.append(scheduler.lr)
    return scales


def fcfun_scales(rule: ReduceOnPlateau, losses: list[float]) -> list[float]:
    return [
        plateau_scale(rule, History(train_loss=tuple(losses[: i + 1]))) for i in range(len(losses))
    ]


LOSSES = [5.0, 4.0, 4.0, 3.9999, 4.1, 4.2, 3.0, 3.0, 3.0, 3.0, 3.0, 2.9, 2.95, 3.0, 3.1, 3.2, 3.3]
LOSSES += [3.4, 3.5, 3.6, 3.7, 3.8, math.nan, 3.9, 4.0, 1.0, 1.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    "rule",
    [
        ReduceOnPlateau(patience=1, factor=0.5),
        ReduceOnPlateau(patience=0, factor=0.1, threshold=0.0, threshold_mode="abs"),
        ReduceOnPlateau(patience=2, factor=0.5, threshold=0.05, threshold_mode="abs", cooldown=2),
        ReduceOnPlateau(patience=1, factor=0.3, threshold=0.01, cooldown=1, min_scale=0.05),
        ReduceOnPlateau(patience=0, factor=0.5, min_scale=0.2, eps=0.06),  # eps skips a step
    ],
)
def test_the_scale_follows_pytorchs_rule_on_a_scripted_history(rule: ReduceOnPlateau) -> None:
    expected = torch_scales(rule, LOSSES)
    assert fcfun_scales(rule, LOSSES) == expected
    assert len(set(expected)) > 1  # the history does reduce the scale


def test_a_negative_best_needs_a_relative_improvement_below_it() -> None:
    """PyTorch's rel rule ``a < best * (1 - threshold)`` takes -9.5 after -10 as better
    (``-10 * 0.9 = -9``); fcfun asks for ``best - |best| * threshold`` at any sign."""
    rule = ReduceOnPlateau(patience=1, factor=0.5, threshold=0.1)
    losses = [-10.0, -9.5, -9.5, -9.5, -11.5, -12.0, -12.5]
    assert fcfun_scales(rule, losses) == torch_scales(rule, losses, negative_fix=True)
    assert fcfun_scales(rule, losses) == [1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25]
    literal = torch_scales(rule, losses, negative_fix=False)
    assert literal[:4] == [1.0, 1.0, 1.0, 1.0]  # the worse -9.5 counted as improvements
    positive = [-loss for loss in losses]  # for positive values the two rules agree
    assert torch_scales(rule, positive, negative_fix=False) == torch_scales(rule, positive)


def test_val_metric_improves_upwards() -> None:
    rule = ReduceOnPlateau(patience=0, factor=0.5, threshold=0.0, monitor="val_metric")
    history = History((1.0,) * 4, (1.0,) * 4, (0.5, 0.6, 0.6, 0.7))
    assert plateau_scale(rule, history) == 0.5


# scikit-learn's learning_rate='adaptive', transcribed ----------------------------------


def sklearn_adaptive(
    losses: list[float], lr: float, tol: float, n_iter_no_change: int
) -> tuple[list[float], int]:
    """The learning rate of each epoch and the epochs run, as ``_fit_stochastic`` with
    ``_update_no_improvement_count`` (training loss) and ``trigger_stopping``."""
    best_loss, count, rates = math.inf, 0, []
    for epoch, loss in enumerate(losses):
        rates.append(lr)
        if loss > best_loss - tol:
            count += 1
        else:
            count = 0
        if loss < best_loss:
            best_loss = loss
        if count > n_iter_no_change:
            if lr <= 1e-6:
                return rates, epoch + 1
            lr /= 5.0
            count = 0
    return rates, len(losses)


def test_the_sklearn_rule_is_scikit_learns_adaptive_rate_and_stop() -> None:
    lr, tol, n = 0.1, 1e-3, 2
    losses = [1.0, 0.9, 0.8995, 0.85, 0.85, 0.86, 0.8495, 0.849, 0.8488] + [0.8488] * 40
    rates, epochs = sklearn_adaptive(losses, lr, tol, n)
    rule = ReduceOnPlateau(
        patience=n,
        factor=0.2,
        threshold=tol,
        threshold_mode="abs",
        min_scale=1e-6 / lr,
        rule="sklearn",
    )
    scales = [plateau_walk(rule, losses[:i]).scale for i in range(len(losses))]
    # lr times a product of factors against lr divided by 5 in turn: one rounding a step
    rtol = both(epochs + 2, np.float64)
    np.testing.assert_allclose([lr * s for s in scales[:epochs]], rates, rtol=rtol)
    stopped = [i + 1 for i in range(len(losses)) if plateau_walk(rule, losses[: i + 1]).exhausted]
    assert epochs < len(losses)
    assert stopped[0] == epochs


# In the run ------------------------------------------------------------------------


def data() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    return X, np.sin(X @ np.array([1.0, -2.0, 0.5]))


SPEC = fcfun.mlp([3, 8, 1], hidden=fcfun.tanh, output=fcfun.identity, loss=fcfun.half_squared_error)
RULE = ReduceOnPlateau(patience=1, factor=0.5, threshold=0.05)


def optimizer() -> fcfun.Optimizer[Any]:
    return fcfun.chain(fcfun.sgd(0.5, momentum=0.9), fcfun.scale_by_plateau())


def scale_of(state: fcfun.TrainState[Any]) -> float:
    scale: float = state.opt_state.states[1].scale
    return scale


def test_the_run_sets_the_scale_from_the_history_after_every_epoch() -> None:
    X, Y = data()
    states = list(
        fcfun.fit_iter(
            SPEC, X, Y, optimizer=optimizer(), epochs=30, batch_size=16, seed=1, plateau=RULE
        )
    )
    scales = [scale_of(state) for state in states]
    assert scales == [plateau_scale(RULE, state.history) for state in states]
    assert min(scales) < 1.0


def test_until_the_first_reduction_the_run_is_the_plain_run_bit_for_bit() -> None:
    X, Y = data()
    run = fcfun.fit_iter(
        SPEC, X, Y, optimizer=optimizer(), epochs=30, batch_size=16, seed=1, plateau=RULE
    )
    plain = fcfun.fit_iter(
        SPEC, X, Y, optimizer=fcfun.sgd(0.5, momentum=0.9), epochs=30, batch_size=16, seed=1
    )
    for state, reference in zip(run, plain, strict=True):
        for layer, expected in zip(state.params, reference.params, strict=True):
            assert np.array_equal(layer.W, expected.W)
            assert np.array_equal(layer.b, expected.b)
        if scale_of(state) != 1.0:
            break
    else:
        pytest.fail("the scale never changed")


def test_a_run_resumed_through_save_and_load_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    X, Y = data()
    settings: dict[str, Any] = {"batch_size": 16, "plateau": RULE}
    whole = fcfun.fit(SPEC, X, Y, optimizer=optimizer(), epochs=30, seed=1, **settings)
    first = fcfun.fit(SPEC, X, Y, optimizer=optimizer(), epochs=12, seed=1, **settings)
    assert scale_of(first) < 1.0  # the checkpoint is taken after a reduction
    fcfun.save(tmp_path / "run.npz", SPEC, first)
    spec, loaded = fcfun.load(tmp_path / "run.npz", optimizer=optimizer())
    resumed = fcfun.fit(spec, X, Y, optimizer=optimizer(), epochs=30, params=loaded, **settings)
    assert resumed.history == whole.history
    assert scale_of(resumed) == scale_of(whole)
    for layer, expected in zip(resumed.params, whole.params, strict=True):
        assert np.array_equal(layer.W, expected.W)
        assert np.array_equal(layer.b, expected.b)


def test_the_sklearn_rule_ends_the_run_once_exhausted() -> None:
    X, Y = data()
    rule = ReduceOnPlateau(
        patience=0, factor=0.2, threshold=1.0, threshold_mode="abs", min_scale=0.01, rule="sklearn"
    )
    state = fcfun.fit(
        SPEC, X, Y, optimizer=optimizer(), epochs=100, batch_size=16, seed=1, plateau=rule
    )
    # threshold 1.0: every epoch after the first is bad; 1 -> 0.2 -> 0.04 -> 0.008, then stop.
    assert state.epoch == 5
    assert scale_of(state) == pytest.approx(0.008, rel=both(3, np.float64))  # 0.2 ** 3


def test_plateau_needs_a_scale_the_run_can_set() -> None:
    X, Y = data()
    with pytest.raises(ValueError, match=r"optimizer must have a learning-rate scale"):
        fcfun.fit(
            SPEC, X, Y, optimizer=fcfun.sgd(0.1), epochs=2, batch_size=16, seed=1, plateau=RULE
        )
    with pytest.raises(ValueError, match=r"plateau.monitor='val_loss' needs validation"):
        fcfun.fit(
            SPEC,
            X,
            Y,
            optimizer=optimizer(),
            epochs=2,
            batch_size=16,
            seed=1,
            plateau=RULE._replace(monitor="val_loss"),
        )


def test_eps_applies_to_the_scale_not_to_the_learning_rate() -> None:
    """Halving from 1 changes the scale by 0.5, 0.25, 0.125, then 0.0625 <= eps = 0.1:
    the scale stays at 0.125 whatever the learning rate (PyTorch compares lr changes)."""
    rule = fcfun.ReduceOnPlateau(patience=0, factor=0.5, threshold=0.0, eps=0.1)
    history = fcfun.History(train_loss=(1.0,) * 8)
    assert fcfun.plateau_scale(rule, history) == 0.125


def test_a_plateau_scale_inside_masked_is_reached() -> None:
    """The scale lives in the state (``set_scale`` walks it), so a ``scale_by_plateau``
    inside ``masked`` is set by the run as one outside it: a mask over every leaf gives
    the same run bit for bit, and the scale was lowered."""
    spec = fcfun.mlp([4, 6, 3], output="softmax", loss="softmax_cross_entropy")
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)
    every_leaf = tuple(fcfun.Leaves(True, True) for _ in range(spec.n_layers))
    inner = fcfun.chain(fcfun.scale_by_learning_rate(2.0), fcfun.scale_by_plateau())
    rule = fcfun.ReduceOnPlateau(patience=0, factor=0.5, monitor="train_loss")
    runs = [
        fcfun.fit(spec, X, y, optimizer=optimizer, epochs=8, batch_size=8, seed=0, plateau=rule)
        for optimizer in (fcfun.masked(inner, every_leaf), inner)
    ]
    masked_run, plain_run = runs
    assert fcfun.fingerprint((masked_run.params, masked_run.history)) == fcfun.fingerprint(
        (plain_run.params, plain_run.history)
    )
    scale = masked_run.opt_state.inner.states[1].scale
    assert scale == plain_run.opt_state.states[1].scale
    assert scale < 1.0  # the rule lowered it, inside the mask
