"""Types for ``toolz.curried`` (toolz ships none); checked against toolz 1.x sources.

Each curried function has the overloads of its uncurried form (called with all arguments, it
returns the same result) plus the partial applications people write in pipelines, each
returning a precisely typed callable, for example::

    map(f)               Callable[[Iterable[T]], Iterator[R]]       (f: Callable[[T], R])
    take(n)              Callable[[Iterable[T]], Iterator[T]]
    accumulate(binop)    Callable[[Iterable[T]], Iterator[T]]
    get(0)               Callable[[SupportsGetItem[int, V]], V]
    valmap(f)            Callable[[Mapping[K, V]], dict[K, R]]

What is accepted: the leading positional arguments (``take(n)``, ``reduceby(key, binop)``) and,
where toolz users write them, keyword partials (``accumulate(binop, initial=0)``,
``get(i, default=None)``, ``sorted(key=f)``, ``unique(key=f)``, ``assoc(key=k, value=v)``,
``assoc_in(keys=ks, value=v)``, ``update_in(keys=ks, func=f)``). Any other partial application
(e.g. ``join(leftkey)``, ``valmap(f, factory=...)``) is rejected rather than typed loosely.
The callable returned by a partial application is called positionally with the rest.

Functions that need no currying (``pipe``, ``compose``, ``first``, ``identity``, ...) are
re-exported from ``toolz``; ``dissoc``/``merge``/``partial`` call at once when given their
first argument, so they are re-exported too. ``toolz.curried.operator`` is not covered.

A lambda passed to a curried function gets no parameter type from the surrounding ``pipe``
(mypy infers the inner call first): in ``pipe(xs, map(lambda x: x + 1))`` mypy reports
``x + 1``; use a named, annotated function there.
"""

