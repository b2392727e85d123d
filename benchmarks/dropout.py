"""What dropout costs per training step: the same fit with and without it, side by side.

For ``run.py``'s cases (small: digits, 64-128-64-10, batch 32, 20 epochs; large: 60000 x
784, 784-512-256-10, batch 256, 1 epoch) and SGD, times ``fcfun.fit`` of the spec with
``dropout=0.2`` on both hidden layers against the same spec without dropout, interleaved
(the order alternates each repeat), and reports the medians, their ratio and the extra
time per step (drawing two masks, two multiplications forward and two backward). Run by
hand::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/dropout.py
"""

from __future__ import annotations

import math
import platform
import sys

import numpy as np
from cases import large, small
from run import interleaved
from threadpoolctl import threadpool_info

RATE = 0.2


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    blas = [
        f"{pool['internal_api']} {pool['version']} ({pool.get('architecture')} kernel, "
        f"{pool['num_threads']} threads)"
        for pool in threadpool_info()
    ]
    print(f"Python {platform.python_version()}, numpy {np.__version__}, BLAS: {', '.join(blas)}")
    print()
    print("| case | steps | no dropout (s) | dropout 0.2 (s) | ratio | extra per step (µs) |")
    print("|---|---|---|---|---|---|")
    for name, make, repeats in (
        ("small float32", lambda: small(np.dtype(np.float32)), 3 if quick else 7),
        ("small float64", lambda: small(np.dtype(np.float64)), 3 if quick else 7),
        ("large float32", lambda: large(np.dtype(np.float32)), 1 if quick else 5),
    ):
        case = make()._replace(optimizer="sgd")
        with_dropout = case.spec._replace(dropout=(RATE,) * (case.spec.n_layers - 1))
        times = interleaved(
            {
                "plain": lambda case=case: case.fit(),
                "dropout": lambda case=case, spec=with_dropout: case.fit(spec),
            },
            repeats,
        )
        plain, dropped = times["plain"], times["dropout"]
        steps = case.epochs * math.ceil(case.X.shape[0] / case.batch_size)
        print(
            f"| {name} | {steps} | {plain:.3f} | {dropped:.3f} | {dropped / plain:.2f} | "
            f"{(dropped - plain) / steps * 1e6:.0f} |",
            flush=True,
        )
    print()
    print("medians of", "3 / 1" if quick else "7 (small) and 5 (large)", "interleaved repeats")


if __name__ == "__main__":
    main(sys.argv[1:])
