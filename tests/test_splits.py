"""Merged stories cut apart again (dedup/splits.py), by hand and through the clusterer."""

from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp

from dedup import cluster
from dedup.cluster import EventStoryClusterer
from dedup.splits import split_merged, split_parts, typical_story_rows


def _blocks(sizes: list[int], inside: float, across: float) -> np.ndarray:
    """Similarities of groups of the given sizes: ``inside`` within a group, ``across`` else."""
    group = np.repeat(np.arange(len(sizes)), sizes)
    similarity = np.where(group[:, None] == group[None, :], inside, across)
    np.fill_diagonal(similarity, 1.0)
    return similarity


def test_two_dense_parts_linked_near_chance_are_parted():
    # c - m = 0.1 < a - c = 0.7: the link is nearer chance than the parts' density.
    assert split_parts(_blocks([3, 3], 0.8, 0.1), 0.0).tolist() == [0, 0, 0, 1, 1, 1]


def test_parts_as_close_across_as_within_stay_whole():
    # c - m = 0.45 is not under a - c = 0.35.
    assert split_parts(_blocks([3, 3], 0.8, 0.45), 0.0).tolist() == [0] * 6


def test_the_background_median_decides_a_close_call():
    # a = 0.8, c = 0.5: parted when c - m < 0.3, so when the median is above 0.2.
    similarity = _blocks([3, 3], 0.8, 0.5)
    assert split_parts(similarity, 0.25).tolist() == [0, 0, 0, 1, 1, 1]
    assert split_parts(similarity, 0.15).tolist() == [0] * 6


def test_a_part_of_two_articles_is_never_split_off():
    # One pair is no density: a near-copied pair must not part a small cluster.
    assert split_parts(_blocks([2, 4], 0.9, 0.05), 0.0).tolist() == [0] * 6


def test_parts_are_split_again_until_they_stand_together():
    parts = split_parts(_blocks([3, 3, 3], 0.8, 0.1), 0.0)
    assert len(set(parts.tolist())) == 3
    assert all(len(set(parts[i : i + 3].tolist())) == 1 for i in (0, 3, 6))


def test_split_merged_only_touches_clusters_it_may_split():
    # Rows: two groups of 3 in cluster 7 (orthogonal-ish), cluster 9 of the same shape but
    # larger than max_rows, cluster 5 of one group.
    def rows(offset: int, count: int, width: int = 40) -> np.ndarray:
        out = np.zeros((count, width))
        out[:, offset] = 1.0
        out[np.arange(count), offset + 1 + np.arange(count)] = 0.6
        return out

    dense = np.vstack(
        [rows(0, 3), rows(10, 3), rows(20, 4), rows(0, 4), rows(10, 4)]
    )  # 3 + 3 | 4 | 4 + 4
    dense[[0, 1, 2, 3, 4, 5], 39] = 0.3  # a weak shared term links the two groups
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    labels = np.array([7] * 6 + [5] * 4 + [9] * 8)
    result = split_merged(sp.csr_matrix(dense), labels, 0.0, max_rows=7)
    assert len(set(result[:3].tolist())) == 1 and len(set(result[3:6].tolist())) == 1
    assert result[0] != result[3]
    assert result[6:].tolist() == labels[6:].tolist()  # one group; too large to split
    assert set(result[:6].tolist()) & {5, 9} == set()  # fresh labels, no collision


def test_parts_of_a_typical_story_size_are_held_to_the_cut():
    # a = 0.8, c = 0.45, median 0: the background rule keeps them (0.45 > 0.35); the cut
    # 0.4 parts them (0.05 < 0.35) when each part is as large as a typical story.
    similarity = _blocks([3, 3], 0.8, 0.45)
    assert split_parts(similarity, 0.0, cut=0.4, typical_rows=3).tolist() == [0, 0, 0, 1, 1, 1]
    assert split_parts(similarity, 0.0, cut=0.4, typical_rows=4).tolist() == [0] * 6
    assert split_parts(similarity, 0.0, cut=0.05, typical_rows=3).tolist() == [0] * 6
    assert split_parts(similarity, 0.0, typical_rows=3).tolist() == [0] * 6  # no cut given


