"""The seed walkthrough against an independent transcription of the notebook's equations.

The reference below is the notebook's code as written (samples as columns, parameters in
a dict keyed by strings), with one change: relu's backward passes ``dA`` through.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import fcfun
from examples import seed_walkthrough
from tests._bounds import ACTIVATION_ULPS, assert_within, both, forward_pass, gradient_error

Array = fcfun.FloatArray


def seed_relu_backward_fixed(dA: Array, Z: Array) -> Array:
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def seed_sigmoid_backward(dA: Array, Z: Array) -> Array:
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


def seed_reference(
    params: dict[str, Array], X: Array, Y: Array, learning_rate: float
) -> dict[str, Any]:
    """The notebook's N_layers_forward / cross_entropy_loss / N_layers_backward / update."""
    L = len(params) // 2
    caches = []
    A = X
    for l in range(1, L + 1):
        A_prev = A
        Z = params["W" + str(l)].dot(A_prev) + params["b" + str(l)]
        A = np.maximum(0, Z) if l < L else 1 / (1 + np.exp(-Z))
        caches.append((A_prev, params["W" + str(l)], Z))
    prediction = A
    m = Y.shape[1]
    cost = (-1.0 / m) * np.sum(Y * np.log(prediction) + (1 - Y) * np.log(1 - prediction))
    grads: dict[str, Array] = {}
    dA = -(np.divide(Y, prediction) - np.divide(1 - Y, 1 - prediction))
    for l in range(L, 0, -1):
        A_prev, W, Z = caches[l - 1]
        dZ = seed_sigmoid_backward(dA, Z) if l == L else seed_relu_backward_fixed(dA, Z)
        grads["dW" + str(l)] = np.dot(dZ, A_prev.T) / m
        grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True) / m
        dA = np.dot(W.T, dZ)
    updated = {key: params[key] - learning_rate * grads["d" + key] for key in sorted(params)}
    return {"prediction": prediction, "cost": float(cost), "grads": grads, "updated": updated}


def test_walkthrough_matches_the_seed_equations() -> None:
    result = seed_walkthrough.run()
    # The notebook's layout: W is (n_out, n_in), b is (n_out, 1), X is (features, m).
    params = {}
    for l, layer in enumerate(result.params, start=1):
        params["W" + str(l)] = layer.W.T.copy()
        params["b" + str(l)] = layer.b.reshape(-1, 1).copy()
    reference = seed_reference(params, result.X.T.copy(), result.Y.T.copy(), 0.05)

    # Two implementations of one network (tests/_bounds): the prediction within
    # forward_error, the gradients within gradient_error (sigmoid with binary cross-entropy:
    # fused), the loss within its logits' error (its slope in them is |a - y| <= 1) and the
    # mean's and logs' roundings, the step within lr times the gradients' and its own two.
    spec = fcfun.mlp(
        seed_walkthrough.LAYER_DIMS, hidden="relu", output="sigmoid", loss="binary_cross_entropy"
    )
    run = forward_pass(spec, result.params, result.X)
    assert_within(result.prediction, reference["prediction"].T, run.error)
    logits_error = float(run.pre_activations[-1][1].mean())
    rounding = both(result.Y.size + ACTIVATION_ULPS, np.float64) * (abs(reference["cost"]) + 1)
    assert abs(result.loss - reference["cost"]) <= logits_error + rounding
    bounds = gradient_error(spec, result.params, result.X, result.Y)
    lr = seed_walkthrough.LEARNING_RATE
    for l, (grad, layer, start, (bound_W, bound_b)) in enumerate(
        zip(result.grads, result.updated, result.params, bounds, strict=True), 1
    ):
        assert_within(grad.W, reference["grads"]["dW" + str(l)].T, bound_W)
        assert_within(grad.b, reference["grads"]["db" + str(l)].ravel(), bound_b)
        step_W = lr * bound_W + both(2, np.float64) * (np.abs(start.W) + lr * np.abs(grad.W))
        step_b = lr * bound_b + both(2, np.float64) * (np.abs(start.b) + lr * np.abs(grad.b))
        assert_within(layer.W, reference["updated"]["W" + str(l)].T, step_W)
        assert_within(layer.b, reference["updated"]["b" + str(l)].ravel(), step_b)


def test_walkthrough_exercises_both_relu_branches() -> None:
    # The relu fix only shows if some hidden units are active and some are not.
    result = seed_walkthrough.run()
    hidden = result.X @ result.params[0].W + result.params[0].b
    assert (hidden > 0).any()
    assert (hidden <= 0).any()


def test_walkthrough_prints(capsys: Any) -> None:
    seed_walkthrough.main()
    out = capsys.readouterr().out
    assert "layer 1: W (10, 3), b (3,)" in out
    assert f"loss = {seed_walkthrough.run().loss!r}" in out
