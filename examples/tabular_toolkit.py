"""Dropout ensembles on digits and quantile intervals on diabetes, with fcfun's own functions.

Two small problems from scikit-learn's bundled data, each trained with several of fcfun's
pieces at once, as a script would compose them:

- **Digits** (8x8 images, 10 classes, standardized, a fixed 25% test split): a relu
  network with dropout on its hidden layer, trained by Adam with decoupled weight decay on
  the weights only (``masked(add_decayed_weights(...), weights_only(spec))``) and a cosine
  learning-rate schedule, as a one-pass ensemble of ``k`` members (``fit_ensemble``, each
  member with its own seed, initial parameters, batch order and dropout masks). The
  ensemble of the first ``j`` members averages their probabilities
  (``predict_ensemble``); its test accuracy and cross-entropy are reported for
  ``j = 1 .. k``.
- **Diabetes** (ten standardized features, disease progression one year on): one network
  with three outputs trained on the pinball loss ``quantile(0.1, 0.5, 0.9)`` by Adam,
  whose learning rate a ``ReduceOnPlateau`` rule halves when the training loss stalls
  (``scale_by_plateau``). Its 0.1 and 0.9 outputs bound an 80% prediction interval. A
  flexible model's quantiles fit their own training rows more closely than new ones, so
  the interval is then widened by a margin computed on held-out calibration rows
  (split-conformal, ``conformal_margin``). The share of test patients inside each
  interval (the empirical coverage) is reported.

Writes ``tabular_toolkit.png``: test accuracy and cross-entropy against ensemble size,
and the test patients' intervals (raw and calibrated) and medians, sorted, against the
truth.

Run: ``python examples/tabular_toolkit.py [--members K] [--epochs N] [--out DIR]``
"""

from __future__ import annotations

import argparse
import pathlib
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from toolz import accumulate, pipe

import fcfun

LEVELS = (0.1, 0.5, 0.9)
"""The quantiles the diabetes network estimates: an 80% interval and the median."""


class Digits(NamedTuple):
    """The digits ensemble and how well it does on the test split."""

    spec: fcfun.MLP
    ensemble: fcfun.Ensemble[Any]
    member_accuracy: tuple[float, ...]
    """Test accuracy of each member alone."""
    ensemble_accuracy: tuple[float, ...]
    """Test accuracy of the average of the first ``j`` members' probabilities, ``j = 1..k``."""
    ensemble_cross_entropy: tuple[float, ...]
    """Test cross-entropy of the same averages."""


class Intervals(NamedTuple):
    """The diabetes quantile network and its test intervals (original units)."""

    state: fcfun.TrainState[Any]
    y_test: np.ndarray[Any, Any]
    quantiles: np.ndarray[Any, Any]
    """``(m_test, 3)``: the predicted 0.1, 0.5 and 0.9 quantiles."""
    coverage: float
    """Share of test targets in ``[q_0.1, q_0.9]``."""
    margin: float
    """The conformal margin from the calibration rows (``conformal_margin``)."""
    conformal_coverage: float
    """Share of test targets in ``[q_0.1 - margin, q_0.9 + margin]``."""
    learning_rate_scale: float
    """The scale the plateau rule had reached when training ended."""


class Result(NamedTuple):
    """What the example reports."""

    digits: Digits
    intervals: Intervals
    figure: pathlib.Path | None


