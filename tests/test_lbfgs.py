"""L-BFGS: the two-loop recursion, the optimum, scikit-learn's trajectory, purity, sharding.

References are independent of the code under test: a hand transcription of Nocedal &
Wright's Algorithm 7.4 written over the explicit BFGS matrix update (their eq. 6.17),
``scipy.optimize.minimize(method="L-BFGS-B")`` on a convex problem, and scikit-learn's
``MLPClassifier`` / ``MLPRegressor(solver='lbfgs')`` from the same initial weights.

Tolerances. In float64 the iterates follow L-BFGS-B's to rounding: the same accepted
steps, iteration counts and evaluation counts, losses to ``1e-10`` relative and weights
to ``1e-9`` absolute. They are not bit-identical because L-BFGS-B forms ``H g`` from its
compact representation (Byrd, Nocedal & Schnabel 1994) and fcfun by the two-loop
recursion, the same vector through other roundings (about ``1e-16`` relative per
iteration); on these small networks the difference grows to about ``1e-13`` by
convergence, and the bound leaves room for other BLAS kernels. In float32 both evaluate
the network in float32 and keep L-BFGS's vectors in float64, but their rounding of the
trial points differs, so only the iteration count and the loss to ``1e-3`` are asserted.
"""

from __future__ import annotations

import concurrent.futures as cf
import warnings
from typing import Any

import numpy as np
import pytest
import scipy.optimize
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

import fcfun
from fcfun._lbfgs import two_loop
from fcfun.distributed import fit_sharded
from fcfun.sklearn import FCClassifier, FCRegressor, sklearn_initial_params
from tests._bounds import assert_within, both, network_rtol, steps
from tests.test_sklearn import largest, trajectory_rtol


def bfgs_inverse_hessian(s: np.ndarray, y: np.ndarray, gamma: float) -> np.ndarray:
    """``H_k`` by the BFGS update applied pair by pair to ``gamma I`` (N&W eq. 6.17)."""
    n = s.shape[1]
    H = gamma * np.eye(n)
    for s_i, y_i in zip(s, y, strict=True):
        rho = 1.0 / (s_i @ y_i)
        V = np.eye(n) - rho * np.outer(y_i, s_i)
        H = V.T @ H @ V + rho * np.outer(s_i, s_i)
    return H


def test_two_loop_equals_the_explicit_bfgs_matrix() -> None:
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6))
    hessian = A @ A.T + 6 * np.eye(6)  # pairs of a convex quadratic: s'y > 0
    s = rng.normal(size=(4, 6))
    y = s @ hessian
    g = rng.normal(size=6)
    gamma = float(s[-1] @ y[-1] / (y[-1] @ y[-1]))
    expected = bfgs_inverse_hessian(s, y, gamma) @ g
    got = two_loop(g, s, y, np.einsum("ij,ij->i", s, y), gamma)
    # Both apply the same inverse-Hessian approximation: 4 pairs of rank-two updates, each
    # a few 6-term dots (K = 8 * 6 roundings), amplified by its condition number.
    rtol = both(8 * 6, np.float64) * float(np.linalg.cond(hessian))
    assert_within(got, expected, rtol * (np.abs(expected) + np.max(np.abs(expected))))


