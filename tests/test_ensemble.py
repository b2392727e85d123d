"""Ensembles in one pass: member ``i`` of ``fit_ensemble`` is ``fit`` with its seed.

The reference is the single-network ``fit`` (its own tests check it against finite
differences, scikit-learn and PyTorch's documented rules); the claim tested here is
equality to the bit: parameters, optimizer state and per-epoch training losses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fcfun
from fcfun._ensemble import stacked_optimizer
from tests._bounds import ACTIVATION_ULPS, both

RNG = np.random.default_rng(5)
X = RNG.normal(size=(61, 5))
LABELS = RNG.integers(0, 3, 61)
TARGETS = RNG.normal(size=(61, 2))
BINARY = (X[:, 0] + X[:, 1] > 0).astype(float)

CE = fcfun.mlp([5, 12, 3], output="softmax", loss="softmax_cross_entropy")
BCE = fcfun.mlp([5, 6, 4, 1], hidden="tanh", output="sigmoid", loss="binary_cross_entropy")
MSE = fcfun.mlp([5, 8, 2], hidden="sigmoid", output="identity", loss="mean_squared_error")
SOFTMAX_MSE = fcfun.mlp([5, 7, 3], output="softmax", loss="mean_squared_error")  # not fused

CASES: dict[str, tuple[fcfun.MLP, Any]] = {
    "softmax cross-entropy": (CE, LABELS),
    "binary cross-entropy": (BCE, BINARY),
    "mean squared error": (MSE, TARGETS),
    "softmax output, squared error": (SOFTMAX_MSE, np.eye(3)[LABELS]),
}


def scaled_by_two() -> fcfun.Optimizer[fcfun.EmptyState]:
    """A user's optimizer with only ``update`` (no donated kernel, not elementwise)."""

    def init(params: fcfun.Params) -> fcfun.EmptyState:
        return fcfun.EmptyState()

    def update(
        grads: fcfun.Params, state: fcfun.EmptyState, params: fcfun.Params
    ) -> tuple[fcfun.Params, fcfun.EmptyState]:
        return tuple(fcfun.Dense(-0.05 * g.W, -0.05 * g.b) for g in grads), state

    return fcfun.Optimizer(init, update)


OPTIMIZERS: dict[str, fcfun.Optimizer[Any]] = {
    "sgd with nesterov momentum": fcfun.sgd(0.05, momentum=0.9, nesterov=True),
    "adam": fcfun.adam(1e-2),
    "adamw": fcfun.adamw(1e-2, weight_decay=0.1),
    "rmsprop": fcfun.rmsprop(1e-3),
    "adagrad": fcfun.adagrad(0.05),
    "scheduled sgd": fcfun.sgd(fcfun.step_decay(0.1, 3, 0.5)),
    "clip by global norm (member by member)": fcfun.chain(
        fcfun.clip_by_global_norm(0.3), fcfun.sgd(0.1)
    ),
    "a user's optimizer (member by member)": scaled_by_two(),
    "adam with decay on the weights only (masked)": fcfun.chain(
        fcfun.scale_by_adam(),
        fcfun.masked(fcfun.add_decayed_weights(0.1), fcfun.weights_only(MSE)),
        fcfun.scale_by_learning_rate(1e-2),
    ),
    "a frozen first layer (multi_transform)": fcfun.multi_transform(
        {"frozen": fcfun.set_to_zero(), "train": fcfun.adam(1e-2)},
        fcfun.layer_labels("frozen", "train"),
    ),
    "a global norm on one layer (multi_transform, member by member)": fcfun.multi_transform(
        {
            "clipped": fcfun.chain(fcfun.clip_by_global_norm(0.3), fcfun.sgd(0.1)),
            "plain": fcfun.sgd(0.1),
        },
        fcfun.layer_labels("clipped", "plain"),
    ),
}

SEEDS = (3, 11, 3, 2024)  # a repeated seed gives two equal members


