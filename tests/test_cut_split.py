"""The cut height of a corpus of few subjects: the two-group split of its pairs.

The median-and-spread height assumes most pairs of articles are unrelated. On one ECB+ topic
(two events of one kind, every pair related) it fell below the band and was clamped to its
strict edge, cutting each event apart; the split that best parts the pairs in two is used
there instead.
"""

import json
import os
import subprocess
import sys
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import ROOT, SHARED_DATA

import dedup
from dedup import cluster
from dedup.config import ClusterConfig
from dedup.evaluate import score_clusters

ECB = SHARED_DATA / "ecbplus-dev.jsonl"


def test_two_group_split_worked_by_hand():
    # Sides {0.1, 0.1, 0.2} and {0.8, 0.9}: between-side variance 3 x 2 x (0.85 - 0.1333)^2,
    # larger than at any other split; the threshold is the midpoint of 0.2 and 0.8.
    assert cluster.two_group_split(np.array([0.9, 0.1, 0.8, 0.2, 0.1])) == pytest.approx(0.5)
    # One outlier far from a tight group is its own side.
    assert cluster.two_group_split(np.array([0.1, 0.11, 0.12, 0.1, 0.6])) == pytest.approx(0.36)
    assert cluster.two_group_split(np.array([0.3])) is None
    assert cluster.two_group_split(np.array([])) is None


def _subjects(subjects: int, rows_per_subject: int, pool: int, own: int) -> sp.csr_matrix:
    """Rows of some subjects: each row its subject's 10 terms and ``own`` of ``pool`` others."""
    rng = np.random.RandomState(0)
    dense = np.zeros((subjects * rows_per_subject, 10 * subjects + pool))
    for row in range(subjects * rows_per_subject):
        subject = row // rows_per_subject
        dense[row, subject * 10 : subject * 10 + 10] = rng.uniform(0.5, 1.0, 10)
        others = rng.choice(np.arange(10 * subjects, dense.shape[1]), own, replace=False)
        dense[row, others] = rng.uniform(0, 1, own)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    return sp.csr_matrix(dense, dtype=np.float32)


def test_a_corpus_of_two_subjects_is_cut_at_the_split_of_its_pairs():
    matrix = _subjects(2, 20, pool=400, own=30)
    config = ClusterConfig()
    median, spread = cluster.background_similarity(matrix)
    assert 1.0 - (median + config.story_z * spread) < config.height_band[0]  # half related
    pairs = cluster._pair_similarities(matrix)
    expected = float(np.clip(1.0 - cluster.two_group_split(pairs), *config.height_band))
    assert config.height_band[0] < expected < config.height_band[1]  # the split, unclamped
    assert cluster.cut_heights(matrix, config) == pytest.approx((expected, expected))
    fixed = ClusterConfig(event_threshold=0.5, story_threshold=0.7)
    assert cluster.cut_heights(matrix, fixed) == (0.5, 0.7)


def test_a_corpus_of_many_subjects_keeps_the_median_and_spread_height():
    matrix = _subjects(40, 2, pool=5000, own=200)  # one pair in 80 related: measurable
    config = ClusterConfig()
    median, spread = cluster.background_similarity(matrix)
    derived = 1.0 - (median + config.story_z * spread)
    assert config.height_band[0] <= derived <= config.height_band[1]
    assert cluster.cut_heights(matrix, config) == pytest.approx((derived, derived))


def _event_f1(records: list[dict]) -> float:
    inputs = [{k: v for k, v in r.items() if k not in ("story", "event")} for r in records]
    articles = {a.id: a.event for a in dedup.run(inputs).articles}
    gold = {r["id"]: r["event"] for r in records}
    return score_clusters(gold, articles, level="event").bcubed_f1


@pytest.mark.skipif(not ECB.exists(), reason=f"{ECB} not found")
def test_one_ecb_topic_of_two_earthquakes_is_told_apart():
    with ECB.open(encoding="utf-8") as handle:
        records = [r for r in map(json.loads, handle) if r["story"] == "topic1"]
    assert len(records) >= 30  # large enough for a corpus-derived height
    with mock.patch.object(cluster, "two_group_split", lambda pairs: None):
        clamped = _event_f1(records)  # the height before: the band's strict edge
    split = _event_f1(records)
    assert clamped < 0.7
    assert split > clamped + 0.15


@pytest.mark.slow
@pytest.mark.skipif(not ECB.exists(), reason=f"{ECB} not found")
def test_travel_cuts_diagnoses_each_ecb_topic_alone():
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "travel_cuts.py"),
            "--data",
            str(SHARED_DATA),
            "--families",
            "topic",
            "--rules",
            "previous,shipped",
            "--no-best-fixed",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    rows = {r["topic"]: r for r in map(json.loads, completed.stdout.splitlines())}
    assert len(rows) == 21
    large = rows["topic1"]
    assert large["clamp"] == "low" and large["related_share"] == 1.0
    assert large["previous"]["height"] == 0.78 < large["shipped"]["height"]
    assert large["shipped"]["f1"] > large["previous"]["f1"] + 0.15
    assert large["same_event"][1] > large["story_not_event"][1]  # medians of the pair kinds
    small = [r for r in rows.values() if r["rows"] < 30]
    assert small and all(r["previous"] == r["shipped"] for r in small)  # the fixed 0.8 cut
    assert "| topic_30_plus | ecb | event |" in completed.stderr


@pytest.mark.skipif(
    not dedup.compiled.available(), reason="numba (the fast extra) is not installed"
)
def test_background_pairs_are_the_sparse_products_bits(monkeypatch):
    """A sample of 1,500 rows of a wide corpus: compiled products, scipy's bits."""
    import dedup.background

    matrix = _subjects(40, 50, pool=20000, own=300)  # 2,000 rows: a sample is taken
    sample = np.sort(np.random.RandomState(0).choice(2000, 1500, replace=False))
    product = (matrix[sample] @ matrix[sample].T).toarray().astype(np.float64)
    expected = product[np.triu_indices(1500, 1)]
    monkeypatch.setattr(dedup.background, "_COMPILED_ENTRIES", 10**12)
    assert np.array_equal(cluster._pair_similarities(matrix), expected)
    monkeypatch.setattr(dedup.background, "_COMPILED_ENTRIES", 0)
    calls = []
    products = dedup.splits._compiled_similarity
    monkeypatch.setattr(
        dedup.splits, "_compiled_similarity", lambda *a: calls.append(1) or products(*a)
    )
    assert np.array_equal(cluster._pair_similarities(matrix), expected)
    assert calls == [1]
