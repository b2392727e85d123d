r"""L-BFGS: a full-batch quasi-Newton optimizer with a Moré–Thuente line search.

``lbfgs()`` is an ``Optimizer`` whose step needs the objective, not only a gradient: it
fills ``Optimizer.step_with_objective``, and the training step hands it the batch's
``params -> (loss, grads)``. One step is one L-BFGS iteration: a direction from the
curvature pairs (Nocedal & Wright, *Numerical Optimization*, Algorithm 7.4, the two-loop
recursion), then a line search along it that evaluates the objective as often as it
needs (loss and gradient together, never the loss alone).

The iteration is L-BFGS-B's (Byrd, Lu, Nocedal & Zhu 1995; version 3.0, which
``scipy.optimize.minimize(method="L-BFGS-B")`` runs and scikit-learn's ``solver='lbfgs'``
calls) for a problem without bounds, so that from the same weights the two follow the
same iterates to rounding:

* the first direction is ``-g`` with the step ``1 / ||g||``; later ones are
  ``d = -H g`` with ``H_0 = (s'y / y'y) I`` from the newest pair, and the step starts at 1;
* the line search is MINPACK-2's ``dcsrch`` / ``dcstep`` (Moré & Thuente 1994),
  transcribed here, with L-BFGS-B's constants: ``ftol = 1e-3`` (sufficient decrease),
  ``gtol = 0.9`` (curvature), ``xtol = 0.1``, steps in ``[0, 1e10]``, at most
  ``max_line_search`` evaluations;
* a pair is stored only when ``s'y > eps * (-g'd) * step`` (machine ``eps``), else skipped;
* a failed search (no acceptable step in ``max_line_search`` evaluations, an ascent
  direction, a non-finite loss at a trial point) forgets the pairs and retries from the
  same point with ``-g``; failing again without pairs ends the run at that point;
* after each iteration, in this order: more than ``max_fun`` evaluations stops; then
  ``max |g| <= gtol`` or a relative reduction ``(f_old - f) / max(|f_old|, |f|, 1) <= ftol``
  is convergence.

L-BFGS-B computes ``H g`` from its compact representation and the two-loop recursion
computes the same vector with other roundings, so the two agree to rounding, not bit for
bit (``tests/test_lbfgs.py`` states the tolerances). No scipy is needed: the core imports
numpy and toolz only.

The state is a ``LbfgsState``: the step count, the curvature pairs in fixed-size arrays
(so a checkpointed state has the shape of ``init``'s), and the loss and gradient at the
point the last step reached, which the next step reuses instead of evaluating the
objective again when it starts from those parameters (optax's L-BFGS keeps them the same
way). So the objective must be the same function from step to step: L-BFGS is a
full-batch method (``batch_size`` at least the row count, as ``fcfun.fit_sharded``
always is) on a network without dropout (whose masks change the objective every step).
All vectors are float64 whatever the parameters' dtype (as in L-BFGS-B); float32
parameters are evaluated at the float32 rounding of each point.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from fcfun._flat import owned
from fcfun._optimizers import Objective, Optimizer, state_says
from fcfun._types import Dense, FloatArray, Params, freeze
from fcfun._validation import check_int, check_real

_EPSILON = float(np.finfo(np.float64).eps)
_BIG = 1e10
"""L-BFGS-B's largest step for a problem without bounds."""
_FTOL, _GTOL, _XTOL = 1e-3, 0.9, 0.1
"""L-BFGS-B's line-search constants: sufficient decrease, curvature, interval width."""

RUNNING = ""
"""``LbfgsState.status`` of a run that goes on."""


