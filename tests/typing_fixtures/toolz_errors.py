"""Mistakes with toolz that mypy must report, each on the line marked ``# E: <message part>``."""

from collections.abc import Iterable

import toolz
from toolz import (
    accumulate,
    complement,
    compose,
    compose_left,
    curry,
    first,
    get,
    iterate,
    juxt,
    merge,
    nth,
    pipe,
    sliding_window,
    tail,
    take,
    valmap,
)
from toolz import curried as c


def inc(x: int) -> int:
    return x + 1


def to_str(x: int) -> str:
    return str(x)


def length(s: str) -> int:
    return len(s)


def is_even(x: int) -> bool:
    return x % 2 == 0


def plus(a: int, b: int) -> int:
    return a + b


def join_str(a: str, b: str) -> str:
    return a + b


def total(xs: Iterable[int]) -> int:
    return sum(xs)


xs = [1, 2, 3]
prices = {"a": 1, "b": 2}

# pipe: a stage that does not accept the previous stage's result
pipe(1, to_str, inc)  # E: Cannot infer value of type parameter "_T1" of "pipe"
pipe(1, inc, to_str, inc)  # E: Cannot infer value of type parameter "_T2" of "pipe"
pipe(1, str, lambda s: s + 1)  # E: Unsupported operand types for + ("str" and "int")
pipe("1", inc)  # E: Argument 2 to "pipe" has incompatible type "Callable[[int], int]"
pipe(1, inc, inc, inc, inc, inc, inc, inc, inc, inc, inc, inc)  # E: No overload variant of "pipe"
wrong: str = pipe(1, inc)  # E: (expression has type "int", variable has type "str")
pipe(["a"], c.map(inc), tuple)  # E: "map" has incompatible type "Callable[[int], int]"
pipe(xs, c.map(to_str), c.filter(is_even), tuple)  # E: Cannot infer value of type parameter
pipe(xs, c.reduce(join_str))  # E: Argument 1 to "reduce" has incompatible type
pipe(xs, c.take("3"))  # E: No overload variant of "take" matches argument type "str"
toolz.thread_first(1, (plus, 2))  # E: No overload variant of "thread_first" matches

# compose / compose_left: mismatched functions, wrong argument to the result
compose(inc, to_str)  # E: Argument 1 to "compose" has incompatible type "Callable[[int], int]"
compose_left(to_str, inc)  # E: Argument 2 to "compose_left" has incompatible type
compose(to_str, inc)("x")  # E: Argument 1 has incompatible type "str"; expected "int"
complement(is_even)("x")  # E: Argument 1 has incompatible type "str"; expected "int"

# curry: full calls are checked; partial application is refused (see the stub)
curried_plus = curry(plus)
curried_plus(1, "2")  # E: Argument 2 to "__call__" of "curry" has incompatible type "str"
curried_plus(1)  # E: Missing positional argument "b" in call to "__call__" of "curry"
curry(plus, "1")  # E: Cannot infer value of type parameter "_A" of "curry"
x: str = curry(plus, 1)(2)  # E: Incompatible types in assignment (expression has type "int"

# itertoolz
take("3", xs)  # E: Argument 1 to "take" has incompatible type "str"; expected "int"
nth("1", xs)  # E: Argument 1 to "nth" has incompatible type "str"; expected "int"
first(3)  # E: Argument 1 to "first" has incompatible type "int"; expected "Iterable[Never]"
accumulate(join_str, xs)  # E: "accumulate" has incompatible type "Callable[[str, str], str]"
accumulate(plus, xs, "")  # E: expected "Callable[[str, int], str]"
iterate(to_str, 1)  # E: Argument 1 to "iterate" has incompatible type "Callable[[int], str]"
get("a", xs)  # E: Cannot infer value of type parameter "_I" of "get"
for _a, _b, _d in sliding_window(2, xs):  # E: Need more than 2 values to unpack (3 expected)
    pass
as_tuple: tuple[int, ...] = tail(2, xs)  # E: Incompatible types in assignment
y, z = juxt(inc, to_str)(1)
w: int = z  # E: (expression has type "str", variable has type "int")
toolz.rest(xs)  # E: Module has no attribute "rest"

# dicttoolz
as_str: dict[str, str] = merge(prices)  # E: Argument 1 to "merge" has incompatible type
valmap(length, prices)  # E: Argument 1 to "valmap" has incompatible type "Callable[[str], int]"
pipe(prices, c.valmap(length))  # E: Argument 1 to "valmap" has incompatible type

# curried forms other than the typed ones are refused, not typed loosely
c.join(first)  # E: No overload variant of "join" matches argument type
