"""One vector per network: params, gradients and optimizer states share one buffer each."""

from __future__ import annotations

import pickle

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