class LbfgsState(NamedTuple):
    """The state of ``lbfgs``: curvature pairs, step count and the last evaluation.

    Attributes:
        step: iterations done (points accepted), as scikit-learn's ``n_iter_``.
        evaluations: objective evaluations so far (scipy's ``nfev``).
        s: ``(memory, n)`` position differences ``x_{k+1} - x_k``; the last ``pairs`` rows
            hold the newest pairs, oldest first.
        y: ``(memory, n)`` gradient differences ``g_{k+1} - g_k``, rows as ``s``.
        sy: ``(memory,)`` the curvatures ``s_i' y_i``.
        pairs: how many rows of ``s``, ``y``, ``sy`` hold pairs.
        gamma: ``H_0``'s scale ``s'y / y'y`` of the newest pair (1 without pairs).
        x: ``(n,)`` the point last evaluated and accepted (float64; the parameters are its
            rounding to their dtype), all ``W`` then all ``b``, as scikit-learn packs them.
        loss: the objective at ``x``; NaN before the first evaluation.
        grad: ``(n,)`` its gradient.
        status: ``""`` while running, else why the run stopped: ``"converged: gradient"``,
            ``"converged: relative reduction"``, ``"max_fun"`` or ``"line search failed"``.
    """

    step: int
    evaluations: int
    s: FloatArray
    y: FloatArray
    sy: FloatArray
    pairs: int
    gamma: float
    x: FloatArray
    loss: float
    grad: FloatArray
    status: str

    def check(self, where: str) -> None:
        """Refuse a state no run produces (see ``check_state``); ``where`` names it."""
        check_state(self, where)

    def finished(self) -> bool:
        """Whether the run has stopped (its ``status`` is set): ``fit`` ends after the
        epoch whose state is finished, and a finished state continued trains nothing."""
        return self.status != RUNNING

    def fixed_objective(self) -> bool:
        """Always: the iteration reuses the loss and gradient of its last point, so it
        assumes one objective throughout (``fit`` refuses mini-batches and dropout)."""
        return True


STATUSES = (
    RUNNING,
    "converged: gradient",
    "converged: relative reduction",
    "max_fun",
    "line search failed",
)
"""Every ``LbfgsState.status`` a run sets."""


def check_state(state: LbfgsState, where: str) -> None:
    """Refuse an ``LbfgsState`` that no run produces, naming the field.

    What every state of a run holds: ``step``, ``evaluations`` and ``pairs`` are counts,
    with ``evaluations >= step`` (an iteration evaluates at least once) and ``pairs`` at
    most ``step`` and the memory (the rows of ``sy``); ``status`` is one of
    ``STATUSES``; every array is finite, and the newest ``pairs`` curvatures ``sy`` are
    positive (a pair with ``s'y <= 0`` is never kept); ``gamma`` is finite and positive.
    ``loss`` is NaN before the first evaluation (a fresh state, still running) and finite
    after it; a running state that has evaluated has a nonzero gradient (a zero one has
    converged).

    >>> state = lbfgs(memory=3).init((Dense(np.ones((2, 1)), np.zeros(1)),))
    >>> check_state(state, "opt_state")
    >>> check_state(state._replace(pairs=4), "opt_state")
    Traceback (most recent call last):
    ...
    ValueError: opt_state.pairs must be at most the memory 3 and opt_state.step 0, got 4
    """
    step = check_int(state.step, f"{where}.step", minimum=0)
    evaluations = check_int(state.evaluations, f"{where}.evaluations", minimum=0)
    if evaluations < step:
        raise ValueError(
            f"{where}.evaluations must be at least {where}.step {step} (each iteration "
            f"evaluates the objective), got {evaluations}"
        )
    memory = len(state.sy)
    pairs = check_int(state.pairs, f"{where}.pairs", minimum=0)
    if pairs > min(memory, step):
        raise ValueError(
            f"{where}.pairs must be at most the memory {memory} and {where}.step {step}, "
            f"got {pairs}"
        )
    if state.status not in STATUSES:
        raise ValueError(f"{where}.status must be one of {STATUSES}, got {state.status!r}")
    for name in ("s", "y", "sy", "x", "grad"):
        if not np.isfinite(getattr(state, name)).all():
            raise ValueError(f"{where}.{name} must be finite, got NaN or inf")
    curvatures = state.sy[memory - pairs :]
    if pairs and not float(np.min(curvatures)) > 0:
        raise ValueError(
            f"{where}.sy must be > 0 in its newest {pairs} entries (the kept pairs' s'y), "
            f"got {float(np.min(curvatures))!r}"
        )
    check_real(state.gamma, f"{where}.gamma", low=0.0, low_open=True)
    if evaluations == 0:
        if not math.isnan(state.loss) or state.status != RUNNING:
            raise ValueError(
                f"{where}.loss must be NaN and {where}.status {RUNNING!r} before the first "
                f"evaluation ({where}.evaluations 0), got {state.loss!r} and {state.status!r}"
            )
        return
    check_real(state.loss, f"{where}.loss")
    if state.status == RUNNING and not np.any(state.grad):
        raise ValueError(
            f"{where}.grad must be nonzero while the run goes on (a zero gradient has "
            f"converged), got zeros with {where}.status {RUNNING!r}"
        )


