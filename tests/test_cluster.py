from datetime import datetime, timedelta

import numpy as np
import pytest
from conftest import body
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist, squareform

from dedup.cluster import EventStoryClusterer, background_similarity
from dedup.config import ClusterConfig
from dedup.errors import ConfigError
from dedup.normalize import normalize_text
from dedup.shingle import tokenize
from dedup.splits import split_merged
from dedup.strays import attach_strays, dense_pairs


def tokens(text):
    return tokenize(normalize_text(text))


def partition(labels):
    groups = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, set()).add(i)
    return {frozenset(g) for g in groups.values()}


def random_docs(seed, n, vocabulary=60, topics=6):
    """Documents drawn from a few overlapping word distributions."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocabulary)]
    docs = []
    for _ in range(n):
        topic = rng.integers(topics)
        centre = topic * vocabulary // topics
        picks = rng.normal(centre, vocabulary / 8, size=40).astype(int) % vocabulary
        docs.append([words[p] for p in picks])
    return docs


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.9])
@pytest.mark.parametrize("strays", [False, True])
def test_blocked_clustering_equals_exact_average_link(seed, threshold, strays):
    docs = random_docs(seed, 120)
    config = ClusterConfig(
        event_threshold=threshold,
        story_threshold=threshold,
        event_window_days=0,
        attach_strays=strays,
    )
    clusterer = EventStoryClusterer(config).fit(
        docs, titles=[[]] * len(docs), published=[None] * len(docs)
    )
    dense = clusterer.matrix_.toarray().astype(np.float64)
    distances = pdist(dense, "cosine")
    exact = fcluster(linkage(distances, "average"), t=threshold + 1e-9, criterion="distance")
    if strays:  # the strays join their closest neighbour's cluster, as dedup.strays says
        exact = attach_strays(exact, *dense_pairs(squareform(distances), threshold))
    median, _ = background_similarity(clusterer.matrix_)  # then merged stories parted again
    exact = split_merged(clusterer.matrix_, exact, median, max_rows=len(docs), cut=1 - threshold)
    assert partition(clusterer.story_labels_) == partition(exact)
    assert partition(clusterer.event_labels_) == partition(exact)


def test_events_nest_in_stories_and_labels_number_by_first_member():
    docs = random_docs(5, 80)
    clusterer = EventStoryClusterer(ClusterConfig(event_threshold=0.6, story_threshold=0.85)).fit(
        docs, titles=[[]] * len(docs), published=[None] * len(docs)
    )
    story_of_event = {}
    for event, story in zip(clusterer.event_labels_, clusterer.story_labels_, strict=True):
        assert story_of_event.setdefault(event, story) == story
    assert clusterer.event_labels_[0] == 0
    firsts = [list(clusterer.event_labels_).index(e) for e in sorted(set(clusterer.event_labels_))]
    assert firsts == sorted(firsts)


def test_dates_keep_events_apart_but_not_stories():
    text = tokens(" ".join(body(0, 5)))
    docs = [text, text[5:], text[:-5]]
    day = datetime(2015, 11, 16)
    published = [day, day + timedelta(days=1), day + timedelta(days=60)]
    clusterer = EventStoryClusterer().fit(docs, titles=[[]] * 3, published=published)
    assert list(clusterer.event_labels_) == [0, 0, 1]
    assert list(clusterer.story_labels_) == [0, 0, 0]


def test_top_terms_are_shared_words():
    a = tokens("Hội nghị G20 ở Antalya bàn về IS. " + body(0, 1)[0])
    b = tokens("Hội nghị G20 ở Antalya kết thúc. " + body(10, 1)[0])
    c = tokens(body(20, 3)[2])
    clusterer = EventStoryClusterer(ClusterConfig(event_threshold=0.95, story_threshold=0.95))
    clusterer.fit([a, b, c], titles=[[]] * 3, published=[None] * 3)
    assert "antalya" in clusterer.top_terms([0, 1], 10)


def test_empty_input():
    clusterer = EventStoryClusterer().fit([], titles=[], published=[])
    assert len(clusterer.event_labels_) == 0


def test_adaptive_heights_come_from_the_pairwise_similarity_distribution():
    docs = random_docs(7, 90)
    config = ClusterConfig(event_z=6, story_z=4, event_window_days=0, height_band=(0.0, 1.0))
    clusterer = EventStoryClusterer(config).fit(
        docs, titles=[[]] * len(docs), published=[None] * len(docs)
    )
    dense = clusterer.matrix_.toarray().astype(np.float64)
    pairs = (dense @ dense.T)[np.triu_indices(len(docs), 1)]
    median = np.median(pairs)
    spread = np.median(np.abs(pairs - median)) * 1.4826
    assert clusterer.story_threshold_ == pytest.approx(1 - (median + 4 * spread), abs=1e-5)
    assert clusterer.event_threshold_ == pytest.approx(1 - (median + 6 * spread), abs=1e-5)
    exact = fcluster(
        linkage(pdist(dense, "cosine"), "average"),
        t=clusterer.story_threshold_ + 1e-9,
        criterion="distance",
    )
    assert partition(clusterer.story_labels_) == partition(exact)


def test_fixed_and_small_corpus_heights():
    docs = random_docs(1, 40)
    fixed = EventStoryClusterer(ClusterConfig(event_threshold=0.3, story_threshold=0.7))
    fixed.fit(docs, titles=[[]] * 40, published=[None] * 40)
    assert (fixed.event_threshold_, fixed.story_threshold_) == (0.3, 0.7)
    small = EventStoryClusterer(ClusterConfig(small_corpus_threshold=0.75))
    small.fit(docs[:10], titles=[[]] * 10, published=[None] * 10)
    assert (small.event_threshold_, small.story_threshold_) == (0.75, 0.75)


def test_publication_on_the_same_day_does_not_join_unrelated_articles():
    docs = random_docs(3, 60, topics=30)
    day = datetime(2013, 10, 23)
    config = ClusterConfig(event_threshold=0.5, story_threshold=0.9)
    dated = EventStoryClusterer(config).fit(docs, titles=[[]] * 60, published=[day] * 60)
    undated = EventStoryClusterer(config).fit(docs, titles=[[]] * 60, published=[None] * 60)
    assert len(partition(undated.story_labels_)) < len(partition(undated.event_labels_))
    assert partition(dated.event_labels_) == partition(undated.event_labels_)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event_z": 5, "story_z": 8}, "'event_z' parameter of ClusterConfig must be at least"),
        ({"event_threshold": 0.9, "story_threshold": 0.5}, "'story_threshold' parameter"),
        ({"min_df": 0}, "'min_df' parameter of ClusterConfig must be in"),
    ],
)
def test_cluster_config_validation(kwargs, message):

    with pytest.raises(ConfigError, match=message):
        ClusterConfig(**kwargs)


def test_corpus_derived_heights_stay_in_the_band():
    # Two topics only: half the pairs are related, the spread is inflated and the raw
    # estimate would cut every story apart; the band keeps the cut usable.
    docs = random_docs(11, 60, vocabulary=60, topics=2)
    free = EventStoryClusterer(ClusterConfig(height_band=(0.0, 1.0))).fit(
        docs, titles=[[]] * 60, published=[None] * 60
    )
    banded = EventStoryClusterer(ClusterConfig(height_band=(0.78, 0.86))).fit(
        docs, titles=[[]] * 60, published=[None] * 60
    )
    assert not 0.78 <= free.story_threshold_ <= 0.86
    assert 0.78 <= banded.story_threshold_ <= 0.86
    with pytest.raises(ConfigError, match="'height_band' parameter"):
        ClusterConfig(height_band=(0.9, 0.8))
