"""The pair search's prefix flags: what is left unindexed can never reach the level alone."""

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import topical
from sklearn.preprocessing import normalize

import dedup.kept_entries
import dedup.pairs
from dedup.kept_entries import column_counts, drop_indices_below, kept_entries, kept_transpose
from dedup.pairs import (
    _prefix_rows,
    most_frequent_first,
    prefix_mask,
    similar_pairs,
    used_columns,
)


def planted(seed, n, width=60, topics=6):
    """Sparse non-negative rows around a few topic centres, L2-normalized."""
    rng = np.random.default_rng(seed)
    centres = rng.random((topics, width)) * (rng.random((topics, width)) < 0.3)
    noise = rng.random((n, width)) * (rng.random((n, width)) < 0.15)
    rows = centres[rng.integers(0, topics, n)] + noise
    return normalize(sp.csr_matrix(rows.astype(np.float32)))


@pytest.mark.parametrize("largest", [3, 300, 32_767, 32_768, 10**9])  # 16 bits, then not
def test_most_frequent_first_is_lexsorts_order(largest):
    rng = np.random.default_rng(largest)
    frequency = rng.integers(0, 4, 5000) * rng.integers(0, largest + 1, 5000)  # many ties
    frequency[0] = largest
    expected = np.lexsort((np.arange(len(frequency)), -frequency))
    assert np.array_equal(most_frequent_first(frequency), expected)
    assert len(most_frequent_first(np.zeros(0, dtype=np.int64))) == 0


@pytest.mark.parametrize("fast_at", [True, False])  # np.add.at, and bincount (numpy < 1.25)
def test_column_counts_is_bincount(monkeypatch, fast_at):
    matrix = planted(0, 300)
    monkeypatch.setattr(dedup.kept_entries, "_ENTRIES", 100)  # many chunks
    monkeypatch.setattr(dedup.kept_entries, "_FAST_AT", fast_at)
    expected = np.bincount(matrix.indices, minlength=matrix.shape[1])
    assert np.array_equal(column_counts(matrix), expected)
    kept = np.random.default_rng(0).random(matrix.nnz) < 0.5
    expected = np.bincount(matrix.indices[kept], minlength=matrix.shape[1])
    assert np.array_equal(column_counts(matrix, kept), expected)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("level", [0.2, 0.5])
def test_suffix_is_the_common_columns_and_stays_under_the_bound(monkeypatch, seed, level):
    matrix = planted(seed, 250)
    monkeypatch.setattr(dedup.pairs, "_SPLIT_ROWS", 70)  # several blocks, runs of rows
    monkeypatch.setattr(dedup.pairs, "_BOUND_ROWS", 20)
    in_prefix, suffix_bound = prefix_mask(matrix, level)
    assert in_prefix.dtype == bool and len(in_prefix) == matrix.nnz
    frequency = np.bincount(matrix.indices, minlength=matrix.shape[1])
    rank = np.empty(matrix.shape[1], dtype=np.int64)
    rank[np.lexsort((np.arange(matrix.shape[1]), -frequency))] = np.arange(matrix.shape[1])
    suffix = matrix.copy()
    suffix.data = np.where(in_prefix, 0.0, matrix.data).astype(np.float32)
    largest = (suffix @ matrix.T).toarray().max(axis=1)
    assert np.all(largest <= suffix_bound + 1e-6)
    assert np.all(suffix_bound < level)
    for row in range(matrix.shape[0]):
        lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
        ranks = rank[matrix.indices[lo:hi]]
        flags = in_prefix[lo:hi]
        if flags.any() and (~flags).any():  # every suffix column is commoner than the prefix's
            assert ranks[~flags].max() < ranks[flags].min()
    prefix = _prefix_rows(matrix, in_prefix, 0, matrix.shape[0])
    assert prefix.nnz == in_prefix.sum()
    assert np.array_equal(prefix.toarray(), np.where(suffix.toarray() > 0, 0, matrix.toarray()))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("max_postings", [None, 40])
