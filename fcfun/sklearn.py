"""scikit-learn estimators over fcfun's pure core: ``FCClassifier`` and ``FCRegressor``.

Thin wrappers: every fit builds an fcfun ``MLP`` (``spec_``), trains it with ``fcfun.fit``
and keeps the ``TrainState`` (``state_``); predictions are ``fcfun.predict``. Nothing of
the network math is implemented here. Import it as ``fcfun.sklearn`` (``import fcfun``
alone never imports scikit-learn); it needs the ``fcfun[sklearn]`` extra.

The hyperparameters are ``MLPClassifier`` / ``MLPRegressor``'s where fcfun has the
feature, with the same defaults. Where the two differ:

* ``random_state``: an int is the fcfun seed (initial weights, epoch orders, validation
  split); ``None`` means seed ``0``, not fresh randomness; a ``numpy.random.RandomState``
  gives one integer seed, drawn at the start of each fresh fit (``seed_``).
* Initial weights are fcfun's ``init`` (Glorot uniform, zero biases), not scikit-learn's
  (uniform biases, gain 2 instead of 6 for logistic). ``initial_params`` starts a fresh
  fit from given weights; ``sklearn_initial_params`` draws exactly what an MLP with an
  integer ``random_state`` starts from.
* ``solver``: ``'sgd'``, ``'adam'``, ``'lbfgs'``, plus fcfun's ``'adamw'``, ``'rmsprop'``,
  ``'adagrad'`` (PyTorch rules; ``adamw`` with PyTorch's decoupled decay 0.01 on top
  of ``alpha``). ``learning_rate`` and ``power_t`` are
  scikit-learn's, for ``'sgd'`` only: ``'invscaling'`` is ``fcfun.inverse_scaling`` of the
  samples seen before each epoch (``t_``, over every fit a warm start continues),
  ``'adaptive'`` is ``fcfun.ReduceOnPlateau(rule='sklearn')`` (the rate divided by 5 when
  the stopping count exceeds ``n_iter_no_change``, the fit ending once it is at most
  1e-6). A ``warm_start`` fit differs with ``'adaptive'``: it reads the whole history, so
  it continues the rate (scikit-learn restarts at ``learning_rate_init``).
  ``'lbfgs'`` is ``fcfun.lbfgs(gtol=tol, max_fun=max_fun)``, fcfun's own transcription of
  the L-BFGS-B iteration scikit-learn runs through scipy (no scipy call: one training
  step, one state), full batch, one epoch per iteration; from the same weights it
  reaches scikit-learn's ``n_iter_``, ``loss_`` and weights to rounding. As scikit-learn,
  it ignores ``batch_size``, ``shuffle``, ``early_stopping`` and ``n_iter_no_change``,
  has no ``partial_fit``, ``n_iter_`` counts its iterations and ``loss_`` is the loss at
  the final weights; unlike scikit-learn it also records ``loss_curve_`` (the loss at the
  start of each iteration). ``'adam'`` is scikit-learn's rule (``epsilon`` on the raw
  root: ``fcfun.adam(rule="sklearn")``), ``'adamw'`` PyTorch's. ``momentum`` /
  ``nesterovs_momentum`` are for ``'sgd'`` (scikit-learn's momentum: the rate scales the
  gradient before it, so the velocity keeps the rates it was made with); ``beta_1`` /
  ``beta_2`` for the Adam family; ``epsilon`` for all adaptive solvers.
* ``activation``: scikit-learn's ``'identity'``, ``'logistic'``, ``'tanh'``, ``'relu'``
  and fcfun's ``'sigmoid'`` (= ``'logistic'``), ``'leaky_relu'`` (slope 0.01),
  ``'softplus'``.
* Epoch orders are fcfun's (``default_rng([seed, epoch])``), not scikit-learn's; with
  ``shuffle=False`` both visit rows in storage order, so from the same weights the two
  follow the same trajectory. An integer ``batch_size`` above the sample count means one
  full batch, without scikit-learn's warning.
* Stopping: ``fcfun.EarlyStopping`` with ``patience = n_iter_no_change + 1`` (scikit-
  learn stops when the no-improvement count *exceeds* ``n_iter_no_change``) and
  ``min_delta = tol`` and scikit-learn's rule (``rule="sklearn"``): the best value so far
  moves with any improvement, and the count restarts only for an improvement by ``tol``
  or more, so ``n_iter_`` and ``loss_curve_`` are scikit-learn's on the same trajectory. With
  ``early_stopping`` the best epoch's weights are restored (as scikit-learn), the monitor
  is the validation accuracy (subset accuracy for multilabel) or R², and the validation
  split is ``train_test_split(random_state=seed_)``, stratified for binary targets only
  (as scikit-learn). ``n_iter_no_change=np.inf`` never stops early.
* Divergence with ``early_stopping``: an epoch whose weights overflow on the validation
  set gets the score nan (a ``RuntimeWarning``) and training goes on, as scikit-learn's;
  a divergence of training itself (a non-finite loss or an overflow in a step) adds one
  epoch scored nan and stops there (scikit-learn goes on with non-finite weights to
  ``max_iter``). Either way the best epoch's weights are kept. Without a validation set
  a divergence is scikit-learn's ``ValueError``.
* A ``warm_start`` fit continues ``state_`` (weights, epoch count, history) with a fresh
  optimizer state, as scikit-learn makes a new optimizer per fit; ``partial_fit`` keeps
  the optimizer state (unless the solver changed).
* Regression trains ``half_squared_error``: ``sum((A - Y)**2) / (2 m)``, summed over
  outputs. For one output it is scikit-learn's ``squared_error``; for ``k`` outputs
  scikit-learn reports the mean over outputs (its gradient is the same sum), so
  ``loss_curve_`` and ``tol`` are on a scale ``k`` times scikit-learn's. ``loss='poisson'``
  is scikit-learn's (same value, ``exp`` output, and ``y >= 0`` checked); fcfun adds
  ``'huber'``, ``'absolute_error'`` and ``'quantile'`` (one output per level, never
  crossing with ``non_crossing``), whose ``score`` is the mean D² pinball score.
* Training diverging to a non-finite loss raises ``ValueError`` (from fcfun's
  ``DivergenceError``, kept as ``__cause__`` with the last finite state).
* Arrays returned by ``predict`` / ``predict_proba`` and the fitted ``coefs_`` /
  ``intercepts_`` are read-only (fcfun's rule); copy them to modify. Sparse ``X`` (CSR or
  CSC) is taken as scikit-learn does and stays sparse: only the first layer's products
  read it, and ``dW`` of the first layer is computed without densifying ``X``.
* ``fit`` / ``partial_fit`` take ``sample_weight`` (scikit-learn 1.7's convention: each
  batch's loss is its weighted mean, the L2 term ``alpha / (2 sum(w))``); the epoch's
  ``loss_`` is the batches' losses averaged by their weights (scikit-learn averages them
  by their rows; the two agree for unit weights and full batches). With
  ``early_stopping`` the weights are split with the rows and the validation score is
  unweighted. ``FCClassifier(class_weight='balanced' | dict)``, which ``MLPClassifier``
  lacks, multiplies each sample's weight by its class's.

Interop with scikit-learn's MLPs lives in ``fcfun.sklearn_interop`` and its weight
converters are re-exported here: ``params_from_sklearn`` / ``params_to_sklearn`` convert
between ``coefs_, intercepts_`` lists and fcfun ``Params`` (same ``W (n_in, n_out)``
layout); ``from_sklearn(mlp)`` makes a fitted estimator from a fitted MLP, and
``to_sklearn()`` a fitted MLP (ready to predict, or to continue with ``warm_start`` or
``partial_fit``) from a fitted estimator.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal, Self, TypeAlias, TypeVar

import numpy as np
import toolz

try:
    import sklearn  # noqa: F401 (the extra's presence, named in the error)
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(
        f"{__name__} needs scikit-learn: pip install 'fcfun[sklearn]'", name="sklearn"
    ) from missing

from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import d2_pinball_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

import fcfun
from fcfun import sklearn_interop
from fcfun._plateau import plateau_scores, plateau_walk
from fcfun._training import monitored, patience_exhausted
from fcfun._validation import check_sparse_structure, is_sparse
from fcfun.sklearn_interop import Array
from fcfun.sklearn_interop import params_from_sklearn as params_from_sklearn
from fcfun.sklearn_interop import params_to_sklearn as params_to_sklearn
from fcfun.sklearn_interop import sklearn_initial_params as sklearn_initial_params

if TYPE_CHECKING:
    # scikit-learn ships no type information. mypy sees these outlines of its three
    # base classes, holding the methods this module uses; at run time they are the real
    # classes (imported below), so nothing here changes behavior.
    class BaseEstimator:
        def get_params(self, deep: bool = True) -> dict[str, Any]: ...
        def set_params(self, **params: Any) -> Self: ...
        def _validate_params(self) -> None: ...
        def __sklearn_tags__(self) -> Any: ...

    class ClassifierMixin:
        def score(self, X: Any, y: Any, sample_weight: Any = None) -> float: ...

    class RegressorMixin:
        def score(self, X: Any, y: Any, sample_weight: Any = None) -> float: ...

else:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

__all__ = [
    "FCClassifier",
    "FCRegressor",
    "params_from_sklearn",
    "params_to_sklearn",
    "sklearn_initial_params",
]

Task: TypeAlias = Literal["binary", "multiclass", "multilabel", "regression"]
Start: TypeAlias = "fcfun.TrainState[Any] | fcfun.Params | None"
"""Where a fit starts, as ``fcfun.fit``'s ``params``: a state to continue, weights, or None."""

