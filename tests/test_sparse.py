"""Sparse X (scipy CSR / CSC): the same results as dense X to rounding, never densified."""

from __future__ import annotations

import concurrent.futures as cf
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import fcfun
from fcfun import distributed
from tests._bounds import (
    assert_network_close,
    assert_within,
    forward_error,
    gradient_error,
    network_rtol,
    steps,
)

RNG = np.random.default_rng(21)
DENSE = RNG.standard_normal((60, 12))
DENSE[RNG.random((60, 12)) < 0.75] = 0.0
LABELS = RNG.integers(0, 3, 60)
SPEC = fcfun.mlp([12, 7, 3], hidden="tanh", output="softmax", loss="softmax_cross_entropy")
FORMATS: list[Callable[[Any], Any]] = [sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.coo_matrix]


def _close(a: fcfun.Params, b: fcfun.Params, rtol: float) -> None:
    for x, y in zip(a, b, strict=True):
        assert_network_close(x.W, y.W, rtol)
        assert_network_close(x.b, y.b, rtol)


@pytest.mark.parametrize("sparse", FORMATS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_and_grad_of_sparse_x_is_that_of_dense_x(sparse: Any, dtype: Any) -> None:
    params = fcfun.init(SPEC, 0, dtype=dtype)
    S = sparse(DENSE.astype(dtype))
    dense_loss, dense_grads = fcfun.loss_and_grad(
        SPEC, params, DENSE.astype(dtype), LABELS, alpha=0.1
    )
    loss, grads = fcfun.loss_and_grad(SPEC, params, S, LABELS, alpha=0.1)
    # The sparse product sums the same terms in another order: two implementations.
    assert loss == pytest.approx(dense_loss, rel=network_rtol(SPEC, 60, dtype))
    one_hot = np.eye(3, dtype=dtype)[LABELS]
    bounds = gradient_error(SPEC, params, DENSE.astype(dtype), one_hot, alpha=0.1)
    for g, e, (bound_W, bound_b) in zip(grads, dense_grads, bounds, strict=True):
        assert_within(g.W, e.W, bound_W)
        assert_within(g.b, e.b, bound_b)
    assert all(isinstance(a, np.ndarray) and not a.flags.writeable for g in grads for a in g)


@pytest.mark.parametrize("shuffle", [True, False])
def test_fit_on_sparse_x_follows_the_dense_fit(shuffle: bool) -> None:
    weight = RNG.uniform(0.5, 2.0, 60)
    spec = SPEC._replace(dropout=(0.2,))
    settings: dict[str, Any] = {
        "optimizer": fcfun.adam(1e-2),
        "epochs": 4,
        "batch_size": 16,
        "seed": 2,
        "shuffle": shuffle,
        "sample_weight": weight,
        "validation": (sp.csr_matrix(DENSE[:20]), LABELS[:20]),
    }
    dense = fcfun.fit(spec, DENSE, LABELS, **settings)
    sparse = fcfun.fit(spec, sp.csr_matrix(DENSE), LABELS, **settings)
    rtol = steps(16, network_rtol(spec, 16))  # 4 epochs of 4 Adam steps
    _close(sparse.params, dense.params, rtol)
    np.testing.assert_allclose(sparse.history.train_loss, dense.history.train_loss, rtol=rtol)
    np.testing.assert_allclose(sparse.history.val_metric, dense.history.val_metric, rtol=rtol)


def test_predict_reads_sparse_x_a_chunk_at_a_time() -> None:
    params = fcfun.init(SPEC, 3)
    expected = fcfun.predict(SPEC, params, DENSE)
    for sparse in FORMATS:
        got = fcfun.predict(SPEC, params, sparse(DENSE), chunk_size=7)
        assert_within(got, expected, forward_error(SPEC, params, DENSE))


def test_the_first_layers_gradient_never_densifies_x() -> None:
    """200 000 x 50 000 would be 80 GB dense; stored, it is 2 000 values."""
    m, n = 200_000, 50_000
    rows, cols = RNG.integers(0, m, 2000), RNG.integers(0, n, 2000)
    X = sp.csr_matrix((RNG.standard_normal(2000), (rows, cols)), shape=(m, n))
    spec = fcfun.mlp([n, 2], output="identity", loss="half_squared_error")
    params = fcfun.init(spec, 0)
    loss, grads = fcfun.loss_and_grad(spec, params, X, np.ones((m, 2)))
    assert np.isfinite(loss)
    assert grads[0].W.shape == (n, 2)
    # dW = X.T @ dZ is zero in the columns no sample uses
    unused = np.setdiff1d(np.arange(n), cols)
    assert not grads[0].W[unused].any()


def test_the_callers_sparse_matrix_is_left_as_it_was() -> None:
    S = sp.csr_matrix(DENSE)
    before = S.copy()
    fcfun.fit(SPEC, S, LABELS, optimizer=fcfun.sgd(0.1), epochs=1, batch_size=8, seed=0)
    assert (S != before).nnz == 0
    assert S.data.flags.writeable


def test_the_estimators_take_sparse_x() -> None:
    from sklearn.exceptions import ConvergenceWarning

    from fcfun.sklearn import FCClassifier, FCRegressor

    settings: dict[str, Any] = {"hidden_layer_sizes": (6,), "max_iter": 5, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs do not converge
        dense = FCClassifier(**settings).fit(DENSE, LABELS)
        sparse = FCClassifier(**settings).fit(sp.csr_matrix(DENSE), LABELS)
        regressor = FCRegressor(**settings).fit(sp.csc_matrix(DENSE), DENSE[:, 0])
    rtol = steps(5, network_rtol(sparse.spec_, 60))  # 5 epochs of one (full) batch
    _close(sparse.params_, dense.params_, rtol)
    probabilities = dense.predict_proba(DENSE)
    bound = forward_error(dense.spec_, dense.params_, DENSE) + rtol * np.abs(probabilities)
    assert_within(sparse.predict_proba(sp.csc_matrix(DENSE)), probabilities, bound)
    assert regressor.predict(sp.csr_matrix(DENSE)).shape == (60,)


# Bad input --------------------------------------------------------------------------


def test_a_sparse_matrix_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match=r"X must have 12 columns \(the spec's input size\)"):
        fcfun.loss_and_grad(SPEC, fcfun.init(SPEC, 0), sp.csr_matrix(DENSE[:, :11]), LABELS)
    with pytest.raises(ValueError, match=r"X must have 12 columns"):
        fcfun.predict(SPEC, fcfun.init(SPEC, 0), sp.csr_matrix(DENSE[:, :11]))


def test_a_sparse_matrix_holding_nan_is_refused() -> None:
    S = sp.csr_matrix(DENSE)
    S.data[3] = np.nan
    with pytest.raises(ValueError, match="X must be finite, got NaN or inf"):
        fcfun.fit(SPEC, S, LABELS, optimizer=fcfun.sgd(0.1), epochs=1, batch_size=8, seed=0)
    with pytest.raises(ValueError, match=r"X rows 0\.\. must be finite"):
        fcfun.predict(SPEC, fcfun.init(SPEC, 0), S)


def test_sharding_refuses_sparse_x() -> None:
    with cf.ThreadPoolExecutor(1) as pool, pytest.raises(TypeError, match="to be sharded"):
        distributed.fit_sharded(
            SPEC, sp.csr_matrix(DENSE), LABELS, executor=pool, n_shards=2,
            optimizer=fcfun.sgd(0.1), epochs=1, seed=0,
        )  # fmt: skip
