"""Scalable exact average-link clustering of cosine-similar rows: the scaling part of clustering.

Two pieces, exact on inputs up to ``EXACT_ROWS`` rows (they give what a dense distance matrix
and scipy's average linkage give, up to float rounding), near-linear past it:

* :func:`~dedup.pairs.similar_pairs` finds every pair of rows whose cosine similarity reaches
  a level, without the n x n product (the all-pairs search of Bayardo et al., WWW 2007). On
  large inputs the most common columns (more than ``MAX_POSTINGS`` rows) are left out of the
  search, which bounds the work per row; pairs are still verified on every column.
* :func:`average_link_labels` runs average linkage on the graph of those pairs, merging the
  closest pair of clusters first, as the dense algorithm does. Two clusters joined by no pair
  of the graph are further apart on average than the cut, so they never merge below it; the
  average similarity of two clusters is the dot product of their row sums divided by the
  product of their sizes, so no dense matrix is needed for pairs outside the graph either.
  A block of the graph of up to ``_COMPILED_LINK_ROWS`` rows (with numba) runs the same loop
  compiled (:func:`dedup.kernels.average_link`), a table of its pair sums in place of the
  dicts: the same merges in the same order.

Rows must be L2-normalized with non-negative entries (TF-IDF vectors).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from . import compiled as compiled_kernels
from .memory import release_freed_memory
from .pairs import similar_pairs
from .sparse_vectors import add, compiled_operations, dot
from .strays import attach_strays

__all__ = [
    "average_link_labels",
    "dated_labels",
    "similar_pairs",
    "story_labels",
    "story_pairs",
]


_RUN = 1 << 16  # pairs made Python objects at once
_COMPILED_ROWS = 5_000  # corpora of this many rows or more use the compiled vector operations
_COMPILED_LINK_ROWS = 2_000  # up to this many rows the whole loop is compiled (a 32 MB table)
# A linkage of this many pairs or more gives its freed heap back to the system on return. A
# trim walks every free chunk the process holds (a forked block worker: all it inherited), so
# a small block's few MB are left for the next block to reuse instead: at a million articles
# a trim after every block made the first blocks pass 455 s instead of 49 s.
_TRIM_PAIRS = 100_000


def use_compiled(rows: int) -> bool:
    """Whether linkages of a corpus of ``rows`` rows use the compiled vector operations.

    They give the same bits as numpy's (:mod:`dedup.sparse_vectors`); below ``_COMPILED_ROWS``
    loading numba (about a second) costs more than they save, and without it they are absent.
    """
    return rows >= _COMPILED_ROWS and compiled_kernels.available()


def _runs(*columns: np.ndarray) -> Iterator[list[list]]:
    """The columns' values as Python lists, ``_RUN`` rows at a time (each list freed as used)."""
    for start in range(0, len(columns[0]), _RUN):
        yield [c[start : start + _RUN].tolist() for c in columns]


def _queue(
    distance: np.ndarray, first: np.ndarray, second: np.ndarray
) -> Iterator[tuple[float, int, int, int, int]]:
    """``(distance, first, second, 0, 0)`` of each sorted pair: the linkage's queued pops.

    Made a run at a time from the arrays (24 bytes a pair), not Python lists of every pair
    (about 100 bytes a pair).
    """
    for run in _runs(distance, first, second):
        yield from zip(*run, itertools.repeat(0), itertools.repeat(0))


def _dated_sum(
    matrix: sp.csr_matrix, rows: list[int], others: list[int], days: np.ndarray, window: float
) -> float:
    """Sum of the similarities of ``rows`` with ``others`` within ``window`` days.

    Pairs of rows both dated and more than ``window`` days apart count 0.
    """
    similarities = (matrix[rows] @ matrix[others].T).toarray().astype(np.float64)
    gaps = np.abs(days[rows][:, None] - days[others][None, :])
    return float(similarities[~(gaps > window)].sum())


def average_link_labels(
    matrix: sp.csr_matrix,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    threshold: float,
    *,
    days: np.ndarray | None = None,
    window: float = 0.0,
    compiled: bool | None = None,
) -> np.ndarray:
    """Flat average-link clusters of the rows, cut at cosine distance ``threshold``.

    Equal to scipy's average linkage on the dense matrix of ``1 - similarity`` cut with
    ``fcluster(t=threshold + 1e-9, criterion="distance")``, given every pair closer than the
    cut (from :func:`similar_pairs` at ``1 - threshold``).

    Args:
        matrix: L2-normalized, non-negative rows.
        pairs: ``(first, second, similarity)`` of the pairs closer than the cut.
        threshold: Cut height (cosine distance, 0-1).
        days: Publication day of each row (NaN when unknown); with it, two dated rows more
            than ``window`` days apart are unrelated (similarity 0, as the dense event
            distances make them), and ``pairs`` must hold no such pair.
        window: Days (more than 0 when ``days`` is given).
        compiled: Run the loop compiled (:func:`dedup.kernels.average_link`, up to
            ``_COMPILED_LINK_ROWS`` rows without dates), or else sum cluster vectors with the
            compiled operations: the same labels either way. None decides by the rows given
            (:func:`use_compiled`). The blocks of a large corpus are small: their caller
            decides by the corpus.

    Returns:
        A label per row: the smallest row index of its cluster.
    """
    n = matrix.shape[0]
    matrix = sp.csr_matrix(matrix)
    matrix.sort_indices()
    limit = threshold + 1e-9
    compiled = use_compiled(n) if compiled is None else compiled
    if compiled and days is None and n <= _COMPILED_LINK_ROWS:
        return _smallest_of_each(_compiled_parents(matrix, pairs, limit))
    return _smallest_of_each(_parents(matrix, pairs, limit, days, window, compiled))


