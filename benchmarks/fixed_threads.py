"""What fixing the BLAS thread count costs: fcfun.fit with and without it, side by side.

fcfun sets OpenBLAS to ``BLAS_THREADS`` threads around each public call and each epoch
(``fcfun._blas.fixed_threads``), so that replay does not depend on the machine. This
times the small and large training cases of ``run.py`` (plain SGD) with the setting and
with it switched off (``_blas._CONTROL = None``: OpenBLAS then uses whatever thread count
the process has), interleaved, and checks that on this machine the bits agree when the
process's own count equals ``BLAS_THREADS``. Run by hand::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/fixed_threads.py
"""

from __future__ import annotations

import sys
import time

import numpy as np
from cases import large, small
from competitors import fcfun_fit

import fcfun
from fcfun import _blas


def main(argv: list[str]) -> None:
    repeats = 3 if "--quick" in argv else 7
    control = _blas._CONTROL
    if control is None:
        print("OpenBLAS not found: fcfun cannot fix the thread count here")
        return
    print(
        f"{control.config}; process threads {control.get_threads()}, fcfun's {_blas.BLAS_THREADS}"
    )
    print("| case | fixed (s) | not fixed (s) | fixed / not fixed | same bits |")
    print("|---|---|---|---|---|")
    for name, case in (
        ("small float32", small(np.dtype(np.float32))),
        ("small float64", small(np.dtype(np.float64))),
        ("large float32", large(np.dtype(np.float32))),
    ):
        params = case.params()
        times: dict[bool, list[float]] = {True: [], False: []}
        results = {}
        for _ in range(repeats):
            for fixed in (True, False):
                _blas._CONTROL = control if fixed else None
                start = time.perf_counter()
                results[fixed] = fcfun_fit(case, params)
                times[fixed].append(time.perf_counter() - start)
        _blas._CONTROL = control
        same = fcfun.fingerprint(results[True].params) == fcfun.fingerprint(results[False].params)
        fixed_s, free_s = np.median(times[True]), np.median(times[False])
        print(f"| {name} | {fixed_s:.3f} | {free_s:.3f} | {fixed_s / free_s:.3f} | {same} |")


if __name__ == "__main__":
    main(sys.argv[1:])
