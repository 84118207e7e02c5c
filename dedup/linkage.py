"""Scalable exact average-link clustering of cosine-similar rows: the scaling part of clustering.

Two pieces, exact on inputs up to ``EXACT_ROWS`` rows (they give what a dense distance matrix
and scipy's average linkage give, up to float rounding), near-linear past it:

* :func:`similar_pairs` finds every pair of rows whose cosine similarity reaches a level,
  without the n x n product: the all-pairs search of Bayardo et al. (WWW 2007). Each row is
  split into a prefix of its rarer columns and a suffix of its most common ones, as long as
  the suffix alone cannot reach the level (bounded both by its norm and by the largest weight
  of each column). A pair that reaches the level must then share a prefix column, so only the
  short postings of rare columns are multiplied; candidates are verified exactly. On large
  inputs the most common columns (more than ``MAX_POSTINGS`` rows) are left out of the search,
  which bounds the work per row; pairs are still verified on every column.
* :func:`average_link_labels` runs average linkage on the graph of those pairs, merging the
  closest pair of clusters first, as the dense algorithm does. Two clusters joined by no pair
  of the graph are further apart on average than the cut, so they never merge below it; the
  average similarity of two clusters is the dot product of their row sums divided by the
  product of their sizes, so no dense matrix is needed for pairs outside the graph either.

Rows must be L2-normalized with non-negative entries (TF-IDF vectors).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

from .strays import attach_strays

T = TypeVar("T")

_PRODUCT_BUDGET = 4_000_000  # candidate entries gathered at once per thread (about 50 MB)
_MARGIN = 1e-6  # float slack: index a little more than the bound requires
_VERIFY_STEP = 1 << 11  # candidate pairs verified at once (their rows are copied: ~40 MB)
_SPLIT_ROWS = 20_000  # rows split into prefix and suffix at once (one float64 sum of bounds)
_BOUND_ROWS = 2_000  # rows whose float64 bounds are computed at once (the same sums)
_THREADS = 2  # chunks multiplied at once (scipy's sparse products release the GIL)


def _in_threads(work: Callable[[T], np.ndarray], items: Iterable[T]) -> list[np.ndarray]:
    """``[work(item) for item in items]`` on ``_THREADS`` threads, results in item order."""
    with ThreadPoolExecutor(_THREADS) as pool:
        return list(pool.map(work, items))


def _segment_cumsum(
    values: np.ndarray, starts: np.ndarray, carry: float, first: bool
) -> tuple[np.ndarray, float]:
    """Cumulative sums restarting at each row start, for one run of whole rows of a block.

    The sums are those of one cumulative sum over the whole block (``carry`` is its value
    just before ``values``) minus its value at each row's start, so a block cut into runs
    gives bit for bit what the block in one piece gives.

    Args:
        values: The entries of consecutive rows.
        starts: Where each row starts in ``values`` (as CSR ``indptr[:-1]``, from 0).
        carry: The block's cumulative sum before ``values`` (0.0 at the block's start).
        first: Whether ``values`` starts the block (its first row subtracts 0.0).

    Returns:
        ``(sums, carry)``: the per-row cumulative sums and the block's sum after ``values``.
    """
    if not len(values):
        return values, carry
    total = np.cumsum(np.concatenate([[carry], values]))  # total[j + 1]: the block's sum
    lengths = np.diff(np.append(starts, len(values)))
    offsets = np.where((starts > 0) | (not first), total[starts], 0.0)
    carry = float(total[-1])
    sums = total[1:]
    sums -= np.repeat(offsets, lengths)
    return sums, carry


def prefix_split(matrix: sp.csr_matrix, min_similarity: float) -> tuple[sp.csr_matrix, np.ndarray]:
    """Split each row into its indexed prefix and the bound its suffix can add to a dot product.

    Returns:
        ``(prefix, suffix_bound)``: the prefix entries as a CSR matrix of the same shape, and
        per row the largest dot product its suffix can have with any row (0-1).
    """
    n, width = matrix.shape
    matrix = sp.csr_matrix(matrix)
    frequency = np.bincount(matrix.indices, minlength=width)
    column_max = np.zeros(width)
    np.maximum.at(column_max, matrix.indices, matrix.data.astype(np.float64))
    # Within each row, most frequent columns first (ties by column): they form the suffix.
    # Columns renumbered by that rank and sorted row by row (no sort of all the entries), a
    # block of rows at a time (the float64 temporaries stay small).
    by_rank = np.lexsort((np.arange(width), -frequency))
    rank = np.empty(width, dtype=matrix.indices.dtype)
    rank[by_rank] = np.arange(width)
    pieces = [
        _split_rows(matrix[start : start + _SPLIT_ROWS], rank, by_rank, column_max, min_similarity)
        for start in range(0, n, _SPLIT_ROWS)
    ]
    if not pieces:
        return sp.csr_matrix((n, width), dtype=matrix.dtype), np.zeros(n)
    prefix = sp.vstack([p for p, _ in pieces], format="csr")
    prefix.sort_indices()
    return prefix, np.concatenate([b for _, b in pieces])


def _split_rows(
    matrix: sp.csr_matrix,
    rank: np.ndarray,
    by_rank: np.ndarray,
    column_max: np.ndarray,
    min_similarity: float,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """:func:`prefix_split` of a block of rows, given the corpus' column ranks and maxima."""
    n, width = matrix.shape
    ranked = sp.csr_matrix(
        (matrix.data.copy(), rank[matrix.indices], matrix.indptr.copy()), shape=(n, width)
    )
    ranked.sort_indices()
    columns = by_rank[ranked.indices]
    indptr = ranked.indptr
    in_suffix = np.zeros(len(columns), dtype=bool)
    suffix_bound = np.zeros(n)
    squares = weights = 0.0  # the block's running sums (float64 temporaries of a run only)
    for low in range(0, n, _BOUND_ROWS):
        high = min(low + _BOUND_ROWS, n)
        begin, end = indptr[low], indptr[high]
        sorted_data = ranked.data[begin:end].astype(np.float64)
        starts = indptr[low:high] - begin
        norm_bound, squares = _segment_cumsum(sorted_data**2, starts, squares, low == 0)
        np.sqrt(norm_bound, out=norm_bound)
        weight = sorted_data * column_max[columns[begin:end]]
        weight_bound, weights = _segment_cumsum(weight, starts, weights, low == 0)
        bound = np.minimum(norm_bound, weight_bound)
        del sorted_data, norm_bound, weight, weight_bound
        run_suffix = bound < min_similarity - _MARGIN
        in_suffix[begin:end] = run_suffix
        filled = np.flatnonzero(np.diff(indptr[low : high + 1]) > 0)
        if len(filled):  # the bound grows along a row: the suffix is each row's first entries
            suffix_bound[low + filled] = np.maximum.reduceat(
                np.where(run_suffix, bound, 0.0), starts[filled]
            )
    kept = np.concatenate([[0], np.cumsum(~in_suffix)])[ranked.indptr]
    prefix = sp.csr_matrix((ranked.data[~in_suffix], columns[~in_suffix], kept), shape=(n, width))
    prefix.sort_indices()
    return prefix, suffix_bound


