"""The background of a corpus: how similar two of its articles usually are.

The cut heights of clustering (:func:`dedup.cluster.cut_heights`) and the split of merged
stories (:mod:`dedup.splits`) both start from the cosine similarities of the corpus' pairs of
articles (every pair, or every pair of a fixed-seed sample), measured once by
:func:`pair_similarities`. When those pairs are not mostly unrelated (a corpus of a few
subjects), :func:`two_group_split` gives the cut instead.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import compiled as compiled_kernels
from .splits import dense_similarity

MIN_BACKGROUND_DOCS = 30  # fewer articles cannot show what an unrelated pair looks like
_BACKGROUND_ROWS = 1500  # articles whose pairs are measured (a fixed-seed sample past this)
_COMPILED_ENTRIES = 100_000  # sampled entries from which the product is compiled (with numba)
_MAD_TO_SD = 1.4826  # median absolute deviation of a normal distribution, in standard deviations


def pair_similarities(matrix: sp.csr_matrix) -> np.ndarray | None:
    """Cosine similarities of every pair of rows (of a fixed-seed sample of 1,500 past that).

    Returns:
        The similarities of the upper triangle, or None under 30 rows.
    """
    n = matrix.shape[0]
    if n < MIN_BACKGROUND_DOCS:
        return None
    if n > _BACKGROUND_ROWS:
        rows = np.sort(np.random.RandomState(0).choice(n, _BACKGROUND_ROWS, replace=False))
        matrix = matrix[rows]
    compiled = matrix.nnz >= _COMPILED_ENTRIES and compiled_kernels.available()
    dense = dense_similarity(matrix, compiled=compiled)  # scipy's product's bits
    return dense[np.triu_indices(dense.shape[0], 1)]


def median_spread(pairs: np.ndarray) -> tuple[float, float]:
    """The median of the pairs and their median absolute deviation, as a standard deviation."""
    median = float(np.median(pairs))
    spread = float(np.median(np.abs(pairs - median))) * _MAD_TO_SD
    if spread <= 0.0:
        spread = float(pairs.std())
    return median, spread


def background_similarity(matrix: sp.csr_matrix) -> tuple[float, float] | None:
    """How similar two articles of this corpus usually are: the median and spread of pairs.

    Every pair is measured on corpora of up to 1,500 rows; past that, every pair among a
    fixed-seed sample of 1,500 rows (so the result is deterministic and costs one small
    sparse product). The spread is the median absolute deviation scaled to a standard
    deviation, or the standard deviation when more than half the pairs share nothing.

    Returns:
        ``(median, spread)`` of the cosine similarities, or None under 30 rows.
    """
    pairs = pair_similarities(matrix)
    return None if pairs is None else median_spread(pairs)


def two_group_split(pairs: np.ndarray) -> float | None:
    """The similarity that best parts the pairs into two groups (Otsu's threshold).

    The split of the sorted similarities with the most variance between its two sides (the
    one-dimensional two-means split); it has no parameter.

    Returns:
        The midpoint between the two sides' nearest values (cosine similarity, 0-1), or None
        under two pairs.
    """
    values = np.sort(pairs)
    if len(values) < 2:
        return None
    below = np.arange(1, len(values), dtype=np.float64)
    above = len(values) - below
    sums = np.cumsum(values)[:-1]
    gap = (sums[-1] + values[-1] - sums) / above - sums / below
    best = int(np.argmax(below * above * gap * gap))
    return float(values[best] + values[best + 1]) / 2.0
