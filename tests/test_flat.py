"""One vector per network: params, gradients and optimizer states share one buffer each."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

import fcfun

SPEC = fcfun.mlp([5, 7, 4, 3], output="softmax", loss="softmax_cross_entropy")
P = 5 * 7 + 7 + 7 * 4 + 4 + 4 * 3 + 3


def _layout(params: fcfun.Params) -> np.ndarray:
    """The flat layout written independently: each layer's W row-major, then its b."""
    return np.concatenate([a.ravel() for layer in params for a in layer])


def _shares_one_vector(params: fcfun.Params) -> np.ndarray:
    vector = fcfun.flat(params)
    for layer in params:
        for array in layer:
            assert np.shares_memory(array, vector)
            assert not array.flags.writeable
    assert not vector.flags.writeable
    return vector


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_init_params_are_views_of_one_read_only_vector_in_the_layout(dtype: type) -> None:
    params = fcfun.init(SPEC, seed=0, dtype=dtype)
    vector = _shares_one_vector(params)
    assert vector.shape == (P,)
    assert vector.dtype == dtype
    np.testing.assert_array_equal(vector, _layout(params))
    with pytest.raises(ValueError, match="read-only"):
        vector[0] = 1.0


def test_gradients_are_one_vector_too() -> None:
    rng = np.random.default_rng(1)
    params = fcfun.init(SPEC, seed=1)
    _, grads = fcfun.loss_and_grad(SPEC, params, rng.normal(size=(9, 5)), np.arange(9) % 3)
    vector = _shares_one_vector(grads)
    np.testing.assert_array_equal(vector, _layout(grads))
    owner = grads[0].W.base  # the memory the views share: sealed too, no way to write
    assert isinstance(owner, np.ndarray)
    assert not owner.flags.writeable


def test_a_fit_keeps_params_and_adam_moments_as_vectors() -> None:
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(30, 5)), rng.integers(0, 3, size=30)
    state = fcfun.fit(SPEC, X, y, optimizer=fcfun.adam(1e-2), epochs=2, batch_size=8, seed=0)
    _shares_one_vector(state.params)
    adam_state = state.opt_state.states[0]
    for moment in (adam_state.mu, adam_state.nu):
        assert isinstance(moment, np.ndarray)
        assert moment.shape == (P,)
        assert not moment.flags.writeable


def test_unflat_is_flats_inverse_and_checks_its_vector() -> None:
    params = fcfun.init(SPEC, seed=3)
    again = fcfun.unflat(SPEC, fcfun.flat(params))
    assert fcfun.fingerprint(again) == fcfun.fingerprint(params)
    stacked = fcfun.unflat(SPEC, np.stack([fcfun.flat(params)] * 2))
    assert [layer.b.shape for layer in stacked] == [(2, 1, 7), (2, 1, 4), (2, 1, 3)]
    with pytest.raises(ValueError, match=rf"vector must be .* shape \({P},\)"):
        fcfun.unflat(SPEC, np.zeros(P + 1))


def test_params_built_by_hand_are_packed_and_another_order_is_not_taken_as_the_vector() -> None:
    params = fcfun.init(SPEC, seed=4)
    by_hand = tuple(fcfun.Dense(np.array(layer.W), np.array(layer.b)) for layer in params)
    np.testing.assert_array_equal(fcfun.flat(by_hand), _layout(by_hand))
    # One buffer, the layers in reverse order: not the layout, so flat packs a new vector.
    buffer = np.arange(float(P))
    sizes = [a.size for layer in params for a in layer][::-1]
    offsets = np.cumsum([0, *sizes])
    pieces = [buffer[o : o + n] for o, n in zip(offsets, sizes, strict=False)][::-1]
    shapes = [a.shape for layer in params for a in layer]
    arrays = [piece.reshape(shape) for piece, shape in zip(pieces, shapes, strict=True)]
    reordered = tuple(fcfun.Dense(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2))
    vector = fcfun.flat(reordered)
    assert not np.shares_memory(vector, buffer)
    np.testing.assert_array_equal(vector, _layout(reordered))