# Parameters as one vector ----------------------------------------------------------


def _vector(params: Params) -> FloatArray:
    """All ``W`` then all ``b``, raveled, as one new float64 vector."""
    pieces = [layer.W.ravel() for layer in params] + [layer.b for layer in params]
    return np.concatenate(pieces).astype(np.float64, copy=False)


def _params(x: FloatArray, like: Params) -> Params:
    """``x`` cut back into read-only arrays shaped and typed like ``like``."""
    layers, start = [], sum(layer.W.size for layer in like)
    W_start = 0
    for layer in like:
        W = x[W_start : W_start + layer.W.size].reshape(layer.W.shape)
        b = x[start : start + layer.b.size]
        W_start, start = W_start + layer.W.size, start + layer.b.size
        layers.append(Dense(freeze(W.astype(layer.W.dtype)), freeze(b.astype(layer.b.dtype))))
    return tuple(layers)


# The two-loop recursion ------------------------------------------------------------


def two_loop(
    g: FloatArray, s: FloatArray, y: FloatArray, sy: FloatArray, gamma: float
) -> FloatArray:
    r"""``H g`` for the L-BFGS inverse Hessian of the pairs (Nocedal & Wright, Alg. 7.4).

    .. math::
        q \leftarrow g;\ \alpha_i = \rho_i s_i^\top q,\ q \leftarrow q - \alpha_i y_i
        \ (i = k-1, \dots, k-m);\quad r \leftarrow \gamma q;\
        r \leftarrow r + s_i (\alpha_i - \rho_i y_i^\top r)\ (i = k-m, \dots, k-1)

    with :math:`\rho_i = 1 / s_i^\top y_i` (``sy``). Rows of ``s`` and ``y`` are the pairs,
    oldest first.

    >>> s, y = np.array([[1.0, 0.0]]), np.array([[2.0, 0.0]])
    >>> two_loop(np.array([4.0, 3.0]), s, y, np.array([2.0]), 0.5).tolist()  # H = diag(1/2, 1/2)
    [2.0, 1.5]
    """
    q = np.array(g, dtype=np.float64)
    alphas = []
    for i in range(len(sy) - 1, -1, -1):
        alpha = float(np.dot(s[i], q)) / float(sy[i])
        q -= alpha * y[i]
        alphas.append(alpha)
    q *= gamma
    for i, alpha in zip(range(len(sy)), reversed(alphas), strict=True):
        beta = float(np.dot(y[i], q)) / float(sy[i])
        q += (alpha - beta) * s[i]
    return q


# The line search: MINPACK-2's dcsrch and dcstep -------------------------------------


class _Search(NamedTuple):
    """dcsrch's saved variables between two evaluations."""

    brackt: bool
    stage: int
    finit: float
    ginit: float
    gtest: float
    width: float
    width1: float
    stx: float
    fx: float
    gx: float
    sty: float
    fy: float
    gy: float
    stmin: float
    stmax: float


def _start(f: float, g: float, stp: float) -> _Search:
    """dcsrch's ``task = 'START'`` (the arguments are L-BFGS-B's, so never in error)."""
    return _Search(
        False, 1, f, g, _FTOL * g, _BIG, _BIG / 0.5, 0.0, f, g, 0.0, f, g, 0.0, stp + 4.0 * stp
    )


