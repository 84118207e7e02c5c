"""All pairs of rows closer than a cosine level, without the n x n product.

The all-pairs search of Bayardo et al. (WWW 2007), the first half of :mod:`dedup.linkage`.
Each row is split into a prefix of its rarer columns and a suffix of its most common ones, as
long as the suffix alone cannot reach the level (bounded both by its norm and by the largest
weight of each column). A pair that reaches the level must then share a prefix column, so
only the short postings of rare columns are multiplied, and each pair only from its first row
(the bound holds from either row); candidates are verified exactly. On large inputs the most
common columns (more than ``max_postings`` rows) are left out of the search, which bounds the
work per row; pairs are still verified on every column.

Memory: the prefix is not a matrix of its own but one flag per entry of the input matrix
(1 byte an entry, not 8); each chunk of rows builds its prefix rows from the flags when it is
multiplied. The searched copy of the matrix (without the common columns) is dropped once the
flags are made; the postings are built from the matrix's kept entries (:mod:`dedup.kept_entries`).

Rows must be L2-normalized with non-negative entries (TF-IDF vectors).
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from . import compiled as compiled_kernels
from .hashsets import distinct
from .kept_entries import (
    column_counts,
    column_ranges,
    drop_indices_below,
    kept_entries,
    kept_row_starts,
    kept_transpose,
    row_ranges,
    searched_flags,
)

try:  # the product of :func:`_product` (scipy's own, without its counting pass)
    from scipy.sparse._sparsetools import csr_matmat
except ImportError:  # pragma: no cover - another scipy layout: its public product
    csr_matmat = None

_PRODUCT_BUDGET = 4_000_000  # candidate entries gathered at once per thread (about 50 MB)
_MARGIN = 1e-6  # float slack: index a little more than the bound requires
_VERIFY_STEP = 1 << 11  # candidate pairs verified at once (their rows are copied: ~40 MB)
_SPLIT_ROWS = 20_000  # rows split into prefix and suffix at once (one float64 sum of bounds)
_BOUND_ROWS = 2_000  # rows whose float64 bounds are computed at once (the same sums)
_GROUPS = 8  # groups of rows whose pairs are sought with the postings of later rows only
_ENTRIES = 1 << 22  # entries whose weights are cast to float64 at once (column maxima)
_COMPILED_CHUNKS = 128  # row chunks of the compiled search (of about equal entries; may be empty)
_COMPILED_ENTRIES = 1 << 20  # the compiled search serves matrices of this many entries or more


def used_columns(rows: sp.csr_matrix) -> sp.csr_matrix:
    """``rows`` with only the columns they use, renumbered in the same order.

    Products of a few rows of a wide matrix (``rows @ rows.T``) cost the matrix's width when
    the transpose is built; without the unused columns they cost only the rows' entries. Each
    row keeps its entries in the same order, so such products are the same bit for bit.

    Args:
        rows: A CSR matrix (for example a few rows of the corpus matrix).

    Returns:
        A CSR matrix of the same rows and as many columns as ``rows`` uses.
    """
    columns, renumbered = np.unique(rows.indices, return_inverse=True)
    return sp.csr_matrix(
        (rows.data, renumbered.astype(rows.indices.dtype).ravel(), rows.indptr),
        shape=(rows.shape[0], len(columns)),
    )


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


def prefix_mask(
    matrix: sp.csr_matrix,
    min_similarity: float,
    *,
    compiled: bool = False,
    frequency: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Flag each row's indexed prefix and bound what its suffix can add to a dot product.

    With ``compiled`` (numba installed), each block of rows is one compiled loop
    (:func:`dedup.kernels.mask_rows`), two blocks at a time, with the same result.
    ``frequency``: ``column_counts(matrix)`` when the caller has it.

    Returns:
        ``(in_prefix, suffix_bound)``: a boolean per entry of ``matrix`` (in its CSR order),
        True for the prefix; and per row the largest dot product its suffix can have with
        any row (0-1).
    """
    n, width = matrix.shape
    if frequency is None:
        frequency = column_counts(matrix, compiled=compiled)
    column_max = np.zeros(width)
    if compiled:
        from .kernels import column_maxima, mask_rows

        compiled_kernels.in_threads(
            lambda columns: column_maxima(matrix.indices, matrix.data, *columns, column_max),
            column_ranges(matrix.indices, width),
        )
    else:
        for start in range(0, matrix.nnz, _ENTRIES):
            end = start + _ENTRIES
            values = matrix.data[start:end].astype(float)
            np.maximum.at(column_max, matrix.indices[start:end], values)
    # Within each row, most frequent columns first (ties by column): they form the suffix.
    # Columns renumbered by that rank and sorted row by row (no sort of all the entries), a
    # block of rows at a time (the float64 temporaries stay small).
    by_rank = most_frequent_first(frequency)
    rank = np.empty(width, dtype=matrix.indices.dtype)
    rank[by_rank] = np.arange(width)
    in_prefix = np.ones(matrix.nnz, dtype=bool)
    suffix_bound = np.zeros(n)
    blocks = [(start, min(start + _SPLIT_ROWS, n)) for start in range(0, n, _SPLIT_ROWS)]
    if compiled:

        def mask_block(rows: tuple[int, int]) -> None:
            (start, stop), begin, end = rows, matrix.indptr[rows[0]], matrix.indptr[rows[1]]
            indptr = (matrix.indptr[start : stop + 1] - begin).astype(np.int64)
            mask_rows(
                indptr, matrix.indices[begin:end], matrix.data[begin:end], rank, column_max,
                min_similarity - _MARGIN, in_prefix[begin:end], suffix_bound[start:stop],
            )  # fmt: skip

        compiled_kernels.in_threads(mask_block, blocks)  # each block writes its own flags
        return in_prefix, suffix_bound
    for start, stop in blocks:
        begin, end = matrix.indptr[start], matrix.indptr[stop]
        suffix_bound[start:stop] = _mask_rows(
            matrix, (start, stop), rank, column_max[by_rank], min_similarity,
            in_prefix[begin:end],
        )  # fmt: skip
    return in_prefix, suffix_bound


