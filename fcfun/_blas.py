"""A bounded BLAS thread count inside fcfun's calls, so that bits depend on one number.

A multi-threaded BLAS splits a product among its threads, and how it splits decides the
order of the floating-point additions: the same ``A @ B`` can give other bits with one
thread than with two (OpenBLAS 0.3 does for ``(256, 784) @ (784, 512)`` and for the
fits of ``tests/test_replay_environment.py``), so a replay pinned on a laptop could fail
on a server with more cores. Inside fcfun's public calls OpenBLAS runs with
``min(BLAS_THREADS, the process's count)`` threads: 2 in any process that allows two or
more (``OPENBLAS_NUM_THREADS``, ``threadpoolctl``, the core count), 1 in a process that
set 1. fcfun never raises the count above the process's own: a process kept to one
thread stays single-threaded (``os.fork()`` while another thread is inside a product is
then as safe as with plain numpy). A result is a function of the inputs, the numpy and
BLAS builds, the CPU kernel the BLAS picks and this thread count, 1 or 2; the record
(``replay_environment()['blas_threads']``) says which.

Only OpenBLAS (numpy's own build, or a system one) can be set from here: with another
BLAS, fcfun's products are whatever that BLAS computes, and ``replay_environment`` says
so. The setting is process-wide: while any thread is inside an fcfun call, other numpy
products in the process use that count too. The process's count is restored when the
last fcfun call leaves, unless the process set another one meanwhile (that one is kept,
and used by the calls still inside from their next entry on).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import threading
import weakref
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
_lock = threading.RLock()  # re-entrant: a signal handler may call fcfun inside the bookkeeping


class _Call:
    """One fcfun call inside ``fixed_threads``. ``_active`` holds a weak reference to it
    whose callback releases the call: a call whose exit an exception cut short before
    its first statement is released when its frame goes."""

    __slots__ = ("__weakref__",)


_active: dict[int, weakref.ref[_Call]] = {}
"""The calls inside ``fixed_threads`` now, by their reference's ``id`` (a dead reference
has no hash); adding or removing one is one atomic step."""
_saved: int | None = None
"""The process's own count while fcfun's is in force (``None`` when no call is)."""
_target = 0
"""The count fcfun put in force, ``min(_saved, BLAS_THREADS)``."""


def _sync(control: _Control) -> None:
    """Bring the count in line with ``_active``: ``min(own, BLAS_THREADS)`` while a call is
    inside, the process's own count when none is (called under ``_lock``).

    Idempotent, and each assignment leaves a state the next ``_sync`` reads correctly, so a
    ``_sync`` cut short by an exception is completed by the next one. A count that is not
    ``_target`` was set by the process itself (``threadpoolctl``, ``set_num_threads``): it
    becomes the process's own count, and fcfun never raises it.
    """
    global _saved, _target
    current = control.get_threads()
    if _active:
        if _saved is None or current != _target:
            _saved = current
        _target = min(_saved, BLAS_THREADS)
        if current != _target:
            control.set_threads(_target)
    else:
        if _saved is not None and current == _target and current != _saved:
            control.set_threads(_saved)
        _saved = None


def _release(entry: weakref.ref[_Call]) -> None:
    control = _CONTROL
    if control is not None:
        with _lock:
            _active.pop(id(entry), None)
            _sync(control)


@contextlib.contextmanager
def fixed_threads() -> Iterator[None]:
    """Run the enclosed code with ``min(BLAS_THREADS, the process's count)`` BLAS threads
    (re-entrant and thread-safe).

    Safe against an asynchronous exception (a signal handler's ``KeyboardInterrupt``) at
    any point: the call's entry is made before the ``try``, so the ``finally`` undoes
    whatever part of the entry ran; a release cut short is run once more before the
    exception goes on, and one cut short before it began runs when the call's frame goes.
    """
    control = _CONTROL
    if control is None:
        yield
        return
    call = _Call()
    entry = weakref.ref(call, _release)
    try:
        with _lock:
            _active[id(entry)] = entry
            _sync(control)
        yield
    finally:
        try:
            _release(entry)
        except BaseException:
            _release(entry)
            raise
        del entry  # released: the reference goes before the call, so no callback runs


def used_threads() -> int | None:
    """The BLAS thread count fcfun's products use in this process now, ``None`` if fcfun
    cannot set it (not OpenBLAS)."""
    control = _CONTROL
    # Inside a call the count is fcfun's, at most BLAS_THREADS, or one the process set since.
    return None if control is None else min(control.get_threads(), BLAS_THREADS)


def _forget_calls() -> None:
    """A forked child runs none of its parent's fcfun calls, and has only the forking
    thread: a lock another thread held at the fork would never be released. ``_saved``
    and ``_target`` stay: the child's first call restores the process's own count."""
    global _active, _lock
    _active = {}
    _lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_calls)


def blas_record() -> dict[str, str]:
    """What the products depend on: the BLAS, its kernel and the thread count fcfun uses."""
    threads = used_threads()
    if _CONTROL is None or threads is None:
        return {
            "blas": "not OpenBLAS, or not found: the thread count is not fixed by fcfun",
            "blas_kernel": "unknown",
            "blas_threads": "not set",
        }
    return {
        "blas": _CONTROL.config,
        "blas_kernel": _CONTROL.kernel,
        "blas_threads": str(threads),
    }
