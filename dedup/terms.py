"""The heaviest terms of each cluster's centroid: the words a report shows for a cluster.

The centroids of many clusters are summed by one sparse product (a 0/1 matrix of the
clusters' members times the TF-IDF matrix) a batch of clusters at a time, not cluster by
cluster: the cost is the members' entries, in compiled loops. Each column is summed in
float32 in member order, as ``matrix[rows].sum(axis=0)`` sums it, so the terms and their
order are the same as a centroid computed on its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from . import compiled as compiled_kernels
from .features import NAME_PREFIX
from .kept_entries import row_ranges
from .tfidf import FeatureNames

_BATCH_ENTRIES = 1 << 24  # member entries summed at once (the product: ~130 MB at most)
_COMPILED_ROWS = 10_000  # fewer member rows are not worth loading the compiled kernel


def cluster_terms(
    matrix: sp.csr_matrix,
    names: FeatureNames | np.ndarray,
    clusters: Sequence[Sequence[int]],
    wanted: int,
    *,
    compiled: bool | None = None,
) -> list[tuple[str, ...]]:
    """The ``wanted`` heaviest terms of the centroid of each cluster's rows.

    Terms are ranked by centroid weight, ties by column; a name-sequence feature is shown as
    the name itself, once (``afghanistan`` as a word and as a name is one term).

    Args:
        matrix: Non-negative rows (the TF-IDF matrix), float32.
        names: The name of each column (indexed by an array of columns).
        clusters: The rows of each cluster (any order of clusters; rows distinct).
        wanted: Terms per cluster (0 or more).
        compiled: Rank each centroid's terms in a compiled loop (numba; the same terms).
            None does so when numba is installed and the clusters hold at least
            ``_COMPILED_ROWS`` rows in all (fewer are not worth loading it).

    Returns:
        The terms of each cluster, heaviest first (fewer when its centroid has fewer).
    """
    if wanted <= 0 or matrix.shape[1] == 0:
        return [() for _ in clusters]
    sizes = np.fromiter(map(len, clusters), dtype=np.int64, count=len(clusters))
    rows = np.fromiter(itertools.chain.from_iterable(clusters), np.int64, int(sizes.sum()))
    if compiled is None:
        compiled = len(rows) >= _COMPILED_ROWS and compiled_kernels.available()
    starts = np.concatenate([[0], np.cumsum(sizes)])
    entries = np.concatenate([[0], np.cumsum(np.diff(matrix.indptr)[rows])])[starts]
    if compiled:
        return _compiled_terms(matrix, names, rows, starts, entries, wanted)
    batches = []  # of whole clusters, of about _BATCH_ENTRIES each
    first = 0
    while first < len(clusters):
        last = int(np.searchsorted(entries, entries[first] + _BATCH_ENTRIES, side="right")) - 1
        last = min(max(last, first + 1), len(clusters))
        batches.append((first, last))
        first = last

    def batch_terms(batch: tuple[int, int]) -> list[tuple[str, ...]]:
        first, last = batch
        members = rows[starts[first] : starts[last]]
        return _batch_terms(matrix, names, members, sizes[first:last], wanted)

    # Two batches at a time: scipy's products release the GIL.
    return list(itertools.chain.from_iterable(compiled_kernels.in_threads(batch_terms, batches)))


def _batch_terms(
    matrix: sp.csr_matrix,
    names: FeatureNames | np.ndarray,
    members: np.ndarray,
    sizes: np.ndarray,
    wanted: int,
) -> list[tuple[str, ...]]:
    """:func:`cluster_terms` of consecutive clusters: their members, one after the other."""
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    indicator = sp.csr_matrix(
        (np.ones(len(members), dtype=matrix.dtype), members, indptr),
        shape=(len(sizes), matrix.shape[0]),
    )
    sums = indicator @ matrix  # each column summed in member order (zero sums left out)
    sums.data /= np.repeat(sizes.astype(sums.dtype), np.diff(sums.indptr))
    count = 2 * wanted  # room for the names that fold into words
    terms = []
    for lo, hi in itertools.pairwise(sums.indptr.tolist()):
        columns, weights = sums.indices[lo:hi], sums.data[lo:hi]
        if hi - lo > count:  # only weights at least the count-th largest can rank
            kth = np.partition(weights, hi - lo - count)[hi - lo - count]
            near = np.flatnonzero(weights >= kth)
            columns, weights = columns[near], weights[near]
        best = columns[np.lexsort((columns, -weights))[:count]]
        shown = dict.fromkeys(str(names[c]).removeprefix(NAME_PREFIX) for c in best.tolist())
        terms.append(tuple(shown)[:wanted])
    return terms


def _compiled_terms(
    matrix: sp.csr_matrix,
    names: FeatureNames | np.ndarray,
    rows: np.ndarray,
    starts: np.ndarray,
    entries: np.ndarray,
    wanted: int,
) -> list[tuple[str, ...]]:
    """:func:`cluster_terms` with each centroid summed and ranked compiled, on two threads.

    No product and no centroid matrix: each cluster's columns are summed in a work array
    of the matrix's width, then ranked. Cluster ``c`` has rows ``rows[starts[c]:starts[c+1]]``
    and the matrix entries before ``entries[c]`` belong to the clusters before it.
    """
    from . import kernels

    count = 2 * wanted  # room for the names that fold into words
    # Chunks of about equal entries (a few per thread, so the best columns stay small).
    chunks = row_ranges(entries, 8 * compiled_kernels.THREADS)
    width = matrix.shape[1]

    def rank(chunk: tuple[int, int]) -> np.ndarray:
        first, last = chunk
        best = np.empty((last - first, count), dtype=np.int64)
        kernels.centroid_top_columns(
            matrix.indptr, matrix.indices, matrix.data, rows, starts[first : last + 1],
            count, best, np.empty(width, dtype=matrix.dtype), np.zeros(width, dtype=bool),
            np.empty(width, dtype=np.int64),
        )  # fmt: skip
        return best

    best = compiled_kernels.in_threads(rank, chunks)
    best = np.concatenate([np.zeros((0, count), dtype=np.int64), *best])
    met = np.unique(best[best >= 0])
    shown = dict(
        zip(met.tolist(), (str(n).removeprefix(NAME_PREFIX) for n in names[met]), strict=True)
    )
    return [tuple(dict.fromkeys(shown[c] for c in row if c >= 0))[:wanted] for row in best.tolist()]