def _parents(
    matrix: sp.csr_matrix,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    limit: float,
    days: np.ndarray | None,
    window: float,
    compiled: bool,
) -> list[int]:
    """The parent of each row after the merges of :func:`average_link_labels` (Python loop).

    A row merged into another has that row as its parent; a cluster's root, itself.
    ``matrix``: sorted indices; ``limit``: the cut plus its hair.
    """
    n = matrix.shape[0]
    neighbours: list[dict[int, float]] = [{} for _ in range(n)]
    # Memory: one int object per row shared as a key by every dict holding it (not one per
    # pair and side), and the pairs made Python lists a run at a time, not all at once.
    row = list(range(n))
    for first, second, similarity in _runs(*pairs):
        for a, b, s in zip(first, second, similarity, strict=True):
            a, b = row[a], row[b]
            neighbours[a][b] = neighbours[b][a] = s
    size = [1] * n
    version = [0] * n
    vectors: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    # The pairs' own distances are popped from a sorted list, and only the distances of
    # merged clusters go through the heap: the same order of pops as one heap of both, but
    # the heap stays a fraction of the pairs (each pop of a heap of every pair cost a cache
    # miss per level).
    queued = _queue(*_sorted_close_pairs(pairs, limit))
    heap: list[tuple[float, int, int, int, int]] = []
    parent = list(range(n))

    members: dict[int, list[int]] = {}
    data = matrix.data.astype(np.float64) if days is None else None  # widened once, read only
    if compiled:  # the same bits, faster
        vector_dot, vector_add = compiled_operations()
    else:
        vector_dot, vector_add = dot, add

    def pair_sum(c: int, other: int) -> float:
        """Sum of the similarities across clusters ``c`` and ``other`` (no pair stored)."""
        if days is None:
            return vector_dot(vector(c), vector(other))
        return _dated_sum(matrix, members.get(c, [c]), members.get(other, [other]), days, window)

    def vector(c: int) -> tuple[np.ndarray, np.ndarray]:
        """A merged cluster's row sum (kept), or a single row's (made anew, not kept)."""
        found = vectors.get(c)
        if found is not None:
            return found
        lo, hi = matrix.indptr[c], matrix.indptr[c + 1]
        return matrix.indices[lo:hi], data[lo:hi]

    waiting = next(queued, None)
    while heap or waiting is not None:
        if waiting is not None:
            item = waiting
            if heap and heap[0] < item:
                item = heapq.heappop(heap)
            else:
                waiting = next(queued, None)
        else:
            item = heapq.heappop(heap)
        _, a, b, version_a, version_b = item
        if version[a] != version_a or version[b] != version_b:
            continue  # stale: one side merged since
        keep, gone = (
            (row[a], row[b]) if len(neighbours[a]) >= len(neighbours[b]) else (row[b], row[a])
        )
        merged = size[keep] + size[gone]
        del neighbours[keep][gone], neighbours[gone][keep]
        for other in set(neighbours[keep]) | set(neighbours[gone]):
            # Sum of pair similarities of the merged cluster with ``other``; a side with no
            # pair in the graph gets it exactly from the row sums.
            with_keep = neighbours[keep].get(other)
            if with_keep is None:
                with_keep = pair_sum(keep, other)
            with_gone = neighbours[gone].pop(other, None)
            if with_gone is None:
                with_gone = pair_sum(gone, other)
            else:
                del neighbours[other][gone]
            total = with_keep + with_gone
            neighbours[keep][other] = neighbours[other][keep] = total
            distance = 1.0 - total / (merged * size[other])
            if distance <= limit:
                first, second = min(keep, other), max(keep, other)
                heapq.heappush(
                    heap,
                    (
                        distance,
                        first,
                        second,
                        version[first] + (first == keep),
                        version[second] + (second == keep),
                    ),
                )
        if days is None:
            # A cluster left with no neighbour never merges, nor is summed with, again.
            if neighbours[keep]:
                vectors[keep] = vector_add(vector(keep), vector(gone))
            else:
                vectors.pop(keep, None)
            vectors.pop(gone, None)
        else:
            members[keep] = members.get(keep, [keep]) + members.pop(gone, [gone])
        size[keep] = merged
        version[keep] += 1
        version[gone] = -1
        parent[gone] = keep
    neighbours.clear()
    vectors.clear()
    if len(pairs[0]) >= _TRIM_PAIRS:
        release_freed_memory()  # the dicts' freed tables stay in the process otherwise (+80 %)
    return parent


