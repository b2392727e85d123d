"""Generic argument checks at the public boundary: once per call, never in the hot loop.

Nothing here knows a network, a loss or a spec (those checks live with the spec, in
``_spec``). Each check returns the value in the form the math wants (a float array of the
parameters' dtype, a tuple of ints) or raises a ``TypeError`` / ``ValueError`` whose
message names the argument, what was expected and what was given.
"""

from __future__ import annotations

import collections.abc
import math
import numbers
from typing import Any

import numpy as np

from fcfun._types import FloatArray


def describe(value: object) -> str:
    """A short description of a value for an error message."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}" if _is_scalar(value) else type(value).__name__


def _is_scalar(value: object) -> bool:
    return isinstance(value, numbers.Number | str | bool | np.generic) or value is None


def check_int(value: object, name: str, *, minimum: int) -> int:
    """An integer (not a bool) at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {describe(value)}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {int(value)}")
    return int(value)


def check_bool(value: object, name: str) -> bool:
    """True or False (numpy's bool too)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


def check_float_dtype(dtype: object, name: str = "dtype") -> np.dtype[Any]:
    """float32 or float64, given as a numpy type, dtype or name."""
    given: Any = dtype
    try:
        resolved: np.dtype[Any] = np.dtype(given)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {describe(dtype)}") from None
    if resolved not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got {resolved}")
    return resolved


SEED_LIMIT = 2**63
"""Seeds are below this, so that a checkpoint stores them as int64."""


def check_seed(seed: object) -> int:
    """A seed is a non-negative integer below 2**63 (it is stored as int64)."""
    value = check_int(seed, "seed", minimum=0)
    if value >= SEED_LIMIT:
        raise ValueError(f"seed must be an integer in [0, 2**63), got {value}")
    return value


def check_real(
    value: object,
    name: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number in the interval [low, high] (ends open if asked)."""
    if high == math.inf:
        expected = f"a finite real number {'>' if low_open else '>='} {low:g}"
    else:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        expected = f"a finite real number in {left}{low:g}, {high:g}{right}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {describe(value)}")
    x = float(value)
    too_low = x <= low if low_open else x < low
    too_high = x >= high if high_open else x > high
    if not math.isfinite(x) or too_low or too_high:
        raise ValueError(f"{name} must be {expected}, got {x!r}")
    return x


def check_sizes(sizes: object) -> tuple[int, ...]:
    """Layer sizes: a sequence of at least two positive integers."""
    if isinstance(sizes, str | bytes) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"sizes must be a sequence of positive integers, got {describe(sizes)}")
    if isinstance(sizes, collections.abc.Set | collections.abc.Mapping):
        raise TypeError(
            f"sizes must be an ordered sequence (a list or tuple) of positive integers, got "
            f"{type(sizes).__name__} {sizes!r}, whose order is not the layers'"
        )
    values = tuple(sizes)
    if len(values) < 2:
        raise ValueError(
            f"sizes must hold at least two layer sizes (inputs and outputs), got {values!r}"
        )
    for i, n in enumerate(values):
        check_int(n, f"sizes[{i}]", minimum=1)
    return tuple(int(n) for n in values)


def check_X(X: object, n_in: int, dtype: np.dtype[Any], name: str = "X") -> FloatArray:
    """A finite 2-D real array ``(m, n_in)`` with ``m >= 1``, as ``dtype``.

    A scipy sparse matrix or array stays sparse: it becomes CSR (see ``check_sparse``).
    """
    if is_sparse(X):
        return check_sparse(X, n_in, dtype, name)
    array = real_array(X, name)
    check_rows_shape(tuple(array.shape), n_in, name)
    return cast_finite(array, dtype, name)


def is_sparse(X: object) -> bool:
    """Whether ``X`` is a scipy sparse matrix or array (recognised by its interface: the
    core never imports scipy)."""
    return all(hasattr(X, name) for name in ("tocsr", "nnz", "format", "shape"))


