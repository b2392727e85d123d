"""Pytrees: nested tuples and NamedTuples, flattened to named leaves and fingerprinted.

A *tree* is a leaf or a tuple / NamedTuple of trees. A *leaf* is a numpy array (or numpy
scalar), a Python ``bool``, ``int``, ``float`` or ``str``, ``None``, or an fcfun
``Activation`` / ``Loss`` (which stand for their names, so an ``MLP`` spec is a tree too).

Naming rule: a node's *path* joins, from the root down, the NamedTuple field names and
the tuple indices with ``"/"``: ``"params/0/W"``, ``"opt_state/1/mu/0/b"``. The root's
path is the ``prefix`` argument (``""`` by default). Every walk is depth-first in field
order, so the order of ``flatten`` and the bytes ``fingerprint`` hashes are fixed.

A node's *kind* says what it is: ``"tuple[3]"``, ``"Dense(W,b)"`` (a NamedTuple: its class
name and fields), or, for a leaf, one of ``"array"``, ``"bool"``, ``"int"``, ``"float"``,
``"str"``, ``"none"``, ``"activation"``, ``"loss"``.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator, Mapping
from typing import Any, TypeAlias, TypeVar, cast

import numpy as np
import numpy.typing as npt

from fcfun._activations import Activation
from fcfun._losses import Loss
from fcfun._types import freeze
from fcfun._validation import describe

Leaf: TypeAlias = (
    npt.NDArray[Any] | np.generic | bool | int | float | str | Activation | Loss | None
)
"""What a tree holds at its ends."""

T = TypeVar("T")

_FINGERPRINT_FORMAT = b"fcfun.fingerprint/1\x00"


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _where(path: str) -> str:
    return repr(path) if path else "the tree's root"


def _is_namedtuple(node: object) -> bool:
    return isinstance(node, tuple) and isinstance(getattr(type(node), "_fields", None), tuple)


def _children(node: tuple[Any, ...]) -> tuple[str, ...]:
    """The names under which a tuple node's children appear in paths."""
    if _is_namedtuple(node):
        return tuple(cast(Any, node)._fields)
    return tuple(str(i) for i in range(len(node)))


def kind_of(node: object, path: str = "") -> str:
    """The kind of one node (see the module docstring); ``path`` names it in errors.

    Raises:
        TypeError: ``node`` is neither a supported leaf nor a tuple / NamedTuple.

    >>> from fcfun._types import Dense
    >>> kind_of(Dense(np.zeros(1), np.zeros(1))), kind_of((1, 2)), kind_of(True), kind_of(None)
    ('Dense(W,b)', 'tuple[2]', 'bool', 'none')
    """
    if isinstance(node, np.ndarray | np.generic):
        if node.dtype.hasobject:
            raise TypeError(f"leaf {_where(path)} is an object array, which has no fixed bytes")
        return "array"
    if isinstance(node, Activation):
        return "activation"
    if isinstance(node, Loss):
        return "loss"
    if _is_namedtuple(node):
        assert isinstance(node, tuple)
        return f"{type(node).__name__}({','.join(_children(node))})"
    if isinstance(node, tuple):  # a tuple, or fcfun's LayerViews (a tuple to the tree)
        return f"tuple[{len(node)}]"
    if isinstance(node, bool):
        return "bool"
    if isinstance(node, int):
        return "int"
    if isinstance(node, float):
        return "float"
    if isinstance(node, str):
        return "str"
    if node is None:
        return "none"
    raise TypeError(
        f"{_where(path)} must be a tuple, a NamedTuple or a leaf (numpy array, bool, int, "
        f"float, str, None, Activation or Loss), got {describe(node)}"
    )


LEAF_KINDS = frozenset({"array", "bool", "int", "float", "str", "none", "activation", "loss"})
"""The kinds of leaves; every other kind is a tuple's or a NamedTuple's."""


def _is_leaf_kind(node_kind: str) -> bool:
    return node_kind in LEAF_KINDS


def _walk(tree: object, path: str) -> Iterator[tuple[str, str, object]]:
    """Every node as ``(path, kind, node)``, depth-first, parents before children."""
    node_kind = kind_of(tree, path)
    yield path, node_kind, tree
    if not _is_leaf_kind(node_kind):
        assert isinstance(tree, tuple)
        for name, child in zip(_children(tree), tree, strict=True):
            yield from _walk(child, _join(path, name))