_HIDDEN: dict[str, fcfun.Activation] = {
    "identity": fcfun.identity,
    "logistic": fcfun.sigmoid,
    "sigmoid": fcfun.sigmoid,
    "tanh": fcfun.tanh,
    "relu": fcfun.relu,
    "leaky_relu": fcfun.leaky_relu(),
    "softplus": fcfun.softplus,
}
"""The ``activation`` hyperparameter's values and the fcfun activations they name."""

_SKLEARN_NAMES: dict[str, str] = {"sigmoid": "logistic"}
"""fcfun's activation names that scikit-learn spells otherwise (``out_activation_``)."""

_OUTPUT: dict[Task, tuple[fcfun.Activation, fcfun.Loss]] = {
    "binary": (fcfun.sigmoid, fcfun.binary_cross_entropy),
    "multilabel": (fcfun.sigmoid, fcfun.binary_cross_entropy),
    "multiclass": (fcfun.softmax, fcfun.softmax_cross_entropy),
    "regression": (fcfun.identity, fcfun.half_squared_error),
}
"""Output activation and loss, per task (``FCRegressor``'s ``loss`` chooses its own)."""

Head: TypeAlias = tuple[fcfun.Activation, fcfun.Loss, int]
"""The output layer: its activation, the loss and its number of units."""


F = TypeVar("F", bound=Callable[..., Any])


def _is_stochastic(estimator: Any) -> bool:
    """``available_if``'s check: ``partial_fit`` exists for the stochastic solvers only."""
    if estimator.solver == "lbfgs":
        raise AttributeError(
            "partial_fit is only available for stochastic optimizers. lbfgs is not stochastic."
        )
    return True


def _stochastic_only(method: F) -> F:
    """``method`` hidden (``hasattr`` is False) for ``solver='lbfgs'``, as scikit-learn does."""
    hidden: F = available_if(_is_stochastic)(method)
    return hidden


_SPARSE = ["csr", "csc"]
"""The sparse formats ``X`` may come in (only the first layer's products see them)."""


# Steps of a fit that need no estimator -----------------------------------------------


def _through_divergence(
    run: Callable[[Start], Iterator[fcfun.TrainState[Any]]], start: Start
) -> Iterator[fcfun.TrainState[Any]]:
    """The states of ``run(start)``, trained through a divergence as scikit-learn's MLPs do.

    An epoch whose validation loss is not finite (its weights are) is passed on with its
    nan scores and the run goes on from it. A divergence of training itself is passed on as
    one more epoch of nan scores with the last finite weights, and ends the stream (where
    scikit-learn would go on with non-finite weights). Each is a RuntimeWarning, as numpy's
    overflow warning is in scikit-learn.
    """
    state = start
    while True:
        try:
            yield from run(state)
            return
        except fcfun.DivergenceError as error:
            history = error.state.history
            if error.state.epoch > error.epoch:  # the epoch finished: its validation diverged
                warnings.warn(
                    f"The validation loss is not finite after epoch {error.epoch + 1} (the "
                    "weights diverged): its validation score is nan; training goes on and "
                    "the best epoch's weights are kept.",
                    RuntimeWarning,
                    stacklevel=2,
                )
                state = error.state
                yield state
                continue
            warnings.warn(
                f"Training diverged in epoch {error.epoch + 1} (a non-finite loss or an "
                "overflow): it stops there with the score nan, and the best epoch's weights "
                "are kept.",
                RuntimeWarning,
                stacklevel=2,
            )
            nan = (math.nan,)
            scores = fcfun.History(
                history.train_loss + nan, history.val_loss + nan, history.val_metric + nan
            )
            yield error.state._replace(epoch=error.epoch + 1, history=scores)
            return


def _spec(sizes: tuple[int, ...], activation: str, head: Head, dropout: float) -> fcfun.MLP:
    """The network: input and hidden ``sizes``, ``activation`` (a hyperparameter value)
    hidden, the ``head`` output, ``dropout`` on every hidden layer in training."""
    output, loss, n_outputs = head
    return fcfun.mlp(
        (*sizes, n_outputs),
        hidden=_HIDDEN[activation],
        output=output,
        loss=loss,
        dropout=float(dropout),
    )


def _start_epoch(start: Start) -> int:
    """Epochs already trained before this fit."""
    return start.epoch if isinstance(start, fcfun.TrainState) else 0


def _validation_record(
    history: fcfun.History, early_stopping: bool
) -> tuple[list[float] | None, float | None, float | None]:
    """``(validation_scores_, best_validation_score_, best_loss_)`` from the history.

    With early stopping the scores are the validation metric and there is no best loss;
    without, there are no scores and the best loss is the lowest training loss.
    """
    if early_stopping:
        scores = list(history.val_metric)
        return scores, max(scores, default=None), None
    return None, None, min(history.train_loss, default=math.inf)


