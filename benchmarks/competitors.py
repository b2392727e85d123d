"""Every competitor trains ``case`` from the same weights with the case's optimizer (plain SGD,
momentum SGD or Adam: ``Case.optimizer``) and returns its final weights as ``Params`` (so they
can be compared) and its per-epoch mean training loss.

fcfun, the hand loop and PyTorch visit the rows in fcfun's order (each epoch's rows gathered
once, then cut into consecutive batches); scikit-learn shuffles with its own generator unless
``shuffle=False``. The floor runs only the matrix products of the same steps.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from cases import ADAM_B1, ADAM_B2, ADAM_EPS, ADAM_LR, MOMENTUM, SEED, Case

import fcfun


class Trained(NamedTuple):
    params: fcfun.Params
    losses: list[float]


Competitor = Callable[[Case, fcfun.Params], Trained]


def fcfun_fit(case: Case, params: fcfun.Params) -> Trained:
    state = case.fit(params=params)
    return Trained(state.params, list(state.history.train_loss))


# Hand-written numpy ------------------------------------------------------------------


def _softmax_loss_delta(Z: fcfun.FloatArray, Y: fcfun.FloatArray) -> float:
    """Turn the logits ``Z`` into ``dZ = (softmax(Z) - Y) / n`` in place; return the loss."""
    n = int(Z.shape[0])
    Z -= Z.max(axis=1, keepdims=True)
    loss_sum = -float(np.vdot(Y, Z))
    np.exp(Z, out=Z)
    total = Z.sum(axis=1, keepdims=True)
    loss_sum += float(np.log(total).sum())
    Z /= total
    Z -= Y
    Z /= n
    return loss_sum / n


def hand_loop(case: Case, params: fcfun.Params) -> Trained:
    """The hand-written loop for the case's optimizer."""
    if case.optimizer == "momentum":
        return hand_momentum(case, params)
    if case.optimizer == "adam":
        return hand_adam(case, params)
    return hand_sgd(case, params)


def hand_sgd(case: Case, params: fcfun.Params) -> Trained:
    """The imperative loop a numpy programmer writes: in-place updates, no checks."""
    Ws = [layer.W.copy() for layer in params]
    bs = [layer.b.copy() for layer in params]
    lr = case.lr

    def update(t: int, index: int, dW: fcfun.FloatArray, db: fcfun.FloatArray) -> None:
        dW *= lr
        Ws[index] -= dW
        db *= lr
        bs[index] -= db

    losses = _hand_train(case, Ws, bs, update)
    return Trained(tuple(fcfun.Dense(W, b) for W, b in zip(Ws, bs, strict=True)), losses)


LayerUpdate = Callable[[int, int, fcfun.FloatArray, fcfun.FloatArray], None]
"""``update(t, index, dW, db)``: update layer ``index`` in place at step ``t`` (1 for the first
batch); ``dW`` and ``db`` are fresh gradient arrays that the update may overwrite."""


def _hand_train(
    case: Case, Ws: list[fcfun.FloatArray], bs: list[fcfun.FloatArray], update: LayerUpdate
) -> list[float]:
    """The hand loops' training loop, the update of each layer left to ``update``; returns
    the losses. A layer is updated as soon as its gradients are known, after its old weights
    have been used for the gradient of the layer below.
    """
    X, Y, batch_size = case.X, case.Y, case.batch_size
    m, n_layers = X.shape[0], len(Ws)
    losses = []
    t = 0
    for epoch in range(case.epochs):
        order = np.random.default_rng([SEED, epoch]).permutation(m)
        X_epoch, Y_epoch = X[order], Y[order]
        total = 0.0
        for start in range(0, m, batch_size):
            t += 1
            x, y = X_epoch[start : start + batch_size], Y_epoch[start : start + batch_size]
            acts = [x]
            for W, b in zip(Ws[:-1], bs[:-1], strict=True):
                Z = acts[-1] @ W
                Z += b
                np.maximum(Z, 0.0, out=Z)
                acts.append(Z)
            dZ = acts[-1] @ Ws[-1]
            dZ += bs[-1]
            total += _softmax_loss_delta(dZ, y) * x.shape[0]
            for index in range(n_layers - 1, -1, -1):
                dW = acts[index].T @ dZ
                db = dZ.sum(axis=0)
                if index > 0:
                    dA = dZ @ Ws[index].T
                    dA *= acts[index] > 0
                    dZ = dA
                update(t, index, dW, db)
        losses.append(total / m)
    return losses


