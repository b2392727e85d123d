"""What makes a built-in fast is a field a user's own value can fill too.

A user-defined activation with an in-place kernel, a loss with a fused kernel, its own
target preparation and metric all run on fcfun's training path; results equal the same
values without the kernels bit for bit. Specs round-trip through the one names codec or
are refused, naming the value; a run composed from the stages equals ``fit``.
"""

from __future__ import annotations

import pathlib
import pickle
import re
from typing import Any

import numpy as np
import pytest
from toolz import pipe

import fcfun
from fcfun._activations import is_builtin_activation

CALLS: dict[str, int] = {}


def _count(name: str) -> None:
    CALLS[name] = CALLS.get(name, 0) + 1


# A user's activation: relu6, min(max(z, 0), 6). Module-level functions, so it pickles.
def relu6_forward(Z: fcfun.FloatArray) -> fcfun.FloatArray:
    _count("forward")
    return np.clip(Z, 0.0, 6.0)


def relu6_backward(
    dA: fcfun.FloatArray, Z: fcfun.FloatArray, A: fcfun.FloatArray
) -> fcfun.FloatArray:
    _count("backward")
    return dA * ((Z > 0) & (Z < 6))


def relu6_forward_in_place(Z: fcfun.FloatArray) -> fcfun.FloatArray:
    # backward reads Z only through 0 < Z < 6, which holds for A = clip(Z) exactly where
    # it holds for Z: the contract that lets A overwrite Z.
    _count("forward_in_place")
    return np.clip(Z, 0.0, 6.0, out=Z)


def relu6_backward_in_place(
    dA: fcfun.FloatArray, Z: fcfun.FloatArray, A: fcfun.FloatArray
) -> fcfun.FloatArray:
    _count("backward_in_place")
    return np.multiply(dA, (Z > 0) & (Z < 6), out=dA)


RELU6_PLAIN = fcfun.Activation("relu6", relu6_forward, relu6_backward)
RELU6_FAST = RELU6_PLAIN._replace(
    forward_in_place=relu6_forward_in_place, backward_in_place=relu6_backward_in_place
)


def _data(m: int = 120) -> tuple[fcfun.FloatArray, Any]:
    rng = np.random.default_rng(3)
    X = rng.normal(0.0, 2.0, (m, 5))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)


def _fit(spec: fcfun.MLP, **overrides: Any) -> fcfun.TrainState[Any]:
    X, y = _data()
    arguments: dict[str, Any] = {
        "optimizer": fcfun.adam(1e-2),
        "epochs": 3,
        "batch_size": 16,
        "seed": 4,
        "validation": (X[:30], y[:30]),
    }
    arguments.update(overrides)
    return fcfun.fit(spec, X, y, **arguments)


def test_a_user_activation_with_in_place_kernels_runs_them_in_training() -> None:
    """Training calls the kernels, never the plain functions; the bits are the same."""
    fast = fcfun.mlp(
        [5, 16, 16, 3], hidden=RELU6_FAST, output="softmax", loss="softmax_cross_entropy"
    )
    plain = fast._replace(activations=(RELU6_PLAIN, RELU6_PLAIN, fcfun.softmax))
    CALLS.clear()
    fast_state = _fit(fast)
    fast_calls = dict(CALLS)
    CALLS.clear()
    plain_state = _fit(plain)
    assert fast_calls.get("forward_in_place", 0) > 0
    assert fast_calls.get("backward_in_place", 0) > 0
    assert "forward" not in fast_calls
    assert "backward" not in fast_calls
    assert CALLS.get("forward", 0) > 0
    assert "forward_in_place" not in CALLS
    assert fcfun.fingerprint(fast_state) == fcfun.fingerprint(plain_state)


def test_the_public_forward_keeps_z_and_never_writes_in_place() -> None:
    """``forward`` returns true pre-activations: the in-place kernel is for fcfun's passes."""
    spec = fcfun.mlp([5, 4, 3], hidden=RELU6_FAST, output="softmax", loss="softmax_cross_entropy")
    params = fcfun.init(spec, seed=0)
    X, _ = _data(6)
    CALLS.clear()
    _, caches = fcfun.forward(spec, params, 10 * X)
    assert "forward_in_place" not in CALLS
    np.testing.assert_array_equal(caches[0].Z, 10 * X @ params[0].W + params[0].b)
    assert (caches[0].Z < 0).any()


def _user_ce_value(A: fcfun.FloatArray, Y: fcfun.FloatArray) -> float:
    return fcfun.softmax_cross_entropy.value(A, Y)


def _user_ce_fused(Z: fcfun.FloatArray, Y: fcfun.FloatArray) -> tuple[float, fcfun.FloatArray]:
    _count("fused")
    fused = fcfun.softmax_cross_entropy.link_value_and_grad
    assert fused is not None
    return fused(Z, Y)


def _user_targets(
    Y: np.ndarray[Any, Any], k: int, dtype: np.dtype[Any], name: str
) -> fcfun.FloatArray:
    _count("targets")
    return fcfun.softmax_cross_entropy.targets(Y, k, dtype, name)


def _user_metric(A: fcfun.FloatArray, Y: fcfun.FloatArray) -> float:
    _count("metric")
    return -1.0


