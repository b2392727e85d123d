"""Conversion between fcfun and scikit-learn's ``MLPClassifier`` / ``MLPRegressor``.

Weights: ``params_from_sklearn`` / ``params_to_sklearn`` convert between scikit-learn's
``coefs_, intercepts_`` lists and fcfun ``Params`` (the same ``W (n_in, n_out)`` layout);
``sklearn_initial_params`` draws the weights an MLP with an integer seed starts from.

Fitted estimators: ``classifier_to_sklearn`` / ``regressor_to_sklearn`` make a fitted
scikit-learn MLP from a fitted fcfun estimator, ``classifier_from_sklearn`` /
``regressor_from_sklearn`` read what an fcfun estimator takes from a fitted MLP. The
estimators of ``fcfun.sklearn`` call these from their ``to_sklearn`` / ``from_sklearn``;
this module never imports them, it reads an estimator through the ``Fitted`` protocol.
It needs the ``fcfun[sklearn]`` extra.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

try:
    import sklearn  # noqa: F401 (the extra's presence, named in the error)
except ModuleNotFoundError as missing:
    raise ModuleNotFoundError(
        f"{__name__} needs scikit-learn: pip install 'fcfun[sklearn]'", name="sklearn"
    ) from missing

from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

import fcfun

__all__ = [
    "Array",
    "Fitted",
    "Labels",
    "MLPFit",
    "classifier_from_sklearn",
    "classifier_to_sklearn",
    "hyperparameters_from_sklearn",
    "hyperparameters_to_sklearn",
    "params_from_sklearn",
    "params_to_sklearn",
    "regressor_from_sklearn",
    "regressor_to_sklearn",
    "sklearn_initial_params",
]

Array: TypeAlias = npt.NDArray[Any]
"""A numpy array of any dtype: what scikit-learn's estimators hold and return."""

_SHARED_HYPERPARAMETERS = (
    "hidden_layer_sizes",
    "activation",
    "solver",
    "alpha",
    "batch_size",
    "learning_rate",
    "learning_rate_init",
    "power_t",
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
    "max_fun",
)
"""Hyperparameters with the same name and meaning in fcfun's estimators and the MLPs."""

_SKLEARN_ACTIVATIONS: dict[str, str] = {
    "identity": "identity",
    "logistic": "logistic",
    "sigmoid": "logistic",
    "tanh": "tanh",
    "relu": "relu",
}
"""The ``activation`` values scikit-learn's MLPs have, in their names."""

_SKLEARN_SOLVERS = ("sgd", "adam", "lbfgs")
"""The solvers both have; any other becomes ``'adam'`` on conversion."""


# Weights ---------------------------------------------------------------------------


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
    return tuple(
        _dense(index, W, b) for index, (W, b) in enumerate(zip(coefs, intercepts, strict=True))
    )


def _dense(index: int, W: Any, b: Any) -> fcfun.Dense:
    """Layer ``index`` as a read-only ``Dense`` owning copies of ``W`` and ``b``."""
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
    return fcfun.Dense(W_array, b_array)


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
    >>> from fcfun.sklearn import FCClassifier
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


# Hyperparameters -------------------------------------------------------------------


