"""What a training run carries from epoch to epoch."""

from __future__ import annotations

from typing import Any, NamedTuple

from fcfun._types import Params


class History(NamedTuple):
    """Per-epoch records, one entry per completed epoch.

    Attributes:
        train_loss: mean training loss over the epoch's batches (weighted by batch size),
            with the parameters as they were during each step.
        val_loss: loss on the validation data after the epoch (empty without validation).
        val_metric: the validation metric after the epoch (empty without validation).
    """

    train_loss: tuple[float, ...] = ()
    val_loss: tuple[float, ...] = ()
    val_metric: tuple[float, ...] = ()


class TrainState(NamedTuple):
    """Everything a run needs to continue: ``fit`` from a ``TrainState`` resumes it.

    Attributes:
        params: the network's parameters after ``epoch`` epochs.
        opt_state: the optimizer's state (a NamedTuple of the optimizer's choosing).
        epoch: number of completed epochs; the next epoch's sample order is a function of
            ``(seed, epoch)``.
        seed: the run's seed.
        history: per-epoch losses and metrics.
    """

    params: Params
    opt_state: Any
    epoch: int
    seed: int
    history: History
