"""A sparse matrix's kept entries (a boolean per entry): counted, as a matrix, transposed.

The pair search (:mod:`dedup.pairs`) leaves the most common columns out of its index: these
give the searched entries and their postings without copying the whole matrix first.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

_TRANSPOSE_ROWS = 4_000  # rows transposed or counted at once (int64: ~70 MB at 700 entries a row)
_ENTRIES = 1 << 22  # entries counted at once (bincount casts int32 indices to int64)


def column_counts(matrix: sp.csr_matrix, kept: np.ndarray | None = None) -> np.ndarray:
    """Entries of each column (int64), as ``np.bincount(matrix.indices)``, in bounded memory.

    Only the ``kept`` entries (a boolean per entry, in CSR order) are counted when given.
    """
    counts = np.zeros(matrix.shape[1], dtype=np.int64)
    for start in range(0, matrix.nnz, _ENTRIES):
        indices = matrix.indices[start : start + _ENTRIES]
        if kept is not None:
            indices = indices[kept[start : start + _ENTRIES]]
        counts += np.bincount(indices, minlength=len(counts))
    return counts


def kept_entries(matrix: sp.csr_matrix, kept: np.ndarray) -> sp.csr_matrix:
    """``matrix`` with only its ``kept`` entries (a boolean per entry, in CSR order).

    Built from the kept entries alone: no copy of the whole matrix first, and the rows' new
    starts counted a block of rows at a time (a count per entry of the whole matrix would
    cost 4-8 bytes an entry: 2.3 GB at a million articles, the main process's peak).
    """
    n, indptr = matrix.shape[0], matrix.indptr
    starts = np.zeros(n + 1, dtype=indptr.dtype)
    for start in range(0, n, _TRANSPOSE_ROWS):
        stop = min(start + _TRANSPOSE_ROWS, n)
        begin, end = indptr[start], indptr[stop]
        before = np.zeros(end - begin + 1, dtype=np.int64)  # kept entries before each
        np.cumsum(kept[begin:end], out=before[1:])
        starts[start + 1 : stop + 1] = starts[start] + before[indptr[start + 1 : stop + 1] - begin]
    return sp.csr_matrix((matrix.data[kept], matrix.indices[kept], starts), shape=matrix.shape)


def kept_transpose(matrix: sp.csr_matrix, kept: np.ndarray) -> sp.csr_matrix:
    """``kept_entries(matrix, kept).T.tocsr()`` (the postings), without that copy of the entries.

    Built a block of rows at a time, each block's transpose written at the end of each
    column's postings so far: rows stay in increasing order within a column, as scipy's
    transpose puts them, so the result is the same bit for bit. The searched copy and its
    transpose are never held at once (at a million articles each is several GB).
    """
    n, width = matrix.shape
    indptr = np.zeros(width + 1, dtype=np.int64)
    np.cumsum(column_counts(matrix, kept), out=indptr[1:])
    total = int(indptr[-1])
    index = np.int32 if max(total, n, width) < 2**31 - 1 else np.int64
    rows, data = np.empty(total, dtype=index), np.empty(total, dtype=matrix.dtype)
    filled = indptr[:-1].copy()  # where each column's next posting goes
    for start in range(0, n, _TRANSPOSE_ROWS):
        stop = min(start + _TRANSPOSE_ROWS, n)
        begin, end = matrix.indptr[start], matrix.indptr[stop]
        block = kept_entries(matrix[start:stop], kept[begin:end]).T.tocsr()
        lengths = np.diff(block.indptr)
        column = np.repeat(np.arange(width), lengths)
        position = filled[column] + (np.arange(block.nnz) - block.indptr[column])
        rows[position] = block.indices + start
        data[position] = block.data
        filled += lengths
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