def dcsrch(search: _Search, stp: float, f: float, g: float) -> tuple[str, float, _Search]:
    """One call of MINPACK-2's ``dcsrch`` after an evaluation: ``(task, stp, search)``.

    ``task`` is ``"FG"`` (evaluate at the new ``stp``), ``"CONVERGENCE"`` or a
    ``"WARNING: ..."``; in the last two ``stp`` is the step just evaluated, which L-BFGS-B
    accepts. ``stpmin = 0`` and ``stpmax = 1e10``.
    """
    s = search
    ftest = s.finit + stp * s.gtest
    stage = 2 if s.stage == 1 and f <= ftest and g >= 0 else s.stage
    task = "FG"
    if s.brackt and (stp <= s.stmin or stp >= s.stmax):
        task = "WARNING: ROUNDING ERRORS PREVENT PROGRESS"
    if s.brackt and s.stmax - s.stmin <= _XTOL * s.stmax:
        task = "WARNING: XTOL TEST SATISFIED"
    if stp == _BIG and f <= ftest and g <= s.gtest:
        task = "WARNING: STP = STPMAX"
    if stp == 0.0 and (f > ftest or g >= s.gtest):
        task = "WARNING: STP = STPMIN"
    if f <= ftest and abs(g) <= _GTOL * -s.ginit:
        task = "CONVERGENCE"
    if task != "FG":
        return task, stp, s._replace(stage=stage)
    stx, fx, gx, sty, fy, gy = s.stx, s.fx, s.gx, s.sty, s.fy, s.gy
    if stage == 1 and f <= fx and f > ftest:
        # The modified function psi(stp) = f(stp) - f(0) - ftol * stp * f'(0).
        stx, fxm, gxm, sty, fym, gym, stp, brackt = dcstep(
            stx, fx - stx * s.gtest, gx - s.gtest, sty, fy - sty * s.gtest, gy - s.gtest,
            stp, f - stp * s.gtest, g - s.gtest, s.brackt, s.stmin, s.stmax,
        )  # fmt: skip
        fx, fy = fxm + stx * s.gtest, fym + sty * s.gtest
        gx, gy = gxm + s.gtest, gym + s.gtest
    else:
        stx, fx, gx, sty, fy, gy, stp, brackt = dcstep(
            stx, fx, gx, sty, fy, gy, stp, f, g, s.brackt, s.stmin, s.stmax
        )
    width, width1 = s.width, s.width1
    if brackt:
        if abs(sty - stx) >= 0.66 * width1:
            stp = stx + 0.5 * (sty - stx)
        width1, width = width, abs(sty - stx)
        stmin, stmax = min(stx, sty), max(stx, sty)
    else:
        stmin, stmax = stp + 1.1 * (stp - stx), stp + 4.0 * (stp - stx)
    stp = min(max(stp, 0.0), _BIG)
    if (brackt and (stp <= stmin or stp >= stmax)) or (brackt and stmax - stmin <= _XTOL * stmax):
        stp = stx
    new = _Search(
        brackt, stage, s.finit, s.ginit, s.gtest, width, width1,
        stx, fx, gx, sty, fy, gy, stmin, stmax,
    )  # fmt: skip
    return "FG", stp, new


def _sqrt(value: float) -> float:
    """Fortran's ``sqrt``: NaN (not an exception) below zero."""
    return math.sqrt(value) if value >= 0 else math.nan


def _sign(value: float) -> float:
    return 1.0 if value > 0 else -1.0 if value < 0 else 0.0


def dcstep(
    stx: float, fx: float, dx: float, sty: float, fy: float, dy: float,
    stp: float, fp: float, dp: float, brackt: bool, stpmin: float, stpmax: float,
) -> tuple[float, float, float, float, float, float, float, bool]:  # fmt: skip
    """MINPACK-2's ``dcstep``: a safeguarded cubic or quadratic step, and the new interval.

    Returns ``(stx, fx, dx, sty, fy, dy, stp, brackt)``.
    """
    sgnd = _sign(dp) * _sign(dx)
    if fp > fx:  # a higher function value: the minimum is bracketed
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * _sqrt((theta / s) ** 2 - (dx / s) * (dp / s))
        if stp < stx:
            gamma = -gamma
        p = (gamma - dx) + theta
        q = ((gamma - dx) + gamma) + dp
        stpc = stx + (p / q) * (stp - stx)
        stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx)
        stpf = stpc if abs(stpc - stx) <= abs(stpq - stx) else stpc + (stpq - stpc) / 2.0
        brackt = True
    elif sgnd < 0.0:  # derivatives of opposite sign: bracketed
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * _sqrt((theta / s) ** 2 - (dx / s) * (dp / s))
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = ((gamma - dp) + gamma) + dx
        stpc = stp + (p / q) * (stx - stp)
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
        brackt = True
    elif abs(dp) < abs(dx):  # same sign, the derivative's magnitude decreases
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * _sqrt(max(0.0, (theta / s) ** 2 - (dx / s) * (dp / s)))
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = (gamma + (dx - dp)) + gamma
        r = p / q
        if r < 0 and gamma != 0:
            stpc = stp + r * (stx - stp)
        elif stp > stx:
            stpc = stpmax
        else:
            stpc = stpmin
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        if brackt:
            stpf = stpc if abs(stpc - stp) < abs(stpq - stp) else stpq
            if stp > stx:
                stpf = min(stp + 0.66 * (sty - stp), stpf)
            else:
                stpf = max(stp + 0.66 * (sty - stp), stpf)
        else:
            stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
            stpf = min(max(stpf, stpmin), stpmax)
    elif brackt:  # same sign, the magnitude does not decrease: a cubic step to sty
        theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp
        s = max(abs(theta), abs(dy), abs(dp))
        gamma = s * _sqrt((theta / s) ** 2 - (dy / s) * (dp / s))
        if stp > sty:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = ((gamma - dp) + gamma) + dy
        stpf = stp + (p / q) * (sty - stp)
    else:
        stpf = stpmax if stp > stx else stpmin
    if fp > fx:
        sty, fy, dy = stp, fp, dp
    else:
        if sgnd < 0.0:
            sty, fy, dy = stx, fx, dx
        stx, fx, dx = stp, fp, dp
    return stx, fx, dx, sty, fy, dy, stpf, brackt


