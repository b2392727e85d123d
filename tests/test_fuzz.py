"""Fuzzing the public boundary: every call returns finite, well-shaped results or raises
one of fcfun's documented errors (ValueError, TypeError, DivergenceError); nothing else
escapes, and no numpy warning is emitted (the suite turns warnings into errors)."""

from __future__ import annotations

import pathlib
import tempfile
from typing import Any

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fcfun

DOCUMENTED = (ValueError, TypeError, fcfun.DivergenceError)

HEADS = [
    ("sigmoid", "binary_cross_entropy"),
    ("identity", "binary_cross_entropy_with_logits"),
    ("softmax", "softmax_cross_entropy"),
    ("identity", "softmax_cross_entropy"),
    ("identity", "mean_squared_error"),
    ("tanh", "half_squared_error"),
    ("exp", "poisson"),
    ("sort", "mean_absolute_error"),
]
HIDDEN = ["identity", "sigmoid", "relu", "leaky_relu", "tanh", "softplus", "softmax", "exp", "sort"]
FLOATS: list[type[np.float32] | type[np.float64]] = [np.float32, np.float64]
DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int64, np.uint8, np.bool_, np.complex64]

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.0, 1.0, -1.0, 1e6, -1e6, 1e4, -1e4, 1e300, -1e300, 2.0]),
)


@st.composite
def specs(draw: st.DrawFn) -> fcfun.MLP:
    depth = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 4), min_size=depth + 1, max_size=depth + 1))
    output, loss = draw(st.sampled_from(HEADS))
    if loss == "softmax_cross_entropy":
        sizes[-1] = max(sizes[-1], 2)
    hidden = draw(st.sampled_from(HIDDEN))
    return fcfun.mlp(sizes, hidden=hidden, output=output, loss=loss)  # type: ignore[arg-type]


@st.composite
def arrays(draw: st.DrawFn, rows: int, cols: int) -> Any:
    """Mostly well-formed arrays of random dtype and values; sometimes the wrong shape."""
    shape: tuple[int, ...] = draw(
        st.sampled_from(
            [
                (rows, cols),
                (rows, cols),
                (rows, cols),
                (rows,),
                (rows, cols + 1),
                (0, cols),
                (rows, cols, 1),
                (),
            ]
        )
    )
    dtype = draw(st.sampled_from(DTYPES))
    if np.dtype(dtype).kind in "fc":
        elements = values if draw(st.booleans()) else st.floats(-3, 3)
        with np.errstate(over="ignore"):
            return draw(hnp.arrays(np.float64, shape, elements=elements)).astype(dtype)
    return draw(hnp.arrays(dtype, shape))


@st.composite
def params_for(draw: st.DrawFn, spec: fcfun.MLP) -> Any:
    params = fcfun.init(spec, draw(st.integers(0, 3)), dtype=draw(st.sampled_from(FLOATS)))
    damage = draw(st.sampled_from(["none", "none", "none", "shape", "dtype", "nan", "list"]))
    if damage == "shape":
        return (fcfun.Dense(params[0].W[:, :0], params[0].b), *params[1:])
    if damage == "dtype":
        return (fcfun.Dense(params[0].W.astype(np.int32), params[0].b), *params[1:])
    if damage == "nan":
        return (fcfun.Dense(params[0].W * np.nan, params[0].b), *params[1:])
    if damage == "list":
        return list(params)
    return params


def assert_finite_params(grads: fcfun.Params, params: fcfun.Params) -> None:
    for g, p in zip(grads, params, strict=True):
        assert g.W.shape == p.W.shape
        assert g.b.shape == p.b.shape
        assert g.W.dtype == p.W.dtype
        assert np.isfinite(g.W).all()
        assert np.isfinite(g.b).all()


@settings(max_examples=150)
@given(data=st.data(), spec=specs(), m=st.integers(1, 5))
def test_forward_and_loss_and_grad(data: st.DataObject, spec: fcfun.MLP, m: int) -> None:
    params = data.draw(params_for(spec))
    X = data.draw(arrays(m, spec.sizes[0]))
    Y = data.draw(arrays(m, spec.sizes[-1]))
    try:
        output, caches = fcfun.forward(spec, params, X)
    except DOCUMENTED as error:
        event(f"forward raised {type(error).__name__}")
    else:
        event("forward returned")
        assert output.shape == (len(X), spec.sizes[-1])
        assert output.dtype == params[0].W.dtype
        assert np.isfinite(output).all()
        assert len(caches) == spec.n_layers
    try:
        loss, grads = fcfun.loss_and_grad(
            spec, params, X, Y, alpha=data.draw(st.sampled_from([0.0, 0.5]))
        )
    except DOCUMENTED as error:
        event(f"loss_and_grad raised {type(error).__name__}")
        return
    event("loss_and_grad returned")
    assert np.isfinite(loss)
    assert_finite_params(grads, params)


