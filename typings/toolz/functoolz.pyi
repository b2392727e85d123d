"""Types for ``toolz.functoolz`` (toolz ships none); checked against toolz 1.x sources.

What is checked, and what is not:

* ``pipe(data, f1, ..., fn)``: up to 10 stages, each stage's parameter type must accept the
  previous stage's result type. More stages: split the pipe, or use ``compose_left``.
* ``compose``/``compose_left``: up to 6 functions. The first-applied function may take any
  parameters (a ``ParamSpec``); every other function takes the previous result.
* ``thread_first``/``thread_last``: only the plain-callable forms (up to 6), where they are the
  same as ``pipe``. The ``(func, *args)`` tuple forms are not accepted.
* ``curry``: calling a ``curry`` object with *all* the arguments the wrapped function needs is
  checked like a call of that function and returns its return type. Calling it with fewer
  arguments (partial application, which at runtime returns another ``curry``) is *rejected*:
  mypy cannot bind the leading parameters of a ``ParamSpec`` through ``self`` (it would leave
  them unchecked), and an unchecked call is worse than a refused one. For partial application,
  use ``curry(func, arg1[, arg2])`` (the bound arguments are checked), ``functools.partial``
  (checked by mypy's plugin) or the precisely typed ``toolz.curried`` functions.
  Keyword arguments given to ``curry(func, **kwargs)`` are not accepted.
* Known mypy limits (not fixable in a stub): a lambda in a later stage of ``pipe`` may make the
  result ``Any``. As a later stage of ``pipe``/``compose``, mypy matches an overloaded callable
  against its *first* overload only, so ``list``/``set``/``frozenset`` (whose first constructor
  overload takes no argument) and ``sum`` fail to infer there: use ``tuple``, ``sorted`` or a
  one-signature function (``def as_list(xs: Iterable[T]) -> list[T]``). As the first stage
  they work.
"""

from collections.abc import Callable, Hashable, Iterable, Mapping, MutableMapping
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeAlias, TypeVar, overload

__all__ = (
    "identity",
    "apply",
    "thread_first",
    "thread_last",
    "memoize",
    "compose",
    "compose_left",
    "pipe",
    "complement",
    "juxt",
    "do",
    "curry",
    "flip",
    "excepts",
)

_T = TypeVar("_T")
_A = TypeVar("_A")
_B = TypeVar("_B")
_R = TypeVar("_R")
_H = TypeVar("_H")
_R_co = TypeVar("_R_co", covariant=True)
_E = TypeVar("_E", bound=BaseException)
_P = ParamSpec("_P")
_P2 = ParamSpec("_P2")

_T0 = TypeVar("_T0")
_T1 = TypeVar("_T1")
_T2 = TypeVar("_T2")
_T3 = TypeVar("_T3")
_T4 = TypeVar("_T4")
_T5 = TypeVar("_T5")
_T6 = TypeVar("_T6")
_T7 = TypeVar("_T7")
_T8 = TypeVar("_T8")
_T9 = TypeVar("_T9")
_T10 = TypeVar("_T10")

_R1 = TypeVar("_R1")
_R2 = TypeVar("_R2")
_R3 = TypeVar("_R3")
_R4 = TypeVar("_R4")
_R5 = TypeVar("_R5")
_R6 = TypeVar("_R6")

_MemoKey: TypeAlias = Callable[[tuple[Any, ...], Mapping[str, Any]], Hashable]