def _momentum_step(
    p: fcfun.FloatArray, g: fcfun.FloatArray, buf: fcfun.FloatArray, lr: float, mu: float
) -> None:
    """PyTorch SGD momentum (no dampening), in place: ``buf = buf*mu + g; p -= lr*buf``."""
    buf *= mu
    buf += g
    np.multiply(buf, lr, out=g)
    p -= g


def hand_momentum(case: Case, params: fcfun.Params) -> Trained:
    """SGD with momentum 0.9: in-place momentum buffers (zero at the start), as ``hand_sgd``."""
    Ws = [layer.W.copy() for layer in params]
    bs = [layer.b.copy() for layer in params]
    W_bufs = [np.zeros_like(W) for W in Ws]
    b_bufs = [np.zeros_like(b) for b in bs]
    lr, mu = case.lr, MOMENTUM

    def update(t: int, index: int, dW: fcfun.FloatArray, db: fcfun.FloatArray) -> None:
        _momentum_step(Ws[index], dW, W_bufs[index], lr, mu)
        _momentum_step(bs[index], db, b_bufs[index], lr, mu)

    losses = _hand_train(case, Ws, bs, update)
    return Trained(tuple(fcfun.Dense(W, b) for W, b in zip(Ws, bs, strict=True)), losses)


_ADAM_W1 = 1 - ADAM_B1  # the lerp weight of the first moment (< 0.5: start + w * (end - start))
_ADAM_W2 = 1 - ADAM_B2


def _adam_step(
    p: fcfun.FloatArray,
    g: fcfun.FloatArray,
    m: fcfun.FloatArray,
    v: fcfun.FloatArray,
    scratch: fcfun.FloatArray,
    lr: float,
    correction1: float,
    correction2_sqrt: float,
) -> None:
    """PyTorch Adam in place, in fcfun's (and PyTorch's) order of operations; ``g`` is used up.

    ``v = v*b2 + ((1-b2)*g)*g``, ``m = m + (1-b1)*(g - m)``,
    ``p -= lr * ((m / c1) / (sqrt(v) / sqrt(c2) + eps))``.
    """
    v *= ADAM_B2
    np.multiply(g, _ADAM_W2, out=scratch)
    scratch *= g
    v += scratch
    np.subtract(g, m, out=g)
    g *= _ADAM_W1
    m += g
    np.sqrt(v, out=scratch)
    scratch /= correction2_sqrt
    scratch += ADAM_EPS
    np.divide(m, correction1, out=g)
    g /= scratch
    g *= lr
    p -= g


def hand_adam(case: Case, params: fcfun.Params) -> Trained:
    """Adam (lr 1e-3, PyTorch's defaults): in-place moments and one scratch array per parameter."""
    Ws = [layer.W.copy() for layer in params]
    bs = [layer.b.copy() for layer in params]
    W_state = [(np.zeros_like(W), np.zeros_like(W), np.empty_like(W)) for W in Ws]
    b_state = [(np.zeros_like(b), np.zeros_like(b), np.empty_like(b)) for b in bs]
    lr = ADAM_LR

    def update(t: int, index: int, dW: fcfun.FloatArray, db: fcfun.FloatArray) -> None:
        correction1 = 1 - ADAM_B1**t
        correction2_sqrt = (1 - ADAM_B2**t) ** 0.5  # as fcfun writes it (not math.sqrt)
        _adam_step(Ws[index], dW, *W_state[index], lr, correction1, correction2_sqrt)
        _adam_step(bs[index], db, *b_state[index], lr, correction1, correction2_sqrt)

    losses = _hand_train(case, Ws, bs, update)
    return Trained(tuple(fcfun.Dense(W, b) for W, b in zip(Ws, bs, strict=True)), losses)


