"""fcfun's own exceptions."""

from __future__ import annotations

from typing import Any

from fcfun._state import TrainState


class DivergenceError(ArithmeticError):
    """Training produced a non-finite loss or parameter; nothing learned is lost.

    Attributes:
        epoch: the epoch (0-based) in which it happened.
        step: the step within that epoch (0-based).
        state: the last state whose parameters and optimizer state are finite: the state
            before the step that went wrong. Its ``epoch`` counts completed epochs, so when
            ``step > 0`` its parameters are part-way through epoch ``epoch``. When what
            diverged is the validation loss, it is that epoch's finished state: finite
            parameters, its validation scores nan.
    """

    def __init__(
        self, epoch: int, step: int, loss: float, state: TrainState[Any], what: str = ""
    ) -> None:
        super().__init__(
            f"training diverged in epoch {epoch}, step {step}: {what or f'loss {loss!r}'}; "
            "the last finite state is in .state"
        )
        self.epoch = epoch
        self.step = step
        self.loss = loss
        self.state = state
