"""An overflow names what overflowed: the forward pass (which layer, its params and its
input), the loss at the output (its values and the targets) or the backward pass."""

from __future__ import annotations

import numpy as np
import pytest

import fcfun

POISSON = fcfun.mlp([2, 1], output="exp", loss="poisson")
BIAS_800 = (fcfun.Dense(np.zeros((2, 1)), np.array([800.0])),)  # exp(800) > float64's max


def test_a_poisson_loss_overflow_names_the_loss_and_the_params_not_x() -> None:
    with pytest.raises(ValueError, match=r"^Y and params must .* the loss") as caught:
        fcfun.loss_and_grad(POISSON, BIAS_800, np.zeros((3, 2)), np.ones(3))
    assert "pre-activations with largest magnitude 800 from params[0]" in str(caught.value)


def test_a_forward_overflow_on_zero_inputs_names_the_params_alone() -> None:
    with pytest.raises(ValueError, match=r"^params must .* forward pass") as caught:
        fcfun.predict(POISSON, BIAS_800, np.zeros((3, 2)))
    assert "layer 0's output is not finite, got params[0] with largest |W| 0 and |b| 800" in (
        str(caught.value)
    )


def test_a_forward_overflow_names_the_layer_and_its_input() -> None:
    spec = fcfun.mlp([2, 3, 1], hidden="identity", output="exp", loss="poisson")
    params = (
        fcfun.Dense(np.full((2, 3), 100.0), np.zeros(3)),
        fcfun.Dense(np.ones((3, 1)), np.zeros(1)),
    )  # layer 0 gives 200 per unit, layer 1 exp(600): finite; X of 2 doubles it: exp(1200)
    assert np.isfinite(fcfun.predict(spec, params, np.ones((1, 2)))).all()
    with pytest.raises(ValueError, match=r"^X and params must .* forward pass") as caught:
        fcfun.predict(spec, params, np.full((1, 2), 2.0))
    message = str(caught.value)
    assert "layer 1's output is not finite" in message
    assert "layer 0's output with largest magnitude 400 (X's: 2)" in message
