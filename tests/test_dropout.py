"""Replayable dropout: masks are a pure function of (seed, epoch, step, layer, row)."""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import math
import pathlib
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest

import fcfun
from fcfun import distributed
from tests._bounds import (
    assert_network_close,
    assert_within,
    both,
    forward_pass,
    gradcheck_tolerance,
    gradient_error,
    network_rtol,
    steps,
)

RNG = np.random.default_rng(7)
X = RNG.standard_normal((40, 5))
Y_CLASSES = RNG.integers(0, 3, 40)


def _spec(dropout: float | tuple[float, ...] = 0.3) -> fcfun.MLP:
    return fcfun.mlp(
        [5, 16, 8, 3],
        hidden="tanh",
        output="softmax",
        loss="softmax_cross_entropy",
        dropout=dropout,
    )


def _fit(spec: fcfun.MLP, epochs: int = 3, **kwargs: Any) -> fcfun.TrainState[Any]:
    settings: dict[str, Any] = {"optimizer": fcfun.adam(1e-2), "batch_size": 8, "seed": 3}
    settings.update(kwargs)
    return fcfun.fit(spec, X, Y_CLASSES, epochs=epochs, **settings)


def _same(a: fcfun.Params, b: fcfun.Params) -> bool:
    return all(
        np.array_equal(x.W, y.W) and np.array_equal(x.b, y.b) for x, y in zip(a, b, strict=True)
    )


def _present(mask: fcfun.FloatArray | None) -> fcfun.FloatArray:
    assert mask is not None
    return mask


def _digest(params: fcfun.Params) -> str:
    return hashlib.sha256(b"".join(a.tobytes() for layer in params for a in layer)).hexdigest()


# The masks --------------------------------------------------------------------------


def test_masks_hold_zero_or_the_inverse_keep_rate_at_the_rate() -> None:
    spec = fcfun.mlp([3, 400, 300, 1], output="identity", loss="mean_squared_error", dropout=0.25)
    masks = fcfun.dropout_masks(spec, fcfun.StepKey(0, 0, 0), rows=500)
    for mask, width in zip(masks, (400, 300), strict=True):
        assert mask is not None
        assert mask.shape == (500, width)
        assert not mask.flags.writeable
        assert set(np.unique(mask).tolist()) == {0.0, 1 / 0.75}
        n = mask.size
        dropped = int(np.count_nonzero(mask == 0))
        # Binomial(n, 0.25): 6 standard deviations either side.
        assert abs(dropped - 0.25 * n) < 6 * math.sqrt(n * 0.25 * 0.75)


def test_masks_are_a_pure_function_of_seed_epoch_step_and_layer() -> None:
    spec = _spec()
    key = fcfun.StepKey(seed=5, epoch=2, step=7)
    first = fcfun.dropout_masks(spec, key, rows=10)
    again = fcfun.dropout_masks(spec, key, rows=10)
    assert all(np.array_equal(_present(a), _present(b)) for a, b in zip(first, again, strict=True))
    for other in (key._replace(seed=6), key._replace(epoch=3), key._replace(step=8)):
        moved = fcfun.dropout_masks(spec, other, rows=10)
        assert not np.array_equal(_present(first[0]), _present(moved[0]))
    layer0, layer1 = first
    assert layer0 is not None
    assert layer1 is not None
    assert not np.array_equal(layer0[:, :8], layer1)  # layers draw from their own streams


def test_rows_of_a_batch_draw_alone_from_their_offset() -> None:
    spec = _spec()
    key = fcfun.StepKey(1, 4, 2)
    whole = fcfun.dropout_masks(spec, key, rows=30)
    for start, stop in ((0, 11), (11, 12), (12, 30)):
        part = fcfun.dropout_masks(spec, key._replace(offset=start), rows=stop - start)
        for w, p in zip(whole, part, strict=True):
            assert w is not None
            assert p is not None
            assert np.array_equal(w[start:stop], p)