def _sorted_close_pairs(
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray], limit: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(distance, first, second)`` of the pairs no farther than ``limit``, in pop order."""
    distance = 1.0 - np.asarray(pairs[2], dtype=np.float64)
    close = distance <= limit
    order = np.lexsort((pairs[1][close], pairs[0][close], distance[close]))
    return distance[close][order], pairs[0][close][order], pairs[1][close][order]


def _compiled_parents(
    matrix: sp.csr_matrix, pairs: tuple[np.ndarray, np.ndarray, np.ndarray], limit: float
) -> list[int]:
    """The parent of each row after the merges (:func:`dedup.kernels.average_link`)."""
    from .kernels import average_link

    first, second = (np.asarray(p, dtype=np.int64) for p in pairs[:2])
    parents = average_link(
        matrix.indptr, matrix.indices, matrix.data.astype(np.float64),
        first, second, np.asarray(pairs[2], dtype=np.float64),
        *_sorted_close_pairs((first, second, pairs[2]), limit), limit,
    )  # fmt: skip
    return parents.tolist()


def _smallest_of_each(parent: list[int]) -> np.ndarray:
    """A label per row from the merges' parents: the smallest row of its cluster."""
    n = len(parent)
    labels = np.empty(n, dtype=np.int64)
    for x in range(n):
        root = x
        while parent[root] != root:
            root = parent[root]
        labels[x] = root
    smallest: dict[int, int] = {}
    for x in range(n):
        smallest.setdefault(int(labels[x]), x)
    return np.array([smallest[int(r)] for r in labels], dtype=np.int64)


EXACT_ROWS = 20_000  # up to this many rows the pair search is exact; past it, bounded
MAX_POSTINGS = 300  # rows per searched column past EXACT_ROWS (see similar_pairs)


def story_pairs(
    matrix: sp.csr_matrix, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of rows closer than the story cut ``threshold``, as :func:`story_labels` uses.

    Every such pair up to ``EXACT_ROWS`` rows; past it the search skips the columns of more
    than ``MAX_POSTINGS`` rows (see :func:`similar_pairs`).

    Returns:
        ``(first, second, similarity)`` as :func:`similar_pairs` gives them.
    """
    max_postings = None if matrix.shape[0] <= EXACT_ROWS else MAX_POSTINGS
    return similar_pairs(matrix, 1.0 - threshold - 1e-9, max_postings=max_postings)


def story_labels(matrix: sp.csr_matrix, threshold: float, *, strays: bool = False) -> np.ndarray:
    """Average-link clusters of the rows cut at cosine distance ``threshold`` (see above).

    Exact up to ``EXACT_ROWS`` rows; past it the pair search skips the columns of more than
    ``MAX_POSTINGS`` rows, so its cost grows linearly. With ``strays``, a row left alone joins
    the cluster of its most similar row within the cut (:func:`dedup.strays.attach_strays`,
    from the same pairs).
    """
    pairs = story_pairs(matrix, threshold)
    labels = average_link_labels(matrix, pairs, threshold)
    return attach_strays(labels, *pairs) if strays else labels


def dated_labels(
    matrix: sp.csr_matrix,
    days: np.ndarray,
    threshold: float,
    window: float,
    *,
    strays: bool = False,
) -> np.ndarray:
    """Average-link clusters with a date window, without a dense matrix: large stories' events.

    Dated rows more than ``window`` days apart are unrelated (distance 1). Equal to scipy's
    average linkage on the dense distances with those pairs set to 1 (up to float rounding):
    every close pair is searched (:func:`similar_pairs` with no bound), and memory grows with
    the close pairs, not with the square of the rows.

    Args:
        matrix: L2-normalized, non-negative rows.
        days: Publication day of each row (NaN when unknown).
        threshold: Cut height (cosine distance, 0-1).
        window: Days; 0 or less ignores the dates.
        strays: A row left alone joins the cluster of its most similar row within the cut
            and the window (:func:`dedup.strays.attach_strays`), as in the dense path.

    Returns:
        A label per row: the smallest row index of its cluster (any label per cluster with
        ``strays``).
    """
    first, second, similarity = similar_pairs(matrix, 1.0 - threshold - 1e-9)
    if window <= 0:
        pairs = first, second, similarity
        labels = average_link_labels(matrix, pairs, threshold)
    else:
        near = ~(np.abs(days[first] - days[second]) > window)
        pairs = first[near], second[near], similarity[near]
        labels = average_link_labels(matrix, pairs, threshold, days=days, window=window)
    return attach_strays(labels, *pairs) if strays else labels