def _fit_labels(y: Array, *, incremental: bool, classes: Array | None) -> sklearn_interop.Labels:
    """A first fit's labels: from ``y``, or from ``classes`` for a first partial_fit.

    A multilabel ``y`` (an indicator matrix) names its labels itself.
    """
    binarizer = LabelBinarizer()
    if incremental and not type_of_target(y).startswith("multilabel"):
        if classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit "
                "(all the labels that y will hold, e.g. numpy.unique(y_all))"
            )
        binarizer.fit(np.asarray(classes))
    else:
        binarizer.fit(y)
    return sklearn_interop.Labels(np.asarray(binarizer.classes_), binarizer)


def _is_multilabel(binarizer: Any) -> bool:
    return str(binarizer.y_type_).startswith("multilabel")


def _classification_task(binarizer: Any) -> Task:
    """The task of the targets a fitted ``LabelBinarizer`` encodes."""
    if _is_multilabel(binarizer):
        return "multilabel"
    return "binary" if str(binarizer.y_type_) == "binary" else "multiclass"


def _imported_task(labels: sklearn_interop.Labels) -> Task:
    """The task of an ``MLPClassifier``'s labels: by class count (one or two: 'binary')."""
    if _is_multilabel(labels.binarizer):
        return "multilabel"
    return "binary" if len(labels.classes) <= 2 else "multiclass"


def _mean_d2_pinball(
    y: Array, A: Array, levels: tuple[float, ...], sample_weight: Any = None
) -> float:
    """The mean over levels of ``d2_pinball_score`` of output ``j`` at level ``j``."""
    return float(
        np.mean(
            [
                d2_pinball_score(y, A[:, j], alpha=level, sample_weight=sample_weight)
                for j, level in enumerate(levels)
            ]
        )
    )


def _frozen(array: Array) -> Array:
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


# The shared estimator ----------------------------------------------------------------


