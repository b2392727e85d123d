"""A network's static description, its one names codec, and the checks that need it.

``MLP`` is what every function of a network takes: layer sizes, one activation per
layer and the loss. ``spec_names`` / ``spec_from_names`` are the only code that turns a
spec into names and back; checkpoints, worker processes, the estimators and pickling all
go through them, so a spec either round-trips exactly or is refused, naming the value
(a user's activation named like a built-in is never swapped for the built-in).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from fcfun._activations import (
    Activation,
    ActivationName,
    is_builtin_activation,
    parse_activation,
    relu,
)
from fcfun._dropout import check_rates
from fcfun._losses import Loss, LossName, is_builtin_loss, parse_loss
from fcfun._types import Dense, FloatArray, freeze
from fcfun._validation import cast_finite, check_sizes, describe, real_array


class MLP(NamedTuple):
    """A fully connected network's static description (hashable, comparable).

    Attributes:
        sizes: ``(n_in, n_hidden..., n_out)``.
        activations: one per layer, ``len(sizes) - 1`` of them; the last is the output's.
        loss: the training loss.
        dropout: the inverted-dropout rate of each hidden layer's output in training,
            ``()`` for none (see ``fcfun.dropout_masks``); ``forward`` and ``predict``
            never drop unless given masks.
    """

    sizes: tuple[int, ...]
    activations: tuple[Activation, ...]
    loss: Loss
    dropout: tuple[float, ...] = ()

    @property
    def n_layers(self) -> int:
        """Number of ``Dense`` layers."""
        return len(self.sizes) - 1

    @property
    def output(self) -> Activation:
        """The output layer's activation."""
        return self.activations[-1]

    @property
    def fused(self) -> bool:
        """True when the output activation is the loss's link: ``dZ = (A - Y) / m``."""
        return self.output == self.loss.link


def mlp(
    sizes: Sequence[int],
    *,
    hidden: Activation | ActivationName | Sequence[Activation | ActivationName] = relu,
    output: Activation | ActivationName,
    loss: Loss | LossName,
    dropout: float | Sequence[float] | np.ndarray[Any, Any] = 0.0,
) -> MLP:
    """Describe a network: layer sizes, hidden activations, output activation and loss.

    Args:
        sizes: ``[n_in, n_hidden..., n_out]``, at least two positive integers.
        hidden: one activation for every hidden layer, or one per hidden layer; an
            ``Activation`` or its name.
        output: the output layer's activation, or its name.
        loss: the loss to train with, or its name.
        dropout: the rate in ``[0, 1)`` at which training drops each hidden layer's
            outputs (inverted dropout, masks drawn from the run's seed, epoch and step),
            one for every hidden layer or one per hidden layer. Rates of 0 everywhere
            give the spec without dropout, the same value as leaving it out.

    >>> import fcfun
    >>> spec = fcfun.mlp([4, 8, 3], output=fcfun.softmax, loss=fcfun.softmax_cross_entropy)
    >>> [a.name for a in spec.activations], spec.fused
    (['relu', 'softmax'], True)
    >>> fcfun.mlp([4, 8, 3], hidden="tanh", output="softmax", loss="softmax_cross_entropy") == (
    ...     fcfun.mlp([4, 8, 3], hidden=fcfun.tanh, output=fcfun.softmax,
    ...               loss=fcfun.softmax_cross_entropy))
    True
    """
    checked = check_sizes(sizes)
    n_hidden = len(checked) - 2
    if isinstance(hidden, Activation | str):
        hidden_activations = (_activation_arg(hidden, "hidden"),) * n_hidden
    else:
        if not isinstance(hidden, Sequence):
            raise TypeError(
                f"hidden must be an Activation, a name or a sequence of them, "
                f"got {describe(hidden)}"
            )
        hidden_activations = tuple(_activation_arg(a, f"hidden[{i}]") for i, a in enumerate(hidden))
        if len(hidden_activations) != n_hidden:
            raise ValueError(
                f"hidden must be one activation or a sequence of {n_hidden} (one per hidden "
                f"layer of sizes {checked}), got {len(hidden_activations)}"
            )
    output_activation = _activation_arg(output, "output")
    if isinstance(loss, str):
        loss = parse_loss(loss)
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be an fcfun Loss or a loss name, got {describe(loss)}")
    if checked[-1] < loss.min_outputs:
        raise ValueError(
            f"sizes[-1] must be at least {loss.min_outputs} for {loss.name} (one output per "
            f"class), got {checked[-1]}; for two classes use one output with sigmoid and "
            "binary_cross_entropy"
        )
    rates = check_rates(dropout, n_hidden)
    return MLP(checked, (*hidden_activations, output_activation), loss, rates)


