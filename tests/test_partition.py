"""Optimizers on a subset of the parameters, against hand-written per-layer updates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fcfun
from tests._bounds import assert_network_close, both, steps

SPEC = fcfun.mlp([3, 5, 2], output="softmax", loss="softmax_cross_entropy")


def _problem() -> tuple[fcfun.Params, list[fcfun.Params]]:
    rng = np.random.default_rng(0)
    params = fcfun.init(SPEC, seed=1)
    grads = [
        tuple(
            fcfun.Dense(rng.normal(size=layer.W.shape), rng.normal(size=layer.b.shape))
            for layer in params
        )
        for _ in range(5)
    ]
    return params, grads


def _run(optimizer: fcfun.Optimizer[Any], params: fcfun.Params, grads: list[fcfun.Params]) -> Any:
    state = optimizer.init(params)
    for g in grads:
        updates, state = optimizer.update(g, state, params)
        params = fcfun.apply_updates(params, updates)
    return params


def test_weight_decay_on_weights_only() -> None:
    params, grads = _problem()
    decayed = fcfun.masked(fcfun.add_decayed_weights(0.1), fcfun.weights_only(SPEC))
    got = _run(fcfun.chain(decayed, fcfun.scale_by_learning_rate(0.5)), params, grads)
    W = [np.array(layer.W) for layer in params]
    b = [np.array(layer.b) for layer in params]
    for g in grads:
        for i, layer in enumerate(g):
            W[i] = W[i] - 0.5 * (layer.W + 0.1 * W[i])
            b[i] = b[i] - 0.5 * layer.b
    rtol = steps(len(grads), both(4, np.float64))  # elementwise steps: 4 roundings each
    for i, layer in enumerate(got):
        assert_network_close(layer.W, W[i], rtol)
        assert_network_close(layer.b, b[i], rtol)


def test_a_frozen_layer_and_a_learning_rate_per_layer() -> None:
    params, grads = _problem()
    optimizer = fcfun.multi_transform(
        {"frozen": fcfun.set_to_zero(), "fast": fcfun.sgd(0.3)},
        fcfun.layer_labels("frozen", "fast"),
    )
    got = _run(optimizer, params, grads)
    np.testing.assert_array_equal(got[0].W, params[0].W)
    np.testing.assert_array_equal(got[0].b, params[0].b)
    expected_W = params[1].W - 0.3 * sum(g[1].W for g in grads)
    # the steps one by one against a sum of the gradients: len(grads) + 2 roundings
    assert_network_close(got[1].W, expected_W, both(len(grads) + 2, np.float64))


def test_adam_on_one_layer_and_sgd_on_the_other() -> None:
    """Adam written out from its published rule for layer 1, plain SGD for layer 0."""
    params, grads = _problem()
    optimizer = fcfun.multi_transform(
        {"sgd": fcfun.sgd(0.1), "adam": fcfun.adam(0.01)}, fcfun.layer_labels("sgd", "adam")
    )
    got = _run(optimizer, params, grads)
    W0 = params[0].W - 0.1 * sum(g[0].W for g in grads)
    assert_network_close(got[0].W, W0, both(len(grads) + 2, np.float64))  # as above
    theta, m, v = np.array(params[1].W), np.zeros_like(params[1].W), np.zeros_like(params[1].W)
    for t, g in enumerate(grads, start=1):
        m = 0.9 * m + 0.1 * g[1].W
        v = 0.999 * v + 0.001 * g[1].W ** 2
        m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
        theta = theta - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    assert_network_close(got[1].W, theta, steps(len(grads), both(16, np.float64)))  # Adam's


@pytest.mark.parametrize(
    "make",
    [
        lambda: fcfun.masked(fcfun.adam(0.01), fcfun.weights_only(SPEC)),
        lambda: fcfun.multi_transform(
            {"a": fcfun.sgd(0.1, momentum=0.9), "b": fcfun.adam(0.01)},
            (fcfun.Leaves("a", "b"), fcfun.Leaves("b", "a")),
        ),
    ],
    ids=["masked", "multi_transform"],
)
def test_the_flat_step_equals_update_then_apply(make: Any) -> None:
    params, grads = _problem()
    optimizer, reference = make(), make()
    assert optimizer.update_flat is not None
    step = fcfun.optimizer_step(optimizer)
    state, ref_state, ref_params = optimizer.init(params), reference.init(params), params
    for g in grads:
        params, state = step(
            tuple(fcfun.Dense(layer.W.copy(), layer.b.copy()) for layer in g), state, params
        )
        updates, ref_state = reference.update(g, ref_state, ref_params)
        ref_params = fcfun.apply_updates(ref_params, updates)
        assert fcfun.fingerprint((params, state)) == fcfun.fingerprint((ref_params, ref_state))


def test_fit_with_labels_saves_and_resumes_bit_for_bit(tmp_path: Any) -> None:
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(60, 3)), rng.integers(0, 2, 60)
    optimizer = fcfun.multi_transform(
        {"frozen": fcfun.set_to_zero(), "train": fcfun.adam(0.01)},
        fcfun.layer_labels("frozen", "train"),
    )
    arguments: dict[str, Any] = {"optimizer": optimizer, "batch_size": 16}
    whole = fcfun.fit(SPEC, X, y, epochs=4, seed=0, **arguments)
    half = fcfun.fit(SPEC, X, y, epochs=2, seed=0, **arguments)
    fcfun.save(tmp_path / "run.npz", SPEC, half)
    _, loaded = fcfun.load(tmp_path / "run.npz", optimizer=optimizer)
    resumed = fcfun.fit(SPEC, X, y, epochs=4, params=loaded, **arguments)
    assert fcfun.fingerprint(resumed) == fcfun.fingerprint(whole)


def test_labels_of_the_wrong_length_or_without_a_transform_are_refused() -> None:
    params, _ = _problem()
    with pytest.raises(ValueError, match="mask must hold one Leaves"):
        fcfun.masked(fcfun.sgd(0.1), (fcfun.Leaves(True, True),)).init(params)
    with pytest.raises(ValueError, match="labels must name transforms that exist"):
        fcfun.multi_transform({"a": fcfun.sgd(0.1)}, fcfun.layer_labels("a", "b"))


def test_arguments_of_the_wrong_kind_are_named() -> None:
    sgd = fcfun.sgd(0.1)
    with pytest.raises(TypeError, match="labels must be a tuple of Leaves"):
        fcfun.multi_transform({"a": sgd}, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"labels\[0\] must be a Leaves\(W, b\) of str"):
        fcfun.multi_transform({"a": sgd}, (("a", "a"),))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="transforms must map labels"):
        fcfun.multi_transform([sgd], ())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"transforms\['a'\] must be an fcfun Optimizer"):
        fcfun.multi_transform({"a": 3}, ())  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="inner must be an fcfun Optimizer"):
        fcfun.masked(3, ())  # type: ignore[arg-type]
