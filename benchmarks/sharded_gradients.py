"""Full-batch gradient time: one process against two workers, and the bytes sent per step.

Run: ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python
benchmarks/sharded_gradients.py`` (``--rows N``, ``--repeats K`` to change the size). Not a
test. After three warm-up calls each, the ways of computing the gradient take turns within
every repeat (so a noisy neighbour slows them all alike) and the table quotes medians of
``K``:

* 1 process: ``sharded_loss_and_grad`` with one shard on a one-thread pool (the same
  unchecked ``_loss_and_grad`` that ``fcfun.fit`` runs), BLAS limited to 1 thread, and
  with BLAS's default thread count; also one half-size shard alone (perfect scaling).
* 2 process-pool workers: ``ProcessPoolExecutor(2)``, BLAS at 1 thread, shard files.
* 2 dask workers: a ``LocalCluster`` of two process workers with one thread each (dask sets
  ``OPENBLAS_NUM_THREADS=1`` in them), the data scattered once in two shards; and the same
  cluster on two one-row shards, which is the fixed cost of a step.

Bytes per step, measured from outside the library: a ``RecordingExecutor`` wrapped around the
process pool pickles (protocol 5) every task it is handed (the function and its arguments)
and every result, for one step on the shard files and one on two one-row shards; and the
dask workers' own count of the bytes they sent (``transfer_outgoing_bytes_total``: the
gradients going back). The dask tasks are not wrapped: ``scatter`` recognises a dask
executor by its type, so a wrapped one would get shard files instead of scattered shards.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import functools
import importlib
import multiprocessing
import os
import pickle
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, ParamSpec, TypeVar

import numpy as np
import threadpoolctl  # type: ignore[import-untyped]

import fcfun
from fcfun import distributed as fd

# distributed is only partly annotated, and mypy --strict refuses calls to its unannotated
# functions (Client, LocalCluster): the package is held as Any.
dask: Any = importlib.import_module("distributed")

Step = Callable[[], tuple[float, fcfun.Params]]
P = ParamSpec("P")
T = TypeVar("T")


class Traffic(NamedTuple):
    """Pickled bytes (protocol 5) per task, in submission order."""

    sent: tuple[int, ...]
    """Each task's function and arguments."""
    received: tuple[int, ...]
    """Each task's result."""


class RecordingExecutor(cf.Executor):
    """An executor that hands every task to ``executor`` and records what it pickles.

    Executors add a little framing to these payloads. It is neither a ``ThreadPoolExecutor``
    nor dask's, so ``fd.scatter`` places shards in files for it.
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


def one_blas_thread(step: Step) -> Step:
    """``step`` with this process's BLAS limited to one thread while it runs."""

    def limited() -> tuple[float, fcfun.Params]:
        with threadpoolctl.threadpool_limits(1):
            return step()

    return limited


def medians(steps: dict[str, Step], repeats: int) -> dict[str, float]:
    """Median seconds of each step; the steps take turns within every repeat."""
    for _ in range(3):  # warm-up: caches, BLAS buffers, the workers' spec cache, and the
        for step in steps.values():  # process pool's workers mapping each shard they meet
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def blas_info() -> list[str]:
    return [
        f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, "
        f"{i['num_threads']} threads by default, {os.path.basename(i['filepath'])})"
        for i in threadpoolctl.threadpool_info()
    ]


def _bytes_sent(dask_worker: Any) -> int:
    """Runs in each worker (``client.run``): the bytes it has sent to anyone so far."""
    total: int = dask_worker.transfer_outgoing_bytes_total
    return total