def logistic_problem() -> tuple[fcfun.MLP, np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    spec = fcfun.mlp([30, 1], output=fcfun.sigmoid, loss=fcfun.binary_cross_entropy)
    return spec, StandardScaler().fit_transform(X), y


def least_curvature(X: np.ndarray, w: np.ndarray, alpha: float) -> float:
    """The least eigenvalue of the L2 logistic loss's Hessian at ``w`` (weights, bias)."""
    m = len(X)
    design = np.column_stack([X, np.ones(m)])
    p = 1 / (1 + np.exp(-(design @ w)))
    hessian = design.T @ (design * (p * (1 - p))[:, None]) / m
    hessian[:-1, :-1] += alpha / m * np.eye(X.shape[1])
    return float(np.linalg.eigvalsh(hessian)[0])


def test_reaches_scipy_optimum_on_l2_logistic_regression() -> None:
    """A strictly convex problem: the same minimizer as scipy's L-BFGS-B, to its tolerance."""
    spec, X, y = logistic_problem()
    alpha, m = 1.0, len(X)

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:  # written out, not fcfun's
        z = X @ w[:30] + w[30]
        p = 1 / (1 + np.exp(-z))
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) + alpha / (2 * m) * w[:30] @ w[:30]
        grad_W = X.T @ (p - y) / m + alpha / m * w[:30]
        return float(loss), np.append(grad_W, np.mean(p - y))

    reference = scipy.optimize.minimize(
        objective, np.zeros(31), jac=True, method="L-BFGS-B", options={"gtol": 1e-10}
    )
    start = (fcfun.Dense(np.zeros((30, 1)), np.zeros(1)),)
    state = fcfun.fit(
        spec, X, y, optimizer=fcfun.lbfgs(gtol=1e-10), epochs=500, batch_size=m,
        shuffle=False, seed=0, params=start, alpha=alpha,
    )  # fmt: skip
    assert state.opt_state.status.startswith("converged")
    # Strongly convex near the optimum with mu = the Hessian's least eigenvalue there: each
    # point is within |g| / mu of the minimizer, and its loss within |g|^2 / (2 mu).
    ours = np.append(state.params[0].W[:, 0], state.params[0].b)
    mu = min(least_curvature(X, point, alpha) for point in (ours, reference.x))
    gradients = [float(np.linalg.norm(objective(point)[1])) for point in (ours, reference.x)]
    assert float(np.linalg.norm(ours - reference.x)) <= sum(gradients) / mu
    losses = sum(g**2 for g in gradients) / (2 * mu) + both(m + 16, np.float64) * reference.fun
    assert abs(state.opt_state.loss - reference.fun) <= losses


def scaled(load: Any, dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    X, y = load(return_X_y=True)
    return StandardScaler().fit_transform(X).astype(dtype), y


@pytest.mark.parametrize(("load", "hidden"), [(load_breast_cancer, 20), (load_digits, 20)])
def test_follows_scikit_learn_lbfgs_from_the_same_weights(load: Any, hidden: int) -> None:
    """Every iterate: fcfun's loss at the start of iteration k is scikit-learn's ``loss_``
    after ``max_iter=k``; the final weights, ``n_iter_`` and evaluations agree."""
    X, y = scaled(load)
    sizes = [X.shape[1], hidden, 1 if len(np.unique(y)) == 2 else 10]
    settings: dict[str, Any] = {"solver": "lbfgs", "alpha": 1e-4, "tol": 1e-4}
    ours = FCClassifier(
        (hidden,), initial_params=sklearn_initial_params(sizes, "relu", 0), **settings
    ).fit(X, y)
    theirs = MLPClassifier((hidden,), random_state=0, **settings).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ > 10
    tol = trajectory_rtol(ours, len(X))  # tests/test_sklearn: the same steps, two codes
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=tol)
    for a, b in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=0, atol=tol * largest(theirs.coefs_))
    curve = ours.loss_curve_
    assert len(curve) == ours.n_iter_
    for k in (1, 3, 8):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            after_k = MLPClassifier((hidden,), random_state=0, **{**settings, "max_iter": k})
            np.testing.assert_allclose(curve[k], after_k.fit(X, y).loss_, rtol=tol)


def test_max_fun_stops_as_scikit_learn() -> None:
    X, _ = scaled(load_digits)
    target = 2 * X[:, 10] + X[:, 20] ** 2
    settings: dict[str, Any] = {"activation": "tanh", "solver": "lbfgs", "max_fun": 40}
    start = sklearn_initial_params([64, 10, 1], "tanh", 1)
    with pytest.warns(ConvergenceWarning):
        ours = FCRegressor((10,), initial_params=start, **settings).fit(X, target)
    theirs = MLPRegressor(hidden_layer_sizes=(10,), random_state=1, **settings)
    with pytest.warns(ConvergenceWarning):
        theirs.fit(X, target)
    assert ours.state_.opt_state.status == "max_fun"
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.state_.opt_state.evaluations == 41  # stops once evaluations exceed max_fun
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=trajectory_rtol(ours, len(X)))