def check_sparse(X: Any, n_in: int, dtype: np.dtype[Any], name: str = "X") -> FloatArray:
    """A sparse ``X`` as a CSR matrix of ``dtype``: ``(m, n_in)``, real and finite, a copy
    whose arrays are read-only (nothing fcfun returns or keeps can change it), in canonical
    form (sorted indices, duplicates summed). Its index structure is checked first
    (``check_sparse_structure``); the caller's matrix is never changed.

    Sparse inputs travel where the core is typed ``FloatArray``: only the first layer's
    products (``X @ W`` and ``X.T @ dZ``, computed by scipy without densifying ``X``) and
    row indexing ever touch them.
    """
    check_rows_shape(tuple(X.shape), n_in, name)
    check_real_dtype(np.dtype(X.dtype), name)
    X = check_sparse_structure(X, name)
    with np.errstate(over="ignore", invalid="ignore"):
        csr = X.tocsr().astype(dtype, copy=True)
    csr.sum_duplicates()  # on fcfun's own copy: sorted indices, duplicates summed
    if not np.isfinite(csr.data).all():
        raise ValueError(
            f"{name} must be finite, got NaN or inf (or values beyond the range of {dtype}) "
            "among the sparse matrix's stored values"
        )
    for array in (csr.data, csr.indices, csr.indptr):
        array.flags.writeable = False
    checked: FloatArray = csr
    return checked


def check_sparse_structure(X: Any, name: str = "X") -> Any:
    """``X``'s index structure checked with numpy before any scipy kernel reads it.

    scipy's conversions and products trust ``indptr`` and ``indices``: an index out of
    range reads or writes outside the arrays (a crash, or garbage). CSR, CSC and BSR have
    their ``indptr`` (one entry per row, column or block row, plus one; from 0,
    non-decreasing, ending at the number of stored values) and ``indices`` (within the
    other dimension) checked; COO its ``row`` and ``col``. Any other format is converted
    to CSR by its own (Python) code and that CSR is checked. Returns ``X`` (or that CSR).

    Raises:
        ValueError: naming ``name``, the array at fault and the first bad entry.
    """
    shape = tuple(int(n) for n in X.shape)
    kind = str(X.format)
    if kind in ("csr", "csc", "bsr"):
        rows, cols = X.blocksize if kind == "bsr" else (1, 1)
        major, minor = (
            (shape[1], shape[0]) if kind == "csc" else (shape[0] // rows, shape[1] // cols)
        )
        what = {
            "csr": ("row", "column"),
            "csc": ("column", "row"),
            "bsr": ("block row", "block column"),
        }[kind]
        _check_compressed(X, kind, major, minor, what, name)
        return X
    if kind == "coo":
        data = _index_array(X.data, f"{name} (COO) data", integer=False)
        for field, bound in (("row", shape[0]), ("col", shape[1])):
            index = _index_array(getattr(X, field), f"{name} (COO) {field}")
            if index.shape != data.shape:
                raise ValueError(
                    f"{name} must be a well-formed COO matrix: {field} must have one entry "
                    f"per stored value ({data.shape[0]}), got {index.shape[0]}"
                )
            _check_in_range(index, bound, f"{name} must be a well-formed COO matrix: {field}")
        return X
    converted = X.tocsr()
    _check_compressed(converted, "csr", shape[0], shape[1], ("row", "column"), name)
    return converted


def _check_compressed(
    X: Any, kind: str, major: int, minor: int, what: tuple[str, str], name: str
) -> None:
    prefix = f"{name} must be a well-formed {kind.upper()} matrix"
    indptr = _index_array(X.indptr, f"{name} ({kind.upper()}) indptr")
    indices = _index_array(X.indices, f"{name} ({kind.upper()}) indices")
    stored = int(np.asarray(X.data).shape[0]) if np.ndim(X.data) >= 1 else -1
    if indptr.shape[0] != major + 1:
        raise ValueError(
            f"{prefix}: indptr must have {major + 1} entries (one per {what[0]}, plus one), "
            f"got {indptr.shape[0]}"
        )
    if indptr[0] != 0:
        raise ValueError(f"{prefix}: indptr must start at 0, got {int(indptr[0])}")
    steps = np.diff(indptr)
    if (steps < 0).any():
        at = int(np.argmax(steps < 0))
        raise ValueError(
            f"{prefix}: indptr must be non-decreasing, got indptr[{at}] = {int(indptr[at])} "
            f"> indptr[{at + 1}] = {int(indptr[at + 1])}"
        )
    if not int(indptr[-1]) == indices.shape[0] == stored:
        raise ValueError(
            f"{prefix}: indptr's last entry, the length of indices and the length of data "
            f"must agree (the number of stored values), got {int(indptr[-1])}, "
            f"{indices.shape[0]} and {stored}"
        )
    _check_in_range(indices, minor, f"{prefix}: indices ({what[1]} indices)")


def _index_array(value: object, name: str, *, integer: bool = True) -> np.ndarray[Any, Any]:
    array = np.asarray(value)
    if array.ndim < 1 or (integer and (array.ndim != 1 or array.dtype.kind not in "iu")):
        raise ValueError(
            f"{name} must be a 1-D array of integers, got {describe(array)}"
            if integer
            else f"{name} must be an array of stored values, got {describe(array)}"
        )
    return array


def _check_in_range(index: np.ndarray[Any, Any], bound: int, prefix: str) -> None:
    if index.size and (int(index.min()) < 0 or int(index.max()) >= bound):
        at = int(np.argmax((index < 0) | (index >= bound)))
        raise ValueError(f"{prefix} must be in [0, {bound}), got {int(index[at])} at position {at}")


def check_rows_shape(shape: tuple[int, ...], n_in: int, name: str = "X") -> None:
    """The shape of inputs: 2-D ``(m, n_in)`` with ``m >= 1`` (samples as rows)."""
    if len(shape) != 2:
        raise ValueError(
            f"{name} must be a 2-D array (samples as rows) of shape (m, {n_in}), got shape {shape}"
        )
    if shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {shape}")
    if shape[1] != n_in:
        raise ValueError(
            f"{name} must have {n_in} columns (the spec's input size), got shape {shape}"
        )


def check_real_dtype(dtype: np.dtype[Any], name: str = "X") -> None:
    """Real numbers: float, integer or bool."""
    if dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (float, integer or bool), got dtype {dtype}"
        )