def run(rows: int, features: int, hidden: int, classes: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, features))
    y = rng.integers(0, classes, rows)
    spec = fcfun.mlp([features, hidden, classes], output="softmax", loss="softmax_cross_entropy")
    params = fcfun.init(spec, seed=0)
    params_bytes = sum(a.nbytes for layer in params for a in layer)
    half = rows - rows // 2  # the larger shard of two
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cpus, "
        f"{platform.platform()}"
    )
    for line in blas_info():
        print(f"BLAS: {line}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        print(f"{var}={os.environ.get(var, '(unset)')}")
    print(
        f"data {rows} x {features} float64 ({X.nbytes / 2**20:.0f} MiB), network "
        f"{spec.sizes}, params {params_bytes} bytes, median of {repeats}\n"
    )

    spawn = multiprocessing.get_context("spawn")
    with contextlib.ExitStack() as stack:
        enter = stack.enter_context
        threads = enter(cf.ThreadPoolExecutor(1))
        whole = enter(fd.scatter(threads, spec, X, y, 1))
        part = enter(fd.scatter(threads, spec, X[:half], y[:half], 1))
        processes = enter(
            cf.ProcessPoolExecutor(
                2, mp_context=spawn, initializer=threadpoolctl.threadpool_limits, initargs=(1,)
            )
        )
        recording = RecordingExecutor(processes)
        files = enter(fd.scatter(recording, spec, X, y, 2))
        tiny_files = enter(fd.scatter(recording, spec, X[:2], y[:2], 2))
        assert files.placement == tiny_files.placement == "files"
        cluster = enter(
            dask.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            )
        )
        client = enter(dask.Client(cluster))
        # pure=False: Dask would otherwise name a repeated identical step by its arguments
        # and hand back the result it still holds instead of computing it again.
        executor = client.get_executor(pure=False)
        start = time.perf_counter()
        shards = enter(fd.scatter(executor, spec, X, y, 2))
        scatter_seconds = time.perf_counter() - start
        tiny = enter(fd.scatter(executor, spec, X[:2], y[:2], 2))

        def step(pool: cf.Executor, data: fd.Shards) -> Step:
            return functools.partial(fd.sharded_loss_and_grad, pool, spec, params, data)

        steps = {
            "1 process, BLAS 1 thread": one_blas_thread(step(threads, whole)),
            "1 process, BLAS default threads": step(threads, whole),
            f"one shard alone ({half} rows), 1 process, 1 thread": one_blas_thread(
                step(threads, part)
            ),
            "2 process-pool workers x 1 thread (shard files)": step(processes, files),
            "2 dask workers x 1 thread": step(executor, shards),
            "2 dask workers, 1 row each (the fixed cost of a step)": step(executor, tiny),
        }
        before = sum(client.run(_bytes_sent).values())
        results = medians(steps, repeats)
        after = sum(client.run(_bytes_sent).values())
        dask_steps = 2 * (repeats + 3)  # the big and the tiny shards, warm-up included
        # Timed above on the bare pool; one more step each through the recording wrapper.
        fd.sharded_loss_and_grad(recording, spec, params, files)
        traffic = recording.take()
        fd.sharded_loss_and_grad(recording, spec, params, tiny_files)
        tiny_traffic = recording.take()
        reference = steps["1 process, BLAS 1 thread"]()
        sharded = steps["2 dask workers x 1 thread"]()

    baseline = results["1 process, BLAS 1 thread"]
    print(f"| full-batch gradient, {rows} rows | median s | vs 1 process, 1 thread |")
    print("|---|---:|---:|")
    for name, seconds in results.items():
        print(f"| {name} | {seconds:.3f} | {baseline / seconds:.2f}x |")
    difference = max(
        float(np.abs(a - b).max())
        for left, right in zip(reference[1], sharded[1], strict=True)
        for a, b in zip(left, right, strict=True)
    )
    assert tiny_traffic.received == traffic.received  # the same gradients come back
    print(
        f"\nscatter (once): {scatter_seconds:.2f} s for {X.nbytes / 2**20:.0f} MiB\n"
        f"bytes per step through the process pool (pickled, recorded): sent "
        f"{sum(traffic.sent)} ({len(traffic.sent)} tasks), received {sum(traffic.received)}; "
        f"on 1-row shards: sent {sum(tiny_traffic.sent)}, received {sum(tiny_traffic.received)}\n"
        f"bytes the dask workers sent per step (measured): {(after - before) / dask_steps:.0f}\n"
        f"largest |gradient difference| 1 process vs 2 dask workers: {difference:.2e}; "
        f"loss {reference[0]!r} vs {sharded[0]!r}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=784)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    run(args.rows, args.features, args.hidden, args.classes, args.repeats)


if __name__ == "__main__":
    main()