def identity(x: _T) -> _T: ...
def apply(func: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...

# pipe(data, f1, ..., fn) == fn(...f1(data)...)
@overload
def pipe(data: _T0, /) -> _T0: ...
@overload
def pipe(data: _T0, func1: Callable[[_T0], _T1], /) -> _T1: ...
@overload
def pipe(data: _T0, func1: Callable[[_T0], _T1], func2: Callable[[_T1], _T2], /) -> _T2: ...
@overload
def pipe(
    data: _T0,
    func1: Callable[[_T0], _T1],
    func2: Callable[[_T1], _T2],
    func3: Callable[[_T2], _T3],
    /,
) -> _T3: ...
@overload
def pipe(
    data: _T0,
    func1: Callable[[_T0], _T1],
    func2: Callable[[_T1], _T2],
    func3: Callable[[_T2], _T3],
    func4: Callable[[_T3], _T4],
    /,
) -> _T4: ...
@overload
def pipe(
    data: _T0,
    func1: Callable[[_T0], _T1],
    func2: Callable[[_T1], _T2],
    func3: Callable[[_T2], _T3],
    func4: Callable[[_T3], _T4],
    func5: Callable[[_T4], _T5],
    /,
) -> _T5: ...
@overload
def pipe(
    data: _T0,
    func1: Callable[[_T0], _T1],
    func2: Callable[[_T1], _T2],
    func3: Callable[[_T2], _T3],
    func4: Callable[[_T3], _T4],
    func5: Callable[[_T4], _T5],
    func6: Callable[[_T5], _T6],
    /,
) -> _T6: ...
@overload
def pipe(
    data: _T0,
    func1: Callable[[_T0], _T1],
    func2: Callable[[_T1], _T2],
    func3: Callable[[_T2], _T3],
    func4: Callable[[_T3], _T4],
    func5: Callable[[_T4], _T5],
    func6: Callable[[_T5], _T6],
    func7: Callable[[_T6], _T7],
    /,
) -> _T7: ...
@overload
def pipe(
    data: _T0,
    func1: Callable[[_T0], _T1],
    func2: Callable[[_T1], _T2],
    func3: Callable[[_T2], _T3],
    func4: Callable[[_T3], _T4],
    func5: Callable[[_T4], _T5],
    func6: Callable[[_T5], _T6],
    func7: Callable[[_T6], _T7],
    func8: Callable[[_T7], _T8],
    /,
) -> _T8: ...
@overload
def pipe(
    data: _T0,
    func1: Callable[[_T0], _T1],
    func2: Callable[[_T1], _T2],
    func3: Callable[[_T2], _T3],
    func4: Callable[[_T3], _T4],
    func5: Callable[[_T4], _T5],
    func6: Callable[[_T5], _T6],
    func7: Callable[[_T6], _T7],
    func8: Callable[[_T7], _T8],
    func9: Callable[[_T8], _T9],
    /,
) -> _T9: ...
@overload
def pipe(
    data: _T0,
    func1: Callable[[_T0], _T1],
    func2: Callable[[_T1], _T2],
    func3: Callable[[_T2], _T3],
    func4: Callable[[_T3], _T4],
    func5: Callable[[_T4], _T5],
    func6: Callable[[_T5], _T6],
    func7: Callable[[_T6], _T7],
    func8: Callable[[_T7], _T8],
    func9: Callable[[_T8], _T9],
    func10: Callable[[_T9], _T10],
    /,
) -> _T10: ...

# thread_first/thread_last: plain-callable forms only (then the same as pipe).
@overload
def thread_first(val: _T0, /) -> _T0: ...
@overload
def thread_first(val: _T0, form1: Callable[[_T0], _T1], /) -> _T1: ...
@overload
def thread_first(val: _T0, form1: Callable[[_T0], _T1], form2: Callable[[_T1], _T2], /) -> _T2: ...
@overload
def thread_first(
    val: _T0,
    form1: Callable[[_T0], _T1],
    form2: Callable[[_T1], _T2],
    form3: Callable[[_T2], _T3],
    /,
) -> _T3: ...
@overload
def thread_first(
    val: _T0,
    form1: Callable[[_T0], _T1],
    form2: Callable[[_T1], _T2],
    form3: Callable[[_T2], _T3],
    form4: Callable[[_T3], _T4],
    /,
) -> _T4: ...
@overload
def thread_first(
    val: _T0,
    form1: Callable[[_T0], _T1],
    form2: Callable[[_T1], _T2],
    form3: Callable[[_T2], _T3],
    form4: Callable[[_T3], _T4],
    form5: Callable[[_T4], _T5],
    /,
) -> _T5: ...
@overload
def thread_first(
    val: _T0,
    form1: Callable[[_T0], _T1],
    form2: Callable[[_T1], _T2],
    form3: Callable[[_T2], _T3],
    form4: Callable[[_T3], _T4],
    form5: Callable[[_T4], _T5],
    form6: Callable[[_T5], _T6],
    /,
) -> _T6: ...
@overload
def thread_last(val: _T0, /) -> _T0: ...
@overload
def thread_last(val: _T0, form1: Callable[[_T0], _T1], /) -> _T1: ...
@overload
def thread_last(val: _T0, form1: Callable[[_T0], _T1], form2: Callable[[_T1], _T2], /) -> _T2: ...
@overload
def thread_last(
    val: _T0,
    form1: Callable[[_T0], _T1],
    form2: Callable[[_T1], _T2],
    form3: Callable[[_T2], _T3],
    /,
) -> _T3: ...
@overload
def thread_last(
    val: _T0,
    form1: Callable[[_T0], _T1],
    form2: Callable[[_T1], _T2],
    form3: Callable[[_T2], _T3],
    form4: Callable[[_T3], _T4],
    /,
) -> _T4: ...
@overload
def thread_last(
    val: _T0,
    form1: Callable[[_T0], _T1],
    form2: Callable[[_T1], _T2],
    form3: Callable[[_T2], _T3],
    form4: Callable[[_T3], _T4],
    form5: Callable[[_T4], _T5],
    /,
) -> _T5: ...
@overload
def thread_last(
    val: _T0,
    form1: Callable[[_T0], _T1],
    form2: Callable[[_T1], _T2],
    form3: Callable[[_T2], _T3],
    form4: Callable[[_T3], _T4],
    form5: Callable[[_T4], _T5],
    form6: Callable[[_T5], _T6],
    /,
) -> _T6: ...

# compose(f1, ..., fn)(*args) == f1(...fn(*args)...)
@overload
def compose() -> Callable[[_T0], _T0]: ...
@overload
def compose(func1: Callable[_P, _T1], /) -> Callable[_P, _T1]: ...
@overload
def compose(func1: Callable[[_T1], _T2], func2: Callable[_P, _T1], /) -> Callable[_P, _T2]: ...
@overload
def compose(
    func1: Callable[[_T2], _T3], func2: Callable[[_T1], _T2], func3: Callable[_P, _T1], /
) -> Callable[_P, _T3]: ...
@overload
def compose(
    func1: Callable[[_T3], _T4],
    func2: Callable[[_T2], _T3],
    func3: Callable[[_T1], _T2],
    func4: Callable[_P, _T1],
    /,
) -> Callable[_P, _T4]: ...
@overload
def compose(
    func1: Callable[[_T4], _T5],
    func2: Callable[[_T3], _T4],
    func3: Callable[[_T2], _T3],
    func4: Callable[[_T1], _T2],
    func5: Callable[_P, _T1],
    /,
) -> Callable[_P, _T5]: ...
@overload
def compose(
    func1: Callable[[_T5], _T6],
    func2: Callable[[_T4], _T5],
    func3: Callable[[_T3], _T4],
    func4: Callable[[_T2], _T3],
    func5: Callable[[_T1], _T2],
    func6: Callable[_P, _T1],
    /,
) -> Callable[_P, _T6]: ...

# compose_left(f1, ..., fn)(*args) == fn(...f1(*args)...)
@overload
def compose_left() -> Callable[[_T0], _T0]: ...
@overload
def compose_left(func1: Callable[_P, _T1], /) -> Callable[_P, _T1]: ...
@overload
def compose_left(func1: Callable[_P, _T1], func2: Callable[[_T1], _T2], /) -> Callable[_P, _T2]: ...
@overload
def compose_left(
    func1: Callable[_P, _T1], func2: Callable[[_T1], _T2], func3: Callable[[_T2], _T3], /
) -> Callable[_P, _T3]: ...
@overload
def compose_left(
    func1: Callable[_P, _T1],
    func2: Callable[[_T1], _T2],
    func3: Callable[[_T2], _T3],
    func4: Callable[[_T3], _T4],
    /,
) -> Callable[_P, _T4]: ...
@overload
def compose_left(
    func1: Callable[_P, _T1],
    func2: Callable[[_T1], _T2],
    func3: Callable[[_T2], _T3],
    func4: Callable[[_T3], _T4],
    func5: Callable[[_T4], _T5],
    /,
) -> Callable[_P, _T5]: ...
@overload
def compose_left(
    func1: Callable[_P, _T1],
    func2: Callable[[_T1], _T2],
    func3: Callable[[_T2], _T3],
    func4: Callable[[_T3], _T4],
    func5: Callable[[_T4], _T5],
    func6: Callable[[_T5], _T6],
    /,
) -> Callable[_P, _T6]: ...
def complement(func: Callable[_P, object]) -> Callable[_P, bool]: ...

class curry(Generic[_P, _R_co]):
    """A curried function. See the module docstring for what is checked.

    ``curry(f)`` is called with all of ``f``'s arguments; ``curry(f, a)`` and ``curry(f, a, b)``
    bind (and check) the leading positional arguments.
    """

    __name__: str
    __qualname__: str
    @overload
    def __init__(self, func: Callable[_P, _R_co], /) -> None: ...
    @overload
    def __init__(self, func: Callable[Concatenate[_A, _P], _R_co], arg1: _A, /) -> None: ...
    @overload
    def __init__(
        self, func: Callable[Concatenate[_A, _B, _P], _R_co], arg1: _A, arg2: _B, /
    ) -> None: ...
    @property
    def func(self) -> Callable[..., _R_co]: ...
    @property
    def args(self) -> tuple[Any, ...]: ...
    @property
    def keywords(self) -> dict[str, Any]: ...
    @property
    def func_name(self) -> str: ...
    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R_co: ...
    def call(self, *args: _P.args, **kwargs: _P.kwargs) -> _R_co: ...
    # As a method decorator: accessed on an instance, the instance is bound as the first
    # argument (its type is not checked against the first parameter; mypy cannot bind it).
    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None, /) -> Self: ...
    @overload
    def __get__(
        self: curry[Concatenate[_A, _P2], _R], instance: _A, owner: type[Any] | None = None, /
    ) -> curry[_P2, _R]: ...

