"""Regression on scikit-learn's bundled diabetes data with ``fcfun.sklearn.FCRegressor``.

Ten standardized features predict disease progression one year on. The network, relu
hidden layer of 8 units and an identity output trained with ``half_squared_error``
(scikit-learn's ``squared_error``), is trained with Adam in mini-batches of 32 and an L2
penalty; the target is standardized for training (``TransformedTargetRegressor``) and
predictions are in the original units. scikit-learn's ``MLPRegressor`` with the same
settings is trained on the same fixed 25% test split. Writes ``diabetes.png``:
predicted versus true progression for both, and both training loss curves.

Run: ``python examples/diabetes.py [--max-iter N] [--out DIR]``
"""

from __future__ import annotations

import argparse
import pathlib
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import fcfun
from fcfun.sklearn import FCRegressor


class Result(NamedTuple):
    """What the example reports."""

    model: Pipeline
    reference: Pipeline
    test_r2: float
    reference_r2: float
    predicted: np.ndarray[Any, Any]
    y_test: np.ndarray[Any, Any]
    figure: pathlib.Path | None


def hyperparameters(max_iter: int) -> dict[str, Any]:
    """The settings both models share."""
    return {
        "hidden_layer_sizes": (8,),
        "activation": "relu",
        "solver": "adam",
        "learning_rate_init": 0.01,
        "batch_size": 32,
        "alpha": 1.0,
        "max_iter": max_iter,
        "random_state": 0,
    }


def regressor(estimator: Any) -> Pipeline:
    """Standardize the features and, for training only, the target."""
    return make_pipeline(
        StandardScaler(), TransformedTargetRegressor(estimator, transformer=StandardScaler())
    )


def plot(
    y_test: np.ndarray[Any, Any],
    predictions: Sequence[tuple[str, np.ndarray[Any, Any], float, Sequence[float]]],
    path: pathlib.Path,
) -> pathlib.Path:
    """Predicted versus true, and the loss curves, side by side, to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (scatter, curves) = plt.subplots(1, 2, figsize=(11, 4.8))
    low, high = float(y_test.min()), float(y_test.max())
    scatter.plot([low, high], [low, high], color="black", linewidth=1, label="perfect")
    for (name, predicted, r2, losses), marker in zip(predictions, ("o", "x"), strict=True):
        scatter.scatter(
            y_test, predicted, s=18, marker=marker, alpha=0.7, label=f"{name}: R² {r2:.3f}"
        )
        curves.plot(np.arange(1, len(losses) + 1), losses, label=name)
    scatter.set_xlabel("true progression")
    scatter.set_ylabel("predicted progression")
    scatter.set_title(f"Diabetes: {len(y_test)} test patients")
    scatter.legend()
    curves.set_xlabel("epoch")
    curves.set_ylabel("half squared error of the standardized target (+ L2)")
    curves.set_title("Training loss")
    curves.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(max_iter: int = 500, out: pathlib.Path | None = None, verbose: bool = True) -> Result:
    """Train both models on the same split, report test R² and (optionally) plot."""
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    settings = hyperparameters(max_iter)
    model = regressor(FCRegressor(**settings))
    reference = regressor(MLPRegressor(**settings))
    with warnings.catch_warnings():
        # Both models warn when they reach max_iter; the report below says so instead.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
        reference.fit(X_train, y_train)
    predicted = np.asarray(model.predict(X_test))
    reference_predicted = np.asarray(reference.predict(X_test))
    r2 = float(model.score(X_test, y_test))
    reference_r2 = float(reference.score(X_test, y_test))
    fc, mlp = model[-1].regressor_, reference[-1].regressor_
    figure = None
    if out is not None:
        try:
            figure = plot(
                y_test,
                [
                    ("fcfun FCRegressor", predicted, r2, fc.loss_curve_),
                    (
                        "scikit-learn MLPRegressor",
                        reference_predicted,
                        reference_r2,
                        mlp.loss_curve_,
                    ),
                ],
                out / "diabetes.png",
            )
        except ImportError:
            print("matplotlib is not installed: no plot (pip install 'fcfun[plot]')")
    if verbose:
        print(fcfun.summary(fc.spec_, fc.params_))
        print(
            f"diabetes: {len(y_train)} training and {len(y_test)} test patients, "
            f"{X.shape[1]} standardized features, target in [{y.min():.0f}, {y.max():.0f}]"
        )
        for name, estimator, score in (
            ("fcfun FCRegressor       ", fc, r2),
            ("scikit-learn MLPRegressor", mlp, reference_r2),
        ):
            stopped = "max_iter" if estimator.n_iter_ == max_iter else "no improvement"
            print(
                f"{name}: {estimator.n_iter_:3d} epochs (stopped by {stopped}), final "
                f"loss {estimator.loss_curve_[-1]:.4f}, test R² {score:.4f}"
            )
        if figure is not None:
            print(f"wrote {figure}")
    return Result(model, reference, r2, reference_r2, predicted, y_test, figure)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-iter", type=int, default=500)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("."))
    args = parser.parse_args(argv)
    run(max_iter=args.max_iter, out=args.out)


if __name__ == "__main__":
    main()
