"""The scalable clustering path equals the dense one: pairs complete, labels identical."""

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import dev_records
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.preprocessing import normalize

import dedup.linkage as dedup_linkage
from dedup import compiled
from dedup.linkage import average_link_labels, dated_labels, similar_pairs, story_labels
from dedup.normalize import normalize_text
from dedup.shingle import tokenize
from dedup.strays import attach_strays, dense_pairs
from dedup.tfidf import tfidf_from_tokens


def partition(labels):
    groups = {}
    for i, label in enumerate(labels):
        groups.setdefault(int(label), set()).add(i)
    return {frozenset(g) for g in groups.values()}


def dense_labels(matrix, threshold):
    """The reference: scipy average linkage on the full dense distance matrix."""
    distances = np.clip(1.0 - (matrix @ matrix.T).toarray().astype(np.float64), 0.0, 1.0)
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), method="average")
    return fcluster(tree, t=threshold + 1e-9, criterion="distance")


def planted(seed, n, width=80, topics=8):
    """Sparse non-negative rows around a few topic centres, L2-normalized."""
    rng = np.random.default_rng(seed)
    centres = rng.random((topics, width)) * (rng.random((topics, width)) < 0.25)
    noise = rng.random((n, width)) * (rng.random((n, width)) < 0.15) * rng.uniform(0.2, 2.0)
    rows = centres[rng.integers(0, topics, n)] + noise
    return normalize(sp.csr_matrix(rows.astype(np.float32)))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("threshold", [0.3, 0.6, 0.8, 0.95])
def test_graph_average_link_equals_dense(seed, threshold):
    matrix = planted(seed, 150)
    assert partition(story_labels(matrix, threshold)) == partition(dense_labels(matrix, threshold))


@pytest.mark.parametrize("seed", range(4))
def test_similar_pairs_finds_every_close_pair(seed):
    matrix = planted(seed, 200)
    level = 0.4
    dense = (matrix @ matrix.T).toarray()
    first, second = np.triu_indices(200, 1)
    close = dense[first, second] >= level
    expected = set(zip(first[close].tolist(), second[close].tolist(), strict=True))
    got_first, got_second, got_similarity = similar_pairs(matrix, level)
    assert set(zip(got_first.tolist(), got_second.tolist(), strict=True)) == expected
    assert np.allclose(got_similarity, dense[got_first, got_second], atol=1e-5)


def vims_matrix(n):
    """TF-IDF of the first ``n`` ViMs articles, as the clusterer builds it."""
    records = dev_records("vims.jsonl", n)
    bodies = [tokenize(normalize_text(r["text"])) for r in records]
    titles = [tokenize(normalize_text(r["title"] or "")) for r in records]
    return tfidf_from_tokens(bodies, titles, title_weight=2)[0]


def test_real_articles_cluster_as_the_dense_algorithm():
    """ViMs articles at and around the default story cut."""
    matrix = vims_matrix(400)
    for threshold in (0.7, 0.8, 0.9):
        assert partition(story_labels(matrix, threshold)) == partition(
            dense_labels(matrix, threshold)
        )


def test_no_pairs_means_singletons():
    matrix = normalize(sp.identity(5, format="csr", dtype=np.float32))
    labels = average_link_labels(matrix, similar_pairs(matrix, 0.5), 0.5)
    assert labels.tolist() == [0, 1, 2, 3, 4]


def test_bounded_search_keeps_the_close_pairs_of_real_articles():
    """Leaving the most common words out of the search still finds nearly every close pair."""
    matrix = vims_matrix(400)
    for level in (0.2, 0.4):
        exact = similar_pairs(matrix, level)
        bounded = similar_pairs(matrix, level, max_postings=20)
        found = set(zip(bounded[0].tolist(), bounded[1].tolist(), strict=True))
        expected = set(zip(exact[0].tolist(), exact[1].tolist(), strict=True))
        assert found <= expected
        assert len(found) >= 0.95 * len(expected)


def dense_dated_labels(matrix, days, threshold, window, strays=False):
    """The reference for events: dense distances, dated pairs beyond the window at 1."""
    distances = np.clip(1.0 - (matrix @ matrix.T).toarray().astype(np.float64), 0.0, 1.0)
    gaps = np.abs(days[:, None] - days[None, :])
    distances = np.where(~np.isnan(gaps) & (gaps > window), 1.0, distances)
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), method="average")
    labels = fcluster(tree, t=threshold + 1e-9, criterion="distance")
    return attach_strays(labels, *dense_pairs(distances, threshold)) if strays else labels


@pytest.mark.parametrize("strays", [False, True])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("threshold", [0.4, 0.7, 0.9])
def test_dated_graph_average_link_equals_dense(seed, threshold, strays):
    matrix = planted(seed, 160)
    days = np.random.default_rng(seed).integers(0, 30, 160).astype(np.float64)
    days[::7] = np.nan  # undated articles are near everything in time
    assert partition(dated_labels(matrix, days, threshold, 7.0, strays=strays)) == partition(
        dense_dated_labels(matrix, days, threshold, 7.0, strays)
    )