def most_frequent_first(frequency: np.ndarray) -> np.ndarray:
    """The columns by decreasing ``frequency``, ties by column (``lexsort((columns, -frequency))``).

    A stable sort of the negated counts, a radix sort when they fit 16 bits (the searched
    columns of a large corpus hold at most ``max_postings`` rows): 1.37 million columns at
    50,000 articles in 8 ms instead of 53 ms.
    """
    small = frequency.max(initial=0) <= np.iinfo(np.int16).max
    return np.argsort(-frequency.astype(np.int16 if small else np.int64), kind="stable")


def _mask_rows(
    matrix: sp.csr_matrix,
    rows: tuple[int, int],
    rank: np.ndarray,
    rank_max: np.ndarray,
    min_similarity: float,
    in_prefix: np.ndarray,
) -> np.ndarray:
    """:func:`prefix_mask` of a block of rows: clears the suffix flags, returns the bounds.

    Args:
        matrix: The whole matrix.
        rows: ``(start, stop)`` of the block.
        rank: Each column's rank (most frequent first).
        rank_max: The largest weight of the column of each rank.
        min_similarity: Level.
        in_prefix: The flags of the block's entries (a view, updated in place).
    """
    start, stop = rows
    n = stop - start
    base = matrix.indptr[start]
    indptr = (matrix.indptr[start : stop + 1] - base).astype(np.int64)
    entries = int(indptr[-1])
    # Each row's entries in rank order, as positions in the block (a sort of the positions
    # carried along with the ranks; the ranks of a row are distinct).
    positions = np.arange(entries, dtype=np.int32 if entries < 2**31 else np.int64)
    ranked = sp.csr_matrix(
        (positions, rank[matrix.indices[base : base + entries]], indptr),
        shape=(n, len(rank)),
    )
    ranked.sort_indices()
    order = ranked.data
    values = matrix.data[base : base + entries]
    suffix_bound = np.zeros(n)
    squares = weights = 0.0  # the block's running sums (float64 temporaries of a run only)
    for low in range(0, n, _BOUND_ROWS):
        high = min(low + _BOUND_ROWS, n)
        run_begin, run_end = indptr[low], indptr[high]
        sorted_data = values[order[run_begin:run_end]].astype(np.float64)
        starts = indptr[low:high] - run_begin
        norm_bound, squares = _segment_cumsum(sorted_data**2, starts, squares, low == 0)
        np.sqrt(norm_bound, out=norm_bound)
        weight = sorted_data * rank_max[ranked.indices[run_begin:run_end]]
        weight_bound, weights = _segment_cumsum(weight, starts, weights, low == 0)
        bound = np.minimum(norm_bound, weight_bound)
        del sorted_data, norm_bound, weight, weight_bound
        run_suffix = bound < min_similarity - _MARGIN
        in_prefix[order[run_begin:run_end][run_suffix]] = False
        filled = np.flatnonzero(np.diff(indptr[low : high + 1]) > 0)
        if len(filled):  # the bound grows along a row: the suffix is each row's first entries
            suffix_bound[low + filled] = np.maximum.reduceat(
                np.where(run_suffix, bound, 0.0), starts[filled]
            )
    return suffix_bound


