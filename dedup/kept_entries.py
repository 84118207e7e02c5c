"""A sparse matrix's kept entries (a boolean per entry): counted, as a matrix, transposed.

The pair search (:mod:`dedup.pairs`) leaves the most common columns out of its index: these
give the searched entries and their postings without copying the whole matrix first.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp

from .compiled import THREADS, in_threads

_TRANSPOSE_ROWS = 4_000  # rows transposed or counted at once (int64: ~70 MB at 700 entries a row)
_ENTRIES = 1 << 22  # entries counted at once (bincount casts int32 indices to int64)
# numpy 1.25 gave ``ufunc.at`` a fast loop: counting a block of entries in place then costs
# the block, not also a count array of the matrix's width (a million articles: 4 counts of
# 700M entries took about 40 s that way, 170 blocks each adding 25M counts).
_FAST_AT = np.lib.NumpyVersion(np.__version__) >= "1.25.0"
_SAMPLE = 1 << 16  # entries whose columns place the cuts between the threads' column ranges


def column_counts(
    matrix: sp.csr_matrix, kept: np.ndarray | None = None, *, compiled: bool = False
) -> np.ndarray:
    """Entries of each column (int64), as ``np.bincount(matrix.indices)``, in bounded memory.

    Only the ``kept`` entries (a boolean per entry, in CSR order) are counted when given.
    With ``compiled`` (numba installed), threads count apart column ranges
    (:func:`dedup.kernels.count_columns`).
    """
    counts = np.zeros(matrix.shape[1], dtype=np.int64)
    if compiled:
        from .kernels import count_columns

        flags = np.zeros(0, dtype=bool) if kept is None else kept
        in_threads(
            lambda columns: count_columns(matrix.indices, flags, *columns, counts),
            column_ranges(matrix.indices, matrix.shape[1]),
        )
        return counts
    for start in range(0, matrix.nnz, _ENTRIES):
        indices = matrix.indices[start : start + _ENTRIES]
        if kept is not None:
            indices = indices[kept[start : start + _ENTRIES]]
        if _FAST_AT:  # no array of the matrix's width per block (20-30M columns at 1M articles)
            np.add.at(counts, indices, 1)
        else:
            counts += np.bincount(indices, minlength=len(counts))
    return counts


def column_ranges(
    indices: np.ndarray, width: int, cumulative: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """Ranges ``(low, high)`` of the columns ``0`` to ``width``, one a thread, of equal entries.

    Args:
        indices: The column of each entry (a sample of them places the cuts).
        width: Columns.
        cumulative: Entries before each column (``width + 1`` values, as a transpose's
            ``indptr``) when known: exact cuts instead.
    """
    if cumulative is None:
        sample = np.sort(indices[:: max(1, len(indices) // _SAMPLE)])
        cuts = sample[len(sample) * np.arange(1, THREADS) // THREADS] if len(sample) else []
    else:
        share = cumulative[-1] * np.arange(1, THREADS) // THREADS
        cuts = np.searchsorted(cumulative, share, side="right") - 1
    return _ranges(cuts, width)


def row_ranges(indptr: np.ndarray, parts: int | None = None) -> list[tuple[int, int]]:
    """Ranges ``(low, high)`` of the rows of a CSR ``indptr``, of about equal entries.

    ``parts`` ranges (some may be empty), one a thread when None.
    """
    parts = THREADS if parts is None else parts
    cuts = np.searchsorted(indptr, indptr[-1] * np.arange(1, parts) // parts)
    return _ranges(cuts, len(indptr) - 1)


def _ranges(cuts: Iterable[int], end: int) -> list[tuple[int, int]]:
    """Consecutive ranges from 0 to ``end``, cut at ``cuts`` (each at most ``end``)."""
    return list(itertools.pairwise([0, *sorted(min(int(c), end) for c in cuts), end]))


def searched_flags(
    matrix: sp.csr_matrix, common: np.ndarray, *, compiled: bool = False
) -> np.ndarray:
    """A flag per entry (CSR order): True unless its column is ``common`` or its value is 0.

    Args:
        matrix: CSR matrix.
        common: A flag per column: left out of the search.
        compiled: Flag row ranges in threads (:func:`dedup.kernels.searched_flags`).
    """
    if not compiled:
        return ~common[matrix.indices] & (matrix.data != 0)
    from .kernels import searched_flags as flag

    kept = np.empty(matrix.nnz, dtype=bool)
    entries = [(matrix.indptr[low], matrix.indptr[high]) for low, high in row_ranges(matrix.indptr)]
    in_threads(lambda span: flag(matrix.indices, matrix.data, common, *span, kept), entries)
    return kept


def kept_entries(
    matrix: sp.csr_matrix, kept: np.ndarray, *, compiled: bool = False
) -> sp.csr_matrix:
    """``matrix`` with only its ``kept`` entries (a boolean per entry, in CSR order).

    Built from the kept entries alone: no copy of the whole matrix first, and the rows' new
    starts counted a block of rows at a time (a count per entry of the whole matrix would
    cost 4-8 bytes an entry: 2.3 GB at a million articles, the main process's peak). With
    ``compiled``, threads count and copy row ranges (:func:`dedup.kernels.copy_kept`).
    """
    n = matrix.shape[0]
    starts = np.zeros(n + 1, dtype=matrix.indptr.dtype)
    if compiled:
        from .kernels import copy_kept, count_kept

        ranges = row_ranges(matrix.indptr)
        in_threads(lambda rows: count_kept(matrix.indptr, kept, *rows, starts), ranges)
        np.cumsum(starts, out=starts)
        indices = np.empty(int(starts[-1]), dtype=matrix.indices.dtype)
        data = np.empty(int(starts[-1]), dtype=matrix.dtype)
        in_threads(
            lambda rows: copy_kept(
                matrix.indptr, matrix.indices, matrix.data, kept, *rows, starts, indices, data
            ),
            ranges,
        )
        return sp.csr_matrix((data, indices, starts), shape=matrix.shape)
    for start in range(0, n, _TRANSPOSE_ROWS):
        stop = min(start + _TRANSPOSE_ROWS, n)
        starts[start + 1 : stop + 1] = (
            starts[start] + kept_row_starts(matrix, kept, start, stop)[1:]
        )
    return sp.csr_matrix((matrix.data[kept], matrix.indices[kept], starts), shape=matrix.shape)


def kept_row_starts(matrix: sp.csr_matrix, kept: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Where rows ``start`` to ``stop`` start among their own kept entries (int64, from 0).

    ``kept``: a boolean per entry of the whole matrix, in CSR order. The result is the
    ``indptr`` of those rows with only their kept entries (``stop - start + 1`` values).
    """
    begin, end = matrix.indptr[start], matrix.indptr[stop]
    before = np.zeros(end - begin + 1, dtype=np.int64)  # kept entries before each
    np.cumsum(kept[begin:end], out=before[1:])
    return before[matrix.indptr[start : stop + 1] - begin]


def kept_transpose(
    matrix: sp.csr_matrix,
    kept: np.ndarray,
    *,
    compiled: bool = False,
    counts: np.ndarray | None = None,
) -> sp.csr_matrix:
    """``kept_entries(matrix, kept).T.tocsr()`` (the postings), without that copy of the entries.

    Built a block of rows at a time, each block's kept entries written at the end of their
    columns' postings so far, in row order: rows stay in increasing order within a column, as
    scipy's transpose puts them, so the result is the same bit for bit. The searched copy and
    its transpose are never held at once (at a million articles each is several GB), and a
    block costs its own entries only, nothing of the matrix's width (a transpose of each block
    cost 25M columns' counts, 90 s in all at a million articles). With ``compiled`` (numba
    installed), threads fill apart column ranges in compiled passes over the entries, which
    write the same arrays. ``counts``: ``column_counts(matrix, kept)`` when the caller has it.
    """
    n, width = matrix.shape
    indptr = np.zeros(width + 1, dtype=np.int64)
    if counts is None:
        counts = column_counts(matrix, kept, compiled=compiled)
    np.cumsum(counts, out=indptr[1:])
    total = int(indptr[-1])
    index = np.int32 if max(total, n, width) < 2**31 - 1 else np.int64
    rows, data = np.empty(total, dtype=index), np.empty(total, dtype=matrix.dtype)
    filled = indptr[:-1].copy()  # where each column's next posting goes
    if compiled:
        from .kernels import fill_postings

        in_threads(
            lambda columns: fill_postings(
                matrix.indptr, matrix.indices, matrix.data, kept, *columns, filled, rows, data
            ),
            column_ranges(matrix.indices, width, indptr),
        )
        return sp.csr_matrix((data, rows, indptr.astype(index)), shape=(width, n))
    for start in range(0, n, _TRANSPOSE_ROWS):
        stop = min(start + _TRANSPOSE_ROWS, n)
        begin, end = matrix.indptr[start], matrix.indptr[stop]
        entry = np.flatnonzero(kept[begin:end])  # the block's kept entries, in row order
        if not len(entry):
            continue
        # By column, rows ascending within each: one sort of (column, entry) keys, faster
        # than a stable sort of the columns (entries of a block number under 2**32).
        key = matrix.indices[begin:end][entry].astype(np.int64) << 32
        key |= entry
        key.sort()
        entry, columns = key & 0xFFFFFFFF, key >> 32
        del key
        first = np.flatnonzero(np.concatenate([[True], columns[1:] != columns[:-1]]))
        counts = np.diff(np.append(first, len(columns)))
        rank = np.arange(len(columns)) - np.repeat(first, counts)  # place within its column
        position = filled[columns] + rank
        row = np.searchsorted(matrix.indptr[start : stop + 1] - begin, entry, side="right") - 1
        rows[position] = row + start
        data[position] = matrix.data[begin:end][entry]
        filled[columns[first]] += counts
    return sp.csr_matrix((data, rows, indptr.astype(index)), shape=(width, n))


def drop_indices_below(matrix: sp.csr_matrix, low: int) -> sp.csr_matrix:
    """``matrix`` without its entries of column index below ``low``: ``matrix`` itself, trimmed.

    The kept entries are moved forward a run at a time, in place, so no second copy of the
    entries is made (the pair search trims its postings to the rows still to be paired this
    way). Rows keep their entries' order.

    Args:
        matrix: A CSR matrix (for example postings: a row per column of the corpus matrix).
        low: Smallest column index kept (0 or more).

    Returns:
        ``matrix``, holding only the kept entries (views of its former arrays).
    """
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    total = int(indptr[-1])
    trimmed = np.empty_like(indptr)
    kept = done = 0  # entries kept so far; row starts placed so far
    for start in range(0, total, _ENTRIES):
        stop = min(start + _ENTRIES, total)
        keep = indices[start:stop] >= low
        before = np.zeros(stop - start + 1, dtype=np.int64)  # kept entries of the run before
        np.cumsum(keep, out=before[1:])
        starting = int(np.searchsorted(indptr, stop, side="left"))  # rows starting in the run
        trimmed[done:starting] = kept + before[indptr[done:starting] - start]
        done = starting
        count = int(before[-1])
        indices[kept : kept + count] = indices[start:stop][keep]  # copies, then writes before
        data[kept : kept + count] = data[start:stop][keep]
        kept += count
    trimmed[done:] = kept
    # Set in place: scipy's constructor would copy views much shorter than their arrays.
    matrix.indptr, matrix.indices, matrix.data = trimmed, indices[:kept], data[:kept]
    return matrix