# The optimizer ---------------------------------------------------------------------


class _Point(NamedTuple):
    """An accepted point of a line search: where, the loss and gradient, and the step."""

    x: FloatArray
    loss: float
    grad: FloatArray
    stp: float
    gd: float


def lbfgs(
    memory: int = 10,
    gtol: float = 1e-5,
    ftol: float = 2.220446049250313e-09,
    max_fun: int = 15000,
    max_line_search: int = 20,
) -> Optimizer[LbfgsState]:
    r"""L-BFGS for a full-batch objective, with L-BFGS-B's iteration and line search.

    .. math::
        d_k = -H_k g_k, \qquad x_{k+1} = x_k + t_k d_k

    ``H_k`` is the inverse Hessian approximation of the last ``memory`` pairs
    ``(s_i, y_i) = (x_{i+1} - x_i, g_{i+1} - g_i)`` (two-loop recursion) and ``t_k`` a step
    satisfying the strong Wolfe conditions
    ``f(x_k + t d) <= f(x_k) + 10^{-3} t g_k'd`` and ``|g(x_k + t d)'d| <= 0.9 |g_k'd|``,
    found by the Moré–Thuente search (the module docstring has every rule). One training
    step is one iteration; use it with ``batch_size`` at least the row count (``fit``) or
    with ``fit_sharded``. The run ends (``fit`` stops training) once the state's
    ``status`` is set: convergence, ``max_fun``, or a line search that failed.

    scipy's names: ``memory`` is ``maxcor``, ``max_fun`` ``maxfun``, ``max_line_search``
    ``maxls``; ``gtol`` and ``ftol`` are scipy's (scikit-learn passes its ``tol`` as
    ``gtol``).

    Args:
        memory: how many curvature pairs to keep, ``>= 1``.
        gtol: stop when the largest gradient entry is at most this, ``>= 0``.
        ftol: stop when the relative reduction of the loss is at most this, ``>= 0``.
        max_fun: stop after the iteration in which the evaluations exceed this, ``>= 1``.
        max_line_search: evaluations per line search, ``>= 1``.

    Returns:
        An optimizer whose state is ``LbfgsState``; it steps through
        ``step_with_objective`` (its ``update`` refuses: it needs the objective).

    >>> import fcfun
    >>> spec = fcfun.mlp([2, 1], output="identity", loss="half_squared_error")
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> state = fcfun.fit(spec, X, X @ [2.0, -1.0] + 0.5, optimizer=lbfgs(gtol=1e-9), epochs=50,
    ...                   batch_size=3, shuffle=False, seed=0)
    >>> np.round(state.params[0].W[:, 0], 4).tolist(), state.opt_state.status[:9]
    ([2.0, -1.0], 'converged')
    """
    m = check_int(memory, "memory", minimum=1)
    gradient_tolerance = check_real(gtol, "gtol", low=0.0)
    reduction_tolerance = check_real(ftol, "ftol", low=0.0)
    most_evaluations = check_int(max_fun, "max_fun", minimum=1)
    line_search_evaluations = check_int(max_line_search, "max_line_search", minimum=1)

    def init(params: Params) -> LbfgsState:
        n = sum(layer.W.size + layer.b.size for layer in params)
        zeros = freeze(np.zeros(n))
        pairs = freeze(np.zeros((m, n)))
        return LbfgsState(
            0, 0, pairs, pairs, freeze(np.zeros(m)), 0, 1.0, zeros, math.nan, zeros, RUNNING
        )

    def update(grads: Params, state: LbfgsState, params: Params) -> tuple[Params, LbfgsState]:
        raise TypeError(
            "optimizer must be stepped with its objective (lbfgs needs loss evaluations "
            "for its line search): train with fcfun.fit, fcfun.train_step or "
            "fcfun.distributed.fit_sharded, got a call of update(grads, ...)"
        )

    def evaluate(objective: Objective, x: FloatArray, like: Params) -> tuple[float, FloatArray]:
        """The loss and gradient at ``x`` (rounded to the params' dtype); an overflow is an
        infinite loss."""
        try:
            loss, grads = objective(_params(x, like))
        except FloatingPointError:
            return math.inf, x
        return float(loss), _vector(grads)

    def search(
        objective: Objective, like: Params, x: FloatArray, f: float, g: FloatArray,
        d: FloatArray, stp: float,
    ) -> tuple[_Point | None, int]:  # fmt: skip
        """L-BFGS-B's ``lnsrlb``: the accepted point (None: failed) and the evaluations."""
        gd = float(np.dot(g, d))
        if not gd < 0:  # not a descent direction (or NaN)
            return None, 0
        state = _start(f, gd, stp)
        evaluations = 0
        while True:
            if evaluations >= line_search_evaluations:
                return None, evaluations
            x_trial = x + d if stp == 1.0 else stp * d + x
            loss, grad = evaluate(objective, x_trial, like)
            evaluations += 1
            if not math.isfinite(loss):
                return None, evaluations
            gd_trial = float(np.dot(grad, d))
            task, next_stp, state = dcsrch(state, stp, loss, gd_trial)
            if task != "FG":  # converged, or a warning: L-BFGS-B takes the point either way
                return _Point(x_trial, loss, grad, stp, gd_trial), evaluations
            stp = next_stp

    def step(
        objective: Objective, state: LbfgsState, params: Params
    ) -> tuple[float, Params, LbfgsState]:
        if state.status != RUNNING:  # finished: report the loss, stay
            loss, _ = objective(params)
            return float(loss), params, state
        evaluations = state.evaluations
        here = _vector(params)
        cached = math.isfinite(state.loss) and np.array_equal(
            here, _vector(_params(state.x, params))
        )
        if cached:
            x, f, g = state.x, state.loss, state.grad
        else:
            loss, grads = objective(params)  # an overflow here is the step's to report
            x, f, g = here, float(loss), _vector(grads)
            evaluations += 1
            if not math.isfinite(f):
                return f, params, state
            if float(np.max(np.abs(g), initial=0.0)) <= gradient_tolerance:
                done = state._replace(
                    evaluations=evaluations, x=freeze(x), loss=f, grad=freeze(g),
                    status="converged: gradient",
                )  # fmt: skip
                return f, params, done
        s, y, sy, pairs, gamma = state.s, state.y, state.sy, state.pairs, state.gamma
        while True:
            newest = slice(m - pairs, m)
            d = -two_loop(g, s[newest], y[newest], sy[newest], gamma) if pairs else -g
            stp = min(1.0 / float(np.linalg.norm(d)), _BIG) if state.step == 0 else 1.0
            point, used = search(objective, params, x, f, g, d, stp)
            evaluations += used
            if point is not None:
                break
            if pairs == 0:  # steepest descent failed too: stop where we are
                failed = state._replace(
                    evaluations=evaluations, x=freeze(x), loss=f, grad=freeze(g),
                    status="line search failed",
                )  # fmt: skip
                return f, params, failed
            pairs, gamma = 0, 1.0  # forget the pairs and retry along -g
        status = RUNNING
        if evaluations > most_evaluations:
            status = "max_fun"
        elif float(np.max(np.abs(point.grad), initial=0.0)) <= gradient_tolerance:
            status = "converged: gradient"
        elif f - point.loss <= reduction_tolerance * max(abs(f), abs(point.loss), 1.0):
            status = "converged: relative reduction"
        if status == RUNNING:
            s, y, sy, pairs, gamma = _remember(s, y, sy, pairs, gamma, point, g, d, m)
        new_state = LbfgsState(
            state.step + 1, evaluations, s, y, sy, pairs, gamma,
            freeze(point.x), point.loss, freeze(point.grad), status,
        )  # fmt: skip
        return f, _params(point.x, params), new_state

    return Optimizer(init, update, step_with_objective=step)


