import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import compiled
from dedup.shingle import (
    Hasher,
    Permutations,
    features,
    jaccard_containment,
    shingles_of_runs,
    tokenize,
)


def test_tokenize_keeps_vietnamese_words():
    assert tokenize("tổng thống nga, ngày 16.11") == ["tổng", "thống", "nga", "ngày", "16", "11"]


def test_shingles_are_stable_and_sorted():
    tokens = ["a", "b", "c", "d", "e", "f", "g"]
    first = Hasher().shingles(tokens, 5)
    second = Hasher().shingles(tokens, 5)
    assert np.array_equal(first, second)
    assert len(first) == 3
    assert np.all(np.diff(first.astype(np.float64)) > 0)


def test_short_text_is_one_shingle_and_empty_is_none():
    hasher = Hasher()
    assert len(hasher.shingles(["a", "b"], 5)) == 1
    assert len(hasher.shingles([], 5)) == 0


def test_cap_keeps_smallest_hashes():
    hasher = Hasher()
    tokens = [str(i) for i in range(500)]
    full = hasher.shingles(tokens, 2)
    capped = hasher.shingles(tokens, 2, cap=100)
    assert np.array_equal(capped, full[:100])


def test_order_matters_inside_a_shingle():
    hasher = Hasher()
    assert not np.array_equal(hasher.shingles(["a", "b"], 2), hasher.shingles(["b", "a"], 2))


@given(st.lists(st.integers(0, 50), max_size=60), st.lists(st.integers(0, 50), max_size=60))
def test_jaccard_symmetric_and_bounded(a, b):
    x = np.unique(np.array(a, dtype=np.uint64))
    y = np.unique(np.array(b, dtype=np.uint64))
    assert jaccard_containment(x, y) == jaccard_containment(y, x)
    j, c = jaccard_containment(x, y)
    assert 0.0 <= j <= c <= 1.0


def _sets(rng, size, overlap):
    shared = rng.integers(0, 2**63, int(size * overlap), dtype=np.int64).astype(np.uint64)
    a = np.concatenate(
        [shared, rng.integers(0, 2**63, size - len(shared), dtype=np.int64).astype(np.uint64)]
    )
    b = np.concatenate(
        [shared, rng.integers(0, 2**63, size - len(shared), dtype=np.int64).astype(np.uint64)]
    )
    return np.unique(a), np.unique(b)


def test_estimates_as_good_as_datasketch():
    """Mean absolute error of our batch signatures vs datasketch's MinHash, same pairs."""
    rng = np.random.default_rng(7)
    perms = Permutations(128, seed=1)
    ours, theirs = [], []
    for overlap in (0.2, 0.5, 0.8):
        for _ in range(15):
            a, b = _sets(rng, 300, overlap)
            truth = jaccard_containment(a, b)[0]
            sig = perms.signatures([a, b])
            ours.append(abs(np.mean(sig[0] == sig[1]) - truth))
            ma, mb = MinHash(num_perm=128, seed=1), MinHash(num_perm=128, seed=1)
            ma.update_batch([int(v).to_bytes(8, "little") for v in a])
            mb.update_batch([int(v).to_bytes(8, "little") for v in b])
            theirs.append(abs(ma.jaccard(mb) - truth))
    assert np.mean(ours) <= np.mean(theirs) * 1.3 + 0.005
    assert np.mean(ours) < 0.05


def test_empty_set_signature_is_max():
    sig = Permutations(16, seed=1).signatures([np.zeros(0, dtype=np.uint64)])
    assert np.all(sig == 0xFFFFFFFF)


@settings(max_examples=30, deadline=None)  # (the first compiled call compiles)
@given(st.lists(st.lists(st.integers(0, 10**6), max_size=40), min_size=1, max_size=8))
def test_batched_signatures_equal_one_by_one(sets):
    perms = Permutations(32, seed=3)
    arrays = [np.unique(np.array(s, dtype=np.uint64)) for s in sets]
    together = perms.signatures(arrays, chunk=17)
    for array, row in zip(arrays, together, strict=True):
        assert np.array_equal(perms.signatures([array])[0], row)
    if compiled.available():  # the compiled loop: the same bits
        assert np.array_equal(perms.signatures(arrays, compiled=True), together)


def test_compiled_signatures_are_numpys_with_values_past_32_bits():
    if not compiled.available():
        pytest.skip("numba is not installed (the fast extra)")
    rng = np.random.default_rng(3)
    sets = [np.unique(rng.integers(0, 2**64, size, dtype=np.uint64)) for size in (0, 1, 700, 5, 0)]
    for num_perm in (64, 128, 7):
        perms = Permutations(num_perm, seed=2)
        expected = perms.signatures(sets)
        assert np.array_equal(perms.signatures(sets, compiled=True), expected)
        assert np.all(expected[0] == 0xFFFFFFFF) and np.all(expected[4] == 0xFFFFFFFF)


@pytest.mark.parametrize(
    ("tokens", "expected"), [(["hòa", "bình"], ["hòa", "bình", "hòa bình"]), ([], [])]
)
def test_features_add_adjacent_pairs(tokens, expected):
    assert features(tokens) == expected


@pytest.mark.parametrize("compiled", [False, True])
def test_shared_sizes_count_as_jaccard_containment_does(compiled):
    from dedup import compiled as compiled_kernels
    from dedup.shingle import jaccard_containment, shared_sizes

    if compiled and not compiled_kernels.available():
        pytest.skip("numba is not installed (the fast extra)")
    rng = np.random.default_rng(11)
    pool = rng.choice(2**62, size=400, replace=False).astype(np.uint64) * np.uint64(3)
    sets = [np.sort(rng.choice(pool, size=size, replace=False)) for size in
            rng.integers(0, 120, size=60)]  # fmt: skip
    sets += [sets[3].copy(), np.zeros(0, dtype=np.uint64), pool[:1]]
    first, second = rng.integers(0, len(sets), size=(2, 3000))
    shared = shared_sizes(sets, first, second, compiled=compiled)
    for a, b, count in zip(first.tolist(), second.tolist(), shared.tolist(), strict=True):
        assert count == len(np.intersect1d(sets[a], sets[b]))
        if len(sets[a]) and len(sets[b]):
            union = len(sets[a]) + len(sets[b]) - count
            assert jaccard_containment(sets[a], sets[b])[0] == count / union


@pytest.mark.skipif(not compiled.available(), reason="numba (the fast extra) is not installed")
@pytest.mark.parametrize("k", [1, 2, 5])
def test_compiled_shingles_of_runs_equal_numpys(k):
    rng = np.random.default_rng(k)
    dropped = 0  # windows repeated within a run (dropped from its set)
    for _ in range(20):
        lengths = rng.integers(0, 3 * k + 4, size=rng.integers(1, 200))  # empty and short runs
        lengths[::7] = rng.integers(60, 400, size=len(lengths[::7]))  # and long (radix-sorted)
        vocabulary = rng.integers(0, 2**64, size=rng.choice([2, 3, 500]), dtype=np.uint64)
        flat = vocabulary[rng.integers(0, len(vocabulary), size=int(lengths.sum()))]
        plain = shingles_of_runs(flat, lengths, k)
        fast = shingles_of_runs(flat, lengths, k, compiled=True)
        assert len(fast) == len(plain)
        for a, b in zip(fast, plain, strict=True):
            assert np.array_equal(a, b) and a.dtype == b.dtype
        windows = np.maximum(lengths - k + 1, np.minimum(lengths, 1))
        dropped += int(windows.sum()) - sum(map(len, plain))
    assert dropped > 0