def _activation_arg(value: object, name: str) -> Activation:
    if isinstance(value, str):
        return parse_activation(value)
    if not isinstance(value, Activation):
        raise TypeError(
            f"{name} must be an fcfun Activation or an activation name, got {describe(value)}"
        )
    return value


# The names codec ---------------------------------------------------------------------


class SpecNames(NamedTuple):
    """A spec as plain values: sizes, activation names, the loss name and dropout rates."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    dropout: tuple[float, ...] = ()


def spec_names(spec: MLP) -> SpecNames:
    """``spec`` as names, refusing any activation or loss that its name does not bring back.

    Raises:
        ValueError: a user-defined activation or loss (named ``where`` in the spec): a
            name would load as a different function, or as nothing.

    >>> import fcfun
    >>> spec_names(fcfun.mlp([2, 1], output="sigmoid", loss="binary_cross_entropy"))
    SpecNames(sizes=(2, 1), activations=('sigmoid',), loss='binary_cross_entropy', dropout=())
    """
    spec = check_spec(spec)
    for i, activation in enumerate(spec.activations):
        if not is_builtin_activation(activation):
            raise ValueError(
                f"spec.activations[{i}] must be one of fcfun's own activations to be stored "
                f"by name, got a user-defined one named {activation.name!r}"
            )
    if not is_builtin_loss(spec.loss):
        raise ValueError(
            "spec.loss must be one of fcfun's own losses to be stored by name, got a "
            f"user-defined one named {spec.loss.name!r}"
        )
    return SpecNames(
        spec.sizes, tuple(a.name for a in spec.activations), spec.loss.name, spec.dropout
    )


def spec_from_names(names: SpecNames) -> MLP:
    """The spec that ``spec_names`` turned into ``names``.

    >>> import fcfun
    >>> spec = fcfun.mlp([3, 4, 2], hidden="tanh", output="softmax", loss="softmax_cross_entropy")
    >>> spec_from_names(spec_names(spec)) == spec
    True
    """
    if len(names.activations) != len(names.sizes) - 1:
        raise ValueError(
            f"spec must name {len(names.sizes) - 1} activations for sizes {names.sizes}, "
            f"got {len(names.activations)}"
        )
    return mlp(
        names.sizes,
        hidden=[parse_activation(a) for a in names.activations[:-1]],
        output=parse_activation(names.activations[-1]),
        loss=parse_loss(names.loss),
        dropout=names.dropout or 0.0,
    )


# Checks that need the spec ---------------------------------------------------------


def check_spec(spec: object) -> MLP:
    """An ``MLP``, or a ``TypeError``."""
    if not isinstance(spec, MLP):
        raise TypeError(f"spec must be an fcfun MLP (from fcfun.mlp), got {describe(spec)}")
    if spec.dropout and check_rates(spec.dropout, len(spec.sizes) - 2) != spec.dropout:
        raise ValueError(
            f"spec.dropout must be () or one float rate in [0, 1) per hidden layer, not all "
            f"0 (as fcfun.mlp makes it), got {spec.dropout!r}"
        )
    return spec


def params_dtype(spec: MLP, params: object) -> np.dtype[Any]:
    """Check ``params`` against ``spec`` and return their common float dtype."""
    if not isinstance(params, tuple) or not all(isinstance(p, Dense) for p in params):
        raise TypeError(
            f"params must be a tuple of Dense(W, b), one per layer, got {describe(params)}"
        )
    if len(params) != spec.n_layers:
        raise ValueError(
            f"params must hold {spec.n_layers} layers for sizes {spec.sizes}, got {len(params)}"
        )
    dtype = None
    for i, (layer, n_in, n_out) in enumerate(zip(params, spec.sizes, spec.sizes[1:], strict=False)):
        for field, array, shape in (("W", layer.W, (n_in, n_out)), ("b", layer.b, (n_out,))):
            where = f"params[{i}].{field}"
            if not isinstance(array, np.ndarray):
                raise TypeError(f"{where} must be a numpy array, got {describe(array)}")
            if array.dtype not in (np.float32, np.float64):
                raise TypeError(f"{where} must have dtype float32 or float64, got {array.dtype}")
            if array.shape != shape:
                raise ValueError(f"{where} must have shape {shape}, got {array.shape}")
            if dtype is None:
                dtype = array.dtype
            elif array.dtype != dtype:
                raise TypeError(
                    f"{where} must have the dtype of params[0].W, {dtype} (all params "
                    f"share one dtype), got {array.dtype}"
                )
            if not np.isfinite(array).all():
                raise ValueError(f"{where} must be finite, got NaN or inf")
    assert dtype is not None
    result: np.dtype[Any] = dtype
    return result


def check_targets(
    spec: MLP, Y: object, m: int, dtype: np.dtype[Any], name: str = "Y"
) -> FloatArray:
    """Targets for ``spec``'s loss, as a float array ``(m, n_out)`` of ``dtype``.

    The rows are checked here; the rest is the loss's own preparation (``Loss.targets``):
    integer class labels become one-hot rows for softmax cross-entropy, a 1-D ``Y``
    becomes a column when the network has one output.
    """
    array = real_array(Y, name)
    if array.ndim == 0 or array.ndim > 2 or array.shape[0] != m:
        raise ValueError(f"{name} must have {m} rows, one per sample of X, got shape {array.shape}")
    return spec.loss.targets(array, spec.sizes[-1], dtype, name)


def check_sample_weight(
    spec: MLP, sample_weight: object, m: int, dtype: np.dtype[Any], name: str = "sample_weight"
) -> FloatArray | None:
    """``None``, or the samples' weights as a read-only ``(m,)`` array of ``dtype``: finite,
    non-negative and not all zero, for a loss that has per-sample values."""
    if sample_weight is None:
        return None
    rows = spec.loss.link_rows if spec.fused else spec.loss.rows
    if rows is None:
        field = "link_rows" if spec.fused else "rows"
        raise ValueError(
            f"{name} needs a loss with per-sample values (Loss.{field}) to weight them, got "
            f"{spec.loss.name} without"
        )
    array = real_array(sample_weight, name)
    if array.shape != (m,):
        raise ValueError(
            f"{name} must have shape ({m},), one weight per sample of X, got shape {array.shape}"
        )
    weight = cast_finite(array, dtype, name)
    if (weight < 0).any():
        raise ValueError(
            f"{name} must be non-negative, got {float(weight.min())!r} at index "
            f"{int(np.argmin(weight))}"
        )
    if not weight.any():
        raise ValueError(f"{name} must have a positive sum, got all {m} weights zero")
    return freeze(weight.copy() if weight is sample_weight else weight)


def scaled_weight(weight: FloatArray) -> tuple[FloatArray, int]:
    """Checked samples' weights ``s`` times ``2**-e``, the power of two that puts the largest
    in ``[0.5, 1)``, and ``e``; once per call or per run (``scaled_alpha`` scales the L2
    term's ``alpha`` with them).

    The weighted mean ``sum_i s_i l_i / sum_i s_i`` depends only on the weights' ratios,
    but its sums overflow for weights near the dtype's largest value and lose digits for
    subnormal ones; scaled, they cannot. A power of two is exact, so the loss, its
    gradient and a run's every bit are those of the unscaled weights whenever those
    stayed within range, and the same for ``s`` and ``2**k s``. A weight whose ratio to
    the largest is below the dtype's smallest normal number (2.2e-308 for float64,
    1.2e-38 for float32) is rounded to a subnormal, and one below its smallest subnormal
    (4.9e-324, 1.4e-45) becomes 0.
    """
    exponent = int(np.frexp(weight.max())[1])
    if exponent == 0:  # the largest is in [0.5, 1) already
        return weight, 0
    return freeze(np.ldexp(weight, -exponent)), exponent


def scaled_alpha(alpha: float, exponent: int) -> float:
    """``alpha * 2**-exponent``: the L2 term ``alpha / (2 sum_i s_i)`` (scikit-learn's
    convention, which depends on the weights' scale) of the weights as given, for weights
    ``scaled_weight`` scaled by ``2**-exponent`` (exact). For weights so small that this
    is beyond the float range the L2 term is too: ``inf``, refused as an overflow."""
    with np.errstate(over="ignore"):
        return float(np.ldexp(alpha, -exponent))
