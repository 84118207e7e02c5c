"""Strays: articles average linkage leaves alone join their closest related article's cluster."""

import numpy as np
import pytest
from conftest import SHARED_DATA

import dedup
from dedup.config import ClusterConfig, PipelineConfig
from dedup.strays import attach_strays, dense_pairs


def test_a_stray_joins_the_cluster_of_its_most_similar_neighbour():
    labels = np.array([7, 7, 8, 8, 9])
    first, second = np.array([0, 2, 4]), np.array([4, 4, 3])
    similarity = np.array([0.3, 0.6, 0.6])
    # Article 4 is as close to 2 as to 3 (both of cluster 8) and less to 0 (cluster 7).
    assert attach_strays(labels, first, second, similarity).tolist() == [7, 7, 8, 8, 8]


def test_ties_go_to_the_lowest_position_and_clusters_never_move():
    labels = np.array([1, 1, 2, 2, 3])
    first, second = np.array([0, 2, 0]), np.array([4, 4, 2])
    similarity = np.array([0.5, 0.5, 0.9])
    assert attach_strays(labels, first, second, similarity).tolist() == [1, 1, 2, 2, 1]


def test_two_strays_do_not_join_each_other_and_lonely_articles_stay():
    labels = np.array([0, 1, 2, 2])
    assert attach_strays(labels, np.array([0]), np.array([1]), np.array([0.9])).tolist() == [
        0,
        1,
        2,
        2,
    ]
    empty = np.zeros(0, dtype=np.int64)
    assert attach_strays(labels, empty, empty, np.zeros(0)).tolist() == labels.tolist()


def test_the_result_does_not_depend_on_the_order_of_the_articles():
    rng = np.random.default_rng(3)
    points = rng.random((40, 5))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    distances = np.clip(1 - points @ points.T, 0, 1)
    labels = rng.integers(0, 25, size=40)
    result = attach_strays(labels, *dense_pairs(distances, 0.02))
    order = rng.permutation(40)
    shuffled = attach_strays(labels[order], *dense_pairs(distances[np.ix_(order, order)], 0.02))
    assert shuffled.tolist() == result[order].tolist()


def test_dense_pairs_are_the_pairs_within_the_cut():
    distances = np.array([[0.0, 0.2, 0.9], [0.2, 0.0, 0.5], [0.9, 0.5, 0.0]])
    first, second, similarity = dense_pairs(distances, 0.5)
    assert list(zip(first.tolist(), second.tolist(), strict=True)) == [(0, 1), (1, 2)]
    assert similarity.tolist() == pytest.approx([0.8, 0.5])


ECB = SHARED_DATA / "ecbplus-dev.jsonl"


@pytest.mark.slow
@pytest.mark.skipif(not ECB.exists(), reason=f"{ECB} not found")
def test_on_ecb_events_strays_join_and_every_cluster_of_two_or_more_stays_whole():
    import json

    records = [json.loads(line) for line in ECB.read_text(encoding="utf-8").splitlines()]
    inputs = [{k: v for k, v in r.items() if k not in ("story", "event")} for r in records]

    def events(strays):
        config = PipelineConfig(cluster=ClusterConfig(attach_strays=strays))
        return [a.event for a in dedup.run(inputs, config).articles]

    before, after = events(False), events(True)
    size = {e: before.count(e) for e in set(before)}
    groups_after = {}
    for i, e in enumerate(after):
        groups_after.setdefault(e, set()).add(i)
    moved = [i for i in range(len(records)) if size[before[i]] == 1 and after.count(after[i]) > 1]
    assert len(moved) >= 10  # ECB+ events are written from many angles: strays are common
    # Clusters of two or more are kept whole (renumbered at most), strays only join them.
    for e, n in size.items():
        if n > 1:
            members = {i for i in range(len(records)) if before[i] == e}
            assert members <= groups_after[after[min(members)]]
            assert all(
                i in members or size[before[i]] == 1 for i in groups_after[after[min(members)]]
            )
    # The strays that joined mostly join their gold event.
    right = sum(
        records[i]["event"] == records[j]["event"]
        for i in moved
        for j in groups_after[after[i]]
        if j != i and size[before[j]] > 1
    ) / sum(1 for i in moved for j in groups_after[after[i]] if j != i and size[before[j]] > 1)
    assert right > 0.9
