"""Memory bounded by the chunk on every path: predict, evaluation and validation read a
memmap (or data of another dtype) a chunk at a time and convert each chunk, never the
whole input (measured with tracemalloc, which sees numpy's allocations)."""

from __future__ import annotations

import pathlib
import tracemalloc
from collections.abc import Callable

import numpy as np

import fcfun
from fcfun import _ensemble
from tests._bounds import network_rtol

ROWS, COLUMNS = 240_000, 40
INPUT_BYTES_AS_FLOAT64 = ROWS * COLUMNS * 8  # 77 MB: what a whole conversion would take
CHUNK_BYTES = 8192 * COLUMNS * 8  # one chunk of rows converted to float64: 2.6 MB


def _memmap(tmp_path: pathlib.Path) -> np.memmap[tuple[int, ...], np.dtype[np.float32]]:
    X = np.lib.format.open_memmap(
        tmp_path / "X.npy", mode="w+", dtype=np.float32, shape=(ROWS, COLUMNS)
    )
    rng = np.random.default_rng(0)
    for start in range(0, ROWS, 10_000):
        X[start : start + 10_000] = rng.normal(size=(10_000, COLUMNS))
    X.flush()
    mapped: np.memmap[tuple[int, ...], np.dtype[np.float32]] = np.load(
        tmp_path / "X.npy", mmap_mode="r"
    )
    return mapped


def _peak(call: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_predict_on_a_float32_memmap_with_float64_params_converts_a_chunk_at_a_time(
    tmp_path: pathlib.Path,
) -> None:
    X = _memmap(tmp_path)
    spec = fcfun.mlp([COLUMNS, 16, 3], output="softmax", loss="softmax_cross_entropy")
    params = fcfun.init(spec, seed=0)  # float64
    output_bytes = ROWS * 3 * 8
    peak = _peak(lambda: fcfun.predict(spec, params, X))
    assert peak < output_bytes + 4 * CHUNK_BYTES
    assert peak < INPUT_BYTES_AS_FLOAT64 / 4
    whole = fcfun.predict(spec, params, np.asarray(X, dtype=np.float64))
    np.testing.assert_array_equal(fcfun.predict(spec, params, X), whole)


def test_validation_on_a_memmap_reads_a_chunk_at_a_time(tmp_path: pathlib.Path) -> None:
    X = _memmap(tmp_path)
    y = (np.asarray(X[:, 0]) > 0).astype(int)
    spec = fcfun.mlp([COLUMNS, 8, 1], output="sigmoid", loss="binary_cross_entropy")
    small_X, small_y = np.asarray(X[:2000], dtype=np.float64), y[:2000]

    def run(X_val: object) -> fcfun.TrainState[fcfun.ChainState]:
        return fcfun.fit(
            spec,
            small_X,
            small_y,
            optimizer=fcfun.sgd(0.1),
            epochs=2,
            batch_size=500,
            seed=0,
            validation=(X_val, y),
        )

    peak = _peak(lambda: run(X))
    assert peak < ROWS * 8 * 2 + 4 * CHUNK_BYTES  # the targets and outputs, and a chunk
    in_memory = run(np.asarray(X, dtype=np.float64))
    state = run(X)
    assert state.history.val_metric == in_memory.history.val_metric
    # the same params; the loss summed a chunk at a time against at once (tests/_bounds)
    rtol = network_rtol(spec, ROWS)
    np.testing.assert_allclose(state.history.val_loss, in_memory.history.val_loss, rtol=rtol)


ENSEMBLE_SPEC = fcfun.mlp([20, 32, 8], output="softmax", loss="softmax_cross_entropy")


def test_the_mean_of_64_members_over_30000_rows_never_forms_their_outputs() -> None:
    k, m = 64, 30_000
    stacked = fcfun.stack_params([fcfun.init(ENSEMBLE_SPEC, seed) for seed in range(k)])
    X = np.random.default_rng(0).normal(size=(m, 20))
    result_bytes = m * 8 * 8
    outputs_bytes = k * result_bytes  # the (k, m, n_out) outputs: 123 MB
    peak = _peak(lambda: fcfun.predict_ensemble(ENSEMBLE_SPEC, stacked, X))
    # The result, the activations (within PREDICT_CHUNK_BYTES, Z and A counted), and one
    # output activation's temporaries and finiteness mask of a group (within the same).
    assert peak < result_bytes + 2 * _ensemble.PREDICT_CHUNK_BYTES
    assert peak < outputs_bytes / 2
