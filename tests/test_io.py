"""Tests for fcfun._io: checkpoints round-trip exactly, refuse bad files, write atomically."""

from __future__ import annotations

import io
import math
import os
import re
import signal
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pytest

import fcfun
from fcfun._activations import Activation, identity, leaky_relu, relu, sigmoid, softmax, tanh
from fcfun._io import FORMAT_VERSION, _unnamed_file, load, save
from fcfun._losses import (
    binary_cross_entropy,
    half_squared_error,
    mean_squared_error,
    softmax_cross_entropy,
)
from fcfun._network import init, loss_and_grad
from fcfun._optimizers import (
    adam,
    apply_updates,
    chain,
    scale,
    scale_by_adam,
    sgd,
    trace,
)
from fcfun._spec import MLP, mlp
from fcfun._state import History, TrainState
from fcfun._tree import fingerprint, flatten
from fcfun._types import Dense, Params

# A hand-made optimizer whose state nests tuples, NamedTuples and every kind of leaf.


class Slot(NamedTuple):
    velocity: Params
    scale: float


class ToyState(NamedTuple):
    step: int
    slots: tuple[Slot, ...]
    extras: tuple[bool, str, None, np.float64, tuple[()]]


class Toy:
    """An optimizer-like object: only ``init`` is needed to load."""

    def init(self, params: Params) -> ToyState:
        velocity = tuple(Dense(np.zeros_like(p.W), np.zeros_like(p.b)) for p in params)
        return ToyState(0, (Slot(velocity, 1.0),), (False, "toy", None, np.float64(0.0), ()))


def _trained_toy(params: Params) -> ToyState:
    rng = np.random.default_rng(7)
    velocity = tuple(
        Dense(
            rng.normal(size=p.W.shape).astype(p.W.dtype),
            rng.normal(size=p.b.shape).astype(p.b.dtype),
        )
        for p in params
    )
    return ToyState(5, (Slot(velocity, 0.25),), (True, "toy", None, np.float64(2.5), ()))


SPECS = [
    mlp([3, 2], output=sigmoid, loss=binary_cross_entropy),
    mlp([4, 8, 3], hidden=leaky_relu(0.2), output=softmax, loss=softmax_cross_entropy),
    mlp([2, 5, 4, 1], hidden=[tanh, leaky_relu()], output=identity, loss=half_squared_error),
    mlp([3, 6, 2], hidden=relu, output=identity, loss=mean_squared_error),
]


def _state(spec: MLP, dtype: type[np.floating[Any]] = np.float64) -> TrainState[ToyState]:
    params = init(spec, seed=3, dtype=dtype)
    history = History((1.5, 0.75, 0.5), (1.0, 0.9, 0.8), (0.1, 0.2, 0.3))
    return TrainState(params, _trained_toy(params), 3, 11, history)


def _checkpoint(tmp_path: Path) -> tuple[Path, MLP, TrainState[ToyState]]:
    spec = SPECS[1]
    state = _state(spec)
    path = tmp_path / "run.npz"
    save(path, spec, state)
    return path, spec, state


def _arrays(path: Path) -> dict[str, npt.NDArray[Any]]:
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def _write(path: Path, arrays: dict[str, npt.NDArray[Any]], *, allow_pickle: bool = False) -> None:
    with path.open("wb") as file:
        np.savez(file, allow_pickle=allow_pickle, **arrays)


# Round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: "-".join(map(str, spec.sizes)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_keeps_the_fingerprint(
    tmp_path: Path, spec: MLP, dtype: type[np.floating[Any]]
) -> None:
    state = _state(spec, dtype)
    save(tmp_path / "run.npz", spec, state)
    loaded_spec, loaded = load(tmp_path / "run.npz", optimizer=Toy())
    assert fingerprint((loaded_spec, loaded)) == fingerprint((spec, state))
    assert loaded_spec.sizes == spec.sizes
    assert loaded_spec.loss is spec.loss
    assert [a.name for a in loaded_spec.activations] == [a.name for a in spec.activations]
    assert loaded.params[0].W.dtype == dtype
    assert type(loaded.opt_state) is ToyState
    assert type(loaded.opt_state.extras[3]) is np.float64
    assert loaded.history == state.history


def test_round_trip_with_adam_and_a_chain_after_some_steps(tmp_path: Path) -> None:
    spec = SPECS[1]
    X = np.random.default_rng(0).normal(size=(16, 4))
    labels = np.arange(16) % 3
    for optimizer in (
        adam(0.01),
        chain(trace(0.9), scale_by_adam(), scale(-0.1)),
        sgd(0.1, momentum=0.9),
    ):
        params = init(spec, seed=0, dtype=np.float32)
        opt_state = optimizer.init(params)
        for _ in range(3):
            _, grads = loss_and_grad(spec, params, X.astype(np.float32), labels)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            params = apply_updates(params, updates)
        state = TrainState(params, opt_state, 3, 0, History((1.0, 0.9, 0.8)))
        save(tmp_path / "run.npz", spec, state)
        loaded_spec, loaded = load(tmp_path / "run.npz", optimizer=optimizer)
        assert fingerprint((loaded_spec, loaded)) == fingerprint((spec, state))
        # the loaded state trains on exactly as the saved one
        _, grads = loss_and_grad(spec, params, X.astype(np.float32), labels)
        expected, _ = optimizer.update(grads, opt_state, params)
        got, _ = optimizer.update(grads, loaded.opt_state, loaded.params)
        assert fingerprint(got) == fingerprint(expected)


