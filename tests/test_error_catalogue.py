"""The error catalogue: every bad input, the exception it gets and its message.

Each entry runs a call a user could make by mistake. The test checks that it raises the
documented exception type, that the message names the argument, says what was expected
and what was given, and is not a raw numpy error; and that ``docs/errors.md`` shows
exactly the messages these calls produce (regenerate it with
``python -m tests.test_error_catalogue > docs/errors.md``).
"""

from __future__ import annotations

import contextlib
import pathlib
import tempfile
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

import fcfun

RAW_NUMPY_PHRASES = (
    "operands could not be broadcast",
    "ufunc",
    "matmul: Input operand",
    "could not convert",
    "setting an array element",
    "Object arrays cannot be loaded",
    "inhomogeneous",
)

CE = fcfun.mlp([4, 5, 3], output=fcfun.softmax, loss=fcfun.softmax_cross_entropy)
BCE = fcfun.mlp([4, 5, 1], output=fcfun.sigmoid, loss=fcfun.binary_cross_entropy)
MSE = fcfun.mlp([4, 5, 2], output=fcfun.identity, loss=fcfun.mean_squared_error)
P = fcfun.init(CE, seed=0)
P_BCE = fcfun.init(BCE, seed=0)
P_MSE = fcfun.init(MSE, seed=0)
X = np.random.default_rng(0).normal(0, 1, (6, 4))
Y = np.array([0, 1, 2, 0, 1, 2])


def _classifier(**settings: Any) -> Any:
    """An ``FCClassifier`` (imported here: the estimators need the sklearn extra)."""
    from fcfun.sklearn import FCClassifier

    return FCClassifier((3,), max_iter=1, **settings)


def _sparse(dense: Any) -> Any:
    """``dense`` as a scipy CSR matrix (scipy comes with the sklearn extra)."""
    import scipy.sparse

    return scipy.sparse.csr_matrix(dense)


def untyped(value: object) -> Any:
    """Pass a wrongly typed value past mypy, as a user without a type checker might."""
    return value


def _malformed(field: str, at: int, value: int, sparse_format: str = "csr") -> Any:
    """A sparse ``X`` whose ``field`` array has ``value`` written at ``at`` afterwards (as a
    user's code might), which scipy's constructors never see."""
    import scipy.sparse

    matrix = scipy.sparse.csr_matrix(X).asformat(sparse_format)
    getattr(matrix, field)[at] = value
    return matrix


def _short_indptr() -> Any:
    matrix = _sparse(X)
    matrix.indptr = matrix.indptr[:-2]
    return matrix


class Entry(NamedTuple):
    """One bad input: what it is, the call, the exception and the argument it names."""

    case: str
    call: Callable[[], object]
    error: type[Exception]
    names: str


PLATEAU_SGD = fcfun.chain(fcfun.sgd(0.1), fcfun.scale_by_plateau())


def fit(**overrides: Any) -> Callable[[], object]:
    arguments: dict[str, Any] = {
        "optimizer": fcfun.sgd(0.1),
        "epochs": 2,
        "batch_size": 4,
        "seed": 0,
    }
    arguments.update(overrides)
    spec, X_fit, Y_fit = arguments.pop("spec", CE), arguments.pop("X", X), arguments.pop("Y", Y)
    return lambda: fcfun.fit(spec, X_fit, Y_fit, **arguments)


def lg(spec: fcfun.MLP = CE, params: Any = P, X_in: Any = X, Y_in: Any = Y) -> Callable[[], object]:
    return lambda: fcfun.loss_and_grad(spec, params, X_in, Y_in)


def saved_and_loaded(
    state: fcfun.TrainState[Any], optimizer: fcfun.Optimizer[Any], **options: Any
) -> Callable[[], object]:
    """Save ``state`` of a run of ``CE`` as ``run.npz`` in a new directory, then load it."""

    def call() -> object:
        with tempfile.TemporaryDirectory() as directory, contextlib.chdir(directory):
            fcfun.save("run.npz", CE, state)
            return fcfun.load("run.npz", optimizer=optimizer, **options)

    return call


def sgd_state(epoch: int = 0, history: fcfun.History | None = None) -> fcfun.TrainState[Any]:
    """A state of an SGD run of ``CE`` after ``epoch`` epochs, with ``history``."""
    opt_state = fcfun.sgd(0.1).init(P)
    return fcfun.TrainState(P, opt_state, epoch, 0, history or fcfun.History((1.0,) * epoch))


