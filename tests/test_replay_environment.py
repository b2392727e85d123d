"""Replay holds across BLAS thread settings that give fcfun the same thread count: the same
fit in processes started with 2 and 4 OpenBLAS threads gives the same bits (fcfun runs
both with 2), and the record says which count a run used (1 in a process kept to one
thread, which fcfun never raises).

The case is one where OpenBLAS splits the products differently with one thread than with
two ((256, 784) @ (784, 512) is: measured with OpenBLAS 0.3.31, SkylakeX kernel, the 1-
and 2-thread fits differ in every fingerprint), so the test fails if fcfun leaves the
thread count to the environment above 2.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import fcfun
from fcfun import _blas
from fcfun.testing import assert_same_run, ulp_distance

SCRIPT = """
import numpy as np, fcfun
rng = np.random.default_rng(0)
X, y = rng.normal(size=(512, 784)), rng.integers(0, 10, 512)
spec = fcfun.mlp([784, 512, 10], output="softmax", loss="softmax_cross_entropy")
prints = []
for dtype in (np.float32, np.float64):
    state = fcfun.fit(spec, X, y, optimizer=fcfun.adam(1e-3), epochs=1, batch_size=256,
                      seed=0, dtype=dtype)
    loss, grads = fcfun.loss_and_grad(spec, state.params, X[:300], y[:300])
    prints += [fcfun.fingerprint(state), fcfun.fingerprint(fcfun.predict(spec, state.params, X)),
               fcfun.fingerprint(grads), repr(loss)]
print(fcfun.replay_environment()["blas_threads"], " ".join(prints))
"""


def _run(threads: int) -> str:
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads)}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return result.stdout.strip()


@pytest.mark.skipif(_blas.blas_record()["blas_kernel"] == "unknown", reason="needs OpenBLAS")
def test_fit_predict_and_loss_and_grad_are_the_same_bits_on_2_and_4_threads() -> None:
    runs = {threads: _run(threads).split(" ", 1) for threads in (1, 2, 4)}
    assert len(runs[2][1].split()) == 8
    assert runs[4] == runs[2]
    assert runs[2][0] == str(_blas.BLAS_THREADS)
    # One thread stays one (never raised): its bits may differ, and its record says so.
    assert runs[1][0] == "1"
    assert len(runs[1][1].split()) == 8


def test_the_blas_thread_count_is_restored_after_a_call() -> None:
    control = _blas._CONTROL
    if control is None:
        pytest.skip("needs OpenBLAS")
    before = control.get_threads()
    spec = fcfun.mlp([3, 2], output="identity", loss="half_squared_error")
    control.set_threads(_blas.BLAS_THREADS + 1)
    try:
        with _blas.fixed_threads():
            assert control.get_threads() == _blas.BLAS_THREADS
            fcfun.predict(spec, fcfun.init(spec, 0), np.ones((4, 3)))
            assert control.get_threads() == _blas.BLAS_THREADS
        assert control.get_threads() == _blas.BLAS_THREADS + 1
    finally:
        control.set_threads(before)


def test_replay_environment_names_what_the_bits_depend_on() -> None:
    record = fcfun.replay_environment()
    assert set(record) == {
        "fcfun",
        "numpy",
        "blas",
        "blas_kernel",
        "blas_threads",
        "cpu_features",
        "machine",
        "python",
    }
    assert all(isinstance(value, str) and value for value in record.values())
    assert record["numpy"] == np.__version__
    control = _blas._CONTROL
    if control is not None:
        assert record["blas_threads"] == str(min(control.get_threads(), _blas.BLAS_THREADS))
        assert record["blas_kernel"] in record["blas"]


def test_assert_same_run_passes_equal_runs_and_names_the_first_difference() -> None:
    spec = fcfun.mlp([3, 4, 2], output="softmax", loss="softmax_cross_entropy")
    X, y = np.random.default_rng(0).normal(size=(20, 3)), np.arange(20) % 2
    state = fcfun.fit(spec, X, y, optimizer=fcfun.adam(0.01), epochs=2, batch_size=8, seed=3)
    again = fcfun.fit(spec, X, y, optimizer=fcfun.adam(0.01), epochs=2, batch_size=8, seed=3)
    assert_same_run(state, again)
    W = np.array(state.params[1].W)
    W[2, 1] = np.nextafter(W[2, 1], np.inf)
    W[3, 0] = 0.5
    nudged = state._replace(params=(state.params[0], state.params[1]._replace(W=W)))
    with pytest.raises(AssertionError, match=r"params/1/W differs at \(2, 1\).*\(1 ulps\); 2 of 8"):
        assert_same_run(state, nudged)
    with pytest.raises(AssertionError, match="epoch differs: 2 != 3"):
        assert_same_run(state, state._replace(epoch=3))
    with pytest.raises(AssertionError, match="structure"):
        assert_same_run(state.params, state.params[:1])


def test_ulp_distance_counts_representable_floats_between() -> None:
    for dtype in (np.float32, np.float64):
        x = np.array([1.0, -1.0, 0.0, -0.0, 3.5], dtype=dtype)
        steps = x.copy()
        for _ in range(5):
            steps = np.nextafter(steps, dtype(np.inf))
        # nextafter steps from -0.0 straight past +0.0, which this distance counts as one.
        assert ulp_distance(x, steps).tolist() == [5, 5, 5, 6, 5]
        assert ulp_distance(x, x).tolist() == [0] * 5
    assert int(ulp_distance(np.float64(-0.0), np.float64(0.0))) == 1
