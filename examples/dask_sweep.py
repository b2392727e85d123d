"""A hyperparameter sweep on a Dask cluster: ``GridSearchCV`` over ``fcfun.sklearn.FCClassifier``.

scikit-learn runs its (candidate, fold) fits through joblib; joblib's ``"dask"`` backend
turns each batch of fits into a task on the cluster. The training data is scattered to
every worker once (``scatter=[X, y]``), so a task carries only its hyperparameters and
fold indices. Each fit is an ordinary single-process fcfun run on one worker: a sweep is
parallel over candidates, not inside one fit (for that, see ``fcfun.distributed``).

Run: ``python examples/dask_sweep.py [--scheduler tcp://HOST:8786] [--workers N]``.
Without ``--scheduler`` it starts a ``LocalCluster`` of ``N`` process workers on this
machine; with one it uses that cluster, whose workers need fcfun and scikit-learn.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import distributed
import joblib
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split

from fcfun.sklearn import FCClassifier

GRID: dict[str, list[Any]] = {
    "hidden_layer_sizes": [(32,), (64,)],
    "alpha": [1e-4, 1e-2],
    "learning_rate_init": [1e-3, 3e-3],
}
"""The default grid: 8 candidates."""

# distributed is only partly annotated, and mypy --strict refuses calls to its
# unannotated functions (Client, LocalCluster), so they are called through Any.
dask: Any = distributed


class Result(NamedTuple):
    """What the sweep reports.

    Attributes:
        scores: ``(candidate, mean cross-validated accuracy)`` in the grid's order.
        best_params: the best candidate.
        best_score: its mean cross-validated accuracy.
        test_accuracy: the best candidate refitted on all training rows, on the test split.
        n_tasks: tasks the cluster ran for the sweep (fits, batched by joblib).
        n_workers: workers the cluster had.
    """

    scores: list[tuple[dict[str, Any], float]]
    best_params: dict[str, Any]
    best_score: float
    test_accuracy: float
    n_tasks: int
    n_workers: int


def sweep(client: Any, grid: Mapping[str, Sequence[Any]], *, max_iter: int, cv: int) -> Result:
    """Run the grid search with every fit on ``client``'s cluster."""
    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    search = GridSearchCV(
        FCClassifier(max_iter=max_iter, early_stopping=True, random_state=0),
        {name: list(values) for name, values in grid.items()},
        cv=cv,
        n_jobs=-1,
    )
    config = joblib.parallel_config(backend="dask", client=client, scatter=[X_train, y_train])
    with dask.get_task_stream(client) as stream, config:
        search.fit(X_train, y_train)
    candidates: list[dict[str, Any]] = search.cv_results_["params"]
    means = [float(s) for s in search.cv_results_["mean_test_score"]]
    return Result(
        scores=list(zip(candidates, means, strict=True)),
        best_params=dict(search.best_params_),
        best_score=float(search.best_score_),
        test_accuracy=float(search.score(X_test, y_test)),
        n_tasks=len(stream.data),
        n_workers=len(client.scheduler_info(n_workers=-1)["workers"]),
    )


def run(
    scheduler: str | None = None,
    *,
    client: Any = None,
    n_workers: int = 2,
    grid: Mapping[str, Sequence[Any]] = GRID,
    max_iter: int = 200,
    cv: int = 3,
    verbose: bool = True,
) -> Result:
    """Sweep on ``client``, on the cluster at ``scheduler``, or on a new ``LocalCluster``.

    Args:
        scheduler: a scheduler address such as ``"tcp://10.0.0.5:8786"``.
        client: an existing ``distributed.Client`` (wins over ``scheduler``).
        n_workers: process workers of the local cluster (when neither is given).
        grid: ``GridSearchCV``'s parameter grid for ``FCClassifier``.
        max_iter: epochs per fit.
        cv: cross-validation folds.
        verbose: print every candidate's score.
    """
    if client is not None:
        result = sweep(client, grid, max_iter=max_iter, cv=cv)
    elif scheduler is not None:
        with dask.Client(scheduler) as remote:
            result = sweep(remote, grid, max_iter=max_iter, cv=cv)
    else:
        with (
            dask.LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            dask.Client(cluster) as local,
        ):
            result = sweep(local, grid, max_iter=max_iter, cv=cv)
    if verbose:
        for candidate, score in result.scores:
            print(f"{score:.4f}  {candidate}")
        print(
            f"best {result.best_params}: cv accuracy {result.best_score:.4f}, "
            f"test accuracy {result.test_accuracy:.4f} "
            f"({result.n_tasks} tasks on {result.n_workers} workers)"
        )
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduler", default=None, help="e.g. tcp://scheduler:8786")
    parser.add_argument("--workers", type=int, default=2, help="local cluster's workers")
    parser.add_argument("--max-iter", type=int, default=200)
    args = parser.parse_args(argv)
    run(args.scheduler, n_workers=args.workers, max_iter=args.max_iter)


if __name__ == "__main__":
    main()