def assert_members_equal_fits(
    ensemble: fcfun.Ensemble[Any],
    spec: fcfun.MLP,
    X_fit: Any,
    Y_fit: Any,
    optimizer: fcfun.Optimizer[Any],
    *,
    epochs: int,
    batch_size: int,
    alpha: float = 0.0,
    shuffle: bool = True,
) -> None:
    for i, seed in enumerate(ensemble.seeds):
        alone = fcfun.fit(
            spec,
            X_fit,
            Y_fit,
            optimizer=optimizer,
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            alpha=alpha,
            shuffle=shuffle,
        )
        assert fcfun.fingerprint(fcfun.member(ensemble, i)) == fcfun.fingerprint(alone.params)
        assert ensemble.train_loss[i] == alone.history.train_loss
        assert ensemble.epoch == alone.epoch


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
def test_each_member_equals_the_single_fit_of_its_seed(case: str, dtype: type[Any]) -> None:
    spec, Y = CASES[case]
    optimizer = fcfun.adam(1e-2)
    config = fcfun.TrainConfig(spec, optimizer, batch_size=8)
    ensemble = fcfun.fit_ensemble(config, X.astype(dtype), Y, seeds=SEEDS, epochs=3)
    assert ensemble.params[0].W.dtype == dtype
    assert_members_equal_fits(ensemble, spec, X.astype(dtype), Y, optimizer, epochs=3, batch_size=8)


@pytest.mark.parametrize("name", OPTIMIZERS, ids=str)
def test_every_optimizer_gives_each_member_its_own_run(name: str) -> None:
    optimizer = OPTIMIZERS[name]
    config = fcfun.TrainConfig(MSE, optimizer, batch_size=16, alpha=1e-2)
    ensemble = fcfun.fit_ensemble(config, X, TARGETS, seeds=SEEDS, epochs=3)
    assert_members_equal_fits(
        ensemble, MSE, X, TARGETS, optimizer, epochs=3, batch_size=16, alpha=1e-2
    )


@pytest.mark.parametrize(
    ("batch_size", "shuffle"), [(1, True), (7, False), (61, True), (500, True)], ids=str
)
def test_batch_sizes_and_storage_order(batch_size: int, shuffle: bool) -> None:
    optimizer = fcfun.sgd(0.1, momentum=0.5)
    config = fcfun.TrainConfig(CE, optimizer, batch_size, alpha=1e-3, shuffle=shuffle)
    ensemble = fcfun.fit_ensemble(config, X, LABELS, seeds=(0, 1), epochs=2)
    assert_members_equal_fits(
        ensemble,
        CE,
        X,
        LABELS,
        optimizer,
        epochs=2,
        batch_size=batch_size,
        alpha=1e-3,
        shuffle=shuffle,
    )


DROPOUT_CASES: dict[str, tuple[fcfun.MLP, Any]] = {
    "softmax, one rate": (
        fcfun.mlp([5, 12, 3], output="softmax", loss="softmax_cross_entropy", dropout=0.3),
        LABELS,
    ),
    "sigmoid, a rate per layer, one of them 0": (
        fcfun.mlp(
            [5, 6, 4, 1],
            hidden="tanh",
            output="sigmoid",
            loss="binary_cross_entropy",
            dropout=(0.5, 0.0),
        ),
        BINARY,
    ),
    "identity, two rates": (
        fcfun.mlp([5, 6, 4, 2], output="identity", loss=fcfun.huber(1.0), dropout=(0.2, 0.4)),
        TARGETS,
    ),
}


