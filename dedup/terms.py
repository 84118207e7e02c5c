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

from .features import NAME_PREFIX

_BATCH_ENTRIES = 1 << 24  # member entries summed at once (the product: ~130 MB at most)


def cluster_terms(
    matrix: sp.csr_matrix, names: np.ndarray, clusters: Sequence[Sequence[int]], wanted: int
) -> list[tuple[str, ...]]:
    """The ``wanted`` heaviest terms of the centroid of each cluster's rows.

    Terms are ranked by centroid weight, ties by column; a name-sequence feature is shown as
    the name itself, once (``afghanistan`` as a word and as a name is one term).

    Args:
        matrix: Non-negative rows (the TF-IDF matrix), float32.
        names: The name of each column.
        clusters: The rows of each cluster (any order of clusters; rows distinct).
        wanted: Terms per cluster (0 or more).

    Returns:
        The terms of each cluster, heaviest first (fewer when its centroid has fewer).
    """
    if wanted <= 0 or matrix.shape[1] == 0:
        return [() for _ in clusters]
    sizes = np.fromiter(map(len, clusters), dtype=np.int64, count=len(clusters))
    rows = np.fromiter(itertools.chain.from_iterable(clusters), np.int64, int(sizes.sum()))
    starts = np.concatenate([[0], np.cumsum(sizes)])
    entries = np.concatenate([[0], np.cumsum(np.diff(matrix.indptr)[rows])])[starts]
    terms: list[tuple[str, ...]] = []
    first = 0
    while first < len(clusters):  # batches of whole clusters, of about _BATCH_ENTRIES each
        last = int(np.searchsorted(entries, entries[first] + _BATCH_ENTRIES, side="right")) - 1
        last = min(max(last, first + 1), len(clusters))
        members = rows[starts[first] : starts[last]]
        terms += _batch_terms(matrix, names, members, sizes[first:last], wanted)
        first = last
    return terms


def _batch_terms(
    matrix: sp.csr_matrix,
    names: np.ndarray,
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
