"""A fixed BLAS thread count inside fcfun's calls, so that bits do not depend on the machine.

A multi-threaded BLAS splits a product among its threads, and how it splits decides the
order of the floating-point additions: the same ``A @ B`` can give other bits with one
thread than with two (OpenBLAS does for ``(256, 784) @ (784, 512)``, for example), so a
replay pinned on a laptop could fail on a server with more cores. Inside fcfun's public
calls OpenBLAS runs with exactly ``BLAS_THREADS`` threads, whatever ``OPENBLAS_NUM_THREADS``
or the core count says (measured: the same bits when the process starts with 1, 2, 4 or
8 threads). A result is then a function of the inputs, the numpy and BLAS builds and the
CPU kernel the BLAS picks (see ``replay_environment``).

Only OpenBLAS (numpy's own build, or a system one) can be set from here: with another
BLAS, fcfun's products are whatever that BLAS computes, and ``replay_environment`` says
so. The setting is process-wide: while any thread is inside an fcfun call, other numpy
products in the process use ``BLAS_THREADS`` threads too. The previous count is restored
when the last fcfun call leaves.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import threading
from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

BLAS_THREADS = 2
"""The BLAS thread count of every fcfun call: part of what a replay depends on. Two uses
two cores for large products on any machine (more cores would give other bits)."""


class _Control(NamedTuple):
    """The functions of the loaded OpenBLAS that fcfun calls."""

    path: str
    set_threads: Callable[[int], None]
    get_threads: Callable[[], int]
    config: str
    kernel: str


def _openblas() -> _Control | None:
    """The OpenBLAS numpy loaded, found in this process's memory map (Linux), or ``None``."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps.read())))
    except OSError:
        return None
    for path in paths:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("openblas", "")):
            names = [f"{prefix}_{name}{suffix}" for name in ("set_num_threads", "get_num_threads")]
            if all(hasattr(library, name) for name in names):
                set_threads, get_threads = (getattr(library, name) for name in names)
                set_threads.argtypes, set_threads.restype = [ctypes.c_int], None
                get_threads.argtypes, get_threads.restype = [], ctypes.c_int
                text = {}
                for field in ("config", "corename"):
                    function = getattr(library, f"{prefix}_get_{field}{suffix}", None)
                    if function is not None:
                        function.restype = ctypes.c_char_p
                    text[field] = function().decode() if function is not None else "unknown"
                return _Control(path, set_threads, get_threads, text["config"], text["corename"])
    return None


np.ones(1) @ np.ones(1)  # make sure numpy has loaded its BLAS before it is looked for
_CONTROL = _openblas()
_lock = threading.Lock()
_depth = 0
_saved_threads = 1


@contextlib.contextmanager
def fixed_threads() -> Iterator[None]:
    """Run the enclosed code with ``BLAS_THREADS`` BLAS threads (re-entrant, thread-safe)."""
    global _depth, _saved_threads
    if _CONTROL is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _saved_threads = _CONTROL.get_threads()
            _CONTROL.set_threads(BLAS_THREADS)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            if _depth > 0:  # 0 in a child forked inside a call: nothing of its own to undo
                _depth -= 1
                if _depth == 0:
                    _CONTROL.set_threads(_saved_threads)


def _forget_calls() -> None:
    """A forked child runs none of its parent's fcfun calls, and has only the forking
    thread: a lock another thread held at the fork would never be released."""
    global _depth, _lock
    _depth = 0
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_calls)


def blas_record() -> dict[str, str]:
    """What the products depend on: the BLAS, its kernel and the thread count fcfun sets."""
    if _CONTROL is None:
        return {
            "blas": "not OpenBLAS, or not found: the thread count is not fixed by fcfun",
            "blas_kernel": "unknown",
            "blas_threads": "not set",
        }
    return {
        "blas": _CONTROL.config,
        "blas_kernel": _CONTROL.kernel,
        "blas_threads": str(BLAS_THREADS),
    }