def real_array(value: object, name: str) -> np.ndarray[Any, Any]:
    """``value`` as a numpy array of real numbers (float, integer or bool), not yet cast."""
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{name} must be a plain numpy array, got a masked array; fill or drop the "
            "masked values first (e.g. X.filled(...) or X.compressed())"
        )
    if type(value) is np.ndarray:
        array = value
    elif isinstance(value, np.ndarray):  # np.matrix and other subclasses: plain arrays
        array = np.asarray(value)
        if array.ndim != value.ndim or type(array) is not np.ndarray:
            raise TypeError(f"{name} must be a plain numpy array, got {type(value).__name__}")
    elif isinstance(value, list | tuple) or hasattr(value, "__array__"):
        try:
            array = np.asarray(value)
        except ValueError as error:
            raise ValueError(f"{name} must be a rectangular array, got ragged data") from error
    else:
        raise TypeError(f"{name} must be a numpy array, got {describe(value)}")
    check_real_dtype(array.dtype, name)
    return array


def cast_finite(array: np.ndarray[Any, Any], dtype: np.dtype[Any], name: str) -> FloatArray:
    """``array`` as ``dtype`` (no copy when it already is), refusing NaN and inf.

    Values beyond ``dtype``'s range become inf in the cast and are refused with the rest;
    the check runs over blocks of rows, so its memory is bounded for memory-mapped data.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        out: FloatArray = array.astype(dtype, copy=False)
    rows_per_block = max(1, 2**22 // max(1, out[:1].size))
    for start in range(0, out.shape[0], rows_per_block):
        if not np.isfinite(out[start : start + rows_per_block]).all():
            beyond = " (or values beyond the range of " + str(dtype) + ")"
            raise ValueError(f"{name} must be finite, got NaN or inf{beyond}")
    return out


def check_callable(value: object, name: str) -> None:
    """A function, or ``None``."""
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be a function or None, got {describe(value)}")
