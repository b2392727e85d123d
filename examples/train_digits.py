"""Train a softmax network on scikit-learn's bundled digits (8x8 images, 10 classes).

Adam in mini-batches of 32, early stopping on a validation split, per-epoch progress on
the terminal, and the test accuracy on a fixed 25% split. With matplotlib installed it
writes ``digits.png``: training and validation loss curves and the test confusion matrix.

Run: ``python examples/train_digits.py [--epochs N] [--out DIR]``
"""

from __future__ import annotations

import argparse
import pathlib
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import fcfun


class Result(NamedTuple):
    """What the example reports."""

    state: fcfun.TrainState[Any]
    test_accuracy: float
    confusion: np.ndarray[Any, np.dtype[np.int64]]
    figure: pathlib.Path | None


def confusion_matrix(
    true: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any], k: int
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """``C[i, j]``: test samples of class ``i`` predicted as ``j``."""
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (true, predicted), 1)
    return counts


def plot(
    state: fcfun.TrainState[Any], confusion: np.ndarray[Any, Any], path: pathlib.Path
) -> pathlib.Path:
    """Loss curves and confusion matrix, side by side, to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (curves, matrix) = plt.subplots(1, 2, figsize=(11, 4.5))
    epochs = np.arange(1, state.epoch + 1)
    curves.plot(epochs, state.history.train_loss, label="training loss")
    curves.plot(epochs, state.history.val_loss, label="validation loss")
    curves.set_xlabel("epoch")
    curves.set_ylabel("softmax cross-entropy")
    curves.set_yscale("log")
    curves.set_title("Digits: loss per epoch")
    curves.legend()
    image = matrix.imshow(confusion, cmap="Blues")
    for (i, j), count in np.ndenumerate(confusion):
        if count:
            matrix.text(
                j,
                i,
                str(count),
                ha="center",
                va="center",
                color="white" if count > confusion.max() / 2 else "black",
                fontsize=8,
            )
    matrix.set_xticks(range(10))
    matrix.set_yticks(range(10))
    matrix.set_xlabel("predicted digit")
    matrix.set_ylabel("true digit")
    matrix.set_title("Test confusion matrix")
    fig.colorbar(image, ax=matrix)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(epochs: int = 200, out: pathlib.Path | None = None, verbose: bool = True) -> Result:
    """Train, report and (optionally) plot."""
    digits = load_digits()
    X = digits.data / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    X_fit, X_val, y_fit, y_val = train_test_split(
        X_train, y_train, test_size=0.1, random_state=0, stratify=y_train
    )
    spec = fcfun.mlp(
        [64, 128, 10], hidden=fcfun.relu, output=fcfun.softmax, loss=fcfun.softmax_cross_entropy
    )

    def report(state: fcfun.TrainState[Any]) -> None:
        if verbose:
            h = state.history
            print(
                f"epoch {state.epoch:3d}  train loss {h.train_loss[-1]:.4f}  "
                f"val loss {h.val_loss[-1]:.4f}  val accuracy {h.val_metric[-1]:.3f}"
            )

    if verbose:
        print(fcfun.summary(spec))
    state = fcfun.fit(
        spec,
        X_fit,
        y_fit,
        optimizer=fcfun.adam(1e-3),
        epochs=epochs,
        batch_size=32,
        seed=0,
        alpha=1e-4,
        validation=(X_val, y_val),
        early_stopping=fcfun.EarlyStopping(patience=15, monitor="val_loss"),
        callback=report,
    )
    predicted = fcfun.predict(spec, state.params, X_test).argmax(axis=1)
    accuracy = float(np.mean(predicted == y_test))
    confusion = confusion_matrix(y_test, predicted, 10)
    figure = None
    if out is not None:
        try:
            figure = plot(state, confusion, out / "digits.png")
        except ImportError:
            print("matplotlib is not installed: no plot (pip install 'fcfun[plot]')")
    if verbose:
        print(
            f"stopped after {state.epoch} epochs; test accuracy {accuracy:.4f} "
            f"on {len(y_test)} held-out digits"
        )
        print(fcfun.summary(spec, state.params))
        if figure is not None:
            print(f"wrote {figure}")
    return Result(state, accuracy, confusion, figure)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("."))
    args = parser.parse_args(argv)
    run(epochs=args.epochs, out=args.out)


if __name__ == "__main__":
    main()
