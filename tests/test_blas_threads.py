"""fcfun's BLAS thread count: never above the process's own, safe across fork and against
an exception at any point of its bookkeeping.

Most tests drive ``fixed_threads`` through a stand-in for OpenBLAS's controls (a count
in a Python object), so that they hold whatever the machine's core count and BLAS; the
fork test runs the real OpenBLAS in a subprocess.
"""

from __future__ import annotations

import contextlib
import linecache
import os
import signal
import subprocess
import sys
import threading
from types import FrameType
from typing import Any

import numpy as np
import pytest

import fcfun
from fcfun import _blas

SPEC = fcfun.mlp([8, 16, 3], output="identity", loss="half_squared_error")
PARAMS = fcfun.init(SPEC, 0)
X = np.random.default_rng(0).normal(size=(32, 8))


class FakeBlas:
    """A thread count as OpenBLAS keeps it, with every count fcfun set."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.sets: list[int] = []

    def set_threads(self, threads: int) -> None:
        self.sets.append(threads)
        self.threads = threads

    def get_threads(self) -> int:
        return self.threads


def _install(monkeypatch: pytest.MonkeyPatch, blas: FakeBlas) -> FakeBlas:
    """``blas`` as the BLAS fcfun controls, with no call inside (undone after the test)."""
    control = _blas._Control("fake", blas.set_threads, blas.get_threads, "fake", "fake")
    monkeypatch.setattr(_blas, "_CONTROL", control)
    monkeypatch.setattr(_blas, "_active", {})
    monkeypatch.setattr(_blas, "_saved", None)
    monkeypatch.setattr(_blas, "_target", 0)
    return blas


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeBlas:
    return _install(monkeypatch, FakeBlas(4))


def _lock_is_free() -> bool:
    """Whether another thread can take the bookkeeping's lock (a lock this thread still
    held would let this thread in again, being re-entrant, and no other)."""
    free: list[bool] = []

    def take() -> None:
        if _blas._lock.acquire(timeout=5):
            _blas._lock.release()
            free.append(True)

    thread = threading.Thread(target=take)
    thread.start()
    thread.join()
    return bool(free)


def _consistent(blas: FakeBlas, own: int) -> bool:
    """No call is counted as inside, the process's count is its own, the lock is free, and
    a call fixes the count."""
    if _blas._active or _blas._saved is not None or blas.threads != own:
        return False
    if not _lock_is_free():
        return False
    with _blas.fixed_threads():
        inside = blas.threads == min(own, _blas.BLAS_THREADS)
    return inside and not _blas._active and blas.threads == own


@pytest.mark.parametrize("own", [1, 2, 3, 8])
def test_the_count_is_the_process_count_capped_at_blas_threads(fake: FakeBlas, own: int) -> None:
    fake.threads = own
    with _blas.fixed_threads():
        assert fake.threads == min(own, _blas.BLAS_THREADS)
        assert _blas.used_threads() == min(own, _blas.BLAS_THREADS)
        fcfun.predict(SPEC, PARAMS, X)
        with _blas.fixed_threads():
            assert fake.threads == min(own, _blas.BLAS_THREADS)
    assert fake.threads == own
    assert _blas.blas_record()["blas_threads"] == str(min(own, _blas.BLAS_THREADS))
    assert all(threads <= own for threads in fake.sets)
    assert fake.sets == ([] if own <= _blas.BLAS_THREADS else [_blas.BLAS_THREADS, own])


def test_a_count_the_process_sets_inside_a_call_is_kept_and_never_raised(
    fake: FakeBlas,
) -> None:
    with _blas.fixed_threads():
        fake.threads = 1  # threadpoolctl or set_num_threads, from another thread
        with _blas.fixed_threads():
            assert fake.threads == 1
        assert fake.threads == 1
    assert fake.threads == 1
    with _blas.fixed_threads():
        fake.threads = 6
        with _blas.fixed_threads():
            assert fake.threads == _blas.BLAS_THREADS
    assert fake.threads == 6
    assert all(threads <= 6 for threads in fake.sets)


def test_threads_inside_calls_never_see_more_than_the_process_count(fake: FakeBlas) -> None:
    fake.threads = 1
    seen: list[int] = []

    def calls() -> None:
        for _ in range(200):
            with _blas.fixed_threads():
                seen.append(fake.threads)

    threads = [threading.Thread(target=calls) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [1] * 800
    assert fake.sets == []
    assert _consistent(fake, 1)


def _in_callback(frame: FrameType | None) -> bool:
    """Whether ``frame`` runs in the release a call's weak reference calls back (not
    interrupted here: the interpreter prints and ignores an exception in a callback)."""
    while frame is not None and frame.f_code.co_filename == _blas.__file__:
        if frame.f_code.co_name == "_release":
            return frame.f_back is None or frame.f_back.f_code.co_name != "fixed_threads"
        frame = frame.f_back
    return False


class Interrupt:
    """A tracer raising ``KeyboardInterrupt`` (what a SIGINT handler raises) at the
    ``at``-th line run in ``_blas``: a signal arriving between two of its statements.

    Not at a ``with _lock:`` line: its second line event comes between the block's last
    statement and the lock's C ``__exit__``, where no signal handler can run (CPython runs
    them where it checks for them: after a call returns, on a backward jump, on entering
    a function), and a tracer raising there would skip the release.
    """

    def __init__(self, at: int) -> None:
        self.at, self.lines = at, 0

    def __call__(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != _blas.__file__ or _in_callback(frame):
            return None
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        if event == "line" and line != "with _lock:":
            self.lines += 1
            if self.lines == self.at:
                raise KeyboardInterrupt
        return self


def _interrupted_call(at: int) -> tuple[bool, int]:
    """A call (and a nested one, as a public function makes) interrupted at line ``at``:
    whether the interruption came, and how many lines of ``_blas`` ran."""
    tracer = Interrupt(at)
    sys.settrace(tracer)
    try:
        with _blas.fixed_threads():
            fcfun.predict(SPEC, PARAMS, X)
    except KeyboardInterrupt:
        return True, tracer.lines
    finally:
        sys.settrace(None)
    return False, tracer.lines


@pytest.mark.parametrize("own", [1, 4])
def test_an_interruption_at_any_line_of_the_bookkeeping_leaves_it_consistent(
    fake: FakeBlas, own: int
) -> None:
    fake.threads = own
    interrupted, lines = True, 0
    at = 0
    while interrupted:
        at += 1
        interrupted, lines = _interrupted_call(at)
        assert _consistent(fake, own), f"interrupted at line {at} of the bookkeeping"
    # Every line of the entry and of the exit, of both calls, was an arrival point.
    assert at == lines + 1
    assert lines >= 20


class FailingSetter(FakeBlas):
    """OpenBLAS's setter raising on its ``fail_at``-th call (``-1``: never)."""

    def __init__(self, threads: int, fail_at: int) -> None:
        super().__init__(threads)
        self.fail_at = fail_at

    def set_threads(self, threads: int) -> None:
        if len(self.sets) == self.fail_at:
            self.fail_at = -1
            self.sets.append(-1)
            raise KeyboardInterrupt
        super().set_threads(threads)


