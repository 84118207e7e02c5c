"""The compiled pair search gives the scipy search's pairs and similarities, bit for bit."""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import topical
from sklearn.preprocessing import normalize

import dedup.compiled
import dedup.kept_entries
import dedup.pairs
from dedup.kept_entries import (
    column_counts,
    column_ranges,
    kept_entries,
    kept_transpose,
    row_ranges,
    searched_flags,
)
from dedup.pairs import prefix_mask, similar_pairs

pytest.importorskip("numba")


def assert_same(expected, got):
    assert len(expected[0]) > 0
    for a, b in zip(expected, got, strict=True):
        assert a.dtype == b.dtype
        assert np.array_equal(a, b)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("max_postings", [None, 40])
@pytest.mark.parametrize("level", [0.3, 0.6])
def test_compiled_search_is_the_scipy_search(monkeypatch, seed, max_postings, level):
    matrix = topical(seed)
    expected = similar_pairs(matrix, level, max_postings=max_postings, compiled=False)
    assert_same(expected, similar_pairs(matrix, level, max_postings=max_postings, compiled=True))
    monkeypatch.setattr(dedup.pairs, "_COMPILED_CHUNKS", 1000)  # chunks of 0 to 2 rows
    assert_same(expected, similar_pairs(matrix, level, max_postings=max_postings, compiled=True))


def test_compiled_search_does_not_depend_on_the_order_of_the_chunks(monkeypatch):
    """A thread's column cursors step on from its last row: a chunk behind them searches anew."""
    matrix = topical(1)
    expected = similar_pairs(matrix, 0.3, compiled=False)

    def backwards(work, items):  # one thread, the last chunk first (its arrays kept)
        items = list(items)
        done = {i: work(items[i]) for i in reversed(range(len(items)))}
        return [done[i] for i in range(len(items))]

    monkeypatch.setattr(dedup.pairs, "_COMPILED_CHUNKS", 7)
    monkeypatch.setattr(dedup.compiled, "in_threads", backwards)
    assert_same(expected, similar_pairs(matrix, 0.3, compiled=True))


@pytest.mark.parametrize("seed", range(3))
def test_long_shared_rows_are_summed_as_numpy_sums_them(seed):
    """Pairs sharing 1 to 2,000 columns: numpy's pairwise sum of float32, every branch of it."""
    rng = np.random.default_rng(seed)
    width = 2500
    base = rng.random(width).astype(np.float32) ** 4  # skewed weights: rounding shows
    rows = []
    for shared in (1, 5, 8, 9, 16, 100, 128, 129, 130, 257, 1000, 2000):
        for _ in range(3):
            row = np.zeros(width, dtype=np.float32)
            columns = rng.choice(width, shared, replace=False)
            row[columns] = base[columns] * (1 + 0.01 * rng.random(shared).astype(np.float32))
            rows.append(row)
    matrix = normalize(sp.csr_matrix(np.array(rows)))
    expected = similar_pairs(matrix, 0.05, compiled=False)
    assert len(expected[0]) > 100
    assert_same(expected, similar_pairs(matrix, 0.05, compiled=True))


def test_empty_rows_and_no_pairs():
    matrix = sp.vstack([topical(0, n=50), sp.csr_matrix((20, 350), dtype=np.float32)]).tocsr()
    expected = similar_pairs(matrix, 0.5, compiled=False)
    assert_same(expected, similar_pairs(matrix, 0.5, compiled=True))
    lonely = normalize(sp.identity(30, dtype=np.float32, format="csr"))
    nothing = similar_pairs(lonely, 0.5, compiled=True)
    assert [len(x) for x in nothing] == [0, 0, 0]
    assert [x.dtype for x in nothing] == [np.int64, np.int64, np.float64]


