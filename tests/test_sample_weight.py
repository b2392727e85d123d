"""Sample weights: the weighted loss sum_i s_i l_i / sum_i s_i through the whole stack."""

from __future__ import annotations

import concurrent.futures as cf
import math
from typing import Any

import numpy as np
import pytest

import fcfun
from fcfun import distributed
from tests._bounds import assert_network_close, gradcheck_tolerance, network_rtol, steps

RNG = np.random.default_rng(11)
X = RNG.standard_normal((30, 4))
LABELS = RNG.integers(0, 3, 30)
TARGETS = RNG.standard_normal((30, 2))
COUNTS = RNG.integers(1, 4, 30)  # integer weights: a weight k is the row repeated k times

SPECS = {
    "softmax_cross_entropy": (
        fcfun.mlp([4, 6, 3], hidden="tanh", output="softmax", loss="softmax_cross_entropy"),
        LABELS,
    ),
    "binary_cross_entropy": (
        fcfun.mlp([4, 6, 1], hidden="tanh", output="sigmoid", loss="binary_cross_entropy"),
        LABELS > 0,
    ),
    "binary_cross_entropy (unfused)": (
        fcfun.mlp([4, 6, 1], hidden="tanh", output="tanh", loss="binary_cross_entropy"),
        LABELS > 0,
    ),
    "binary_cross_entropy_with_logits": (
        fcfun.mlp(
            [4, 6, 1], hidden="tanh", output="identity", loss="binary_cross_entropy_with_logits"
        ),
        LABELS > 0,
    ),
    "half_squared_error": (
        fcfun.mlp([4, 6, 2], hidden="tanh", output="identity", loss="half_squared_error"),
        TARGETS,
    ),
    "mean_squared_error": (
        fcfun.mlp([4, 6, 2], hidden="tanh", output="identity", loss="mean_squared_error"),
        TARGETS,
    ),
    "mean_absolute_error": (
        fcfun.mlp([4, 6, 2], hidden="tanh", output="identity", loss="mean_absolute_error"),
        TARGETS,
    ),
    "huber": (
        fcfun.mlp([4, 6, 2], hidden="tanh", output="identity", loss=fcfun.huber(0.3)),
        TARGETS,
    ),
    "quantile": (
        fcfun.mlp([4, 6, 3], hidden="tanh", output="identity", loss=fcfun.quantile(0.1, 0.5, 0.9)),
        TARGETS[:, 0],
    ),
    "quantile (sorted heads)": (
        fcfun.mlp([4, 6, 3], hidden="tanh", output="sort", loss=fcfun.quantile(0.1, 0.5, 0.9)),
        TARGETS[:, 0],
    ),
    "poisson": (
        fcfun.mlp([4, 6, 2], hidden="tanh", output="exp", loss="poisson"),
        np.round(np.abs(3 * TARGETS)),
    ),
    "poisson (unfused)": (
        fcfun.mlp([4, 6, 2], hidden="tanh", output="softplus", loss="poisson"),
        np.round(np.abs(3 * TARGETS)),
    ),
}


def _repeated(values: Any) -> Any:
    return np.repeat(np.asarray(values), COUNTS, axis=0)


@pytest.mark.parametrize("name", SPECS)
def test_an_integer_weight_is_the_row_repeated(name: str) -> None:
    """Weight k equals k copies of the row: loss and gradient, penalty included."""
    spec, Y = SPECS[name]
    params = fcfun.init(spec, 0)
    weighted, grads = fcfun.loss_and_grad(spec, params, X, Y, alpha=0.1, sample_weight=COUNTS)
    repeated, expected = fcfun.loss_and_grad(spec, params, _repeated(X), _repeated(Y), alpha=0.1)
    rtol = network_rtol(spec, int(COUNTS.sum()))  # two sums over the repeated rows' terms
    assert weighted == pytest.approx(repeated, rel=rtol)
    for g, e in zip(grads, expected, strict=True):
        assert_network_close(g.W, e.W, rtol)
        assert_network_close(g.b, e.b, rtol)


@pytest.mark.parametrize("name", SPECS)
def test_weighted_gradients_pass_the_gradient_check(name: str) -> None:
    spec, Y = SPECS[name]
    weight = RNG.uniform(0.0, 3.0, 30)
    # a kink (relu, |r|, the pinball loss) within 2 eps of a residual spoils any
    # finite-difference check; tanh hidden units and these data keep clear of them
    assert (
        fcfun.gradcheck(spec, fcfun.init(spec, 1), X, Y, alpha=0.05, sample_weight=weight)
        < gradcheck_tolerance()
    )