def _remember(
    s: FloatArray, y: FloatArray, sy: FloatArray, pairs: int, gamma: float,
    point: _Point, g: FloatArray, d: FloatArray, m: int,
) -> tuple[FloatArray, FloatArray, FloatArray, int, float]:  # fmt: skip
    """The pairs after an iteration (L-BFGS-B's update, skipped when ``s'y`` is too small)."""
    y_new = point.grad - g
    gd_old = float(np.dot(g, d))
    if point.stp == 1.0:
        dr, ddum, s_new = point.gd - gd_old, -gd_old, d
    else:
        dr, ddum, s_new = (point.gd - gd_old) * point.stp, -gd_old * point.stp, point.stp * d
    if dr <= _EPSILON * ddum:
        return s, y, sy, pairs, gamma
    rr = float(np.dot(y_new, y_new))
    return (
        _pushed(s, s_new), _pushed(y, y_new), _pushed(sy, np.array(dr)),
        min(pairs + 1, m), dr / rr,
    )  # fmt: skip


def _pushed(rows: FloatArray, new: Any) -> FloatArray:
    """``rows`` without its first row and with ``new`` last, in a new read-only array."""
    shifted = np.empty_like(rows)
    shifted[:-1] = rows[1:]
    shifted[-1] = new
    return freeze(shifted)


