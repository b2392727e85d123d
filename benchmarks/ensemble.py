"""An ensemble of 8 in one pass against 8 separate fits, side by side in one run.

For each case of ``run.py`` (small: digits, 64-128-64-10, batch 32, 20 epochs; large:
60000 x 784, 784-512-256-10, batch 256, 1 epoch) and optimizer, times
``fcfun.fit_ensemble`` with ``k = 8`` members against ``fcfun.fit`` run once per member
seed, interleaved (the order alternates each repeat), and checks that every member has
the bits of its own fit. Run by hand (``--quick``: small cases, fewer repeats;
``--large``: the large rows only)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/ensemble.py
"""

from __future__ import annotations

import platform
import sys
from typing import Any

import numpy as np
from cases import Case, OptimizerName, large, small
from run import interleaved
from threadpoolctl import threadpool_info

import fcfun

K = 8
SEED = 0


def separate_fits(case: Case, seeds: tuple[int, ...]) -> list[fcfun.TrainState[Any]]:
    return [case.fit(seed=seed) for seed in seeds]


def one_pass(case: Case, seeds: tuple[int, ...]) -> fcfun.Ensemble[Any]:
    config = fcfun.TrainConfig(case.spec, case.fcfun_optimizer(), case.batch_size)
    return fcfun.fit_ensemble(config, case.X, case.Y, seeds=seeds, epochs=case.epochs)


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    only_large = "--large" in argv  # the large rows alone (they take the longest)
    blas = [
        f"{pool['internal_api']} {pool['version']} ({pool.get('architecture')} kernel, "
        f"{pool['num_threads']} threads)"
        for pool in threadpool_info()
    ]
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"BLAS (threadpoolctl): {', '.join(blas)}"
    )
    seeds = fcfun.member_seeds(SEED, K)
    print(f"k = {K} members, seeds member_seeds({SEED}, {K})")
    print()
    print(
        "| case | optimizer | 8 fits (s) | ensemble (s) | 8 fits / ensemble | "
        "members equal their fits |"
    )
    print("|---|---|---|---|---|---|")
    optimizers: tuple[OptimizerName, ...] = ("sgd", "adam")
    for name, make, repeats in (
        ("small float32", lambda: small(np.dtype(np.float32)), 3 if quick else 7),
        ("small float64", lambda: small(np.dtype(np.float64)), 3 if quick else 7),
        ("large float32", lambda: large(np.dtype(np.float32)), 1 if quick else 3),
    ):
        if (quick and name.startswith("large")) or (only_large and not name.startswith("large")):
            continue
        base = make()
        for optimizer in optimizers:
            case = base._replace(optimizer=optimizer)
            fits, ensemble = separate_fits(case, seeds), one_pass(case, seeds)  # also warm-up
            equal = all(
                fcfun.fingerprint(fcfun.member(ensemble, i)) == fcfun.fingerprint(state.params)
                and ensemble.train_loss[i] == state.history.train_loss
                for i, state in enumerate(fits)
            )
            times = interleaved(
                {
                    "fits": lambda case=case: separate_fits(case, seeds),
                    "ensemble": lambda case=case: one_pass(case, seeds),
                },
                repeats,
                warmup=False,  # the equality check above ran both
            )
            fits_s, ensemble_s = times["fits"], times["ensemble"]
            print(
                f"| {name} | {case.optimizer_label} | {fits_s:.3f} | {ensemble_s:.3f} | "
                f"{fits_s / ensemble_s:.2f} | {equal} |",
                flush=True,
            )
    print()
    print("medians of", "3 / 1" if quick else "7 (small) and 3 (large)", "interleaved repeats")


if __name__ == "__main__":
    main(sys.argv[1:])