def _prefix_rows(
    matrix: sp.csr_matrix, in_prefix: np.ndarray, start: int, stop: int
) -> sp.csr_matrix:
    """The prefix entries of rows ``start`` to ``stop`` as a CSR matrix of those rows."""
    begin, end = matrix.indptr[start], matrix.indptr[stop]
    kept = in_prefix[begin:end]
    indptr = kept_row_starts(matrix, in_prefix, start, stop)
    return sp.csr_matrix(
        (matrix.data[begin:end][kept], matrix.indices[begin:end][kept], indptr),
        shape=(stop - start, matrix.shape[1]),
    )


def similar_pairs(
    matrix: sp.csr_matrix,
    min_similarity: float,
    *,
    max_postings: int | None = None,
    compiled: bool | None = None,
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
        compiled: Search with the compiled kernels (:func:`_compiled_pairs`: the same pairs
            and bits, faster; needs numba). None does so when numba is installed and the
            matrix has at least ``_COMPILED_ENTRIES`` entries (smaller ones are not worth
            loading numba).

    Returns:
        ``(first, second, similarity)``: row indices with ``first < second`` (sorted by
        ``first`` then ``second``) and the similarity of each pair.
    """
    n = matrix.shape[0]
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    matrix.sort_indices()
    if compiled is None:
        compiled = matrix.nnz >= _COMPILED_ENTRIES and compiled_kernels.available()
    searched, slack, kept = matrix, 0.0, None
    frequency = column_counts(matrix, compiled=compiled)  # of the searched entries, below
    if max_postings is not None and frequency.max(initial=0) > max_postings:
        kept = searched_flags(matrix, frequency > max_postings, compiled=compiled)
        searched, slack = kept_entries(matrix, kept, compiled=compiled), min_similarity / 4
        frequency = column_counts(searched, compiled=compiled)
    # Half the level may stay unindexed: a pair must then share indexed columns worth at least
    # the other half, which keeps the candidates few.
    in_prefix, suffix_bound = prefix_mask(
        searched, min_similarity / 2, compiled=compiled, frequency=frequency
    )
    del searched
    transposed = (
        matrix.T.tocsr()
        if kept is None
        else kept_transpose(matrix, kept, compiled=compiled, counts=frequency)
    )
    if kept is not None:  # flags of the searched entries -> flags of the matrix's entries
        flags = np.zeros(matrix.nnz, dtype=bool)
        flags[kept] = in_prefix
        in_prefix = flags
        del kept, flags
    level = min_similarity - slack - _MARGIN
    if compiled:
        chunks = row_ranges(matrix.indptr, _COMPILED_CHUNKS)
        return _compiled_pairs(
            matrix, in_prefix, transposed, suffix_bound, level, min_similarity, chunks
        )
    keys = _candidate_keys(matrix, in_prefix, transposed, suffix_bound, level)
    del transposed, in_prefix
    key = distinct(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
    del keys
    first, second = key // n, key % n

    def verify(start: int) -> np.ndarray:  # exact dot products, in bounded memory
        a, b = first[start : start + _VERIFY_STEP], second[start : start + _VERIFY_STEP]
        return np.asarray(matrix[a].multiply(matrix[b]).sum(axis=1), dtype=np.float64).ravel()

    similarity = np.concatenate(
        [np.zeros(0), *compiled_kernels.in_threads(verify, range(0, len(key), _VERIFY_STEP))]
    )
    keep = similarity >= min_similarity
    return first[keep], second[keep], similarity[keep]


def _candidate_keys(
    matrix: sp.csr_matrix,
    in_prefix: np.ndarray,
    transposed: sp.csr_matrix,
    suffix_bound: np.ndarray,
    level: float,
) -> list[np.ndarray]:
    """Candidate pairs as keys ``first * n + second``, sorted and distinct per chunk of rows.

    A pair is a candidate when the dot product of its first row's prefix with its second
    row's searched entries, plus the most the first row's suffix can add, reaches ``level``.
    That sum bounds the pair's searched dot product whichever row comes first, so each pair
    is sought from its first row only: the rows are taken in ``_GROUPS`` groups, and before
    each group the postings drop the rows of the groups before it (about half the products
    of seeking each pair from both rows). ``transposed`` is trimmed in place.
    """
    n = matrix.shape[0]

    def candidates(chunk: tuple[int, int], postings: sp.csr_matrix) -> np.ndarray:
        start, stop = chunk
        indptr, col, data = _product(_prefix_rows(matrix, in_prefix, start, stop), postings)
        # The prefix part plus the most the suffix can add must reach the level (the same
        # float64 sums as ``data + suffix_bound[row]``); rows are found for those kept only.
        bound = np.repeat(suffix_bound[start:stop], np.diff(indptr))
        bound += data
        kept = np.flatnonzero(bound >= level)
        del bound
        row = np.searchsorted(indptr, kept, side="right") - 1 + start
        col = col[kept].astype(np.int64)
        later = col > row
        return distinct(row[later] * n + col[later])

    chunks = _row_chunks(matrix, in_prefix, np.diff(transposed.indptr))
    keys: list[np.ndarray] = []
    with ThreadPoolExecutor(compiled_kernels.THREADS) as pool:
        for _, group in itertools.groupby(chunks, key=lambda c: c[0] * _GROUPS // max(n, 1)):
            group = list(group)
            transposed = drop_indices_below(transposed, group[0][0])
            keys += pool.map(candidates, group, itertools.repeat(transposed))
    return keys


def _compiled_pairs(
    matrix: sp.csr_matrix,
    in_prefix: np.ndarray,
    transposed: sp.csr_matrix,
    suffix_bound: np.ndarray,
    level: float,
    min_similarity: float,
    chunks: list[tuple[int, int]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`similar_pairs`' verified pairs from its prefix and postings, by the compiled kernel.

    One compiled loop per row (:func:`dedup.kernels.search_rows`) sums the prefix products
    into a dense accumulator as scipy's ``csr_matmat`` sums them, keeps the later rows whose
    sum plus the row's suffix bound reaches the level, and verifies each against the row's
    columns held as bits: no product matrix, pair keys or sort of them. The same pairs and
    similarity bits as :func:`_candidate_keys` and its verification. Each thread keeps its
    work arrays from chunk to chunk, among them a cursor and a value per column (8 or 12
    bytes a column: about 15 MB at 50,000 news articles).

    Args:
        matrix: float32 CSR rows, sorted indices.
        in_prefix: A flag per entry of ``matrix``: searched from its row.
        transposed: The searched entries by column (CSR of the transpose, rows sorted).
        suffix_bound: Per row, the most its unsearched entries add to a dot product.
        level: A candidate's prefix sum plus its row's suffix bound must reach this.
        min_similarity: A verified pair's similarity must reach this (0-1).
        chunks: Row ranges, worked on in order (two threads); their pairs are concatenated.

    Returns:
        ``(first, second, similarity)`` sorted by ``first`` then ``second``.
    """
    from .kernels import search_rows

    n = matrix.shape[0]
    longest = int(np.diff(matrix.indptr).max(initial=0))
    local = threading.local()

    def work(chunk: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not hasattr(local, "accumulated"):  # one set of work arrays per thread, kept zeroed
            local.accumulated = np.zeros(n, dtype=np.float32)
            local.touched = np.empty(n, dtype=np.int64)
            local.columns = np.zeros((matrix.shape[1] >> 6) + 1, dtype=np.uint64)
            local.products = np.empty(max(longest, 1), dtype=np.float32)
            local.cursor = transposed.indptr[:-1].copy()  # the thread's rows come in order
            local.values = np.zeros(matrix.shape[1], dtype=np.float32)
            local.own = np.empty(max(longest, 1), dtype=np.int64)
        return search_rows(
            chunk[0], chunk[1], matrix.indptr, matrix.indices, matrix.data, in_prefix,
            transposed.indptr, transposed.indices, transposed.data, suffix_bound,
            level, min_similarity, local.accumulated, local.touched, local.columns,
            local.products, local.cursor, local.values, local.own,
        )  # fmt: skip

    parts = compiled_kernels.in_threads(work, chunks)
    return tuple(  # type: ignore[return-value]
        np.concatenate([np.zeros(0, dtype=dtype), *(part[k] for part in parts)])
        for k, dtype in enumerate((np.int64, np.int64, np.float64))
    )


def _product(
    left: sp.csr_matrix, right: sp.csr_matrix
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``left @ right`` as CSR ``(indptr, indices, data)``, entries in scipy's own order.

    scipy's product first counts its entries in a pass as long as the product itself (a third
    of the pair search's time); here the entries are bounded instead by the multiplications,
    known from the lengths of ``right``'s rows, and the product is computed in one pass into
    arrays of that size (scipy's own ``csr_matmat``, which releases the GIL).
    """
    bound = int(np.diff(right.indptr)[left.indices].sum())
    index = np.int32
    wide = max(bound, right.nnz, *left.shape, *right.shape) >= 2**31 - 1
    if csr_matmat is None or wide or left.dtype != right.dtype:
        product = left @ right
        return product.indptr, product.indices, product.data
    indptr = np.empty(left.shape[0] + 1, dtype=index)
    indices, data = np.empty(bound, dtype=index), np.empty(bound, dtype=left.dtype)
    csr_matmat(
        left.shape[0],
        right.shape[1],
        left.indptr.astype(index),
        left.indices.astype(index, copy=False),
        left.data,
        right.indptr.astype(index, copy=False),
        right.indices.astype(index, copy=False),
        right.data,
        indptr,
        indices,
        data,
    )
    size = int(indptr[-1])
    return indptr, indices[:size], data[:size]


def _row_chunks(
    matrix: sp.csr_matrix, in_prefix: np.ndarray, postings: np.ndarray
) -> list[tuple[int, int]]:
    """Row ranges whose prefix products with the postings hold about ``_PRODUCT_BUDGET`` entries."""
    # Per row, the postings its prefix entries multiply (integers: exact in float64), as sums
    # of consecutive entries (no per-entry row array), a block of rows at a time.
    n, indptr = matrix.shape[0], matrix.indptr
    work = np.zeros(n)
    for start in range(0, n, _SPLIT_ROWS):
        stop = min(start + _SPLIT_ROWS, n)
        begin, end = indptr[start], indptr[stop]
        multiplied = np.where(in_prefix[begin:end], postings[matrix.indices[begin:end]], 0)
        before = np.zeros(end - begin + 1, dtype=np.int64)
        np.cumsum(multiplied, out=before[1:])
        work[start:stop] = np.diff(before[indptr[start : stop + 1] - begin])
    bounds = np.searchsorted(
        np.cumsum(work), np.arange(1, 1 + work.sum() // _PRODUCT_BUDGET) * _PRODUCT_BUDGET
    )
    edges = sorted({0, n, *(int(b) + 1 for b in bounds)})
    edges = [e for e in edges if e <= n]
    return list(itertools.pairwise(edges))