@pytest.mark.parametrize("opt_state", [None, np.arange(3.0), 7, (), ("leaf",)])
def test_round_trip_of_small_states(tmp_path: Path, opt_state: object) -> None:
    class Fixed:
        def init(self, params: Params) -> object:
            return opt_state

    spec = SPECS[0]
    state = TrainState(init(spec, seed=0), opt_state, 0, 0, History())
    save(tmp_path / "run", spec, state)
    loaded_spec, loaded = load(tmp_path / "run", optimizer=Fixed())
    assert fingerprint((loaded_spec, loaded)) == fingerprint((spec, state))


def test_loaded_arrays_are_read_only(tmp_path: Path) -> None:
    path, _, _ = _checkpoint(tmp_path)
    _, loaded = load(path, optimizer=Toy())
    arrays = [leaf for _, leaf in flatten(loaded) if isinstance(leaf, np.ndarray)]
    assert arrays
    assert not any(array.flags.writeable for array in arrays)


def test_the_path_is_used_as_given(tmp_path: Path) -> None:
    spec, state = SPECS[0], _state(SPECS[0])
    save(str(tmp_path / "checkpoint"), spec, state)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint"]
    load(str(tmp_path / "checkpoint"), optimizer=Toy())


def test_the_on_disk_layout(tmp_path: Path) -> None:
    path, spec, _ = _checkpoint(tmp_path)
    arrays = _arrays(path)
    assert int(arrays["format_version"]) == FORMAT_VERSION
    assert arrays["spec/sizes"].dtype == np.int64
    assert arrays["spec/sizes"].tolist() == list(spec.sizes)
    assert arrays["spec/activations"].tolist() == ["leaky_relu(0.2)", "softmax"]
    assert str(arrays["spec/loss"]) == "softmax_cross_entropy"
    assert arrays["opt_state/step"].dtype == np.int64
    assert arrays["opt_state/slots/0/velocity/1/b"].shape == (3,)
    assert "opt_state/extras/2" not in arrays  # None is kept in opt_state_structure only
    assert ["opt_state/extras/2", "none"] in arrays["opt_state_structure"].tolist()
    assert arrays["history/val_metric"].dtype == np.float64
    assert all(array.dtype != object for array in arrays.values())


def test_save_and_load_do_not_mutate_their_inputs(tmp_path: Path) -> None:
    spec = SPECS[1]
    state = _state(spec)
    arrays = [leaf for _, leaf in flatten(state) if isinstance(leaf, np.ndarray)]
    flags = [array.flags.writeable for array in arrays]
    before = fingerprint((spec, state))
    save(tmp_path / "run.npz", spec, state)
    toy = Toy()
    load(tmp_path / "run.npz", optimizer=toy)
    assert fingerprint((spec, state)) == before
    assert [array.flags.writeable for array in arrays] == flags


# Refusals ----------------------------------------------------------------------------