class _FCBase(BaseEstimator):
    """What ``FCClassifier`` and ``FCRegressor`` share: hyperparameters and training."""

    _parameter_constraints: dict[str, list[Any]] = {  # noqa: RUF012 (scikit-learn's name)
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_HIDDEN))],
        "solver": [StrOptions({"sgd", "adam", "lbfgs", "adamw", "rmsprop", "adagrad"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "initial_params": [tuple, None],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    # spec_ pickles and copies as itself: fcfun's activations and losses pickle by name.
    spec_: fcfun.MLP
    state_: fcfun.TrainState[Any]
    params_: fcfun.Params

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        max_fun: int = 15000,
        initial_params: fcfun.Params | None = None,
        dropout: float = 0.0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.initial_params = initial_params
        self.dropout = dropout

    # Training: fit and partial_fit, step by step --------------------------------------

    def _fit(
        self,
        X: Any,
        y: Any,
        *,
        incremental: bool,
        classes: Any = None,
        sample_weight: Any = None,
    ) -> Self:
        """``fit`` (``max_iter`` epochs) or ``partial_fit`` (``incremental``: one epoch)."""
        self._validate_params()
        hidden = self._hidden_sizes()
        if self.solver == "lbfgs" and self.dropout:
            raise ValueError(
                f"dropout must be 0 with solver='lbfgs' (L-BFGS steps one fixed objective, "
                f"the full batch without dropout), got dropout={self.dropout!r}"
            )
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        reset = self._starts_afresh(incremental)
        X_array, y_array = self._check_input(X, y, reset=reset)
        Y, task, stratify = self._targets(
            y_array, reset=reset, incremental=incremental, classes=classes
        )
        weight = self._sample_weight(sample_weight, y_array, X_array)
        head = self._head(task, Y.shape[1])
        spec = _spec((X_array.shape[1], *hidden), self.activation, head, self.dropout)
        if reset:
            self.seed_ = self._seed()  # the validation split needs it
        train, validation = self._validation_split(X_array, Y, stratify, weight)
        n_train = int(train[0].shape[0])
        # Samples the solver saw in earlier fits (scikit-learn's t_): a warm_start fit's
        # 'invscaling' rate goes on from them; partial_fit's optimizer state counts its own.
        seen = 0 if reset else int(getattr(self, "t_", 0))
        optimizer = self._optimizer(n_train, seen=seen, incremental=incremental)
        start = (
            self._check_initial_params(spec)
            if reset
            else self._continued_start(spec, optimizer, incremental=incremental)
        )
        rule = None if incremental else self._stopping_rule()
        epochs = _start_epoch(start) + (1 if incremental else int(self.max_iter))
        state = self._run_epochs(spec, optimizer, start, train, validation, rule, epochs)
        trained = state.epoch - _start_epoch(start)
        self._set_fitted(spec, task, state, trained=trained)
        self.t_ = seen + (0 if self.solver == "lbfgs" else trained * n_train)
        if not incremental and (self.n_iter_ == self.max_iter or self.solver == "lbfgs"):
            self._warn_unless_converged(rule, state)
        return self

    def _hidden_sizes(self) -> tuple[int, ...]:
        """``hidden_layer_sizes`` as a tuple of positive ints."""
        sizes: Any = self.hidden_layer_sizes
        as_list: list[object] = [sizes] if np.ndim(sizes) == 0 else list(sizes)
        checked = [int(n) for n in as_list if isinstance(n, Integral)]
        if len(checked) != len(as_list):
            raise ValueError(f"hidden_layer_sizes must hold integers, got {sizes!r}")
        if any(n <= 0 for n in checked):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes!r}")
        return tuple(checked)

    def _starts_afresh(self, incremental: bool) -> bool:
        """A first fit, or a ``fit`` without ``warm_start``: nothing carries over."""
        fitted = hasattr(self, "state_")
        return not fitted or not (self.warm_start or incremental)

    def _check_input(self, X: Any, y: Any, *, reset: bool) -> tuple[Array, Array]:
        """``X`` and ``y`` as arrays (``X`` float64 or float32, dense or CSR / CSC sparse;
        a one-column ``y`` 1-D); a sparse ``X``'s indices checked before scikit-learn
        converts it."""
        if is_sparse(X):
            check_sparse_structure(X)
        X_checked, y_checked = validate_data(
            self,
            X,
            y,
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
            accept_sparse=_SPARSE,
        )
        y_array: Array = np.asarray(y_checked)
        if y_array.ndim == 2 and y_array.shape[1] == 1:
            y_array = np.asarray(column_or_1d(y_array, warn=True))
        return (X_checked if is_sparse(X_checked) else np.asarray(X_checked)), y_array

    def _targets(
        self, y: Array, *, reset: bool, incremental: bool, classes: Array | None
    ) -> tuple[Array, Task, Array | None]:
        """``(Y (m, n_outputs) floats, task, labels to stratify on or None)``."""
        raise NotImplementedError

    def _sample_weight(self, sample_weight: Any, y: Array, X: Array) -> Array | None:
        """``sample_weight`` as an array of ``X``'s dtype, or ``None`` (fcfun checks it)."""
        if sample_weight is None:
            return None
        weight = np.asarray(sample_weight)
        if weight.ndim == 0:  # scikit-learn's scalar: every sample weighs the same
            weight = np.full(X.shape[0], weight)
        if weight.shape != (X.shape[0],):  # checked here, before a validation split
            raise ValueError(
                f"sample_weight must have shape ({X.shape[0]},), one weight per sample of X, "
                f"got shape {weight.shape}"
            )
        return weight

    def _head(self, task: Task, n_targets: int) -> Head:
        """The output layer for ``task`` with ``n_targets`` target columns."""
        output, loss = _OUTPUT[task]
        return output, loss, n_targets

    def _validation_metric(self) -> fcfun.Metric | None:
        """The early-stopping score (``None``: the loss's own, accuracy or R²)."""
        return None

    def _optimizer(
        self, n_samples: int, seen: int = 0, incremental: bool = False
    ) -> fcfun.Optimizer[Any]:
        """The ``solver`` with its hyperparameters, as an fcfun optimizer, for epochs of
        ``n_samples`` rows after ``seen`` samples of earlier fits (``incremental``: the
        one epoch of a ``partial_fit``).

        ``'sgd'`` is scikit-learn's: the learning rate scales the gradient before the
        momentum, so the velocity carries the rates it was made with
        (``v = momentum * v - lr * g``), and ``'invscaling'`` / ``'adaptive'`` change the
        rate as ``SGDOptimizer`` does.
        """
        lr = float(self.learning_rate_init)
        b1, b2, eps = float(self.beta_1), float(self.beta_2), float(self.epsilon)
        if self.solver == "sgd":
            momentum = float(self.momentum)
            rate = fcfun.scale_by_learning_rate(
                self._learning_rate(lr, n_samples, seen, incremental)
            )
            pieces: list[fcfun.Optimizer[Any]] = [rate]
            if self.learning_rate == "adaptive":
                pieces.append(fcfun.scale_by_plateau())
            if momentum > 0:
                pieces.append(fcfun.trace(momentum, bool(self.nesterovs_momentum)))
            return fcfun.chain(*pieces)
        if self.solver == "adam":
            return fcfun.adam(lr, b1=b1, b2=b2, eps=eps, rule="sklearn")
        if self.solver == "lbfgs":
            return fcfun.lbfgs(gtol=float(self.tol), max_fun=int(self.max_fun))
        if self.solver == "adamw":
            return fcfun.adamw(lr, b1=b1, b2=b2, eps=eps)
        if self.solver == "rmsprop":
            return fcfun.rmsprop(lr, eps=eps)
        return fcfun.adagrad(lr, eps=eps)

    def _learning_rate(
        self, lr: float, n_samples: int, seen: int = 0, incremental: bool = False
    ) -> float | fcfun.Schedule:
        """``lr``, or for ``'invscaling'`` scikit-learn's rate as a schedule of the update
        count: ``lr / (t + 1) ** power_t`` with ``t`` the samples seen before the epoch.

        A ``fit`` makes a new optimizer, whose first epoch runs at ``lr``; its epoch ``e``
        then sees ``t = seen + e * n_samples`` (``seen``: earlier fits', a warm start's
        ``t_``). A ``partial_fit`` is one epoch of the kept optimizer, at the rate its last
        epoch left: ``t = seen`` (``lr`` before any)."""
        if self.learning_rate != "invscaling":
            return lr
        rate = fcfun.inverse_scaling(lr, float(self.power_t))
        if incremental:
            constant = rate(seen) if seen else lr
            return lambda step: constant
        steps = -(-n_samples // self._batch_size(n_samples))  # updates per epoch

        def schedule(step: int) -> float:
            epoch = step // steps
            return rate(seen + epoch * n_samples) if epoch else lr

        return schedule

    def _plateau(self) -> fcfun.ReduceOnPlateau | None:
        """scikit-learn's ``'adaptive'`` rate (``'sgd'`` only): divided by 5 when the
        stopping count exceeds ``n_iter_no_change``, the run ending once it is at most
        1e-6 (None: no such rule)."""
        if not (self.solver == "sgd" and self.learning_rate == "adaptive"):
            return None
        if self.n_iter_no_change == np.inf:
            return None
        monitor: Literal["val_metric", "train_loss"] = (
            "val_metric" if self.early_stopping else "train_loss"
        )
        return fcfun.ReduceOnPlateau(
            patience=int(self.n_iter_no_change),
            factor=0.2,
            threshold=float(self.tol),
            threshold_mode="abs",
            min_scale=1e-6 / float(self.learning_rate_init),
            monitor=monitor,
            rule="sklearn",
        )

    def _optimizer_kind(self) -> tuple[str, bool, bool]:
        """What fixes the optimizer state's structure (a state is kept only if it matches)."""
        sgd = self.solver == "sgd"
        return (
            self.solver,
            sgd and float(self.momentum) > 0,
            sgd and self.learning_rate == "adaptive",
        )

    def _seed(self) -> int:
        """``random_state`` as an fcfun seed: None is 0, a RandomState draws one."""
        if self.random_state is None:
            return 0
        if isinstance(self.random_state, np.random.RandomState):
            return int(self.random_state.randint(np.iinfo(np.int32).max))
        return int(self.random_state)

    def _check_initial_params(self, spec: fcfun.MLP) -> fcfun.Params | None:
        """``initial_params``, if any, after checking their shapes against ``spec``."""
        params = self.initial_params
        if params is None:
            return None
        shapes = [((n_in, n_out), (n_out,)) for n_in, n_out in itertools.pairwise(spec.sizes)]
        got = [
            (np.shape(layer.W), np.shape(layer.b)) if isinstance(layer, fcfun.Dense) else layer
            for layer in params
        ]
        if got != shapes:
            raise ValueError(
                f"initial_params must be fcfun Params for layer sizes {spec.sizes}: "
                f"Dense(W, b) with shapes {shapes}, got {got}"
            )
        return params

    def _continued_start(
        self, spec: fcfun.MLP, optimizer: fcfun.Optimizer[Any], *, incremental: bool
    ) -> Start:
        """``state_`` to continue; the optimizer state is fresh unless partial_fit can keep it.

        scikit-learn makes a new optimizer per ``fit``, so a ``warm_start`` fit restarts
        the optimizer state; ``partial_fit`` keeps it while the solver's kind is unchanged.
        """
        self._check_same_network(spec)
        if incremental and self._fitted_optimizer_kind == self._optimizer_kind():
            return self.state_
        return self.state_._replace(opt_state=optimizer.init(self.state_.params))

    def _check_same_network(self, spec: fcfun.MLP) -> None:
        # dropout is how the network trains, not what it is: a later fit may change it
        if spec._replace(dropout=()) != self.spec_._replace(dropout=()):
            raise ValueError(
                "warm_start and partial_fit continue the previous network, with layer "
                f"sizes {self.spec_.sizes}, activations "
                f"{[a.name for a in self.spec_.activations]} and loss {self.spec_.loss.name}; "
                f"got {spec.sizes}, {[a.name for a in spec.activations]} and {spec.loss.name}"
            )

    def _validation_split(
        self, X: Array, Y: Array, stratify: Array | None, weight: Array | None
    ) -> tuple[tuple[Array, Array, Array | None], tuple[Array, Array] | None]:
        """``((X_train, Y_train, w_train), (X_val, Y_val) or None)``: the held-out share.

        With ``early_stopping``, ``train_test_split(random_state=seed_)`` holds out
        ``validation_fraction`` of the rows (stratified on ``stratify`` if given), and
        the weights go with their rows.
        """
        if not self.early_stopping or self.solver == "lbfgs":
            return (X, Y, weight), None
        arrays = (X, Y) if weight is None else (X, Y, weight)
        split = train_test_split(
            *arrays,
            random_state=self.seed_,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val, Y_train, Y_val = split[:4]
        w_train = None if weight is None else split[4]
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or "
                "the size of your dataset."
            )
        return (X_train, Y_train, w_train), (X_val, Y_val)

    def _stopping_rule(self) -> fcfun.EarlyStopping | None:
        """fcfun's stopping rule for ``n_iter_no_change`` and ``tol`` (None: never stop).

        With an ``'adaptive'`` rate the count lowers the rate instead (``_plateau``), and
        the rule only restores the best validation epoch with ``early_stopping``.
        """
        if self.n_iter_no_change == np.inf or self.solver == "lbfgs":
            return None
        patience = int(self.n_iter_no_change) + 1
        tol = float(self.tol)
        if self._plateau() is not None:
            if not self.early_stopping:
                return None
            never = int(self.max_iter) + 1  # within this fit: restores, never stops
            return fcfun.EarlyStopping(never, tol, "val_metric", True, rule="sklearn")
        if self.early_stopping:
            return fcfun.EarlyStopping(patience, tol, "val_metric", True, rule="sklearn")
        return fcfun.EarlyStopping(patience, tol, "train_loss", False, rule="sklearn")

    def _batch_size(self, m: int) -> int:
        """``batch_size``, with 'auto' as ``min(200, m)``."""
        if self.solver == "lbfgs":
            return m
        return min(200, m) if self.batch_size == "auto" else int(self.batch_size)

    def _run_epochs(
        self,
        spec: fcfun.MLP,
        optimizer: fcfun.Optimizer[Any],
        start: Start,
        train: tuple[Array, Array, Array | None],
        validation: tuple[Array, Array] | None,
        rule: fcfun.EarlyStopping | None,
        epochs: int,
    ) -> fcfun.TrainState[Any]:
        """``fcfun.fit`` up to epoch ``epochs``; divergence is scikit-learn's ValueError.

        With a validation set, as scikit-learn's MLPs: an epoch whose weights overflow on
        it records the score nan (warned) and training goes on; a divergence of training
        itself records nan, warns and stops; the best epoch's weights are kept.
        """
        X_train, Y_train, w_train = train
        arguments: dict[str, Any] = {
            "optimizer": optimizer,
            "epochs": epochs,
            "batch_size": self._batch_size(int(X_train.shape[0])),
            "validation": validation,
            "alpha": float(self.alpha),
            "shuffle": bool(self.shuffle) and self.solver != "lbfgs",
            "dtype": X_train.dtype,
            "sample_weight": w_train,
            "plateau": self._plateau(),
            "metric": self._validation_metric(),
        }
        seed = None if isinstance(start, fcfun.TrainState) else self.seed_
        try:
            if validation is None:
                return fcfun.fit(
                    spec,
                    X_train,
                    Y_train,
                    seed=seed,
                    params=start,
                    early_stopping=rule,
                    callback=self._report if self.verbose else None,
                    **arguments,
                )

            def run(state: Start) -> Iterator[fcfun.TrainState[Any]]:
                return fcfun.fit_iter(spec, X_train, Y_train, seed=seed, params=state, **arguments)

            stream = toolz.pipe(
                _through_divergence(run, start),
                fcfun.observe(self._report if self.verbose else None),
                fcfun.stop_early(rule),
                fcfun.stop_on_plateau(arguments["plateau"]),
            )
            return toolz.last(stream)  # a fit trains at least one epoch (max_iter >= 1)
        except fcfun.DivergenceError as error:
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain "
                "large values and need to be preprocessed."
            ) from error

    def _report(self, state: fcfun.TrainState[Any]) -> None:
        print(f"Iteration {state.epoch}, loss = {state.history.train_loss[-1]:.8f}")
        if state.history.val_metric:
            print(f"Validation score: {state.history.val_metric[-1]:f}")

    def _set_fitted(
        self, spec: fcfun.MLP, task: Task, state: fcfun.TrainState[Any], trained: int
    ) -> None:
        """Record the fitted attributes of a fit that trained ``trained`` epochs."""
        self._fitted_optimizer_kind = self._optimizer_kind()
        self.spec_ = spec
        self.state_ = state
        self.params_ = state.params
        self.coefs_ = [layer.W for layer in state.params]
        self.intercepts_ = [layer.b for layer in state.params]
        self.n_layers_ = len(spec.sizes)
        self.n_outputs_ = spec.sizes[-1]
        self.out_activation_ = _SKLEARN_NAMES.get(spec.output.name, spec.output.name)
        self.n_iter_ = trained
        self.loss_curve_ = list(state.history.train_loss)
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else math.nan
        self.validation_scores_: list[float] | None
        self.best_validation_score_: float | None
        self.best_loss_: float | None
        self.validation_scores_, self.best_validation_score_, self.best_loss_ = _validation_record(
            state.history, bool(self.early_stopping) and self.solver != "lbfgs"
        )
        if self.solver == "lbfgs":  # its iterations, and the loss at the final weights
            self.n_iter_ = state.opt_state.step
            self.loss_ = state.opt_state.loss

    def _warn_unless_converged(
        self, rule: fcfun.EarlyStopping | None, state: fcfun.TrainState[Any]
    ) -> None:
        history, plateau = state.history, self._plateau()
        if self.solver == "lbfgs":
            status = state.opt_state.status
            if not status.startswith("converged"):
                warnings.warn(
                    f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                    f"(status: {status or 'max_iter reached'}). Increase the number of "
                    "iterations or scale the data.",
                    ConvergenceWarning,
                    stacklevel=4,
                )
            return
        # Converged: fcfun's stopping rule (or the adaptive rate's) ended this fit.
        if plateau is not None:
            converged = plateau_walk(plateau, plateau_scores(plateau, history)).exhausted
        else:
            converged = rule is not None and patience_exhausted(
                rule, monitored(rule, history)[-self.n_iter_ :]
            )
        if not converged:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                "the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,
            )

    # Prediction ----------------------------------------------------------------------

    def _output(self, X: Any) -> Array:
        check_is_fitted(self)
        if is_sparse(X):
            check_sparse_structure(X)
        X_checked = validate_data(
            self, X, dtype=(np.float64, np.float32), reset=False, accept_sparse=_SPARSE
        )
        return np.asarray(fcfun.predict(self.spec_, self.params_, X_checked))

    # From a scikit-learn MLP ---------------------------------------------------------

    def _set_fitted_from(self, fit: sklearn_interop.MLPFit, task: Task) -> None:
        """Become fitted with a scikit-learn MLP's weights (no training history)."""
        head = self._head(task, fit.sizes[-1])
        spec = _spec(fit.sizes[:-1], self.activation, head, self.dropout)
        self.n_features_in_ = fit.n_features_in
        if fit.feature_names_in is not None:
            self.feature_names_in_ = fit.feature_names_in
        self.seed_ = self._seed()
        opt_state = self._optimizer(1).init(fit.params)
        state = fcfun.TrainState(fit.params, opt_state, 0, self.seed_, fcfun.History())
        self._set_fitted(spec, task, state, trained=0)


# The estimators --------------------------------------------------------------------


class FCClassifier(ClassifierMixin, _FCBase):
    """A fully connected network classifier: scikit-learn's API over ``fcfun.fit``.

    Binary targets train one sigmoid output with ``binary_cross_entropy``; multiclass
    targets a softmax output with ``softmax_cross_entropy``; a 2-D indicator matrix
    ``y`` (multilabel) one sigmoid output per label with ``binary_cross_entropy``.
    Hyperparameters and their differences from ``MLPClassifier`` are in the module
    docstring (``help(fcfun.sklearn)``).

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Units of each hidden layer; ``()`` for none (logistic regression).
    activation : str, default='relu'
        Hidden activation: 'identity', 'logistic' (= 'sigmoid'), 'tanh', 'relu',
        'leaky_relu', 'softplus'.
    solver : str, default='adam'
        'sgd', 'adam', 'lbfgs' (``fcfun.lbfgs``, full batch), or 'adamw', 'rmsprop',
        'adagrad' (fcfun's PyTorch-rule optimizers).
    alpha : float, default=1e-4
        L2 penalty ``alpha / (2 m) * sum ||W||^2`` on the weights, as scikit-learn.
    batch_size : int or 'auto', default='auto'
        Rows per step; 'auto' is ``min(200, n_samples)``; above ``n_samples``, full batch.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        The rate's schedule for ``solver='sgd'``, as ``MLPClassifier``'s.
    learning_rate_init : float, default=1e-3
        The learning rate (the initial one, with a schedule).
    power_t : float, default=0.5
        The exponent of 'invscaling'.
    max_iter : int, default=200
        Epochs per ``fit``.
    shuffle : bool, default=True
        Visit rows in a fresh seeded order each epoch; False keeps storage order.
    random_state : int, RandomState or None, default=None
        The fcfun seed; None is 0; a RandomState gives one drawn seed per fresh fit.
    tol : float, default=1e-4
        Improvement that resets the stopping count.
    verbose : bool, default=False
        Print the loss (and validation score) every epoch.
    warm_start : bool, default=False
        ``fit`` continues the previous weights (with a fresh optimizer state).
    momentum : float, default=0.9
        SGD momentum.
    nesterovs_momentum : bool, default=True
        Nesterov momentum for SGD (when ``momentum > 0``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop on its accuracy.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping.
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decay rates.
    epsilon : float, default=1e-8
        The adaptive solvers' epsilon.
    n_iter_no_change : int or numpy.inf, default=10
        Epochs without an improvement by ``tol`` before stopping (inf: never).
    max_fun : int, default=15000
        'lbfgs' only: stop after the iteration in which the loss evaluations exceed it.
    initial_params : fcfun.Params or None, default=None
        Weights a fresh fit (or first ``partial_fit``) starts from, instead of
        ``fcfun.init``; e.g. ``params_from_sklearn(mlp.coefs_, mlp.intercepts_)`` or
        ``sklearn_initial_params(...)``. Their dtype is the training dtype.
    dropout : float, default=0.0
        Inverted dropout on every hidden layer's output in training (none in
        ``predict``), its masks drawn from the fit's seed, epoch and step, so a fit
        replays bit for bit (see ``fcfun.dropout_masks``). 0 trains without dropout.
    class_weight : 'balanced', dict or None, default=None
        Weights of the classes (``FCClassifier`` only; ``MLPClassifier`` has none): each
        sample's weight is its class's times its ``sample_weight``. 'balanced' gives
        class ``c`` the weight ``n_samples / (n_classes * count(c))``; a dict maps
        classes to weights (classes left out weigh 1). Not for multilabel targets.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``arange(n_labels)`` for multilabel).
    n_features_in_ : int
        Number of input features.
    spec_ : fcfun.MLP
        The network's description.
    state_ : fcfun.TrainState
        Weights, optimizer state, epoch count, seed and history: ``fcfun.fit`` continues it.
    params_ : fcfun.Params
        ``state_.params`` (with early stopping, the best epoch's).
    coefs_, intercepts_ : list of ndarray
        ``W`` and ``b`` of every layer, read-only views of ``params_``.
    n_iter_ : int
        Epochs trained by the last ``fit`` (1 for ``partial_fit``).
    t_ : int
        Training samples the solver has seen, over all fits continued by warm_start /
        partial_fit (scikit-learn's ``t_``; ``'invscaling'`` reads it). Not for ``'lbfgs'``.
    loss_curve_ : list of float
        Training loss per epoch, over all fits continued by warm_start / partial_fit.
    loss_ : float
        The last epoch's training loss.
    best_loss_ : float or None
        Lowest training loss (None with early stopping).
    validation_scores_ : list of float or None
        Validation accuracy per epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best validation accuracy with early stopping, else None.
    n_layers_, n_outputs_ : int
        Layers counting the input; output units.
    out_activation_ : str
        'logistic' or 'softmax', in scikit-learn's names.
    seed_ : int
        The seed actually used.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from fcfun.sklearn import FCClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> classifier = FCClassifier((16,), learning_rate_init=0.01, batch_size=16)
    >>> model = make_pipeline(StandardScaler(), classifier).fit(X, y)
    >>> model.score(X, y) > 0.95, model[-1].spec_.sizes, model[-1].out_activation_
    (True, (4, 16, 3), 'softmax')
    """

    _parameter_constraints: dict[str, list[Any]] = {  # noqa: RUF012 (scikit-learn's name)
        **_FCBase._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        max_fun: int = 15000,
        initial_params: fcfun.Params | None = None,
        dropout: float = 0.0,
        class_weight: Literal["balanced"] | dict[Any, float] | None = None,
    ) -> None:
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            initial_params=initial_params,
            dropout=dropout,
        )
        self.class_weight = class_weight

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        """Train on ``X`` ``(n_samples, n_features)`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), or (n_samples, n_labels) indicators
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero (times ``class_weight``'s).

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    @_stochastic_only
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None) -> Self:
        """One epoch over ``X, y``, continuing the previous state (optimizer included).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), or (n_samples, n_labels) indicators
        sample_weight : array-like of shape (n_samples,), default=None
            As for ``fit``.
        classes : array-like of shape (n_classes,), default=None
            All classes; required on the first call unless ``y`` is multilabel.

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=True, classes=classes, sample_weight=sample_weight)

    def _sample_weight(self, sample_weight: Any, y: Array, X: Array) -> Array | None:
        """``sample_weight`` times ``class_weight``'s weight of each sample's class."""
        weight = super()._sample_weight(sample_weight, y, X)
        if self.class_weight is None:
            return weight
        if _is_multilabel(self._label_binarizer):
            raise ValueError(
                "class_weight must be None for multilabel targets (a sample has several "
                f"classes), got {self.class_weight!r}"
            )
        per_class = self._class_weights(y)
        by_sample = per_class[np.searchsorted(self.classes_, y)]
        return by_sample if weight is None else by_sample * weight

    def _class_weights(self, y: Array) -> Array:
        """One weight per class of ``classes_``: 'balanced' is ``n / (k * count)``."""
        classes = self.classes_
        if isinstance(self.class_weight, str):  # 'balanced', as scikit-learn computes it
            counts = np.array([np.count_nonzero(y == c) for c in classes], dtype=float)
            with np.errstate(divide="ignore"):
                return np.where(counts > 0, len(y) / (len(classes) * counts), 0.0)
        assert isinstance(self.class_weight, dict)
        unknown = [c for c in self.class_weight if c not in set(classes.tolist())]
        if unknown:
            raise ValueError(
                f"class_weight must name classes of y, {classes.tolist()}, got unknown "
                f"class {unknown[0]!r}"
            )
        weights = np.array([float(self.class_weight.get(c, 1.0)) for c in classes.tolist()])
        bad = ~np.isfinite(weights) | (weights < 0)
        if bad.any():
            index = int(np.argmax(bad))
            raise ValueError(
                "class_weight must map classes to finite non-negative weights, got "
                f"{weights[index]!r} for class {classes.tolist()[index]!r}"
            )
        return weights

    def _targets(
        self, y: Array, *, reset: bool, incremental: bool, classes: Array | None
    ) -> tuple[Array, Task, Array | None]:
        check_classification_targets(y)
        if reset:
            self._set_labels(_fit_labels(y, incremental=incremental, classes=classes))
        if incremental or not reset:  # a first partial_fit checks y against its classes too
            self._check_labels(y, incremental=incremental, classes=classes)
        # One class is a binary task whose targets are all 0 (scikit-learn's LabelBinarizer):
        # it trains like MLPClassifier and predicts that class.
        task = _classification_task(self._label_binarizer)
        Y = np.asarray(self._label_binarizer.transform(y), dtype=float)
        # Binary targets stratify on the encoded column as booleans, as scikit-learn: the
        # same split as on the labels, and its error names the classes 'False' / 'True'.
        return Y, task, (Y.astype(bool) if task == "binary" else None)

    def _set_labels(self, labels: sklearn_interop.Labels) -> None:
        self._label_binarizer = labels.binarizer
        self.classes_ = labels.classes

    def _check_labels(self, y: Array, *, incremental: bool, classes: Array | None) -> None:
        """Labels continuing a fit: a subset of ``classes_`` (the same set for warm_start)."""
        known = self.classes_.tolist()
        if _is_multilabel(self._label_binarizer):
            if y.ndim != 2 or y.shape[1] != len(known):
                raise ValueError(
                    f"y must be a label indicator matrix with {len(known)} columns, as in "
                    f"the previous fit, got shape {y.shape}"
                )
            return
        if classes is not None and set(np.asarray(classes).tolist()) != set(known):
            raise ValueError(
                f"classes={np.asarray(classes).tolist()} is not classes_={known} of the "
                "first call to partial_fit"
            )
        # The messages are scikit-learn's, word for word (its tests match them).
        labels = np.unique(y)
        if incremental and not set(labels.tolist()) <= set(known):
            raise ValueError(
                "`y` has classes not in `self.classes_`. "
                f"`self.classes_` has {self.classes_}. 'y' has {labels}."
            )
        if not incremental and set(labels.tolist()) != set(known):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in the "
                f"previous call to fit. Previously got {self.classes_}, `y` has {labels}"
            )

    def predict_proba(self, X: Any) -> Array:
        """Class probabilities, columns in ``classes_`` order (read-only).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            For binary targets ``[1 - p, p]``; for multilabel one column per label.
        """
        A = self._output(X)
        if self.n_outputs_ == 1:
            p = A[:, 0]
            return _frozen(np.column_stack([1.0 - p, p]))
        return _frozen(A)

    def predict_log_proba(self, X: Any) -> Array:
        """``log(predict_proba(X))`` (read-only)."""
        return _frozen(np.log(self.predict_proba(X)))

    def predict(self, X: Any) -> Array:
        """Predicted labels (read-only): arg-max class, or every label with ``p > 0.5``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), or (n_samples, n_labels) for multilabel
        """
        A = self._output(X)
        if self.n_outputs_ == 1:
            A = A[:, 0]
        return _frozen(np.asarray(self._label_binarizer.inverse_transform(A)))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.input_tags.sparse = True
        return tags

    def to_sklearn(self) -> Any:
        """A fitted ``MLPClassifier`` with these weights, classes and hyperparameters.

        It predicts as this estimator does (to rounding) and can continue training
        with ``warm_start=True`` or ``partial_fit``. Solvers scikit-learn lacks become
        ``'adam'``; the activations it lacks raise ``ValueError``.

        Returns
        -------
        sklearn.neural_network.MLPClassifier
        """
        check_is_fitted(self)
        labels = sklearn_interop.Labels(self.classes_, self._label_binarizer)
        return sklearn_interop.classifier_to_sklearn(self, labels)

    @classmethod
    def from_sklearn(cls, mlp: Any) -> Self:
        """A fitted ``FCClassifier`` from a fitted ``MLPClassifier``.

        Hyperparameters are copied (every one of ``MLPClassifier``'s has an fcfun
        counterpart); weights and classes are copied. There is no training history
        (``n_iter_ == 0``, ``loss_curve_ == []``); ``partial_fit`` or a ``warm_start`` fit
        continues from the copied weights.

        Parameters
        ----------
        mlp : sklearn.neural_network.MLPClassifier
            A fitted classifier.

        Returns
        -------
        FCClassifier
        """
        fit, labels = sklearn_interop.classifier_from_sklearn(mlp)
        estimator = cls(**fit.hyperparameters)
        estimator._set_labels(labels)
        estimator._set_fitted_from(fit, _imported_task(labels))
        estimator.t_ = int(getattr(mlp, "t_", 0))  # samples seen: 'invscaling' goes on
        return estimator