def lbfgs_state(memory: int = 10, pairs: int = 0) -> fcfun.TrainState[fcfun.LbfgsState]:
    """A fresh L-BFGS state of ``CE``, claiming ``pairs`` pairs (whose ``s'y`` are 0)."""
    opt_state = fcfun.lbfgs(memory=memory).init(P)
    if pairs:
        opt_state = opt_state._replace(step=pairs, evaluations=pairs, pairs=pairs, loss=1.0)
    return fcfun.TrainState(P, opt_state, 0, 0, fcfun.History())


def plateau_state(scale: float) -> fcfun.TrainState[Any]:
    """A state of a ``PLATEAU_SGD`` run of ``CE`` whose plateau scale is ``scale``, built
    by hand (``set_scale`` refuses a scale outside [0, 1])."""
    opt_state = PLATEAU_SGD.init(P)
    plateau = opt_state.states[-1]._replace(scale=scale)
    return fcfun.TrainState(
        P, opt_state._replace(states=(*opt_state.states[:-1], plateau)), 0, 0, fcfun.History()
    )


def nan_adam_state() -> fcfun.TrainState[Any]:
    """A state of an Adam run of ``CE`` whose first moment holds a NaN (one that overflowed)."""
    opt_state = fcfun.adam(0.01).init(P)
    adam_state = opt_state.states[0]
    mu = np.array(adam_state.mu)  # the first moments' vector
    mu[0] = np.nan
    opt_state = opt_state._replace(states=(adam_state._replace(mu=mu), *opt_state.states[1:]))
    return fcfun.TrainState(P, opt_state, 0, 0, fcfun.History())


def mixed_params() -> fcfun.Params:
    return (P[0], fcfun.Dense(P[1].W.astype(np.float32), P[1].b.astype(np.float32)))


