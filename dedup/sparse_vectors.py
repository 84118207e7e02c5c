"""Sparse vectors as ``(indices, values)``: sorted distinct int32 indices, float64 values.

Average linkage (:mod:`dedup.linkage`) keeps each merged cluster's row sum so, and takes dot
products of such sums, once per cluster pair the graph does not hold. Two implementations
give the same bits: numpy's, by binary search (no sort of either vector), and a compiled one
(numba, the ``fast`` extra; see :mod:`dedup.compiled`), which skips numpy's per-call costs
(several microseconds each). The dot product is the pairwise sum ``np.sum`` makes of the
shared entries' products, in increasing index order; a sum adds each shared entry once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

Vector = tuple[np.ndarray, np.ndarray]


def dot(a: Vector, b: Vector) -> float:
    """Dot product of two sparse vectors (numpy).

    The shared indices are found by binary search of the shorter vector's in the longer's
    (a cluster's vector grows with its members; a sort of both would cost both).
    """
    short, long = (a, b) if len(a[0]) <= len(b[0]) else (b, a)
    if not len(long[0]):
        return 0.0
    at = np.searchsorted(long[0], short[0])
    np.minimum(at, len(long[0]) - 1, out=at)  # past the end: the last index, smaller
    in_short = np.flatnonzero(long[0][at] == short[0])
    in_long = at[in_short]
    in_a, in_b = (in_short, in_long) if short is a else (in_long, in_short)
    return float((a[1][in_a] * b[1][in_b]).sum())


def add(a: Vector, b: Vector) -> Vector:
    """Sum of two sparse vectors (numpy).

    ``b``'s entries are added to ``a``'s shared ones and placed among them for the rest
    (binary search, no sort of the union; the places are found once for the indices and the
    values, as two ``np.insert`` calls would each find them).
    """
    at = np.searchsorted(a[0], b[0])
    shared = a[0][np.minimum(at, len(a[0]) - 1)] == b[0] if len(a[0]) else at < 0
    values = a[1].copy()
    values[at[shared]] += b[1][shared]
    new = np.flatnonzero(~shared)
    if not len(new):
        return a[0], values
    slots = at[new] + np.arange(len(new))  # b's new entries in the union, in order
    old = np.ones(len(a[0]) + len(new), dtype=bool)
    old[slots] = False
    indices = np.empty(len(old), dtype=a[0].dtype)
    indices[slots], indices[old] = b[0][new], a[0]
    sums = np.empty(len(old), dtype=values.dtype)
    sums[slots], sums[old] = b[1][new], values
    return indices, sums


@cache
def compiled_operations() -> tuple[Callable[[Vector, Vector], float], Callable]:
    """``(dot, add)`` as above, compiled (numba must be installed): the same bits."""
    from .kernels import sparse_add, sparse_dot

    def compiled_dot(a: Vector, b: Vector) -> float:
        return sparse_dot(a[0], a[1], b[0], b[1])

    def compiled_add(a: Vector, b: Vector) -> Vector:
        return sparse_add(a[0], a[1], b[0], b[1])

    return compiled_dot, compiled_add