def digits_ensemble(members: int, epochs: int, seed: int = 0) -> Digits:
    """Train ``members`` dropout networks in one pass; their accuracies on the test split."""
    data = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    spec = fcfun.mlp(
        [64, 128, 10],
        hidden=fcfun.relu,
        output=fcfun.softmax,
        loss=fcfun.softmax_cross_entropy,
        dropout=0.3,
    )
    batch_size = 32
    steps = epochs * -(-len(y_train) // batch_size)
    optimizer = fcfun.chain(
        fcfun.scale_by_adam(),
        fcfun.masked(fcfun.add_decayed_weights(1e-2), fcfun.weights_only(spec)),
        fcfun.scale_by_learning_rate(fcfun.cosine_decay(3e-3, steps, alpha=0.05)),
    )
    config = fcfun.TrainConfig(spec, optimizer, batch_size)
    ensemble = fcfun.fit_ensemble(
        config, X_train, y_train, epochs=epochs, seeds=fcfun.member_seeds(seed, members)
    )
    probabilities = fcfun.predict_ensemble(spec, ensemble, X_test, average=False)
    rows = np.arange(len(y_test))

    def accuracy(p: np.ndarray[Any, Any]) -> float:
        return float(np.mean(p.argmax(axis=1) == y_test))

    def cross_entropy(p: np.ndarray[Any, Any]) -> float:
        return float(-np.mean(np.log(np.maximum(p[rows, y_test], 1e-300))))

    averages: list[np.ndarray[Any, Any]] = pipe(
        accumulate(np.add, probabilities),  # the sums of the first j members' probabilities
        lambda sums: (total / j for j, total in enumerate(sums, start=1)),
        list,
    )
    return Digits(
        spec,
        ensemble,
        tuple(accuracy(p) for p in probabilities),
        tuple(accuracy(p) for p in averages),
        tuple(cross_entropy(p) for p in averages),
    )


def conformal_margin(quantiles: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> float:
    """How far to widen ``[q_lo, q_hi]`` for split-conformal coverage of 80%.

    Conformalized quantile regression (Romano, Patterson and Candes, 2019): the scores of
    the calibration rows are ``E_i = max(q_lo - y_i, y_i - q_hi)`` and the margin is
    their ``ceil(0.8 (n + 1))``-th smallest; on a new row from the same distribution,
    ``[q_lo - margin, q_hi + margin]`` holds the target with probability at least 0.8.
    """
    scores = np.sort(np.maximum(quantiles[:, 0] - y, y - quantiles[:, -1]))
    rank = min(int(np.ceil(0.8 * (len(scores) + 1))), len(scores))
    return float(scores[rank - 1])


def diabetes_intervals(epochs: int, seed: int = 0) -> Intervals:
    """Train the quantile network, calibrate its interval; test intervals and coverage."""
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    X_fit, X_calibration, y_fit, y_calibration = train_test_split(
        X_train, y_train, test_size=0.25, random_state=0
    )
    features = StandardScaler().fit(X_fit)
    mean, scale = float(y_fit.mean()), float(y_fit.std())
    spec = fcfun.mlp(
        [10, 16, len(LEVELS)],
        hidden=fcfun.relu,
        output=fcfun.identity,
        loss=fcfun.quantile(*LEVELS),
    )
    rule = fcfun.ReduceOnPlateau(patience=10, factor=0.5, min_scale=0.01)
    state = fcfun.fit(
        spec,
        features.transform(X_fit),
        (y_fit - mean) / scale,
        optimizer=fcfun.chain(fcfun.adam(1e-2), fcfun.scale_by_plateau()),
        epochs=epochs,
        batch_size=32,
        seed=seed,
        alpha=1.0,
        plateau=rule,
    )

    def predicted(X_rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        standardized = fcfun.predict(spec, state.params, features.transform(X_rows))
        return mean + scale * np.asarray(standardized)

    quantiles = predicted(X_test)
    margin = conformal_margin(predicted(X_calibration), y_calibration)
    return Intervals(
        state,
        y_test,
        quantiles,
        coverage(quantiles[:, 0], quantiles[:, 2], y_test),
        margin,
        coverage(quantiles[:, 0] - margin, quantiles[:, 2] + margin, y_test),
        fcfun.plateau_scale(rule, state.history),
    )


def coverage(
    low: np.ndarray[Any, Any], high: np.ndarray[Any, Any], y: np.ndarray[Any, Any]
) -> float:
    """The share of ``y`` inside ``[low, high]``."""
    return float(np.mean((low <= y) & (y <= high)))


def plot(digits: Digits, intervals: Intervals, path: pathlib.Path) -> pathlib.Path:
    """Accuracy against ensemble size, and the sorted test intervals, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (sizes, bands) = plt.subplots(1, 2, figsize=(12, 5.2))
    k = len(digits.member_accuracy)
    members = np.arange(1, k + 1)
    sizes.plot(members, digits.ensemble_accuracy, marker="o", label="accuracy, first j averaged")
    sizes.scatter(
        members, digits.member_accuracy, marker="x", color="grey", label="accuracy, member j alone"
    )
    sizes.set_xlabel("ensemble size j")
    sizes.set_ylabel("test accuracy")
    sizes.set_xticks(members)
    sizes.set_title(f"Digits: {k} dropout networks trained in one pass")
    loss = sizes.twinx()
    loss.plot(
        members,
        digits.ensemble_cross_entropy,
        marker="s",
        linestyle="--",
        color="tab:orange",
        label="cross-entropy, first j averaged",
    )
    loss.set_ylabel("test cross-entropy")
    handles = [*sizes.get_legend_handles_labels()[0], *loss.get_legend_handles_labels()[0]]
    sizes.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8
    )

    order = np.argsort(intervals.quantiles[:, 1])
    low, median, high = intervals.quantiles[order].T
    truth = intervals.y_test[order]
    rank = np.arange(len(truth))
    margin = intervals.margin
    inside = (low - margin <= truth) & (truth <= high + margin)
    bands.fill_between(
        rank,
        low - margin,
        high + margin,
        color="tab:blue",
        alpha=0.15,
        label=f"calibrated: covers {intervals.conformal_coverage:.0%}",
    )
    bands.fill_between(
        rank,
        low,
        high,
        color="tab:blue",
        alpha=0.3,
        label=f"0.1 to 0.9 quantile: covers {intervals.coverage:.0%}",
    )
    bands.plot(rank, median, color="tab:blue", linewidth=1.5, label="median")
    bands.scatter(rank[inside], truth[inside], s=12, color="black", label="true, inside")
    bands.scatter(rank[~inside], truth[~inside], s=16, color="tab:red", label="true, outside")
    bands.set_xlabel("test patient, sorted by predicted median")
    bands.set_ylabel("disease progression")
    bands.set_title(f"Diabetes: 80% prediction intervals, {len(truth)} test patients")
    bands.legend(loc="upper left", fontsize=8)
    bands.set_xlim(-1, len(truth))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(
    members: int = 8,
    epochs: int = 20,
    out: pathlib.Path | None = None,
    verbose: bool = True,
) -> Result:
    """Train both, report and (optionally) plot."""
    digits = digits_ensemble(members, epochs)
    intervals = diabetes_intervals(epochs=150)
    figure = None
    if out is not None:
        try:
            figure = plot(digits, intervals, out / "tabular_toolkit.png")
        except ImportError:
            print("matplotlib is not installed: no plot (pip install 'fcfun[plot]')")
    if verbose:
        print(fcfun.summary(digits.spec))
        print(
            f"digits: {members} members trained in one pass for {epochs} epochs; test "
            "accuracy of each: " + " ".join(f"{a:.3f}" for a in digits.member_accuracy)
        )
        print(
            f"digits: test accuracy of the first j averaged, j = 1..{members}: "
            + " ".join(f"{a:.3f}" for a in digits.ensemble_accuracy)
        )
        print(
            "digits: test cross-entropy of the same: "
            + " ".join(f"{c:.4f}" for c in digits.ensemble_cross_entropy)
        )
        state, quantiles = intervals.state, intervals.quantiles
        width = float(np.mean(quantiles[:, 2] - quantiles[:, 0]))
        print(
            f"diabetes: quantiles {LEVELS} after {state.epoch} epochs, learning-rate scale "
            f"{intervals.learning_rate_scale:g} at the end; on {len(intervals.y_test)} test "
            f"patients the 0.1 to 0.9 interval (mean width {width:.1f}) covers "
            f"{intervals.coverage:.3f}, widened by the calibration margin "
            f"{intervals.margin:.1f} it covers {intervals.conformal_coverage:.3f}"
        )
        if figure is not None:
            print(f"wrote {figure}")
    return Result(digits, intervals, figure)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("."))
    args = parser.parse_args(argv)
    run(members=args.members, epochs=args.epochs, out=args.out)


if __name__ == "__main__":
    main()