class FCRegressor(RegressorMixin, _FCBase):
    """A fully connected network regressor: scikit-learn's API over ``fcfun.fit``.

    By default an identity output per target trained with ``half_squared_error``
    (``sum((A - Y)**2) / (2 m)``: scikit-learn's ``squared_error`` for one target; for
    ``k`` targets the sum over targets, ``k`` times scikit-learn's reported mean).
    Parameters are ``FCClassifier``'s and the loss's below; early stopping monitors
    the validation ``score``. Differences from ``MLPRegressor`` are in the module
    docstring.

    ``score`` is R² of ``predict`` (as ``MLPRegressor``'s, whatever its loss) for every
    loss but 'quantile'; for 'quantile' it is the mean over levels of
    ``sklearn.metrics.d2_pinball_score`` (the share of pinball loss explained over the
    best constant; R² needs one prediction per target).

    Parameters
    ----------
    loss : str, default='squared_error'
        'squared_error' (identity output, ``half_squared_error``); 'poisson'
        (``MLPRegressor``'s: half the Poisson deviance with an ``exp`` output, the log
        link; ``y >= 0``); fcfun's 'huber' (``fcfun.huber(huber_delta)``), 'absolute_error'
        (``fcfun.mean_absolute_error``), both averaged over all elements as PyTorch,
        and 'quantile' (``fcfun.quantile``: one output per level of ``quantile``, a
        single target column).
    huber_delta : float, default=1.0
        The residual beyond which 'huber' is linear (PyTorch's ``HuberLoss(delta)``).
    quantile : float or sequence of float, default=0.5
        The level(s) in (0, 1) that 'quantile' estimates (scikit-learn's
        ``QuantileRegressor(quantile=)``; a sequence is fcfun's: one output each).
    non_crossing : bool, default=True
        For several quantile levels, given in increasing order: the output ``fcfun.sort``
        makes output ``j`` the ``j``-th smallest head, so predicted quantiles never
        cross (the monotone rearrangement; it never raises a row's pinball loss).

    Attributes
    ----------
    n_outputs_ : int
        Number of targets; ``predict`` returns ``(n_samples,)`` when it is 1.
    spec_, state_, params_, coefs_, intercepts_, n_iter_, loss_curve_, loss_
        As ``FCClassifier``.
    best_loss_, validation_scores_, best_validation_score_
        As ``FCClassifier``, the validation scores being R².
    n_layers_, out_activation_, seed_, n_features_in_
        As ``FCClassifier``; ``out_activation_`` is 'identity'.

    Examples
    --------
    >>> import numpy as np
    >>> from fcfun.sklearn import FCRegressor
    >>> X = np.linspace(-1, 1, 50)[:, None]
    >>> model = FCRegressor((8,), solver="sgd", learning_rate_init=0.1, batch_size=10)
    >>> model.fit(X, 2 * X[:, 0] + 1).predict([[0.5]]).round(1)
    array([2.])
    """

    _parameter_constraints: dict[str, list[Any]] = {  # noqa: RUF012 (scikit-learn's name)
        **_FCBase._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson", "huber", "absolute_error", "quantile"})],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "quantile": [Interval(Real, 0, 1, closed="neither"), "array-like"],
        "non_crossing": ["boolean"],
    }

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        max_fun: int = 15000,
        initial_params: fcfun.Params | None = None,
        dropout: float = 0.0,
        loss: str = "squared_error",
        huber_delta: float = 1.0,
        quantile: float | Sequence[float] = 0.5,
        non_crossing: bool = True,
    ) -> None:
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            initial_params=initial_params,
            dropout=dropout,
        )
        self.loss = loss
        self.huber_delta = huber_delta
        self.quantile = quantile
        self.non_crossing = non_crossing

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        """Train on ``X`` ``(n_samples, n_features)`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=False, sample_weight=sample_weight)

    @_stochastic_only
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        """One epoch over ``X, y``, continuing the previous state (optimizer included).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            As for ``fit``.

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)

    def _targets(
        self, y: Array, *, reset: bool, incremental: bool, classes: Array | None
    ) -> tuple[Array, Task, Array | None]:
        Y = np.asarray(y, dtype=float)
        Y = Y[:, None] if Y.ndim == 1 else Y
        if self.loss == "poisson" and (Y < 0).any():
            raise ValueError(
                "y must be non-negative (counts or rates) for loss='poisson', "
                f"got {float(Y.min())!r}"
            )
        if self.loss == "quantile" and Y.shape[1] != 1:
            raise ValueError(
                f"y must be one target column for loss='quantile' (one output per level), "
                f"got shape {np.shape(y)}"
            )
        return Y, "regression", None

    def _levels(self) -> tuple[float, ...]:
        """``quantile`` as a tuple of levels, checked (increasing for ``non_crossing``)."""
        levels = tuple(float(q) for q in np.atleast_1d(np.asarray(self.quantile, dtype=float)))
        fcfun.quantile(*levels)  # each in (0, 1), at least one
        if self.non_crossing and any(b <= a for a, b in itertools.pairwise(levels)):
            raise ValueError(
                f"quantile must be strictly increasing for non_crossing=True, got {levels}"
            )
        return levels

    def _head(self, task: Task, n_targets: int) -> Head:
        if self.loss == "quantile":
            levels = self._levels()
            ordered = self.non_crossing and len(levels) > 1
            return (fcfun.sort if ordered else fcfun.identity), fcfun.quantile(*levels), len(levels)
        if self.loss == "poisson":
            return fcfun.exp, fcfun.poisson, n_targets
        if self.loss == "huber":
            return fcfun.identity, fcfun.huber(float(self.huber_delta)), n_targets
        if self.loss == "absolute_error":
            return fcfun.identity, fcfun.mean_absolute_error, n_targets
        return super()._head(task, n_targets)

    def _validation_metric(self) -> fcfun.Metric:
        """``score`` on the network's output and the prepared (repeated) target columns."""
        if self.loss != "quantile":
            return fcfun.r2_score
        levels = self._levels()
        return lambda A, Y: _mean_d2_pinball(Y[:, 0], A, levels)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of ``predict(X)`` against ``y``; for ``loss='quantile'`` the mean over levels
        of ``sklearn.metrics.d2_pinball_score``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        if self.loss != "quantile":
            return super().score(X, y, sample_weight=sample_weight)
        A = self._output(X)
        return _mean_d2_pinball(column_or_1d(y), A, self._levels(), sample_weight)

    def predict(self, X: Any) -> Array:
        """Predicted targets (read-only).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        A = self._output(X)
        return _frozen(A[:, 0] if self.n_outputs_ == 1 else A)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags

    def to_sklearn(self) -> Any:
        """A fitted ``MLPRegressor`` with these weights and hyperparameters.

        As ``FCClassifier.to_sklearn``; its ``loss_curve_`` is copied in fcfun's
        convention (for several targets, ``n_outputs_`` times scikit-learn's for
        'squared_error'). Only 'squared_error' and 'poisson' have an ``MLPRegressor``
        counterpart; other losses raise ``ValueError``.

        Returns
        -------
        sklearn.neural_network.MLPRegressor
        """
        return sklearn_interop.regressor_to_sklearn(self)

    @classmethod
    def from_sklearn(cls, mlp: Any) -> Self:
        """A fitted ``FCRegressor`` from a fitted ``MLPRegressor`` (as ``FCClassifier``'s).

        Parameters
        ----------
        mlp : sklearn.neural_network.MLPRegressor
            A fitted regressor (``loss`` 'squared_error' or 'poisson', which it keeps).

        Returns
        -------
        FCRegressor
        """
        fit = sklearn_interop.regressor_from_sklearn(mlp)
        estimator = cls(**fit.hyperparameters)
        estimator._set_fitted_from(fit, "regression")
        estimator.t_ = int(getattr(mlp, "t_", 0))  # samples seen: 'invscaling' goes on
        return estimator
