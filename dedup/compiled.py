"""Compiled kernels through numba, the optional ``fast`` extra (``pip install 'dedup[fast]'``).

The kernels are in :mod:`dedup.kernels`, imported only when one is first wanted; each has a
numpy twin that gives the same bits (the tests compare them). Each is compiled on its first
use after an install and cached on disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

THREADS = 2  # threads of work that releases the GIL (compiled kernels, scipy's products)
# A corpus of this many articles takes the compiled kernels in its paragraph stage and near
# duplicates. Fewer are tokenized and their names found without them: loading numba and them
# costs each process about 0.5 s, and they save about 190 microseconds of the 540 a news
# article takes (dedup.token_table, features.name_sequences_of_articles).
COMPILED_ARTICLES = 10_000


@cache
def available() -> bool:
    """Whether numba can be imported (the ``fast`` extra is installed)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def started() -> bool:
    """:func:`available`, and then numba's compiler started in this process.

    A process' first compiled call starts it (about 0.3 s, once): a caller with time to spare
    takes that cost early, off the path of the kernels' first real call.
    """
    if not available():
        return False
    from .kernels import start

    start()
    return True


def in_threads(work: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[work(item) for item in items]`` on ``THREADS`` threads, results in item order.

    Only worth it for work that releases the GIL: the kernels (compiled ``nogil``), scipy's
    sparse products, numpy's sorts.
    """
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(work, items))
