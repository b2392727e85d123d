"""Types for ``toolz.itertoolz`` (toolz ships none); checked against toolz 1.x sources.

Lazy results are typed ``Iterator[T]`` (at runtime: generators, ``islice``, ``chain``, ``zip``).

Not typed precisely:

* A non-callable ``key`` (an index or field name, toolz's ``getter``) in ``groupby``,
  ``reduceby``, ``join`` and ``topk`` is accepted only as ``int`` or ``str``; the items' type is
  kept but the key's value type is ``Any`` (``groupby``/``reduceby`` results are
  ``dict[Any, ...]``). A list of indices as ``key`` is not accepted there.
* ``get``/``pluck`` with a list of indices give ``tuple[V, ...]`` (all indexed values share one
  type), as do ``sliding_window``/``partition`` for ``n`` other than a literal 2 or 3.
* ``get``/``pluck`` index anything with ``__getitem__``; numpy's fancy indexing with a list
  (``get([0, 1], array)`` returns an array at runtime) is typed as the tuple form.
"""

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, Literal, Protocol, TypeAlias, TypeVar, overload

from _typeshed import SupportsGetItem, SupportsRichComparison, SupportsRichComparisonT

__all__ = (
    "remove",
    "accumulate",
    "groupby",
    "merge_sorted",
    "interleave",
    "unique",
    "isiterable",
    "isdistinct",
    "take",
    "drop",
    "take_nth",
    "first",
    "second",
    "nth",
    "last",
    "get",
    "concat",
    "concatv",
    "mapcat",
    "cons",
    "interpose",
    "frequencies",
    "reduceby",
    "iterate",
    "sliding_window",
    "partition",
    "partition_all",
    "count",
    "pluck",
    "join",
    "tail",
    "diff",
    "topk",
    "peek",
    "peekn",
    "random_sample",
)

_T = TypeVar("_T")
_S = TypeVar("_S")
_R = TypeVar("_R")
_V = TypeVar("_V")
_D = TypeVar("_D")
_L = TypeVar("_L")
_LD = TypeVar("_LD")
_RD = TypeVar("_RD")
_I = TypeVar("_I")  # an index or key used with __getitem__
_K = TypeVar("_K", bound=Hashable)
# An item that toolz's getter can index with an int or str key.
_G = TypeVar("_G", bound=SupportsGetItem[Any, Any])

# A non-callable key: toolz then indexes each item with it (item[key]).
_IndexKey: TypeAlias = int | str

class _SupportsRandom(Protocol):
    def random(self) -> float: ...

_Seed: TypeAlias = int | float | str | bytes | bytearray | None

def remove(predicate: Callable[[_T], object], seq: Iterable[_T]) -> Iterator[_T]: ...
@overload
def accumulate(binop: Callable[[_T, _T], _T], seq: Iterable[_T]) -> Iterator[_T]: ...
@overload
def accumulate(binop: Callable[[_S, _T], _S], seq: Iterable[_T], initial: _S) -> Iterator[_S]: ...
@overload
def groupby(key: Callable[[_T], _K], seq: Iterable[_T]) -> dict[_K, list[_T]]: ...
@overload
def groupby(key: _IndexKey, seq: Iterable[_G]) -> dict[Any, list[_G]]: ...
@overload
def merge_sorted(
    *seqs: Iterable[SupportsRichComparisonT], key: None = None
) -> Iterator[SupportsRichComparisonT]: ...
@overload
def merge_sorted(
    *seqs: Iterable[_T], key: Callable[[_T], SupportsRichComparison]
) -> Iterator[_T]: ...
def interleave(seqs: Iterable[Iterable[_T]]) -> Iterator[_T]: ...
def unique(seq: Iterable[_T], key: Callable[[_T], Hashable] | None = None) -> Iterator[_T]: ...
def isiterable(x: object) -> bool: ...
def isdistinct(seq: Iterable[Hashable]) -> bool: ...
def take(n: int, seq: Iterable[_T]) -> Iterator[_T]: ...
@overload
def tail(n: int, seq: list[_T]) -> list[_T]: ...
@overload
def tail(n: int, seq: tuple[_T, ...]) -> tuple[_T, ...]: ...
@overload
def tail(n: int, seq: str) -> str: ...
@overload
def tail(n: int, seq: Iterable[_T]) -> Sequence[_T]: ...
def drop(n: int, seq: Iterable[_T]) -> Iterator[_T]: ...
def take_nth(n: int, seq: Iterable[_T]) -> Iterator[_T]: ...
def first(seq: Iterable[_T]) -> _T: ...
def second(seq: Iterable[_T]) -> _T: ...
def nth(n: int, seq: Iterable[_T]) -> _T: ...
def last(seq: Iterable[_T]) -> _T: ...
@overload
def get(ind: list[_I], seq: SupportsGetItem[_I, _V]) -> tuple[_V, ...]: ...
@overload
def get(ind: list[_I], seq: SupportsGetItem[_I, _V], default: _D) -> tuple[_V | _D, ...]: ...
@overload
def get(ind: _I, seq: SupportsGetItem[_I, _V]) -> _V: ...
@overload
def get(ind: _I, seq: SupportsGetItem[_I, _V], default: _D) -> _V | _D: ...
def concat(seqs: Iterable[Iterable[_T]]) -> Iterator[_T]: ...
def concatv(*seqs: Iterable[_T]) -> Iterator[_T]: ...
def mapcat(func: Callable[[_T], Iterable[_R]], seqs: Iterable[_T]) -> Iterator[_R]: ...
def cons(el: _T, seq: Iterable[_S]) -> Iterator[_T | _S]: ...
def interpose(el: _T, seq: Iterable[_S]) -> Iterator[_T | _S]: ...
def frequencies(seq: Iterable[_K]) -> dict[_K, int]: ...

