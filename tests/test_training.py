"""Training: the reduce, mini-batches, replay, resume, early stopping, divergence."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fcfun
from fcfun._network import training_activations, value_and_grad
from tests._bounds import both, network_rtol

SPEC = fcfun.mlp(
    [4, 6, 3], hidden=fcfun.tanh, output=fcfun.softmax, loss=fcfun.softmax_cross_entropy
)


def data(m: int = 50, seed: int = 0) -> tuple[fcfun.FloatArray, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (m, 4))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
    return X, y


def leaves(tree: object) -> list[tuple[str, bytes]]:
    """Every leaf with its type, dtype, shape and bytes: equal lists mean identical trees."""
    if isinstance(tree, np.ndarray):
        return [(f"{tree.dtype}{tree.shape}", tree.tobytes())]
    if isinstance(tree, tuple):
        # A NamedTuple by its class; a tuple (fcfun's layers are a tuple subclass) as one.
        name = type(tree).__name__ if hasattr(tree, "_fields") else "tuple"
        return [(name, b"")] + [x for child in tree for x in leaves(child)]
    return [(repr(tree), b"")]


def test_fit_equals_an_independent_sgd_loop() -> None:
    """A plain loop over epochs and batches, written from the documented order rule."""
    X, y = data(m=23)
    lr, batch_size, epochs, seed = 0.3, 5, 4, 11
    state = fcfun.fit(
        SPEC, X, y, optimizer=fcfun.sgd(lr), epochs=epochs, batch_size=batch_size, seed=seed
    )
    params = fcfun.init(SPEC, seed)
    losses = []
    for epoch in range(epochs):
        order = np.random.default_rng([seed, epoch]).permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            rows = order[start : start + batch_size]
            loss, grads = fcfun.loss_and_grad(SPEC, params, X[rows], y[rows])
            total += loss * len(rows)
            params = tuple(
                fcfun.Dense(p.W - lr * g.W, p.b - lr * g.b)
                for p, g in zip(params, grads, strict=True)
            )
        losses.append(total / len(X))
    assert leaves(state.params) == leaves(params)
    # the same batch losses, their size-weighted mean over 5 batches in another order
    assert state.history.train_loss == pytest.approx(losses, rel=both(5 + 2, np.float64))
    assert state.epoch == epochs


def test_same_arguments_give_bit_identical_states() -> None:
    X, y = data()
    kwargs: dict[str, Any] = {
        "optimizer": fcfun.adam(0.01),
        "epochs": 3,
        "batch_size": 8,
        "seed": 5,
    }
    assert leaves(fcfun.fit(SPEC, X, y, **kwargs)) == leaves(fcfun.fit(SPEC, X, y, **kwargs))
    other = fcfun.fit(SPEC, X, y, **{**kwargs, "seed": 6})
    assert leaves(other) != leaves(fcfun.fit(SPEC, X, y, **kwargs))


def test_train_epoch_is_deterministic_and_pure() -> None:
    X, y = data()
    d = fcfun.dataset(SPEC, X, y)
    opt = fcfun.sgd(0.1, momentum=0.9)
    params = fcfun.init(SPEC, 0)
    state = fcfun.TrainState(params, opt.init(params), 0, 0, fcfun.History())
    before = leaves(state)
    first = fcfun.train_epoch(SPEC, opt, d, state, 0, batch_size=7)
    second = fcfun.train_epoch(SPEC, opt, d, state, 0, batch_size=7)
    assert leaves(first) == leaves(second)
    assert leaves(state) == before


def test_fit_leaves_its_inputs_unchanged() -> None:
    X, y = data()
    X_val, y_val = data(m=10, seed=1)
    params = fcfun.init(SPEC, 3)
    arrays = [X.copy(), y.copy(), X_val.copy(), y_val.copy()]
    before = leaves((params, *arrays))
    fcfun.fit(
        SPEC,
        arrays[0],
        arrays[1],
        optimizer=fcfun.adam(0.01),
        epochs=2,
        batch_size=8,
        seed=1,
        params=params,
        validation=(arrays[2], arrays[3]),
    )
    assert leaves((params, *arrays)) == before
    assert all(a.flags.writeable for a in arrays)


def test_resume_from_a_state_equals_the_uninterrupted_run() -> None:
    X, y = data()
    kwargs: dict[str, Any] = {
        "optimizer": fcfun.adam(0.01),
        "batch_size": 8,
        "validation": data(m=10, seed=2),
    }
    full = fcfun.fit(SPEC, X, y, epochs=6, seed=3, **kwargs)
    part = fcfun.fit(SPEC, X, y, epochs=2, seed=3, **kwargs)
    resumed = fcfun.fit(SPEC, X, y, epochs=6, params=part, **kwargs)
    assert leaves(resumed) == leaves(full)
    with pytest.raises(ValueError, match="seed must be None or the state's seed 3"):
        fcfun.fit(SPEC, X, y, epochs=6, params=part, seed=4, **kwargs)


def test_fit_iter_yields_each_epoch_lazily() -> None:
    X, y = data()
    kwargs: dict[str, Any] = {"optimizer": fcfun.sgd(0.1), "batch_size": 8, "seed": 0}
    states = list(fcfun.fit_iter(SPEC, X, y, epochs=3, **kwargs))
    assert [s.epoch for s in states] == [1, 2, 3]
    for state in states:
        assert leaves(state) == leaves(fcfun.fit(SPEC, X, y, epochs=state.epoch, **kwargs))
    iterator = fcfun.fit_iter(SPEC, X, y, epochs=10**9, **kwargs)  # nothing runs yet
    assert next(iterator).epoch == 1


def test_batches_cover_every_row_once_with_the_short_batch_kept() -> None:
    d = fcfun.Dataset(np.arange(20.0).reshape(10, 2), np.arange(10.0).reshape(10, 1))
    shuffled = fcfun.epoch_data(d, seed=1, epoch=2, shuffle=True)
    chunks = list(fcfun.batches(shuffled, 4))
    assert [len(batch.X) for batch in chunks] == [4, 4, 2]
    rows = np.concatenate([batch.Y[:, 0] for batch in chunks])
    np.testing.assert_array_equal(np.sort(rows), np.arange(10.0))
    np.testing.assert_array_equal(rows, np.random.default_rng([1, 2]).permutation(10))
    assert [len(batch.X) for batch in fcfun.batches(d, 100)] == [10]


def test_step_counts_follow_batch_size() -> None:
    X, y = data(m=10)
    state = fcfun.fit(SPEC, X, y, optimizer=fcfun.adam(0.01), epochs=3, batch_size=4, seed=0)
    assert state.opt_state.states[0].step == 9  # 3 batches (4, 4, 2) per epoch
    full = fcfun.fit(SPEC, X, y, optimizer=fcfun.adam(0.01), epochs=3, batch_size=50, seed=0)
    assert full.opt_state.states[0].step == 3


def test_observers_change_nothing() -> None:
    X, y = data()
    kwargs: dict[str, Any] = {"optimizer": fcfun.sgd(0.1), "epochs": 4, "batch_size": 8, "seed": 0}
    seen: list[int] = []
    wrapped: list[int] = []

    def progress(epochs: Any) -> Any:
        for epoch in epochs:
            wrapped.append(epoch)
            yield epoch

    observed = fcfun.fit(
        SPEC, X, y, callback=lambda s: seen.append(s.epoch), progress=progress, **kwargs
    )
    assert leaves(observed) == leaves(fcfun.fit(SPEC, X, y, **kwargs))
    assert seen == [1, 2, 3, 4]
    assert wrapped == [0, 1, 2, 3]


def test_history_records_validation() -> None:
    X, y = data()
    X_val, y_val = data(m=20, seed=9)
    state = fcfun.fit(
        SPEC,
        X,
        y,
        optimizer=fcfun.adam(0.05),
        epochs=5,
        batch_size=10,
        seed=0,
        validation=(X_val, y_val),
    )
    assert len(state.history.train_loss) == len(state.history.val_loss) == 5
    output = fcfun.predict(SPEC, state.params, X_val)
    assert state.history.val_metric[-1] == np.mean(output.argmax(axis=1) == y_val)
    loss, _ = fcfun.loss_and_grad(SPEC, state.params, X_val, y_val)
    # the validation loss and loss_and_grad's: two computations of one loss
    assert state.history.val_loss[-1] == pytest.approx(loss, rel=network_rtol(SPEC, len(X_val)))


def test_early_stopping_stops_after_patience_and_restores_the_best() -> None:
    X, y = data()
    X_val, y_val = data(m=20, seed=9)
    kwargs: dict[str, Any] = {
        "optimizer": fcfun.adam(0.2),
        "batch_size": 5,
        "seed": 0,
        "validation": (X_val, y_val),
    }
    epochs_run: list[int] = []
    rule = fcfun.EarlyStopping(patience=3, monitor="val_loss")
    stopped = fcfun.fit(
        SPEC,
        X,
        y,
        epochs=200,
        early_stopping=rule,
        callback=lambda s: epochs_run.append(s.epoch),
        **kwargs,
    )
    val_loss = stopped.history.val_loss
    best = int(np.argmin(val_loss))
    assert stopped.epoch < 200
    assert stopped.epoch == best + 1 + 3  # exactly `patience` epochs after the best
    assert epochs_run[-1] == stopped.epoch  # no epoch trained past the stop
    best_state = fcfun.fit(SPEC, X, y, epochs=best + 1, **kwargs)
    assert leaves(stopped.params) == leaves(best_state.params)
    kept = fcfun.fit(
        SPEC, X, y, epochs=200, early_stopping=rule._replace(restore_best=False), **kwargs
    )
    assert leaves(kept.params) == leaves(fcfun.fit(SPEC, X, y, epochs=kept.epoch, **kwargs).params)


def test_early_stopping_needs_what_it_monitors() -> None:
    X, y = data()
    with pytest.raises(ValueError, match="needs validation data"):
        fcfun.fit(
            SPEC,
            X,
            y,
            optimizer=fcfun.sgd(0.1),
            epochs=3,
            batch_size=8,
            seed=0,
            early_stopping=fcfun.EarlyStopping(),
        )


def test_divergence_keeps_the_last_finite_state() -> None:
    X, _y = data()
    spec = fcfun.mlp([4, 6, 1], output=fcfun.identity, loss=fcfun.mean_squared_error)
    target = X @ np.ones(4)
    kwargs: dict[str, Any] = {"optimizer": fcfun.sgd(1e3), "batch_size": len(X), "seed": 0}
    with pytest.raises(fcfun.DivergenceError) as caught:
        fcfun.fit(spec, X, target, epochs=1000, **kwargs)
    error = caught.value
    state = error.state
    assert error.step == 0  # full batch: one step per epoch
    assert all(np.isfinite(p.W).all() and np.isfinite(p.b).all() for p in state.params)
    # The last finite state is the same run stopped one step (here one epoch) earlier.
    earlier = fcfun.fit(spec, X, target, epochs=error.epoch, **kwargs)
    assert fcfun.fingerprint(state) == fcfun.fingerprint(earlier)
    quiet = fcfun.fit(spec, X, target, epochs=1000, on_divergence="stop", **kwargs)
    assert fcfun.fingerprint(quiet) == fcfun.fingerprint(state)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_keeps_the_dtype(dtype: Any) -> None:
    X, y = data()
    state = fcfun.fit(
        SPEC, X, y, optimizer=fcfun.adam(0.01), epochs=2, batch_size=8, seed=0, dtype=dtype
    )
    assert all(p.W.dtype == dtype and p.b.dtype == dtype for p in state.params)
    assert all(not p.W.flags.writeable for p in state.params)


def test_training_reduces_the_loss() -> None:
    X, y = data(m=200)
    state = fcfun.fit(SPEC, X, y, optimizer=fcfun.adam(0.05), epochs=30, batch_size=20, seed=0)
    assert state.history.train_loss[-1] < 0.5 * state.history.train_loss[0]


def test_a_callers_writeable_params_never_come_back_writeable() -> None:
    X, y = data()
    params = tuple(fcfun.Dense(np.array(p.W), np.array(p.b)) for p in fcfun.init(SPEC, 0))
    state = fcfun.fit(
        SPEC, X, y, optimizer=fcfun.sgd(0.1), epochs=0, batch_size=8, seed=0, params=params
    )
    assert all(not p.W.flags.writeable and not p.b.flags.writeable for p in state.params)
    assert all(p.W.flags.writeable for p in params)  # the caller's own arrays keep theirs
    params[0].W[0, 0] += 1.0  # the state holds copies: the caller's writes do not reach it
    assert state.params[0].W[0, 0] != params[0].W[0, 0]
    shuffled = fcfun.epoch_data(fcfun.dataset(SPEC, X, y), seed=0, epoch=0, shuffle=True)
    assert not np.asarray(shuffled.X).flags.writeable
    assert not shuffled.Y.flags.writeable


def test_init_checks_and_freezes_what_an_initializer_returns() -> None:
    def ones(seed: Any, fan_in: int, fan_out: int, dtype: Any = np.float64) -> Any:
        return np.ones((fan_in, fan_out), dtype=dtype)

    params = fcfun.init(SPEC, 0, weights=ones)
    assert all(not p.W.flags.writeable for p in params)

    def square(seed: Any, fan_in: int, fan_out: int, dtype: Any = np.float64) -> Any:
        return np.ones((5, 5), dtype=dtype)

    with pytest.raises(ValueError, match=r"weights must return a float64 array of shape \(4, 6\)"):
        fcfun.init(SPEC, 0, weights=square)


def test_a_pickled_or_copied_spec_trains_like_the_original() -> None:
    import copy
    import pickle

    X, y = data()
    spec = fcfun.mlp(
        [4, 6, 3], hidden=fcfun.leaky_relu(0.2), output="softmax", loss="softmax_cross_entropy"
    )
    kwargs: dict[str, Any] = {
        "optimizer": fcfun.adam(0.01),
        "epochs": 2,
        "batch_size": 8,
        "seed": 0,
    }
    expected = fcfun.fingerprint(fcfun.fit(spec, X, y, **kwargs))
    for again in (pickle.loads(pickle.dumps(spec)), copy.deepcopy(spec)):
        assert again.loss is fcfun.softmax_cross_entropy
        assert again.activations[0] is fcfun.leaky_relu(0.2)
        assert fcfun.fingerprint(fcfun.fit(again, X, y, **kwargs)) == expected


def test_a_schedule_may_return_a_numpy_scalar() -> None:
    X, y = data()

    def lr(step: int) -> Any:
        return np.where(step < 3, 0.1, 0.01)

    scheduled = fcfun.fit(SPEC, X, y, optimizer=fcfun.sgd(lr), epochs=2, batch_size=8, seed=0)
    as_floats = fcfun.fit(
        SPEC,
        X,
        y,
        optimizer=fcfun.sgd(lambda step: 0.1 if step < 3 else 0.01),
        epochs=2,
        batch_size=8,
        seed=0,
    )
    assert fcfun.fingerprint(scheduled) == fcfun.fingerprint(as_floats)


TRAIN_STEP_SPECS = [
    fcfun.mlp(
        [4, 8, 5, 3], hidden=fcfun.relu, output=fcfun.softmax, loss=fcfun.softmax_cross_entropy
    ),
    fcfun.mlp([4, 3], output=fcfun.softmax, loss=fcfun.softmax_cross_entropy),
    fcfun.mlp(
        [4, 6, 5, 2],
        hidden=[fcfun.tanh, fcfun.identity],
        output=fcfun.identity,
        loss=fcfun.mean_squared_error,
    ),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec", TRAIN_STEP_SPECS)
@pytest.mark.parametrize(
    "make",
    [
        lambda: fcfun.sgd(0.2),
        lambda: fcfun.sgd(fcfun.exponential_decay(0.2, gamma=0.5)),
        lambda: fcfun.sgd(0.2, momentum=0.9),
        lambda: fcfun.adam(0.01),
    ],
)
def test_train_step_equals_the_public_calls_it_stands_for(
    dtype: Any, spec: fcfun.MLP, make: Any
) -> None:
    """loss_and_grad, update, apply_updates: the same bits, whichever path runs inside."""
    X, y = data(m=20)
    targets = y if spec.loss is fcfun.softmax_cross_entropy else np.stack([X[:, 0], y], axis=1)
    data_set = fcfun.dataset(spec, X, targets, dtype=dtype)
    optimizer = make()
    params = fcfun.init(spec, 3, dtype=dtype)
    state = fcfun.StepState(params, optimizer.init(params), 0.0, 0, None)
    opt_state, total = optimizer.init(params), 0.0
    for batch in fcfun.batches(data_set, 6):
        state = fcfun.train_step(spec, optimizer, state, batch, alpha=0.1)
        loss, grads = fcfun.loss_and_grad(spec, params, batch.X, batch.Y, alpha=0.1)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = fcfun.apply_updates(params, updates)
        total += loss * len(batch[0])
    assert leaves((state.params, state.opt_state)) == leaves((params, opt_state))
    assert state.loss_sum == total
    assert state.step == 4
    assert all(not a.flags.writeable for layer in state.params for a in layer)


def test_train_step_keeps_the_params_dtype_for_a_batch_of_another_dtype() -> None:
    """train_step checks nothing (the public loss_and_grad would cast the batch), but the
    params keep their dtype and equal the unfused update of the same raw gradients."""
    spec = TRAIN_STEP_SPECS[0]
    X, y = data(m=6)
    for params_dtype, batch_dtype in ((np.float64, np.float32), (np.float32, np.float64)):
        data_set = fcfun.dataset(spec, X, y, dtype=batch_dtype)
        batch = (np.asarray(data_set.X), data_set.Y)
        params = fcfun.init(spec, 3, dtype=params_dtype)
        optimizer = fcfun.sgd(0.2)
        state = fcfun.StepState(params, optimizer.init(params), 0.0, 0, None)
        state = fcfun.train_step(spec, optimizer, state, batch)
        _, grads = value_and_grad(spec, training_activations(spec), params, *batch)
        updates, _ = optimizer.update(grads, optimizer.init(params), params)
        assert leaves(state.params) == leaves(fcfun.apply_updates(params, updates))
        assert all(a.dtype == params_dtype for layer in state.params for a in layer)


def test_train_step_reports_a_divergence_with_the_last_finite_state() -> None:
    spec = fcfun.mlp([2, 1], output="identity", loss="half_squared_error")
    params = fcfun.init(spec, 0)
    optimizer = fcfun.sgd(0.1)
    state = fcfun.StepState(params, optimizer.init(params), 0.0, 0, None, 5, 3)
    huge = (np.array([[1e200, 1e200]]), np.array([[1.0]]))
    with pytest.raises(fcfun.DivergenceError, match="epoch 3, step 0: an overflow") as caught:
        fcfun.train_step(spec, optimizer, state, huge)
    assert caught.value.state.seed == 5
    assert caught.value.state.epoch == 3
    assert all(
        np.array_equal(a.W, b.W) for a, b in zip(caught.value.state.params, params, strict=True)
    )
