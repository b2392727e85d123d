"""Sample weights at the ends of the float range: only their ratios matter.

fcfun scales the checked weights by one power of two, ``2**-e`` (the largest lands in
[0.5, 1)), and ``alpha`` with them. Multiplying by a power of two is exact (the
significand is unchanged) as long as no value becomes subnormal, so every sum, product
and quotient of the weighted loss and gradient rounds the same: weights ``s`` and
``2**k s`` give the same bits. Uniform weights that are powers of two scale to 0.5 each,
exactly what weights of 1 scale to, so they give the bits of unit weights.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import fcfun

RNG = np.random.default_rng(12)
X = RNG.standard_normal((30, 4))
LABELS = RNG.integers(0, 3, 30)
SPEC = fcfun.mlp([4, 6, 3], hidden="tanh", output="softmax", loss="softmax_cross_entropy")
SETTINGS: dict[str, Any] = {"optimizer": fcfun.adam(1e-2), "epochs": 3, "batch_size": 7, "seed": 0}

# (dtype, weight): the values, each near an end of the dtype's range.
EXTREMES = [(np.float64, 1e308), (np.float64, 1e-310), (np.float32, 1e37), (np.float32, 1e-40)]
# Powers of two near the same ends (2**1023, 2**-1033 subnormal; 2**126, 2**-133 subnormal).
POWERS = [(np.float64, 1023), (np.float64, -1033), (np.float32, 126), (np.float32, -133)]


def _same(a: tuple[float, fcfun.Params], b: tuple[float, fcfun.Params]) -> None:
    assert a[0] == b[0]
    for x, y in zip(a[1], b[1], strict=True):
        assert x.W.tobytes() == y.W.tobytes()
        assert x.b.tobytes() == y.b.tobytes()


def _in_normal_range(weight: np.ndarray, dtype: Any) -> np.ndarray:
    """``weight`` as ``dtype`` holds it (as fcfun casts it), times the power of two that
    brings the largest into [1, 2): exact, the result is normal in ``dtype``."""
    given = weight.astype(dtype).astype(np.float64)
    return np.ldexp(given, -math.floor(math.log2(float(given.max()))))


@pytest.mark.parametrize(("dtype", "weight"), EXTREMES)
def test_extreme_uniform_weights_give_the_bits_of_the_same_weights_scaled(
    dtype: Any, weight: float
) -> None:
    params = fcfun.init(SPEC, 0, dtype=dtype)
    extreme = fcfun.loss_and_grad(SPEC, params, X, LABELS, sample_weight=np.full(30, weight))
    scaled = _in_normal_range(np.full(30, weight), dtype)
    _same(extreme, fcfun.loss_and_grad(SPEC, params, X, LABELS, sample_weight=scaled))
    unit = fcfun.loss_and_grad(SPEC, params, X, LABELS, sample_weight=np.ones(30))
    # Against unit weights: uniform weights c cancel in sum c l_i / sum c, up to the
    # rounding of the products and sums, at most (m + 2) units of roundoff (m = 30) of a
    # sum of non-negative terms; the gradient's row factor m c / (m c) likewise.
    bound = 32 * float(np.finfo(dtype).eps)
    assert extreme[0] == pytest.approx(unit[0], rel=bound)
    for x, y in zip(extreme[1], unit[1], strict=True):
        np.testing.assert_allclose(x.W, y.W, rtol=bound, atol=bound * float(np.abs(y.W).max()))


@pytest.mark.parametrize(("dtype", "power"), POWERS)
def test_uniform_weights_of_a_power_of_two_are_unit_weights_to_the_bits(
    dtype: Any, power: int
) -> None:
    params = fcfun.init(SPEC, 0, dtype=dtype)
    weight = np.full(30, 2.0**power)
    _same(
        fcfun.loss_and_grad(SPEC, params, X, LABELS, sample_weight=weight),
        fcfun.loss_and_grad(SPEC, params, X, LABELS, sample_weight=np.ones(30)),
    )
    extreme = fcfun.fit(SPEC, X, LABELS, dtype=dtype, sample_weight=weight, **SETTINGS)
    unit = fcfun.fit(SPEC, X, LABELS, dtype=dtype, sample_weight=np.ones(30), **SETTINGS)
    assert fcfun.fingerprint(extreme) == fcfun.fingerprint(unit)
    assert extreme.history.train_loss == unit.history.train_loss


@pytest.mark.parametrize(("dtype", "weight"), EXTREMES)
def test_a_fit_with_extreme_weights_is_the_fit_with_them_scaled(dtype: Any, weight: float) -> None:
    """No divergence at step 0, no warning (warnings are errors), the same bits."""
    ratios = RNG.uniform(0.5, 1.0, 30)  # not uniform: ratios in [0.5, 1)
    extreme = fcfun.fit(SPEC, X, LABELS, dtype=dtype, sample_weight=ratios * weight, **SETTINGS)
    scaled = _in_normal_range(ratios * weight, dtype)  # subnormal ones: the digits they hold
    same = fcfun.fit(SPEC, X, LABELS, dtype=dtype, sample_weight=scaled, **SETTINGS)
    assert np.isfinite(extreme.history.train_loss).all()
    assert fcfun.fingerprint(extreme) == fcfun.fingerprint(same)


def test_alpha_keeps_its_meaning_for_scaled_weights() -> None:
    """The L2 term is alpha / (2 sum s): weights 4 s with alpha 4 a are weights s, alpha a."""
    params = fcfun.init(SPEC, 0)
    weight = RNG.uniform(0.1, 3.0, 30)
    a = fcfun.loss_and_grad(SPEC, params, X, LABELS, alpha=4 * 0.1, sample_weight=4 * weight)
    b = fcfun.loss_and_grad(SPEC, params, X, LABELS, alpha=0.1, sample_weight=weight)
    _same(a, b)


@pytest.mark.parametrize("power", [1023, -1033])
def test_the_estimators_take_extreme_weights(power: int) -> None:
    """With ``alpha=0`` (the L2 term ``alpha / (2 sum s)`` depends on the weights' scale,
    as scikit-learn's: weights of 1e-310 make it 1e304 times ``alpha``), uniform weights
    of a power of two are unit weights, to the bits."""
    from sklearn.exceptions import ConvergenceWarning

    from fcfun.sklearn import FCClassifier

    fits = []
    for weight in (np.full(30, 2.0**power), np.ones(30)):
        model = FCClassifier((5,), alpha=0.0, max_iter=4, random_state=0)
        with pytest.warns(ConvergenceWarning):
            fits.append(model.fit(X, LABELS, sample_weight=weight))
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    for a, b in zip(fits[0].coefs_, fits[1].coefs_, strict=True):
        assert a.tobytes() == b.tobytes()


def test_the_l2_term_of_tiny_weights_is_scikit_learns() -> None:
    """alpha / (2 sum s) * sum ||W||^2 for s = 1e-310: about 1e304 * alpha, finite for
    alpha = 1e-4 and beyond float64's range for alpha = 1 (an overflow, refused)."""
    params = fcfun.init(SPEC, 0)
    weight = np.full(30, 1e-310)
    data, _ = fcfun.loss_and_grad(SPEC, params, X, LABELS, sample_weight=np.ones(30))
    squares = sum(float(np.vdot(layer.W, layer.W)) for layer in params)
    loss, _ = fcfun.loss_and_grad(SPEC, params, X, LABELS, alpha=1e-4, sample_weight=weight)
    # Each side is a few roundings of products and quotients of float64 (eps 2.2e-16) and
    # a sum of 30 subnormal weights (exact: they share one exponent): 1e-14 holds.
    assert loss == pytest.approx(data + 1e-4 / (2 * float(weight.sum())) * squares, rel=1e-14)
    with pytest.raises(ValueError, match="must be small enough"):
        fcfun.loss_and_grad(SPEC, params, X, LABELS, alpha=1.0, sample_weight=weight)


def test_a_weight_below_the_largest_times_the_smallest_subnormal_becomes_zero() -> None:
    """2**-1070 next to 2**10: scaled by 2**-11 it would be 2**-1081, below float64's
    smallest subnormal 2**-1074, so it weighs exactly what 0 weighs."""
    params = fcfun.init(SPEC, 0)
    weight = np.ones(30)
    weight[0], weight[1] = 2.0**10, 2.0**-1070
    zeroed = weight.copy()
    zeroed[1] = 0.0
    _same(
        fcfun.loss_and_grad(SPEC, params, X, LABELS, sample_weight=weight),
        fcfun.loss_and_grad(SPEC, params, X, LABELS, sample_weight=zeroed),
    )


@pytest.mark.parametrize(("dtype", "power"), POWERS)
def test_sharded_fits_take_extreme_weights(dtype: Any, power: int) -> None:
    """One shard computes what the full batch does (bit for bit, as for unit weights), and
    uniform weights of a power of two are unit weights."""
    import concurrent.futures as cf

    from fcfun import distributed

    settings: dict[str, Any] = {"optimizer": fcfun.adam(1e-2), "epochs": 3, "seed": 2}
    alone = fcfun.fit(
        SPEC, X, LABELS, batch_size=30, shuffle=False, dtype=dtype, sample_weight=np.ones(30),
        **settings,
    )  # fmt: skip
    with cf.ThreadPoolExecutor(2) as pool:
        sharded = distributed.fit_sharded(
            SPEC, X, LABELS, executor=pool, n_shards=1, dtype=dtype,
            sample_weight=np.full(30, 2.0**power), **settings,
        )  # fmt: skip
    assert fcfun.fingerprint(sharded) == fcfun.fingerprint(alone)
