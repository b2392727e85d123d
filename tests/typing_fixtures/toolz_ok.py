"""Correct uses of toolz: mypy must report no error here, only the revealed types noted.

``# N: "T"`` stands for mypy's note ``Revealed type is "T"``.

This module also runs as it is (``python tests/typing_fixtures/toolz_ok.py``), so the stubs
are checked against toolz's real behaviour as well as against mypy.
"""

from collections import OrderedDict
from collections.abc import Iterable, Iterator, MutableMapping
from operator import add
from typing import reveal_type

import toolz
from toolz import (
    accumulate,
    assoc,
    compose,
    compose_left,
    concat,
    concatv,
    cons,
    count,
    curry,
    dissoc,
    drop,
    first,
    frequencies,
    get,
    get_in,
    groupby,
    identity,
    interleave,
    iterate,
    juxt,
    keymap,
    last,
    mapcat,
    merge,
    nth,
    partition,
    partition_all,
    peek,
    pipe,
    second,
    sliding_window,
    take,
    unique,
    valmap,
)
from toolz import curried as c


def inc(x: int) -> int:
    return x + 1


def double(x: int) -> int:
    return 2 * x


def to_str(x: int) -> str:
    return str(x)


def length(s: str) -> int:
    return len(s)


def is_even(x: int) -> bool:
    return x % 2 == 0


def plus(a: int, b: int) -> int:
    return a + b


def affine(W: float, b: float, x: float) -> float:
    return W * x + b


def total(xs: Iterable[int]) -> int:
    return sum(xs)


def as_list(xs: Iterable[int]) -> list[int]:
    return list(xs)


def join_str(a: str, b: str) -> str:
    return a + b


def log(x: int) -> None:
    print(x)


xs = [1, 2, 3, 4, 5]

# Known mypy limits (see typings/toolz/functoolz.pyi): ``list``/``set`` and overloaded functions
# such as ``sum`` fail to infer as a *later* stage of ``pipe``; ``tuple``, ``sorted`` and
# one-signature functions work.

# pipe: each stage takes the previous stage's result --------------------------------------------
reveal_type(pipe(1))  # N: "int"
reveal_type(pipe(1, to_str))  # N: "str"
reveal_type(pipe(1, to_str, length))  # N: "int"
reveal_type(pipe(1, inc, double, to_str, length, inc))  # N: "int"
ten = pipe(1, inc, inc, inc, inc, inc, inc, inc, inc, inc, to_str)
reveal_type(ten)  # N: "str"
reveal_type(pipe(xs, first, to_str))  # N: "str"
reveal_type(pipe(xs, sorted, last))  # N: "int"
reveal_type(pipe(xs, tuple))  # N: "tuple[int, ...]"
reveal_type(pipe(xs, list))  # N: "list[int]"
reveal_type(pipe(1, lambda x: x + 1))  # N: "int"
n: int = pipe("abc", length, inc)

# pipelines of curried functions
reveal_type(pipe(xs, c.map(to_str), tuple))  # N: "tuple[str, ...]"
reveal_type(pipe(xs, c.map(inc), c.filter(is_even), as_list))  # N: "list[int]"
reveal_type(pipe(xs, c.take(3), c.drop(1), total))  # N: "int"
reveal_type(pipe(xs, c.partition_all(2), tuple))  # N: "tuple[tuple[int, ...], ...]"
reveal_type(pipe(xs, c.sliding_window(2), sorted))  # N: "list[tuple[int, int]]"
reveal_type(pipe(xs, c.accumulate(plus), tuple))  # N: "tuple[int, ...]"
reveal_type(pipe(xs, c.reduce(plus)))  # N: "int"
reveal_type(pipe(xs, c.nth(2)))  # N: "int"
pair: tuple[int, str] = (1, "a")
reveal_type(pipe(pair, c.get(1)))  # N: "int | str"
reveal_type(pipe({"a": 1.5}, c.get("a")))  # N: "float"
reveal_type(pipe({"a": 1}, c.valmap(to_str)))  # N: "dict[str, str]"
reveal_type(pipe(["ab", "c"], c.map(length), total))  # N: "int"
reveal_type(pipe([[1], [2, 3]], c.map(first), tuple))  # N: "tuple[int, ...]"
reveal_type(pipe(xs, c.groupby(is_even)))  # N: "dict[bool, list[int]]"
reveal_type(pipe(xs, c.sorted(key=double)))  # N: "list[int]"
reveal_type(pipe(xs, c.unique(key=is_even)))  # N: "typing.Iterator[int]"
reveal_type(pipe(xs, c.accumulate(add, initial=0.5)))  # N: "typing.Iterator[float]"
reveal_type(pipe([{"k": 1}], c.pluck("k"), total))  # N: "int"
reveal_type(pipe(xs, c.mapcat(lambda x: [x, x])))  # N: "typing.Iterator[int]"
reveal_type(pipe(xs, c.tail(2)))  # N: "list[int]"