# reduceby: ``init`` may be a value or a zero-argument factory (called once per group).
@overload
def reduceby(
    key: Callable[[_T], _K], binop: Callable[[_T, _T], _T], seq: Iterable[_T]
) -> dict[_K, _T]: ...
@overload
def reduceby(
    key: Callable[[_T], _K],
    binop: Callable[[_S, _T], _S],
    seq: Iterable[_T],
    init: Callable[[], _S],
) -> dict[_K, _S]: ...
@overload
def reduceby(
    key: Callable[[_T], _K], binop: Callable[[_S, _T], _S], seq: Iterable[_T], init: _S
) -> dict[_K, _S]: ...
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
def iterate(func: Callable[[_T], _T], x: _T) -> Iterator[_T]: ...
@overload
def sliding_window(n: Literal[2], seq: Iterable[_T]) -> Iterator[tuple[_T, _T]]: ...
@overload
def sliding_window(n: Literal[3], seq: Iterable[_T]) -> Iterator[tuple[_T, _T, _T]]: ...
@overload
def sliding_window(n: int, seq: Iterable[_T]) -> Iterator[tuple[_T, ...]]: ...

# partition drops a short last tuple, or fills it with ``pad``.
@overload
def partition(n: Literal[2], seq: Iterable[_T]) -> Iterator[tuple[_T, _T]]: ...
@overload
def partition(n: Literal[3], seq: Iterable[_T]) -> Iterator[tuple[_T, _T, _T]]: ...
@overload
def partition(n: int, seq: Iterable[_T]) -> Iterator[tuple[_T, ...]]: ...
@overload
def partition(n: Literal[2], seq: Iterable[_T], pad: _D) -> Iterator[tuple[_T | _D, _T | _D]]: ...
@overload
def partition(
    n: Literal[3], seq: Iterable[_T], pad: _D
) -> Iterator[tuple[_T | _D, _T | _D, _T | _D]]: ...
@overload
def partition(n: int, seq: Iterable[_T], pad: _D) -> Iterator[tuple[_T | _D, ...]]: ...
def partition_all(n: int, seq: Iterable[_T]) -> Iterator[tuple[_T, ...]]: ...
def count(seq: Iterable[object]) -> int: ...
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

# join yields (left, right) pairs; an outer join pairs unmatched items with the default.
@overload
def join(
    leftkey: Callable[[_L], Hashable] | _IndexKey,
    leftseq: Iterable[_L],
    rightkey: Callable[[_R], Hashable] | _IndexKey,
    rightseq: Iterable[_R],
) -> Iterator[tuple[_L, _R]]: ...
@overload
def join(
    leftkey: Callable[[_L], Hashable] | _IndexKey,
    leftseq: Iterable[_L],
    rightkey: Callable[[_R], Hashable] | _IndexKey,
    rightseq: Iterable[_R],
    left_default: _LD,
) -> Iterator[tuple[_L | _LD, _R]]: ...
@overload
def join(
    leftkey: Callable[[_L], Hashable] | _IndexKey,
    leftseq: Iterable[_L],
    rightkey: Callable[[_R], Hashable] | _IndexKey,
    rightseq: Iterable[_R],
    *,
    right_default: _RD,
) -> Iterator[tuple[_L, _R | _RD]]: ...
@overload
def join(
    leftkey: Callable[[_L], Hashable] | _IndexKey,
    leftseq: Iterable[_L],
    rightkey: Callable[[_R], Hashable] | _IndexKey,
    rightseq: Iterable[_R],
    left_default: _LD,
    right_default: _RD,
) -> Iterator[tuple[_L | _LD, _R | _RD]]: ...

# diff(seq1, seq2, ...) or diff([seq1, seq2, ...]); ``key`` also sees the padding ``default``.
@overload
def diff(
    seqs: list[Iterable[_T]], /, *, key: Callable[[_T], object] | None = None
) -> Iterator[tuple[_T, ...]]: ...
@overload
def diff(
    *seqs: Iterable[_T], key: Callable[[_T], object] | None = None
) -> Iterator[tuple[_T, ...]]: ...
@overload
def diff(
    *seqs: Iterable[_T], default: _D, key: Callable[[_T | _D], object] | None = None
) -> Iterator[tuple[_T | _D, ...]]: ...
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
def peek(seq: Iterable[_T]) -> tuple[_T, Iterator[_T]]: ...
def peekn(n: int, seq: Iterable[_T]) -> tuple[tuple[_T, ...], Iterator[_T]]: ...
def random_sample(
    prob: float, seq: Iterable[_T], random_state: _SupportsRandom | _Seed = None
) -> Iterator[_T]: ...
