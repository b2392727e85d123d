"""Initializers: determinism, dtypes and the published scales."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import fcfun

# (initializer, fan_in, fan_out, expected standard deviation, uniform bound or None)
CASES = [
    (fcfun.lecun_normal, 400, 300, math.sqrt(1 / 400), None),
    (fcfun.he_normal, 400, 300, math.sqrt(2 / 400), None),
    (fcfun.he_uniform, 400, 300, math.sqrt(6 / 400) / math.sqrt(3), math.sqrt(6 / 400)),
    (fcfun.glorot_normal, 400, 300, math.sqrt(2 / 700), None),
    (fcfun.glorot_uniform, 400, 300, math.sqrt(6 / 700) / math.sqrt(3), math.sqrt(6 / 700)),
    (
        functools.partial(fcfun.glorot_uniform, factor=2.0),
        400,
        300,
        math.sqrt(2 / 700) / math.sqrt(3),
        math.sqrt(2 / 700),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: getattr(c[0], "__name__", "glorot_2"))
def test_scale_bounds_and_determinism(
    case: tuple[fcfun.Initializer, int, int, float, float | None],
) -> None:
    initializer, fan_in, fan_out, std, bound = case
    W = initializer(7, fan_in, fan_out)
    assert W.shape == (fan_in, fan_out)
    assert not W.flags.writeable
    # Statistical: the sample standard deviation of n draws has a relative standard error
    # of about 1 / sqrt(2 n) (0.2% for 120,000); 5 of them.
    assert float(W.std()) == pytest.approx(std, rel=5 / math.sqrt(2 * W.size))
    assert abs(float(W.mean())) < 4 * std / math.sqrt(W.size)
    if bound is not None:
        assert float(np.abs(W).max()) <= bound
        assert float(np.abs(W).max()) > 0.99 * bound
    np.testing.assert_array_equal(W, initializer(7, fan_in, fan_out))
    assert not np.array_equal(W, initializer(8, fan_in, fan_out))
    W32 = initializer(7, fan_in, fan_out, np.float32)
    assert W32.dtype == np.float32
    np.testing.assert_array_equal(W32, W.astype(np.float32))


def test_zeros_bias() -> None:
    b = fcfun.zeros(4, np.float32)
    assert b.dtype == np.float32
    assert b.shape == (4,)
    assert not b.any()
    assert not b.flags.writeable


def test_init_draws_nothing_from_the_global_generator() -> None:
    before = np.random.get_state(legacy=False)
    spec = fcfun.mlp([3, 4, 2], output=fcfun.identity, loss=fcfun.mean_squared_error)
    fcfun.init(spec, seed=1)
    after = np.random.get_state(legacy=False)
    assert isinstance(before, dict)
    assert isinstance(after, dict)
    np.testing.assert_array_equal(after["state"]["key"], before["state"]["key"])
    assert after["state"]["pos"] == before["state"]["pos"]
