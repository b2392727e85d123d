"""FCClassifier / FCRegressor against MLPClassifier / MLPRegressor with default settings.

Each estimator is built with only ``random_state`` set and fitted end to end (input
checks, label encoding, training, then ``score`` on the test split) on standardized data:
digits (1797 x 64, ten classes) for the classifiers, diabetes (442 x 10) for the
regressors, 75 / 25 splits. Diabetes' targets are standardized too (on the training
split; R² is unchanged by it): raw, in 25-346, neither estimator reaches a positive test R²
in its default 200 epochs at the default learning rate, and the scores would say
nothing. Run with
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/sklearn_defaults.py``
(``--repeats N``, default 7; ``--profile`` adds fcfun's cProfile of one fit per dataset).
Within each repeat the two estimators alternate, first one then the other; the table
quotes medians. The goal: fcfun at least 1.5x faster, its test score at most 0.01 lower.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import sklearn
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from fcfun.sklearn import FCClassifier, FCRegressor

Split = tuple[Any, Any, Any, Any]


def split(X: Any, y: Any, *, scale_y: bool = False) -> Split:
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    if scale_y:
        mean, std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


DATASETS: dict[str, tuple[Callable[[], Split], type, type]] = {
    "digits": (lambda: split(*load_digits(return_X_y=True)), MLPClassifier, FCClassifier),
    "diabetes": (
        lambda: split(*load_diabetes(return_X_y=True), scale_y=True),
        MLPRegressor,
        FCRegressor,
    ),
}


def end_to_end(estimator_class: type, data: Split) -> tuple[float, float, int]:
    """``(seconds, test score, n_iter_)`` of one default fit and its test score."""
    X_train, X_test, y_train, y_test = data
    gc.collect()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = estimator_class(random_state=0).fit(X_train, y_train)
    score = float(model.score(X_test, y_test))
    return time.perf_counter() - start, score, int(model.n_iter_)


def compare(name: str, repeats: int) -> dict[str, Any]:
    load, reference_class, fcfun_class = DATASETS[name]
    data = load()
    runs: dict[str, list[tuple[float, float, int]]] = {"scikit-learn": [], "fcfun": []}
    classes = {"scikit-learn": reference_class, "fcfun": fcfun_class}
    for label in runs:  # warm-up
        end_to_end(classes[label], data)
    for r in range(repeats):
        order = list(runs) if r % 2 == 0 else list(runs)[::-1]
        for label in order:
            runs[label].append(end_to_end(classes[label], data))
    row: dict[str, Any] = {"dataset": name}
    for label, results in runs.items():
        row[label] = {
            "seconds": statistics.median(t for t, _, _ in results),
            "score": results[0][1],  # the same every repeat (fixed seed)
            "n_iter": results[0][2],
        }
    row["speedup"] = row["scikit-learn"]["seconds"] / row["fcfun"]["seconds"]
    row["score_gap"] = row["scikit-learn"]["score"] - row["fcfun"]["score"]
    return row


def profile(name: str, top: int = 18) -> str:
    """cProfile of one fcfun fit on ``name``, the ``top`` functions by cumulative time."""
    load, _, fcfun_class = DATASETS[name]
    data = load()
    profiler = cProfile.Profile()
    profiler.enable()
    end_to_end(fcfun_class, data)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def environment() -> list[str]:
    import threadpoolctl  # type: ignore[import-untyped]

    blas = [
        f"{i['internal_api']} {i.get('version')} ({i.get('architecture')} kernel, "
        f"{i['num_threads']} threads, {os.path.basename(i['filepath'])})"
        for i in threadpoolctl.threadpool_info()
    ]
    lines = [
        f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, {os.cpu_count()} cpus, {platform.platform()}",
        *("pool: " + line for line in blas),
    ]
    lines += [
        f"{v}={os.environ.get(v, '(unset)')}" for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    ]
    return lines


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| data | scikit-learn s | fcfun s | speed-up | scikit-learn score | fcfun score | "
        "gap | n_iter_ (sklearn / fcfun) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ref, ours = row["scikit-learn"], row["fcfun"]
        lines.append(
            f"| {row['dataset']} | {ref['seconds']:.3f} | {ours['seconds']:.3f} | "
            f"{row['speedup']:.2f}x | {ref['score']:.4f} | {ours['score']:.4f} | "
            f"{row['score_gap']:+.4f} | {ref['n_iter']} / {ours['n_iter']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    print("\n".join(environment()))
    rows = [compare(name, args.repeats) for name in DATASETS]
    print(table(rows))
    for row in rows:
        met = row["speedup"] >= 1.5 and row["score_gap"] <= 0.01
        print(f"{row['dataset']}: goal (>= 1.5x, gap <= 0.01) {'met' if met else 'NOT met'}")
    if args.profile:
        for name in DATASETS:
            print(f"\nfcfun, one fit on {name}:\n{profile(name)}")


if __name__ == "__main__":
    main()