def test_pickled_params_are_a_plain_tuple_whose_vector_is_packed() -> None:
    params = fcfun.init(SPEC, seed=5)
    loaded = pickle.loads(pickle.dumps(params))
    assert type(loaded) is tuple
    np.testing.assert_array_equal(fcfun.flat(loaded), fcfun.flat(params))
    assert fcfun.fingerprint(loaded) == fcfun.fingerprint(params)


def _identity_init(params: object) -> tuple[()]:
    return ()


def test_a_users_flat_update_of_a_wider_dtype_keeps_the_params_dtype() -> None:
    def wider(g: np.ndarray, state: tuple[()], params: object) -> tuple[np.ndarray, tuple[()]]:
        return -0.1 * g.astype(np.float64), state

    def unused(grads: fcfun.Params, state: tuple[()], params: fcfun.Params) -> Any:
        raise AssertionError("the training step runs update_flat")

    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(20, 5)).astype(np.float32), np.arange(20) % 3
    optimizer = fcfun.Optimizer(_identity_init, unused, wider)
    state = fcfun.fit(SPEC, X, y, optimizer=optimizer, epochs=2, batch_size=5, seed=0)
    assert all(a.dtype == np.float32 for layer in state.params for a in layer)


def test_an_update_of_the_wrong_shape_is_refused_in_words() -> None:
    def scalar(g: np.ndarray, state: tuple[()], params: object) -> tuple[Any, tuple[()]]:
        return np.array(-0.5), state

    params = fcfun.init(SPEC, seed=7)
    optimizer = fcfun.Optimizer(_identity_init, lambda g, s, p: (g, s), scalar)
    grads = fcfun.unflat(SPEC, np.ones(P))
    with pytest.raises(ValueError, match=rf"update_flat must return a float array of .* \({P},\)"):
        fcfun.optimizer_step(optimizer)(grads, (), params)


def test_a_run_keeps_no_view_of_a_vector_the_caller_can_write() -> None:
    vector = np.array(fcfun.flat(fcfun.init(SPEC, seed=8)))
    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(10, 5)), np.arange(10) % 3
    start = fcfun.unflat(SPEC, vector)
    state = fcfun.fit(
        SPEC, X, y, optimizer=fcfun.sgd(0.1), epochs=0, batch_size=5, params=start, seed=0
    )
    before = fcfun.fingerprint(state.params)
    vector[0] = 123.0
    assert fcfun.fingerprint(state.params) == before


def test_the_step_seals_no_buffer_it_does_not_own() -> None:
    params = fcfun.init(SPEC, seed=9)
    big = np.arange(200.0)  # the caller's: the gradients are views of its first P values
    grads = fcfun.unflat(SPEC, big[:P])
    optimizer = fcfun.Optimizer(_identity_init, lambda g, s, p: (g, s))
    fcfun.optimizer_step(optimizer)(grads, (), params)
    assert big.flags.writeable


def test_set_scale_and_pack_refuse_what_no_run_holds() -> None:
    state = fcfun.scale_by_plateau().init(fcfun.init(SPEC, seed=0))
    with pytest.raises(ValueError, match=r"scale must be .* \[0, 1\]"):
        fcfun.set_scale(state, 2.0)
    params = fcfun.init(SPEC, seed=0)
    mixed = (params[0]._replace(b=params[0].b.astype(np.float32)), *params[1:])
    with pytest.raises(ValueError, match="params must be of one float dtype"):
        fcfun.flat(mixed)


def test_updates_of_several_dtypes_are_added_in_their_widest() -> None:
    """apply_updates takes updates of any float dtypes, array by array (as before the flat
    layout): each sum is formed in the wider dtype, then rounded once to the params'."""
    params = fcfun.init(SPEC, seed=10, dtype=np.float32)
    updates = tuple(
        fcfun.Dense(np.full(layer.W.shape, 0.1), np.full(layer.b.shape, 0.1, np.float32))
        for layer in params
    )
    new = fcfun.apply_updates(params, updates)
    for got, p, u in zip(
        (a for layer in new for a in layer),
        (a for layer in params for a in layer),
        (a for layer in updates for a in layer),
        strict=True,
    ):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, np.add(p, u).astype(np.float32))