def test_a_rate_of_zero_gives_no_mask_and_a_spec_without_dropout() -> None:
    assert _spec(0.0) == _spec((0.0, 0.0))
    assert _spec(0.0).dropout == ()
    masks = fcfun.dropout_masks(_spec((0.0, 0.5)), fcfun.StepKey(0, 0, 0), rows=4)
    assert masks[0] is None
    assert masks[1] is not None


# Training ---------------------------------------------------------------------------


def test_dropout_zero_trains_bit_for_bit_as_no_dropout() -> None:
    plain = fcfun.mlp([5, 16, 8, 3], hidden="tanh", output="softmax", loss="softmax_cross_entropy")
    assert _same(_fit(_spec(0.0)).params, _fit(plain).params)


def test_a_training_step_uses_the_masks_of_its_key() -> None:
    """One full-batch SGD step equals params - lr * grad with dropout_masks(seed, 0, 0)."""
    spec, lr = _spec((0.5, 0.2)), 0.1
    state = fcfun.fit(
        spec, X, Y_CLASSES, optimizer=fcfun.sgd(lr), epochs=1, batch_size=40, seed=9, shuffle=False
    )
    params = fcfun.init(spec, 9)
    masks = fcfun.dropout_masks(spec, fcfun.StepKey(9, 0, 0), rows=40)
    _, grads = fcfun.loss_and_grad(spec, params, X, Y_CLASSES, masks=masks)
    for layer, p, g in zip(state.params, params, grads, strict=True):
        assert np.array_equal(layer.W, p.W - lr * g.W)
        assert np.array_equal(layer.b, p.b - lr * g.b)
    unmasked = fcfun.loss_and_grad(spec, params, X, Y_CLASSES)[1]
    assert not np.array_equal(grads[0].W, unmasked[0].W)


def test_masked_loss_and_grad_matches_a_hand_written_forward_and_backward() -> None:
    """A two-layer tanh net with mean squared error, written out in numpy."""
    spec = fcfun.mlp([5, 6, 2], hidden="tanh", output="identity", loss="half_squared_error")
    spec = spec._replace(dropout=(0.4,))
    params = fcfun.init(spec, 2)
    Y = RNG.standard_normal((40, 2))
    (mask,) = fcfun.dropout_masks(spec, fcfun.StepKey(2, 1, 3), rows=40)
    assert mask is not None
    (W1, b1), (W2, b2) = params
    H = np.tanh(X @ W1 + b1)
    D = H * mask
    out = D @ W2 + b2
    loss = 0.5 * np.sum((out - Y) ** 2) / 40
    d_out = (out - Y) / 40
    dW2, db2 = D.T @ d_out, d_out.sum(0)
    dH = (d_out @ W2.T) * mask * (1 - H**2)
    dW1, db1 = X.T @ dH, dH.sum(0)
    value, grads = fcfun.loss_and_grad(spec, params, X, Y, masks=(mask,))
    # Two implementations: the loss, a sum of 80 squares (no cancellation) of outputs
    # within forward_error; the gradients within gradient_error.
    run = forward_pass(spec, params, X, masks=(mask,))
    dloss = float(np.sum(np.abs(out - Y) * run.error)) / 40 + both(80, X.dtype) * loss
    assert abs(value - loss) <= dloss
    (bound_W1, bound_b1), (bound_W2, bound_b2) = gradient_error(spec, params, X, Y, (mask,))
    bounds = (bound_W1, bound_b1, bound_W2, bound_b2)
    for got, want, bound in zip((*grads[0], *grads[1]), (dW1, db1, dW2, db2), bounds, strict=True):
        assert_within(got, want, bound)


def test_gradcheck_a_dropout_network_with_its_mask_fixed() -> None:
    spec = _spec((0.5, 0.3))
    params = fcfun.init(spec, 1)
    masks = fcfun.dropout_masks(spec, fcfun.StepKey(1, 0, 0), rows=12)
    assert (
        fcfun.gradcheck(spec, params, X[:12], Y_CLASSES[:12], masks=masks) < gradcheck_tolerance()
    )