# compose / compose_left ------------------------------------------------------------------------
reveal_type(compose())  # N: "def [_T0] (_T0) -> _T0"
reveal_type(compose(to_str))  # N: "def (x: int) -> str"
reveal_type(compose(length, to_str, inc))  # N: "def (x: int) -> int"
reveal_type(compose(to_str, plus))  # N: "def (a: int, b: int) -> str"
reveal_type(compose(inc, inc, inc, inc, inc, plus))  # N: "def (a: int, b: int) -> int"
reveal_type(compose_left(plus, to_str, length))  # N: "def (a: int, b: int) -> int"
reveal_type(compose_left(first, to_str))  # N: "def (seq: typing.Iterable[int]) -> str"
reveal_type(compose(to_str, inc)(3))  # N: "str"
reveal_type(toolz.comp(to_str, inc))  # N: "def (x: int) -> str"

# functoolz -------------------------------------------------------------------------------------
reveal_type(identity(3))  # N: "int"
reveal_type(toolz.complement(is_even))  # N: "def (x: int) -> bool"
reveal_type(juxt(inc, to_str)(1))  # N: "tuple[int, str]"
reveal_type(juxt([inc, double])(1))  # N: "tuple[int, ...]"
reveal_type(toolz.do(log, 3))  # N: "int"
reveal_type(toolz.flip(join_str, "a", "b"))  # N: "str"
reveal_type(toolz.flip(join_str, "a"))  # N: "def (str) -> str"
reveal_type(toolz.apply(plus, 1, 2))  # N: "int"
reveal_type(toolz.memoize(inc))  # N: "def (x: int) -> int"
reveal_type(toolz.excepts(ValueError, int)("3"))  # N: "int | None"
reveal_type(toolz.excepts(ValueError, int, lambda e: -1)("x"))  # N: "int"
reveal_type(toolz.thread_first(1, inc, to_str))  # N: "str"


@toolz.memoize(cache={})
def cached_square(x: int) -> int:
    return x * x


reveal_type(cached_square(3))  # N: "int"

# curry: full calls are checked; curry(f, a) binds leading arguments
curried_plus = curry(plus)
reveal_type(curried_plus(1, 2))  # N: "int"
reveal_type(curried_plus(a=1, b=2))  # N: "int"
reveal_type(curry(affine, 2.0))  # N: "toolz.functoolz.curry[[b: float, x: float], float]"
reveal_type(curry(affine, 2.0, 1.0)(3.0))  # N: "float"


@curry
def scaled(W: float, x: float) -> float:
    return W * x


reveal_type(scaled(2.0, 3.0))  # N: "float"


class Layer:
    @curry
    def apply(self, x: float) -> float:
        return x


reveal_type(Layer().apply(1.0))  # N: "float"

