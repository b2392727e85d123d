"""What a training run carries from epoch to epoch."""

from __future__ import annotations

from typing import Generic, NamedTuple, TypeVar

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
