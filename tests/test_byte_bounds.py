"""Memory bounded in bytes, not in rows or files: ``predict_ensemble``'s mean accumulated
without the ``(k, m, n_out)`` outputs keeps ``np.mean``'s bits (its peak is measured in
``test_chunked_memory``), and a worker's shard-file maps are bounded in bytes and let go
of deleted or replaced files."""

from __future__ import annotations

import concurrent.futures as cf
import os
import pathlib
from typing import Any

import numpy as np
import pytest

import fcfun
from fcfun import _ensemble, distributed

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


def _write(path: pathlib.Path, rows: int, value: float) -> str:
    np.save(path, np.full((rows, 16), value), allow_pickle=False)
    return str(path)


def _mapped_shard_files(directory: pathlib.Path) -> list[str]:
    """The files under ``directory`` this process has mapped (Linux), deleted or not."""
    with open("/proc/self/maps") as maps:
        return sorted(
            {line.split(maxsplit=5)[5].strip() for line in maps if str(directory) in line}
        )


@pytest.fixture
def empty_maps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distributed, "_maps", type(distributed._maps)())


@pytest.mark.usefixtures("empty_maps")
def test_the_maps_a_worker_keeps_stay_within_their_byte_bound(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setattr(distributed, "_MAPPED_BYTES", 300_000)
    paths = [_write(tmp_path / f"X{i}.npy", 1000, i) for i in range(10)]  # 128 kB each
    for path in paths:
        assert float(distributed._mapped(path)[0, 0]) == float(path[-5])
        assert distributed._mapped_bytes() <= 300_000
    assert list(distributed._maps) == paths[-2:]  # the least recently used went first
    big = _write(tmp_path / "big.npy", 5000, 7.0)  # 640 kB: mapped for its task only
    assert float(distributed._mapped(big)[-1, -1]) == 7.0
    assert big not in distributed._maps
    assert distributed._mapped_bytes() <= 300_000


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs /proc/self/maps")
@pytest.mark.usefixtures("empty_maps")
def test_maps_of_deleted_or_replaced_files_are_dropped_at_the_next_new_file(
    tmp_path: pathlib.Path,
) -> None:
    old = [_write(tmp_path / f"X{i}.npy", 100, i) for i in range(3)]
    for path in old:
        distributed._mapped(path)
    assert len(_mapped_shard_files(tmp_path)) == 3
    os.remove(old[0])
    os.remove(old[1])
    replaced = _write(tmp_path / "X2.npy", 200, 9.0)  # another file at the same path
    assert float(distributed._mapped(replaced)[150, 0]) == 9.0
    assert list(distributed._maps) == [replaced]
    distributed._mapped(_write(tmp_path / "new.npy", 100, 5.0))
    mapped = _mapped_shard_files(tmp_path)
    assert not [name for name in mapped if name.endswith("(deleted)")]
    assert mapped == sorted([replaced, str(tmp_path / "new.npy")])


def _report() -> tuple[int, int, int]:
    """In a worker: its pid, and the shard files it has mapped, all and deleted."""
    with open("/proc/self/maps") as maps:
        names = {line.split(maxsplit=5)[5].strip() for line in maps if "fcfun-shards-" in line}
    return os.getpid(), len(names), sum(name.endswith("(deleted)") for name in names)


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs /proc/self/maps")
def test_a_process_worker_keeps_no_more_than_the_last_runs_shard_files_mapped() -> None:
    spec = fcfun.mlp([16, 8, 3], output="softmax", loss="softmax_cross_entropy")
    rng = np.random.default_rng(0)
    files_per_run = 2 * 4  # X and Y of 4 shards
    with cf.ProcessPoolExecutor(1) as pool:
        for run in range(8):
            X, y = rng.normal(size=(400, 16)), rng.integers(0, 3, 400)
            with distributed.scatter(pool, spec, X, y, 4, placement="files") as shards:
                distributed.sharded_loss_and_grad(pool, spec, fcfun.init(spec, run), shards)
        _, mapped, deleted = pool.submit(_report).result()
    # Before a byte bound with drops, the 64-file cache kept 8 runs' 64 deleted files.
    assert mapped <= files_per_run
    assert deleted <= files_per_run