def test_float32_trains_float32_params_along_scikit_learn_iterates() -> None:
    X, y = scaled(load_breast_cancer, np.float32)
    start = sklearn_initial_params([30, 20, 1], "relu", 0, dtype=np.float32)
    ours = FCClassifier((20,), solver="lbfgs", initial_params=start).fit(X, y)
    theirs = MLPClassifier((20,), solver="lbfgs", random_state=0).fit(X, y)
    assert ours.coefs_[0].dtype == np.float32
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=trajectory_rtol(ours, len(X)))


def run(epochs: int, **overrides: Any) -> fcfun.TrainState[Any]:
    spec, X, y = logistic_problem()
    arguments: dict[str, Any] = {
        "optimizer": fcfun.lbfgs(memory=3),
        "epochs": epochs,
        "batch_size": len(X),
        "shuffle": False,
        "seed": 0,
        "alpha": 1e-3,
    }
    arguments.update(overrides)
    return fcfun.fit(spec, X, y, **arguments)


def test_state_is_immutable_and_a_resumed_run_equals_the_uninterrupted_one() -> None:
    whole = run(12)
    resumed = run(12, params=run(5), seed=None)
    assert whole.epoch == resumed.epoch == 12
    state = resumed.opt_state
    assert isinstance(state, fcfun.LbfgsState)
    assert state.step == 12
    assert state.pairs == 3
    for name in ("s", "y", "sy", "x", "grad"):
        assert not getattr(state, name).flags.writeable
        np.testing.assert_array_equal(getattr(state, name), getattr(whole.opt_state, name))
    np.testing.assert_array_equal(whole.params[0].W, resumed.params[0].W)
    assert whole.history == resumed.history
    assert resumed.opt_state.evaluations == whole.opt_state.evaluations  # the cache carried


def test_a_run_ends_when_lbfgs_converges() -> None:
    state = run(1000, optimizer=fcfun.lbfgs())
    assert state.opt_state.status.startswith("converged")
    assert state.epoch == state.opt_state.step < 1000
    assert len(state.history.train_loss) == state.epoch


def test_fit_sharded_follows_fit() -> None:
    spec, X, y = logistic_problem()
    alone = run(8)
    with cf.ThreadPoolExecutor(2) as pool:
        sharded = fit_sharded(
            spec, X, y, executor=pool, n_shards=3, optimizer=fcfun.lbfgs(memory=3),
            epochs=8, seed=0, alpha=1e-3,
        )  # fmt: skip
    assert sharded.opt_state.step == alone.opt_state.step == 8
    rtol = steps(8, network_rtol(spec, len(X)))  # 8 iterations, the shards' sums reordered
    scale = float(np.max(np.abs(alone.params[0].W)))
    np.testing.assert_allclose(sharded.params[0].W, alone.params[0].W, rtol=0, atol=rtol * scale)
    np.testing.assert_allclose(sharded.history.train_loss, alone.history.train_loss, rtol=rtol)


def test_update_without_the_objective_is_refused() -> None:
    params = (fcfun.Dense(np.zeros((2, 1)), np.zeros(1)),)
    optimizer = fcfun.lbfgs()
    with pytest.raises(TypeError, match="objective"):
        optimizer.update(params, optimizer.init(params), params)


def test_a_users_optimizer_can_fill_step_with_objective() -> None:
    """The capability is a field: a two-point gradient step with a backtracking search."""

    def step(objective: fcfun.Objective, state: int, params: fcfun.Params) -> Any:
        loss, grads = objective(params)
        rate = 1.0
        while True:
            trial = tuple(
                fcfun.Dense(p.W - rate * g.W, p.b - rate * g.b)
                for p, g in zip(params, grads, strict=True)
            )
            if objective(trial)[0] < loss or rate < 1e-8:
                return loss, trial, state + 1
            rate /= 2

    def refuse(grads: fcfun.Params, state: int, params: fcfun.Params) -> Any:
        raise AssertionError("update is not called when step_with_objective is given")

    backtracking = fcfun.Optimizer(lambda params: 0, refuse, step_with_objective=step)
    state = run(5, optimizer=backtracking)
    assert state.opt_state == 5
    assert state.history.train_loss[-1] < state.history.train_loss[0]


