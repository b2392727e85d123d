"""Sharded full-batch training on thread and process pools and a 2-worker dask cluster."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import pathlib
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, ParamSpec, TypeAlias, TypeVar

import distributed
import numpy as np
import pytest

import fcfun
from fcfun import distributed as fd
from fcfun._training import Dataset
from tests._bounds import assert_network_close, network_rtol, steps

M = 301  # odd, so two shards differ in size

# distributed is only partly annotated and mypy --strict refuses calls to its unannotated
# functions (LocalCluster, Client, get_executor, ...), so the tests use it through Any.
dask: Any = distributed
DaskClient: TypeAlias = Any  # a distributed.Client


@pytest.fixture(scope="module")
def client() -> Iterator[DaskClient]:
    """One 2-worker LocalCluster of process workers for the whole module."""
    with (
        dask.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            # The scheduler serves HTTP even without a dashboard, by default on port 8787;
            # another cluster on this machine holding it would fail the fixture. Port 0:
            # any free one.
            scheduler_kwargs={"dashboard_address": ":0", "dashboard": False},
        ) as cluster,
        dask.Client(cluster) as dask_client,
    ):
        yield dask_client


@pytest.fixture(scope="module")
def process_pool() -> Iterator[cf.ProcessPoolExecutor]:
    # spawn: the dask client's threads make fork unsafe in this process
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(2, mp_context=context) as pool:
        yield pool


@pytest.fixture(scope="module")
def thread_pool() -> Iterator[cf.ThreadPoolExecutor]:
    with cf.ThreadPoolExecutor(2) as pool:
        yield pool


@pytest.fixture(params=["thread_pool", "process_pool", "dask"])
def executor(request: pytest.FixtureRequest) -> cf.Executor:
    if request.param == "dask":
        dask_client: DaskClient = request.getfixturevalue("client")
        dask_executor: cf.Executor = dask_client.get_executor()
        return dask_executor
    pool: cf.Executor = request.getfixturevalue(request.param)
    return pool


def make_data(m: int = M, seed: int = 0) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 0.5).astype(np.int64)
    return X, y


# leaky_relu(0.2) is a closure: it reaches other processes by name only.
SPEC = fcfun.mlp([6, 16, 8, 3], hidden=["tanh", fcfun.leaky_relu(0.2)], output="softmax",
                 loss="softmax_cross_entropy")  # fmt: skip
# Shards sum a full batch's rows in another order: two implementations of one loss and
# gradient (tests/_bounds.network_rtol); a run of 6 full-batch epochs adds up 6 of them.
GRADIENT_RTOL = network_rtol(SPEC, M)
TRAJECTORY_RTOL = steps(6, GRADIENT_RTOL)


P = ParamSpec("P")
T = TypeVar("T")


class Traffic(NamedTuple):
    """Pickled bytes (protocol 5) per task, in submission order."""

    sent: tuple[int, ...]  # the function and its arguments
    received: tuple[int, ...]  # the result


class RecordingExecutor(cf.Executor):
    """An executor that hands every task to ``executor`` and records what it pickles.

    Not a ``ThreadPoolExecutor`` and not dask's, so ``scatter`` places shards in files for
    it, as for the process pool it wraps.
    """

    def __init__(self, executor: cf.Executor) -> None:
        self._executor = executor
        self._tasks: list[tuple[int, cf.Future[Any]]] = []

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> cf.Future[T]:
        size = len(pickle.dumps((fn, args, kwargs), protocol=5))
        future = self._executor.submit(fn, *args, **kwargs)
        self._tasks.append((size, future))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait, cancel_futures=cancel_futures)

    def take(self) -> Traffic:
        """The tasks submitted since the last ``take`` (waiting for their results)."""
        tasks, self._tasks = self._tasks, []
        return Traffic(
            tuple(size for size, _ in tasks),
            tuple(len(pickle.dumps(future.result(), protocol=5)) for _, future in tasks),
        )


def params_nbytes(params: fcfun.Params) -> int:
    return sum(a.nbytes for layer in params for a in layer)


def assert_params_close(a: fcfun.Params, b: fcfun.Params, rtol: float) -> None:
    for left, right in zip(a, b, strict=True):
        assert_network_close(left.W, right.W, rtol)
        assert_network_close(left.b, right.b, rtol)


# Layout ----------------------------------------------------------------------------


def test_shard_sizes_split_evenly_or_as_given() -> None:
    assert fd.shard_sizes(301, 2) == (151, 150)
    assert fd.shard_sizes(10, 4) == (3, 3, 2, 2)
    assert fd.shard_sizes(5, 5) == (1,) * 5
    assert fd.shard_sizes(10, (1, 9)) == (1, 9)


@pytest.mark.parametrize(
    ("n_shards", "error", "match"),
    [
        (0, ValueError, "n_shards must be an integer >= 1"),
        (11, ValueError, "at most the 10 rows"),
        ((5, 4), ValueError, "sum to the 10 rows"),
        ((10, 0), ValueError, r"n_shards\[1\] must be an integer >= 1"),
        ((), ValueError, "sum to the 10 rows"),
        (2.0, TypeError, "n_shards must be an integer"),
    ],
)
def test_shard_sizes_refuse_bad_layouts(n_shards: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        fd.shard_sizes(10, n_shards)


def test_shard_gives_contiguous_views_in_row_order() -> None:
    X, y = make_data(10)
    data = fcfun.dataset(SPEC, X, y)
    pieces = fd.shard(data, (3, 7))
    assert [p.X.shape[0] for p in pieces] == [3, 7]
    assert all(np.shares_memory(p.X, data.X) for p in pieces)
    np.testing.assert_array_equal(np.concatenate([p.X for p in pieces]), data.X)
    np.testing.assert_array_equal(np.concatenate([p.Y for p in pieces]), data.Y)


# One step --------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [1, 2, (100, 1, 200), 7])
def test_sharded_loss_and_grad_equals_the_whole_batch(
    thread_pool: cf.ThreadPoolExecutor, sizes: int | tuple[int, ...]
) -> None:
    X, y = make_data()
    params = fcfun.init(SPEC, seed=3)
    whole_loss, whole_grads = fcfun.loss_and_grad(SPEC, params, X, y, alpha=0.3)
    with fd.scatter(thread_pool, SPEC, X, y, sizes) as shards:
        loss, grads = fd.sharded_loss_and_grad(thread_pool, SPEC, params, shards, alpha=0.3)
    assert loss == pytest.approx(whole_loss, rel=GRADIENT_RTOL)
    assert_params_close(grads, whole_grads, GRADIENT_RTOL)
    assert all(not a.flags.writeable for layer in grads for a in layer)
    if sizes == 1:  # one shard: the same arithmetic as the single-process call
        assert loss == whole_loss
        assert fcfun.fingerprint(grads) == fcfun.fingerprint(whole_grads)


def test_sharded_step_on_every_executor_matches(executor: cf.Executor) -> None:
    X, y = make_data()
    params = fcfun.init(SPEC, seed=1)
    with fd.scatter(executor, SPEC, X, y, (200, 101)) as shards:
        first = fd.sharded_loss_and_grad(executor, SPEC, params, shards, alpha=0.1)
        again = fd.sharded_loss_and_grad(executor, SPEC, params, shards, alpha=0.1)
    whole_loss, whole_grads = fcfun.loss_and_grad(SPEC, params, X, y, alpha=0.1)
    assert first[0] == pytest.approx(whole_loss, rel=GRADIENT_RTOL)
    assert_params_close(first[1], whole_grads, GRADIENT_RTOL)
    assert fcfun.fingerprint(first) == fcfun.fingerprint(again)


def test_memory_mapped_rows_are_read_a_shard_at_a_time(
    executor: cf.Executor, tmp_path: pathlib.Path
) -> None:
    X, y = make_data()
    np.save(tmp_path / "X.npy", X.astype(np.float32))
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    params = fcfun.init(SPEC, seed=2)
    with fd.scatter(executor, SPEC, mapped, y, 2) as shards:
        loss, grads = fd.sharded_loss_and_grad(executor, SPEC, params, shards)
    whole_loss, whole_grads = fcfun.loss_and_grad(SPEC, params, X.astype(np.float32), y)
    assert loss == pytest.approx(whole_loss, rel=GRADIENT_RTOL)
    assert_params_close(grads, whole_grads, GRADIENT_RTOL)


# Training --------------------------------------------------------------------------


def single_process(epochs: int = 6, **kwargs: Any) -> fcfun.TrainState[Any]:
    X, y = make_data()
    return fcfun.fit(
        SPEC, X, y, optimizer=fcfun.adam(1e-2), epochs=epochs, batch_size=M, shuffle=False,
        seed=0, **kwargs,
    )  # fmt: skip


def sharded(
    executor: cf.Executor, n_shards: int | tuple[int, ...] = 2, epochs: int = 6, **kwargs: Any
) -> fcfun.TrainState[Any]:
    X, y = make_data()
    return fd.fit_sharded(
        SPEC, X, y, executor=executor, n_shards=n_shards, optimizer=fcfun.adam(1e-2),
        epochs=epochs, seed=0, **kwargs,
    )  # fmt: skip


def assert_states_close(a: fcfun.TrainState[Any], b: fcfun.TrainState[Any]) -> None:
    assert_params_close(a.params, b.params, TRAJECTORY_RTOL)
    assert (a.epoch, a.seed) == (b.epoch, b.seed)
    assert fcfun.flatten(a.opt_state)[0][1] == fcfun.flatten(b.opt_state)[0][1]  # step count
    for left, right in zip(a.history, b.history, strict=True):
        np.testing.assert_allclose(left, right, rtol=TRAJECTORY_RTOL)


def test_fit_sharded_equals_single_process_fit(executor: cf.Executor) -> None:
    state = sharded(executor, alpha=0.05)
    alone = single_process(alpha=0.05)
    assert_states_close(state, alone)
    assert len(state.history.train_loss) == 6


def test_two_cluster_runs_are_bit_identical(client: DaskClient) -> None:
    first = sharded(client.get_executor(), epochs=4)
    second = sharded(client.get_executor(), epochs=4)
    assert fcfun.fingerprint(first) == fcfun.fingerprint(second)
    assert_states_close(first, single_process(epochs=4))


def test_one_shard_is_bit_identical_to_fit(thread_pool: cf.ThreadPoolExecutor) -> None:
    assert fcfun.fingerprint(sharded(thread_pool, 1)) == fcfun.fingerprint(single_process())


def test_validation_history_and_resume(thread_pool: cf.ThreadPoolExecutor) -> None:
    X_val, y_val = make_data(50, seed=1)
    state = sharded(thread_pool, 3, validation=(X_val, y_val))
    assert_states_close(state, single_process(validation=(X_val, y_val)))
    half = sharded(thread_pool, 3, epochs=3, validation=(X_val, y_val))
    resumed = fd.fit_sharded(
        SPEC, *make_data(), executor=thread_pool, n_shards=3, optimizer=fcfun.adam(1e-2),
        epochs=6, params=half, validation=(X_val, y_val),
    )  # fmt: skip
    assert fcfun.fingerprint(resumed) == fcfun.fingerprint(state)


def test_float32_stays_float32(thread_pool: cf.ThreadPoolExecutor) -> None:
    state = sharded(thread_pool, 2, dtype=np.float32)
    alone = single_process(dtype=np.float32)
    assert state.params[0].W.dtype == np.float32
    assert_params_close(state.params, alone.params, steps(6, network_rtol(SPEC, M, np.float32)))


def test_divergence_is_reported_as_fit_reports_it(thread_pool: cf.ThreadPoolExecutor) -> None:
    X, _ = make_data()
    spec = fcfun.mlp([6, 8, 1], output="identity", loss="half_squared_error")
    y = 1e3 * X[:, 0]
    kwargs: dict[str, Any] = {"optimizer": fcfun.sgd(10.0), "epochs": 50, "seed": 0}
    with pytest.raises(fcfun.DivergenceError) as sharded_error:
        fd.fit_sharded(spec, X, y, executor=thread_pool, n_shards=1, **kwargs)
    with pytest.raises(fcfun.DivergenceError) as fit_error:
        fcfun.fit(spec, X, y, batch_size=M, shuffle=False, **kwargs)
    assert sharded_error.value.epoch == fit_error.value.epoch
    assert sharded_error.value.step == fit_error.value.step == 0
    assert fcfun.fingerprint(sharded_error.value.state) == fcfun.fingerprint(fit_error.value.state)
    stopped = fd.fit_sharded(
        spec, X, y, executor=thread_pool, n_shards=1, on_divergence="stop", **kwargs
    )
    assert fcfun.fingerprint(stopped) == fcfun.fingerprint(fit_error.value.state)


# Placement and traffic -------------------------------------------------------------


def test_placement_follows_the_executor(executor: cf.Executor) -> None:
    X, y = make_data()
    with fd.scatter(executor, SPEC, X, y, 2) as shards:
        expected = {
            cf.ThreadPoolExecutor: "memory",
            cf.ProcessPoolExecutor: "files",
        }.get(type(executor), "dask")
        assert shards.placement == expected
        assert shards.sizes == (151, 150)
        assert shards.m == M
    assert shards.closed
    with pytest.raises(ValueError, match="shards are closed"):
        fd.sharded_loss_and_grad(executor, SPEC, fcfun.init(SPEC, seed=0), shards)


def test_dask_shards_stay_on_distinct_workers(client: DaskClient) -> None:
    X, y = make_data(20_000)
    executor = client.get_executor()

    def transfers(dask_worker: Any) -> tuple[int, int]:
        # (fetches from other workers, bytes sent to anyone)
        return len(dask_worker.transfer_incoming_log), dask_worker.transfer_outgoing_bytes_total

    before = client.run(transfers)
    with fd.scatter(executor, SPEC, X, y, 2) as shards:
        holders = client.who_has(list(shards._live_refs()))
        assert len({worker for workers in holders.values() for worker in workers}) == 2
        keys = set(holders)

        def offsets(dask_worker: Any) -> list[int]:
            held = [dask_worker.data[key] for key in keys if key in dask_worker.data]
            return [array.ctypes.data % 64 for data in held for array in data if array is not None]

        found = [offset for listed in client.run(offsets).values() for offset in listed]
        assert found == [0] * 4  # X and Y of both shards start on a cache line
        params = fcfun.init(SPEC, seed=0)
        for step in range(3):
            fd.sharded_loss_and_grad(executor, SPEC, params, shards, alpha=float(step))
    after = client.run(transfers)
    incoming = sum(after[w][0] - before[w][0] for w in after)
    outgoing = sum(after[w][1] - before[w][1] for w in after)
    assert incoming == 0  # no worker fetched anything from another: no shard moved
    # What the workers sent is the gradients, nothing more: a loss and a gradient per task,
    # 2 tasks per step, 3 steps (fewer if Dask kept a result of the same pure task).
    result_bytes = len(pickle.dumps((0.0, params), protocol=5))
    assert 2 * params_nbytes(params) < outgoing < 3 * (2 * result_bytes + 1024)


def test_process_pool_shards_are_files_removed_on_close(
    process_pool: cf.ProcessPoolExecutor,
) -> None:
    X, y = make_data()
    with fd.scatter(process_pool, SPEC, X, y, 2) as shards:
        paths = [path for ref in shards._live_refs() for path in ref if path is not None]
        assert all(os.path.exists(path) for path in paths)
        fd.sharded_loss_and_grad(process_pool, SPEC, fcfun.init(SPEC, seed=0), shards)
    assert not any(os.path.exists(path) for path in paths)


def test_a_process_pool_step_sends_the_params_and_gets_gradients(
    process_pool: cf.ProcessPoolExecutor,
) -> None:
    X, y = make_data(2_000)  # a shard's rows: 1000 x 6 float64, far beyond the slack below
    recording = RecordingExecutor(process_pool)
    params = fcfun.init(SPEC, seed=0)
    params_bytes = params_nbytes(params)
    with fd.scatter(recording, SPEC, X, y, 2) as shards:
        assert shards.placement == "files"
        for _ in range(2):
            fd.sharded_loss_and_grad(recording, SPEC, params, shards)
        traffic = recording.take()
    assert len(traffic.sent) == len(traffic.received) == 2 * 2  # one task per shard and step
    for sent in traffic.sent:  # the spec by name, the params and two file names
        assert params_bytes < sent < params_bytes + 4096
    for received in traffic.received:  # a loss and a gradient
        assert params_bytes < received < params_bytes + 4096
    # The recording sees rows when a task does carry them: "memory" pickles every shard.
    with fd.scatter(recording, SPEC, X, y, 2, placement="memory") as shards:
        fd.sharded_loss_and_grad(recording, SPEC, params, shards)
    assert all(sent > params_bytes + X.nbytes // 2 for sent in recording.take().sent)


def test_errors_name_what_is_wrong(thread_pool: cf.ThreadPoolExecutor, client: DaskClient) -> None:
    X, y = make_data()
    custom = SPEC._replace(
        activations=(fcfun.Activation("mine", np.tanh, lambda dA, Z, A: dA), *SPEC.activations[1:])
    )
    with pytest.raises(ValueError, match=r"spec.activations\[0\] must be one of fcfun's own"):
        fd.scatter(thread_pool, custom, X, y, 2, placement="files")
    with pytest.raises(ValueError, match=r"needs a dask\.distributed"):
        fd.scatter(thread_pool, SPEC, X, y, 2, placement="dask")
    with pytest.raises(TypeError, match=r"executor must be a concurrent\.futures\.Executor"):
        fd.scatter(object(), SPEC, X, y, 2)  # type: ignore[arg-type]
    with fd.scatter(thread_pool, custom, X, y, 2) as shards:  # a thread pool takes any spec
        params = fcfun.init(custom, seed=0)
        fd.sharded_loss_and_grad(thread_pool, custom, params, shards)
        with pytest.raises(ValueError, match="spec must be the spec the shards"):
            fd.sharded_loss_and_grad(thread_pool, SPEC, params, shards)
        with pytest.raises(TypeError, match="params must have the shards' dtype float64"):
            fd.sharded_loss_and_grad(
                thread_pool, custom, fcfun.init(custom, seed=0, dtype=np.float32), shards
            )
    with (
        fd.scatter(client.get_executor(), SPEC, X, y, 2) as shards,
        pytest.raises(ValueError, match="executor must come from the dask Client"),
    ):
        fd.sharded_loss_and_grad(thread_pool, SPEC, fcfun.init(SPEC, seed=0), shards)


def test_importing_fcfun_distributed_imports_no_dask() -> None:
    code = "import sys, fcfun.distributed; print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))"  # noqa: E501
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# The sweep example -----------------------------------------------------------------


def test_dask_sweep_example_runs_on_the_cluster(client: DaskClient) -> None:
    from examples import dask_sweep

    grid: dict[str, list[Any]] = {"hidden_layer_sizes": [(16,)], "alpha": [1e-4, 1e-2]}
    result = dask_sweep.run(client=client, grid=grid, cv=2, verbose=False)
    assert [candidate["alpha"] for candidate, _ in result.scores] == [1e-4, 1e-2]
    assert result.best_score == max(score for _, score in result.scores)
    assert result.test_accuracy > 0.8
    assert result.n_tasks >= 1
    assert result.n_workers == 2


def test_dataset_type_is_the_one_fcfun_exports() -> None:
    assert Dataset is fcfun.Dataset


def test_fit_sharded_stops_early_and_calls_back_as_fit(
    thread_pool: cf.ThreadPoolExecutor,
) -> None:
    """fit_sharded runs through fit's stages: with one shard it equals full-batch fit bit
    for bit, early stopping and the callback included."""
    X_val, y_val = make_data(50, seed=1)
    rule = fcfun.EarlyStopping(patience=1, monitor="train_loss", min_delta=1e9)  # stops at 2
    seen: list[int] = []
    kwargs: dict[str, Any] = {"optimizer": fcfun.adam(1e-2), "epochs": 30, "seed": 0}
    state = fd.fit_sharded(
        SPEC, *make_data(), executor=thread_pool, n_shards=1, validation=(X_val, y_val),
        early_stopping=rule, callback=lambda s: seen.append(s.epoch), **kwargs,
    )  # fmt: skip
    alone = fcfun.fit(
        SPEC, *make_data(), batch_size=M, shuffle=False, validation=(X_val, y_val),
        early_stopping=rule, **kwargs,
    )  # fmt: skip
    assert state.epoch == alone.epoch < 30
    assert seen == list(range(1, state.epoch + 1))
    assert fcfun.fingerprint(state) == fcfun.fingerprint(alone)
    with pytest.raises(ValueError, match="early_stopping"):
        fd.fit_sharded(
            SPEC, *make_data(), executor=thread_pool, n_shards=1,
            early_stopping=fcfun.EarlyStopping(patience=1), **kwargs,
        )  # fmt: skip