def test_a_missing_path_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.npz", optimizer=Toy())


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: data[:-1],
        lambda data: b"",
        lambda data: np.random.default_rng(0).bytes(len(data)),
        lambda data: b"PK\x03\x04" + np.random.default_rng(1).bytes(200),
        lambda data: data[:100] + bytes(len(data) - 100),
    ],
    ids=["half", "last-byte", "empty", "random", "zip-magic", "zeroed"],
)
def test_damaged_files_cannot_be_read(tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    path, _, _ = _checkpoint(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match="cannot be read as an fcfun checkpoint"):
        load(path, optimizer=Toy())


def test_a_corrupted_member_cannot_be_read(tmp_path: Path) -> None:
    path, _, _ = _checkpoint(tmp_path)
    data = bytearray(path.read_bytes())
    start = data.index(b"params/0/W.npy") + len(b"params/0/W.npy") + 200
    data[start] ^= 0xFF  # a bit flip inside the stored array: the CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"cannot be read as an fcfun checkpoint.*params/0/W"):
        load(path, optimizer=Toy())


def test_a_plain_npy_file_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "array.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match="cannot be read as an fcfun checkpoint"):
        load(path, optimizer=Toy())


def test_an_object_array_is_refused_without_unpickling(tmp_path: Path) -> None:
    path, _, _ = _checkpoint(tmp_path)
    arrays = _arrays(path)
    arrays["spec/loss"] = np.array(["softmax_cross_entropy", {"evil": 1}], dtype=object)
    _write(path, arrays, allow_pickle=True)
    with pytest.raises(ValueError, match="'spec/loss' holds an object array"):
        load(path, optimizer=Toy())


def _refused(
    tmp_path: Path, change: Callable[[dict[str, npt.NDArray[Any]]], object], message: str
) -> None:
    path, _, _ = _checkpoint(tmp_path)
    arrays = _arrays(path)
    change(arrays)
    _write(path, arrays)
    with pytest.raises(ValueError, match=re.escape(message)):
        load(path, optimizer=Toy())


CHANGES: list[tuple[str, Callable[[dict[str, npt.NDArray[Any]]], object], str]] = [
    ("extra", lambda a: a.update(notes=np.array("hi")), "unknown key 'notes'"),
    ("extra-param", lambda a: a.update({"params/2/W": np.zeros(1)}), "unknown key 'params/2/W'"),
    (
        "extra-opt",
        lambda a: a.update({"opt_state/slots/0/extra": np.zeros(1)}),
        "unknown key 'opt_state/slots/0/extra'",
    ),
    ("missing", lambda a: a.pop("seed"), "missing key 'seed'"),
    ("missing-param", lambda a: a.pop("params/1/b"), "missing key 'params/1/b'"),
    (
        "missing-opt",
        lambda a: a.pop("opt_state/slots/0/velocity/0/W"),
        "missing key 'opt_state/slots/0/velocity/0/W'",
    ),
    (
        "shape",
        lambda a: a.update({"params/0/W": np.zeros((8, 4))}),
        "params[0].W must have shape (4, 8)",
    ),
    (
        "dtype",
        lambda a: a.update({"params/1/b": np.zeros(3, np.float32)}),
        "params[1].b must have the dtype of params[0].W",
    ),
    (
        "int-params",
        lambda a: a.update({"params/0/b": np.zeros(8, np.int64)}),
        "params[0].b must have dtype float32 or float64",
    ),
    (
        "opt-shape",
        lambda a: a.update({"opt_state/slots/0/velocity/0/b": np.zeros(9)}),
        "'opt_state/slots/0/velocity/0/b' must have shape (8,)",
    ),
    (
        "opt-dtype",
        lambda a: a.update({"opt_state/slots/0/velocity/0/b": np.zeros(8, np.float32)}),
        "'opt_state/slots/0/velocity/0/b' must have shape (8,) and dtype float64",
    ),
    (
        "opt-int-kind",
        lambda a: a.update({"opt_state/step": np.array(5.0)}),
        "key 'opt_state/step' must be a 0-D integer array",
    ),
    (
        "activation",
        lambda a: a.update({"spec/activations": np.array(["leaky_relu(0.2)", "swish"])}),
        "key 'spec/activations': unknown activation 'swish'",
    ),
    (
        "activation-count",
        lambda a: a.update({"spec/activations": np.array(["softmax"])}),
        "key 'spec/activations' must hold 2 names",
    ),
    ("loss", lambda a: a.update({"spec/loss": np.array("hinge")}), "key 'spec/loss': unknown loss"),
    (
        "sizes",
        lambda a: a.update({"spec/sizes": np.array([4.0, 8.0, 3.0])}),
        "key 'spec/sizes' must be a 1-D integer array",
    ),
    (
        "sizes-short",
        lambda a: a.update({"spec/sizes": np.array([4]), "spec/activations": np.array([""])[:0]}),
        "key 'spec/sizes': sizes must hold at least two layer sizes",
    ),
    (
        "sizes-zero",
        lambda a: a.update({"spec/sizes": np.array([4, 0, 3])}),
        "key 'spec/sizes': sizes[1] must be an integer >= 1, got 0",
    ),
    (
        "version",
        lambda a: a.update(format_version=np.array(2)),
        "format_version is 2; this fcfun reads version 1",
    ),
    (
        "epoch",
        lambda a: a.update(epoch=np.array(-1)),
        "key 'epoch' must be a non-negative integer, got -1",
    ),
    ("seed", lambda a: a.update(seed=np.array([1])), "key 'seed' must be a 0-D integer array"),
    (
        "history",
        lambda a: a.update({"history/val_loss": np.zeros(3, np.float32)}),
        "key 'history/val_loss' must be float64",
    ),
    (
        "structure",
        lambda a: a.update(opt_state_structure=a["opt_state_structure"][:-1]),
        "opt_state does not match the optimizer's state",
    ),
]


@pytest.mark.parametrize(
    ("change", "message"), [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES]
)
def test_invalid_checkpoints_are_refused_naming_the_key(
    tmp_path: Path, change: Callable[[dict[str, npt.NDArray[Any]]], object], message: str
) -> None:
    _refused(tmp_path, change, message)


def test_an_optimizer_state_of_another_optimizer_is_refused(tmp_path: Path) -> None:
    spec = SPECS[1]
    params = init(spec, seed=0)
    save(tmp_path / "run.npz", spec, TrainState(params, adam().init(params), 0, 0, History()))
    with pytest.raises(ValueError, match=r"at 'opt_state/states/0'") as info:
        load(tmp_path / "run.npz", optimizer=sgd(0.1, momentum=0.9))
    assert "TraceState" in str(info.value)
    with pytest.raises(ValueError, match="opt_state does not match"):
        load(tmp_path / "run.npz", optimizer=Toy())


def test_save_refuses_what_it_could_not_load(tmp_path: Path) -> None:
    spec, state = SPECS[1], _state(SPECS[1])
    custom = Activation("swish", relu.forward, relu.backward)
    with pytest.raises(ValueError, match=r"spec.activations\[0\] .* 'swish'"):
        save(tmp_path / "run.npz", spec._replace(activations=(custom, softmax)), state)
    with pytest.raises(TypeError, match="opt_state/extras/1"):
        save(tmp_path / "run.npz", spec, state._replace(opt_state=_with_label(state, ["x"])))
    with pytest.raises(ValueError, match="opt_state/extras/1 cannot be saved: a str ending in NUL"):
        save(tmp_path / "run.npz", spec, state._replace(opt_state=_with_label(state, "x\x00")))
    with pytest.raises(ValueError, match=r"state\.epoch"):
        save(tmp_path / "run.npz", spec, state._replace(epoch=-1))
    with pytest.raises(ValueError, match=r"state\.history\.train_loss must hold at most one value"):
        save(tmp_path / "run.npz", spec, state._replace(epoch=2))
    opt_state = state.opt_state._replace(step=2**64)
    with pytest.raises(ValueError, match="opt_state/step must fit in int64"):
        save(tmp_path / "run.npz", spec, state._replace(opt_state=opt_state))
    with pytest.raises(ValueError, match="params must hold 2 layers"):
        save(tmp_path / "run.npz", spec, state._replace(params=state.params[:1]))
    assert os.listdir(tmp_path) == []


def _with_label(state: TrainState[ToyState], label: Any) -> ToyState:
    extras = state.opt_state.extras
    return state.opt_state._replace(extras=(extras[0], label, *extras[2:]))


# Atomic writes -----------------------------------------------------------------------


@pytest.fixture(params=["unnamed", "named"])
def writer(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """How ``save`` writes: an unnamed file (Linux's O_TMPFILE), or a named one elsewhere."""
    if request.param == "unnamed":
        descriptor = _unnamed_file(str(tmp_path))
        if descriptor is None:
            pytest.skip("this platform or filesystem has no unnamed files (O_TMPFILE)")
        os.close(descriptor)
    else:
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    return str(request.param)


TEMPORARY = re.compile(r"\.run\.npz\.\w+\.tmp")


def _interrupted_savez(
    exception: BaseException, directory: Path, seen: list[list[str]]
) -> Callable[..., None]:
    def savez(file: io.BufferedWriter, *args: Any, **kwds: Any) -> None:
        file.write(b"PK\x03\x04 half of a checkpoint")
        file.flush()
        seen.append(sorted(os.listdir(directory)))
        raise exception

    return savez


@pytest.mark.parametrize("exception", [OSError("disk full"), KeyboardInterrupt()])
def test_an_interrupted_save_leaves_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exception: BaseException, writer: str
) -> None:
    path, spec, state = _checkpoint(tmp_path)
    before = path.read_bytes()
    during: list[list[str]] = []
    monkeypatch.setattr(np, "savez", _interrupted_savez(exception, tmp_path, during))
    with pytest.raises(type(exception)):
        save(path, spec, state._replace(epoch=4))
    monkeypatch.undo()
    # An unnamed file is in no directory listing even while it is written.
    [listing] = during
    if writer == "unnamed":
        assert listing == ["run.npz"]
    else:
        assert len(listing) == 2, listing
        assert TEMPORARY.fullmatch(listing[0]), listing
    assert os.listdir(tmp_path) == ["run.npz"]
    assert path.read_bytes() == before
    _, loaded = load(path, optimizer=Toy())
    assert loaded.epoch == 3


def test_a_failed_rename_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    path, spec, state = _checkpoint(tmp_path)

    def refuse(source: str, target: str) -> None:
        assert TEMPORARY.fullmatch(os.path.basename(source)), source
        raise PermissionError(f"cannot replace {target}")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        save(path, spec, state._replace(epoch=4))
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["run.npz"]
    assert load(path, optimizer=Toy())[1].epoch == 3


def test_save_replaces_an_existing_checkpoint(tmp_path: Path, writer: str) -> None:
    path, spec, state = _checkpoint(tmp_path)
    save(path, spec, state._replace(epoch=9))
    assert load(path, optimizer=Toy())[1].epoch == 9
    assert os.listdir(tmp_path) == ["run.npz"]
    assert path.stat().st_mode & 0o077 == 0  # readable by its owner only


@pytest.mark.parametrize("name", ["c" * 238 + ".npz", "é" * 119 + ".npz"], ids=["ascii", "utf-8"])
def test_a_name_of_242_bytes_saves_and_loads(tmp_path: Path, writer: str, name: str) -> None:
    assert len(os.fsencode(name)) == 242  # the temporary name must not add 14 bytes to it
    spec, state = SPECS[1], _state(SPECS[1])
    save(tmp_path / name, spec, state)
    assert os.listdir(tmp_path) == [name]
    assert (tmp_path / name).stat().st_mode & 0o077 == 0
    loaded_spec, loaded = load(tmp_path / name, optimizer=Toy())
    assert fingerprint((loaded_spec, loaded)) == fingerprint((spec, state))


@pytest.mark.parametrize("path", ["", ".", "..", "inner/", "inner/.."])
def test_a_path_that_names_no_file_is_refused_writing_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    (tmp_path / "inner").mkdir()
    monkeypatch.chdir(tmp_path / "inner")
    spec, state = SPECS[0], _state(SPECS[0])
    with pytest.raises(
        ValueError, match=re.escape(f"path must name a file to write, got {path!r}")
    ):
        save(path, spec, state)
    assert os.listdir(tmp_path) == ["inner"]
    assert os.listdir(tmp_path / "inner") == []


def test_a_relative_name_is_written_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    monkeypatch.chdir(tmp_path)
    save("run.npz", SPECS[0], _state(SPECS[0]))
    assert os.listdir(tmp_path) == ["run.npz"]
    assert load("run.npz", optimizer=Toy())[1].epoch == 3


KILLED = r"""
import os, signal, sys
import numpy as np
import fcfun

path, writer = sys.argv[1], sys.argv[2]
if writer == "named" and hasattr(os, "O_TMPFILE"):
    del os.O_TMPFILE
spec = fcfun.mlp([4, 8, 3], output="softmax", loss="softmax_cross_entropy")
params = fcfun.init(spec, seed=0)
state = fcfun.TrainState(params, fcfun.sgd(0.1).init(params), 0, 0, fcfun.History())

def savez(file, *args, **kwds):
    file.write(bytes(64 << 20))
    file.flush()
    os.kill(os.getpid(), signal.SIGTERM)  # no handler: the process ends here

np.savez = savez
fcfun.save(path, spec, state)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_a_save_killed_by_sigterm(tmp_path: Path, writer: str) -> None:
    """A killed process runs no Python: an unnamed file vanishes, a named one stays."""
    path, _, _ = _checkpoint(tmp_path)
    before = path.read_bytes()
    args = [sys.executable, "-c", KILLED, str(path), writer]
    completed = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == -signal.SIGTERM, completed.stderr
    assert path.read_bytes() == before
    left = sorted(os.listdir(tmp_path))
    if writer == "unnamed":
        assert left == ["run.npz"]
    else:  # the documented leftover of the named fallback
        assert len(left) == 2, left
        assert TEMPORARY.fullmatch(left[0]), left
        assert (tmp_path / left[0]).stat().st_size == 64 << 20


def test_a_checkpoint_records_its_replay_environment(tmp_path: Path) -> None:
    """save writes replay_environment(); a checkpoint without the record still loads."""
    spec = mlp([3, 4, 2], output=softmax, loss=softmax_cross_entropy)
    optimizer = adam(0.01)
    params = init(spec, seed=0)
    state = TrainState(params, optimizer.init(params), 1, 0, History((0.5,)))
    path = tmp_path / "run.npz"
    save(path, spec, state)
    assert fcfun.checkpoint_environment(path) == fcfun.replay_environment()
    with zipfile.ZipFile(path) as archive:
        kept = [
            (info, archive.read(info))
            for info in archive.infolist()
            if not info.filename.startswith("environment/")
        ]
    older = tmp_path / "older.npz"
    with zipfile.ZipFile(older, "w") as archive:
        for info, data in kept:
            archive.writestr(info, data)
    assert fcfun.checkpoint_environment(older) == {}
    loaded_spec, loaded = load(older, optimizer=optimizer)
    assert loaded_spec == spec
    assert fcfun.fingerprint(loaded) == fcfun.fingerprint(state)


# Loaded states are states a run can produce ------------------------------------------

REGRESSION = mlp([3, 4, 1], hidden=tanh, output=identity, loss=half_squared_error)
X_FIT = np.random.default_rng(1).normal(size=(20, 3))
Y_FIT = np.sin(X_FIT @ np.array([1.0, -2.0, 0.5]))


def _lbfgs_run(epochs: int) -> tuple[fcfun.Optimizer[fcfun.LbfgsState], TrainState[Any]]:
    optimizer = fcfun.lbfgs(memory=3, gtol=0.0, ftol=0.0)
    state = fcfun.fit(
        REGRESSION, X_FIT, Y_FIT, optimizer=optimizer, epochs=epochs, batch_size=20,
        shuffle=False, seed=0,
    )  # fmt: skip
    return optimizer, state


def _lbfgs_file(tmp_path: Path) -> tuple[Path, fcfun.Optimizer[fcfun.LbfgsState]]:
    optimizer, state = _lbfgs_run(6)
    assert state.opt_state.status == ""  # a run under way
    assert state.opt_state.pairs == 3
    path = tmp_path / "lbfgs.npz"
    save(path, REGRESSION, state)
    return path, optimizer


Changes = Callable[[dict[str, npt.NDArray[Any]]], object]


def _set(key: str, change: Callable[[npt.NDArray[Any]], object]) -> Changes:
    """A change of the array at ``key``: ``change`` returns its new value."""
    return lambda arrays: arrays.update({key: np.asarray(change(arrays[key]))})


def _with(key: str, index: Any, value: float) -> Callable[[npt.NDArray[Any]], object]:
    def change(array: npt.NDArray[Any]) -> object:
        changed = array.copy()
        changed[index] = value
        return changed

    return change


def _all(*changes: Changes) -> Changes:
    return lambda arrays: [change(arrays) for change in changes]


LBFGS_CHANGES: list[tuple[str, Changes, str]] = [
    ("sy-zero", _set("opt_state/sy", np.zeros_like), "opt_state.sy must be > 0 in its newest 3"),
    (
        "sy-negative",
        _set("opt_state/sy", _with("opt_state/sy", -1, -1.0)),
        "opt_state.sy must be > 0 in its newest 3 entries (the kept pairs' s'y), got -1.0",
    ),
    (
        "zero-gradient",
        _set("opt_state/grad", np.zeros_like),
        "opt_state.grad must be nonzero while the run goes on",
    ),
    (
        "step-0-zero-gradient",
        _all(
            _set("opt_state/step", lambda _: 0),
            _set("opt_state/pairs", lambda _: 0),
            _set("opt_state/grad", np.zeros_like),
        ),
        "opt_state.grad must be nonzero while the run goes on",
    ),
    (
        "pairs-beyond-memory",
        _set("opt_state/pairs", lambda _: 100),
        "opt_state.pairs must be at most the memory 3 and opt_state.step 6, got 100",
    ),
    (
        "pairs-beyond-step",
        _all(_set("opt_state/step", lambda _: 2), _set("opt_state/evaluations", lambda _: 2)),
        "opt_state.pairs must be at most the memory 3 and opt_state.step 2, got 3",
    ),
    ("pairs-negative", _set("opt_state/pairs", lambda _: -1), "opt_state.pairs must be an"),
    ("status", _set("opt_state/status", lambda _: "junk"), "opt_state.status must be one of"),
    ("step", _set("opt_state/step", lambda _: -1), "opt_state.step must be an integer >= 0"),
    (
        "evaluations",
        _set("opt_state/evaluations", lambda _: 1),
        "opt_state.evaluations must be at least opt_state.step 6",
    ),
    ("gamma-zero", _set("opt_state/gamma", lambda _: 0.0), "opt_state.gamma must be a finite"),
    ("gamma-inf", _set("opt_state/gamma", lambda _: np.inf), "opt_state.gamma must be a finite"),
    ("loss-nan", _set("opt_state/loss", lambda _: np.nan), "opt_state.loss must be a finite"),
    (
        "loss-before-evaluation",
        _all(*(_set(f"opt_state/{k}", lambda _: 0) for k in ("step", "evaluations", "pairs"))),
        "opt_state.loss must be NaN and opt_state.status '' before the first evaluation",
    ),
    ("x-nan", _set("opt_state/x", _with("opt_state/x", 0, np.nan)), "opt_state.x must be finite"),
    ("s-inf", _set("opt_state/s", _with("opt_state/s", (0, 0), np.inf)), "opt_state.s must be"),
    ("y-nan", _set("opt_state/y", _with("opt_state/y", (2, 1), np.nan)), "opt_state.y must be"),
    ("grad-inf", _set("opt_state/grad", _with("opt_state/grad", 3, -np.inf)), "opt_state.grad"),
]


@pytest.mark.parametrize(
    ("change", "message"), [c[1:] for c in LBFGS_CHANGES], ids=[c[0] for c in LBFGS_CHANGES]
)
def test_an_lbfgs_state_no_run_produces_is_refused(
    tmp_path: Path, change: Changes, message: str
) -> None:
    path, optimizer = _lbfgs_file(tmp_path)
    load(path, optimizer=optimizer)  # the run's own state loads
    arrays = _arrays(path)
    change(arrays)
    _write(path, arrays)
    with pytest.raises(ValueError, match="a state no run produces: " + re.escape(message)):
        load(path, optimizer=optimizer)


@pytest.mark.parametrize("case", ["sy-zero", "step-0-zero-gradient", "status"])
def test_continuing_an_lbfgs_state_no_run_produces_is_refused(tmp_path: Path, case: str) -> None:
    """fit refuses the states that raised ZeroDivisionError or trained 0 iterations."""
    path, optimizer = _lbfgs_file(tmp_path)
    change, message = next(c[1:] for c in LBFGS_CHANGES if c[0] == case)
    _, state = load(path, optimizer=optimizer)
    arrays = _arrays(path)
    change(arrays)
    fields: dict[str, Any] = {}
    for field in fcfun.LbfgsState._fields:
        value = arrays[f"opt_state/{field}"]
        fields[field] = value.item() if value.ndim == 0 else value
    bad = fcfun.LbfgsState(**fields)
    resumed = state._replace(opt_state=bad)
    with pytest.raises(ValueError, match=re.escape("params." + message)):
        fcfun.fit(REGRESSION, X_FIT, Y_FIT, optimizer=optimizer, epochs=1, batch_size=20,
                  shuffle=False, params=resumed)  # fmt: skip
    with pytest.raises(ValueError, match=re.escape("state." + message)):
        save(tmp_path / "bad.npz", REGRESSION, resumed)


PLATEAU_ADAM = chain(adam(0.01), fcfun.scale_by_plateau())


def _adam_file(tmp_path: Path) -> Path:
    state = fcfun.fit(
        REGRESSION, X_FIT, Y_FIT, optimizer=PLATEAU_ADAM, epochs=2, batch_size=5, seed=0
    )
    path = tmp_path / "adam.npz"
    save(path, REGRESSION, state)
    return path


ADAM = "opt_state/states/0/states/0"  # chain(chain(scale_by_adam, lr), plateau)
PLATEAU = "opt_state/states/1/scale"
STATE_CHANGES: list[tuple[str, Changes, str]] = [
    (
        "adam-step",
        _set(f"{ADAM}/step", lambda _: -1),
        "opt_state.states[0].states[0].step must be an integer >= 0, got -1",
    ),
    (
        "schedule-step",
        _set("opt_state/states/0/states/1/step", lambda _: -3),
        "opt_state.states[0].states[1].step must be an integer >= 0, got -3",
    ),
    (
        "plateau-negative",
        _set(PLATEAU, lambda _: -1.0),
        "opt_state.states[1].scale must be a finite real number in [0, 1], got -1.0",
    ),
    ("plateau-nan", _set(PLATEAU, lambda _: np.nan), "opt_state.states[1].scale must be"),
    ("plateau-inf", _set(PLATEAU, lambda _: np.inf), "opt_state.states[1].scale must be"),
    ("plateau-above-1", _set(PLATEAU, lambda _: 1.5), "opt_state.states[1].scale must be"),
    (
        "adam-mu-nan",
        _set(f"{ADAM}/mu", _with(f"{ADAM}/mu", 3, np.nan)),
        "opt_state.states[0].states[0].mu must be finite, got NaN or inf",
    ),
    (
        "adam-nu-inf",
        _set(f"{ADAM}/nu", _with(f"{ADAM}/nu", 2, np.inf)),
        "opt_state.states[0].states[0].nu must be finite, got NaN or inf",
    ),
]


@pytest.mark.parametrize(
    ("change", "message"), [c[1:] for c in STATE_CHANGES], ids=[c[0] for c in STATE_CHANGES]
)
def test_an_optimizer_state_no_run_produces_is_refused(
    tmp_path: Path, change: Changes, message: str
) -> None:
    path = _adam_file(tmp_path)
    _, state = load(path, optimizer=PLATEAU_ADAM)
    arrays = _arrays(path)
    change(arrays)
    _write(path, arrays)
    with pytest.raises(ValueError, match="a state no run produces: " + re.escape(message)):
        load(path, optimizer=PLATEAU_ADAM)
    # the same state, built in memory, is refused by save and by a continued fit
    leaves = dict(flatten(state.opt_state, prefix="opt_state"))
    for key, leaf in leaves.items():
        if isinstance(leaf, np.ndarray):
            leaves[key] = arrays[key]
        elif leaf is not None:
            leaves[key] = arrays[key].item()  # an int, float, str or bool as saved
    bad = state._replace(opt_state=fcfun.unflatten(state.opt_state, leaves, prefix="opt_state"))
    with pytest.raises(ValueError, match=re.escape("state." + message)):
        save(tmp_path / "bad.npz", REGRESSION, bad)
    with pytest.raises(ValueError, match=re.escape("params." + message)):
        fcfun.fit(REGRESSION, X_FIT, Y_FIT, optimizer=PLATEAU_ADAM, epochs=1, batch_size=5,
                  params=bad)  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("seed", np.uint64(2**64 - 1), "key 'seed' must fit in int64, got 18446744073709551615"),
        (f"{ADAM}/step", np.uint64(2**63), "key 'opt_state/states/0/states/0/step' must fit in"),
    ],
)
def test_an_integer_beyond_int64_is_refused(
    tmp_path: Path, key: str, value: np.uint64, message: str
) -> None:
    path = _adam_file(tmp_path)
    arrays = _arrays(path)
    arrays[key] = np.array(value)
    _write(path, arrays)
    with pytest.raises(ValueError, match=re.escape(message)):
        load(path, optimizer=PLATEAU_ADAM)


class Counted(NamedTuple):
    """A state of the user's own, with an invariant its ``check`` states."""

    steps: int
    rate: float

    def check(self, where: str) -> None:
        if self.steps < 0:
            raise ValueError(f"{where}.steps must be >= 0, got {self.steps}")


def test_a_state_of_the_users_own_is_asked_to_check_itself(tmp_path: Path) -> None:
    class Optimizer:
        def __init__(self, state: Counted) -> None:
            self.state = state

        def init(self, params: Params) -> tuple[Counted]:
            return (self.state,)

    params = init(REGRESSION, seed=0)
    good, bad = Counted(1, np.nan), Counted(-1, 0.5)  # its check answers for its NaN
    save(tmp_path / "run.npz", REGRESSION, TrainState(params, (good,), 0, 0, History()))
    _, state = load(tmp_path / "run.npz", optimizer=Optimizer(good))
    assert state.opt_state[0].steps == 1
    with pytest.raises(ValueError, match=re.escape("state.opt_state[0].steps must be >= 0")):
        save(tmp_path / "run.npz", REGRESSION, TrainState(params, (bad,), 0, 0, History()))
    arrays = _arrays(tmp_path / "run.npz")
    arrays["opt_state/0/steps"] = np.array(-1)
    _write(tmp_path / "run.npz", arrays)
    with pytest.raises(ValueError, match=re.escape("opt_state[0].steps must be >= 0, got -1")):
        load(tmp_path / "run.npz", optimizer=Optimizer(good))


# Non-finite values: the one rule save and load share -----------------------------------


def test_a_fresh_lbfgs_state_saves_loads_and_resumes_as_the_uninterrupted_run(
    tmp_path: Path,
) -> None:
    optimizer, uninterrupted = _lbfgs_run(6)
    params = init(REGRESSION, seed=0)
    fresh = TrainState(params, optimizer.init(params), 0, 0, History())
    assert np.isnan(fresh.opt_state.loss)  # NaN before the first evaluation, by design
    save(tmp_path / "fresh.npz", REGRESSION, fresh)
    _, loaded = load(tmp_path / "fresh.npz", optimizer=optimizer)
    assert fingerprint(loaded) == fingerprint(fresh)
    resumed = fcfun.fit(REGRESSION, X_FIT, Y_FIT, optimizer=optimizer, epochs=6, batch_size=20,
                        shuffle=False, params=loaded)  # fmt: skip
    assert resumed.opt_state.step == 6
    assert fingerprint(resumed) == fingerprint(uninterrupted)


def test_a_state_imported_from_an_lbfgs_mlp_saves(tmp_path: Path) -> None:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    from fcfun.sklearn import FCRegressor

    mlp_model = MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning):
        mlp_model.fit(X_FIT, Y_FIT)
    estimator = FCRegressor.from_sklearn(mlp_model)
    save(tmp_path / "imported.npz", estimator.spec_, estimator.state_)
    _, loaded = load(tmp_path / "imported.npz", optimizer=fcfun.lbfgs())
    assert fingerprint(loaded) == fingerprint(estimator.state_)


