"""Types for ``toolz`` (toolz ships none), written for fcfun and checked against toolz 1.x.

The functions live in ``functoolz``, ``itertoolz`` and ``dicttoolz`` (each stub's docstring
says what is and is not checked); ``toolz.curried`` has the curried forms. ``map``, ``filter``,
``sorted``, ``partial`` and ``reduce`` are the builtins/functools ones, re-exported by toolz.
Not covered: ``toolz.sandbox``, ``toolz.curried.operator``.
"""

from builtins import filter as filter
from builtins import map as map
from builtins import sorted as sorted
from collections.abc import Callable, Hashable, Iterable, Iterator
from functools import partial as partial
from functools import reduce as reduce
from typing import Any, TypeVar, overload

from _typeshed import SupportsGetItem

from . import curried as curried
from . import dicttoolz as dicttoolz
from . import functoolz as functoolz
from . import itertoolz as itertoolz
from .dicttoolz import assoc as assoc
from .dicttoolz import assoc_in as assoc_in
from .dicttoolz import dissoc as dissoc
from .dicttoolz import get_in as get_in
from .dicttoolz import itemfilter as itemfilter
from .dicttoolz import itemmap as itemmap
from .dicttoolz import keyfilter as keyfilter
from .dicttoolz import keymap as keymap
from .dicttoolz import merge as merge
from .dicttoolz import merge_with as merge_with
from .dicttoolz import update_in as update_in
from .dicttoolz import valfilter as valfilter
from .dicttoolz import valmap as valmap
from .functoolz import apply as apply
from .functoolz import complement as complement
from .functoolz import compose as compose
from .functoolz import compose_left as compose_left
from .functoolz import curry as curry
from .functoolz import do as do
from .functoolz import excepts as excepts
from .functoolz import flip as flip
from .functoolz import identity as identity
from .functoolz import juxt as juxt
from .functoolz import memoize as memoize
from .functoolz import pipe as pipe
from .functoolz import thread_first as thread_first
from .functoolz import thread_last as thread_last
from .itertoolz import accumulate as accumulate
from .itertoolz import concat as concat
from .itertoolz import concatv as concatv
from .itertoolz import cons as cons
from .itertoolz import count as count
from .itertoolz import diff as diff
from .itertoolz import drop as drop
from .itertoolz import first as first
from .itertoolz import frequencies as frequencies
from .itertoolz import get as get
from .itertoolz import groupby as groupby
from .itertoolz import interleave as interleave
from .itertoolz import interpose as interpose
from .itertoolz import isdistinct as isdistinct
from .itertoolz import isiterable as isiterable
from .itertoolz import iterate as iterate
from .itertoolz import join as join
from .itertoolz import last as last
from .itertoolz import mapcat as mapcat
from .itertoolz import merge_sorted as merge_sorted
from .itertoolz import nth as nth
from .itertoolz import partition as partition
from .itertoolz import partition_all as partition_all
from .itertoolz import peek as peek
from .itertoolz import peekn as peekn
from .itertoolz import pluck as pluck
from .itertoolz import random_sample as random_sample
from .itertoolz import reduceby as reduceby
from .itertoolz import remove as remove
from .itertoolz import second as second
from .itertoolz import sliding_window as sliding_window
from .itertoolz import tail as tail
from .itertoolz import take as take
from .itertoolz import take_nth as take_nth
from .itertoolz import topk as topk
from .itertoolz import unique as unique

comp = compose  # toolz's alias

_T = TypeVar("_T")
_K = TypeVar("_K", bound=Hashable)
_G = TypeVar("_G", bound=SupportsGetItem[Any, Any])

# toolz.recipes
@overload
def countby(key: Callable[[_T], _K], seq: Iterable[_T]) -> dict[_K, int]: ...
@overload
def countby(key: int | str, seq: Iterable[_G]) -> dict[Any, int]: ...
def partitionby(func: Callable[[_T], object], seq: Iterable[_T]) -> Iterator[tuple[_T, ...]]: ...

__version__: str