def test_the_weighted_loss_by_hand() -> None:
    """sum_i s_i l_i / sum_i s_i + alpha / (2 sum_i s_i) sum ||W||^2, written out."""
    spec, targets = SPECS["half_squared_error"]
    Y = np.asarray(targets, dtype=np.float64)
    params = fcfun.init(spec, 2)
    weight = RNG.uniform(0.1, 2.0, 30)
    (W1, b1), (W2, b2) = params
    out = np.tanh(X @ W1 + b1) @ W2 + b2
    per_row = 0.5 * ((out - Y) ** 2).sum(axis=1)
    total = weight.sum()
    expected = (weight @ per_row) / total + 0.2 / (2 * total) * ((W1**2).sum() + (W2**2).sum())
    loss, _ = fcfun.loss_and_grad(spec, params, X, Y, alpha=0.2, sample_weight=weight)
    assert loss == pytest.approx(expected, rel=network_rtol(spec, 30))


def test_equal_weights_are_no_weights_to_rounding() -> None:
    spec, Y = SPECS["softmax_cross_entropy"]
    settings: dict[str, Any] = {"optimizer": fcfun.adam(1e-2), "epochs": 3, "batch_size": 7}
    plain = fcfun.fit(spec, X, Y, seed=0, alpha=1e-3, **settings)
    weighted = fcfun.fit(spec, X, Y, seed=0, alpha=1e-3, sample_weight=np.ones(30), **settings)
    # 15 Adam steps (3 epochs of 5 batches), each's gradient within network_rtol
    rtol = steps(15, network_rtol(spec, 7))
    for a, b in zip(plain.params, weighted.params, strict=True):
        assert_network_close(a.W, b.W, rtol)
    np.testing.assert_allclose(plain.history.train_loss, weighted.history.train_loss, rtol=rtol)


def test_a_full_batch_weighted_fit_is_the_fit_on_repeated_rows() -> None:
    spec, Y = SPECS["half_squared_error"]
    settings: dict[str, Any] = {
        "optimizer": fcfun.sgd(0.05, momentum=0.9),
        "epochs": 5,
        "batch_size": 1000,
        "shuffle": False,
        "seed": 3,
        "alpha": 0.01,
    }
    weighted = fcfun.fit(spec, X, Y, sample_weight=COUNTS, **settings)
    repeated = fcfun.fit(spec, _repeated(X), _repeated(Y), **settings)
    # 5 full-batch steps; momentum 0.9 carries each step's difference into the next ones,
    # at most 1 / (1 - 0.9) = 10 times in all.
    rtol = steps(5, 10 * network_rtol(spec, int(COUNTS.sum())))
    for a, b in zip(weighted.params, repeated.params, strict=True):
        assert_network_close(a.W, b.W, rtol)
    np.testing.assert_allclose(weighted.history.train_loss, repeated.history.train_loss, rtol=rtol)


@pytest.mark.parametrize("streamed", [False, True])
def test_weights_travel_with_their_rows(tmp_path: Any, streamed: bool) -> None:
    """Every batch of every epoch order holds its rows' own weights."""
    spec = fcfun.mlp([2, 1], output="identity", loss="half_squared_error")
    index = np.arange(50.0)
    X_rows = np.column_stack([index, -index])
    if streamed:
        path = tmp_path / "X.npy"
        np.save(path, X_rows)
        X_rows = np.load(path, mmap_mode="r")
    data = fcfun.dataset(spec, X_rows, index, sample_weight=index + 1.0)
    for epoch in range(3):
        ordered = fcfun.epoch_data(data, seed=5, epoch=epoch, shuffle=True)
        for batch in fcfun.batches(ordered, 7):
            X_batch, Y_batch, weight = batch
            assert weight is not None
            assert np.array_equal(weight, X_batch[:, 0] + 1.0)
            assert np.array_equal(Y_batch[:, 0], X_batch[:, 0])


def test_a_weighted_mini_batch_step_uses_each_batchs_own_weights() -> None:
    """Two batches, no shuffle, plain SGD: each step is the batch's weighted gradient."""
    spec, Y = SPECS["softmax_cross_entropy"]
    weight = RNG.uniform(0.5, 2.0, 30)
    state = fcfun.fit(
        spec, X, Y, optimizer=fcfun.sgd(0.1), epochs=1, batch_size=15, seed=4, shuffle=False,
        sample_weight=weight, alpha=0.01,
    )  # fmt: skip
    params = fcfun.init(spec, 4)
    losses = []
    for rows in (slice(0, 15), slice(15, 30)):
        loss, grads = fcfun.loss_and_grad(
            spec, params, X[rows], Y[rows], alpha=0.01, sample_weight=weight[rows]
        )
        params = tuple(
            fcfun.Dense(p.W - 0.1 * g.W, p.b - 0.1 * g.b)
            for p, g in zip(params, grads, strict=True)
        )
        losses.append(loss * weight[rows].sum())
    rtol = steps(2, network_rtol(spec, 15))  # two steps, each one batch's gradient
    for a, b in zip(state.params, params, strict=True):
        assert_network_close(a.W, b.W, rtol)
    assert state.history.train_loss[0] == pytest.approx(sum(losses) / weight.sum(), rel=rtol)


