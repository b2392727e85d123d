"""The examples run as a user runs them, and reach what they promise."""

from __future__ import annotations

import pathlib

import numpy as np

from examples import train_digits


def test_train_digits_reaches_97_percent_and_plots(tmp_path: pathlib.Path) -> None:
    result = train_digits.run(out=tmp_path, verbose=False)
    assert result.test_accuracy >= 0.97
    assert result.state.epoch < 200  # early stopping stopped it
    assert int(result.confusion.sum()) == 450
    assert float(np.trace(result.confusion)) / 450 == result.test_accuracy
    assert result.figure == tmp_path / "digits.png"
    assert result.figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
