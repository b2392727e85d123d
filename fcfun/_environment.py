"""What a replay depends on: the record of the software and hardware a result came from.

fcfun's promise: the same arguments give the same bits on any machine with the same
record. The core count is not in it; the BLAS thread count is, as the count fcfun's
products use (``blas_threads``: ``min(BLAS_THREADS, the process's count)``, see
``_blas``), since fcfun never raises a process's count and OpenBLAS with one thread can
give other bits than with two. What else may change the bits is another numpy or BLAS
build, another BLAS kernel (``OPENBLAS_CORETYPE``, another CPU family) or another set of
CPU features numpy dispatches its loops to (``NPY_DISABLE_CPU_FEATURES``, another CPU).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import platform

import numpy as np

from fcfun._blas import blas_record


def _fcfun_version() -> str:
    try:
        return importlib.metadata.version("fcfun")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _cpu_features() -> str:
    """The CPU features numpy's dispatched loops use here, e.g. ``AVX2 AVX512F FMA3``."""
    try:
        umath = importlib.import_module("numpy._core._multiarray_umath")
    except ImportError:  # another numpy layout: the record says so
        return "unknown"
    features: dict[str, bool] = getattr(umath, "__cpu_features__", {})
    dispatch: list[str] = getattr(umath, "__cpu_dispatch__", [])
    return " ".join(name for name in dispatch if features.get(name))


def replay_environment() -> dict[str, str]:
    """The record of this process that a run's bits depend on (all values are strings).

    ``save`` writes it into every checkpoint; compare a checkpoint's record with this one
    to know whether a replay here should give the same bits.

    >>> record = replay_environment()
    >>> sorted(record)  # doctest: +NORMALIZE_WHITESPACE
    ['blas', 'blas_kernel', 'blas_threads', 'cpu_features', 'fcfun', 'machine', 'numpy',
     'python']
    """
    return {
        "fcfun": _fcfun_version(),
        "numpy": np.__version__,
        **blas_record(),
        "cpu_features": _cpu_features(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }
