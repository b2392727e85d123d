"""Checkpoints: a spec and a ``TrainState`` in one ``.npz`` file, with no pickle anywhere.

Layout (format version 1): one ``.npy`` array per key, never an object array.

=========================== ======================= ====================================
key                         array                   holds
=========================== ======================= ====================================
``format_version``          int64 ``()``            ``1``
``spec/sizes``              int64 ``(L + 1,)``      ``spec.sizes``
``spec/activations``        str ``(L,)``            activation names, e.g. ``leaky_relu(0.2)``
``spec/loss``               str ``()``              the loss's name
``params/<l>/W``, ``/b``    float32 or float64      layer ``l``'s parameters
``opt_state/<path>``        see below               one per leaf of the optimizer state
``opt_state_structure``     str ``(n, 2)``          ``[key, kind]`` of every state node
``epoch``, ``seed``         int64 ``()``            the counters
``history/train_loss`` ...  float64 ``(n,)``        ``train_loss``, ``val_loss``, ``val_metric``
=========================== ======================= ====================================

The optimizer state is flattened with ``fcfun._tree.flatten(state, prefix="opt_state")``:
an array leaf is stored as is, a ``bool`` / ``int`` / ``float`` as a 0-d bool / int64 /
float64 array, a ``str`` (or an activation's or loss's name) as a 0-d str array, and a
``None`` not at all. ``opt_state_structure`` lists ``fcfun._tree.structure`` of the state,
so a checkpoint says which kind each leaf was and the tree's exact shape.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping
from typing import IO, Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from fcfun._activations import Activation, is_builtin_activation, parse_activation
from fcfun._losses import Loss, is_builtin_loss, parse_loss
from fcfun._spec import MLP, SpecNames, params_dtype, spec_from_names, spec_names
from fcfun._state import History, TrainState
from fcfun._tree import Leaf, flatten, structure, unflatten
from fcfun._types import Dense, Params, freeze
from fcfun._validation import check_int, check_sizes, describe

FORMAT_VERSION = 1
"""The checkpoint layout ``save`` writes and ``load`` reads."""

_HISTORY_FIELDS = History._fields
_FIXED_KEYS = (
    "format_version",
    "spec/sizes",
    "spec/activations",
    "spec/loss",
    "opt_state_structure",
    "epoch",
    "seed",
    *(f"history/{field}" for field in _HISTORY_FIELDS),
)
_OPT_STATE = "opt_state"

# What reading a damaged archive can raise, from zipfile, zlib, numpy's .npy reader and
# the file itself (zipfile raises RuntimeError / NotImplementedError for encrypted or
# unknown compression). A missing path raises FileNotFoundError before any of these.
_UNREADABLE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
)


S = TypeVar("S", covariant=True)
"""The optimizer state's type."""

T = TypeVar("T")


class HasInit(Protocol[S]):
    """Anything with ``init(params) -> state``, such as an fcfun ``Optimizer``."""

    @property
    def init(self) -> Callable[[Params], S]:
        """Build the optimizer's initial state for ``params``."""
        ...


# Writing ----------------------------------------------------------------------------


def save(path: str | os.PathLike[str], spec: MLP, state: TrainState[Any]) -> None:
    """Write ``spec`` and ``state`` to one ``.npz`` checkpoint at ``path``, atomically.

    ``path`` is used exactly as given (no ``.npz`` is appended). The file is written to a
    temporary file in the same directory, flushed and fsynced, then renamed onto
    ``path``: a reader sees the old checkpoint or the new one, never part of one, and
    an error or interruption leaves any previous file untouched and no temporary file
    behind. The new file has the temporary file's mode (readable by its owner only).
    ``spec`` and ``state`` are not modified.

    Args:
        path: where to write; its directory must exist.
        spec: the network's spec; every activation and the loss must be fcfun's own
            (their names are what is saved).
        state: the training state; its optimizer state is a tree of tuples /
            NamedTuples of arrays, bools, ints, floats, strs and ``None``.

    Raises:
        TypeError, ValueError: ``spec`` or ``state`` cannot be saved (params that do not
            fit the spec or are not finite, a custom activation, a leaf of another type,
            a negative epoch, ...); the message names it, and nothing is written.
    """
    entries = _entries(spec, state)
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    name = ""
    try:
        with tempfile.NamedTemporaryFile(
            delete=False, dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".tmp"
        ) as temporary:
            name = temporary.name
            np.savez(temporary, allow_pickle=False, **entries)
            temporary.flush()
            os.fsync(temporary.fileno())
        os.replace(name, target)
    except BaseException:
        if name:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename durable where the platform allows opening a directory."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _entries(spec: MLP, state: TrainState[Any]) -> dict[str, npt.NDArray[Any]]:
    """Every array the checkpoint holds, by key; checks everything first."""
    if not isinstance(spec, MLP):
        raise TypeError(f"spec must be an fcfun MLP (from fcfun.mlp), got {describe(spec)}")
    if not isinstance(state, TrainState):
        raise TypeError(f"state must be an fcfun TrainState, got {describe(state)}")
    names = spec_names(spec)
    params_dtype(spec, state.params)
    entries: dict[str, npt.NDArray[Any]] = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "spec/sizes": np.array(names.sizes, dtype=np.int64),
        "spec/activations": np.array(names.activations, dtype=np.str_),
        "spec/loss": np.array(names.loss, dtype=np.str_),
    }
    for key, leaf in flatten(state.params, prefix="params"):
        entries[key] = np.asarray(leaf)
    for key, leaf in flatten(state.opt_state, prefix=_OPT_STATE):
        if leaf is not None:
            entries[key] = _leaf_array(key, leaf)
    entries["opt_state_structure"] = np.array(
        structure(state.opt_state, prefix=_OPT_STATE), dtype=np.str_
    ).reshape(-1, 2)
    entries["epoch"] = np.array(check_int(state.epoch, "state.epoch", minimum=0), dtype=np.int64)
    entries["seed"] = np.array(check_int(state.seed, "state.seed", minimum=0), dtype=np.int64)
    history = state.history
    if not isinstance(history, History):
        raise TypeError(f"state.history must be an fcfun History, got {describe(history)}")
    for field, values in zip(_HISTORY_FIELDS, history, strict=True):
        entries[f"history/{field}"] = _history_array(f"state.history.{field}", values)
    return entries


def _leaf_array(key: str, leaf: Leaf) -> npt.NDArray[Any]:
    if isinstance(leaf, np.ndarray | np.generic):
        return np.asarray(leaf)
    if isinstance(leaf, bool):
        return np.array(leaf, dtype=np.bool_)
    if isinstance(leaf, int):
        if not -(2**63) <= leaf < 2**63:
            raise ValueError(f"{key} must fit in int64 to be saved, got {leaf}")
        return np.array(leaf, dtype=np.int64)
    if isinstance(leaf, float):
        return np.array(leaf, dtype=np.float64)
    if isinstance(leaf, Activation | Loss):
        builtin = (
            is_builtin_activation(leaf) if isinstance(leaf, Activation) else is_builtin_loss(leaf)
        )
        if not builtin:
            raise ValueError(
                f"{key} must be one of fcfun's own activations or losses to be stored by "
                f"name, got a user-defined one named {leaf.name!r}"
            )
    text = leaf.name if isinstance(leaf, Activation | Loss) else leaf
    array = np.array(text, dtype=np.str_)
    if str(array[()]) != text:  # numpy's str arrays drop trailing NUL characters
        raise ValueError(f"{key} cannot be saved: a str ending in NUL characters, {text!r}")
    return array


def _history_array(where: str, values: object) -> npt.NDArray[np.float64]:
    if not isinstance(values, tuple | list):
        raise TypeError(f"{where} must be a tuple of floats, got {describe(values)}")
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where} must be a tuple of floats: {error}") from None
    if array.ndim != 1:
        raise TypeError(f"{where} must be a flat tuple of floats, got shape {array.shape}")
    return array


# Reading ----------------------------------------------------------------------------


def load(path: str | os.PathLike[str], *, optimizer: HasInit[S]) -> tuple[MLP, TrainState[S]]:
    """Read a checkpoint written by ``save``, checking every key against the spec.

    The optimizer state is rebuilt on ``optimizer.init(params)`` as a template, so it
    comes back with the template's exact types and must match its structure, kinds,
    shapes and dtypes. Every array returned is read-only. Nothing is unpickled.

    Args:
        path: the checkpoint, used exactly as given.
        optimizer: the optimizer the run trains with (anything with ``init(params)``).

    Returns:
        ``(spec, state)``, as given to ``save``.

    >>> import os, tempfile, fcfun
    >>> from fcfun._optimizers import adam
    >>> spec = fcfun.mlp([2, 1], output=fcfun.sigmoid, loss=fcfun.binary_cross_entropy)
    >>> params, optimizer = fcfun.init(spec, seed=0), adam(0.01)
    >>> state = TrainState(params, optimizer.init(params), 0, 0, History())
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     save(os.path.join(directory, "run.ckpt"), spec, state)
    ...     loaded_spec, loaded = load(os.path.join(directory, "run.ckpt"), optimizer=optimizer)
    >>> loaded_spec == spec, loaded.params[0].W.flags.writeable
    (True, False)

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is damaged ("cannot be read as an fcfun checkpoint") or
            is not a valid one (a key missing, unknown, or of the wrong shape or dtype,
            an unknown name, a state that ``optimizer`` does not produce); the
            message names the key.
    """
    shown = repr(os.fspath(path))
    entries = _read(path, shown)
    missing = [key for key in _FIXED_KEYS if key not in entries]
    if missing:
        raise _invalid(shown, f"missing key {missing[0]!r}")
    version = _integer(shown, entries, "format_version")
    if version != FORMAT_VERSION:
        raise _invalid(
            shown, f"format_version is {version}; this fcfun reads version {FORMAT_VERSION}"
        )
    spec = _spec(shown, entries)
    params = _params(shown, entries, spec)
    opt_keys = {key for key in entries if key == _OPT_STATE or key.startswith(_OPT_STATE + "/")}
    unknown = sorted(set(entries) - set(_FIXED_KEYS) - opt_keys - _param_keys(spec))
    if unknown:
        raise _invalid(shown, f"unknown key {unknown[0]!r}")
    opt_state = _opt_state(shown, entries, opt_keys, optimizer.init(params))
    history = History(*(_history(shown, entries, f"history/{f}") for f in _HISTORY_FIELDS))
    epoch = _counter(shown, entries, "epoch")
    seed = _counter(shown, entries, "seed")
    return spec, TrainState(params, opt_state, epoch, seed, history)


def _invalid(shown: str, reason: str) -> ValueError:
    return ValueError(f"{shown} is not a valid fcfun checkpoint: {reason}")


def _unreadable(shown: str, reason: object) -> ValueError:
    return ValueError(f"{shown} cannot be read as an fcfun checkpoint (a .npz archive): {reason}")


def _read(path: str | os.PathLike[str], shown: str) -> dict[str, npt.NDArray[Any]]:
    """Every array in the archive by key (its member name less ``.npy``), read-only."""
    with open(path, "rb") as file:
        try:
            archive = zipfile.ZipFile(file)
        except _UNREADABLE as error:
            raise _unreadable(shown, error) from error
        with archive:
            entries: dict[str, npt.NDArray[Any]] = {}
            for info in archive.infolist():
                key = info.filename.removesuffix(".npy")
                if key == info.filename or key in entries:
                    what = "a second" if key in entries else "a non-.npy"
                    raise _invalid(shown, f"the archive holds {what} member {info.filename!r}")
                try:
                    with archive.open(info) as member:
                        entries[key] = _read_npy(shown, key, member)
                except _UNREADABLE as error:
                    if isinstance(error, _Refused):
                        raise
                    raise _unreadable(shown, f"key {key!r}: {error}") from error
    return entries


class _Refused(ValueError):
    """A readable member that fcfun will not read (an object array)."""


def _read_npy(shown: str, key: str, member: IO[bytes]) -> npt.NDArray[Any]:
    buffer = io.BytesIO(member.read())
    version = np.lib.format.read_magic(buffer)
    if version == (1, 0):
        _, _, dtype = np.lib.format.read_array_header_1_0(buffer)
    elif version == (2, 0):
        _, _, dtype = np.lib.format.read_array_header_2_0(buffer)
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    if dtype.hasobject:
        raise _Refused(
            f"{shown} is not a valid fcfun checkpoint: key {key!r} holds an object array "
            f"(dtype {dtype}), which would need pickle; fcfun never loads those"
        )
    buffer.seek(0)
    array = np.lib.format.read_array(buffer, allow_pickle=False)
    if buffer.read(1):
        raise ValueError("trailing bytes after the array data")
    return freeze(array)


def _array(
    shown: str, entries: Mapping[str, npt.NDArray[Any]], key: str, kinds: str, ndim: int
) -> npt.NDArray[Any]:
    """The array at ``key``, of a dtype kind in ``kinds`` and ``ndim`` dimensions."""
    array = entries[key]
    if array.dtype.kind not in kinds or array.ndim != ndim:
        names = {"i": "integer", "u": "integer", "b": "bool", "f": "float", "U": "str"}
        expected = " or ".join(dict.fromkeys(names[k] for k in kinds))
        raise _invalid(
            shown,
            f"key {key!r} must be a {ndim}-D {expected} array, got {describe(array)}",
        )
    return array


def _integer(shown: str, entries: Mapping[str, npt.NDArray[Any]], key: str) -> int:
    return int(_array(shown, entries, key, "iu", 0))


def _counter(shown: str, entries: Mapping[str, npt.NDArray[Any]], key: str) -> int:
    value = _integer(shown, entries, key)
    if value < 0:
        raise _invalid(shown, f"key {key!r} must be a non-negative integer, got {value}")
    return value