def hyperparameters_to_sklearn(hyperparameters: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """An MLP's constructor arguments from an fcfun estimator's ``get_params()``.

    The seed is the one the estimator used (``seed_``); a solver the MLPs lack becomes
    ``'adam'``; an activation they lack raises ``ValueError``.
    """
    params = {name: hyperparameters[name] for name in _SHARED_HYPERPARAMETERS}
    activation = params["activation"]
    if activation not in _SKLEARN_ACTIVATIONS:
        raise ValueError(
            f"activation={activation!r} has no scikit-learn counterpart; "
            f"expected one of {sorted(_SKLEARN_ACTIVATIONS)}"
        )
    params["activation"] = _SKLEARN_ACTIVATIONS[activation]
    if params["solver"] not in _SKLEARN_SOLVERS:
        params["solver"] = "adam"
    params["random_state"] = seed
    return params


def hyperparameters_from_sklearn(mlp: Any) -> dict[str, Any]:
    """An fcfun estimator's constructor arguments from an MLP."""
    params = mlp.get_params()
    shared = {name: params[name] for name in _SHARED_HYPERPARAMETERS}
    if shared["solver"] not in _SKLEARN_SOLVERS:
        shared["solver"] = "adam"
    return shared


# Fitted estimators: fcfun to scikit-learn ------------------------------------------


class Fitted(Protocol):
    """A fitted fcfun estimator, as far as a scikit-learn MLP holds the same state."""

    @property
    def params_(self) -> fcfun.Params: ...
    @property
    def seed_(self) -> int: ...
    @property
    def n_features_in_(self) -> int: ...
    @property
    def n_layers_(self) -> int: ...
    @property
    def n_outputs_(self) -> int: ...
    @property
    def out_activation_(self) -> str: ...
    @property
    def n_iter_(self) -> int: ...
    @property
    def loss_curve_(self) -> list[float]: ...
    @property
    def loss_(self) -> float: ...
    @property
    def best_loss_(self) -> float | None: ...
    @property
    def validation_scores_(self) -> list[float] | None: ...
    @property
    def best_validation_score_(self) -> float | None: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...


class Labels(NamedTuple):
    """A classifier's labels: ``classes_`` and the fitted ``LabelBinarizer`` encoding them."""

    classes: Array
    binarizer: Any


def classifier_to_sklearn(estimator: Fitted, labels: Labels) -> Any:
    """A fitted ``MLPClassifier`` with a fitted classifier's weights, labels and settings."""
    mlp = _fitted_mlp(MLPClassifier, estimator)
    mlp.classes_ = labels.classes
    mlp._label_binarizer = copy.deepcopy(labels.binarizer)
    return mlp


_SKLEARN_LOSSES = ("squared_error", "poisson")
"""The regression losses both have, with the same output (identity, exp) and value."""


def regressor_to_sklearn(estimator: Fitted) -> Any:
    """A fitted ``MLPRegressor`` with a fitted regressor's weights and settings (its loss
    'squared_error' or 'poisson'; fcfun's other losses raise ``ValueError``)."""
    loss = estimator.get_params()["loss"]
    if loss not in _SKLEARN_LOSSES:
        raise ValueError(
            f"loss={loss!r} has no MLPRegressor counterpart; expected one of {_SKLEARN_LOSSES}"
        )
    mlp = _fitted_mlp(MLPRegressor, estimator)
    mlp.set_params(loss=loss)
    return mlp


def _fitted_mlp(mlp_class: Callable[..., Any], estimator: Fitted) -> Any:
    """A new ``mlp_class`` with ``estimator``'s hyperparameters and fitted state.

    Its ``t_`` is the estimator's (the samples seen), its no-improvement count restarts at 0
    and its best weights are the current ones, so ``warm_start`` and ``partial_fit``
    continue from here.
    """
    check_is_fitted(estimator)
    mlp = mlp_class(**hyperparameters_to_sklearn(estimator.get_params(), estimator.seed_))
    coefs, intercepts = params_to_sklearn(estimator.params_)
    mlp.coefs_, mlp.intercepts_ = coefs, intercepts
    mlp.n_features_in_ = estimator.n_features_in_
    feature_names = getattr(estimator, "feature_names_in_", None)
    if feature_names is not None:
        mlp.feature_names_in_ = feature_names
    mlp.n_layers_ = estimator.n_layers_
    mlp.n_outputs_ = estimator.n_outputs_
    mlp.out_activation_ = estimator.out_activation_
    mlp.n_iter_ = estimator.n_iter_
    mlp.t_ = int(getattr(estimator, "t_", 0))  # the samples seen, for 'invscaling' to go on
    mlp.loss_curve_ = list(estimator.loss_curve_)
    mlp.loss_ = estimator.loss_
    mlp.best_loss_ = estimator.best_loss_
    mlp.validation_scores_ = estimator.validation_scores_
    mlp.best_validation_score_ = estimator.best_validation_score_
    mlp._no_improvement_count = 0
    mlp._best_coefs = [c.copy() for c in coefs]
    mlp._best_intercepts = [b.copy() for b in intercepts]
    return mlp


# Fitted estimators: scikit-learn to fcfun ------------------------------------------


class MLPFit(NamedTuple):
    """What an fcfun estimator takes from a fitted scikit-learn MLP.

    Attributes:
        hyperparameters: the estimator's constructor arguments.
        params: the MLP's weights.
        sizes: ``(n_features, *hidden, n_outputs)``, the weights' layer sizes.
        n_features_in: the MLP's ``n_features_in_``.
        feature_names_in: its ``feature_names_in_``, or None if it has none.
    """

    hyperparameters: dict[str, Any]
    params: fcfun.Params
    sizes: tuple[int, ...]
    n_features_in: int
    feature_names_in: Array | None


def classifier_from_sklearn(mlp: Any) -> tuple[MLPFit, Labels]:
    """A fitted ``MLPClassifier``'s weights and settings, and its labels re-encoded.

    The ``LabelBinarizer`` is fitted afresh: on ``classes_``, or on the identity matrix
    for a multilabel MLP (logistic output with several units).
    """
    fit = _mlp_fit(mlp)
    classes = np.asarray(mlp.classes_)
    multilabel = mlp.out_activation_ == "logistic" and int(mlp.n_outputs_) > 1
    binarizer = LabelBinarizer()
    binarizer.fit(np.eye(len(classes), dtype=int) if multilabel else classes)
    return fit, Labels(classes, binarizer)


def regressor_from_sklearn(mlp: Any) -> MLPFit:
    """A fitted ``MLPRegressor``'s weights and settings, its loss included."""
    fit = _mlp_fit(mlp)
    fit.hyperparameters["loss"] = mlp.get_params()["loss"]
    return fit


def _mlp_fit(mlp: Any) -> MLPFit:
    check_is_fitted(mlp)
    params = params_from_sklearn(mlp.coefs_, mlp.intercepts_)
    sizes = (params[0].W.shape[0], *(p.W.shape[1] for p in params))
    return MLPFit(
        hyperparameters_from_sklearn(mlp),
        params,
        sizes,
        int(mlp.n_features_in_),
        getattr(mlp, "feature_names_in_", None),
    )