@pytest.mark.parametrize("case", DROPOUT_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
def test_with_dropout_each_member_draws_the_masks_of_its_own_fit(
    case: str, dtype: type[Any]
) -> None:
    spec, Y = DROPOUT_CASES[case]
    optimizer = fcfun.adam(1e-2)
    config = fcfun.TrainConfig(spec, optimizer, batch_size=8, alpha=1e-3)
    ensemble = fcfun.fit_ensemble(config, X.astype(dtype), Y, seeds=SEEDS, epochs=3)
    assert_members_equal_fits(
        ensemble, spec, X.astype(dtype), Y, optimizer, epochs=3, batch_size=8, alpha=1e-3
    )
    no_dropout = fcfun.fit_ensemble(
        config._replace(spec=spec._replace(dropout=())), X.astype(dtype), Y, seeds=SEEDS, epochs=3
    )
    assert ensemble.train_loss != no_dropout.train_loss  # the masks took part


def test_with_dropout_members_by_member_and_resumed_runs_equal_their_fits() -> None:
    spec = fcfun.mlp([5, 12, 3], output="softmax", loss="softmax_cross_entropy", dropout=0.5)
    optimizer = fcfun.chain(fcfun.clip_by_global_norm(0.5), fcfun.sgd(0.1, momentum=0.9))
    config = fcfun.TrainConfig(spec, optimizer, batch_size=16)
    whole = fcfun.fit_ensemble(config, X, LABELS, seeds=(7, 8), epochs=4)
    assert_members_equal_fits(whole, spec, X, LABELS, optimizer, epochs=4, batch_size=16)
    half = fcfun.fit_ensemble(config, X, LABELS, seeds=(7, 8), epochs=2)
    resumed = fcfun.fit_ensemble(config, X, LABELS, params=half, epochs=4)
    assert fcfun.fingerprint(resumed) == fcfun.fingerprint(whole)


def test_a_stacked_optimizer_state_holds_each_members_state() -> None:
    optimizer = fcfun.adam(1e-2)
    config = fcfun.TrainConfig(CE, optimizer, batch_size=8)
    ensemble = fcfun.fit_ensemble(config, X, LABELS, seeds=(4, 5), epochs=2)
    for i, seed in enumerate((4, 5)):
        alone = fcfun.fit(CE, X, LABELS, optimizer=optimizer, epochs=2, batch_size=8, seed=seed)
        stacked_adam = ensemble.opt_state.states[0]
        single_adam = alone.opt_state.states[0]
        assert stacked_adam.step == single_adam.step
        for moments, single in (
            (stacked_adam.mu, single_adam.mu),
            (stacked_adam.nu, single_adam.nu),
        ):
            assert moments.shape[0] == 2  # (k, P): one vector per member
            assert fcfun.fingerprint(moments[i]) == fcfun.fingerprint(single)


def test_continuing_an_ensemble_equals_the_uninterrupted_run() -> None:
    config = fcfun.TrainConfig(BCE, fcfun.adam(1e-2), batch_size=8)
    whole = fcfun.fit_ensemble(config, X, BINARY, seeds=SEEDS, epochs=4)
    half = fcfun.fit_ensemble(config, X, BINARY, seeds=SEEDS, epochs=2)
    resumed = fcfun.fit_ensemble(config, X, BINARY, params=half, epochs=4)
    assert fcfun.fingerprint(resumed) == fcfun.fingerprint(whole)


def test_predict_ensemble_gives_each_members_predict_and_their_mean() -> None:
    config = fcfun.TrainConfig(CE, fcfun.sgd(0.1), batch_size=8)
    ensemble = fcfun.fit_ensemble(config, X, LABELS, seeds=SEEDS, epochs=2)
    each = fcfun.predict_ensemble(CE, ensemble, X, average=False)
    assert each.shape == (4, 61, 3)
    singles_params = [fcfun.member(ensemble, i) for i in range(4)]
    singles = [fcfun.predict(CE, params, X) for params in singles_params]
    for i in range(4):
        assert np.array_equal(each[i], singles[i])
    mean = fcfun.predict_ensemble(CE, ensemble, X)
    # a mean of 4 in another order: 4 roundings of terms at most 1 (probabilities)
    np.testing.assert_allclose(mean, sum(singles) / 4, rtol=0, atol=both(4, np.float64))
    # probabilities: each member's softmax sums to 1 within its 3 outputs' and ulps'
    # rounding, the mean adds 4 more
    np.testing.assert_allclose(
        mean.sum(axis=1), 1.0, rtol=both(3 + ACTIVATION_ULPS + 4, np.float64)
    )
    chunked = fcfun.predict_ensemble(CE, ensemble.params, X, average=False, chunk_size=5)
    for i in range(4):  # BLAS's bits depend on a product's rows, so chunk as predict does
        assert np.array_equal(chunked[i], fcfun.predict(CE, singles_params[i], X, chunk_size=5))
    assert not mean.flags.writeable
    assert not each.flags.writeable


def test_member_seeds_follow_the_documented_rule() -> None:
    seeds = fcfun.member_seeds(42, 5)
    rule = [
        int(np.random.SeedSequence(42, spawn_key=(0x656E73, i)).generate_state(1)[0])
        for i in range(5)
    ]
    assert list(seeds) == rule
    assert len(set(seeds)) == 5
    assert fcfun.member_seeds(42, 3) == seeds[:3]


def test_fcfuns_optimizers_step_stacked_members_at_once() -> None:
    """Every built-in has a flat update (reductions over each member's vector), so an
    ensemble steps its ``(k, P)`` stack at once; a user's optimizer of layers goes member
    by member (``test_every_optimizer_gives_each_member_its_own_run`` checks the bits)."""
    spec = fcfun.mlp([3, 4, 2], output="softmax", loss="softmax_cross_entropy")
    labels = fcfun.layer_labels("a", "b")
    for optimizer in (
        fcfun.sgd(0.1),
        fcfun.adam(),
        fcfun.adamw(),
        fcfun.rmsprop(),
        fcfun.adagrad(),
        fcfun.clip_by_global_norm(1.0),
        fcfun.chain(fcfun.clip_by_global_norm(1.0), fcfun.sgd(0.1)),
        fcfun.masked(fcfun.clip_by_global_norm(1.0), fcfun.weights_only(spec)),
        fcfun.set_to_zero(),
        fcfun.multi_transform({"a": fcfun.sgd(0.1), "b": fcfun.clip_by_global_norm(1.0)}, labels),
    ):
        assert stacked_optimizer(optimizer, 3) is optimizer
    user = scaled_by_two()
    assert user.update_flat is None
    assert stacked_optimizer(user, 3) is not user


def test_the_layers_on_stacked_members_give_each_members_bits() -> None:
    members = [fcfun.init(CE, seed) for seed in range(3)]
    stacked = fcfun.stack_params(members)
    X_stacked = RNG.normal(size=(3, 9, 5))
    dA = RNG.normal(size=(3, 9, 12))
    A, cache = fcfun.dense_forward(stacked[0], fcfun.relu, X_stacked)
    dX, grad = fcfun.dense_backward(stacked[0], fcfun.relu, cache, dA, decay=0.1)
    assert dX is not None
    for i, params in enumerate(members):
        A_i, cache_i = fcfun.dense_forward(params[0], fcfun.relu, X_stacked[i])
        dX_i, grad_i = fcfun.dense_backward(params[0], fcfun.relu, cache_i, dA[i], decay=0.1)
        assert np.array_equal(A[i], A_i)
        assert dX_i is not None
        assert np.array_equal(dX[i], dX_i)
        assert np.array_equal(grad.W[i], grad_i.W)
        assert np.array_equal(grad.b[i, 0], grad_i.b)


def test_inputs_are_not_written_and_results_are_read_only() -> None:
    X_copy, labels_copy = X.copy(), LABELS.copy()
    config = fcfun.TrainConfig(CE, fcfun.adam(1e-2), batch_size=8)
    ensemble = fcfun.fit_ensemble(config, X_copy, labels_copy, seeds=(1, 2), epochs=1)
    assert np.array_equal(X_copy, X)
    assert np.array_equal(labels_copy, LABELS)
    assert all(not a.flags.writeable for layer in ensemble.params for a in layer)
    assert all(not a.flags.writeable for layer in fcfun.member(ensemble, 1) for a in layer)


def test_a_diverging_member_is_named() -> None:
    config = fcfun.TrainConfig(MSE, fcfun.sgd(1e30), batch_size=8)
    with pytest.raises(FloatingPointError, match=r"member \d+ \(seed \d+\)"):
        fcfun.fit_ensemble(config, X * 1e10, TARGETS, seeds=(1, 2), epochs=3)