def _spec(shown: str, entries: Mapping[str, npt.NDArray[Any]]) -> MLP:
    stored_sizes = _array(shown, entries, "spec/sizes", "iu", 1).tolist()
    try:
        sizes = check_sizes(stored_sizes)
    except (TypeError, ValueError) as error:
        raise _invalid(shown, f"key 'spec/sizes': {error}") from None
    names = _array(shown, entries, "spec/activations", "U", 1).tolist()
    if len(names) != len(sizes) - 1:
        raise _invalid(
            shown,
            f"key 'spec/activations' must hold {len(sizes) - 1} names for sizes {sizes}, "
            f"got {len(names)}",
        )
    for name in names:
        try:
            parse_activation(name)
        except ValueError as error:
            raise _invalid(shown, f"key 'spec/activations': {error}") from None
    loss_name = str(_array(shown, entries, "spec/loss", "U", 0)[()])
    try:
        parse_loss(loss_name)
    except ValueError as error:
        raise _invalid(shown, f"key 'spec/loss': {error}") from None
    try:
        return spec_from_names(SpecNames(sizes, tuple(names), loss_name))
    except (TypeError, ValueError) as error:
        raise _invalid(shown, f"key 'spec': {error}") from None


def _param_keys(spec: MLP) -> set[str]:
    return {f"params/{layer}/{field}" for layer in range(spec.n_layers) for field in "Wb"}


def _params(shown: str, entries: Mapping[str, npt.NDArray[Any]], spec: MLP) -> Params:
    missing = sorted(_param_keys(spec) - set(entries))
    if missing:
        raise _invalid(shown, f"missing key {missing[0]!r} for sizes {spec.sizes}")
    params = tuple(
        Dense(entries[f"params/{layer}/W"], entries[f"params/{layer}/b"])
        for layer in range(spec.n_layers)
    )
    try:
        params_dtype(spec, params)
    except (TypeError, ValueError) as error:
        raise _invalid(shown, f"the params do not match the spec: {error}") from None
    return params


def _opt_state(
    shown: str, entries: Mapping[str, npt.NDArray[Any]], keys: set[str], template: T
) -> T:
    stored = _array(shown, entries, "opt_state_structure", "U", 2)
    if stored.shape[1:] != (2,):
        raise _invalid(
            shown, f"key 'opt_state_structure' must have shape (n, 2), got {stored.shape}"
        )
    saved = [(str(key), str(kind)) for key, kind in stored.tolist()]
    expected = structure(template, prefix=_OPT_STATE)
    if saved != expected:
        first = next(
            (i for i, (a, b) in enumerate(zip(saved, expected, strict=False)) if a != b),
            min(len(saved), len(expected)),
        )
        got = _node(saved, first)
        want = _node(expected, first)
        raise _invalid(
            shown,
            f"opt_state does not match the optimizer's state: the checkpoint has {got} "
            f"where optimizer.init(params) has {want}",
        )
    kinds = dict(saved)
    leaves: dict[str, object] = {}
    for key, leaf in flatten(template, prefix=_OPT_STATE):
        if leaf is None:
            if key in keys:
                raise _invalid(shown, f"key {key!r} holds data but the state has None there")
            leaves[key] = None
        elif key not in keys:
            raise _invalid(shown, f"missing key {key!r} of the optimizer state")
        else:
            leaves[key] = _leaf(shown, entries, key, kinds[key])
    extra = sorted(keys - set(leaves))
    if extra:
        raise _invalid(shown, f"unknown key {extra[0]!r}: not a leaf of the optimizer state")
    try:
        return unflatten(template, leaves, prefix=_OPT_STATE)
    except (TypeError, ValueError) as error:
        raise _invalid(shown, f"opt_state does not match the optimizer's state: {error}") from None


def _node(nodes: list[tuple[str, str]], index: int) -> str:
    if index >= len(nodes):
        return "nothing more"
    key, kind = nodes[index]
    return f"{kind} at {key!r}"


def _leaf(shown: str, entries: Mapping[str, npt.NDArray[Any]], key: str, kind: str) -> object:
    if kind == "array":
        return entries[key]
    if kind == "int":
        return _integer(shown, entries, key)
    if kind == "bool":
        return bool(_array(shown, entries, key, "b", 0))
    if kind == "float":
        array = _array(shown, entries, key, "f", 0)
        if array.dtype.itemsize != 8:
            raise _invalid(shown, f"key {key!r} must be a float64 scalar, got {array.dtype}")
        return float(array)
    text = str(_array(shown, entries, key, "U", 0)[()])
    try:
        if kind == "activation":
            return parse_activation(text)
        if kind == "loss":
            return parse_loss(text)
    except ValueError as error:
        raise _invalid(shown, f"key {key!r}: {error}") from None
    return text


def _history(shown: str, entries: Mapping[str, npt.NDArray[Any]], key: str) -> tuple[float, ...]:
    array = _array(shown, entries, key, "f", 1)
    if array.dtype.itemsize != 8:
        raise _invalid(shown, f"key {key!r} must be float64, got {array.dtype}")
    return tuple(float(x) for x in array.tolist())
