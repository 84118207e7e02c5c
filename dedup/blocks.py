"""Connected blocks of the story pair graph, each clustered on its own, over worker processes.

Average link at the story cut merges two clusters only when some pair across them is closer
than the cut (:mod:`dedup.linkage`), so rows that no chain of close pairs joins never share a
story: each connected block of the graph of close pairs is clustered apart from the others.
Everything the clustering stage does after the pair search stays inside one block: the
linkage (its merges within a block come in the same order as in one linkage of every row,
rows renumbered in the same order), the strays (a stray joins a neighbour, a row of its own
block), the split of merged stories and the events inside each story. So the blocks are
independent tasks: with ``jobs`` above 1 they run in forked worker processes (the matrix is
shared with them, not copied or pickled), and their results are put back in block order, so
the output does not depend on the number of workers or on their scheduling.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .memory import collect_own_garbage, release_freed_memory

_TASKS_PER_JOB = 32  # shares of the cost and of the items per worker (see _tasks)
_shared: tuple[Callable[[Any], Any], Sequence[Any]] | None = None  # read by forked workers


def connected_blocks(n: int, first: np.ndarray, second: np.ndarray) -> list[np.ndarray]:
    """Rows of each connected block of two rows or more of the graph of pairs.

    Args:
        n: Rows (nodes of the graph).
        first: One row of each pair.
        second: The other row of each pair.

    Returns:
        The rows of each block (ascending int64), blocks in order of their first row; rows
        in no pair are in no block.

    Example:
        >>> [b.tolist() for b in connected_blocks(6, np.array([4, 0]), np.array([5, 2]))]
        [[0, 2], [4, 5]]
    """
    if not len(first):
        return []
    graph = sp.coo_matrix((np.ones(len(first), dtype=np.int8), (first, second)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    rows = np.argsort(component, kind="stable")
    bounds = np.flatnonzero(np.diff(component[rows])) + 1
    blocks = [b for b in np.split(rows, bounds) if len(b) > 1]
    blocks.sort(key=lambda b: int(b[0]))
    return [b.astype(np.int64) for b in blocks]


def block_pairs(
    rows: np.ndarray, pairs: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of one block's rows, renumbered as positions in ``rows`` (same order).

    Args:
        rows: The block's rows (ascending).
        pairs: ``(first, second, similarity)`` of the pairs that have both rows in the block
            (a selection of the graph's pairs).

    Returns:
        ``(first, second, similarity)`` with ``first`` and ``second`` positions in ``rows``.
    """
    first, second, similarity = pairs
    return np.searchsorted(rows, first), np.searchsorted(rows, second), similarity


def pairs_by_block(
    blocks: list[np.ndarray], n: int, pairs: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The pairs of each block (as :func:`connected_blocks` gives), in their original order."""
    block_of = np.full(n, -1, dtype=np.int64)
    for index, rows in enumerate(blocks):
        block_of[rows] = index
    owner = block_of[pairs[0]]
    order = np.argsort(owner, kind="stable")
    bounds = np.searchsorted(owner[order], np.arange(len(blocks) + 1))
    return [
        tuple(p[order[bounds[i] : bounds[i + 1]]] for p in pairs)  # type: ignore[misc]
        for i in range(len(blocks))
    ]


def _run_task(indices: list[int]) -> list[Any]:
    """One task of :func:`map_blocks`: the work of each item of ``indices`` (in a worker)."""
    if _shared is None:
        raise RuntimeError("map_blocks sets the work before it forks the workers")
    work, items = _shared
    started = time.perf_counter()
    try:
        return [work(items[i]) for i in indices]
    finally:
        _trims.after(time.perf_counter() - started)


class _Trims:
    """When a worker trims its heap: after tasks worth ``_TRIM_SHARE`` times the last trim.

    A forked worker inherits the parent's heap with its free chunks (about 0.8 GB at
    200,000 articles, after the texts are dropped), and serves its small allocations from
    them: without trims, its tasks copy more and more of those shared pages until it holds
    nearly all of them. A trim after every task kept each worker's private memory near what
    one task needs (at 200,000 articles the second pass' workers grew by 16-124 MB each
    instead of 612-696 MB, and the run's summed PSS peak fell from 3.36 to 2.43 GB), but each
    trim walks the whole inherited heap: at 50,000 articles 6-9 ms, for tasks of 27 ms on
    average, 1.2 CPU-s in all. Spaced so that they take at most about an eighth of the
    workers' time, the summed PSS at 200,000 articles was the same (peak 2,603 MB against
    2,600; in the two passes at most 2,138 against 2,180), and the passes took 2.8-2.9 s
    instead of 3.3 s at 50,000.
    """

    def __init__(self) -> None:
        self.since = 0.0  # seconds of work since the last trim
        self.cost = 0.0  # seconds the last trim took (none yet: the first task trims)

    def after(self, seconds: float) -> None:
        """Count a task's ``seconds`` of work; trim when they add up to enough."""
        self.since += seconds
        if self.since >= _TRIM_SHARE * self.cost:
            started = time.perf_counter()
            release_freed_memory()
            self.cost, self.since = time.perf_counter() - started, 0.0


_TRIM_SHARE = 8
_trims = _Trims()  # a forked worker's own copy (the parent never trims through it)


def _tasks(costs: Sequence[float], jobs: int) -> list[list[int]]:
    """Item indices grouped into tasks, costliest items first.

    A task closes when it holds its share of the estimated cost or its share of the items,
    whichever comes first (``_TASKS_PER_JOB`` shares per job). The estimate (a block's rows
    squared) leaves out the fixed cost of each item, which dominates among the many small
    blocks sorted last: at a million articles, closing on cost alone put 35,159 blocks of
    at most 8 rows in the last task, 59 s on one core while the other was idle. Capped on
    both, no task holds more than one share of either part of the work.
    """
    order = sorted(range(len(costs)), key=lambda i: (-costs[i], i))
    shares = _TASKS_PER_JOB * jobs
    budget, most = sum(costs) / shares, max(1, -(-len(costs) // shares))
    tasks: list[list[int]] = []
    spent = budget
    for i in order:
        if spent >= budget or len(tasks[-1]) >= most:
            tasks.append([])
            spent = 0.0
        tasks[-1].append(i)
        spent += costs[i]
    return tasks


def map_blocks(
    work: Callable[[Any], Any], items: Sequence[Any], costs: Sequence[float], jobs: int
) -> list[Any]:
    """``[work(item) for item in items]``, over ``jobs`` forked processes when above 1.

    ``work`` and ``items`` reach the workers through the fork (nothing of them is pickled);
    only the item indices go out and the results come back, put in item order.

    Args:
        work: Function of one item; its result must be picklable.
        items: The items.
        costs: Relative cost of each item (for grouping items into balanced tasks).
        jobs: Processes (1 or less: in this process).

    Returns:
        The result of each item, in item order.
    """
    context = multiprocessing.get_all_start_methods()
    if jobs <= 1 or len(items) < 2 or "fork" not in context:
        return [work(item) for item in items]
    global _shared
    _shared = (work, items)
    try:
        tasks = _tasks(costs, jobs)
        results: list[Any] = [None] * len(items)
        fork = multiprocessing.get_context("fork")
        workers = min(jobs, len(tasks))
        # The collector: a caller may hold it off; the linkage's own cycles need it.
        with ProcessPoolExecutor(workers, mp_context=fork, initializer=collect_own_garbage) as pool:
            for task, done in zip(tasks, pool.map(_run_task, tasks), strict=True):
                for i, result in zip(task, done, strict=True):
                    results[i] = result
        return results
    finally:
        _shared = None
