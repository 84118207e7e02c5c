"""The paragraph stage's numpy passes over many hash sets equal their plain Python forms."""

import math
import random
from itertools import combinations

import numpy as np

from dedup import shingle
from dedup.hashsets import distinct, may_repeat, shared_counts


def random_sets(rng: random.Random, count: int, universe: int) -> list[np.ndarray]:
    """``count`` sorted distinct uint64 arrays drawn from ``universe`` large values."""
    values = [rng.getrandbits(64) for _ in range(universe)]
    return [
        np.array(sorted(set(rng.sample(values, rng.randrange(min(universe, 40))))), dtype=np.uint64)
        for _ in range(count)
    ]


def test_distinct_is_sorted_set() -> None:
    rng = random.Random(1)  # noqa: S311 - seeded test data
    values = np.array([rng.getrandbits(64) for _ in range(50)] * 3, dtype=np.uint64)
    assert distinct(values).tolist() == sorted(set(values.tolist()))
    assert distinct(np.zeros(0, dtype=np.uint64)).tolist() == []


def test_distinct_is_numpys_unique_for_int64_keys() -> None:
    rng = np.random.default_rng(5)
    for size in (0, 1, 2, 1000):
        values = rng.integers(0, 300, size).astype(np.int64) * 7_000_000_019
        assert np.array_equal(distinct(values), np.unique(values))
        assert distinct(values).dtype == np.int64


def test_shared_counts_equal_set_intersections() -> None:
    rng = random.Random(2)  # noqa: S311 - seeded test data
    for _ in range(30):
        sets = random_sets(rng, rng.randint(1, 8), 60)
        expected = [[len(set(a.tolist()) & set(b.tolist())) for b in sets] for a in sets]
        assert shared_counts(sets) == expected


def shares_prefix_hash(paragraphs: list[np.ndarray], threshold: float) -> bool:
    """Whether two paragraphs share a hash among their prefixes (as _mark_repeats indexes)."""
    prefixes = [
        set(s[: len(s) - math.ceil(threshold * len(s) - 1e-9) + 1].tolist()) for s in paragraphs
    ]
    return any(a & b for a, b in combinations(prefixes, 2))


def test_may_repeat_flags_exactly_articles_whose_paragraphs_share_a_prefix_hash() -> None:
    rng = random.Random(3)  # noqa: S311 - seeded test data
    for threshold in (0.5, 0.8, 1.0):
        counts = [rng.randrange(6) for _ in range(40)]
        shingles = random_sets(rng, sum(counts), 300)
        flags = may_repeat(shingles, counts, threshold)
        starts = np.cumsum([0, *counts]).tolist()
        expected = [
            shares_prefix_hash(shingles[starts[a] : starts[a + 1]], threshold)
            for a in range(len(counts))
        ]
        assert flags == expected
        assert any(expected) and not all(expected)


def test_shingles_of_runs_in_groups_equal_one_pass(monkeypatch) -> None:
    rng = np.random.default_rng(4)
    lengths = rng.integers(0, 40, 500)
    flat = rng.integers(0, 2**63, int(lengths.sum()), dtype=np.uint64)
    whole = shingle._shingles_of_runs(flat, lengths, 5)
    for group in (1, 7, 100, 1000):
        monkeypatch.setattr(shingle, "_GROUP_TOKENS", group)
        grouped = shingle.shingles_of_runs(flat, lengths, 5)
        assert len(grouped) == len(whole)
        assert all(np.array_equal(a, b) for a, b in zip(whole, grouped, strict=True))
