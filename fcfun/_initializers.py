"""Weight initializers: pure functions of an explicit seed.

Each initializer is ``(seed, fan_in, fan_out, dtype) -> W`` with ``W`` of shape
``(fan_in, fan_out)``. Values are drawn in float64 from ``np.random.default_rng(seed)``
and rounded to ``dtype``, so a float32 network starts at the rounded float64 one.
``fcfun.init`` gives each layer its own stream, ``SeedSequence(seed).spawn(n_layers)``.
"""

from __future__ import annotations

import math
from typing import Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from fcfun._types import FloatArray, FloatDType

Seed: TypeAlias = int | np.random.SeedSequence
"""A non-negative integer seed, or a ``SeedSequence`` spawned from one."""


class Initializer(Protocol):
    """``(seed, fan_in, fan_out, dtype) -> W``, a pure function of its arguments."""

    def __call__(
        self, seed: Seed, fan_in: int, fan_out: int, dtype: FloatDType = np.float64
    ) -> FloatArray: ...


def _draw(values: npt.NDArray[np.float64], dtype: FloatDType) -> FloatArray:
    W: FloatArray = values.astype(dtype, copy=False)
    W.flags.writeable = False
    return W


def lecun_normal(
    seed: Seed, fan_in: int, fan_out: int, dtype: FloatDType = np.float64
) -> FloatArray:
    """``N(0, 1) / sqrt(fan_in)``: the seed notebook's ``randn / sqrt(n_prev)``.

    >>> lecun_normal(0, 3, 2).shape
    (3, 2)
    >>> bool((lecun_normal(7, 4, 4) == lecun_normal(7, 4, 4)).all())
    True
    """
    rng = np.random.default_rng(seed)
    return _draw(rng.standard_normal((fan_in, fan_out)) / math.sqrt(fan_in), dtype)


def he_normal(seed: Seed, fan_in: int, fan_out: int, dtype: FloatDType = np.float64) -> FloatArray:
    """``N(0, 2 / fan_in)`` (He et al. 2015), for relu layers."""
    rng = np.random.default_rng(seed)
    return _draw(rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in), dtype)


def he_uniform(seed: Seed, fan_in: int, fan_out: int, dtype: FloatDType = np.float64) -> FloatArray:
    """``U(-r, r)`` with ``r = sqrt(6 / fan_in)`` (He et al. 2015)."""
    rng = np.random.default_rng(seed)
    bound = math.sqrt(6.0 / fan_in)
    return _draw(rng.uniform(-bound, bound, (fan_in, fan_out)), dtype)


def glorot_uniform(
    seed: Seed,
    fan_in: int,
    fan_out: int,
    dtype: FloatDType = np.float64,
    *,
    factor: float = 6.0,
) -> FloatArray:
    """``U(-r, r)`` with ``r = sqrt(factor / (fan_in + fan_out))`` (Glorot & Bengio 2010).

    ``factor=6`` is Glorot's; scikit-learn's MLP uses ``factor=2`` for logistic layers
    (``functools.partial(glorot_uniform, factor=2.0)``).
    """
    rng = np.random.default_rng(seed)
    bound = math.sqrt(factor / (fan_in + fan_out))
    return _draw(rng.uniform(-bound, bound, (fan_in, fan_out)), dtype)


def glorot_normal(
    seed: Seed, fan_in: int, fan_out: int, dtype: FloatDType = np.float64
) -> FloatArray:
    """``N(0, 2 / (fan_in + fan_out))`` (Glorot & Bengio 2010)."""
    rng = np.random.default_rng(seed)
    scale = math.sqrt(2.0 / (fan_in + fan_out))
    return _draw(rng.standard_normal((fan_in, fan_out)) * scale, dtype)


def zeros(n_out: int, dtype: FloatDType = np.float64) -> FloatArray:
    """A read-only zero bias of shape ``(n_out,)``."""
    b = np.zeros(n_out, dtype=dtype)
    b.flags.writeable = False
    return b