def matmul_floor(case: Case, params: fcfun.Params) -> Trained:
    """Only the matrix products of the same steps, into preallocated outputs."""
    Ws = [layer.W for layer in params]
    X, batch_size = case.X, case.batch_size
    widths = case.sizes[1:]
    Zs = [np.empty((batch_size, k), case.dtype) for k in widths]
    dAs = [np.empty((batch_size, k), case.dtype) for k in widths]
    dWs = [np.empty_like(W) for W in Ws]
    m = X.shape[0]
    for _ in range(case.epochs):
        for start in range(0, m, batch_size):
            x = X[start : start + batch_size]
            n = x.shape[0]
            acts = [x]
            for W, Z in zip(Ws, Zs, strict=True):
                acts.append(np.matmul(acts[-1], W, out=Z[:n]))
            dZ = acts[-1]
            for index in range(len(Ws) - 1, -1, -1):
                np.matmul(acts[index].T, dZ, out=dWs[index])
                if index > 0:
                    dZ = np.matmul(dZ, Ws[index].T, out=dAs[index - 1][:n])
    return Trained(params, [])


# scikit-learn ------------------------------------------------------------------------


def sklearn_fit(case: Case, params: fcfun.Params, *, shuffle: bool = True) -> Trained:
    """MLPClassifier with the case's optimizer, started from ``params`` (integer labels,
    one-hot inside). Its Adam adds ``eps`` to ``sqrt(v)`` before the bias correction of ``v``
    (PyTorch and fcfun after it), in effect ``eps / sqrt(1 - b2**t)``: not the same steps."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf: Any = MLPClassifier(
        hidden_layer_sizes=case.sizes[1:-1],
        activation="relu",
        solver="adam" if case.optimizer == "adam" else "sgd",
        alpha=0.0,
        batch_size=case.batch_size,
        learning_rate="constant",
        learning_rate_init=case.step_size,
        momentum=MOMENTUM if case.optimizer == "momentum" else 0.0,
        nesterovs_momentum=False,
        beta_1=ADAM_B1,
        beta_2=ADAM_B2,
        epsilon=ADAM_EPS,
        max_iter=case.epochs,
        shuffle=shuffle,
        random_state=SEED,
        tol=0.0,
        n_iter_no_change=case.epochs + 1,
    )
    initial = iter(params)

    def init_coef(fan_in: int, fan_out: int, dtype: Any) -> tuple[Any, Any]:
        layer = next(initial)
        return layer.W.copy(), layer.b.copy()

    clf._init_coef = init_coef
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(case.X, case.labels)
    final = tuple(fcfun.Dense(W, b) for W, b in zip(clf.coefs_, clf.intercepts_, strict=True))
    return Trained(final, list(clf.loss_curve_))


# PyTorch -----------------------------------------------------------------------------


def torch_available() -> bool:
    try:
        import torch  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


def torch_fit(case: Case, params: fcfun.Params) -> Trained:
    """nn.Sequential + CrossEntropyLoss on one-hot targets + torch.optim.SGD or Adam, eager on
    CPU (single-tensor optimizer code, PyTorch's default there)."""
    import torch
    from torch import nn

    layers: list[nn.Module] = []
    for index, layer in enumerate(params):
        dtype = torch.float64 if case.dtype == np.float64 else torch.float32
        linear = nn.Linear(layer.W.shape[0], layer.W.shape[1], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.W.T)))
            linear.bias.copy_(torch.from_numpy(layer.b.copy()))
        layers.append(linear)
        if index < len(params) - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    criterion = nn.CrossEntropyLoss()
    optimizer: torch.optim.Optimizer
    if case.optimizer == "adam":
        optimizer = torch.optim.Adam(
            model.parameters(), lr=ADAM_LR, betas=(ADAM_B1, ADAM_B2), eps=ADAM_EPS
        )
    else:
        momentum = MOMENTUM if case.optimizer == "momentum" else 0.0
        optimizer = torch.optim.SGD(model.parameters(), lr=case.lr, momentum=momentum)
    X, Y = torch.from_numpy(case.X), torch.from_numpy(case.Y)
    m, batch_size = case.X.shape[0], case.batch_size
    losses = []
    for epoch in range(case.epochs):
        order = torch.from_numpy(np.random.default_rng([SEED, epoch]).permutation(m))
        X_epoch, Y_epoch = X[order], Y[order]
        total = 0.0
        for start in range(0, m, batch_size):
            x, y = X_epoch[start : start + batch_size], Y_epoch[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * x.shape[0]
        losses.append(total / m)
    linears = [module for module in model if isinstance(module, nn.Linear)]
    final = tuple(
        fcfun.Dense(lin.weight.detach().numpy().T.copy(), lin.bias.detach().numpy().copy())
        for lin in linears
    )
    return Trained(final, losses)


# Inference ---------------------------------------------------------------------------

Predictor = Callable[[fcfun.MLP, fcfun.Params, fcfun.FloatArray], object]

CHUNK = 8192


def fcfun_predict(spec: fcfun.MLP, params: fcfun.Params, X: fcfun.FloatArray) -> object:
    return fcfun.predict(spec, params, X, chunk_size=CHUNK)


def hand_predict(spec: fcfun.MLP, params: fcfun.Params, X: fcfun.FloatArray) -> object:
    """Chunked forward pass with in-place activations."""
    out = np.empty((X.shape[0], spec.sizes[-1]), X.dtype)
    for start in range(0, X.shape[0], CHUNK):
        A = X[start : start + CHUNK]
        for index, layer in enumerate(params):
            A = A @ layer.W
            A += layer.b
            if index < len(params) - 1:
                np.maximum(A, 0.0, out=A)
        A -= A.max(axis=1, keepdims=True)
        np.exp(A, out=A)
        A /= A.sum(axis=1, keepdims=True)
        out[start : start + CHUNK] = A
    return out


def torch_predict(spec: fcfun.MLP, params: fcfun.Params, X: fcfun.FloatArray) -> object:
    import torch

    weights = [
        (torch.from_numpy(layer.W.copy()), torch.from_numpy(layer.b.copy())) for layer in params
    ]
    X_t = torch.from_numpy(X)
    out = torch.empty((X.shape[0], spec.sizes[-1]), dtype=X_t.dtype)
    with torch.inference_mode():
        for start in range(0, X.shape[0], CHUNK):
            A = X_t[start : start + CHUNK]
            for index, (W, b) in enumerate(weights):
                A = torch.addmm(b, A, W)
                if index < len(weights) - 1:
                    A.relu_()
            out[start : start + CHUNK] = torch.softmax(A, dim=1)
    return out


def sklearn_predict(spec: fcfun.MLP, params: fcfun.Params, X: fcfun.FloatArray) -> object:
    """predict_proba of an MLPClassifier holding ``params`` (scikit-learn does not chunk)."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import LabelBinarizer

    clf: Any = MLPClassifier(hidden_layer_sizes=spec.sizes[1:-1], activation="relu")
    clf.coefs_ = [layer.W for layer in params]
    clf.intercepts_ = [layer.b for layer in params]
    clf.n_layers_ = len(params) + 1
    clf.n_outputs_ = spec.sizes[-1]
    clf.out_activation_ = "softmax"
    clf.n_features_in_ = spec.sizes[0]
    clf._label_binarizer = LabelBinarizer().fit(np.arange(spec.sizes[-1]))
    clf.classes_ = clf._label_binarizer.classes_
    return clf.predict_proba(X)
