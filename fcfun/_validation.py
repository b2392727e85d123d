"""Checks at the public boundary: once per call, never inside the hot loop.

Each check returns the value in the form the math wants (a float array of the
parameters' dtype, a tuple of ints) or raises a ``TypeError`` / ``ValueError`` whose
message names the argument, what was expected and what was given.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from fcfun._losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    softmax_cross_entropy,
)
from fcfun._types import Dense, FloatArray

if TYPE_CHECKING:
    from fcfun._network import MLP


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


def check_seed(seed: object) -> int:
    """A seed is a non-negative integer."""
    return check_int(seed, "seed", minimum=0)


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
    values = tuple(sizes)
    if len(values) < 2:
        raise ValueError(
            f"sizes must hold at least two layer sizes (inputs and outputs), got {values!r}"
        )
    for i, n in enumerate(values):
        check_int(n, f"sizes[{i}]", minimum=1)
    return tuple(int(n) for n in values)


def params_dtype(spec: MLP, params: object) -> np.dtype[Any]:
    """Check ``params`` against ``spec`` and return their common float dtype."""
    if not isinstance(params, tuple) or not all(isinstance(p, Dense) for p in params):
        raise TypeError(
            f"params must be a tuple of Dense(W, b), one per layer, got {describe(params)}"
        )
    if len(params) != spec.n_layers:
        raise ValueError(
            f"params must hold {spec.n_layers} layers for sizes {spec.sizes}, got {len(params)}"
        )
    dtype = None
    for i, (layer, n_in, n_out) in enumerate(zip(params, spec.sizes, spec.sizes[1:], strict=False)):
        for field, array, shape in (("W", layer.W, (n_in, n_out)), ("b", layer.b, (n_out,))):
            where = f"params[{i}].{field}"
            if not isinstance(array, np.ndarray):
                raise TypeError(f"{where} must be a numpy array, got {describe(array)}")
            if array.dtype not in (np.float32, np.float64):
                raise TypeError(f"{where} must have dtype float32 or float64, got {array.dtype}")
            if array.shape != shape:
                raise ValueError(f"{where} must have shape {shape}, got {array.shape}")
            if dtype is None:
                dtype = array.dtype
            elif array.dtype != dtype:
                raise TypeError(
                    f"{where} must have the dtype of params[0].W, {dtype} (all params "
                    f"share one dtype), got {array.dtype}"
                )
            if not np.isfinite(array).all():
                raise ValueError(f"{where} must be finite, got NaN or inf")
    assert dtype is not None
    result: np.dtype[Any] = dtype
    return result


def check_X(X: object, n_in: int, dtype: np.dtype[Any], name: str = "X") -> FloatArray:
    """A finite 2-D real array ``(m, n_in)`` with ``m >= 1``, as ``dtype``."""
    array = _real_array(X, name)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (samples as rows) of shape (m, {n_in}), "
            f"got shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {array.shape}")
    if array.shape[1] != n_in:
        raise ValueError(
            f"{name} must have {n_in} columns (the spec's input size), got shape {array.shape}"
        )
    return cast_finite(array, dtype, name)


def _real_array(value: object, name: str) -> np.ndarray[Any, Any]:
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{name} must be a plain numpy array, got a masked array; fill or drop the "
            "masked values first (e.g. X.filled(...) or X.compressed())"
        )
    if isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, list | tuple) or hasattr(value, "__array__"):
        try:
            array = np.asarray(value)
        except ValueError as error:
            raise ValueError(f"{name} must be a rectangular array, got ragged data") from error
    else:
        raise TypeError(f"{name} must be a numpy array, got {describe(value)}")
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (float, integer or bool), got dtype {array.dtype}"
        )
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


def check_targets(
    spec: MLP, Y: object, m: int, dtype: np.dtype[Any], name: str = "Y"
) -> FloatArray:
    """Targets for ``spec``'s loss, as a float array ``(m, n_out)`` of ``dtype``.

    Integer class labels ``(m,)`` become one-hot rows for softmax cross-entropy; a 1-D
    ``Y`` becomes a column when the network has one output.
    """
    k = spec.sizes[-1]
    array = _real_array(Y, name)
    if array.ndim == 0 or array.ndim > 2 or array.shape[0] != m:
        raise ValueError(f"{name} must have {m} rows, one per sample of X, got shape {array.shape}")
    if spec.loss is softmax_cross_entropy:
        return _class_targets(array, k, dtype, name)
    if array.ndim == 1:
        if k != 1:
            raise ValueError(
                f"{name} must have shape ({m}, {k}) for a network with {k} outputs, "
                f"got shape {array.shape}"
            )
        array = array[:, None]
    if array.shape[1] != k:
        raise ValueError(f"{name} must have shape ({m}, {k}), got shape {array.shape}")
    out = cast_finite(array, dtype, name)
    if (spec.loss is binary_cross_entropy or spec.loss is binary_cross_entropy_with_logits) and (
        (out < 0).any() or (out > 1).any()
    ):
        bad = out[(out < 0) | (out > 1)][0]
        raise ValueError(
            f"{name} must hold binary labels in {{0, 1}} (or probabilities in [0, 1]) "
            f"for {spec.loss.name}, got {float(bad)!r}"
        )
    return out


def _class_targets(
    array: np.ndarray[Any, Any], k: int, dtype: np.dtype[Any], name: str
) -> FloatArray:
    m = array.shape[0]
    if array.ndim == 1:
        if array.dtype.kind not in "iub":
            raise TypeError(
                f"{name} must be integer class labels of shape ({m},) or one-hot rows of "
                f"shape ({m}, {k}), got dtype {array.dtype} with shape {array.shape}"
            )
        outside = (array < 0) | (array >= k)
        if outside.any():
            bad = array[outside][0]
            raise ValueError(
                f"{name} must hold class indices in 0..{k - 1} for a network with {k} "
                f"outputs, got {int(bad)}"
            )
        one_hot = np.zeros((m, k), dtype=dtype)
        one_hot[np.arange(m), array.astype(np.intp)] = 1
        return one_hot
    if array.shape[1] != k:
        raise ValueError(
            f"{name} must be one-hot rows of shape ({m}, {k}) or integer labels of "
            f"shape ({m},), got shape {array.shape}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        out = array.astype(dtype, copy=False)
    tolerance = 8 * float(np.finfo(dtype).eps) * k
    not_distributions = (
        ~np.isfinite(out).all(axis=1)
        | (out < 0).any(axis=1)
        | (np.abs(out.sum(axis=1) - 1) > tolerance)
    )
    if not_distributions.any():
        row = int(np.flatnonzero(not_distributions)[0])
        raise ValueError(
            f"{name} must be one-hot rows (or probability rows summing to 1) for "
            f"softmax_cross_entropy; row {row} is {array[row].tolist()!r}"
        )
    return out
