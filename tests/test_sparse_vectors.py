"""Sparse vector dot products and sums: numpy's and the compiled ones give the same bits."""

import numpy as np
import pytest

from dedup import compiled
from dedup.sparse_vectors import add, compiled_operations, dot

IMPLEMENTATIONS = ["numpy"] + (["compiled"] if compiled.available() else [])


def operations(name):
    return (dot, add) if name == "numpy" else compiled_operations()


def reference_dot(a, b):
    """A sort-based dot product: numpy's sum of the shared entries' products, by index."""
    _, i, j = np.intersect1d(a[0], b[0], assume_unique=True, return_indices=True)
    return float((a[1][i] * b[1][j]).sum())


def reference_add(a, b):
    """A sort-based sum."""
    indices, inverse = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    values = np.bincount(inverse, weights=np.concatenate([a[1], b[1]]), minlength=len(indices))
    return indices, values


def random_vector(rng, width):
    indices = np.sort(rng.choice(width, int(rng.integers(0, width + 1)), replace=False))
    return indices.astype(np.int32), rng.random(len(indices)) ** 3


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
@pytest.mark.parametrize("seed", range(20))
def test_dot_and_sum_equal_the_sort_based_ones_bit_for_bit(name, seed):
    vector_dot, vector_add = operations(name)
    rng = np.random.default_rng(seed)
    width = int(rng.integers(1, 3000))  # up to a few thousand shared: every pairwise branch
    a, b = random_vector(rng, width), random_vector(rng, width)
    assert vector_dot(a, b) == reference_dot(a, b) == vector_dot(b, a)
    got, expected = vector_add(a, b), reference_add(a, b)
    assert got[0].dtype == np.int32 and got[1].dtype == np.float64
    assert np.array_equal(got[0], expected[0])
    assert got[1].tobytes() == expected[1].tobytes()


@pytest.mark.parametrize("name", IMPLEMENTATIONS)
def test_sum_places_new_entries_as_insert_would(name):
    _, vector_add = operations(name)
    rng = np.random.default_rng(3)
    for _ in range(200):
        a_idx = np.sort(rng.choice(50, rng.integers(0, 20), replace=False)).astype(np.int32)
        b_idx = np.sort(rng.choice(50, rng.integers(0, 20), replace=False)).astype(np.int32)
        a, b = (a_idx, rng.random(len(a_idx))), (b_idx, rng.random(len(b_idx)))
        dense = np.zeros(50)
        np.add.at(dense, a_idx, a[1])
        np.add.at(dense, b_idx, b[1])
        indices, values = vector_add(a, b)
        assert indices.dtype == np.int32
        assert indices.tolist() == sorted(set(a_idx.tolist()) | set(b_idx.tolist()))
        assert np.array_equal(values, dense[indices])  # one addition per shared index


@pytest.mark.skipif(not compiled.available(), reason="numba (the fast extra) is not installed")
def test_a_short_vector_against_a_long_one():
    """A row against a large cluster's sum: few shared, one side far longer, either order."""
    vector_dot, vector_add = compiled_operations()
    rng = np.random.default_rng(7)
    long = np.sort(rng.choice(200_000, 50_000, replace=False)).astype(np.int32), rng.random(50_000)
    short = np.sort(rng.choice(200_000, 300, replace=False)).astype(np.int32), rng.random(300)
    for a, b in ((short, long), (long, short), (short, (short[0][:0], short[1][:0]))):
        assert vector_dot(a, b) == dot(a, b)
        assert all(np.array_equal(x, y) for x, y in zip(vector_add(a, b), add(a, b), strict=True))