# memoize is itself curried: memoize(func, ...) or memoize(cache=..., key=...)(func).
@overload
def memoize(
    func: Callable[_P, _R],
    cache: MutableMapping[Any, Any] | None = None,
    key: _MemoKey | None = None,
) -> Callable[_P, _R]: ...
@overload
def memoize(
    *, cache: MutableMapping[Any, Any] | None = None, key: _MemoKey | None = None
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]: ...

class juxt(Generic[_P, _R_co]):
    """``juxt(f, g)(*args) == (f(*args), g(*args))``; up to 6 functions keep their result types.

    ``juxt(iterable_of_functions)`` gives a ``tuple[R, ...]``.
    """

    funcs: tuple[Callable[_P, Any], ...]
    @overload
    def __init__(self: juxt[_P, tuple[_R1]], func1: Callable[_P, _R1], /) -> None: ...
    @overload
    def __init__(
        self: juxt[_P, tuple[_R1, _R2]], func1: Callable[_P, _R1], func2: Callable[_P, _R2], /
    ) -> None: ...
    @overload
    def __init__(
        self: juxt[_P, tuple[_R1, _R2, _R3]],
        func1: Callable[_P, _R1],
        func2: Callable[_P, _R2],
        func3: Callable[_P, _R3],
        /,
    ) -> None: ...
    @overload
    def __init__(
        self: juxt[_P, tuple[_R1, _R2, _R3, _R4]],
        func1: Callable[_P, _R1],
        func2: Callable[_P, _R2],
        func3: Callable[_P, _R3],
        func4: Callable[_P, _R4],
        /,
    ) -> None: ...
    @overload
    def __init__(
        self: juxt[_P, tuple[_R1, _R2, _R3, _R4, _R5]],
        func1: Callable[_P, _R1],
        func2: Callable[_P, _R2],
        func3: Callable[_P, _R3],
        func4: Callable[_P, _R4],
        func5: Callable[_P, _R5],
        /,
    ) -> None: ...
    @overload
    def __init__(
        self: juxt[_P, tuple[_R1, _R2, _R3, _R4, _R5, _R6]],
        func1: Callable[_P, _R1],
        func2: Callable[_P, _R2],
        func3: Callable[_P, _R3],
        func4: Callable[_P, _R4],
        func5: Callable[_P, _R5],
        func6: Callable[_P, _R6],
        /,
    ) -> None: ...
    @overload
    def __init__(
        self: juxt[_P, tuple[_R1, ...]], funcs: Iterable[Callable[_P, _R1]], /
    ) -> None: ...
    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R_co: ...

