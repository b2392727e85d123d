"""Peak memory of ``fcfun.predict`` on a memmap larger than a chunk, per params dtype.

Writes a ``rows x 784`` float32 ``.npy`` (6.3 GB for the default 2,000,000 rows) into a
temporary directory, then runs ``predict`` on it memory-mapped in a fresh process per
params dtype and reports the process's peak resident memory (``ru_maxrss``), the time and
the output's size, and the peak of numpy's own allocations (``tracemalloc``: the
memory-mapped file's pages count in the resident size as they are read, but are the
page cache's, not fcfun's). Run by hand (not part of ``make check``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/predict_memory.py
    ... benchmarks/predict_memory.py --rows 200000   # a smaller file, the same per-chunk memory
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

import fcfun

SIZES = (784, 64, 10)


def child(path: str, dtype: str) -> None:
    """Predict on the memmap with params of ``dtype``; print peak RSS, time and output."""
    X = np.load(path, mmap_mode="r")
    spec = fcfun.mlp(list(SIZES), output="softmax", loss="softmax_cross_entropy")
    params = fcfun.init(spec, seed=0, dtype=np.dtype(dtype))
    tracemalloc.start()
    start = time.perf_counter()
    out = fcfun.predict(spec, params, X)
    seconds = time.perf_counter() - start
    traced_mib = tracemalloc.get_traced_memory()[1] / 2**20
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{peak_mib:.0f} {traced_mib:.0f} {seconds:.1f} {out.nbytes / 2**20:.0f}")


def write(path: Path, rows: int) -> None:
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, SIZES[0]))
    rng = np.random.default_rng(0)
    for start in range(0, rows, 50_000):
        stop = min(rows, start + 50_000)
        X[start:stop] = rng.standard_normal((stop - start, SIZES[0]), dtype=np.float32)
    X.flush()
    del X


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--child", nargs=2, metavar=("PATH", "DTYPE"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(*arguments.child)
        return
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "X.npy"
        write(path, arguments.rows)
        size_gib = path.stat().st_size / 2**30
        print(
            f"predict on a {arguments.rows} x {SIZES[0]} float32 memmap ({size_gib:.1f} GiB), "
            f"network {'-'.join(map(str, SIZES))}, chunks of 8192 rows"
        )
        print("| params dtype | peak RSS (MiB) | numpy peak (MiB) | time (s) | output (MiB) |")
        print("|---|---|---|---|---|")
        for dtype in ("float64", "float32"):
            result = subprocess.run(
                [sys.executable, __file__, "--child", str(path), dtype],
                capture_output=True,
                text=True,
                check=True,
            )
            peak, traced, seconds, output = result.stdout.split()
            print(f"| {dtype} | {peak} | {traced} | {seconds} | {output} |")


if __name__ == "__main__":
    main()
