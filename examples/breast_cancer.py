"""Binary classification of scikit-learn's bundled breast cancer data, the seed notebook's way.

The notebook's network on real data: relu hidden layers of 3 and 4 units, one sigmoid
output, binary cross-entropy and plain SGD (no momentum, mini-batches of 32). The 30
features are standardized inside a ``Pipeline`` (statistics of the training part only)
on a fixed stratified 25% test split. ``fcfun.sklearn.FCClassifier`` is trained next to
scikit-learn's ``MLPClassifier`` with the same architecture, hyperparameters and split;
each starts from its own initial weights. Writes ``breast_cancer.png``: both training
loss curves, and the fcfun model's test probabilities by true class.

Run: ``python examples/breast_cancer.py [--max-iter N] [--out DIR]``
"""

from __future__ import annotations

import argparse
import pathlib
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import fcfun
from fcfun.sklearn import FCClassifier

HIDDEN = (3, 4)
"""The seed notebook's hidden layer widths (its sizes were ``[10, 3, 4, 1]``)."""


class Result(NamedTuple):
    """What the example reports."""

    model: Pipeline
    reference: Pipeline
    test_accuracy: float
    reference_accuracy: float
    figure: pathlib.Path | None


def hyperparameters(max_iter: int) -> dict[str, Any]:
    """The settings both models share: the notebook's SGD on its architecture."""
    return {
        "hidden_layer_sizes": HIDDEN,
        "activation": "relu",
        "solver": "sgd",
        "momentum": 0.0,
        "learning_rate_init": 0.05,
        "batch_size": 32,
        "alpha": 1e-4,
        "max_iter": max_iter,
        "random_state": 0,
    }


def plot(
    model: FCClassifier,
    reference: MLPClassifier,
    probability: np.ndarray[Any, Any],
    y_test: np.ndarray[Any, Any],
    path: pathlib.Path,
) -> pathlib.Path:
    """Loss curves and test probabilities, side by side, to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (curves, spread) = plt.subplots(1, 2, figsize=(11, 4.5))
    curves.plot(
        np.arange(1, len(model.loss_curve_) + 1), model.loss_curve_, label="fcfun FCClassifier"
    )
    curves.plot(
        np.arange(1, len(reference.loss_curve_) + 1),
        reference.loss_curve_,
        label="scikit-learn MLPClassifier",
        linestyle="--",
    )
    curves.set_xlabel("epoch")
    curves.set_ylabel("binary cross-entropy (+ L2 penalty)")
    curves.set_yscale("log")
    curves.set_title(f"Breast cancer: training loss, network {model.spec_.sizes}")
    curves.legend()
    bins = np.linspace(0.0, 1.0, 21)
    for label, name, color in ((0, "malignant", "tab:red"), (1, "benign", "tab:blue")):
        spread.hist(probability[y_test == label], bins=bins, alpha=0.6, label=name, color=color)
    spread.axvline(0.5, color="black", linewidth=1, linestyle=":")
    spread.set_xlabel("fcfun's predicted probability of 'benign'")
    spread.set_ylabel("test samples")
    spread.set_title("Test split by true class (threshold 0.5)")
    spread.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(max_iter: int = 500, out: pathlib.Path | None = None, verbose: bool = True) -> Result:
    """Train both models on the same split, report test accuracies and (optionally) plot."""
    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    settings = hyperparameters(max_iter)
    model = make_pipeline(StandardScaler(), FCClassifier(**settings))
    reference = make_pipeline(StandardScaler(), MLPClassifier(**settings))
    with warnings.catch_warnings():
        # Both models warn when they reach max_iter; the report below says so instead.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
        reference.fit(X_train, y_train)
    accuracy = float(model.score(X_test, y_test))
    reference_accuracy = float(reference.score(X_test, y_test))
    figure = None
    if out is not None:
        try:
            probability = np.asarray(model.predict_proba(X_test))[:, 1]
            figure = plot(model[-1], reference[-1], probability, y_test, out / "breast_cancer.png")
        except ImportError:
            print("matplotlib is not installed: no plot (pip install 'fcfun[plot]')")
    if verbose:
        print(fcfun.summary(model[-1].spec_, model[-1].params_))
        print(
            f"breast cancer: {len(y_train)} training and {len(y_test)} test samples, "
            f"{X_train.shape[1]} standardized features"
        )
        for name, pipeline, score in (
            ("fcfun FCClassifier       ", model, accuracy),
            ("scikit-learn MLPClassifier", reference, reference_accuracy),
        ):
            estimator = pipeline[-1]
            stopped = "max_iter" if estimator.n_iter_ == max_iter else "no improvement"
            print(
                f"{name}: {estimator.n_iter_:3d} epochs (stopped by {stopped}), final "
                f"loss {estimator.loss_curve_[-1]:.4f}, test accuracy {score:.4f}"
            )
        if figure is not None:
            print(f"wrote {figure}")
    return Result(model, reference, accuracy, reference_accuracy, figure)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-iter", type=int, default=500)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("."))
    args = parser.parse_args(argv)
    run(max_iter=args.max_iter, out=args.out)


if __name__ == "__main__":
    main()