def test_forward_and_predict_never_drop_unless_given_masks() -> None:
    spec = _spec(0.5)
    params = fcfun.init(spec, 0)
    plain = spec._replace(dropout=())
    assert np.array_equal(fcfun.predict(spec, params, X), fcfun.predict(plain, params, X))
    masks = fcfun.dropout_masks(spec, fcfun.StepKey(0, 0, 0), rows=40)
    A, caches = fcfun.forward(spec, params, X, masks=masks)
    assert not np.array_equal(A, fcfun.forward(spec, params, X)[0])
    grads = fcfun.backward(spec, params, caches, Y_CLASSES, masks=masks)
    _, expected = fcfun.loss_and_grad(spec, params, X, Y_CLASSES, masks=masks)
    one_hot = np.eye(spec.sizes[-1])[Y_CLASSES]
    bounds = gradient_error(spec, params, X, one_hot, masks)
    for g, e, (bound, _) in zip(grads, expected, bounds, strict=True):
        assert_within(g.W, e.W, bound)  # two implementations of one backward pass


def test_dropout_changes_training_and_replays_bit_for_bit() -> None:
    first, again = _fit(_spec()), _fit(_spec())
    assert _same(first.params, again.params)
    assert not _same(first.params, _fit(_spec(0.0)).params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_resumed_dropout_run_equals_the_uninterrupted_run(
    tmp_path: pathlib.Path, dtype: type[np.floating[Any]]
) -> None:
    spec = _spec()
    whole = _fit(spec, epochs=4, dtype=dtype)
    path = tmp_path / "run.npz"
    fcfun.save(path, spec, _fit(spec, epochs=2, dtype=dtype))
    loaded_spec, loaded = fcfun.load(path, optimizer=fcfun.adam(1e-2))
    assert loaded_spec == spec
    assert loaded_spec.dropout == (0.3, 0.3)
    resumed = fcfun.fit(
        loaded_spec,
        X,
        Y_CLASSES,
        optimizer=fcfun.adam(1e-2),
        epochs=4,
        batch_size=8,
        params=loaded,
    )
    assert _same(resumed.params, whole.params)


def test_masks_reproduce_in_another_process() -> None:
    spec = _spec()
    code = textwrap.dedent(
        """
        import hashlib, numpy as np, fcfun
        rng = np.random.default_rng(7)
        X = rng.standard_normal((40, 5)); y = rng.integers(0, 3, 40)
        spec = fcfun.mlp([5, 16, 8, 3], hidden="tanh", output="softmax",
                         loss="softmax_cross_entropy", dropout=0.3)
        state = fcfun.fit(spec, X, y, optimizer=fcfun.adam(1e-2), epochs=3, batch_size=8,
                          seed=3)
        print(hashlib.sha256(b"".join(a.tobytes() for l in state.params for a in l)).hexdigest())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == _digest(_fit(spec).params)


def test_a_sharded_run_draws_the_single_process_masks() -> None:
    spec = _spec()
    settings: dict[str, Any] = {"optimizer": fcfun.sgd(0.1), "epochs": 3, "seed": 4}
    alone = fcfun.fit(spec, X, Y_CLASSES, batch_size=40, shuffle=False, **settings)
    with cf.ThreadPoolExecutor(2) as pool:
        one = distributed.fit_sharded(spec, X, Y_CLASSES, executor=pool, n_shards=1, **settings)
        three = distributed.fit_sharded(
            spec, X, Y_CLASSES, executor=pool, n_shards=[13, 20, 7], **settings
        )
    assert _same(one.params, alone.params)
    for a, b in zip(three.params, alone.params, strict=True):
        # 3 full-batch epochs, the shards' sums in another order (tests/_bounds)
        assert_network_close(a.W, b.W, steps(3, network_rtol(spec, 40)))
    without = fcfun.fit(
        spec._replace(dropout=()), X, Y_CLASSES, batch_size=40, shuffle=False, **settings
    )
    # not a rounding tolerance: dropout moves the weights by far more than 1e-6
    assert not np.allclose(without.params[0].W, alone.params[0].W, atol=1e-6)


def test_the_estimators_train_with_dropout_and_replay() -> None:
    from sklearn.exceptions import ConvergenceWarning

    from fcfun.sklearn import FCClassifier

    def fitted(rate: float) -> FCClassifier:
        return FCClassifier((12,), dropout=rate, max_iter=5, random_state=0).fit(X, Y_CLASSES)

    with pytest.warns(ConvergenceWarning):  # 5 epochs do not converge
        a, b, none = fitted(0.4), fitted(0.4), fitted(0.0)
    assert a.spec_.dropout == (0.4,)
    assert _same(a.params_, b.params_)
    assert not _same(a.params_, none.params_)
    assert np.array_equal(
        a.predict_proba(X), np.asarray(fcfun.predict(a.spec_._replace(dropout=()), a.params_, X))
    )


# Bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dropout", "error", "text"),
    [
        (1.0, ValueError, "dropout[0] must be a finite real number in [0, 1), got 1.0"),
        (-0.1, ValueError, "dropout[0] must be a finite real number in [0, 1), got -0.1"),
        (math.nan, ValueError, "dropout[0] must be a finite real number in [0, 1), got nan"),
        ((0.1,), ValueError, "dropout must be one rate or a sequence of 2"),
        ("0.1", TypeError, "dropout must be a rate in [0, 1) or a sequence of 2"),
    ],
)
def test_bad_rates_are_refused(dropout: Any, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=_literal(text)):
        _spec(dropout)


def test_dropout_without_hidden_layers_is_refused() -> None:
    with pytest.raises(ValueError, match="dropout must be 0 for a network without hidden"):
        fcfun.mlp([3, 1], output="identity", loss="mean_squared_error", dropout=0.5)


def test_masks_of_the_wrong_shape_are_refused() -> None:
    spec = _spec()
    params = fcfun.init(spec, 0)
    masks = fcfun.dropout_masks(spec, fcfun.StepKey(0, 0, 0), rows=39)
    with pytest.raises(ValueError, match=r"masks\[0\] must be None or a float64 array"):
        fcfun.loss_and_grad(spec, params, X, Y_CLASSES, masks=masks)
    with pytest.raises(ValueError, match="masks must be None or a tuple of 2 masks"):
        fcfun.forward(spec, params, X, masks=masks[:1])


def _literal(text: str) -> str:
    import re

    return re.escape(text)


def test_a_checkpoint_with_a_bad_dropout_rate_is_refused(tmp_path: pathlib.Path) -> None:
    import io
    import zipfile

    spec = _spec()
    path, bad = tmp_path / "run.npz", tmp_path / "bad.npz"
    fcfun.save(path, spec, _fit(spec, epochs=1))
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(bad, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "spec/dropout.npy":
                buffer = io.BytesIO()
                np.save(buffer, np.array([0.3, 1.5]))
                data = buffer.getvalue()
            target.writestr(info.filename, data)
    with pytest.raises(
        ValueError, match=r"spec.*dropout\[1\] must be a finite real number in \[0, 1\), got 1.5"
    ):
        fcfun.load(bad, optimizer=fcfun.adam(1e-2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masks_follow_the_documented_stream(dtype: type[np.floating[Any]]) -> None:
    """The module docstring's rule, written out: PCG64(SeedSequence([seed, epoch, step,
    layer, 0x64726F70])), one float64 uniform per entry row after row, kept when u >= p."""
    spec = fcfun.mlp([3, 9, 5, 1], output="identity", loss="mean_squared_error", dropout=(0.3, 0.6))
    key = fcfun.StepKey(seed=12, epoch=3, step=8, offset=4)
    masks = fcfun.dropout_masks(spec, key, rows=6, dtype=dtype)
    for layer, (rate, width) in enumerate(((0.3, 9), (0.6, 5))):
        stream = np.random.PCG64(np.random.SeedSequence([12, 3, 8, layer, 0x64726F70]))
        uniform = np.random.Generator(stream).random((10, width))[4:]  # rows 4..9
        expected = np.where(uniform >= rate, dtype(1 / (1 - rate)), dtype(0))
        got = _present(masks[layer])
        assert got.dtype == dtype
        assert np.array_equal(got, expected)