class Minimum(NamedTuple):
    """What ``minimize`` returns.

    Attributes:
        params: the parameters at the last iteration's end (one read-only vector's views).
        opt_state: the optimizer's state there (``LbfgsState``: ``status`` says why it
            stopped, ``loss`` is the objective at ``params``).
        losses: the objective at the start of each iteration.
    """

    params: Params
    opt_state: Any
    losses: tuple[float, ...]


def minimize(
    objective: Objective, params: Params, optimizer: Optimizer[Any], *, max_iter: int
) -> Minimum:
    """Minimize a full-batch ``objective`` with an optimizer that evaluates it itself.

    The driver of a line search, as scikit-learn's ``_fit_lbfgs`` and scipy's ``minimize``
    are: up to ``max_iter`` iterations of ``optimizer.step_with_objective`` (``lbfgs()``),
    ending early when the state says it is ``finished()``. ``objective`` is ``params ->
    (loss, grads)``: ``loss_and_grad`` bound to a spec and data, or
    ``fcfun.distributed.sharded_loss_and_grad`` bound to an executor and shards. No
    batches, epochs or dropout are involved, so the objective is the same at every call.

    >>> import fcfun
    >>> spec = fcfun.mlp([2, 1], output="identity", loss="half_squared_error")
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> y = X @ [2.0, -1.0] + 0.5
    >>> done = fcfun.minimize(
    ...     lambda p: fcfun.loss_and_grad(spec, p, X, y), fcfun.init(spec, seed=0),
    ...     fcfun.lbfgs(gtol=1e-9), max_iter=50)
    >>> np.round(done.params[0].W[:, 0], 4).tolist(), done.opt_state.status[:9]
    ([2.0, -1.0], 'converged')
    """
    if not callable(objective):
        raise TypeError(f"objective must be callable (params -> (loss, grads)), got {objective!r}")
    if not isinstance(optimizer, Optimizer) or optimizer.step_with_objective is None:
        raise TypeError(
            "optimizer must be one that steps with its objective (a line search, as "
            f"fcfun.lbfgs()), got {optimizer!r:.60}; train an optimizer of updates with fit"
        )
    iterations = check_int(max_iter, "max_iter", minimum=0)
    step = optimizer.step_with_objective
    current = owned(params)
    state = optimizer.init(current)
    losses: list[float] = []
    for _ in range(iterations):
        if state_says(state, "finished"):
            break
        loss, current, state = step(objective, state, current)
        losses.append(loss)
    return Minimum(current, state, tuple(losses))
