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
* ``solver``: ``'sgd'``, ``'adam'``, plus fcfun's ``'adamw'``, ``'rmsprop'``,
  ``'adagrad'`` (PyTorch rules; ``adamw`` with PyTorch's decoupled decay 0.01 on top
  of ``alpha``). No ``'lbfgs'``, only a constant learning rate (no ``learning_rate``,
  ``power_t``, ``max_fun``). Adam adds ``epsilon`` to the bias-corrected root
  (PyTorch), scikit-learn to the raw one. ``momentum`` / ``nesterovs_momentum`` are
  for ``'sgd'`` (PyTorch's momentum, the same iterates as scikit-learn's with a constant
  learning rate); ``beta_1`` / ``beta_2`` for the Adam family; ``epsilon`` for all
  adaptive solvers.
* ``activation``: scikit-learn's ``'identity'``, ``'logistic'``, ``'tanh'``, ``'relu'``
  and fcfun's ``'sigmoid'`` (= ``'logistic'``), ``'leaky_relu'`` (slope 0.01),
  ``'softplus'``.
* Epoch orders are fcfun's (``default_rng([seed, epoch])``), not scikit-learn's; with
  ``shuffle=False`` both visit rows in storage order, so from the same weights the two
  follow the same trajectory. An integer ``batch_size`` above the sample count means one
  full batch, without scikit-learn's warning.
* Stopping: ``fcfun.EarlyStopping`` with ``patience = n_iter_no_change + 1`` (scikit-
  learn stops when the no-improvement count *exceeds* ``n_iter_no_change``) and
  ``min_delta = tol``. fcfun counts epochs since the last improvement by more than
  ``tol``; scikit-learn counts against the best value so far, updated by any improvement,
  so a run improving by less than ``tol`` per epoch stops later here. With
  ``early_stopping`` the best epoch's weights are restored (as scikit-learn), the monitor
  is the validation accuracy (subset accuracy for multilabel) or R², and the validation
  split is ``train_test_split(random_state=seed_)``, stratified for binary targets only
  (as scikit-learn). ``n_iter_no_change=np.inf`` never stops early.
* A ``warm_start`` fit continues ``state_`` (weights, epoch count, history) with a fresh
  optimizer state, as scikit-learn makes a new optimizer per fit; ``partial_fit`` keeps
  the optimizer state (unless the solver changed).
* Regression trains ``half_squared_error``: ``sum((A - Y)**2) / (2 m)``, summed over
  outputs. For one output it is scikit-learn's ``squared_error``; for ``k`` outputs
  scikit-learn reports the mean over outputs (its gradient is the same sum), so
  ``loss_curve_`` and ``tol`` are on a scale ``k`` times scikit-learn's.
* Training diverging to a non-finite loss raises ``ValueError`` (from fcfun's
  ``DivergenceError``, kept as ``__cause__`` with the last finite state).