@pytest.mark.parametrize("fail_at", [0, 1])
def test_a_setter_that_raises_leaves_the_bookkeeping_consistent(
    monkeypatch: pytest.MonkeyPatch, fail_at: int
) -> None:
    blas = _install(monkeypatch, FailingSetter(4, fail_at))
    with pytest.raises(KeyboardInterrupt), _blas.fixed_threads():
        fcfun.predict(SPEC, PARAMS, X)
    assert _consistent(blas, 4)


FORKS = """
import os, threading, numpy as np, fcfun
spec = fcfun.mlp([256, 256, 256, 10], output="identity", loss="half_squared_error")
params = fcfun.init(spec, 0)
X = np.random.default_rng(0).normal(size=(512, 256))
stop = threading.Event()
def loop():
    while not stop.is_set():
        fcfun.predict(spec, params, X)
thread = threading.Thread(target=loop)
thread.start()
codes = []
for _ in range(20):
    pid = os.fork()
    if pid == 0:
        np.ones((64, 64)) @ np.ones((64, 64))
        os._exit(0)
    codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
stop.set()
thread.join()
print(codes)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_while_another_thread_is_inside_calls_does_not_hang_on_one_thread() -> None:
    # Under OPENBLAS_NUM_THREADS=1 fcfun stays single-threaded, as plain numpy does.
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", FORKS],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == str([0] * 20)


class Alarm(Exception):
    """What the timer's signal handler raises."""


def _raise_alarm(signum: int, frame: FrameType | None) -> None:
    """Raise where the signal lands in the bookkeeping (``_blas`` and the ``contextlib``
    frames of its ``with``), not in the test's loop or in other code's callbacks."""
    if frame is None or _in_callback(frame):
        return
    if frame.f_code.co_filename in (_blas.__file__, contextlib.__file__):
        raise Alarm


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_signals_raising_on_a_timer_during_calls_leave_the_real_count_consistent() -> None:
    control = _blas._CONTROL
    if control is None:
        pytest.skip("needs OpenBLAS")
    before = control.get_threads()
    own = _blas.BLAS_THREADS + 1
    control.set_threads(own)
    # An alarm landing in a call's finally while the garbage collector closes its
    # generator (after an alarm in contextlib's __enter__) is printed and ignored by
    # Python: collected here, and it must be an Alarm, nothing else.
    ignored: list[BaseException | None] = []
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: ignored.append(unraisable.exc_value)
    previous = signal.signal(signal.SIGALRM, _raise_alarm)
    alarms = 0
    try:
        signal.setitimer(signal.ITIMER_REAL, 1e-4, 1e-4)
        while alarms < 300:
            try:
                with _blas.fixed_threads():
                    fcfun.predict(SPEC, PARAMS, X)
            except Alarm:
                alarms += 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sys.unraisablehook = hook
        after = control.get_threads()
        active = dict(_blas._active)
        control.set_threads(before)
    assert not active
    assert _lock_is_free()
    assert after == own
    assert all(isinstance(error, Alarm) for error in ignored)