def flatten(tree: object, *, prefix: str = "") -> list[tuple[str, Leaf]]:
    """The leaves of ``tree`` with their paths, in the fixed depth-first order.

    Args:
        tree: a leaf or nested tuples / NamedTuples of leaves.
        prefix: the root's path, prepended to every path.

    Returns:
        ``[(path, leaf), ...]``; the leaves themselves, not copies.

    Raises:
        TypeError: a node is of an unsupported type; the message names its path.

    >>> from fcfun._types import Dense
    >>> [path for path, _ in flatten((Dense(np.zeros(1), np.zeros(1)), 3), prefix="x")]
    ['x/0/W', 'x/0/b', 'x/1']
    """
    return [
        (path, cast(Leaf, node))
        for path, node_kind, node in _walk(tree, prefix)
        if _is_leaf_kind(node_kind)
    ]


def structure(tree: object, *, prefix: str = "") -> list[tuple[str, str]]:
    """Every node's ``(path, kind)``, interior nodes included, in the fixed order.

    Two trees have the same structure (types, fields, lengths and leaf kinds, not leaf
    shapes or values) exactly when their ``structure`` lists are equal.

    >>> structure((1.0, (None,)))
    [('', 'tuple[2]'), ('0', 'float'), ('1', 'tuple[1]'), ('1/0', 'none')]
    """
    return [(path, node_kind) for path, node_kind, _ in _walk(tree, prefix)]


def unflatten(template: T, leaves: Mapping[str, object], *, prefix: str = "") -> T:
    """Rebuild ``template``'s exact structure and types with the leaves found by path.

    Every template leaf must have an entry in ``leaves`` of the same kind; arrays must
    also match the template's shape and dtype. A numpy scalar in the template comes
    back as a numpy scalar, an array as an array. Leaves are used as given, not copied.

    Args:
        template: a tree giving the structure, types, shapes and dtypes.
        leaves: ``{path: leaf}``, e.g. ``dict(flatten(tree))``; no other paths allowed.
        prefix: the root's path, as given to ``flatten``.

    Raises:
        ValueError: a leaf is missing, of another kind, shape or dtype, or ``leaves``
            holds a path the template lacks; the message names the path.
        TypeError: a template node or a given leaf is of an unsupported type.

    >>> template = (0, np.zeros(2))
    >>> unflatten(template, {"0": 3, "1": np.ones(2)})
    (3, array([1., 1.]))
    """
    used: set[str] = set()
    rebuilt = _rebuild(template, prefix, leaves, used)
    extra = sorted(set(leaves) - used)
    if extra:
        raise ValueError(
            f"leaves holds {len(extra)} path(s) the template does not have, "
            f"first {_where(extra[0])}"
        )
    return cast(T, rebuilt)


def _rebuild(node: object, path: str, leaves: Mapping[str, object], used: set[str]) -> object:
    node_kind = kind_of(node, path)
    if not _is_leaf_kind(node_kind):
        assert isinstance(node, tuple)
        children = [
            _rebuild(child, _join(path, name), leaves, used)
            for name, child in zip(_children(node), node, strict=True)
        ]
        if _is_namedtuple(node):
            return cast(Any, type(node))(*children)
        return tuple(children)
    if path not in leaves:
        raise ValueError(f"leaf {_where(path)} is missing (the template has {node_kind} there)")
    value = leaves[path]
    used.add(path)
    value_kind = kind_of(value, path)
    if value_kind != node_kind:
        raise ValueError(f"leaf {_where(path)} must be {node_kind}, got {value_kind}")
    if node_kind != "array":
        return value
    assert isinstance(node, np.ndarray | np.generic)
    assert isinstance(value, np.ndarray | np.generic)
    if value.shape != node.shape or value.dtype != node.dtype:
        raise ValueError(
            f"leaf {_where(path)} must have shape {node.shape} and dtype {node.dtype}, "
            f"got shape {value.shape} and dtype {value.dtype}"
        )
    if isinstance(node, np.generic):
        return value if isinstance(value, np.generic) else value[()]
    return freeze(np.asarray(value))