def similar_pairs(
    matrix: sp.csr_matrix, min_similarity: float, *, max_postings: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of rows with cosine similarity at least ``min_similarity``.

    Exact (every such pair) when no column holds more than ``max_postings`` rows. Columns
    that do (the most common words of a large corpus) are left out of the search, though not
    of the verified similarity: a pair is then found when it shares rarer columns worth
    nearly the level (within a quarter of it), which is what two articles of one story do.
    This bounds the work per row, so the cost grows linearly with the number of rows.

    Args:
        matrix: L2-normalized, non-negative rows.
        min_similarity: Level in (0, 1].
        max_postings: Largest column (rows) searched; None searches every column.

    Returns:
        ``(first, second, similarity)``: row indices with ``first < second`` (sorted by
        ``first`` then ``second``) and the similarity of each pair.
    """
    n = matrix.shape[0]
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    searched, slack = matrix, 0.0
    frequency = np.bincount(matrix.indices, minlength=matrix.shape[1])
    if max_postings is not None and frequency.max(initial=0) > max_postings:
        searched = _without_columns(matrix, frequency > max_postings)
        slack = min_similarity / 4
    # Half the level may stay unindexed: a pair must then share indexed columns worth at least
    # the other half, which keeps the candidates few.
    prefix, suffix_bound = prefix_split(searched, min_similarity / 2)
    transposed = searched.T.tocsr()
    level = min_similarity - slack - _MARGIN

    def candidates(chunk: tuple[int, int]) -> np.ndarray:
        start, stop = chunk
        partial = (prefix[start:stop] @ transposed).tocoo()
        row = partial.row + start
        # The prefix part plus the most the suffix can add must reach the level.
        keep = (partial.col != row) & (partial.data + suffix_bound[row] >= level)
        a, b = np.minimum(row[keep], partial.col[keep]), np.maximum(row[keep], partial.col[keep])
        return np.unique(a.astype(np.int64) * n + b)

    keys = _in_threads(candidates, _row_chunks(prefix, np.diff(transposed.indptr)))
    key = np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
    first, second = key // n, key % n

    def verify(start: int) -> np.ndarray:  # exact dot products, in bounded memory
        a, b = first[start : start + _VERIFY_STEP], second[start : start + _VERIFY_STEP]
        return np.asarray(matrix[a].multiply(matrix[b]).sum(axis=1), dtype=np.float64).ravel()

    similarity = np.concatenate(
        [np.zeros(0), *_in_threads(verify, range(0, len(key), _VERIFY_STEP))]
    )
    keep = similarity >= min_similarity
    return first[keep], second[keep], similarity[keep]


def _without_columns(matrix: sp.csr_matrix, dropped: np.ndarray) -> sp.csr_matrix:
    """``matrix`` without the entries of the ``dropped`` columns (a boolean per column).

    Built from the kept entries alone: no copy of the whole matrix first. Explicit zeros are
    left out too, as ``eliminate_zeros`` would.
    """
    kept = ~dropped[matrix.indices] & (matrix.data != 0)
    before = np.zeros(len(kept) + 1, dtype=matrix.indptr.dtype)  # kept entries before each
    np.cumsum(kept, out=before[1:])
    return sp.csr_matrix(
        (matrix.data[kept], matrix.indices[kept], before[matrix.indptr]), shape=matrix.shape
    )


def _row_chunks(prefix: sp.csr_matrix, postings: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges whose products with the postings hold about ``_PRODUCT_BUDGET`` entries."""
    # Per row, the postings its entries multiply (integers: exact in float64), as sums of
    # consecutive entries (no per-entry row array).
    before = np.zeros(prefix.nnz + 1, dtype=np.int64)
    np.cumsum(postings[prefix.indices], out=before[1:])
    work = np.diff(before[prefix.indptr]).astype(np.float64)
    bounds = np.searchsorted(
        np.cumsum(work), np.arange(1, 1 + work.sum() // _PRODUCT_BUDGET) * _PRODUCT_BUDGET
    )
    edges = sorted({0, prefix.shape[0], *(int(b) + 1 for b in bounds)})
    edges = [e for e in edges if e <= prefix.shape[0]]
    return list(itertools.pairwise(edges))


def _dot(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> float:
    """Dot product of two sparse vectors given as (sorted indices, values)."""
    _, i, j = np.intersect1d(a[0], b[0], assume_unique=True, return_indices=True)
    return float(np.dot(a[1][i], b[1][j]))


def _add(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> tuple:
    """Sum of two sparse vectors given as (sorted indices, values)."""
    indices, inverse = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    values = np.bincount(inverse, weights=np.concatenate([a[1], b[1]]), minlength=len(indices))
    return indices, values


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

    Returns:
        A label per row: the smallest row index of its cluster.
    """
    n = matrix.shape[0]
    matrix = sp.csr_matrix(matrix)
    matrix.sort_indices()
    limit = threshold + 1e-9
    neighbours: list[dict[int, float]] = [{} for _ in range(n)]
    for a, b, s in zip(*(p.tolist() for p in pairs), strict=True):
        neighbours[a][b] = neighbours[b][a] = s
    size = [1] * n
    version = [0] * n
    vectors: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    heap = [(1.0 - s, a, b, 0, 0) for a, b, s in zip(*(p.tolist() for p in pairs), strict=True)]
    heap = [entry for entry in heap if entry[0] <= limit]
    heapq.heapify(heap)
    parent = list(range(n))

    members: dict[int, list[int]] = {}

    def pair_sum(c: int, other: int) -> float:
        """Sum of the similarities across clusters ``c`` and ``other`` (no pair stored)."""
        if days is None:
            return _dot(vector(c), vector(other))
        return _dated_sum(matrix, members.get(c, [c]), members.get(other, [other]), days, window)

    def vector(c: int) -> tuple[np.ndarray, np.ndarray]:
        if c not in vectors:
            lo, hi = matrix.indptr[c], matrix.indptr[c + 1]
            vectors[c] = (matrix.indices[lo:hi], matrix.data[lo:hi].astype(np.float64))
        return vectors[c]

    while heap:
        _, a, b, version_a, version_b = heapq.heappop(heap)
        if version[a] != version_a or version[b] != version_b:
            continue  # stale: one side merged since
        keep, gone = (a, b) if len(neighbours[a]) >= len(neighbours[b]) else (b, a)
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
            vectors[keep] = _add(vector(keep), vector(gone))
            vectors.pop(gone, None)
        else:
            members[keep] = members.get(keep, [keep]) + members.pop(gone, [gone])
        size[keep] = merged
        version[keep] += 1
        version[gone] = -1
        parent[gone] = keep
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


def story_labels(matrix: sp.csr_matrix, threshold: float, *, strays: bool = False) -> np.ndarray:
    """Average-link clusters of the rows cut at cosine distance ``threshold`` (see above).

    Exact up to ``EXACT_ROWS`` rows; past it the pair search skips the columns of more than
    ``MAX_POSTINGS`` rows, so its cost grows linearly. With ``strays``, a row left alone joins
    the cluster of its most similar row within the cut (:func:`dedup.strays.attach_strays`,
    from the same pairs).
    """
    max_postings = None if matrix.shape[0] <= EXACT_ROWS else MAX_POSTINGS
    pairs = similar_pairs(matrix, 1.0 - threshold - 1e-9, max_postings=max_postings)
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
