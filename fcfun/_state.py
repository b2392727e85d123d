"""What a training run carries from epoch to epoch."""

from __future__ import annotations

from typing import Generic, Literal, NamedTuple, TypeAlias, TypeVar

from fcfun._types import Params

S = TypeVar("S")
"""The optimizer state's type."""


class History(NamedTuple):
    """Per-epoch records, one entry per completed epoch.

    Attributes:
        train_loss: mean training loss over the epoch's batches (each batch weighted by its
            number of rows), each computed with the parameters of its step.
        val_loss: loss on the validation data after the epoch (empty without validation).
        val_metric: the validation metric after the epoch (empty without validation).
    """

    train_loss: tuple[float, ...] = ()
    val_loss: tuple[float, ...] = ()
    val_metric: tuple[float, ...] = ()


class TrainState(NamedTuple, Generic[S]):
    """Everything a run needs to continue: ``fit`` from a ``TrainState`` resumes it.

    Attributes:
        params: the network's parameters after ``epoch`` epochs.
        opt_state: the optimizer's state.
        epoch: number of completed epochs; epoch ``e``'s sample order is a function of
            ``(seed, e)`` alone.
        seed: the run's seed.
        history: per-epoch losses and metrics.
    """

    params: Params
    opt_state: S
    epoch: int
    seed: int
    history: History


Monitor: TypeAlias = Literal["val_loss", "val_metric", "train_loss"]
"""What a rule that reads the history (early stopping, a plateau) watches."""

_MONITORS = ("val_loss", "val_metric", "train_loss")


def check_monitor(monitor: object, name: str, has_validation: bool) -> None:
    """A ``Monitor``, and one that has data: the validation ones need validation data."""
    if monitor not in _MONITORS:
        raise ValueError(
            f"{name} must be 'val_loss', 'val_metric' or 'train_loss', got {monitor!r}"
        )
    if monitor != "train_loss" and not has_validation:
        raise ValueError(
            f"{name}={monitor!r} needs validation data, got validation=None; pass "
            "validation=(X_val, Y_val) or monitor='train_loss'"
        )


def watched(history: History, monitor: Monitor) -> tuple[float, ...]:
    """The values ``monitor`` names, one per epoch, oriented so that lower is better."""
    if monitor == "val_metric":
        return tuple(-value for value in history.val_metric)
    return history.val_loss if monitor == "val_loss" else history.train_loss
