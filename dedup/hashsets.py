"""Numpy passes over many sorted hash sets at once, for the paragraph stage.

A Python loop over a task's paragraphs or a pair of texts at a time costs more than these few
numpy calls over all of them.
"""

from __future__ import annotations

import numpy as np

_EMPTY = np.zeros(0, dtype=np.uint64)


def may_repeat(shingles: list[np.ndarray], counts: list[int], threshold: float) -> list[bool]:
    """Whether each article may hold a repeated paragraph, for many articles at once.

    An article may only when two of its paragraphs share a hash among the prefixes that
    ``ParagraphCleaner._mark_repeats`` indexes (of each paragraph, its
    ``len - ceil(threshold * len) + 1`` smallest hashes); most articles have no such pair, and
    need no loop over their paragraphs.

    Args:
        shingles: Sorted distinct shingle hashes of each paragraph, article after article.
        counts: Paragraphs of each article (they sum to ``len(shingles)``).
        threshold: The Jaccard level of a copy (0-1).
    """
    lengths = np.fromiter(map(len, shingles), dtype=np.int64, count=len(shingles))
    with np.errstate(invalid="ignore"):
        prefix = lengths - np.ceil(threshold * lengths - 1e-9).astype(np.int64) + 1
    prefix = np.minimum(prefix, lengths)
    starts = np.cumsum(lengths) - lengths
    position = np.arange(int(lengths.sum())) - np.repeat(starts, lengths)
    indexed = position < np.repeat(prefix, lengths)
    article = np.repeat(np.repeat(np.arange(len(counts)), counts), lengths)[indexed]
    values = np.concatenate([_EMPTY, *shingles])[indexed]
    order = np.lexsort((values, article))
    article, values = article[order], values[order]
    shared = (article[1:] == article[:-1]) & (values[1:] == values[:-1])
    may = np.zeros(len(counts), dtype=bool)
    may[article[1:][shared]] = True
    return may.tolist()


def distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` (sorted distinct values) by one sort.

    numpy 2.3+ finds the distinct values of ``np.unique`` with a hash table first, which on
    millions of scattered int64 keys was measured 10-20 times slower than a sort.
    """
    values = np.sort(values)
    fresh = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=fresh[1:])
    return values[fresh]


def shared_counts(sets: list[np.ndarray]) -> list[list[int]]:
    """How many values each pair of sets shares (the diagonal: each set's size).

    Args:
        sets: Sorted distinct uint64 arrays (a few, each of a few hundred values).

    Returns:
        ``shared[i][j]``: values in both ``sets[i]`` and ``sets[j]``.
    """
    values = np.concatenate([_EMPTY, *sets])
    owner = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
    order = np.argsort(values, kind="stable")  # stable: owners ascending among equals
    values, owner = values[order], owner[order]
    # A value in m sets is m equal neighbours once sorted: pair each with those d places on.
    pairs = [np.zeros(0, dtype=np.int64)]
    d = 1
    while d < len(values):
        same = np.flatnonzero(values[d:] == values[:-d])
        if not len(same):
            break
        pairs.append(owner[same] * len(sets) + owner[same + d])
        d += 1
    counts = np.bincount(np.concatenate(pairs), minlength=len(sets) ** 2)
    counts = counts.reshape(len(sets), len(sets))
    counts = counts + counts.T
    counts[np.diag_indices(len(sets))] = [len(s) for s in sets]
    return counts.tolist()
