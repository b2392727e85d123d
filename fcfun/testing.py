"""Assertions for replay tests: say which array differs first, and by how much.

``assert_same_run(a, b)`` compares two trees (``TrainState``, ``Params``, any nested
tuples of arrays and scalars) bit for bit and, when they differ, names the first leaf
that does, the first differing element and the distance in units in the last place, so
a failing replay test explains itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from fcfun._tree import flatten, structure

__all__ = ["assert_same_run", "ulp_distance"]


def ulp_distance(a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.uint64]:
    """How many representable floats lie between ``a`` and ``b``, element by element.

    ``0`` for equal bits (``-0.0`` and ``0.0`` are one apart); NaNs compare by their bits.

    >>> int(ulp_distance(np.float64(1.0), np.nextafter(1.0, 2.0)))
    1
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.dtype.kind != "f":
        raise TypeError(f"a and b must be float arrays of one dtype, got {a.dtype} and {b.dtype}")
    unsigned = {4: np.uint32, 8: np.uint64, 2: np.uint16}[a.dtype.itemsize]
    top = np.array(1, dtype=unsigned) << np.array(8 * a.dtype.itemsize - 1, dtype=unsigned)

    def ordered(x: npt.NDArray[Any]) -> npt.NDArray[Any]:
        # Map the float's bits onto a line where neighbouring floats are neighbours.
        bits = x.view(unsigned)
        return np.where(bits & top, top - (bits & ~top) - 1, bits | top)  # type: ignore[no-any-return]

    first, second = ordered(a), ordered(b)
    distance: npt.NDArray[np.uint64] = np.where(
        first > second, first - second, second - first
    ).astype(np.uint64)
    return distance


def assert_same_run(a: object, b: object) -> None:
    """Assert that two trees hold the same structure and bits, explaining the first difference.

    Raises:
        AssertionError: naming the first leaf (by its path, e.g. ``params/1/W``) whose
            kind, shape, dtype or bits differ; for float arrays, the first differing index,
            both values and their distance in ulps, and how many elements differ.

    >>> import fcfun
    >>> d = fcfun.Dense(np.array([[1.0]]), np.array([0.0]))
    >>> assert_same_run((d,), (d._replace(b=np.array([1e-300])),))
    Traceback (most recent call last):
    ...
    AssertionError: 0/b differs at (0,): 0.0 != 1e-300 (...ulps); 1 of 1 elements differ
    """
    if structure(a) != structure(b):
        raise AssertionError(f"the trees differ in structure: {structure(a)!r} != {structure(b)!r}")
    for (path, x), (_, y) in zip(flatten(a), flatten(b), strict=True):
        if not isinstance(x, np.ndarray | np.generic):
            if x != y:
                raise AssertionError(f"{path} differs: {x!r} != {y!r}")
            continue
        y_array, x_array = np.asarray(y), np.asarray(x)
        if x_array.dtype != y_array.dtype or x_array.shape != y_array.shape:
            raise AssertionError(
                f"{path} differs: {x_array.dtype}{x_array.shape} != {y_array.dtype}{y_array.shape}"
            )
        if x_array.tobytes() == y_array.tobytes():
            continue
        differs = x_array.view(np.uint8).reshape(*x_array.shape, -1) != y_array.view(
            np.uint8
        ).reshape(*y_array.shape, -1)
        where = np.argwhere(differs.any(axis=-1)) if x_array.ndim else np.zeros((1, 0), int)
        index = tuple(int(i) for i in where[0])
        first, second = x_array[index].item(), y_array[index].item()
        detail = ""
        if x_array.dtype.kind == "f":
            distance = ulp_distance(x_array[index], y_array[index])
            detail = f" ({int(distance)} ulps)"
        raise AssertionError(
            f"{path} differs at {index}: {first!r} != {second!r}{detail}; "
            f"{len(where)} of {x_array.size} elements differ"
        )
