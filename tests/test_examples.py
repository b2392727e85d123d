"""The examples run as a user runs them, and reach what they promise."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from examples import tabular_toolkit, train_digits


def test_train_digits_reaches_97_percent_and_plots(tmp_path: pathlib.Path) -> None:
    result = train_digits.run(out=tmp_path, verbose=False)
    assert result.test_accuracy >= 0.97
    assert result.state.epoch < 200  # early stopping stopped it
    assert int(result.confusion.sum()) == 450
    assert float(np.trace(result.confusion)) / 450 == result.test_accuracy
    assert result.figure == tmp_path / "digits.png"
    assert result.figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tabular_toolkit_ensemble_helps_and_intervals_cover_about_80_percent(
    tmp_path: pathlib.Path,
) -> None:
    result = tabular_toolkit.run(out=tmp_path, verbose=False)
    digits, intervals = result.digits, result.intervals
    # Measured: members 0.976 to 0.984, all 8 averaged 0.982; cross-entropy 0.107 -> 0.087.
    assert len(digits.member_accuracy) == len(digits.ensemble_accuracy) == 8
    assert digits.ensemble_accuracy[0] == digits.member_accuracy[0]
    assert digits.ensemble_accuracy[-1] >= 0.975
    assert digits.ensemble_accuracy[-1] >= float(np.mean(digits.member_accuracy))
    assert digits.ensemble_cross_entropy[-1] < 0.9 * digits.ensemble_cross_entropy[0]
    assert digits.ensemble.epoch == 20
    # Measured on the 111 test patients: 0.766 raw, 0.811 with the calibration margin 7.2.
    low, median, high = intervals.quantiles.T
    assert float(np.mean((low <= median) & (median <= high))) >= 0.95  # ordered quantiles
    assert 0.7 <= intervals.coverage <= 0.9
    assert intervals.margin > 0
    assert intervals.coverage < intervals.conformal_coverage <= 0.9
    assert intervals.conformal_coverage >= 0.78
    assert intervals.learning_rate_scale < 1  # the plateau rule reduced the learning rate
    assert result.figure == tmp_path / "tabular_toolkit.png"
    assert result.figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tabular_toolkit_main_runs_a_small_ensemble(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tabular_toolkit.main(["--members", "2", "--epochs", "1", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "j = 1..2" in printed
    assert "covers" in printed
    assert (tmp_path / "tabular_toolkit.png").exists()
