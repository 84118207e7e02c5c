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

import numpy as np
import scipy.sparse as sp

from .strays import attach_strays

_PRODUCT_BUDGET = 8_000_000  # candidate entries gathered at once (about 100 MB)
_MARGIN = 1e-6  # float slack: index a little more than the bound requires


def _segment_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each row start (``starts`` as in CSR ``indptr[:-1]``)."""
    if not len(values):
        return values
    total = np.cumsum(values)
    lengths = np.diff(np.append(starts, len(values)))
    offsets = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0.0)
    before = np.repeat(offsets, lengths)
    return total - before


def prefix_split(matrix: sp.csr_matrix, min_similarity: float) -> tuple[sp.csr_matrix, np.ndarray]:
    """Split each row into its indexed prefix and the bound its suffix can add to a dot product.

    Returns:
        ``(prefix, suffix_bound)``: the prefix entries as a CSR matrix of the same shape, and
        per row the largest dot product its suffix can have with any row (0-1).
    """
    n, width = matrix.shape
    matrix = matrix.tocsr()
    matrix.sort_indices()
    data = matrix.data.astype(np.float64)
    frequency = np.bincount(matrix.indices, minlength=width)
    column_max = np.zeros(width)
    np.maximum.at(column_max, matrix.indices, data)
    rows = np.repeat(np.arange(n), np.diff(matrix.indptr))
    # Within each row, most frequent columns first (ties by column): they form the suffix.
    rank = np.empty(width, dtype=np.int64)
    rank[np.lexsort((np.arange(width), -frequency))] = np.arange(width)
    order = np.argsort(rows * np.int64(width) + rank[matrix.indices], kind="stable")
    sorted_data = data[order]
    starts = matrix.indptr[:-1]
    norm_bound = np.sqrt(_segment_cumsum(sorted_data**2, starts))
    weight_bound = _segment_cumsum(sorted_data * column_max[matrix.indices[order]], starts)
    bound = np.minimum(norm_bound, weight_bound)
    in_suffix = bound < min_similarity - _MARGIN
    suffix_bound = np.zeros(n)
    if len(bound):
        np.maximum.at(suffix_bound, rows, np.where(in_suffix, bound, 0.0))
    keep = order[~in_suffix]
    prefix = sp.csr_matrix(
        (matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=(n, width)
    )
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
        common = frequency > max_postings
        searched = matrix.copy()
        searched.data[common[searched.indices]] = 0.0
        searched.eliminate_zeros()
        slack = min_similarity / 4
    # Half the level may stay unindexed: a pair must then share indexed columns worth at least
    # the other half, which keeps the candidates few.
    prefix, suffix_bound = prefix_split(searched, min_similarity / 2)
    transposed = searched.T.tocsr()
    keys = []
    for start, stop in _row_chunks(prefix, np.diff(transposed.indptr)):
        partial = (prefix[start:stop] @ transposed).tocoo()
        row = partial.row + start
        # The prefix part plus the most the suffix can add must reach the level.
        reach = partial.data + suffix_bound[row] >= min_similarity - slack - _MARGIN
        keep = (partial.col != row) & reach
        a, b = np.minimum(row[keep], partial.col[keep]), np.maximum(row[keep], partial.col[keep])
        keys.append(np.unique(a.astype(np.int64) * n + b))
    key = np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
    first, second = key // n, key % n
    similarity = np.zeros(len(key))
    step = 1 << 14
    for start in range(0, len(key), step):  # exact dot products, in bounded memory
        a, b = first[start : start + step], second[start : start + step]
        similarity[start : start + len(a)] = np.asarray(
            matrix[a].multiply(matrix[b]).sum(axis=1), dtype=np.float64
        ).ravel()
    keep = similarity >= min_similarity
    return first[keep], second[keep], similarity[keep]


def _row_chunks(prefix: sp.csr_matrix, postings: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges whose products with the postings hold about ``_PRODUCT_BUDGET`` entries."""
    work = np.bincount(
        np.repeat(np.arange(prefix.shape[0]), np.diff(prefix.indptr)),
        weights=postings[prefix.indices].astype(np.float64),
        minlength=prefix.shape[0],
    )
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


def average_link_labels(
    matrix: sp.csr_matrix,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    threshold: float,
) -> np.ndarray:
    """Flat average-link clusters of the rows, cut at cosine distance ``threshold``.

    Equal to scipy's average linkage on the dense matrix of ``1 - similarity`` cut with
    ``fcluster(t=threshold + 1e-9, criterion="distance")``, given every pair closer than the
    cut (from :func:`similar_pairs` at ``1 - threshold``).

    Args:
        matrix: L2-normalized, non-negative rows.
        pairs: ``(first, second, similarity)`` of the pairs closer than the cut.
        threshold: Cut height (cosine distance, 0-1).

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
                with_keep = _dot(vector(keep), vector(other))
            with_gone = neighbours[gone].pop(other, None)
            if with_gone is None:
                with_gone = _dot(vector(gone), vector(other))
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
        vectors[keep] = _add(vector(keep), vector(gone))
        vectors.pop(gone, None)
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
