"""Data-parallel full-batch training over any ``concurrent.futures.Executor``.

A full-batch gradient is a map over shards and a weighted sum. The rows are cut into
contiguous shards once (``shard``), placed once where the executor's workers can read them
(``scatter``), and every step sends only the parameters out and the gradients back
(``sharded_loss_and_grad``). ``fit_sharded`` is ``fcfun.fit`` with ``batch_size >= m`` and
``shuffle=False`` run that way: a reduce over epochs, one step per epoch.

Executors and where the shards live (``placement="auto"`` picks by executor):

* ``"dask"``: a ``dask.distributed`` ``Client.get_executor()``. The shards are sent to the
  workers with ``client.scatter`` (round robin) and every task receives a shard's future,
  so it runs on the worker holding that shard. Tasks are pure for Dask (its default), so
  a step repeated with the same params may get back a result Dask still holds; make the
  executor with ``client.get_executor(pure=False)`` to always compute (for timing).
* ``"memory"``: a ``ThreadPoolExecutor``. The shards are views of the checked data in this
  process; nothing is copied.
* ``"files"``: a ``ProcessPoolExecutor`` or any other executor whose workers share this
  machine's file system. Each shard is written once to a ``.npy`` file in a temporary
  directory; a task carries the file names, and each worker process memory-maps a file
  the first time it meets it and keeps the map (up to 64 files and 1 GiB per process,
  least recently used evicted; maps of deleted or replaced files are dropped when the
  worker meets a new file), so the pages come from the shared page cache, never a pipe.

Summation order: with shard ``i`` of ``m_i`` rows, mean loss ``L_i`` and mean gradient
``g_i``, and ``w_i = m_i / m`` (a float; exact for halves, quarters, ... of ``m``),

    L = (...((w_0 L_0 + w_1 L_1) + w_2 L_2) ...),  g = (...((w_0 g_0 + w_1 g_1) + ...)

in shard order, whatever order the tasks finish in, then the L2 penalty once over the
whole batch: ``L += alpha / (2 m) * sum ||W||^2`` and ``dW += alpha / m * W``. So for a fixed
shard layout the result is bit-identical from run to run, and it equals the single-process
``fcfun.loss_and_grad`` to rounding (one shard: exactly).

Specs travel by name, through fcfun's one spec codec (``spec_names`` / ``spec_from_names``),
and are rebuilt and cached in each worker process, so a spec's activations and loss must
be fcfun's own; with a thread pool any spec works. fcfun must be importable on every
worker. An epoch is ``fcfun``'s own epoch function (``epoch_function``) with one step whose
gradient is the sharded one, so the history, divergence reports and validation are the
training loop's.

Nothing here imports dask: it is found through the executor (its ``_client``).
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import functools
import itertools
import math
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple, TypeAlias, TypeVar

import numpy as np

from fcfun._blas import fixed_threads
from fcfun._dropout import StepKey, step_masks
from fcfun._losses import weighted
from fcfun._metrics import Metric
from fcfun._network import penalty, training_activations, value_and_grad
from fcfun._optimizers import Optimizer, state_says
from fcfun._spec import (
    MLP,
    SpecNames,
    check_spec,
    params_dtype,
    scaled_alpha,
    scaled_weight,
    spec_from_names,
    spec_names,
)
from fcfun._state import TrainState
from fcfun._training import (
    Dataset,
    EarlyStopping,
    Run,
    Watch,
    all_finite,
    check_watch,
    data_dtype,
    dataset,
    epoch_function,
    make_step,
    start_state,
    validation_data,
    validator,
    watched_run,
)
from fcfun._types import Dense, FloatArray, FloatDType, Params, freeze, seal_tree
from fcfun._validation import (
    check_callable,
    check_float_dtype,
    check_int,
    check_real,
    describe,
    is_sparse,
)

__all__ = [
    "Placement",
    "Shards",
    "fit_sharded",
    "scatter",
    "shard",
    "shard_sizes",
    "sharded_loss_and_grad",
]

S = TypeVar("S")
"""The optimizer state's type."""

Placement: TypeAlias = Literal["auto", "dask", "memory", "files"]
"""Where ``scatter`` puts the shards (see the module docstring)."""

_MAPPED_FILES = 64
"""How many shard files a worker process keeps memory-mapped, at most."""