* Arrays returned by ``predict`` / ``predict_proba`` and the fitted ``coefs_`` /
  ``intercepts_`` are read-only (fcfun's rule); copy them to modify. No sparse input,
  no ``sample_weight``.

Interop with scikit-learn's MLPs: ``params_from_sklearn`` / ``params_to_sklearn`` convert
between ``coefs_, intercepts_`` lists and fcfun ``Params`` (same ``W (n_in, n_out)``
layout); ``from_sklearn(mlp)`` makes a fitted estimator from a fitted MLP, and
``to_sklearn()`` a fitted MLP (ready to predict, or to continue with ``warm_start`` or
``partial_fit``) from a fitted estimator.
"""

from __future__ import annotations

import copy
import itertools
import math
import warnings
from collections.abc import Sequence
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Self, TypeAlias

import numpy as np
import numpy.typing as npt
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

import fcfun
from fcfun._training import monitored, patience_exhausted

if TYPE_CHECKING:
    # scikit-learn ships no type information. mypy sees these outlines of its three
    # base classes, holding the methods this module uses; at run time they are the real
    # classes (imported below), so nothing here changes behavior.
    class BaseEstimator:
        def get_params(self, deep: bool = True) -> dict[str, Any]: ...
        def set_params(self, **params: Any) -> Self: ...
        def _validate_params(self) -> None: ...
        def __sklearn_tags__(self) -> Any: ...
        def __getstate__(self) -> dict[str, Any]: ...
        def __setstate__(self, state: dict[str, Any]) -> None: ...

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

Array: TypeAlias = npt.NDArray[Any]
Task: TypeAlias = Literal["binary", "multiclass", "multilabel", "regression"]

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

_SKLEARN_ACTIVATION: dict[str, str] = {
    "identity": "identity",
    "logistic": "logistic",
    "sigmoid": "logistic",
    "tanh": "tanh",
    "relu": "relu",
}
"""The ``activation`` values scikit-learn's MLPs have, in their names."""

_OUTPUT: dict[Task, tuple[fcfun.Activation, fcfun.Loss, str]] = {
    "binary": (fcfun.sigmoid, fcfun.binary_cross_entropy, "logistic"),
    "multilabel": (fcfun.sigmoid, fcfun.binary_cross_entropy, "logistic"),
    "multiclass": (fcfun.softmax, fcfun.softmax_cross_entropy, "softmax"),
    "regression": (fcfun.identity, fcfun.half_squared_error, "identity"),
}
"""Output activation, loss and scikit-learn's ``out_activation_`` name, per task."""

_SHARED_HYPERPARAMETERS = (
    "hidden_layer_sizes",
    "activation",
    "solver",
    "alpha",
    "batch_size",
    "learning_rate_init",
    "max_iter",
    "shuffle",
    "random_state",
    "tol",
    "verbose",
    "warm_start",
    "momentum",
    "nesterovs_momentum",
    "early_stopping",
    "validation_fraction",
    "beta_1",
    "beta_2",
    "epsilon",
    "n_iter_no_change",
)
"""Hyperparameters with the same name and meaning here and in scikit-learn's MLPs."""


# Weights interop -------------------------------------------------------------------


def params_from_sklearn(coefs: Sequence[Any], intercepts: Sequence[Any]) -> fcfun.Params:
    """fcfun ``Params`` from scikit-learn's ``coefs_`` and ``intercepts_`` (copied).

    Both use ``W`` of shape ``(n_in, n_out)``, so layer ``l`` is
    ``Dense(coefs[l], intercepts[l])``; the result is read-only and owns its arrays.

    Parameters
    ----------
    coefs : sequence of arrays of shape (n_in, n_out)
        One weight matrix per layer.
    intercepts : sequence of arrays of shape (n_out,)
        One bias vector per layer.

    Returns
    -------
    fcfun.Params
        ``tuple[Dense(W, b), ...]``.

    Examples
    --------
    >>> import numpy as np
    >>> params = params_from_sklearn([np.ones((3, 2)), np.ones((2, 1))], [np.zeros(2), [0.5]])
    >>> [(p.W.shape, p.b.shape) for p in params], params[1].b.flags.writeable
    ([((3, 2), (2,)), ((2, 1), (1,))], False)
    """
    if len(coefs) != len(intercepts):
        raise ValueError(
            f"coefs and intercepts must have one entry per layer each, got {len(coefs)} "
            f"and {len(intercepts)}"
        )
    params = []
    for index, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        W_array = np.array(W)
        if W_array.dtype not in (np.float32, np.float64):
            W_array = W_array.astype(np.float64)
        b_array = np.array(b, dtype=W_array.dtype)
        if W_array.ndim != 2 or b_array.shape != (W_array.shape[1],):
            raise ValueError(
                f"layer {index}: coefs must be (n_in, n_out) and intercepts (n_out,), got "
                f"shapes {W_array.shape} and {b_array.shape}"
            )
        W_array.flags.writeable = False
        b_array.flags.writeable = False
        params.append(fcfun.Dense(W_array, b_array))
    return tuple(params)


def params_to_sklearn(params: fcfun.Params) -> tuple[list[Array], list[Array]]:
    """scikit-learn's ``(coefs_, intercepts_)`` lists from fcfun ``Params`` (writable copies).

    Parameters
    ----------
    params : fcfun.Params
        ``tuple[Dense(W, b), ...]``.

    Returns
    -------
    coefs : list of arrays of shape (n_in, n_out)
    intercepts : list of arrays of shape (n_out,)

    Examples
    --------
    >>> import fcfun
    >>> spec = fcfun.mlp([3, 2, 1], output=fcfun.sigmoid, loss=fcfun.binary_cross_entropy)
    >>> coefs, intercepts = params_to_sklearn(fcfun.init(spec, seed=0))
    >>> [c.shape for c in coefs], [i.shape for i in intercepts]
    ([(3, 2), (2, 1)], [(2,), (1,)])
    """
    return [np.array(layer.W) for layer in params], [np.array(layer.b) for layer in params]


def sklearn_initial_params(
    layer_units: Sequence[int],
    activation: str = "relu",
    random_state: int = 0,
    dtype: type[np.float32] | type[np.float64] = np.float64,
) -> fcfun.Params:
    """The weights an ``MLPClassifier`` / ``MLPRegressor`` with this seed starts from.

    scikit-learn draws, layer by layer from ``RandomState(random_state)``, ``W`` and then
    ``b`` uniformly in ``+-sqrt(f / (n_in + n_out))``, ``f = 2`` for ``'logistic'`` and
    ``6`` otherwise. Pass the result as ``initial_params`` to start where it starts.

    Parameters
    ----------
    layer_units : sequence of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``; ``n_outputs`` is 1 for binary
        classification and the number of classes or labels otherwise.
    activation : str, default='relu'
        The MLP's hidden activation (only ``'logistic'`` changes the bound).
    random_state : int, default=0
        The MLP's integer ``random_state``.
    dtype : numpy float type, default=numpy.float64
        The dtype of the result (scikit-learn's is ``X``'s).

    Returns
    -------
    fcfun.Params

    Examples
    --------
    >>> params = sklearn_initial_params([4, 8, 3], random_state=0)
    >>> model = FCClassifier((8,), solver="sgd", initial_params=params)
    >>> [(p.W.shape, float(abs(p.b).max()) > 0) for p in model.initial_params]
    [((4, 8), True), ((8, 3), True)]
    """
    units = [int(n) for n in layer_units]
    rng = np.random.RandomState(random_state)
    factor = 2.0 if activation in ("logistic", "sigmoid") else 6.0
    coefs, intercepts = [], []
    for n_in, n_out in itertools.pairwise(units):
        bound = math.sqrt(factor / (n_in + n_out))
        coefs.append(rng.uniform(-bound, bound, (n_in, n_out)).astype(dtype))
        intercepts.append(rng.uniform(-bound, bound, n_out).astype(dtype))
    return params_from_sklearn(coefs, intercepts)


# The shared estimator ----------------------------------------------------------------


class _Recipe(NamedTuple):
    """What ``spec_`` is built from: pickled in its place (leaky_relu is a closure)."""

    sizes: tuple[int, ...]
    activation: str
    task: Task


def _build_spec(recipe: _Recipe) -> fcfun.MLP:
    output, loss, _ = _OUTPUT[recipe.task]
    return fcfun.mlp(recipe.sizes, hidden=_HIDDEN[recipe.activation], output=output, loss=loss)


def _frozen(array: Array) -> Array:
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


class _FCBase(BaseEstimator):
    """What ``FCClassifier`` and ``FCRegressor`` share: hyperparameters and training."""

    _parameter_constraints: dict[str, list[Any]] = {  # noqa: RUF012 (scikit-learn's name)
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_HIDDEN))],
        "solver": [StrOptions({"sgd", "adam", "adamw", "rmsprop", "adagrad"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
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
        "initial_params": [tuple, None],
    }

    _task: Task
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
        learning_rate_init: float = 0.001,
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
        initial_params: fcfun.Params | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
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
        self.initial_params = initial_params

    # Hyperparameters as fcfun values -------------------------------------------------

    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes: Any = self.hidden_layer_sizes
        as_list: list[object] = [sizes] if np.ndim(sizes) == 0 else list(sizes)
        checked = [int(n) for n in as_list if isinstance(n, Integral)]
        if len(checked) != len(as_list):
            raise ValueError(f"hidden_layer_sizes must hold integers, got {sizes!r}")
        if any(n <= 0 for n in checked):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes!r}")
        return tuple(checked)

    def _optimizer(self) -> fcfun.Optimizer[Any]:
        lr = float(self.learning_rate_init)
        b1, b2, eps = float(self.beta_1), float(self.beta_2), float(self.epsilon)
        if self.solver == "sgd":
            momentum = float(self.momentum)
            nesterov = bool(self.nesterovs_momentum) and momentum > 0
            return fcfun.sgd(lr, momentum=momentum, nesterov=nesterov)
        if self.solver == "adam":
            return fcfun.adam(lr, b1=b1, b2=b2, eps=eps)
        if self.solver == "adamw":
            return fcfun.adamw(lr, b1=b1, b2=b2, eps=eps)
        if self.solver == "rmsprop":
            return fcfun.rmsprop(lr, eps=eps)
        return fcfun.adagrad(lr, eps=eps)

    def _optimizer_kind(self) -> tuple[str, bool]:
        """What fixes the optimizer state's structure (a state is kept only if it matches)."""
        return self.solver, self.solver == "sgd" and float(self.momentum) > 0

    def _stopping_rule(self) -> fcfun.EarlyStopping | None:
        if self.n_iter_no_change == np.inf:
            return None
        patience = int(self.n_iter_no_change) + 1
        tol = float(self.tol)
        if self.early_stopping:
            return fcfun.EarlyStopping(patience, tol, "val_metric", restore_best=True)
        return fcfun.EarlyStopping(patience, tol, "train_loss", restore_best=False)

    def _seed(self) -> int:
        if self.random_state is None:
            return 0
        if isinstance(self.random_state, np.random.RandomState):
            return int(self.random_state.randint(np.iinfo(np.int32).max))
        return int(self.random_state)

    def _check_initial_params(self, spec: fcfun.MLP) -> fcfun.Params | None:
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

    # Targets (task-specific) ---------------------------------------------------------

    def _targets(
        self, y: Array, *, reset: bool, incremental: bool, classes: Array | None
    ) -> tuple[Array, Task, Array | None]:
        """``(Y (m, n_outputs) floats, task, labels to stratify on or None)``."""
        raise NotImplementedError

    # Training ------------------------------------------------------------------------

    def _fit(self, X: Any, y: Any, *, incremental: bool, classes: Any = None) -> Self:
        self._validate_params()
        hidden = self._hidden_sizes()
        fitted = hasattr(self, "state_")
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        reset = not fitted or (not self.warm_start and not incremental)
        X_checked, y_checked = validate_data(
            self, X, y, multi_output=True, dtype=(np.float64, np.float32), reset=reset
        )
        X_array: Array = np.asarray(X_checked)
        y_array: Array = np.asarray(y_checked)
        if y_array.ndim == 2 and y_array.shape[1] == 1:
            y_array = np.asarray(column_or_1d(y_array, warn=True))
        Y, task, stratify = self._targets(
            y_array, reset=reset, incremental=incremental, classes=classes
        )
        recipe = _Recipe((X_array.shape[1], *hidden, Y.shape[1]), self.activation, task)
        spec = _build_spec(recipe)
        optimizer = self._optimizer()
        start: fcfun.TrainState[Any] | fcfun.Params | None
        if reset:
            self.seed_ = self._seed()
            start = self._check_initial_params(spec)
        else:
            if spec != self.spec_:
                raise ValueError(
                    "warm_start and partial_fit continue the previous network, with layer "
                    f"sizes {self.spec_.sizes} and activations "
                    f"{[a.name for a in self.spec_.activations]}; got "
                    f"{spec.sizes} and {[a.name for a in spec.activations]}"
                )
            keep = incremental and self._fitted_optimizer_kind == self._optimizer_kind()
            start = (
                self.state_
                if keep
                else self.state_._replace(opt_state=optimizer.init(self.state_.params))
            )
        start_epoch = start.epoch if isinstance(start, fcfun.TrainState) else 0
        validation = None
        X_train, Y_train = X_array, Y
        if self.early_stopping:
            X_train, X_val, Y_train, Y_val = train_test_split(
                X_array,
                Y,
                random_state=self.seed_,
                test_size=self.validation_fraction,
                stratify=stratify,
            )
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' or "
                    "the size of your dataset."
                )
            validation = (X_val, Y_val)
        m = int(X_train.shape[0])
        batch_size = min(200, m) if self.batch_size == "auto" else int(self.batch_size)
        rule = None if incremental else self._stopping_rule()
        epochs = start_epoch + (1 if incremental else int(self.max_iter))
        try:
            state = fcfun.fit(
                spec,
                X_train,
                Y_train,
                optimizer=optimizer,
                epochs=epochs,
                batch_size=batch_size,
                seed=self.seed_ if not isinstance(start, fcfun.TrainState) else None,
                params=start,
                validation=validation,
                alpha=float(self.alpha),
                shuffle=bool(self.shuffle),
                early_stopping=rule,
                callback=self._report if self.verbose else None,
                dtype=X_array.dtype,
            )
        except fcfun.DivergenceError as error:
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain "
                "large values and need to be preprocessed."
            ) from error
        self._set_fitted(recipe, spec, state, trained=state.epoch - start_epoch)
        if not incremental and self.n_iter_ == self.max_iter:
            self._warn_unless_converged(rule, state)
        return self

    def _report(self, state: fcfun.TrainState[Any]) -> None:
        print(f"Iteration {state.epoch}, loss = {state.history.train_loss[-1]:.8f}")
        if state.history.val_metric:
            print(f"Validation score: {state.history.val_metric[-1]:f}")

    def _warn_unless_converged(
        self, rule: fcfun.EarlyStopping | None, state: fcfun.TrainState[Any]
    ) -> None:
        history = state.history
        # Converged: fcfun's stopping rule fired at this fit's last epoch.
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

    def _set_fitted(
        self, recipe: _Recipe, spec: fcfun.MLP, state: fcfun.TrainState[Any], trained: int
    ) -> None:
        self._recipe = recipe
        self._fitted_optimizer_kind = self._optimizer_kind()
        self.spec_ = spec
        self.state_ = state
        self.params_ = state.params
        self.coefs_ = [layer.W for layer in state.params]
        self.intercepts_ = [layer.b for layer in state.params]
        self.n_layers_ = len(spec.sizes)
        self.n_outputs_ = spec.sizes[-1]
        self.out_activation_ = _OUTPUT[recipe.task][2]
        self.n_iter_ = trained
        self.loss_curve_ = list(state.history.train_loss)
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else math.nan
        if self.early_stopping:
            self.validation_scores_: list[float] | None = list(state.history.val_metric)
            self.best_validation_score_: float | None = max(self.validation_scores_, default=None)
            self.best_loss_: float | None = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_, default=math.inf)

    def _output(self, X: Any) -> Array:
        check_is_fitted(self)
        X_checked = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        return np.asarray(fcfun.predict(self.spec_, self.params_, X_checked))

    # Pickling: spec_ holds activation functions, leaky_relu's a closure ---------------

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # a copy: object's is __dict__ itself
        state.pop("spec_", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if "_recipe" in state:
            self.spec_ = _build_spec(state["_recipe"])

    # scikit-learn interop ------------------------------------------------------------

    def _sklearn_hyperparameters(self) -> dict[str, Any]:
        params = {name: getattr(self, name) for name in _SHARED_HYPERPARAMETERS}
        if self.activation not in _SKLEARN_ACTIVATION:
            raise ValueError(
                f"activation={self.activation!r} has no scikit-learn counterpart; "
                f"expected one of {sorted(_SKLEARN_ACTIVATION)}"
            )
        params["activation"] = _SKLEARN_ACTIVATION[self.activation]
        if self.solver not in ("sgd", "adam"):
            params["solver"] = "adam"
        params["random_state"] = self.seed_
        return params

    def _install_into(self, mlp: Any) -> Any:
        """Give a fresh scikit-learn MLP this estimator's fitted state."""
        check_is_fitted(self)
        coefs, intercepts = params_to_sklearn(self.params_)
        mlp.coefs_, mlp.intercepts_ = coefs, intercepts
        mlp.n_features_in_ = self.n_features_in_
        if hasattr(self, "feature_names_in_"):
            mlp.feature_names_in_ = self.feature_names_in_
        mlp.n_layers_ = self.n_layers_
        mlp.n_outputs_ = self.n_outputs_
        mlp.out_activation_ = self.out_activation_
        mlp.n_iter_ = self.n_iter_
        mlp.t_ = 0
        mlp.loss_curve_ = list(self.loss_curve_)
        mlp.loss_ = self.loss_
        mlp.best_loss_ = self.best_loss_
        mlp.validation_scores_ = self.validation_scores_
        mlp.best_validation_score_ = self.best_validation_score_
        mlp._no_improvement_count = 0
        mlp._best_coefs = [c.copy() for c in coefs]
        mlp._best_intercepts = [b.copy() for b in intercepts]
        return mlp

    def _load_from(self, mlp: Any, task: Task) -> None:
        """Become fitted with a fitted scikit-learn MLP's weights (no training history)."""
        check_is_fitted(mlp)
        params = params_from_sklearn(mlp.coefs_, mlp.intercepts_)
        sizes = (params[0].W.shape[0], *(p.W.shape[1] for p in params))
        recipe = _Recipe(sizes, self.activation, task)
        spec = _build_spec(recipe)
        self.n_features_in_ = int(mlp.n_features_in_)
        if hasattr(mlp, "feature_names_in_"):
            self.feature_names_in_ = mlp.feature_names_in_
        self.seed_ = self._seed()
        opt_state = self._optimizer().init(params)
        state = fcfun.TrainState(params, opt_state, 0, self.seed_, fcfun.History())
        self._set_fitted(recipe, spec, state, trained=0)


def _hyperparameters_from_sklearn(mlp: Any) -> dict[str, Any]:
    params = mlp.get_params()
    shared = {name: params[name] for name in _SHARED_HYPERPARAMETERS}
    if shared["solver"] not in ("sgd", "adam"):
        shared["solver"] = "adam"
    return shared


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
        'sgd', 'adam', 'adamw', 'rmsprop' or 'adagrad' (fcfun's PyTorch-rule optimizers).
    alpha : float, default=1e-4
        L2 penalty ``alpha / (2 m) * sum ||W||^2`` on the weights, as scikit-learn.
    batch_size : int or 'auto', default='auto'
        Rows per step; 'auto' is ``min(200, n_samples)``; above ``n_samples``, full batch.
    learning_rate_init : float, default=1e-3
        The (constant) learning rate.
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
    initial_params : fcfun.Params or None, default=None
        Weights a fresh fit (or first ``partial_fit``) starts from, instead of
        ``fcfun.init``; e.g. ``params_from_sklearn(mlp.coefs_, mlp.intercepts_)`` or
        ``sklearn_initial_params(...)``. Their dtype is the training dtype.

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

    def fit(self, X: Any, y: Any) -> Self:
        """Train on ``X`` ``(n_samples, n_features)`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), or (n_samples, n_labels) indicators

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> Self:
        """One epoch over ``X, y``, continuing the previous state (optimizer included).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), or (n_samples, n_labels) indicators
        classes : array-like of shape (n_classes,), default=None
            All classes; required on the first call unless ``y`` is multilabel.

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=True, classes=classes)

    def _targets(
        self, y: Array, *, reset: bool, incremental: bool, classes: Array | None
    ) -> tuple[Array, Task, Array | None]:
        check_classification_targets(y)
        if reset:
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
            self._label_binarizer = binarizer
            self.classes_ = np.asarray(binarizer.classes_)
        else:
            self._check_labels(y, incremental=incremental, classes=classes)
        binarizer = self._label_binarizer
        y_type = str(binarizer.y_type_)
        task: Task = "binary" if y_type == "binary" else "multiclass"
        if y_type.startswith("multilabel"):
            task = "multilabel"
        if task != "multilabel" and len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                f"but the data contain only 1 class: {self.classes_[0]!r}"
            )
        Y = np.asarray(binarizer.transform(y), dtype=float)
        return Y, task, (y if task == "binary" else None)

    def _check_labels(self, y: Array, *, incremental: bool, classes: Array | None) -> None:
        """Labels continuing a fit: a subset of ``classes_`` (the same set for warm_start)."""
        known = self.classes_.tolist()
        if str(self._label_binarizer.y_type_).startswith("multilabel"):
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
        labels = np.unique(y).tolist()
        if incremental and not set(labels) <= set(known):
            raise ValueError(f"y has classes not in classes_: {labels} and {known}")
        if not incremental and set(labels) != set(known):
            raise ValueError(
                "warm_start can only be used where y has the same classes as in the "
                f"previous call to fit. Previously got {known}, y has {labels}"
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
        mlp = self._install_into(MLPClassifier(**self._sklearn_hyperparameters()))
        mlp.classes_ = self.classes_
        mlp._label_binarizer = copy.deepcopy(self._label_binarizer)
        return mlp

    @classmethod
    def from_sklearn(cls, mlp: Any) -> Self:
        """A fitted ``FCClassifier`` from a fitted ``MLPClassifier``.

        Hyperparameters are copied where fcfun has them ('lbfgs' becomes 'adam'; the
        learning-rate schedule is dropped); weights and classes are copied. There is no
        training history (``n_iter_ == 0``, ``loss_curve_ == []``); ``partial_fit`` or
        a ``warm_start`` fit continues from the copied weights.

        Parameters
        ----------
        mlp : sklearn.neural_network.MLPClassifier
            A fitted classifier.

        Returns
        -------
        FCClassifier
        """
        estimator = cls(**_hyperparameters_from_sklearn(mlp))
        classes = np.asarray(mlp.classes_)
        multilabel = mlp.out_activation_ == "logistic" and int(mlp.n_outputs_) > 1
        binarizer = LabelBinarizer()
        binarizer.fit(np.eye(len(classes), dtype=int) if multilabel else classes)
        estimator._label_binarizer = binarizer
        estimator.classes_ = classes
        task: Task = "multilabel" if multilabel else "binary" if len(classes) == 2 else "multiclass"
        estimator._load_from(mlp, task)
        return estimator


class FCRegressor(RegressorMixin, _FCBase):
    """A fully connected network regressor: scikit-learn's API over ``fcfun.fit``.

    An identity output per target trained with ``half_squared_error``
    (``sum((A - Y)**2) / (2 m)``: scikit-learn's ``squared_error`` for one target; for
    ``k`` targets the sum over targets, ``k`` times scikit-learn's reported mean).
    Parameters are ``FCClassifier``'s; early stopping monitors the validation R².
    Differences from ``MLPRegressor`` are in the module docstring.

    Parameters
    ----------
    **hyperparameters
        Those of ``FCClassifier``, with the same names, defaults and meanings.

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

    def fit(self, X: Any, y: Any) -> Self:
        """Train on ``X`` ``(n_samples, n_features)`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any) -> Self:
        """One epoch over ``X, y``, continuing the previous state (optimizer included).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self
        """
        return self._fit(X, y, incremental=True)

    def _targets(
        self, y: Array, *, reset: bool, incremental: bool, classes: Array | None
    ) -> tuple[Array, Task, Array | None]:
        Y = np.asarray(y, dtype=float)
        return (Y[:, None] if Y.ndim == 1 else Y), "regression", None

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
        return tags

    def to_sklearn(self) -> Any:
        """A fitted ``MLPRegressor`` with these weights and hyperparameters.

        As ``FCClassifier.to_sklearn``; its ``loss_curve_`` is copied in fcfun's
        convention (for several targets, ``n_outputs_`` times scikit-learn's).

        Returns
        -------
        sklearn.neural_network.MLPRegressor
        """
        return self._install_into(MLPRegressor(**self._sklearn_hyperparameters()))

    @classmethod
    def from_sklearn(cls, mlp: Any) -> Self:
        """A fitted ``FCRegressor`` from a fitted ``MLPRegressor`` (as ``FCClassifier``'s).

        Parameters
        ----------
        mlp : sklearn.neural_network.MLPRegressor
            A fitted regressor with ``loss='squared_error'``.

        Returns
        -------
        FCRegressor
        """
        if mlp.get_params()["loss"] != "squared_error":
            raise ValueError(f"only loss='squared_error' MLPRegressors convert, got {mlp.loss!r}")
        estimator = cls(**_hyperparameters_from_sklearn(mlp))
        estimator._load_from(mlp, "regression")
        return estimator
