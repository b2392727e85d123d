"""The seed notebook's TEST, redone with fcfun.

Layer sizes ``[10, 3, 4, 1]``, 4 samples, relu hidden layers, a sigmoid output, binary
cross-entropy, one gradient-descent step with learning rate 0.05. Where the notebook
stored samples as columns and parameters in a dict, fcfun keeps samples as rows and
parameters as a tuple of read-only ``Dense(W, b)``; its relu backward passes ``dA``
through (the notebook's returned 1), and no gradient with respect to the input is formed.

Run: ``python examples/seed_walkthrough.py``
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import fcfun

LAYER_DIMS = (10, 3, 4, 1)
LEARNING_RATE = 0.05
SEED = 0


class Walkthrough(NamedTuple):
    """Everything the walkthrough computes, for printing and for the tests."""

    X: fcfun.FloatArray
    Y: fcfun.FloatArray
    params: fcfun.Params
    prediction: fcfun.FloatArray
    loss: float
    grads: fcfun.Params
    updated: fcfun.Params


def run(seed: int = SEED) -> Walkthrough:
    """Initialize as the notebook did (LeCun normal), then forward, loss, backward, step."""
    spec = fcfun.mlp(
        LAYER_DIMS, hidden=fcfun.relu, output=fcfun.sigmoid, loss=fcfun.binary_cross_entropy
    )
    params = fcfun.init(spec, seed=seed, weights=fcfun.lecun_normal)
    rng = np.random.default_rng([seed, 1])
    X = rng.standard_normal((4, LAYER_DIMS[0]))
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    prediction, _ = fcfun.forward(spec, params, X)
    loss, grads = fcfun.loss_and_grad(spec, params, X, Y)
    optimizer = fcfun.sgd(LEARNING_RATE)  # plain gradient descent: W <- W - lr * dW
    updates, _ = optimizer.update(grads, optimizer.init(params), params)
    updated = fcfun.apply_updates(params, updates)
    return Walkthrough(X, Y, params, prediction, loss, grads, updated)


def main() -> None:
    """Print shapes, prediction, loss and gradients, as the notebook did."""
    result = run()
    np.set_printoptions(precision=6, suppress=True)
    print("parameter shapes (W is (n_in, n_out), b is (n_out,)):")
    for index, layer in enumerate(result.params, start=1):
        print(f"  layer {index}: W {layer.W.shape}, b {layer.b.shape}")
    print(f"prediction: {result.prediction.ravel()}")
    print(f"loss = {result.loss!r}")
    for index, grad in enumerate(result.grads, start=1):
        print(f"dW{index} =\n{grad.W}\ndb{index} = {grad.b}")
    print(f"after one step with lr {LEARNING_RATE}:")
    for index, layer in enumerate(result.updated, start=1):
        print(f"W{index} =\n{layer.W}\nb{index} = {layer.b}")


if __name__ == "__main__":
    main()