_MAPPED_BYTES = 1 << 30
"""How many bytes of shard files a worker process keeps memory-mapped, at most (1 GiB)."""


# Shard layout ----------------------------------------------------------------------


def shard_sizes(m: int, n_shards: int | Sequence[int]) -> tuple[int, ...]:
    """The row count of each shard of ``m`` rows.

    Args:
        m: the number of rows.
        n_shards: how many shards (their sizes then differ by at most one, the larger
            first), or the sizes themselves, each ``>= 1``, summing to ``m``.

    >>> shard_sizes(10, 3)
    (4, 3, 3)
    >>> shard_sizes(10, [7, 3])
    (7, 3)
    """
    m = check_int(m, "m", minimum=1)
    if isinstance(n_shards, Sequence) and not isinstance(n_shards, str | bytes):
        sizes = tuple(check_int(n, f"n_shards[{i}]", minimum=1) for i, n in enumerate(n_shards))
        if not sizes or sum(sizes) != m:
            raise ValueError(
                f"n_shards as shard sizes must sum to the {m} rows, got {sizes} (sum {sum(sizes)})"
            )
        return sizes
    count = check_int(n_shards, "n_shards", minimum=1)
    if count > m:
        raise ValueError(f"n_shards must be at most the {m} rows, got {count}")
    base, extra = divmod(m, count)
    return tuple(base + (1 if i < extra else 0) for i in range(count))


def shard(data: Dataset, n_shards: int | Sequence[int]) -> tuple[Dataset, ...]:
    """Contiguous row slices of checked ``data`` (views, no copies), in row order.

    A streamed ``X`` (a memmap or a dask array) gives slices of it, read by ``scatter``.

    >>> d = Dataset(np.arange(10.0).reshape(5, 2), np.zeros((5, 1)))
    >>> [s.X[:, 0].tolist() for s in shard(d, 2)]
    [[0.0, 2.0, 4.0], [6.0, 8.0]]
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be an fcfun Dataset (from fcfun.dataset), got {describe(data)}")
    sizes = shard_sizes(data.X.shape[0], n_shards)
    ends = np.cumsum(sizes).tolist()
    weight = data.sample_weight
    return tuple(
        Dataset(
            data.X[end - size : end],
            data.Y[end - size : end],
            None if weight is None else weight[end - size : end],
        )
        for size, end in zip(sizes, ends, strict=True)
    )


# What a task carries ---------------------------------------------------------------


class _Shard(NamedTuple):
    """One shard's rows in memory (a view where the data already was)."""

    X: FloatArray
    Y: FloatArray
    sample_weight: FloatArray | None = None


class _ShardFile(NamedTuple):
    """A shard written to ``.npy`` files (two, or three with weights)."""

    X: str
    Y: str
    sample_weight: str | None = None


def _wire_spec(spec: MLP, placement: str) -> MLP | SpecNames:
    """The spec as tasks carry it: by name, or itself when in-process and unnamed."""
    try:
        return spec_names(spec)
    except ValueError as error:
        if placement == "memory":
            return spec
        raise ValueError(
            f"{error}; specs travel by name to train in other processes: use a thread pool "
            "for this spec"
        ) from None


_named_spec = functools.lru_cache(maxsize=16)(spec_from_names)
"""``spec_from_names``, cached per worker process."""


class _MappedFile(NamedTuple):
    """A shard file a worker keeps mapped: which file it was (``_identity``) and its map."""

    identity: tuple[int, ...]
    array: FloatArray


_maps: collections.OrderedDict[str, _MappedFile] = collections.OrderedDict()
"""The shard files this worker process keeps mapped, least recently used first."""
_maps_lock = threading.Lock()