def test_a_nan_elsewhere_is_refused_by_save_and_by_load(tmp_path: Path) -> None:
    _, state = _lbfgs_run(2)
    lbfgs_nan = state._replace(opt_state=state.opt_state._replace(loss=math.nan))
    with pytest.raises(ValueError, match=r"state\.opt_state\.loss must be a finite real number"):
        save(tmp_path / "run.npz", REGRESSION, lbfgs_nan)
    params = init(REGRESSION, seed=0)
    opt_state = adam(0.01).init(params)
    mu = opt_state.states[0].mu
    nan_mu = np.full_like(mu, np.nan)
    nan_state = opt_state._replace(
        states=(opt_state.states[0]._replace(mu=nan_mu), *opt_state.states[1:])
    )
    message = "opt_state.states[0].mu must be finite, got NaN or inf"
    with pytest.raises(ValueError, match=re.escape("state." + message)):
        save(tmp_path / "run.npz", REGRESSION, TrainState(params, nan_state, 0, 0, History()))
    assert not (tmp_path / "run.npz").exists()
    save(tmp_path / "run.npz", REGRESSION, TrainState(params, opt_state, 0, 0, History()))
    arrays = _arrays(tmp_path / "run.npz")
    arrays["opt_state/states/0/mu"] = np.full_like(mu, np.nan)
    _write(tmp_path / "run.npz", arrays)
    with pytest.raises(ValueError, match=re.escape("a state no run produces: " + message)):
        load(tmp_path / "run.npz", optimizer=adam(0.01))
