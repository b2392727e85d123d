"""Replayable dropout: every mask is a pure function of (seed, epoch, step, layer, row).

Inverted dropout at rate ``p`` multiplies a hidden layer's output by a mask whose entries
are ``0`` (dropped, with probability ``p``) or ``1 / (1 - p)`` (kept), so the expected
output is unchanged and nothing is rescaled at prediction time.

No generator object is carried or mutated. The mask of hidden layer ``l`` in step
``step`` of epoch ``epoch`` of the run with seed ``seed`` is read from the stream
``PCG64(SeedSequence([seed, epoch, step, l, TAG]))``: one float64 uniform ``u`` per
entry, row after row, and the entry is kept when ``u >= p``. Entry ``(i, j)`` of a batch
of width ``n`` is the stream's value number ``i * n + j``, so the rows ``[a, b)`` of a
batch are drawn alone by advancing the stream ``a * n`` values: a shard of a batch draws
exactly the masks the whole batch has on its rows, and a run resumed from a checkpoint
draws what the uninterrupted run drew.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from fcfun._types import FloatArray, freeze
from fcfun._validation import check_int, check_real, check_seed, describe

_TAG = 0x64726F70  # "drop": keeps these streams apart from every other seed-derived one
"""Last word of every mask stream's seed."""

_SHIFT = 11
_UNITS = 2.0**53
"""A float64 uniform is the top 53 bits of a raw 64-bit word, times 2**-53."""

Masks = tuple[FloatArray | None, ...]
"""One mask per hidden layer (``None`` where its rate is 0); ``()``: no dropout."""


class StepKey(NamedTuple):
    """Which step of which run a batch belongs to: what its dropout masks are drawn from.

    Attributes:
        seed: the run's seed.
        epoch: the epoch (0-based).
        step: the step within the epoch (0-based).
        offset: the batch's first row within the step's rows (a shard of a full batch
            starts at the rows before it; ``0`` for a whole batch).
    """

    seed: int
    epoch: int
    step: int
    offset: int = 0


def check_rates(dropout: object, n_hidden: int) -> tuple[float, ...]:
    """Per-hidden-layer rates from one rate or a sequence of them, each in ``[0, 1)``;
    ``()`` when every rate is 0 (no dropout at all)."""
    numeric = int | float | np.integer | np.floating
    if isinstance(dropout, np.ndarray) and dropout.ndim <= 1:  # scikit-learn users pass arrays
        dropout = dropout.tolist()
    if isinstance(dropout, bool | str) or not isinstance(dropout, numeric | Sequence):
        raise TypeError(
            f"dropout must be a rate in [0, 1) or a sequence of {n_hidden} (one per hidden "
            f"layer), got {describe(dropout)}"
        )
    if isinstance(dropout, Sequence):
        rates = tuple(dropout)
        if len(rates) != n_hidden:
            raise ValueError(
                f"dropout must be one rate or a sequence of {n_hidden} (one per hidden "
                f"layer), got {len(rates)}"
            )
    elif n_hidden == 0 and dropout != 0:
        raise ValueError(
            f"dropout must be 0 for a network without hidden layers (it drops hidden "
            f"outputs), got {dropout!r}"
        )
    else:
        rates = (dropout,) * n_hidden
    checked = tuple(
        check_real(rate, f"dropout[{i}]", low=0.0, high=1.0, high_open=True)
        for i, rate in enumerate(rates)
    )
    return checked if any(checked) else ()


def layer_mask(
    rate: float, key: StepKey, layer: int, rows: int, width: int, dtype: np.dtype[Any]
) -> FloatArray | None:
    """The inverted-dropout mask of hidden layer ``layer`` for ``rows`` rows from
    ``key.offset`` on: a new writeable ``(rows, width)`` array of 0 and ``1 / (1 - rate)``
    in ``dtype``, or ``None`` at rate 0."""
    if rate == 0.0:
        return None
    stream = np.random.PCG64(np.random.SeedSequence([key.seed, key.epoch, key.step, layer, _TAG]))
    if key.offset:
        stream.advance(key.offset * width)
    # The uniform a float64 draw makes of a raw word r is (r >> 11) * 2**-53, so u >= rate
    # is (r >> 11) >= t with t = ceil(rate * 2**53) (a power-of-two scaling: exact), which
    # is r >= t << 11: compared as integers, without forming the floats.
    keep = stream.random_raw((rows, width)) >= np.uint64(math.ceil(rate * _UNITS) << _SHIFT)
    mask: FloatArray = np.multiply(keep, dtype.type(1.0 / (1.0 - rate)), dtype=dtype)
    return mask


def step_masks(
    rates: tuple[float, ...],
    widths: tuple[int, ...],
    key: StepKey,
    rows: int,
    dtype: np.dtype[Any],
) -> Masks:
    """Every hidden layer's mask for one batch (unchecked; ``()`` without dropout)."""
    return tuple(
        layer_mask(rate, key, layer, rows, width, dtype)
        for layer, (rate, width) in enumerate(zip(rates, widths, strict=True))
    )


def check_key(key: object) -> StepKey:
    """A ``StepKey`` of non-negative integers."""
    if not isinstance(key, StepKey):
        raise TypeError(f"key must be an fcfun StepKey(seed, epoch, step), got {describe(key)}")
    return StepKey(
        check_seed(key.seed),
        check_int(key.epoch, "key.epoch", minimum=0),
        check_int(key.step, "key.step", minimum=0),
        check_int(key.offset, "key.offset", minimum=0),
    )


def sealed(masks: Masks) -> Masks:
    """``masks`` made read-only (for a public result)."""
    return tuple(None if mask is None else freeze(mask) for mask in masks)