def test_a_user_loss_fills_the_same_fields_as_softmax_cross_entropy() -> None:
    """Its fused kernel, target preparation and default metric are the ones used."""
    builtin = fcfun.softmax_cross_entropy
    user = fcfun.Loss(
        "my_cross_entropy",
        _user_ce_value,
        builtin.grad,
        fcfun.softmax,
        builtin.link_value,
        link_value_and_grad=_user_ce_fused,
        targets=_user_targets,
        metric=_user_metric,
        min_outputs=2,
    )
    spec = fcfun.mlp([5, 8, 3], output="softmax", loss=user)
    CALLS.clear()
    state = _fit(spec)
    assert CALLS["fused"] == 3 * 8  # 120 rows in batches of 16, three epochs
    assert CALLS["targets"] == 2  # training and validation targets, once each per fit
    assert state.history.val_metric == (-1.0, -1.0, -1.0)
    reference = _fit(spec._replace(loss=builtin))
    assert fcfun.fingerprint(state.params) == fcfun.fingerprint(reference.params)
    assert state.history.val_loss == reference.history.val_loss
    with pytest.raises(ValueError, match="at least 2 for my_cross_entropy"):
        fcfun.mlp([5, 1], output="softmax", loss=user)


def test_a_user_activation_named_like_a_built_in_is_refused_by_name_never_swapped(
    tmp_path: pathlib.Path,
) -> None:
    """save and the codec refuse it; pickling keeps it as itself (its functions)."""
    user_tanh = fcfun.Activation("tanh", relu6_forward, relu6_backward)
    assert not is_builtin_activation(user_tanh)
    spec = fcfun.mlp([5, 4, 3], hidden=user_tanh, output="softmax", loss="softmax_cross_entropy")
    state = _fit(spec, epochs=1)
    with pytest.raises(ValueError, match=r"spec.activations\[0\].*user-defined one named 'tanh'"):
        fcfun.save(tmp_path / "run.npz", spec, state)
    assert not (tmp_path / "run.npz").exists()
    with pytest.raises(ValueError, match="user-defined one named 'tanh'"):
        fcfun.spec_names(spec)
    again = pickle.loads(pickle.dumps(spec))
    assert again == spec
    assert again.activations[0].forward is relu6_forward
    assert again.activations[0] != fcfun.tanh


def test_built_in_specs_round_trip_through_the_codec_save_and_pickle(
    tmp_path: pathlib.Path,
) -> None:
    for hidden in ("relu", "tanh", "sigmoid", "softplus", "identity", fcfun.leaky_relu(0.2)):
        spec = fcfun.mlp([5, 4, 3], hidden=hidden, output="softmax", loss="softmax_cross_entropy")
        assert fcfun.spec_from_names(fcfun.spec_names(spec)) == spec
        assert pickle.loads(pickle.dumps(spec)) == spec
        state = _fit(spec, epochs=1)
        fcfun.save(tmp_path / "run.npz", spec, state)
        loaded_spec, loaded = fcfun.load(tmp_path / "run.npz", optimizer=fcfun.adam(1e-2))
        assert loaded_spec == spec
        assert fcfun.fingerprint(loaded) == fcfun.fingerprint(state)


def test_a_run_composed_from_the_stages_equals_fit() -> None:
    """What the README shows a user writing: the same stream, the same last state."""
    X, y = _data()
    spec = fcfun.mlp([5, 16, 3], output="softmax", loss="softmax_cross_entropy")
    rule = fcfun.EarlyStopping(patience=2, monitor="train_loss")
    arguments: dict[str, Any] = {
        "optimizer": fcfun.sgd(0.5),
        "epochs": 40,
        "batch_size": 16,
        "seed": 2,
    }
    logged: list[int] = []
    start = fcfun.TrainState(
        fcfun.init(spec, 2), fcfun.sgd(0.5).init(fcfun.init(spec, 2)), 0, 2, fcfun.History()
    )
    composed = pipe(
        fcfun.fit_iter(spec, X, y, **arguments),
        fcfun.observe(lambda state: logged.append(state.epoch)),
        fcfun.stop_early(rule),
        fcfun.final(start),
    )
    seen: list[int] = []
    fitted = fcfun.fit(
        spec, X, y, **arguments, early_stopping=rule, callback=lambda s: seen.append(s.epoch)
    )
    assert fcfun.fingerprint(composed) == fcfun.fingerprint(fitted)
    assert logged == seen
    assert composed.epoch < 40


def test_no_dispatch_by_identity_outside_the_defining_modules() -> None:
    """The capability rule, checked on the source: nothing asks ``x is relu``, compares a
    value's name with a literal (``.name == "sigmoid"``) or recognises an optimizer's
    update by its type."""
    package = pathlib.Path(fcfun.__file__).parent
    pattern = re.compile(
        r" is (relu|tanh|identity|sigmoid|softmax|softplus|softmax_cross_entropy|"
        r"binary_cross_entropy\w*|half_squared_error|mean_squared_error)\b|isinstance\(update\b"
        r"|\.name\s*[!=]=\s*['\"]"
    )
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(package.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line) and not line.lstrip().startswith((">>>", "..."))
    ]
    assert found == []