@st.composite
def targets(draw: st.DrawFn, spec: fcfun.MLP, m: int) -> Any:
    """Valid targets for the spec's loss most of the time, anything otherwise."""
    if draw(st.integers(0, 3)) == 0:
        return draw(arrays(m, spec.sizes[-1]))
    k = spec.sizes[-1]
    if spec.loss.name == "softmax_cross_entropy":
        return draw(hnp.arrays(np.int64, m, elements=st.integers(0, k - 1)))
    if spec.loss.name.startswith("binary"):
        return draw(hnp.arrays(np.float64, (m, k), elements=st.sampled_from([0.0, 1.0])))
    return draw(hnp.arrays(np.float64, (m, k), elements=values))


@settings(max_examples=80)
@given(data=st.data(), spec=specs(), m=st.integers(1, 6))
def test_fit(data: st.DataObject, spec: fcfun.MLP, m: int) -> None:
    if data.draw(st.integers(0, 3)) == 0:
        X = data.draw(arrays(m, spec.sizes[0]))
    else:
        X = data.draw(hnp.arrays(np.float64, (m, spec.sizes[0]), elements=values))
    Y = data.draw(targets(spec, m))
    lr = data.draw(st.sampled_from([1e-2, 1.0, 1e3, 1e12, 1e300, -1.0]))
    try:
        state = fcfun.fit(
            spec,
            X,
            Y,
            optimizer=fcfun.sgd(lr) if data.draw(st.booleans()) else fcfun.adam(lr),
            epochs=data.draw(st.sampled_from([1, 2, 3, 0, -1])),
            batch_size=data.draw(st.sampled_from([1, 2, 4, 100, 0])),
            seed=data.draw(st.sampled_from([0, 1, 5, -1])),
            dtype=data.draw(st.sampled_from(FLOATS)),
        )
    except fcfun.DivergenceError as error:
        event("fit diverged")
        last_params = error.state.params
        assert all(np.isfinite(p.W).all() and np.isfinite(p.b).all() for p in last_params)
        return
    except DOCUMENTED as error:
        event(f"fit raised {type(error).__name__}")
        return
    event("fit returned")
    assert all(np.isfinite(p.W).all() and np.isfinite(p.b).all() for p in state.params)
    assert np.isfinite(state.history.train_loss).all()


def checkpoint_bytes() -> bytes:
    spec = fcfun.mlp([3, 4, 2], output="softmax", loss="softmax_cross_entropy")
    rng = np.random.default_rng(0)
    state = fcfun.fit(
        spec,
        rng.normal(0, 1, (8, 3)),
        rng.integers(0, 2, 8),
        optimizer=fcfun.adam(0.01),
        epochs=2,
        batch_size=4,
        seed=0,
    )
    with tempfile.TemporaryDirectory() as directory:
        path = pathlib.Path(directory) / "ok.npz"
        fcfun.save(path, spec, state)
        return path.read_bytes()


VALID = checkpoint_bytes()


@settings(max_examples=100)
@given(data=st.data())
def test_load_of_damaged_files(data: st.DataObject) -> None:
    content = bytearray(VALID)
    damage = data.draw(st.sampled_from(["truncate", "flip", "random", "append"]))
    if damage == "truncate":
        content = content[: data.draw(st.integers(0, len(content) - 1))]
    elif damage == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            content[data.draw(st.integers(0, len(content) - 1))] ^= 1 << data.draw(
                st.integers(0, 7)
            )
    elif damage == "random":
        content = bytearray(data.draw(st.binary(max_size=300)))
    else:
        content += data.draw(st.binary(min_size=1, max_size=50))
    with tempfile.TemporaryDirectory() as directory:
        path = pathlib.Path(directory) / "damaged.npz"
        path.write_bytes(bytes(content))
        try:
            spec, state = fcfun.load(path, optimizer=fcfun.adam(0.01))
        except DOCUMENTED as error:
            event(f"load raised {type(error).__name__}")
            return
    event("load returned")
    assert all(np.isfinite(p.W).all() and np.isfinite(p.b).all() for p in state.params)
    assert len(state.params) == spec.n_layers
