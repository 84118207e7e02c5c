"""The linkage matrix read directly: the same clusters and top merge as scipy's readers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage, to_tree
from scipy.spatial.distance import squareform

from dedup.dendrogram import flat_clusters, top_merge_side


def partition(labels):
    groups: dict[int, list[int]] = {}
    for row, label in enumerate(np.asarray(labels).tolist()):
        groups.setdefault(label, []).append(row)
    return sorted(groups.values())


def trees(count):
    """Average-link trees of random distance matrices, many with tied distances."""
    rng = np.random.default_rng(7)
    for k in range(count):
        n = int(rng.integers(2, 60))
        points = rng.random((n, 3))
        distances = np.sqrt(((points[:, None] - points[None]) ** 2).sum(-1))
        if k % 2:  # few distinct values: ties in the merges and at the cut
            distances = np.round(distances * 4) / 4
            np.fill_diagonal(distances, 0.0)
        yield linkage(squareform(distances, checks=False), method="average")


@pytest.mark.parametrize("method", ["average", "single", "complete", "centroid"])
def test_flat_clusters_are_fclusters_clusters(method):
    rng = np.random.default_rng(3)
    checked = 0
    for tree in trees(60):
        if method != "average":  # other linkages (centroid: heights not monotonic)
            n = len(tree) + 1
            tree = linkage(rng.random((n, 2)), method=method)
        heights = np.r_[tree[:, 2], tree[:, 2] + 1e-9, 0.0, tree[:, 2].max() + 1]
        for height in heights:
            expected = fcluster(tree, t=height, criterion="distance")
            got = flat_clusters(tree, height)
            assert partition(got) == partition(expected)
            assert sorted(set(got.tolist())) == list(range(1, len(set(got.tolist())) + 1))
            checked += 1
    assert checked > 1000


def test_top_merge_side_is_to_trees_left_branch():
    for tree in trees(80):
        expected = np.ones(len(tree) + 1, dtype=np.int64)
        expected[to_tree(tree).get_left().pre_order()] = 0
        assert top_merge_side(tree).tolist() == expected.tolist()


def test_flat_clusters_numbered_by_first_row():
    tree = linkage(squareform(np.array([[0, 5, 1], [5, 0, 5], [1, 5, 0]], float)), "average")
    assert flat_clusters(tree, 2.0).tolist() == [1, 2, 1]
    assert flat_clusters(tree, 0.5).tolist() == [1, 2, 3]
    assert flat_clusters(tree, 9.0).tolist() == [1, 1, 1]