def _identity(path: str) -> tuple[int, ...] | None:
    """The file at ``path`` now (device, inode, size, change times), ``None`` if gone: a
    file deleted, or replaced by another at the same path, has another identity."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


def _mapped_bytes() -> int:
    return sum(entry.identity[2] for entry in _maps.values())


def _mapped(path: str) -> FloatArray:
    """A shard file, memory-mapped read-only and kept mapped for the steps that follow.

    The maps kept are bounded by ``_MAPPED_FILES`` and ``_MAPPED_BYTES`` (least recently
    used dropped first; a file larger than the bound is mapped for its task only), and a
    file met for the first time (a new ``scatter``'s, or one replaced) first drops every
    map whose file was deleted or replaced, so the files of closed shards are released
    at the worker's next new file, not kept until 64 others have come.
    """
    identity = _identity(path)
    with _maps_lock:
        kept = _maps.get(path)
        if kept is not None and kept.identity == identity:
            _maps.move_to_end(path)
            return kept.array
        for stale in [name for name, entry in _maps.items() if _identity(name) != entry.identity]:
            del _maps[stale]
    array: FloatArray = np.asarray(np.load(path, mmap_mode="r"))
    if identity is not None and identity[2] <= _MAPPED_BYTES:
        with _maps_lock:
            _maps[path] = _MappedFile(identity, array)
            _maps.move_to_end(path)
            while len(_maps) > _MAPPED_FILES or _mapped_bytes() > _MAPPED_BYTES:
                _maps.popitem(last=False)
    return array


def _shard_loss_and_grad(
    spec: MLP | SpecNames,
    params: Params,
    data: _Shard | _ShardFile,
    key: StepKey | None = None,
) -> tuple[float, Params]:
    """One task: the unpenalized mean loss and gradient on one shard (runs in a worker).

    With dropout, ``key`` (its ``offset`` the shard's first row in the whole batch) draws
    the masks the single-process step draws for these rows.
    """
    model = spec if isinstance(spec, MLP) else _named_spec(spec)
    if isinstance(data, _ShardFile):
        weight = None if data.sample_weight is None else _mapped(data.sample_weight)
        rows = _Shard(_mapped(data.X), _mapped(data.Y), weight)
    else:
        rows = data
    X = rows.X
    masks = (
        step_masks(model.dropout, model.sizes[1:-1], key, X.shape[0], X.dtype)
        if model.dropout and key is not None
        else ()
    )
    try:
        # As in fit's epochs: an overflow is a divergence, reported by the caller's step.
        with fixed_threads(), np.errstate(over="raise", invalid="raise", divide="ignore"):
            loss, grads = value_and_grad(
                model,
                training_activations(model),
                params,
                X,
                rows.Y,
                0.0,
                masks,
                None if rows.sample_weight is None else weighted(rows.sample_weight),
            )
    except FloatingPointError:
        return math.inf, params
    return loss, seal_tree(grads)


# Placing the data ------------------------------------------------------------------


def _dask_client(executor: object) -> Any:
    """The ``dask.distributed`` client behind ``Client.get_executor()``, else ``None``."""
    client = getattr(executor, "_client", None)
    if type(executor).__module__.startswith("distributed.") and callable(
        getattr(client, "scatter", None)
    ):
        return client
    return None


class Shards:
    """Checked training data cut into shards and placed for an executor's workers.

    Made by ``scatter``; release it with ``close()`` or a ``with`` block (scattered futures
    are released, shard files deleted). Closing twice is harmless.

    Attributes:
        spec: the spec the data was checked against.
        dtype: the data's float dtype (the params' dtype).
        sizes: every shard's row count, in order.
        placement: ``"dask"``, ``"memory"`` or ``"files"``.
        totals: every shard's weight in the mean: its rows, or its samples' total weight
            (of the weights as ``scaled_weight`` scaled them by ``2**-weight_exponent``).
        weight_exponent: that scaling's exponent (0 without weights), by which the L2
            term's ``alpha`` is scaled too (``scaled_alpha``).
    """

    __slots__ = (
        "__weakref__",
        "_client",
        "_closer",
        "_refs",
        "_task_spec",
        "dtype",
        "placement",
        "sizes",
        "spec",
        "totals",
        "weight_exponent",
    )

    def __init__(
        self,
        spec: MLP,
        dtype: np.dtype[Any],
        sizes: tuple[int, ...],
        placement: Literal["dask", "memory", "files"],
        refs: tuple[Any, ...],
        *,
        client: Any = None,
        closer: Callable[[], object] | None = None,
        totals: tuple[float, ...] | None = None,
        weight_exponent: int = 0,
    ) -> None:
        self.spec = spec
        self.dtype = dtype
        self.sizes = sizes
        self.totals: tuple[float, ...] = sizes if totals is None else totals
        self.weight_exponent = weight_exponent
        self.placement = placement
        self._refs: tuple[Any, ...] | None = refs
        self._client = client
        self._task_spec = _wire_spec(spec, placement)
        self._closer = closer

    @property
    def m(self) -> int:
        """The total number of rows."""
        return sum(self.sizes)

    @property
    def closed(self) -> bool:
        """Whether ``close`` has released the shards."""
        return self._refs is None

    def close(self) -> None:
        """Release the placed shards (scattered futures, shard files)."""
        refs, self._refs = self._refs, None
        if refs is not None and self._closer is not None:
            self._closer()

    def __enter__(self) -> Shards:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.placement
        return f"Shards(sizes={self.sizes}, dtype={self.dtype}, {state})"

    def _live_refs(self) -> tuple[Any, ...]:
        if self._refs is None:
            raise ValueError("shards are closed; scatter the data again")
        return self._refs


def scatter(
    executor: cf.Executor,
    spec: MLP,
    X: Any,
    Y: Any,
    n_shards: int | Sequence[int],
    *,
    dtype: FloatDType = np.float64,
    placement: Placement = "auto",
    sample_weight: Any = None,
) -> Shards:
    """Check ``(X, Y)`` once, cut it into shards and place them for ``executor``'s workers.

    Args:
        executor: where the gradient tasks will run.
        spec: the network; the data is checked against it as ``fcfun.dataset`` does.
        X: inputs ``(m, n_in)``: an array, or a memmap or dask array, which is read one
            shard at a time (for ``"files"`` and ``"dask"``, never whole in this process).
        Y: targets, as for ``fcfun.fit``.
        n_shards: a shard count, or the shards' row counts (see ``shard_sizes``).
        dtype: the params' dtype; the data is converted once.
        placement: ``"auto"`` (by executor), or ``"dask"``, ``"memory"``, ``"files"``.
            ``"memory"`` with a process pool would pickle every shard into every task.
        sample_weight: ``(m,)`` weights of the samples, as for ``fcfun.fit``; each shard
            carries its rows' weights and its mean is their weighted mean.

    Returns:
        A ``Shards``; close it when done.

    >>> import concurrent.futures as cf, fcfun, numpy as np
    >>> spec = fcfun.mlp([2, 1], output="identity", loss="half_squared_error")
    >>> with cf.ThreadPoolExecutor(2) as pool, scatter(pool, spec, np.ones((5, 2)),
    ...                                                 np.ones(5), 2) as shards:
    ...     shards
    Shards(sizes=(3, 2), dtype=float64, memory)
    """
    spec = check_spec(spec)
    if not isinstance(executor, cf.Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor, got {describe(executor)}")
    if placement not in ("auto", "dask", "memory", "files"):
        raise ValueError(
            f"placement must be 'auto', 'dask', 'memory' or 'files', got {placement!r}"
        )
    resolved = check_float_dtype(dtype)
    client = _dask_client(executor)
    if placement == "auto":
        placement = (
            "dask"
            if client is not None
            else "memory"
            if isinstance(executor, cf.ThreadPoolExecutor)
            else "files"
        )
    if placement == "dask" and client is None:
        raise ValueError(
            "placement='dask' needs a dask.distributed Client.get_executor(), got "
            f"{describe(executor)}"
        )
    _wire_spec(spec, placement)  # refuse an unnamed activation before any data moves
    if is_sparse(X):
        raise TypeError(
            "X must be a dense array or a row source (memmap, dask array) to be sharded, got "
            "a sparse matrix; densify it, or train it with fcfun.fit"
        )
    data, exponent = dataset(spec, X, Y, resolved, sample_weight), 0
    if data.sample_weight is not None:  # scaled once, as fit scales them (epoch_of)
        weight, exponent = scaled_weight(data.sample_weight)
        data = data._replace(sample_weight=weight)
    pieces = shard(data, n_shards)
    sizes = tuple(piece.Y.shape[0] for piece in pieces)
    totals = None if sample_weight is None else tuple(piece.total_weight for piece in pieces)
    if placement == "memory":
        in_memory = tuple(_in_memory(piece, resolved) for piece in pieces)
        return Shards(
            spec, resolved, sizes, "memory", in_memory, totals=totals, weight_exponent=exponent
        )
    if placement == "dask":
        # One shard at a time, round robin over the workers: a streamed X is read one
        # shard at a time, never whole, in this process.
        workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
        if not workers:
            raise ValueError("the dask cluster must have a worker to scatter to, got none")
        futures = tuple(
            client.scatter(
                _Travelling(_in_memory(piece, resolved)),
                workers=[workers[i % len(workers)]],
                hash=False,
            )
            for i, piece in enumerate(pieces)
        )
        release = functools.partial(_release, futures)
        return Shards(
            spec,
            resolved,
            sizes,
            "dask",
            futures,
            client=client,
            closer=release,
            totals=totals,
            weight_exponent=exponent,
        )
    directory = tempfile.mkdtemp(prefix="fcfun-shards-")
    try:
        refs = tuple(
            _write(directory, i, _in_memory(piece, resolved)) for i, piece in enumerate(pieces)
        )
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    shards = Shards(spec, resolved, sizes, "files", refs, totals=totals, weight_exponent=exponent)
    shards._closer = weakref.finalize(shards, shutil.rmtree, directory, ignore_errors=True)
    return shards


def _in_memory(piece: Dataset, dtype: np.dtype[Any]) -> _Shard:
    """``piece`` as arrays of ``dtype``: views of in-memory data, a read of a streamed X."""
    with np.errstate(over="ignore"):  # values beyond dtype were refused when checked
        X: FloatArray = np.asarray(piece.X).astype(dtype, copy=False)
    return _Shard(freeze(X), piece.Y, piece.sample_weight)


class _Travelling:
    """A shard on its way to a dask worker, where it unpickles as an aligned ``_Shard``.

    Dask unpickles arrays as views into its network frames, at any byte offset; numpy
    then copies a misaligned operand inside every matrix product. Copying once on
    arrival (``_arrived``) keeps that copy out of the steps.
    """

    def __init__(self, data: _Shard) -> None:
        self.data = data

    def __reduce__(self) -> tuple[Callable[..., _Shard], _Shard]:
        return _arrived, self.data


def _arrived(X: FloatArray, Y: FloatArray, sample_weight: FloatArray | None = None) -> _Shard:
    weight = None if sample_weight is None else freeze(_aligned(sample_weight))
    return _Shard(freeze(_aligned(X)), freeze(_aligned(Y)), weight)


def _aligned(array: FloatArray) -> FloatArray:
    """``array``, or a copy of it starting on a 64-byte boundary (a cache line)."""
    if array.ctypes.data % 64 == 0 and array.flags.c_contiguous:
        return array
    out = np.empty(array.size * array.itemsize + 64, dtype=np.uint8)
    start = -out.ctypes.data % 64
    copy: FloatArray = out[start : start + array.size * array.itemsize].view(array.dtype)
    copy = copy.reshape(array.shape)
    copy[...] = array
    return copy


def _write(directory: str, index: int, piece: _Shard) -> _ShardFile:
    names = "XYW" if piece.sample_weight is not None else "XY"
    paths = _ShardFile(*(os.path.join(directory, f"{name}{index}.npy") for name in names))
    for path, array in zip(paths, piece, strict=True):
        if path is not None and array is not None:
            np.save(path, array, allow_pickle=False)
    return paths


def _release(futures: tuple[Any, ...]) -> None:
    for future in futures:
        future.release()


# One step --------------------------------------------------------------------------


def _combine(
    results: Sequence[tuple[float, Params]],
    sizes: Sequence[float],
    params: Params,
    alpha: float,
) -> tuple[float, Params]:
    """The weighted sum in shard order, then the penalty once (see the module docstring);
    the gradients in fresh writeable arrays the caller owns. ``sizes`` are the shards'
    rows, or their samples' total weights."""
    m = sum(sizes)
    weights = [size / m for size in sizes]
    loss = weights[0] * results[0][0]
    for weight, (shard_loss, _) in zip(weights[1:], results[1:], strict=True):
        loss = loss + weight * shard_loss
    decay = alpha / m
    layers = []
    for index, layer in enumerate(params):
        dW = weights[0] * results[0][1][index].W
        db = weights[0] * results[0][1][index].b
        for weight, (_, grads) in zip(weights[1:], results[1:], strict=True):
            dW += weight * grads[index].W
            db += weight * grads[index].b
        if decay != 0:
            dW += decay * layer.W
        layers.append(Dense(dW, db))
    return loss + penalty(params, alpha, m), tuple(layers)


def _sharded(
    executor: cf.Executor,
    shards: Shards,
    params: Params,
    alpha: float,
    key: StepKey | None = None,
) -> tuple[float, Params]:
    refs = shards._live_refs()
    offsets = itertools.accumulate(shards.sizes[:-1], initial=0)
    keys = [None if key is None else key._replace(offset=offset) for offset in offsets]
    # A shard whose samples all weigh 0 adds nothing (and has no mean of its own).
    tasks = [
        (ref, shard_key, total)
        for ref, shard_key, total in zip(refs, keys, shards.totals, strict=True)
        if total > 0
    ]
    futures = [
        executor.submit(_shard_loss_and_grad, shards._task_spec, params, ref, shard_key)
        for ref, shard_key, _ in tasks
    ]
    try:
        results = [future.result() for future in futures]  # in shard order
    finally:
        for future in futures:
            future.cancel()
    totals = [total for _, _, total in tasks]
    return _combine(results, totals, params, scaled_alpha(alpha, shards.weight_exponent))


def _check_executor(executor: object, shards: Shards) -> cf.Executor:
    if not isinstance(executor, cf.Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor, got {describe(executor)}")
    if shards.placement == "dask" and _dask_client(executor) is not shards._client:
        raise ValueError(
            "executor must come from the dask Client the shards were scattered with "
            "(client.get_executor())"
        )
    return executor


def sharded_loss_and_grad(
    executor: cf.Executor, spec: MLP, params: Params, shards: Shards, *, alpha: float = 0.0
) -> tuple[float, Params]:
    """The mean loss over all shards' rows and its gradient: one task per shard, then a sum.

    Equals ``fcfun.loss_and_grad(spec, params, X, Y, alpha=alpha)`` on the whole data to
    rounding, combined in the fixed order of the module docstring. Only ``params`` go out
    and one gradient per shard comes back.

    Args:
        executor: runs the tasks (for ``"dask"`` shards, from the same client).
        spec: the spec the shards were scattered with.
        params: the parameters, of the shards' dtype.
        shards: from ``scatter``.
        alpha: the L2 penalty, applied once over all ``m`` rows.

    >>> import concurrent.futures as cf, fcfun, numpy as np
    >>> spec = fcfun.mlp([2, 1], output="identity", loss="half_squared_error")
    >>> params = (fcfun.Dense(np.array([[1.0], [2.0]]), np.array([0.5])),)
    >>> X, y = np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]), np.array([3.0, 1.0, 2.0])
    >>> with cf.ThreadPoolExecutor(2) as pool, scatter(pool, spec, X, y, [2, 1]) as shards:
    ...     loss, grads = sharded_loss_and_grad(pool, spec, params, shards)
    >>> whole, whole_grads = fcfun.loss_and_grad(spec, params, X, y)
    >>> bool(np.isclose(loss, whole)), bool(np.allclose(grads[0].W, whole_grads[0].W))
    (True, True)
    """
    if not isinstance(shards, Shards):
        raise TypeError(f"shards must be fcfun.distributed Shards, got {describe(shards)}")
    if check_spec(spec) != shards.spec:
        raise ValueError("spec must be the spec the shards were scattered with")
    executor = _check_executor(executor, shards)
    dtype = params_dtype(spec, params)
    if dtype != shards.dtype:
        raise TypeError(f"params must have the shards' dtype {shards.dtype}, got {dtype}")
    alpha = check_real(alpha, "alpha", low=0.0)
    loss, grads = _sharded(executor, shards, params, alpha)
    seal_tree(grads)
    if not (math.isfinite(loss) and all_finite(grads)):
        raise ValueError(
            f"params must keep the loss and gradient within {dtype}'s range on this data, "
            f"got loss {loss!r} and a {'finite' if all_finite(grads) else 'non-finite'} "
            "gradient"
        )
    return loss, grads


# Training --------------------------------------------------------------------------


def _sharded_gradient(
    executor: cf.Executor, shards: Shards, alpha: float
) -> Callable[[Params, Shards, StepKey], tuple[float, Params, float]]:
    """The training step's ``Gradient`` of the whole data: one batch of ``m`` rows."""

    def gradient(params: Params, batch: Shards, key: StepKey) -> tuple[float, Params, float]:
        return (*_sharded(executor, batch, params, alpha, key), sum(batch.totals))

    return gradient


def fit_sharded(
    spec: MLP,
    X: Any,
    Y: Any,
    *,
    executor: cf.Executor,
    n_shards: int | Sequence[int],
    optimizer: Optimizer[S],
    epochs: int,
    seed: int | None = None,
    params: Params | TrainState[S] | None = None,
    alpha: float = 0.0,
    validation: tuple[Any, Any] | None = None,
    metric: Metric | None = None,
    dtype: FloatDType | None = None,
    placement: Placement = "auto",
    on_divergence: Literal["raise", "stop"] = "raise",
    sample_weight: Any = None,
    early_stopping: EarlyStopping | None = None,
    callback: Callable[[TrainState[Any]], object] | None = None,
) -> TrainState[S]:
    """Full-batch training with sharded gradients: ``reduce(epoch, range(start, epochs))``.

    Each epoch is one step on the gradient of all ``m`` rows, computed by
    ``sharded_loss_and_grad`` on ``executor``. The data is scattered once for the run and
    released at its end. The result has ``fcfun.fit``'s structure and equals
    ``fcfun.fit(..., batch_size=m, shuffle=False)`` to rounding (bit for bit with one
    shard), and two runs with the same shard layout give bit-identical states.

    ``spec``, ``X``, ``Y``, ``optimizer``, ``epochs``, ``seed``, ``params``, ``alpha``,
    ``validation``, ``metric``, ``dtype``, ``on_divergence``, ``sample_weight``,
    ``early_stopping`` and ``callback`` are as for ``fcfun.fit``: the run goes through the
    same stages (``watched_run``). Validation runs in this process.

    Args:
        executor: runs the gradient tasks: a thread or process pool, or a dask
            ``Client.get_executor()``.
        n_shards: a shard count, or the shards' row counts (see ``shard_sizes``).
        placement: where the shards live (see ``scatter``).

    Returns:
        The final ``TrainState``.

    >>> import concurrent.futures as cf, fcfun, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(64, 3)), rng.integers(0, 2, 64)
    >>> spec = fcfun.mlp([3, 8, 1], output="sigmoid", loss="binary_cross_entropy")
    >>> with cf.ThreadPoolExecutor(2) as pool:
    ...     state = fit_sharded(spec, X, y, executor=pool, n_shards=2,
    ...                         optimizer=fcfun.adam(1e-2), epochs=3, seed=0)
    >>> alone = fcfun.fit(spec, X, y, optimizer=fcfun.adam(1e-2), epochs=3, batch_size=64,
    ...                   seed=0, shuffle=False)
    >>> bool(np.allclose(state.params[0].W, alone.params[0].W, rtol=0, atol=1e-12))
    True
    """
    spec = check_spec(spec)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an fcfun Optimizer, got {describe(optimizer)}")
    epochs = check_int(epochs, "epochs", minimum=0)
    alpha = check_real(alpha, "alpha", low=0.0)
    check_callable(metric, "metric")
    watch = Watch(callback, early_stopping, None, on_divergence)
    check_watch(watch, has_validation=validation is not None)  # before any data moves
    start, resolved = start_state(
        spec, optimizer, seed, params, data_dtype(X) if dtype is None else dtype
    )
    if state_says(start.opt_state, "fixed_objective") and spec.dropout:
        raise ValueError(
            "optimizer steps one fixed objective (no dropout), as lbfgs does: spec.dropout "
            f"must be (), got {spec.dropout}"
        )
    checked_validation = validation_data(spec, validation, resolved)
    with scatter(
        executor,
        spec,
        X,
        Y,
        n_shards,
        dtype=resolved,
        placement=placement,
        sample_weight=sample_weight,
    ) as shards:
        validate = validator(spec, checked_validation, metric, alpha)
        step = make_step(_sharded_gradient(executor, shards, alpha), optimizer)
        epoch = epoch_function(step, lambda seed, epoch: (shards,), sum(shards.totals), validate)
        epochs_left = range(start.epoch, max(epochs, start.epoch))
        run = Run(start, epoch, epochs_left)
        return watched_run(run, watch, has_validation=checked_validation is not None)