CATALOGUE = [
    # Inputs X
    Entry("X is 1-D", lg(X_in=X[0]), ValueError, "X"),
    Entry("X has the wrong number of columns", lg(X_in=X[:, :3]), ValueError, "X"),
    Entry("X is empty", lg(X_in=X[:0], Y_in=Y[:0]), ValueError, "X"),
    Entry("X holds NaN", lg(X_in=np.where(X > 1, np.nan, X)), ValueError, "X"),
    Entry("X holds inf", lg(X_in=np.where(X > 1, np.inf, X)), ValueError, "X"),
    Entry(
        "X exceeds float32's range for float32 params",
        lambda: fcfun.predict(CE, fcfun.init(CE, 0, dtype=np.float32), X * 1e300),
        ValueError,
        "X",
    ),
    Entry("X is complex", lg(X_in=X + 1j), TypeError, "X"),
    Entry("X holds strings", lg(X_in=X.astype(str)), TypeError, "X"),
    Entry("X is not an array", lg(X_in="data"), TypeError, "X"),
    Entry("X is a ragged list", lg(X_in=[[1.0, 2.0, 3.0, 4.0], [1.0]]), ValueError, "X"),
    # Targets Y
    Entry("Y has fewer rows than X", lg(Y_in=Y[:5]), ValueError, "Y"),
    Entry(
        "Y has the wrong number of columns", lg(MSE, P_MSE, Y_in=np.zeros((6, 3))), ValueError, "Y"
    ),
    Entry(
        "Y is 1-D for a network with several outputs",
        lg(MSE, P_MSE, Y_in=np.zeros(6)),
        ValueError,
        "Y",
    ),
    Entry(
        "binary label outside {0, 1}",
        lg(BCE, P_BCE, Y_in=np.array([0, 1, 2, 0, 1, 0])),
        ValueError,
        "Y",
    ),
    Entry("class index out of range", lg(Y_in=np.array([0, 1, 3, 0, 1, 2])), ValueError, "Y"),
    Entry("negative class index", lg(Y_in=np.array([0, -1, 2, 0, 1, 2])), ValueError, "Y"),
    Entry(
        "one-hot row that is not one-hot",
        lg(Y_in=np.eye(3)[Y] + np.eye(3)[(Y + 1) % 3]),
        ValueError,
        "Y",
    ),
    Entry("float class labels", lg(Y_in=Y.astype(float)), TypeError, "Y"),
    Entry("Y holds NaN", lg(MSE, P_MSE, Y_in=np.full((6, 2), np.nan)), ValueError, "Y"),
    # Specs
    Entry(
        "a layer size of 0",
        lambda: fcfun.mlp([4, 0, 3], output="softmax", loss="softmax_cross_entropy"),
        ValueError,
        "sizes[1]",
    ),
    Entry(
        "a layer size that is not an integer",
        lambda: fcfun.mlp([4, untyped(2.5), 3], output="softmax", loss="softmax_cross_entropy"),
        TypeError,
        "sizes[1]",
    ),
    Entry(
        "one layer size only",
        lambda: fcfun.mlp([4], output="softmax", loss="softmax_cross_entropy"),
        ValueError,
        "sizes",
    ),
    Entry(
        "sizes not a sequence",
        lambda: fcfun.mlp(untyped(4), output="softmax", loss="softmax_cross_entropy"),
        TypeError,
        "sizes",
    ),
    Entry(
        "hidden activations of the wrong count",
        lambda: fcfun.mlp(
            [4, 5, 3],
            hidden=[fcfun.relu, fcfun.tanh],
            output="softmax",
            loss="softmax_cross_entropy",
        ),
        ValueError,
        "hidden",
    ),
    Entry(
        "unknown activation name",
        lambda: fcfun.mlp(
            [4, 5, 3], hidden=untyped("relux"), output="softmax", loss="softmax_cross_entropy"
        ),
        ValueError,
        "activation 'relux'",
    ),
    Entry(
        "unknown loss name",
        lambda: fcfun.mlp([4, 5, 3], output="softmax", loss=untyped("hinge")),
        ValueError,
        "loss 'hinge'",
    ),
    Entry(
        "an activation that is not an Activation",
        lambda: fcfun.mlp(
            [4, 5, 3], hidden=untyped(42), output="softmax", loss="softmax_cross_entropy"
        ),
        TypeError,
        "hidden",
    ),
    Entry(
        "spec that is not an MLP", lambda: fcfun.predict(untyped((4, 3)), P, X), TypeError, "spec"
    ),
    # Parameters
    Entry("params with a layer missing", lg(params=P[:1]), ValueError, "params"),
    Entry(
        "params with a wrong shape",
        lg(params=(P[0], fcfun.Dense(P[1].W.T, P[1].b))),
        ValueError,
        "params[1].W",
    ),
    Entry(
        "params of integer dtype",
        lg(params=(fcfun.Dense(P[0].W.astype(int), P[0].b), P[1])),
        TypeError,
        "params[0].W",
    ),
    Entry("params mixing float32 and float64", lg(params=mixed_params()), TypeError, "params[1].W"),
    Entry("params in a list", lg(params=list(P)), TypeError, "params"),
    Entry(
        "params holding NaN",
        lg(params=(fcfun.Dense(P[0].W * np.nan, P[0].b), P[1])),
        ValueError,
        "params[0].W",
    ),
    Entry(
        "init dtype that is not a float",
        lambda: fcfun.init(CE, 0, dtype=untyped(np.int64)),
        TypeError,
        "dtype",
    ),
    Entry("init seed negative", lambda: fcfun.init(CE, -1), ValueError, "seed"),
    # Optimizers
    Entry("negative learning rate", lambda: fcfun.sgd(-0.1), ValueError, "lr"),
    Entry("NaN learning rate", lambda: fcfun.adam(float("nan")), ValueError, "lr"),
    Entry("learning rate as a string", lambda: fcfun.sgd(untyped("0.1")), TypeError, "lr"),
    Entry("eps of 0", lambda: fcfun.adam(1e-3, eps=0.0), ValueError, "eps"),
    Entry("beta of 1", lambda: fcfun.adam(1e-3, b1=1.0), ValueError, "b1"),
    Entry("negative beta", lambda: fcfun.adam(1e-3, b2=-0.1), ValueError, "b2"),
    Entry("negative momentum", lambda: fcfun.sgd(0.1, momentum=-0.5), ValueError, "momentum"),
    Entry(
        "Nesterov without momentum", lambda: fcfun.sgd(0.1, nesterov=True), ValueError, "nesterov"
    ),
    Entry(
        "negative weight decay",
        lambda: fcfun.adamw(1e-3, weight_decay=-1.0),
        ValueError,
        "weight_decay",
    ),
    Entry(
        "RMSprop alpha outside [0, 1)", lambda: fcfun.rmsprop(1e-3, alpha=1.5), ValueError, "alpha"
    ),
    Entry("clipping norm of 0", lambda: fcfun.clip_by_global_norm(0.0), ValueError, "max_norm"),
    Entry("L-BFGS memory of 0", lambda: fcfun.lbfgs(memory=0), ValueError, "memory"),
    Entry(
        "L-BFGS memory as a float", lambda: fcfun.lbfgs(memory=untyped(2.5)), TypeError, "memory"
    ),
    Entry("negative L-BFGS gtol", lambda: fcfun.lbfgs(gtol=-1e-5), ValueError, "gtol"),
    Entry("NaN L-BFGS ftol", lambda: fcfun.lbfgs(ftol=float("nan")), ValueError, "ftol"),
    Entry("L-BFGS max_fun of 0", lambda: fcfun.lbfgs(max_fun=0), ValueError, "max_fun"),
    Entry(
        "L-BFGS max_line_search of 0",
        lambda: fcfun.lbfgs(max_line_search=0),
        ValueError,
        "max_line_search",
    ),
    Entry(
        "L-BFGS stepped without its objective",
        lambda: fcfun.lbfgs().update(P, fcfun.lbfgs().init(P), P),
        TypeError,
        "optimizer",
    ),
    # fit
    Entry("batch_size of 0", fit(batch_size=0), ValueError, "batch_size"),
    Entry("negative epochs", fit(epochs=-1), ValueError, "epochs"),
    Entry("negative seed", fit(seed=-3), ValueError, "seed"),
    Entry("non-integer seed", fit(seed=1.5), TypeError, "seed"),
    Entry("no seed for a fresh run", fit(seed=None), TypeError, "seed"),
    Entry("negative alpha", fit(alpha=-1.0), ValueError, "alpha"),
    Entry("NaN alpha", fit(alpha=float("nan")), ValueError, "alpha"),
    Entry("an optimizer that is not an Optimizer", fit(optimizer="adam"), TypeError, "optimizer"),
    Entry("validation that is not a pair", fit(validation=X), TypeError, "validation"),
    Entry(
        "validation X with the wrong columns",
        fit(validation=(X[:, :2], Y)),
        ValueError,
        "validation X",
    ),
    Entry(
        "early stopping without validation data",
        fit(early_stopping=fcfun.EarlyStopping()),
        ValueError,
        "early_stopping.monitor",
    ),
    Entry(
        "early stopping patience of 0",
        fit(early_stopping=fcfun.EarlyStopping(patience=0, monitor="train_loss")),
        ValueError,
        "early_stopping.patience",
    ),
    Entry(
        "plateau factor outside (0, 1)",
        fit(optimizer=PLATEAU_SGD, plateau=fcfun.ReduceOnPlateau(factor=1.0)),
        ValueError,
        "plateau.factor",
    ),
    Entry(
        "negative plateau patience",
        fit(optimizer=PLATEAU_SGD, plateau=fcfun.ReduceOnPlateau(patience=-1)),
        ValueError,
        "plateau.patience",
    ),
    Entry(
        "negative plateau cooldown",
        fit(optimizer=PLATEAU_SGD, plateau=fcfun.ReduceOnPlateau(cooldown=-1)),
        ValueError,
        "plateau.cooldown",
    ),
    Entry(
        "negative plateau min_scale",
        fit(optimizer=PLATEAU_SGD, plateau=fcfun.ReduceOnPlateau(min_scale=-0.1)),
        ValueError,
        "plateau.min_scale",
    ),
    Entry(
        "unknown plateau threshold_mode",
        fit(
            optimizer=PLATEAU_SGD,
            plateau=fcfun.ReduceOnPlateau(threshold_mode=untyped("relative")),
        ),
        ValueError,
        "plateau.threshold_mode",
    ),
    Entry(
        "plateau that is not a ReduceOnPlateau",
        fit(optimizer=PLATEAU_SGD, plateau=untyped({"patience": 3})),
        TypeError,
        "plateau",
    ),
    Entry(
        "plateau with an optimizer whose scale the run cannot set",
        fit(plateau=fcfun.ReduceOnPlateau()),
        ValueError,
        "optimizer",
    ),
    Entry(
        "plateau monitoring validation without validation data",
        fit(optimizer=PLATEAU_SGD, plateau=fcfun.ReduceOnPlateau(monitor="val_loss")),
        ValueError,
        "plateau.monitor",
    ),
    Entry(
        "negative power_t of inverse_scaling",
        lambda: fcfun.inverse_scaling(0.1, power_t=-0.5),
        ValueError,
        "power_t",
    ),
    Entry("shuffle that is not a bool", fit(shuffle="yes"), TypeError, "shuffle"),
    Entry("callback that is not callable", fit(callback=3), TypeError, "callback"),
    Entry("unknown on_divergence", fit(on_divergence="ignore"), ValueError, "on_divergence"),
    Entry(
        "continuing a state with another seed",
        fit(
            params=fcfun.fit(CE, X, Y, optimizer=fcfun.sgd(0.1), epochs=1, batch_size=4, seed=0),
            seed=1,
        ),
        ValueError,
        "seed",
    ),
    # Other calls
    Entry(
        "predict chunk_size of 0",
        lambda: fcfun.predict(CE, P, X, chunk_size=0),
        ValueError,
        "chunk_size",
    ),
    Entry("gradcheck eps of 0", lambda: fcfun.gradcheck(CE, P, X, Y, eps=0.0), ValueError, "eps"),
    Entry(
        "loss_and_grad negative alpha",
        lambda: fcfun.loss_and_grad(CE, P, X, Y, alpha=-1.0),
        ValueError,
        "alpha",
    ),
    Entry("leaky_relu negative slope", lambda: fcfun.leaky_relu(-0.1), ValueError, "slope"),
    Entry(
        "X as a masked array",
        lg(X_in=np.ma.masked_array(X, mask=X > 1)),
        TypeError,
        "X",
    ),
    Entry(
        "huge unsigned class label",
        lg(Y_in=np.array([0, 1, 2, 0, 1, 2**63], dtype=np.uint64)),
        ValueError,
        "9223372036854775808",
    ),
    Entry(
        "softmax cross-entropy with one output",
        lambda: fcfun.mlp([4, 1], output="softmax", loss="softmax_cross_entropy"),
        ValueError,
        "sizes[-1]",
    ),
    Entry(
        "init of something that is not a spec",
        lambda: fcfun.init(untyped("spec"), 0),
        TypeError,
        "spec",
    ),
    Entry(
        "dataset in float16",
        lambda: fcfun.dataset(CE, X, Y, untyped(np.float16)),
        TypeError,
        "dtype",
    ),
    Entry(
        "backward with caches of another batch shape",
        lambda: fcfun.backward(
            CE, P, tuple(c._replace(X=c.X[:, :1]) for c in fcfun.forward(CE, P, X)[1]), Y
        ),
        ValueError,
        "caches[0]",
    ),
    Entry(
        "apply_updates with updates of the wrong structure",
        lambda: fcfun.apply_updates(P, P[:1]),
        ValueError,
        "updates",
    ),
    Entry(
        "batches of size 0",
        lambda: fcfun.batches(fcfun.dataset(CE, X, Y), 0),
        ValueError,
        "batch_size",
    ),
    Entry(
        "epoch_order with a negative seed", lambda: fcfun.epoch_order(-1, 0, 5), ValueError, "seed"
    ),
    Entry(
        "evaluate on data of another width",
        lambda: fcfun.evaluate(CE, P, fcfun.dataset(MSE, X, np.zeros((6, 2))), fcfun.accuracy),
        ValueError,
        "data",
    ),
    Entry(
        "a learning-rate schedule that goes negative",
        lambda: fcfun.sgd(fcfun.constant(-0.1)).update(
            P, fcfun.sgd(fcfun.constant(-0.1)).init(P), P
        ),
        ValueError,
        "lr schedule(0)",
    ),
    Entry(
        "spec_names of a user activation named like a built-in",
        lambda: fcfun.spec_names(
            CE._replace(activations=(fcfun.Activation("tanh", np.tanh, np.multiply), fcfun.softmax))
        ),
        ValueError,
        "spec.activations[0]",
    ),
    Entry(
        "spec_names of a user loss",
        lambda: fcfun.spec_names(CE._replace(loss=CE.loss._replace(name="hinge"))),
        ValueError,
        "spec.loss",
    ),
    Entry(
        "a run's settings with batch_size 0",
        lambda: fcfun.train_epoch(
            CE, fcfun.sgd(0.1), fcfun.dataset(CE, X, Y), untyped(None), 0, batch_size=0
        ),
        ValueError,
        "batch_size",
    ),
    Entry(
        "load of a device file",
        lambda: fcfun.load("/dev/null", optimizer=fcfun.sgd(0.1)),
        ValueError,
        "character device",
    ),
    Entry(
        "load of a directory",
        lambda: fcfun.load("/", optimizer=fcfun.sgd(0.1)),
        ValueError,
        "directory",
    ),
    Entry(
        "load with a byte budget smaller than the checkpoint's data",
        saved_and_loaded(sgd_state(), fcfun.sgd(0.1), max_bytes=1000),
        ValueError,
        "max_bytes",
    ),
    Entry(
        "load with a negative byte budget",
        lambda: fcfun.load("run.npz", optimizer=fcfun.sgd(0.1), max_bytes=-1),
        ValueError,
        "max_bytes",
    ),
    Entry(
        "save of a history longer than the epoch count",
        saved_and_loaded(sgd_state(1, fcfun.History((1.0, 0.5))), fcfun.sgd(0.1)),
        ValueError,
        "state.history.train_loss",
    ),
    Entry(
        "continue an L-BFGS state whose status no run sets",
        lambda: fcfun.fit(
            CE,
            X,
            Y,
            optimizer=fcfun.lbfgs(),
            epochs=1,
            batch_size=6,
            seed=0,
            params=lbfgs_state()._replace(
                opt_state=lbfgs_state().opt_state._replace(status="junk")
            ),
        ),
        ValueError,
        "params.opt_state.status",
    ),
    Entry(
        "continue an L-BFGS state with a pair of zero curvature",
        lambda: fcfun.fit(
            CE,
            X,
            Y,
            optimizer=fcfun.lbfgs(memory=2),
            epochs=1,
            batch_size=6,
            seed=0,
            params=lbfgs_state(memory=2, pairs=1),
        ),
        ValueError,
        "params.opt_state.sy",
    ),
    Entry(
        "continue a plateau scale of -1",
        lambda: fcfun.fit(
            CE,
            X,
            Y,
            optimizer=PLATEAU_SGD,
            epochs=1,
            batch_size=6,
            seed=0,
            params=plateau_state(-1.0),
        ),
        ValueError,
        "params.opt_state.states[1].scale",
    ),
    Entry(
        "save of an optimizer state holding NaN",
        saved_and_loaded(nan_adam_state(), fcfun.adam(0.01)),
        ValueError,
        "state.opt_state",
    ),
    Entry(
        "save to an empty path",
        lambda: fcfun.save(
            "", CE, fcfun.fit(CE, X, Y, optimizer=fcfun.sgd(0.1), epochs=0, batch_size=2, seed=0)
        ),
        ValueError,
        "path",
    ),
    Entry(
        "predict on a memmap-like source holding NaN in a later chunk",
        lambda: fcfun.predict(CE, P, np.vstack([X, np.full((1, 4), np.nan)]), chunk_size=4),
        ValueError,
        "rows 4..6",
    ),
    Entry("a seed of 2**63", lambda: fcfun.init(CE, 2**63), ValueError, "seed"),
    Entry(
        "sizes given as a set",
        lambda: fcfun.mlp(untyped({4, 5, 3}), output="softmax", loss="softmax_cross_entropy"),
        TypeError,
        "sizes",
    ),
    Entry(
        "continuing an Adam state with RMSprop",
        lambda: fcfun.fit(
            CE,
            X,
            Y,
            optimizer=fcfun.rmsprop(0.1),
            epochs=2,
            batch_size=2,
            params=fcfun.fit(CE, X, Y, optimizer=fcfun.adam(0.1), epochs=1, batch_size=2, seed=0),
        ),
        ValueError,
        "params",
    ),
    Entry(
        "load without an optimizer",
        lambda: fcfun.load("run.npz", optimizer=untyped(None)),
        TypeError,
        "optimizer",
    ),
    # (fit with validation data that overflows is a DivergenceError, tests/test_robustness.py)
    Entry(
        "evaluate on data that overflows",
        lambda: fcfun.evaluate(
            MSE,
            fcfun.init(MSE, 0),
            fcfun.dataset(MSE, np.full((3, 4), 1e200), np.zeros((3, 2))),
            fcfun.r2_score,
        ),
        ValueError,
        "validation X",
    ),
    # Ensembles
    Entry("an ensemble of k < 1 members", lambda: fcfun.member_seeds(0, 0), ValueError, "k"),
    Entry(
        "fit_ensemble with no seeds (k = 0)",
        lambda: fcfun.fit_ensemble(
            fcfun.TrainConfig(CE, fcfun.sgd(0.1), 4), X, Y, seeds=[], epochs=1
        ),
        ValueError,
        "seeds",
    ),
    Entry(
        "fit_ensemble seeds that are not a sequence",
        lambda: fcfun.fit_ensemble(
            fcfun.TrainConfig(CE, fcfun.sgd(0.1), 4), X, Y, seeds=untyped(3), epochs=1
        ),
        TypeError,
        "seeds",
    ),
    Entry(
        "a member index beyond the ensemble",
        lambda: fcfun.member(fcfun.stack_params([P, P]), 2),
        ValueError,
        "i",
    ),
    Entry(
        "predict_ensemble given one network's params",
        lambda: fcfun.predict_ensemble(CE, P, X),
        ValueError,
        "ensemble",
    ),
    Entry("stack_params of no members", lambda: fcfun.stack_params([]), ValueError, "members"),
    Entry(
        "fit_ensemble with a plateau rule",
        lambda: fcfun.fit_ensemble(
            fcfun.TrainConfig(
                CE,
                fcfun.chain(fcfun.sgd(0.1), fcfun.scale_by_plateau()),
                4,
                plateau=fcfun.ReduceOnPlateau(patience=2),
            ),
            X,
            Y,
            seeds=[0],
            epochs=1,
        ),
        ValueError,
        "config.plateau",
    ),
    Entry("a quantile outside (0, 1)", lambda: fcfun.quantile(0.5, 1.5), ValueError, "quantile"),
    Entry("a Huber delta of 0", lambda: fcfun.huber(0.0), ValueError, "delta"),
    Entry(
        "quantile targets for a network of the wrong width",
        fit(spec=fcfun.mlp([4, 2], output="identity", loss=fcfun.quantile(0.1, 0.5, 0.9))),
        ValueError,
        "Y",
    ),
    Entry(
        "negative targets for Poisson",
        fit(spec=fcfun.mlp([4, 1], output="exp", loss="poisson"), Y=np.array([1, 0, -2, 3, 0, 1])),
        ValueError,
        "Y",
    ),
    Entry(
        "a Poisson loss beyond the float range (a bias of 800)",
        lambda: fcfun.loss_and_grad(
            fcfun.mlp([1, 1], output="exp", loss="poisson"),
            (fcfun.Dense(np.zeros((1, 1)), np.array([800.0])),),
            np.zeros((3, 1)),
            np.ones(3),
        ),
        ValueError,
        "params",
    ),
    Entry(
        "params so large that the loss leaves the float range",
        lg(params=(fcfun.Dense(P[0].W * 1e308, P[0].b), P[1])),
        ValueError,
        "params",
    ),
    Entry(
        "an exp output beyond the float range",
        lambda: fcfun.predict(
            fcfun.mlp([1, 1], output="exp", loss="poisson"),
            (fcfun.Dense(np.ones((1, 1)), np.zeros(1)),),
            np.array([[710.0]]),
        ),
        ValueError,
        "X",
    ),
    Entry(
        "a mask of the wrong length",
        lambda: fcfun.masked(fcfun.sgd(0.1), (fcfun.Leaves(True, False),)).init(P),
        ValueError,
        "mask",
    ),
    Entry(
        "labels naming a transform that does not exist",
        lambda: fcfun.multi_transform({"a": fcfun.sgd(0.1)}, fcfun.layer_labels("a", "b")),
        ValueError,
        "labels",
    ),
    Entry("L-BFGS with mini-batches", fit(optimizer=fcfun.lbfgs()), ValueError, "optimizer"),
    Entry(
        "L-BFGS with dropout",
        fit(optimizer=fcfun.lbfgs(), batch_size=6, spec=CE._replace(dropout=(0.2,))),
        ValueError,
        "spec.dropout",
    ),
    Entry(
        "an L-BFGS estimator with dropout",
        lambda: _classifier(solver="lbfgs", dropout=0.2).fit(X, Y),
        ValueError,
        "dropout",
    ),
    Entry(
        "L-BFGS as a piece of a chain",
        lambda: fcfun.chain(fcfun.scale(1.0), fcfun.lbfgs()),
        ValueError,
        "optimizers[1]",
    ),
    Entry("a sparse X of the wrong width", fit(X=_sparse(np.ones((6, 3)))), ValueError, "X"),
    Entry(
        "a sparse X with a column index out of range",
        fit(X=_malformed("indices", 3, 1_000_000)),
        ValueError,
        "X",
    ),
    Entry(
        "a sparse X with a negative column index",
        lg(X_in=_malformed("indices", 0, -1)),
        ValueError,
        "X",
    ),
    Entry(
        "a sparse X with a decreasing indptr",
        lg(X_in=_malformed("indptr", 2, 20)),
        ValueError,
        "X",
    ),
    Entry("a sparse X with an indptr too short", lg(X_in=_short_indptr()), ValueError, "X"),
    Entry(
        "a sparse X whose indptr ends beyond its values",
        lg(X_in=_malformed("indptr", 6, 25)),
        ValueError,
        "X",
    ),
    Entry(
        "a CSC X with a row index out of range",
        lambda: fcfun.predict(CE, P, _malformed("indices", 0, 6, "csc")),
        ValueError,
        "X",
    ),
    Entry(
        "a COO X with a column index out of range",
        lg(X_in=_malformed("col", 1, 4, "coo")),
        ValueError,
        "X",
    ),
    Entry(
        "a sparse validation X with a column index out of range",
        fit(validation=(_malformed("indices", 3, 1_000_000), Y)),
        ValueError,
        "validation X",
    ),
    Entry(
        "a negative sample weight",
        fit(sample_weight=[1, -1, 1, 1, 1, 1]),
        ValueError,
        "sample_weight",
    ),
    Entry(
        "a NaN sample weight",
        fit(sample_weight=[1, np.nan, 1, 1, 1, 1]),
        ValueError,
        "sample_weight",
    ),
    Entry(
        "sample weights that are all zero",
        fit(sample_weight=np.zeros(6)),
        ValueError,
        "sample_weight",
    ),
    Entry("one sample weight too few", fit(sample_weight=np.ones(5)), ValueError, "sample_weight"),
    Entry(
        "class weights naming a class y does not have",
        lambda: _classifier(class_weight={"bird": 2.0}).fit(X, np.array(["cat", "dog"] * 3)),
        ValueError,
        "class_weight",
    ),
    Entry(
        "a dropout rate of 1 (every output dropped)",
        lambda: fcfun.mlp([4, 5, 1], output="sigmoid", loss="binary_cross_entropy", dropout=1.0),
        ValueError,
        "dropout",
    ),
    Entry(
        "a negative dropout rate for one hidden layer",
        lambda: fcfun.mlp(
            [4, 5, 5, 1], output="sigmoid", loss="binary_cross_entropy", dropout=(0.1, -0.2)
        ),
        ValueError,
        "dropout[1]",
    ),
    Entry(
        "dropout masks for another batch size",
        lambda: fcfun.loss_and_grad(
            CE,
            P,
            X,
            Y,
            masks=fcfun.dropout_masks(CE._replace(dropout=(0.5,)), fcfun.StepKey(0, 0, 0), 5),
        ),
        ValueError,
        "masks[0]",
    ),
    Entry(
        "a schedule that returns a string",
        lambda: fcfun.sgd(untyped(lambda step: "a")).update(P, fcfun.sgd(0.1).init(P), P),
        TypeError,
        "lr schedule",
    ),
]