def test_pairs_do_not_depend_on_the_chunking(monkeypatch, seed, max_postings):
    matrix = topical(seed)
    whole = similar_pairs(matrix, 0.5, max_postings=max_postings)
    monkeypatch.setattr(dedup.pairs, "_PRODUCT_BUDGET", 300)  # many chunks, in every group
    monkeypatch.setattr(dedup.pairs, "_VERIFY_STEP", 7)
    monkeypatch.setattr(dedup.kept_entries, "_ENTRIES", 1000)  # postings trimmed in runs
    chunked = similar_pairs(matrix, 0.5, max_postings=max_postings)
    assert len(whole[0]) > 500
    for a, b in zip(whole, chunked, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("seed", range(3))
def test_chunked_search_finds_every_pair_the_bound_promises(monkeypatch, seed):
    """Exact: every close pair. Bounded: every close pair whose rarer columns reach 3/4 level."""
    matrix, level = topical(seed), 0.5
    monkeypatch.setattr(dedup.pairs, "_PRODUCT_BUDGET", 300)
    similarity = (matrix @ matrix.T).toarray()
    frequency = np.bincount(matrix.indices, minlength=matrix.shape[1])
    rare = matrix.multiply((frequency <= 40)[None, :]).tocsr()
    rare_similarity = (rare @ rare.T).toarray()
    upper = np.triu(np.ones_like(similarity, dtype=bool), 1)
    close = upper & (similarity >= level)
    promised = close & (rare_similarity >= 0.75 * level + 1e-5)
    for max_postings, expected in ((None, close), (40, promised)):
        first, second, found = similar_pairs(matrix, level, max_postings=max_postings)
        assert np.all(first < second) and np.all(found >= level)
        got = np.zeros_like(close)
        got[first, second] = True
        assert np.all(got[expected]) and not np.any(got & ~close)
        assert np.allclose(found, similarity[first, second], atol=1e-6)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_kept_transpose_is_scipys_transpose_of_the_kept_entries(monkeypatch, seed, compiled):
    if compiled:
        pytest.importorskip("numba")
    # Empty rows, and a block of rows with no kept entry, among the others.
    parts = [planted(seed, 150), sp.csr_matrix((50, 60)), planted(seed + 1, 150)]
    matrix = sp.csr_matrix(sp.vstack(parts), dtype=np.float32)
    kept = np.random.default_rng(seed).random(matrix.nnz) < 0.6
    kept[matrix.indptr[100] : matrix.indptr[140]] = False
    monkeypatch.setattr(dedup.kept_entries, "_TRANSPOSE_ROWS", 37)  # several blocks of rows
    expected = kept_entries(matrix, kept).T.tocsr()
    built = kept_transpose(matrix, kept, compiled=compiled)
    assert built.shape == expected.shape
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(built, name), getattr(expected, name)), name
    assert built.data.dtype == expected.data.dtype


@pytest.mark.parametrize("seed", range(3))
def test_kept_entries_keep_each_rows_kept_entries_in_order(monkeypatch, seed):
    matrix = sp.vstack([planted(seed, 150), sp.csr_matrix((3, 60)), planted(seed + 1, 150)])
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    kept = np.random.default_rng(seed).random(matrix.nnz) < 0.6
    monkeypatch.setattr(dedup.kept_entries, "_TRANSPOSE_ROWS", 37)  # rows counted in blocks
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[kept], minlength=matrix.shape[0]))])
    got = kept_entries(matrix, kept)
    assert np.array_equal(got.indptr, indptr)
    assert np.array_equal(got.indices, matrix.indices[kept])
    assert np.array_equal(got.data, matrix.data[kept])


@pytest.mark.parametrize("seed", range(3))
def test_dropping_low_indices_keeps_the_rest_in_order(monkeypatch, seed):
    matrix = planted(seed, 300).T.tocsr()  # postings: a row per column, rows ascending
    monkeypatch.setattr(dedup.kept_entries, "_ENTRIES", 97)  # moved in many runs
    for low in (0, 1, 150, 299, 300):
        kept = matrix.indices >= low
        expected = kept_entries(matrix, kept)
        got = drop_indices_below(matrix.copy(), low)
        for name in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(got, name), getattr(expected, name)), (low, name)


@pytest.mark.parametrize("seed", range(3))
def test_used_columns_give_the_same_products_bit_for_bit(seed):
    """A few rows of a wide matrix, without its unused columns: same products, same bits."""
    rng = np.random.default_rng(seed)
    wide = sp.hstack([sp.csr_matrix((300, 5000), dtype=np.float32), planted(seed, 300)])
    wide = sp.csr_matrix(wide[:, rng.permutation(wide.shape[1])])
    wide.sort_indices()
    rows = wide[np.sort(rng.choice(300, 40, replace=False))]
    narrow = used_columns(rows)
    assert narrow.shape == (40, len(np.unique(rows.indices)))
    assert narrow.nnz == rows.nnz
    assert np.array_equal((narrow @ narrow.T).toarray(), (rows @ rows.T).toarray())
    kept = np.unique(rows.indices)
    assert np.array_equal(narrow.toarray(), rows.toarray()[:, kept])
    empty = used_columns(wide[[0]][:, :0])
    assert empty.shape == (1, 0)


@pytest.mark.parametrize("fallback", [False, True])
def test_product_gives_scipys_product_entries_in_its_order(monkeypatch, fallback):
    from conftest import dev_records

    from dedup.cluster import EventStoryClusterer
    from dedup.normalize import normalize_text
    from dedup.pairs import _product
    from dedup.shingle import tokenize

    records = dev_records("ktlab.jsonl", 300)
    matrix, _ = EventStoryClusterer().features(
        [tokenize(normalize_text(r["text"])) for r in records], titles=[[]] * len(records)
    )
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    in_prefix, _ = prefix_mask(matrix, 0.4)
    left = _prefix_rows(matrix, in_prefix, 10, 200)  # rows with and without prefix entries
    left.data[::7] = 0.0  # explicit zeros are multiplied as scipy multiplies them
    if fallback:
        monkeypatch.setattr(dedup.pairs, "csr_matmat", None)
    indptr, col, data = _product(left, matrix.T.tocsr())
    expected = left @ matrix.T.tocsr()
    assert len(data) == expected.nnz > 1000
    assert np.array_equal(indptr, expected.indptr) and np.array_equal(col, expected.indices)
    assert np.array_equal(data, expected.data)