def test_typical_story_rows_is_the_median_articles_cluster_size():
    assert typical_story_rows(np.arange(50)) == 3.0  # singletons: never under three
    labels = np.concatenate([np.repeat(np.arange(4), 12), 100 + np.arange(40)])
    assert typical_story_rows(labels) == 12.0  # 48 of 88 rows sit in stories of 12
    assert typical_story_rows(np.array([], dtype=np.int64)) == 3.0


def _two_fires(shared_terms: int, other_stories: int = 0) -> list[list[str]]:
    """Two stories of one kind (``shared_terms`` words in common) among 40 unrelated articles.

    With ``other_stories``, as many unrelated stories of 12 articles each come after them.
    """
    rng = np.random.RandomState(0)
    noise = [f"w{i}" for i in range(3000)]
    shared = [f"fire{i}" for i in range(shared_terms)]

    def story(tag: str, size: int = 6) -> list[list[str]]:
        own = [f"{tag}{i}" for i in range(12)]
        return [
            shared * (tag in "ab")
            + list(rng.choice(own, 8, replace=False))
            + list(rng.choice(noise, 10))
            for _ in range(size)
        ]

    others = [doc for i in range(other_stories) for doc in story(f"other{i}_", 12)]
    return story("a") + story("b") + others + [list(rng.choice(noise, 30)) for _ in range(40)]


@pytest.mark.parametrize(
    ("shared_terms", "other_stories", "parted"),
    [(6, 0, True), (8, 0, True), (13, 0, False), (8, 5, False)],
)
def test_clusterer_parts_two_stories_average_link_merged(shared_terms, other_stories, parted):
    # 6 shared terms: parted by the background rule; 8: by the cut, as a typical story of
    # this corpus is a single article (the parts of 6 are typical); 13: linked past both bars;
    # 8 among stories of 12: parts of 6 are not typical stories, the background rule keeps them.
    docs = _two_fires(shared_terms, other_stories)
    inputs = {"titles": [[]] * len(docs), "published": [None] * len(docs)}
    with mock.patch.object(cluster, "split_merged", lambda matrix, labels, *_, **__: labels):
        merged = EventStoryClusterer().fit(docs, **inputs)
    assert len(set(merged.story_labels_[:12].tolist())) == 1  # average link merged them
    fitted = EventStoryClusterer().fit(docs, **inputs)
    stories, events = fitted.story_labels_, fitted.event_labels_
    assert len(set(stories[:6].tolist())) == 1 and len(set(stories[6:12].tolist())) == 1
    assert (stories[0] != stories[6]) == parted
    assert (events[0] != events[6]) == parted  # events nest inside the parted stories


def test_a_blocks_similarities_hold_each_clusters_own_bit_for_bit():
    from conftest import dev_records

    from dedup.normalize import normalize_text
    from dedup.shingle import tokenize
    from dedup.splits import dense_similarity

    records = dev_records("vims.jsonl", 400)
    matrix, _ = EventStoryClusterer().features(
        [tokenize(normalize_text(r["text"])) for r in records], titles=[[]] * len(records)
    )
    whole = dense_similarity(matrix)
    rng = np.random.default_rng(0)
    for size in (2, 7, 60):
        rows = np.sort(rng.choice(len(records), size, replace=False))
        assert np.array_equal(dense_similarity(matrix[rows]), whole[np.ix_(rows, rows)])
    labels = np.arange(len(records)) // 50  # clusters of 50: the split given the block's own
    background = cluster.background_similarity(matrix)[0]
    assert np.array_equal(
        split_merged(matrix, labels, background, max_rows=100, similarity=whole),
        split_merged(matrix, labels, background, max_rows=100),
    )


def test_typical_rows_given_block_by_block_equal_those_of_the_whole_corpus():
    from dedup.splits import blocks_typical_rows, typical_story_rows

    # Rows 0-5 and 7-12 in two blocks (stories 0/1 and 0 of each), rows 6 and 13 alone.
    blocks = [np.array([0, 1, 2, 3, 4, 5]), np.array([7, 8, 9, 10, 11, 12])]
    linked = [np.array([0, 0, 0, 0, 1, 1]), np.array([3, 3, 3, 3, 3, 3])]
    whole = np.array([0, 0, 0, 0, 1, 1, 2, 3, 3, 3, 3, 3, 3, 4])
    assert blocks_typical_rows(14, blocks, linked) == typical_story_rows(whole) == 4.0


