"""The benchmark cases: data, network, batches and the initial weights every competitor uses.

``small`` is scikit-learn's digits (1797 x 64, 64-128-64-10, batch 32, 20 epochs); ``large``
is synthetic (60000 x 784 with a linear teacher, 784-512-256-10, batch 256, 1 epoch).
Targets are one-hot float rows prepared once, in the case's dtype. Each case trains with one of
three optimizers (``Case.optimizer``): plain SGD at the case's ``lr``, SGD with momentum 0.9
(PyTorch's, no dampening) at the same ``lr``, or Adam at lr 1e-3 with PyTorch's defaults.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

import fcfun

SEED = 0

OptimizerName = Literal["sgd", "momentum", "adam"]
OPTIMIZERS: tuple[OptimizerName, ...] = ("sgd", "momentum", "adam")
MOMENTUM = 0.9
ADAM_LR, ADAM_B1, ADAM_B2, ADAM_EPS = 1e-3, 0.9, 0.999, 1e-8


class Case(NamedTuple):
    """One benchmark: data, network sizes and training settings."""

    name: str
    X: fcfun.FloatArray
    Y: fcfun.FloatArray
    labels: npt.NDArray[np.int64]
    sizes: tuple[int, ...]
    batch_size: int
    epochs: int
    lr: float
    """The learning rate of plain and momentum SGD (Adam uses ``ADAM_LR``)."""
    optimizer: OptimizerName = "sgd"

    @property
    def spec(self) -> fcfun.MLP:
        return network(self.sizes)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.X.dtype

    @property
    def step_size(self) -> float:
        """The learning rate of this case's optimizer."""
        return ADAM_LR if self.optimizer == "adam" else self.lr

    @property
    def optimizer_label(self) -> str:
        if self.optimizer == "sgd":
            return f"sgd, lr {self.lr:g}"
        if self.optimizer == "momentum":
            return f"sgd momentum {MOMENTUM:g}, lr {self.lr:g}"
        return f"adam, lr {ADAM_LR:g}"

    def fcfun_optimizer(self) -> fcfun.Optimizer[Any]:
        if self.optimizer == "sgd":
            return fcfun.sgd(self.lr)
        if self.optimizer == "momentum":
            return fcfun.sgd(self.lr, momentum=MOMENTUM)
        return fcfun.adam(ADAM_LR, b1=ADAM_B1, b2=ADAM_B2, eps=ADAM_EPS)

    def fit(
        self,
        spec: fcfun.MLP | None = None,
        seed: int = SEED,
        params: fcfun.Params | None = None,
    ) -> fcfun.TrainState[Any]:
        """``fcfun.fit`` of this case (``spec``: another network of the same sizes)."""
        return fcfun.fit(
            self.spec if spec is None else spec,
            self.X,
            self.Y,
            optimizer=self.fcfun_optimizer(),
            epochs=self.epochs,
            batch_size=self.batch_size,
            seed=seed,
            params=params,
        )

    def params(self) -> fcfun.Params:
        """fcfun's initial parameters: every competitor starts from copies of these."""
        return fcfun.init(self.spec, SEED, dtype=self.dtype)

    def orders(self) -> list[npt.NDArray[np.intp]]:
        """Each epoch's row order, as fcfun draws it."""
        m = self.X.shape[0]
        return [np.random.default_rng([SEED, e]).permutation(m) for e in range(self.epochs)]


def network(sizes: tuple[int, ...]) -> fcfun.MLP:
    """relu hidden layers, a softmax output and softmax cross-entropy (the fused path)."""
    return fcfun.mlp(
        sizes, hidden=fcfun.relu, output=fcfun.softmax, loss=fcfun.softmax_cross_entropy
    )


def one_hot(labels: npt.NDArray[np.int64], k: int, dtype: np.dtype[Any]) -> fcfun.FloatArray:
    Y: fcfun.FloatArray = np.eye(k, dtype=dtype)[labels]
    return Y


def small(dtype: np.dtype[Any]) -> Case:
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = np.ascontiguousarray(digits.data / 16.0, dtype=dtype)
    labels = digits.target.astype(np.int64)
    return Case(
        f"small {dtype}", X, one_hot(labels, 10, dtype), labels, (64, 128, 64, 10), 32, 20, 0.1
    )


def synthetic(m: int, n_in: int, dtype: np.dtype[Any]) -> tuple[fcfun.FloatArray, Any]:
    """``m`` standard-normal rows labelled by the argmax of a fixed random linear map."""
    rng = np.random.default_rng(1234)
    teacher = rng.standard_normal((n_in, 10))
    X = rng.standard_normal((m, n_in), dtype=np.float32).astype(dtype, copy=False)
    labels = np.argmax(X @ teacher.astype(dtype), axis=1).astype(np.int64)
    return X, labels


def large(dtype: np.dtype[Any], m: int = 60000, hidden: tuple[int, ...] = (512, 256)) -> Case:
    X, labels = synthetic(m, 784, dtype)
    sizes = (784, *hidden, 10)
    name = f"large {dtype}" if m == 60000 and hidden == (512, 256) else f"m={m} {sizes}"
    return Case(name, X, one_hot(labels, 10, dtype), labels, sizes, 256, 1, 0.01)
