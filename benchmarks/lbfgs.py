"""L-BFGS: fcfun's ``solver='lbfgs'`` against scikit-learn's (scipy's L-BFGS-B).

Run: ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/lbfgs.py``
(``--repeats K``). Not a test. Both estimators start from the same weights (scikit-learn's
initialization for ``random_state=0``, passed to fcfun as ``initial_params``) on
standardized digits (1797 x 64, 10 classes) and breast cancer (569 x 30, 2 classes), one
hidden relu layer of 50 units, ``alpha=1e-4``, ``tol=1e-4``, ``max_iter=200``. The two fit
in turn within every repeat and the table quotes the median time of ``K`` repeats, with
iterations (``n_iter_``), loss evaluations, the training loss ``loss_`` and the training
accuracy. scikit-learn's evaluations are scipy's ``nfev``, read from a wrapper around its
``_loss_grad_lbfgs`` that counts calls.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from fcfun.sklearn import FCClassifier, sklearn_initial_params

HIDDEN = 50
SETTINGS: dict[str, Any] = {"solver": "lbfgs", "alpha": 1e-4, "tol": 1e-4, "max_iter": 200}


class CountingMLP(MLPClassifier):  # type: ignore[misc]
    """``MLPClassifier`` counting its loss-and-gradient evaluations."""

    evaluations = 0

    def _loss_grad_lbfgs(self, *args: Any) -> Any:
        self.evaluations += 1
        return super()._loss_grad_lbfgs(*args)


def fit_both(X: np.ndarray, y: np.ndarray) -> dict[str, tuple[float, Any]]:
    sizes = [X.shape[1], HIDDEN, 1 if len(np.unique(y)) == 2 else 10]
    start = sklearn_initial_params(sizes, "relu", 0)
    results: dict[str, tuple[float, Any]] = {}
    for name in ("fcfun", "scikit-learn"):
        model: Any = (
            FCClassifier((HIDDEN,), initial_params=start, **SETTINGS)
            if name == "fcfun"
            else CountingMLP((HIDDEN,), random_state=0, **SETTINGS)
        )
        began = time.perf_counter()
        model.fit(X, y)
        results[name] = (time.perf_counter() - began, model)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    repeats = parser.parse_args().repeats
    warnings.simplefilter("ignore", ConvergenceWarning)
    blas = [
        f"{i['internal_api']} {i['version']} ({i.get('architecture')} kernel, "
        f"{i['num_threads']} threads)"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    print(f"BLAS (threadpoolctl): {'; '.join(blas)}")
    print()
    print("| data | library | iterations | evaluations | time (s) | loss_ | accuracy |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for label, load in (("digits", load_digits), ("breast cancer", load_breast_cancer)):
        X_raw, y = load(return_X_y=True)
        X = StandardScaler().fit_transform(X_raw)
        times: dict[str, list[float]] = {"fcfun": [], "scikit-learn": []}
        models: dict[str, Any] = {}
        for _ in range(repeats):
            for name, (seconds, model) in fit_both(X, y).items():
                times[name].append(seconds)
                models[name] = model
        for name, model in models.items():
            evaluations = (
                model.state_.opt_state.evaluations if name == "fcfun" else model.evaluations
            )
            print(
                f"| {label} | {name} | {model.n_iter_} | {evaluations} | "
                f"{statistics.median(times[name]):.3f} | {model.loss_:.6g} | "
                f"{model.score(X, y):.4f} |"
            )


if __name__ == "__main__":
    main()
