"""Memory bounded in bytes, not in rows or files: ``predict_ensemble``'s mean accumulated
without the ``(k, m, n_out)`` outputs keeps ``np.mean``'s bits (its peak is measured in
``test_chunked_memory``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fcfun
from fcfun import _ensemble

SPEC = fcfun.mlp([20, 32, 8], output="softmax", loss="softmax_cross_entropy")
ONE_OUTPUT = fcfun.mlp([3, 4, 1], output="identity", loss="half_squared_error")


def _stacked(spec: fcfun.MLP, k: int, dtype: type[np.floating[Any]]) -> fcfun.Params:
    return fcfun.stack_params([fcfun.init(spec, seed, dtype=dtype) for seed in range(k)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("spec", "k", "m", "chunk_size", "budget"),
    [
        (SPEC, 64, 300, 128, 1 << 25),  # all members at once, 3 row chunks
        (SPEC, 7, 300, 128, 100_000),  # members 3 at a time (128 rows x 2 x 40 x 8 = 82 kB)
        (SPEC, 5, 300, 1000, 1),  # one member at a time
        (SPEC, 1, 50, 8192, 1 << 25),  # one member
        (ONE_OUTPUT, 9, 1, 8192, 1),  # one element per member: numpy sums pairwise
        (ONE_OUTPUT, 9, 17, 8, 1),  # a last chunk of one row and one output
        (ONE_OUTPUT, 130, 3, 8192, 1 << 25),
    ],
)
def test_the_accumulated_mean_has_the_bits_of_np_mean_over_the_members_outputs(
    monkeypatch: pytest.MonkeyPatch,
    dtype: type[np.floating[Any]],
    spec: fcfun.MLP,
    k: int,
    m: int,
    chunk_size: int,
    budget: int,
) -> None:
    monkeypatch.setattr(_ensemble, "PREDICT_CHUNK_BYTES", budget)
    stacked = _stacked(spec, k, dtype)
    X = np.random.default_rng(1).normal(size=(m, spec.sizes[0])) * 3
    each = fcfun.predict_ensemble(spec, stacked, X, average=False, chunk_size=chunk_size)
    for i in range(k):  # the same products as predict, so the same bits
        single = fcfun.predict(spec, fcfun.member(stacked, i), X, chunk_size=chunk_size)
        assert np.array_equal(each[i], single)
    mean = fcfun.predict_ensemble(spec, stacked, X, chunk_size=chunk_size)
    assert mean.dtype == dtype
    assert np.array_equal(mean, np.mean(each, axis=0))
    assert not mean.flags.writeable