def test_large_matrices_take_the_compiled_search_when_numba_is_installed(monkeypatch):
    calls = []
    search = dedup.pairs._compiled_pairs
    monkeypatch.setattr(dedup.pairs, "_compiled_pairs", lambda *a: calls.append(1) or search(*a))
    matrix = topical(0)
    similar_pairs(matrix, 0.5)
    assert calls == []  # small: scipy's search, numba not even loaded for it
    monkeypatch.setattr(dedup.pairs, "_COMPILED_ENTRIES", matrix.nnz)
    similar_pairs(matrix, 0.5)
    assert calls == [1]
    monkeypatch.setattr(dedup.compiled, "available", lambda: False)
    similar_pairs(matrix, 0.5)
    assert calls == [1]  # without numba: scipy's search


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("level", [0.1, 0.3])
def test_compiled_prefix_mask_is_numpys(monkeypatch, ranges, seed, level):
    """The same flags and bounds, bit for bit, with blocks and runs of rows and empty rows."""
    matrix = sp.vstack([topical(seed), sp.csr_matrix((5, 350)), topical(seed + 1)]).tocsr()
    monkeypatch.setattr(dedup.pairs, "_SPLIT_ROWS", 170)  # blocks: the sums restart in each
    monkeypatch.setattr(dedup.pairs, "_BOUND_ROWS", 30)  # runs: the sums carry across
    expected = prefix_mask(matrix, level)
    got = prefix_mask(matrix, level, compiled=True)
    assert 0 < expected[0].sum() < matrix.nnz
    assert np.array_equal(expected[0], got[0])
    assert expected[1].tobytes() == got[1].tobytes()


@pytest.fixture(params=[1, 2, 3, 7], ids=lambda t: f"{t}-ranges")
def ranges(request, monkeypatch):
    """Column and row ranges of 1 to 7 threads' work (the results must not depend on them)."""
    monkeypatch.setattr(dedup.kept_entries, "THREADS", request.param)
    return request.param


def gappy(seed):
    """Rows with empty rows and a run of rows without kept entries, and their kept flags."""
    parts = [topical(seed, n=80), sp.csr_matrix((7, 350)), topical(seed + 1, n=80)]
    matrix = sp.csr_matrix(sp.vstack(parts), dtype=np.float32)
    kept = np.random.default_rng(seed).random(matrix.nnz) < 0.6
    kept[matrix.indptr[20] : matrix.indptr[30]] = False
    return matrix, kept


@pytest.mark.parametrize("seed", range(2))
def test_compiled_column_counts_and_ranges(ranges, seed):
    matrix, kept = gappy(seed)
    width = matrix.shape[1]
    for flags in (None, kept):
        chosen = matrix.indices if flags is None else matrix.indices[flags]
        expected = np.bincount(chosen, minlength=width)
        assert np.array_equal(column_counts(matrix, flags, compiled=True), expected)
    for cumulative in (None, np.concatenate([[0], np.cumsum(np.bincount(matrix.indices))])):
        edges = column_ranges(matrix.indices, width, cumulative)
        assert len(edges) == ranges and edges[0][0] == 0 and edges[-1][1] == width
        assert all(a[1] == b[0] for a, b in itertools.pairwise(edges))
    rows = row_ranges(matrix.indptr)
    assert rows[0][0] == 0 and rows[-1][1] == matrix.shape[0] and len(rows) == ranges


@pytest.mark.parametrize("seed", range(2))
def test_compiled_searched_entries_are_numpys(ranges, seed):
    matrix, _ = gappy(seed)
    matrix.data[::17] = 0.0  # stored zeros are left out too
    common = np.bincount(matrix.indices, minlength=matrix.shape[1]) > 40
    kept = searched_flags(matrix, common)
    assert 0 < kept.sum() < matrix.nnz
    assert np.array_equal(searched_flags(matrix, common, compiled=True), kept)
    expected, got = kept_entries(matrix, kept), kept_entries(matrix, kept, compiled=True)
    for name in ("indptr", "indices", "data"):
        assert getattr(got, name).dtype == getattr(expected, name).dtype
        assert np.array_equal(getattr(got, name), getattr(expected, name)), name


@pytest.mark.parametrize("seed", range(2))
def test_compiled_postings_do_not_depend_on_the_ranges(ranges, seed):
    matrix, kept = gappy(seed)
    expected = kept_transpose(matrix, kept)
    for counts in (None, column_counts(matrix, kept)):
        got = kept_transpose(matrix, kept, compiled=True, counts=counts)
        for name in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(got, name), getattr(expected, name)), name
