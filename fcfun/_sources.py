"""Row sources: training data read a batch at a time instead of held in memory.

A numpy ``memmap`` or a dask array (anything with ``shape``, ``dtype`` and row indexing
that is not a plain in-memory ``ndarray``) is *streamed*: ``fit`` checks it block by
block, then reads each batch's rows in the epoch's order, so memory stays bounded by a
few batches (plus the epoch's order, 8 bytes a row) however large the data is. The
batches hold the same rows in the same order as for the data in memory, so the results
are bit-identical.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeAlias

import numpy as np

from fcfun._types import FloatArray, IntArray
from fcfun._validation import (
    check_real_dtype,
    check_rows_shape,
    check_sparse,
    check_sparse_structure,
    is_sparse,
    real_array,
)

BLOCK_ELEMENTS = 1 << 18
"""Elements per block when a streamed source is checked (2 MiB of float64)."""


class RowSource(Protocol):
    """Rows that can be read by index without loading the rest (memmap, dask array)."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    @property
    def dtype(self) -> np.dtype[Any]: ...

    def __getitem__(self, key: Any, /) -> Any: ...


Rows: TypeAlias = FloatArray | RowSource
"""A dataset's inputs: an in-memory float array of the params' dtype, or a row source."""


def is_streamed(X: object) -> bool:
    """Whether ``X`` is read batch by batch: a memmap, or an array-like that is not an
    in-memory ``ndarray`` but has ``shape``, ``dtype`` and row indexing (dask)."""
    if isinstance(X, np.memmap):
        return True
    if isinstance(X, np.ndarray | list | tuple):
        return False
    if not all(hasattr(X, name) for name in ("shape", "dtype", "__getitem__", "__array__")):
        return False
    try:  # a torch tensor has all of these, but a dtype numpy does not know: not streamed
        np.dtype(X.dtype)  # type: ignore[attr-defined]
    except TypeError:
        return False
    return True


def read_rows(X: Rows, rows: IntArray | slice, dtype: np.dtype[Any]) -> FloatArray:
    """Rows ``rows`` of ``X`` as an in-memory array of ``dtype``.

    In-memory data of ``dtype`` gives a view for a slice and a gather for an index array;
    a streamed source (or data of another dtype) reads and converts just those rows.
    """
    if isinstance(X, np.ndarray) and not isinstance(X, np.memmap) and X.dtype == dtype:
        return X[rows] if isinstance(rows, slice) else np.take(X, rows, axis=0)
    if is_sparse(X):  # checked CSR of dtype: the rows, still sparse
        sparse_rows: FloatArray = X[rows]
        return sparse_rows
    with np.errstate(over="ignore"):  # values beyond dtype were refused when checked
        batch: FloatArray = np.asarray(X[rows]).astype(dtype, copy=False)
    return batch


def check_rows(X: object, n_in: int, name: str = "X") -> Rows:
    """``X`` as rows to read a chunk at a time: its shape and kind checked, no value read.

    A streamed source stays one; anything else becomes an in-memory real array, not yet
    converted (``read_chunk`` converts and checks each chunk).
    """
    if is_streamed(X) or is_sparse(X):
        source: RowSource = X  # type: ignore[assignment]
        _check_shape_and_kind(source, n_in, name)
        if is_sparse(source):  # its indices checked before scipy converts or slices it
            return check_sparse_structure(source, name).tocsr()  # type: ignore[no-any-return]
        return source
    array = real_array(X, name)
    _check_shape_and_kind(array, n_in, name)
    return array


def read_chunk(X: Rows, rows: slice, dtype: np.dtype[Any], name: str = "X") -> FloatArray:
    """Rows ``rows`` of checked rows (``check_rows``) as ``dtype``, refused unless finite."""
    if is_sparse(X):
        return check_sparse(X[rows], X.shape[1], dtype, f"{name} rows {rows.start}..")
    with np.errstate(over="ignore", invalid="ignore"):
        chunk: FloatArray = np.asarray(X[rows]).astype(dtype, copy=False)
    if not np.isfinite(chunk).all():
        raise ValueError(
            f"{name} must be finite, got NaN or inf (or values beyond the range of {dtype}) "
            f"in rows {rows.start}..{rows.start + len(chunk) - 1}"
        )
    return chunk


def _check_shape_and_kind(X: RowSource, n_in: int, name: str) -> None:
    _check_known_shape(X, name)
    check_rows_shape(tuple(X.shape), n_in, name)
    check_real_dtype(np.dtype(X.dtype), name)


def _check_known_shape(X: RowSource, name: str) -> None:
    if not all(isinstance(n, int | np.integer) for n in X.shape):
        raise ValueError(
            f"{name} must have a known shape, got {tuple(X.shape)} (a dask array of unknown "
            "chunk sizes: call X.compute_chunk_sizes() first)"
        )


def check_source(X: RowSource, n_in: int, dtype: np.dtype[Any], name: str = "X") -> RowSource:
    """Check a streamed source's shape and dtype, and its values block by block."""
    _check_known_shape(X, name)
    shape = tuple(X.shape)
    if len(shape) != 2 or shape[0] == 0 or shape[1] != n_in:
        raise ValueError(
            f"{name} must be 2-D with at least one row and {n_in} columns (samples as rows), "
            f"got shape {shape}"
        )
    if np.dtype(X.dtype).kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (float, integer or bool), got dtype {X.dtype}"
        )
    rows_per_block = max(1, BLOCK_ELEMENTS // n_in)
    for start in range(0, shape[0], rows_per_block):
        block = read_rows(X, slice(start, start + rows_per_block), dtype)
        if not np.isfinite(block).all():
            raise ValueError(
                f"{name} must be finite, got NaN or inf (or values beyond the range of "
                f"{dtype}) in rows {start}..{start + len(block) - 1}"
            )
    return X