def message_of(entry: Entry) -> str:
    with pytest.raises(entry.error) as caught:
        entry.call()
    assert type(caught.value) is entry.error or issubclass(type(caught.value), entry.error)
    return str(caught.value)


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.case)
def test_each_bad_input_gets_its_documented_error(entry: Entry) -> None:
    message = message_of(entry)
    assert entry.names in message
    assert any(word in message for word in ("must", "expected", "requires", "unknown", "needs"))
    assert any(word in message for word in ("got", "holds", "row", "unknown")), message
    assert not any(phrase in message for phrase in RAW_NUMPY_PHRASES), message


def render() -> str:
    """The catalogue as a markdown table, with the messages the calls really give."""
    lines = [
        "# Error catalogue",
        "",
        "Every bad input to fcfun's public functions and what it gets. Generated from",
        "`tests/test_error_catalogue.py`, which checks each row: "
        "`python -m tests.test_error_catalogue > docs/errors.md`.",
        "",
        "| bad input | exception | message |",
        "|---|---|---|",
    ]
    for entry in CATALOGUE:
        try:
            entry.call()
        except entry.error as error:
            message = str(error).replace("|", "\\|")
            lines.append(f"| {entry.case} | `{type(error).__name__}` | {message} |")
        else:
            lines.append(f"| {entry.case} | (nothing raised) | |")
    return "\n".join(lines) + "\n"


def test_the_documented_catalogue_is_current() -> None:
    doc = pathlib.Path(__file__).parent.parent / "docs" / "errors.md"
    assert doc.read_text() == render()


if __name__ == "__main__":
    print(render(), end="")