def do(func: Callable[[_T], object], x: _T) -> _T: ...

# flip is itself curried: flip(f, a, b) == f(b, a); flip(f, a)(b); flip(f)(a, b).
@overload
def flip(func: Callable[[_B, _A], _R], a: _A, b: _B) -> _R: ...
@overload
def flip(func: Callable[[_B, _A], _R], a: _A) -> Callable[[_B], _R]: ...
@overload
def flip(func: Callable[[_B, _A], _R]) -> Callable[[_A, _B], _R]: ...
def return_none(exc: BaseException) -> None: ...

class excepts(Generic[_P, _R_co]):
    """``excepts(exc, func, handler)(*args)``: ``func(*args)``, or ``handler(e)`` if that raises.

    Without a handler the result is ``None`` when ``func`` raises ``exc``.
    """

    exc: type[BaseException] | tuple[type[BaseException], ...]
    func: Callable[_P, Any]
    handler: Callable[[Any], Any]
    @overload
    def __init__(
        self: excepts[_P, _R | None],
        exc: type[BaseException] | tuple[type[BaseException], ...],
        func: Callable[_P, _R],
    ) -> None: ...
    @overload
    def __init__(
        self: excepts[_P, _R | _H],
        exc: type[_E] | tuple[type[_E], ...],
        func: Callable[_P, _R],
        handler: Callable[[_E], _H],
    ) -> None: ...
    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R_co: ...