def test_zero_weights_ignore_their_rows() -> None:
    spec, Y = SPECS["half_squared_error"]
    params = fcfun.init(spec, 0)
    weight = np.where(np.arange(30) < 20, 1.0, 0.0)
    garbage = Y.copy()
    garbage[20:] = 1e6
    loss, grads = fcfun.loss_and_grad(spec, params, X, garbage, sample_weight=weight)
    kept, expected = fcfun.loss_and_grad(spec, params, X[:20], Y[:20])
    assert loss == pytest.approx(kept, rel=network_rtol(spec, 30))
    assert_network_close(grads[0].W, expected[0].W, network_rtol(spec, 30))


def test_fit_sharded_with_weights_equals_fit() -> None:
    spec, Y = SPECS["softmax_cross_entropy"]
    weight = RNG.uniform(0.5, 2.0, 30)
    settings: dict[str, Any] = {
        "optimizer": fcfun.adam(1e-2),
        "epochs": 3,
        "seed": 2,
        "alpha": 0.01,
    }
    alone = fcfun.fit(spec, X, Y, batch_size=30, shuffle=False, sample_weight=weight, **settings)
    with cf.ThreadPoolExecutor(2) as pool:
        one = distributed.fit_sharded(
            spec, X, Y, executor=pool, n_shards=1, sample_weight=weight, **settings
        )
        three = distributed.fit_sharded(
            spec, X, Y, executor=pool, n_shards=[7, 13, 10], sample_weight=weight, **settings
        )
    for a, b, c in zip(one.params, three.params, alone.params, strict=True):
        assert np.array_equal(a.W, c.W)
        # 3 full-batch Adam steps, the shards' sums in another order
        assert_network_close(b.W, c.W, steps(3, network_rtol(spec, 30)))
    assert one.history.train_loss == alone.history.train_loss


# Bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "text"),
    [
        (np.r_[1.0, -1.0, np.ones(28)], "sample_weight must be non-negative, got -1.0 at index 1"),
        (np.r_[np.nan, np.ones(29)], "sample_weight must be finite"),
        (np.zeros(30), "sample_weight must have a positive sum, got all 30 weights zero"),
        (np.ones(29), r"sample_weight must have shape \(30,\)"),
    ],
)
def test_bad_weights_are_refused(weight: Any, text: str) -> None:
    spec, Y = SPECS["softmax_cross_entropy"]
    with pytest.raises(ValueError, match=text):
        fcfun.fit(spec, X, Y, optimizer=fcfun.sgd(0.1), epochs=1, batch_size=8, seed=0,
                  sample_weight=weight)  # fmt: skip


def test_a_loss_without_per_sample_values_cannot_be_weighted() -> None:
    own = fcfun.Loss("own", fcfun.mean_squared_error.value, fcfun.mean_squared_error.grad, None,
                     fcfun.mean_squared_error.value)  # fmt: skip
    spec = fcfun.mlp([4, 2], output="identity", loss=own)
    with pytest.raises(ValueError, match=r"sample_weight needs a loss with per-sample values"):
        fcfun.loss_and_grad(spec, fcfun.init(spec, 0), X, TARGETS, sample_weight=np.ones(30))
    assert math.isfinite(fcfun.loss_and_grad(spec, fcfun.init(spec, 0), X, TARGETS)[0])


def test_a_batch_that_weighs_nothing_changes_nothing() -> None:
    """Weights 0 0 | 1 1 | ... in batches of 2: the first step updates nothing, and the run
    equals the one that starts from the second batch's rows."""
    spec, Y = SPECS["half_squared_error"]
    weight = np.r_[0.0, 0.0, np.ones(28)]
    settings: dict[str, Any] = {"epochs": 1, "batch_size": 2, "shuffle": False, "seed": 0}
    weighted = fcfun.fit(spec, X, Y, optimizer=fcfun.sgd(0.1), sample_weight=weight, **settings)
    rest = fcfun.fit(spec, X[2:], Y[2:], optimizer=fcfun.sgd(0.1), **settings)
    rtol = steps(14, network_rtol(spec, 2))  # 14 steps of two rows each
    for a, b in zip(weighted.params, rest.params, strict=True):
        assert_network_close(a.W, b.W, rtol)
    assert weighted.history.train_loss[0] == pytest.approx(rest.history.train_loss[0], rel=rtol)
