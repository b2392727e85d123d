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
``environment/<name>``      str ``()``              the writer's ``replay_environment()``
=========================== ======================= ====================================

The ``environment/`` keys are optional (earlier checkpoints lack them); ``load`` never
needs them and ``checkpoint_environment`` reads only them.

The optimizer state is flattened with ``fcfun._tree.flatten(state, prefix="opt_state")``:
an array leaf is stored as is, a ``bool`` / ``int`` / ``float`` as a 0-d bool / int64 /
float64 array, a ``str`` (or an activation's or loss's name) as a 0-d str array, and a
``None`` not at all. ``opt_state_structure`` lists ``fcfun._tree.structure`` of the state,
so a checkpoint says which kind each leaf was and the tree's exact shape.

A file from anyone: ``load`` refuses what is not a regular file before opening it (a FIFO
or a device never blocks it), opens only the members the layout names, and reads each
member's ``.npy`` header before its data. The header must fit what is known by then: the
spec (read first) sizes the params, ``optimizer.init(params)`` sizes every optimizer-state
member and ``opt_state_structure``, and a name is at most 256 characters (a ``str`` leaf
1024, or its template's length). The archive's directory must give the member exactly the
header's size, and the data is read in chunks up to one byte past that size. So a member
costs what the spec and the template say it holds, however much its stream claims or
decompresses to; only the history arrays, which nothing else sizes, cost what their
stream really holds. Members compressed other than by deflate are refused (zipfile's
bzip2 and lzma readers expand a whole block at once, however far).

A byte budget bounds the whole load: every member's data, as its header declares it,
is charged to it before any of that data is read, and a member that does not fit is
refused. ``load(..., max_bytes=)`` sets it; by default it follows from the file's size.
A stored member's data lies in the file, so the members of an archive with stored
members only hold at most the file's size. A deflated one may expand up to 1032 times
(deflate's limit); the default allows ``_DEFLATE_RATIO`` (100) times the file's size
when any member is deflated: more than a ``np.savez_compressed`` checkpoint of a fresh
L-BFGS state needs (its pairs are zeros: about 20 times for memory 10, 84 for memory
50), far less than a file of zeros. The history is bounded by the epoch count too (one
value per epoch at most).

A state no run produces is refused by ``save`` and ``load`` alike, by one rule
(``fcfun._tree.check_values``, which a continued ``TrainState`` meets too): a state
type with invariants checks them itself (``LbfgsState``: counts, pairs within memory
with ``s'y > 0``, a known status, NaN loss only before the first evaluation; Adam's and
a schedule's counts; a plateau scale in ``[0, 1]``), and every other float must be
finite.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import stat
import struct
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, NamedTuple, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from fcfun._activations import Activation, is_builtin_activation, parse_activation
from fcfun._environment import replay_environment
from fcfun._losses import Loss, is_builtin_loss, parse_loss
from fcfun._spec import MLP, SpecNames, params_dtype, spec_from_names, spec_names
from fcfun._state import History, TrainState
from fcfun._tree import Leaf, check_values, flatten, structure, unflatten
from fcfun._types import Dense, Params, freeze
from fcfun._validation import check_int, check_seed, check_sizes, describe

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
_DROPOUT = "spec/dropout"
"""Optional: the hidden layers' dropout rates (absent for a spec without dropout)."""
_ENVIRONMENT = tuple(f"environment/{name}" for name in replay_environment())
"""The replay record's keys: optional (checkpoints of earlier fcfun versions lack them)."""

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

# Limits on what a member may declare, where neither the spec nor the template sizes it.
_HEADER_BYTES = 10_000
"""The longest ``.npy`` header read: numpy's own limit (``max_header_size``)."""
_NAME_CHARS = 256
"""The longest activation or loss name read (fcfun's own are under 40 characters)."""
_TEXT_CHARS = 1024
"""The longest ``str`` leaf of an optimizer state read, or its template's length if longer."""
_CHUNK = 1 << 20
"""Bytes of member data asked for at a time."""
_DEFLATE_RATIO = 100
"""The default budget of an archive with deflated members, per byte of the file."""
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
"""The members ``load`` reads: stored (``np.savez``) or deflated (``np.savez_compressed``).
zipfile inflates a deflated member only as far as each read asks; its bzip2 and lzma
readers decompress a whole chunk of input at once, with no limit on what it expands to."""
_METHOD_NAMES = {zipfile.ZIP_BZIP2: " (bzip2)", zipfile.ZIP_LZMA: " (lzma)"}


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

    ``path`` is used exactly as given (no ``.npz`` is appended). The file is written in
    the same directory, flushed and fsynced, then renamed onto ``path``: a reader sees
    the old checkpoint or the new one, never part of one, and an error leaves any
    previous file untouched. The new file is readable by its owner only. ``spec`` and
    ``state`` are not modified.

    What an interrupted save leaves: where Linux has unnamed files (``O_TMPFILE``; most
    local filesystems), the data goes to a file with no name, which the kernel deletes
    if the process dies for any reason (SIGTERM, SIGKILL, power loss); it is named
    ``.<name>.<random>.tmp`` only between linking it into the directory and renaming it
    onto ``path``, two system calls, so a process killed in that instant leaves it.
    Elsewhere the data goes to a file of that name from the start: an exception
    (``KeyboardInterrupt`` too) removes it, but a process killed by a signal, which runs
    no Python code, leaves it behind. ``<name>`` is the first 64 bytes of ``path``'s
    name, so the temporary name always fits wherever ``path``'s own name does.

    Args:
        path: where to write: a file name, in a directory that exists.
        spec: the network's spec; every activation and the loss must be fcfun's own
            (their names are what is saved).
        state: the training state; its optimizer state is a tree of tuples /
            NamedTuples of arrays, bools, ints, floats, strs and ``None``.

    Raises:
        TypeError, ValueError: ``path`` names no file (``""``, a directory's path ending
            in a separator, ``.`` or ``..``), or ``spec`` or ``state`` cannot be saved
            (params that do not fit the spec or are not finite, a custom activation, a
            leaf of another type, a negative epoch, a history longer than the epoch
            count, an optimizer state no run produces: a NaN or inf other than L-BFGS's
            loss before its first evaluation, a count below 0, ...); the message names
            it, and nothing is written.
    """
    target = os.fspath(path)
    directory, name = os.path.split(target)
    if name in ("", os.curdir, os.pardir):
        raise ValueError(f"path must name a file to write, got {target!r}")
    entries = _entries(spec, state)
    directory = directory or os.curdir
    hint = _hint(name)
    temporary = ""
    try:
        descriptor = _unnamed_file(directory)
        if descriptor is None:
            descriptor, temporary = tempfile.mkstemp(
                dir=directory, prefix=f".{hint}.", suffix=".tmp"
            )
        with open(descriptor, "wb") as file:
            np.savez(file, allow_pickle=False, **entries)
            file.flush()
            os.fsync(file.fileno())
            if not temporary:
                temporary = _link(file.fileno(), directory, hint)
        os.replace(temporary, target)
    except BaseException:
        if temporary:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _hint(name: str) -> str:
    """The start of ``name`` for a temporary file's name: at most 64 bytes of it."""
    hint = name[:64]
    while len(os.fsencode(hint)) > 64:
        hint = hint[:-1]
    return hint


def _unnamed_file(directory: str) -> int | None:
    """A file with no name in ``directory``, open for writing, or None where there is none.

    Linux's ``O_TMPFILE`` (some filesystems lack it: then ``open`` fails and the caller
    uses a named file, which also reports a directory that does not exist). It gets a
    name through ``/proc/self/fd``, so it needs ``/proc`` too.
    """
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(directory, flag | os.O_WRONLY, 0o600)
    except OSError:
        return None


def _link(descriptor: int, directory: str, hint: str) -> str:
    """Give the unnamed file open at ``descriptor`` a new name in ``directory``; the path."""
    # linkat(AT_SYMLINK_FOLLOW) on the /proc link, as open(2) shows: a dir_fd makes Python
    # call linkat, since plain link(2) on Linux would link the /proc symlink itself.
    directory_descriptor = os.open(directory, os.O_RDONLY)
    try:
        for _ in range(100):
            name = f".{hint}.{os.urandom(6).hex()}.tmp"
            try:
                os.link(
                    f"/proc/self/fd/{descriptor}",
                    name,
                    dst_dir_fd=directory_descriptor,
                    follow_symlinks=True,
                )
            except FileExistsError:
                continue
            return os.path.join(directory, name)
    finally:
        os.close(directory_descriptor)
    raise FileExistsError(f"no free temporary name for .{hint}.*.tmp in {directory!r}")


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
    if names.dropout:  # optional: a checkpoint of a spec without dropout has no such key
        entries[_DROPOUT] = np.array(names.dropout, dtype=np.float64)
    for key, leaf in flatten(state.params, prefix="params"):
        entries[key] = np.asarray(leaf)
    for key, leaf in flatten(state.opt_state, prefix=_OPT_STATE):
        if leaf is not None:
            entries[key] = _leaf_array(key, leaf)
    check_values(state.opt_state, "state.opt_state")  # the rule load applies
    entries["opt_state_structure"] = np.array(
        structure(state.opt_state, prefix=_OPT_STATE), dtype=np.str_
    ).reshape(-1, 2)
    entries["epoch"] = np.array(check_int(state.epoch, "state.epoch", minimum=0), dtype=np.int64)
    entries["seed"] = np.array(check_int(state.seed, "state.seed", minimum=0), dtype=np.int64)
    history = state.history
    if not isinstance(history, History):
        raise TypeError(f"state.history must be an fcfun History, got {describe(history)}")
    epoch = int(entries["epoch"])
    for field, values in zip(_HISTORY_FIELDS, history, strict=True):
        entries[f"history/{field}"] = _history_array(f"state.history.{field}", values)
        if len(entries[f"history/{field}"]) > epoch:  # as load refuses it
            raise ValueError(
                f"state.history.{field} must hold at most one value per epoch, "
                f"{epoch} for state.epoch {epoch}, got {len(values)}"
            )
    for name, value in replay_environment().items():
        entries[f"environment/{name}"] = np.array(value[:_RECORD_CHARS], dtype=np.str_)
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


def load(
    path: str | os.PathLike[str], *, optimizer: HasInit[S], max_bytes: int | None = None
) -> tuple[MLP, TrainState[S]]:
    """Read a checkpoint written by ``save``, checking every key against the spec.

    The optimizer state is rebuilt on ``optimizer.init(params)`` as a template, so it
    comes back with the template's exact types and must match its structure, kinds,
    shapes and dtypes. Every array returned is read-only. Nothing is unpickled. A file
    from anyone is safe to try: a member is refused from its ``.npy`` header when it
    declares more than the spec or the template lets it hold, or more than is left of
    the byte budget, and no member's data is read past what its header declares (see
    the module docstring).

    Args:
        path: the checkpoint, used exactly as given.
        optimizer: the optimizer the run trains with (anything with ``init(params)``).
        max_bytes: the most bytes of member data to read, all members together (``None``:
            the file's size, or 100 times it if a member is deflated).

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
        ValueError: the file is not a regular file or is damaged ("cannot be read as an
            fcfun checkpoint"), or is not a valid one (a key missing, unknown, or of the
            wrong shape or dtype or declaring more data than it may hold, an unknown
            name, a state that ``optimizer`` does not produce, a member over the byte
            budget); the message names the key.
        TypeError: ``max_bytes`` is not an integer.
    """
    if not callable(getattr(optimizer, "init", None)):
        raise TypeError(
            f"optimizer must be the run's optimizer (anything with init(params)), got "
            f"{describe(optimizer)}"
        )
    if max_bytes is not None:
        max_bytes = check_int(max_bytes, "max_bytes", minimum=0)
    shown = repr(os.fspath(path))
    with _open(path, shown, max_bytes) as archive:
        return _checkpoint(archive, optimizer)


def _invalid(shown: str, reason: str) -> ValueError:
    return ValueError(f"{shown} is not a valid fcfun checkpoint: {reason}")


def _unreadable(shown: str, reason: object) -> ValueError:
    return ValueError(f"{shown} cannot be read as an fcfun checkpoint (a .npz archive): {reason}")


class _Budget:
    """The bytes of member data a load may still read: the one value a load changes."""

    __slots__ = ("left", "total", "why")

    def __init__(self, total: int, why: str) -> None:
        self.left, self.total, self.why = total, total, why

    def charge(self, shown: str, key: str, size: int) -> None:
        """Take ``size`` bytes for the member at ``key``, or refuse it before its data."""
        if size > self.left:
            raise ValueError(
                f"{shown} is over the load's byte budget: key {key!r} must fit in the "
                f"{self.left} bytes left of the budget of {self.total} bytes ({self.why}), "
                f"got a member that declares {size} bytes; pass load(..., max_bytes=) to "
                "allow more"
            )
        self.left -= size


def _default_budget(file_size: int, members: Mapping[str, zipfile.ZipInfo]) -> _Budget:
    """What the file's size allows its members to hold (see the module docstring)."""
    if any(info.compress_type == zipfile.ZIP_DEFLATED for info in members.values()):
        why = f"{_DEFLATE_RATIO} times the file's size, as it has deflated members"
        return _Budget(_DEFLATE_RATIO * file_size, why)
    return _Budget(file_size, "the file's size, as its members are stored")


class _Archive(NamedTuple):
    """An open checkpoint: its name for messages, its zip, its members by key, and the
    bytes of data left to read."""

    shown: str
    zip: zipfile.ZipFile
    members: Mapping[str, zipfile.ZipInfo]
    budget: _Budget


_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _regular(shown: str, mode: int) -> None:
    """Refuse anything but a regular file: reading a FIFO or a device may never end."""
    if not stat.S_ISREG(mode):
        what = next((name for is_type, name in _FILE_TYPES if is_type(mode)), "a special file")
        raise _unreadable(shown, f"it must be a regular file, got {what}")


@contextlib.contextmanager
def _open(
    path: str | os.PathLike[str], shown: str, max_bytes: int | None = None
) -> Iterator[_Archive]:
    """The archive at ``path``, once it is known to be a regular file, with its budget:
    ``max_bytes`` or what the file's size allows."""
    _regular(shown, os.stat(path).st_mode)
    # Were the path replaced by a FIFO since the stat, O_NONBLOCK opens it at once and the
    # fstat refuses it; for a regular file the flag changes nothing, and is cleared.
    nonblocking = getattr(os, "O_NONBLOCK", 0)
    with open(os.open(path, os.O_RDONLY | nonblocking | getattr(os, "O_BINARY", 0)), "rb") as file:
        status = os.fstat(file.fileno())
        _regular(shown, status.st_mode)
        if nonblocking:
            os.set_blocking(file.fileno(), True)
        try:
            archive = zipfile.ZipFile(file)
        except _UNREADABLE as error:
            raise _unreadable(shown, error) from error
        with archive:
            members: dict[str, zipfile.ZipInfo] = {}
            for info in archive.infolist():
                key = info.filename.removesuffix(".npy")
                if key == info.filename or key in members:
                    what = "a second" if key in members else "a non-.npy"
                    raise _invalid(shown, f"the archive holds {what} member {info.filename!r}")
                members[key] = info
            budget = (
                _default_budget(status.st_size, members)
                if max_bytes is None
                else _Budget(max_bytes, "max_bytes")
            )
            yield _Archive(shown, archive, members, budget)


def _checkpoint(archive: _Archive, optimizer: HasInit[S]) -> tuple[MLP, TrainState[S]]:
    """Read and check every member, in an order where each one's size is known first."""
    shown, members = archive.shown, archive.members
    missing = [key for key in _FIXED_KEYS if key not in members]
    if missing:
        raise _invalid(shown, f"missing key {missing[0]!r}")
    version = _integer(archive, "format_version")
    if version != FORMAT_VERSION:
        raise _invalid(
            shown, f"format_version is {version}; this fcfun reads version {FORMAT_VERSION}"
        )
    spec = _spec(archive)
    params = _params(archive, spec)
    opt_keys = {key for key in members if key == _OPT_STATE or key.startswith(_OPT_STATE + "/")}
    known = {*_FIXED_KEYS, _DROPOUT, *_ENVIRONMENT, *opt_keys, *_param_keys(spec)}
    unknown = sorted(set(members) - known)
    if unknown:
        raise _invalid(shown, f"unknown key {unknown[0]!r}")
    opt_state = _opt_state(archive, opt_keys, optimizer.init(params))
    epoch = _counter(archive, "epoch")
    seed = _counter(archive, "seed")
    try:
        seed = check_seed(seed)
    except ValueError as error:
        raise _invalid(shown, f"key 'seed': {error}") from None
    history = History(*(_history(archive, f"history/{field}", epoch) for field in _HISTORY_FIELDS))
    return spec, TrainState(params, opt_state, epoch, seed, history)


# One member ---------------------------------------------------------------------------


class _Bound(NamedTuple):
    """What a member may hold, known before any of its data is read.

    ``kinds``: the dtype kinds allowed (``""``: any but object); ``ndim``: its number of
    dimensions (``None``: any); ``max_values``: the most values (``None``: as many as the
    member holds); ``max_itemsize``: the most bytes a value; ``why``: what sets the limits,
    for the message; ``exactly``: the one shape and dtype allowed, if there is one.
    """

    kinds: str
    ndim: int | None
    max_values: int | None
    max_itemsize: int
    why: str
    exactly: tuple[tuple[int, ...], np.dtype[Any]] | None = None


class _Header(NamedTuple):
    """A member's ``.npy`` header, and its ``length`` in bytes (all that precedes the data)."""

    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype[Any]
    length: int


_KIND_NAMES = {"i": "integer", "u": "integer", "b": "bool", "f": "float", "U": "str"}


def _read(archive: _Archive, key: str, bound: _Bound) -> npt.NDArray[Any]:
    """The member at ``key``, read-only, if its header fits ``bound``.

    The header is read and checked before any data; then exactly the data it declares is
    read, one chunk at a time, and one byte more to see the member end there.
    """
    shown, info = archive.shown, archive.members[key]
    if info.compress_type not in _COMPRESSIONS:
        raise _unreadable(
            shown,
            f"key {key!r} is compressed with zip method {info.compress_type}"
            f"{_METHOD_NAMES.get(info.compress_type, '')}; fcfun reads stored or deflated "
            f"members only",
        )
    with contextlib.ExitStack() as stack:
        with _damage(shown, key):
            member = stack.enter_context(archive.zip.open(info))
            header = _header(member)
        _check(shown, key, header, bound)
        size = math.prod(header.shape) * header.dtype.itemsize
        archive.budget.charge(shown, key, size)
        with _damage(shown, key):
            if info.file_size != header.length + size:
                raise ValueError(
                    f"the archive's directory gives the member {info.file_size} bytes, its "
                    f".npy header {header.length + size}"
                )
            data = _data(member, size)
            if size == 0:
                return freeze(np.zeros(header.shape, header.dtype))
            array = np.frombuffer(data, dtype=header.dtype)
            return freeze(array.reshape(header.shape, order="F" if header.fortran_order else "C"))


@contextlib.contextmanager
def _damage(shown: str, key: str) -> Iterator[None]:
    """Report what reading the member at ``key`` raises as damage to the archive there."""
    try:
        yield
    except _UNREADABLE as error:
        raise _unreadable(shown, f"key {key!r}: {error}") from error


def _exactly(member: IO[bytes], size: int, what: str) -> bytes:
    data = member.read(size)
    if len(data) != size:
        raise ValueError(f"the member ends inside {what}")
    return data


def _header(member: IO[bytes]) -> _Header:
    """Parse a ``.npy`` header, reading at most ``_HEADER_BYTES`` of it."""
    start = _exactly(member, 8, "the .npy magic string")
    version = np.lib.format.read_magic(io.BytesIO(start))
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"unsupported .npy format version {version}")
    length_bytes = _exactly(member, 2 if version == (1, 0) else 4, "the .npy header")
    length = int.from_bytes(length_bytes, "little")
    if length > _HEADER_BYTES:
        raise ValueError(f"a .npy header of {length} bytes; fcfun reads at most {_HEADER_BYTES}")
    buffer = io.BytesIO(start + length_bytes + _exactly(member, length, "the .npy header"))
    np.lib.format.read_magic(buffer)
    read = (
        np.lib.format.read_array_header_1_0
        if version == (1, 0)
        else np.lib.format.read_array_header_2_0
    )
    try:
        shape, fortran_order, dtype = read(buffer)
    except (tokenize.TokenError, SyntaxError, RecursionError) as error:
        # numpy re-tokenizes a header it cannot parse (one from Python 2), and lets these out
        raise ValueError(f"cannot parse the .npy header: {error}") from None
    if not all(0 <= n < 2**63 for n in shape):
        raise ValueError(f"the .npy header declares shape {shape}")
    return _Header(tuple(int(n) for n in shape), bool(fortran_order), dtype, buffer.tell())


def _described(header: _Header) -> str:
    return f"an array of shape {header.shape} and dtype {header.dtype}"


def _check(shown: str, key: str, header: _Header, bound: _Bound) -> None:
    """Refuse a header that does not fit ``bound``, before any of the data is read."""
    dtype, shape = header.dtype, header.shape
    if dtype.hasobject:
        raise _invalid(
            shown,
            f"key {key!r} holds an object array (dtype {dtype}), which would need pickle; "
            f"fcfun never loads those",
        )
    if bound.exactly is not None and (shape, dtype) != bound.exactly:
        raise _invalid(
            shown,
            f"key {key!r} must have shape {bound.exactly[0]} and dtype {bound.exactly[1]} "
            f"({bound.why}), got shape {shape} and dtype {dtype}",
        )
    if bound.kinds and (dtype.kind not in bound.kinds or len(shape) != bound.ndim):
        expected = " or ".join(dict.fromkeys(_KIND_NAMES[kind] for kind in bound.kinds))
        raise _invalid(
            shown,
            f"key {key!r} must be a {bound.ndim}-D {expected} array, got {_described(header)}",
        )
    count = math.prod(shape)
    if (
        bound.max_values is not None and count > bound.max_values
    ) or dtype.itemsize > bound.max_itemsize:
        most = (
            "values"
            if bound.max_values is None
            else f"at most {bound.max_values} value{'' if bound.max_values == 1 else 's'}"
        )
        raise _invalid(
            shown,
            f"key {key!r} declares {_described(header)}, more than it may hold: {most} of at "
            f"most {bound.max_itemsize} bytes each ({bound.why})",
        )
    if count and not dtype.itemsize:
        raise _invalid(
            shown,
            f"key {key!r} declares {_described(header)}, whose values have no bytes, "
            f"which fcfun never writes",
        )


def _data(member: IO[bytes], size: int) -> bytearray:
    """Exactly ``size`` bytes from ``member``, which must end there; never more read."""
    data = bytearray()
    while len(data) <= size:
        chunk = member.read(min(_CHUNK, size + 1 - len(data)))
        if not chunk:
            break
        data += chunk
    if len(data) > size:
        raise ValueError(f"the member's data runs past the {size} bytes its .npy header declares")
    if len(data) < size:
        raise ValueError(
            f"the member's data ends after {len(data)} of the {size} bytes its .npy header declares"
        )
    return data


# The keys -----------------------------------------------------------------------------

_INTEGER = _Bound("iu", 0, 1, 8, "one integer")
_BOOL = _Bound("b", 0, 1, 1, "one bool")
_FLOAT = _Bound("f", 0, 1, 16, "one float")
_HISTORY = _Bound("f", 1, None, 16, "a history of floats")


def _text(chars: int, why: str) -> _Bound:
    """One str of at most ``chars`` characters (numpy stores 4 bytes a character)."""
    return _Bound("U", 0, 1, 4 * chars, f"{why}, of at most {chars} characters")


_RECORD_CHARS = 1024
"""The longest value of the replay record a checkpoint keeps."""


def checkpoint_environment(path: str | os.PathLike[str]) -> dict[str, str]:
    """The replay record (``replay_environment()``) of the process that wrote a checkpoint.

    Compare it with this process's ``replay_environment()``: where they are equal, a run
    continued from the checkpoint gives the same bits as it did there. Checkpoints of
    earlier fcfun versions have no record (an empty dict). Only the record's members are
    read, each bounded like any other member.

    >>> import os, tempfile, fcfun
    >>> spec = fcfun.mlp([2, 1], output="sigmoid", loss="binary_cross_entropy")
    >>> state = fcfun.fit(spec, [[0.0, 1.0]], [1], optimizer=fcfun.sgd(0.1), epochs=1,
    ...                   batch_size=1, seed=0)
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     fcfun.save(os.path.join(directory, "run.npz"), spec, state)
    ...     record = checkpoint_environment(os.path.join(directory, "run.npz"))
    >>> record == fcfun.replay_environment()
    True
    """
    shown = repr(os.fspath(path))
    bound = _text(_RECORD_CHARS, "a replay record's value")
    with _open(path, shown) as archive:
        return {
            key.removeprefix("environment/"): str(_read(archive, key, bound)[()])
            for key in _ENVIRONMENT
            if key in archive.members
        }


def _integer(archive: _Archive, key: str) -> int:
    value = int(_read(archive, key, _INTEGER))
    if value >= 2**63:  # a uint64 member: save writes every int as int64
        raise _invalid(archive.shown, f"key {key!r} must fit in int64, got {value}")
    return value


def _counter(archive: _Archive, key: str) -> int:
    value = _integer(archive, key)
    if value < 0:
        raise _invalid(archive.shown, f"key {key!r} must be a non-negative integer, got {value}")
    return value


def _spec(archive: _Archive) -> MLP:
    shown, members = archive.shown, len(archive.members)
    why = f"the archive's {members} members hold two per layer"
    sizes_bound = _Bound("iu", 1, members, 8, why)
    stored_sizes = _read(archive, "spec/sizes", sizes_bound).tolist()
    try:
        sizes = check_sizes(stored_sizes)
    except (TypeError, ValueError) as error:
        raise _invalid(shown, f"key 'spec/sizes': {error}") from None
    layers = len(sizes) - 1
    names_bound = _text(_NAME_CHARS, f"an activation name per layer of sizes {sizes}")
    names = _read(archive, "spec/activations", names_bound._replace(ndim=1, max_values=layers))
    if len(names) != layers:
        raise _invalid(
            shown,
            f"key 'spec/activations' must hold {layers} names for sizes {sizes}, got {len(names)}",
        )
    for name in names.tolist():
        try:
            parse_activation(name)
        except ValueError as error:
            raise _invalid(shown, f"key 'spec/activations': {error}") from None
    loss_name = str(_read(archive, "spec/loss", _text(_NAME_CHARS, "a loss name"))[()])
    try:
        parse_loss(loss_name)
    except ValueError as error:
        raise _invalid(shown, f"key 'spec/loss': {error}") from None
    dropout: tuple[float, ...] = ()
    if _DROPOUT in archive.members:
        bound = _Bound("f", 1, max(layers - 1, 1), 8, "a dropout rate per hidden layer")
        dropout = tuple(float(rate) for rate in _read(archive, _DROPOUT, bound).tolist())
    try:
        return spec_from_names(SpecNames(sizes, tuple(names.tolist()), loss_name, dropout))
    except (TypeError, ValueError) as error:
        raise _invalid(shown, f"key 'spec': {error}") from None


def _param_keys(spec: MLP) -> set[str]:
    return {f"params/{layer}/{field}" for layer in range(spec.n_layers) for field in "Wb"}


def _params(archive: _Archive, spec: MLP) -> Params:
    missing = sorted(_param_keys(spec) - set(archive.members))
    if missing:
        raise _invalid(archive.shown, f"missing key {missing[0]!r} for sizes {spec.sizes}")

    def read(layer: int, field: str, shape: tuple[int, ...]) -> npt.NDArray[Any]:
        why = f"float32 or float64 of shape {shape} for sizes {spec.sizes}"
        return _read(archive, f"params/{layer}/{field}", _Bound("", None, math.prod(shape), 8, why))

    params = tuple(
        Dense(read(layer, "W", (n_in, n_out)), read(layer, "b", (n_out,)))
        for layer, (n_in, n_out) in enumerate(zip(spec.sizes, spec.sizes[1:], strict=False))
    )
    try:
        params_dtype(spec, params)
    except (TypeError, ValueError) as error:
        raise _invalid(archive.shown, f"the params do not match the spec: {error}") from None
    return params


def _opt_state(archive: _Archive, keys: set[str], template: T) -> T:
    shown = archive.shown
    expected = structure(template, prefix=_OPT_STATE)
    longest = max(len(text) for node in expected for text in node)
    # Room for another optimizer's state too, whose first difference the message then shows.
    nodes, chars = 4 * len(expected) + 64, 2 * longest + 64
    why = (
        f"optimizer.init(params) has {len(expected)} nodes named in at most {longest} "
        f"characters; room is left for {nodes} nodes named in {chars}"
    )
    bound = _Bound("U", 2, 2 * nodes, 4 * chars, why)
    stored = _read(archive, "opt_state_structure", bound)
    if stored.shape[1:] != (2,):
        raise _invalid(
            shown, f"key 'opt_state_structure' must have shape (n, 2), got {stored.shape}"
        )
    saved = [(str(key), str(kind)) for key, kind in stored.tolist()]
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
            leaves[key] = _leaf(archive, key, kinds[key], leaf)
    extra = sorted(keys - set(leaves))
    if extra:
        raise _invalid(shown, f"unknown key {extra[0]!r}: not a leaf of the optimizer state")
    try:
        state = unflatten(template, leaves, prefix=_OPT_STATE)
    except (TypeError, ValueError) as error:
        raise _invalid(shown, f"opt_state does not match the optimizer's state: {error}") from None
    try:
        check_values(state, _OPT_STATE)
    except (TypeError, ValueError) as error:
        raise _invalid(shown, f"a state no run produces: {error}") from None
    return state


def _node(nodes: list[tuple[str, str]], index: int) -> str:
    if index >= len(nodes):
        return "nothing more"
    key, kind = nodes[index]
    return f"{kind} at {key!r}"


def _leaf(archive: _Archive, key: str, kind: str, template: Leaf) -> object:
    """The leaf at ``key`` of ``kind``, sized by the template's leaf there."""
    shown = archive.shown
    if kind == "array":
        assert isinstance(template, np.ndarray | np.generic)
        shape, dtype = template.shape, template.dtype
        why = "as optimizer.init(params) has it"
        bound = _Bound("", None, template.size, dtype.itemsize, why, (shape, dtype))
        return _read(archive, key, bound)
    if kind == "int":
        return _integer(archive, key)
    if kind == "bool":
        return bool(_read(archive, key, _BOOL))
    if kind == "float":
        array = _read(archive, key, _FLOAT)
        if array.dtype.itemsize != 8:
            raise _invalid(shown, f"key {key!r} must be a float64 scalar, got {array.dtype}")
        return float(array)
    if kind in ("activation", "loss"):
        bound = _text(_NAME_CHARS, f"an {kind} name")
    else:
        chars = max(_TEXT_CHARS, len(template) if isinstance(template, str) else 0)
        bound = _text(chars, "a str")
    text = str(_read(archive, key, bound)[()])
    try:
        if kind == "activation":
            return parse_activation(text)
        if kind == "loss":
            return parse_loss(text)
    except ValueError as error:
        raise _invalid(shown, f"key {key!r}: {error}") from None
    return text


def _history(archive: _Archive, key: str, epoch: int) -> tuple[float, ...]:
    why = f"one per epoch at most, of the {epoch} epochs"
    array = _read(archive, key, _HISTORY._replace(max_values=epoch, why=why))
    if array.dtype.itemsize != 8:
        raise _invalid(archive.shown, f"key {key!r} must be float64, got {array.dtype}")
    return tuple(float(x) for x in array.tolist())