def test_compiled_dense_similarity_is_scipys_product_bit_for_bit():
    """The compiled product (upper half, mirrored) gives the bits of scipy's, any rows."""
    from dedup import compiled as compiled_kernels

    if not compiled_kernels.available():
        pytest.skip("numba is not installed (the fast extra)")
    from conftest import dev_records

    from dedup.normalize import normalize_text
    from dedup.shingle import tokenize
    from dedup.splits import dense_similarity

    records = dev_records("vims.jsonl", 300)
    matrix, _ = EventStoryClusterer().features(
        [tokenize(normalize_text(r["text"])) for r in records],
        titles=[tokenize(normalize_text(r["title"] or "")) for r in records],
    )
    rng = np.random.default_rng(4)
    for size in (1, 2, 9, 120, 300):
        rows = np.sort(rng.choice(len(records), size, replace=False))
        block = matrix[rows]
        expected = dense_similarity(block)
        for _ in range(2):  # the second time on the scratch the first left
            got = dense_similarity(block, compiled=True)
            assert got.dtype == np.float64 and np.array_equal(got, expected)
    rows = [[0.0, 0.6, 0.8], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]  # one empty
    odd = sp.csr_matrix(np.array(rows, dtype=np.float32))
    assert np.array_equal(dense_similarity(odd, compiled=True), dense_similarity(odd))


@pytest.mark.parametrize("compiled", [False, True])
def test_within_clusters_keeps_the_blocks_inside_clusters_and_nan_across(compiled):
    from dedup import compiled as compiled_kernels

    if compiled and not compiled_kernels.available():
        pytest.skip("numba is not installed (the fast extra)")
    from conftest import dev_records

    from dedup.normalize import normalize_text
    from dedup.shingle import tokenize
    from dedup.splits import (
        block_similarity,
        dense_similarity,
        unpacked_within_clusters,
        within_clusters,
    )

    records = dev_records("vims.jsonl", 200)
    matrix, _ = EventStoryClusterer().features(
        [tokenize(normalize_text(r["text"])) for r in records], titles=[[]] * len(records)
    )
    rng = np.random.default_rng(6)
    rows = np.sort(rng.choice(len(records), 50, replace=False))
    whole = dense_similarity(matrix[rows])
    assert np.array_equal(block_similarity(matrix, rows, compiled=compiled), whole)
    labels = rng.integers(0, 6, len(rows))  # clusters interleaved along the rows
    packed = within_clusters(whole, labels)
    assert packed.dtype == np.float32
    assert len(packed) == sum(np.count_nonzero(labels == k) ** 2 for k in range(6))
    got = unpacked_within_clusters(packed, labels)
    same = labels[:, None] == labels[None, :]
    assert np.array_equal(got[same], whole[same])  # float32 keeps the products' bits
    assert np.isnan(got[~same]).all()
    # Each cluster's square is its own rows' product (the events pass read it so before).
    for k in range(6):
        members = np.flatnonzero(labels == k)
        own = dense_similarity(matrix[rows[members]])
        assert np.array_equal(got[np.ix_(members, members)], own)
    empty = np.zeros(0, dtype=np.int64)
    assert unpacked_within_clusters(within_clusters(np.zeros((0, 0)), empty), empty).shape == (0, 0)


def test_split_merged_reads_the_similarities_when_given_them():
    group = np.repeat(np.repeat(np.eye(2), 3, axis=0), 3, axis=1)  # 3 + 3 articles
    similarity = np.where(group > 0, 0.8, 0.1)
    labels = np.zeros(6, dtype=np.int64)
    parted = split_merged(None, labels, 0.0, max_rows=10, similarity=similarity)
    assert parted.tolist() == [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="needs the matrix or the similarities"):
        split_merged(None, labels, 0.0, max_rows=10)
