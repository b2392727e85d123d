"""No silent numerics and the defects found with odd inputs, each pinned by a test.

An optimizer state that leaves its dtype's range stops the run as a DivergenceError with
the last finite state (it used to stall quietly); validation that overflows is an error,
not a recorded inf; and the inputs that used to fail deep inside get clear errors.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import pathlib
from typing import Any

import numpy as np
import pytest

import fcfun

SPEC = fcfun.mlp([2, 3, 1], output="identity", loss="half_squared_error")


def _data(scale: float = 1.0) -> tuple[fcfun.FloatArray, fcfun.FloatArray]:
    rng = np.random.default_rng(0)
    X = scale * rng.normal(size=(16, 2))
    return X, rng.normal(size=16)


def test_an_optimizer_state_that_overflows_stops_the_run_with_the_last_finite_state() -> None:
    """Adam's second moment of huge (finite) gradients: g * g leaves float64's range."""
    X, y = _data(1e80)  # a finite loss (~1e160), but squared gradients beyond 1e308
    arguments: dict[str, Any] = {"optimizer": fcfun.adam(0.1), "batch_size": 4, "seed": 0}
    with pytest.raises(fcfun.DivergenceError, match=r"overflow .* optimizer update") as caught:
        fcfun.fit(SPEC, X, y, epochs=3, **arguments)
    error = caught.value
    assert (error.epoch, error.step) == (0, 0)
    flat = [leaf for _, leaf in fcfun.flatten(error.state) if isinstance(leaf, np.ndarray)]
    assert all(np.isfinite(array).all() for array in flat)
    stopped = fcfun.fit(SPEC, X, y, epochs=3, on_divergence="stop", **arguments)
    assert fcfun.fingerprint(stopped) == fcfun.fingerprint(error.state)


def test_a_state_that_is_not_finite_is_not_saved(tmp_path: pathlib.Path) -> None:
    X, y = _data()
    state = fcfun.fit(SPEC, X, y, optimizer=fcfun.adam(0.1), epochs=1, batch_size=4, seed=0)
    adam_state = state.opt_state.states[0]
    infinite = np.full_like(adam_state.nu, np.inf)  # the second moments' vector
    bad = state._replace(
        opt_state=state.opt_state._replace(states=(adam_state._replace(nu=infinite),))
        if len(state.opt_state.states) == 1
        else state.opt_state._replace(
            states=(adam_state._replace(nu=infinite), *state.opt_state.states[1:])
        )
    )
    with pytest.raises(ValueError, match=r"state\.opt_state\.states\[0\]\.nu must be finite"):
        fcfun.save(tmp_path / "run.npz", SPEC, bad)
    assert list(tmp_path.iterdir()) == []


def test_validation_that_overflows_is_a_divergence_not_an_infinite_record() -> None:
    """The epoch's params are finite, their validation loss is not: a DivergenceError
    whose state is that finished epoch (its validation scores nan), not a data error."""
    X, y = _data()
    huge = (np.full((3, 2), 1e200), np.ones(3))
    arguments: dict[str, Any] = {"optimizer": fcfun.sgd(0.01), "batch_size": 4, "seed": 0}
    with pytest.raises(fcfun.DivergenceError) as caught:
        fcfun.fit(SPEC, X, y, epochs=2, validation=huge, **arguments)
    message = str(caught.value)
    assert "training diverged in epoch 0" in message
    assert "validation loss is not finite" in message
    assert "last finite state is in .state" in message
    assert "X" not in message
    state = caught.value.state
    alone = fcfun.fit(SPEC, X, y, epochs=1, **arguments)
    assert state.epoch == 1
    for got, want in zip(state.params, alone.params, strict=True):  # the epoch it trained
        np.testing.assert_array_equal(got.W, want.W)
    assert state.history.train_loss == alone.history.train_loss
    assert np.isnan(state.history.val_loss).all()
    assert np.isnan(state.history.val_metric).all()


def test_seeds_must_fit_in_int64() -> None:
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*63\)"):
        fcfun.init(SPEC, 2**63)
    assert fcfun.init(SPEC, 2**63 - 1)[0].W.shape == (2, 3)


def test_leaky_relu_is_one_object_per_slope_from_any_thread() -> None:
    assert fcfun.leaky_relu(-0.0) is fcfun.leaky_relu(0.0)
    assert fcfun.leaky_relu(-0.0).name == "leaky_relu(0.0)"
    with cf.ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda i: fcfun.leaky_relu(0.125 + i % 4), range(4000)))
    assert len({id(activation) for activation in made}) == 4


def test_continuing_a_state_with_another_optimizer_is_refused_up_front() -> None:
    X, y = _data()
    state = fcfun.fit(SPEC, X, y, optimizer=fcfun.adam(0.1), epochs=1, batch_size=4, seed=0)
    for other in (fcfun.rmsprop(0.1), fcfun.sgd(0.1), fcfun.adam(0.1, weight_decay=0.1)):
        with pytest.raises(ValueError, match="must hold a state of this optimizer"):
            fcfun.fit(SPEC, X, y, optimizer=other, epochs=2, batch_size=4, params=state)
    again = fcfun.fit(SPEC, X, y, optimizer=fcfun.adam(0.1), epochs=2, batch_size=4, params=state)
    assert again.epoch == 2


def test_load_needs_an_optimizer(tmp_path: pathlib.Path) -> None:
    X, y = _data()
    state = fcfun.fit(SPEC, X, y, optimizer=fcfun.sgd(0.1), epochs=1, batch_size=4, seed=0)
    fcfun.save(tmp_path / "run.npz", SPEC, state)
    with pytest.raises(TypeError, match="optimizer must be the run's optimizer"):
        fcfun.load(tmp_path / "run.npz", optimizer=None)  # type: ignore[arg-type]


class _ForeignTensor:
    """An array of another library: shape, indexing, __array__, and a dtype numpy does not
    know (a torch tensor has these)."""

    def __init__(self, values: fcfun.FloatArray) -> None:
        self._values = values
        self.shape = values.shape
        self.dtype = "foreign.float64"

    def __getitem__(self, key: Any) -> Any:
        return self._values[key]

    def __array__(self, dtype: Any = None, copy: Any = None) -> fcfun.FloatArray:
        return self._values


def test_arrays_of_other_libraries_and_matrices_train_as_their_values() -> None:
    X, y = _data()
    arguments: dict[str, Any] = {"optimizer": fcfun.sgd(0.1), "epochs": 2, "batch_size": 4}
    plain = fcfun.fit(SPEC, X, y, seed=0, **arguments)
    foreign = fcfun.fit(SPEC, _ForeignTensor(X), y, seed=0, **arguments)
    with pytest.warns(PendingDeprecationWarning):  # numpy's own, on making a matrix
        as_matrix = np.asmatrix(X)
    matrix = fcfun.fit(SPEC, as_matrix, y, seed=0, **arguments)
    assert fcfun.fingerprint(foreign) == fcfun.fingerprint(plain)
    assert fcfun.fingerprint(matrix) == fcfun.fingerprint(plain)
    np.testing.assert_array_equal(
        fcfun.predict(SPEC, plain.params, as_matrix), fcfun.predict(SPEC, plain.params, X)
    )


def test_a_dask_array_of_unknown_chunk_sizes_is_refused_clearly() -> None:
    da = pytest.importorskip("dask.array")
    X, y = _data()
    unknown = da.from_array(X, chunks=4)
    unknown = unknown[unknown[:, 0] > -np.inf]
    with pytest.raises(ValueError, match=r"known shape.*compute_chunk_sizes"):
        fcfun.fit(SPEC, unknown, y, optimizer=fcfun.sgd(0.1), epochs=1, batch_size=4, seed=0)


def test_sizes_must_be_ordered() -> None:
    with pytest.raises(TypeError, match="ordered sequence"):
        fcfun.mlp({2, 3, 1}, output="identity", loss="half_squared_error")  # type: ignore[arg-type]


def test_a_schedule_that_overflows_is_refused_at_the_step_that_uses_it() -> None:
    optimizer = fcfun.sgd(fcfun.exponential_decay(1e-3, 2.0))
    state = optimizer.init(fcfun.init(SPEC, 0))
    late = state._replace(states=(fcfun.ScaleByScheduleState(1025),))
    with pytest.raises(ValueError, match=r"lr schedule\(1025\) must be a finite"):
        optimizer.update(fcfun.init(SPEC, 0), late, fcfun.init(SPEC, 0))
    assert fcfun.exponential_decay(1e-3, 2.0)(1025) == np.inf


def test_dtype_none_trains_in_the_data_dtype() -> None:
    X, y = _data()
    arguments: dict[str, Any] = {"optimizer": fcfun.sgd(0.1), "epochs": 1, "batch_size": 4}
    as_float32 = fcfun.fit(SPEC, X.astype(np.float32), y, seed=0, **arguments)
    assert as_float32.params[0].W.dtype == np.float32
    as_integers = fcfun.fit(SPEC, np.round(X).astype(int), y, seed=0, **arguments)
    assert as_integers.params[0].W.dtype == np.float64
    told = fcfun.fit(SPEC, X.astype(np.float32), y, seed=0, dtype=np.float64, **arguments)
    assert told.params[0].W.dtype == np.float64


def test_a_metric_may_return_nan_and_it_is_recorded() -> None:
    X, y = _data()

    def log_of_output(A: fcfun.FloatArray, Y: fcfun.FloatArray) -> float:
        return float(np.log(A.min() - 1e9))  # NaN, by design: not an overflow of fcfun's

    state = fcfun.fit(
        SPEC,
        X,
        y,
        optimizer=fcfun.sgd(0.01),
        epochs=1,
        batch_size=4,
        seed=0,
        validation=(X, y),
        metric=log_of_output,
    )
    assert np.isnan(state.history.val_metric[0])
    assert np.isfinite(state.history.val_loss[0])


def test_mixed_dtype_gradients_keep_the_optimizer_state_in_the_params_dtype() -> None:
    params = fcfun.init(SPEC, seed=0, dtype=np.float32)
    grads = tuple(fcfun.Dense(np.ones(p.W.shape), np.ones(p.b.shape)) for p in params)
    for optimizer in (fcfun.adam(0.1), fcfun.adagrad(0.1), fcfun.rmsprop(0.1, centered=True)):
        _, state = optimizer.update(grads, optimizer.init(params), params)
        dtypes = {a.dtype for _, a in fcfun.flatten(state) if isinstance(a, np.ndarray)}
        assert dtypes == {np.dtype(np.float32)}
        step = fcfun.donated_step(optimizer)
        donated = tuple(fcfun.Dense(g.W.copy(), g.b.copy()) for g in grads)
        new_params, donated_state = step(donated, optimizer.init(params), params)
        updates, _ = optimizer.update(grads, optimizer.init(params), params)
        expected = fcfun.apply_updates(params, updates)
        assert fcfun.fingerprint((new_params, donated_state)) == fcfun.fingerprint(
            (expected, state)
        )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_child_forked_inside_a_call_pins_and_restores_on_its_own() -> None:
    from fcfun import _blas

    control = _blas._CONTROL
    if control is None:
        pytest.skip("needs OpenBLAS")
    with _blas.fixed_threads():
        pid = os.fork()
    if pid == 0:  # the child has left a call it did not enter; its own calls still work
        ok = not _blas._active
        control.set_threads(_blas.BLAS_THREADS + 1)
        with _blas.fixed_threads():
            ok = ok and control.get_threads() == _blas.BLAS_THREADS
        ok = ok and control.get_threads() == _blas.BLAS_THREADS + 1
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
