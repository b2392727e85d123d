"""Features that meet: what composes, and what is refused with a clear error."""

from __future__ import annotations

import concurrent.futures as cf
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import fcfun
from fcfun.distributed import fit_sharded
from tests._bounds import both

RNG = np.random.default_rng(4)
X = RNG.standard_normal((40, 5))
Y = RNG.standard_normal((40, 1))
SPEC = fcfun.mlp([5, 6, 1], hidden="tanh", output="identity", loss="half_squared_error")


def _fit(spec: fcfun.MLP = SPEC, **settings: Any) -> fcfun.TrainState[Any]:
    arguments: dict[str, Any] = {"optimizer": fcfun.lbfgs(), "epochs": 50, "batch_size": 40}
    arguments.update(settings)
    return fcfun.fit(spec, X, Y, seed=0, **arguments)


def test_lbfgs_refuses_mini_batches_and_dropout() -> None:
    with pytest.raises(ValueError, match="batch_size must be at least the 40 rows"):
        _fit(batch_size=5)
    with pytest.raises(ValueError, match=r"spec\.dropout must be \(\), got dropout=\(0\.5,\)") as e:
        _fit(SPEC._replace(dropout=(0.5,)))
    assert "batch_size" not in str(e.value)  # the full batch is not what is wrong
    with cf.ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match=r"spec\.dropout"):
        fit_sharded(
            SPEC._replace(dropout=(0.5,)), X, Y, executor=pool, n_shards=2,
            optimizer=fcfun.lbfgs(), epochs=3, seed=0,
        )  # fmt: skip


def test_a_finished_lbfgs_run_continued_trains_nothing_more() -> None:
    done = _fit(epochs=2000)
    assert done.epoch < 2000
    assert done.opt_state.finished()
    again = fcfun.fit(
        SPEC, X, Y, optimizer=fcfun.lbfgs(), epochs=done.epoch + 5, batch_size=40, params=done
    )
    assert again.epoch == done.epoch
    assert fcfun.fingerprint(again.params) == fcfun.fingerprint(done.params)


def test_composers_refuse_an_optimizer_that_steps_with_its_objective() -> None:
    with pytest.raises(ValueError, match=r"optimizers\[1\] must be an optimizer of updates"):
        fcfun.chain(fcfun.scale(1.0), fcfun.lbfgs())
    with pytest.raises(ValueError, match="inner must be an optimizer of updates"):
        fcfun.masked(fcfun.lbfgs(), fcfun.weights_only(SPEC))
    config = fcfun.TrainConfig(SPEC, fcfun.lbfgs(), 40)
    with pytest.raises(ValueError, match=r"config.optimizer must be an optimizer of updates for"):
        fcfun.fit_ensemble(config, X, Y, seeds=(1, 2), epochs=2)


def test_ensembles_refuse_sparse_x() -> None:
    config = fcfun.TrainConfig(SPEC, fcfun.sgd(0.1), 8)
    with pytest.raises(TypeError, match="X must be a dense array or a row source"):
        fcfun.fit_ensemble(config, sp.csr_matrix(X), Y, seeds=(1, 2), epochs=1)
    ensemble = fcfun.fit_ensemble(config, X, Y, seeds=(1, 2), epochs=1)
    with pytest.raises(TypeError, match="predict_ensemble, got a sparse matrix"):
        fcfun.predict_ensemble(SPEC, ensemble, sp.csr_matrix(X))


def test_a_user_line_search_that_evaluates_nothing_still_counts_its_batch() -> None:
    """step_with_objective may return a loss without calling the objective."""

    def init(params: fcfun.Params) -> tuple[()]:
        return ()

    def update(grads: fcfun.Params, state: tuple[()], params: fcfun.Params) -> Any:
        raise AssertionError("not used")

    def step(objective: Any, state: tuple[()], params: fcfun.Params) -> Any:
        return 1.5, params, state

    still = fcfun.Optimizer(init, update, step_with_objective=step)
    state = fcfun.fit(SPEC, X, Y, optimizer=still, epochs=2, batch_size=40, seed=0)
    assert state.history.train_loss == (1.5, 1.5)


def test_estimators_continue_with_another_dropout_rate() -> None:
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from fcfun.sklearn import FCRegressor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = FCRegressor((6,), max_iter=3, random_state=0, warm_start=True).fit(X, Y[:, 0])
        model.set_params(dropout=0.5).fit(X, Y[:, 0])
    assert model.spec_.dropout == (0.5,)
    assert model.n_iter_ == 3


def test_dropout_rates_may_come_as_an_array() -> None:
    spec = fcfun.mlp([5, 6, 4, 1], output="identity", loss="half_squared_error",
                     dropout=np.array([0.1, 0.2]))  # fmt: skip
    assert spec.dropout == (0.1, 0.2)


def test_masks_of_the_wrong_type_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="masks must be None or a tuple of 1 masks"):
        fcfun.forward(SPEC, fcfun.init(SPEC, 0), X, masks=[None])  # type: ignore[arg-type]


def test_bad_class_weights_name_class_weight() -> None:
    from fcfun.sklearn import FCClassifier

    labels = (Y[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="class_weight must map classes to finite non-negative"):
        FCClassifier((3,), max_iter=1, class_weight={0: -1.0}).fit(X, labels)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(40,\)"):
        FCClassifier((3,), max_iter=1, early_stopping=True).fit(X, labels, sample_weight=[1.0] * 39)


def test_poisson_through_a_relu_output_at_zero_trains() -> None:
    """The loss clips an output of 0; its gradient there is 0, never Y / tiny (overflow)."""
    spec = fcfun.mlp([1, 1], output="relu", loss="poisson")
    params = (fcfun.Dense(np.array([[1.0]]), np.array([0.0])),)
    X1, y1 = np.array([[-1.0], [2.0]]), np.array([5.0, 1.0])
    state = fcfun.fit(
        spec, X1, y1, optimizer=fcfun.sgd(0.1), epochs=1, batch_size=2, seed=0, params=params
    )
    # only the second row (output 2, target 1) moves W: d/dA (A - y log A) = 1 - y / A = 0.5
    expected = 1.0 - 0.1 * (2.0 * 0.5) / 2
    # 1 - 0.1 (2 * 0.5) / 2 either way: 4 roundings of terms at most 1
    np.testing.assert_allclose(state.params[0].W, [[expected]], rtol=both(4, np.float64))


def test_the_poisson_score_clips_outputs_as_the_loss_does() -> None:
    Y1 = np.array([[0.0], [2.0], [1.0]])
    assert fcfun.d2_poisson_score(Y1, Y1) == 1.0
    assert fcfun.d2_poisson_score(np.array([[-5.0], [1.0], [1.0]]), Y1) <= 1.0


def test_a_warm_start_with_another_loss_names_the_losses() -> None:
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from fcfun.sklearn import FCRegressor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = FCRegressor((4,), max_iter=2, warm_start=True).fit(X, Y[:, 0])
    with pytest.raises(ValueError, match=r"loss half_squared_error; got .* and huber"):
        model.set_params(loss="huber").fit(X, Y[:, 0])