def test_large_story_events_use_the_graph_and_equal_the_dense_split(monkeypatch):
    """Real articles in one story: the graph path gives the dense path's events."""
    records = dev_records("vims.jsonl", 300)
    from datetime import datetime, timedelta

    from dedup import cluster
    from dedup.config import ClusterConfig

    bodies = [tokenize(normalize_text(r["text"])) for r in records]
    start = datetime(2024, 1, 1)
    published = [None if i % 9 == 0 else start + timedelta(days=i % 40) for i in range(300)]
    config = ClusterConfig(event_threshold=0.75, story_threshold=1.0)  # one story of 300
    dense = cluster.EventStoryClusterer(config).fit(bodies, titles=[[]] * 300, published=published)
    monkeypatch.setattr(cluster, "_DENSE_EVENT_ROWS", 10)
    graph = cluster.EventStoryClusterer(config).fit(bodies, titles=[[]] * 300, published=published)
    assert dense.story_labels_.max() == 0
    assert 1 < dense.event_labels_.max() + 1 < 300
    assert graph.event_labels_.tolist() == dense.event_labels_.tolist()


def test_pairs_in_any_order_give_the_same_labels():
    """The pairs' own distances are queued sorted: their given order cannot matter."""
    matrix = planted(3, 200)
    first, second, similarity = similar_pairs(matrix, 0.3)
    expected = average_link_labels(matrix, (first, second, similarity), 0.7)
    order = np.random.default_rng(0).permutation(len(first))
    shuffled = first[order], second[order], similarity[order]
    assert average_link_labels(matrix, shuffled, 0.7).tolist() == expected.tolist()
    assert partition(expected) == partition(dense_labels(matrix, 0.7))


@pytest.mark.skipif(not compiled.available(), reason="numba (the fast extra) is not installed")
def test_compiled_vector_operations_give_the_same_labels(monkeypatch):
    matrix = planted(5, 600)
    pairs = similar_pairs(matrix, 0.5)
    calls = []
    operations = dedup_linkage.compiled_operations
    monkeypatch.setattr(
        dedup_linkage, "compiled_operations", lambda: calls.append(1) or operations()
    )
    monkeypatch.setattr(dedup_linkage, "_COMPILED_LINK_ROWS", 0)  # the Python loop
    expected = average_link_labels(matrix, pairs, 0.5)
    assert calls == []  # a small linkage: numpy's operations
    assert average_link_labels(matrix, pairs, 0.5, compiled=True).tolist() == expected.tolist()
    assert calls == [1]
    monkeypatch.setattr(dedup_linkage, "_COMPILED_ROWS", 10)
    assert average_link_labels(matrix, pairs, 0.5).tolist() == expected.tolist()
    assert calls == [1, 1]
    assert 1 < len(set(expected.tolist())) < 600


def with_copies(matrix, seed):
    """``matrix`` with a third of its rows repeated (ties at distance 0) and shuffled."""
    rng = np.random.default_rng(seed)
    n = matrix.shape[0]
    rows = np.concatenate([np.arange(n), rng.integers(0, n, n // 3)])
    return matrix[rng.permutation(rows)]


@pytest.mark.skipif(not compiled.available(), reason="numba (the fast extra) is not installed")
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("threshold", [0.3, 0.6, 0.8])
def test_compiled_loop_gives_the_python_loops_labels(monkeypatch, seed, threshold):
    """The whole loop compiled (a block's size): the same merges as the Python loop."""
    import dedup.kernels

    matrix = with_copies(planted(seed, 300, width=60), seed)
    pairs = similar_pairs(matrix, 1.0 - threshold - 1e-9)
    calls = []
    kernel = dedup.kernels.average_link
    monkeypatch.setattr(dedup.kernels, "average_link", lambda *a: calls.append(1) or kernel(*a))
    expected = average_link_labels(matrix, pairs, threshold, compiled=False)
    assert calls == []
    assert average_link_labels(matrix, pairs, threshold, compiled=True).tolist() == (
        expected.tolist()
    )
    assert calls == [1]
    monkeypatch.setattr(dedup_linkage, "_COMPILED_LINK_ROWS", matrix.shape[0] - 1)
    assert average_link_labels(matrix, pairs, threshold, compiled=True).tolist() == (
        expected.tolist()
    )
    assert calls == [1]  # past the compiled loop's rows: the Python loop
    assert partition(expected) == partition(dense_labels(matrix, threshold))
    # Merge by merge: which cluster each row joined (which side was kept, in which order).
    limit = threshold + 1e-9
    python_parents = dedup_linkage._parents(matrix, pairs, limit, None, 0.0, False)
    assert dedup_linkage._compiled_parents(matrix, pairs, limit) == python_parents
    assert sum(p != row for row, p in enumerate(python_parents)) > 50


def test_only_a_large_linkage_trims_the_heap(monkeypatch):
    """A trim walks every free chunk the process holds: a block worker's small blocks skip it."""
    matrix = planted(2, 200)
    pairs = similar_pairs(matrix, 0.3)
    trims = []
    monkeypatch.setattr(dedup_linkage, "release_freed_memory", lambda: trims.append(1))
    expected = average_link_labels(matrix, pairs, 0.7)
    assert trims == []  # far under _TRIM_PAIRS
    monkeypatch.setattr(dedup_linkage, "_TRIM_PAIRS", len(pairs[0]))
    assert average_link_labels(matrix, pairs, 0.7).tolist() == expected.tolist()
    assert trims == [1]