# itertoolz -------------------------------------------------------------------------------------
reveal_type(accumulate(plus, xs))  # N: "typing.Iterator[int]"
reveal_type(accumulate(add, xs, 0.5))  # N: "typing.Iterator[float]"
reveal_type(take(2, xs))  # N: "typing.Iterator[int]"
reveal_type(drop(2, "abc"))  # N: "typing.Iterator[str]"
reveal_type(first(xs))  # N: "int"
reveal_type(second("ab"))  # N: "str"
reveal_type(last(xs))  # N: "int"
reveal_type(nth(1, xs))  # N: "int"
reveal_type(partition_all(2, xs))  # N: "typing.Iterator[tuple[int, ...]]"
reveal_type(partition(2, xs))  # N: "typing.Iterator[tuple[int, int]]"
reveal_type(partition(2, xs, pad=None))  # N: "typing.Iterator[tuple[int | None, int | None]]"
reveal_type(sliding_window(3, xs))  # N: "typing.Iterator[tuple[int, int, int]]"
reveal_type(sliding_window(4, xs))  # N: "typing.Iterator[tuple[int, ...]]"
reveal_type(concat([[1], [2]]))  # N: "typing.Iterator[int]"
reveal_type(concatv([1], (2, 3)))  # N: "typing.Iterator[int]"
reveal_type(iterate(double, 1))  # N: "typing.Iterator[int]"
reveal_type(interleave([[1, 2], [3]]))  # N: "typing.Iterator[int]"
reveal_type(unique(["a", "b"], key=length))  # N: "typing.Iterator[str]"
reveal_type(groupby(length, ["a", "bb"]))  # N: "dict[int, list[str]]"
reveal_type(frequencies("abca"))  # N: "dict[str, int]"
reveal_type(count(iter(xs)))  # N: "int"
reveal_type(peek(xs))  # N: "tuple[int, typing.Iterator[int]]"
reveal_type(get(0, xs))  # N: "int"
reveal_type(get("a", {"a": 1.0}))  # N: "float"
reveal_type(get([0, 1], xs))  # N: "tuple[int, ...]"
reveal_type(get(9, xs, None))  # N: "int | None"
reveal_type(cons(0, xs))  # N: "typing.Iterator[int]"
reveal_type(cons("x", xs))  # N: "typing.Iterator[str | int]"
reveal_type(mapcat(lambda s: s.split(), ["a b", "c"]))  # N: "typing.Iterator[str]"
reveal_type(toolz.reduceby(is_even, plus, xs))  # N: "dict[bool, int]"
reveal_type(toolz.reduceby(is_even, plus, xs, 0))  # N: "dict[bool, int]"
reveal_type(toolz.topk(2, xs))  # N: "tuple[int, ...]"
reveal_type(toolz.tail(2, (1, 2, 3)))  # N: "tuple[int, ...]"
reveal_type(toolz.countby(is_even, xs))  # N: "dict[bool, int]"
reveal_type(toolz.pluck(0, [(1, "a")]))  # N: "typing.Iterator[int | str]"
joined = toolz.join(first, [(1, "a")], identity, [1])
reveal_type(joined)  # N: "typing.Iterator[tuple[tuple[int, str], int]]"
reveal_type(toolz.map(inc, xs))  # N: "map[int]"
reveal_type(toolz.reduce(plus, xs))  # N: "int"

# dicttoolz -------------------------------------------------------------------------------------
prices = {"a": 1, "b": 2}
reveal_type(merge(prices, {"c": 3}))  # N: "dict[str, int]"
reveal_type(merge([prices, prices]))  # N: "dict[str, int]"
reveal_type(valmap(to_str, prices))  # N: "dict[str, str]"
reveal_type(keymap(length, prices))  # N: "dict[int, int]"
reveal_type(assoc(prices, "d", 4))  # N: "dict[str, int]"
reveal_type(dissoc(prices, "a"))  # N: "dict[str, int]"
reveal_type(toolz.merge_with(total, prices, prices))  # N: "dict[str, int]"
reveal_type(toolz.valfilter(is_even, prices))  # N: "dict[str, int]"
reveal_type(toolz.itemmap(lambda kv: (kv[1], kv[0]), prices))  # N: "dict[int, str]"
reveal_type(get_in(["a", 0], {"a": [1]}))  # N: "Any"
ordered: MutableMapping[str, str] = valmap(to_str, prices, factory=OrderedDict)

# curried: full-argument calls are the same as the uncurried ones ------------------------------
reveal_type(c.take(2, xs))  # N: "typing.Iterator[int]"
reveal_type(c.map(to_str, xs))  # N: "map[str]"
reveal_type(c.map(plus, xs, xs))  # N: "map[int]"
reveal_type(c.accumulate(plus, xs))  # N: "typing.Iterator[int]"
reveal_type(c.reduce(plus, xs, 0))  # N: "int"
reveal_type(c.get(0, xs))  # N: "int"
reveal_type(c.valmap(to_str, prices))  # N: "dict[str, str]"
reveal_type(c.merge_with(total)(prices, prices))  # N: "dict[str, int]"
reveal_type(c.assoc(key="z", value=0)(prices))  # N: "dict[str, int]"
reveal_type(c.do(log)(3))  # N: "int"
reveal_type(c.pipe(xs, c.first))  # N: "int"
take_three: Iterator[int] = c.take(3)(xs)
batches = list(pipe(range(10), c.partition_all(4), c.map(len)))