def check_values(tree: object, where: str) -> None:
    """Refuse a tree holding values no run produces; ``where`` names its root in messages.

    A NamedTuple node whose type has a ``check(where)`` method (an optimizer state with
    invariants: counts, statuses, scales) is asked to check itself, with its name, e.g.
    ``"opt_state.states[1]"``; that method answers for its own scalar float fields, NaN
    included (L-BFGS's loss is NaN before its first evaluation). Every float array, and
    every other float leaf, must be finite. ``save``, ``load`` and a
    continued ``TrainState`` all apply this one rule.

    Raises:
        ValueError, TypeError: from a node's ``check``, or a float leaf holding NaN or
            inf; the message names the field.

    >>> check_values((1.0, (np.ones(2),)), "state")
    >>> check_values((1.0, (np.array([1.0, np.nan]),)), "state")
    Traceback (most recent call last):
    ...
    ValueError: state[1][0] must be finite, got NaN or inf
    """
    _check_node(tree, where, vouched=False)


def _check_node(node: object, where: str, *, vouched: bool) -> None:
    node_kind = kind_of(node, where)
    if _is_leaf_kind(node_kind):
        checked = node_kind == "array" or (node_kind == "float" and not vouched)
        if checked and not _finite(node):
            raise ValueError(f"{where} must be finite, got NaN or inf")
        return
    assert isinstance(node, tuple)
    named = _is_namedtuple(node)
    check = getattr(node, "check", None) if named else None
    if callable(check):
        check(where)
    for name, child in zip(_children(node), node, strict=True):
        _check_node(
            child, f"{where}.{name}" if named else f"{where}[{name}]", vouched=callable(check)
        )


def _finite(leaf: object) -> bool:
    """Whether a float leaf (or float array) holds no NaN or inf; other leaves are."""
    array = np.asarray(leaf)
    return array.dtype.kind not in "fc" or bool(np.isfinite(array).all())


def _leaf_record(node: object, node_kind: str, path: str) -> tuple[str, tuple[int, ...], bytes]:
    """A leaf's dtype, shape and bytes as the fingerprint hashes them."""
    if node_kind == "array":
        assert isinstance(node, np.ndarray | np.generic)
        array = np.asarray(node)
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        return little.dtype.str, array.shape, little.tobytes(order="C")
    if node_kind == "bool":
        return "|b1", (), b"\x01" if node else b"\x00"
    if node_kind == "int":
        assert isinstance(node, int)
        try:
            return "<i8", (), struct.pack("<q", node)
        except struct.error:
            raise ValueError(
                f"leaf {_where(path)} must fit in int64 to be fingerprinted, got {node}"
            ) from None
    if node_kind == "float":
        assert isinstance(node, float)
        return "<f8", (), struct.pack("<d", node)
    if node_kind in ("str", "activation", "loss"):
        text = node.name if isinstance(node, Activation | Loss) else str(node)
        return "utf-8", (), text.encode("utf-8", "surrogatepass")
    return "", (), b""


def fingerprint(tree: object) -> str:
    """SHA-256 hex digest of a tree: every node's path and kind, every leaf's bytes.

    Leaves count by kind, dtype, shape and raw bytes (C order, little-endian), Python
    ints as int64, floats as float64, strings as UTF-8; activations and losses by name.
    The digest depends on nothing else, so equal trees give equal digests in any
    process, and any change of a bit, dtype, shape, kind or structure changes it.

    Raises:
        TypeError: a node is of an unsupported type; the message names its path.
        ValueError: an int leaf does not fit in int64.

    >>> a = fingerprint((np.zeros(2), 1))
    >>> a == fingerprint((np.zeros(2), 1)), a == fingerprint((np.zeros(2), 1.0))
    (True, False)
    """
    digest = hashlib.sha256(_FINGERPRINT_FORMAT)
    for path, node_kind, node in _walk(tree, ""):
        dtype: str = ""
        shape: tuple[int, ...] = ()
        data = b""
        if _is_leaf_kind(node_kind):
            dtype, shape, data = _leaf_record(node, node_kind, path)
        shape_bytes = b"".join(n.to_bytes(8, "little") for n in shape)
        for field in (path.encode(), node_kind.encode(), dtype.encode(), shape_bytes, data):
            digest.update(len(field).to_bytes(8, "little"))
            digest.update(field)
    return digest.hexdigest()