def test_minimize_is_the_full_batch_fit_of_lbfgs_bit_for_bit() -> None:
    """The driver runs the same iterations as fit's one step per epoch on all the rows."""
    spec = fcfun.mlp([4, 6, 1], hidden=fcfun.tanh, output=fcfun.identity,
                     loss=fcfun.half_squared_error)  # fmt: skip
    rng = np.random.default_rng(11)
    X = rng.normal(size=(40, 4))
    y = np.sin(X[:, 0]) + X[:, 1]
    params = fcfun.init(spec, seed=3)
    done = fcfun.minimize(
        lambda p: fcfun.loss_and_grad(spec, p, X, y, alpha=0.01), params, fcfun.lbfgs(),
        max_iter=25,
    )  # fmt: skip
    fitted = fcfun.fit(
        spec, X, y, optimizer=fcfun.lbfgs(), epochs=25, batch_size=40, shuffle=False,
        params=params, seed=0, alpha=0.01,
    )  # fmt: skip
    assert fcfun.fingerprint((done.params, done.opt_state)) == fcfun.fingerprint(
        (fitted.params, fitted.opt_state)
    )
    # fit's history holds (loss * m) / m, the epoch's weighted mean: two roundings
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(done.losses, fitted.history.train_loss, rtol=2 * eps, atol=0)
    assert len(done.losses) == len(fitted.history.train_loss)
    with pytest.raises(TypeError, match="optimizer must be one that steps with its objective"):
        fcfun.minimize(lambda p: fcfun.loss_and_grad(spec, p, X, y), params, fcfun.adam(),
                       max_iter=3)  # fmt: skip


def test_minimize_takes_the_sharded_objective() -> None:
    """L-BFGS from fcfun.distributed's sharded gradient: one shard gives the in-process
    iterates bit for bit; three shards (their gradients summed in another order) reach
    the same minimum of a convex problem to its tolerance."""
    import concurrent.futures as cf

    import fcfun.distributed as fd

    spec = fcfun.mlp([5, 1], output=fcfun.identity, loss=fcfun.half_squared_error)
    rng = np.random.default_rng(12)
    X = rng.normal(size=(60, 5))
    y = X @ rng.normal(size=5) + 0.1 * rng.normal(size=60)
    params = fcfun.init(spec, seed=0)
    alone = fcfun.minimize(
        lambda p: fcfun.loss_and_grad(spec, p, X, y), params, fcfun.lbfgs(gtol=1e-10, ftol=0.0),
        max_iter=100,
    )  # fmt: skip
    with cf.ThreadPoolExecutor(2) as pool:
        results = []
        for n_shards in (1, 3):
            with fd.scatter(pool, spec, X, y, n_shards) as shards:

                def sharded(p: fcfun.Params, s: fd.Shards = shards) -> tuple[float, fcfun.Params]:
                    return fd.sharded_loss_and_grad(pool, spec, p, s)

                done = fcfun.minimize(
                    sharded, params, fcfun.lbfgs(gtol=1e-10, ftol=0.0), max_iter=100
                )
                results.append(done)
    one, three = results
    assert fcfun.fingerprint((one.params, one.opt_state)) == fcfun.fingerprint(
        (alone.params, alone.opt_state)
    )
    assert alone.opt_state.status.startswith("converged")
    assert three.opt_state.status.startswith("converged")
    # On this strongly convex least-squares problem (Hessian X'X / m with the bias column,
    # smallest eigenvalue lam), two points whose gradients are g1 and g2 lie within
    # (|g1| + |g2|) / lam of each other: a bound from where each run stopped.
    design = np.hstack([X, np.ones((60, 1))])
    lam = float(np.linalg.eigvalsh(design.T @ design / 60).min())
    reached = np.linalg.norm(alone.opt_state.grad) + np.linalg.norm(three.opt_state.grad)
    gap = np.linalg.norm(fcfun.flat(three.params) - fcfun.flat(alone.params))
    assert gap <= reached / lam
    assert reached / lam < 1e-8  # both stopped on the gradient (ftol 0): a tight bound
