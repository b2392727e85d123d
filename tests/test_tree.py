"""Tests for fcfun._tree: paths, structure, unflatten's checks and the fingerprint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pytest

from fcfun._activations import leaky_relu, relu, sigmoid, softmax
from fcfun._losses import binary_cross_entropy, softmax_cross_entropy
from fcfun._network import init
from fcfun._spec import MLP, mlp
from fcfun._state import History, TrainState
from fcfun._tree import fingerprint, flatten, kind_of, structure, unflatten
from fcfun._types import Dense, Params

ROOT = Path(__file__).resolve().parents[1]


class Moments(NamedTuple):
    step: int
    mu: Params
    nu: Params


class Extras(NamedTuple):
    rate: float
    nesterov: bool
    label: str
    nothing: None
    scale: np.float64


def _params(dtype: type[np.floating[Any]] = np.float64) -> Params:
    rng = np.random.default_rng(0)
    return tuple(
        Dense(rng.normal(size=(n_in, n_out)).astype(dtype), rng.normal(size=n_out).astype(dtype))
        for n_in, n_out in [(3, 4), (4, 2)]
    )


def _tree() -> tuple[Params, tuple[Moments, Extras, tuple[()]]]:
    params = _params()
    state = (Moments(3, params, params), Extras(0.5, True, "adam", None, np.float64(2.0)), ())
    return params, state


def _flip_bit(array: npt.NDArray[Any], byte: int, bit: int) -> npt.NDArray[Any]:
    flipped = array.copy()
    flipped.reshape(-1).view(np.uint8)[byte] ^= np.uint8(1 << bit)
    return flipped


def test_flatten_paths_follow_fields_and_indices_depth_first() -> None:
    params, state = _tree()
    paths = [path for path, _ in flatten((params, state))]
    assert paths[:4] == ["0/0/W", "0/0/b", "0/1/W", "0/1/b"]
    assert paths[4:6] == ["1/0/step", "1/0/mu/0/W"]
    assert paths[-5:] == ["1/1/rate", "1/1/nesterov", "1/1/label", "1/1/nothing", "1/1/scale"]
    named = dict(flatten(state, prefix="opt_state"))
    assert named["opt_state/0/nu/1/b"] is params[1].b
    assert named["opt_state/1/nothing"] is None


def test_flatten_of_a_leaf_and_of_an_empty_tuple() -> None:
    assert flatten(5, prefix="x") == [("x", 5)]
    assert flatten(()) == []
    assert structure(()) == [("", "tuple[0]")]


def test_structure_lists_interior_nodes_with_their_kinds() -> None:
    _, state = _tree()
    nodes = dict(structure(state))
    assert nodes[""] == "tuple[3]"
    assert nodes["0"] == "Moments(step,mu,nu)"
    assert nodes["0/mu/0"] == "Dense(W,b)"
    assert nodes["1/scale"] == "array"
    assert nodes["2"] == "tuple[0]"


def test_unflatten_rebuilds_exact_types() -> None:
    _, state = _tree()
    leaves = dict(flatten(state))
    leaves["0/step"] = 4
    leaves["1/scale"] = np.array(3.0)  # a 0-d array comes back as the template's scalar
    rebuilt = unflatten(state, leaves)
    assert type(rebuilt[0]) is Moments
    assert type(rebuilt[0].mu[0]) is Dense
    assert rebuilt[0].step == 4
    assert type(rebuilt[1].scale) is np.float64
    assert rebuilt[1].scale == 3.0
    assert rebuilt[2] == ()
    assert np.shares_memory(rebuilt[0].nu[1].W, state[0].nu[1].W)  # no copy
    assert not rebuilt[0].nu[1].W.flags.writeable


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda leaves: leaves.pop("0/mu/1/W"), "'0/mu/1/W' is missing"),
        (lambda leaves: leaves.update({"0/extra": 1}), "'0/extra'"),
        (lambda leaves: leaves.update({"0/step": 3.0}), "'0/step' must be int, got float"),
        (lambda leaves: leaves.update({"1/nesterov": 1}), "'1/nesterov' must be bool"),
        (lambda leaves: leaves.update({"1/nothing": 0}), "'1/nothing' must be none"),
        (lambda leaves: leaves.update({"0/mu/0/b": np.zeros(5)}), "'0/mu/0/b' must have shape"),
        (
            lambda leaves: leaves.update({"0/mu/0/b": np.zeros(4, np.float32)}),
            "'0/mu/0/b' must have shape (4,) and dtype float64",
        ),
    ],
)
def test_unflatten_names_the_path_of_a_mismatch(change: Any, message: str) -> None:
    _, state = _tree()
    leaves: dict[str, object] = dict(flatten(state))
    change(leaves)
    with pytest.raises(ValueError, match=re.escape(message)):
        unflatten(state, leaves)


def test_unknown_leaf_types_raise_type_error_naming_the_path() -> None:
    with pytest.raises(TypeError, match="'1/0' must be a tuple, a NamedTuple or a leaf"):
        flatten((1, ([1, 2],)))
    with pytest.raises(TypeError, match="'0'"):
        fingerprint((print,))
    with pytest.raises(TypeError, match="'x' is an object array"):
        flatten(np.array([{}], dtype=object), prefix="x")
    _, state = _tree()
    with pytest.raises(TypeError, match="'1/label'"):
        unflatten(state, {**dict(flatten(state)), "1/label": b"adam"})


def test_kind_of_tells_numpy_scalars_from_python_numbers() -> None:
    assert kind_of(np.float64(1.0)) == "array"
    assert kind_of(1.0) == "float"
    assert kind_of(np.True_) == "array"
    assert kind_of(True) == "bool"
    assert kind_of(relu) == "activation"
    assert kind_of(binary_cross_entropy) == "loss"


def test_fingerprint_is_a_sha256_hex_digest_and_deterministic() -> None:
    _, state = _tree()
    digest = fingerprint(state)
    assert len(digest) == 64
    assert set(digest) <= set("0123456789abcdef")
    _, again = _tree()
    assert fingerprint(again) == digest


def test_fingerprint_changes_with_one_bit() -> None:
    for dtype in (np.float32, np.float64):
        params = _params(dtype)
        before = fingerprint(params)
        for byte, bit in [(0, 0), (5, 7), (params[0].W.nbytes - 1, 3)]:
            W = _flip_bit(params[0].W, byte, bit)
            assert fingerprint((Dense(W, params[0].b), params[1])) != before
        b = _flip_bit(params[1].b, 0, 0)
        assert fingerprint((params[0], Dense(params[1].W, b))) != before


def test_fingerprint_changes_with_dtype_shape_kind_and_structure() -> None:
    W = np.arange(6.0).reshape(2, 3)
    base = fingerprint((W,))
    variants: list[object] = [
        (W.astype(np.float32),),
        (W.reshape(3, 2),),
        (W.reshape(6),),
        (W.T.copy(),),
        (W, ()),
        ((W,),),
        W,
        (Dense(W, W),),
    ]
    digests = {fingerprint(v) for v in variants}
    assert base not in digests
    assert len(digests) == len(variants)
    scalars: list[object] = [1, 1.0, True, "1", None, np.int64(1), np.float64(1.0), (), (1,)]
    assert len({fingerprint(s) for s in scalars}) == len(scalars)
    assert fingerprint(0.0) != fingerprint(-0.0)
    assert fingerprint(("ab", "c")) != fingerprint(("a", "bc"))


def test_fingerprint_changes_with_epoch() -> None:
    spec, state = _spec_and_state()
    assert fingerprint((spec, state)) != fingerprint((spec, state._replace(epoch=3)))


def test_fingerprint_is_independent_of_byte_order_and_memory_layout() -> None:
    W = np.arange(6.0).reshape(2, 3)
    assert fingerprint(W) == fingerprint(W.astype(">f8"))
    assert fingerprint(W) == fingerprint(np.asfortranarray(W))


def test_fingerprint_of_an_int_beyond_int64_is_refused() -> None:
    with pytest.raises(ValueError, match="'0' must fit in int64"):
        fingerprint((2**63,))


def _spec_and_state() -> tuple[MLP, TrainState[Any]]:
    spec = mlp([3, 5, 2], hidden=leaky_relu(0.2), output=softmax, loss=softmax_cross_entropy)
    params = init(spec, seed=1)
    return spec, TrainState(params, Moments(0, params, params), 2, 1, History((1.0, 0.5)))


def test_specs_are_fingerprinted_by_names() -> None:
    spec, state = _spec_and_state()
    assert fingerprint(spec) == fingerprint(
        mlp([3, 5, 2], hidden=leaky_relu(0.2), output=softmax, loss=softmax_cross_entropy)
    )
    others = [
        mlp([3, 5, 2], hidden=leaky_relu(0.3), output=softmax, loss=softmax_cross_entropy),
        mlp([3, 5, 2], hidden=relu, output=softmax, loss=softmax_cross_entropy),
        mlp([3, 6, 2], hidden=leaky_relu(0.2), output=softmax, loss=softmax_cross_entropy),
        mlp([3, 5, 2], hidden=leaky_relu(0.2), output=sigmoid, loss=binary_cross_entropy),
    ]
    assert fingerprint(spec) not in {fingerprint(other) for other in others}
    assert len(fingerprint((spec, state))) == 64


def test_flatten_and_fingerprint_do_not_mutate() -> None:
    _, state = _tree()
    copies = [np.copy(leaf) for _, leaf in flatten(state) if isinstance(leaf, np.ndarray)]
    flags = [leaf.flags.writeable for _, leaf in flatten(state) if isinstance(leaf, np.ndarray)]
    before = fingerprint(state)
    unflatten(state, dict(flatten(state)))
    structure(state)
    assert fingerprint(state) == before
    arrays = [leaf for _, leaf in flatten(state) if isinstance(leaf, np.ndarray)]
    assert all(np.array_equal(a, c) for a, c in zip(arrays, copies, strict=True))
    assert [a.flags.writeable for a in arrays] == flags


_SUBPROCESS = """
import numpy as np
from fcfun._activations import leaky_relu, softmax
from fcfun._losses import softmax_cross_entropy
from fcfun._network import init
from fcfun._spec import mlp
from fcfun._state import History, TrainState
from fcfun._tree import fingerprint
spec = mlp([3, 5, 2], hidden=leaky_relu(0.2), output=softmax, loss=softmax_cross_entropy)
params = init(spec, seed=1, dtype=np.float32)
state = TrainState(params, (0, params, ("x", None, True, 0.5)), 2, 1, History((1.0, 0.5)))
print(fingerprint((spec, state)))
"""


def test_fingerprint_is_stable_across_processes() -> None:
    digests = []
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", _SUBPROCESS],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        digests.append(result.stdout.strip())
    spec = mlp([3, 5, 2], hidden=leaky_relu(0.2), output=softmax, loss=softmax_cross_entropy)
    params = init(spec, seed=1, dtype=np.float32)
    state = TrainState(params, (0, params, ("x", None, True, 0.5)), 2, 1, History((1.0, 0.5)))
    assert digests == [fingerprint((spec, state))] * 2
