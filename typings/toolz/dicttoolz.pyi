"""Types for ``toolz.dicttoolz`` (toolz ships none); checked against toolz 1.x sources.

Every function returns a new ``dict`` by default. With ``factory=`` (a zero-argument callable
making an empty mutable mapping, such as ``collections.OrderedDict``) the result is typed as a
``MutableMapping`` with the same key and value types: mypy cannot carry the factory's own class
through (it infers ``OrderedDict[Never, Never]``).

Not typed precisely: the nested functions (``assoc_in``, ``update_in``, ``get_in``) check the
outer mapping and the key path's element type only; nested values are ``Any``.
"""

from collections.abc import Callable, Hashable, Iterable, Mapping, MutableMapping
from typing import Any, TypeVar, overload

__all__ = (
    "merge",
    "merge_with",
    "valmap",
    "keymap",
    "itemmap",
    "valfilter",
    "keyfilter",
    "itemfilter",
    "assoc",
    "dissoc",
    "assoc_in",
    "update_in",
    "get_in",
)

_K = TypeVar("_K")
_V = TypeVar("_V")
_K2 = TypeVar("_K2")
_V2 = TypeVar("_V2")
_R = TypeVar("_R")

# merge(d1, d2, ...) or merge([d1, d2, ...]); later mappings win.
@overload
def merge(*dicts: Mapping[_K, _V]) -> dict[_K, _V]: ...
@overload
def merge(
    *dicts: Mapping[_K, _V], factory: Callable[[], MutableMapping[_K, _V]]
) -> MutableMapping[_K, _V]: ...
@overload
def merge(dicts: Iterable[Mapping[_K, _V]], /) -> dict[_K, _V]: ...
@overload
def merge(
    dicts: Iterable[Mapping[_K, _V]], /, *, factory: Callable[[], MutableMapping[_K, _V]]
) -> MutableMapping[_K, _V]: ...

# merge_with(func, d1, d2, ...): func gets the list of values found for each key.
@overload
def merge_with(func: Callable[[list[_V]], _R], *dicts: Mapping[_K, _V]) -> dict[_K, _R]: ...
@overload
def merge_with(
    func: Callable[[list[_V]], _R],
    *dicts: Mapping[_K, _V],
    factory: Callable[[], MutableMapping[_K, _R]],
) -> MutableMapping[_K, _R]: ...
@overload
def merge_with(
    func: Callable[[list[_V]], _R], dicts: Iterable[Mapping[_K, _V]], /
) -> dict[_K, _R]: ...
@overload
def merge_with(
    func: Callable[[list[_V]], _R],
    dicts: Iterable[Mapping[_K, _V]],
    /,
    *,
    factory: Callable[[], MutableMapping[_K, _R]],
) -> MutableMapping[_K, _R]: ...
@overload
def valmap(func: Callable[[_V], _R], d: Mapping[_K, _V]) -> dict[_K, _R]: ...
@overload
def valmap(
    func: Callable[[_V], _R], d: Mapping[_K, _V], factory: Callable[[], MutableMapping[_K, _R]]
) -> MutableMapping[_K, _R]: ...
@overload
def keymap(func: Callable[[_K], _K2], d: Mapping[_K, _V]) -> dict[_K2, _V]: ...
@overload
def keymap(
    func: Callable[[_K], _K2], d: Mapping[_K, _V], factory: Callable[[], MutableMapping[_K2, _V]]
) -> MutableMapping[_K2, _V]: ...
@overload
def itemmap(
    func: Callable[[tuple[_K, _V]], tuple[_K2, _V2]], d: Mapping[_K, _V]
) -> dict[_K2, _V2]: ...
@overload
def itemmap(
    func: Callable[[tuple[_K, _V]], tuple[_K2, _V2]],
    d: Mapping[_K, _V],
    factory: Callable[[], MutableMapping[_K2, _V2]],
) -> MutableMapping[_K2, _V2]: ...
@overload
def valfilter(predicate: Callable[[_V], object], d: Mapping[_K, _V]) -> dict[_K, _V]: ...
@overload
def valfilter(
    predicate: Callable[[_V], object],
    d: Mapping[_K, _V],
    factory: Callable[[], MutableMapping[_K, _V]],
) -> MutableMapping[_K, _V]: ...
@overload
def keyfilter(predicate: Callable[[_K], object], d: Mapping[_K, _V]) -> dict[_K, _V]: ...
@overload
def keyfilter(
    predicate: Callable[[_K], object],
    d: Mapping[_K, _V],
    factory: Callable[[], MutableMapping[_K, _V]],
) -> MutableMapping[_K, _V]: ...
@overload
def itemfilter(
    predicate: Callable[[tuple[_K, _V]], object], d: Mapping[_K, _V]
) -> dict[_K, _V]: ...
@overload
def itemfilter(
    predicate: Callable[[tuple[_K, _V]], object],
    d: Mapping[_K, _V],
    factory: Callable[[], MutableMapping[_K, _V]],
) -> MutableMapping[_K, _V]: ...
@overload
def assoc(d: Mapping[_K, _V], key: _K, value: _V) -> dict[_K, _V]: ...
@overload
def assoc(
    d: Mapping[_K, _V], key: _K, value: _V, factory: Callable[[], MutableMapping[_K, _V]]
) -> MutableMapping[_K, _V]: ...

# dissoc ignores keys that are missing.
@overload
def dissoc(d: Mapping[_K, _V], *keys: _K) -> dict[_K, _V]: ...
@overload
def dissoc(
    d: Mapping[_K, _V], *keys: _K, factory: Callable[[], MutableMapping[_K, _V]]
) -> MutableMapping[_K, _V]: ...
@overload
def assoc_in(d: Mapping[_K, Any], keys: Iterable[Hashable], value: object) -> dict[_K, Any]: ...
@overload
def assoc_in(
    d: Mapping[_K, Any],
    keys: Iterable[Hashable],
    value: object,
    factory: Callable[[], MutableMapping[Any, Any]],
) -> MutableMapping[_K, Any]: ...
@overload
def update_in(
    d: Mapping[_K, Any],
    keys: Iterable[Hashable],
    func: Callable[[Any], object],
    default: object = None,
) -> dict[_K, Any]: ...
@overload
def update_in(
    d: Mapping[_K, Any],
    keys: Iterable[Hashable],
    func: Callable[[Any], object],
    default: object,
    factory: Callable[[], MutableMapping[Any, Any]],
) -> MutableMapping[_K, Any]: ...
@overload
def update_in(
    d: Mapping[_K, Any],
    keys: Iterable[Hashable],
    func: Callable[[Any], object],
    *,
    factory: Callable[[], MutableMapping[Any, Any]],
) -> MutableMapping[_K, Any]: ...
def get_in(
    keys: Iterable[Hashable], coll: object, default: object = None, no_default: bool = False
) -> Any: ...
