"""The scikit-learn examples run as a user runs them, plot, and reach what they promise."""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from examples import breast_cancer, diabetes
from tests._bounds import both

PNG = b"\x89PNG\r\n\x1a\n"


def test_breast_cancer_beats_or_ties_mlpclassifier_and_plots(tmp_path: pathlib.Path) -> None:
    result = breast_cancer.run(out=tmp_path, verbose=False)
    assert result.test_accuracy >= result.reference_accuracy
    assert result.test_accuracy >= 0.95
    model = result.model[-1]
    assert model.spec_.sizes == (30, *breast_cancer.HIDDEN, 1)
    assert model.out_activation_ == "logistic"
    assert result.reference[-1].hidden_layer_sizes == breast_cancer.HIDDEN
    assert result.figure == tmp_path / "breast_cancer.png"
    assert result.figure.read_bytes()[:8] == PNG


def test_diabetes_r2_close_to_mlpregressor_and_plots(tmp_path: pathlib.Path) -> None:
    result = diabetes.run(out=tmp_path, verbose=False)
    assert result.test_r2 >= 0.3
    assert result.test_r2 >= result.reference_r2 - 0.03
    assert result.predicted.shape == result.y_test.shape == (111,)
    residual = float(np.sum((result.y_test - result.predicted) ** 2))
    total = float(np.sum((result.y_test - result.y_test.mean()) ** 2))
    # two computations of R² of 111 rows: sums of 111 non-negative terms, a division
    rel = both(111 + 4, np.float64) * (1 + residual / total) / abs(1 - residual / total)
    assert result.test_r2 == pytest.approx(1 - residual / total, rel=rel)
    assert result.figure == tmp_path / "diabetes.png"
    assert result.figure.read_bytes()[:8] == PNG


@pytest.mark.parametrize(
    "main", [breast_cancer.main, diabetes.main], ids=["breast_cancer", "diabetes"]
)
def test_main_runs_on_a_few_epochs(
    main: Callable[[Sequence[str] | None], None],
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["--max-iter", "5", "--out", str(tmp_path)])  # a smoke run: 5 epochs
    printed = capsys.readouterr().out
    assert printed.count("stopped by max_iter") == 2
    assert "wrote" in printed
    assert len(list(tmp_path.glob("*.png"))) == 1