import builtins
from collections.abc import (
    Callable,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from functools import partial as partial
from typing import Any, Literal, ParamSpec, Protocol, TypeAlias, TypeGuard, TypeVar, overload

from _typeshed import SupportsGetItem, SupportsRichComparison, SupportsRichComparisonT
from typing_extensions import TypeIs

from ..dicttoolz import dissoc as dissoc
from ..dicttoolz import merge as merge
from ..functoolz import apply as apply
from ..functoolz import complement as complement
from ..functoolz import compose as compose
from ..functoolz import compose_left as compose_left
from ..functoolz import curry as curry
from ..functoolz import excepts as _excepts
from ..functoolz import flip as flip
from ..functoolz import identity as identity
from ..functoolz import juxt as juxt
from ..functoolz import memoize as memoize
from ..functoolz import pipe as pipe
from ..functoolz import thread_first as thread_first
from ..functoolz import thread_last as thread_last
from ..itertoolz import concat as concat
from ..itertoolz import concatv as concatv
from ..itertoolz import count as count
from ..itertoolz import diff as diff
from ..itertoolz import first as first
from ..itertoolz import frequencies as frequencies
from ..itertoolz import interleave as interleave
from ..itertoolz import isdistinct as isdistinct
from ..itertoolz import isiterable as isiterable
from ..itertoolz import join as join
from ..itertoolz import last as last
from ..itertoolz import merge_sorted as merge_sorted
from ..itertoolz import peek as peek
from ..itertoolz import second as second

comp = compose  # toolz's alias

_T = TypeVar("_T")
_S = TypeVar("_S")
_R = TypeVar("_R")
_V = TypeVar("_V")
_D = TypeVar("_D")
_I = TypeVar("_I")
_H = TypeVar("_H")
_E = TypeVar("_E", bound=BaseException)
_K = TypeVar("_K")
_K2 = TypeVar("_K2")
_V2 = TypeVar("_V2")
_T1 = TypeVar("_T1")
_T2 = TypeVar("_T2")
_T3 = TypeVar("_T3")
_HK = TypeVar("_HK", bound=Hashable)
_G = TypeVar("_G", bound=SupportsGetItem[Any, Any])
_T_contra = TypeVar("_T_contra", contravariant=True)
_P = ParamSpec("_P")

_IndexKey: TypeAlias = int | str
_ExcTypes: TypeAlias = type[BaseException] | tuple[type[BaseException], ...]

class _SupportsRandom(Protocol):
    def random(self) -> float: ...

_Seed: TypeAlias = int | float | str | bytes | bytearray | None

class _MergeWith(Protocol[_T_contra, _R]):
    """``merge_with(func)``: takes the mappings (or one iterable of them)."""

    @overload
    def __call__(self, *dicts: Mapping[_K, _T_contra]) -> dict[_K, _R]: ...
    @overload
    def __call__(self, dicts: Iterable[Mapping[_K, _T_contra]], /) -> dict[_K, _R]: ...

class _Tail(Protocol):
    """``tail(n)``: keeps lists, tuples and strings as they are."""

    @overload
    def __call__(self, seq: list[_T], /) -> list[_T]: ...
    @overload
    def __call__(self, seq: tuple[_T, ...], /) -> tuple[_T, ...]: ...
    @overload
    def __call__(self, seq: str, /) -> str: ...
    @overload
    def __call__(self, seq: Iterable[_T], /) -> Sequence[_T]: ...

# ---------------------------------------------------------------------------------------------
# itertoolz

@overload
def accumulate(binop: Callable[[_T, _T], _T]) -> Callable[[Iterable[_T]], Iterator[_T]]: ...
@overload
def accumulate(
    binop: Callable[[_S, _T], _S], *, initial: _S
) -> Callable[[Iterable[_T]], Iterator[_S]]: ...
@overload
def accumulate(binop: Callable[[_T, _T], _T], seq: Iterable[_T]) -> Iterator[_T]: ...
@overload
def accumulate(binop: Callable[[_S, _T], _S], seq: Iterable[_T], initial: _S) -> Iterator[_S]: ...
@overload
def cons(el: _T) -> Callable[[Iterable[_S]], Iterator[_T | _S]]: ...
@overload
def cons(el: _T, seq: Iterable[_S]) -> Iterator[_T | _S]: ...
@overload
def countby(key: Callable[[_T], _HK]) -> Callable[[Iterable[_T]], dict[_HK, int]]: ...
@overload
def countby(key: _IndexKey) -> Callable[[Iterable[_G]], dict[Any, int]]: ...
@overload
def countby(key: Callable[[_T], _HK], seq: Iterable[_T]) -> dict[_HK, int]: ...
@overload
def countby(key: _IndexKey, seq: Iterable[_G]) -> dict[Any, int]: ...
@overload
def drop(n: int) -> Callable[[Iterable[_T]], Iterator[_T]]: ...
@overload
def drop(n: int, seq: Iterable[_T]) -> Iterator[_T]: ...

# A list index means "several indices" (as toolz decides at runtime), hence the ignores.
@overload
def get(ind: list[_I]) -> Callable[[SupportsGetItem[_I, _V]], tuple[_V, ...]]: ...  # type: ignore[overload-overlap]
@overload
def get(
    ind: list[_I], *, default: _D
) -> Callable[[SupportsGetItem[_I, _V]], tuple[_V | _D, ...]]: ...
@overload
def get(ind: _I) -> Callable[[SupportsGetItem[_I, _V]], _V]: ...
@overload
def get(ind: _I, *, default: _D) -> Callable[[SupportsGetItem[_I, _V]], _V | _D]: ...
@overload
def get(ind: list[_I], seq: SupportsGetItem[_I, _V]) -> tuple[_V, ...]: ...
@overload
def get(ind: list[_I], seq: SupportsGetItem[_I, _V], default: _D) -> tuple[_V | _D, ...]: ...
@overload
def get(ind: _I, seq: SupportsGetItem[_I, _V]) -> _V: ...
@overload
def get(ind: _I, seq: SupportsGetItem[_I, _V], default: _D) -> _V | _D: ...
@overload
def groupby(key: Callable[[_T], _HK]) -> Callable[[Iterable[_T]], dict[_HK, list[_T]]]: ...
@overload
def groupby(key: _IndexKey) -> Callable[[Iterable[_G]], dict[Any, list[_G]]]: ...
@overload
def groupby(key: Callable[[_T], _HK], seq: Iterable[_T]) -> dict[_HK, list[_T]]: ...
@overload
def groupby(key: _IndexKey, seq: Iterable[_G]) -> dict[Any, list[_G]]: ...
@overload
def interpose(el: _T) -> Callable[[Iterable[_S]], Iterator[_T | _S]]: ...
@overload
def interpose(el: _T, seq: Iterable[_S]) -> Iterator[_T | _S]: ...
@overload
def iterate(func: Callable[[_T], _T]) -> Callable[[_T], Iterator[_T]]: ...
@overload
def iterate(func: Callable[[_T], _T], x: _T) -> Iterator[_T]: ...
@overload
def mapcat(func: Callable[[_T], Iterable[_R]]) -> Callable[[Iterable[_T]], Iterator[_R]]: ...
@overload
def mapcat(func: Callable[[_T], Iterable[_R]], seqs: Iterable[_T]) -> Iterator[_R]: ...
@overload
def nth(n: int) -> Callable[[Iterable[_T]], _T]: ...
@overload
def nth(n: int, seq: Iterable[_T]) -> _T: ...
@overload
def partition(n: Literal[2]) -> Callable[[Iterable[_T]], Iterator[tuple[_T, _T]]]: ...
@overload
def partition(n: Literal[3]) -> Callable[[Iterable[_T]], Iterator[tuple[_T, _T, _T]]]: ...
@overload
def partition(n: int) -> Callable[[Iterable[_T]], Iterator[tuple[_T, ...]]]: ...
@overload
def partition(n: int, *, pad: _D) -> Callable[[Iterable[_T]], Iterator[tuple[_T | _D, ...]]]: ...
@overload
def partition(n: Literal[2], seq: Iterable[_T]) -> Iterator[tuple[_T, _T]]: ...
@overload
def partition(n: Literal[3], seq: Iterable[_T]) -> Iterator[tuple[_T, _T, _T]]: ...
@overload
def partition(n: int, seq: Iterable[_T]) -> Iterator[tuple[_T, ...]]: ...
@overload
def partition(n: int, seq: Iterable[_T], pad: _D) -> Iterator[tuple[_T | _D, ...]]: ...
@overload
def partition_all(n: int) -> Callable[[Iterable[_T]], Iterator[tuple[_T, ...]]]: ...
@overload
def partition_all(n: int, seq: Iterable[_T]) -> Iterator[tuple[_T, ...]]: ...
@overload
def partitionby(
    func: Callable[[_T], object],
) -> Callable[[Iterable[_T]], Iterator[tuple[_T, ...]]]: ...
@overload
def partitionby(func: Callable[[_T], object], seq: Iterable[_T]) -> Iterator[tuple[_T, ...]]: ...
@overload
def peekn(n: int) -> Callable[[Iterable[_T]], tuple[tuple[_T, ...], Iterator[_T]]]: ...
@overload
def peekn(n: int, seq: Iterable[_T]) -> tuple[tuple[_T, ...], Iterator[_T]]: ...
@overload
def pluck(  # type: ignore[overload-overlap]
    ind: list[_I],
) -> Callable[[Iterable[SupportsGetItem[_I, _V]]], Iterator[tuple[_V, ...]]]: ...
@overload
def pluck(
    ind: list[_I], *, default: _D
) -> Callable[[Iterable[SupportsGetItem[_I, _V]]], Iterator[tuple[_V | _D, ...]]]: ...
@overload
def pluck(ind: _I) -> Callable[[Iterable[SupportsGetItem[_I, _V]]], Iterator[_V]]: ...
@overload
def pluck(
    ind: _I, *, default: _D
) -> Callable[[Iterable[SupportsGetItem[_I, _V]]], Iterator[_V | _D]]: ...
@overload
def pluck(ind: list[_I], seqs: Iterable[SupportsGetItem[_I, _V]]) -> Iterator[tuple[_V, ...]]: ...
@overload
def pluck(
    ind: list[_I], seqs: Iterable[SupportsGetItem[_I, _V]], default: _D
) -> Iterator[tuple[_V | _D, ...]]: ...
@overload
def pluck(ind: _I, seqs: Iterable[SupportsGetItem[_I, _V]]) -> Iterator[_V]: ...
@overload
def pluck(ind: _I, seqs: Iterable[SupportsGetItem[_I, _V]], default: _D) -> Iterator[_V | _D]: ...
@overload
def random_sample(
    prob: float, *, random_state: _SupportsRandom | _Seed = None
) -> Callable[[Iterable[_T]], Iterator[_T]]: ...
@overload
def random_sample(
    prob: float, seq: Iterable[_T], random_state: _SupportsRandom | _Seed = None
) -> Iterator[_T]: ...

# reduceby: partial application with a callable key only.
@overload
def reduceby(
    key: Callable[[_T], _HK], binop: Callable[[_T, _T], _T]
) -> Callable[[Iterable[_T]], dict[_HK, _T]]: ...
@overload
def reduceby(
    key: Callable[[_T], _HK], binop: Callable[[_S, _T], _S], *, init: Callable[[], _S]
) -> Callable[[Iterable[_T]], dict[_HK, _S]]: ...
@overload
def reduceby(
    key: Callable[[_T], _HK], binop: Callable[[_S, _T], _S], *, init: _S
) -> Callable[[Iterable[_T]], dict[_HK, _S]]: ...
@overload
def reduceby(
    key: Callable[[_T], _HK], binop: Callable[[_T, _T], _T], seq: Iterable[_T]
) -> dict[_HK, _T]: ...
@overload
def reduceby(
    key: Callable[[_T], _HK],
    binop: Callable[[_S, _T], _S],
    seq: Iterable[_T],
    init: Callable[[], _S],
) -> dict[_HK, _S]: ...
@overload
def reduceby(
    key: Callable[[_T], _HK], binop: Callable[[_S, _T], _S], seq: Iterable[_T], init: _S
) -> dict[_HK, _S]: ...
@overload
def reduceby(key: _IndexKey, binop: Callable[[_G, _G], _G], seq: Iterable[_G]) -> dict[Any, _G]: ...
@overload
def reduceby(
    key: _IndexKey, binop: Callable[[_S, _G], _S], seq: Iterable[_G], init: Callable[[], _S]
) -> dict[Any, _S]: ...
@overload
def reduceby(
    key: _IndexKey, binop: Callable[[_S, _G], _S], seq: Iterable[_G], init: _S
) -> dict[Any, _S]: ...
@overload
def remove(predicate: Callable[[_T], object]) -> Callable[[Iterable[_T]], Iterator[_T]]: ...
@overload
def remove(predicate: Callable[[_T], object], seq: Iterable[_T]) -> Iterator[_T]: ...
@overload
def sliding_window(n: Literal[2]) -> Callable[[Iterable[_T]], Iterator[tuple[_T, _T]]]: ...
@overload
def sliding_window(n: Literal[3]) -> Callable[[Iterable[_T]], Iterator[tuple[_T, _T, _T]]]: ...
@overload
def sliding_window(n: int) -> Callable[[Iterable[_T]], Iterator[tuple[_T, ...]]]: ...
@overload
def sliding_window(n: Literal[2], seq: Iterable[_T]) -> Iterator[tuple[_T, _T]]: ...
@overload
def sliding_window(n: Literal[3], seq: Iterable[_T]) -> Iterator[tuple[_T, _T, _T]]: ...
@overload
def sliding_window(n: int, seq: Iterable[_T]) -> Iterator[tuple[_T, ...]]: ...
@overload
def tail(n: int) -> _Tail: ...
@overload
def tail(n: int, seq: list[_T]) -> list[_T]: ...
@overload
def tail(n: int, seq: tuple[_T, ...]) -> tuple[_T, ...]: ...
@overload
def tail(n: int, seq: str) -> str: ...
@overload
def tail(n: int, seq: Iterable[_T]) -> Sequence[_T]: ...
@overload
def take(n: int) -> Callable[[Iterable[_T]], Iterator[_T]]: ...
@overload
def take(n: int, seq: Iterable[_T]) -> Iterator[_T]: ...
@overload
def take_nth(n: int) -> Callable[[Iterable[_T]], Iterator[_T]]: ...
@overload
def take_nth(n: int, seq: Iterable[_T]) -> Iterator[_T]: ...
@overload
def topk(
    k: int,
) -> Callable[[Iterable[SupportsRichComparisonT]], tuple[SupportsRichComparisonT, ...]]: ...
@overload
def topk(
    k: int, *, key: Callable[[_T], SupportsRichComparison]
) -> Callable[[Iterable[_T]], tuple[_T, ...]]: ...
@overload
def topk(k: int, *, key: _IndexKey) -> Callable[[Iterable[_G]], tuple[_G, ...]]: ...
@overload
def topk(
    k: int, seq: Iterable[SupportsRichComparisonT], key: None = None
) -> tuple[SupportsRichComparisonT, ...]: ...
@overload
def topk(
    k: int, seq: Iterable[_T], key: Callable[[_T], SupportsRichComparison]
) -> tuple[_T, ...]: ...
@overload
def topk(k: int, seq: Iterable[_G], key: _IndexKey) -> tuple[_G, ...]: ...

# unique(seq) calls at once (key is optional); unique(key=f) waits for the sequence.
@overload
def unique(*, key: Callable[[_T], Hashable]) -> Callable[[Iterable[_T]], Iterator[_T]]: ...
@overload
def unique(seq: Iterable[_T], key: Callable[[_T], Hashable] | None = None) -> Iterator[_T]: ...

# ---------------------------------------------------------------------------------------------
# builtins and functools

@overload
def map(func: Callable[[_T1], _R]) -> Callable[[Iterable[_T1]], Iterator[_R]]: ...
@overload
def map(
    func: Callable[[_T1, _T2], _R],
) -> Callable[[Iterable[_T1], Iterable[_T2]], Iterator[_R]]: ...
@overload
def map(func: Callable[[_T1], _R], iter1: Iterable[_T1], /) -> builtins.map[_R]: ...
@overload
def map(
    func: Callable[[_T1, _T2], _R], iter1: Iterable[_T1], iter2: Iterable[_T2], /
) -> builtins.map[_R]: ...
@overload
def map(
    func: Callable[[_T1, _T2, _T3], _R],
    iter1: Iterable[_T1],
    iter2: Iterable[_T2],
    iter3: Iterable[_T3],
    /,
) -> builtins.map[_R]: ...
@overload
def filter(function: None) -> Callable[[Iterable[_T | None]], Iterator[_T]]: ...
@overload
def filter(function: Callable[[_S], TypeGuard[_T]]) -> Callable[[Iterable[_S]], Iterator[_T]]: ...
@overload
def filter(function: Callable[[_S], TypeIs[_T]]) -> Callable[[Iterable[_S]], Iterator[_T]]: ...
@overload
def filter(function: Callable[[_T], object]) -> Callable[[Iterable[_T]], Iterator[_T]]: ...
@overload
def filter(function: None, iterable: Iterable[_T | None], /) -> builtins.filter[_T]: ...
@overload
def filter(
    function: Callable[[_S], TypeGuard[_T]], iterable: Iterable[_S], /
) -> builtins.filter[_T]: ...
@overload
def filter(
    function: Callable[[_S], TypeIs[_T]], iterable: Iterable[_S], /
) -> builtins.filter[_T]: ...
@overload
def filter(function: Callable[[_T], object], iterable: Iterable[_T], /) -> builtins.filter[_T]: ...

# reduce(binop) waits for the sequence; an initial value needs the full call.
@overload
def reduce(function: Callable[[_T, _T], _T]) -> Callable[[Iterable[_T]], _T]: ...
@overload
def reduce(function: Callable[[_T, _T], _T], iterable: Iterable[_T], /) -> _T: ...
@overload
def reduce(function: Callable[[_T, _S], _T], iterable: Iterable[_S], initial: _T, /) -> _T: ...

# sorted(seq, ...) calls at once; sorted(key=f) / sorted(reverse=True) wait for the sequence.
@overload
def sorted(
    *, key: Callable[[_T], SupportsRichComparison], reverse: bool = False
) -> Callable[[Iterable[_T]], list[_T]]: ...
@overload
def sorted(
    *, key: None = None, reverse: bool
) -> Callable[[Iterable[SupportsRichComparisonT]], list[SupportsRichComparisonT]]: ...
@overload
def sorted(
    iterable: Iterable[SupportsRichComparisonT], /, *, key: None = None, reverse: bool = False
) -> list[SupportsRichComparisonT]: ...
@overload
def sorted(
    iterable: Iterable[_T], /, *, key: Callable[[_T], SupportsRichComparison], reverse: bool = False
) -> list[_T]: ...

# ---------------------------------------------------------------------------------------------
# functoolz

@overload
def do(func: Callable[[_T], object]) -> Callable[[_T], _T]: ...
@overload
def do(func: Callable[[_T], object], x: _T) -> _T: ...
@overload
def excepts(exc: _ExcTypes) -> Callable[[Callable[_P, _R]], _excepts[_P, _R | None]]: ...
@overload
def excepts(exc: _ExcTypes, func: Callable[_P, _R]) -> _excepts[_P, _R | None]: ...
@overload
def excepts(
    exc: type[_E] | tuple[type[_E], ...], func: Callable[_P, _R], handler: Callable[[_E], _H]
) -> _excepts[_P, _R | _H]: ...

# ---------------------------------------------------------------------------------------------
# dicttoolz

@overload
def assoc(d: Mapping[_K, _V]) -> Callable[[_K, _V], dict[_K, _V]]: ...
@overload
def assoc(d: Mapping[_K, _V], key: _K) -> Callable[[_V], dict[_K, _V]]: ...
@overload
def assoc(*, key: _K, value: _V) -> Callable[[Mapping[_K, _V]], dict[_K, _V]]: ...
@overload
def assoc(d: Mapping[_K, _V], key: _K, value: _V) -> dict[_K, _V]: ...
@overload
def assoc(
    d: Mapping[_K, _V], key: _K, value: _V, factory: Callable[[], MutableMapping[_K, _V]]
) -> MutableMapping[_K, _V]: ...
@overload
def assoc_in(
    d: Mapping[_K, Any], keys: Iterable[Hashable]
) -> Callable[[object], dict[_K, Any]]: ...
@overload
def assoc_in(
    *, keys: Iterable[Hashable], value: object
) -> Callable[[Mapping[_K, Any]], dict[_K, Any]]: ...
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
def get_in(
    keys: Iterable[Hashable], *, default: object = None, no_default: bool = False
) -> Callable[[object], Any]: ...
@overload
def get_in(
    keys: Iterable[Hashable], coll: object, default: object = None, no_default: bool = False
) -> Any: ...
@overload
def itemfilter(
    predicate: Callable[[tuple[_K, _V]], object],
) -> Callable[[Mapping[_K, _V]], dict[_K, _V]]: ...
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
def itemmap(
    func: Callable[[tuple[_K, _V]], tuple[_K2, _V2]],
) -> Callable[[Mapping[_K, _V]], dict[_K2, _V2]]: ...
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
def keyfilter(predicate: Callable[[_K], object]) -> Callable[[Mapping[_K, _V]], dict[_K, _V]]: ...
@overload
def keyfilter(predicate: Callable[[_K], object], d: Mapping[_K, _V]) -> dict[_K, _V]: ...
@overload
def keyfilter(
    predicate: Callable[[_K], object],
    d: Mapping[_K, _V],
    factory: Callable[[], MutableMapping[_K, _V]],
) -> MutableMapping[_K, _V]: ...
@overload
def keymap(func: Callable[[_K], _K2]) -> Callable[[Mapping[_K, _V]], dict[_K2, _V]]: ...
@overload
def keymap(func: Callable[[_K], _K2], d: Mapping[_K, _V]) -> dict[_K2, _V]: ...
@overload
def keymap(
    func: Callable[[_K], _K2], d: Mapping[_K, _V], factory: Callable[[], MutableMapping[_K2, _V]]
) -> MutableMapping[_K2, _V]: ...
@overload
def merge_with(func: Callable[[list[_V]], _R]) -> _MergeWith[_V, _R]: ...
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
def update_in(
    *, keys: Iterable[Hashable], func: Callable[[Any], object], default: object = None
) -> Callable[[Mapping[_K, Any]], dict[_K, Any]]: ...
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
@overload
def valfilter(predicate: Callable[[_V], object]) -> Callable[[Mapping[_K, _V]], dict[_K, _V]]: ...
@overload
def valfilter(predicate: Callable[[_V], object], d: Mapping[_K, _V]) -> dict[_K, _V]: ...
@overload
def valfilter(
    predicate: Callable[[_V], object],
    d: Mapping[_K, _V],
    factory: Callable[[], MutableMapping[_K, _V]],
) -> MutableMapping[_K, _V]: ...
@overload
def valmap(func: Callable[[_V], _R]) -> Callable[[Mapping[_K, _V]], dict[_K, _R]]: ...
@overload
def valmap(func: Callable[[_V], _R], d: Mapping[_K, _V]) -> dict[_K, _R]: ...
@overload
def valmap(
    func: Callable[[_V], _R], d: Mapping[_K, _V], factory: Callable[[], MutableMapping[_K, _R]]
) -> MutableMapping[_K, _R]: ...
